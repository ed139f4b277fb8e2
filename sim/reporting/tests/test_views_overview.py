"""The project overview: who may open it, its charts (SVG) and accessible tables, the period filter."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings
from sim.reporting import selectors, services
from sim.reporting.rules import Period

from .builders import build_world

pytestmark = pytest.mark.django_db
D = dt.date
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    with english_settings(settings):
        yield


@pytest.fixture
def world():
    w = build_world()
    services.indicator_target_set(None, w["project"].indicators.get(code="RCO01"), "6")
    return w


def login(client, make_user, world, role):
    user = make_user(role)
    if role != Role.ADMIN:
        world["project"].memberships.create(user=user)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_permissions_per_role(client, make_user, world, role):
    if role != ANONYMOUS:
        login(client, make_user, world, role)
    response = client.get(reverse("reporting:overview", args=[world["project"].pk]))
    if role == ANONYMOUS:
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role in READERS else 403)


def test_home_opens_the_overview_of_the_current_project(client, make_user, world):
    login(client, make_user, world, Role.PROJECT_MANAGER)
    response = client.get(reverse("reporting:home"))
    assert response["Location"] == reverse("reporting:overview", args=[world["project"].pk])


def rows(html: str, section: str) -> list[list[str]]:
    table = re.search(rf'data-section="{section}">(.*?)</table>', html, re.S).group(1).split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_charts_and_tables(client, make_user, world):
    login(client, make_user, world, Role.AUDITOR)
    html = client.get(reverse("reporting:overview", args=[world["project"].pk])).content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    assert 'role="img"' in html and "Indicators against their targets" in html
    assert next(r for r in rows(html, "indicators") if r[0] == "RCO01")[7] == "50.0 %"
    pipeline = dict(rows(html, "pipeline"))
    assert pipeline["Started"] == "2" and pipeline["Proposed"] == "1"
    activity = rows(html, "activity")
    assert activity[0] == ["2024 Q1", "2", "16.50"] and activity[1] == ["2024 Q2", "1", "7"]
    assert len(activity) == 16  # every quarter of 2024–2027
    assert rows(html, "municipality") == [[world["alfa"].municipality.name, "3"]]
    assert "The project has no adopted budget scenario." in html


def test_period_filter(client, make_user, world):
    login(client, make_user, world, Role.PROJECT_MANAGER)
    url = reverse("reporting:overview", args=[world["project"].pk])
    html = client.get(url, {"period": "2025"}).content.decode()
    assert "2025-01-01 – 2025-12-31" in html
    assert [r[0] for r in rows(html, "activity")] == ["2025 Q1", "2025 Q2", "2025 Q3", "2025 Q4"]
    assert f'href="/reports/projects/{world["project"].pk}/export.xlsx?period=2025&amp;lang=sv"' in html
    html = client.get(url, {"period": "nonsense"}).content.decode()
    assert "is not a period of this project" in html


def test_overview_reads_with_few_queries(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        selectors.overview(world["project"], Period(D(2024, 1, 1), D(2024, 12, 31)))


def test_municipality_filter(client, make_user, world):
    from decimal import Decimal

    from sim.activities.models import Activity
    from sim.companies.models import Municipality
    from sim.companies.tests.factories import CompanyFactory

    from .builders import make_intervention

    other = Municipality.objects.exclude(code=world["alfa"].municipality_id).order_by("code").first()
    epsilon = CompanyFactory(name="Epsilon Smide AB", municipality_id=other.code)
    project = world["project"]
    make_intervention(project, epsilon, status="approved", approved_on=D(2024, 9, 1), support_form="grant")
    Activity.objects.create(project=project, company=epsilon, date=D(2024, 9, 2), hours=Decimal("20"))

    report = selectors.indicator_report(project, scope=selectors.Scope(municipality=other.code))
    values = {r.code: r.value for r in report.rows}
    assert values["RCO01"].companies == (epsilon.org_number,)
    assert "RCR03" not in values  # recorded by hand: not tied to companies
    assert selectors.indicator_report(project, scope=selectors.Scope(municipality=world["alfa"].municipality_id)).rows[0].value.value == 3

    login(client, make_user, world, Role.PROJECT_MANAGER)
    url = reverse("reporting:overview", args=[project.pk])
    html = client.get(url, {"municipality": other.code}).content.decode()
    assert f'<option value="{other.code}" selected>{other.name}</option>' in html
    assert next(r for r in rows(html, "indicators") if r[0] == "RCO01")[3] == "1"
    assert rows(html, "municipality") == [[other.name, "1"]]
    assert [r for r in rows(html, "activity") if r[1] != "0"] == [["2024 Q3", "1", "20"]]
    assert f"companies in {other.name}" in html
    html = client.get(url, {"municipality": "9999"}).content.decode()
    assert "is not a municipality of the project" in html
    assert next(r for r in rows(html, "indicators") if r[0] == "RCO01")[3] == "4"


def test_focus_area_filter(client, make_user, world):
    from decimal import Decimal

    from sim.activities.models import Activity
    from sim.programmes.models import FocusArea

    project = world["project"]
    area = FocusArea.objects.get(key="production_efficiency")
    project.focus_areas.set(FocusArea.objects.all())
    first = project.interventions.filter(company=world["alfa"]).order_by("approved_on").first()
    first.focus_area = area
    first.save()
    # beta's hours: 5 in the focus area, 7 outside it: below the minimum within the area.
    Activity.objects.filter(company=world["beta"], hours=Decimal("5")).update(focus_area=area)
    values = {r.code: r.value for r in selectors.indicator_report(project, scope=selectors.Scope(focus_area=area.pk)).rows}
    assert values["RCO01"].companies == (world["alfa"].org_number,)
    assert values["RCO04"].value == 0 and values["RCR02"].value == Decimal("40000.00")
    Activity.objects.filter(company=world["beta"]).update(focus_area=area)
    values = {r.code: r.value for r in selectors.indicator_report(project, scope=selectors.Scope(focus_area=area.pk)).rows}
    assert values["RCO04"].companies == (world["beta"].org_number,)

    login(client, make_user, world, Role.PROJECT_MANAGER)
    url = reverse("reporting:overview", args=[project.pk])
    html = client.get(url, {"focus_area": "production_efficiency"}).content.decode()
    assert '<option value="production_efficiency" selected>' in html
    assert [r[0] for r in rows(html, "focus-areas")] == [area.name]
    assert next(r for r in rows(html, "indicators") if r[0] == "RCO01")[3] == "2"
    assert "RCR03" not in [r[0] for r in rows(html, "indicators")]
    assert "is not a focus area of the project" in client.get(url, {"focus_area": "nope"}).content.decode()


def test_partner_filter(client, make_user, world):
    from sim.activities.models import Activity
    from sim.programmes.models import Organisation, ProjectPartner

    project = world["project"]
    iuc = Organisation.objects.create(name="IUC Z-GROUP", kind=Organisation.Kind.DEVELOPMENT)
    ProjectPartner.objects.create(project=project, organisation=iuc)
    anna = make_user(Role.ADVISOR)
    project.memberships.create(user=anna, organisation=iuc)
    first = project.interventions.filter(company=world["alfa"]).order_by("approved_on").first()
    first.created_by = anna
    first.save()
    beta_activities = list(Activity.objects.filter(company=world["beta"]).order_by("date"))
    beta_activities[0].advisors.add(anna)  # 5 of beta's 12 hours

    scope = selectors.Scope(partner_users=(anna.pk,))
    values = {r.code: r.value for r in selectors.indicator_report(project, scope=scope).rows}
    assert values["RCO01"].companies == (world["alfa"].org_number,)
    beta_activities[1].advisors.add(anna)
    values = {r.code: r.value for r in selectors.indicator_report(project, scope=scope).rows}
    assert set(values["RCO01"].companies) == {world["alfa"].org_number, world["beta"].org_number}
    nobody = {r.code: r.value for r in selectors.indicator_report(project, scope=selectors.Scope(partner_users=())).rows}
    assert nobody["RCO01"].value == 0

    login(client, make_user, world, Role.PROJECT_MANAGER)
    url = reverse("reporting:overview", args=[project.pk])
    html = client.get(url, {"partner": str(iuc.pk)}).content.decode()
    assert f'<option value="{iuc.pk}" selected>IUC Z-GROUP</option>' in html and "work of IUC Z-GROUP" in html
    assert next(r for r in rows(html, "indicators") if r[0] == "RCO01")[3] == "2"
    assert [r for r in rows(html, "activity") if r[1] != "0"] == [["2024 Q1", "1", "5"], ["2024 Q2", "1", "7"]]
    assert "is not a partner of the project" in client.get(url, {"partner": "abc"}).content.decode()
