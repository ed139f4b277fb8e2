"""Demo data of growth interviews, maturity assessments, needs and growth plans (a ``sim demo`` step).

Two halves, like :mod:`sim.companies.demo`:

* :func:`plan_assessments` is pure: from the register's plan it decides which companies were
  interviewed when, by whom, every answer, and the growth plans with their goals and actions.
  Same register plan (seed), same assessment plan.
* :func:`write_assessments` writes it through the services: ``assessment_start``,
  ``assessment_answer`` for each answer, ``assessment_complete`` (which scores and derives the
  needs), ``growth_plan_create`` and friends, with the demo advisors as actors and the source
  "system".

The answers follow a simple model so that the figures look like a real programme rather than
noise: each company has a latent maturity (higher for larger companies, shifted per industry and
dimension), each question a fixed personal deviation, so answers within a company hang together
and a follow-up (T1) six to eighteen months later resembles its T0.  At T1 the dimensions that
were needs at T0 have mostly improved (the support worked), the others move a little, and a few
companies have gone backwards.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from sim.companies.demo import ADVISORS, ALL_INDUSTRIES, DemoCompany, DemoContext, DemoPlan, demo_step

from . import instrument_files, rules
from .schema import NUMERIC_TYPES, Instrument, Question

GROWTH = "sim-growth-interview"
DIGITAL = "digital-maturity"
#: "Today" for the demo's statuses (actions done or overdue); fixed so that the demo is reproducible.
DEMO_TODAY = date(2026, 11, 20)
T0_FROM, T0_TO = date(2024, 1, 15), date(2025, 12, 12)
LATEST_FOLLOW_UP = date(2026, 11, 13)

# Latent maturity per economy and dimension (in scale levels, added to the company's base).
GROWTH_SHIFTS: dict[str, dict[str, float]] = {
    "wood": {"production_efficiency": 0.3, "service_addition": -0.6, "internationalisation": 0.6,
             "growth_and_competence": -0.2},
    "food": {"financing": -0.2, "production_efficiency": -0.2, "service_addition": -0.7,
             "internationalisation": -0.9},
    "metal": {"financing": 0.1, "production_efficiency": 0.4, "service_addition": -0.2},
    "machinery": {"financing": 0.2, "production_efficiency": 0.5, "service_addition": 0.4,
                  "internationalisation": 0.6, "growth_and_competence": 0.2},
    "service_mfg": {"service_addition": 0.9, "internationalisation": -0.6, "growth_and_competence": 0.1},
    "trade": {"production_efficiency": -0.3, "service_addition": 0.3, "internationalisation": 0.1},
    "consulting": {"production_efficiency": -0.4, "service_addition": 0.8, "internationalisation": -0.2,
                   "growth_and_competence": 0.4},
}
DIGITAL_SHIFTS: dict[str, dict[str, float]] = {
    "wood": {"automation_and_ai": 0.3, "green_digitalisation": 0.2, "data_management": -0.2},
    "food": {"digital_readiness": -0.3, "automation_and_ai": -0.4, "data_management": -0.3},
    "metal": {"automation_and_ai": 0.3, "digital_readiness": 0.2},
    "machinery": {"digital_readiness": 0.5, "automation_and_ai": 0.6, "data_management": 0.3},
    "service_mfg": {"human_centric_digitalisation": 0.2, "automation_and_ai": -0.3},
    "trade": {"digital_readiness": 0.3, "automation_and_ai": -0.7},
    "consulting": {"digital_readiness": 0.6, "data_management": 0.4, "automation_and_ai": -0.8,
                   "human_centric_digitalisation": 0.3},
}

VISIONS = (
    "Vi vill vara en självklar underleverantör till de stora skogsmaskintillverkarna i Norden.",
    "Dubbla omsättningen genom egna produkter och mindre beroende av en enda stor kund.",
    "Ett modernt och automatiserat företag där unga vill jobba, med kunder i hela Sverige.",
    "Växa på den norska marknaden och bygga upp ett eget serviceerbjudande.",
    "Ta steget från legotillverkning till systemleverantör med konstruktion i huset.",
    "Fortsätta växa lönsamt i regionen och ha en tydlig plan för generationsskiftet.",
    "Bli kända för hållbar tillverkning med lokalt råmaterial och kort ledtid.",
)
OBSTACLES = (
    "Svårt att rekrytera svetsare och CNC-operatörer till orten.",
    "Lokalerna är fulla; en utbyggnad kräver finansiering som banken är tveksam till.",
    "Ledningen hinner inte arbeta med utveckling, allt går åt till den dagliga driften.",
    "Höga transportkostnader till kunderna i söder.",
    "Osäkert orderläge hos den största kunden.",
    "Energipriserna och kapitalkostnaderna har ätit upp marginalen.",
)
BOTTLENECKS = (
    "Svetsningen: två personer kan momentet och de är ofta fullbelagda.",
    "Ytbehandlingen, som görs hos en underleverantör i Sundsvall.",
    "Planeringen sker i huvudet på produktionschefen.",
    "Torken vid sågen begränsar volymen vintertid.",
    "Ställtiderna i kantpressen.",
)
COMPETENCE = (
    "CNC-operatörer med programmeringsvana.",
    "Svetsare med certifiering enligt EN ISO 9606.",
    "Produktionstekniker med erfarenhet av automation och robotar.",
    "En inköpare/planerare som kan affärssystemet.",
    "Servicetekniker som kan arbeta hos kunderna i Norge.",
    "Truckförare och maskinoperatörer med behörighet för travers.",
    "Säljare med exportvana och tyska eller norska.",
)
NOTES = (
    "Intervjun gjordes med VD och produktionschef på plats i verkstaden.",
    "Ägarna är positiva till att växa men vill inte ta in externt kapital.",
    "Bra samtal; företaget vill gärna vara med i programmets nätverk för produktionsledare.",
    "VD har nyligen tagit över efter sin far; generationsskiftet präglar prioriteringarna.",
    "Företaget har vuxit snabbt och saknar rutiner för uppföljning.",
)
NEED_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "financing": (
        ("Ta fram en finansieringsplan för investeringarna", "Ekonomiansvarig"),
        ("Möte med Almi om tillväxtlån", "VD"),
        ("Ansök om regionalt investeringsstöd", "Företagsutvecklare (SIM)"),
    ),
    "production_efficiency": (
        ("Införa daglig styrning med nyckeltal i produktionen", "Produktionschef"),
        ("Värdeflödesanalys med extern coach", "Produktionschef"),
        ("Lean-utbildning för arbetsledarna", "Företagsutvecklare (SIM)"),
    ),
    "service_addition": (
        ("Paketera serviceavtal för befintliga kunder", "Säljchef"),
        ("Workshop om tjänsteutveckling med programmets konsult", "VD"),
        ("Pilot med fjärrövervakning hos två kunder", "Teknikansvarig"),
    ),
    "internationalisation": (
        ("Ta fram en exportplan för Norge", "Säljchef"),
        ("Delta på Elmia Subcontractor med programmets monter", "Säljchef"),
        ("Exportcheck med Business Sweden", "Företagsutvecklare (SIM)"),
    ),
    "growth_and_competence": (
        ("Kompetenskartläggning av personalen", "VD"),
        ("Rekryteringsplan för de kommande tre åren", "VD"),
        ("Utbildningsplan tillsammans med Teknikcollege Jämtland", "Produktionschef"),
    ),
}
EXTRA_ACTIONS = (
    ("Styrelsemöte med tillväxtplanen på dagordningen", "VD"),
    ("Uppföljningsmöte med företagsutvecklaren", "Företagsutvecklare (SIM)"),
    ("Besök hos ett annat företag i programmet (erfarenhetsutbyte)", "Produktionschef"),
)


# --- The plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAssessment:
    key: str
    company: str  # company key of the register plan
    instrument: str
    phase: str  # "t0" | "follow_up"
    conducted_on: date
    advisor: str  # username
    answers: dict[str, Any]  # valid answers, in question order
    outcome: str  # "completed" | "draft" | "awaiting_company"
    notes: str = ""
    invite: str = ""  # e-mail address a self-assessment link is sent to
    overall: Decimal | None = None  # the overall score the answers give
    needs: tuple[str, ...] = ()  # dimensions that become needs, most urgent first


@dataclass(frozen=True)
class DemoGoal:
    title: str
    metric: str
    baseline: Decimal | None
    target: Decimal | None
    unit: str
    target_date: date | None


@dataclass(frozen=True)
class DemoAction:
    title: str
    owner: str
    due_date: date
    status: str
    need_dimension: str = ""  # linked to the need derived for this dimension from the plan's assessment
    focus_area: str = ""


@dataclass(frozen=True)
class DemoGrowthPlan:
    company: str
    assessment: str  # DemoAssessment key
    advisor: str
    title: str
    summary: str
    status: str
    period_start: date
    period_end: date
    agreed_on: date | None
    shared: bool
    goals: tuple[DemoGoal, ...] = ()
    actions: tuple[DemoAction, ...] = ()


@dataclass(frozen=True)
class AssessmentDemo:
    assessments: tuple[DemoAssessment, ...]
    plans: tuple[DemoGrowthPlan, ...]
    representative_company: str


@dataclass
class _Profile:
    """A company's latent maturity per dimension (scale levels 0–5) and its fixed deviations."""

    company: DemoCompany
    economy: str
    staff: float
    turnover: float
    balance: float
    base: float
    rng: random.Random
    deviation: dict[str, float] = field(default_factory=dict)
    order: dict[str, list[str]] = field(default_factory=dict)

    def deviation_of(self, question_id: str) -> float:
        if question_id not in self.deviation:
            self.deviation[question_id] = self.rng.gauss(0, 0.65)
        return self.deviation[question_id]

    def order_of(self, question: Question) -> list[str]:
        """A fixed preference order of a multiple-choice question's options for this company."""
        if question.id not in self.order:
            ids = [o.id for o in question.options or () if not o.exclusive]
            self.rng.shuffle(ids)
            self.order[question.id] = ids
        return self.order[question.id]


def in_target_group(company: DemoCompany) -> bool:
    """The same rule as ``companies.selectors.target_group_q``, on the plan."""
    low, high = settings.SIM_MANUFACTURING_DIVISIONS
    sni = company.sni_primary
    industry = f"{low:02d}" <= sni[:2] <= f"{high:02d}" or any(
        sni.startswith(prefix.replace(".", "").strip()) for prefix in settings.SIM_MANUFACTURING_ADJACENT_SNI
    )
    return bool(sni) and industry and company.municipality[:2] in settings.SIM_TARGET_COUNTIES


def _economy(company: DemoCompany) -> str:
    industry = ALL_INDUSTRIES.get(company.sni_primary)
    return industry.economy if industry else "consulting"


def _profile(seed: int, company: DemoCompany) -> _Profile:
    own = random.Random(f"{seed}:assessments:{company.key}")
    if company.key_figures:
        latest = company.key_figures[-1]
        staff, turnover = float(latest.staff_awu), float(latest.turnover_sek)
        balance = float(latest.balance_sheet_sek)
    else:
        staff = own.uniform(2, 25)
        turnover = staff * own.uniform(1.1, 2.2) * 1e6
        balance = turnover * own.uniform(0.4, 0.8)
    size = 2.05 if staff < 10 else 2.6 if staff < 50 else 3.1
    ambition = {True: 0.2, False: -0.35, None: 0.0}[company.growth_ambition]
    base = size + ambition + own.gauss(0, 0.45)
    return _Profile(company, _economy(company), max(staff, 0.5), max(turnover, 3e5), balance, base, own)


def _clamp_level(value: float) -> int:
    return max(0, min(5, round(value)))


def _money(value: float, step: int = 1000) -> str:
    return str(int(round(value / step) * step))


def _band_value(question: Question, target: float, rng: random.Random) -> str:
    """A whole-number value in the value band whose score is closest to ``target``."""
    bands = question.scoring.bands or []
    band = min(bands, key=lambda b: (abs(float(b.score) - target), rng.random()))
    lowest, highest = question.value_range()
    low = band.min if band.min is not None else (lowest if lowest is not None else Decimal(0))
    if band.max is None:
        high = int(low) * 3 + 10
    elif band is bands[-1]:  # the last band includes its max
        high = math.floor(band.max)
    else:
        high = math.ceil(band.max) - 1
    if highest is not None:
        high = min(high, math.floor(highest))
    low_whole = math.ceil(low)
    return str(rng.randint(low_whole, max(low_whole, high)))


def _scored_answer(question: Question, level: float, profile: _Profile, rng: random.Random) -> Any:
    """An answer to a scored question that scores close to ``level`` (0–5)."""
    target = max(0.0, min(100.0, level * 20))
    kind = question.type
    if kind == "scale":
        return _clamp_level(level)
    if kind == "single_choice":
        options = list(question.options or ())
        unscored = [o for o in options if o.score is None]
        if unscored and rng.random() < 0.05:
            return unscored[0].id
        scored = [o for o in options if o.score is not None]
        return min(scored, key=lambda o: (abs(float(o.score) - target), rng.random())).id
    if kind == "multiple_choice":
        scores = {o.id: float(o.score or 0) for o in question.options or ()}
        chosen: list[str] = []
        total = 0.0
        for option_id in profile.order_of(question):
            if total >= target - 7:
                break
            chosen.append(option_id)
            total += scores[option_id]
        if not chosen:
            exclusive = [o.id for o in question.options or () if o.exclusive]
            return exclusive[:1] or profile.order_of(question)[:1]
        return chosen
    if kind in NUMERIC_TYPES and question.scoring is not None and question.scoring.bands:
        return _band_value(question, target, rng)
    if kind == "percentage":
        return str(round(target))
    raise ValueError(f"cannot answer {question.id}")


def _answers(
    instrument: Instrument, profile: _Profile, latent: dict[str, float], rng: random.Random, *, year: int,
    growth: float = 0.0, skip: float = 0.12,
) -> dict[str, Any]:
    """Answers to an instrument for a company whose dimensions sit at ``latent`` (levels)."""
    company = profile.company
    figures = {f.fiscal_year: f for f in company.key_figures}
    if year in figures:  # the figures the register has for that year
        turnover, staff = float(figures[year].turnover_sek), float(figures[year].staff_awu)
    else:  # the latest figures, moved by the company's trend since
        turnover = profile.turnover * (1 + growth)
        staff = profile.staff * (1 + growth * 0.6)
    turnover, staff = max(turnover, 3e5), max(staff, 0.5)
    raw: dict[str, Any] = {}
    for question in instrument.questions:
        qid = question.id
        if question.scoring is not None:
            if not question.required and rng.random() < skip:
                continue
            level = latent[question.scoring.dimension] + profile.deviation_of(qid)
            raw[qid] = _scored_answer(question, level, profile, rng)
            continue
        value = _unscored(qid, profile, latent, rng, year=year, staff=staff, turnover=turnover, answers=raw)
        if value is not None:
            raw[qid] = value
    normalised, issues = rules.validate_answers(instrument, raw, drop_hidden=True)
    if issues:  # a bug in the model above, not in the data
        raise ValueError(f"demo answers for {company.name} are invalid: {issues}")
    return normalised


def _unscored(
    qid: str, profile: _Profile, latent: dict[str, float], rng: random.Random, *, year: int, staff: float,
    turnover: float, answers: dict[str, Any],
) -> Any:
    """An answer to a question that is not scored (key figures, ambitions, competence needs), or None."""
    company = profile.company
    international = latent.get("internationalisation", 2.0)
    if qid == "ga_ambition":
        return {True: "yes", False: "no", None: "maybe"}[company.growth_ambition]
    if qid.startswith("ga_") and answers.get("ga_ambition") == "no":
        return rng.choice(OBSTACLES) if qid == "ga_obstacles" and rng.random() < 0.5 else None
    if qid == "ga_vision":
        return rng.choice(VISIONS) if rng.random() < 0.7 else None
    if qid == "ga_paths":
        paths = ["more_customers"]
        if international > 2.3 or rng.random() < 0.25:
            paths.append("new_markets")
        if latent.get("service_addition", 2) > 2.2 or rng.random() < 0.3:
            paths.append("new_offerings")
        if rng.random() < 0.5:
            paths.append("productivity")
        if staff > 30 and rng.random() < 0.2:
            paths.append("acquisitions")
        return paths
    if qid == "ga_target_turnover":
        return _money(turnover * rng.uniform(1.15, 1.7), 100_000)
    if qid == "ga_target_staff":
        return str(round(staff * rng.uniform(1.05, 1.4) * 2) / 2)
    if qid == "ga_target_markets":
        markets = ["region", "sweden"]
        if international > 2.0:
            markets.append("nordic")
        if international > 3.0:
            markets.append("europe")
        if international > 4.0:
            markets.append("global")
        return markets
    if qid == "ga_obstacles":
        return rng.choice(OBSTACLES) if rng.random() < 0.6 else None
    if qid == "kf_year":
        return year
    if qid == "kf_staff_awu":
        return str(round(staff, 1))
    if qid == "kf_turnover_sek":
        return _money(turnover)
    if qid == "kf_balance_sheet_sek":
        return _money(profile.balance * turnover / profile.turnover) if rng.random() < 0.8 else None
    if qid == "kf_operating_result_sek":
        return _money(turnover * rng.uniform(-0.03, 0.12)) if rng.random() < 0.7 else None
    if qid in ("kf_new_products", "kf_new_services"):
        # Own random stream, so that adding these questions (version 2) left every other answer of
        # the demo as it was; more launches where the company is stronger in the dimension.
        own = random.Random(f"{company.key}:{year}:{qid}")
        level = latent.get("production_efficiency" if qid == "kf_new_products" else "service_addition", 2.0)
        if own.random() < 0.1:
            return None
        return max(0, round(own.gauss((level - 1.6) * 0.9, 0.8)))
    if qid == "fin_capital_need":
        return _money(turnover * rng.uniform(0.05, 0.3), 100_000) if rng.random() < 0.4 else None
    if qid == "pe_capacity_utilisation":
        return str(rng.randint(55, 95)) if rng.random() < 0.7 else None
    if qid == "pe_bottleneck":
        return rng.choice(BOTTLENECKS) if rng.random() < 0.4 else None
    if qid == "in_markets":
        markets = ["nordic"]
        if international > 3.0:
            markets.append("eu_eea")
        if international > 4.0:
            markets.append(rng.choice(["north_america", "asia", "europe_other"]))
        return markets
    if qid == "cn_gaps":
        return rng.choices(["yes", "no", "unsure"], [55, 30, 15])[0]
    if qid == "cn_description":
        return rng.choice(COMPETENCE)
    if qid == "cn_people":
        return max(1, min(12, round(staff / 8 * rng.uniform(0.5, 1.5))))
    if qid == "cn_horizon":
        return rng.choice(["months_0_6", "months_6_12", "months_6_12", "months_12_36"])
    if qid == "cn_approach":
        return rng.choice(["recruit", "upskill", "both", "both", "undecided"])
    if qid == "cn_training_format":
        return rng.sample(["short_courses", "longer_programmes", "workplace", "online"], rng.randint(1, 2))
    if qid == "cn_inventory_help":
        return rng.choice(["yes", "yes", "no"])
    if qid == "cn_other":
        return None
    if qid == "dm_role":
        return rng.choices(["owner_ceo", "production", "it_digital", "finance_admin"], [60, 20, 10, 10])[0]
    return None


def _latent(instrument: Instrument, profile: _Profile, shifts: dict[str, dict[str, float]]) -> dict[str, float]:
    own = shifts.get(profile.economy, {})
    return {d.id: profile.base + own.get(d.id, 0.0) + profile.rng.gauss(0, 0.35) for d in instrument.dimensions}


def _needs(instrument: Instrument, answers: dict[str, Any]) -> tuple[Decimal | None, tuple[str, ...]]:
    result = rules.score(instrument, answers)
    return result.overall, tuple(n.dimension for n in rules.derive_needs(instrument, result))


def _date_between(rng: random.Random, start: date, end: date) -> date:
    day = start + timedelta(days=rng.randint(0, max(0, (end - start).days)))
    if day.weekday() >= 5:  # interviews on weekdays
        day -= timedelta(days=day.weekday() - 4)
    return day


def _advisor(company: DemoCompany, rng: random.Random) -> str:
    return company.owner_advisor or rng.choice(ADVISORS)


def plan_assessments(plan: DemoPlan) -> AssessmentDemo:
    """Decide every assessment, answer and growth plan of the demo (no database)."""
    rng = random.Random(f"{plan.seed}:assessments")
    growth = instrument_files.load_instrument(GROWTH)
    digital = instrument_files.load_instrument(DIGITAL)
    representative = plan.representative[1]

    duplicates = {c.key for c in plan.companies if c.role.startswith("duplicate_of:")}
    usable = [c for c in plan.companies if c.status != "archived" and c.key not in duplicates]
    target = [c for c in usable if in_target_group(c)]
    first = [c for c in target if c.status in ("active", "alumni")]
    second = [c for c in target if c.status == "prospect"]
    rest = [c for c in usable if not in_target_group(c) and c.status in ("active", "alumni")]
    for group in (first, second, rest):
        rng.shuffle(group)
    wanted = round(len(plan.companies) / 2)
    chosen = [c for c in (first + second + rest) if c.key != representative]
    interviewed = [plan.company(representative), *chosen[: wanted - 1]]

    assessments: list[DemoAssessment] = []
    counter = 0

    def add(**kwargs) -> DemoAssessment:
        nonlocal counter
        counter += 1
        instrument = growth if kwargs["instrument"] == GROWTH else digital
        overall, needs = _needs(instrument, kwargs["answers"])
        item = DemoAssessment(key=f"a{counter:04d}", overall=overall, needs=needs, **kwargs)
        assessments.append(item)
        return item

    plans: list[DemoGrowthPlan] = []
    t0_of: dict[str, DemoAssessment] = {}
    for company in interviewed:
        profile = _profile(plan.seed, company)
        if company.key == representative:
            profile.base = 1.9  # enough needs for a growth plan worth showing in the portal
        advisor = _advisor(company, rng)
        latent = _latent(growth, profile, GROWTH_SHIFTS)
        t0_date = date(2024, 9, 17) if company.key == representative else _date_between(rng, T0_FROM, T0_TO)
        t0 = add(
            company=company.key, instrument=GROWTH, phase="t0", conducted_on=t0_date, advisor=advisor,
            answers=_answers(growth, profile, latent, rng, year=t0_date.year - 1), outcome="completed",
            notes=rng.choice(NOTES) if rng.random() < 0.6 else "",
        )
        t0_of[company.key] = t0

        # Digital maturity for about a third, more often for larger and engineering companies.
        chance = 0.2 + (0.15 if profile.staff >= 10 else 0) + (0.15 if profile.economy in ("metal", "machinery") else 0)
        dm_t0 = None
        dm_latent = _latent(digital, profile, DIGITAL_SHIFTS)
        if company.key == representative or rng.random() < chance:
            dm_date = min(t0_date + timedelta(days=rng.randint(0, 40)), T0_TO)
            dm_t0 = add(
                company=company.key, instrument=DIGITAL, phase="t0", conducted_on=_date_between(rng, dm_date, dm_date),
                advisor=advisor, answers=_answers(digital, profile, dm_latent, rng, year=dm_date.year - 1),
                outcome="completed",
            )

        # Follow-up (T1) 6–18 months later for about a third of the active and alumni companies.
        earliest = t0_date + timedelta(days=186)
        follow = company.key == representative or (
            company.status in ("active", "alumni") and earliest <= LATEST_FOLLOW_UP
            and rng.random() < (0.55 if company.status == "alumni" else 0.3)
        )
        if not follow:
            continue
        t1_date = _date_between(rng, earliest, min(t0_date + timedelta(days=540), LATEST_FOLLOW_UP))
        if company.key == representative:
            t1_date = date(2025, 10, 14)
        declined = company.key != representative and rng.random() < 0.1
        t1_latent = {}
        for dimension, value in latent.items():
            if declined:
                change = rng.gauss(-0.55, 0.3)
            elif dimension in t0.needs:
                change = rng.gauss(1.0, 0.45)
            else:
                change = rng.gauss(0.25, 0.35)
            t1_latent[dimension] = value + change
        trend = rng.gauss(-0.05, 0.05) if declined else rng.gauss(0.09, 0.07)
        add(
            company=company.key, instrument=GROWTH, phase="follow_up", conducted_on=t1_date, advisor=advisor,
            answers=_answers(growth, profile, t1_latent, rng, year=t1_date.year - 1, growth=trend),
            outcome="completed", notes="Uppföljning efter insatserna i programmet." if rng.random() < 0.5 else "",
        )
        if dm_t0 is not None and rng.random() < 0.4:
            dm_t1_latent = {
                d: v + (rng.gauss(-0.4, 0.3) if declined else rng.gauss(0.6, 0.4)) for d, v in dm_latent.items()
            }
            add(
                company=company.key, instrument=DIGITAL, phase="follow_up", conducted_on=t1_date, advisor=advisor,
                answers=_answers(digital, profile, dm_t1_latent, rng, year=t1_date.year - 1), outcome="completed",
            )

    # Growth plans: the representative's company (agreed, shared) and five more with needs.
    candidates = [c for c in interviewed[1:] if t0_of[c.key].needs]
    with_follow_up = {a.company for a in assessments if a.phase == "follow_up"}
    candidates.sort(key=lambda c: (c.key not in with_follow_up, c.key))
    planned = [interviewed[0], *rng.sample(candidates[:20], min(5, len(candidates[:20])))]
    newest = max(planned[1:], key=lambda c: (t0_of[c.key].conducted_on, c.key)) if len(planned) > 1 else None
    for company in planned:
        status = "draft" if company is newest else "agreed"
        shared = company.key == representative or (status == "agreed" and rng.random() < 0.5)
        plans.append(_growth_plan(growth, company, t0_of[company.key], rng, status=status, shared=shared,
                                  followed_up=company.key in with_follow_up))

    # Work in progress: two interviews being filled in, one self-assessment sent to a company.
    interviewed_keys = {c.key for c in interviewed}
    waiting = [c for c in second if c.key not in interviewed_keys] or [c for c in usable if c.key not in interviewed_keys]
    for day, company in zip((date(2026, 11, 10), date(2026, 11, 17)), waiting[:2], strict=False):
        profile = _profile(plan.seed, company)
        answers = _answers(growth, profile, _latent(growth, profile, GROWTH_SHIFTS), rng, year=2025)
        keep = [q.id for q in growth.questions if q.id in answers][: max(1, len(answers) * 2 // 5)]
        add(company=company.key, instrument=GROWTH, phase="t0", conducted_on=day, advisor=_advisor(company, rng),
            answers={k: answers[k] for k in keep}, outcome="draft")
    with_digital = {a.company for a in assessments if a.instrument == DIGITAL}
    invitee = next(
        (c for c in interviewed[1:] if c.key not in with_digital and c.status == "active" and c.contacts
         and c.contacts[0].email),
        None,
    )
    if invitee is not None:
        add(company=invitee.key, instrument=DIGITAL, phase="t0", conducted_on=date(2026, 11, 12),
            advisor=_advisor(invitee, rng), answers={}, outcome="awaiting_company", invite=invitee.contacts[0].email)

    return AssessmentDemo(assessments=tuple(assessments), plans=tuple(plans), representative_company=representative)


def _growth_plan(
    instrument: Instrument, company: DemoCompany, t0: DemoAssessment, rng: random.Random, *, status: str,
    shared: bool, followed_up: bool,
) -> DemoGrowthPlan:
    """A plan agreed a few weeks after the interview: goals from its key figures, actions for its needs."""
    start = t0.conducted_on + timedelta(days=rng.randint(14, 35))
    end = date(start.year + 2, start.month, min(start.day, 28))
    answers = t0.answers
    turnover = Decimal(answers["kf_turnover_sek"])
    staff = Decimal(answers["kf_staff_awu"])
    goals = [
        DemoGoal(
            "Öka omsättningen", "turnover_sek", turnover,
            Decimal(answers.get("ga_target_turnover") or int(turnover * Decimal("1.3"))), "SEK", end,
        ),
        DemoGoal(
            "Fler årsverken", "staff_awu", staff,
            max(staff + 1, Decimal(answers.get("ga_target_staff") or (staff * Decimal("1.2")).quantize(Decimal("0.1")))),
            "årsverken", end,
        ),
    ]
    if "internationalisation" in t0.needs or "new_markets" in answers.get("ga_paths", []):
        share = Decimal(answers.get("kf_export_share", "0"))
        goals.append(DemoGoal("Högre exportandel", "export_share_pct", share,
                              min(Decimal(100), share + rng.choice([10, 15, 20])), "%", end))
    if "service_addition" in t0.needs or rng.random() < 0.3:
        goals.append(DemoGoal("Nya tjänster i erbjudandet", "new_services", Decimal(0),
                              Decimal(rng.randint(1, 3)), "st", end))

    actions: list[DemoAction] = []
    for position, dimension in enumerate(t0.needs):
        options = NEED_ACTIONS.get(dimension)
        if not options:
            continue
        title, owner = options[rng.randrange(len(options))]
        due = start + timedelta(days=60 + 75 * position + rng.randint(0, 30))
        actions.append(DemoAction(title, owner, due, _action_status(due, rng, followed_up=followed_up,
                                                                       agreed=status == "agreed"),
                                  need_dimension=dimension, focus_area=instrument.dimension(dimension).focus_area or ""))
    for title, owner in rng.sample(EXTRA_ACTIONS, rng.randint(1, 2)):
        due = start + timedelta(days=rng.randint(90, 400))
        actions.append(DemoAction(title, owner, due, _action_status(due, rng, followed_up=followed_up,
                                                                       agreed=status == "agreed")))
    titles = [instrument.dimension(d).title.sv.lower() for d in t0.needs[:3]]
    summary = (
        f"Planen bygger på tillväxtintervjun {t0.conducted_on:%Y-%m-%d}. "
        + (f"Fokus de kommande två åren: {', '.join(titles)}." if titles else "Fokus på fortsatt lönsam tillväxt.")
    )
    return DemoGrowthPlan(
        company=company.key, assessment=t0.key, advisor=t0.advisor, title=f"Tillväxtplan {start.year}–{end.year}",
        summary=summary, status=status, period_start=start, period_end=end,
        agreed_on=start + timedelta(days=rng.randint(0, 10)) if status == "agreed" else None, shared=shared,
        goals=tuple(goals), actions=tuple(actions),
    )


def _action_status(due: date, rng: random.Random, *, followed_up: bool, agreed: bool) -> str:
    if not agreed:
        return "planned"
    if due < DEMO_TODAY:
        return rng.choices(["done", "in_progress", "cancelled"], [85 if followed_up else 65, 25, 5])[0]
    return rng.choices(["planned", "in_progress"], [60, 40])[0]


# --- Writing ----------------------------------------------------------------------------------


def _company_order(demo: AssessmentDemo) -> Iterable[tuple[str, DemoAssessment | DemoGrowthPlan]]:
    """Everything in date order (a plan after the interview it is based on)."""
    events: list[tuple[date, int, int, str, Any]] = []
    for i, item in enumerate(demo.assessments):
        events.append((item.conducted_on, 0, i, "assessment", item))
    for i, item in enumerate(demo.plans):
        events.append((item.period_start, 1, i, "plan", item))
    events.sort(key=lambda e: e[:3])
    return [(kind, item) for _day, _rank, _i, kind, item in events]


def write_assessments(ctx: DemoContext, demo: AssessmentDemo) -> dict[str, int]:
    """Write the planned assessments and plans through the services (inside the demo's transaction)."""
    from django.test.utils import override_settings

    from sim.companies.models import Contact
    from sim.core.models import AuditEvent

    from . import services
    from .models import Assessment, Need, NeedStatus

    source = AuditEvent.Source.SYSTEM
    written: dict[str, Assessment] = {}
    t0_by_company: dict[tuple[str, str], tuple[Assessment, DemoAssessment]] = {}
    counts = {"assessments": 0, "completed_assessments": 0, "growth_plans": 0, "needs": 0}
    for kind, item in _company_order(demo):
        if kind == "plan":
            _write_plan(ctx, item, written[item.assessment], source)
            counts["growth_plans"] += 1
            continue
        actor = ctx.users[item.advisor]
        company = ctx.companies[item.company]
        assessment = services.assessment_start(
            actor, company, item.instrument, phase=item.phase, conducted_on=item.conducted_on, source=source,
        )
        if item.notes:
            services.assessment_set_details(actor, assessment, notes=item.notes, source=source)
        if item.invite:
            contact = Contact.objects.filter(company=company, email=item.invite).first()
            # Demo addresses are invented: never send the invitation anywhere.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                services.self_assessment_invite(actor, assessment, email=item.invite, contact=contact, source=source)
        for question_id, value in item.answers.items():
            services.assessment_answer(actor, assessment, question_id, value, source=source)
        counts["assessments"] += 1
        written[item.key] = assessment
        if item.outcome != "completed":
            continue
        services.assessment_complete(actor, assessment, source=source)
        counts["completed_assessments"] += 1
        group = (item.company, item.instrument)
        if item.phase == "t0":
            t0_by_company[group] = (assessment, item)
        elif group in t0_by_company:
            # The follow-up shows which needs of T0 the support resolved; the rest live on in its own needs.
            previous, planned = t0_by_company[group]
            resolved = set(planned.needs) - set(item.needs)
            for need in Need.objects.filter(assessment=previous, source=Need.Source.DERIVED, status=NeedStatus.OPEN):
                if need.dimension in resolved:
                    services.need_save(actor, company, {"status": NeedStatus.ADDRESSED}, need=need, source=source)
                else:
                    services.need_save(actor, company, {
                        "status": NeedStatus.DISMISSED,
                        "rationale": f"{need.rationale} Ersatt av uppföljningen {item.conducted_on:%Y-%m-%d}.",
                    }, need=need, source=source)
    counts["needs"] = Need.objects.filter(company__in=list(ctx.companies.values())).count()
    return counts


def _write_plan(ctx: DemoContext, item: DemoGrowthPlan, assessment, source: str) -> None:
    from sim.programmes.models import FocusArea

    from . import services
    from .models import Need

    actor = ctx.users[item.advisor]
    company = ctx.companies[item.company]
    plan = services.growth_plan_create(actor, company, title=item.title, assessment=assessment, from_needs=False,
                                       source=source)
    services.growth_plan_update(actor, plan, {
        "summary": item.summary, "period_start": item.period_start, "period_end": item.period_end,
        "status": item.status, "agreed_on": item.agreed_on, "shared_with_company": item.shared,
    }, source=source)
    for order, goal in enumerate(item.goals, start=1):
        services.growth_goal_save(actor, plan, {
            "title": goal.title, "metric": goal.metric, "baseline": goal.baseline, "target": goal.target,
            "unit": goal.unit, "target_date": goal.target_date, "order": order,
        }, source=source)
    focus_areas = {f.key: f for f in FocusArea.objects.all()}
    for order, action in enumerate(item.actions, start=1):
        need = (
            Need.objects.filter(assessment=assessment, dimension=action.need_dimension, source=Need.Source.DERIVED).first()
            if action.need_dimension else None
        )
        services.growth_action_save(actor, plan, {
            "title": action.title, "owner": action.owner, "due_date": action.due_date, "status": action.status,
            "focus_area": focus_areas.get(action.focus_area), "need": need,
            "description": need.rationale if need is not None else "", "order": order,
        }, source=source)


@demo_step("assessments")
def _assessments(ctx: DemoContext) -> None:
    demo = plan_assessments(ctx.plan)
    ctx.counts.update(write_assessments(ctx, demo))
