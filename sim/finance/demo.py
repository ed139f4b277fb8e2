"""Demo project finance (``sim demo``): budget scenarios, financing plans, staff rates, time reports
and the cost ledger of both demo projects, written through the finance services (audited, source
"system"; the finance officer ``ekonom`` keeps the books and records the staff's monthly hours).

* **SIM** (``sim-2019``, 2019–2020, extended to 2021): two scenarios side by side, both balanced.
  "16 MSEK, 2 years, no ERDF" is the budget decided at the start (regional public funds, other
  public funds and the companies' hours in kind) and is the adopted one; "32 MSEK with 50 % ERDF,
  3 years" is the application for doubling the project with the Regional Development Fund. The
  ledger holds three yearly imports of the accounting export (external services, travel,
  equipment, other costs and the consultants' monthly invoices for the company-specific
  interventions), one entry booked by hand twice and corrected by a reversal, and the advisors' and the project manager's time
  reports (staff rates with a yearly salary revision in April). The finance officer's work is
  administration, covered by the flat rate for indirect costs, and is not reported as staff time.
* **SIM Mitt** (``sim-mitt``, 2024 – mid 2027, running): the adopted budget with 40 % ERDF and its
  actuals to date (the complete months up to the demo's "today"), so the dashboard has a burn
  rate, a forecast and a projected end balance. Besides the interventions, the project pays the
  companies' places in partners' programmes (Produktionslyftet, RISE, …: company-specific fees).
  One equipment entry is reversed and rebooked as other costs. The partner IUC Z-GROUP travels more than
  budgeted (the second county made the trips longer and more frequent): its travel line is already
  over its budget, which the dashboard warns about.

The companies' own contributions (cash and hours) are those recorded on the demo interventions by
:mod:`sim.programmes.demo`; they are the private co-financing the contributions page and the
dashboard count. Random choices come from ``ctx.rng("finance")``: the same seed writes the same
ledger. Runs after the projects, assessments, routing and activities steps (``after=`` of the
step), so projects, partners, members and interventions exist.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sim.companies.demo import ADMIN_USERNAME, ADVISORS, DemoContext, demo_step
from sim.programmes.demo import FINANCE, MANAGER, MITT_CODE, SIM_CODE, SOURCE, demo_today

RJH = "Region Jämtland Härjedalen"
IUC = "IUC Z-GROUP"
RVN = "Region Västernorrland"
MIUN = "Mittuniversitetet"
#: Voucher series per partner's accounts (Region: A, IUC: Z, Västernorrland: V, university: M).
SERIES = {RJH: "A", IUC: "Z", RVN: "V", MIUN: "M"}

SIM_A = "16 MSEK, 2 years, no ERDF"
SIM_B = "32 MSEK with 50 % ERDF, 3 years"
MITT_ADOPTED = "Beviljad budget 2024–2027 (40 % ERUF)"

CATEGORY_NAMES = {  # how the accounting export names the categories (Swedish, as the import accepts)
    "external_services": "Externa tjänster",
    "company_support": "Företagsspecifika insatser",
    "travel": "Resor",
    "equipment": "Utrustning",
    "other": "Övriga kostnader",
}

# --- Budgets ----------------------------------------------------------------------------------

#: (partner, category, year, quarter or None, amount SEK). Indirect costs are 15 % of staff costs.
SIM_A_LINES = (
    (RJH, "staff", 2019, None, 800_000), (RJH, "staff", 2020, None, 800_000),
    (RJH, "external_services", 2019, None, 100_000), (RJH, "external_services", 2020, None, 100_000),
    (RJH, "travel", 2019, None, 15_000), (RJH, "travel", 2020, None, 15_000),
    (RJH, "other", 2019, None, 20_000), (RJH, "other", 2020, None, 20_000),
    (IUC, "staff", 2019, None, 1_400_000), (IUC, "staff", 2020, None, 1_400_000),
    (IUC, "company_support", 2019, None, 4_800_000), (IUC, "company_support", 2020, None, 5_600_000),
    (IUC, "external_services", 2019, None, 60_000), (IUC, "external_services", 2020, None, 60_000),
    (IUC, "travel", 2019, None, 50_000), (IUC, "travel", 2020, None, 50_000),
    (IUC, "equipment", 2019, None, 40_000), (IUC, "other", 2020, None, 10_000),
)
SIM_A_FINANCING = (
    {"kind": "regional_public", "name": RJH, "amount_sek": Decimal("9500000")},
    {"kind": "other_public", "name": "Länsstyrelsen Jämtlands län (1:1-medel)", "amount_sek": Decimal("3600000")},
    {"kind": "other_public", "name": "Kommunerna i Jämtlands län", "amount_sek": Decimal("1400000")},
    {"kind": "private_in_kind", "name": "Deltagande företag (arbetstid)", "hours": Decimal("3000")},
)
SIM_B_LINES = (
    (RJH, "staff", 2019, None, 1_000_000), (RJH, "staff", 2020, None, 1_000_000), (RJH, "staff", 2021, None, 1_000_000),
    (RJH, "external_services", 2019, None, 150_000), (RJH, "external_services", 2020, None, 150_000),
    (RJH, "external_services", 2021, None, 150_000),
    (RJH, "travel", 2019, None, 20_000), (RJH, "travel", 2020, None, 20_000), (RJH, "travel", 2021, None, 20_000),
    (RJH, "other", 2019, None, 30_000), (RJH, "other", 2020, None, 30_000), (RJH, "other", 2021, None, 30_000),
    (IUC, "staff", 2019, None, 2_200_000), (IUC, "staff", 2020, None, 2_200_000), (IUC, "staff", 2021, None, 2_200_000),
    (IUC, "company_support", 2019, None, 4_800_000), (IUC, "company_support", 2020, None, 7_200_000),
    (IUC, "company_support", 2021, None, 8_000_000),
    (IUC, "external_services", 2019, None, 60_000), (IUC, "external_services", 2020, None, 60_000),
    (IUC, "external_services", 2021, None, 60_000),
    (IUC, "travel", 2019, None, 40_000), (IUC, "travel", 2020, None, 50_000), (IUC, "travel", 2021, None, 50_000),
    (IUC, "equipment", 2019, None, 40_000),
)
SIM_B_FINANCING = (
    {"kind": "erdf", "name": "Europeiska regionala utvecklingsfonden", "rate_pct": Decimal("50")},
    {"kind": "regional_public", "name": RJH, "amount_sek": Decimal("9000000")},
    {"kind": "other_public", "name": "Länsstyrelsen Jämtlands län (1:1-medel)", "amount_sek": Decimal("2500000")},
    {"kind": "other_public", "name": "Kommunerna i Jämtlands län", "amount_sek": Decimal("1000000")},
    {"kind": "private_cash", "name": "Deltagande företag (kontant egeninsats)", "amount_sek": Decimal("1500000")},
    {"kind": "private_in_kind", "name": "Deltagande företag (arbetstid)", "hours": Decimal("4000")},
)
MITT_LINES = (
    (RJH, "staff", 2024, None, 700_000), (RJH, "staff", 2025, None, 720_000), (RJH, "staff", 2026, None, 720_000),
    (RJH, "staff", 2027, None, 360_000),
    (RJH, "external_services", 2024, None, 150_000), (RJH, "external_services", 2025, None, 150_000),
    (RJH, "external_services", 2026, None, 150_000), (RJH, "external_services", 2027, None, 100_000),
    (RJH, "travel", 2024, None, 30_000), (RJH, "travel", 2025, None, 30_000), (RJH, "travel", 2026, None, 30_000),
    (RJH, "travel", 2027, None, 15_000),
    (RJH, "other", 2024, None, 40_000), (RJH, "other", 2025, None, 40_000), (RJH, "other", 2026, None, 40_000),
    (RJH, "other", 2027, None, 20_000),
    (IUC, "staff", 2024, None, 1_550_000), (IUC, "staff", 2025, None, 1_650_000), (IUC, "staff", 2026, None, 1_700_000),
    (IUC, "staff", 2027, None, 850_000),
    (IUC, "company_support", 2024, None, 2_000_000), (IUC, "company_support", 2025, None, 3_600_000),
    (IUC, "company_support", 2026, None, 4_000_000), (IUC, "company_support", 2027, 1, 1_200_000),
    (IUC, "company_support", 2027, 2, 1_200_000),
    (IUC, "external_services", 2024, None, 100_000), (IUC, "external_services", 2025, None, 100_000),
    (IUC, "external_services", 2026, None, 100_000), (IUC, "external_services", 2027, None, 50_000),
    (IUC, "travel", 2024, None, 60_000), (IUC, "travel", 2025, None, 60_000), (IUC, "travel", 2026, None, 60_000),
    (IUC, "travel", 2027, None, 30_000),
    (IUC, "equipment", 2024, None, 80_000),
    (RVN, "external_services", 2024, None, 200_000), (RVN, "external_services", 2025, None, 200_000),
    (RVN, "external_services", 2026, None, 200_000), (RVN, "external_services", 2027, None, 100_000),
    (RVN, "travel", 2024, None, 30_000), (RVN, "travel", 2025, None, 30_000), (RVN, "travel", 2026, None, 30_000),
    (RVN, "travel", 2027, None, 15_000),
    (MIUN, "external_services", 2024, None, 250_000), (MIUN, "external_services", 2025, None, 250_000),
    (MIUN, "external_services", 2026, None, 250_000), (MIUN, "external_services", 2027, None, 120_000),
)
#: The Mitt plan: the ERDF rate, fixed sources, and Region Jämtland Härjedalen covering the rest.
MITT_FIXED_FINANCING = (
    {"kind": "erdf", "name": "Europeiska regionala utvecklingsfonden", "rate_pct": Decimal("40")},
    {"kind": "regional_public", "name": RVN, "amount_sek": Decimal("2000000")},
    {"kind": "other_public", "name": MIUN, "amount_sek": Decimal("800000")},
    {"kind": "private_cash", "name": "Deltagande företag (kontant egeninsats)", "amount_sek": Decimal("1200000")},
    {"kind": "private_in_kind", "name": "Deltagande företag (arbetstid)", "hours": Decimal("2400")},
)
SCENARIO_SETTINGS = {"indirect_rate_pct": Decimal("15"), "advisor_company_facing_pct": Decimal("70"),
                     "in_kind_hourly_rate_sek": Decimal("500")}

# --- Staff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    salary_2019: int  # monthly salary in 2019 (SEK); revised every April
    hours: tuple[int, int]  # hours a month in the project (low, high), a normal month
    sim_share: Decimal  # the part of a normal month worked in SIM (SIM Mitt: all of it)
    share_2021: Decimal  # SIM's extension year: the part of the usual SIM hours
    areas: int  # how many focus areas the hours spread over (0: project management, no area)


#: Who reports time: the advisors and the project manager. The finance officer's work is administration,
#: paid for by the flat rate for indirect costs, so it is not reported as staff costs.
PEOPLE = (
    Person(ADVISORS[0], 43_500, (110, 130), Decimal("0.65"), Decimal("0.7"), 2),
    Person(ADVISORS[1], 45_800, (105, 125), Decimal("0.65"), Decimal("0.7"), 2),
    Person(MANAGER, 51_000, (85, 100), Decimal("0.9"), Decimal("0.6"), 0),
)
SALARY_RAISE = Decimal("0.028")


def _salary(person: Person, year: int) -> Decimal:
    return (Decimal(person.salary_2019) * (1 + SALARY_RAISE) ** (year - 2019)).quantize(Decimal("100"))


# --- Helpers ----------------------------------------------------------------------------------


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


def _weekday_in(rng: random.Random, month: dt.date, cap: dt.date) -> dt.date:
    """A weekday of ``month`` not after ``cap``."""
    last = min((month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), cap)
    days = [month + dt.timedelta(days=n) for n in range((last - month).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5] or days
    return rng.choice(weekdays)


def _amount(rng: random.Random, mean: float, spread: float = 0.3, whole: bool = False) -> Decimal:
    value = Decimal(str(mean * rng.uniform(1 - spread, 1 + spread)))
    return value.quantize(Decimal("1") if whole else Decimal("0.01"))


@dataclass
class Line:
    day: dt.date
    partner: str
    category: str
    amount: Decimal
    description: str
    intervention: int | None = None
    company: str = ""  # organisation number


def _csv(lines: list[Line]) -> bytes:
    """An accounting export as the finance officer downloads it: semicolons, decimal comma, Swedish headings."""
    out = io.StringIO()
    out.write("Datum;Verifikation;Kostnadsslag;Belopp;Partner;Beskrivning;Insats;Företag\n")
    # Running numbers per partner and year, with gaps: the partners' other vouchers lie in between.
    counters: dict[tuple[str, int], int] = defaultdict(int)
    for line in sorted(lines, key=lambda item: (item.day, item.partner, item.category, item.amount)):
        key = (line.partner, line.day.year)
        counters[key] += 1 + line.day.toordinal() % 4
        voucher = f"{SERIES[line.partner]}{line.day.year}-{counters[key]:04d}"
        amount = f"{line.amount:.2f}".replace(".", ",")
        description = line.description.replace(";", ",")
        out.write(f"{line.day.isoformat()};{voucher};{CATEGORY_NAMES[line.category]};{amount};{line.partner};"
                  f"{description};{line.intervention or ''};{line.company}\n")
    return out.getvalue().encode("utf-8")


def _import(actor, project, lines: list[Line], name: str) -> int:
    from .cost_import import import_costs

    result = import_costs(project, io.BytesIO(_csv(lines)), actor=actor, source=SOURCE, name=name)
    if result.error_count or not result.written:
        problems = "; ".join(str(error) for error in result.listed_errors()[:5])
        raise RuntimeError(f"demo cost import {name} refused: {problems}")
    return result.created


# --- Scenarios --------------------------------------------------------------------------------


def _write_scenario(actor, project, partners: dict[str, Any], *, name: str, description: str, start: dt.date,
                    end: dt.date, target: Decimal, lines: Iterable[tuple], financing: Iterable[dict]):
    from . import services

    scenario = services.scenario_create(actor, project, {
        "name": name, "description": description, "start_date": start, "end_date": end,
        "company_share_target_pct": target, **SCENARIO_SETTINGS,
    }, source=SOURCE)
    services.budget_lines_replace(actor, scenario, [
        {"partner": partners[partner].pk, "category": category, "year": year, "quarter": quarter,
         "amount": Decimal(amount)} for partner, category, year, quarter, amount in lines
    ], source=SOURCE)
    services.financing_replace(actor, scenario, list(financing), source=SOURCE)
    return scenario


def _budget_total(scenario) -> Decimal:
    from . import rules, selectors

    return rules.budget_totals(selectors.budget_items(scenario), scenario.indirect_rate_pct).total


def write_budgets(actor, sim, mitt, partners: dict[int, dict[str, Any]]) -> dict[str, Any]:
    from . import services

    sim_a = _write_scenario(
        actor, sim, partners[sim.pk], name=SIM_A, start=dt.date(2019, 1, 1), end=dt.date(2020, 12, 31),
        target=Decimal("65"), lines=SIM_A_LINES, financing=SIM_A_FINANCING,
        description="Budgeten som beslutades vid start: två år med regionala och kommunala medel och "
                    "företagens egen arbetstid som medfinansiering. Förlängningen till 2021 ryms i samma ram.")
    sim_b = _write_scenario(
        actor, sim, partners[sim.pk], name=SIM_B, start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 31),
        target=Decimal("65"), lines=SIM_B_LINES, financing=SIM_B_FINANCING,
        description="Ansökan om utökning: dubbel budget med 50 % stöd från Europeiska regionala "
                    "utvecklingsfonden och ett tredje projektår, nästan allt mer till företagsspecifika insatser.")
    services.scenario_adopt(actor, sim_a, source=SOURCE)

    mitt_scenario = _write_scenario(
        actor, mitt, partners[mitt.pk], name=MITT_ADOPTED, start=mitt.start_date, end=mitt.effective_end,
        target=Decimal("60"), lines=MITT_LINES, financing=(),
        description="Budget enligt beslutet om stöd: fyra partner i två län, 40 % från Europeiska "
                    "regionala utvecklingsfonden.")
    total = _budget_total(mitt_scenario)
    rate = mitt_scenario.in_kind_hourly_rate_sek
    fixed = sum((s.get("amount_sek") or (s["hours"] * rate if "hours" in s else total * s["rate_pct"] / 100)
                 for s in MITT_FIXED_FINANCING), Decimal(0))
    services.financing_replace(actor, mitt_scenario, [
        *MITT_FIXED_FINANCING, {"kind": "regional_public", "name": RJH, "amount_sek": (total - fixed).quantize(Decimal("0.01"))},
    ], source=SOURCE)
    services.scenario_adopt(actor, mitt_scenario, source=SOURCE)
    return {"sim": [sim_a, sim_b], "mitt": [mitt_scenario]}


# --- Staff rates and time reports ---------------------------------------------------------------


def write_staff(ctx: DemoContext, actor, project, *, first: dt.date, last: dt.date,
                rng: random.Random) -> tuple[int, int]:
    """Staff rates (a revision every April) and a month's time report per person and month."""
    from . import services_actuals

    areas = list(services_actuals.report_focus_areas(project))
    rates = reports = 0
    for person in PEOPLE:
        user = ctx.users.get(person.username)
        if user is None or not project.memberships.filter(user=user).exists():
            continue
        for year in range(first.year, last.year + 1):
            valid_from = first if year == first.year else dt.date(year, 4, 1)
            services_actuals.staff_rate_create(actor, project, {
                "person": user, "valid_from": valid_from, "monthly_salary_sek": _salary(person, year),
                "overhead_pct": Decimal("51.00"), "annual_hours": Decimal("1720"),
            }, source=SOURCE)
            rates += 1
        own = [areas[i] for i in rng.sample(range(len(areas)), min(person.areas, len(areas)))] if areas else []
        for month in _months(first, last):
            scale = person.sim_share if project.code == SIM_CODE else Decimal(1)
            if project.code == SIM_CODE and month.year == 2021:
                scale *= person.share_2021
            if month.month == 7:
                scale *= Decimal("0.35")  # the summer holiday
            elif month.month in (8, 12):
                scale *= Decimal("0.8")
            total = (Decimal(rng.randint(*person.hours)) * scale * 2).quantize(Decimal("1")) / 2
            if total <= 0:
                continue
            hours: dict[int | None, Decimal] = {}
            if own:
                general = (total * Decimal("0.15") * 2).quantize(Decimal("1")) / 2
                weights = [rng.uniform(0.5, 1.5) for _area in own]
                remaining = total - general
                for area, weight in zip(own, weights, strict=True):
                    part = (remaining * Decimal(str(weight / sum(weights))) * 2).quantize(Decimal("1")) / 2
                    hours[area.pk] = hours.get(area.pk, Decimal(0)) + part
                hours[None] = total - sum(hours.values(), Decimal(0))
            else:
                hours[None] = total
            hours = {key: value for key, value in hours.items() if value > 0}
            services_actuals.time_report_save_month(actor, project, user, month, hours, source=SOURCE)
            reports += 1
    return rates, reports


# --- The cost ledger --------------------------------------------------------------------------

#: Recurring costs: (partner, category, months between, mean SEK, descriptions).
SIM_RECURRING = (
    (RJH, "external_services", 3, 11_000, ("Kommunikationsbyrå: nyhetsbrev och webb", "Trycksaker inför Industrins dag",
                                           "Annonsering av seminarier")),
    (RJH, "travel", 2, 1_300, ("Tåg Östersund–Stockholm, nationellt projektledarmöte", "Milersättning, styrgruppsmöte")),
    (RJH, "other", 4, 3_000, ("Lokalhyra och fika, styrgruppsmöte", "Konferenslokal, partnermöte")),
    (IUC, "external_services", 4, 12_000, ("Webbinarieplattform, årslicens del", "Föreläsare, frukostseminarium")),
    (IUC, "travel", 1, 2_400, ("Milersättning, företagsbesök", "Resa Östersund–Sveg, företagsbesök",
                               "Hotell Strömsund, två företagsbesök")),
)
MITT_RECURRING = (
    (RJH, "external_services", 3, 30_000, ("Följeutvärdering, delrapport", "Kommunikationsbyrå: webb och film",
                                           "Trycksaker och annonser, Industrins dag")),
    (RJH, "travel", 1, 2_300, ("Tåg Östersund–Sundsvall, partnermöte", "Milersättning, styrgruppsmöte")),
    (RJH, "other", 3, 6_500, ("Konferenslokal och fika, styrgrupp", "Lokalhyra, Industrins dag")),
    (IUC, "external_services", 2, 15_000, ("Föreläsare, frukostseminarium", "Webbinarieplattform, licens")),
    (RVN, "external_services", 1, 15_500, ("Regional samordning Västernorrland, köpt tid", "Näringslivsanalys Sundsvall")),
    (RVN, "travel", 1, 2_200, ("Milersättning, företagsbesök Härnösand", "Tåg Sundsvall–Östersund, partnermöte")),
    (MIUN, "external_services", 3, 58_000, ("Studentprojekt kompetensanalys, handledning", "Labbtid automationslabbet")),
)
#: IUC Z-GROUP's travel in SIM Mitt per month and year: more trips once Västernorrland joined in earnest.
MITT_IUC_TRAVEL = {2024: 5_000, 2025: 6_500, 2026: 9_200}
TRAVEL_TRIPS = ("Resa Östersund–Sundsvall, företagsbesök", "Hotell Örnsköldsvik, två företagsbesök",
                "Milersättning, företagsbesök Härnösand", "Resa Östersund–Kramfors, företagsbesök")


def _recurring(rng: random.Random, recurring, first: dt.date, last: dt.date, cap: dt.date) -> list[Line]:
    lines = []
    for partner, category, every, mean, descriptions in recurring:
        offset = rng.randrange(every)
        for index, month in enumerate(_months(first, last)):
            if (index + offset) % every:
                continue
            # Quarterly invoices (fixed fees) vary less than monthly expenses.
            lines.append(Line(_weekday_in(rng, month, cap), partner, category,
                              _amount(rng, mean, 0.3 if every < 3 else 0.12), rng.choice(descriptions)))
    return lines


def _intervention_lines(project, partner: str, rng: random.Random, cap: dt.date) -> list[Line]:
    """The consultants' invoices for the project's approved interventions, monthly for the work done:
    a delivered or closed intervention is invoiced in full between its start and its delivery, one
    in progress month by month at its planned pace (at most 90 % before delivery), a cancelled one
    for the work done before it stopped. Nothing before the work starts."""
    from sim.programmes.models import Intervention

    lines = []
    last_day = min(project.effective_end, cap)
    for iv in Intervention.objects.filter(project=project, approved_on__isnull=False).select_related("provider"):
        if iv.budget_sek <= 0 or iv.status == "approved":
            continue
        provider = iv.provider.name if iv.provider_id else iv.provider_name
        title = f"{provider}: {iv.title}"[:200]
        first_day = min(max(iv.started_on or iv.approved_on + dt.timedelta(days=21), project.start_date), last_day)
        if iv.status == "cancelled":
            part = (iv.budget_sek * Decimal(rng.choice(("0.15", "0.2", "0.25")))).quantize(Decimal("1"))
            lines.append(Line(min(max(iv.cancelled_on or first_day, first_day), last_day), partner, "company_support",
                              part, f"{title} (arbete före avbrott)", iv.pk))
            continue
        done = iv.delivered_on or iv.closed_on
        planned = max(1, len(_months(iv.start_date or first_day, iv.end_date or first_day)) - 1)
        if done is not None:
            months = _months(first_day, min(max(done, first_day), last_day))
            total = iv.budget_sek
        else:
            months = _months(first_day, last_day)[:-1] or [first_day.replace(day=1)]
            total = min(iv.budget_sek * len(months) / planned, iv.budget_sek * Decimal("0.9")).quantize(Decimal("1"))
        part = (total / len(months)).quantize(Decimal("1"))
        for number, month in enumerate(months, start=1):
            amount = part if number < len(months) else total - part * (len(months) - 1)
            if amount <= 0:
                continue
            day = max(_weekday_in(rng, month, last_day), first_day)
            final = done is not None and number == len(months)
            lines.append(Line(day, partner, "company_support", amount,
                              f"{title}, {'slutfaktura' if final else f'delfaktura {number}'}", iv.pk))
    return lines


#: What the project pays per company for places in partners' programmes (SIM Mitt): offer → fee.
PROGRAMME_FEES = {
    "Produktionslyftet": 150_000,
    "Digitaliseringslyft med RISE": 120_000,
    "Kompetensanalys med Mittuniversitetet": 60_000,
    "Exportrådgivning Norge": 45_000,
    "Ledarskap i produktionen": 18_000,
}


def _programme_fee_lines(project, partner: str, cap: dt.date) -> list[Line]:
    """Participation fees for the companies the project placed in partners' programmes (started or
    completed referrals): company-specific direct support, invoiced when the company starts."""
    from sim.programmes.models import Referral

    lines = []
    referrals = (Referral.objects.filter(project=project, status__in=("started", "completed"),
                                         offer__title_sv__in=list(PROGRAMME_FEES), started_on__isnull=False)
                 .select_related("offer", "company").order_by("started_on", "pk"))
    for referral in referrals:
        day = min(max(referral.started_on, project.start_date), cap, project.effective_end)
        lines.append(Line(day, partner, "company_support", Decimal(PROGRAMME_FEES[referral.offer.title_sv]),
                          f"Deltagaravgift {referral.offer.title_sv}: {referral.company.name}",
                          company=referral.company.org_number))
    return lines


def write_costs(ctx: DemoContext, actor, sim, mitt, rng: random.Random, today: dt.date) -> dict[str, int]:
    from . import services_actuals

    counts = {"cost_entries": 0, "reversals": 0}
    # SIM: 2019–2021, imported once a year from the accounting system.
    sim_end = min(sim.effective_end, today)
    sim_lines = _recurring(rng, SIM_RECURRING, sim.start_date, sim_end, sim_end)
    sim_lines += [
        Line(dt.date(2019, 2, 12), IUC, "equipment", Decimal("13490.00"), "Bärbar dator, företagsutvecklare"),
        Line(dt.date(2019, 2, 12), IUC, "equipment", Decimal("13490.00"), "Bärbar dator, företagsutvecklare 2"),
        Line(dt.date(2019, 3, 5), IUC, "equipment", Decimal("8900.00"), "Projektor och skärm för workshoppar"),
        Line(dt.date(2020, 11, 18), IUC, "other", Decimal("6450.00"), "Digital whiteboard, licens"),
        Line(dt.date(2020, 10, 14), RJH, "external_services", Decimal("42000.00"), "Halvtidsutvärdering"),
    ]
    sim_lines += _intervention_lines(sim, IUC, rng, sim_end)
    for year in sorted({line.day.year for line in sim_lines}):
        counts["cost_entries"] += _import(actor, sim, [line for line in sim_lines if line.day.year == year],
                                          f"{SIM_CODE}-huvudbok-{year}.csv")
    # One hotel invoice booked by hand twice; the second booking is reversed.
    partners = {p.organisation.name: p for p in sim.partners.select_related("organisation")}
    services_actuals.cost_entry_create(actor, sim, {
        "partner": partners[IUC], "category": "travel", "date": dt.date(2020, 3, 4), "amount_sek": Decimal("2380.00"),
        "voucher": "Z2020-0398", "description": "Hotell Funäsdalen, två nätter, företagsbesök"}, source=SOURCE)
    twice = services_actuals.cost_entry_create(actor, sim, {
        "partner": partners[IUC], "category": "travel", "date": dt.date(2020, 3, 4), "amount_sek": Decimal("2380.00"),
        "voucher": "Z2020-0412", "description": "Hotell Funäsdalen, två nätter, företagsbesök"}, source=SOURCE)
    services_actuals.cost_entry_reverse(actor, twice, reason="Fakturan bokfördes två gånger (se Z2020-0398).",
                                        on=dt.date(2020, 4, 16), voucher="Z2020-0467", source=SOURCE)
    counts["cost_entries"] += 3
    counts["reversals"] += 1

    # SIM Mitt: to date, one export per year; the running year up to the demo's "today".
    mitt_lines = _recurring(rng, MITT_RECURRING, mitt.start_date, today, today)
    for month in _months(mitt.start_date, today):
        mean = MITT_IUC_TRAVEL.get(month.year, MITT_IUC_TRAVEL[max(MITT_IUC_TRAVEL)])
        for _trip in range(2):
            mitt_lines.append(Line(_weekday_in(rng, month, today), IUC, "travel", _amount(rng, mean / 2, 0.25),
                                   rng.choice(TRAVEL_TRIPS)))
    mitt_lines += [
        Line(dt.date(2024, 2, 7), IUC, "equipment", Decimal("15990.00"), "Bärbar dator, företagsutvecklare"),
        Line(dt.date(2024, 2, 7), IUC, "equipment", Decimal("15990.00"), "Bärbar dator, företagsutvecklare 2"),
        Line(dt.date(2024, 3, 12), IUC, "equipment", Decimal("24500.00"), "Mobil mätutrustning för värdeflödesanalys"),
    ]
    mitt_lines += _intervention_lines(mitt, IUC, rng, today)
    mitt_lines += _programme_fee_lines(mitt, IUC, today)
    for year in sorted({line.day.year for line in mitt_lines}):
        counts["cost_entries"] += _import(actor, mitt, [line for line in mitt_lines if line.day.year == year],
                                          f"{MITT_CODE}-huvudbok-{year}.csv")
    partners = {p.organisation.name: p for p in mitt.partners.select_related("organisation")}
    wrong = services_actuals.cost_entry_create(actor, mitt, {
        "partner": partners[RJH], "category": "equipment", "date": dt.date(2025, 9, 10),
        "amount_sek": Decimal("18750.00"), "voucher": "A2025-0611",
        "description": "Mässmonter, Industrins dag"}, source=SOURCE)
    services_actuals.cost_entry_reverse(actor, wrong, reason="Hyrd monter, inte utrustning: ombokad som övrig kostnad.",
                                        on=dt.date(2025, 10, 2), voucher="A2025-0652", source=SOURCE)
    services_actuals.cost_entry_create(actor, mitt, {
        "partner": partners[RJH], "category": "other", "date": dt.date(2025, 10, 2),
        "amount_sek": Decimal("18750.00"), "voucher": "A2025-0653",
        "description": "Hyra av mässmonter, Industrins dag (ombokning av A2025-0611)"}, source=SOURCE)
    counts["cost_entries"] += 3
    counts["reversals"] += 1
    return counts


# --- The step ---------------------------------------------------------------------------------


def write_finance(ctx: DemoContext) -> dict[str, Any]:
    from sim.programmes.models import Project

    rng = ctx.rng("finance")
    today = demo_today()
    actor = ctx.users.get(FINANCE) or ctx.users[ADMIN_USERNAME]
    sim = Project.objects.get(code=SIM_CODE)
    mitt = Project.objects.get(code=MITT_CODE)
    partners = {
        project.pk: {p.organisation.name: p for p in project.partners.select_related("organisation")}
        for project in (sim, mitt)
    }
    scenarios = write_budgets(actor, sim, mitt, partners)
    sim_rates, sim_reports = write_staff(ctx, actor, sim, first=sim.start_date, last=min(sim.effective_end, today),
                                         rng=rng)
    # Time is reported for complete months: the running month is not reported yet.
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    mitt_rates, mitt_reports = write_staff(ctx, actor, mitt, first=mitt.start_date, last=last_month, rng=rng)
    counts = write_costs(ctx, actor, sim, mitt, rng, today)
    ctx.counts.update({
        "budget_scenarios": sum(len(v) for v in scenarios.values()),
        "staff_rates": sim_rates + mitt_rates,
        "time_reports": sim_reports + mitt_reports,
        **counts,
    })
    return {"sim": sim, "mitt": mitt, "scenarios": scenarios}


@demo_step("finance", after=("projects", "assessments", "routing", "activities"))
def _finance(ctx: DemoContext) -> None:
    write_finance(ctx)
