"""The counting rules, with worked examples (double support counted once, size class at first
support, threshold hours, period boundaries, results) and properties (hypothesis)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.reporting import rules
from sim.reporting.rules import (
    FINANCIAL,
    GRANT,
    NON_FINANCIAL,
    ActivityDay,
    CompanyFacts,
    Entry,
    Investment,
    Period,
    RuleError,
    Support,
)

D = dt.date
A, B, C = "5560000001", "5560000002", "5560000003"
WHOLE = Period()


def value(method, supports, period=WHOLE, companies=None, **kwargs):
    enterprises = rules.supported_enterprises(supports, companies or {})
    return rules.indicator_value(method, enterprises, period, companies=companies or {}, **kwargs)


# --- Counted once ------------------------------------------------------------------------------


def test_an_enterprise_supported_twice_is_counted_once():
    supports = [Support(A, D(2024, 3, 1), GRANT), Support(A, D(2024, 6, 1), GRANT), Support(B, D(2024, 4, 1), GRANT)]
    result = value("supported", supports)
    assert result.value == 2
    assert result.companies == (A, B)
    assert value(GRANT, supports).value == 2


def test_forms_may_add_up_to_more_than_supported():
    # A had a grant and advice, B advice only: 2 supported, but 1 + 0 + 2 = 3 by form.
    supports = [Support(A, D(2024, 3, 1), GRANT), Support(A, D(2024, 5, 1), NON_FINANCIAL),
                Support(B, D(2024, 4, 1), NON_FINANCIAL)]
    assert value("supported", supports).value == 2
    assert value(GRANT, supports).value == 1
    assert value(FINANCIAL, supports).value == 0
    assert value(NON_FINANCIAL, supports).value == 2


def test_unknown_form_is_refused():
    with pytest.raises(RuleError):
        Support(A, D(2024, 1, 1), "loan")


# --- Threshold hours ---------------------------------------------------------------------------


def test_activities_support_from_the_day_the_hours_reach_the_minimum():
    days = [ActivityDay(A, D(2024, 1, 10), Decimal("4")), ActivityDay(A, D(2024, 2, 10), Decimal("7.5")),
            ActivityDay(A, D(2024, 3, 10), Decimal("0.5")), ActivityDay(A, D(2024, 4, 10), Decimal("3"))]
    [support] = rules.activity_supports(days, Decimal("12"))
    assert support == Support(A, D(2024, 3, 10), NON_FINANCIAL, rules.SOURCE_ACTIVITIES)


def test_activities_below_the_minimum_are_not_support():
    days = [ActivityDay(A, D(2024, 1, 10), Decimal("11.99"))]
    assert rules.activity_supports(days, 12) == []
    assert rules.activity_supports(days, Decimal("11.99"))[0].date == D(2024, 1, 10)


def test_hours_of_one_day_count_together_and_order_does_not_matter():
    days = [ActivityDay(A, D(2024, 2, 1), Decimal("6")), ActivityDay(A, D(2024, 1, 1), Decimal("6")),
            ActivityDay(A, D(2024, 2, 1), Decimal("1"))]
    assert rules.activity_supports(days, 13)[0].date == D(2024, 2, 1)
    assert rules.activity_supports(days, 12)[0].date == D(2024, 2, 1)
    assert rules.activity_supports(days, 6)[0].date == D(2024, 1, 1)


def test_negative_minimum_or_hours_are_refused():
    with pytest.raises(RuleError):
        rules.activity_supports([], -1)
    with pytest.raises(RuleError):
        rules.activity_supports([ActivityDay(A, D(2024, 1, 1), Decimal("-1"))], 12)


# --- Period boundaries -------------------------------------------------------------------------


def test_counted_in_the_period_of_its_first_support_only():
    supports = [Support(A, D(2024, 3, 31), GRANT), Support(A, D(2024, 4, 1), NON_FINANCIAL),
                Support(B, D(2024, 4, 1), GRANT), Support(C, D(2024, 6, 30), NON_FINANCIAL)]
    q1, q2 = Period(D(2024, 1, 1), D(2024, 3, 31)), Period(D(2024, 4, 1), D(2024, 6, 30))
    assert value("supported", supports, q1).companies == (A,)
    assert value("supported", supports, q2).companies == (B, C)
    # A's first non-financial support is in Q2: it counts there for that form.
    assert value(NON_FINANCIAL, supports, q2).companies == (A, C)
    assert value("supported", supports, Period(D(2024, 1, 1), D(2024, 6, 30))).value == 3


def test_period_bounds_are_inclusive_and_checked():
    supports = [Support(A, D(2024, 1, 1), GRANT), Support(B, D(2024, 12, 31), GRANT)]
    assert value("supported", supports, Period(D(2024, 1, 1), D(2024, 12, 31))).value == 2
    assert value("supported", supports, Period(D(2024, 1, 2), D(2024, 12, 30))).value == 0
    with pytest.raises(RuleError):
        Period(D(2024, 2, 1), D(2024, 1, 31))


# --- Size class at first support ---------------------------------------------------------------


def test_size_class_is_that_of_the_year_before_first_support():
    facts = {A: CompanyFacts(A, size_classes={2021: "micro", 2022: "small", 2023: "medium"}, current_size_class="large")}
    supports = [Support(A, D(2023, 5, 1), GRANT), Support(A, D(2025, 1, 1), GRANT)]
    result = value("supported", supports, companies=facts, breakdown="size_class")
    assert result.breakdown == {"micro": 0, "small": 1, "medium": 0, "large": 0, "unknown": 0}


def test_size_class_fallbacks():
    assert rules.size_class_at({2024: "small", 2025: "medium"}, D(2023, 6, 1)) == "small"  # earliest known
    assert rules.size_class_at({}, D(2023, 6, 1), "medium") == "medium"  # register's current class
    assert rules.size_class_at({}, D(2023, 6, 1), "") == "unknown"
    assert rules.size_class_at({2022: ""}, D(2023, 6, 1), "") == "unknown"


def test_breakdown_only_when_asked():
    assert value("supported", [Support(A, D(2024, 1, 1), GRANT)]).breakdown is None


# --- New enterprises ---------------------------------------------------------------------------


@pytest.mark.parametrize(("registered", "new"), [
    (D(2021, 6, 2), True), (D(2021, 6, 1), False), (D(2020, 1, 1), False), (D(2024, 7, 1), True), (None, False),
])
def test_new_enterprise_is_registered_less_than_three_years_before_first_support(registered, new):
    assert rules.is_new_enterprise(registered, D(2024, 6, 1)) is new
    facts = {A: CompanyFacts(A, registration_date=registered)}
    assert value("new_enterprise", [Support(A, D(2024, 6, 1), GRANT)], companies=facts).value == int(new)


def test_new_enterprise_years_are_configurable_and_leap_days_work():
    assert rules.is_new_enterprise(D(2023, 1, 1), D(2024, 6, 1), years=1) is False
    assert rules.is_new_enterprise(D(2021, 3, 1), D(2024, 2, 29), years=3) is True
    assert rules.years_before(D(2024, 2, 29), 3) == D(2021, 2, 28)


# --- Research cooperation ----------------------------------------------------------------------


def test_research_cooperation_counts_from_the_first_research_support():
    supports = [Support(A, D(2024, 1, 1), GRANT), Support(A, D(2024, 5, 1), NON_FINANCIAL, research=True)]
    assert value("research_cooperation", supports, Period(D(2024, 4, 1), D(2024, 6, 30))).companies == (A,)
    assert value("research_cooperation", supports, Period(D(2024, 1, 1), D(2024, 3, 31))).value == 0


# --- Results -----------------------------------------------------------------------------------


def test_employment_increase_sums_follow_up_minus_baseline():
    facts = {
        A: CompanyFacts(A, staff={2022: Decimal("10"), 2023: Decimal("11"), 2024: Decimal("12.5")}),
        B: CompanyFacts(B, staff={2022: Decimal("20"), 2024: Decimal("18")}),
        C: CompanyFacts(C, staff={2023: Decimal("5")}),  # no follow-up year
    }
    supports = [Support(A, D(2023, 3, 1), GRANT), Support(B, D(2023, 9, 1), NON_FINANCIAL),
                Support(C, D(2023, 1, 1), GRANT)]
    result = value("employment_increase", supports, companies=facts)
    assert result.value == Decimal("0.50")  # (12.5 − 10) + (18 − 20)
    assert result.companies is None
    assert result.lacking == (C,)


def test_results_use_years_up_to_the_period_end():
    facts = {A: CompanyFacts(A, staff={2022: Decimal("10"), 2024: Decimal("12"), 2025: Decimal("15")},
                             turnover={2022: Decimal("100"), 2024: Decimal("90"), 2025: Decimal("120")})}
    supports = [Support(A, D(2023, 3, 1), GRANT)]
    in_2024 = Period(D(2024, 1, 1), D(2024, 12, 31))
    assert value("employment_increase", supports, in_2024, companies=facts).value == Decimal("2.00")
    assert value("employment_increase", supports, companies=facts).value == Decimal("5.00")
    assert value("higher_turnover", supports, in_2024, companies=facts).value == 0
    assert value("higher_turnover", supports, companies=facts).companies == (A,)
    # Supported after the period: not in the result.
    assert value("employment_increase", supports, Period(None, D(2023, 2, 28)), companies=facts).value == 0


def test_higher_turnover_needs_the_year_before_support():
    facts = {A: CompanyFacts(A, turnover={2021: Decimal("100"), 2024: Decimal("200")})}
    result = value("higher_turnover", [Support(A, D(2023, 3, 1), GRANT)], companies=facts)
    assert result.value == 0 and result.lacking == (A,)


# --- Amounts -----------------------------------------------------------------------------------


def test_private_investment_by_form_and_period():
    investments = [Investment(D(2024, 1, 5), GRANT, Decimal("100")), Investment(D(2024, 4, 5), FINANCIAL, Decimal("50")),
                   Investment(D(2024, 5, 5), NON_FINANCIAL, Decimal("999"))]
    assert value("private_investment_grant", [], investments=investments).value == Decimal("100.00")
    assert value("private_investment_financial", [], investments=investments).value == Decimal("50.00")
    assert value("private_investment", [], investments=investments).value == Decimal("150.00")
    assert value("private_investment", [], Period(D(2024, 4, 1), None), investments=investments).value == Decimal("50.00")


def test_manual_values_are_summed_in_the_period_with_corrections():
    entries = [Entry(D(2024, 2, 1), Decimal("3")), Entry(D(2024, 5, 1), Decimal("2")), Entry(D(2024, 5, 2), Decimal("-1"))]
    assert value("manual", [], entries=entries).value == Decimal("4.00")
    assert value("manual", [], Period(D(2024, 4, 1), D(2024, 6, 30)), entries=entries).value == Decimal("1.00")


def test_unknown_method_is_refused():
    with pytest.raises(RuleError):
        value("everything", [])


def test_progress_and_milestones():
    assert rules.progress(25, Decimal("200")) == Decimal("12.5")
    assert rules.progress(25, None) is None
    assert rules.progress(25, Decimal("0")) is None
    milestones = [(D(2024, 12, 31), Decimal("10")), (D(2025, 12, 31), Decimal("30"))]
    assert rules.milestone_due(milestones, Period(None, D(2025, 6, 30))) == (D(2024, 12, 31), Decimal("10"))
    assert rules.milestone_due(milestones, Period(None, D(2024, 6, 30))) is None


def test_evidence_list_holds_every_enterprise_any_count_counts():
    supports = [Support(A, D(2024, 1, 1), NON_FINANCIAL), Support(A, D(2024, 5, 1), GRANT),
                Support(B, D(2024, 4, 2), FINANCIAL), Support(C, D(2024, 9, 1), GRANT)]
    enterprises = rules.supported_enterprises(supports, {})
    q2 = Period(D(2024, 4, 1), D(2024, 6, 30))
    assert [e.org_number for e in rules.counted_in_period(enterprises, q2)] == [A, B]
    assert enterprises[A].forms_by(D(2024, 3, 1)) == (NON_FINANCIAL,)
    assert enterprises[A].forms_by(None) == (GRANT, NON_FINANCIAL)


# --- Properties --------------------------------------------------------------------------------

orgs = st.sampled_from([A, B, C, "5560000004", "5560000005"])
days = st.dates(min_value=D(2023, 1, 1), max_value=D(2025, 12, 31))
supports_st = st.lists(st.builds(Support, orgs, days, st.sampled_from(rules.FORMS), st.just("intervention"),
                                 st.booleans()), max_size=30)
COUNTS = ("supported", GRANT, FINANCIAL, NON_FINANCIAL, "research_cooperation")


@settings(max_examples=150, deadline=None)
@given(supports_st, days)
def test_counts_of_adjacent_periods_add_up(supports, split):
    enterprises = rules.supported_enterprises(supports, {})
    for method in COUNTS:
        whole = rules.indicator_value(method, enterprises, WHOLE).value
        before = rules.indicator_value(method, enterprises, Period(None, split)).value
        after = rules.indicator_value(method, enterprises, Period(split + dt.timedelta(days=1), None)).value
        assert before + after == whole


@settings(max_examples=150, deadline=None)
@given(supports_st)
def test_repeating_or_reordering_supports_changes_nothing(supports):
    once = rules.supported_enterprises(supports, {})
    twice = rules.supported_enterprises(list(reversed(supports)) + supports, {})
    assert once == twice


@settings(max_examples=150, deadline=None)
@given(supports_st)
def test_supported_is_the_union_of_the_forms(supports):
    enterprises = rules.supported_enterprises(supports, {})
    supported = set(rules.indicator_value("supported", enterprises, WHOLE).companies)
    by_form = [set(rules.indicator_value(f, enterprises, WHOLE).companies) for f in rules.FORMS]
    assert supported == set().union(*by_form)
    assert supported == {s.company for s in supports}
    assert sum(len(f) for f in by_form) >= len(supported)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(ActivityDay, orgs, days, st.decimals(min_value=0, max_value=20, places=1)), max_size=30),
       st.decimals(min_value=Decimal("0.5"), max_value=40, places=1))
def test_activity_support_iff_total_reaches_minimum(activity_days, minimum):
    found = {s.company: s.date for s in rules.activity_supports(activity_days, minimum)}
    for org in {d.company for d in activity_days}:
        mine = [d for d in activity_days if d.company == org]
        total = sum((d.hours for d in mine), Decimal(0))
        assert (org in found) == (total >= minimum)
        if org in found:
            assert sum((d.hours for d in mine if d.date <= found[org]), Decimal(0)) >= minimum
            assert sum((d.hours for d in mine if d.date < found[org]), Decimal(0)) < minimum


@settings(max_examples=100, deadline=None)
@given(supports_st)
def test_breakdown_adds_up_to_the_count(supports):
    enterprises = rules.supported_enterprises(supports, {})
    result = rules.indicator_value("supported", enterprises, WHOLE, breakdown="size_class")
    assert sum(result.breakdown.values()) == result.value
