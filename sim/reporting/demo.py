"""Demo indicators (``sim demo``): the SIM project (``sim-2019``) reports on the ERDF 2014–2020 set,
the follow-up project SIM Mitt (``sim-mitt``) on the 2021–2027 set, both with targets and yearly
milestones and a few values recorded by hand for the indicators the platform cannot count.

Runs after the routing and activities steps (this app comes later in INSTALLED_APPS). Targets are
set from what the demo's own records give (so the report shows a plausible degree of fulfilment
whatever the demo's size): SIM, closed, reached about nine tenths of its targets; SIM Mitt, running,
about half.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from sim.companies.demo import ADMIN_USERNAME, DemoContext, demo_step
from sim.core.models import AuditEvent
from sim.programmes.demo import MANAGER, MITT_CODE, SIM_CODE
from sim.programmes.models import Project

from . import selectors, services

SOURCE = AuditEvent.Source.SYSTEM
#: project code → (indicator set, target factor over the value the demo records give)
PLANS = {SIM_CODE: ("erdf-2014-2020", Decimal("1.1")), MITT_CODE: ("erdf-2021-2027", Decimal("2.0"))}
#: Values recorded by hand: project code → [(indicator code, date offset in days from the start, value, note)]
ENTRIES = {
    SIM_CODE: [
        ("CO29", 400, "3", "Tre företag har lanserat nya produkter enligt slutrapporterna från insatserna."),
        ("CO29", 650, "4", "Fyra företag till enligt uppföljningsintervjuerna."),
        ("CO28", 650, "1", "Ett företag har lanserat en produkt som är ny på marknaden (patentansökan bifogad)."),
    ],
    MITT_CODE: [
        ("RCR03", 300, "2", "Två företag har infört ny processteknik efter automationsanalysen."),
        ("RCR98", 250, "14", "14 anställda har fullföljt utbildningen i Lean produktion."),
        ("RCO101", 250, "5", "Fem företag har skickat personal på kompetensutveckling."),
    ],
}
DEFAULT_TARGETS = {"CO28": 3, "CO29": 10, "RCO101": 12, "RCR03": 8, "RCR04": 4, "RCR13": 3, "RCR25": 6, "RCR98": 40}


def _target(value, factor: Decimal, code: str) -> Decimal:
    if Decimal(value) <= 0:
        return Decimal(DEFAULT_TARGETS.get(code, 1))
    return Decimal(math.ceil(Decimal(value) * factor))


def _year_ends(project: Project) -> list[dt.date]:
    return [dt.date(y, 12, 31) for y in range(project.start_date.year, project.effective_end.year)
            if dt.date(y, 12, 31) < project.effective_end]


def write_indicators(ctx: DemoContext) -> dict[str, int]:
    actor = ctx.users.get(MANAGER) or ctx.users[ADMIN_USERNAME]
    counts = {"indicator_sets": 0, "indicator_targets": 0, "indicator_entries": 0}
    for code, (set_key, factor) in PLANS.items():
        project = Project.objects.filter(code=code).first()
        if project is None:
            continue
        services.indicator_set_choose(actor, project, set_key, source=SOURCE)
        counts["indicator_sets"] += 1
        for indicator_code, offset, value, note in ENTRIES[code]:
            indicator = project.indicators.get(code=indicator_code)
            services.indicator_entry_add(actor, indicator, project.start_date + dt.timedelta(days=offset), value, note,
                                         source=SOURCE)
            counts["indicator_entries"] += 1
        report = selectors.indicator_report(project)
        year_ends = _year_ends(project)
        for row in report.rows:
            if row.indicator.unit == "SEK" or (row.indicator.method == "employment_increase" and row.value.value <= 0):
                continue  # amounts and a shrinking staff get no target in the demo
            target = _target(row.value.value, factor, row.code)
            share = len(year_ends) + 1
            milestones = [(day, (target * (n + 1) / share).quantize(Decimal("1"))) for n, day in enumerate(year_ends)]
            services.indicator_target_set(actor, row.indicator, target, milestones, source=SOURCE)
            counts["indicator_targets"] += 1
    ctx.counts.update(counts)
    return counts


@demo_step("indicators")
def _indicators(ctx: DemoContext) -> None:
    write_indicators(ctx)
