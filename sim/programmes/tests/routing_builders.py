"""Builders for the routing tests: projects with members, offers, referrals and interventions."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import translation

from sim.programmes.models import (
    FocusArea,
    Intervention,
    InterventionStatus,
    Offer,
    Organisation,
    Project,
    ProjectMembership,
    ProjectPartner,
    Referral,
)

_seq = itertools.count(1)

ANONYMOUS = "anonymous"


def english_settings(settings):
    """Force English (Swedish is the default; the tests read the English source messages)."""
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return translation.override("en")


def make_project(*members, budget: Decimal | None = Decimal("1000000"), code: str | None = None, **kwargs) -> Project:
    n = next(_seq)
    owner, _created = Organisation.objects.get_or_create(name="Region Jämtland Härjedalen", defaults={"kind": "public"})
    project = Project.objects.create(
        code=code or f"proj-{n}", name=kwargs.pop("name", f"Projekt {n}"), start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2027, 12, 31), owner=owner, company_support_budget_sek=budget, **kwargs,
    )
    ProjectPartner.objects.create(project=project, organisation=owner, role=ProjectPartner.Role.OWNER)
    for user in members:
        ProjectMembership.objects.create(project=project, user=user, organisation=owner)
    return project


def add_member(project: Project, user) -> None:
    ProjectMembership.objects.get_or_create(project=project, user=user)


def focus_area(key: str = "production_efficiency") -> FocusArea:
    """A seeded focus area (financing, production_efficiency, service_addition, internationalisation,
    growth_and_competence)."""
    return FocusArea.objects.get(key=key)


def make_offer(project: Project, *, title: str | None = None, focus_areas=(), **kwargs) -> Offer:
    offer = Offer.objects.create(project=project, title_sv=title or f"Erbjudande {next(_seq)}",
                                 title_en=title or "", **kwargs)
    if focus_areas:
        offer.focus_areas.set(focus_areas)
    return offer


def make_referral(project: Project, company, offer: Offer | None = None, *, advisor=None, **kwargs) -> Referral:
    offer = offer or make_offer(project)
    return Referral.objects.create(project=project, company=company, offer=offer, advisor=advisor, **kwargs)


def make_intervention(project: Project, company, *, status: str = InterventionStatus.DRAFT, budget=Decimal("100000"),
                      aid=Decimal("100000"), approved_on: dt.date | None = None, **kwargs) -> Intervention:
    """An intervention as it is stored; an approved (in progress, delivered, closed) state aid with a date of
    approval also gets its granted award in the de minimis ledger, as approval writes it, when the
    exchange-rate table has a rate for that date (tests of de minimis create one)."""
    from sim.programmes.states import INTERVENTION_COMMITTED
    from sim.stateaid.selectors import rate_on_or_before
    from sim.stateaid.tests.factories import ledger_award_for

    intervention = Intervention.objects.create(
        project=project, company=company, title=kwargs.pop("title", f"Insats {next(_seq)}"), status=status,
        budget_sek=budget, aid_amount_sek=aid, approved_on=approved_on, **kwargs,
    )
    if status in INTERVENTION_COMMITTED and approved_on is not None and rate_on_or_before(approved_on) is not None:
        ledger_award_for(intervention)
    return intervention
