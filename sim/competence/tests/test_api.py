"""REST endpoints: permissions per role, scoping, validation, and the anonymised demand picture."""

from __future__ import annotations

import pytest
from django.test import Client

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.competence import services
from sim.competence.models import CompetenceNeed
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import companies_with_needs, provider_with_staff
from sim.core import services as core_services
from sim.core.roles import Role

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english
ANONYMOUS = "anonymous"
STAFF = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}


class Api:
    def __init__(self, secret=None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path, params=None):
        return self.client.get(f"/api/competence{path}", params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(f"/api/competence{path}", data or {}, content_type="application/json", **self.headers)


@pytest.fixture
def world(make_user, concepts):
    advisor = make_user(Role.ADVISOR)
    companies = companies_with_needs(advisor, concepts["welder"], 3, people=2)
    companies_with_needs(advisor, concepts["plc"], 1, people=9)
    provider = provider_with_staff(None)
    services.offering_create(advisor, provider, name="Svets", kind="komvux", distance=True, concept_ids=[concepts["welder"].pk])
    return {"company": companies[0], "companies": companies, "provider": provider}


@pytest.fixture
def api_for(make_user, world):
    def make(role):
        if role == ANONYMOUS:
            return Api()
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(company=world["company"], user=user)
        _token, secret = core_services.api_token_create(user, "test")
        return Api(secret)

    return make


def _expected(role, allowed, ok=200):
    return 401 if role == ANONYMOUS else (ok if role in allowed else 403)


@pytest.mark.parametrize("role", [ANONYMOUS, *Role])
def test_reading_per_role(api_for, world, role):
    api = api_for(role)
    company = world["company"].pk
    needs = api.get(f"/companies/{company}/needs/")
    readers = STAFF | {Role.AUDITOR, Role.COMPANY_REPRESENTATIVE}
    assert needs.status_code == _expected(role, readers)
    assert api.get("/demand/").status_code == _expected(role, STAFF | {Role.AUDITOR, Role.EDUCATION_PROVIDER})
    assert api.get("/offerings/").status_code == _expected(role, readers | {Role.EDUCATION_PROVIDER})
    assert api.get("/suggestions/", {"text": "svetsare"}).status_code == _expected(
        role, STAFF | {Role.COMPANY_REPRESENTATIVE, Role.EDUCATION_PROVIDER})


@pytest.mark.parametrize("role", [ANONYMOUS, *Role])
def test_creating_a_need_per_role(api_for, world, concepts, role):
    response = api_for(role).post(f"/companies/{world['company'].pk}/needs/",
                                  {"text": "CNC-operatör", "people": 2, "concept_ids": [concepts["cnc"].pk]})
    assert response.status_code == _expected(role, STAFF | {Role.COMPANY_REPRESENTATIVE}, 201)
    if response.status_code == 201:
        assert response.json()["concepts"][0]["uri"] == concepts["cnc"].uri
        assert CompetenceNeed.objects.filter(text="CNC-operatör").count() == 1


def test_representative_reads_only_own_company(api_for, world):
    api = api_for(Role.COMPANY_REPRESENTATIVE)
    assert api.get(f"/companies/{world['companies'][1].pk}/needs/").status_code == 404
    assert api.post(f"/companies/{CompanyFactory().pk}/needs/", {"text": "x"}).status_code == 404
    assert [n["text"] for n in api.get(f"/companies/{world['company'].pk}/needs/").json()] == ["svetsare"]


def test_invalid_input_is_422(api_for, world):
    api = api_for(Role.ADVISOR)
    company = world["company"].pk
    for payload in ({"text": ""}, {"text": "x", "people": 0}, {"text": "x", "kind": "hire"}, {"text": "x", "concept_ids": [99999]},
                    {"people": 2}):
        assert api.post(f"/companies/{company}/needs/", payload).status_code == 422, payload
    for params in ({"level": "x"}, {"area": "städ"}, {"horizon": "99"}, {"kind": "x"}):
        assert api.get("/demand/", params).status_code == 422, params
    assert api.get("/suggestions/", {"text": "x", "kind": "animal"}).status_code == 422


def test_demand_is_anonymised_for_providers(api_for, world, concepts):
    data = api_for(Role.EDUCATION_PROVIDER).get("/demand/").json()
    rows = {row["uri"]: row for row in data["rows"]}
    assert rows[concepts["welder"].uri]["total"] == {"people": 6, "needs": 3, "urgency": 2.0, "suppressed": False}
    assert concepts["plc"].uri not in rows  # one company: not listed at all
    assert rows[concepts["welder"].uri]["offerings"] == 1 and data["min_companies"] == 3
    text = str(data)
    assert not any(company.name in text for company in world["companies"]) and "company_id" not in text
