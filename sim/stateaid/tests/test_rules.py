"""Worked examples of the de minimis rules (sim/stateaid/rules.py), for both regulations.

Pure functions: no database. Messages are checked in English (the source language).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from sim.stateaid import rules
from sim.stateaid.rules import (
    Award,
    Rate,
    RateTable,
    RuleError,
    Window,
    ceiling_for,
    check,
    evaluate_scenario,
    explain,
    is_control_link,
    regulation_for,
    sek_to_eur,
    single_undertaking,
    window_for,
)

D = dt.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def award(who: str, on: dt.date, eur: str | int, ref=None) -> Award:
    return Award(who, on, Decimal(str(eur)), ref=ref)


def counted_dates(result) -> list[dt.date]:
    return [a.granted_on for a in result.counted]


# --- Which regulation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2023, 12, 31), "1407/2013"),
        (D(2024, 1, 1), "2023/2831"),
        (D(2014, 1, 1), "1407/2013"),
        (D(2030, 12, 31), "2023/2831"),
    ],
)
def test_regulation_by_date_of_granting(on, expected):
    assert regulation_for(on) == expected


def test_ceilings():
    assert ceiling_for("2023/2831") == Decimal("300000")
    assert ceiling_for("2023/2831", road_freight=True) == Decimal("300000")  # no separate road-freight ceiling
    assert ceiling_for("1407/2013") == Decimal("200000")
    assert ceiling_for("1407/2013", road_freight=True) == Decimal("100000")


def test_unknown_regulation_is_refused():
    with pytest.raises(RuleError, match="other"):
        ceiling_for("other")
    with pytest.raises(RuleError, match="360/2012"):
        window_for("360/2012", D(2025, 1, 1))
    with pytest.raises(RuleError):
        check(members=["A"], on=D(2025, 1, 1), proposed_eur=Decimal(1), awards=[], regulation="other")


# --- 2023/2831: rolling three years ---------------------------------------------------------


def test_rolling_window_from_the_day_after_the_same_date_three_years_earlier():
    window = window_for("2023/2831", D(2025, 6, 15))
    assert window == Window(D(2022, 6, 16), D(2025, 6, 15))
    assert window.after == D(2022, 6, 15)
    assert D(2022, 6, 15) not in window
    assert D(2022, 6, 16) in window
    assert D(2025, 6, 15) in window
    assert D(2025, 6, 16) not in window


def test_award_exactly_three_years_before_is_not_counted_one_day_later_is():
    awards = [
        award("A", D(2022, 6, 14), 1000, "two days early"),
        award("A", D(2022, 6, 15), 2000, "exactly three years"),
        award("A", D(2022, 6, 16), 4000, "one day after"),
        award("A", D(2025, 6, 15), 8000, "same day as the new aid"),
        award("A", D(2025, 6, 16), 16000, "after the new aid"),
    ]
    result = check(members=["A"], on=D(2025, 6, 15), proposed_eur=Decimal(0), awards=awards)
    assert result.regulation == "2023/2831"
    assert [a.ref for a in result.counted] == ["one day after", "same day as the new aid"]
    assert result.used_eur == Decimal(12000)
    assert result.headroom_eur == Decimal(288000)


def test_29_february_new_aid_looks_back_to_28_february():
    # 2028-02-29: there is no 2025-02-29, so "the same date three years earlier" is 2025-02-28.
    window = window_for("2023/2831", D(2028, 2, 29))
    assert window == Window(D(2025, 3, 1), D(2028, 2, 29))
    awards = [award("A", D(2025, 2, 28), 100), award("A", D(2025, 3, 1), 200)]
    result = check(members=["A"], on=D(2028, 2, 29), proposed_eur=Decimal(0), awards=awards)
    assert counted_dates(result) == [D(2025, 3, 1)]
    assert result.used_eur == Decimal(200)


def test_earlier_award_on_29_february():
    awards = [award("A", D(2024, 2, 28), 100), award("A", D(2024, 2, 29), 200), award("A", D(2024, 3, 1), 400)]
    # New aid on 2027-02-28: awards after 2024-02-28 count, so 29 February 2024 does.
    on_28 = check(members=["A"], on=D(2027, 2, 28), proposed_eur=Decimal(0), awards=awards)
    assert window_for("2023/2831", D(2027, 2, 28)).start == D(2024, 2, 29)
    assert counted_dates(on_28) == [D(2024, 2, 29), D(2024, 3, 1)]
    # New aid on 2027-03-01: awards after 2024-03-01 count; 29 February 2024 no longer does.
    on_1_march = check(members=["A"], on=D(2027, 3, 1), proposed_eur=Decimal(0), awards=awards)
    assert on_1_march.used_eur == Decimal(0)


def test_first_day_of_2023_2831_looks_back_into_1407_2013_awards():
    awards = [award("A", D(2021, 1, 1), 50000), award("A", D(2021, 1, 2), 70000), award("A", D(2023, 12, 31), 30000)]
    result = check(members=["A"], on=D(2024, 1, 1), proposed_eur=Decimal(200000), awards=awards)
    assert result.regulation == "2023/2831"
    assert result.window == Window(D(2021, 1, 2), D(2024, 1, 1))
    assert result.used_eur == Decimal(100000)
    assert result.allowed  # 100,000 + 200,000 = 300,000 exactly


def test_exact_ceiling_allowed_one_cent_over_refused_with_no_part():
    awards = [award("A", D(2023, 1, 10), 200000)]
    exact = check(members=["A"], on=D(2025, 6, 15), proposed_eur=Decimal("100000.00"), awards=awards)
    assert exact.allowed
    assert exact.headroom_eur == Decimal(100000)
    assert exact.remaining_after_eur == Decimal(0)

    over = check(members=["A"], on=D(2025, 6, 15), proposed_eur=Decimal("100000.01"), awards=awards)
    assert not over.allowed
    assert over.headroom_eur == Decimal(100000)  # the headroom is what was left before, not a part to grant
    assert over.over_by_eur == Decimal("0.01")
    lines = explain(over, whole=False)
    assert "would exceed the ceiling by EUR 0.01, so no part of it may be granted as de minimis aid" in lines[-1]


def test_headroom_never_negative_when_the_ceiling_is_already_passed():
    awards = [award("A", D(2024, 3, 1), 250000), award("A", D(2024, 9, 1), 80000)]
    result = check(members=["A"], on=D(2025, 1, 1), proposed_eur=Decimal(0), awards=awards)
    assert result.used_eur == Decimal(330000)
    assert result.headroom_eur == Decimal(0)
    assert not result.allowed  # even nothing more fits


def test_negative_proposal_refused():
    with pytest.raises(RuleError, match="cannot be negative"):
        check(members=["A"], on=D(2025, 1, 1), proposed_eur=Decimal("-0.01"), awards=[])
    with pytest.raises(RuleError, match="not a number"):
        check(members=["A"], on=D(2025, 1, 1), proposed_eur=Decimal("NaN"), awards=[])


def test_road_freight_does_not_lower_the_2023_2831_ceiling():
    result = check(members=["T"], on=D(2024, 5, 1), proposed_eur=Decimal(250000), awards=[], road_freight=True)
    assert result.ceiling_eur == Decimal(300000)
    assert result.allowed
    assert not result.road_freight


# --- 1407/2013: current and two previous fiscal years ---------------------------------------


def test_calendar_fiscal_years():
    window = window_for("1407/2013", D(2023, 12, 31))
    assert window == Window(D(2021, 1, 1), D(2023, 12, 31))
    awards = [award("A", D(2020, 12, 31), 1000), award("A", D(2021, 1, 1), 2000), award("A", D(2024, 1, 5), 4000)]
    result = check(members=["A"], on=D(2023, 12, 31), proposed_eur=Decimal(0), awards=awards)
    assert result.regulation == "1407/2013"
    assert result.ceiling_eur == Decimal(200000)
    assert counted_dates(result) == [D(2021, 1, 1)]


def test_fiscal_year_starting_in_july():
    # New aid on 2023-03-15, fiscal years from 1 July: the current one began 2022-07-01, the two
    # previous ones 2021-07-01 and 2020-07-01.
    window = window_for("1407/2013", D(2023, 3, 15), (7, 1))
    assert window == Window(D(2020, 7, 1), D(2023, 3, 15))
    awards = [
        award("A", D(2020, 6, 30), 90000),
        award("A", D(2020, 7, 1), 50000),
        award("A", D(2023, 3, 15), 25000),
        award("A", D(2023, 3, 16), 99000),
    ]
    result = check(members=["A"], on=D(2023, 3, 15), proposed_eur=Decimal(125000), awards=awards,
                   fiscal_year_start=(7, 1))
    assert counted_dates(result) == [D(2020, 7, 1), D(2023, 3, 15)]
    assert result.used_eur == Decimal(75000)
    assert result.allowed  # 75,000 + 125,000 = 200,000 exactly
    # With calendar fiscal years the window would start on 2021-01-01 instead.
    calendar = check(members=["A"], on=D(2023, 3, 15), proposed_eur=Decimal(125000), awards=awards)
    assert calendar.window.start == D(2021, 1, 1)
    assert calendar.used_eur == Decimal(25000)


def test_new_aid_on_the_first_day_of_a_fiscal_year():
    assert window_for("1407/2013", D(2023, 7, 1), (7, 1)).start == D(2021, 7, 1)
    assert window_for("1407/2013", D(2023, 6, 30), (7, 1)).start == D(2020, 7, 1)


def test_fiscal_year_of_the_undertaking_receiving_the_new_aid_counts():
    # A (fiscal year from 1 September) and B (calendar) are one single undertaking; the window
    # follows the fiscal year of the undertaking the new aid is for.
    awards = [award("B", D(2019, 10, 1), 40000)]
    for_a = check(members=["A", "B"], on=D(2021, 11, 1), proposed_eur=Decimal(0), awards=awards,
                  fiscal_year_start=(9, 1))
    assert for_a.window.start == D(2019, 9, 1)
    assert for_a.used_eur == Decimal(40000)
    for_b = check(members=["A", "B"], on=D(2021, 11, 1), proposed_eur=Decimal(0), awards=awards)
    assert for_b.window.start == D(2019, 1, 1)
    assert for_b.used_eur == Decimal(40000)
    for_b_later = check(members=["A", "B"], on=D(2022, 1, 1), proposed_eur=Decimal(0), awards=awards)
    assert for_b_later.used_eur == Decimal(0)


def test_road_freight_ceiling_100000():
    awards = [award("T", D(2022, 2, 1), 60000)]
    fits = check(members=["T"], on=D(2023, 6, 1), proposed_eur=Decimal(40000), awards=awards, road_freight=True)
    assert fits.ceiling_eur == Decimal(100000)
    assert fits.allowed
    assert fits.headroom_eur == Decimal(40000)
    over = check(members=["T"], on=D(2023, 6, 1), proposed_eur=Decimal("40000.01"), awards=awards, road_freight=True)
    assert not over.allowed
    assert over.road_freight
    assert "road freight" in explain(over)[0]
    not_road = check(members=["T"], on=D(2023, 6, 1), proposed_eur=Decimal("40000.01"), awards=awards)
    assert not_road.allowed


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, (1, 1)), ("", (1, 1)), ("01-01", (1, 1)), ("07-01", (7, 1)), ("7-1", (7, 1)), ("12-31", (12, 31)),
     ((9, 1), (9, 1))],
)
def test_parse_fiscal_year_start(value, expected):
    assert rules.parse_fiscal_year_start(value) == expected


@pytest.mark.parametrize("value", ["02-29", "13-01", "00-10", "04-31", "0701", "07/01", "July", "07-01-2023", (2, 30)])
def test_parse_fiscal_year_start_refuses(value):
    with pytest.raises(RuleError, match="fiscal-year start"):
        rules.parse_fiscal_year_start(value)


# --- Single undertaking ---------------------------------------------------------------------


def test_chain_of_control_links():
    links = [("A", "B"), ("B", "C")]  # A controls B controls C
    assert single_undertaking("A", links) == ("A", "B", "C")
    assert single_undertaking("B", links) == ("A", "B", "C")
    assert single_undertaking("C", links) == ("A", "B", "C")


def test_sisters_under_a_common_parent_and_unrelated_undertakings():
    links = [("P", "X"), ("P", "Y"), ("Y", "Y2"), ("Q", "Z")]
    assert single_undertaking("X", links) == ("P", "X", "Y", "Y2")
    assert single_undertaking("Z", links) == ("Q", "Z")
    assert single_undertaking("LONE", links) == ("LONE",)


def test_cycles_and_self_links_end():
    assert single_undertaking("A", [("A", "B"), ("B", "A"), ("B", "C"), ("C", "A"), ("A", "A")]) == ("A", "B", "C")


@pytest.mark.parametrize(
    ("controls", "voting", "expected"),
    [(True, None, True), (False, None, False), (False, Decimal(50), False), (False, Decimal("50.01"), True),
     (False, Decimal(100), True), (True, Decimal(10), True)],
)
def test_is_control_link(controls, voting, expected):
    assert is_control_link(controls=controls, voting_pct=voting) is expected


def test_awards_of_the_whole_group_count_and_others_do_not():
    links = [("A", "B"), ("B", "C"), ("X", "Y")]
    members = single_undertaking("C", links)
    awards = [award("A", D(2024, 2, 1), 100000), award("B", D(2024, 3, 1), 100000), award("Y", D(2024, 4, 1), 100000)]
    result = check(members=members, on=D(2025, 1, 1), proposed_eur=Decimal("100000.01"), awards=awards)
    assert result.members == ("A", "B", "C")
    assert result.used_eur == Decimal(200000)
    assert not result.allowed


# --- Exchange rates -------------------------------------------------------------------------


def test_rate_on_or_before_the_date_never_a_later_one():
    table = RateTable([Rate(D(2023, 1, 2), Decimal("11.1")), Rate(D(2023, 6, 1), Decimal("11.5"))])
    assert table.on_or_before(D(2023, 1, 1)) is None
    assert table.on_or_before(D(2023, 1, 2)) == Rate(D(2023, 1, 2), Decimal("11.1"))
    assert table.on_or_before(D(2023, 5, 31)) == Rate(D(2023, 1, 2), Decimal("11.1"))
    assert table.on_or_before(D(2023, 6, 1)) == Rate(D(2023, 6, 1), Decimal("11.5"))
    assert table.on_or_before(D(2030, 1, 1)) == Rate(D(2023, 6, 1), Decimal("11.5"))
    assert len(table) == 2


def test_rate_table_from_a_mapping_or_pairs_in_any_order():
    pairs = [(D(2023, 6, 1), Decimal("11.5")), (D(2023, 1, 2), "11.1")]
    assert RateTable(pairs).on_or_before(D(2023, 3, 1)).sek_per_eur == Decimal("11.1")
    assert RateTable(dict(pairs)).on_or_before(D(2023, 6, 2)).sek_per_eur == Decimal("11.5")
    assert len(RateTable([*pairs, (D(2023, 1, 2), Decimal("11.10"))])) == 2  # the same rate twice is fine


@pytest.mark.parametrize("bad", [Decimal(0), Decimal("-11"), Decimal("NaN"), Decimal("Infinity")])
def test_rate_table_refuses_rates_not_above_zero(bad):
    with pytest.raises(RuleError, match="above zero"):
        RateTable({D(2023, 1, 2): bad})


def test_rate_table_refuses_two_rates_for_one_day():
    with pytest.raises(RuleError, match="Two different rates"):
        RateTable([(D(2023, 1, 2), Decimal("11.1")), (D(2023, 1, 2), Decimal("11.2"))])


@pytest.mark.parametrize(
    ("sek", "rate", "eur"),
    [("1000000", "11.1", "90090.09"), ("1000000", "10", "100000.00"), ("1.25", "10", "0.13"),
     ("1.24", "10", "0.12"), ("0", "11", "0.00"), ("3300000.33", "11", "300000.03")],
)
def test_sek_to_eur_to_the_cent_half_up(sek, rate, eur):
    assert sek_to_eur(Decimal(sek), Decimal(rate)) == Decimal(eur)


def test_sek_to_eur_refuses_bad_rates():
    with pytest.raises(RuleError):
        sek_to_eur(Decimal(100), Decimal(0))
    with pytest.raises(RuleError):
        sek_to_eur(Decimal("1e20"), Decimal("1e-20"))


def test_whole_euros_half_up():
    assert rules.whole_euros(Decimal("90090.49")) == 90090
    assert rules.whole_euros(Decimal("90090.50")) == 90091
    assert rules.whole_euros(Decimal("0.49")) == 0


# --- Explanation ----------------------------------------------------------------------------


def test_explanation_names_regulation_window_members_awards_and_decision():
    awards = [award("B", D(2023, 5, 1), "120000.40")]
    result = check(members=["A", "B"], on=D(2025, 3, 1), proposed_eur=Decimal("90090.09"), awards=awards)
    lines = explain(result, names={"A": "Alfa AB", "B": "Beta AB"})
    assert lines[0] == ("Granted on 2025-03-01, on or after 2024-01-01: Regulation (EU) 2023/2831 applies, ceiling "
                        "EUR 300,000 over a rolling three years.")
    assert lines[1] == ("Counted: awards granted after 2022-03-01 (the same date three years earlier) up to and "
                        "including 2025-03-01.")
    assert lines[2] == "Single undertaking (linked by control): Alfa AB, Beta AB."
    assert lines[3] == "Counted: EUR 120,000 to Beta AB granted on 2023-05-01."
    # Whole euros by default (half up): 120,000.40 → 120,000 and the headroom 179,999.60 → 180,000.
    assert lines[4] == "Used EUR 120,000 of EUR 300,000; headroom EUR 180,000."
    assert lines[5] == "The new aid of EUR 90,090 fits; EUR 89,910 remains."
    exact = explain(result, whole=False)
    assert exact[3] == "Counted: EUR 120,000.40 to B granted on 2023-05-01."
    assert exact[4] == "Used EUR 120,000.40 of EUR 300,000; headroom EUR 179,999.60."
    assert exact[5] == "The new aid of EUR 90,090.09 fits; EUR 89,909.51 remains."


def test_explanation_of_1407_2013_and_of_no_earlier_aid():
    result = check(members=["A"], on=D(2023, 3, 15), proposed_eur=Decimal(250000), awards=[], fiscal_year_start=(7, 1))
    lines = explain(result)
    assert lines[0] == ("Granted on 2023-03-15, before 2024-01-01: Regulation (EU) No 1407/2013 applies, ceiling "
                        "EUR 200,000.")
    assert lines[1] == ("Counted: awards in the current fiscal year up to and including 2023-03-15 and the two "
                        "previous fiscal years (fiscal years starting 07-01), i.e. from 2020-07-01.")
    assert "No earlier de minimis aid in the window." in lines
    assert lines[-1] == ("The new aid of EUR 250,000 would exceed the ceiling by EUR 50,000, so no part of it may be "
                         "granted as de minimis aid.")


def test_explanation_of_an_award_converted_from_sek():
    rate = Rate(D(2023, 1, 2), Decimal("11.1"))
    converted = Award("A", D(2023, 5, 1), Decimal("90090.09"), amount_sek=Decimal(1000000), rate=rate)
    result = check(members=["A"], on=D(2025, 3, 1), proposed_eur=Decimal(0), awards=[converted])
    assert ("Counted: EUR 90,090.09 (SEK 1,000,000 at 11.1 SEK/EUR, rate of 2023-01-02) to A granted on "
            "2023-05-01.") in explain(result, whole=False)


# --- The what-if document (evaluate_scenario) -------------------------------------------------


ISSUE_EXAMPLE = {
    "undertakings": [{"id": "556000-0001", "road_freight": False, "fiscal_year_start": "01-01"}],
    "control_links": [{"parent": "556000-0001", "child": "556000-0002"}],
    "rates": [{"date": "2023-01-02", "sek_per_eur": 11.1}],
    "awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 120000}],
    "proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_sek": 1000000},
}


def scenario(**changes):
    data = {key: (list(value) if isinstance(value, list) else dict(value)) for key, value in ISSUE_EXAMPLE.items()}
    data.update(changes)
    return data


def test_issue_example():
    result = evaluate_scenario(ISSUE_EXAMPLE)
    explanation = result.pop("explanation")
    assert result == {
        "allowed": True,
        "regulation": "2023/2831",
        "ceiling_eur": 300000,
        "used_eur": 120000,
        "proposed_eur": 90090,  # SEK 1,000,000 / 11.1 = EUR 90,090.09
        "headroom_eur": 180000,
        "window": {"from": "2022-03-02", "to": "2025-03-01"},
        "single_undertaking": ["556000-0001", "556000-0002"],
        "counted_awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 120000}],
    }
    assert explanation[2] == "The new aid: SEK 1,000,000 at 11.1 SEK/EUR (rate of 2023-01-02) = EUR 90,090.09."
    assert "Single undertaking (linked by control): 556000-0001, 556000-0002." in explanation
    assert explanation[-1] == "The new aid of EUR 90,090.09 fits; EUR 89,909.91 remains."


def test_scenario_refused_with_the_figures():
    data = scenario(proposed={"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": 180000.01})
    result = evaluate_scenario(data)
    assert result["allowed"] is False
    assert (result["used_eur"], result["proposed_eur"], result["headroom_eur"]) == (120000, 180000, 180000)
    assert "no part of it may be granted" in result["explanation"][-1]
    assert "EUR 0.01" in result["explanation"][-1]
    exact = evaluate_scenario(scenario(proposed={"undertaking": "556000-0001", "date_granted": "2025-03-01",
                                                 "amount_eur": 180000}))
    assert exact["allowed"] is True


def test_scenario_awards_in_sek_use_the_rate_on_or_before_their_own_date():
    data = scenario(
        rates=[{"date": "2023-01-02", "sek_per_eur": "11.1"}, {"date": "2023-05-02", "sek_per_eur": 10},
               {"date": "2025-02-01", "sek_per_eur": 12.5}],
        awards=[{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_sek": 1110000},
                {"undertaking": "556000-0001", "date_granted": "2023-05-02", "amount_sek": 1000000}],
    )
    result = evaluate_scenario(data)
    assert result["counted_awards"] == [
        # 2023-05-01: the rate of 2023-01-02 (the rate of 2023-05-02 is later and not used).
        {"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 100000,
         "amount_sek": 1110000, "sek_per_eur": 11.1, "rate_date": "2023-01-02"},
        {"undertaking": "556000-0001", "date_granted": "2023-05-02", "amount_eur": 100000,
         "amount_sek": 1000000, "sek_per_eur": 10, "rate_date": "2023-05-02"},
    ]
    assert result["used_eur"] == 200000
    assert result["proposed_eur"] == 80000  # SEK 1,000,000 at 12.5 (rate of 2025-02-01)
    assert result["allowed"] is True


def test_scenario_missing_rate_for_an_award():
    data = scenario(awards=[{"undertaking": "556000-0002", "date_granted": "2023-01-01", "amount_sek": 100}])
    with pytest.raises(RuleError, match=r"awards\[0\]: no SEK/EUR rate on or before 2023-01-01"):
        evaluate_scenario(data)


def test_scenario_missing_rate_for_the_proposal():
    data = scenario(rates=[{"date": "2025-03-02", "sek_per_eur": 11}])
    with pytest.raises(RuleError, match="proposed: no SEK/EUR rate on or before 2025-03-01"):
        evaluate_scenario(data)
    no_rates = scenario(proposed={"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": 1})
    del no_rates["rates"]
    assert evaluate_scenario(no_rates)["allowed"] is True  # no SEK anywhere, no rate needed


def test_scenario_1407_2013_fiscal_year_and_road_freight():
    data = {
        "undertakings": [{"id": "T", "road_freight": True, "fiscal_year_start": "07-01"}, {"id": "S"}],
        "control_links": [{"parent": "S", "child": "T"}],
        "awards": [{"undertaking": "S", "date_granted": "2020-06-30", "amount_eur": 90000},
                   {"undertaking": "S", "date_granted": "2020-07-01", "amount_eur": 60000}],
        "proposed": {"undertaking": "T", "date_granted": "2023-03-15", "amount_eur": 40000},
    }
    result = evaluate_scenario(data)
    assert result["regulation"] == "1407/2013"
    assert result["ceiling_eur"] == 100000
    assert result["window"] == {"from": "2020-07-01", "to": "2023-03-15"}
    assert [a["date_granted"] for a in result["counted_awards"]] == ["2020-07-01"]
    assert (result["used_eur"], result["headroom_eur"], result["allowed"]) == (60000, 40000, True)
    # The same aid to the sister S, which has calendar fiscal years and no road freight.
    data["proposed"] = {"undertaking": "S", "date_granted": "2023-03-15", "amount_eur": 40000}
    result = evaluate_scenario(data)
    assert result["ceiling_eur"] == 200000
    assert result["window"]["from"] == "2021-01-01"
    assert result["used_eur"] == 0


def test_scenario_chain_and_links_that_are_not_control():
    data = {
        "undertakings": [{"id": "C"}],
        "control_links": [{"parent": "A", "child": "B"}, {"parent": "B", "child": "C", "voting_pct": 60},
                          {"parent": "M", "child": "C", "voting_pct": 50},
                          {"parent": "N", "child": "A", "controls": False},
                          {"parent": "O", "child": "A", "controls": True, "voting_pct": 5}],
        "awards": [{"undertaking": "A", "date_granted": "2024-06-01", "amount_eur": 100},
                   {"undertaking": "M", "date_granted": "2024-06-01", "amount_eur": 1000},
                   {"undertaking": "N", "date_granted": "2024-06-01", "amount_eur": 10000}],
        "proposed": {"undertaking": "C", "date_granted": "2025-01-01", "amount_eur": 0},
    }
    result = evaluate_scenario(data)
    assert result["single_undertaking"] == ["A", "B", "C", "O"]
    assert result["used_eur"] == 100


def test_scenario_numbers_may_be_integers_as_ids_and_strings_as_amounts():
    data = {
        "undertakings": [{"id": 5560000001}],
        "awards": [{"undertaking": "5560000001", "date_granted": "2024-02-01", "amount_eur": "1000.50"}],
        "proposed": {"undertaking": 5560000001, "date_granted": "2024-03-01", "amount_eur": Decimal("0.49")},
    }
    result = evaluate_scenario(data)
    assert result["single_undertaking"] == ["5560000001"]
    assert (result["used_eur"], result["proposed_eur"]) == (1001, 0)


BAD = [
    ("unknown proposed undertaking",
     {"proposed": {"undertaking": "556000-9999", "date_granted": "2025-03-01", "amount_eur": 1}},
     "proposed: unknown undertaking 556000-9999"),
    ("unknown award undertaking",
     {"awards": [{"undertaking": "556000-0003", "date_granted": "2023-05-01", "amount_eur": 1}]},
     r"awards\[0\]: unknown undertaking 556000-0003"),
    ("negative award",
     {"awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": -1}]},
     r"awards\[0\]: “amount_eur” cannot be negative \(-1\)"),
    ("negative proposal",
     {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_sek": "-0.01"}},
     "proposed: “amount_sek” cannot be negative"),
    ("impossible date",
     {"awards": [{"undertaking": "556000-0002", "date_granted": "2023-02-29", "amount_eur": 1}]},
     r"awards\[0\]: “date_granted” is not a date \(write YYYY-MM-DD\): 2023-02-29"),
    ("week date", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-W09-6", "amount_eur": 1}},
     "proposed: “date_granted” is not a date"),
    ("Swedish order", {"proposed": {"undertaking": "556000-0001", "date_granted": "01/03/2025", "amount_eur": 1}},
     "proposed: “date_granted” is not a date"),
    ("other digits", {"proposed": {"undertaking": "556000-0001", "date_granted": "٢٠٢٥-٠٣-٠١", "amount_eur": 1}},
     "proposed: “date_granted” is not a date"),
    ("date as number", {"proposed": {"undertaking": "556000-0001", "date_granted": 20250301, "amount_eur": 1}},
     "proposed: “date_granted” is not a date"),
    ("missing date", {"proposed": {"undertaking": "556000-0001", "amount_eur": 1}},
     "proposed: “date_granted” is missing"),
    ("bad rate date", {"rates": [{"date": "2023-13-01", "sek_per_eur": 11}]}, r"rates\[0\]: “date” is not a date"),
    ("zero rate", {"rates": [{"date": "2023-01-02", "sek_per_eur": 0}]}, r"rates\[0\]: “sek_per_eur” must be above zero"),
    ("text rate", {"rates": [{"date": "2023-01-02", "sek_per_eur": "elva"}]}, r"rates\[0\]: “sek_per_eur” is not a number"),
    ("two rates for a day", {"rates": [{"date": "2023-01-02", "sek_per_eur": 11}, {"date": "2023-01-02", "sek_per_eur": 12}]},
     "Two different rates are given for 2023-01-02"),
    ("no amount", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01"}},
     "proposed: give “amount_eur” or “amount_sek”"),
    ("both amounts", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": 1,
                                   "amount_sek": 11}}, "not both"),
    ("amount true", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": True}},
     "proposed: “amount_eur” is not a number"),
    ("amount NaN", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": "NaN"}},
     "is not a number"),
    ("amount huge", {"proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_eur": 1e300}},
     "is too large"),
    ("no proposal", {"proposed": None}, "proposed must be an object"),
    ("awards not a list", {"awards": {"undertaking": "556000-0002"}}, "“awards” must be a list"),
    ("award not an object", {"awards": ["556000-0002"]}, r"awards\[0\] must be an object"),
    ("no undertakings", {"undertakings": None}, "“undertakings” is missing"),
    ("undertaking twice", {"undertakings": [{"id": "556000-0001"}, {"id": "556000-0001"}]}, "listed twice"),
    ("undertaking without id", {"undertakings": [{"road_freight": False}]}, r"undertakings\[0\]: “id” is missing"),
    ("road freight text", {"undertakings": [{"id": "556000-0001", "road_freight": "no"}]},
     "“road_freight” must be true or false"),
    ("fiscal year 29 Feb", {"undertakings": [{"id": "556000-0001", "fiscal_year_start": "02-29"}]},
     r"undertakings\[0\]: .*not a fiscal-year start"),
    ("self link", {"control_links": [{"parent": "556000-0001", "child": "556000-0001"}]}, "cannot control itself"),
    ("link without child", {"control_links": [{"parent": "556000-0001"}]}, r"control_links\[0\]: “child” is missing"),
    ("voting over 100", {"control_links": [{"parent": "556000-0001", "child": "X", "voting_pct": 150}]},
     "between 0 and 100"),
    ("controls text", {"control_links": [{"parent": "556000-0001", "child": "X", "controls": "yes"}]},
     "“controls” must be true or false"),
]


@pytest.mark.parametrize(("changes", "message"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_scenario_bad_input(changes, message):
    with pytest.raises(RuleError, match=message):
        evaluate_scenario(scenario(**changes))


@pytest.mark.parametrize("document", [[], "x", None, 3])
def test_scenario_must_be_an_object(document):
    with pytest.raises(RuleError, match="must be an object"):
        evaluate_scenario(document)


def test_scenario_without_proposal():
    data = scenario()
    del data["proposed"]
    with pytest.raises(RuleError, match="“proposed” is missing"):
        evaluate_scenario(data)
