"""Uniqueness the database itself enforces, with an empty partner or quarter as a value of its own —
on SQLite too, where ``nulls_distinct=False`` would silently not be created."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from sim.competence.models import EducationOffering
from sim.finance.models import BudgetLine, BudgetScenario, CostEntry
from sim.programmes.models import Organisation

from .budget_builders import sim_project

pytestmark = pytest.mark.django_db


def _twice(model, **values):
    model.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**values)


def test_one_budget_line_per_cell_for_the_project_owner_and_the_whole_year():
    project = sim_project()
    scenario = BudgetScenario.objects.create(project=project, name="S", start_date=project.start_date,
                                             end_date=project.end_date)
    _twice(BudgetLine, scenario=scenario, partner=None, category="travel", year=2019, quarter=None, amount_sek=D(5))
    # Another quarter of the same year is another cell.
    BudgetLine.objects.create(scenario=scenario, partner=None, category="travel", year=2019, quarter=1, amount_sek=D(5))


def test_a_voucher_line_without_partner_is_booked_once():
    project = sim_project()
    _twice(CostEntry, project=project, partner=None, voucher="A12", category="travel", amount_sek=D("100.00"),
           date=dt.date(2019, 3, 1), description="Hotel")


def test_one_distance_offering_of_a_name_per_provider():
    provider = Organisation.objects.create(name="Yrkeshögskolan Mitt", kind=Organisation.Kind.EDUCATION)
    _twice(EducationOffering, provider=provider, name="Automationstekniker", kind="yh", municipality=None, distance=True)
