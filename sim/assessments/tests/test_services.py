"""Writes of assessments, self-assessment links, needs and growth plans (services.py)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from sim.assessments import rules, services
from sim.assessments.models import (
    Assessment,
    GrowthAction,
    GrowthGoal,
    GrowthPlan,
    Need,
    NeedStatus,
    SelfAssessmentLink,
)
from sim.companies.tests.factories import CompanyFactory, ContactFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes.models import FocusArea

from .helpers import DIGITAL, GROWTH, answer_required, complete, completed_assessment, required_answers, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def company():
    return CompanyFactory(name="Storsjöns Mekaniska AB")


@pytest.fixture
def draft(advisor, company):
    return start(advisor, company, GROWTH, conducted_on=dt.date(2025, 3, 4))


def _events(instance, action=None):
    events = AuditEvent.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    return events.filter(action=action) if action else events


def _message(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- Starting ---------------------------------------------------------------------------------


def test_start_uses_the_latest_version_and_audits(advisor, company):
    assessment = services.assessment_start(advisor, company, GROWTH, phase="follow_up",
                                           conducted_on=dt.date(2025, 5, 1))
    assert assessment.instrument_version.key == GROWTH
    assert assessment.instrument_version.version == 2
    assert (assessment.status, assessment.phase, assessment.led_by, assessment.created_by) == (
        "draft", "follow_up", advisor, advisor)
    event = _events(assessment, "create").get()
    assert (event.scope_type, event.scope_id) == ("companies.company", str(company.pk))
    assert event.actor == advisor


def test_start_refuses_an_archived_company(advisor):
    archived = CompanyFactory(status="archived", archived_at=timezone.now())
    with pytest.raises(ValidationError, match="Restore the company"):
        services.assessment_start(advisor, archived, GROWTH)
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("key", "kwargs", "message"),
    [
        ("no-such-instrument", {}, "No instrument called no-such-instrument is published."),
        (GROWTH, {"version": 99}, "Version 99 of sim-growth-interview is not published."),
        (GROWTH, {"phase": "t2"}, "Choose T0 or follow-up."),
    ],
)
def test_start_refuses_unknown_instruments_and_phases(advisor, company, key, kwargs, message):
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_start(advisor, company, key, **kwargs)
    assert message in _message(exc_info)


# --- Answering --------------------------------------------------------------------------------


def test_answer_is_normalised_and_versioned(advisor, draft):
    saved = services.assessment_answer(advisor, draft, "kf_turnover_sek", "12500000.50")
    assert (saved.value, saved.version, saved.changed) == ("12500000.5", 1, True)
    saved = services.assessment_answer(advisor, draft, "fin_sources", ["bank_loan", "own_cash_flow", "bank_loan"])
    assert saved.value == ["own_cash_flow", "bank_loan"]  # options' order, no duplicates
    saved = services.assessment_answer(advisor, draft, "fin_planning", "4")
    assert saved.value == 4
    draft.refresh_from_db()
    assert draft.answers == {"kf_turnover_sek": "12500000.5", "fin_sources": ["own_cash_flow", "bank_loan"],
                             "fin_planning": 4}
    assert draft.answer_versions == {"kf_turnover_sek": 1, "fin_sources": 1, "fin_planning": 1}
    again = services.assessment_answer(advisor, draft, "fin_planning", 5, expected_version=1)
    assert (again.version, again.changed) == (2, True)


def test_answer_audit_event_has_before_and_after(advisor, draft):
    services.assessment_answer(advisor, draft, "fin_planning", 2)
    services.assessment_answer(advisor, draft, "fin_planning", 4)
    latest = _events(draft, "update").first()
    assert latest.changes == {"fin_planning": {"before": 2, "after": 4}}
    assert (latest.scope_type, latest.scope_id) == ("assessments.assessment", str(draft.pk))


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("fin_planning", 7, "Choose a level from 0 to 5 (got 7)."),
        ("fin_financier_dialogue", "weekly", "Unknown option 'weekly'"),
        ("fin_sources", ["none", "bank_loan"], "The option 'none' cannot be combined with other options."),
        ("kf_export_share", "100.01", "Enter a value from 0 to 100 (got 100.01)."),
        ("kf_turnover_sek", "1,5", "is not a number"),
    ],
)
def test_invalid_answers_are_refused(advisor, draft, question, value, message):
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_answer(advisor, draft, question, value)
    assert message in exc_info.value.message_dict[question][0]
    draft.refresh_from_db()
    assert question not in draft.answers
    assert not _events(draft, "update").exists()


def test_unknown_question_is_refused(advisor, draft):
    with pytest.raises(ValidationError, match="no question nope"):
        services.assessment_answer(advisor, draft, "nope", 1)


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_an_empty_value_removes_the_answer(advisor, draft, empty):
    question = "fin_sources" if isinstance(empty, list) else "fin_planning"
    services.assessment_answer(advisor, draft, question, ["bank_loan"] if question == "fin_sources" else 3)
    saved = services.assessment_answer(advisor, draft, question, empty)
    assert (saved.value, saved.version, saved.changed) == (None, 2, True)
    draft.refresh_from_db()
    assert question not in draft.answers
    assert draft.answer_versions[question] == 2


def test_the_same_value_again_changes_nothing(advisor, draft):
    services.assessment_answer(advisor, draft, "fin_planning", 3)
    saved = services.assessment_answer(advisor, draft, "fin_planning", "3")
    assert (saved.version, saved.changed) == (1, False)
    assert _events(draft, "update").count() == 1


def test_a_stale_version_with_another_value_is_a_conflict(advisor, make_user, draft):
    colleague = make_user(Role.ADVISOR)
    services.assessment_answer(advisor, draft, "fin_planning", 2, expected_version=0)
    with pytest.raises(services.AnswerConflict) as exc_info:
        services.assessment_answer(colleague, draft, "fin_planning", 4, expected_version=0)
    assert exc_info.value.current_value == 2
    assert exc_info.value.current_version == 1
    assert "Someone else changed this answer" in exc_info.value.messages[0]
    assert "It now reads: 2." in exc_info.value.messages[0]
    draft.refresh_from_db()
    assert draft.answers["fin_planning"] == 2
    # The same value as the one saved meanwhile is no conflict; the current version is fine too.
    same = services.assessment_answer(colleague, draft, "fin_planning", 2, expected_version=0)
    assert (same.changed, same.version) == (False, 1)
    newer = services.assessment_answer(colleague, draft, "fin_planning", 4, expected_version=1)
    assert (newer.changed, newer.version) == (True, 2)


def test_details_can_be_set_and_are_audited(advisor, draft):
    services.assessment_set_details(advisor, draft, notes="Ägarna vill växa.", phase="follow_up",
                                    conducted_on=dt.date(2025, 4, 1))
    draft.refresh_from_db()
    assert (draft.notes, draft.phase, draft.conducted_on) == ("Ägarna vill växa.", "follow_up", dt.date(2025, 4, 1))
    assert set(_events(draft, "update").get().changes) == {"notes", "phase", "conducted_on"}
    with pytest.raises(ValidationError):
        services.assessment_set_details(advisor, draft, phase="later")


# --- Completing -------------------------------------------------------------------------------


def test_complete_refuses_missing_required_answers_and_names_them(advisor, draft):
    services.assessment_answer(advisor, draft, "fin_planning", 3)
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_complete(advisor, draft)
    message = _message(exc_info)
    assert message.startswith("Answer the required questions before completing:")
    instrument = draft.instrument()
    for question_id in ("ga_ambition", "kf_year", "pe_planning", "cn_gaps"):
        assert instrument.question(question_id).text.en in message
    assert instrument.question("fin_planning").text.en not in message
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.completed_at is None and draft.scores is None


def test_a_revealed_required_question_must_be_answered_too(advisor, draft):
    answers = required_answers(draft.instrument(), cn_gaps="no")
    answer_required(advisor, draft, cn_gaps="no")
    assert "cn_description" not in answers
    services.assessment_answer(advisor, draft, "cn_gaps", "yes")
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_complete(advisor, draft)
    assert draft.instrument().question("cn_description").text.en in _message(exc_info)


def test_complete_refuses_invalid_stored_answers(advisor, draft):
    answer_required(advisor, draft)
    Assessment.objects.filter(pk=draft.pk).update(answers={**draft.answers, "fin_planning": 9, "bogus": 1})
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_complete(advisor, draft)
    messages = exc_info.value.messages
    assert any(m.startswith("fin_planning: Choose a level from 0 to 5") for m in messages)
    assert any(m.startswith("bogus: Unknown question") for m in messages)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_completing_freezes_the_scores(advisor, draft):
    answers = required_answers(draft.instrument(), level=3, kf_export_share="12", fin_sources=["bank_loan"])
    complete(advisor, draft, level=3, kf_export_share="12", fin_sources=["bank_loan"])
    draft.refresh_from_db()
    expected = rules.score(draft.instrument(), answers)
    assert draft.status == "completed"
    assert draft.completed_at is not None and draft.completed_by == advisor
    assert draft.scores == rules.score_to_json(expected)
    assert draft.overall_score == expected.overall
    assert draft.overall_band == expected.band
    # financing: fin_planning 3 → 60, fin_sources bank_loan → 20: 40.0
    assert draft.scores["dimensions"]["financing"]["score"] == 40.0
    event = _events(draft, "update").filter(message="Completed").get()
    assert event.changes["status"] == {"before": "draft", "after": "completed"}
    assert (event.scope_type, event.scope_id) == ("companies.company", str(draft.company_id))


def test_a_completed_assessment_is_locked(advisor, draft):
    complete(advisor, draft)
    with pytest.raises(ValidationError, match="completed and locked"):
        services.assessment_answer(advisor, draft, "fin_planning", 1)
    with pytest.raises(ValidationError, match="already completed"):
        services.assessment_complete(advisor, draft)
    with pytest.raises(ValidationError, match="completed and locked"):
        services.assessment_set_details(advisor, draft, phase="follow_up")
    # Notes may still be added.
    services.assessment_set_details(advisor, draft, notes="Uppföljning bokad.")
    draft.refresh_from_db()
    assert draft.notes == "Uppföljning bokad."


def test_completing_derives_needs_below_threshold(advisor, draft):
    # Everything at level 1 (20) except production (level 4: 80) and internationalisation.
    complete(
        advisor, draft, level=1, pe_planning=4, pe_improvement=4, in_exports="regular", kf_export_share="45",
        fin_planning=2,
    )
    draft.refresh_from_db()
    needs = list(Need.objects.filter(assessment=draft).order_by("priority"))
    dimensions = [need.dimension for need in needs]
    assert set(dimensions) == {"financing", "service_addition", "growth_and_competence"}
    assert [need.priority for need in needs] == [1, 2, 3]
    # Lowest score first; financing (level 2 = 40 and level-1 answers) is not the lowest.
    assert [need.score for need in needs] == sorted(need.score for need in needs)
    by_dimension = {need.dimension: need for need in needs}
    assert by_dimension["financing"].focus_area == FocusArea.objects.get(key="financing")
    assert by_dimension["service_addition"].focus_area.key == "service_addition"
    assert all(need.source == "derived" and need.status == "open" for need in needs)
    assert by_dimension["financing"].title == "Strengthen the financing of growth"
    assert "(threshold 50)" in by_dimension["financing"].rationale
    for need in needs:
        assert need.score == Decimal(str(draft.scores["dimensions"][need.dimension]["score"]))
        event = _events(need, "create").get()
        assert event.scope_id == str(draft.company_id)


def test_a_maturity_assessment_has_needs_without_focus_area(advisor, company):
    assessment = completed_assessment(advisor, company, DIGITAL, level=1)
    needs = Need.objects.filter(assessment=assessment)
    assert needs.count() == 6
    assert not needs.filter(focus_area__isnull=False).exists()


# --- Correcting -------------------------------------------------------------------------------


def test_correction_needs_a_reason_and_a_completed_assessment(advisor, draft):
    with pytest.raises(ValidationError, match="Only a completed assessment"):
        services.assessment_correct(advisor, draft, reason="Fel")
    complete(advisor, draft)
    with pytest.raises(ValidationError) as exc_info:
        services.assessment_correct(advisor, draft, reason="   ")
    assert exc_info.value.message_dict["reason"] == ["Say why the assessment is corrected."]


def test_correction_copies_the_answers_and_only_one_is_open(advisor, draft):
    complete(advisor, draft)
    draft.refresh_from_db()
    revision = services.assessment_correct(advisor, draft, reason="Fel omsättning angavs.")
    assert revision.status == "draft"
    assert revision.revises == draft
    assert revision.answers == draft.answers and revision.answer_versions == draft.answer_versions
    assert (revision.company, revision.instrument_version, revision.phase, revision.conducted_on) == (
        draft.company, draft.instrument_version, draft.phase, draft.conducted_on)
    assert revision.revision_reason == "Fel omsättning angavs."
    event = _events(revision, "create").get()
    assert event.message == "Correction opened" and event.scope_id == str(draft.company_id)
    with pytest.raises(ValidationError, match="already in progress"):
        services.assessment_correct(advisor, draft, reason="Igen")
    draft.refresh_from_db()
    assert draft.status == "completed"


def test_completing_a_correction_supersedes_the_original_and_moves_its_needs(advisor, draft):
    complete(advisor, draft, level=1)
    original_needs = set(Need.objects.filter(assessment=draft).values_list("pk", flat=True))
    assert len(original_needs) == 5
    addressed = Need.objects.filter(assessment=draft, dimension="financing").get()
    services.need_save(advisor, draft.company, {"status": NeedStatus.ADDRESSED}, need=addressed)

    revision = services.assessment_correct(advisor, draft, reason="Produktionen var underskattad.")
    services.assessment_answer(advisor, revision, "pe_planning", 5)
    services.assessment_answer(advisor, revision, "pe_improvement", 5)
    services.assessment_answer(advisor, revision, "pe_automation", "connected")
    services.assessment_answer(advisor, revision, "pe_kpis", ["utilisation", "lead_time", "quality", "unit_cost"])
    services.assessment_complete(advisor, revision)

    draft.refresh_from_db()
    revision.refresh_from_db()
    assert draft.status == "superseded" and revision.status == "completed"
    superseded = _events(draft, "update").filter(changes__status__after="superseded").get()
    assert "Produktionen var underskattad." in superseded.message
    # Open derived needs moved to the revision; the one addressed stays with the original.
    assert Need.objects.get(pk=addressed.pk).assessment_id == draft.pk
    moved = Need.objects.filter(assessment=revision, pk__in=original_needs)
    assert set(moved.values_list("pk", flat=True)) == original_needs - {addressed.pk}
    # Production is no longer a need: dismissed, not deleted.
    production = moved.get(dimension="production_efficiency")
    assert production.status == NeedStatus.DISMISSED
    assert moved.filter(status="open").count() == 3
    # Financing still scores below the threshold, so the revision derives it again.
    new = Need.objects.filter(assessment=revision).exclude(pk__in=original_needs).get()
    assert (new.dimension, new.status) == ("financing", "open")
    # A superseded assessment cannot be corrected again.
    with pytest.raises(ValidationError):
        services.assessment_correct(advisor, draft, reason="Igen")


# --- Self-assessment --------------------------------------------------------------------------


@pytest.fixture
def contact(company):
    return ContactFactory(company=company, name="Karin Lund", email="karin@storsjons.example")


def _invite(advisor, assessment, contact=None, **kwargs):
    kwargs.setdefault("email", "karin@storsjons.example")
    return services.self_assessment_invite(advisor, assessment, contact=contact, base_url="https://sim.example/",
                                           **kwargs)


def test_invite_sends_a_personal_link(advisor, draft, contact):
    link, url = _invite(advisor, draft, contact)
    draft.refresh_from_db()
    assert draft.status == "awaiting_company"
    (message,) = mail.outbox
    assert message.to == ["karin@storsjons.example"]
    assert url in message.body
    secret = re.search(r"/self/([^/]+)/", url).group(1)
    assert url == f"https://sim.example/assessments/self/{secret}/"
    assert link.digest == SelfAssessmentLink.digest_of(secret) and secret not in link.digest
    assert link.expires_at - timezone.now() > dt.timedelta(days=13)
    assert services.self_assessment_link_for(secret) == link
    event = _events(draft, "update").get()
    assert event.changes["self_assessment_link_sent_to"]["after"] == "karin@storsjons.example"
    assert event.scope_id == str(draft.company_id)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"email": "not an address"}, "email", "Enter a valid e-mail address."),
        ({"valid_days": 0}, "valid_days", "A link can be valid for 1 to 90 days."),
        ({"valid_days": 91}, "valid_days", "A link can be valid for 1 to 90 days."),
    ],
)
def test_invite_validation(advisor, draft, kwargs, field, message):
    with pytest.raises(ValidationError) as exc_info:
        _invite(advisor, draft, **kwargs)
    assert exc_info.value.message_dict[field] == [message]
    assert not mail.outbox and not SelfAssessmentLink.objects.exists()


def test_invite_refuses_a_contact_of_another_company(advisor, draft):
    stranger = ContactFactory(company=CompanyFactory())
    with pytest.raises(ValidationError) as exc_info:
        _invite(advisor, draft, stranger)
    assert exc_info.value.message_dict["contact"] == ["The contact must belong to the company."]


def test_invite_refuses_a_completed_assessment(advisor, draft):
    complete(advisor, draft)
    with pytest.raises(ValidationError, match="in progress"):
        _invite(advisor, draft)


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked", "submitted"])
def test_unusable_links_do_not_resolve(advisor, draft, state):
    link, url = _invite(advisor, draft)
    secret = re.search(r"/self/([^/]+)/", url).group(1)
    if state == "unknown":
        secret = secret[:-2] + "xx"
    elif state == "expired":
        SelfAssessmentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif state == "revoked":
        services.self_assessment_revoke(advisor, link)
        assert _events(draft, "update").filter(changes__has_key="self_assessment_link_revoked").exists()
    else:
        services.self_assessment_submit(link)
    assert services.self_assessment_link_for(secret) is None
    assert services.self_assessment_link_for("") is None
    assert services.self_assessment_link_for("x" * 200) is None


def test_the_company_answers_while_awaiting_and_submits(advisor, draft):
    with pytest.raises(ValidationError, match="cannot be changed now"):
        services.assessment_answer(None, draft, "fin_planning", 3, by_company=True)
    link, _url = _invite(advisor, draft)
    other, _other_url = _invite(advisor, draft, email="vd@storsjons.example")
    saved = services.assessment_answer(None, draft, "fin_planning", 3, by_company=True)
    assert saved.changed
    submitted = services.self_assessment_submit(link)
    assert submitted.status == "submitted"
    link.refresh_from_db()
    other.refresh_from_db()
    assert link.submitted_at is not None and link.revoked_at is None
    assert other.revoked_at == link.submitted_at
    event = _events(draft, "update").get(message="Submitted by karin@storsjons.example")
    assert event.actor is None and event.changes["status"] == {"before": "awaiting_company", "after": "submitted"}
    # The company can no longer change answers; the advisor reviews and completes.
    with pytest.raises(ValidationError, match="cannot be changed now"):
        services.assessment_answer(None, draft, "fin_planning", 4, by_company=True)
    with pytest.raises(ValidationError):
        services.self_assessment_submit(link)
    services.assessment_answer(advisor, draft, "fin_planning", 4)
    complete(advisor, draft)
    draft.refresh_from_db()
    assert draft.status == "completed"


# --- Needs ------------------------------------------------------------------------------------


def test_advisor_adds_and_edits_a_need(advisor, company):
    focus = FocusArea.objects.get(key="internationalisation")
    need = services.need_save(advisor, company, {"title": "Exportplan för Norge", "priority": 2, "focus_area": focus,
                                                 "rationale": "Kunder i Trondheim frågar."})
    assert (need.source, need.status, need.created_by, need.assessment) == ("advisor", "open", advisor, None)
    created = _events(need, "create").get()
    assert created.scope_id == str(company.pk) and created.changes["title"]["after"] == "Exportplan för Norge"
    services.need_save(advisor, company, {"status": NeedStatus.ADDRESSED}, need=need)
    need.refresh_from_db()
    assert need.status == "addressed"
    assert _events(need, "update").get().changes == {"status": {"before": "open", "after": "addressed"}}
    services.need_save(advisor, company, {"status": NeedStatus.ADDRESSED}, need=need)
    assert _events(need, "update").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "  "}, "title", "Describe the need."),
        ({"title": "Behov", "priority": 0}, "priority", "Priority is a number from 1 (most urgent) to 99."),
        ({"title": "Behov", "priority": 100}, "priority", "Priority is a number from 1 (most urgent) to 99."),
        ({"title": "Behov", "score": 10}, "score", "Unknown field."),
        ({"title": "Behov", "status": "maybe"}, "status", "is not a valid choice"),
    ],
)
def test_need_validation(advisor, company, data, field, message):
    with pytest.raises(ValidationError) as exc_info:
        services.need_save(advisor, company, data)
    assert message in exc_info.value.message_dict[field][0]
    assert not Need.objects.exists()


def test_a_need_of_another_company_cannot_be_edited_through_this_one(advisor, company):
    need = services.need_save(advisor, CompanyFactory(), {"title": "Behov"})
    with pytest.raises(ValidationError, match="another company"):
        services.need_save(advisor, company, {"title": "Kapat"}, need=need)


# --- Growth plans -----------------------------------------------------------------------------


@pytest.fixture
def with_needs(advisor, company):
    assessment = completed_assessment(advisor, company, GROWTH, level=1, fin_planning=2, pe_planning=4)
    services.need_save(advisor, company, {"title": "Rekrytera en produktionstekniker", "priority": 1})
    return assessment


def test_plan_from_needs_has_one_action_per_open_need_most_urgent_first(advisor, company, with_needs):
    Need.objects.filter(company=company, dimension="financing").update(status=NeedStatus.DISMISSED)
    plan = services.growth_plan_create(advisor, company, title="Tillväxtplan 2025", assessment=with_needs)
    open_needs = list(Need.objects.filter(company=company, status="open").order_by("priority", "id"))
    actions = list(plan.actions.order_by("order"))
    assert [a.need for a in actions] == open_needs
    assert [a.order for a in actions] == list(range(1, len(open_needs) + 1))
    assert actions[0].title == open_needs[0].title
    assert all(a.focus_area_id == a.need.focus_area_id for a in actions)
    assert (plan.status, plan.title, plan.assessment, plan.shared_with_company) == (
        "draft", "Tillväxtplan 2025", with_needs, False)
    assert plan.period_start == timezone.localdate() and plan.period_end > plan.period_start
    assert _events(plan, "create").get().scope_id == str(company.pk)
    assert AuditEvent.objects.filter(object_type="assessments.growthaction", action="create",
                                     scope_id=str(company.pk)).count() == len(actions)


def test_plan_without_needs_and_default_title(advisor, company, with_needs):
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    assert not plan.actions.exists()
    assert plan.title == f"Growth plan {timezone.localdate().year}"


def test_plan_refuses_archived_company_and_foreign_assessment(advisor, company, with_needs):
    with pytest.raises(ValidationError, match="another company"):
        services.growth_plan_create(advisor, CompanyFactory(), assessment=with_needs)
    archived = CompanyFactory(status="archived", archived_at=timezone.now())
    with pytest.raises(ValidationError, match="Restore the company"):
        services.growth_plan_create(advisor, archived)
    assert not GrowthPlan.objects.exists()


def test_plan_update_validates_the_period_and_sets_agreed_on(advisor, company):
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    with pytest.raises(ValidationError) as exc_info:
        services.growth_plan_update(advisor, plan, {"period_start": dt.date(2026, 1, 1),
                                                    "period_end": dt.date(2025, 1, 1)})
    assert exc_info.value.message_dict["period_end"] == ["The plan cannot end before it starts."]
    with pytest.raises(ValidationError, match="Unknown field"):
        services.growth_plan_update(advisor, plan, {"company": CompanyFactory()})
    plan = GrowthPlan.objects.get(pk=plan.pk)
    services.growth_plan_update(advisor, plan, {"status": "agreed", "shared_with_company": True,
                                                "summary": "Fokus på export."})
    plan.refresh_from_db()
    assert plan.agreed_on == timezone.localdate()
    assert plan.shared_with_company
    event = _events(plan, "update").get()
    assert set(event.changes) == {"status", "agreed_on", "shared_with_company", "summary"}
    with pytest.raises(ValidationError) as exc_info:
        services.growth_plan_update(advisor, plan, {"status": "finished"})
    assert "status" in exc_info.value.message_dict


def test_goals_and_actions_are_saved_and_audited(advisor, company, with_needs):
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    goal = services.growth_goal_save(advisor, plan, {
        "title": "Omsättning 30 MSEK", "metric": "turnover_sek", "baseline": Decimal("21000000"),
        "target": Decimal("30000000"), "unit": "SEK", "target_date": dt.date(2027, 12, 31),
    })
    assert GrowthGoal.objects.get(pk=goal.pk).target == Decimal("30000000")
    services.growth_goal_save(advisor, plan, {"target": Decimal("32000000")}, goal=goal)
    assert _events(goal, "update").get().changes == {"target": {"before": "30000000", "after": "32000000"}}
    need = Need.objects.filter(company=company).first()
    action = services.growth_action_save(advisor, plan, {
        "title": "Ta fram exportplan", "owner": "VD", "due_date": dt.date(2026, 6, 30), "need": need,
        "focus_area": need.focus_area, "status": "in_progress",
    })
    assert GrowthAction.objects.get(pk=action.pk).need == need
    assert _events(action, "create").get().scope_id == str(company.pk)
    for bad, field in [({"title": ""}, "title"), ({"title": "x", "metric": "profit"}, "metric"),
                       ({"title": "x", "metric": "staff_awu", "target": Decimal("-1")}, "target")]:
        with pytest.raises(ValidationError) as exc_info:
            services.growth_goal_save(advisor, plan, bad)
        assert field in exc_info.value.message_dict
    with pytest.raises(ValidationError) as exc_info:
        services.growth_action_save(advisor, plan, {"title": "x", "status": "someday"})
    assert "status" in exc_info.value.message_dict
    other_plan = services.growth_plan_create(advisor, company, from_needs=False)
    with pytest.raises(ValidationError, match="another plan"):
        services.growth_goal_save(advisor, other_plan, {"title": "Flytt"}, goal=goal)


def test_an_action_cannot_point_at_a_need_of_another_company(advisor, company):
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    foreign = services.need_save(advisor, CompanyFactory(), {"title": "Annat företags behov"})
    with pytest.raises(ValidationError) as exc_info:
        services.growth_action_save(advisor, plan, {"title": "Lån", "need": foreign})
    assert exc_info.value.message_dict["need"] == ["The need belongs to another company."]
    assert not plan.actions.exists()


def test_parts_are_removed_only_from_a_draft_plan(advisor, company):
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    goal = services.growth_goal_save(advisor, plan, {"title": "Fler anställda", "metric": "staff_awu"})
    action = services.growth_action_save(advisor, plan, {"title": "Rekrytera"})
    services.growth_part_remove(advisor, goal)
    assert not GrowthGoal.objects.filter(pk=goal.pk).exists()
    removed = AuditEvent.objects.get(object_type="assessments.growthgoal", action="archive")
    assert removed.changes["title"]["before"] == "Fler anställda" and removed.scope_id == str(company.pk)
    services.growth_plan_update(advisor, plan, {"status": "agreed"})
    action.plan.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a draft plan"):
        services.growth_part_remove(advisor, action)
    assert GrowthAction.objects.filter(pk=action.pk).exists()


def test_a_plan_created_on_a_leap_day_runs_two_years(advisor, company, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: dt.date(2028, 2, 29))
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    assert (plan.period_start, plan.period_end) == (dt.date(2028, 2, 29), dt.date(2030, 2, 28))


def test_growth_actions_link_to_the_companys_referrals_and_interventions(make_user):
    from sim.programmes.tests.routing_builders import make_intervention, make_project, make_referral

    advisor = make_user("advisor")
    company = CompanyFactory()
    other = CompanyFactory()
    project = make_project(advisor)
    plan = services.growth_plan_create(advisor, company, from_needs=False)
    referral = make_referral(project, company, advisor=advisor)
    intervention = make_intervention(project, company)
    action = services.growth_action_save(advisor, plan, {
        "title": "Produktionslyftet", "referral": referral, "intervention": intervention})
    action.refresh_from_db()
    assert (action.referral, action.intervention) == (referral, intervention)
    foreign = make_referral(project, other, advisor=advisor)
    with pytest.raises(ValidationError, match="another company"):
        services.growth_action_save(advisor, plan, {"title": "Fel företag", "referral": foreign})
