"""Routing services: the referral and intervention state machines (every pair of statuses), referring,
approving against de minimis and budget, decision documents, and follow-ups (manual and automatic)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from sim.assessments.models import GrowthGoal, GrowthPlan
from sim.companies.models import CompanyStatus
from sim.companies.tests.factories import CompanyFactory, OwnershipLinkFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import services, states
from sim.programmes.models import FollowUp, Intervention, InterventionStatus, Referral, ReferralStatus
from sim.stateaid.tests.factories import ExchangeRateFactory

from .routing_builders import english_settings, make_intervention, make_offer, make_project, make_referral

pytestmark = pytest.mark.django_db

R = ReferralStatus
I = InterventionStatus  # noqa: E741
TODAY = timezone.localdate()
BASE = TODAY - dt.timedelta(days=60)


@pytest.fixture(autouse=True)
def english(settings, db):
    ExchangeRateFactory(sek_per_eur=Decimal("10"))  # EUR 1 = SEK 10 in the de minimis ledger
    with english_settings(settings):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR, first_name="Anna", last_name="Berg")


@pytest.fixture
def project(advisor):
    return make_project(advisor, budget=Decimal("1000000"))


@pytest.fixture
def company():
    return CompanyFactory(name="Storsjöns Mekaniska AB")


# --- The state machines as tables -----------------------------------------------------------

# Written out independently of states.py: the specification the table must meet.
REFERRAL_ALLOWED = {
    (R.PROPOSED, R.ACCEPTED), (R.PROPOSED, R.DECLINED), (R.PROPOSED, R.WITHDRAWN),
    (R.ACCEPTED, R.STARTED), (R.ACCEPTED, R.DECLINED), (R.ACCEPTED, R.WITHDRAWN),
    (R.STARTED, R.COMPLETED), (R.STARTED, R.WITHDRAWN),
}
INTERVENTION_ALLOWED = {
    (I.DRAFT, I.APPROVED), (I.DRAFT, I.CANCELLED),
    (I.APPROVED, I.IN_PROGRESS), (I.APPROVED, I.CANCELLED),
    (I.IN_PROGRESS, I.DELIVERED), (I.IN_PROGRESS, I.CANCELLED),
    (I.DELIVERED, I.CLOSED),
}
REFERRAL_PAIRS = [(a, b) for a in R.values for b in R.values]
INTERVENTION_PAIRS = [(a, b) for a in I.values for b in I.values]


@pytest.mark.parametrize(("current", "target"), REFERRAL_PAIRS)
def test_referral_table(current, target):
    assert states.referral_move_allowed(current, target) is ((current, target) in REFERRAL_ALLOWED)


@pytest.mark.parametrize(("current", "target"), INTERVENTION_PAIRS)
def test_intervention_table(current, target):
    assert states.intervention_move_allowed(current, target) is ((current, target) in INTERVENTION_ALLOWED)


def test_tables_cover_every_status_and_closed_states_are_final():
    assert set(states.REFERRAL_TRANSITIONS) == set(R.values)
    assert set(states.INTERVENTION_TRANSITIONS) == set(I.values)
    for final in (R.COMPLETED, R.DECLINED, R.WITHDRAWN):
        assert states.referral_next_statuses(final) == []
    for final in (I.CLOSED, I.CANCELLED):
        assert states.intervention_next_statuses(final) == []
    assert states.referral_next_statuses(R.PROPOSED) == [R.ACCEPTED, R.DECLINED, R.WITHDRAWN]
    assert {R.PROPOSED, R.ACCEPTED, R.STARTED} == states.REFERRAL_OPEN


# --- Every pair through the services --------------------------------------------------------

REFERRAL_DATES = {
    R.PROPOSED: {},
    R.ACCEPTED: {"accepted_on": BASE + dt.timedelta(days=1)},
    R.STARTED: {"accepted_on": BASE + dt.timedelta(days=1), "started_on": BASE + dt.timedelta(days=2)},
    R.COMPLETED: {"accepted_on": BASE + dt.timedelta(days=1), "started_on": BASE + dt.timedelta(days=2),
                  "completed_on": BASE + dt.timedelta(days=3)},
    R.DECLINED: {"declined_on": BASE + dt.timedelta(days=1), "reason": "Inte nu"},
    R.WITHDRAWN: {"withdrawn_on": BASE + dt.timedelta(days=1), "reason": "Fel program"},
}


def referral_in(project, company, status, advisor):
    return make_referral(project, company, advisor=advisor, status=status, proposed_on=BASE, **REFERRAL_DATES[status])


@pytest.mark.parametrize(("current", "target"), REFERRAL_PAIRS)
def test_referral_move_every_pair(project, company, advisor, current, target):
    referral = referral_in(project, company, current, advisor)
    if (current, target) in REFERRAL_ALLOWED:
        moved = services.referral_move(advisor, referral, target, reason="Företaget avböjde")
        assert moved.status == target
        assert getattr(moved, states.REFERRAL_DATE_FIELD[target]) == TODAY
    else:
        with pytest.raises(services.TransitionRefused) as refused:
            services.referral_move(advisor, referral, target, reason="x")
        referral.refresh_from_db()
        assert referral.status == current
        message = " ".join(refused.value.messages)
        assert "cannot" in message


def test_completing_what_was_never_started_is_refused_with_the_allowed_moves(project, company, advisor):
    referral = referral_in(project, company, R.ACCEPTED, advisor)
    with pytest.raises(services.TransitionRefused) as refused:
        services.referral_move(advisor, referral, R.COMPLETED)
    assert refused.value.messages == [
        "A referral that is accepted cannot become completed. It can become: started, declined, withdrawn."
    ]
    final = referral_in(project, CompanyFactory(), R.COMPLETED, advisor)
    with pytest.raises(services.TransitionRefused, match="completed: it cannot change any more"):
        services.referral_move(advisor, final, R.WITHDRAWN, reason="x")


def intervention_in(project, company, status):
    dates = {}
    chain = [I.APPROVED, I.IN_PROGRESS, I.DELIVERED, I.CLOSED]
    if status in chain:
        for step, offset in zip(chain[: chain.index(status) + 1], range(1, 5), strict=False):
            dates[states.INTERVENTION_DATE_FIELD[step]] = BASE + dt.timedelta(days=offset)
    if status == I.CANCELLED:
        dates = {"cancelled_on": BASE, "cancel_reason": "Avbröts"}
    return make_intervention(project, company, status=status, budget=Decimal(1000), aid=Decimal(1000), **dates)


@pytest.mark.parametrize(("current", "target"), INTERVENTION_PAIRS)
def test_intervention_move_every_pair(project, company, advisor, current, target):
    intervention = intervention_in(project, company, current)
    if target == I.APPROVED:
        # Approval is a decision of its own: never through intervention_move…
        with pytest.raises(services.TransitionRefused):
            services.intervention_move(advisor, intervention, target)
        # …but through intervention_approve, from a draft only.
        if current == I.DRAFT:
            assert services.intervention_approve(advisor, intervention).status == I.APPROVED
        else:
            with pytest.raises(services.ApprovalRefused, match="Only a draft can be approved"):
                services.intervention_approve(advisor, intervention)
        return
    if (current, target) in INTERVENTION_ALLOWED:
        moved = services.intervention_move(advisor, intervention, target, reason="Företaget lade ned")
        assert moved.status == target
        assert getattr(moved, states.INTERVENTION_DATE_FIELD[target]) == TODAY
    else:
        with pytest.raises(services.TransitionRefused, match="cannot"):
            services.intervention_move(advisor, intervention, target, reason="x")
        intervention.refresh_from_db()
        assert intervention.status == current


# --- Referring ------------------------------------------------------------------------------


def test_referral_create_is_audited_and_defaults_to_the_actor(project, company, advisor):
    offer = make_offer(project, title="Produktionslyftet")
    referral = services.referral_create(advisor, company, offer, notes=" Ring VD ")
    assert (referral.status, referral.advisor, referral.project, referral.proposed_on) == (R.PROPOSED, advisor, project, TODAY)
    assert referral.notes == "Ring VD"
    event = AuditEvent.objects.get(object_type="programmes.referral", object_id=str(referral.pk))
    assert event.action == "create"
    assert (event.scope_type, event.scope_id) == ("companies.company", str(company.pk))


def test_referral_requires_an_active_current_offer_of_the_same_project(project, company, advisor):
    closed = make_offer(project, title="Stängt", active=False)
    with pytest.raises(ValidationError, match="not open for referrals"):
        services.referral_create(advisor, company, closed)
    ended = make_offer(project, title="Slut", available_from=TODAY - dt.timedelta(days=100),
                       available_to=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="ended on"):
        services.referral_create(advisor, company, ended)
    other_project = make_project(advisor)
    offer = make_offer(other_project, title="Annat projekt")
    with pytest.raises(ValidationError, match="belongs to another project"):
        services.referral_create(advisor, company, offer, project=project)


def test_referral_only_in_own_projects_and_to_members(project, company, advisor, make_user):
    outsider = make_user(Role.ADVISOR)
    offer = make_offer(project)
    with pytest.raises(ValidationError, match="not a member of the project"):
        services.referral_create(outsider, company, offer)
    with pytest.raises(ValidationError) as refused:
        services.referral_create(advisor, company, offer, advisor=outsider)
    assert "advisor" in refused.value.message_dict


def test_duplicate_open_referral_refused_until_the_first_is_closed(project, company, advisor):
    offer = make_offer(project, title="Exportlyftet")
    first = services.referral_create(advisor, company, offer)
    with pytest.raises(ValidationError, match="already has an open referral to Exportlyftet"):
        services.referral_create(advisor, company, offer)
    services.referral_move(advisor, first, R.DECLINED, reason="Inte just nu")
    second = services.referral_create(advisor, company, offer)
    assert second.pk != first.pk
    # Another offer is no duplicate.
    services.referral_create(advisor, company, make_offer(project))
    assert Referral.objects.filter(company=company).count() == 3


def test_archived_company_cannot_be_referred(project, advisor):
    company = CompanyFactory(status=CompanyStatus.ARCHIVED)
    with pytest.raises(ValidationError, match="archived"):
        services.referral_create(advisor, company, make_offer(project))


def test_referral_move_needs_a_reason_to_decline_or_withdraw(project, company, advisor):
    referral = referral_in(project, company, R.PROPOSED, advisor)
    for target in (R.DECLINED, R.WITHDRAWN):
        with pytest.raises(ValidationError) as refused:
            services.referral_move(advisor, referral, target, reason="  ")
        assert "reason" in refused.value.message_dict
    moved = services.referral_move(advisor, referral, R.WITHDRAWN, reason="Fel erbjudande")
    assert (moved.reason, moved.withdrawn_on) == ("Fel erbjudande", TODAY)


def test_referral_move_dates_in_order_and_not_in_the_future(project, company, advisor):
    referral = referral_in(project, company, R.ACCEPTED, advisor)  # accepted BASE + 1
    with pytest.raises(ValidationError, match="before the referral's last change"):
        services.referral_move(advisor, referral, R.STARTED, on=BASE)
    with pytest.raises(ValidationError, match="future"):
        services.referral_move(advisor, referral, R.STARTED, on=TODAY + dt.timedelta(days=1))
    moved = services.referral_move(advisor, referral, R.STARTED, on=BASE + dt.timedelta(days=1))
    assert moved.started_on == BASE + dt.timedelta(days=1)
    event = AuditEvent.objects.filter(object_type="programmes.referral", object_id=str(referral.pk)).first()
    assert event.message == "accepted → started"
    assert event.changes["status"] == {"before": "accepted", "after": "started"}


def test_referral_update_changes_advisor_and_notes(project, company, advisor, make_user):
    colleague = make_user(Role.ADVISOR)
    project.memberships.create(user=colleague)
    referral = referral_in(project, company, R.PROPOSED, advisor)
    services.referral_update(advisor, referral, advisor=colleague, notes="Ny ansvarig")
    referral.refresh_from_db()
    assert (referral.advisor, referral.notes) == (colleague, "Ny ansvarig")


# --- Interventions --------------------------------------------------------------------------


def test_intervention_create_validates_goals_and_focus_area(project, company, advisor):
    plan = GrowthPlan.objects.create(company=company, title="Plan 2025")
    goal = GrowthGoal.objects.create(plan=plan, title="Export 30 %", metric="export_share_pct", baseline=10, target=30)
    other_goal = GrowthGoal.objects.create(plan=GrowthPlan.objects.create(company=CompanyFactory(), title="Annan"),
                                           title="Annat mål")
    data = {"title": "Automationsanalys", "budget_sek": Decimal(150000), "aid_amount_sek": Decimal(150000),
            "growth_goals": [goal]}
    intervention = services.intervention_create(advisor, project, company, data)
    assert list(intervention.growth_goals.all()) == [goal]
    assert intervention.status == I.DRAFT
    with pytest.raises(ValidationError, match="goals of this company"):
        services.intervention_create(advisor, project, company, {**data, "growth_goals": [other_goal]})
    with pytest.raises(ValidationError, match="title"):
        services.intervention_create(advisor, project, company, {**data, "title": "  "})
    from sim.programmes.models import FocusArea

    project.focus_areas.set([FocusArea.objects.get(key="financing")])
    with pytest.raises(ValidationError, match="not a focus area of the project"):
        services.intervention_create(advisor, project, company, {
            **data, "growth_goals": [], "focus_area": FocusArea.objects.get(key="internationalisation")})


def test_approval_refused_without_de_minimis_headroom_with_the_figures(project, company, advisor):
    parent = CompanyFactory(name="Koncernmor AB")
    OwnershipLinkFactory(holder=parent, held=company, voting_pct=Decimal(100), capital_pct=Decimal(100))
    make_intervention(project, parent, status=I.DELIVERED, budget=Decimal(0), aid=Decimal(2_800_000),
                      approved_on=TODAY - dt.timedelta(days=400))  # EUR 280,000 to the group
    draft = make_intervention(project, company, budget=Decimal(100_000), aid=Decimal(300_000))  # EUR 30,000
    with pytest.raises(services.ApprovalRefused) as refused:
        services.intervention_approve(advisor, draft)
    check = refused.value.check
    assert len(check.reasons) == 1
    assert check.aid.used_eur == Decimal("280000.00") and check.aid.headroom_eur == Decimal("20000.00")
    assert "(2 companies)" in check.reasons[0]
    assert "EUR 280,000.00 of EUR 300,000.00" in check.reasons[0]
    assert "would exceed the ceiling by EUR 10,000.00" in check.reasons[0]
    draft.refresh_from_db()
    assert draft.status == I.DRAFT


def test_approval_refused_when_the_budget_would_be_exceeded_with_the_figures(company, advisor):
    project = make_project(advisor, budget=Decimal(500_000))
    make_intervention(project, CompanyFactory(), status=I.APPROVED, budget=Decimal(300_000), aid=None,
                      is_state_aid=False, approved_on=TODAY)
    make_intervention(project, CompanyFactory(), status=I.CANCELLED, budget=Decimal(400_000), aid=None,
                      is_state_aid=False)  # cancelled: binds nothing
    make_intervention(project, CompanyFactory(), status=I.DRAFT, budget=Decimal(400_000))  # drafts bind nothing
    draft = make_intervention(project, company, budget=Decimal(250_000), aid=Decimal(250_000))
    with pytest.raises(services.ApprovalRefused) as refused:
        services.intervention_approve(advisor, draft)
    assert refused.value.check.reasons == [
        f"The budget for company support of {project.name} would be exceeded: SEK 300,000.00 is committed, this "
        "intervention's SEK 250,000.00 would make SEK 550,000.00 of SEK 500,000.00 (SEK 50,000.00 over; "
        "SEK 200,000.00 remains)."
    ]
    fits = make_intervention(project, CompanyFactory(), budget=Decimal(200_000), aid=Decimal(200_000))
    assert services.intervention_approve(advisor, fits).status == I.APPROVED  # exactly the budget


def test_approval_gives_every_reason_at_once(company, advisor):
    project = make_project(advisor, budget=None)
    draft = make_intervention(project, company, aid=None)
    with pytest.raises(services.ApprovalRefused) as refused:
        services.intervention_approve(advisor, draft)
    reasons = refused.value.check.reasons
    assert any("aid amount (gross grant equivalent)" in r for r in reasons)
    assert any("has no budget for company support" in r for r in reasons)


def test_approval_without_state_aid_skips_the_de_minimis_check(project, company, advisor, make_user):
    finance = make_user(Role.FINANCE_OFFICER)
    project.memberships.create(user=finance)
    make_intervention(project, company, status=I.APPROVED, aid=Decimal(3_000_000), approved_on=TODAY, budget=Decimal(0))
    draft = make_intervention(project, company, is_state_aid=False, aid=None, support_form="non_financial")
    approved = services.intervention_approve(finance, draft, on=TODAY - dt.timedelta(days=2))
    assert (approved.status, approved.approved_by, approved.approved_on) == (I.APPROVED, finance, TODAY - dt.timedelta(days=2))
    event = AuditEvent.objects.filter(object_type="programmes.intervention", object_id=str(draft.pk)).first()
    assert event.message.startswith("draft → approved")
    assert event.changes["status"] == {"before": "draft", "after": "approved"}


def test_approval_only_in_own_projects(project, company, make_user):
    outsider = make_user(Role.PROJECT_MANAGER)
    draft = make_intervention(project, company)
    with pytest.raises(ValidationError, match="not a member"):
        services.intervention_approve(outsider, draft)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_decision_document_is_stored_with_the_approval(project, company, advisor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_intervention(project, company)
    document = SimpleUploadedFile("beslut.pdf", PDF, content_type="application/pdf")
    approved = services.intervention_approve(advisor, draft, document=document)
    assert approved.decision_document.name.startswith(f"decisions/{project.pk}/")
    assert approved.decision_document.name.endswith("/beslut.pdf")
    with approved.decision_document.open("rb") as stored:
        assert stored.read() == PDF


@pytest.mark.parametrize(("name", "content", "message"), [
    ("beslut.exe", b"MZ\x90\x00", "is none of these"),
    ("beslut.html", b"<html>", "is none of these"),
    ("beslut.pdf", b"<html><script>", "is not a PDF file"),
    ("beslut.docx", b"%PDF-1.4", "is not a DOCX file"),
    ("beslut.pdf", b"", "empty"),
])
def test_decision_document_type_is_checked(project, company, advisor, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    draft = make_intervention(project, company)
    with pytest.raises(ValidationError, match=message):
        services.intervention_approve(advisor, draft, document=SimpleUploadedFile(name, content))
    draft.refresh_from_db()
    assert draft.status == I.DRAFT


def test_decision_document_size_is_checked(monkeypatch):
    monkeypatch.setattr(services, "DECISION_MAX_BYTES", 20)
    with pytest.raises(ValidationError, match="at most"):
        services.validate_decision_document(SimpleUploadedFile("beslut.pdf", PDF))
    services.validate_decision_document(SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10))


def test_decision_document_attached_later(project, company, advisor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_intervention(project, company)
    with pytest.raises(ValidationError, match="approved intervention"):
        services.intervention_attach_decision(advisor, draft, SimpleUploadedFile("b.pdf", PDF))
    approved = services.intervention_approve(advisor, draft)
    services.intervention_attach_decision(advisor, approved, SimpleUploadedFile("b.pdf", PDF))
    approved.refresh_from_db()
    assert approved.decision_document.name.endswith("/b.pdf")


def test_decided_figures_are_fixed_after_approval(project, company, advisor):
    intervention = services.intervention_approve(advisor, make_intervention(project, company))
    with pytest.raises(ValidationError) as refused:
        services.intervention_update(advisor, intervention, {"budget_sek": Decimal(999_999)})
    assert "budget_sek" in refused.value.message_dict
    services.intervention_update(advisor, intervention, {"results": "Ledtiden halverad", "budget_sek": intervention.budget_sek})
    intervention.refresh_from_db()
    assert intervention.results == "Ledtiden halverad"
    services.intervention_move(advisor, intervention, I.CANCELLED, reason="Företaget såldes")
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.intervention_update(advisor, intervention, {"results": "x"})


def test_cancelling_needs_a_reason(project, company, advisor):
    draft = make_intervention(project, company)
    with pytest.raises(ValidationError) as refused:
        services.intervention_move(advisor, draft, I.CANCELLED)
    assert "reason" in refused.value.message_dict
    cancelled = services.intervention_move(advisor, draft, I.CANCELLED, reason="Ingen finansiering")
    assert (cancelled.cancel_reason, cancelled.cancelled_on) == ("Ingen finansiering", TODAY)


# --- Follow-ups -----------------------------------------------------------------------------


def test_delivery_books_the_t1_assessment_six_months_later_once(project, advisor, make_user):
    owner = make_user(Role.ADVISOR)
    project.memberships.create(user=owner)
    company = CompanyFactory(owner_advisor=owner)
    intervention = intervention_in(project, company, I.IN_PROGRESS)
    delivered_on = dt.date(TODAY.year - 1, 8, 31)
    Intervention.objects.filter(pk=intervention.pk).update(approved_on=delivered_on - dt.timedelta(days=30),
                                                           started_on=delivered_on - dt.timedelta(days=20))
    services.intervention_move(advisor, intervention, I.DELIVERED, on=delivered_on)
    follow_up = FollowUp.objects.get(kind=FollowUp.Kind.T1_DUE)
    assert follow_up.source_key == f"intervention:{intervention.pk}"
    assert follow_up.due_on == services.add_months(delivered_on, 6)
    assert follow_up.due_on.month == 2 and follow_up.due_on.day in (28, 29)
    assert follow_up.assigned_to == owner  # the company's owner advisor, a project member
    assert follow_up.project == project
    assert follow_up.title.startswith("Book the follow-up assessment (T1)")
    assert services._t1_follow_up(advisor, intervention, source="web") is None  # once
    assert FollowUp.objects.filter(kind=FollowUp.Kind.T1_DUE).count() == 1


def test_t1_follow_up_goes_to_a_project_member(project, advisor, make_user):
    company = CompanyFactory(owner_advisor=make_user(Role.ADVISOR))  # not in the project
    intervention = intervention_in(project, company, I.IN_PROGRESS)
    services.intervention_move(advisor, intervention, I.DELIVERED)
    assert FollowUp.objects.get(kind=FollowUp.Kind.T1_DUE).assigned_to == advisor


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2025, 1, 15), 6, dt.date(2025, 7, 15)),
    (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 28)),
    (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),
    (dt.date(2025, 12, 31), 6, dt.date(2026, 6, 30)),
    (dt.date(2025, 7, 1), 6, dt.date(2026, 1, 1)),
])
def test_add_months(day, months, expected):
    assert services.add_months(day, months) == expected


def test_manual_follow_up_create_and_done(project, company, advisor, make_user):
    follow_up = services.follow_up_create(advisor, company, title="Ring efter styrelsemötet", project=project,
                                          due_on=TODAY + dt.timedelta(days=7))
    assert (follow_up.assigned_to, follow_up.kind) == (advisor, FollowUp.Kind.MANUAL)
    with pytest.raises(ValidationError) as refused:
        services.follow_up_create(advisor, company, title="x", project=project, due_on=TODAY,
                                  assigned_to=make_user(Role.ADVISOR))
    assert "assigned_to" in refused.value.message_dict
    with pytest.raises(ValidationError, match="Say what is to be done"):
        services.follow_up_create(advisor, company, title=" ", project=project, due_on=TODAY)
    with pytest.raises(ValidationError, match="not a member"):
        services.follow_up_create(make_user(Role.ADVISOR), company, title="x", project=project, due_on=TODAY)
    done = services.follow_up_done(advisor, follow_up)
    assert done.done_at is not None
    with pytest.raises(ValidationError, match="was marked done"):
        services.follow_up_done(advisor, follow_up)
    assert AuditEvent.objects.filter(object_type="programmes.followup", object_id=str(follow_up.pk)).count() == 2


def _age(referral, days):
    Referral.objects.filter(pk=referral.pk).update(status_changed_at=timezone.now() - dt.timedelta(days=days))
    referral.refresh_from_db()
    return referral


def test_stale_referrals_get_one_follow_up_each_and_it_closes_when_the_referral_moves(project, advisor):
    stale = _age(referral_in(project, CompanyFactory(name="Stilla AB"), R.PROPOSED, advisor), 31)
    exactly = _age(referral_in(project, CompanyFactory(), R.STARTED, advisor), 30)
    fresh = _age(referral_in(project, CompanyFactory(), R.ACCEPTED, advisor), 29)
    closed = _age(referral_in(project, CompanyFactory(), R.COMPLETED, advisor), 90)

    created = services.follow_ups_create_for_stale_referrals()
    keys = {f.source_key.split(":")[1] for f in created}
    assert keys == {str(stale.pk), str(exactly.pk)}
    assert str(fresh.pk) not in keys and str(closed.pk) not in keys
    first = next(f for f in created if f.company == stale.company)
    assert (first.assigned_to, first.due_on, first.kind) == (advisor, TODAY, FollowUp.Kind.STALE_REFERRAL)
    assert "Referral to" in first.title and "proposed since" in first.title
    assert services.follow_ups_create_for_stale_referrals() == []  # idempotent

    services.referral_move(advisor, stale, R.ACCEPTED)
    first.refresh_from_db()
    assert first.done_at is not None  # answered by moving the referral
    # Standing still again in the new status gives a new reminder.
    _age(stale, 31)
    again = services.follow_ups_create_for_stale_referrals()
    assert [f.company for f in again] == [stale.company]


def test_create_follow_ups_command(project, advisor):
    stale = _age(referral_in(project, CompanyFactory(name="Stilla AB"), R.PROPOSED, advisor), 45)
    out = StringIO()
    call_command("create_follow_ups", "--dry-run", stdout=out)
    assert "1 referral(s) without a status change for 30 days" in out.getvalue()
    assert FollowUp.objects.count() == 0
    out = StringIO()
    call_command("create_follow_ups", stdout=out)
    assert "1 follow-up(s) created." in out.getvalue()
    assert "Stilla AB" in out.getvalue()
    out = StringIO()
    call_command("create_follow_ups", "--json", stdout=out)
    assert '"created": []' in out.getvalue()
    event = AuditEvent.objects.get(object_type="programmes.followup")
    assert (event.source, event.actor_label) == ("cli", "system")
    out = StringIO()
    call_command("create_follow_ups", "--days", "60", "--dry-run", stdout=out)
    assert out.getvalue().startswith("0 referral(s)")
    assert FollowUp.objects.get().company == stale.company


def test_create_follow_ups_command_refuses_bad_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("create_follow_ups", "--today", "31/12")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("create_follow_ups", "--days", "0")
