"""REST API of the actuals: permissions per role, project scoping, and what the endpoints do."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.finance.models import CostEntry, StaffRate, TimeReport
from sim.finance.tests.actuals_builders import (
    ANONYMOUS,
    add_member,
    adopt_scenario,
    english,
    make_entry,
    make_intervention,
    make_project,
    make_rate,
    other_partner,
    owner_partner,
)

D = Decimal
CORPUS = Path(__file__).parent / "cost_corpus"
pytestmark = pytest.mark.django_db

READERS = {Role.ADMIN, Role.FINANCE_OFFICER, Role.PROJECT_MANAGER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.FINANCE_OFFICER}
ALL_ROLES = [*Role, ANONYMOUS]


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def world(make_user):
    project = make_project(code="api-proj")
    advisor = make_user(Role.ADVISOR)
    add_member(project, advisor)
    return {
        "project": project, "advisor": advisor, "entry": make_entry(project, voucher="V1", amount="1000"),
        "rate": make_rate(project, advisor), "intervention": make_intervention(project),
    }


@pytest.fixture
def api(client, make_user, world):
    def login(role, *, member=True):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if member and role != Role.ADMIN:
            add_member(world["project"], user)
        client.force_login(user)
        client.user = user
        return client

    return login


def call(client, method, url, body=None):
    kwargs = {"content_type": "application/json"} if method in ("post", "patch", "put") else {}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, method)(url, **kwargs)


P = "/api/finance/projects/{}"
ENDPOINTS = [
    ("list-costs", "get", lambda w: P.format(w["project"].pk) + "/costs", None, READERS, 200),
    ("get-cost", "get", lambda w: f"/api/finance/costs/{w['entry'].pk}", None, READERS, 200),
    ("create-cost", "post", lambda w: P.format(w["project"].pk) + "/costs",
     lambda w: {"date": "2024-03-01", "voucher": "N1", "category": "travel", "amount_sek": "500"}, WRITERS, 201),
    ("reverse-cost", "post", lambda w: f"/api/finance/costs/{w['entry'].pk}/reverse", lambda w: {"reason": "Fel"},
     WRITERS, 201),
    ("list-rates", "get", lambda w: P.format(w["project"].pk) + "/staff-rates", None, READERS, 200),
    ("create-rate", "post", lambda w: P.format(w["project"].pk) + "/staff-rates",
     lambda w: {"person": w["advisor"].pk, "valid_from": "2025-01-01", "monthly_salary_sek": "47000"}, WRITERS, 201),
    ("update-rate", "patch", lambda w: f"/api/finance/staff-rates/{w['rate'].pk}", lambda w: {"overhead_pct": "50"},
     WRITERS, 200),
    ("list-time", "get", lambda w: P.format(w["project"].pk) + "/time-reports", None, READERS, 200),
    ("save-month", "put", lambda w: P.format(w["project"].pk) + f"/time-reports/{w['advisor'].pk}/2024-03",
     lambda w: {"hours": {"general": "10"}}, WRITERS, 200),
    ("contributions", "get", lambda w: P.format(w["project"].pk) + "/contributions", None, READERS, 200),
    ("actual-costs", "get", lambda w: P.format(w["project"].pk) + "/actual-costs", None, READERS, 200),
]


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "status"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(api, world, role, name, method, url, body, allowed, status):
    client = api(role)
    response = call(client, method, url(world), body(world) if body else None)
    if role == ANONYMOUS:
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code == status, response.content
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "status"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_non_members_get_404(api, world, name, method, url, body, allowed, status):
    client = api(Role.FINANCE_OFFICER, member=False)
    response = call(client, method, url(world), body(world) if body else None)
    assert response.status_code == 404


def test_import_permissions(api, world):
    url = P.format(world["project"].pk) + "/costs/import"
    for role, expected in ((Role.AUDITOR, 403), (Role.PROJECT_MANAGER, 403), (Role.ADVISOR, 403)):
        client = api(role)
        upload = SimpleUploadedFile("c.csv", (CORPUS / "good_utf8_semicolon.csv").read_bytes())
        assert client.post(url, {"file": upload}).status_code == expected
    client = api(Role.FINANCE_OFFICER, member=False)
    upload = SimpleUploadedFile("c.csv", (CORPUS / "good_utf8_semicolon.csv").read_bytes())
    assert client.post(url, {"file": upload}).status_code == 404


def test_import(api, world):
    client = api(Role.FINANCE_OFFICER)
    url = P.format(world["project"].pk) + "/costs/import"
    data = (CORPUS / "good_utf8_semicolon.csv").read_bytes()
    response = client.post(url + "?dry_run=true", {"file": SimpleUploadedFile("c.csv", data)})
    assert response.status_code == 200 and response.json()["created"] == 4 and response.json()["dry_run"] is True
    assert CostEntry.objects.count() == 1
    response = client.post(url, {"file": SimpleUploadedFile("c.csv", data)})
    body = response.json()
    assert response.status_code == 200 and body["created"] == 4 and body["total_sek"] == "15469.50"
    response = client.post(url, {"file": SimpleUploadedFile("c.csv", data)})
    assert response.status_code == 200 and response.json()["already_imported"] is True
    assert CostEntry.objects.count() == 5
    assert set(AuditEvent.objects.filter(object_type="finance.costentry").values_list("source", flat=True)) == {"api"}
    bad = (CORPUS / "bad_amount.csv").read_bytes()
    response = client.post(url, {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"row": 2, "column": "Belopp", "message":
                                            "“tusen” is not an amount (write e.g. 12 500,00 or -1250.50)."}


def test_create_cost_and_reverse(api, world):
    client = api(Role.FINANCE_OFFICER)
    project, intervention = world["project"], world["intervention"]
    response = call(client, "post", P.format(project.pk) + "/costs", {
        "date": "2024-03-01", "voucher": "N2", "category": "company_support", "amount_sek": "75000.00",
        "partner": other_partner(project).pk, "intervention": intervention.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["company_id"] == intervention.company_id and body["partner_name"] == "IUC Z-GROUP"
    assert body["amount_sek"] == "75000.00" and body["reversed_by_id"] is None
    response = call(client, "post", f"/api/finance/costs/{body['id']}/reverse", {"reason": "Fel insats", "voucher": "K1"})
    assert response.status_code == 201 and response.json()["amount_sek"] == "-75000.00"
    assert response.json()["reverses_id"] == body["id"]
    assert client.get(f"/api/finance/costs/{body['id']}").json()["reversed_by_id"] == response.json()["id"]
    response = call(client, "post", f"/api/finance/costs/{body['id']}/reverse", {"reason": "Igen"})
    assert response.status_code == 422 and "already been reversed" in response.json()["detail"]


@pytest.mark.parametrize(("body", "message"), [
    ({"category": "staff"}, "time reports"),
    ({"amount_sek": "0"}, "cannot be zero"),
    ({"partner": 999999}, "not a partner"),
    ({"intervention": 999999}, "no such intervention"),
    ({"company": "123"}, "company:"),
    ({"company": "556036-0793"}, "no company"),
    ({"date": "2019-01-01"}, "outside the project's period"),
])
def test_create_cost_refusals(api, world, body, message):
    client = api(Role.FINANCE_OFFICER)
    payload = {"date": "2024-03-01", "voucher": "N3", "category": "travel", "amount_sek": "500", **body}
    response = call(client, "post", P.format(world["project"].pk) + "/costs", payload)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_list_costs_filters(api, world):
    project = world["project"]
    make_entry(project, voucher="X9", category="equipment", amount="9000", date=dt.date(2024, 6, 1))
    client = api(Role.AUDITOR)
    body = client.get(P.format(project.pk) + "/costs", {"category": "equipment"}).json()
    assert [item["voucher"] for item in body["items"]] == ["X9"]
    body = client.get(P.format(project.pk) + "/costs", {"end": "2024-05-01"}).json()
    assert [item["voucher"] for item in body["items"]] == ["V1"]


def test_staff_rates_and_month(api, world):
    client = api(Role.FINANCE_OFFICER)
    project, advisor = world["project"], world["advisor"]
    rates = client.get(P.format(project.pk) + "/staff-rates").json()
    assert rates[0]["hourly_cost_sek"] == "474.07" and rates[0]["partner_id"] == other_partner(project).pk
    response = call(client, "put", P.format(project.pk) + f"/time-reports/{advisor.pk}/2024-03", {
        "hours": {"production_efficiency": "60", "internationalisation": "20.5", "general": "10"}, "note": "Mars"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 3 and body["hours"] == "90.50" and body["hourly_cost_sek"] == "474.07"
    assert {r["focus_area"] for r in body["reports"]} == {"production_efficiency", "internationalisation", None}
    assert TimeReport.objects.count() == 3
    listing = client.get(P.format(project.pk) + "/time-reports", {"month": "2024-03", "person": advisor.pk}).json()
    assert listing["count"] == 3
    response = call(client, "put", P.format(project.pk) + f"/time-reports/{advisor.pk}/2023-12",
                    {"hours": {"general": "10"}})
    assert response.status_code == 422 and "outside the project's period" in response.json()["detail"]
    response = call(client, "put", P.format(project.pk) + f"/time-reports/{advisor.pk}/2024-04",
                    {"hours": {"fika": "10"}})
    assert response.status_code == 422 and "not a focus area" in response.json()["detail"]
    response = call(client, "put", P.format(project.pk) + f"/time-reports/{advisor.pk}/2024-04",
                    {"hours": {"general": "250"}})
    assert response.status_code == 422 and "more than one person can work" in response.json()["detail"]
    response = call(client, "put", P.format(project.pk) + f"/time-reports/{advisor.pk}/april",
                    {"hours": {"general": "1"}})
    assert response.status_code == 422 and "not a month" in response.json()["detail"]


def test_rate_refusals_and_update(api, world, make_user):
    client = api(Role.FINANCE_OFFICER)
    project = world["project"]
    response = call(client, "post", P.format(project.pk) + "/staff-rates", {
        "person": make_user(Role.ADVISOR).pk, "valid_from": "2025-01-01", "monthly_salary_sek": "47000"})
    assert response.status_code == 422 and "not a member" in response.json()["detail"]
    response = call(client, "post", P.format(project.pk) + "/staff-rates", {
        "person": world["advisor"].pk, "valid_from": "2024-01-01", "monthly_salary_sek": "47000"})
    assert response.status_code == 422 and "already has a staff rate" in response.json()["detail"]
    response = call(client, "patch", f"/api/finance/staff-rates/{world['rate'].pk}",
                    {"monthly_salary_sek": "48000", "partner": owner_partner(project).pk})
    assert response.status_code == 200 and response.json()["hourly_cost_sek"] == "505.67"
    rate = StaffRate.objects.get(pk=world["rate"].pk)
    assert rate.partner == owner_partner(project)


def test_contributions_and_actual_costs(api, world):
    project = world["project"]
    adopt_scenario(project, rate="500")
    client = api(Role.PROJECT_MANAGER)
    body = client.get(P.format(project.pk) + "/contributions").json()
    assert body["cash_sek"] == "60000.00" and body["hours"] == "80.0" and body["hours_value_sek"] == "40000.00"
    assert body["total_sek"] == "100000.00" and len(body["interventions"]) == 1
    rows = client.get(P.format(project.pk) + "/actual-costs", {"by": "category"}).json()
    assert rows == [{"category": "travel", "partner": None, "month": None, "company_specific": None,
                     "amount_sek": "1000.00"}]
    assert client.get(P.format(project.pk) + "/actual-costs", {"by": "colour"}).status_code == 422
