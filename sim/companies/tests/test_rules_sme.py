"""The EU SME definition (Commission Recommendation 2003/361/EC): sim.companies.rules.classify_sme.

The rule tests are pure (no database, no Django settings: they also run with
``pytest -p no:django``).  The tests of the ``sme_classify`` command at the end call the command
class directly, run it in a subprocess, or — once Django is set up by pytest-django with the
project settings — call it by name.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.companies.management.commands.sme_classify import Command
from sim.companies.rules import (
    CATEGORIES,
    Accounts,
    Enterprise,
    Figures,
    Holding,
    Relationship,
    SmeInputError,
    apply_two_year_rule,
    category_for,
    category_rank,
    classify_sme,
    scenario_from_json,
    sme_result_to_json,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
M = 1_000_000


def english():
    """Translation override to English when Django is set up, a no-op otherwise."""
    if apps.ready:
        from django.utils.translation import override

        return override("en")
    return contextlib.nullcontext()


def acc(year, staff, turnover, balance):
    return Accounts(year, D(str(staff)), D(str(turnover)), D(str(balance)))


def ent(id_, *accounts, **flags):
    return Enterprise(id_, tuple(accounts), **flags)


def hold(holder, held, capital, voting=None, controls=False):
    voting = capital if voting is None else voting
    return Holding(holder, held, D(str(capital)), D(str(voting)), controls)


def micro_subject(year=2024):
    """A: 5 AWU, EUR 1m turnover, EUR 1m balance sheet — micro on its own."""
    return ent("A", acc(year, 5, 1 * M, 1 * M))


def classify(enterprises, holdings=(), subject="A"):
    with english():
        return classify_sme(subject, enterprises, holdings)


def text(result):
    return "\n".join(result.explanation)


# ==============================================================================================
# category_for: the ceilings (Annex, Art. 2)
# ==============================================================================================


@pytest.mark.parametrize(
    ("staff", "turnover", "balance", "expected"),
    [
        (0, 0, 0, "micro"),
        (5, 1 * M, 1 * M, "micro"),
        # Staff ceiling strictly below 10; 10 AWU exactly is small.
        ("9.9", 2 * M, 2 * M, "micro"),
        (10, 1 * M, 1 * M, "small"),
        # Financial ceilings: at most EUR 2m, turnover OR balance sheet.
        (9, 2 * M, 2 * M, "micro"),
        (9, 2 * M + 1, 2 * M, "micro"),
        (9, 2 * M, 2 * M + 1, "micro"),
        (9, 2 * M + 1, 2 * M + 1, "small"),
        (9, 3 * M, 1 * M, "micro"),
        (9, 1 * M, 3 * M, "micro"),
        (9, 50 * M, 50 * M, "medium"),  # few staff, but both small financial ceilings exceeded
        (9, 50 * M + 1, 43 * M + 1, "large"),  # few staff, but both medium financial ceilings exceeded
        # Small: < 50 and (≤ 10m or ≤ 10m)
        ("49.9", 10 * M, 10 * M, "small"),
        ("49.9", 10 * M + 1, 10 * M, "small"),
        ("49.9", 10 * M + 1, 10 * M + 1, "medium"),
        (50, 1 * M, 1 * M, "medium"),
        # Medium: < 250 and (turnover ≤ 50m or balance ≤ 43m)
        ("249.9", 50 * M, 100 * M, "medium"),
        ("249.9", 60 * M, 43 * M, "medium"),
        ("249.9", 50 * M + 1, 43 * M + 1, "large"),
        (249, 60 * M, 44 * M, "large"),
        (250, 1, 1, "large"),
    ],
)
def test_category_for_ceilings(staff, turnover, balance, expected):
    assert category_for(D(str(staff)), D(str(turnover)), D(str(balance))) == expected


def test_category_for_accepts_ints():
    assert category_for(9, 2 * M, 2 * M) == "micro"


def test_category_for_rejects_non_numbers():
    with pytest.raises(SmeInputError):
        category_for("many", 1, 1)
    with pytest.raises(SmeInputError):
        category_for(True, 1, 1)
    with pytest.raises(SmeInputError):
        category_for(float("nan"), 1, 1)


money = st.decimals(min_value=0, max_value=100 * M, places=0, allow_nan=False, allow_infinity=False)
staff_awu = st.decimals(min_value=0, max_value=400, places=1, allow_nan=False, allow_infinity=False)


@given(staff_awu, money, money, staff_awu, money, money)
def test_category_for_is_monotone(staff, turnover, balance, more_staff, more_turnover, more_balance):
    """More staff, turnover or balance sheet never gives a smaller category."""
    base = category_rank(category_for(staff, turnover, balance))
    assert category_rank(category_for(staff + more_staff, turnover, balance)) >= base
    assert category_rank(category_for(staff, turnover + more_turnover, balance)) >= base
    assert category_rank(category_for(staff, turnover, balance + more_balance)) >= base
    assert (
        category_rank(category_for(staff + more_staff, turnover + more_turnover, balance + more_balance))
        >= base
    )


# ==============================================================================================
# Autonomous, partner and linked enterprises (Art. 3 and 6)
# ==============================================================================================


def test_autonomous_micro_enterprise():
    result = classify([micro_subject()])
    assert result.category == "micro"
    assert result.year == 2024
    assert result.relationships == ()
    assert result.aggregated == Figures(D(5), D(1 * M), D(1 * M))
    assert result.raw_categories == {2024: "micro"}
    assert not result.public_control
    assert "Result: micro for 2024" in text(result)


def test_small_holdings_below_25_percent_keep_the_enterprise_autonomous():
    result = classify([micro_subject(), ent("B", acc(2024, 40, 6 * M, 3 * M))], [hold("B", "A", 10)])
    assert result.category == "micro"
    assert result.relationships == ()
    assert "below 25%" in text(result)


def test_partner_upstream_35_percent_added_proportionally():
    # B holds 30 % of the capital and 35 % of the votes: the higher share, 35 %, of B's figures.
    result = classify(
        [micro_subject(), ent("B", acc(2024, 40, 6 * M, 3 * M))],
        [hold("B", "A", capital=30, voting=35)],
    )
    # 5 + 0.35·40 = 19 AWU; 1m + 0.35·6m = 3.1m; 1m + 0.35·3m = 2.05m ⇒ small (19 ≥ 10 AWU).
    assert result.aggregated == Figures(D("19"), D("3100000"), D("2050000"))
    assert result.category == "small"
    assert result.relationships == (Relationship("B", "partner", D(35)),)
    assert (
        "B holds 35% of A (voting 35%, capital 30%): partner enterprise, 35% of its figures added."
        in result.explanation
    )


def test_partner_downstream():
    result = classify([micro_subject(), ent("C", acc(2024, 20, 4 * M, 4 * M))], [hold("A", "C", 40)])
    # 5 + 8 = 13 AWU ⇒ small
    assert result.aggregated == Figures(D(13), D(2_600_000), D(2_600_000))
    assert result.relationships == (Relationship("C", "partner", D(40)),)
    assert result.category == "small"


def test_linked_more_than_50_percent_added_in_full():
    result = classify([micro_subject(), ent("B", acc(2024, 40, 6 * M, 3 * M))], [hold("B", "A", 60)])
    assert result.aggregated == Figures(D(45), D(7 * M), D(4 * M))
    assert result.relationships == (Relationship("B", "linked", D(100)),)
    assert result.category == "small"
    assert "B holds 60% of A (voting 60%, capital 60%): linked enterprise, 100% of its figures added." in (
        result.explanation
    )


def test_linked_downstream_subsidiary():
    result = classify([micro_subject(), ent("D", acc(2024, 3, M, M))], [hold("A", "D", 80)])
    assert result.relationships == (Relationship("D", "linked", D(100)),)
    assert result.aggregated == Figures(D(8), D(2 * M), D(2 * M))
    assert result.category == "micro"


def test_exactly_25_percent_is_a_partner():
    b = ent("B", acc(2024, 20, 4 * M, 4 * M))
    result = classify([micro_subject(), b], [hold("B", "A", 25)])
    assert result.relationships == (Relationship("B", "partner", D(25)),)
    # 5 + 5 = 10 AWU exactly: the staff ceiling of micro is "fewer than 10" ⇒ small.
    assert result.aggregated == Figures(D(10), D(2 * M), D(2 * M))
    assert result.category == "small"


def test_just_below_25_percent_is_not_a_partner():
    result = classify([micro_subject(), ent("B", acc(2024, 20, 4 * M, 4 * M))], [hold("B", "A", "24.99")])
    assert result.relationships == ()
    assert result.category == "micro"


def test_higher_of_capital_and_votes_counts_for_the_threshold():
    result = classify(
        [micro_subject(), ent("B", acc(2024, 20, 4 * M, 4 * M))], [hold("B", "A", capital=25, voting=0)]
    )
    assert result.relationships == (Relationship("B", "partner", D(25)),)


def test_exactly_50_percent_votes_is_partner_not_linked():
    b = ent("B", acc(2024, 10, 2 * M, 2 * M))
    result = classify([micro_subject(), b], [hold("B", "A", 50)])
    assert result.relationships == (Relationship("B", "partner", D(50)),)
    assert result.aggregated == Figures(D(10), D(2 * M), D(2 * M))


def test_just_over_50_percent_votes_is_linked():
    b = ent("B", acc(2024, 10, 2 * M, 2 * M))
    result = classify([micro_subject(), b], [hold("B", "A", capital=50, voting="50.01")])
    assert result.relationships == (Relationship("B", "linked", D(100)),)
    assert result.aggregated == Figures(D(15), D(3 * M), D(3 * M))


def test_majority_of_capital_without_majority_of_votes_is_a_partner_at_the_capital_share():
    b = ent("B", acc(2024, 10, 2 * M, 2 * M))
    result = classify([micro_subject(), b], [hold("B", "A", capital=60, voting=40)])
    assert result.relationships == (Relationship("B", "partner", D(60)),)
    assert result.aggregated == Figures(D(11), D(2_200_000), D(2_200_000))


def test_control_flag_links_even_with_a_small_holding():
    # Right to appoint the board majority, dominant influence by contract or shareholder agreement.
    b = ent("B", acc(2024, 40, 6 * M, 3 * M))
    result = classify([micro_subject(), b], [hold("B", "A", 10, controls=True)])
    assert result.relationships == (Relationship("B", "linked", D(100)),)
    assert result.aggregated == Figures(D(45), D(7 * M), D(4 * M))
    assert "B controls A" in text(result)


def test_chain_of_linked_enterprises_is_linked():
    # A ← B ← C: B holds 60 % of A, C holds 70 % of B ⇒ C is linked to A through B.
    result = classify(
        [micro_subject(), ent("B", acc(2024, 2, M, M)), ent("C", acc(2024, 3, M, M))],
        [hold("B", "A", 60), hold("C", "B", 70)],
    )
    assert result.relationships == (
        Relationship("B", "linked", D(100)),
        Relationship("C", "linked", D(100), via="B"),
    )
    assert result.aggregated == Figures(D(10), D(3 * M), D(3 * M))
    assert result.category == "small"
    assert "C is linked to A through B: 100% of its figures added." in result.explanation


def test_sister_companies_under_one_parent_are_linked():
    result = classify(
        [micro_subject(), ent("P", acc(2024, 1, M, M)), ent("S", acc(2024, 1, M, M))],
        [hold("P", "A", 60), hold("P", "S", 60)],
    )
    assert {r.enterprise for r in result.relationships if r.type == "linked"} == {"P", "S"}
    assert result.aggregated.staff_awu == D(7)


def test_joint_control_by_linked_enterprises_links():
    # A owns B; A and B each hold 30 % of the votes of X: together 60 %, so A controls X through B.
    result = classify(
        [micro_subject(), ent("B", acc(2024, 1, M, M)), ent("X", acc(2024, 1, M, M))],
        [hold("A", "B", 100), hold("A", "X", 30), hold("B", "X", 30)],
    )
    assert {r.enterprise: r.type for r in result.relationships} == {"B": "linked", "X": "linked"}
    assert result.aggregated.staff_awu == D(7)
    assert "A, B, linked to each other, together hold 60% of the votes of X" in text(result)


def test_joint_control_of_the_subject_by_a_group():
    # Q owns P1 and P2, which hold 30 % of A's votes each: the Q group controls A.
    result = classify(
        [
            micro_subject(),
            ent("Q", acc(2024, 1, M, M)),
            ent("P1", acc(2024, 1, M, M)),
            ent("P2", acc(2024, 1, M, M)),
        ],
        [hold("Q", "P1", 100), hold("Q", "P2", 100), hold("P1", "A", 30), hold("P2", "A", 30)],
    )
    assert {r.enterprise: r.type for r in result.relationships} == {
        "P1": "linked",
        "P2": "linked",
        "Q": "linked",
    }
    assert result.aggregated.staff_awu == D(8)


def test_partners_linked_enterprises_are_included_in_the_partners_figures():
    # Art. 6(2): B is a partner (30 %); B's figures include 100 % of C (B's subsidiary) and of Q
    # (B's parent), then 30 % of the total is added.
    result = classify(
        [
            micro_subject(),
            ent("B", acc(2024, 10, M, M)),
            ent("C", acc(2024, 10, M, M)),
            ent("Q", acc(2024, 10, M, M)),
        ],
        [hold("B", "A", 30), hold("B", "C", 100), hold("Q", "B", 60)],
    )
    assert result.relationships == (Relationship("B", "partner", D(30)),)
    # 5 + 0.3·(10 + 10 + 10) = 14 AWU; 1m + 0.3·3m = 1.9m
    assert result.aggregated == Figures(D(14), D(1_900_000), D(1_900_000))
    assert result.category == "small"
    assert "The figures of B include 100% of the enterprises linked to it: C, Q." in result.explanation


def test_partner_of_a_partner_is_not_included():
    # B is a partner of A; Q holds 30 % of B: Q is B's partner, not A's. Q needs no accounts.
    result = classify(
        [micro_subject(), ent("B", acc(2024, 10, M, M)), ent("Q")],
        [hold("B", "A", 30), hold("Q", "B", 30)],
    )
    assert result.relationships == (Relationship("B", "partner", D(30)),)
    assert result.aggregated == Figures(D(8), D(1_300_000), D(1_300_000))
    assert "Q holds 30% of B: a partner of the partner enterprise B, not included." in result.explanation


def test_partner_of_a_linked_enterprise_is_included_proportionally():
    # Art. 6(3): B is linked to A (60 %); D holds 30 % of B and B holds 40 % of E: both are partners
    # of the linked enterprise B, added pro rata.
    result = classify(
        [
            micro_subject(),
            ent("B", acc(2024, 2, M, M)),
            ent("D", acc(2024, 10, M, M)),
            ent("E", acc(2024, 10, M, M)),
        ],
        [hold("B", "A", 60), hold("D", "B", 30), hold("B", "E", 40)],
    )
    assert result.relationships == (
        Relationship("B", "linked", D(100)),
        Relationship("D", "partner", D(30), via="B"),
        Relationship("E", "partner", D(40), via="B"),
    )
    # 5 + 2 + 0.3·10 + 0.4·10 = 14 AWU; 1m + 1m + 0.3m + 0.4m = 2.7m
    assert result.aggregated == Figures(D(14), D(2_700_000), D(2_700_000))
    assert "D is a partner of the linked enterprise B, 30% of its figures added." in text(result)


def test_partner_holding_in_subject_and_linked_enterprise_counts_once_at_the_higher_share():
    result = classify(
        [micro_subject(), ent("B", acc(2024, 1, M, M)), ent("X", acc(2024, 10, M, M))],
        [hold("A", "B", 60), hold("X", "A", 30), hold("X", "B", 40)],
    )
    assert result.relationships == (
        Relationship("B", "linked", D(100)),
        Relationship("X", "partner", D(40), via="B"),
    )
    assert result.aggregated.staff_awu == D(10)  # 5 + 1 + 0.4·10
    assert "only the highest share" in text(result)


def test_cross_holdings_count_once_at_the_higher_share():
    result = classify(
        [micro_subject(), ent("C", acc(2024, 10, M, M))], [hold("A", "C", 30), hold("C", "A", 40)]
    )
    assert result.relationships == (Relationship("C", "partner", D(40)),)
    assert result.aggregated.staff_awu == D(9)


def test_exempt_investor_at_40_percent_is_ignored():
    # Art. 3(2): e.g. a venture capital fund or business angel with 40 % is not a partner.
    result = classify([micro_subject(), ent("V", exempt_investor=True)], [hold("V", "A", 40)])
    assert result.relationships == ()
    assert result.category == "micro"
    assert "Art. 3(2)" in text(result)


def test_exempt_investor_at_exactly_50_percent_is_ignored():
    result = classify([micro_subject(), ent("V", exempt_investor=True)], [hold("V", "A", 50)])
    assert result.relationships == ()


def test_exempt_investor_at_60_percent_is_linked():
    v = ent("V", acc(2024, 40, 6 * M, 3 * M), exempt_investor=True)
    result = classify([micro_subject(), v], [hold("V", "A", 60)])
    assert result.relationships == (Relationship("V", "linked", D(100)),)
    assert result.aggregated == Figures(D(45), D(7 * M), D(4 * M))


def test_exempt_investor_in_control_is_linked():
    v = ent("V", acc(2024, 40, 6 * M, 3 * M), exempt_investor=True)
    result = classify([micro_subject(), v], [hold("V", "A", 30, controls=True)])
    assert result.relationships == (Relationship("V", "linked", D(100)),)


def test_exempt_investor_above_50_percent_capital_without_control_is_a_partner():
    # Interpretation: the exemption stops at 50 %; 60 % of the capital (40 % of the votes) makes a
    # partner at 60 %, not a linked enterprise.
    v = ent("V", acc(2024, 10, M, M), exempt_investor=True)
    result = classify([micro_subject(), v], [hold("V", "A", capital=60, voting=40)])
    assert result.relationships == (Relationship("V", "partner", D(60)),)


# ==============================================================================================
# Public bodies (Art. 3(4))
# ==============================================================================================


def test_public_bodies_20_and_10_percent_jointly_make_the_enterprise_large():
    result = classify(
        [micro_subject(), ent("K1", public_body=True), ent("K2", public_body=True)],
        [hold("K1", "A", 20), hold("K2", "A", 10)],
    )
    assert result.category == "large"
    assert result.public_control
    assert result.raw_categories == {2024: "micro"}  # the figures alone would say micro
    assert "Art. 3(4)" in text(result)
    assert "the figures alone would give micro" in text(result)


def test_public_body_below_25_percent_has_no_effect():
    result = classify([micro_subject(), ent("K1", public_body=True)], [hold("K1", "A", 20)])
    assert result.category == "micro"
    assert not result.public_control
    assert "no effect on SME status" in text(result)


def test_public_body_with_25_percent_of_the_votes_only():
    result = classify([micro_subject(), ent("K1", public_body=True)], [hold("K1", "A", capital=0, voting=25)])
    assert result.category == "large"
    assert "public body without accounts" in text(result)  # a partner, but no figures to add


def test_enterprise_controlled_by_a_public_body_counts_as_public():
    # The municipality owns K outright; K holds 30 % of A: indirectly public-controlled.
    result = classify(
        [micro_subject(), ent("M", public_body=True), ent("K", acc(2024, 1, M, M))],
        [hold("M", "K", 100), hold("K", "A", 30)],
    )
    assert result.category == "large"


def test_subject_that_is_a_public_body_is_large():
    result = classify([ent("A", acc(2024, 5, M, M), public_body=True)])
    assert result.category == "large"


# ==============================================================================================
# Years: missing accounts, the two-consecutive-years rule (Art. 4(2))
# ==============================================================================================


def test_related_enterprise_accounts_for_other_years():
    subject = ent("A", acc(2023, 5, M, M), acc(2024, 5, M, M))
    old = ent("B", acc(2022, 10, M, M))  # only earlier accounts: the latest earlier one is used
    new = ent("C", acc(2024, 20, M, M))  # only later accounts for 2023: the earliest later one
    both = ent("E", acc(2021, 30, M, M), acc(2025, 40, M, M))  # earlier preferred to later
    result = classify([subject, old, new, both], [hold("B", "A", 30), hold("C", "A", 30), hold("A", "E", 30)])
    # 2023 and 2024: 5 + 3 + 6 + 9 = 23 AWU
    assert result.aggregated_by_year[2023].staff_awu == D(23)
    assert result.aggregated_by_year[2024].staff_awu == D(23)
    explanation = text(result)
    assert "2023: no 2023 accounts for B; its 2022 accounts are used." in explanation
    assert "2023: no 2023 accounts for C; its 2024 accounts are used." in explanation
    assert "2024: no 2024 accounts for E; its 2021 accounts are used." in explanation


def test_reference_year_is_the_latest_year_of_the_subject():
    result = classify([ent("A", acc(2024, 12, M, M), acc(2022, 12, M, M), acc(2023, 12, M, M))])
    assert result.year == 2024
    assert result.aggregated == result.aggregated_by_year[2024]
    assert list(result.raw_categories) == [2022, 2023, 2024]


def test_one_year_of_accounts_its_category_applies():
    result = classify([ent("A", acc(2024, 12, M, M))])
    assert result.category == "small"
    assert "Only one year of accounts (2024)" in text(result)


def test_two_years_crossed_once_keeps_the_old_category():
    result = classify([ent("A", acc(2023, 5, M, M), acc(2024, 12, M, M))])
    assert result.raw_categories == {2023: "micro", 2024: "small"}
    assert result.effective_categories == {2023: "micro", 2024: "micro"}
    assert result.category == "micro"
    assert (
        "2024 figures point to small, but only once; micro stays until the ceiling is crossed in two "
        "consecutive years." in result.explanation
    )


def test_three_years_crossed_twice_changes_the_category():
    result = classify([ent("A", acc(2023, 5, M, M), acc(2024, 12, M, M), acc(2025, 14, M, M))])
    assert result.effective_categories == {2023: "micro", 2024: "micro", 2025: "small"}
    assert result.category == "small"
    assert (
        "Category changed from micro to small in 2025: the ceiling was crossed in two consecutive years "
        "(2024 and 2025)." in result.explanation
    )


def test_flip_flopping_never_changes_the_category():
    result = classify(
        [ent("A", acc(2021, 5, M, M), acc(2022, 12, M, M), acc(2023, 5, M, M), acc(2024, 12, M, M))]
    )
    assert set(result.effective_categories.values()) == {"micro"}
    assert result.category == "micro"


def test_growth_then_shrinking_below_the_ceiling_for_two_years():
    result = classify([ent("A", acc(2022, 12, M, M), acc(2023, 5, M, M), acc(2024, 6, M, M))])
    assert result.effective_categories == {2022: "small", 2023: "small", 2024: "micro"}


@pytest.mark.parametrize(
    ("raw", "effective"),
    [
        ([], []),
        (["small"], ["small"]),
        (["micro", "small"], ["micro", "micro"]),
        (["micro", "small", "small"], ["micro", "micro", "small"]),
        (["micro", "small", "micro", "small"], ["micro"] * 4),
        (["small", "micro", "micro"], ["small", "small", "micro"]),
        (["medium", "medium", "large", "medium", "large", "large"], ["medium"] * 5 + ["large"]),
        # Interpretation: crossed in two consecutive years, but to different categories — the
        # ceiling of the effective category is crossed twice, so it changes to the nearer one.
        (["micro", "small", "medium"], ["micro", "micro", "small"]),
        (["micro", "medium", "large"], ["micro", "micro", "medium"]),
        (["large", "micro", "small"], ["large", "large", "small"]),
        (["medium", "micro", "micro"], ["medium", "medium", "micro"]),
    ],
)
def test_two_year_rule(raw, effective):
    years = list(range(2020, 2020 + len(raw)))
    assert apply_two_year_rule(dict(zip(years, raw, strict=True))) == dict(zip(years, effective, strict=True))


@given(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=8))
def test_two_year_rule_changes_only_after_two_consecutive_crossings(raw_list):
    raw = dict(enumerate(raw_list, start=2000))
    effective = apply_two_year_rule(raw)
    assert effective[2000] == raw[2000]
    for year in range(2001, 2000 + len(raw_list)):
        before, now = effective[year - 1], effective[year]
        if now != before:
            up = category_rank(now) > category_rank(before)
            for crossed in (raw[year - 1], raw[year]):
                assert (category_rank(crossed) > category_rank(before)) == up
                assert crossed != before
                # never further than both years' figures say
                assert (
                    (category_rank(crossed) >= category_rank(now))
                    if up
                    else (category_rank(crossed) <= category_rank(now))
                )
    if len(set(raw_list)) == 1:
        assert set(effective.values()) == set(raw_list)


# ==============================================================================================
# The example scenario of the command's documentation
# ==============================================================================================

EXAMPLE = {
    "subject": "A",
    "enterprises": [
        {
            "id": "A",
            "public_body": False,
            "exempt_investor": False,
            "accounts": [
                {"year": 2023, "staff_awu": 12.5, "turnover_eur": 1800000, "balance_sheet_eur": 900000},
                {"year": 2024, "staff_awu": 11.0, "turnover_eur": 2100000, "balance_sheet_eur": 950000},
            ],
        },
        {
            "id": "B",
            "accounts": [
                {"year": 2024, "staff_awu": 40, "turnover_eur": 6000000, "balance_sheet_eur": 3000000}
            ],
        },
    ],
    "holdings": [{"holder": "B", "held": "A", "capital_pct": 30, "voting_pct": 35, "controls": False}],
}


def test_example_scenario_is_small_not_micro():
    # B holds 30 % of the capital and 35 % of the votes ⇒ partner, 35 % of B's figures:
    # 0.35 · (40 AWU, 6m, 3m) = 14 AWU, EUR 2.1m turnover, EUR 1.05m balance sheet.
    # B has no 2023 accounts, so its 2024 accounts are used for 2023 as well.
    # 2023: 12.5 + 14 = 26.5 AWU, 1.8m + 2.1m = 3.9m, 0.9m + 1.05m = 1.95m ⇒ small
    #       (26.5 ≥ 10 AWU rules out micro; < 50 AWU and turnover ≤ 10m ⇒ small).
    # 2024: 11.0 + 14 = 25.0 AWU, 2.1m + 2.1m = 4.2m, 0.95m + 1.05m = 2.0m ⇒ small.
    # Small in both years ⇒ small.  (A alone would also be small: 12.5 and 11 AWU are ≥ 10.)
    with english():
        result = classify_sme(*scenario_from_json(EXAMPLE))
    assert result.raw_categories == {2023: "small", 2024: "small"}
    assert result.category == "small"
    assert result.aggregated == Figures(D("25.0"), D("4200000"), D("2000000"))
    assert result.aggregated_by_year[2023] == Figures(D("26.5"), D("3900000"), D("1950000"))
    data = sme_result_to_json(result)
    explanation = data.pop("explanation")
    assert data == {
        "category": "small",
        "year": 2024,
        "aggregated": {"staff_awu": 25.0, "turnover_eur": 4200000, "balance_sheet_eur": 2000000},
        "relationships": [{"enterprise": "B", "type": "partner", "share_pct": 35}],
    }
    assert explanation == [
        "B holds 35% of A (voting 35%, capital 30%): partner enterprise, 35% of its figures added.",
        "2023: no 2023 accounts for B; its 2024 accounts are used.",
        "2023: 26.5 AWU, EUR 3,900,000 turnover, EUR 1,950,000 balance sheet ⇒ small (raw).",
        "2024: 25.0 AWU, EUR 4,200,000 turnover, EUR 2,000,000 balance sheet ⇒ small (raw).",
        "Result: small for 2024 (the latest year of accounts).",
    ]
    json.dumps(sme_result_to_json(result))  # serialisable as it is


# ==============================================================================================
# JSON output
# ==============================================================================================


def test_json_numbers_types_and_rounding():
    result = classify(
        [ent("A", acc(2024, "1.25", "1000.5", "999.49")), ent("B", acc(2024, "0", "0", "0"))],
        [hold("B", "A", "33.5")],
    )
    data = sme_result_to_json(result)
    assert data["aggregated"] == {"staff_awu": 1.3, "turnover_eur": 1001, "balance_sheet_eur": 999}
    assert isinstance(data["aggregated"]["staff_awu"], float)
    assert isinstance(data["aggregated"]["turnover_eur"], int)
    assert data["relationships"] == [{"enterprise": "B", "type": "partner", "share_pct": 33.5}]
    assert isinstance(data["relationships"][0]["share_pct"], float)
    assert result.aggregated.staff_awu == D("1.25")  # exact until output


def test_json_linked_share_is_an_int_100():
    result = classify([micro_subject(), ent("B", acc(2024, 1, 1, 1))], [hold("B", "A", 100)])
    assert sme_result_to_json(result)["relationships"] == [
        {"enterprise": "B", "type": "linked", "share_pct": 100}
    ]


# ==============================================================================================
# Bad input
# ==============================================================================================


def sme_error(enterprises, holdings=(), subject="A"):
    with pytest.raises(SmeInputError) as info, english():
        classify_sme(subject, enterprises, holdings)
    return str(info.value)


def test_unknown_subject():
    assert "Z" in sme_error([micro_subject()], subject="Z")


def test_unknown_ids_in_holdings():
    assert "unknown enterprise X" in sme_error([micro_subject()], [hold("X", "A", 30)])
    assert "unknown enterprise Y" in sme_error([micro_subject()], [hold("A", "Y", 30)])


def test_enterprise_holding_itself():
    assert "itself" in sme_error([micro_subject()], [hold("A", "A", 30)])


@pytest.mark.parametrize(("capital", "voting"), [(-1, 10), ("100.01", 10), (10, -5), (10, 101)])
def test_percentages_outside_0_to_100(capital, voting):
    assert "between 0 and 100" in sme_error(
        [micro_subject(), ent("B", acc(2024, 1, 1, 1))], [hold("B", "A", capital, voting)]
    )


def test_holdings_adding_up_to_more_than_100_percent():
    message = sme_error(
        [micro_subject(), ent("B", acc(2024, 1, 1, 1)), ent("C", acc(2024, 1, 1, 1))],
        [hold("B", "A", 60), hold("C", "A", 50)],
    )
    assert "more than 100%" in message


def test_duplicate_holding():
    message = sme_error(
        [micro_subject(), ent("B", acc(2024, 1, 1, 1))], [hold("B", "A", 10), hold("B", "A", 20)]
    )
    assert "More than one holding" in message


def test_duplicate_ids():
    assert "Duplicate enterprise id A" in sme_error([micro_subject(), micro_subject()])


def test_duplicate_years():
    assert "more than one set of accounts for 2024" in sme_error(
        [ent("A", acc(2024, 1, 1, 1), acc(2024, 2, 2, 2))]
    )


def test_subject_without_accounts():
    assert "has no accounts" in sme_error([ent("A")])


@pytest.mark.parametrize(
    "holdings",
    [
        [hold("B", "A", 60)],  # linked
        [hold("B", "A", 30)],  # partner
        [hold("C", "A", 30), hold("C", "B", 100)],  # linked to a partner
    ],
)
def test_relevant_related_enterprise_without_accounts(holdings):
    message = sme_error([micro_subject(), ent("B"), ent("C", acc(2024, 1, 1, 1))], holdings)
    assert "Enterprise B has no accounts" in message


def test_irrelevant_enterprise_without_accounts_is_fine():
    result = classify([micro_subject(), ent("B"), ent("C")], [hold("B", "C", 100)])
    assert result.category == "micro"


@pytest.mark.parametrize(
    "build",
    [
        lambda: acc(2024, -1, 1, 1),
        lambda: acc(2024, 1, -1, 1),
        lambda: Accounts(2024, "lots", D(1), D(1)),
        lambda: Accounts(2024, True, D(1), D(1)),
        lambda: Accounts("2024", D(1), D(1), D(1)),
        lambda: Accounts(2024, D("Infinity"), D(1), D(1)),
        lambda: Holding("B", "A", D(10), D(10), controls="yes"),
        lambda: Enterprise(""),
    ],
)
def test_ill_typed_values(build):
    with pytest.raises(SmeInputError):
        build()


def test_numbers_are_coerced_to_decimal():
    account = Accounts(2024, 1.1, 2, "3.5")
    assert account.staff_awu == D("1.1") and isinstance(account.turnover_eur, D)
    assert account.balance_sheet_eur == D("3.5")


# ---- scenario_from_json -------------------------------------------------------------------------


def scenario_error(data):
    with pytest.raises(SmeInputError) as info, english():
        scenario_from_json(data)
    return str(info.value)


def with_change(path, value, remove=False):
    data = json.loads(json.dumps(EXAMPLE))
    target = data
    for key in path[:-1]:
        target = target[key]
    if remove:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_scenario_from_json_parses_the_example():
    subject, enterprises, holdings = scenario_from_json(EXAMPLE)
    assert subject == "A"
    assert enterprises[0] == ent("A", acc(2023, "12.5", 1800000, 900000), acc(2024, "11.0", 2100000, 950000))
    assert enterprises[1].public_body is False and enterprises[1].exempt_investor is False
    assert holdings == [Holding("B", "A", D(30), D(35), False)]


def test_scenario_from_json_defaults():
    subject, enterprises, holdings = scenario_from_json({"subject": "A", "enterprises": [{"id": "A"}]})
    assert holdings == [] and enterprises == [Enterprise("A")]


def test_scenario_from_json_keeps_decimals_exact():
    data = json.loads(json.dumps(EXAMPLE), parse_float=D)
    _, enterprises, _ = scenario_from_json(data)
    assert enterprises[0].accounts[0].staff_awu == D("12.5")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "scenario must be an object"),
        (with_change(["subject"], None, remove=True), "subject is missing"),
        (with_change(["subject"], 7), "subject must be a non-empty text"),
        (with_change(["enterprises"], {"A": {}}), "enterprises must be a list"),
        (with_change(["enterprises", 1, "id"], None, remove=True), "enterprises[1]: the field id is missing"),
        (with_change(["enterprises", 0, "accounts", 1, "staff_awu"], "eleven"), "staff_awu must be a number"),
        (with_change(["enterprises", 0, "accounts", 1, "staff_awu"], True), "staff_awu must be a number"),
        (with_change(["enterprises", 0, "accounts", 0, "year"], 2023.5), "year must be a whole number"),
        (
            with_change(["enterprises", 0, "accounts", 0, "turnover_eur"], None, remove=True),
            "turnover_eur is missing",
        ),
        (with_change(["enterprises", 0, "accounts", 0, "turnover_eur"], -5), "cannot be negative"),
        (with_change(["enterprises", 0, "public_body"], "no"), "public_body must be true or false"),
        (with_change(["enterprises", 0, "accounts"], "none"), "accounts must be a list"),
        (with_change(["enterprises", 0, "staff"], 3), "unknown field(s) staff"),
        (with_change(["holdings", 0, "control"], True), "unknown field(s) control"),
        (
            with_change(["holdings", 0, "voting_pct"], None, remove=True),
            "holdings[0]: the field voting_pct is missing",
        ),
        (with_change(["holdings", 0, "capital_pct"], "30%"), "holdings[0].capital_pct must be a number"),
        (with_change(["holdings", 0, "controls"], 1), "holdings[0].controls must be true or false"),
        (with_change(["holdings", 0], "B→A"), "holdings[0] must be an object"),
    ],
)
def test_scenario_from_json_errors(data, fragment):
    assert fragment in scenario_error(data)


# ==============================================================================================
# Properties of the aggregation
# ==============================================================================================

figures_strategy = st.tuples(
    st.decimals(min_value=0, max_value=300, places=1, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=80 * M, places=0, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=80 * M, places=0, allow_nan=False, allow_infinity=False),
)
share_strategy = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


half_share = st.decimals(min_value=0, max_value=50, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    figures_strategy, figures_strategy, figures_strategy, half_share, half_share, half_share, st.booleans()
)
def test_adding_a_partner_never_lowers_the_category(
    own, other, partner, other_share, partner_capital, partner_voting, partner_downstream
):
    """Adding a partner (or any further holding of up to 50 %) never lowers the category of a year.

    C already holds up to 50 % of A (maybe a partner itself); P then takes up to 50 % of A, or A
    takes up to 50 % of P.
    """
    enterprises = [ent("A", acc(2024, *own)), ent("C", acc(2024, *other)), ent("P", acc(2024, *partner))]
    base_holdings = [hold("C", "A", other_share)]
    before = classify_sme("A", enterprises, base_holdings)
    new = (
        hold("A", "P", partner_capital, partner_voting)
        if partner_downstream
        else hold("P", "A", partner_capital, partner_voting)
    )
    after = classify_sme("A", enterprises, [*base_holdings, new])
    assert category_rank(after.category) >= category_rank(before.category)
    assert after.aggregated.staff_awu >= before.aggregated.staff_awu
    assert after.aggregated.turnover_eur >= before.aggregated.turnover_eur
    assert after.aggregated.balance_sheet_eur >= before.aggregated.balance_sheet_eur
    if max(partner_capital, partner_voting) >= 25:
        assert Relationship("P", "partner", max(partner_capital, partner_voting)) in after.relationships


@settings(max_examples=100, deadline=None)
@given(
    figures_strategy,
    st.lists(st.tuples(figures_strategy, share_strategy, share_strategy, st.booleans()), max_size=4),
)
def test_aggregated_figures_are_at_least_the_subjects_own(own, others):
    enterprises = [ent("A", acc(2024, *own))]
    holdings = []
    for index, (figures, capital, voting, downstream) in enumerate(others):
        other_id = f"E{index}"
        enterprises.append(ent(other_id, acc(2024, *figures)))
        holdings.append(
            hold("A", other_id, capital, voting) if downstream else hold(other_id, "A", capital, voting)
        )
    try:
        result = classify_sme("A", enterprises, holdings)
    except SmeInputError:
        return  # upstream holdings adding up to more than 100 %
    assert result.aggregated.staff_awu >= own[0]
    assert result.aggregated.turnover_eur >= own[1]
    assert category_rank(result.category) >= category_rank(category_for(*own))


# ==============================================================================================
# The sme_classify management command
# ==============================================================================================


@pytest.fixture
def example_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(EXAMPLE), encoding="utf-8")
    return path


def run_command(*args, **options):
    stdout, stderr = io.StringIO(), io.StringIO()
    with english():
        call_command(Command(), *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue()


def test_command_json_output(example_file):
    data = json.loads(run_command(str(example_file), "--json"))
    assert set(data) == {"category", "year", "aggregated", "relationships", "explanation"}
    assert data["category"] == "small"
    assert data["year"] == 2024
    assert data["aggregated"] == {"staff_awu": 25.0, "turnover_eur": 4200000, "balance_sheet_eur": 2000000}
    assert data["relationships"] == [{"enterprise": "B", "type": "partner", "share_pct": 35}]
    assert all(isinstance(line, str) for line in data["explanation"]) and len(data["explanation"]) == 5


def test_command_readable_report(example_file):
    output = run_command(str(example_file))
    assert "SME category: small (2024)" in output
    assert "25.0 AWU, EUR 4,200,000 turnover, EUR 2,000,000 balance sheet" in output
    assert "B: partner, 35%" in output
    assert "B holds 35% of A" in output


def test_command_reads_standard_input():
    data = json.loads(run_command("-", "--json", stdin=io.StringIO(json.dumps(EXAMPLE))))
    assert data["category"] == "small"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "File not found"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "scenario must be an object"),
        (json.dumps({"subject": "Z", "enterprises": []}), "Z"),
        (json.dumps(with_change(["holdings", 0, "voting_pct"], 135)), "between 0 and 100"),
    ],
)
def test_command_bad_input_is_a_command_error_with_status_1(tmp_path, content, fragment):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as info:
        run_command(str(path))
    assert info.value.returncode == 1
    with english():
        assert fragment in str(info.value)


def test_command_directory_and_bad_encoding(tmp_path):
    with pytest.raises(CommandError) as info:
        run_command(str(tmp_path))
    assert info.value.returncode == 1
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"subject": "Å"}'.encode("latin-1"))
    with pytest.raises(CommandError) as info:
        run_command(str(latin1))
    assert info.value.returncode == 1


STANDALONE = textwrap.dedent(
    """
    import sys
    import django
    from django.conf import settings
    settings.configure(INSTALLED_APPS=[])
    django.setup()
    from sim.companies.management.commands.sme_classify import Command
    Command().run_from_argv(["sim", "sme_classify", *sys.argv[1:]])
    """
)


def run_standalone(*args):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", STANDALONE, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_exit_status_and_stderr_without_traceback(tmp_path, example_file):
    ok = run_standalone(str(example_file), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["category"] == "small"

    missing = run_standalone(str(tmp_path / "missing.json"))
    assert missing.returncode == 1
    assert "File not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert missing.stdout == ""

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"subject": "A", "enterprises": [{"id": "A"}]}), encoding="utf-8")
    invalid = run_standalone(str(bad), "--json")
    assert invalid.returncode == 1
    assert "has no accounts" in invalid.stderr
    assert "Traceback" not in invalid.stderr


def _project_command_available() -> bool:
    return apps.ready and apps.is_installed("sim.companies")


@pytest.mark.skipif(
    not (REPO_ROOT / "config" / "settings.py").exists(), reason="project settings not written yet"
)
def test_command_by_name_with_project_settings(example_file):
    """Under pytest-django with the project settings: the command is found by its name."""
    if not _project_command_available():
        pytest.skip("Django is not set up with the project settings (run under pytest-django)")
    stdout = io.StringIO()
    call_command("sme_classify", str(example_file), "--json", stdout=stdout)
    assert json.loads(stdout.getvalue())["category"] == "small"
    with pytest.raises(CommandError) as info:
        call_command("sme_classify", str(example_file.with_name("missing.json")))
    assert info.value.returncode == 1


@pytest.mark.skipif(not (REPO_ROOT / "manage.py").exists(), reason="manage.py not written yet")
def test_manage_py_sme_classify_exit_status(tmp_path, example_file):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    run = [sys.executable, str(REPO_ROOT / "manage.py"), "sme_classify"]
    ok = subprocess.run(
        [*run, str(example_file), "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["relationships"] == [{"enterprise": "B", "type": "partner", "share_pct": 35}]
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    failed = subprocess.run(
        [*run, str(bad)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip()
