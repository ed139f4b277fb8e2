"""Builders for the budget tests: the SIM seed project with its partners, the seed scenario (16 MSEK,
2019–2020, no ERDF) and the ERDF scenario (32 MSEK, 50 % ERDF, 2019–2021), written through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from django.utils import translation

from sim.finance import services
from sim.finance.models import BudgetScenario
from sim.programmes import services_projects
from sim.programmes.models import Organisation, Project, ProjectPartner
from sim.programmes.tests.project_helpers import make_project, organisation

_seq = itertools.count(1)
ANONYMOUS = "anonymous"
PARTNER = "IUC Z-GROUP"


def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return translation.override("en")


def sim_project(*members, start=dt.date(2019, 1, 1), end=dt.date(2020, 12, 31), **extra) -> Project:
    """A project owned by a region with IUC Z-GROUP as partner; ``members`` work for the owner."""
    project = make_project(start=start, end=end, extended_to=extra.pop("extended_to", dt.date(2021, 12, 31)), **extra)
    services_projects.project_partner_add(None, project, organisation(PARTNER, Organisation.Kind.DEVELOPMENT))
    for user in members:
        services_projects.project_member_add(None, project, user, project.owner)
    return project


def owner(project: Project) -> ProjectPartner:
    return project.partners.get(role=ProjectPartner.Role.OWNER)


def partner(project: Project) -> ProjectPartner:
    return project.partners.get(organisation__name=PARTNER)


def yearly(category: str, amounts: dict[int, int], partner_id: int | None = None) -> list[dict]:
    return [{"category": category, "year": year, "amount": D(amount), "partner": partner_id}
            for year, amount in amounts.items()]


SEED_LINES = {
    "staff": {2019: 2_000_000, 2020: 2_000_000},
    "company_support": {2019: 5_200_000, 2020: 5_200_000},
    "external_services": {2019: 300_000, 2020: 300_000},
    "travel": {2019: 100_000, 2020: 100_000},
    "other": {2019: 100_000, 2020: 100_000},
}
NATIONAL_SOURCES = [
    {"kind": "regional_public", "name": "Region Jämtland Härjedalen", "amount_sek": D(10_000_000)},
    {"kind": "other_public", "name": "Kommunerna", "amount_sek": D(2_000_000)},
    {"kind": "private_cash", "name": "Företagen", "amount_sek": D(3_000_000)},
    {"kind": "private_in_kind", "name": "Företagens timmar", "hours": D(2000)},
]


def seed_scenario(project: Project, *, name: str = "16 MSEK, 2 years, no ERDF", adopt: bool = True,
                  actor=None) -> BudgetScenario:
    """16 MSEK over 2019–2020: staff 4 MSEK (+ 15 % indirect), company support 10.4 MSEK; national financing.

    Staff is budgeted for the partner, everything else for the project (no partner)."""
    scenario = services.scenario_create(actor, project, {
        "name": name, "start_date": dt.date(2019, 1, 1), "end_date": dt.date(2020, 12, 31)})
    lines = []
    for category, amounts in SEED_LINES.items():
        lines += yearly(category, amounts, partner(project).pk if category == "staff" else None)
    services.budget_lines_replace(actor, scenario, lines)
    services.financing_replace(actor, scenario, NATIONAL_SOURCES)
    if adopt:
        services.scenario_adopt(actor, scenario)
    scenario.refresh_from_db()
    return scenario


def erdf_scenario(project: Project, *, name: str = "32 MSEK with 50 % ERDF, 3 years", rate=D(50),
                  actor=None) -> BudgetScenario:
    """The seed doubled with a third year (2021 as large as 2019 and 2020 together), 50 % ERDF."""
    scenario = services.scenario_create(actor, project, {
        "name": name, "start_date": dt.date(2019, 1, 1), "end_date": dt.date(2021, 12, 31)})
    lines = []
    for category, amounts in SEED_LINES.items():
        lines += yearly(category, {**amounts, 2021: 2 * amounts[2019]},
                        partner(project).pk if category == "staff" else None)
    services.budget_lines_replace(actor, scenario, lines)
    services.financing_replace(actor, scenario, [
        {"kind": "erdf", "name": "Tillväxtverket", "rate_pct": rate}, *NATIONAL_SOURCES])
    return scenario
