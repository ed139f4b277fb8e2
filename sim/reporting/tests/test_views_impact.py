"""The impact page: who may open it, the before/after and comparison figures it shows, the message
when the groups are too small, and that no comparison company is named."""

import datetime as dt
import math
import re

import pytest
from django.urls import reverse

from sim.assessments.models import AssessmentPhase
from sim.assessments.tests.helpers import GROWTH, complete_quickly, start
from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings

from .builders import build_world
from .impact_builders import build_impact_world, expected_did

pytestmark = pytest.mark.django_db
D = dt.date
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    with english_settings(settings):
        yield


def login(client, make_user, world, role):
    user = make_user(role)
    if role != Role.ADMIN:
        world["project"].memberships.create(user=user)
    client.force_login(user)
    return client


def url(world):
    return reverse("reporting:impact", args=[world["project"].pk])


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_permissions_per_role(client, make_user, role):
    world = build_world()
    if role != ANONYMOUS:
        login(client, make_user, world, role)
    response = client.get(url(world))
    if role == ANONYMOUS:
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role in READERS else 403)


def test_a_project_the_user_is_not_in_is_not_found(client, make_user):
    world = build_world()
    client.force_login(make_user(Role.PROJECT_MANAGER))
    assert client.get(url(world)).status_code == 404


def figure(html: str, measure: str, name: str) -> str:
    block = re.search(rf'data-measure="{measure}">(.*?)</div>', html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", re.search(rf'data-figure="{name}">(.*?)</', block, re.S).group(1)).strip()


def test_comparison_with_interval_and_group_sizes(client, make_user):
    world = build_impact_world()
    login(client, make_user, world, Role.PROJECT_MANAGER)
    html = client.get(url(world)).content.decode()
    for measure in ("staff", "turnover"):
        assert figure(html, measure, "n-treated") == "13"
        assert figure(html, measure, "n-control") == "12"
        assert figure(html, measure, "did") == f"{100 * math.expm1(expected_did(measure)):.1f} %"
        low, high = (float(v.strip(" %")) for v in figure(html, measure, "interval").split("…"))
        assert low < 100 * math.expm1(expected_did(measure)) < high
    assert "does not prove that the support caused" in html
    # Only counts and means of the comparison group: no company of it is named.
    for company in world["controls"]:
        assert company.name not in html and company.org_number not in html
    # The figures are the same each time (fixed seed).
    again = client.get(url(world)).content.decode()
    assert [figure(again, "staff", "interval"), figure(again, "turnover", "interval")] == [
        figure(html, "staff", "interval"), figure(html, "turnover", "interval")]


def test_before_after_table(client, make_user):
    world = build_world()
    login(client, make_user, world, Role.AUDITOR)
    html = client.get(url(world)).content.decode()
    table = re.search(r'data-section="before-after">(.*?)</table>', html, re.S).group(1)
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
    assert rows[0] == ["Staff (AWU)", "2", "12.50", "13.00", "0.50"]
    assert rows[1][:2] == ["Turnover (SEK)", "2"]
    assert rows[2] == ["Export share (%)", "0", "–", "–", "–"]
    assert rows[3] == ["New products launched in the last 12 months", "0", "–", "–", "–"]
    assert rows[4] == ["New services launched in the last 12 months", "0", "–", "–", "–"]
    assert "not recorded" not in html and 'id="impact-new-offerings"' in html
    assert "No supported enterprise has both a completed T0 assessment" in html


def test_new_offerings_rows_show_the_interview_answers(client, make_user):
    world = build_world()
    actor = make_user(Role.ADVISOR)
    for phase, day, products, services in ((AssessmentPhase.T0, D(2024, 1, 20), "1", "0"),
                                           (AssessmentPhase.FOLLOW_UP, D(2025, 9, 1), "4", "1")):
        complete_quickly(actor, start(actor, world["alfa"], GROWTH, phase=phase, conducted_on=day),
                         kf_new_products=products, kf_new_services=services)
    login(client, make_user, world, Role.PROJECT_MANAGER)
    html = client.get(url(world)).content.decode()
    table = re.search(r'data-section="before-after">(.*?)</table>', html, re.S).group(1)
    cells = {re.sub(r"<[^>]+>", "", row.split("</th>")[0]).strip(): re.findall(r'<td class="num">(.*?)</td>', row)
             for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)}
    assert cells["New products launched in the last 12 months"] == ["1", "1.0", "4.0", "3.0"]
    assert cells["New services launched in the last 12 months"] == ["1", "0.0", "1.0", "1.0"]


def test_too_few_companies_explained(client, make_user):
    world = build_world()
    login(client, make_user, world, Role.ADVISOR)
    html = client.get(url(world)).content.decode()
    assert html.count('data-figure="too-few"') == 2
    assert "at least 10 supported and 10 comparison enterprises" in html
    assert 'data-figure="did"' not in html


def test_linked_from_the_overview(client, make_user):
    world = build_world()
    login(client, make_user, world, Role.FINANCE_OFFICER)
    html = client.get(reverse("reporting:overview", args=[world["project"].pk])).content.decode()
    assert f'href="{url(world)}"' in html


def test_swedish_page_renders_numbers_with_a_decimal_comma(client, make_user, settings):
    settings.LANGUAGE_CODE = "sv"
    world = build_world()
    login(client, make_user, world, Role.PROJECT_MANAGER)
    response = client.get(url(world), HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 200
    assert "12,50" in response.content.decode()
