"""The instrument file format (sim.assessments.schema) and loading (sim.assessments.instrument_files).

Pure tests: no database.  They also run with ``pytest -p no:django``.
"""

from __future__ import annotations

import json
import pickle
import textwrap
from decimal import Decimal as D

import pytest
import yaml

from sim.assessments import instrument_files
from sim.assessments.instrument_files import (
    INSTRUMENTS_DIR,
    InstrumentError,
    clear_cache,
    instrument_digest,
    instrument_ids,
    latest_version,
    load_instrument,
    load_instrument_file,
    parse_instrument,
    published_digests,
    versions,
)
from sim.assessments.schema import NUMERIC_TYPES, Instrument

from .builders import (
    choice,
    dimension,
    instrument_data,
    need,
    option,
    question,
    scale,
    section,
    t,
    yes_no,
)

GROWTH = "sim-growth-interview"
DMA = "digital-maturity"
DMA_DIMENSIONS = [
    "digital_business_strategy",
    "digital_readiness",
    "human_centric_digitalisation",
    "data_management",
    "automation_and_ai",
    "green_digitalisation",
]
FOCUS_AREAS = [
    "financing",
    "production_efficiency",
    "service_addition",
    "internationalisation",
    "growth_and_competence",
]


def problems_of(data) -> list[tuple[str, str]]:
    with pytest.raises(InstrumentError) as info:
        parse_instrument(data)
    return info.value.problems


def only_problem(data) -> tuple[str, str]:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


# ==============================================================================================
# A valid instrument and its lookups
# ==============================================================================================


def test_minimal_instrument_and_lookups():
    instrument = parse_instrument(
        instrument_data(
            section("s1", scale("q1"), yes_no("q2")),
            section("s2", question("q3", "text"), scale("q4")),
        )
    )
    assert isinstance(instrument, Instrument)
    assert instrument.key == ("test-instrument", 1)
    assert [q.id for q in instrument.questions] == ["q1", "q2", "q3", "q4"]
    assert instrument.question("q3").type == "text"
    assert instrument.section_of("q4") == "s2"
    assert instrument.has_question("q2") and not instrument.has_question("nope")
    assert [q.id for q in instrument.scored_questions("d1")] == ["q1", "q4"]
    assert instrument.dimension("d1").weight == 1
    assert instrument.question("q3").text_max_length == 2000
    assert instrument.title.get("en") == "Test instrument"
    assert instrument.title.get("sv-se") == "Test instrument (sv)"
    assert instrument.title.get(None) == "Test instrument (sv)"


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0", "basic"),
        ("24.9", "basic"),
        ("25", "average"),
        ("49.9", "average"),
        ("50", "moderately_advanced"),
        ("74.9", "moderately_advanced"),
        ("75", "advanced"),
        ("99.9", "advanced"),
        ("100", "advanced"),
    ],
)
def test_band_boundaries_min_inclusive_max_exclusive_last_includes_100(score, band):
    instrument = parse_instrument(instrument_data())
    assert instrument.band_for(D(score)).id == band


def test_band_for_outside_and_none():
    instrument = parse_instrument(instrument_data())
    assert instrument.band_for(None) is None
    assert instrument.band_for(D("100.1")) is None


def test_instrument_is_immutable():
    instrument = parse_instrument(instrument_data())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError for a frozen model
        instrument.version = 2


@pytest.mark.parametrize("instrument_id", [GROWTH, DMA])
def test_a_full_dump_validates_again(instrument_id):
    """The models round-trip through JSON, e.g. for a snapshot stored next to an assessment."""
    instrument = load_instrument(instrument_id)
    assert Instrument.model_validate_json(instrument.model_dump_json(by_alias=True)) == instrument
    assert parse_instrument(json.loads(instrument.model_dump_json(by_alias=True))) == instrument
    assert parse_instrument(instrument.model_dump(by_alias=True)) == instrument
    again = parse_instrument(instrument.model_dump(by_alias=True, exclude_defaults=True))
    assert instrument_digest(again) == instrument_digest(instrument)


def test_decimal_values_stay_exact():
    data = instrument_data(section("s1", choice("q1", [option("a", 0.1), option("b", 33.3)], "d1")))
    instrument = parse_instrument(data)
    assert instrument.question("q1").option("b").score == D("33.3")
    assert instrument.question("q1").option("a").score == D("0.1")


# ==============================================================================================
# Errors: clear messages naming the path and the problem
# ==============================================================================================


def test_missing_translation():
    data = instrument_data(section("s1", scale("q1", text={"sv": "Fråga"})))
    path, message = only_problem(data)
    assert path == "sections[0](s1).questions[0](q1).text.en"
    assert "Swedish (sv) and English (en)" in message


def test_empty_translation():
    data = instrument_data()
    data["dimensions"][0]["title"] = {"sv": "  ", "en": "Dimension"}
    assert only_problem(data) == ("dimensions[0](d1).title.sv", "must not be empty")


def test_unknown_field_is_reported_not_ignored():
    data = instrument_data(section("s1", scale("q1", requird=True)))
    path, message = only_problem(data)
    assert path == "sections[0](s1).questions[0](q1).requird"
    assert "not a known field" in message


def test_every_field_error_is_listed_with_the_file_name():
    data = instrument_data(section("s1", scale("q1", text={"sv": "x"}), scale("q2", required="yes")))
    data["version"] = 0
    with pytest.raises(InstrumentError) as info:
        parse_instrument(data, source="instruments/test/v1.yaml")
    error = info.value
    assert error.source == "instruments/test/v1.yaml"
    assert [path for path, _ in error.problems] == [
        "version",
        "sections[0](s1).questions[0](q1).text.en",
        "sections[0](s1).questions[1](q2).required",
    ]
    text = str(error)
    assert text.startswith("instruments/test/v1.yaml: invalid instrument (3 problems)")
    assert "\n  - version: " in text


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (
            lambda d: d["sections"][0]["questions"][0].update(id="Q-1"),
            "sections[0](s1).questions[0](Q-1).id",
            "'Q-1' must be lower-case letters, digits and underscores, starting with a letter",
        ),
        (
            lambda d: d.update(id="Digital_Maturity"),
            "id",
            "'Digital_Maturity' must be lower-case letters and digits in words joined by hyphens",
        ),
        (lambda d: d.update(kind="survey"), "kind", "Input should be 'growth_interview' or 'maturity'"),
        (lambda d: d.update(overall="median"), "overall", "Input should be 'mean' or 'weighted_mean'"),
        (lambda d: d.update(sections=[]), "sections", "at least 1 item"),
        (
            lambda d: d["sections"][0]["questions"][0].update(type="slider"),
            "sections[0](s1).questions[0](q1).type",
            "Input should be 'scale'",
        ),
    ],
)
def test_field_errors(mutate, path, fragment):
    data = instrument_data()
    mutate(data)
    problems = problems_of(data)
    assert any(p == path and fragment in message for p, message in problems), problems


def test_duplicate_question_ids_across_sections():
    data = instrument_data(section("s1", scale("q1")), section("s2", scale("q1")))
    path, message = only_problem(data)
    assert path == "sections[1](s2).questions[0](q1)"
    assert "'q1' is used twice (first at sections[0](s1).questions[0](q1))" in message
    assert "unique across the instrument" in message


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d["dimensions"].append(dimension("d1")), "dimension id 'd1' is used twice"),
        (lambda d: d["sections"].append(section("s1", scale("q2"))), "section id 's1' is used twice"),
        (lambda d: d["bands"][1].update(id="basic"), "band id 'basic' is used twice"),
    ],
)
def test_duplicate_ids(mutate, fragment):
    data = instrument_data()
    mutate(data)
    assert any(fragment in message for _, message in problems_of(data))


def test_duplicate_option_ids():
    data = instrument_data(section("s1", scale("q1"), choice("q2", [option("a"), option("a")])))
    assert only_problem(data) == ("sections[0](s1).questions[1](q2).options", "option id 'a' is used twice")


def test_condition_referencing_a_later_question():
    data = instrument_data(
        section("s1", scale("q1", show_if={"question": "q2", "equals": "yes"})), section("s2", yes_no("q2"))
    )
    path, message = only_problem(data)
    assert path == "sections[0](s1).questions[0](q1).show_if"
    assert message == "refers to 'q2', which comes later; a condition may only use earlier questions"


def test_condition_referencing_an_unknown_question_or_itself():
    data = instrument_data(section("s1", scale("q1"), scale("q2", show_if={"question": "zz", "equals": 1})))
    assert only_problem(data)[1] == "refers to unknown question 'zz'"
    data = instrument_data(section("s1", scale("q1", show_if={"question": "q1", "equals": 1})))
    assert only_problem(data)[1] == "a question cannot depend on itself"


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ({"question": "q1", "equals": "maybe"}, "'maybe' is not a possible answer to 'q1': Unknown option"),
        ({"question": "q1", "in": ["yes", "nah"]}, "'nah' is not a possible answer to 'q1'"),
        ({"question": "q1", "gte": 2}, "gte/lte need a scale or numeric question, but 'q1' is single_choice"),
        ({"question": "q0", "equals": 6}, "6 is not a possible answer to 'q0': Choose a level from 0 to 5"),
    ],
)
def test_condition_values_must_fit_the_referenced_question(condition, fragment):
    data = instrument_data(section("s1", scale("q0"), yes_no("q1"), scale("q2", show_if=condition)))
    path, message = only_problem(data)
    assert path == "sections[0](s1).questions[2](q2).show_if"
    assert fragment in message


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        (
            {"question": "q1", "equals": "yes", "in": ["no"]},
            "exactly one of equals, in, or gte/lte (found equals, in)",
        ),
        ({"question": "q1"}, "exactly one of equals, in, or gte/lte"),
        ({"question": "q1", "equals": None}, "exactly one of equals, in, or gte/lte"),
        ({"question": "q1", "gte": 4, "lte": 2}, "gte (4) is greater than lte (2)"),
    ],
)
def test_condition_shape(condition, fragment):
    data = instrument_data(section("s1", scale("q1"), scale("q2", show_if=condition)))
    path, message = only_problem(data)
    assert path == "sections[0](s1).questions[1](q2).show_if"
    assert fragment in message


def test_band_gap():
    data = instrument_data()
    data["bands"][1]["min"] = 30
    assert only_problem(data) == (
        "bands",
        "gap between bands 'basic' (ends at 25) and 'average' (starts at 30)",
    )


def test_band_overlap():
    data = instrument_data()
    data["bands"][1]["max"] = 55
    path, message = only_problem(data)
    assert path == "bands"
    assert "'average' (25–55) and 'moderately_advanced' (50–75) overlap" in message


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda b: b[0].update(min=5), "the bands must start at 0 (the lowest starts at 5)"),
        (lambda b: b[3].update(max=90), "the bands must end at 100 (the highest ends at 90)"),
        (lambda b: b.reverse(), "list the bands from the lowest to the highest score"),
        (lambda b: b[3].update(min=100), "min (100) must be less than max (100)"),
        (lambda b: b[3].update(max=101), "less than or equal to 100"),
    ],
)
def test_band_coverage(mutate, fragment):
    data = instrument_data()
    mutate(data["bands"])
    assert any(fragment in message for _, message in problems_of(data))


def test_unknown_dimension_in_scoring():
    data = instrument_data(section("s1", scale("q1"), scale("q2", dimension_id="d9")))
    assert only_problem(data) == (
        "sections[0](s1).questions[1](q2).scoring.dimension",
        "unknown dimension 'd9'; the dimensions are d1",
    )


def test_dimension_without_scored_questions():
    data = instrument_data(dimensions=[dimension("d1"), dimension("d2")])
    assert only_problem(data) == (
        "dimensions[1](d2)",
        "no question is scored in this dimension (add scoring.dimension to at least one question)",
    )


def test_reserved_dimension_id():
    data = instrument_data(
        section("s1", scale("q1", dimension_id="overall")), dimensions=[dimension("overall")]
    )
    assert "'overall' is reserved" in only_problem(data)[1]


@pytest.mark.parametrize(
    ("q", "field", "fragment"),
    [
        (
            scale("q9", levels={i: t(str(i)) for i in range(5)}),
            "levels",
            "exactly the levels 0 to 5 (missing 5)",
        ),
        (scale("q9", levels=None), "levels", "a scale question needs levels 0 to 5"),
        (
            scale("q9", options=[option("a"), option("b")]),
            "options",
            "options is not allowed in a scale question",
        ),
        (question("q9", "text", scoring={"dimension": "d1"}), "scoring", "a text question cannot be scored"),
        (question("q9", "date", scoring={"dimension": "d1"}), "scoring", "a date question cannot be scored"),
        (question("q9", "text", max_length=0), "max_length", "greater than or equal to 1"),
        (
            question("q9", "number", unit=t("st"), max_length=5),
            "max_length",
            "not allowed in a number question",
        ),
        (question("q9", "percentage", min=10), "min", "min is not allowed in a percentage question"),
        (question("q9", "money", min=10, max=5), "min", "min (10) is greater than max (5)"),
        (question("q9", "money", scoring={"dimension": "d1"}), "scoring.bands", "needs value bands"),
        (
            scale("q9", scoring={"dimension": "d1", "bands": [{"score": 1}]}),
            "scoring.bands",
            "value bands only apply to number, money and percentage",
        ),
        (choice("q9", [option("a")]), "options", "needs at least two options"),
        (
            choice("q9", [option("a", 10), option("b", 20)]),
            "options",
            "options have scores but the question has no scoring",
        ),
        (choice("q9", [option("a"), option("b")], "d1"), "options", "none of its options has a score"),
        (
            choice("q9", [option("a", 10), option("b")], "d1", multiple=True),
            "options",
            "every option needs a score (b)",
        ),
        (
            choice("q9", [option("a", exclusive=True), option("b")]),
            "options",
            "exclusive only applies to multiple_choice",
        ),
        (scale("q9", hooks=["a.b", "a.b"]), "hooks", "a hook is listed twice"),
        (scale("q9", hooks=["Key Figures"]), "hooks[0]", "'Key Figures' must be lower-case words"),
    ],
)
def test_question_type_rules(q, field, fragment):
    data = instrument_data(section("s1", scale("q1"), q))
    path, message = only_problem(data)
    assert path == f"sections[0](s1).questions[1](q9).{field}"
    assert fragment in message


@pytest.mark.parametrize(
    ("q", "fragment"),
    [
        (
            question(
                "q9",
                "number",
                scoring={"dimension": "d1", "bands": [{"max": 10, "score": 0}, {"min": 12, "score": 50}]},
            ),
            "a gap between bands: this band ends at 10 but the next starts at 12",
        ),
        (
            question(
                "q9",
                "number",
                scoring={"dimension": "d1", "bands": [{"max": 10, "score": 0}, {"min": 8, "score": 50}]},
            ),
            "an overlap between bands",
        ),
        (
            question(
                "q9",
                "number",
                scoring={
                    "dimension": "d1",
                    "bands": [{"min": 0, "max": 10, "score": 0}, {"min": 10, "score": 50}],
                },
            ),
            "do not cover values below 0: give the question a min of at least 0",
        ),
        (
            question(
                "q9",
                "number",
                min=0,
                scoring={
                    "dimension": "d1",
                    "bands": [{"max": 10, "score": 0}, {"min": 10, "max": 20, "score": 50}],
                },
            ),
            "do not cover values above 20",
        ),
        (
            question(
                "q9",
                "percentage",
                scoring={
                    "dimension": "d1",
                    "bands": [{"max": 50, "score": 0}, {"min": 50, "max": 99, "score": 50}],
                },
            ),
            "do not cover values above 99",
        ),
        (
            question(
                "q9",
                "number",
                scoring={
                    "dimension": "d1",
                    "bands": [{"max": 10, "score": 0}, {"min": 10, "max": 10, "score": 50}],
                },
            ),
            "min (10) must be less than max (10)",
        ),
        (
            question(
                "q9",
                "number",
                scoring={
                    "dimension": "d1",
                    "bands": [{"max": 10, "score": 0}, {"score": 5}, {"min": 20, "score": 50}],
                },
            ),
            "only the first band may leave out min",
        ),
        (
            question("q9", "number", scoring={"dimension": "d1", "bands": [{"max": 10, "score": 120}]}),
            "less than or equal to 100",
        ),
    ],
)
def test_value_band_rules(q, fragment):
    data = instrument_data(section("s1", scale("q1"), q))
    assert any(fragment in message for _, message in problems_of(data)), problems_of(data)


def test_value_bands_covering_the_question_range_are_fine():
    q = question(
        "q9",
        "number",
        min=0,
        max=20,
        scoring={
            "dimension": "d1",
            "bands": [{"min": 0, "max": 10, "score": 0}, {"min": 10, "max": 20, "score": 50}],
        },
    )
    parse_instrument(instrument_data(section("s1", scale("q1"), q)))
    pct = question("q9", "percentage", scoring={"dimension": "d1"})  # no bands: scores its value
    parse_instrument(instrument_data(section("s1", scale("q1"), pct)))


def test_need_rationale_placeholders():
    data = instrument_data(dimensions=[dimension("d1", need=need())])
    data["dimensions"][0]["need"]["rationale"]["en"] = "Score {score} vs {limit}"
    path, message = only_problem(data)
    assert path == "dimensions[0](d1).need.rationale"
    assert "en: unknown placeholder(s) {limit}; only {score} and {threshold} are available" in message
    data["dimensions"][0]["need"]["rationale"]["en"] = "Score {score"
    assert "write {{ and }} for literal braces" in only_problem(data)[1]


def test_need_threshold_range_and_default():
    data = instrument_data(dimensions=[dimension("d1", need=need(threshold=120))])
    assert only_problem(data)[0] == "dimensions[0](d1).need.threshold"
    template = need()
    del template["threshold"]
    instrument = parse_instrument(instrument_data(dimensions=[dimension("d1", need=template)]))
    assert instrument.dimension("d1").need.threshold == 50


def test_not_a_mapping():
    with pytest.raises(InstrumentError, match="must contain a mapping"):
        parse_instrument(["not", "a", "mapping"])


def test_instrument_error_pickles():
    with pytest.raises(InstrumentError) as info:
        parse_instrument(instrument_data(section("s1", scale("q1", text={"sv": "x"}))), source="f.yaml")
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert copy.problems == info.value.problems


# ==============================================================================================
# YAML files
# ==============================================================================================


def write_yaml(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_yaml_yes_and_no_stay_text(tmp_path):
    """YAML 1.1 would read yes/no/on/off as booleans; the loader keeps them as option ids."""
    path = tmp_path / "v1.yaml"
    write_yaml(path, instrument_data(section("s1", scale("q1"), yes_no("q2"), scale("q3"))))
    text = path.read_text(encoding="utf-8").replace("'yes'", "yes").replace("'no'", "no")
    text += "# on/off/y/n are not booleans either\n"
    assert "id: yes" in text
    path.write_text(text, encoding="utf-8")
    condition_text = text.replace(
        "  - id: q3\n", "  - id: q3\n    show_if:\n      question: q2\n      equals: no\n", 1
    )
    path.write_text(condition_text, encoding="utf-8")
    instrument = load_instrument_file(path)
    assert [o.id for o in instrument.question("q2").options] == ["yes", "no"]
    assert instrument.question("q3").show_if.equals == "no"


def test_yaml_duplicate_keys_are_an_error(tmp_path):
    path = tmp_path / "v1.yaml"
    write_yaml(path, instrument_data())
    path.write_text(path.read_text(encoding="utf-8") + "version: 2\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    assert str(path) in str(info.value)
    assert "found the key 'version' twice" in str(info.value)


def test_invalid_yaml_missing_file_and_bad_encoding(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match="invalid YAML"):
        load_instrument_file(bad)
    with pytest.raises(InstrumentError, match="file not found"):
        load_instrument_file(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("id: å\n".encode("latin-1"))
    with pytest.raises(InstrumentError, match="not UTF-8"):
        load_instrument_file(latin)


def test_file_name_must_match_the_version(tmp_path):
    path = tmp_path / "v2.yaml"
    write_yaml(path, instrument_data())
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    assert info.value.problems == [("version", "is 1 but the file is named v2.yaml")]
    other = tmp_path / "draft.yaml"  # not named v<N>.yaml: no check
    write_yaml(other, instrument_data())
    assert load_instrument_file(other).version == 1


def test_yaml_errors_name_the_file_and_path(tmp_path):
    path = tmp_path / "v1.yaml"
    write_yaml(path, instrument_data(section("s1", scale("q1", text={"sv": "Fråga"}))))
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    assert str(info.value).splitlines() == [
        f"{path}: invalid instrument (1 problem)",
        "  - sections[0](s1).questions[0](q1).text.en: is missing: every text needs both Swedish (sv) and "
        "English (en)",
    ]


# ==============================================================================================
# The repository of instruments: ids, versions, cache
# ==============================================================================================


@pytest.fixture
def repo(tmp_path):
    """An instruments folder with ``alpha`` v1, v2, v10 and ``beta`` v1."""
    for version in (1, 2, 10):
        data = instrument_data(id="alpha", version=version)
        data["title"] = t(f"Alpha {version}")
        write_yaml(tmp_path / "alpha" / f"v{version}.yaml", data)
    write_yaml(tmp_path / "beta" / "v1.yaml", instrument_data(id="beta"))
    (tmp_path / "alpha" / "notes.md").write_text("not a version", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "Not_An_Id").mkdir()
    write_yaml(tmp_path / "Not_An_Id" / "v1.yaml", instrument_data())
    clear_cache()
    yield tmp_path
    clear_cache()


def test_ids_and_versions(repo):
    assert instrument_ids(root=repo) == ["alpha", "beta"]
    assert versions("alpha", root=repo) == [1, 2, 10]
    assert latest_version("alpha", root=repo) == 10
    assert load_instrument("alpha", root=repo).version == 10
    assert load_instrument("alpha", 2, root=repo).title.en == "Alpha 2"


def test_load_instrument_is_cached(repo):
    first = load_instrument("alpha", 1, root=repo)
    assert load_instrument("alpha", 1, root=repo) is first
    clear_cache()
    assert load_instrument("alpha", 1, root=repo) is not first


@pytest.mark.parametrize(
    ("instrument_id", "version", "fragment"),
    [
        ("gamma", None, "unknown instrument 'gamma' (known instruments: alpha, beta)"),
        ("empty", None, "unknown instrument 'empty'"),
        ("../alpha", None, "'../alpha' is not a valid instrument id"),
        ("alpha", 3, "instrument 'alpha' has no version 3 (versions: 1, 2, 10)"),
        ("alpha", "1", "the version must be a whole number"),
    ],
)
def test_unknown_instrument_or_version(repo, instrument_id, version, fragment):
    with pytest.raises(InstrumentError) as info:
        load_instrument(instrument_id, version, root=repo)
    assert fragment in str(info.value)


def test_folder_name_must_match_the_id(repo):
    write_yaml(repo / "gamma" / "v1.yaml", instrument_data(id="alpha"))
    with pytest.raises(InstrumentError) as info:
        load_instrument("gamma", root=repo)
    assert info.value.problems == [("id", "is 'alpha' but the file is in the folder 'gamma'")]


def test_versions_of_unknown_instrument(repo):
    with pytest.raises(InstrumentError):
        versions("nope", root=repo)


# ==============================================================================================
# Digest
# ==============================================================================================


def test_digest_ignores_form_but_not_meaning(tmp_path):
    data = instrument_data(section("s1", scale("q1"), choice("q2", [option("a", 10), option("b", 20)], "d1")))
    base = instrument_digest(parse_instrument(data))
    assert len(base) == 64 and int(base, 16) >= 0

    # Key order, comments, 10 vs 10.0, and spelling out a default do not matter.
    reordered = dict(reversed(list(data.items())))
    reordered["sections"][0]["questions"][1]["options"][0]["score"] = 10.0
    reordered["sections"][0]["questions"][0]["required"] = False
    reordered["dimensions"][0]["weight"] = 1
    assert instrument_digest(parse_instrument(reordered)) == base
    path = tmp_path / "v1.yaml"
    write_yaml(path, data)
    path.write_text("# a comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert instrument_digest(load_instrument_file(path)) == base

    changed = instrument_data(
        section("s1", scale("q1"), choice("q2", [option("a", 10), option("b", 25)], "d1"))
    )
    assert instrument_digest(parse_instrument(changed)) != base
    retitled = instrument_data(
        section("s1", scale("q1"), choice("q2", [option("a", 10), option("b", 20)], "d1"))
    )
    retitled["title"]["sv"] = "Nytt namn"
    assert instrument_digest(parse_instrument(retitled)) != base


def test_published_versions_are_never_edited():
    """Every shipped version file has the digest recorded when it was published.

    Editing a published file fails here: add v<N+1>.yaml instead.  A new version is recorded in
    ``instruments/published.json`` (the message below gives the line to add).
    """
    recorded = published_digests()
    clear_cache()
    for instrument_id in instrument_ids():
        for version in versions(instrument_id):
            key = f"{instrument_id}/v{version}"
            digest = instrument_digest(load_instrument(instrument_id, version))
            assert key in recorded, f'new version: add "{key}": "{digest}" to instruments/published.json'
            assert recorded[key] == digest, (
                f"{key} was edited after it was published; revert it and add a new version instead"
            )
    shipped = {f"{i}/v{v}" for i in instrument_ids() for v in versions(i)}
    assert set(recorded) == shipped


def test_published_digests_file_errors(tmp_path):
    assert published_digests(root=tmp_path) == {}
    (tmp_path / "published.json").write_text(json.dumps(["x"]), encoding="utf-8")
    with pytest.raises(InstrumentError, match="must map"):
        published_digests(root=tmp_path)


# ==============================================================================================
# The shipped instruments
# ==============================================================================================


def test_shipped_instruments_load():
    assert {GROWTH, DMA} <= set(instrument_ids())
    assert INSTRUMENTS_DIR.name == "instruments"
    for instrument_id in (GROWTH, DMA):
        for version in versions(instrument_id):
            path = INSTRUMENTS_DIR / instrument_id / f"v{version}.yaml"
            instrument = load_instrument_file(path)
            assert instrument.key == (instrument_id, version)
            dimension_ids = {d.id for d in instrument.dimensions}
            for q in instrument.questions:
                if q.scoring is not None:
                    assert q.scoring.dimension in dimension_ids
            # every dimension has a need template
            assert all(d.need is not None for d in instrument.dimensions)
            assert [b.id for b in instrument.bands] == ["basic", "average", "moderately_advanced", "advanced"]


def test_digital_maturity_follows_the_six_dma_dimensions():
    instrument = load_instrument(DMA, 1)
    assert instrument.kind == "maturity"
    assert instrument.overall == "mean"
    assert [d.id for d in instrument.dimensions] == DMA_DIMENSIONS
    assert all(d.weight == 1 for d in instrument.dimensions)
    for dimension_id in DMA_DIMENSIONS:
        scored = instrument.scored_questions(dimension_id)
        assert 4 <= len(scored) <= 6, dimension_id
        assert {q.type for q in scored} & {"scale"}, dimension_id
    types = {q.type for q in instrument.scored_questions()}
    assert {"scale", "multiple_choice"} <= types


def test_growth_interview_covers_the_focus_areas():
    instrument = load_instrument(GROWTH, 1)
    assert instrument.kind == "growth_interview"
    assert [d.focus_area for d in instrument.dimensions] == FOCUS_AREAS
    assert [d.id for d in instrument.dimensions] == FOCUS_AREAS
    sections = {s.id: s for s in instrument.sections}
    for area in FOCUS_AREAS:
        questions = sections[area].questions
        assert 4 <= len(questions) <= 6, area
        assert {"scale"} <= {q.type for q in questions}, area
    hooks = {hook for q in instrument.questions for hook in q.hooks}
    assert {
        "key_figures.staff_awu",
        "key_figures.turnover_sek",
        "key_figures.export_share_pct",
        "competence_need",
        "growth_ambition",
    } <= hooks
    assert instrument.question("kf_staff_awu").type == "number"
    assert instrument.question("kf_turnover_sek").type == "money"
    assert instrument.question("kf_export_share").type == "percentage"
    horizon = instrument.question("cn_horizon")
    assert [o.id for o in horizon.options] == ["months_0_6", "months_6_12", "months_12_36"]
    assert horizon.show_if.question == "cn_gaps"


@pytest.mark.parametrize("instrument_id", [GROWTH, DMA])
def test_shipped_scores_are_monotone_by_construction(instrument_id):
    """No scored question is shown or hidden by a scored answer.

    Otherwise a better answer could reveal a low-scoring follow-up and lower the score; the
    property tests in test_rules rely on this.
    """
    instrument = load_instrument(instrument_id)
    depends_on_scored: set[str] = set()
    for q in instrument.questions:
        if q.show_if is not None:
            source = instrument.question(q.show_if.question)
            if source.scoring is not None or source.id in depends_on_scored:
                depends_on_scored.add(q.id)
    assert not [q.id for q in instrument.questions if q.id in depends_on_scored and q.scoring is not None]


@pytest.mark.parametrize("instrument_id", [GROWTH, DMA])
def test_shipped_texts_are_distinct_per_language(instrument_id):
    """Both languages are written out (a copy-pasted Swedish text in ``en`` would slip through)."""
    instrument = load_instrument(instrument_id)
    same = [q.id for q in instrument.questions if q.text.sv == q.text.en]
    assert same == []
    for q in instrument.questions:
        if q.type == "scale":
            assert len({level.en for level in q.levels.values()}) == 6, q.id
            assert len({level.sv for level in q.levels.values()}) == 6, q.id
        if q.type in NUMERIC_TYPES and q.scoring is not None and q.scoring.bands:
            scores = [band.score for band in q.scoring.bands]
            assert scores == sorted(scores), q.id


def test_module_exports():
    assert set(instrument_files.__all__) >= {
        "InstrumentError",
        "instrument_ids",
        "versions",
        "latest_version",
        "load_instrument",
        "load_instrument_file",
        "instrument_digest",
    }


def test_yaml_example_in_the_docs_is_valid(tmp_path):
    """The complete example in docs/instruments.md loads."""
    from pathlib import Path

    doc = Path(__file__).resolve().parents[3] / "docs" / "instruments.md"
    if not doc.exists():
        pytest.skip("docs/instruments.md not written yet")
    text = doc.read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index("<!-- example-instrument -->")) + len("```yaml\n")
    example = text[start : text.index("```", start)]
    path = tmp_path / "v1.yaml"
    path.write_text(textwrap.dedent(example), encoding="utf-8")
    instrument = load_instrument_file(path)
    assert instrument.id == "example-check"
