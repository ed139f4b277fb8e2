"""Pure rules of the taxonomy (sim/competence/taxonomy.py): no database."""

from __future__ import annotations

import pytest
from django.utils import translation

from sim.competence import taxonomy
from sim.competence.taxonomy import (
    DEFAULT_NAMESPACE,
    DefaultTaxonomyError,
    TaxonomyValueError,
    ancestors_of,
    clean_label,
    default_uri,
    esco_uri_kind,
    find_cycle,
    label_key,
    language_from_filename,
    parse_uri,
    primary_path,
    read_default_taxonomy,
    roll_up_map,
    source_for_uri,
    split_labels,
)

ESCO_OCC = "http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
ESCO_SKILL = "http://data.europa.eu/esco/skill/2c1e4f15-0b55-4c1c-93a2-0e0ba5c8e2b0"
ISCO = "http://data.europa.eu/esco/isco/C7212"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source language), whatever the default language."""
    with translation.override("en"):
        yield


# --- URIs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri,kind", [
    (ESCO_OCC, "occupation"), (ISCO, "occupation"), (ESCO_SKILL, "skill"),
    (DEFAULT_NAMESPACE + "skill/plc-programming", "skill"), ("https://example.org/x/1", None),
])
def test_parse_uri_accepts_valid_uris(uri, kind):
    assert parse_uri(f"  {uri} ", kind) == uri


@pytest.mark.parametrize("value,fragment", [
    ("", "missing"),
    ("   ", "missing"),
    ("ftp://example.org/x", "Not a valid URI"),
    ("not a uri", "spaces"),
    ("http://localhost/x", "Not a valid URI"),
    ("https://example.org/", "no path"),
    ("https://example.org/" + "a" * 300, "longer than 255"),
    ("http://data.europa.eu/esco/resource/123", "Not an ESCO occupation"),
    ("http://data.europa.eu/esco/skill", "Not an ESCO occupation"),
])
def test_parse_uri_refuses_with_reason(value, fragment):
    with pytest.raises(TaxonomyValueError, match=fragment):
        parse_uri(value)


def test_parse_uri_refuses_an_esco_uri_of_the_other_kind():
    with pytest.raises(TaxonomyValueError, match="ESCO skill URI, but occupation concepts"):
        parse_uri(ESCO_SKILL, "occupation")
    with pytest.raises(TaxonomyValueError, match="ESCO occupation URI, but skill concepts"):
        parse_uri(ISCO, "skill")


def test_esco_uri_kind_and_source():
    assert esco_uri_kind(ESCO_OCC) == "occupation"
    assert esco_uri_kind(ISCO) == "occupation"
    assert esco_uri_kind(ESCO_SKILL) == "skill"
    assert esco_uri_kind(DEFAULT_NAMESPACE + "skill/x") is None
    assert source_for_uri(ESCO_SKILL) == "esco"
    assert source_for_uri(DEFAULT_NAMESPACE + "skill/x") == "default"


def test_default_uri():
    assert default_uri("skill", "plc-programming") == DEFAULT_NAMESPACE + "skill/plc-programming"
    with pytest.raises(TaxonomyValueError):
        default_uri("skill", "PLC programming")
    with pytest.raises(TaxonomyValueError):
        default_uri("tool", "x")


# --- labels ----------------------------------------------------------------------------------


def test_clean_label_collapses_space_and_normalises():
    assert clean_label("  CNC-operatör \t  fräs ") == "CNC-operatör fräs"
    assert clean_label("Svetsare\u00a0MIG/MAG") == "Svetsare MIG/MAG"
    assert clean_label("Plåtslagare".replace("å", "a\u030a")) == "Plåtslagare"  # NFC
    assert clean_label(None) == ""


def test_clean_label_refuses_control_characters_and_overlong_labels():
    with pytest.raises(TaxonomyValueError, match="control"):
        clean_label("svets\x07are")
    with pytest.raises(TaxonomyValueError, match="longer than 255"):
        clean_label("x" * 256)


def test_split_labels_by_line_and_by_bar():
    cell = "MIG-svetsare\r\nMAG-svetsare\n\n  mig-svetsare \nsvetsare MIG/MAG"
    assert split_labels(cell) == ["MIG-svetsare", "MAG-svetsare", "svetsare MIG/MAG"]
    assert split_labels("a|b| A |c", "|") == ["a", "b", "c"]
    assert split_labels("Svetsare|svetsare MIG/MAG", "|", exclude=["SVETSARE"]) == ["svetsare MIG/MAG"]
    assert split_labels("") == []


def test_label_key_ignores_case_and_spacing():
    assert label_key("  CNC-Operatör   Svarv ") == label_key("cnc-operatör svarv")


@pytest.mark.parametrize("name,language", [
    ("occupations_sv.csv", "sv"), ("skills_en.csv", "en"), ("/tmp/x/ISCOGroups_SV.CSV", "sv"),
    ("skills_pt-br.csv", "pt-br"), ("skills.csv", None), ("occupations_sv", "sv"),
])
def test_language_from_filename(name, language):
    assert language_from_filename(name) == language


# --- graph -----------------------------------------------------------------------------------


def test_find_cycle():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    cycle = find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert find_cycle({"a": ["a"]}) == ["a", "a"]


def test_ancestors_nearest_first_and_safe_on_cycles():
    graph = {"mig": ["weld"], "weld": ["area"], "tig": ["weld"], "area": []}
    assert ancestors_of("mig", graph) == ["weld", "area"]
    assert ancestors_of("area", graph) == []
    assert ancestors_of("a", {"a": ["b"], "b": ["a"]}) == ["b"]


def test_primary_path_and_roll_up():
    graph = {"mig": ["weld", "zz"], "weld": ["area"], "zz": []}
    assert primary_path("mig", graph) == ["area", "weld", "mig"]
    assert roll_up_map(["mig", "weld", "area", "other"], 0, graph) == {
        "mig": "area", "weld": "area", "area": "area", "other": "other",
    }
    assert roll_up_map(["mig"], 1, graph) == {"mig": "weld"}
    assert roll_up_map(["mig"], 5, graph) == {"mig": "mig"}
    with pytest.raises(ValueError):
        roll_up_map(["mig"], -1, graph)


# --- our file format -------------------------------------------------------------------------

HEADER = "uri,preferred_label_sv,preferred_label_en,alt_labels_sv,alt_labels_en,description_sv,description_en,broader\n"


def _files(tmp_path, occupations: str, skills: str = ""):
    (tmp_path / "occupations.csv").write_text(HEADER + occupations, encoding="utf-8")
    (tmp_path / "skills.csv").write_text(HEADER + skills, encoding="utf-8")
    return {"occupation": tmp_path / "occupations.csv", "skill": tmp_path / "skills.csv"}


def test_read_default_taxonomy_parses_lists(tmp_path):
    files = _files(
        tmp_path,
        f"{ISCO},Svetsare,Welders,,,,,\n"
        f"{DEFAULT_NAMESPACE}occupation/mig,Svetsare MIG/MAG,MIG/MAG welder,MIG-svetsare|MAG-svetsare|Svetsare MIG/MAG,"
        f"MAG welder,\"Svetsar, med tråd.\",Welds.,{ISCO}\n",
    )
    concepts = read_default_taxonomy(files)
    assert [c.uri for c in concepts] == [ISCO, f"{DEFAULT_NAMESPACE}occupation/mig"]
    mig = concepts[1]
    assert mig.alt_labels_sv == ["MIG-svetsare", "MAG-svetsare"]  # the preferred label is not repeated
    assert mig.alt_labels_en == ["MAG welder"]
    assert mig.description_sv == "Svetsar, med tråd."
    assert mig.broader == [ISCO]
    assert mig.source == "default" and concepts[0].source == "esco"
    assert mig.fields()["kind"] == "occupation"


@pytest.mark.parametrize("occupations,message", [
    (f"{ISCO},A,A,,,,,\n{ISCO},B,B,,,,,\n", "twice"),
    (f"{ISCO},A,A,,,,,{DEFAULT_NAMESPACE}occupation/missing\n", "not in the default taxonomy"),
    (f"{ESCO_SKILL},A,A,,,,,\n", "row 2"),
    (f"{DEFAULT_NAMESPACE}occupation/a,A,A,,,,,{DEFAULT_NAMESPACE}occupation/b\n"
     f"{DEFAULT_NAMESPACE}occupation/b,B,B,,,,,{DEFAULT_NAMESPACE}occupation/a\n", "cycle"),
])
def test_read_default_taxonomy_refuses_inconsistent_files(tmp_path, occupations, message):
    with pytest.raises(DefaultTaxonomyError, match=message):
        read_default_taxonomy(_files(tmp_path, occupations))


def test_read_default_taxonomy_requires_the_columns(tmp_path):
    (tmp_path / "occupations.csv").write_text("uri,preferred_label_sv\nhttps://x.org/a,A\n", encoding="utf-8")
    with pytest.raises(DefaultTaxonomyError, match="missing columns"):
        read_default_taxonomy({"occupation": tmp_path / "occupations.csv"})


def test_kinds_and_languages_are_what_the_model_stores():
    from sim.competence.models import ConceptKind

    assert set(taxonomy.KINDS) == set(ConceptKind.values)
    assert taxonomy.LANGUAGES == ("sv", "en")
