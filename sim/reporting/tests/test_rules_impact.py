"""Impact rules: worked examples (hand-computed DiD, matching by stratum and calendar years, the
rule of at least ten per group, the bootstrap interval) and properties."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.reporting import rules_impact as impact
from sim.reporting.rules_impact import Cell, Panel, Taken, Treated

D = dt.date


# --- Before/after ------------------------------------------------------------------------------


def test_before_after_uses_only_complete_pairs():
    change = impact.before_after([(Decimal("5"), Decimal("8")), (Decimal("20"), Decimal("18")), (None, Decimal("3")),
                                  (Decimal("4"), None)])
    assert change == impact.Change(2, Decimal("12.50"), Decimal("13.00"), Decimal("0.50"))


def test_before_after_without_pairs():
    assert impact.before_after([(None, None)]) == impact.Change(0, None, None, None)


def test_register_window_is_year_before_support_and_latest_after():
    figures = {2022: Decimal(1), 2023: Decimal(2), 2024: Decimal(3), 2025: Decimal(4), 2026: Decimal(5)}
    assert impact.register_window(figures, 2024) == (2023, 2026)
    assert impact.register_window({2023: Decimal(2), 2024: Decimal(3)}, 2024) is None  # nothing after
    assert impact.register_window({2022: Decimal(2), 2025: Decimal(3)}, 2024) is None  # no baseline
    assert impact.register_window({2023: Decimal(2), 2025: None}, 2024) is None


def taken(company, phase, day, order=1, instrument="growth", answers=None, **scores):
    return Taken(company, instrument, phase, day, order, {k: Decimal(str(v)) for k, v in scores.items()},
                 {k: None if v is None else Decimal(str(v)) for k, v in (answers or {}).items()})


def test_maturity_changes_t0_to_latest_follow_up():
    rows = [
        taken("a", "t0", D(2024, 1, 1), a=20, overall=20),
        taken("a", "t0", D(2024, 2, 1), order=2, a=30, overall=30),  # the latest T0 counts
        taken("a", "follow_up", D(2025, 1, 1), order=3, a=40, overall=40),
        taken("a", "follow_up", D(2025, 6, 1), order=4, a=60, overall=60),  # the latest follow-up counts
        taken("b", "t0", D(2024, 1, 1), order=5, a=50, overall=50),
        taken("b", "follow_up", D(2024, 6, 1), order=6, a=55, overall=55),
        taken("c", "t0", D(2024, 1, 1), order=7, a=10, overall=10),  # no follow-up: left out
        taken("d", "follow_up", D(2023, 1, 1), order=8, a=10, overall=10),  # follow-up only: left out
    ]
    result = impact.maturity_changes(rows, {"growth": ["a", "b"]})
    assert result["growth"]["a"] == impact.Change(2, Decimal("40.0"), Decimal("57.5"), Decimal("17.5"))
    assert result["growth"]["b"] == impact.Change(0, None, None, None)  # dimension never scored
    assert result["growth"]["overall"].n == 2


def test_follow_up_before_the_t0_does_not_count():
    rows = [taken("a", "follow_up", D(2023, 1, 1), a=10), taken("a", "t0", D(2024, 1, 1), order=2, a=20)]
    assert impact.maturity_changes(rows, {"growth": ["a"]}) == {}


def test_export_share_change():
    rows = [taken("a", "t0", D(2024, 1, 1), answers={"export_share": 10}),
            taken("a", "follow_up", D(2025, 1, 1), order=2, answers={"export_share": 25}),
            taken("b", "t0", D(2024, 1, 1), order=3, answers={"export_share": 0}),
            taken("b", "follow_up", D(2025, 1, 1), order=4, answers={"export_share": None})]
    changes = impact.answered_changes(rows)
    assert changes["export_share"] == impact.Change(1, Decimal("10.0"), Decimal("25.0"), Decimal("15.0"))
    assert changes["new_products"] == changes["new_services"] == impact.Change(0, None, None, None)


def test_new_products_and_services_count_only_pairs_asked_at_both():
    """Worked example: a asked at both (1 → 3 products, 0 → 2 services); b's T0 was taken with a
    version without the questions (absent), so b counts for the export share only; c answered 0
    products at both; d's products were left blank at the follow-up."""
    rows = [
        taken("a", "t0", D(2024, 1, 1), answers={"export_share": 5, "new_products": 1, "new_services": 0}),
        taken("a", "follow_up", D(2025, 1, 1), order=2,
              answers={"export_share": 15, "new_products": 3, "new_services": 2}),
        taken("b", "t0", D(2024, 1, 1), order=3, answers={"export_share": 20}),
        taken("b", "follow_up", D(2025, 3, 1), order=4,
              answers={"export_share": 30, "new_products": 4, "new_services": 1}),
        taken("c", "t0", D(2024, 2, 1), order=5, answers={"new_products": 0, "new_services": 1}),
        taken("c", "follow_up", D(2025, 2, 1), order=6, answers={"new_products": 0, "new_services": 1}),
        taken("d", "t0", D(2024, 2, 1), order=7, answers={"new_products": 2}),
        taken("d", "follow_up", D(2025, 2, 1), order=8, answers={"new_products": None}),
    ]
    changes = impact.answered_changes(rows)
    assert changes["export_share"] == impact.Change(2, Decimal("12.5"), Decimal("22.5"), Decimal("10.0"))
    assert changes["new_products"] == impact.Change(2, Decimal("0.5"), Decimal("1.5"), Decimal("1.0"))
    assert changes["new_services"] == impact.Change(2, Decimal("0.5"), Decimal("1.5"), Decimal("1.0"))


def test_unknown_phase_is_an_error():
    with pytest.raises(impact.ImpactError, match="phase"):
        impact.assessment_pairs([taken("a", "t9", D(2024, 1, 1))])


# --- Growth and DiD ----------------------------------------------------------------------------


def test_log_growth_and_percent():
    assert impact.log_growth(Decimal(10), Decimal(20)) == pytest.approx(math.log(2))
    assert impact.as_percent(math.log(2)) == pytest.approx(100.0)
    assert impact.log_growth(0, 5) is None and impact.log_growth(5, None) is None


def test_sni_division():
    assert impact.sni_division("25620") == "25"
    assert impact.sni_division("46.6") == "46"
    assert impact.sni_division("") == "" and impact.sni_division("2") == ""


def test_worked_example_did():
    # Cell 1: treated changes 2, 3 (mean 2.5); controls 1, 0 (mean 0.5): 2.0 with weight 2/3.
    # Cell 2: treated change 1; controls 3, 1 (mean 2): −1.0 with weight 1/3.  DiD = 4/3 − 1/3 = 1.
    cells = [Cell("one", ((0, 2), (1, 4)), ((0, 1), (2, 2))), Cell("two", ((0, 1),), ((0, 3), (0, 1)))]
    assert impact.difference_in_differences(cells) == pytest.approx(1.0)
    treated, control = impact.group_means(cells)
    assert treated == pytest.approx(2.0) and control == pytest.approx(2 / 3 * 0.5 + 1 / 3 * 2)
    assert treated - control == pytest.approx(1.0)


def test_did_needs_both_groups():
    with pytest.raises(impact.ImpactError):
        impact.difference_in_differences([])
    with pytest.raises(impact.ImpactError):
        impact.difference_in_differences([Cell("x", ((0, 1),), ())])


def panel(key, division="25", sizes=None, staff=None, turnover=None):
    return Panel(key, division, {2023: "micro"} if sizes is None else sizes,
                 {y: Decimal(str(v)) for y, v in (staff or {}).items()},
                 {y: Decimal(str(v)) for y, v in (turnover or {}).items()})


def test_compare_growth_worked_example():
    # Supported: 10 → 20 AWU (2023 → 2025): ln 2.  Controls: 10 → 10 and 10 → 5: mean (0 + ln ½) / 2.
    # DiD = ln 2 − ½ ln ½ = 1.5 ln 2 ≈ 1.0397 (supported grew 2.83 × as much: +183 %).
    treated = [Treated(panel("t1", staff={2023: 10, 2025: 20}), 2024)]
    controls = [panel("c1", staff={2023: 10, 2025: 10}), panel("c2", staff={2023: 10, 2025: 5})]
    result = impact.compare_growth(treated, controls, impact.STAFF, minimum=1, resamples=200)
    expected = 1.5 * math.log(2)
    assert result.did == pytest.approx(expected)
    assert (result.n_treated, result.n_control, result.unmatched, result.lacking, result.cells) == (1, 2, 0, 0, 1)
    assert result.treated_pct == pytest.approx(100.0)
    assert result.did_pct == pytest.approx(100 * (math.exp(expected) - 1))


def test_matching_by_size_class_division_and_calendar_years():
    treated = [Treated(panel("t1", staff={2023: 10, 2025: 20}), 2024)]
    controls = [
        panel("same", staff={2023: 10, 2025: 10}),
        panel("other-division", division="10", staff={2023: 10, 2025: 40}),
        panel("other-size", sizes={2023: "small"}, staff={2023: 10, 2025: 40}),
        panel("size-in-another-year", sizes={2022: "micro", 2023: "small"}, staff={2023: 10, 2025: 40}),
        panel("other-years", sizes={2022: "micro"}, staff={2022: 10, 2024: 40}),
        panel("no-after-year", staff={2023: 10, 2024: 40}),
        panel("t1", staff={2023: 10, 2025: 40}),  # the supported company itself never compares
        panel("no-division", division="", staff={2023: 10, 2025: 40}),
    ]
    cells, unmatched, lacking, used = impact.build_cells(treated, controls, impact.STAFF)
    assert used == {"same"} and unmatched == 0 and lacking == 0
    assert cells == [Cell(("micro", "25", 2023, 2025), ((math.log(10), math.log(20)),),
                          ((math.log(10), math.log(10)),))]


def test_unmatched_and_lacking_supported_companies():
    treated = [
        Treated(panel("t1", staff={2023: 10, 2025: 20}), 2024),
        Treated(panel("t2", division="10", staff={2023: 10, 2025: 20}), 2024),  # no control in division 10
        Treated(panel("t3", staff={2025: 20}), 2024),  # no baseline
        Treated(panel("t4", sizes={}, staff={2023: 10, 2025: 20}), 2024),  # no size class
        Treated(panel("t5", division="", staff={2023: 10, 2025: 20}), 2024),  # no SNI division
        Treated(panel("t6", staff={2023: 0, 2025: 2}), 2024),  # zero staff: no log growth
    ]
    result = impact.compare_growth(treated, [panel("c", staff={2023: 1, 2025: 1})], impact.STAFF, minimum=1,
                                   resamples=100)
    assert (result.n_treated, result.unmatched, result.lacking) == (1, 1, 4)


def test_turnover_uses_turnover():
    treated = [Treated(panel("t", turnover={2023: 100, 2026: 300}), 2024)]
    controls = [panel("c", turnover={2023: 100, 2026: 100})]
    assert impact.compare_growth(treated, controls, impact.TURNOVER, minimum=1, resamples=50).did == \
        pytest.approx(math.log(3))
    assert impact.compare_growth(treated, controls, impact.STAFF, minimum=1).reason == impact.TOO_FEW


def group(n, growth_of, prefix, supported=False):
    """n companies in one stratum, staff 10 in 2023 and growth_of(i) by 2025."""
    items = []
    for i in range(n):
        p = panel(f"{prefix}{i}", staff={2023: 10, 2025: 10 * math.exp(growth_of(i))})
        items.append(Treated(p, 2024) if supported else p)
    return items


def test_shown_only_with_at_least_ten_in_both_groups():
    ten_t = group(10, lambda i: 0.1 * i, "t", supported=True)
    ten_c = group(10, lambda i: 0.05 * i, "c")
    shown = impact.compare_growth(ten_t, ten_c, impact.STAFF, resamples=200)
    assert shown.shown and (shown.n_treated, shown.n_control) == (10, 10)
    for treated, controls in ((ten_t[:9], ten_c), (ten_t, ten_c[:9])):
        hidden = impact.compare_growth(treated, controls, impact.STAFF)
        assert not hidden.shown and hidden.reason == impact.TOO_FEW and hidden.interval is None
        assert hidden.did_pct is None and hidden.interval_pct is None


def test_bootstrap_contains_the_estimate_and_is_deterministic():
    treated = group(25, lambda i: 0.02 * (i % 7), "t", supported=True)
    controls = group(30, lambda i: 0.015 * (i % 5), "c")
    first = impact.compare_growth(treated, controls, impact.STAFF)
    again = impact.compare_growth(treated, controls, impact.STAFF)
    assert first.interval == again.interval
    low, high = first.interval
    assert low < first.did < high
    other = impact.compare_growth(treated, controls, impact.STAFF, seed=1)
    assert other.interval != first.interval and other.did == first.did
    narrower = impact.bootstrap_interval(impact.build_cells(treated, controls, impact.STAFF)[0], level=0.5)
    assert low < narrower[0] <= narrower[1] < high


def test_bootstrap_without_spread_is_the_estimate():
    cells = [Cell("x", ((0, 1), (0, 1)), ((0, 0.5), (0, 0.5), (0, 0.5)))]
    assert impact.bootstrap_interval(cells, resamples=50) == pytest.approx((0.5, 0.5))


def test_bootstrap_arguments_are_checked():
    cells = [Cell("x", ((0, 1),), ((0, 0),))]
    with pytest.raises(impact.ImpactError):
        impact.bootstrap_interval(cells, resamples=0)
    with pytest.raises(impact.ImpactError):
        impact.bootstrap_interval(cells, level=1.0)
    with pytest.raises(impact.ImpactError):
        impact.compare_growth([], [], "profit")
    with pytest.raises(impact.ImpactError):
        panel("x").figures("profit")


# --- Properties --------------------------------------------------------------------------------

outcome = st.floats(min_value=-50, max_value=50, allow_nan=False)
pair = st.tuples(outcome, outcome)
groups = st.lists(pair, min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(groups, groups), min_size=1, max_size=4), st.floats(min_value=-100, max_value=100))
def test_adding_a_constant_to_all_outcomes_leaves_did_unchanged(raw, constant):
    cells = [Cell(i, tuple(t), tuple(c)) for i, (t, c) in enumerate(raw)]
    shifted = [Cell(c.key, tuple((b + constant, a + constant) for b, a in c.treated),
                    tuple((b + constant, a + constant) for b, a in c.control)) for c in cells]
    assert impact.difference_in_differences(shifted) == pytest.approx(impact.difference_in_differences(cells), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(groups, groups)
def test_swapping_the_groups_negates_did(treated, control):
    cell = Cell("x", tuple(treated), tuple(control))
    swapped = Cell("x", tuple(control), tuple(treated))
    assert impact.difference_in_differences([swapped]) == pytest.approx(-impact.difference_in_differences([cell]),
                                                                        abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(pair, min_size=2, max_size=2), st.lists(pair, min_size=2, max_size=2)),
                min_size=1, max_size=4))
def test_swapping_groups_of_equal_size_negates_did_across_cells(raw):
    cells = [Cell(i, tuple(t), tuple(c)) for i, (t, c) in enumerate(raw)]
    swapped = [Cell(c.key, c.control, c.treated) for c in cells]
    assert impact.difference_in_differences(swapped) == pytest.approx(-impact.difference_in_differences(cells), abs=1e-6)


growth_values = st.lists(st.floats(min_value=-2, max_value=2, allow_nan=False), min_size=10, max_size=14)


@settings(max_examples=25, deadline=None)
@given(growth_values, growth_values, st.floats(min_value=0.01, max_value=1000))
def test_scaling_every_figure_leaves_the_comparison_unchanged(t_growth, c_growth, factor):
    # Scaling every figure by k adds ln k to every log outcome.
    def build(scale):
        treated = [Treated(panel(f"t{i}", staff={2023: 10 * scale, 2025: 10 * scale * math.exp(g)}), 2024)
                   for i, g in enumerate(t_growth)]
        controls = [panel(f"c{i}", staff={2023: 10 * scale, 2025: 10 * scale * math.exp(g)})
                    for i, g in enumerate(c_growth)]
        return impact.compare_growth(treated, controls, impact.STAFF, resamples=100)
    plain, scaled = build(1), build(factor)
    assert scaled.did == pytest.approx(plain.did, abs=1e-6)
    assert scaled.interval == pytest.approx(plain.interval, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(growth_values, growth_values)
def test_bootstrap_interval_is_ordered_and_within_the_possible_differences(t_growth, c_growth):
    cells = [Cell("x", tuple((0.0, g) for g in t_growth), tuple((0.0, g) for g in c_growth))]
    low, high = impact.bootstrap_interval(cells, resamples=300)
    did = impact.difference_in_differences(cells)
    assert low <= high
    assert min(low, did) >= -4.0 - 1e-9 and max(high, did) <= 4.0 + 1e-9


def test_large_groups_are_resampled_in_slices(monkeypatch):
    cells = [Cell("x", tuple((0.0, 0.01 * (i % 9)) for i in range(40)), tuple((0.0, 0.01 * (i % 5)) for i in range(60)))]
    whole = impact.bootstrap_interval(cells, resamples=500)
    monkeypatch.setattr(impact, "_DRAWS_PER_SLICE", 1000)  # slices of 25 and 16 resamples
    sliced = impact.bootstrap_interval(cells, resamples=500)
    assert sliced[0] < impact.difference_in_differences(cells) < sliced[1]
    assert sliced == pytest.approx(whole, abs=0.01)
