"""Demo competence needs and education offerings (``sim demo``, step ``competence``).

Registered from :mod:`sim.competence.demo` (imported at its end, so it runs after the step that
loads the default taxonomy). Writes, through the services (audited, source "system"):

* three education providers (invented) with about fifteen offerings linked to occupations of the
  default taxonomy, in Jämtland and Västernorrland or at a distance; the demo user ``utbildare``
  maintains the first provider's offerings;
* competence needs of about forty companies of the county, in the companies' own words, linked to
  a few common occupations so that the demand report shows figures (cells from fewer than three
  companies are suppressed), recorded over the last year.

Random choices come from ``ctx.rng("competence")``: the same seed writes the same demo.
"""

from __future__ import annotations

import datetime as dt

from sim.companies.demo import DemoContext, demo_step
from sim.core.models import AuditEvent

SOURCE = AuditEvent.Source.SYSTEM
BASE = "https://sim-platform.eu/taxonomy/occupation/"
PROVIDER_USER = "utbildare"

#: Occupation (slug of the default taxonomy) → how companies put the need, and a weight.
NEEDS: dict[str, tuple[tuple[str, ...], int]] = {
    "cnc-operator": (("CNC-operatörer", "CNC-operatör till andra skiftet", "operatör CNC-svarv och fräs"), 9),
    "welder-mig-mag": (("svetsare MIG/MAG", "Svetsare, MIG/MAG med certifikat", "MAG-svetsare"), 8),
    "automation-technician": (("automationstekniker PLC", "Automationstekniker", "tekniker för robotcellen"), 7),
    "maintenance-technician": (("underhållstekniker", "Underhållsmekaniker", "reparatör till underhållet"), 6),
    "industrial-electrician": (("industrielektriker", "Elektriker med industrivana"), 5),
    "assembler-mechanical": (("montörer", "Montör till slutmonteringen"), 4),
    "quality-engineer": (("kvalitetsingenjör", "Kvalitetstekniker ISO 9001"), 3),
    "forklift-driver": (("truckförare", "Truckförare med B-behörighet"), 2),
    "design-engineer": (("konstruktör CAD", "Konstruktör SolidWorks"), 2),
}

#: Providers: (name, [(offering, kind, municipality or "", distance, slugs, seats, weeks, description)]).
PROVIDERS = (
    ("Yrkeshögskolan Mitt", (
        ("Automationstekniker", "yh", "2380", False, ("automation-technician",), 30, 80,
         "Tvåårig YH-utbildning i PLC-programmering, robotik och industriell IT."),
        ("Underhållstekniker", "yh", "2281", False, ("maintenance-technician",), 25, 80,
         "Förebyggande och avhjälpande underhåll, mekanik, hydraulik och el."),
        ("CNC-tekniker", "yh", "2380", False, ("cnc-operator",), 24, 40, "CNC-bearbetning, CAM och mätteknik."),
        ("Konstruktör med CAD", "yh", "", True, ("design-engineer",), 35, 80, "Konstruktion i 3D-CAD, på distans."),
        ("Kvalitetstekniker", "yh", "2281", False, ("quality-engineer",), 20, 60, "Kvalitetsledning, statistik och ISO 9001."),
    )),
    ("Vuxenutbildningen i Mitt", (
        ("Svetsutbildning MIG/MAG", "komvux", "2380", False, ("welder-mig-mag",), 12, 20, "Svetsning MIG/MAG med certifiering."),
        ("CNC-operatör", "komvux", "2309", False, ("cnc-operator",), 10, 30, "Grundläggande CNC-svarvning och fräsning."),
        ("Industrielektriker", "komvux", "2281", False, ("industrial-electrician",), 16, 40, "Elinstallation och styrteknik i industrin."),
        ("Montör industri", "komvux", "2380", False, ("assembler-mechanical",), 14, 16, "Montering, ritningsläsning och lean."),
        ("Truckkort A+B", "labour_market", "2380", False, ("forklift-driver",), 0, 1, "Truckutbildning; full till nästa start."),
    )),
    ("Industriakademin Norr AB", (
        ("PLC-programmering för underhåll", "supplier", "", True, ("automation-technician", "maintenance-technician"), None, 3,
         "Kortkurs för anställda: felsökning och programmering av PLC."),
        ("Svetskurs för anställda", "supplier", "2380", False, ("welder-mig-mag",), 8, 2, "Fortbildning i MIG/MAG för anställda svetsare."),
        ("Mätteknik och kvalitet", "supplier", "", True, ("quality-engineer",), 20, 2, "Kvalitetsarbete för operatörer."),
        ("Underhåll i praktiken", "in_house", "2281", False, ("maintenance-technician",), 10, 1, "Kurs hos företaget."),
        ("Robotprogrammering", "supplier", "2380", False, ("automation-technician",), 8, 1, "ABB- och Fanuc-robotar."),
    )),
)


def _start_dates(today: dt.date, index: int) -> list[dt.date]:
    return [today + dt.timedelta(days=30 + 45 * index % 240), today + dt.timedelta(days=400 + 20 * index)]


@demo_step("competence")
def write_competence(ctx: DemoContext) -> None:
    from django.utils import timezone

    from sim.companies.models import Municipality
    from sim.programmes.demo import demo_today
    from sim.programmes.models import Organisation

    from . import services
    from .models import CompetenceNeed, Concept, EducationOffering, ProviderStaff

    today = demo_today()
    concepts = {c.uri.removeprefix(BASE): c for c in Concept.objects.filter(uri__startswith=BASE, active=True)}
    if not all(slug in concepts for slug in NEEDS):
        return  # no default taxonomy: nothing to link to
    rng = ctx.rng("competence")
    offerings = 0
    for name, items in PROVIDERS:
        provider, _created = Organisation.objects.get_or_create(name=name, defaults={"kind": Organisation.Kind.EDUCATION})
        for index, (title, kind, code, distance, slugs, seats, weeks, description) in enumerate(items):
            if EducationOffering.objects.filter(provider=provider, name=title).exists():
                continue
            services.offering_create(
                ctx.actor, provider, name=title, kind=kind, municipality=Municipality.objects.filter(code=code).first() if code else None,
                distance=distance, start_dates=_start_dates(today, index + offerings), length_weeks=weeks, seats=seats,
                description=description, url="", concept_ids=[concepts[slug].pk for slug in slugs], audit_source=SOURCE)
            offerings += 1
    provider_user = ctx.users.get(PROVIDER_USER)
    if provider_user is not None:
        ProviderStaff.objects.get_or_create(user=provider_user, provider=Organisation.objects.get(name=PROVIDERS[0][0]))

    companies = sorted((c for c in ctx.companies.values() if c.municipality_id and c.municipality.county_id in ("23", "22")
                        and c.status != "archived"), key=lambda c: c.org_number)
    chosen = rng.sample(companies, min(40, len(companies)))
    slugs = list(NEEDS)
    weights = [NEEDS[slug][1] for slug in slugs]
    needs = 0
    for company in chosen:
        if CompetenceNeed.objects.filter(company=company).exists():
            continue
        for slug in dict.fromkeys(rng.choices(slugs, weights=weights, k=rng.choice((1, 1, 2, 2, 3)))):
            horizon = rng.choice(("0-6", "6-12", "6-12", "12-36"))
            need = services.need_create(
                ctx.actor, company, text=rng.choice(NEEDS[slug][0]), people=rng.choice((1, 1, 2, 2, 3, 4, 6)),
                kind=rng.choice(("recruit", "recruit", "upskill")), horizon=horizon,
                urgency={"0-6": "high", "6-12": rng.choice(("medium", "high")), "12-36": "low"}[horizon],
                concept_ids=[concepts[slug].pk], source=CompetenceNeed.Source.COMPANY_PAGE, audit_source=SOURCE)
            recorded = dt.datetime.combine(today - dt.timedelta(days=rng.randrange(0, 360)), dt.time(10))
            CompetenceNeed.objects.filter(pk=need.pk).update(created_at=timezone.make_aware(recorded))
            needs += 1
    ctx.counts["competence_needs"] = needs
    ctx.counts["education_offerings"] = offerings
