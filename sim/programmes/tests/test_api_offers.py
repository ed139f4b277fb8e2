"""The REST API of offers and recommendations: roles, project scoping, validation, OpenAPI."""

import pytest
from django.test import Client
from django.utils import translation

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core import services as core_services
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes.models import Offer

from . import offer_builders as build

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
DENIED = {"detail": "You do not have permission for this."}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


class Api:
    def __init__(self, secret=None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", **self.headers)

    def patch(self, path, data):
        return self.client.patch(path, data, content_type="application/json", **self.headers)


@pytest.fixture
def world():
    project = build.project(counties=["23"])
    other = build.project(counties=["23"])
    company = CompanyFactory(name="Storsjöns Mekaniska AB", size_class="small", sni_primary="25620", municipality_id="2380")
    build.need(company, "production_efficiency", 1, "Automate the welding line")
    offer = build.offer(project, "Produktionslyftet", focus_areas=["production_efficiency"], eligibility={"sni": ["10-33"]})
    big = build.offer(project, "Storföretagsprogram", eligibility={"size_classes": ["large"]})
    foreign = build.offer(other, "Annat projekts erbjudande")
    return {"project": project, "other": other, "company": company, "offer": offer, "big": big, "foreign": foreign}


@pytest.fixture
def api_for(make_user, world):
    def login(role, *, member=True):
        if role == ANONYMOUS:
            return Api()
        user = make_user(role)
        if member and role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        _token, secret = core_services.api_token_create(user, name="test")
        api = Api(secret)
        api.user = user
        return api

    return login


def status_for(role, allowed, ok=200):
    if role == ANONYMOUS:
        return 401
    return ok if role in allowed else 403


NEW_OFFER = {
    "title_sv": "Exportstart", "kind": "export_service", "focus_areas": ["internationalisation"],
    "eligibility": {"sni": ["10-33"], "target_group": True},
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reads_per_role(api_for, world, role):
    api = api_for(role)
    offer, company = world["offer"], world["company"]
    for path in ("/api/offers/", f"/api/offers/{offer.pk}", f"/api/offers/{offer.pk}/suited-companies",
                 f"/api/companies/{company.pk}/recommendations"):
        response = api.get(path)
        assert response.status_code == status_for(role, READERS), path
        if response.status_code == 403:
            assert response.json() == DENIED


@pytest.mark.parametrize("role", ALL_ROLES)
def test_writes_per_role(api_for, world, role):
    api = api_for(role)
    response = api.post("/api/offers/", {**NEW_OFFER, "project": world["project"].pk})
    assert response.status_code == status_for(role, WRITERS, ok=201)
    response = api.patch(f"/api/offers/{world['offer'].pk}", {"capacity": 5})
    assert response.status_code == status_for(role, WRITERS)


@pytest.mark.parametrize("role", sorted(READERS - {Role.ADMIN}))
def test_other_projects_are_404(api_for, world, role):
    api = api_for(role)
    foreign = world["foreign"].pk
    assert api.get(f"/api/offers/{foreign}").status_code == 404
    assert api.get(f"/api/offers/{foreign}/suited-companies").status_code == 404
    assert api.get("/api/offers/", {"project": world["other"].pk}).status_code == 404
    titles = [item["title_sv"] for item in api.get("/api/offers/").json()["items"]]
    assert titles == ["Produktionslyftet", "Storföretagsprogram"]
    if role in WRITERS:
        assert api.patch(f"/api/offers/{foreign}", {"capacity": 1}).status_code == 404
        response = api.post("/api/offers/", {**NEW_OFFER, "project": world["other"].pk})
        assert response.status_code == 422 and "project" in response.json()["detail"]


def test_admin_lists_every_project(api_for, world):
    items = api_for(Role.ADMIN).get("/api/offers/").json()["items"]
    assert {item["title_sv"] for item in items} == {"Produktionslyftet", "Storföretagsprogram", "Annat projekts erbjudande"}


def test_list_filters_and_paging(api_for, world):
    api = api_for(Role.ADVISOR)
    build.offer(world["project"], "Stängt", active=False)
    assert api.get("/api/offers/").json()["count"] == 3  # the API lists closed offers too by default
    assert [i["title_sv"] for i in api.get("/api/offers/", {"active": "no"}).json()["items"]] == ["Stängt"]
    assert [i["title_sv"] for i in api.get("/api/offers/", {"focus_area": "production_efficiency"}).json()["items"]] == [
        "Produktionslyftet"]
    page = api.get("/api/offers/", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [i["title_sv"] for i in page["items"]] == ["Storföretagsprogram"]
    response = api.get("/api/offers/", {"kind": "seminar"})
    assert response.status_code == 422 and "kind" in response.json()["detail"]


def test_create_get_patch(api_for, world):
    api = api_for(Role.PROJECT_MANAGER)
    response = api.post("/api/offers/", {**NEW_OFFER, "project": world["project"].pk, "capacity": 10})
    assert response.status_code == 201
    created = response.json()
    assert created["focus_areas"] == ["internationalisation"]
    assert created["eligibility"] == {"sni": ["10-33"], "target_group": True}
    assert created["project_id"] == world["project"].pk and created["active"] is True
    offer_id = created["id"]
    assert AuditEvent.objects.filter(object_type="programmes.offer", object_id=str(offer_id), source="api").count() == 1
    response = api.patch(f"/api/offers/{offer_id}", {"eligibility": {"size_classes": ["small"]}, "active": False})
    assert response.status_code == 200
    assert response.json()["eligibility"] == {"size_classes": ["small"]} and response.json()["active"] is False
    assert api.get(f"/api/offers/{offer_id}").json()["capacity"] == 10


@pytest.mark.parametrize(("payload", "fragment"), [
    ({"eligibility": {"sni": ["abc"]}}, "eligibility: sni[0]: “abc” is not an SNI code"),
    ({"eligibility": {"counties": ["99"]}}, "eligibility: counties: no such county: 99"),
    ({"focus_areas": ["nope"]}, "focus_areas: No such focus area: nope"),
    ({"kind": "seminar"}, "kind:"),
    ({"title_sv": None}, "title_sv: may not be null."),
    ({"available_from": "2025-05-01", "available_to": "2025-04-01"}, "offer_period_order"),
])
def test_patch_validation(api_for, world, payload, fragment):
    response = api_for(Role.ADVISOR).patch(f"/api/offers/{world['offer'].pk}", payload)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_post_validation(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post("/api/offers/", {"project": world["project"].pk, "title_sv": "X", "eligibility": {"sizes": []}})
    assert response.status_code == 422 and "eligibility: sizes: unknown rule" in response.json()["detail"]
    assert api.post("/api/offers/", {"title_sv": "X"}).status_code == 422  # no project
    assert not Offer.objects.filter(title_sv="X").exists()


def test_recommendations(api_for, world):
    api = api_for(Role.AUDITOR)
    data = api.get(f"/api/companies/{world['company'].pk}/recommendations").json()
    assert data["company_id"] == world["company"].pk
    (first,) = data["eligible"]
    assert first["offer_id"] == world["offer"].pk and first["eligible"] is True
    assert first["fit"] == 40.0
    assert first["fit_parts"] == {"needs": 30, "focus_areas": 10, "low_score": 0.0, "score_range": 0}
    assert first["explanation"] == (
        "meets need “Automate the welding line” in focus area Production efficiency; eligible because SNI 25.620 is in 10–33")
    assert first["checks"] == [{"rule": "sni", "outcome": "pass", "message": "SNI 25.620 is in 10–33"}]
    (second,) = data["ineligible"]
    assert second["offer_id"] == world["big"].pk
    assert second["checks"] == [{"rule": "size_class", "outcome": "fail",
                                 "message": "size class small is not allowed (only large)"}]
    assert api.get(f"/api/companies/{world['company'].pk}/recommendations", {"project": world["other"].pk}).status_code == 404
    assert api.get("/api/companies/999999/recommendations").status_code == 404


def test_recommendations_of_all_my_projects_or_one(api_for, world):
    api = api_for(Role.ADVISOR)
    world["other"].memberships.create(user=api.user)
    data = api.get(f"/api/companies/{world['company'].pk}/recommendations").json()
    assert len(data["eligible"]) + len(data["ineligible"]) == 3
    data = api.get(f"/api/companies/{world['company'].pk}/recommendations", {"project": world["other"].pk}).json()
    assert [r["offer_id"] for r in data["eligible"]] == [world["foreign"].pk]


def test_company_representative_cannot_read_recommendations_of_their_company(api_for, world):
    api = api_for(Role.COMPANY_REPRESENTATIVE, member=False)
    CompanyRepresentativeFactory(user=api.user, company=world["company"])
    assert api.get(f"/api/companies/{world['company'].pk}/recommendations").status_code == 403


def test_suited_companies(api_for, world):
    api = api_for(Role.ADVISOR)
    CompanyFactory(name="Trä AB", size_class="micro", sni_primary="16230", municipality_id="2309")
    CompanyFactory(name="Butik AB", size_class="small", sni_primary="47110", municipality_id="2380")
    CompanyFactory(name="Sundsvall AB", size_class="small", sni_primary="25620", municipality_id="2281")
    path = f"/api/offers/{world['offer'].pk}/suited-companies"
    data = api.get(path).json()
    assert [item["name"] for item in data["items"]] == ["Storsjöns Mekaniska AB", "Trä AB"]
    assert (data["count"], data["considered"], data["eligible_count"]) == (2, 3, 2)
    first = data["items"][0]
    assert first["rank"] == 1 and first["fit"] == 40.0 and first["municipality"] == "Östersund"
    assert first["explanation"].startswith("meets need “Automate the welding line”")
    data = api.get(path, {"eligible": "all", "limit": 1, "offset": 2}).json()
    assert data["count"] == 3 and data["items"][0]["name"] == "Butik AB" and data["items"][0]["rank"] is None
    assert data["items"][0]["explanation"].endswith("not eligible: SNI 47.110 is not in 10–33")
    assert [i["name"] for i in api.get(path, {"municipality": "2309"}).json()["items"]] == ["Trä AB"]
    response = api.get(path, {"min_fit": "lots"})
    assert response.status_code == 422 and "min_fit" in response.json()["detail"]


def test_openapi_lists_the_endpoints(api_for, world):
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in ("/api/offers/", "/api/offers/{offer_id}", "/api/offers/{offer_id}/suited-companies",
                 "/api/companies/{company_id}/recommendations"):
        assert path in paths
    assert set(paths["/api/offers/"]) == {"get", "post"}
    assert set(paths["/api/offers/{offer_id}"]) == {"get", "patch"}
