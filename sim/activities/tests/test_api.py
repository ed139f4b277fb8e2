"""The REST API of activities and events: roles, project scoping, notes, roll-ups, capacity."""

import datetime as dt

import pytest
from django.test import Client

from sim.activities import services
from sim.companies.tests.factories import CompanyFactory, ContactFactory
from sim.core import services as core_services
from sim.core.roles import Role
from sim.programmes import services_projects
from sim.programmes.tests.project_helpers import ANONYMOUS, english, make_project

from .builders import activity, event

pytestmark = pytest.mark.django_db

BASE = "/api/activities/"
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
SECRET = "Hemlig anteckning"


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
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
def world(make_user):
    advisor = make_user(Role.ADVISOR)
    project = make_project(advisor)
    company = CompanyFactory()
    contact = ContactFactory(company=company)
    item = activity(advisor, project, company, notes=SECRET, hours="2.5")
    happening = event(advisor, project, capacity=1)
    return {"advisor": advisor, "project": project, "company": company, "contact": contact, "activity": item,
            "event": happening}


@pytest.fixture
def api_for(make_user, world):
    def make(role, member=True):
        if role == ANONYMOUS:
            return Api()
        user = make_user(role)
        if member and role in READERS - {Role.ADMIN}:
            services_projects.project_member_add(None, world["project"], user)
        _token, secret = core_services.api_token_create(user, "test")
        api = Api(secret)
        api.user = user
        return api

    return make


def _status(role, allowed):
    return 401 if role == ANONYMOUS else (200 if allowed else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reading_per_role(api_for, world, role):
    api = api_for(role)
    response = api.get(BASE)
    assert response.status_code == _status(role, role in READERS)
    if role in READERS:
        item = response.json()["items"][0]
        assert item["hours"] == "2.50" or float(item["hours"]) == 2.5
        assert item["notes"] == (SECRET if role in WRITERS else None)
    response = api.get(f"{BASE}{world['activity'].pk}")
    assert response.status_code == _status(role, role in READERS)
    assert api.get(f"{BASE}hours", {"project": world["project"].pk}).status_code == _status(role, role in READERS)
    assert api.get(f"{BASE}events/").status_code == _status(role, role in READERS)
    assert api.get(f"{BASE}events/{world['event'].pk}/registrations").status_code == _status(role, role in READERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_writing_per_role(api_for, world, role):
    api = api_for(role)
    payload = {"project": world["project"].pk, "company": world["company"].pk, "kind": "call",
               "date": "2025-04-01", "hours": "1", "subject": "Samtal"}
    if role in WRITERS:
        payload["advisors"] = [world["advisor"].pk]
    response = api.post(BASE, payload)
    expected = 401 if role == ANONYMOUS else (201 if role in WRITERS else 403)
    assert response.status_code == expected, response.content
    response = api.patch(f"{BASE}{world['activity'].pk}", {"hours": "3"})
    assert response.status_code == _status(role, role in WRITERS)


def test_scoping_and_validation(api_for, world):
    outsider = api_for(Role.ADVISOR, member=False)
    make_project(outsider.user)
    assert outsider.get(BASE).json()["count"] == 0
    assert outsider.get(f"{BASE}{world['activity'].pk}").status_code == 404
    assert outsider.get(f"{BASE}hours", {"project": world["project"].pk}).status_code == 404
    assert outsider.get(f"{BASE}events/{world['event'].pk}").status_code == 404
    api = api_for(Role.ADVISOR)
    base = {"project": world["project"].pk, "company": world["company"].pk, "date": "2025-04-01", "hours": "1"}
    assert api.post(BASE, {**base, "kind": "party"}).status_code == 422
    assert api.post(BASE, {**base, "focus_area": "nonsense"}).status_code == 422
    assert api.post(BASE, {**base, "hours": "0"}).status_code == 422
    response = api.post(BASE, {**base, "date": "2010-01-01"})
    assert response.status_code == 422 and "outside the project's period" in response.json()["detail"]
    assert api.post(BASE, {**base, "contacts": [ContactFactory().pk]}).status_code == 422
    assert api.get(f"{BASE}hours", {"project": world["project"].pk, "by": "weekday"}).status_code == 422
    created = api.post(BASE, {**base, "contacts": [world["contact"].pk], "focus_area": "financing"})
    assert created.status_code == 201
    assert created.json()["advisors"] == [api.user.pk] and created.json()["focus_area"] == "financing"


def test_notes_can_be_written_with_the_permission(api_for, world):
    pm = api_for(Role.PROJECT_MANAGER)
    assert pm.patch(f"{BASE}{world['activity'].pk}", {"notes": "Ny"}).json()["notes"] == "Ny"


def test_hours_rollups(api_for, world):
    api = api_for(Role.AUDITOR)
    activity(world["advisor"], world["project"], world["company"], hours="1.5", date=dt.date(2025, 4, 2),
             focus="financing")
    by_area = api.get(f"{BASE}hours", {"project": world["project"].pk, "by": "focus_area"}).json()
    assert {(row["key"], float(row["hours"])) for row in by_area} == {("production_efficiency", 2.5), ("financing", 1.5)}
    by_month = api.get(f"{BASE}hours", {"project": world["project"].pk, "by": "month", "start": "2025-04-01"}).json()
    assert [(row["key"], float(row["hours"])) for row in by_month] == [("2025-04", 1.5)]
    by_company = api.get(f"{BASE}hours", {"project": world["project"].pk, "by": "company"}).json()
    assert by_company[0]["label"] == world["company"].name and float(by_company[0]["hours"]) == 4.0


def test_registration_capacity_and_attendance(api_for, world):
    api = api_for(Role.ADVISOR)
    url = f"{BASE}events/{world['event'].pk}/registrations"
    first = api.post(url, {"contact": world["contact"].pk})
    assert first.status_code == 201 and first.json()["company_id"] == world["company"].pk
    full = api.post(url, {"name": "Andra Person"})
    assert full.status_code == 409 and "The event is full" in full.json()["detail"]
    assert api.post(url, {"name": ""}).status_code in (409, 422)
    marked = api.patch(f"{url}/{first.json()['id']}", {"attended": True})
    assert marked.status_code == 200 and marked.json()["attended"] is True
    detail = api.get(f"{BASE}events/{world['event'].pk}").json()
    assert (detail["registered"], detail["attended"], detail["capacity"]) == (1, 1, 1)
    services.event_update(world["advisor"], world["event"], {"registration_open": False})
    assert api.post(url, {"name": "Sen"}).status_code == 409


def test_openapi_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/activities/hours" in paths and "/api/activities/events/{event_id}/registrations" in paths
