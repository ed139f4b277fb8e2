"""Reads for the impact page: before/after of the supported enterprises and the comparison with
similar enterprises that were not supported (rules in :mod:`sim.reporting.rules_impact`).

A fixed number of queries whatever the number of companies: the supported enterprises come from
:func:`sim.reporting.selectors.facts_of` (aggregates in SQL); the key figures of the supported and
of the comparison pool are read in one query each, the pool filtered in SQL (target group, not a
candidate of the project, only the fiscal years the supported companies' windows need); completed
assessments of the project's companies in one query. No query per company.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import get_language

from sim.assessments.models import Assessment, AssessmentStatus, InstrumentVersion
from sim.companies.models import Company, KeyFigures
from sim.companies.selectors import target_group_q
from sim.programmes.models import Project

from . import rules_impact as impact
from .selectors import _raw_category, _sek_per_eur, candidate_companies, facts_of, untouched

#: The instrument hook whose answer holds each measure the impact page reads from assessments.
ANSWER_HOOKS = {
    impact.EXPORT_SHARE: "key_figures.export_share_pct",
    impact.NEW_PRODUCTS: "outcomes.new_products",
    impact.NEW_SERVICES: "outcomes.new_services",
}


@dataclass(frozen=True)
class DimensionRow:
    key: str
    label: str
    change: impact.Change


@dataclass(frozen=True)
class InstrumentChanges:
    key: str
    title: str
    rows: list[DimensionRow]


@dataclass
class Impact:
    project: Project
    supported: int
    staff: impact.Change
    turnover: impact.Change
    export_share: impact.Change
    new_products: impact.Change
    new_services: impact.Change
    maturity: list[InstrumentChanges]
    comparisons: list[impact.Comparison]
    min_group: int = impact.MIN_GROUP
    resamples: int = impact.RESAMPLES


def _panels(rows) -> dict[str, impact.Panel]:
    """Panels from (org number, SNI, year, staff, turnover, balance) rows; size class per year by
    the company's own staff and turnover (balance sheet total when turnover is missing)."""
    rate = _sek_per_eur()
    sni: dict[str, str] = {}
    sizes: dict[str, dict[int, str]] = defaultdict(dict)
    staff: dict[str, dict[int, Decimal]] = defaultdict(dict)
    turnover: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for org, code, year, awu, sek, balance in rows:
        sni[org] = code
        category = _raw_category(awu, sek, balance, rate)
        if category:
            sizes[org][year] = category
        if awu is not None:
            staff[org][year] = awu
        if sek is not None:
            turnover[org][year] = sek
    return {org: impact.Panel(org, impact.sni_division(code), dict(sizes[org]), dict(staff[org]), dict(turnover[org]))
            for org, code in sni.items()}


_COLUMNS = ("company__org_number", "company__sni_primary", "fiscal_year", "staff_awu", "turnover_sek",
            "balance_sheet_sek")


def supported_panels(project: Project, org_numbers: set[str]) -> dict[str, impact.Panel]:
    rows = (KeyFigures.objects.filter(company__in=candidate_companies(project)).order_by()
            .values_list(*_COLUMNS))
    return {org: p for org, p in _panels(rows).items() if org in org_numbers}


def comparison_pool(project: Project) -> Q:
    """Target-group companies the project has not touched (no approved intervention, started referral
    or activity), not merged into another company."""
    return target_group_q() & Q(merged_into__isnull=True) & untouched(project)


def comparison_panels(project: Project, years: set[int]) -> list[impact.Panel]:
    if not years:
        return []
    rows = (KeyFigures.objects.filter(company__in=Company.objects.filter(comparison_pool(project)).order_by(),
                                      fiscal_year__in=sorted(years)).order_by().values_list(*_COLUMNS))
    return list(_panels(rows).values())


def _hooked_questions(versions: dict[int, InstrumentVersion]) -> dict[int, dict[str, tuple[str, ...]]]:
    """Per instrument version: the ids of the questions holding each measure (only those it asks)."""
    result = {}
    for pk, version in versions.items():
        questions = version.instrument().questions
        found = {measure: tuple(q.id for q in questions if hook in q.hooks) for measure, hook in ANSWER_HOOKS.items()}
        result[pk] = {measure: ids for measure, ids in found.items() if ids}
    return result


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def assessments_taken(project: Project, org_numbers: set[str]) -> tuple[list[impact.Taken], list[InstrumentChanges]]:
    """Completed assessments of the supported companies, and each instrument's dimensions."""
    rows = list(Assessment.objects.filter(company__in=candidate_companies(project), status=AssessmentStatus.COMPLETED)
                .order_by().values_list("id", "company__org_number", "instrument_version_id", "phase", "conducted_on",
                                        "scores", "answers"))
    rows = [r for r in rows if r[1] in org_numbers]
    versions = InstrumentVersion.objects.in_bulk({r[2] for r in rows})
    hooked = _hooked_questions(versions)
    taken = []
    for pk, org, version_id, phase, day, scores, answers in rows:
        dims = (scores or {}).get("dimensions") or {}
        values = {key: _decimal((d or {}).get("score")) for key, d in dims.items()}
        values["overall"] = _decimal((scores or {}).get("overall"))
        measured = {measure: next((v for v in (_decimal((answers or {}).get(q)) for q in ids) if v is not None), None)
                    for measure, ids in hooked[version_id].items()}
        taken.append(impact.Taken(org, versions[version_id].key, phase, day, pk, values, measured))
    language = get_language()
    latest: dict[str, InstrumentVersion] = {}
    for v in sorted(versions.values(), key=lambda v: v.version):
        latest[v.key] = v
    return taken, [
        InstrumentChanges(key, v.title, [DimensionRow(d.id, d.title.get(language), impact.Change(0, None, None, None))
                                         for d in v.instrument().dimensions])
        for key, v in sorted(latest.items())
    ]


def impact_of(project: Project, *, resamples: int = impact.RESAMPLES, seed: int = impact.SEED) -> Impact:
    """Before/after and the comparisons of the project's supported enterprises (whole project)."""
    from django.utils.translation import gettext as _

    enterprises = facts_of(project).enterprises
    orgs = set(enterprises)
    panels = supported_panels(project, orgs)
    staff, turnover = [], []
    treated = []
    for org, enterprise in enterprises.items():
        panel = panels.get(org) or impact.Panel(org, "")
        year = enterprise.first_support.year
        treated.append(impact.Treated(panel, year))
        for figures, out in ((panel.staff, staff), (panel.turnover, turnover)):
            window = impact.register_window(figures, year)
            out.append((figures[window[0]], figures[window[1]]) if window else (None, None))
    years = set()
    for t in treated:
        for measure in impact.MEASURES:
            window = impact.register_window(t.panel.figures(measure), t.first_support_year)
            if window:
                years.update(window)
    controls = comparison_panels(project, years)
    taken, instruments = assessments_taken(project, orgs)
    changes = impact.maturity_changes(taken, {i.key: [r.key for r in i.rows] for i in instruments})
    maturity = []
    for instrument in instruments:
        found = changes.get(instrument.key)
        if not found:
            continue
        rows = [DimensionRow(r.key, r.label, found[r.key]) for r in instrument.rows]
        rows.append(DimensionRow("overall", _("Overall"), found["overall"]))
        maturity.append(InstrumentChanges(instrument.key, instrument.title, rows))
    answered = impact.answered_changes(taken)
    return Impact(
        project=project, supported=len(enterprises), staff=impact.before_after(staff),
        turnover=impact.before_after(turnover), export_share=answered[impact.EXPORT_SHARE],
        new_products=answered[impact.NEW_PRODUCTS], new_services=answered[impact.NEW_SERVICES], maturity=maturity,
        comparisons=[impact.compare_growth(treated, controls, m, resamples=resamples, seed=seed)
                     for m in impact.MEASURES],
        resamples=resamples,
    )
