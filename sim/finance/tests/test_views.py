"""Budget pages: permissions per role, project scoping, the budget grid (per cell with HTMX and the
whole form without), the financing plan, adopting and copying, comparison and the dashboard."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse

from sim.core.roles import Role
from sim.finance import selectors
from sim.finance.models import BudgetLine, BudgetScenario, CostEntry, FinancingSource
from sim.programmes.models import ProjectMembership

from .budget_builders import ANONYMOUS, english, erdf_scenario, partner, seed_scenario, sim_project

pytestmark = pytest.mark.django_db

ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR}
EDITORS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER}
STAFF = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def world():
    project = sim_project()
    seed = seed_scenario(project)
    erdf = erdf_scenario(project)
    return {"project": project, "seed": seed, "erdf": erdf, "source": erdf.financing.get(kind="erdf")}


@pytest.fixture
def login(client, make_user, world):
    def log_in(role, *, member=True):
        if role == ANONYMOUS:
            client.user = None
            return client
        user = make_user(role)
        if member and role in STAFF and role != Role.ADMIN:
            ProjectMembership.objects.create(project=world["project"], user=user)
        client.force_login(user)
        client.user = user
        return client

    return log_in


# (name, method, url, data, roles allowed, status when allowed)
PAGES = [
    ("home", "get", lambda w: reverse("finance:home"), None, READERS, 302),
    ("dashboard", "get", lambda w: reverse("finance:dashboard", args=[w["project"].pk]), None, READERS, 200),
    ("scenario-list", "get", lambda w: reverse("finance:scenario-list", args=[w["project"].pk]), None, READERS, 200),
    ("compare", "get", lambda w: reverse("finance:scenario-compare", args=[w["project"].pk]), None, READERS, 200),
    ("scenario-detail", "get", lambda w: reverse("finance:scenario-detail", args=[w["erdf"].pk]), None, READERS, 200),
    ("financing", "get", lambda w: reverse("finance:financing-edit", args=[w["erdf"].pk]), None, READERS, 200),
    ("scenario-create", "get", lambda w: reverse("finance:scenario-create", args=[w["project"].pk]), None, EDITORS, 200),
    ("scenario-edit", "get", lambda w: reverse("finance:scenario-edit", args=[w["erdf"].pk]), None, EDITORS, 200),
    ("scenario-copy", "get", lambda w: reverse("finance:scenario-copy", args=[w["erdf"].pk]), None, EDITORS, 200),
    ("budget-edit", "get", lambda w: reverse("finance:budget-edit", args=[w["erdf"].pk]), None, EDITORS, 200),
    ("budget-cell", "post", lambda w: reverse("finance:budget-cell", args=[w["erdf"].pk]),
     lambda w: {"cell": "c-travel-2021-0", "c-travel-2021-0": "1", "partner": "none", "by": "year"}, EDITORS, 302),
    ("financing-add", "post", lambda w: reverse("finance:financing-edit", args=[w["erdf"].pk]),
     lambda w: {"kind": "private_cash", "amount_sek": "1"}, EDITORS, 302),
    ("financing-source-edit", "get",
     lambda w: reverse("finance:financing-source-edit", args=[w["erdf"].pk, w["source"].pk]), None, EDITORS, 200),
    ("financing-source-delete", "post",
     lambda w: reverse("finance:financing-source-delete", args=[w["erdf"].pk, w["source"].pk]), None, EDITORS, 302),
    ("scenario-adopt", "post", lambda w: reverse("finance:scenario-adopt", args=[w["erdf"].pk]), None, EDITORS, 302),
    ("scenario-delete", "post", lambda w: reverse("finance:scenario-delete", args=[w["erdf"].pk]), None, EDITORS, 302),
]


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "data", "allowed", "ok"), PAGES, ids=[p[0] for p in PAGES])
def test_permissions_per_role(login, world, role, name, method, url, data, allowed, ok):
    client = login(role)
    response = getattr(client, method)(url(world), data(world) if data else None)
    if role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == ok, response.content[:500]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("name", "method", "url", "data", "allowed", "ok"), [p for p in PAGES if p[0] != "home"],
                         ids=[p[0] for p in PAGES if p[0] != "home"])
def test_other_projects_do_not_exist_for_you(login, world, name, method, url, data, allowed, ok):
    client = login(Role.FINANCE_OFFICER, member=False)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert response.status_code == 404
    assert BudgetScenario.objects.filter(pk=world["erdf"].pk).exists()


def test_nav_link_for_finance_roles_only(login):
    assert b'href="/finance/"' in login(Role.AUDITOR).get("/").content
    assert b'href="/finance/"' not in login(Role.ADVISOR).get("/").content


def test_home_goes_to_the_current_projects_dashboard(login, world):
    response = login(Role.FINANCE_OFFICER).get(reverse("finance:home"))
    assert response["Location"] == reverse("finance:dashboard", args=[world["project"].pk])


def test_home_without_a_project(client, make_user):
    client.force_login(make_user(Role.FINANCE_OFFICER))
    response = client.get(reverse("finance:home"))
    assert response.status_code == 200 and b"You do not work in any project yet" in response.content


# --- The dashboard -------------------------------------------------------------------------------


def test_dashboard_shows_figures_charts_and_tables(login, world):
    project = world["project"]
    CostEntry.objects.create(project=project, category="travel", date=dt.date(2019, 2, 1), amount_sek=D(150_000),
                             voucher="T1")
    response = login(Role.AUDITOR).get(reverse("finance:dashboard", args=[project.pk]), {"as_of": "2019-05-10"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "16 MSEK, 2 years, no ERDF" in html and "adopted budget" in html
    assert 'id="key-budget">16,000,000 SEK' in html
    assert "Travel will be overspent" in html and "finance-overspent" in html
    assert html.count('role="img"') == 2  # the bar and the line chart, each with tables of figures
    assert 'id="finance-by-category"' in html and 'id="finance-cumulative"' in html
    assert "<caption>Budget, actual and forecast per cost category</caption>" in html
    assert "Edit the budget" not in html  # the auditor reads


def test_dashboard_of_another_scenario_and_bad_input(login, world):
    client = login(Role.PROJECT_MANAGER)
    url = reverse("finance:dashboard", args=[world["project"].pk])
    response = client.get(url, {"scenario": world["erdf"].pk, "as_of": "yesterday", "window": "99"})
    html = response.content.decode()
    assert response.status_code == 200 and "32 MSEK with 50 % ERDF" in html and "not the adopted budget" in html
    assert "yesterday is not a date" in html
    assert response.context["dash"].window == 3
    assert client.get(url, {"scenario": "999999"}).status_code == 404
    other = erdf_scenario(sim_project(), name="Elsewhere")
    assert client.get(url, {"scenario": other.pk}).status_code == 404


def test_dashboard_without_an_adopted_scenario(login):
    project = sim_project()
    erdf_scenario(project)
    client = login(Role.FINANCE_OFFICER)
    project.memberships.create(user=client.user)
    response = client.get(reverse("finance:dashboard", args=[project.pk]))
    assert response.status_code == 200
    assert b"The project has no adopted budget yet" in response.content
    assert b"dashboard of this scenario" in response.content


# --- Scenarios -----------------------------------------------------------------------------------


def test_create_a_scenario_with_a_decimal_comma(login, world):
    client = login(Role.PROJECT_MANAGER)
    response = client.post(reverse("finance:scenario-create", args=[world["project"].pk]), {
        "name": "Liten", "start_date": "2019-01-01", "end_date": "2019-12-31", "indirect_rate_pct": "12,5",
        "company_share_target_pct": "60", "advisor_company_facing_pct": "70", "in_kind_hourly_rate_sek": "450"})
    scenario = BudgetScenario.objects.get(name="Liten")
    assert response["Location"] == reverse("finance:budget-edit", args=[scenario.pk])
    assert scenario.indirect_rate_pct == D("12.5") and scenario.created_by == client.user


def test_create_refused_shows_errors(login, world):
    response = login(Role.PROJECT_MANAGER).post(reverse("finance:scenario-create", args=[world["project"].pk]), {
        "name": world["seed"].name, "start_date": "2020-01-01", "end_date": "2019-12-31", "indirect_rate_pct": "15",
        "company_share_target_pct": "60", "advisor_company_facing_pct": "70", "in_kind_hourly_rate_sek": "500"})
    html = response.content.decode()
    assert response.status_code == 200 and "error-summary" in html
    assert "already has a scenario called" in html and "cannot end before it starts" in html


def test_edit_copy_adopt_and_delete(login, world):
    client = login(Role.FINANCE_OFFICER)
    erdf = world["erdf"]
    response = client.post(reverse("finance:scenario-edit", args=[erdf.pk]), {
        "name": erdf.name, "description": "Med ERUF", "start_date": "2019-01-01", "end_date": "2021-12-31",
        "indirect_rate_pct": "15", "company_share_target_pct": "65", "advisor_company_facing_pct": "70",
        "in_kind_hourly_rate_sek": "500"})
    assert response.status_code == 302
    erdf.refresh_from_db()
    assert erdf.company_share_target_pct == 65 and erdf.description == "Med ERUF"
    response = client.post(reverse("finance:scenario-copy", args=[erdf.pk]), {
        "name": "ERUF 4 år", "start_date": "2019-01-01", "end_date": "2022-12-31"})
    copy = BudgetScenario.objects.get(name="ERUF 4 år")
    assert response["Location"] == reverse("finance:scenario-detail", args=[copy.pk])
    assert copy.lines.count() == erdf.lines.count()
    response = client.post(reverse("finance:scenario-adopt", args=[copy.pk]), follow=True)
    assert b"is now the project&#x27;s adopted budget" in response.content
    assert list(BudgetScenario.objects.filter(is_adopted=True)) == [copy]
    response = client.post(reverse("finance:scenario-delete", args=[copy.pk]), follow=True)
    assert b"cannot be deleted" in response.content
    response = client.post(reverse("finance:scenario-delete", args=[world["seed"].pk]), follow=True)
    assert b"was deleted" in response.content and not BudgetScenario.objects.filter(pk=world["seed"].pk).exists()


def test_adopting_an_unbalanced_plan_is_refused_with_the_difference(login, world):
    low = erdf_scenario(world["project"], name="40 %", rate=D(40))
    response = login(Role.PROJECT_MANAGER).post(reverse("finance:scenario-adopt", args=[low.pk]), follow=True)
    assert b"3,200,000.00 short of the budget" in response.content
    low.refresh_from_db()
    assert not low.is_adopted


def test_scenario_page_and_list(login, world):
    client = login(Role.AUDITOR)
    html = client.get(reverse("finance:scenario-detail", args=[world["erdf"].pk])).content.decode()
    assert "16,000,000.00" in html  # the ERDF's amount from its 50 % rate
    assert "50 % of the eligible budget" in html and "The financing plan balances" in html
    assert "Adopt as the budget" not in html and "Delete" not in html
    html = client.get(reverse("finance:scenario-list", args=[world["project"].pk])).content.decode()
    assert html.count("balances") == 2 and "32,000,000" in html


def test_compare_scenarios_side_by_side(login, world):
    client = login(Role.AUDITOR)
    url = reverse("finance:scenario-compare", args=[world["project"].pk])
    html = client.get(url).content.decode()
    for text in ("16 MSEK, 2 years, no ERDF", "32 MSEK with 50 % ERDF, 3 years", "16,000,000", "32,000,000",
                 "13,200,000", "26,400,000", "(50.0 %)", "2021"):
        assert text in html
    response = client.get(url, {"s": [world["seed"].pk]})
    assert [s.scenario for s in response.context["comparison"].summaries] == [world["seed"]]


# --- The budget grid -----------------------------------------------------------------------------


def grid_url(scenario, **params):
    return reverse("finance:budget-edit", args=[scenario.pk]), params


def test_grid_shows_cells_indirect_and_totals(login, world):
    url, params = grid_url(world["erdf"], partner=partner(world["project"]).pk)
    html = login(Role.PROJECT_MANAGER).get(url, params).content.decode()
    assert 'name="c-staff-2019-0"' in html and 'value="2000000"' in html
    assert '<label class="visually-hidden" for="in-c-staff-2019-0">Staff, 2019</label>' in html
    assert re.search(r'id="indirect-2021-0">600,000</td>', html)
    assert re.search(r'id="grid-total">9,200,000</td>', html)
    assert "Scenario budget, all partners: 32,000,000 SEK" in html
    html = login(Role.PROJECT_MANAGER).get(url, {**params, "by": "quarter"}).content.decode()
    assert "2019 whole year" in html and 'name="c-staff-2019-3"' in html


def test_grid_form_saves_changed_cells_without_javascript(login, world):
    erdf = world["erdf"]
    client = login(Role.FINANCE_OFFICER)
    url = reverse("finance:budget-edit", args=[erdf.pk])
    response = client.post(url, {"partner": "none", "by": "year", "c-travel-2019-0": "150 000", "c-equipment-2020-0": "2,5",
                                 "c-other-2019-0": ""})
    assert response.status_code == 302 and "partner=none" in response["Location"]
    lines = {(x.category, x.year): x.amount_sek for x in BudgetLine.objects.filter(scenario=erdf, partner=None)}
    assert lines[("travel", 2019)] == D(150_000) and lines[("equipment", 2020)] == D("2.5")
    assert ("other", 2019) not in lines  # cleared


def test_grid_form_refuses_all_when_a_cell_is_wrong(login, world):
    erdf = world["erdf"]
    before = list(BudgetLine.objects.filter(scenario=erdf).values_list("pk", "amount_sek"))
    response = login(Role.FINANCE_OFFICER).post(reverse("finance:budget-edit", args=[erdf.pk]), {
        "partner": "none", "by": "year", "c-travel-2019-0": "abc", "c-other-2019-0": "5"})
    html = response.content.decode()
    assert response.status_code == 422 and "Nothing was saved" in html
    assert 'value="abc"' in html and 'aria-invalid="true"' in html and 'value="5"' in html
    assert list(BudgetLine.objects.filter(scenario=erdf).values_list("pk", "amount_sek")) == before
    # A service refusal (whole year and quarters) is shown by the cell too.
    response = login(Role.FINANCE_OFFICER).post(reverse("finance:budget-edit", args=[erdf.pk]), {
        "partner": "none", "by": "quarter", "c-travel-2019-1": "5"})
    assert response.status_code == 422 and b"budgeted for the whole year" in response.content


def test_cell_saves_with_htmx_and_returns_totals_out_of_band(login, world):
    erdf = world["erdf"]
    client = login(Role.PROJECT_MANAGER)
    response = client.post(reverse("finance:budget-cell", args=[erdf.pk]),
                           {"partner": "none", "by": "year", "c-equipment-2021-0": "1 000 000", "c-travel-2019-0": "9"},
                           HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="c-equipment-2021-0")
    html = response.content.decode()
    assert response.status_code == 200
    assert BudgetLine.objects.get(scenario=erdf, category="equipment").amount_sek == D(1_000_000)
    assert not BudgetLine.objects.filter(scenario=erdf, category="travel", year=2019, amount_sek=9).exists()
    assert html.startswith('<td class="num budget-cell" id="td-c-equipment-2021-0">')
    assert 'id="row-total-equipment" hx-swap-oob="true">1,000,000</td>' in html
    assert 'id="col-total-2021-0" hx-swap-oob="true">' in html and 'id="budget-partner-totals"' in html
    assert "Saved: Equipment, 2021" in html and "33,000,000 SEK" in html


def test_cell_error_with_htmx_and_without(login, world):
    erdf = world["erdf"]
    client = login(Role.PROJECT_MANAGER)
    url = reverse("finance:budget-cell", args=[erdf.pk])
    response = client.post(url, {"partner": "none", "by": "year", "c-travel-2030-0": "5"},
                           HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="c-travel-2030-0")
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    response = client.post(url, {"partner": "none", "by": "year", "c-travel-2019-0": "-5"},
                           HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="c-travel-2019-0")
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "cannot be negative" in html and 'value="-5"' in html
    assert "Not saved: Travel, 2019" in html
    assert client.post(url, {"c-travel-2019-0": "5"}, HTTP_HX_REQUEST="true").status_code == 400
    response = client.post(url, {"cell": "c-travel-2019-0", "c-travel-2019-0": "x", "partner": "none"}, follow=True)
    assert b"Enter a number" in response.content
    assert client.post(url, {"cell": "c-travel-2019-0", "c-travel-2019-0": "1", "partner": "99999"}).status_code == 404


# --- Financing -----------------------------------------------------------------------------------


def test_financing_page_adds_edits_and_removes_sources(login, world):
    erdf = world["erdf"]
    client = login(Role.FINANCE_OFFICER)
    url = reverse("finance:financing-edit", args=[erdf.pk])
    response = client.post(url, {"kind": "private_cash", "name": "Bank", "amount_sek": "100 000"}, follow=True)
    html = response.content.decode()
    assert "The source was added." in html and "exceeds the budget by SEK 100,000.00" in html
    bank = FinancingSource.objects.get(name="Bank")
    response = client.post(reverse("finance:financing-source-edit", args=[erdf.pk, bank.pk]),
                           {"kind": "private_cash", "name": "Bank", "amount_sek": "", "rate_pct": "1"}, follow=True)
    assert b"exceeds the budget by SEK 320,000.00" in response.content
    response = client.post(reverse("finance:financing-source-delete", args=[erdf.pk, bank.pk]), follow=True)
    assert b"The financing plan balances" in response.content
    response = client.post(url, {"kind": "private_cash", "amount_sek": "1", "rate_pct": "1"})
    assert response.status_code == 200 and b"Give exactly one of" in response.content
    response = client.post(url, {"kind": "regional_public", "hours": "10"})
    assert b"Hours are for private contributions in kind" in response.content
    assert selectors.scenario_summary(erdf).balance.balanced
