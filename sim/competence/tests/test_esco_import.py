"""Reading ESCO CSV files (sim/competence/esco_import.py): headings, row checks, encodings, language."""

from __future__ import annotations

import pytest
from django.utils import translation

from sim.companies.importer import ImportFileError
from sim.competence import esco_import
from sim.competence.esco_import import (
    ConceptReader,
    RelationReader,
    TaxonomyImportResult,
    open_reader,
    resolve_language,
)

from .esco_files import (
    ISCO,
    OCC,
    OCCUPATION_COLUMNS,
    SKILL,
    SKILL_COLUMNS,
    occupation_row,
    skill_row,
    welders_sv,
    write_csv,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source language), whatever the default language."""
    with translation.override("en"):
        yield


def read_concepts(path, kind="occupation"):
    result = TaxonomyImportResult(kind=kind)
    spool = ConceptReader(open_reader(path), result, None, kind=kind).read()
    rows = [row for batch in spool.batches() for row in esco_import.concepts_from_batch(batch)]
    spool.close()
    return result, rows


def messages(result):
    return [(e.row, e.column, e.message) for e in result.errors]


def test_reads_an_esco_occupation_file(tmp_path):
    result, rows = read_concepts(welders_sv(tmp_path))
    assert result.ok and result.rows == 2
    first, second = rows
    assert (first.row, first.uri, first.preferred) == (2, OCC + "welder-1", "svetsare")
    assert first.alt == ["MIG/MAG-svetsare", "TIG-svetsare", "svetsare, stål"]  # one label a line
    assert first.description == "Svetsare fogar metall."
    assert second.row == 3 and second.alt == ["CNC operatör", "cnc-maskinoperatör"]


def test_other_columns_are_ignored_and_description_is_optional(tmp_path):
    path = tmp_path / "skills_en.csv"
    path.write_text("preferredLabel,foo,conceptUri,altLabels\nwelding,bar," + SKILL + "s1,\"MIG welding\nTIG welding\"\n",
                    encoding="utf-8")
    result, rows = read_concepts(path, "skill")
    assert result.ok
    assert rows[0].alt == ["MIG welding", "TIG welding"]
    assert rows[0].description is None  # no column: the stored description is kept


def test_semicolon_and_bom_are_accepted(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_bytes("\ufeffconceptUri;preferredLabel;altLabels\n".encode() + f"{OCC}x;plåtslagare;\n".encode())
    result, rows = read_concepts(path)
    assert result.ok and rows[0].preferred == "plåtslagare"


def test_missing_column_is_fatal_and_named(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_text(f"conceptUri,altLabels\n{OCC}x,a\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="Required column missing: preferredLabel") as info:
        read_concepts(path)
    assert info.value.row == 1


def test_duplicate_column_is_fatal(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_text(f"conceptUri,preferredLabel,altLabels,preferredLabel\n{OCC}x,a,,b\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="appears twice"):
        read_concepts(path)


def test_empty_files_are_refused(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_text("conceptUri,preferredLabel,altLabels\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="no rows"):
        read_concepts(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(ImportFileError, match="empty"):
        read_concepts(path)


def test_row_errors_name_row_and_column(tmp_path):
    path = write_csv(tmp_path / "occupations_sv.csv", OCCUPATION_COLUMNS, [
        occupation_row(OCC + "ok", "svetsare"),
        occupation_row("not a uri", "plåtslagare"),
        occupation_row(OCC + "empty", "   "),
        occupation_row(SKILL + "s1", "svetsning"),
        occupation_row(OCC + "ok", "svetsare igen"),
        occupation_row(OCC + "group", "svetsare", conceptType="KnowledgeSkillCompetence"),
        occupation_row(OCC + "odd", "x", conceptType="Something"),
        occupation_row(OCC + "ctl", "svets\x07are"),
    ])
    result, rows = read_concepts(path)
    assert [r.uri for r in rows] == [OCC + "ok"]
    assert result.invalid_rows == 7
    found = messages(result)
    assert (3, "conceptUri", "The URI contains spaces or control characters: not a uri") in found
    assert (4, "preferredLabel", "The preferred label is missing.") in found
    assert any(row == 5 and column == "conceptUri" and "ESCO skill URI, but occupation" in message for row, column, message in found)
    assert (6, "conceptUri", f"The URI {OCC}ok is already on row 2.") in found
    assert any(row == 7 and column == "conceptType" and "is a skill" in message for row, column, message in found)
    assert (8, "conceptType", "Unknown concept type: Something") in found
    assert any(row == 9 and column == "preferredLabel" and "control characters" in message for row, column, message in found)


def test_isco_groups_are_occupations(tmp_path):
    path = write_csv(tmp_path / "ISCOGroups_sv.csv", OCCUPATION_COLUMNS, [
        occupation_row(ISCO + "C7212", "Svetsare och gasskärare", conceptType="ISCOGroup"),
    ])
    result, rows = read_concepts(path)
    assert result.ok and rows[0].uri == ISCO + "C7212"


def test_a_skill_file_imported_as_occupations_is_refused_row_by_row(tmp_path):
    path = write_csv(tmp_path / "skills_sv.csv", SKILL_COLUMNS, [skill_row(SKILL + "a", "svetsa")])
    result, _rows = read_concepts(path, "occupation")
    assert not result.ok
    columns = {column for _row, column, _message in messages(result)}
    assert columns == {"conceptUri", "conceptType"}


def test_a_row_with_more_cells_than_headings(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_text(f"conceptUri,preferredLabel,altLabels\n{OCC}a,svetsare,,extra\n", encoding="utf-8")
    result, _rows = read_concepts(path)
    assert messages(result)[0][0] == 2 and "more cells" in messages(result)[0][2]


def test_latin1_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "occupations_sv.csv"
    path.write_bytes(f"conceptUri,preferredLabel,altLabels\n{OCC}a,svetsare,\n{OCC}b,".encode() + "plåtslagare,\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="Line 3 has a character that is not UTF-8") as info:
        open_reader(path)
    assert "CSV UTF-8" in info.value.message


def test_late_encoding_error_names_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.companies.importer.SAMPLE_SIZE", 64)
    path = tmp_path / "occupations_sv.csv"
    good = "".join(f"{OCC}{n},svetsare {n},\n" for n in range(10))
    path.write_bytes(f"conceptUri,preferredLabel,altLabels\n{good}".encode() + f"{OCC}z,".encode() + "plåt,\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="Line 12 has a character that is not UTF-8"):
        read_concepts(path)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 1024])
def test_the_bad_line_is_found_across_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(esco_import, "SCAN_CHUNK", chunk)
    path = tmp_path / "x.csv"
    path.write_bytes("a,ö\nb,€ä\n".encode() + b"c,\xe9\n")
    reader = type("Reader", (), {"_open_binary": lambda self: open(path, "rb")})()  # noqa: SIM115 - closed by the caller
    assert esco_import._first_bad_line(reader) == 3
    path.write_bytes("a,ö\nb,€ä\n".encode())
    assert esco_import._first_bad_line(reader) is None
    path.write_bytes(b"a\nb\xc3")  # a character cut off by the end of the file
    assert esco_import._first_bad_line(reader) == 2


def test_workbooks_are_refused(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["conceptUri", "preferredLabel", "altLabels"])
    path = tmp_path / "occupations_sv.xlsx"
    workbook.save(path)
    with pytest.raises(ImportFileError, match="CSV files"):
        open_reader(path)


def test_relations_file(tmp_path):
    path = tmp_path / "broaderRelationsOccPillar.csv"
    path.write_text(
        "conceptType,conceptUri,broaderType,broaderUri\n"
        f"Occupation,{OCC}a,ISCOGroup,{ISCO}C7212\n"
        f"Occupation,{OCC}a,ISCOGroup,{ISCO}C7212\n"
        f"Occupation,{OCC}b,Occupation,{OCC}b\n"
        f"Occupation,{OCC}c,KnowledgeSkillCompetence,{SKILL}s\n"
        f"Occupation,{OCC}d,ISCOGroup,nonsense\n",
        encoding="utf-8",
    )
    result = TaxonomyImportResult(format=esco_import.ESCO_BROADER)
    spool = RelationReader(open_reader(path), result, None).read()
    rows = [r for batch in spool.batches() for r in esco_import.relations_from_batch(batch)]
    spool.close()
    assert [(r.row, r.uri, r.broader) for r in rows] == [(2, OCC + "a", ISCO + "C7212")]
    found = messages(result)
    assert (3, "conceptUri", "The same relation is already on row 2.") in found
    assert (4, "broaderUri", "A concept cannot be broader than itself.") in found
    assert (5, "broaderUri", "A occupation cannot have a skill as its broader concept.") in found
    assert any(row == 6 and column == "broaderUri" for row, column, _m in found)


@pytest.mark.parametrize("name,given,expected", [
    ("occupations_sv.csv", None, "sv"), ("skills_en.csv", None, "en"), ("skills.csv", None, "sv"),
    ("skills_en.csv", "sv", "sv"), ("x.csv", "EN", "en"),
])
def test_language(name, given, expected):
    assert resolve_language(name, given) == expected


def test_other_languages_are_refused():
    with pytest.raises(ImportFileError, match="not “de”"):
        resolve_language("skills.csv", "de")
    with pytest.raises(ImportFileError, match="“fi”"):
        resolve_language("occupations_fi.csv", None)
