"""Pure finance rules: budget totals and indirect costs, the financing plan and its balance, spread,
burn rate, forecast, projected end balance and the share reaching companies.

Worked examples: the SIM seed budget (16 MSEK over 2019–2020, no ERDF) and the 32 MSEK scenario
with 50 % ERDF and a third year; a small dashboard whose every figure is worked out by hand.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.finance import rules
from sim.finance.rules import ActualItem, BudgetItem, DashboardInput, SourceItem


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def yearly(category: str, amounts: dict[int, int], partner=None) -> list[BudgetItem]:
    return [BudgetItem(category, year, D(amount), None, partner) for year, amount in amounts.items()]


# --- Worked examples -----------------------------------------------------------------------------


def sim_seed_budget() -> list[BudgetItem]:
    """The SIM seed project: 16 MSEK over 2019–2020, most of it company support."""
    return [
        *yearly("staff", {2019: 2_000_000, 2020: 2_000_000}),
        *yearly("company_support", {2019: 5_200_000, 2020: 5_200_000}),
        *yearly("external_services", {2019: 300_000, 2020: 300_000}),
        *yearly("travel", {2019: 100_000, 2020: 100_000}),
        *yearly("other", {2019: 100_000, 2020: 100_000}),
    ]


def erdf_budget() -> list[BudgetItem]:
    """Doubled to 32 MSEK with a third year (2021 as large as the first two together)."""
    return [
        *yearly("staff", {2019: 2_000_000, 2020: 2_000_000, 2021: 4_000_000}),
        *yearly("company_support", {2019: 5_200_000, 2020: 5_200_000, 2021: 10_400_000}),
        *yearly("external_services", {2019: 300_000, 2020: 300_000, 2021: 600_000}),
        *yearly("travel", {2019: 100_000, 2020: 100_000, 2021: 200_000}),
        *yearly("other", {2019: 100_000, 2020: 100_000, 2021: 200_000}),
    ]


NATIONAL_SOURCES = [
    SourceItem("regional_public", "Region Jämtland Härjedalen", amount=D(10_000_000)),
    SourceItem("other_public", "Kommunerna", amount=D(2_000_000)),
    SourceItem("private_cash", "Företagen", amount=D(3_000_000)),
    SourceItem("private_in_kind", "Företagens timmar", hours=D(2000)),
]


def test_sim_seed_budget_16_msek_over_two_years():
    totals = rules.budget_totals(sim_seed_budget(), D(15))
    assert totals.total == D(16_000_000)
    assert totals.staff == D(4_000_000)
    assert totals.indirect == D(600_000)  # 15 % of staff, computed
    assert totals.by_year == {2019: D(8_000_000), 2020: D(8_000_000)}
    assert totals.by_category["company_support"] == D(10_400_000)
    assert totals.by_category["equipment"] == 0  # every category is listed
    assert list(totals.by_category) == list(rules.CATEGORIES)
    assert totals.by_category_year[("indirect", 2019)] == D(300_000)
    assert totals.by_partner == {None: D(16_000_000)}

    plan = rules.financing_plan(NATIONAL_SOURCES, totals.total, D(500))
    assert plan.total == D(16_000_000) and plan.balance.balanced and plan.balance.direction == "balanced"
    in_kind = plan.sources[3]
    assert (in_kind.amount, in_kind.basis, in_kind.share_pct) == (D(1_000_000), "hours", D("6.25"))
    assert plan.sources[0].share_pct == D("62.50")
    assert plan.by_kind["erdf"] == 0 and plan.private == D(4_000_000)
    assert "balances" in plan.balance.message()

    reach = rules.budget_reach(totals, D(70), D(60))
    assert reach.amount == D(13_200_000)  # 10.4 MSEK support + 70 % of 4 MSEK staff
    assert reach.share_pct == D("82.50") and reach.meets_target


def test_erdf_scenario_32_msek_with_50_percent_and_a_third_year():
    totals = rules.budget_totals(erdf_budget(), D(15))
    assert totals.total == D(32_000_000)
    assert totals.by_year == {2019: D(8_000_000), 2020: D(8_000_000), 2021: D(16_000_000)}
    assert totals.indirect == D(1_200_000)
    sources = [SourceItem("erdf", "Tillväxtverket", rate_pct=D(50)), *NATIONAL_SOURCES]
    plan = rules.financing_plan(sources, totals.total, D(500))
    erdf = plan.sources[0]
    assert (erdf.amount, erdf.basis, erdf.share_pct) == (D(16_000_000), "rate", D("50.00"))
    assert plan.total == D(32_000_000) and plan.balance.balanced
    assert rules.budget_reach(totals, D(70), D(60)).amount == D(26_400_000)


def test_erdf_rate_too_low_is_short_with_the_difference_and_the_way():
    totals = rules.budget_totals(erdf_budget(), D(15))
    plan = rules.financing_plan([SourceItem("erdf", rate_pct=D(40)), *NATIONAL_SOURCES], totals.total, D(500))
    balance = plan.balance
    assert plan.sources[0].amount == D(12_800_000)
    assert (balance.balanced, balance.direction, balance.difference, balance.gap) == (
        False, "short", D(-3_200_000), D(3_200_000))
    message = balance.message()
    assert "3,200,000.00 short" in message and "financing SEK 28,800,000.00" in message
    assert "budget SEK 32,000,000.00" in message


def test_financing_above_the_budget_is_over():
    balance = rules.balance(D("100.50"), D(100))
    assert (balance.direction, balance.difference) == ("over", D("0.50"))
    assert "exceeds the budget by SEK 0.50" in balance.message()


def test_balance_tolerates_fractions_of_an_ore_only():
    assert rules.balance(D("100.005"), D(100)).balanced
    assert not rules.balance(D("100.01"), D(100)).balanced
    assert not rules.balance(D("99.99"), D(100)).balanced
    # A rate of an odd budget: the amount keeps its fraction of an öre; the plan still balances.
    plan = rules.financing_plan([SourceItem("erdf", rate_pct=D("33.33")), SourceItem("regional_public", rate_pct=D("66.67"))],
                                D("1000.01"), D(500))
    assert plan.balance.balanced and plan.sources[0].amount == D("333.303333")


def test_source_precedence_rate_then_hours_then_amount():
    assert rules.source_amount(SourceItem("erdf", amount=D(5), rate_pct=D(10)), D(1000), D(500)) == (D(100), "rate")
    assert rules.source_amount(SourceItem("private_in_kind", amount=D(5), hours=D(2)), D(1000), D(500)) == (D(1000), "hours")
    assert rules.source_amount(SourceItem("private_cash", amount=D(5)), D(1000), D(500)) == (D(5), "amount")
    assert rules.source_amount(SourceItem("private_cash"), D(1000), D(500)) == (D(0), "amount")


def test_empty_budget_and_plan():
    totals = rules.budget_totals([], D(15))
    assert totals.total == 0 and all(v == 0 for v in totals.by_category.values())
    plan = rules.financing_plan([], D(0), D(500))
    assert plan.balance.balanced and plan.sources == []
    assert rules.budget_reach(totals, D(70), D(60)).share_pct is None


def test_indirect_costs_are_computed_per_partner_and_period_and_never_entered():
    items = [
        BudgetItem("staff", 2024, D(1000), 1, partner=7),
        BudgetItem("staff", 2024, D(2000), None, partner=None),
        BudgetItem("indirect", 2024, D(999_999)),  # ignored: indirect costs are computed
    ]
    totals = rules.budget_totals(items, D("12.5"))
    assert totals.indirect == D(375)
    assert totals.by_cell[("indirect", 2024, 1, 7)] == D(125)
    assert totals.by_category_partner[("indirect", None)] == D(250)
    assert totals.total == D(3375)
    assert rules.indirect_costs(D("1234.56"), D(15)) == D("185.1840")


def test_reach_and_percentages():
    reach = rules.company_reach(D(500), D(1000), D(2000), D(50), D(60))
    assert (reach.amount, reach.share_pct, reach.meets_target) == (D(1000), D("50.00"), False)
    assert rules.pct(D(1), D(3)) == D("33.33")
    assert rules.pct(D(1), D(0)) is None
    assert rules.cents(D("0.005")) == D("0.01")


# --- Months, spreading ---------------------------------------------------------------------------


def test_month_arithmetic():
    assert rules.month_index(dt.date(2024, 1, 31)) == 2024 * 12
    assert rules.month_date(2024 * 12 + 11) == dt.date(2024, 12, 1)
    assert rules.quarter_of(rules.month_index(dt.date(2024, 8, 1))) == 3
    assert rules.quarters_of(dt.date(2019, 3, 1), dt.date(2019, 7, 31)) == [(2019, 1), (2019, 2), (2019, 3)]
    assert rules.months_in(dt.date(2019, 3, 15), dt.date(2020, 12, 31), 2019, 1) == [2019 * 12 + 2]
    assert rules.months_in(dt.date(2019, 3, 15), dt.date(2020, 12, 31), 2021) == []
    assert rules.years_of(dt.date(2019, 3, 1), dt.date(2021, 2, 1)) == [2019, 2020, 2021]
    assert rules.quarter_label(2020, 4) == "2020 Q4"


def test_spread_in_whole_ore_with_the_rest_last():
    months = [1, 2, 3]
    assert rules.spread(D(100), months) == {1: D("33.33"), 2: D("33.33"), 3: D("33.34")}
    assert rules.spread(D(5), []) == {}


def test_spread_item_over_the_months_of_the_scenario_in_that_year():
    item = BudgetItem("staff", 2019, D(600))
    spread = rules.spread_item(item, dt.date(2019, 7, 1), dt.date(2020, 12, 31))
    assert list(spread) == list(range(2019 * 12 + 6, 2019 * 12 + 12)) and set(spread.values()) == {D(100)}
    quarter = rules.spread_item(BudgetItem("staff", 2020, D(300), 2), dt.date(2019, 7, 1), dt.date(2020, 12, 31))
    assert quarter == {2020 * 12 + 3: D(100), 2020 * 12 + 4: D(100), 2020 * 12 + 5: D(100)}
    # A year outside the period is spread over all its months.
    outside = rules.spread_item(BudgetItem("staff", 2022, D(1200)), dt.date(2019, 7, 1), dt.date(2020, 12, 31))
    assert len(outside) == 12 and sum(outside.values()) == D(1200)


# --- Burn rate and forecast ----------------------------------------------------------------------


def test_burn_rate_over_complete_months_before_the_as_of_month():
    start = 100
    monthly = {100: D(30), 101: D(60), 102: D(90), 103: D(1000)}
    burn = rules.burn_rate(monthly, as_of=103, window=3, start=start)
    assert (burn.months, burn.spent, burn.per_month) == (3, D(180), D(60))
    # The window does not reach before the start: 6 months asked, 3 counted.
    assert rules.burn_rate(monthly, as_of=103, window=6, start=start).months == 3
    assert rules.burn_rate(monthly, as_of=100, window=3, start=start).per_month == 0
    assert rules.burn_rate({100: D(10)}, as_of=103, window=3, start=start).per_month == D("3.33")
    with pytest.raises(ValueError):
        rules.burn_rate(monthly, as_of=103, window=0, start=start)


def test_forecast_fills_the_current_month_then_runs_at_the_rate():
    fc = rules.forecast({10: D(40)}, as_of=10, end=12, per_month=D(100))
    assert fc == {10: D(60), 11: D(100), 12: D(100)}
    assert rules.forecast({10: D(400)}, as_of=10, end=11, per_month=D(100)) == {10: D(0), 11: D(100)}
    assert rules.forecast({}, as_of=13, end=12, per_month=D(100)) == {}
    assert rules.forecast({}, as_of=10, end=11, per_month=D(-5)) == {10: D(0), 11: D(0)}


def small_input(as_of=dt.date(2024, 4, 15), window=3) -> DashboardInput:
    return DashboardInput(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), as_of=as_of, window=window,
                          indirect_rate_pct=D(10), facing_pct=D(70), target_pct=D(60))


M = rules.month_index
SMALL_BUDGET = [BudgetItem("staff", 2024, D(120_000)), BudgetItem("travel", 2024, D(12_000))]
SMALL_ACTUALS = [
    ActualItem("staff", M(dt.date(2024, 1, 1)), D(10_000)),
    ActualItem("staff", M(dt.date(2024, 2, 1)), D(10_000)),
    ActualItem("staff", M(dt.date(2024, 3, 1)), D(10_000)),
    ActualItem("travel", M(dt.date(2024, 1, 1)), D(6_000)),
]


def test_dashboard_worked_example():
    """Staff 10 000 a month on a 120 000 budget stays on budget; travel spent 6 000 in January runs
    at 2 000 a month and ends 12 000 over its 12 000 budget."""
    f = rules.dashboard_figures(SMALL_BUDGET, SMALL_ACTUALS, small_input())
    staff, indirect, travel = f.by_category["staff"], f.by_category["indirect"], f.by_category["travel"]
    assert (staff.budget, staff.actual, staff.forecast, staff.projected_end, staff.overspent) == (
        D(120_000), D(30_000), D(90_000), D(0), False)
    assert (indirect.budget, indirect.actual, indirect.forecast) == (D(12_000), D(3_000), D(9_000))
    assert (travel.actual, travel.forecast, travel.projected_end, travel.overspent) == (D(6_000), D(18_000), D(-12_000), True)
    assert (f.total.budget, f.total.actual, f.total.forecast, f.total.projected_end) == (
        D(144_000), D(39_000), D(117_000), D(-12_000))
    assert f.total.overspent and f.overspent_categories == ["travel"]
    assert f.overspent_lines == [("travel", None)]
    assert f.burn.per_month == D(13_000) and f.burns[6].months == 3 and f.burns[6].per_month == D(13_000)
    assert f.remaining_months == 9
    assert f.by_year == {2024: f.total}
    q1, q2 = f.by_quarter[(2024, 1)], f.by_quarter[(2024, 2)]
    assert (q1.budget, q1.actual, q1.forecast) == (D(36_000), D(39_000), D(0))
    assert (q2.budget, q2.actual, q2.forecast) == (D(36_000), D(0), D(39_000))
    assert f.reach_actual.amount == D(21_000) and f.reach_actual.share_pct == D("53.85")
    assert f.reach_actual.meets_target is False
    assert f.reach_budget.amount == D(84_000)  # 70 % of the staff budget; no company support
    # The chart: January to December; actual up to April, actual + forecast from April.
    assert len(f.months) == 12
    april = f.months[3]
    assert (april.budget_cumulative, april.actual_cumulative, april.forecast_cumulative) == (
        D(48_000), D(39_000), D(52_000))
    assert f.months[2].forecast_cumulative is None and f.months[4].actual_cumulative is None
    assert f.months[-1].forecast_cumulative == D(39_000 + 117_000)
    assert f.months[-1].budget_cumulative == D(144_000)


def test_dashboard_current_month_spend_and_partners():
    actuals = [*SMALL_ACTUALS, ActualItem("staff", M(dt.date(2024, 4, 1)), D(4_000), partner=5),
               ActualItem("other", M(dt.date(2024, 5, 1)), D(99_999))]  # after the as-of month: not counted
    budget = [*SMALL_BUDGET, BudgetItem("staff", 2024, D(12_000), partner=5)]
    f = rules.dashboard_figures(budget, actuals, small_input())
    line = f.by_line[("staff", 5)]
    # No history before April for partner 5: no burn, so no forecast; April's 4 000 is actual.
    assert (line.budget, line.actual, line.forecast) == (D(12_000), D(4_000), D(0))
    assert f.by_line[("indirect", 5)].actual == D(400)
    assert f.by_partner[5].actual == D(4_400) and f.by_partner[None].actual == D(39_000)
    assert f.by_category["other"].actual == 0
    assert list(f.by_line)[:2] == [("staff", None), ("staff", 5)]


def test_dashboard_spend_in_the_current_month_reduces_its_forecast():
    actuals = [*SMALL_ACTUALS, ActualItem("staff", M(dt.date(2024, 4, 1)), D(4_000))]
    f = rules.dashboard_figures(SMALL_BUDGET, actuals, small_input())
    assert f.by_category["staff"].forecast == D(6_000 + 8 * 10_000)


def test_dashboard_before_the_start_and_after_the_end():
    before = rules.dashboard_figures(SMALL_BUDGET, [], small_input(as_of=dt.date(2023, 11, 20)))
    assert before.total.forecast == 0 and before.burn.months == 0 and before.remaining_months == 12
    assert before.total.projected_end == D(144_000)
    after = rules.dashboard_figures(SMALL_BUDGET, SMALL_ACTUALS, small_input(as_of=dt.date(2025, 3, 1)))
    assert after.total.forecast == 0 and after.remaining_months == 0
    assert after.total.projected_end == D(144_000 - 39_000)
    assert after.months[-1].forecast_cumulative is None and after.months[-1].actual_cumulative == D(39_000)


def test_company_specific_costs_reach_companies():
    actuals = [ActualItem("external_services", M(dt.date(2024, 1, 1)), D(1000), company_specific=True),
               ActualItem("company_support", M(dt.date(2024, 1, 1)), D(500)),
               ActualItem("travel", M(dt.date(2024, 1, 1)), D(500))]
    f = rules.dashboard_figures([], actuals, small_input())
    assert f.reach_actual.direct == D(1500) and f.reach_actual.share_pct == D("75.00")


# --- Properties ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
budget_items = st.lists(st.builds(
    BudgetItem, category=st.sampled_from(rules.ENTERED_CATEGORIES), year=st.integers(2019, 2021), amount=amounts,
    quarter=st.one_of(st.none(), st.integers(1, 4)), partner=st.one_of(st.none(), st.integers(1, 3))), max_size=25)


@given(budget_items, rates)
def test_indirect_is_the_rate_times_staff(items, rate):
    totals = rules.budget_totals(items, rate)
    staff = sum((i.amount for i in items if i.category == "staff"), D(0))
    assert totals.indirect == staff * rate / 100
    assert totals.total == sum((i.amount for i in items), D(0)) + totals.indirect
    assert sum(totals.by_year.values(), D(0)) == totals.total
    assert sum(totals.by_partner.values(), D(0)) == totals.total
    for partner in {i.partner for i in items}:
        partner_staff = sum((i.amount for i in items if i.category == "staff" and i.partner == partner), D(0))
        assert totals.by_category_partner.get(("indirect", partner), D(0)) == partner_staff * rate / 100


@given(amounts, amounts)
def test_balance_check_is_symmetric(a, b):
    one, other = rules.balance(a, b), rules.balance(b, a)
    assert one.difference == -other.difference
    assert one.balanced == other.balanced and one.gap == other.gap
    assert {one.direction, other.direction} in ({"balanced"}, {"short", "over"})


@given(st.lists(st.builds(SourceItem, kind=st.sampled_from(["erdf", "regional_public", "private_cash"]),
                          amount=st.one_of(st.none(), amounts), rate_pct=st.one_of(st.none(), rates)), max_size=6),
       amounts, st.randoms())
def test_plan_does_not_depend_on_the_order_of_sources(sources, budget, random):
    shuffled = list(sources)
    random.shuffle(shuffled)
    assert rules.financing_plan(sources, budget, D(500)).total == rules.financing_plan(shuffled, budget, D(500)).total


@given(amounts, st.integers(1, 40))
def test_spread_adds_up_exactly(amount, n):
    parts = rules.spread(amount, list(range(n)))
    assert sum(parts.values(), D(0)) == amount
    assert all(p >= 0 for p in parts.values())
    assert max(parts.values()) - min(parts.values()) <= D("0.01") * n


@settings(max_examples=60, deadline=None)
@given(budget_items,
       st.lists(st.builds(ActualItem, category=st.sampled_from(rules.ENTERED_CATEGORIES),
                          month=st.integers(M(dt.date(2019, 1, 1)), M(dt.date(2021, 12, 1))),
                          amount=st.decimals(min_value=-50_000, max_value=500_000, places=2),
                          partner=st.one_of(st.none(), st.integers(1, 3)), company_specific=st.booleans()),
                max_size=30),
       st.dates(dt.date(2018, 6, 1), dt.date(2022, 6, 1)), st.sampled_from([3, 6, 12]), rates)
def test_dashboard_figures_add_up(items, actuals, as_of, window, rate):
    settings_ = DashboardInput(start=dt.date(2019, 1, 1), end=dt.date(2021, 12, 31), as_of=as_of, window=window,
                               indirect_rate_pct=rate, facing_pct=D(70), target_pct=D(60))
    f = rules.dashboard_figures(items, actuals, settings_)
    for figures in [f.total, *f.by_category.values(), *f.by_line.values()]:
        assert figures.projected_end == figures.budget - figures.actual - figures.forecast
        assert figures.overspent == (figures.actual + figures.forecast > figures.budget)
        assert figures.forecast >= 0
    for grouping in (f.by_category, f.by_partner, f.by_year, f.by_quarter, f.by_line):
        for attribute in ("budget", "actual", "forecast"):
            total = sum((getattr(x, attribute) for x in grouping.values()), D(0))
            assert abs(total - getattr(f.total, attribute)) <= D("0.005") * (len(grouping) + 1)
    assert f.total.budget == rules.cents(rules.budget_totals(items, rate).total)
    counted = sum((a.amount for a in actuals if a.month <= M(as_of)), D(0))
    staff = sum((a.amount for a in actuals if a.month <= M(as_of) and a.category == "staff"), D(0))
    assert f.total.actual == rules.cents(counted + staff * rate / 100)
