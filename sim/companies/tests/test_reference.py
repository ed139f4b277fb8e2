"""The shipped reference data (municipalities, SNI 2007) and its loader; no database needed."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from sim.companies.reference import (
    SNI_LEVELS,
    Municipality,
    SniCode,
    load_municipalities,
    load_sni_codes,
    normalise_sni_code,
)

COUNTY_SIZES = {
    "01": ("Stockholms län", 26),
    "03": ("Uppsala län", 8),
    "04": ("Södermanlands län", 9),
    "05": ("Östergötlands län", 13),
    "06": ("Jönköpings län", 13),
    "07": ("Kronobergs län", 8),
    "08": ("Kalmar län", 12),
    "09": ("Gotlands län", 1),
    "10": ("Blekinge län", 5),
    "12": ("Skåne län", 33),
    "13": ("Hallands län", 6),
    "14": ("Västra Götalands län", 49),
    "17": ("Värmlands län", 16),
    "18": ("Örebro län", 12),
    "19": ("Västmanlands län", 10),
    "20": ("Dalarnas län", 15),
    "21": ("Gävleborgs län", 10),
    "22": ("Västernorrlands län", 7),
    "23": ("Jämtlands län", 8),
    "24": ("Västerbottens län", 15),
    "25": ("Norrbottens län", 14),
}

LEVEL_ABOVE = {"division": "section", "group": "division", "class": "group", "subclass": "class"}


@pytest.fixture(scope="module")
def municipalities() -> list[Municipality]:
    return load_municipalities()


@pytest.fixture(scope="module")
def sni() -> list[SniCode]:
    return load_sni_codes()


@pytest.fixture(scope="module")
def sni_by_code(sni) -> dict[str, SniCode]:
    return {c.code: c for c in sni}


# --- Municipalities -------------------------------------------------------------------------


def test_there_are_290_municipalities_with_unique_codes_and_names(municipalities):
    assert len(municipalities) == 290
    assert len({m.code for m in municipalities}) == 290
    assert len({m.name for m in municipalities}) == 290


def test_municipality_codes_are_four_digits_starting_with_their_county(municipalities):
    for m in municipalities:
        assert len(m.code) == 4 and m.code.isdigit(), m
        assert len(m.county_code) == 2 and m.county_code.isdigit(), m
        assert m.code[:2] == m.county_code, m
        assert m.name == m.name.strip() and m.name, m


def test_21_counties_with_their_names_and_sizes(municipalities):
    sizes = Counter(m.county_code for m in municipalities)
    names = {m.county_code: m.county_name for m in municipalities}
    assert len(sizes) == 21
    assert {code: (names[code], n) for code, n in sizes.items()} == COUNTY_SIZES
    # one name per county code
    assert len({(m.county_code, m.county_name) for m in municipalities}) == 21


def test_jamtland_is_exact(municipalities):
    jamtland = {m.code: m.name for m in municipalities if m.county_code == "23"}
    assert jamtland == {
        "2303": "Ragunda",
        "2305": "Bräcke",
        "2309": "Krokom",
        "2313": "Strömsund",
        "2321": "Åre",
        "2326": "Berg",
        "2361": "Härjedalen",
        "2380": "Östersund",
    }


@pytest.mark.parametrize(
    ("code", "name", "county_code"),
    [
        ("0114", "Upplands Väsby", "01"),
        ("0139", "Upplands-Bro", "01"),
        ("0180", "Stockholm", "01"),
        ("0980", "Gotland", "09"),
        ("1280", "Malmö", "12"),
        ("1480", "Göteborg", "14"),
        ("2023", "Malung-Sälen", "20"),
        ("2584", "Kiruna", "25"),
    ],
)
def test_known_municipalities(municipalities, code, name, county_code):
    by_code = {m.code: m for m in municipalities}
    assert by_code[code].name == name
    assert by_code[code].county_code == county_code


def test_municipalities_are_frozen_and_cached(municipalities):
    with pytest.raises(dataclasses.FrozenInstanceError):
        municipalities[0].name = "x"  # type: ignore[misc]
    again = load_municipalities()
    assert again == municipalities
    assert again is not municipalities  # a fresh list: callers may not spoil the cache
    assert again[0] is municipalities[0]


# --- SNI 2007 ---------------------------------------------------------------------------------


def test_sni_counts_per_level(sni):
    levels = Counter(c.level for c in sni)
    assert set(levels) == set(SNI_LEVELS)
    assert levels["section"] == 21
    assert levels["division"] == 88
    assert levels["group"] == 272
    assert levels["class"] == 615
    assert levels["subclass"] >= 615


def test_sni_codes_are_unique(sni):
    assert len({c.code for c in sni}) == len(sni)


def test_sections_are_a_to_u(sni):
    assert [c.code for c in sni if c.level == "section"] == [chr(o) for o in range(ord("A"), ord("U") + 1)]
    assert all(c.parent == "" for c in sni if c.level == "section")


def test_codes_match_their_level(sni):
    for c in sni:
        assert len(c.code) == SNI_LEVELS[c.level], c
        if c.level == "section":
            assert c.code.isalpha() and c.code.isupper(), c
        else:
            assert c.code.isdigit(), c
        assert c.name_sv.strip() and c.name_en.strip(), c
        assert normalise_sni_code(c.code) == c.code


def test_every_non_section_has_a_parent_one_level_up(sni, sni_by_code):
    for c in sni:
        if c.level == "section":
            continue
        parent = sni_by_code.get(c.parent)
        assert parent is not None, c
        assert parent.level == LEVEL_ABOVE[c.level], c
        if c.level != "division":
            assert c.code.startswith(parent.code), c


def test_every_node_above_subclass_has_children(sni):
    with_children = {c.parent for c in sni}
    for c in sni:
        if c.level != "subclass":
            assert c.code in with_children, c


def test_every_class_has_at_least_one_subclass(sni):
    classes = {c.code for c in sni if c.level == "class"}
    covered = {c.parent for c in sni if c.level == "subclass"}
    assert classes <= covered
    assert classes == covered


def test_unsplit_classes_have_the_zero_subclass(sni):
    subclasses_of = Counter(c.parent for c in sni if c.level == "subclass")
    codes = {c.code for c in sni}
    for c in sni:
        if c.level == "class" and subclasses_of[c.code] == 1:
            assert c.code + "0" in codes, c


def test_manufacturing_divisions_10_to_33_are_in_section_c(sni_by_code):
    for number in range(10, 34):
        division = sni_by_code[f"{number:02d}"]
        assert division.level == "division"
        assert division.parent == "C"
    assert [c.code for c in sni_by_code.values() if c.parent == "C"] == [f"{n}" for n in range(10, 34)]


def test_divisions_per_section(sni):
    per_section = Counter(c.parent for c in sni if c.level == "division")
    assert per_section == {
        "A": 3, "B": 5, "C": 24, "D": 1, "E": 4, "F": 3, "G": 3, "H": 5, "I": 2, "J": 6, "K": 3,
        "L": 1, "M": 7, "N": 6, "O": 1, "P": 1, "Q": 3, "R": 4, "S": 3, "T": 2, "U": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "level", "parent", "name_sv"),
    [
        ("25", "division", "C", "Tillverkning av metallvaror utom maskiner och apparater"),
        ("256", "group", "25", None),
        ("2562", "class", "256", "Metallegoarbeten"),
        ("25620", "subclass", "2562", "Metallegoarbeten"),
        ("62010", "subclass", "6201", "Dataprogrammering"),
        ("41200", "subclass", "4120", None),
        ("16101", "subclass", "1610", "Sågning av trä"),
        ("10710", "subclass", "1071", None),
    ],
)
def test_known_codes(sni_by_code, code, level, parent, name_sv):
    c = sni_by_code[code]
    assert (c.level, c.parent) == (level, parent)
    if name_sv is not None:
        assert c.name_sv == name_sv


def test_sni_codes_are_frozen_and_cached(sni):
    with pytest.raises(dataclasses.FrozenInstanceError):
        sni[0].code = "Z"  # type: ignore[misc]
    again = load_sni_codes()
    assert again == sni
    assert again is not sni


# --- normalise_sni_code -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25.620", "25620"),
        ("25620", "25620"),
        (" 25.62 ", "2562"),
        ("25.62", "2562"),
        ("2562", "2562"),
        ("25.6", "256"),
        ("256", "256"),
        ("25", "25"),
        ("01.110", "01110"),
        ("C", "C"),
        (" c ", "C"),
        ("\t62.010\n", "62010"),
    ],
)
def test_normalise_sni_code(text, expected):
    assert normalise_sni_code(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "2", "25.", ".25", "25..6", "2.5620", "256201", "25.6201", "25-62", "25 62", "AB", "V", "Z",
     "C1", "sni", "٢٥٦٢"],
)  # fmt: skip
def test_normalise_sni_code_rejects_malformed_input(text):
    with pytest.raises(ValueError, match="SNI code"):
        normalise_sni_code(text)


def test_normalise_sni_code_does_not_check_existence():
    assert normalise_sni_code("99.999") == "99999"


def test_normalise_sni_code_rejects_non_text():
    with pytest.raises(ValueError, match="SNI code"):
        normalise_sni_code(25620)  # type: ignore[arg-type]
