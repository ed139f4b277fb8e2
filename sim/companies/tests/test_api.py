"""The REST API of the register: authentication, permissions, scoping, validation, OpenAPI."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from sim.companies.models import Company, Contact, KeyFigures, OwnershipLink
from sim.companies.tests.factories import (
    CompanyFactory,
    CompanyRepresentativeFactory,
    ContactFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
    make_org_number,
)
from sim.core import services as core_services
from sim.core.models import AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db

BASE = "/api/companies/"
ANONYMOUS = "anonymous"
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


class Api:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, secret: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", **self.headers)

    def patch(self, path, data):
        return self.client.patch(path, data, content_type="application/json", **self.headers)

    def put(self, path, data):
        return self.client.put(path, data, content_type="application/json", **self.headers)


@pytest.fixture
def world():
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    contact = ContactFactory(company=company, name="Karin Lund", notes="Hemlig anteckning.")
    KeyFiguresFactory(company=company, fiscal_year=2024)
    owner = CompanyFactory(name="Ägarbolaget AB")
    OwnershipLinkFactory(holder=owner, held=company)
    represented = CompanyFactory(name="Representerat AB")
    return {"company": company, "contact": contact, "owner": owner, "represented": represented}


@pytest.fixture
def api_for(make_user, world):
    def make(role, **kwargs):
        if role == ANONYMOUS:
            return Api()
        user = make_user(role, **kwargs)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        _token, secret = core_services.api_token_create(user, "test")
        api = Api(secret)
        api.user = user
        return api

    return make


def new_company_payload(**extra):
    return {"org_number": make_org_number(700_001), "name": "Nya Verkstaden AB", "sni_primary": "25.620",
            "municipality": "2380", **extra}


# --- Authentication -------------------------------------------------------------------------


def test_no_credentials_is_401(world):
    response = Client().get(BASE)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required."}
    assert Client().post(BASE, {}, content_type="application/json").status_code == 401


def test_bad_token_is_401(world):
    assert Api("sim_made-up").get(BASE).status_code == 401
    assert Client().get(BASE, HTTP_AUTHORIZATION="Token abc").status_code == 401


def test_token_authentication(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.get(BASE)
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_session_authentication(client, make_user, world):
    client.force_login(make_user(Role.AUDITOR))
    response = client.get(BASE)
    assert response.status_code == 200
    assert {c["name"] for c in response.json()["items"]} == {
        "Storsjöns Mekaniska AB", "Ägarbolaget AB", "Representerat AB",
    }


def test_writes_are_recorded_as_api_changes_by_the_tokens_user(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, new_company_payload())
    assert response.status_code == 201
    event = AuditEvent.objects.get(object_id=str(response.json()["id"]), object_type="companies.company")
    assert (event.action, event.source, event.actor) == ("create", "api", api.user)


# --- Permissions per role -------------------------------------------------------------------


def _company(w):
    return w["company"].pk


ENDPOINTS = [
    ("list", "get", lambda w: BASE, None, READERS | {Role.COMPANY_REPRESENTATIVE}, 200, None),
    ("get", "get", lambda w: f"{BASE}{_company(w)}", None, READERS, 200, 404),
    ("create", "post", lambda w: BASE, lambda: new_company_payload(), WRITERS, 201, 403),
    ("patch", "patch", lambda w: f"{BASE}{_company(w)}", lambda: {"phone": "063-10 20 30"}, WRITERS, 200, 403),
    ("archive", "post", lambda w: f"{BASE}{_company(w)}/archive", None, WRITERS, 200, 403),
    ("key-figures", "get", lambda w: f"{BASE}{_company(w)}/key-figures", None, READERS, 200, 404),
    ("key-figures-put", "put", lambda w: f"{BASE}{_company(w)}/key-figures/2023",
     lambda: {"staff_awu": "3", "turnover_sek": "2000000"}, WRITERS, 200, 403),
    ("ownership", "get", lambda w: f"{BASE}{_company(w)}/ownership", None, READERS, 200, 403),
    ("ownership-post", "post", lambda w: f"{BASE}ownership",
     None, WRITERS, 201, 403),
    ("contacts", "get", lambda w: f"{BASE}{_company(w)}/contacts", None, READERS, 200, 404),
    ("contacts-post", "post", lambda w: f"{BASE}{_company(w)}/contacts",
     lambda: {"name": "Olle Berg", "legal_basis": "legitimate_interest"}, WRITERS, 201, 403),
    ("contacts-patch", "patch", lambda w: f"{BASE}{_company(w)}/contacts/{w['contact'].pk}",
     lambda: {"name": "Karin Lund", "legal_basis": "legitimate_interest", "role": "Vd"}, WRITERS, 200, 403),
]


def _expected(role, allowed, ok, rep_denied):
    if role == ANONYMOUS:
        return 401
    if role in allowed:
        return ok
    if role == Role.COMPANY_REPRESENTATIVE and rep_denied:
        return rep_denied
    return 403


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "ok", "rep_denied"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_access(api_for, world, role, name, method, url, body, allowed, ok, rep_denied):
    api = api_for(role)
    if name == "ownership-post":
        data = {"holder_id": world["owner"].pk, "held_id": world["represented"].pk, "capital_pct": "10",
                "voting_pct": "10"}
    else:
        data = body() if body else None
    path = url(world)
    response = api.get(path) if method == "get" else getattr(api, method)(path, data)
    expected = _expected(role, allowed, ok, rep_denied)
    assert response.status_code == expected, (name, role, response.content)
    if expected == 403:
        assert response.json() == {"detail": "You do not have permission for this."}
    if expected == 404:
        assert "Storsjöns" not in response.content.decode()


@pytest.mark.parametrize("role", sorted(set(Role) - WRITERS), ids=str)
def test_roles_that_may_not_write_change_nothing(api_for, world, role):
    api = api_for(role)
    company = world["company"]
    api.post(BASE, new_company_payload())
    api.patch(f"{BASE}{company.pk}", {"name": "Ändrat AB"})
    api.post(f"{BASE}{company.pk}/archive")
    api.put(f"{BASE}{company.pk}/key-figures/2024", {"staff_awu": "999"})
    api.post(f"{BASE}{company.pk}/contacts", {"name": "Ny", "legal_basis": "legitimate_interest"})
    company.refresh_from_db()
    assert (company.name, company.status) == ("Storsjöns Mekaniska AB", "active")
    assert Company.objects.count() == 3
    assert KeyFigures.objects.get().staff_awu == Decimal("12")
    assert Contact.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_a_representative_reads_their_own_company(api_for, world):
    api = api_for(Role.COMPANY_REPRESENTATIVE)
    own = world["represented"]
    listing = api.get(BASE).json()
    assert listing["count"] == 1
    assert [c["id"] for c in listing["items"]] == [own.pk]
    assert api.get(f"{BASE}{own.pk}").json()["name"] == "Representerat AB"
    assert api.get(f"{BASE}{own.pk}/key-figures").status_code == 200
    ContactFactory(company=own, name="Egen Kontakt", notes="Intern notering")
    contacts = api.get(f"{BASE}{own.pk}/contacts").json()
    assert [c["name"] for c in contacts] == ["Egen Kontakt"]
    assert "notes" not in contacts[0]
    for other in (world["company"], world["owner"]):
        response = api.get(f"{BASE}{other.pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such company."}
    assert api.get(BASE, {"q": "storsjöns", "status": "all"}).json()["count"] == 0


def test_ownership_post_cannot_reach_invisible_companies(api_for, world, make_user):
    api = api_for(Role.ADVISOR)
    response = api.post(f"{BASE}ownership", {"holder_id": world["owner"].pk, "held_id": 999999,
                                             "capital_pct": 10, "voting_pct": 10})
    assert response.status_code == 404


# --- List, filters, pagination --------------------------------------------------------------


def test_list_shape_and_fields(api_for, world):
    api = api_for(Role.ADVISOR)
    body = api.get(BASE, {"q": "storsjöns"}).json()
    assert body["count"] == 1
    (item,) = body["items"]
    company = world["company"]
    assert item["id"] == company.pk
    assert item["org_number"] == company.org_number
    assert item["municipality_code"] == "2380"
    assert item["sni_primary"] == "25620"
    assert item["status"] == "active"
    assert item["merged_into_id"] is None
    assert "search_text" not in item


def test_list_pagination(api_for, world):
    api = api_for(Role.ADVISOR)
    for i in range(4):
        CompanyFactory(name=f"Sida {i} AB")
    first = api.get(BASE, {"q": "sida", "limit": 3}).json()
    assert first["count"] == 4
    assert [c["name"] for c in first["items"]] == ["Sida 0 AB", "Sida 1 AB", "Sida 2 AB"]
    second = api.get(BASE, {"q": "sida", "limit": 3, "offset": 3}).json()
    assert [c["name"] for c in second["items"]] == ["Sida 3 AB"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"municipality": "0180"}, ["Stockholmsbolaget AB"]),
        ({"county": "01"}, ["Stockholmsbolaget AB"]),
        ({"sni": "62"}, ["Stockholmsbolaget AB"]),
        ({"size_class": "micro"}, ["Ägarbolaget AB"]),
        ({"size_class": "unknown", "county": "23"}, ["Representerat AB", "Storsjöns Mekaniska AB"]),
        ({"status": "archived"}, ["Arkiverat AB"]),
        ({"target_group": "yes"}, ["Representerat AB", "Storsjöns Mekaniska AB", "Ägarbolaget AB"]),
        ({"q": "556036-0793"}, ["Stockholmsbolaget AB"]),
        ({"sort": "-name", "county": "23"}, ["Ägarbolaget AB", "Storsjöns Mekaniska AB", "Representerat AB"]),
    ],
)
def test_list_filters(api_for, world, params, expected, settings):
    settings.SIM_TARGET_COUNTIES = ["23"]
    Company.objects.filter(pk=world["owner"].pk).update(size_class="micro")
    CompanyFactory(name="Stockholmsbolaget AB", municipality_id="0180", sni_primary="62010",
                   org_number="5560360793")
    CompanyFactory(name="Arkiverat AB", status="archived")
    api = api_for(Role.ADVISOR)
    assert [c["name"] for c in api.get(BASE, params).json()["items"]] == expected


def test_list_owner_me(api_for, world):
    api = api_for(Role.ADVISOR)
    Company.objects.filter(pk=world["company"].pk).update(owner_advisor=api.user)
    assert [c["name"] for c in api.get(BASE, {"owner": "me"}).json()["items"]] == ["Storsjöns Mekaniska AB"]


# --- Create and change ----------------------------------------------------------------------


def test_create_a_company(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, new_company_payload(org_number=f"16{make_org_number(700_001)}",
                                                  sni_secondary=["33.120"], website="https://nya.se"))
    assert response.status_code == 201
    body = response.json()
    assert body["org_number"] == make_org_number(700_001)
    assert body["sni_primary"] == "25620"
    assert body["sni_secondary"] == ["33120"]
    assert body["municipality_code"] == "2380"
    assert body["legal_form"] == "ab"
    assert body["status"] == "prospect"
    assert Company.objects.get(pk=body["id"]).website == "https://nya.se"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"org_number": "556036-0794"}, "org_number: The check digit (last digit) is wrong"),
        ({"sni_primary": "99999"}, "sni_primary: 99999 is not a code in SNI2007."),
        ({"municipality": "9999"}, "municipality: 9999 is not a Swedish municipality code."),
        ({"status": "archived"}, "status: Use archive to archive a company."),
        ({"email": "not-an-address"}, "email:"),
        ({"owner_advisor": 999999}, "owner_advisor: no such active user."),
    ],
)
def test_create_validation_errors_are_422_with_a_clear_message(api_for, world, payload, message):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, new_company_payload(**payload))
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert not Company.objects.filter(name="Nya Verkstaden AB").exists()


def test_create_refuses_a_duplicate_in_another_format(api_for, world):
    api = api_for(Role.ADVISOR)
    number = world["company"].org_number
    response = api.post(BASE, new_company_payload(org_number=f"16{number[:6]}-{number[6:]}"))
    assert response.status_code == 422
    assert "is already in the register" in response.json()["detail"]


def test_create_with_missing_fields_is_422(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, {"org_number": make_org_number(700_001)})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert any(error["loc"][-1] == "name" for error in body["errors"])


def test_patch_changes_only_the_given_fields(api_for, world):
    api = api_for(Role.ADVISOR)
    company = world["company"]
    response = api.patch(f"{BASE}{company.pk}", {"website": "https://storsjons.se", "growth_ambition": True})
    assert response.status_code == 200
    assert response.json()["website"] == "https://storsjons.se"
    company.refresh_from_db()
    assert company.website == "https://storsjons.se"
    assert company.growth_ambition is True
    assert company.name == "Storsjöns Mekaniska AB"
    event = AuditEvent.objects.get(action="update", object_id=str(company.pk))
    assert set(event.changes) == {"website", "growth_ambition"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": None}, "name: A company needs a name."),
        ({"sni_primary": "99999"}, "sni_primary: 99999 is not a code in SNI2007."),
        ({"status": "archived"}, "status: Use archive"),
        ({"website": "nonsense"}, "website:"),
    ],
)
def test_patch_validation_errors_are_422(api_for, world, payload, message):
    api = api_for(Role.ADVISOR)
    response = api.patch(f"{BASE}{world['company'].pk}", payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_patch_cannot_reactivate_an_archived_company(api_for, world):
    api = api_for(Role.ADVISOR)
    company = world["company"]
    assert api.post(f"{BASE}{company.pk}/archive?reason=Upph%C3%B6rt").json()["status"] == "archived"
    assert AuditEvent.objects.get(action="archive").message == "Upphört"
    response = api.patch(f"{BASE}{company.pk}", {"status": "active"})
    assert response.status_code == 422
    company.refresh_from_db()
    assert company.status == "archived" and company.archived_at is not None


def test_patch_of_an_unknown_company_is_404(api_for, world):
    assert api_for(Role.ADVISOR).patch(f"{BASE}999999", {"phone": "1"}).status_code == 404


# --- Key figures ----------------------------------------------------------------------------


def test_put_key_figures_creates_and_updates_and_classifies(api_for, world):
    api = api_for(Role.ADVISOR)
    company = world["represented"]
    url = f"{BASE}{company.pk}/key-figures/2024"
    response = api.put(url, {"staff_awu": "8", "turnover_sek": "15000000", "balance_sheet_sek": "9000000",
                             "source": "Årsredovisning"})
    assert response.status_code == 200
    body = response.json()
    assert (body["fiscal_year"], body["source"], body["estimated"]) == (2024, "Årsredovisning", False)
    assert Decimal(body["staff_awu"]) == 8
    assert Decimal(body["turnover_sek"]) == 15_000_000
    assert Decimal(body["balance_sheet_sek"]) == 9_000_000
    assert api.get(f"{BASE}{company.pk}").json()["size_class"] == "micro"
    response = api.put(url, {"staff_awu": "60", "turnover_sek": "200000000", "balance_sheet_sek": "200000000"})
    assert response.status_code == 200
    assert KeyFigures.objects.get(company=company, fiscal_year=2024).staff_awu == Decimal("60")
    assert api.get(f"{BASE}{company.pk}").json()["size_class"] == "medium"
    years = api.get(f"{BASE}{company.pk}/key-figures").json()
    assert [y["fiscal_year"] for y in years] == [2024]


@pytest.mark.parametrize(
    ("year", "payload"),
    [(2024, {"staff_awu": "-1"}), (1800, {"staff_awu": "1"}), (2024, {"turnover_sek": "lots"})],
)
def test_put_key_figures_validation(api_for, world, year, payload):
    api = api_for(Role.ADVISOR)
    response = api.put(f"{BASE}{world['represented'].pk}/key-figures/{year}", payload)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert not KeyFigures.objects.filter(company=world["represented"]).exists()


# --- Ownership ------------------------------------------------------------------------------


def test_post_ownership_and_list_it(api_for, world):
    api = api_for(Role.ADVISOR)
    holder, held = world["owner"], world["represented"]
    response = api.post(f"{BASE}ownership", {"holder_id": holder.pk, "held_id": held.pk, "capital_pct": "60",
                                             "voting_pct": "60", "controls": True, "source": "Bolagsverket"})
    assert response.status_code == 201
    body = response.json()
    assert (body["holder_id"], body["held_id"], body["controls"], body["source"]) == (
        holder.pk, held.pk, True, "Bolagsverket")
    assert OwnershipLink.objects.filter(holder=holder, held=held).exists()
    listed = api.get(f"{BASE}{held.pk}/ownership").json()
    assert [(o["holder_id"], o["held_id"]) for o in listed] == [(holder.pk, held.pk)]
    assert len(api.get(f"{BASE}{holder.pk}/ownership").json()) == 2  # owns two companies now


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"capital_pct": "101"}, 422), ({"voting_pct": "-1"}, 422), ({"same": True}, 422)],
)
def test_post_ownership_validation(api_for, world, payload, status):
    api = api_for(Role.ADVISOR)
    data = {"holder_id": world["owner"].pk, "held_id": world["represented"].pk, "capital_pct": "10",
            "voting_pct": "10"}
    if payload.pop("same", False):
        data["held_id"] = data["holder_id"]
    data.update(payload)
    response = api.post(f"{BASE}ownership", data)
    assert response.status_code == status
    assert not OwnershipLink.objects.filter(holder=world["owner"], held=world["represented"]).exists()


# --- Contacts -------------------------------------------------------------------------------


def test_contacts_notes_only_for_roles_that_may_read_them(api_for, world):
    url = f"{BASE}{world['company'].pk}/contacts"
    advisor = api_for(Role.ADVISOR).get(url).json()
    assert advisor[0]["name"] == "Karin Lund"
    assert advisor[0]["notes"] == "Hemlig anteckning."
    auditor = api_for(Role.AUDITOR).get(url).json()
    assert auditor[0]["name"] == "Karin Lund"
    assert "notes" not in auditor[0]


def test_create_a_contact(api_for, world):
    api = api_for(Role.ADVISOR)
    url = f"{BASE}{world['company'].pk}/contacts"
    response = api.post(url, {"name": "Olle Berg", "legal_basis": "consent"})
    assert response.status_code == 422
    assert "consent_date: Consent needs the date it was given." in response.json()["detail"]
    response = api.post(url, {"name": "Olle Berg", "legal_basis": "consent", "consent_date": "2025-01-15",
                              "email": "olle@exempel.se", "notes": "Träffades på mässan."})
    assert response.status_code == 201
    body = response.json()
    assert body["consent_date"] == "2025-01-15"
    assert body["notes"] == "Träffades på mässan."
    assert body["archived"] is False and body["erased"] is False
    contact = Contact.objects.get(pk=body["id"])
    assert contact.company_id == world["company"].pk
    assert contact.consent_date == dt.date(2025, 1, 15)


def test_create_a_contact_with_a_bad_legal_basis(api_for, world):
    response = api_for(Role.ADVISOR).post(f"{BASE}{world['company'].pk}/contacts",
                                          {"name": "Olle", "legal_basis": "whim"})
    assert response.status_code == 422
    assert "legal_basis" in response.json()["detail"]


def test_patch_a_contact_partially(api_for, world):
    api = api_for(Role.ADVISOR)
    contact = world["contact"]
    response = api.patch(f"{BASE}{world['company'].pk}/contacts/{contact.pk}", {"phone": "070-111 22 33"})
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "070-111 22 33"
    contact.refresh_from_db()
    assert contact.phone == "070-111 22 33"
    assert contact.name == "Karin Lund"
    assert contact.notes == "Hemlig anteckning."


def test_patch_a_contact_of_another_company_is_404(api_for, world):
    api = api_for(Role.ADVISOR)
    other = ContactFactory()
    response = api.patch(f"{BASE}{world['company'].pk}/contacts/{other.pk}",
                         {"name": "X", "legal_basis": "legitimate_interest"})
    assert response.status_code == 404


def test_patch_an_erased_contact_is_422(api_for, world, make_user):
    from sim.companies import services

    services.contact_erase(make_user(Role.ADMIN), world["contact"])
    api = api_for(Role.ADVISOR)
    response = api.patch(f"{BASE}{world['company'].pk}/contacts/{world['contact'].pk}",
                         {"name": "Karin Lund", "legal_basis": "legitimate_interest"})
    assert response.status_code == 422
    assert "erased" in response.json()["detail"]


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "SIM platform API"
    paths = spec["paths"]
    expected = {
        "/api/companies/": {"get", "post"},
        "/api/companies/{company_id}": {"get", "patch"},
        "/api/companies/{company_id}/archive": {"post"},
        "/api/companies/{company_id}/key-figures": {"get"},
        "/api/companies/{company_id}/key-figures/{fiscal_year}": {"put"},
        "/api/companies/{company_id}/ownership": {"get"},
        "/api/companies/ownership": {"post"},
        "/api/companies/{company_id}/contacts": {"get", "post"},
        "/api/companies/{company_id}/contacts/{contact_id}": {"patch"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    schemes = spec["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"

    # Every operation is described and secured, and every reference resolves.
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    assert value.startswith("#/components/schemas/")
                    assert value.rsplit("/", 1)[1] in spec["components"]["schemas"], value
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), (path, method)
            assert operation["responses"], (path, method)
            assert {"TokenAuth": []} in operation["security"], (path, method)
            assert operation["operationId"]
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    company_out = spec["components"]["schemas"]["CompanyOut"]["properties"]
    assert "org_number" in company_out and "municipality_code" in company_out


def test_api_docs_render(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/api/openapi.json" in html
