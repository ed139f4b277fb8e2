"""Importing education offerings from CSV and XLSX: strict, row-level errors, all or nothing."""

from __future__ import annotations

import io

import pytest

from sim.competence.importing import import_offerings
from sim.competence.models import EducationOffering
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import provider_with_staff
from sim.core.models import AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english


@pytest.fixture
def provider(db):
    return provider_with_staff(None)


def _csv(text: str, name: str = "offerings.csv") -> io.BytesIO:
    stream = io.BytesIO(text.encode("utf-8"))
    stream.name = name
    return stream


def _run(source, provider, make_user, **kwargs):
    return import_offerings(source, provider=provider, actor=make_user(Role.ADVISOR), **kwargs)


def test_good_csv_creates_then_updates(provider, make_user, concepts):
    text = (
        "Namn;Typ;Kommunkod;Distans;Startdatum;Veckor;Platser;Beskrivning;Webbplats;Begrepp\n"
        f"Svetsutbildning;komvux;2380;nej;2027-01-10, 2026-08-20;20;12;MIG/MAG;https://example.se/svets;{concepts['welder'].uri}\n"
        f"CNC på distans;Yrkeshögskola;;ja;;40;;;;{concepts['cnc'].uri} {concepts['group'].uri}\n"
    )
    result = _run(_csv(text), provider, make_user)
    assert result.ok and (result.created, result.updated, result.written) == (2, 0, True)
    weld = EducationOffering.objects.get(name="Svetsutbildning")
    assert (weld.municipality_id, weld.start_dates, weld.length_weeks, weld.seats) == ("2380", ["2026-08-20", "2027-01-10"], 20, 12)
    remote = EducationOffering.objects.get(name="CNC på distans")
    assert remote.kind == "yh" and remote.distance and remote.seats is None and remote.concepts.count() == 2
    assert AuditEvent.objects.filter(object_type="competence.educationoffering", source="import").count() == 2
    again = _run(_csv(text.replace(";12;", ";14;")), provider, make_user)
    assert (again.created, again.updated) == (0, 2)
    weld.refresh_from_db()
    assert weld.seats == 14


def test_xlsx(provider, make_user, concepts):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "kind", "municipality_code", "seats", "concepts"])
    sheet.append(["Automation", "yh", 2380, 30, concepts["plc"].uri])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.name = "offerings.xlsx"
    result = _run(buffer, provider, make_user)
    assert result.ok and result.file_format == "xlsx" and result.created == 1
    assert EducationOffering.objects.get().seats == 30


@pytest.mark.parametrize(("row", "column", "message"), [
    ("Svets;kurs;2380;;", "Typ", "is not a kind of offering"),
    (";komvux;2380;;", "Namn", "A name is required"),
    ("Svets;komvux;9999;;", "Kommunkod", "is not a municipality code"),
    ("Svets;komvux;;;", "Kommunkod", "Give a municipality code"),
    ("Svets;komvux;2380;snart;", "Startdatum", "is not a date"),
    ("Svets;komvux;2380;;tolv", "Platser", "is not a whole number"),
    ("Svets;komvux;2380;;-3", "Platser", "is not a whole number"),
])
def test_row_errors_name_row_column_and_why_and_write_nothing(provider, make_user, row, column, message):
    text = "Namn;Typ;Kommunkod;Startdatum;Platser\nBra kurs;komvux;2380;;10\n" + row + "\n"
    result = _run(_csv(text), provider, make_user)
    assert not result.ok and not result.written and result.created == 0
    error = result.errors[0]
    assert (error.row, error.column) == (3, column) and message in error.message
    assert not EducationOffering.objects.exists()


def test_unknown_concept_duplicate_row_and_bad_url(provider, make_user):
    text = ("namn;typ;kommunkod;begrepp;webbplats\n"
            "Svets;komvux;2380;https://example.org/nope;\nSvets;komvux;2380;;\nCNC;komvux;2380;;inte en adress\n")
    result = _run(_csv(text), provider, make_user)
    messages = [(e.row, e.column, e.message) for e in result.errors]
    assert (2, "begrepp", "Unknown concept “https://example.org/nope”.") in messages
    assert any(row == 3 and "also on row 2" in message for row, _c, message in messages)
    assert any(row == 4 and column == "webbplats" for row, column, _m in messages)
    assert not EducationOffering.objects.exists()


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty"),
    ("namn;kommunkod\nSvets;2380\n", "Missing column: typ"),
    ("namn;typ;namn\nA;yh;B\n", "appears twice"),
])
def test_file_errors(provider, make_user, content, message):
    result = _run(_csv(content), provider, make_user)
    assert result.fatal and message in result.errors[0].message
    assert not EducationOffering.objects.exists()


def test_dry_run_writes_nothing(provider, make_user):
    result = _run(_csv("namn;typ;distans\nSvets;komvux;ja\n"), provider, make_user, dry_run=True)
    assert result.ok and not result.written and not EducationOffering.objects.exists()
