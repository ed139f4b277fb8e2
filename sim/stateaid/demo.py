"""Demo data of the de minimis ledger (``sim demo``).

* ``stateaid-rates``: monthly SEK/EUR rates 2019–2026 (invented figures near the real yearly
  averages: demo only), imported through the same service as a finance officer's CSV. It runs
  **before** the routing step (``before="routing"``): approving an intervention needs a rate for
  its date.
* ``stateaid`` (``after="routing"``): awards for approved demo interventions (approval writes them;
  any approved state-aid intervention still without one gets it here), a few declarations of
  earlier aid from other granting authorities, and one company declared close to the ceiling.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sim.companies.demo import ADMIN_USERNAME, DemoContext, demo_step

RATE_YEARS = range(2019, 2027)
#: Roughly the yearly average SEK per EUR (demo figures, not an official source).
YEAR_LEVEL = {2019: "10.59", 2020: "10.49", 2021: "10.15", 2022: "10.63", 2023: "11.48", 2024: "11.43",
              2025: "11.08", 2026: "10.95"}
DEMO_RATE_SOURCE = "Demo (approximate)"
OTHER_AUTHORITIES = (
    ("Tillväxtverket", "Regionalt investeringsstöd, konsultcheck"),
    ("Almi Företagspartner Mitt AB", "Innovationsstöd"),
    ("Energimyndigheten", "Energikartläggningsstöd"),
    ("Östersunds kommun", "Lokalt näringslivsstöd, mässdeltagande"),
)
#: The company kept close to the ceiling has this much headroom left (EUR).
NEAR_CEILING_HEADROOM_EUR = Decimal("12000")


def rates_csv(rng) -> bytes:
    lines = ["date;sek_per_eur;source"]
    for year in RATE_YEARS:
        level = Decimal(YEAR_LEVEL[year])
        for month in range(1, 13):
            wobble = Decimal(rng.randint(-12, 12)) / Decimal(100)
            lines.append(f"{year}-{month:02d}-01;{level + wobble:.4f};{DEMO_RATE_SOURCE}")
    return ("\n".join(lines) + "\n").encode()


def write_rates(ctx: DemoContext) -> int:
    from sim.core.models import AuditEvent

    from . import services

    actor = ctx.users.get(ADMIN_USERNAME)
    result = services.import_rates(actor, rates_csv(ctx.rng("stateaid-rates")), source=AuditEvent.Source.SYSTEM)
    ctx.counts["exchange_rates"] = result.created + result.updated + result.unchanged
    return ctx.counts["exchange_rates"]


def write_ledger(ctx: DemoContext) -> dict[str, int]:
    from django.core.exceptions import ValidationError

    from sim.core.models import AuditEvent
    from sim.programmes.demo import demo_today
    from sim.programmes.models import Intervention
    from sim.programmes.states import INTERVENTION_COMMITTED

    from . import rules, selectors, services
    from .models import AidAward

    source = AuditEvent.Source.SYSTEM
    actor = ctx.users.get(ADMIN_USERNAME)
    rng = ctx.rng("stateaid")
    today = demo_today()
    counts = {"aid_awards_backfilled": 0, "aid_declarations": 0}
    company_ids = [c.pk for c in ctx.companies.values()]

    # Approved interventions (approval writes their awards; this fills any gap).
    missing = (Intervention.objects.filter(company_id__in=company_ids, is_state_aid=True, status__in=INTERVENTION_COMMITTED,
                                           approved_on__isnull=False, aid_amount_sek__isnull=False)
               .exclude(aid_awards__status="granted").select_related("project__owner", "company").order_by("approved_on", "pk"))
    for intervention in missing:
        try:
            services.grant_for_intervention(actor, intervention, on=intervention.approved_on, source=source)
        except ValidationError:
            continue
        counts["aid_awards_backfilled"] += 1

    companies = sorted((c for c in ctx.companies.values() if not c.is_archived), key=lambda c: c.org_number)
    if not companies:
        return counts
    # A few declarations of earlier aid from other granting authorities.
    for company in rng.sample(companies, min(4, len(companies))):
        authority, measure = rng.choice(OTHER_AUTHORITIES)
        granted_on = today - dt.timedelta(days=rng.randint(120, 900))
        services.record_declaration(
            actor, company, granting_authority=authority, measure=measure, granted_on=granted_on,
            amount_eur=Decimal(rng.randrange(5, 60) * 1000), notes="Enligt företagets intyg om tidigare stöd.",
            source=source,
        )
        counts["aid_declarations"] += 1

    # One company close to the ceiling: declared aid leaves it a small headroom today.
    with_awards = set(AidAward.objects.counted().filter(undertaking_id__in=company_ids).values_list("undertaking_id", flat=True))
    near = next((c for c in companies if c.pk in with_awards), companies[0])
    used = selectors.headroom_today(near, today).result
    gap = used.ceiling_eur - used.used_eur - NEAR_CEILING_HEADROOM_EUR
    if gap > 0:
        first = rules.cents(gap * Decimal("0.6"))
        for (authority, measure), amount, days in ((OTHER_AUTHORITIES[0], first, 400), (OTHER_AUTHORITIES[2], gap - first, 200)):
            services.record_declaration(
                actor, near, granting_authority=authority, measure=measure, granted_on=today - dt.timedelta(days=days),
                amount_eur=amount, notes="Enligt företagets intyg om tidigare stöd.", source=source,
            )
            counts["aid_declarations"] += 1
    ctx.counts.update(counts)
    return counts


@demo_step("stateaid-rates", before="routing")
def _rates(ctx: DemoContext) -> None:
    write_rates(ctx)


@demo_step("stateaid", after="routing")
def _ledger(ctx: DemoContext) -> None:
    write_ledger(ctx)
