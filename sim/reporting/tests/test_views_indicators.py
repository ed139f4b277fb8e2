"""Managing indicators on the web: the list (readers), choosing the set, own indicators, targets and
milestones, recorded values (project managers and administrators), with clear errors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings, make_project
from sim.reporting import services
from sim.reporting.models import IndicatorEntry, ProjectIndicator

pytestmark = pytest.mark.django_db
D = dt.date
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}
MANAGERS = {Role.ADMIN, Role.PROJECT_MANAGER}


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


@pytest.fixture
def project():
    project = make_project(code="ind")
    services.indicator_set_choose(None, project, "erdf-2021-2027")
    return project


@pytest.fixture
def as_role(client, make_user, project):
    def login(role, *, member=True):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if member and role != Role.ADMIN:
            project.memberships.create(user=user)
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_permissions_per_role(as_role, project, role):
    client = as_role(role)
    rco01 = project.indicators.get(code="RCO01")
    pages = [(reverse("reporting:indicators", args=[project.pk]), READERS),
             (reverse("reporting:indicator-edit", args=[rco01.pk]), MANAGERS)]
    for url, allowed in pages:
        response = client.get(url)
        if role == ANONYMOUS:
            assert response.status_code == 302
        else:
            assert response.status_code == (200 if role in allowed else 403), url
    post = client.post(reverse("reporting:indicators", args=[project.pk]), {"code": "X", "name_sv": "x", "unit": "number"})
    if role in MANAGERS:
        assert post.status_code == 302
    elif role != ANONYMOUS:
        assert post.status_code == 403
    assert ProjectIndicator.objects.filter(code="X").exists() == (role in MANAGERS)


def test_other_projects_are_not_found(as_role, project):
    client = as_role(Role.PROJECT_MANAGER, member=False)
    assert client.get(reverse("reporting:indicators", args=[project.pk])).status_code == 404
    assert client.get(reverse("reporting:indicator-edit", args=[project.indicators.first().pk])).status_code == 404


def test_choose_set_and_add_own_indicator(as_role, project):
    client = as_role(Role.PROJECT_MANAGER)
    url = reverse("reporting:indicators", args=[project.pk])
    assert client.post(url, {"set_key": "erdf-2014-2020", "new_enterprise_years": "2"}).status_code == 302
    project.refresh_from_db()
    assert project.indicator_set.set_key == "erdf-2014-2020" and project.indicator_set.new_enterprise_years == 2
    response = client.post(url, {"set_key": "nope", "new_enterprise_years": "2"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = client.post(url, {"code": "CO01", "name_sv": "Dubblett", "unit": "number"})
    assert response.status_code == 400 and "already has an indicator CO01" in response.content.decode()
    client.post(url, {"code": "RT", "name_sv": "Rundabordssamtal", "unit": "number"})
    html = client.get(url).content.decode()
    assert "Rundabordssamtal" in html and "CO08" in html


def test_target_and_milestones(as_role, project):
    client = as_role(Role.PROJECT_MANAGER)
    rco01 = project.indicators.get(code="RCO01")
    url = reverse("reporting:indicator-edit", args=[rco01.pk])
    response = client.post(url, {"target": "120", "milestones": "2024-12-31 20\n\n2025-12-31 60,5"})
    assert response.status_code == 302
    rco01.refresh_from_db()
    assert rco01.target == Decimal("120") and [m.value for m in rco01.milestones.all()] == [Decimal(20), Decimal("60.5")]
    html = client.get(reverse("reporting:indicators", args=[project.pk])).content.decode()
    assert "2025-12-31: 60.5" in html and ">120<" in html
    assert "2025-12-31 60.5" in client.get(url).content.decode()
    for milestones, message in (("31/12/2025 4", "start with a date"), ("2025-12-31", "a date and one value"),
                                ("2035-12-31 4", "outside the project")):
        response = client.post(url, {"target": "120", "milestones": milestones})
        assert response.status_code == 400 and message in response.content.decode(), milestones


def test_record_values_of_manual_indicators_only(as_role, project):
    client = as_role(Role.PROJECT_MANAGER)
    rcr03 = project.indicators.get(code="RCR03")
    url = reverse("reporting:indicator-edit", args=[rcr03.pk])
    assert client.post(url, {"date": "2024-05-01", "value": "2", "note": "Två företag"}).status_code == 302
    assert "Två företag" in client.get(url).content.decode()
    response = client.post(url, {"date": "2024-05-01", "value": "två", "note": "x"})
    assert response.status_code == 400 and "Enter a number" in response.content.decode()
    rco01 = project.indicators.get(code="RCO01")
    response = client.post(reverse("reporting:indicator-edit", args=[rco01.pk]), {"date": "2024-05-01", "value": "2", "note": "x"})
    assert response.status_code == 400 and "counted by the platform" in response.content.decode()
    assert IndicatorEntry.objects.count() == 1
