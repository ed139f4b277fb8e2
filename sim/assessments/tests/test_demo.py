"""Demo assessments and growth plans: the plan (pure) and what `sim demo` writes through the services."""

from __future__ import annotations

import io
import statistics
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from sim.assessments import demo, instrument_files, rules, selectors
from sim.assessments.models import (
    Assessment,
    GrowthAction,
    GrowthGoal,
    GrowthPlan,
    Need,
    NeedStatus,
    SelfAssessmentLink,
)
from sim.companies import demo as company_demo
from sim.core.models import AuditEvent

N = 60
SEED = 1


@pytest.fixture(scope="module")
def big():
    """The default demo (300 companies), planned only."""
    register = company_demo.plan_demo()
    return register, demo.plan_assessments(register)


@pytest.fixture(scope="module")
def small():
    register = company_demo.plan_demo(SEED, N)
    return register, demo.plan_assessments(register)


def _t0_and_t1(assessments, instrument=demo.GROWTH):
    t0 = {a.company: a for a in assessments if a.instrument == instrument and a.phase == "t0"
          and a.outcome == "completed"}
    pairs = [(t0[a.company], a) for a in assessments if a.instrument == instrument and a.phase == "follow_up"]
    return t0, pairs


# --- The plan (no database) -------------------------------------------------------------------


def test_plan_is_deterministic(small):
    register, planned = small
    assert demo.plan_assessments(company_demo.plan_demo(SEED, N)) == planned
    other = demo.plan_assessments(company_demo.plan_demo(SEED + 1, N))
    assert [a.answers for a in other.assessments] != [a.answers for a in planned.assessments]


def test_about_half_the_companies_have_a_growth_interview_target_group_first(big):
    register, planned = big
    t0, _pairs = _t0_and_t1(planned.assessments)
    assert abs(len(t0) - len(register.companies) / 2) <= 2
    companies = {c.key: c for c in register.companies}
    chosen = [companies[key] for key in t0]
    assert all(c.status != "archived" and not c.role.startswith("duplicate_of:") for c in chosen)
    first = [c for c in register.companies if demo.in_target_group(c) and c.status in ("active", "alumni")
             and not c.role.startswith("duplicate_of:")]
    assert {c.key for c in first} <= set(t0)
    assert sum(demo.in_target_group(c) for c in chosen) == len(chosen)
    assert all(demo.T0_FROM <= a.conducted_on <= demo.T0_TO for a in t0.values())
    digital = [a for a in planned.assessments if a.instrument == demo.DIGITAL and a.phase == "t0"
               and a.outcome == "completed"]
    assert len(t0) / 5 <= len(digital) <= len(t0) / 2
    assert {a.company for a in digital} <= set(t0)


def test_follow_ups_come_6_to_18_months_later_and_mostly_improve(big):
    _register, planned = big
    t0, pairs = _t0_and_t1(planned.assessments)
    assert len(t0) / 6 <= len(pairs) <= len(t0) / 2
    for before, after in pairs:
        days = (after.conducted_on - before.conducted_on).days
        assert 181 <= days <= 548, days
        assert date(2024, 1, 1) <= after.conducted_on <= date(2026, 12, 31)
    changes = [after.overall - before.overall for before, after in pairs]
    assert sum(change >= 0 for change in changes) >= 0.8 * len(changes)
    assert any(change < 0 for change in changes)  # a few went backwards
    # The dimensions that were needs improved more than the others.
    instrument = instrument_files.load_instrument(demo.GROWTH)
    in_need, other = [], []
    for before, after in pairs:
        a, b = rules.score(instrument, before.answers), rules.score(instrument, after.answers)
        for dimension, change in rules.compare(a, b).items():
            if dimension != "overall" and change is not None:
                (in_need if dimension in before.needs else other).append(float(change))
    assert statistics.mean(in_need) > statistics.mean(other) + 5


def test_answers_are_valid_complete_and_believable(big):
    register, planned = big
    companies = {c.key: c for c in register.companies}
    instruments = {key: instrument_files.load_instrument(key) for key in (demo.GROWTH, demo.DIGITAL)}
    by_size: dict[str, list[float]] = {"micro": [], "larger": []}
    for item in planned.assessments:
        instrument = instruments[item.instrument]
        normalised, issues = rules.validate_answers(instrument, item.answers, drop_hidden=True)
        assert not issues and normalised == item.answers
        result = rules.score(instrument, item.answers)
        assert result.overall == item.overall
        assert tuple(n.dimension for n in rules.derive_needs(instrument, result)) == item.needs
        if item.outcome == "completed":
            assert result.missing_required == []
        if item.instrument == demo.GROWTH and item.phase == "t0" and item.outcome == "completed":
            staff = float(item.answers["kf_staff_awu"])
            by_size["micro" if staff < 10 else "larger"].append(float(item.overall))
            company = companies[item.company]
            figures = {f.fiscal_year: f for f in company.key_figures}
            year = int(item.answers["kf_year"])
            assert year == item.conducted_on.year - 1
            if year in figures:  # the register's figures of the year before the interview
                assert item.answers["kf_turnover_sek"] == str(int(round(figures[year].turnover_sek, -3)))
    # Larger companies start from a higher baseline; scores spread over the bands.
    assert statistics.mean(by_size["larger"]) > statistics.mean(by_size["micro"]) + 5
    t0, _pairs = _t0_and_t1(planned.assessments)
    needs = Counter(len(a.needs) for a in t0.values())
    assert needs[0] and needs[5] and max(needs.values()) < len(t0) / 2
    bands = Counter(rules.score(instruments[demo.GROWTH], a.answers).band for a in t0.values())
    assert len(bands) >= 3


def test_work_in_progress_and_growth_plans(big):
    register, planned = big
    outcomes = Counter(a.outcome for a in planned.assessments)
    assert outcomes["draft"] == 2 and outcomes["awaiting_company"] == 1
    awaiting = next(a for a in planned.assessments if a.outcome == "awaiting_company")
    company = register.company(awaiting.company)
    assert awaiting.invite == company.contacts[0].email and awaiting.answers == {}
    assert 3 <= len(planned.plans) <= 8
    assert Counter(p.status for p in planned.plans) == {"agreed": len(planned.plans) - 1, "draft": 1}
    by_key = {a.key: a for a in planned.assessments}
    metrics = set()
    for plan in planned.plans:
        based_on = by_key[plan.assessment]
        assert based_on.company == plan.company and based_on.phase == "t0"
        assert plan.period_start > based_on.conducted_on and plan.period_end > plan.period_start
        assert plan.goals and plan.actions
        assert all(a.owner and a.due_date >= plan.period_start for a in plan.actions)
        assert {a.need_dimension for a in plan.actions if a.need_dimension} <= set(based_on.needs)
        assert all(g.target >= g.baseline for g in plan.goals)
        assert all(g.target > g.baseline for g in plan.goals if g.metric in ("turnover_sek", "staff_awu"))
        metrics |= {g.metric for g in plan.goals}
    assert {"turnover_sek", "staff_awu", "export_share_pct", "new_services"} <= metrics
    assert {a.status for p in planned.plans for a in p.actions} >= {"done", "in_progress", "planned"}
    representative = register.representative[1]
    assert planned.representative_company == representative
    own = [p for p in planned.plans if p.company == representative]
    assert len(own) == 1 and own[0].shared and own[0].status == "agreed"
    kinds = {(a.instrument, a.phase) for a in planned.assessments
             if a.company == representative and a.outcome == "completed"}
    assert kinds >= {(demo.GROWTH, "t0"), (demo.GROWTH, "follow_up"), (demo.DIGITAL, "t0")}


# --- Writing (through the services) -----------------------------------------------------------


@pytest.fixture(scope="module")
def written(django_db_setup, django_db_blocker, small):
    """`sim demo` once for this module (rolled back afterwards): the plans and the planned key → row."""
    with django_db_blocker.unblock(), transaction.atomic():
        mail.outbox = []
        call_command("demo", seed=SEED, companies=N, stdout=io.StringIO())
        register, planned = small
        # Written in date order (a stable sort of the plan's order).
        in_order = sorted(enumerate(planned.assessments), key=lambda pair: (pair[1].conducted_on, pair[0]))
        rows = list(Assessment.objects.select_related("instrument_version", "company", "led_by").order_by("id"))
        yield register, planned, {item.key: row for (_i, item), row in zip(in_order, rows, strict=True)}
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_writes_the_planned_assessments(written):
    register, planned, rows = written
    org_numbers = {c.key: c.org_number for c in register.companies}
    assert Assessment.objects.count() == len(planned.assessments)
    for item in planned.assessments:
        assessment = rows[item.key]
        assert (assessment.company.org_number, assessment.instrument_version.key, assessment.phase,
                assessment.conducted_on) == (org_numbers[item.company], item.instrument, item.phase, item.conducted_on)
        assert assessment.answers == item.answers
        assert assessment.led_by.username == item.advisor
        assert assessment.status == item.outcome
        if item.outcome == "completed":
            assert assessment.overall_score == item.overall
            assert assessment.scores == rules.score_to_json(rules.score(assessment.instrument(), item.answers))
    assert not mail.outbox  # the self-assessment invitation went nowhere
    link = SelfAssessmentLink.objects.get()
    assert link.assessment.status == "awaiting_company" and link.contact is not None


@pytest.mark.django_db
def test_demo_answers_and_completions_are_audited_as_the_advisors(written):
    _register, planned, _rows = written
    answered = AuditEvent.objects.filter(object_type="assessments.assessment", action="update",
                                         scope_type="assessments.assessment")
    notes = sum(bool(a.notes) for a in planned.assessments)
    assert answered.count() == sum(len(a.answers) for a in planned.assessments) + notes
    completed = AuditEvent.objects.filter(object_type="assessments.assessment", changes__status__after="completed")
    assert completed.count() == sum(a.outcome == "completed" for a in planned.assessments)
    assessment_events = AuditEvent.objects.filter(object_type__startswith="assessments.")
    assert set(assessment_events.values_list("actor__username", flat=True)) <= set(company_demo.ADVISORS)
    assert set(assessment_events.values_list("source", flat=True)) == {AuditEvent.Source.SYSTEM}


@pytest.mark.django_db
def test_demo_needs_follow_the_scores(written):
    _register, planned, rows = written
    derived = Need.objects.filter(source="derived")
    assert derived.count() == sum(len(a.needs) for a in planned.assessments if a.outcome == "completed")
    assert derived.filter(focus_area__key="financing").exists()
    _t0, pairs = _t0_and_t1(planned.assessments)
    assert pairs
    for before, after in pairs:
        t0_needs = Need.objects.filter(assessment=rows[before.key])
        assert [n.dimension for n in t0_needs.order_by("priority")] == list(before.needs)
        for need in t0_needs:
            expected = NeedStatus.DISMISSED if need.dimension in after.needs else NeedStatus.ADDRESSED
            assert need.status == expected
        assert set(Need.objects.filter(assessment=rows[after.key], status="open").values_list(
            "dimension", flat=True)) == set(after.needs)
    assert Need.objects.filter(status=NeedStatus.ADDRESSED).exists()


@pytest.mark.django_db
def test_demo_growth_plans(written):
    _register, planned, rows = written
    assert GrowthPlan.objects.count() == len(planned.plans)
    assert GrowthGoal.objects.count() == sum(len(p.goals) for p in planned.plans)
    assert GrowthAction.objects.count() == sum(len(p.actions) for p in planned.plans)
    for item in planned.plans:
        plan = GrowthPlan.objects.get(assessment=rows[item.assessment])
        assert (plan.status, plan.shared_with_company, plan.period_start, plan.agreed_on) == (
            item.status, item.shared, item.period_start, item.agreed_on)
        assert [a.title for a in plan.actions.order_by("order")] == [a.title for a in item.actions]
    linked = GrowthAction.objects.filter(need__isnull=False)
    assert linked.count() == sum(1 for p in planned.plans for a in p.actions if a.need_dimension)
    assert all(a.need.company_id == a.plan.company_id and a.need.assessment_id == a.plan.assessment_id for a in linked)


@pytest.mark.django_db
def test_the_representative_sees_completed_results_and_a_shared_plan(written):
    representative = get_user_model().objects.get(username="foretag")
    visible = selectors.assessments_visible_to(representative)
    assert visible.count() >= 3
    assert set(visible.values_list("status", flat=True)) == {"completed"}
    assert len({a.company_id for a in visible}) == 1
    plans = selectors.growth_plans_visible_to(representative)
    assert plans.count() == 1
    plan = plans.get()
    assert plan.goals.exists() and plan.actions.exists()
    t1 = visible.filter(phase="follow_up", instrument_version__key=demo.GROWTH).get()
    assert selectors.comparable_assessments(t1).exists()
    assert selectors.needs_of(representative, plan.company).exists()
