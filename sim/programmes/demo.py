"""Demo projects, partners, members, offers, referrals and company-specific interventions (``sim demo``).

Two projects, written through the services (audited, source "system"):

* **SIM – Smart industriell modernisering** (``sim-2019``): 2019-01-01 to 2020-12-31, extended to
  2021-12-31; project owner Region Jämtland Härjedalen, partner IUC Z-GROUP; Jämtland (23). About
  16 MSEK over the period, of which the budget for company support (10.4 MSEK) is mostly committed
  to company-specific interventions. Its work is history: referrals completed, declined or
  withdrawn, interventions closed, delivered or cancelled; the project is closed at the end.
* **SIM Mitt – industriell omställning** (``sim-mitt``): 2024-01-01 to 2027-06-30, running on the
  demo's "today"; several partners, Jämtland (23) and Västernorrland (22). Referrals in every
  status, interventions in every status, so pipelines and dashboards show live work.

The steps: ``projects`` (here: organisations, projects, members, offers; runs before the
assessments), and ``routing`` (referrals and interventions; registered in
:mod:`sim.activities.demo` so that it runs after the growth interviews and plans exist, which it
builds on: a company is referred to offers that meet its needs and it is eligible for, and an
intervention serves the goals of its growth plan). Random choices come from ``ctx.rng(name)``: the
same seed writes the same demo (dates are fixed around the assessments demo's "today").
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sim.companies.demo import ADMIN_USERNAME, ADVISORS, DemoContext, demo_step
from sim.core.models import AuditEvent

SOURCE = AuditEvent.Source.SYSTEM
SIM_CODE = "sim-2019"
MITT_CODE = "sim-mitt"
MANAGER = "projektledare"
FINANCE = "ekonom"
AUDITOR = "revisor"
#: Demo users who work in the projects, and for which partner (advisors in both projects).
STAFF = {
    ADMIN_USERNAME: "IUC Z-GROUP",
    MANAGER: "Region Jämtland Härjedalen",
    ADVISORS[0]: "IUC Z-GROUP",
    ADVISORS[1]: "IUC Z-GROUP",
    FINANCE: "Region Jämtland Härjedalen",
    AUDITOR: None,  # an external auditor: in the project, for no partner
}
SIM_BUDGET = Decimal("10400000")  # of the project's 16 MSEK, the part that reaches companies directly
MITT_BUDGET = Decimal("12000000")


def demo_today() -> dt.date:
    """The assessments demo's fixed "today", or the real date if that is earlier."""
    from sim.assessments.demo import DEMO_TODAY

    return min(DEMO_TODAY, timezone.localdate())


@dataclass(frozen=True)
class Org:
    name: str
    kind: str
    website: str = ""


ORGANISATIONS = (
    Org("Region Jämtland Härjedalen", "public", "https://www.regionjh.se"),
    Org("IUC Z-GROUP", "development", "https://www.z-group.se"),
    Org("Region Västernorrland", "public", "https://www.rvn.se"),
    Org("Mittuniversitetet", "research", "https://www.miun.se"),
    Org("Almi Företagspartner Mitt", "financier", "https://www.almi.se"),
    Org("Business Sweden", "public", "https://www.business-sweden.com"),
    Org("RISE Research Institutes of Sweden", "research", "https://www.ri.se"),
    Org("Produktionslyftet", "development", "https://www.produktionslyftet.se"),
    # Consultants delivering company-specific interventions (invented).
    Org("Flödeskonsult Norr AB", "consultant"),
    Org("Exportrådgivarna i Mitt AB", "consultant"),
    Org("Tjänstedesign Jämtland AB", "consultant"),
    Org("Kompetensbron Storsjön AB", "consultant"),
    Org("Finansrådgivning Härjedalen AB", "consultant"),
)

FOCUS = ("financing", "production_efficiency", "service_addition", "internationalisation", "growth_and_competence")


@dataclass(frozen=True)
class DemoOffer:
    title_sv: str
    title_en: str
    kind: str
    provider: str
    focus: tuple[str, ...]
    support_form: str
    description_sv: str
    description_en: str
    internal: bool = False
    is_state_aid: bool = False
    aid_scheme: str = ""
    value: int | None = None
    hours: int | None = None
    capacity: int | None = None
    eligibility: dict | None = None
    contact: str = ""


DEMINIMIS = "De minimis, förordning (EU) 2023/2831"
DEMINIMIS_OLD = "De minimis, förordning (EU) nr 1407/2013"

OFFERS_SIM = (
    DemoOffer("Produktionslyftet", "Produktionslyftet (lean production programme)", "programme", "Produktionslyftet",
              ("production_efficiency",), "non_financial",
              "Nationellt program för produktionsutveckling: 18 månader med coach, ledningsgrupp och daglig styrning.",
              "National production-development programme: 18 months with a coach, management team and daily control.",
              hours=120, capacity=12, eligibility={"sni": ["10-33"], "size_classes": ["small", "medium"]},
              contact="Produktionslyftets regionala coach"),
    DemoOffer("Tillväxtlån från Almi", "Almi growth loan", "loan", "Almi Företagspartner Mitt", ("financing",),
              "financial", "Lån för investeringar och tillväxt där banken inte räcker till, med rådgivning.",
              "Loans for investment and growth where the bank's lending falls short, with advice.",
              value=1500000, eligibility={"size_classes": ["micro", "small", "medium"]}),
    DemoOffer("Exportcheck", "Export voucher", "voucher", "Business Sweden", ("internationalisation",), "grant",
              "Bidrag till extern exportrådgivning: marknadsanalys, partnersökning och exportplan.",
              "A grant for external export advice: market analysis, partner search and an export plan.",
              is_state_aid=True, aid_scheme=DEMINIMIS_OLD, value=50000, eligibility={"target_group": True}),
    DemoOffer("Testbädd för automation hos RISE", "Automation test bed at RISE", "programme",
              "RISE Research Institutes of Sweden", ("production_efficiency",), "non_financial",
              "Prova robot- och automationslösningar i testbädd innan investeringen.",
              "Try robot and automation solutions in a test bed before investing.", hours=40, capacity=8),
    DemoOffer("Företagscoachning i SIM", "Business coaching in SIM", "coaching", "IUC Z-GROUP",
              ("growth_and_competence", "service_addition"), "non_financial",
              "Projektets egna företagsutvecklare coachar ledningen kring tillväxtplanen.",
              "The project's own advisors coach the management on the growth plan.", internal=True, hours=30,
              eligibility={"counties": ["23"]}),
    DemoOffer("Tjänstefiering – workshopserie", "Servitisation workshop series", "course", "IUC Z-GROUP",
              ("service_addition",), "non_financial",
              "Fyra workshoppar om att bygga tjänster och serviceavtal kring produkterna.",
              "Four workshops on building services and service contracts around the products.", internal=True,
              hours=16, capacity=15),
)

OFFERS_MITT = (
    DemoOffer("Produktionslyftet", "Produktionslyftet (lean production programme)", "programme", "Produktionslyftet",
              ("production_efficiency",), "non_financial",
              "Nationellt program för produktionsutveckling: 18 månader med coach, ledningsgrupp och daglig styrning.",
              "National production-development programme: 18 months with a coach, management team and daily control.",
              hours=120, capacity=14, eligibility={"sni": ["10-33"], "size_classes": ["small", "medium"]}),
    DemoOffer("Tillväxtlån från Almi", "Almi growth loan", "loan", "Almi Företagspartner Mitt", ("financing",),
              "financial", "Lån för investeringar och tillväxt där banken inte räcker till, med rådgivning.",
              "Loans for investment and growth where the bank's lending falls short, with advice.",
              value=2000000, eligibility={"size_classes": ["micro", "small", "medium"]}),
    DemoOffer("Innovationscheck från Almi", "Almi innovation voucher", "voucher", "Almi Företagspartner Mitt",
              ("financing", "service_addition"), "grant",
              "Bidrag till extern hjälp i tidiga skeden av en innovation: test, design, IP.",
              "A grant for outside help in the early stages of an innovation: tests, design, IP.",
              is_state_aid=True, aid_scheme=DEMINIMIS, value=100000, eligibility={"size_classes": ["micro", "small"]}),
    DemoOffer("Exportcheck", "Export voucher", "voucher", "Business Sweden", ("internationalisation",), "grant",
              "Bidrag till extern exportrådgivning: marknadsanalys, partnersökning och exportplan.",
              "A grant for external export advice: market analysis, partner search and an export plan.",
              is_state_aid=True, aid_scheme=DEMINIMIS, value=75000, eligibility={"target_group": True}),
    DemoOffer("Exportrådgivning Norge", "Export advice: Norway", "export_service", "Business Sweden",
              ("internationalisation",), "non_financial",
              "Business Swedens rådgivare i Oslo hjälper med marknadsbild, regler och kontakter.",
              "Business Sweden's advisers in Oslo help with the market picture, rules and contacts.", hours=20),
    DemoOffer("Digitaliseringslyft med RISE", "Digitalisation lift with RISE", "programme",
              "RISE Research Institutes of Sweden", ("production_efficiency",), "non_financial",
              "Automations- och digitaliseringsprojekt med forskare, för företag med låg digital mognad.",
              "Automation and digitalisation projects with researchers, for companies of low digital maturity.",
              hours=60, capacity=10,
              eligibility={"scores": [{"instrument": "digital-maturity", "dimension": "automation_and_ai", "max": 60}]}),
    DemoOffer("Kompetensanalys med Mittuniversitetet", "Competence analysis with Mid Sweden University",
              "programme", "Mittuniversitetet", ("growth_and_competence",), "non_financial",
              "Studenter och forskare kartlägger företagets kompetensbehov fem år framåt.",
              "Students and researchers map the company's competence needs five years ahead.", hours=40, capacity=12),
    DemoOffer("Företagscoachning i SIM Mitt", "Business coaching in SIM Mitt", "coaching", "IUC Z-GROUP",
              ("growth_and_competence", "service_addition", "financing"), "non_financial",
              "Projektets egna företagsutvecklare coachar ledningen kring tillväxtplanen.",
              "The project's own advisors coach the management on the growth plan.", internal=True, hours=30,
              eligibility={"counties": ["22", "23"]}),
    DemoOffer("Tjänstefiering – workshopserie", "Servitisation workshop series", "course", "IUC Z-GROUP",
              ("service_addition",), "non_financial",
              "Fyra workshoppar om att bygga tjänster och serviceavtal kring produkterna.",
              "Four workshops on building services and service contracts around the products.", internal=True,
              hours=16, capacity=15),
    DemoOffer("Ledarskap i produktionen", "Leadership in production", "course", "Kompetensbron Storsjön AB",
              ("growth_and_competence", "production_efficiency"), "non_financial",
              "Utbildning för arbetsledare: planering, coachande ledarskap och arbetsmiljö.",
              "Training for supervisors: planning, coaching leadership and the working environment.",
              hours=24, capacity=20),
)


def _companies_of(ctx: DemoContext, *, counties: tuple[str, ...], statuses: tuple[str, ...]) -> list[Any]:
    """Planned companies (in plan order) in these counties and statuses; no duplicates or groups' parents abroad."""
    chosen = []
    for spec in ctx.plan.companies:
        if spec.status not in statuses or spec.role.startswith("duplicate_of:"):
            continue
        if spec.municipality[:2] not in counties:
            continue
        chosen.append(spec)
    return chosen


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _weekday(day: dt.date) -> dt.date:
    """Move a weekend date to the Friday before (companies are visited on weekdays)."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


# --- Step 1: projects, members, offers --------------------------------------------------------


def write_projects(ctx: DemoContext) -> dict[str, Any]:
    from sim.companies.models import County

    from . import offer_services, services_projects
    from .models import FocusArea, Organisation

    actor = ctx.users[ADMIN_USERNAME]
    organisations = {}
    for org in ORGANISATIONS:
        existing = Organisation.objects.filter(name=org.name).first()
        organisations[org.name] = existing or services_projects.organisation_create(
            actor, {"name": org.name, "kind": org.kind, "website": org.website}, source=SOURCE)
    focus_areas = list(FocusArea.objects.filter(key__in=FOCUS))
    sim = services_projects.project_create(actor, {
        "code": SIM_CODE, "name": "SIM – Smart industriell modernisering",
        "description": "Regionalt projekt för tillväxt i tillverkande och tillverkningsnära företag i Jämtlands län, "
                       "medfinansierat av Europeiska regionala utvecklingsfonden.",
        "start_date": dt.date(2019, 1, 1), "end_date": dt.date(2020, 12, 31), "extended_to": dt.date(2021, 12, 31),
        "owner": organisations["Region Jämtland Härjedalen"], "status": "active",
        "counties": list(County.objects.filter(code="23")), "focus_areas": focus_areas,
        "company_support_budget_sek": SIM_BUDGET, "min_support_hours": Decimal("12"),
    }, source=SOURCE, join=False)
    services_projects.project_partner_add(actor, sim, organisations["IUC Z-GROUP"], source=SOURCE)
    mitt = services_projects.project_create(actor, {
        "code": MITT_CODE, "name": "SIM Mitt – industriell omställning",
        "description": "Uppföljare till SIM: tillverkande företag i Jämtland och Västernorrland ställer om till "
                       "automation, tjänster och export.",
        "start_date": dt.date(2024, 1, 1), "end_date": dt.date(2027, 6, 30),
        "owner": organisations["Region Jämtland Härjedalen"], "status": "active",
        "counties": list(County.objects.filter(code__in=["22", "23"])), "focus_areas": focus_areas,
        "company_support_budget_sek": MITT_BUDGET, "min_support_hours": Decimal("12"),
    }, source=SOURCE, join=False)
    for name in ("IUC Z-GROUP", "Region Västernorrland", "Mittuniversitetet"):
        services_projects.project_partner_add(actor, mitt, organisations[name], source=SOURCE)
    members = 0
    for project in (sim, mitt):
        for username, partner in STAFF.items():
            user = ctx.users.get(username)
            if user is None:
                continue
            organisation = organisations[partner] if partner else None
            services_projects.project_member_add(actor, project, user, organisation, source=SOURCE)
            members += 1
    offers = {SIM_CODE: [], MITT_CODE: []}
    for project, specs in ((sim, OFFERS_SIM), (mitt, OFFERS_MITT)):
        for spec in specs:
            data = {
                "title_sv": spec.title_sv, "title_en": spec.title_en, "kind": spec.kind, "internal": spec.internal,
                "provider": organisations[spec.provider], "description_sv": spec.description_sv,
                "description_en": spec.description_en, "support_form": spec.support_form,
                "is_state_aid": spec.is_state_aid, "aid_scheme": spec.aid_scheme,
                "typical_value_sek": Decimal(spec.value) if spec.value else None,
                "typical_hours": Decimal(spec.hours) if spec.hours else None, "capacity": spec.capacity,
                "available_from": project.start_date, "contact_name": spec.contact,
                "eligibility": spec.eligibility or {}, "focus_areas": list(spec.focus),
            }
            offers[project.code].append(offer_services.offer_create(actor, project, data, source=SOURCE))
    ctx.counts.update({"projects": 2, "project_members": members, "organisations": len(organisations),
                       "offers": sum(len(v) for v in offers.values())})
    return {"sim": sim, "mitt": mitt, "organisations": organisations, "offers": offers}


@demo_step("projects")
def _projects(ctx: DemoContext) -> None:
    write_projects(ctx)


# --- Step 2: referrals and interventions ------------------------------------------------------

REASONS_DECLINED = (
    "Företaget prioriterar en stor order i år och avvaktar.",
    "Leverantören hade inga platser kvar den här omgången.",
    "Företaget valde en egen konsult i stället.",
    "Banken löste finansieringen; lånet behövdes inte.",
)
REASONS_WITHDRAWN = (
    "Kontaktpersonen slutade och ingen tog över frågan.",
    "Ägarbyte: den nya ledningen vill börja om med tillväxtplanen.",
    "Erbjudandet passade inte när vi gick igenom villkoren närmare.",
)
INTERVENTION_TITLES = {
    "financing": ("Finansieringsstrategi inför investering i ny produktionslina",
                  "Investeringskalkyl och bankunderlag för utbyggnad"),
    "production_efficiency": ("Värdeflödesanalys och ny layout i verkstaden", "Automationsförstudie: robotcell för svetsning",
                              "Införande av daglig styrning och visuell planering"),
    "service_addition": ("Serviceavtal och eftermarknadserbjudande", "Affärsmodell för uthyrning av utrustning"),
    "internationalisation": ("Marknadsanalys Norge och exportplan", "Förberedelse inför Elmia Subcontractor"),
    "growth_and_competence": ("Kompetensinventering och rekryteringsplan", "Ledarskapsprogram för arbetsledare"),
}
PROVIDERS = {
    "financing": "Finansrådgivning Härjedalen AB",
    "production_efficiency": "Flödeskonsult Norr AB",
    "service_addition": "Tjänstedesign Jämtland AB",
    "internationalisation": "Exportrådgivarna i Mitt AB",
    "growth_and_competence": "Kompetensbron Storsjön AB",
}
DELIVERABLES = {
    "financing": "Investeringskalkyl, finansieringsplan och underlag till bank och Almi.",
    "production_efficiency": "Nulägesanalys, ny layout och handlingsplan med nyckeltal.",
    "service_addition": "Serviceerbjudande med prismodell och avtalsmall.",
    "internationalisation": "Marknadsanalys, prioriterade kunder och exportplan för två år.",
    "growth_and_competence": "Kompetensmatris, rekryteringsplan och utbildningsplan.",
}


def _advisor_for(ctx: DemoContext, spec, rng: random.Random):
    name = spec.owner_advisor if spec.owner_advisor in ADVISORS else rng.choice(ADVISORS)
    return ctx.users[name]


def _profiles(companies, on_date: dt.date):
    from .recommendations import company_profiles

    return {p.id: p for p in company_profiles(companies, on_date=on_date)}


def _offer_for(rng: random.Random, profile, offer_profiles, offers_by_id, on_date: dt.date, taken: set[int]):
    """An offer the company is eligible for, chosen with weight by fit (needs and maturity)."""
    from . import rules

    candidates = [
        (o, rules.fit_score(profile, o)) for o in offer_profiles
        if o.id not in taken and rules.is_eligible(profile, o, on_date)
    ]
    if not candidates:
        return None
    weights = [1.0 + fit for _o, fit in candidates]
    chosen = rng.choices(candidates, weights=weights)[0][0]
    return offers_by_id[chosen.id]


def _write_referrals(ctx, project, specs, offers, *, window, plan_statuses, rng, today, counts):
    from sim.companies.models import Company

    from . import services
    from .models import Offer
    from .recommendations import offer_profiles

    companies = {spec.key: ctx.companies[spec.key] for spec in specs}
    profiles = _profiles(Company.objects.filter(pk__in=[c.pk for c in companies.values()]), window[1])
    offer_rows = {o.pk: o for o in offers}
    offer_list = offer_profiles(Offer.objects.filter(pk__in=list(offer_rows)))
    written = []
    for spec, status in zip(specs, plan_statuses, strict=False):
        company = companies[spec.key]
        advisor = _advisor_for(ctx, spec, rng)
        taken: set[int] = set()
        for _n in range(1 if rng.random() < 0.7 else 2):
            offer = _offer_for(rng, profiles[company.pk], offer_list, offer_rows, window[0], taken)
            if offer is None:
                break
            taken.add(offer.pk)
            # Leave room after the proposal for the planned moves, each on its own later date.
            steps = {"proposed": 0, "accepted": 1, "started": 2, "completed": 3, "declined": 1, "withdrawn": 2}[status]
            latest_start = min(window[1], today) - dt.timedelta(days=45 * steps + 5)
            proposed_on = _weekday(_date_between(rng, window[0], max(window[0], latest_start)))
            referral = services.referral_create(
                advisor, company, offer, advisor=advisor, proposed_on=proposed_on, source=SOURCE,
                notes=rng.choice(("", "", "Tas upp på nästa styrelsemöte.", "VD är mycket intresserad.",
                                  "Kontakt förmedlad till leverantören.")),
            )
            on = proposed_on
            path = {"proposed": [], "accepted": ["accepted"], "started": ["accepted", "started"],
                    "completed": ["accepted", "started", "completed"], "declined": ["declined"],
                    "withdrawn": ["accepted", "withdrawn"]}[status]
            for target in path:
                on = min(on + dt.timedelta(days=rng.randint(7, 45)), today, window[1])
                reason = ""
                if target == "declined":
                    reason = rng.choice(REASONS_DECLINED)
                elif target == "withdrawn":
                    reason = rng.choice(REASONS_WITHDRAWN)
                referral = services.referral_move(advisor, referral, target, on=on, reason=reason, source=SOURCE)
            counts[status] = counts.get(status, 0) + 1
            written.append(referral)
            # A second referral of the same company has moved on further than a fresh proposal.
            if status in ("proposed", "accepted"):
                status = rng.choice(("completed", "started", "declined"))
    return written


def _budgets(rng: random.Random, n: int, total: Decimal) -> list[Decimal]:
    """``n`` budgets between about 120 and 650 kSEK adding up to about ``total`` (rounded to 5 kSEK)."""
    if n <= 0:
        return []
    weights = [rng.uniform(0.35, 1.0) for _ in range(n)]
    scale = float(total) / sum(weights)
    return [Decimal(max(60000, min(650000, round(w * scale / 5000) * 5000))) for w in weights]


def _write_interventions(ctx, project, specs, *, statuses, total, window, rng, today, counts, link_goals=True):
    from sim.assessments.models import GrowthGoal, Need, NeedStatus

    from . import services
    from .models import FocusArea, Organisation

    areas = {a.key: a for a in FocusArea.objects.filter(key__in=FOCUS)}
    providers = {name: Organisation.objects.get(name=name) for name in PROVIDERS.values()}
    manager = ctx.users.get(MANAGER) or ctx.users[ADMIN_USERNAME]
    # ``total`` is what the approved interventions commit; a cancelled one had a budget of its own.
    kept = _budgets(rng, sum(1 for s in statuses if s != "cancelled"), total)
    budgets = [Decimal(rng.randrange(100, 300) * 1000) if s == "cancelled" else kept.pop() for s in statuses]
    written = []
    for spec, status, budget in zip(specs, statuses, budgets, strict=False):
        company = ctx.companies[spec.key]
        advisor = _advisor_for(ctx, spec, rng)
        need = (Need.objects.filter(company=company, status=NeedStatus.OPEN, focus_area__isnull=False)
                .order_by("priority", "id").first()) if link_goals else None
        key = need.focus_area.key if need is not None else rng.choice(FOCUS)
        steps = {"draft": 0, "approved": 1, "in_progress": 2, "delivered": 3, "closed": 4, "cancelled": 2}[status]
        latest = min(window[1], today) - dt.timedelta(days=60 * steps + 10)
        start = _weekday(_date_between(rng, window[0], max(window[0], latest)))
        months = rng.randint(4, 10)
        goals = list(GrowthGoal.objects.filter(plan__company=company).order_by("id")[:2]) if link_goals else []
        aid = (budget * Decimal(rng.choice(("0.5", "0.6", "0.7")))).quantize(Decimal("1"))
        intervention = services.intervention_create(advisor, project, company, {
            "title": rng.choice(INTERVENTION_TITLES[key]), "focus_area": areas[key],
            "description": need.rationale if need is not None and need.rationale else DELIVERABLES[key],
            "provider": providers[PROVIDERS[key]], "start_date": start,
            "end_date": start + dt.timedelta(days=30 * months), "budget_sek": budget,
            "own_cash_sek": (budget * Decimal("0.3")).quantize(Decimal("1000")),
            "own_hours": Decimal(rng.choice((40, 60, 80, 120, 160))), "support_form": "grant",
            "is_state_aid": True, "aid_amount_sek": aid, "deliverables": DELIVERABLES[key], "growth_goals": goals,
        }, source=SOURCE)
        on = start
        if status != "draft":
            on = min(start + dt.timedelta(days=rng.randint(5, 25)), today)
            intervention = services.intervention_approve(manager, intervention, on=on, source=SOURCE)
        path = {"draft": [], "approved": [], "in_progress": ["in_progress"],
                "delivered": ["in_progress", "delivered"], "closed": ["in_progress", "delivered", "closed"],
                "cancelled": ["cancelled"]}[status]
        for target in path:
            on = min(on + dt.timedelta(days=rng.randint(20, 90)), today, window[1])
            reason = ("Företaget sade upp sig från insatsen efter ett ägarbyte." if target == "cancelled" else "")
            if target == "delivered":
                services.intervention_update(advisor, intervention, {"results": (
                    "Genomförd enligt plan. " + rng.choice((
                        "Ledtiden minskade med en tredjedel.", "Två nya serviceavtal tecknade.",
                        "Första ordern från Norge kom under hösten.", "Investeringen finansierad med lån och egna medel.",
                        "Rekryteringsplanen är antagen av styrelsen.")))}, source=SOURCE)
            intervention = services.intervention_move(advisor, intervention, target, on=on, reason=reason, source=SOURCE)
        counts[status] = counts.get(status, 0) + 1
        written.append(intervention)
    return written


def _status_list(rng: random.Random, n: int, weights: dict[str, float], required: tuple[str, ...]) -> list[str]:
    """``n`` statuses drawn by weight, with each of ``required`` at least once (if n allows)."""
    chosen = list(required[:n])
    chosen += rng.choices(list(weights), weights=list(weights.values()), k=max(0, n - len(chosen)))
    rng.shuffle(chosen)
    return chosen


def write_routing(ctx: DemoContext) -> dict[str, Any]:
    from sim.assessments.models import Assessment

    from .models import Project

    rng = ctx.rng("routing")
    today = demo_today()
    sim = Project.objects.get(code=SIM_CODE)
    mitt = Project.objects.get(code=MITT_CODE)
    referral_counts: dict[str, int] = {}
    intervention_counts: dict[str, int] = {}

    # SIM (history): alumni and active companies of Jämtland.
    sim_pool = _companies_of(ctx, counties=("23",), statuses=("alumni", "active"))
    sim_pool = sorted(sim_pool, key=lambda s: (s.status != "alumni", s.key))
    n_sim = max(6, round(len(sim_pool) * 0.55))
    sim_specs = sim_pool[:n_sim]
    rng.shuffle(sim_specs)
    sim_window = (dt.date(2019, 2, 1), dt.date(2021, 11, 30))
    statuses = _status_list(rng, len(sim_specs), {"completed": 0.65, "declined": 0.15, "withdrawn": 0.2},
                            ("completed", "declined", "withdrawn"))
    sim_referrals = _write_referrals(ctx, sim, sim_specs, list(sim.offers.all()), window=sim_window,
                                     plan_statuses=statuses, rng=rng, today=today, counts={})
    n_iv = max(3, min(32, round(len(sim_specs) * 0.4)))
    iv_specs = [s for s in sim_specs if s.status == "alumni"][:n_iv]
    iv_specs += [s for s in sim_specs if s not in iv_specs][: n_iv - len(iv_specs)]
    iv_statuses = _status_list(rng, len(iv_specs), {"closed": 0.75, "delivered": 0.15, "cancelled": 0.1},
                               ("closed", "delivered", "cancelled"))
    sim_total = SIM_BUDGET * Decimal("0.88") * min(Decimal(1), Decimal(len(iv_specs)) / Decimal(24))
    sim_interventions = _write_interventions(
        ctx, sim, iv_specs, statuses=iv_statuses, total=sim_total, window=sim_window, rng=rng, today=today,
        counts={}, link_goals=False)

    # SIM Mitt (running): companies with a growth interview first, in Jämtland and Västernorrland.
    interviewed = set(Assessment.objects.filter(instrument_version__kind="growth_interview")
                      .values_list("company_id", flat=True))
    mitt_pool = _companies_of(ctx, counties=("22", "23"), statuses=("active", "prospect", "alumni"))
    mitt_pool = sorted(mitt_pool, key=lambda s: (ctx.companies[s.key].pk not in interviewed, s.status != "active", s.key))
    n_mitt = max(8, round(len(mitt_pool) * 0.5))
    mitt_specs = mitt_pool[:n_mitt]
    mitt_window = (dt.date(2024, 2, 1), today)
    statuses = _status_list(
        rng, len(mitt_specs),
        {"proposed": 0.14, "accepted": 0.14, "started": 0.22, "completed": 0.3, "declined": 0.1, "withdrawn": 0.1},
        ("proposed", "accepted", "started", "completed", "declined", "withdrawn"))
    order = list(range(len(mitt_specs)))
    rng.shuffle(order)
    mitt_specs_shuffled = [mitt_specs[i] for i in order]
    mitt_referrals = _write_referrals(ctx, mitt, mitt_specs_shuffled, list(mitt.offers.all()), window=mitt_window,
                                      plan_statuses=statuses, rng=rng, today=today, counts=referral_counts)
    n_iv = max(6, min(26, round(len(mitt_specs) * 0.3)))
    with_interview = [s for s in mitt_specs if ctx.companies[s.key].pk in interviewed]
    iv_specs = (with_interview + [s for s in mitt_specs if s not in with_interview])[:n_iv]
    iv_statuses = _status_list(
        rng, len(iv_specs),
        {"draft": 0.15, "approved": 0.15, "in_progress": 0.3, "delivered": 0.15, "closed": 0.17, "cancelled": 0.08},
        ("draft", "approved", "in_progress", "delivered", "closed", "cancelled"))
    mitt_total = Decimal("5600000") * min(Decimal(1), Decimal(len(iv_specs)) / Decimal(20))
    mitt_interventions = _write_interventions(
        ctx, mitt, iv_specs, statuses=iv_statuses, total=mitt_total, window=(dt.date(2024, 3, 1), today), rng=rng,
        today=today, counts=intervention_counts)

    ctx.counts.update({
        "referrals": len(sim_referrals) + len(mitt_referrals),
        "interventions": len(sim_interventions) + len(mitt_interventions),
    })
    return {"sim": sim, "mitt": mitt, "referral_statuses": referral_counts,
            "intervention_statuses": intervention_counts}


def close_sim_project(ctx: DemoContext) -> None:
    """When all its history is written: the SIM project's offers close and the project ends."""
    from . import offer_services, services, services_projects
    from .models import FollowUp, Project

    actor = ctx.users[ADMIN_USERNAME]
    sim = Project.objects.get(code=SIM_CODE)
    for offer in sim.offers.all():
        offer_services.offer_update(actor, offer, {"available_to": sim.effective_end}, source=SOURCE)
        offer_services.offer_set_active(actor, offer, False, reason="Projektet SIM avslutat.", source=SOURCE)
    # The follow-up assessments booked after SIM's deliveries were done long ago.
    for follow_up in FollowUp.objects.filter(project=sim, done_at__isnull=True):
        services.follow_up_done(actor, follow_up, source=SOURCE)
    services_projects.project_update(actor, sim, {"status": "closed"}, source=SOURCE)
