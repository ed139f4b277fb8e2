"""Conditional questions, answer validation, scoring and needs (sim.assessments.rules).

Pure tests: no database, no Django settings needed (they also run with ``pytest -p no:django``).
"""

from __future__ import annotations

import pickle
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.assessments.instrument_files import load_instrument
from sim.assessments.rules import (
    AnswerError,
    AnswerIssue,
    DimensionScore,
    ScoreResult,
    SectionProgress,
    compare,
    derive_needs,
    hooked_answers,
    is_empty,
    missing_required,
    question_score,
    score,
    score_from_json,
    score_request_from_json,
    score_to_json,
    section_progress,
    validate_answer,
    validate_answers,
    visible_questions,
)
from sim.assessments.schema import Instrument, Question

from .builders import build, choice, dimension, need, option, question, scale, section, yes_no


def q(type_: str, **extra) -> Question:
    """A single question (validated through a throw-away instrument)."""
    scored = scale("anchor")
    instrument = build(section("s1", scored, question("x", type_, **extra)))
    return instrument.question("x")


def visible_ids(instrument, answers) -> list[str]:
    return [question.id for question in visible_questions(instrument, answers)]


# ==============================================================================================
# validate_answer: normalised values per type
# ==============================================================================================


@pytest.mark.parametrize("value", [3, "3", " 3 ", 3.0, D("3"), D("3.00")])
def test_scale_accepts_whole_levels(value):
    question_ = build().question("q1")
    assert validate_answer(question_, value) == 3
    assert type(validate_answer(question_, value)) is int


@pytest.mark.parametrize(
    "value",
    [6, -1, 2.5, "2.5", "three", True, False, [3], D("NaN"), float("inf"), D("1e999999999"), "9" * 5000],
)
def test_scale_rejects_other_values(value):
    with pytest.raises(AnswerError) as info:
        validate_answer(build().question("q1"), value)
    assert "Choose a level from 0 to 5" in str(info.value)
    assert info.value.question == "q1"


@pytest.mark.parametrize("value", [None, "", "   ", [], (), set()])
def test_empty_values_are_unanswered(value):
    assert is_empty(value)
    for type_, extra in [("text", {}), ("number", {}), ("date", {})]:
        assert validate_answer(q(type_, **extra), value) is None
    assert validate_answer(build().question("q1"), value) is None


def test_zero_and_false_like_values_are_answers():
    assert not is_empty(0)
    assert validate_answer(build().question("q1"), 0) == 0
    assert validate_answer(q("number"), 0) == "0"


def test_single_choice():
    question_ = q("single_choice", options=[option("yes"), option("no")])
    assert validate_answer(question_, "no") == "no"
    assert validate_answer(question_, " yes ") == "yes"
    with pytest.raises(AnswerError, match=r"Unknown option 'maybe'; choose one of yes, no\."):
        validate_answer(question_, "maybe")
    with pytest.raises(AnswerError, match=r"Choose one option \(an option id as text, got true/false\)"):
        validate_answer(question_, True)
    with pytest.raises(AnswerError, match="got list"):
        validate_answer(question_, ["yes"])


def test_multiple_choice_deduplicated_in_option_order():
    question_ = q(
        "multiple_choice", options=[option("a"), option("b"), option("c"), option("none", exclusive=True)]
    )
    assert validate_answer(question_, ["c", "a", "c", " a"]) == ["a", "c"]
    assert validate_answer(question_, ("b",)) == ["b"]
    assert validate_answer(question_, {"c", "b"}) == ["b", "c"]
    assert validate_answer(question_, ["none"]) == ["none"]
    with pytest.raises(AnswerError, match=r"Unknown option\(s\) 'x', 'y'; choose from a, b, c, none\."):
        validate_answer(question_, ["a", "x", "y", "x"])
    with pytest.raises(AnswerError, match=r"The option 'none' cannot be combined with other options\."):
        validate_answer(question_, ["none", "a"])
    with pytest.raises(AnswerError, match=r"Choose a list of options \(got text\)"):
        validate_answer(question_, "a")
    with pytest.raises(AnswerError, match="option id as text"):
        validate_answer(question_, ["a", 2])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, "12"),
        ("12.5", "12.5"),
        (" 12.50 ", "12.5"),
        (0.1, "0.1"),
        (D("1.50"), "1.5"),
        (D("1E+3"), "1000"),
        (-3, "-3"),
        ("-0", "0"),
        (D("0.0001"), "0.0001"),
        (1250000, "1250000"),
    ],
)
def test_number_normalises_to_a_plain_decimal_string(value, expected):
    assert validate_answer(q("number"), value) == expected


@pytest.mark.parametrize(
    ("extra", "value", "fragment"),
    [
        ({"min": 0, "max": 10}, 11, "Enter a value from 0 to 10 (got 11)."),
        ({"min": 0, "max": 10}, -1, "Enter a value from 0 to 10 (got -1)."),
        ({"min": 1}, D("0.5"), "Enter a value of at least 1 (got 0.5)."),
        ({"max": 5}, 6, "Enter a value of at most 5 (got 6)."),
        ({"integer": True}, 2.5, "Enter a whole number."),
        ({}, D("0.00001"), "Use at most 4 decimals."),
        ({}, "1,5", "'1,5' is not a number"),
        ({}, "12 kr", "is not a number"),
        ({}, True, "not true/false"),
        ({}, [1], "Enter a number (got list)."),
        ({}, float("nan"), "Enter a finite number."),
        ({}, "Infinity", "Enter a finite number."),
        ({}, D("1e15"), "The number is too large."),
        ({}, "1e999999999", "The number is too large."),
        ({}, "1e-999999999", "Use at most 4 decimals."),
    ],
)
def test_number_errors(extra, value, fragment):
    with pytest.raises(AnswerError) as info:
        validate_answer(q("number", **extra), value)
    assert fragment in str(info.value)


def test_integer_number_accepts_whole_values():
    assert validate_answer(q("number", integer=True), "4.0") == "4"


def test_money():
    money = q("money")
    assert validate_answer(money, "1250000.50") == "1250000.5"
    assert validate_answer(money, -5000) == "-5000"  # a loss: no min given
    with pytest.raises(AnswerError, match="Use at most 2 decimals."):
        validate_answer(money, "10.005")
    with pytest.raises(AnswerError, match=r"at least 0 \(got -1\)"):
        validate_answer(q("money", min=0), -1)


def test_percentage():
    percentage = q("percentage")
    assert validate_answer(percentage, 0) == "0"
    assert validate_answer(percentage, 100) == "100"
    assert validate_answer(percentage, "33.33") == "33.33"
    with pytest.raises(AnswerError, match=r"Enter a value from 0 to 100 \(got 100.01\)\."):
        validate_answer(percentage, "100.01")
    with pytest.raises(AnswerError, match="from 0 to 100"):
        validate_answer(percentage, -1)


def test_date():
    question_ = q("date")
    assert validate_answer(question_, "2024-02-29") == "2024-02-29"
    assert validate_answer(question_, date(2025, 1, 31)) == "2025-01-31"
    with pytest.raises(AnswerError, match="2023-02-29 is not a valid date."):
        validate_answer(question_, "2023-02-29")
    for bad in ("20240101", "2024-1-1", "31/01/2024", "2024-01-01T10:00"):
        with pytest.raises(AnswerError, match="Enter a date as YYYY-MM-DD"):
            validate_answer(question_, bad)
    with pytest.raises(AnswerError, match="without a time of day"):
        validate_answer(question_, datetime(2024, 1, 1, 12, 0))
    with pytest.raises(AnswerError, match="got number"):
        validate_answer(question_, 20240101)


def test_text():
    question_ = q("text", max_length=10)
    assert validate_answer(question_, "  Svetsare  ") == "Svetsare"
    assert validate_answer(question_, "x" * 10) == "x" * 10
    with pytest.raises(AnswerError, match="The text is too long: 11 characters, at most 10 allowed."):
        validate_answer(question_, "x" * 11)
    with pytest.raises(AnswerError, match=r"Enter text \(got number\)"):
        validate_answer(question_, 42)


def test_answer_error_pickles():
    with pytest.raises(AnswerError) as info:
        validate_answer(build().question("q1"), 9)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.message, copy.question, str(copy)) == (info.value.message, "q1", str(info.value))


# ==============================================================================================
# validate_answers
# ==============================================================================================


def gated() -> Instrument:
    """q1 scored; q2 yes/no gates q3 (scored); q4 text."""
    return build(
        section(
            "s1",
            scale("q1", required=True),
            yes_no("q2", required=True),
            scale("q3", show_if={"question": "q2", "equals": "yes"}, required=True),
        ),
        section("s2", question("q4", "text", max_length=5)),
    )


def test_validate_answers_collects_every_issue_in_question_order():
    normalised, issues = validate_answers(
        gated(), {"zz": 1, "q4": "far too long", "q1": "4", "q3": 9, "q2": "", 7: "x"}
    )
    assert normalised == {"q1": 4}
    assert issues == [
        AnswerIssue("q3", "Choose a level from 0 to 5 (got 9)."),
        AnswerIssue("q4", "The text is too long: 12 characters, at most 5 allowed."),
        AnswerIssue("zz", "Unknown question: test-instrument version 1 has no question with this id."),
        AnswerIssue("7", "Unknown question: test-instrument version 1 has no question with this id."),
    ]
    assert str(issues[0]) == "q3: Choose a level from 0 to 5 (got 9)."


def test_validate_answers_keeps_hidden_answers_unless_asked():
    answers = {"q1": 1, "q2": "no", "q3": 5}
    assert validate_answers(gated(), answers) == ({"q1": 1, "q2": "no", "q3": 5}, [])
    assert validate_answers(gated(), answers, drop_hidden=True) == ({"q1": 1, "q2": "no"}, [])


def test_validate_answers_needs_a_mapping():
    with pytest.raises(AnswerError, match="must be an object"):
        validate_answers(gated(), [("q1", 1)])


def test_functions_taking_answers_reject_invalid_ones():
    with pytest.raises(AnswerError) as info:
        score(gated(), {"q1": 7, "nope": 1})
    assert [issue.question for issue in info.value.issues] == ["q1", "nope"]
    assert str(info.value).startswith("2 invalid answer(s): q1: Choose a level")
    for function in (visible_questions, missing_required, section_progress, hooked_answers):
        with pytest.raises(AnswerError):
            function(gated(), {"q1": 7})


# ==============================================================================================
# Conditional questions
# ==============================================================================================


def test_condition_equals():
    instrument = gated()
    assert visible_ids(instrument, {}) == ["q1", "q2", "q4"]
    assert visible_ids(instrument, {"q2": "no"}) == ["q1", "q2", "q4"]
    assert visible_ids(instrument, {"q2": "yes"}) == ["q1", "q2", "q3", "q4"]


def nested() -> Instrument:
    """a (yes/no) → b (scale, if a = yes) → c (scale, if b ≥ 3) → d (text, if c in 4, 5)."""
    return build(
        section(
            "s1",
            yes_no("a"),
            scale("b", show_if={"question": "a", "equals": "yes"}),
            scale("c", show_if={"question": "b", "gte": 3}),
            question("d", "text", show_if={"question": "c", "in": [4, 5]}),
            scale("e"),
        )
    )


def test_nested_conditions_hide_in_cascade():
    instrument = nested()
    everything = {"a": "yes", "b": 4, "c": 5, "d": "why", "e": 1}
    assert visible_ids(instrument, everything) == ["a", "b", "c", "d", "e"]
    # c no longer matches → d hidden
    assert visible_ids(instrument, {**everything, "c": 3}) == ["a", "b", "c", "e"]
    # b below 3 → c hidden → d hidden although c's stored answer would match
    assert visible_ids(instrument, {**everything, "b": 2}) == ["a", "b", "e"]
    # a = no → b hidden → c and d hidden although b and c hold matching answers
    assert visible_ids(instrument, {**everything, "a": "no"}) == ["a", "e"]
    # unanswered a → everything depending on it hidden
    assert visible_ids(instrument, {"b": 4, "c": 5}) == ["a", "e"]


@pytest.mark.parametrize(
    ("condition", "value", "shown"),
    [
        ({"gte": 10}, 10, True),
        ({"gte": 10}, "9.99", False),
        ({"lte": 10}, 10, True),
        ({"lte": 10}, 11, False),
        ({"gte": 5, "lte": 10}, 7, True),
        ({"gte": 5, "lte": 10}, 4, False),
        ({"equals": 7}, "7.0", True),
        ({"equals": "7"}, 7, True),
        ({"in": [1, 2]}, 2, True),
        ({"in": [1, 2]}, 3, False),
    ],
)
def test_numeric_conditions(condition, value, shown):
    instrument = build(
        section(
            "s1",
            scale("q1"),
            question("n", "number"),
            question("t", "text", show_if={"question": "n", **condition}),
        )
    )
    assert ("t" in visible_ids(instrument, {"n": value})) is shown


def test_multiple_choice_condition_means_among_the_chosen():
    instrument = build(
        section(
            "s1",
            scale("q1"),
            choice("m", [option("a"), option("b"), option("c")], multiple=True),
            question("t1", "text", show_if={"question": "m", "equals": "b"}),
            question("t2", "text", show_if={"question": "m", "in": ["a", "c"]}),
        )
    )
    assert visible_ids(instrument, {"m": ["b"]}) == ["q1", "m", "t1"]
    assert visible_ids(instrument, {"m": ["b", "c"]}) == ["q1", "m", "t1", "t2"]
    assert visible_ids(instrument, {"m": ["a"]}) == ["q1", "m", "t2"]


def test_text_and_date_conditions():
    instrument = build(
        section(
            "s1",
            scale("q1"),
            question("d", "date"),
            question("t", "text"),
            question("x", "text", show_if={"question": "d", "equals": "2024-01-31"}),
            question("y", "text", show_if={"question": "t", "equals": "ja"}),
        )
    )
    assert visible_ids(instrument, {"d": date(2024, 1, 31), "t": " ja "}) == ["q1", "d", "t", "x", "y"]


# ==============================================================================================
# Required answers and progress
# ==============================================================================================


def test_missing_required_only_counts_visible_questions():
    instrument = gated()
    assert missing_required(instrument, {}) == ["q1", "q2"]
    assert missing_required(instrument, {"q2": "yes"}) == ["q1", "q3"]
    assert missing_required(instrument, {"q2": "no", "q1": 0}) == []
    assert missing_required(instrument, {"q2": "yes", "q1": 0, "q3": ""}) == ["q3"]


def test_section_progress():
    instrument = gated()
    assert section_progress(instrument, {}) == [
        SectionProgress("s1", answered=0, total_visible=2, required_missing=["q1", "q2"]),
        SectionProgress("s2", answered=0, total_visible=1, required_missing=[]),
    ]
    progress = section_progress(instrument, {"q1": 2, "q2": "yes", "q4": "ok"})
    assert progress == [
        SectionProgress("s1", answered=2, total_visible=3, required_missing=["q3"]),
        SectionProgress("s2", answered=1, total_visible=1, required_missing=[]),
    ]
    assert not progress[0].complete and progress[1].complete
    # a stored answer to a hidden question does not count
    hidden = section_progress(instrument, {"q2": "no", "q3": 4})
    assert hidden[0] == SectionProgress("s1", answered=1, total_visible=2, required_missing=["q1"])


def test_hooked_answers():
    instrument = build(
        section(
            "s1",
            yes_no("gaps", hooks=["competence_need"]),
            question(
                "need",
                "text",
                hooks=["competence_need", "competence_need.description"],
                show_if={"question": "gaps", "equals": "yes"},
            ),
            question("staff", "number", hooks=["key_figures.staff_awu"]),
            scale("q1"),
        )
    )
    assert hooked_answers(instrument, {"gaps": "yes", "need": "Svetsare", "staff": 12.5}) == {
        "competence_need": {"gaps": "yes", "need": "Svetsare"},
        "competence_need.description": {"need": "Svetsare"},
        "key_figures.staff_awu": {"staff": "12.5"},
    }
    assert hooked_answers(instrument, {"gaps": "no", "need": "Svetsare"}) == {
        "competence_need": {"gaps": "no"}
    }


# ==============================================================================================
# Scoring: worked examples
# ==============================================================================================


def one_dimension(*questions, **kwargs) -> Instrument:
    return build(section("s1", *questions), **kwargs)


def dim(instrument, answers, dimension_id="d1") -> DimensionScore:
    return score(instrument, answers).dimensions[dimension_id]


def test_scale_level_3_scores_60():
    instrument = one_dimension(scale("q1"))
    result = score(instrument, {"q1": 3})
    assert result.dimensions["d1"] == DimensionScore(D("60.0"), "moderately_advanced", 1, 1)
    assert result.overall == D("60.0")
    assert result.band == "moderately_advanced"
    assert [question_score(instrument.question("q1"), level) for level in range(6)] == [
        0,
        20,
        40,
        60,
        80,
        100,
    ]


def test_single_choice_scores_its_option():
    instrument = one_dimension(
        choice("c", [option("low", 0), option("mid", 35), option("high", 100), option("dont_know")], "d1")
    )
    assert dim(instrument, {"c": "mid"}).score == D("35.0")
    assert dim(instrument, {"c": "high"}).score == D("100.0")
    # "don't know": answered (progress) but left out of the score
    assert dim(instrument, {"c": "dont_know"}) == DimensionScore(None, None, 0, 1)
    assert section_progress(instrument, {"c": "dont_know"})[0].answered == 1


def test_multiple_choice_sums_and_caps_at_100():
    instrument = one_dimension(
        choice(
            "m",
            [option("a", 40), option("b", 40), option("c", 40), option("none", 0, exclusive=True)],
            "d1",
            multiple=True,
        )
    )
    assert dim(instrument, {"m": ["a"]}).score == D("40.0")
    assert dim(instrument, {"m": ["a", "b"]}).score == D("80.0")
    assert dim(instrument, {"m": ["a", "b", "c"]}).score == D("100.0")  # 120 capped
    assert dim(instrument, {"m": ["none"]}).score == D("0.0")
    assert dim(instrument, {"m": []}).score is None  # empty = unanswered


NUMBER_BANDS = [
    {"max": 1, "score": 0},
    {"min": 1, "max": 10, "score": 40},
    {"min": 10, "max": 50, "score": 70},
    {"min": 50, "max": 100, "score": 100},
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0.0"),
        ("0.99", "0.0"),
        (1, "40.0"),
        (9.5, "40.0"),
        (10, "70.0"),
        ("49.99", "70.0"),
        (50, "100.0"),
        (100, "100.0"),
    ],
)
def test_number_bands_min_inclusive_max_exclusive_last_inclusive(value, expected):
    instrument = one_dimension(
        question("n", "number", min=0, max=100, scoring={"dimension": "d1", "bands": NUMBER_BANDS})
    )
    assert dim(instrument, {"n": value}).score == D(expected)


def test_open_ended_bands_and_money():
    instrument = one_dimension(
        question(
            "m",
            "money",
            scoring={"dimension": "d1", "bands": [{"max": 0, "score": 0}, {"min": 0, "score": 80}]},
        )
    )
    assert dim(instrument, {"m": -1_000_000}).score == D("0.0")
    assert dim(instrument, {"m": 0}).score == D("80.0")
    assert dim(instrument, {"m": 10**13}).score == D("80.0")


def test_percentage_scores_its_value_or_its_band():
    plain = one_dimension(question("p", "percentage", scoring={"dimension": "d1"}))
    assert dim(plain, {"p": "42.25"}).score == D("42.3")  # half-up to one decimal
    banded = one_dimension(
        question(
            "p",
            "percentage",
            scoring={"dimension": "d1", "bands": [{"max": 20, "score": 10}, {"min": 20, "score": 90}]},
        )
    )
    assert dim(banded, {"p": 19}).score == D("10.0")
    assert dim(banded, {"p": 20}).score == D("90.0")


def test_unanswered_questions_are_excluded_not_zero():
    instrument = one_dimension(scale("q1"), scale("q2"), scale("q3"))
    assert dim(instrument, {"q1": 5}) == DimensionScore(D("100.0"), "advanced", 1, 3)
    assert dim(instrument, {"q1": 5, "q2": 0}) == DimensionScore(D("50.0"), "moderately_advanced", 2, 3)
    assert dim(instrument, {}) == DimensionScore(None, None, 0, 3)
    assert score(instrument, {}).overall is None
    assert score(instrument, {}).band is None


def test_hidden_answered_question_is_ignored():
    instrument = build(
        section("s1", yes_no("gate"), scale("q1"), scale("q2", show_if={"question": "gate", "equals": "yes"}))
    )
    answers = {"gate": "no", "q1": 5, "q2": 0}
    assert dim(instrument, answers) == DimensionScore(D("100.0"), "advanced", 1, 1)
    assert dim(instrument, {**answers, "gate": "yes"}) == DimensionScore(
        D("50.0"), "moderately_advanced", 2, 2
    )


def test_question_weights():
    instrument = one_dimension(scale("q1"), scale("q2", scoring={"dimension": "d1", "weight": 2}))
    # (60·1 + 30... : scale 3 = 60 weight 1, scale 1 = 20 weight 2 → (60 + 40) / 3 = 33.33…
    assert dim(instrument, {"q1": 3, "q2": 1}).score == D("33.3")
    assert dim(instrument, {"q2": 1}).score == D("20.0")


def test_rounding_is_half_up_to_one_decimal():
    instrument = one_dimension(choice("c", [option("a", "62.25"), option("b", "62.35")], "d1"))
    assert dim(instrument, {"c": "a"}).score == D("62.3")  # banker's rounding would give 62.2
    assert dim(instrument, {"c": "b"}).score == D("62.4")


def two_dimensions(**kwargs) -> Instrument:
    return build(
        section(
            "s1", choice("c", [option("a", "62.25"), option("b", 10)], "d1"), scale("q2", dimension_id="d2")
        ),
        dimensions=[dimension("d1", weight=3), dimension("d2")],
        **kwargs,
    )


def test_overall_is_the_mean_of_the_rounded_dimension_scores():
    result = score(two_dimensions(), {"c": "a", "q2": 0})
    assert result.dimensions["d1"].score == D("62.3")
    assert result.dimensions["d2"].score == D("0.0")
    # (62.3 + 0) / 2 = 31.15 → 31.2 (from the unrounded 62.25 it would be 31.1)
    assert result.overall == D("31.2")
    assert result.band == "average"


def test_overall_weighted_mean_uses_dimension_weights():
    result = score(two_dimensions(overall="weighted_mean"), {"c": "b", "q2": 5})
    # (10·3 + 100·1) / 4 = 32.5
    assert result.overall == D("32.5")
    assert score(two_dimensions(), {"c": "b", "q2": 5}).overall == D("55.0")


def test_overall_ignores_dimensions_without_score():
    result = score(two_dimensions(), {"q2": 4})
    assert result.dimensions["d1"].score is None
    assert result.overall == D("80.0")


def test_score_result_carries_the_instrument_and_missing_required():
    result = score(gated(), {"q2": "yes"})
    assert (result.instrument, result.version) == ("test-instrument", 1)
    assert result.missing_required == ["q1", "q3"]


def test_growth_interview_worked_example():
    """A realistic interview: the arithmetic in docs/instruments.md."""
    instrument = load_instrument("sim-growth-interview", 1)
    answers = {
        "ga_ambition": "yes",
        "kf_year": 2024,
        "kf_staff_awu": "23.5",
        "kf_turnover_sek": 41_000_000,
        "kf_export_share": 12,  # 60
        "fin_planning": 2,  # 40
        "fin_cash_flow": 3,  # 60
        "fin_sources": ["own_cash_flow", "bank_loan"],  # 35
        "fin_financier_dialogue": "when_needed",  # 35
        "pe_planning": 3,
        "sa_offering": 1,
        "in_exports": "occasional",  # 45
        "in_markets": ["nordic"],
        "gc_strategy": 2,
        "cn_gaps": "yes",
        "cn_description": "Två CNC-operatörer",
        "cn_approach": "upskill",
        "cn_training_format": ["short_courses", "workplace"],
    }
    result = score(instrument, answers)
    # financing: (40 + 60 + 35 + 35) / 4 = 42.5
    assert result.dimensions["financing"] == DimensionScore(D("42.5"), "average", 4, 5)
    # internationalisation: (60 + 45) / 2 = 52.5
    assert result.dimensions["internationalisation"] == DimensionScore(D("52.5"), "moderately_advanced", 2, 6)
    assert result.dimensions["production_efficiency"].score == D("60.0")
    assert result.dimensions["service_addition"].score == D("20.0")
    assert result.dimensions["growth_and_competence"].score == D("40.0")
    # (42.5 + 60 + 20 + 52.5 + 40) / 5 = 43.0
    assert result.overall == D("43.0")
    assert result.band == "average"
    assert result.missing_required == []
    hooks = hooked_answers(instrument, answers)
    assert hooks["key_figures.staff_awu"] == {"kf_staff_awu": "23.5"}
    assert hooks["competence_need.training_format"] == {"cn_training_format": ["short_courses", "workplace"]}
    needs = derive_needs(instrument, result)
    assert [(n.priority, n.dimension, n.focus_area) for n in needs] == [
        (1, "service_addition", "service_addition"),
        (2, "growth_and_competence", "growth_and_competence"),
        (3, "financing", "financing"),
    ]
    assert needs[0].rationale.sv.startswith("Tjänsteutveckling fick 20,0 av 100 (gräns 50).")
    assert needs[0].rationale.en.startswith("Service addition scored 20.0 out of 100 (threshold 50).")


def test_growth_interview_competence_follow_ups():
    instrument = load_instrument("sim-growth-interview", 1)
    follow_ups = ["cn_description", "cn_people", "cn_horizon", "cn_approach"]
    assert not set(follow_ups) & set(visible_ids(instrument, {"cn_gaps": "no"}))
    shown = visible_ids(instrument, {"cn_gaps": "yes"})
    assert set(follow_ups) <= set(shown) and "cn_training_format" not in shown
    assert "cn_training_format" in visible_ids(instrument, {"cn_gaps": "yes", "cn_approach": "both"})
    # nested: changing the gate hides the training format even though cn_approach is stored
    assert "cn_training_format" not in visible_ids(instrument, {"cn_gaps": "unsure", "cn_approach": "both"})
    assert "cn_inventory_help" in visible_ids(instrument, {"cn_gaps": "unsure"})
    assert "cn_description" in missing_required(instrument, {"cn_gaps": "yes"})
    assert "cn_description" not in missing_required(instrument, {"cn_gaps": "no"})


def test_digital_maturity_worked_example():
    instrument = load_instrument("digital-maturity", 1)
    answers = {
        "dbs_strategy": 3,  # 60
        "dbs_areas": [
            "production",
            "quality",
            "logistics",
            "sales_marketing",
            "customer_service",
            "administration",
            "product_development",
        ],  # 7 × 15 = 105 → 100
        "dr_technologies": ["erp", "cad_cam"],  # 30
        "dr_connected_machines": "not_relevant",  # left out
        "hc_skills": 2,  # 40
        "da_storage": "shared",  # 60
        "ai_production": 1,  # 20
        "ai_robots": "single",  # 40
        "gd_monitoring": 0,  # 0
    }
    result = score(instrument, answers)
    assert {key: value.score for key, value in result.dimensions.items()} == {
        "digital_business_strategy": D("80.0"),
        "digital_readiness": D("30.0"),
        "human_centric_digitalisation": D("40.0"),
        "data_management": D("60.0"),
        "automation_and_ai": D("30.0"),
        "green_digitalisation": D("0.0"),
    }
    assert result.dimensions["digital_readiness"].answered == 1
    # (80 + 30 + 40 + 60 + 30 + 0) / 6 = 40.0
    assert result.overall == D("40.0")
    assert result.band == "average"


# ==============================================================================================
# compare
# ==============================================================================================


def test_compare_before_and_after():
    instrument = two_dimensions()
    before = score(instrument, {"c": "b", "q2": 1})
    after = score(instrument, {"c": "a", "q2": 4})
    # before: 10 and 20 → 15.0; after: 62.3 and 80 → 71.15 → 71.2
    assert compare(before, after) == {"d1": D("52.3"), "d2": D("60.0"), "overall": D("56.2")}
    assert compare(after, before)["d1"] == D("-52.3")
    # a dimension without a score on either side has no change
    partial = score(instrument, {"q2": 4})
    assert compare(before, partial) == {"d1": None, "d2": D("60.0"), "overall": D("65.0")}


def test_compare_across_versions_and_instruments():
    a = ScoreResult({"d1": DimensionScore(D("10.0"), "basic", 1, 1)}, D("10.0"), "basic", [], "x", 1)
    b = ScoreResult({"d2": DimensionScore(D("30.0"), "average", 1, 1)}, D("30.0"), "average", [], "x", 2)
    assert compare(a, b) == {"d1": None, "d2": None, "overall": D("20.0")}
    with pytest.raises(ValueError, match="different instruments"):
        compare(a, ScoreResult({}, None, None, [], "y", 1))


# ==============================================================================================
# derive_needs
# ==============================================================================================


def needs_instrument() -> Instrument:
    return build(
        section(
            "s1",
            scale("a", dimension_id="d_a"),
            scale("b", dimension_id="d_b"),
            scale("c", dimension_id="d_c"),
            scale("d", dimension_id="d_d"),
            scale("e", dimension_id="d_e"),
        ),
        dimensions=[
            dimension("d_a", need=need(), focus_area="financing"),
            dimension("d_b", need=need(threshold=70)),
            dimension("d_c", need=need(), weight=2),
            dimension("d_d"),  # no need template
            dimension("d_e", need=need()),
        ],
    )


def test_derive_needs_orders_by_score_then_weight_then_position():
    instrument = needs_instrument()
    result = score(instrument, {"a": 1, "b": 3, "c": 1, "d": 0, "e": 4})
    needs = derive_needs(instrument, result)
    # a = 20, c = 20 (weight 2 → first), b = 60 < 70, d has no template, e = 80 ≥ 50
    assert [(n.priority, n.dimension, n.score) for n in needs] == [
        (1, "d_c", D("20.0")),
        (2, "d_a", D("20.0")),
        (3, "d_b", D("60.0")),
    ]
    assert needs[1].focus_area == "financing" and needs[0].focus_area is None
    assert needs[2].threshold == 70
    assert needs[2].rationale.sv == "Poäng 60,0 under 70."
    assert needs[2].rationale.en == "Score 60.0 below 70."
    assert needs[0].title.en == "Need"


def test_derive_needs_threshold_is_strict_and_overridable():
    instrument = needs_instrument()
    result = score(instrument, {"a": 2, "b": 3, "e": 4})  # 40, 60, 80
    assert [n.dimension for n in derive_needs(instrument, result)] == ["d_a", "d_b"]
    # exactly at the threshold is not a need
    assert [n.dimension for n in derive_needs(instrument, result, threshold_override=40)] == []
    assert [n.dimension for n in derive_needs(instrument, result, threshold_override=D("40.1"))] == ["d_a"]
    assert [n.dimension for n in derive_needs(instrument, result, threshold_override=100)] == [
        "d_a",
        "d_b",
        "d_e",
    ]
    per_dimension = derive_needs(instrument, result, threshold_override={"d_b": 10, "d_e": 90.5})
    assert [(n.dimension, n.threshold) for n in per_dimension] == [("d_a", 50), ("d_e", D("90.5"))]
    with pytest.raises(ValueError):
        derive_needs(instrument, result, threshold_override=101)
    with pytest.raises(KeyError):
        derive_needs(instrument, result, threshold_override={"nope": 10})


def test_derive_needs_without_scores():
    instrument = needs_instrument()
    assert derive_needs(instrument, score(instrument, {})) == []


# ==============================================================================================
# JSON
# ==============================================================================================


def test_score_to_json_and_back():
    instrument = two_dimensions()
    result = score(instrument, {"c": "a"})
    data = score_to_json(result)
    assert data == {
        "instrument": "test-instrument",
        "version": 1,
        "dimensions": {
            "d1": {"score": 62.3, "band": "moderately_advanced", "answered": 1, "scored_questions": 1},
            "d2": {"score": None, "band": None, "answered": 0, "scored_questions": 1},
        },
        "overall": 62.3,
        "band": "moderately_advanced",
        "missing_required": [],
    }
    assert score_from_json(data) == result
    with pytest.raises(ValueError, match="not a score result"):
        score_from_json({"overall": 1})
    with pytest.raises(ValueError, match="from 0 to 100"):
        score_from_json({**data, "overall": 101})


def test_score_request_from_json():
    request = score_request_from_json({"instrument": "x", "version": D("2"), "answers": {"q1": 3}})
    assert (request.instrument, request.version, request.answers) == ("x", 2, {"q1": 3})
    assert score_request_from_json({"instrument": "x", "answers": {}}).version is None
    with pytest.raises(AnswerError) as info:
        score_request_from_json({"instrument": 3, "version": 0, "answer": {}})
    message = str(info.value)
    assert "Unknown field(s) answer" in message
    assert "instrument must be the id" in message
    assert "version must be a whole number" in message
    assert "answers is missing" in message
    with pytest.raises(AnswerError, match="must be a JSON object"):
        score_request_from_json([1])
    with pytest.raises(AnswerError, match="answers must be an object"):
        score_request_from_json({"instrument": "x", "answers": [1]})
    with pytest.raises(AnswerError, match="version must be"):
        score_request_from_json({"instrument": "x", "version": True, "answers": {}})


# ==============================================================================================
# Properties
# ==============================================================================================

SHIPPED = [load_instrument("sim-growth-interview", 1), load_instrument("digital-maturity", 1)]


def synthetic() -> Instrument:
    """Every question type, weights, a 'don't know' option and conditions on unscored questions."""
    return build(
        section(
            "s1",
            yes_no("gate"),
            scale("sc1", dimension_id="d1"),
            scale("sc2", dimension_id="d1", scoring={"dimension": "d1", "weight": 3}),
            choice("sg", [option("a", 0), option("b", 12.5), option("c", 70), option("dk")], "d2"),
            choice(
                "mu",
                [option("x", 45), option("y", 45), option("z", 45), option("n", 0, exclusive=True)],
                "d2",
                multiple=True,
            ),
            question(
                "nu",
                "number",
                min=-5,
                max=500,
                scoring={
                    "dimension": "d3",
                    "bands": [
                        {"max": 0, "score": 0},
                        {"min": 0, "max": 100, "score": 55},
                        {"min": 100, "score": 90},
                    ],
                },
            ),
            question(
                "mo",
                "money",
                scoring={
                    "dimension": "d3",
                    "weight": "0.5",
                    "bands": [{"max": 1000, "score": 10}, {"min": 1000, "score": 100}],
                },
            ),
            question("pc", "percentage", scoring={"dimension": "d3"}),
            scale("hidden_sc", dimension_id="d1", show_if={"question": "gate", "equals": "yes"}),
            question("dt", "date"),
            question("tx", "text", max_length=20, show_if={"question": "gate", "equals": "no"}),
        ),
        dimensions=[dimension("d1", weight=2), dimension("d2"), dimension("d3", weight="0.5")],
        overall="weighted_mean",
    )


SYNTHETIC = synthetic()
INSTRUMENTS = [*SHIPPED, SYNTHETIC]


def value_strategy(question_: Question) -> st.SearchStrategy:
    kind = question_.type
    if kind == "scale":
        return st.integers(0, 5)
    if kind == "single_choice":
        return st.sampled_from([o.id for o in question_.options])
    if kind == "multiple_choice":
        plain = [o.id for o in question_.options if not o.exclusive]
        exclusive = [[o.id] for o in question_.options if o.exclusive]
        lists = st.lists(st.sampled_from(plain), min_size=1, unique=True)
        return st.one_of(lists, st.sampled_from(exclusive)) if exclusive else lists
    if kind in ("number", "money", "percentage"):
        low, high = question_.value_range()
        places = 0 if question_.integer else 2
        return st.decimals(
            min_value=low if low is not None else -(10**9),
            max_value=high if high is not None else 10**9,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "date":
        return st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
    return st.text(
        max_size=question_.text_max_length, alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    )


@st.composite
def instrument_and_answers(draw):
    instrument = draw(st.sampled_from(INSTRUMENTS))
    answers = {}
    for question_ in instrument.questions:
        if draw(st.booleans()):
            answers[question_.id] = draw(value_strategy(question_))
    return instrument, answers


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(instrument_and_answers())
def test_generated_answers_are_valid_and_scores_stay_in_range(case):
    instrument, answers = case
    normalised, issues = validate_answers(instrument, answers)
    assert issues == []
    # normalising twice changes nothing
    assert validate_answers(instrument, normalised) == (normalised, [])
    result = score(instrument, answers)
    for dimension_score in result.dimensions.values():
        assert dimension_score.score is None or D(0) <= dimension_score.score <= D(100)
        assert (dimension_score.score is None) == (dimension_score.band is None)
        assert 0 <= dimension_score.answered <= dimension_score.scored_questions
    assert result.overall is None or D(0) <= result.overall <= D(100)
    assert (result.overall is None) == all(d.score is None for d in result.dimensions.values())
    assert score_from_json(score_to_json(result)) == result
    visible = {question.id for question in visible_questions(instrument, answers)}
    assert set(result.missing_required) <= visible
    progress = section_progress(instrument, answers)
    assert sum(p.total_visible for p in progress) == len(visible)
    needs = derive_needs(instrument, result)
    assert [n.priority for n in needs] == list(range(1, len(needs) + 1))
    assert [n.score for n in needs] == sorted(n.score for n in needs)


def assert_not_lower(before, after):
    for key, old in before.dimensions.items():
        new = after.dimensions[key]
        if old.score is not None:
            assert new.score is not None and new.score >= old.score, key
    if before.overall is not None:
        assert after.overall >= before.overall


@PROPERTY_SETTINGS
@given(instrument_and_answers(), st.data())
def test_raising_a_scale_answer_never_lowers_a_score(case, data):
    instrument, answers = case
    candidates = [
        qid
        for qid, value in answers.items()
        if instrument.question(qid).type == "scale" and instrument.question(qid).scoring and value < 5
    ]
    if not candidates:
        return
    qid = data.draw(st.sampled_from(candidates))
    higher = data.draw(st.integers(answers[qid] + 1, 5))
    before = score(instrument, answers)
    after = score(instrument, {**answers, qid: higher})
    assert_not_lower(before, after)
    dimension_id = instrument.question(qid).scoring.dimension
    if qid in {q.id for q in visible_questions(instrument, answers)}:
        assert after.dimensions[dimension_id].score >= before.dimensions[dimension_id].score


@PROPERTY_SETTINGS
@given(instrument_and_answers(), st.data())
def test_a_higher_scored_option_never_lowers_a_score(case, data):
    instrument, answers = case
    switches = []
    for qid, value in answers.items():
        question_ = instrument.question(qid)
        if question_.type != "single_choice" or question_.scoring is None:
            continue
        current = question_.option(value).score
        if current is None:
            continue
        better = [o.id for o in question_.options if o.score is not None and o.score > current]
        switches.extend((qid, option_id) for option_id in better)
    if not switches:
        return
    qid, option_id = data.draw(st.sampled_from(switches))
    assert_not_lower(score(instrument, answers), score(instrument, {**answers, qid: option_id}))


@PROPERTY_SETTINGS
@given(instrument_and_answers(), st.data())
def test_adding_an_option_to_a_multiple_choice_never_lowers_a_score(case, data):
    instrument, answers = case
    additions = []
    for qid, value in answers.items():
        question_ = instrument.question(qid)
        if question_.type != "multiple_choice" or question_.scoring is None:
            continue
        if any(question_.option(v).exclusive for v in value):
            continue
        additions.extend((qid, o.id) for o in question_.options if not o.exclusive and o.id not in value)
    if not additions:
        return
    qid, option_id = data.draw(st.sampled_from(additions))
    assert_not_lower(
        score(instrument, answers), score(instrument, {**answers, qid: [*answers[qid], option_id]})
    )


@PROPERTY_SETTINGS
@given(instrument_and_answers())
def test_hidden_answers_never_change_the_result(case):
    instrument, answers = case
    pruned, _ = validate_answers(instrument, answers, drop_hidden=True)
    assert score(instrument, answers) == score(instrument, pruned)
    assert section_progress(instrument, answers) == section_progress(instrument, pruned)
