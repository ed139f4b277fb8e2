"""Hour roll-ups for reporting: by company, focus area, advisor and month, for a project and period."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sim.activities import selectors
from sim.companies.tests.factories import CompanyFactory
from sim.core.roles import Role
from sim.programmes.tests.project_helpers import english, make_project

from .builders import activity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def data(make_user):
    erik = make_user(Role.ADVISOR, username="erik", first_name="Erik", last_name="Hansson")
    sara = make_user(Role.ADVISOR, username="sara", first_name="Sara", last_name="Nordin")
    project = make_project(erik, sara)
    other = make_project(erik)
    alfa, beta = CompanyFactory(name="Alfa AB"), CompanyFactory(name="Beta AB")
    activity(erik, project, alfa, hours="2", date=dt.date(2025, 1, 10), focus="production_efficiency")
    activity(erik, project, alfa, hours="3.5", date=dt.date(2025, 1, 20), focus="financing", advisors=[erik, sara])
    activity(sara, project, beta, hours="1.25", date=dt.date(2025, 2, 3), focus=None, kind="call")
    activity(erik, project, beta, hours="4", date=dt.date(2025, 3, 1), focus="production_efficiency", kind="visit")
    activity(erik, other, alfa, hours="100", date=dt.date(2025, 1, 15))  # another project: never counted
    return {"project": project, "erik": erik, "sara": sara, "alfa": alfa, "beta": beta}


def test_hours_by_company(data):
    rows = selectors.hours_by_company(data["project"])
    assert [(r["name"], r["hours"], r["activities"]) for r in rows] == [
        ("Alfa AB", Decimal("5.5"), 2), ("Beta AB", Decimal("5.25"), 2)]
    in_january = selectors.hours_by_company(data["project"], dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert [(r["name"], r["hours"]) for r in in_january] == [("Alfa AB", Decimal("5.5"))]


def test_hours_by_focus_area_puts_no_area_last(data):
    rows = selectors.hours_by_focus_area(data["project"])
    assert [(r["key"], r["hours"], r["companies"]) for r in rows] == [
        ("financing", Decimal("3.5"), 1), ("production_efficiency", Decimal("6"), 2), (None, Decimal("1.25"), 1)]


def test_hours_by_advisor_counts_each_advisor(data):
    rows = selectors.hours_by_advisor(data["project"])
    assert [(r["username"], r["hours"], r["activities"]) for r in rows] == [
        ("erik", Decimal("9.5"), 3), ("sara", Decimal("4.75"), 2)]
    february = selectors.hours_by_advisor(data["project"], dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert [(r["username"], r["hours"]) for r in february] == [("sara", Decimal("1.25"))]


def test_hours_by_month(data):
    rows = selectors.hours_by_month(data["project"])
    assert [(r["month"], r["hours"], r["companies"]) for r in rows] == [
        (dt.date(2025, 1, 1), Decimal("5.5"), 1), (dt.date(2025, 2, 1), Decimal("1.25"), 1),
        (dt.date(2025, 3, 1), Decimal("4"), 1)]
    assert selectors.hours_total(data["project"]) == {"hours": Decimal("10.75"), "activities": 4, "companies": 2}


def test_rollups_are_single_queries(data):
    for function in (selectors.hours_by_company, selectors.hours_by_focus_area, selectors.hours_by_advisor,
                     selectors.hours_by_month):
        with CaptureQueriesContext(connection) as queries:
            function(data["project"], dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        assert len(queries) == 1, function.__name__


def test_company_hours_and_visibility(data, make_user):
    hours = selectors.company_hours(data["alfa"], [data["project"]])
    assert hours["total"] == {"hours": Decimal("5.5"), "activities": 2}
    outsider = make_user(Role.ADVISOR)
    assert not selectors.activities_visible_to(outsider).exists()
    assert selectors.activities_visible_to(data["sara"]).count() == 4
    assert selectors.activities_visible_to(make_user(Role.ADMIN)).count() == 5
    assert not selectors.activities_visible_to(make_user(Role.COMPANY_REPRESENTATIVE)).exists()
