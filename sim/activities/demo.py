"""Demo activities (hours), events with registrations and attendance, and outreach mailings (``sim demo``).

Registers two steps that run after the assessments demo (app order): ``routing`` (referrals and
interventions, written by :func:`sim.programmes.demo.write_routing`, which builds on the growth
interviews) and ``activities``: the advisors' meetings, calls, visits, workshops and analysis work
with the companies of both projects (companies with an intervention get enough hours to count as
supported), the Industry Days and smaller events with registrations and attendance, and the
invitations sent from SIM Mitt. Mail is "sent" through Django's dummy backend: demo addresses are
invented and nothing leaves the machine. At the end the SIM project (2019–2021) is closed.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import suppress
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.test.utils import override_settings
from django.utils import timezone

from sim.companies.demo import ADVISORS, DemoContext, demo_step
from sim.programmes.demo import (
    MITT_CODE,
    SIM_CODE,
    SOURCE,
    _companies_of,
    _date_between,
    _weekday,
    close_sim_project,
    demo_today,
    write_routing,
)

KINDS = {  # kind: (weight, hours choices)
    "meeting": (30, ("1", "1.5", "2", "2", "3")),
    "call": (25, ("0.25", "0.5", "0.5", "1")),
    "visit": (20, ("2", "3", "3", "4", "5")),
    "workshop": (10, ("3", "4", "6", "8")),
    "analysis": (15, ("2", "3", "4", "6", "8")),
}
SUBJECTS = {
    "meeting": ("Uppstartsmöte", "Genomgång av tillväxtplanen", "Avstämning med VD", "Möte om finansieringsbehov",
                "Styrgruppsmöte för insatsen"),
    "call": ("Uppföljningssamtal", "Samtal om erbjudandet", "Bokning av besök", "Avstämning efter styrelsemötet"),
    "visit": ("Besök i produktionen", "Företagsbesök med rundvandring", "Besök med leverantören av insatsen"),
    "workshop": ("Workshop om värdeflöden", "Workshop om tjänsteerbjudandet", "Workshop: exportstrategi",
                 "Workshop om kompetensbehov"),
    "analysis": ("Analys av nyckeltal", "Sammanställning av tillväxtintervjun", "Underlag till beslut om insats",
                 "Marknadsanalys inför exportplan"),
}
NOTES = (
    "", "", "",
    "VD vill gå vidare men behöver förankra i styrelsen.",
    "Produktionschefen ser flaskhalsen i svetsen; föreslog värdeflödesanalys.",
    "Ägarna funderar på generationsskifte inom fem år.",
    "Banken är positiv om företaget visar en tydligare kalkyl.",
    "Företaget har tappat en stor kund och vill bredda kundbasen.",
    "Bra möte; de vill delta på nästa Industrins dag.",
)


def _hours(choices: tuple[str, ...], rng: random.Random) -> Decimal:
    return Decimal(rng.choice(choices))


def _contacts(company) -> list:
    from sim.companies.models import Contact

    return list(Contact.objects.filter(company=company, archived_at__isnull=True, erased_at__isnull=True).order_by("id"))


def _write_activities(ctx: DemoContext, project, window, rng: random.Random, today: dt.date) -> tuple[int, Decimal]:
    from sim.programmes.models import FocusArea, Intervention, Referral

    from . import services

    areas = {a.key: a for a in FocusArea.objects.all()}
    end = min(window[1], today)
    intervention_areas = dict(Intervention.objects.filter(project=project).values_list("company_id", "focus_area__key"))
    referred = {}
    for company_id, key in Referral.objects.filter(project=project).values_list("company_id", "offer__focus_areas__key"):
        referred.setdefault(company_id, key)
    counties = tuple(project.counties.values_list("code", flat=True))
    pool = _companies_of(ctx, counties=counties, statuses=("active", "alumni", "prospect"))
    count, hours_total = 0, Decimal("0")
    for spec in pool:
        company = ctx.companies[spec.key]
        if company.pk in intervention_areas:
            n, focus = rng.randint(6, 12), intervention_areas[company.pk]
        elif company.pk in referred:
            n, focus = rng.randint(2, 5), referred[company.pk]
        elif rng.random() < 0.3:
            n, focus = rng.randint(1, 2), None  # prospecting: a call or a first meeting
        else:
            continue
        contacts = _contacts(company)
        owner = spec.owner_advisor if spec.owner_advisor in ADVISORS else rng.choice(ADVISORS)
        dates = sorted(_weekday(_date_between(rng, window[0], end)) for _ in range(n))
        supported_hours = Decimal("0")
        for index, day in enumerate(dates):
            if focus is None:
                kind = rng.choice(("call", "meeting"))
            elif index == 0:
                kind = "meeting"
            else:
                kind = rng.choices(list(KINDS), weights=[w for w, _h in KINDS.values()])[0]
            hours = _hours(KINDS[kind][1], rng)
            if company.pk in intervention_areas and index == len(dates) - 1 and supported_hours + hours < 12:
                kind, hours = "analysis", Decimal(12) - supported_hours  # enough hours to count as supported
            advisors = [ctx.users[owner]]
            if kind == "workshop" and rng.random() < 0.5:
                advisors = [ctx.users[name] for name in ADVISORS]
            area_key = focus if focus and rng.random() < 0.8 else rng.choice(list(areas)) if focus else None
            services.activity_create(
                advisors[0], project, company,
                {"kind": kind, "date": day, "hours": hours, "focus_area": areas.get(area_key) if area_key else None,
                 "subject": rng.choice(SUBJECTS[kind]), "notes": rng.choice(NOTES)},
                advisors=advisors, contacts=contacts[:1] if contacts and rng.random() < 0.8 else [], source=SOURCE,
            )
            supported_hours += hours
            count += 1
        hours_total += supported_hours
    return count, hours_total


EXTERNAL_GUESTS = (
    ("Lena Forsberg", "Mittuniversitetet"), ("Per Olsson", "Almi Företagspartner Mitt"),
    ("Anders Wiklund", "Östersunds kommun, näringslivskontoret"), ("Marie Holm", "Krokoms kommun"),
    ("Jonas Berg", "Teknikcollege Jämtland"), ("Sofia Lindqvist", "Region Västernorrland"),
    ("Mats Eriksson", "Business Sweden"), ("Karin Strand", "RISE"),
)


def _write_event(ctx, project, spec: dict[str, Any], pool, rng: random.Random, today: dt.date) -> dict[str, int]:
    from . import services

    advisor = ctx.users[ADVISORS[0]]
    event = services.event_create(advisor, project, {
        "title": spec["title"], "kind": spec["kind"], "starts_at": spec["starts_at"], "ends_at": spec["ends_at"],
        "place": spec["place"], "capacity": spec["capacity"], "description": spec["description"],
        "registration_open": True,
    }, source=SOURCE)
    wanted = min(spec["registrations"], spec["capacity"] - 2)
    registrations = []
    companies = list(pool)
    rng.shuffle(companies)
    for company_spec in companies:
        if len(registrations) >= wanted - spec.get("guests", 0):
            break
        contacts = [c for c in _contacts(ctx.companies[company_spec.key]) if c.email]
        for contact in contacts[: rng.choice((1, 1, 2))]:
            registrations.append(services.registration_create(advisor, event, {"contact": contact}, source=SOURCE))
    for name, organisation in rng.sample(EXTERNAL_GUESTS, k=min(spec.get("guests", 0), len(EXTERNAL_GUESTS))):
        registrations.append(services.registration_create(
            advisor, event, {"name": name, "organisation_name": organisation}, source=SOURCE))
    cancelled = attended = 0
    for registration in registrations:
        if rng.random() < 0.05:
            services.registration_cancel(advisor, registration, source=SOURCE)
            cancelled += 1
        elif timezone.localtime(event.starts_at).date() <= today:
            came = rng.random() < 0.86
            services.attendance_set(advisor, registration, came, source=SOURCE)
            attended += came
    if timezone.localtime(event.starts_at).date() <= today:
        services.event_update(advisor, event, {"registration_open": False}, source=SOURCE)
    return {"registrations": len(registrations), "cancelled": cancelled, "attended": attended}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _events(sim_size: int, mitt_size: int) -> dict[str, list[dict[str, Any]]]:
    day_desc = ("Industrins dag samlar regionens tillverkande företag, finansiärer och utbildningsanordnare: "
                "föredrag, företagsbesök och mingel.")
    return {
        SIM_CODE: [
            {"title": "Industrins dag 2019", "kind": "industry_day", "starts_at": _at(dt.date(2019, 10, 17), 9),
             "ends_at": _at(dt.date(2019, 10, 17), 16), "place": "Storsjöteatern, Östersund", "capacity": 150,
             "registrations": round(sim_size * 1.6), "guests": 6, "description": day_desc},
            {"title": "Rundabordssamtal: finansiering av investeringar", "kind": "roundtable",
             "starts_at": _at(dt.date(2020, 2, 12), 13), "ends_at": _at(dt.date(2020, 2, 12), 16),
             "place": "Region Jämtland Härjedalen, Östersund", "capacity": 25, "registrations": 18, "guests": 2,
             "description": "Företag, banker och Almi om hur investeringar i automation kan finansieras."},
            {"title": "Industrins dag 2021", "kind": "industry_day", "starts_at": _at(dt.date(2021, 10, 14), 9),
             "ends_at": _at(dt.date(2021, 10, 14), 15), "place": "Storsjöteatern, Östersund och digitalt",
             "capacity": 120, "registrations": round(sim_size * 1.3), "guests": 5, "description": day_desc},
        ],
        MITT_CODE: [
            {"title": "Industrins dag 2025", "kind": "industry_day", "starts_at": _at(dt.date(2025, 10, 16), 9),
             "ends_at": _at(dt.date(2025, 10, 16), 16), "place": "Mittpunkten, Östersund", "capacity": 180,
             "registrations": round(mitt_size * 1.2), "guests": 8, "description": day_desc},
            {"title": "Workshop: exportplan för Norge", "kind": "workshop", "starts_at": _at(dt.date(2026, 4, 22), 9),
             "ends_at": _at(dt.date(2026, 4, 22), 15), "place": "Sundsvall", "capacity": 20, "registrations": 14,
             "guests": 1, "description": "Tillsammans med Business Sweden: från marknadsbild till första kund."},
            {"title": "Industrins dag 2026", "kind": "industry_day", "starts_at": _at(dt.date(2026, 10, 15), 9),
             "ends_at": _at(dt.date(2026, 10, 15), 16), "place": "Gärdehov, Sundsvall", "capacity": 200,
             "registrations": round(mitt_size * 1.3), "guests": 8, "description": day_desc},
        ],
    }


UPCOMING = {
    "title": "Rundabordssamtal: automation i mindre verkstäder", "kind": "roundtable",
    "place": "IUC Z-GROUP, Östersund", "capacity": 30,
    "description": "Erfarenheter från företag som automatiserat med få anställda, och vad det kostade.",
}


def _write_outreach(ctx: DemoContext, project, rng: random.Random, today: dt.date) -> dict[str, int]:
    """An upcoming roundtable with an invitation sent, an offer mailing sent, and a draft."""
    from sim.companies.models import Contact
    from sim.programmes import mailings
    from sim.programmes.models import MailingRecipient, Offer

    from . import services

    advisor = ctx.users[ADVISORS[1]]
    start = _weekday(today + dt.timedelta(days=60))
    roundtable = services.event_create(advisor, project, {
        **UPCOMING, "starts_at": _at(start, 13), "ends_at": _at(start, 16), "registration_open": True,
    }, source=SOURCE)
    base_url = "http://127.0.0.1:8000"
    invitation = mailings.mailing_create(advisor, project, {
        "subject": "Inbjudan: rundabordssamtal om automation i mindre verkstäder",
        "body": ("Hej {name},\n\nVi bjuder in {company} till ett rundabordssamtal om automation i mindre verkstäder. "
                 "Tre företag berättar om sina robotceller: vad de kostade, vad de gav och vad de hade gjort "
                 "annorlunda.\n\nSvara på det här meddelandet för att anmäla dig; platserna är begränsade.\n\n"
                 "Välkommen!\nSara Nordin, SIM Mitt"),
        "event": roundtable,
    }, mailings.Selection(filters={"target_group": "yes"}), source=SOURCE)
    offer = Offer.objects.filter(project=project, title_sv="Produktionslyftet").first()
    offer_mailing = mailings.mailing_create(advisor, project, {
        "subject": "Produktionslyftet: nya platser för företag i Jämtland och Västernorrland",
        "body": ("Hej {name},\n\nProduktionslyftet tar in nya företag under våren. Programmet pågår i 18 månader "
                 "med en egen coach i verkstaden. Vill {company} veta mer? Svara på det här meddelandet så ringer "
                 "vi upp.\n\nErik Hansson, SIM Mitt"),
        "offer": offer,
    }, mailings.Selection(filters={"target_group": "yes"}, without_growth_interview=True), source=SOURCE)
    mailings.mailing_create(advisor, project, {
        "subject": "Spara datumet: Industrins dag 2027",
        "body": "Hej {name},\n\nIndustrins dag 2027 hålls i oktober i Östersund. Inbjudan kommer i augusti.",
    }, mailings.Selection(filters={"target_group": "yes"}, legal_bases=["consent"]), source=SOURCE)
    queued = 0
    for mailing in (invitation, offer_mailing):
        # A small demo register may have nobody to send it to: then it stays a draft.
        with suppress(ValidationError):
            queued += mailings.mailing_queue(advisor, mailing, base_url=base_url, source=SOURCE)["queued"]
    # Demo addresses are invented: the messages go to Django's dummy backend, never to a server.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        mailings.send_all()
    sent = list(invitation.recipients.filter(status=MailingRecipient.Status.SENT).select_related("contact")
                .order_by("id"))
    rng.shuffle(sent)
    registering = min(max(2, len(sent) // 5), UPCOMING["capacity"] - 6)
    for recipient in sent[:registering]:
        services.registration_create(advisor, roundtable, {"contact": recipient.contact, "source": f"mailing:{invitation.pk}"},
                                     source=SOURCE)
    rest = [r for r in MailingRecipient.objects.filter(pk__in=[r.pk for r in sent[registering:]]).order_by("id")
            if r.status == MailingRecipient.Status.SENT]
    if rest:
        mailings.mark_bounced(advisor, [rest[0].email], mailing=invitation, source=SOURCE)
    if len(rest) > 1:
        mailings.mark_replied(advisor, rest[1], source=SOURCE)
    if len(rest) > 2:
        mailings.opt_out(rest[2], source=SOURCE)
    return {
        "mailings": 3, "mailing_recipients": MailingRecipient.objects.filter(mailing__project=project).count(),
        "mailing_queued": queued,
        "opted_out_contacts": Contact.objects.filter(opted_out_at__isnull=False).count(),
    }


def write_activities(ctx: DemoContext) -> dict[str, Any]:
    from sim.programmes.models import Project

    rng = ctx.rng("activities")
    today = demo_today()
    sim = Project.objects.get(code=SIM_CODE)
    mitt = Project.objects.get(code=MITT_CODE)
    sim_n, sim_hours = _write_activities(ctx, sim, (dt.date(2019, 2, 1), dt.date(2021, 11, 30)), rng, today)
    mitt_n, mitt_hours = _write_activities(ctx, mitt, (dt.date(2024, 2, 1), today), rng, today)
    sim_pool = _companies_of(ctx, counties=("23",), statuses=("active", "alumni"))
    mitt_pool = _companies_of(ctx, counties=("22", "23"), statuses=("active", "alumni", "prospect"))
    events = _events(len(sim_pool) // 2, len(mitt_pool) // 2)
    registrations = attended = 0
    for project, pool in ((sim, sim_pool), (mitt, mitt_pool)):
        for spec in events[project.code]:
            result = _write_event(ctx, project, spec, pool, rng, today)
            registrations += result["registrations"]
            attended += result["attended"]
    outreach = _write_outreach(ctx, mitt, rng, today)
    counts = {
        "activities": sim_n + mitt_n, "activity_hours": int(sim_hours + mitt_hours),
        "events": len(events[SIM_CODE]) + len(events[MITT_CODE]) + 1, "registrations": registrations + 0,
        "attended": attended, **outreach,
    }
    ctx.counts.update(counts)
    return counts


@demo_step("routing")
def _routing(ctx: DemoContext) -> None:
    write_routing(ctx)


@demo_step("activities")
def _activities(ctx: DemoContext) -> None:
    write_activities(ctx)
    close_sim_project(ctx)
