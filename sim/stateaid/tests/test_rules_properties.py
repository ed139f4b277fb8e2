"""Properties of the de minimis rules (hypothesis): headroom, the decision, windows, single undertakings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stateaid.rules import (
    Award,
    Rate,
    RateTable,
    ceiling_for,
    check,
    evaluate_scenario,
    explain,
    fiscal_year_start_on_or_before,
    regulation_for,
    same_date_years_earlier,
    single_undertaking,
    window_for,
)

IDS = ["A", "B", "C", "D", "E", "F"]

dates = st.dates(min_value=dt.date(2012, 1, 1), max_value=dt.date(2030, 12, 31))
cents = st.integers(min_value=0, max_value=40_000_000).map(lambda c: Decimal(c) / 100)  # EUR 0 – 400,000
ids = st.sampled_from(IDS)
links = st.lists(st.tuples(ids, ids), max_size=8)
fiscal_starts = st.tuples(st.integers(1, 12), st.integers(1, 28))


amounts = st.one_of(cents, st.sampled_from([Decimal(0), Decimal(100000), Decimal(200000), Decimal(300000)]))


@st.composite
def awards_near(draw, on: dt.date):
    """Awards granted from about three and a half years before `on` to a month after it."""
    days = draw(st.integers(min_value=-31, max_value=1300))
    return Award(draw(ids), on - dt.timedelta(days=days), draw(amounts))


@st.composite
def cases(draw):
    """A check: the undertaking, its group, the date, the proposal, earlier awards and profile."""
    links_ = draw(links)
    who = draw(ids)
    on = draw(dates)
    return {
        "members": single_undertaking(who, links_),
        "on": on,
        "proposed_eur": draw(amounts),
        "awards": draw(st.lists(st.one_of(awards_near(on), st.builds(Award, ids, dates, cents)), max_size=12)),
        "road_freight": draw(st.booleans()),
        "fiscal_year_start": draw(fiscal_starts),
    }


@given(cases(), st.builds(Award, ids, dates, cents))
def test_adding_an_earlier_award_never_raises_the_headroom(case, extra):
    before = check(**case)
    extra = Award(extra.undertaking, min(extra.granted_on, case["on"]), extra.amount_eur)
    after = check(**{**case, "awards": [*case["awards"], extra]})
    assert after.headroom_eur <= before.headroom_eur
    assert after.used_eur >= before.used_eur
    assert not (after.allowed and not before.allowed)  # nothing refused becomes allowed


@given(cases())
def test_headroom_never_negative_and_allowed_iff_within_the_ceiling(case):
    result = check(**case)
    assert result.headroom_eur >= 0
    assert result.headroom_eur == max(result.ceiling_eur - result.used_eur, 0)
    assert result.allowed == (result.used_eur + result.proposed_eur <= result.ceiling_eur)
    if result.used_eur <= result.ceiling_eur:
        assert result.allowed == (result.proposed_eur <= result.headroom_eur)
    assert result.ceiling_eur == ceiling_for(result.regulation, road_freight=case["road_freight"])
    # The explanation always ends with the decision.
    with translation.override("en"):
        last = explain(result, whole=False)[-1]
    assert ("fits" in last) == result.allowed
    assert ("no part of it may be granted" in last) == (not result.allowed)


@given(cases(), st.sampled_from([Decimal("-0.01"), Decimal(0), Decimal("0.01")]))
def test_the_ceiling_to_the_cent(case, delta):
    used = check(**{**case, "proposed_eur": Decimal(0)}).used_eur
    ceiling = ceiling_for(regulation_for(case["on"]), road_freight=case["road_freight"])
    proposed = max(ceiling - used + delta, Decimal(0))
    result = check(**{**case, "proposed_eur": proposed})
    if used > ceiling:
        assert not result.allowed and result.headroom_eur == 0
    else:
        assert result.allowed == (used + proposed <= ceiling)
        assert result.allowed == (delta <= 0 or proposed == 0)


@given(cases())
def test_used_is_exactly_the_awards_to_members_inside_the_window(case):
    result = check(**case)
    members = set(case["members"])
    expected = [a for a in case["awards"] if a.undertaking in members and result.window.start <= a.granted_on <= case["on"]]
    assert sorted(result.counted, key=repr) == sorted(expected, key=repr)
    assert result.used_eur == sum((a.amount_eur for a in expected), Decimal(0))


@given(cases(), st.randoms(use_true_random=False))
def test_order_of_awards_is_irrelevant(case, random):
    shuffled = list(case["awards"])
    random.shuffle(shuffled)
    assert check(**case) == check(**{**case, "awards": shuffled})
    assert check(**case) == check(**{**case, "awards": tuple(reversed(case["awards"]))})


@given(links, ids)
def test_single_undertaking_is_symmetric(links_, who):
    group = single_undertaking(who, links_)
    assert who in group
    for member in group:  # every member gets the same group
        assert single_undertaking(member, links_) == group
    # The direction of a link does not matter.
    assert single_undertaking(who, [(b, a) for a, b in links_]) == group
    # Outsiders have no link to a member.
    for a, b in links_:
        assert (a in group) == (b in group)


@given(dates)
def test_rolling_window_is_three_years(on):
    window = window_for("2023/2831", on)
    assert window.end == on
    assert window.after == same_date_years_earlier(on, 3)
    assert window.after < window.start <= on
    assert window.start == window.after + dt.timedelta(days=1)
    assert 1094 <= (on - window.start).days <= 1095  # three years less a day, with or without a 29 February
    if (on.month, on.day) == (2, 29):
        assert window.start == dt.date(on.year - 3, 3, 1)
    else:
        assert (window.after.month, window.after.day) == (on.month, on.day)


@given(dates, fiscal_starts)
def test_fiscal_window_starts_two_fiscal_years_before_the_current_one(on, start):
    window = window_for("1407/2013", on, start)
    assert window.end == on
    assert (window.start.month, window.start.day) == start
    current = fiscal_year_start_on_or_before(on, start)
    assert current <= on < current.replace(year=current.year + 1)
    assert window.start == current.replace(year=current.year - 2)
    assert 730 <= (on - window.start).days < 1096


@given(st.lists(st.tuples(dates, st.integers(1, 2000).map(lambda r: Decimal(r) / 100)), max_size=10,
                unique_by=lambda pair: pair[0]), dates)
def test_rate_used_is_the_latest_on_or_before(pairs, on):
    table = RateTable(pairs)
    rate = table.on_or_before(on)
    earlier = [pair for pair in pairs if pair[0] <= on]
    if not earlier:
        assert rate is None
    else:
        assert rate == Rate(*max(earlier))


@settings(max_examples=50)
@given(st.lists(st.tuples(st.sampled_from(["556000-0001", "556000-0002", "556000-0003"]), dates,
                          st.integers(0, 200_000)), max_size=6),
       dates, st.integers(0, 400_000), st.randoms(use_true_random=False))
def test_scenario_output_is_whole_euros_and_consistent(award_rows, on, amount, random):
    data = {
        "undertakings": [{"id": "556000-0001", "fiscal_year_start": "04-01"}, {"id": "556000-0003"}],
        "control_links": [{"parent": "556000-0001", "child": "556000-0002"}],
        "awards": [{"undertaking": who, "date_granted": day.isoformat(), "amount_eur": eur} for who, day, eur in award_rows],
        "proposed": {"undertaking": "556000-0001", "date_granted": on.isoformat(), "amount_eur": amount},
    }
    result = evaluate_scenario(data)
    for key in ("ceiling_eur", "used_eur", "proposed_eur", "headroom_eur"):
        assert type(result[key]) is int
    assert result["regulation"] == regulation_for(on)
    assert result["allowed"] == (result["used_eur"] + result["proposed_eur"] <= result["ceiling_eur"])
    assert result["headroom_eur"] == max(result["ceiling_eur"] - result["used_eur"], 0)
    assert result["used_eur"] == sum(row["amount_eur"] for row in result["counted_awards"])
    assert all(row["undertaking"] != "556000-0003" for row in result["counted_awards"])
    random.shuffle(data["awards"])
    shuffled = evaluate_scenario(data)
    # The same decision and figures; awards of one day and undertaking may be listed in another order.
    ignore = {"counted_awards", "explanation"}
    assert {k: v for k, v in shuffled.items() if k not in ignore} == {k: v for k, v in result.items() if k not in ignore}
    assert sorted(shuffled["explanation"]) == sorted(result["explanation"])
    assert sorted(map(repr, shuffled["counted_awards"])) == sorted(map(repr, result["counted_awards"]))
