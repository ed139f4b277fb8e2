"""Builders for the actuals tests: a project with an owner and a partner, members, interventions."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone, translation

from sim.companies.tests.factories import CompanyFactory
from sim.finance.models import BudgetScenario, CostEntry, StaffRate
from sim.programmes.models import (
    FocusArea,
    Intervention,
    InterventionStatus,
    Organisation,
    Project,
    ProjectMembership,
    ProjectPartner,
)

_seq = itertools.count(1)
ANONYMOUS = "anonymous"
OWNER = "Region Jämtland Härjedalen"
PARTNER = "IUC Z-GROUP"


def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return translation.override("en")


def make_project(*members, start=dt.date(2024, 1, 1), end=None, code: str | None = None,
                 focus_areas=("production_efficiency", "internationalisation"), **kwargs) -> Project:
    """A project from 2024 that runs on after today (so that "in the future" can be tested)."""
    n = next(_seq)
    end = end or max(dt.date(2027, 6, 30), timezone.localdate() + dt.timedelta(days=400))
    owner, _ = Organisation.objects.get_or_create(name=OWNER, defaults={"kind": "public", "org_number": "2321000206"})
    partner, _ = Organisation.objects.get_or_create(name=PARTNER, defaults={"kind": "development",
                                                                            "org_number": "5565437890"})
    project = Project.objects.create(code=code or f"fin-{n}", name=kwargs.pop("name", f"Projekt {n}"), start_date=start,
                                     end_date=end, owner=owner, **kwargs)
    ProjectPartner.objects.create(project=project, organisation=owner, role=ProjectPartner.Role.OWNER)
    ProjectPartner.objects.create(project=project, organisation=partner, role=ProjectPartner.Role.PARTNER)
    if focus_areas:
        project.focus_areas.set(FocusArea.objects.filter(key__in=focus_areas))
    for user in members:
        add_member(project, user)
    return project


def add_member(project: Project, user, organisation: str = PARTNER) -> None:
    org = Organisation.objects.get(name=organisation)
    ProjectMembership.objects.get_or_create(project=project, user=user, defaults={"organisation": org})


def owner_partner(project: Project) -> ProjectPartner:
    return project.partners.get(role=ProjectPartner.Role.OWNER)


def other_partner(project: Project) -> ProjectPartner:
    return project.partners.get(role=ProjectPartner.Role.PARTNER)


def make_intervention(project: Project, company=None, *, status=InterventionStatus.APPROVED, budget="200000",
                      own_cash="60000", own_hours="80", **kwargs) -> Intervention:
    company = company or CompanyFactory()
    return Intervention.objects.create(
        project=project, company=company, title=kwargs.pop("title", f"Insats {next(_seq)}"), status=status,
        budget_sek=Decimal(budget), own_cash_sek=Decimal(own_cash), own_hours=Decimal(own_hours),
        aid_amount_sek=Decimal(budget) / 2, **kwargs,
    )


def make_rate(project: Project, person, valid_from=dt.date(2024, 1, 1), salary="45000", overhead="51",
              hours="1720", partner=None) -> StaffRate:
    return StaffRate.objects.create(project=project, person=person, valid_from=valid_from,
                                    monthly_salary_sek=Decimal(salary), overhead_pct=Decimal(overhead),
                                    annual_hours=Decimal(hours), partner=partner or other_partner(project))


def make_entry(project: Project, *, voucher=None, amount="1000", category="travel", date=dt.date(2024, 3, 1),
               partner=None, **kwargs) -> CostEntry:
    entry = CostEntry(project=project, partner=partner or owner_partner(project), category=category, date=date,
                      amount_sek=Decimal(amount), voucher=voucher or f"V{next(_seq)}", **kwargs)
    entry.save(force_insert=True)
    return entry


def adopt_scenario(project: Project, rate="500") -> BudgetScenario:
    return BudgetScenario.objects.create(project=project, name=f"Budget {next(_seq)}", start_date=project.start_date,
                                         end_date=project.effective_end, is_adopted=True,
                                         in_kind_hourly_rate_sek=Decimal(rate))
