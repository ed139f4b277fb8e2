"""Growth-plan pages: drafting from needs, editing and sharing, goals and actions, permissions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from sim.assessments import services
from sim.assessments.models import GrowthAction, GrowthGoal, GrowthPlan, Need, NeedStatus
from sim.assessments.tests.helpers import GROWTH, completed_assessment
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role
from sim.programmes.models import FocusArea

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def company():
    return CompanyFactory(name="Storsjöns Mekaniska AB")


@pytest.fixture
def assessment(advisor, company):
    return completed_assessment(advisor, company, GROWTH, level=1, conducted_on=dt.date(2024, 3, 1))


@pytest.fixture
def plan(advisor, company, assessment):
    return services.growth_plan_create(advisor, company, title="Tillväxtplan 2025", assessment=assessment)


def login(client, user):
    client.force_login(user)
    return client


def representative(make_user, company):
    user = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=user, company=company)
    return user


def plan_url(plan, name="assessments:plan", *extra):
    return reverse(name, args=[plan.pk, *extra])


def edit_data(plan, **changes):
    data = {
        "title": plan.title, "summary": plan.summary, "status": plan.status,
        "period_start": plan.period_start.isoformat() if plan.period_start else "",
        "period_end": plan.period_end.isoformat() if plan.period_end else "",
        "agreed_on": plan.agreed_on.isoformat() if plan.agreed_on else "",
    }
    if plan.shared_with_company:
        data["shared_with_company"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Drafting from needs ----------------------------------------------------------------------------


def test_plan_create_from_needs_in_priority_order(client, advisor, company, assessment):
    Need.objects.create(company=company, title="Dismissed need", priority=1, status=NeedStatus.DISMISSED)
    client = login(client, advisor)
    response = client.post(reverse("assessments:plan-create", args=[company.pk]), {"assessment": assessment.pk})
    plan = GrowthPlan.objects.get(company=company)
    assert response.status_code == 302 and response["Location"] == plan_url(plan)
    assert plan.assessment == assessment and plan.status == "draft"
    needs = list(Need.objects.filter(company=company, status=NeedStatus.OPEN).order_by("priority", "id"))
    actions = list(plan.actions.order_by("order", "id"))
    assert [a.need_id for a in actions] == [n.pk for n in needs]
    assert [a.title for a in actions] == [n.title for n in needs]
    assert [a.focus_area_id for a in actions] == [n.focus_area_id for n in needs]
    html = client.get(plan_url(plan)).content.decode()
    positions = [html.index(need.title) for need in needs]
    assert positions == sorted(positions)


def test_plan_create_without_assessment_from_the_company_page(client, advisor, company):
    response = login(client, advisor).post(reverse("assessments:plan-create", args=[company.pk]))
    assert response.status_code == 302
    assert GrowthPlan.objects.get(company=company).assessment is None


def test_plan_create_refuses_get_others_assessments_and_readers(client, make_user, advisor, company, assessment):
    client = login(client, advisor)
    url = reverse("assessments:plan-create", args=[company.pk])
    assert client.get(url).status_code == 405
    other = completed_assessment(advisor, CompanyFactory(), GROWTH)
    assert client.post(url, {"assessment": other.pk}).status_code == 404
    for role in (Role.AUDITOR, Role.EDUCATION_PROVIDER):
        assert login(client, make_user(role)).post(url).status_code == 403
    assert login(client, representative(make_user, company)).post(url).status_code == 403
    assert not GrowthPlan.objects.exists()


def test_plan_create_on_archived_company_shows_the_message(client, advisor, company):
    company.archived_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    company.status = "archived"
    company.save()
    client = login(client, advisor)
    response = client.post(reverse("assessments:plan-create", args=[company.pk]), follow=True)
    assert "Restore the company" in response.content.decode()
    assert not GrowthPlan.objects.exists()


# --- Detail, edit and sharing -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.PROJECT_MANAGER, Role.AUDITOR])
def test_staff_see_the_plan(client, make_user, plan, role):
    html = login(client, make_user(role)).get(plan_url(plan)).content.decode()
    assert "Tillväxtplan 2025" in html
    assert ("Edit plan" in html) is (role != Role.AUDITOR)


def test_auditor_cannot_change_anything(client, make_user, plan):
    client = login(client, make_user(Role.AUDITOR))
    assert client.get(plan_url(plan, "assessments:plan-edit")).status_code == 403
    assert client.get(plan_url(plan, "assessments:goal-add")).status_code == 403
    assert client.get(plan_url(plan, "assessments:action-add")).status_code == 403
    action = plan.actions.first()
    assert client.post(plan_url(plan, "assessments:action-remove", action.pk)).status_code == 403


def test_access_for_other_roles(client, make_user, plan):
    assert client.get(plan_url(plan)).status_code == 302  # anonymous → login
    assert login(client, make_user(Role.EDUCATION_PROVIDER)).get(plan_url(plan)).status_code == 403


def test_edit_and_share_with_the_company(client, make_user, advisor, company, plan):
    rep = representative(make_user, company)
    stranger = representative(make_user, CompanyFactory())
    assert login(client, rep).get(plan_url(plan)).status_code == 404  # not shared yet

    client = login(client, advisor)
    response = client.post(plan_url(plan, "assessments:plan-edit"), edit_data(
        plan, title="Tillväxtplan 2025–2026", summary="Fokus på export.", status="agreed",
        shared_with_company="on"))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "Tillväxtplan 2025–2026" and plan.status == "agreed" and plan.shared_with_company
    assert plan.agreed_on is not None

    client = login(client, rep)
    response = client.get(plan_url(plan))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tillväxtplan 2025–2026" in html and "Fokus på export." in html
    assert "Edit plan" not in html and "Add a goal" not in html and "Remove" not in html
    assert client.get(plan_url(plan, "assessments:plan-edit")).status_code == 403
    assert login(client, stranger).get(plan_url(plan)).status_code == 404

    # Unsharing hides it again.
    client = login(client, advisor)
    data = edit_data(plan)
    data.pop("shared_with_company")
    client.post(plan_url(plan, "assessments:plan-edit"), data)
    plan.refresh_from_db()
    assert not plan.shared_with_company
    assert login(client, rep).get(plan_url(plan)).status_code == 404


def test_edit_refuses_a_period_ending_before_it_starts(client, advisor, plan):
    response = login(client, advisor).post(plan_url(plan, "assessments:plan-edit"), edit_data(
        plan, period_start="2025-06-01", period_end="2025-01-01"))
    assert response.status_code == 200
    assert "cannot end before it starts" in response.content.decode()


# --- Goals -------------------------------------------------------------------------------------------


def test_goal_add_with_decimal_comma_edit_and_remove(client, advisor, plan):
    client = login(client, advisor)
    response = client.post(plan_url(plan, "assessments:goal-add"), {
        "title": "Öka omsättningen", "metric": "turnover_sek", "baseline": "12 500 000,50", "target": "15000000",
        "unit": "SEK", "target_date": "2026-12-31",
    })
    assert response.status_code == 302, response.content.decode()
    goal = GrowthGoal.objects.get(plan=plan)
    assert goal.baseline == Decimal("12500000.50") and goal.target == Decimal("15000000")
    assert goal.target_date == dt.date(2026, 12, 31)
    html = client.get(plan_url(plan)).content.decode()
    assert "Öka omsättningen" in html and "12,500,000.5" in html

    edit = plan_url(plan, "assessments:goal-edit", goal.pk)
    assert 'value="12500000.5"' in client.get(edit).content.decode()
    response = client.post(edit, {"title": "Öka omsättningen", "metric": "turnover_sek", "baseline": "12500000,5",
                                  "target": "16 000 000", "unit": "SEK"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.target == Decimal("16000000")

    response = client.post(edit, {"title": "Öka omsättningen", "metric": "turnover_sek", "baseline": "tolv"})
    assert response.status_code == 200 and "Enter a number" in response.content.decode()
    response = client.post(edit, {"title": "x", "metric": "turnover_sek", "baseline": "-5"})
    assert response.status_code == 200 and "Cannot be negative" in response.content.decode()

    response = client.post(plan_url(plan, "assessments:goal-remove", goal.pk))
    assert response.status_code == 302
    assert not GrowthGoal.objects.filter(pk=goal.pk).exists()


def test_goal_form_in_swedish_shows_decimal_comma(client, advisor, plan, settings):
    settings.LANGUAGE_CODE = "sv"
    goal = services.growth_goal_save(advisor, plan, {"title": "Exportandel", "metric": "export_share_pct",
                                                     "baseline": Decimal("12.50"), "target": Decimal("30")})
    html = login(client, advisor).get(plan_url(plan, "assessments:goal-edit", goal.pk)).content.decode()
    assert 'value="12,5"' in html and 'value="30"' in html


def test_remove_is_refused_on_an_agreed_plan(client, advisor, plan):
    goal = services.growth_goal_save(advisor, plan, {"title": "Fler anställda", "metric": "staff_awu"})
    action = plan.actions.first()
    services.growth_plan_update(advisor, plan, {"status": "agreed"})
    client = login(client, advisor)
    html = client.get(plan_url(plan)).content.decode()
    assert "Remove" not in html
    response = client.post(plan_url(plan, "assessments:goal-remove", goal.pk), follow=True)
    assert "Only a draft plan can have goals or actions removed" in response.content.decode()
    response = client.post(plan_url(plan, "assessments:action-remove", action.pk), follow=True)
    assert "Only a draft plan" in response.content.decode()
    assert GrowthGoal.objects.filter(pk=goal.pk).exists() and GrowthAction.objects.filter(pk=action.pk).exists()


def test_goal_of_another_plan_is_not_found(client, advisor, company, plan):
    other = services.growth_plan_create(advisor, company, title="Annan plan", from_needs=False)
    goal = services.growth_goal_save(advisor, other, {"title": "Mål", "metric": "other"})
    client = login(client, advisor)
    assert client.get(plan_url(plan, "assessments:goal-edit", goal.pk)).status_code == 404
    assert client.post(plan_url(plan, "assessments:goal-remove", goal.pk)).status_code == 404


# --- Actions -----------------------------------------------------------------------------------------


def test_action_add_edit_and_remove(client, advisor, company, plan):
    client = login(client, advisor)
    area = FocusArea.objects.get(key="internationalisation")
    need = Need.objects.filter(company=company, status=NeedStatus.OPEN).first()
    count = plan.actions.count()
    response = client.post(plan_url(plan, "assessments:action-add"), {
        "title": "Besöka mässa i Hannover", "description": "Med exportrådgivare.", "focus_area": area.pk,
        "need": need.pk, "owner": "VD", "due_date": "2025-04-20", "status": "planned",
    })
    assert response.status_code == 302
    action = GrowthAction.objects.get(title="Besöka mässa i Hannover")
    assert (action.focus_area, action.need, action.owner) == (area, need, "VD")
    assert action.order == count + 1  # added last
    html = client.get(plan_url(plan)).content.decode()
    assert html.index("Besöka mässa i Hannover") > html.index(plan.actions.order_by("order").first().title)

    response = client.post(plan_url(plan, "assessments:action-edit", action.pk), {
        "title": "Besöka mässa i Hannover", "focus_area": area.pk, "status": "in_progress", "owner": "Säljchef",
    })
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.owner, action.need) == ("in_progress", "Säljchef", None)

    response = client.post(plan_url(plan, "assessments:action-remove", action.pk))
    assert response.status_code == 302
    assert not GrowthAction.objects.filter(pk=action.pk).exists()


def test_action_cannot_link_another_company_need(client, advisor, plan):
    foreign = Need.objects.create(company=CompanyFactory(), title="Främmande behov")
    response = login(client, advisor).post(plan_url(plan, "assessments:action-add"), {
        "title": "Åtgärd", "need": foreign.pk, "status": "planned"})
    assert response.status_code == 200
    assert not GrowthAction.objects.filter(title="Åtgärd").exists()


def test_representative_sees_shared_plan_read_only(client, make_user, advisor, company, plan):
    services.growth_goal_save(advisor, plan, {"title": "Exportandel 20 %", "metric": "export_share_pct",
                                              "target": Decimal("20")})
    services.growth_plan_update(advisor, plan, {"shared_with_company": True})
    client = login(client, representative(make_user, company))
    html = client.get(plan_url(plan)).content.decode()
    assert "Exportandel 20 %" in html
    assert plan.actions.first().title in html
    goal = plan.goals.first()
    assert client.post(plan_url(plan, "assessments:goal-remove", goal.pk)).status_code == 403
    assert client.get(plan_url(plan, "assessments:goal-edit", goal.pk)).status_code == 403
