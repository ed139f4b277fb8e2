"""The ledger's REST API: who may read the ledger and rates and run the check (per role; a company
representative only their own company), the figures of the check, and clear errors for bad input."""

import datetime as dt
from decimal import Decimal

import pytest

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory, OwnershipLinkFactory
from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings
from sim.stateaid.models import AwardStatus

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db
D = Decimal
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


@pytest.fixture
def world():
    ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=D("10"))
    parent = CompanyFactory(name="Koncernen AB")
    company = CompanyFactory(name="Verkstaden AB")
    OwnershipLinkFactory(holder=parent, held=company, voting_pct=D(100))
    award = AidAwardFactory(undertaking=parent, granted_on=dt.date(2025, 2, 1), amount_eur=D(250000))
    revoked = AidAwardFactory(undertaking=company, granted_on=dt.date(2025, 3, 1), amount_eur=D(5000))
    AidAwardFactory(undertaking=company, status=AwardStatus.REVOKED, reverses=revoked, revoked_on=dt.date(2025, 3, 5))
    represented = CompanyFactory(name="Eget AB")
    own = AidAwardFactory(undertaking=represented)
    return {"parent": parent, "company": company, "award": award, "revoked": revoked, "represented": represented,
            "own": own}


@pytest.fixture
def api(client, make_user, world):
    def login(role):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        client.force_login(user)
        return client

    return login


def check(client, body):
    return client.post("/api/stateaid/check", data=body, content_type="application/json")


# (name, call, roles allowed, status when allowed, status for a company representative)
ENDPOINTS = [
    ("list-awards", lambda c, w: c.get("/api/stateaid/awards"), READERS, 200, 200),
    ("get-award", lambda c, w: c.get(f"/api/stateaid/awards/{w['award'].pk}"), READERS, 200, 404),
    ("list-rates", lambda c, w: c.get("/api/stateaid/rates"), READERS, 200, 403),
    ("check", lambda c, w: check(c, {"company_id": w["company"].pk, "date": "2025-06-01", "amount_sek": "100"}),
     READERS, 200, 403),
]


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "call", "allowed", "ok", "rep"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(api, world, role, name, call, allowed, ok, rep):
    response = call(api(role), world)
    if role == ANONYMOUS:
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code == ok, response.content
    elif role == Role.COMPANY_REPRESENTATIVE:
        assert response.status_code == rep
    else:
        assert response.status_code == 403


def test_the_ledger_with_filters(api, world):
    client = api(Role.AUDITOR)
    items = client.get("/api/stateaid/awards").json()["items"]
    assert len(items) == 4
    by_id = {item["id"]: item for item in items}
    assert by_id[world["award"].pk]["counted"] is True
    assert by_id[world["revoked"].pk]["counted"] is False
    assert by_id[world["award"].pk]["undertaking_org_number"] == world["parent"].org_number_display
    items = client.get("/api/stateaid/awards", {"company_id": world["company"].pk, "status": "revoked"}).json()["items"]
    assert [i["reverses_id"] for i in items] == [world["revoked"].pk]
    assert client.get("/api/stateaid/awards", {"status": "nope"}).status_code == 422
    assert client.get("/api/stateaid/awards/999999").status_code == 404


def test_company_representative_reads_only_their_own_awards(api, world):
    client = api(Role.COMPANY_REPRESENTATIVE)
    assert [i["id"] for i in client.get("/api/stateaid/awards").json()["items"]] == [world["own"].pk]
    assert client.get(f"/api/stateaid/awards/{world['own'].pk}").status_code == 200


def test_the_check_with_its_figures_and_members(api, world):
    client = api(Role.FINANCE_OFFICER)
    body = check(client, {"company_id": world["company"].pk, "date": "2025-06-01", "amount_sek": "500000"}).json()
    assert body["allowed"] is True
    assert (body["regulation"], body["ceiling_eur"], body["used_eur"], body["proposed_eur"], body["headroom_eur"]) == (
        "2023/2831", "300000", "250000.00", "50000.00", "50000.00")
    assert body["window"] == {"from": "2022-06-02", "to": "2025-06-01"}
    assert [m["name"] for m in body["single_undertaking"]] == ["Koncernen AB", "Verkstaden AB"]
    assert [a["award_id"] for a in body["counted_awards"]] == [world["award"].pk]
    assert body["sek_per_eur"] == "10.0000" and body["proposed_sek"] == "500000.00"
    refused = check(client, {"company_id": world["company"].pk, "date": "2025-06-01", "amount_eur": "50000.01"}).json()
    assert refused["allowed"] is False
    assert "would exceed the ceiling by EUR 0.01" in refused["message"]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"company_id": 0, "date": "2025-06-01", "amount_sek": "1"}, 404, "No such company"),
    ({"company_id": "{c}", "date": "2025-06-01"}, 422, "one of them"),
    ({"company_id": "{c}", "date": "2025-06-01", "amount_sek": "1", "amount_eur": "1"}, 422, "one of them"),
    ({"company_id": "{c}", "date": "1999-06-01", "amount_sek": "1"}, 422, "No SEK/EUR exchange rate"),
    ({"company_id": "{c}", "date": "2025-02-30", "amount_sek": "1"}, 422, None),
    ({"company_id": "{c}", "date": "2025-06-01", "amount_sek": "-1"}, 422, None),
])
def test_bad_input_to_the_check(api, world, body, status, detail):
    client = api(Role.FINANCE_OFFICER)
    body = {k: (world["company"].pk if v == "{c}" else v) for k, v in body.items()}
    response = check(client, body)
    assert response.status_code == status, response.content
    if detail:
        assert detail in response.json()["detail"]
