"""Impact reads: before/after from the register and assessments, the comparison pool (target
group, untouched by the project, matched by stratum and years) and a fixed number of queries."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sim.assessments.models import AssessmentPhase
from sim.assessments.tests.helpers import GROWTH, complete_quickly, start
from sim.companies.models import Company
from sim.core.roles import Role
from sim.reporting import rules_impact, selectors_impact

from .builders import build_world
from .impact_builders import add_companies, build_impact_world, expected_did

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def rate(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"


def test_before_after_from_the_register():
    world = build_world()
    data = selectors_impact.impact_of(world["project"], resamples=50)
    assert data.supported == 3  # alfa, beta, delta
    # alfa 5 → 8, beta 20 → 18 AWU; delta has no figures.
    assert data.staff == rules_impact.Change(2, Decimal("12.50"), Decimal("13.00"), Decimal("0.50"))
    assert data.turnover == rules_impact.Change(2, Decimal("15750000.00"), Decimal("21500000.00"),
                                                Decimal("5750000.00"))
    assert data.maturity == [] and data.export_share.n == 0


def test_too_few_for_a_comparison():
    data = selectors_impact.impact_of(build_world()["project"], resamples=50)
    for comparison in data.comparisons:
        assert comparison.reason == rules_impact.TOO_FEW and not comparison.shown


def test_maturity_and_export_share_from_assessments(make_user):
    world = build_world()
    actor = make_user(Role.ADVISOR)
    alfa, gamma = world["alfa"], world["gamma"]
    complete_quickly(actor, start(actor, alfa, GROWTH, phase=AssessmentPhase.T0, conducted_on=D(2024, 1, 20)),
                     level=1, kf_export_share="5", kf_new_products="1", kf_new_services="0")
    follow_up = complete_quickly(actor, start(actor, alfa, GROWTH, phase=AssessmentPhase.FOLLOW_UP,
                                              conducted_on=D(2025, 9, 1)), level=4, kf_export_share="20",
                                 kf_new_products="3", kf_new_services="2")
    # gamma is not supported: its assessments do not count.
    complete_quickly(actor, start(actor, gamma, GROWTH, phase=AssessmentPhase.T0, conducted_on=D(2024, 1, 20)), level=1)
    complete_quickly(actor, start(actor, gamma, GROWTH, phase=AssessmentPhase.FOLLOW_UP, conducted_on=D(2025, 1, 20)),
                     level=5)
    t0 = alfa.assessments.get(phase=AssessmentPhase.T0)
    data = selectors_impact.impact_of(world["project"], resamples=50)
    assert data.export_share == rules_impact.Change(1, Decimal("5.0"), Decimal("20.0"), Decimal("15.0"))
    assert data.new_products == rules_impact.Change(1, Decimal("1.0"), Decimal("3.0"), Decimal("2.0"))
    assert data.new_services == rules_impact.Change(1, Decimal("0.0"), Decimal("2.0"), Decimal("2.0"))
    [growth] = data.maturity
    assert growth.key == GROWTH
    rows = {r.key: r.change for r in growth.rows}
    assert set(rows) == {*t0.scores["dimensions"], "overall"}
    for key, change in rows.items():
        before = t0.scores["overall"] if key == "overall" else t0.scores["dimensions"][key]["score"]
        after = follow_up.scores["overall"] if key == "overall" else follow_up.scores["dimensions"][key]["score"]
        if before is None or after is None:
            assert change.n == 0
        else:
            assert change.n == 1
            assert change.change == (Decimal(str(after)) - Decimal(str(before))).quantize(Decimal("0.1"))
    assert rows["overall"].change > 0
    assert growth.rows[-1].key == "overall"


def test_new_offerings_need_the_question_at_both_interviews(make_user):
    """A T0 taken with version 1 (which does not ask for new products or services) and a follow-up
    with version 2: the pair counts for the export share and maturity, not for new offerings."""
    world = build_world()
    actor = make_user(Role.ADVISOR)
    alfa, beta = world["alfa"], world["beta"]
    complete_quickly(actor, start(actor, alfa, GROWTH, phase=AssessmentPhase.T0, conducted_on=D(2024, 1, 20),
                                  version=1), level=2, kf_export_share="10")
    complete_quickly(actor, start(actor, alfa, GROWTH, phase=AssessmentPhase.FOLLOW_UP, conducted_on=D(2025, 9, 1)),
                     level=3, kf_export_share="12", kf_new_products="4", kf_new_services="1")
    complete_quickly(actor, start(actor, beta, GROWTH, phase=AssessmentPhase.T0, conducted_on=D(2024, 2, 1)),
                     level=2, kf_new_products="0", kf_new_services="1")
    complete_quickly(actor, start(actor, beta, GROWTH, phase=AssessmentPhase.FOLLOW_UP, conducted_on=D(2025, 8, 1)),
                     level=3, kf_new_products="2", kf_new_services="1")
    data = selectors_impact.impact_of(world["project"], resamples=50)
    assert data.export_share.n == 1  # alfa only: beta left the export share blank
    assert data.new_products == rules_impact.Change(1, Decimal("0.0"), Decimal("2.0"), Decimal("2.0"))  # beta
    assert data.new_services == rules_impact.Change(1, Decimal("1.0"), Decimal("1.0"), Decimal("0.0"))
    [growth] = data.maturity
    assert {r.key: r.change.n for r in growth.rows}["overall"] == 2  # v1 and v2 scores compare


def test_comparison_matches_by_stratum_and_years():
    world = build_impact_world()
    data = selectors_impact.impact_of(world["project"], resamples=300)
    staff, turnover = data.comparisons
    for comparison, measure in ((staff, "staff"), (turnover, "turnover")):
        assert comparison.shown
        # beta and the 12: alfa (micro) has no comparison company, delta no figures; gamma, the company
        # outside the county and the one in another division are not comparison companies.
        assert (comparison.n_treated, comparison.n_control, comparison.unmatched, comparison.lacking) == (13, 12, 1, 1)
        assert comparison.did == pytest.approx(expected_did(measure))
        low, high = comparison.interval
        assert low < comparison.did < high
    assert staff.did_pct == pytest.approx(100 * math.expm1(expected_did("staff")))
    again = selectors_impact.impact_of(world["project"], resamples=300)
    assert [c.interval for c in again.comparisons] == [c.interval for c in data.comparisons]


def test_comparison_needs_ten_comparison_companies():
    world = build_impact_world(n_control=9)
    staff, turnover = selectors_impact.impact_of(world["project"], resamples=50).comparisons
    assert (staff.n_control, staff.reason, turnover.reason) == (9, rules_impact.TOO_FEW, rules_impact.TOO_FEW)


def test_comparison_pool_excludes_the_projects_companies():
    world = build_impact_world(n_supported=0, n_control=2)
    pool = set(Company.objects.filter(selectors_impact.comparison_pool(world["project"])).values_list("name", flat=True))
    assert pool == {"Jämförelse 0 AB", "Jämförelse 1 AB", "Livsmedel AB"}  # not alfa–delta, not Stockholm


def test_a_fixed_number_of_queries(django_assert_max_num_queries):
    world = build_impact_world(n_supported=2, n_control=2)
    with CaptureQueriesContext(connection) as few:
        selectors_impact.impact_of(world["project"], resamples=20)
    add_companies(world["project"], 15, 20, first=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = selectors_impact.impact_of(world["project"], resamples=20)
    assert data.comparisons[0].n_treated == 18  # beta and the 17
