"""Company import: ``sim import_companies`` and the web upload → preview → confirm.

The files in ``import_corpus/`` are small CSV files (good ones in several encodings and with
several delimiters, and one bad file per kind of problem); workbooks are built here with openpyxl.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from sim.companies import importer, services
from sim.companies.importer import import_companies, normalise_heading, parse_decimal
from sim.companies.models import Company, CompanyStatus, KeyFigures
from sim.companies.tests.factories import (
    CompanyFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
    make_org_number,
)
from sim.core.audit import build_event, snapshot
from sim.core.models import AuditEvent
from sim.core.roles import Role

CORPUS = Path(__file__).parent / "import_corpus"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source language), whatever the default language."""
    with translation.override("en"):
        yield
HEADER = "organisationsnummer;namn;kommunkod;sni;anställda;omsättning;balansomslutning;räkenskapsår\n"


def run(path, *args) -> tuple[int, str, str]:
    """Run the command as the CLI would: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_companies", str(path), *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def run_json(path, *args) -> tuple[int, dict]:
    code, out, _err = run(path, "--json", *args)
    return code, json.loads(out)


def write_csv(tmp_path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def nothing_written() -> bool:
    return not Company.objects.exists() and not KeyFigures.objects.exists() and not AuditEvent.objects.exists()


# --- good files ------------------------------------------------------------------------------


GOOD_FILES = [
    "good_utf8_semicolon.csv",
    "good_utf8_bom_comma.csv",
    "good_cp1252_tab.csv",
    "good_latin1_semicolon.csv",
    "good_english_headers.csv",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_files_in_every_encoding_and_delimiter(name):
    code, data = run_json(CORPUS / name)
    assert code == 0, data
    assert data == {"created": 3, "updated": 0, "unchanged": 0, "errors": [], "warnings": [], "dry_run": False}

    company = Company.objects.get(org_number="5560360793")
    assert company.name == "Åkerströms Mekaniska AB"
    assert company.municipality_id == "2380"
    assert company.sni_primary == "2562"  # "25.62" is the class 25.62
    assert company.sni_secondary == ["28410", "62010"]
    assert company.legal_form == "ab"
    assert (company.street_address, company.postal_code, company.postal_city) == ("Storgatan 1", "831 30", "Östersund")
    assert company.website == "https://www.akerstrom.se"
    assert company.phone == "063-123456"
    assert company.email == "info@akerstrom.se"
    assert company.status == CompanyStatus.ACTIVE
    assert company.search_text == services.search_text_for(company.name, company.org_number)
    figures = company.key_figures.get()
    assert figures.fiscal_year == 2024
    assert figures.staff_awu == Decimal("12.5")
    assert figures.turnover_sek == Decimal("1234567.50")
    assert figures.balance_sheet_sek == Decimal("800000")
    assert figures.source == "Årsredovisning"
    assert figures.estimated is False
    assert company.size_class == "small"
    assert company.size_class_year == 2024

    second = Company.objects.get(org_number="5561234567")
    assert second.name == "Björk & Söner Trä AB"
    assert second.municipality_id == "0180"
    assert second.sni_primary == "C"
    assert second.status == CompanyStatus.PROSPECT  # the default
    assert not second.key_figures.exists()
    assert second.size_class == ""

    region = Company.objects.get(org_number="2120000019")
    assert region.is_public_body
    assert region.legal_form == "pub"  # from the organisation number
    assert region.key_figures.get().estimated is True
    assert region.size_class == "large"


@pytest.mark.django_db
def test_xlsx_first_sheet_with_numbers_as_numbers(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Företag"
    sheet.append(["Organisationsnummer", "Namn", "Kommunkod", "SNI", "Anställda", "Omsättning", "Räkenskapsår", "Uppskattad"])
    sheet.append([5560360793, "Åkerströms Mekaniska AB", 180, 25620, 12.5, 1234567.5, 2024, True])
    sheet.append(["556123-4567", "Björk AB", "2380", "25.62", None, None, None, None])
    sheet.append([None, None, None, None, None, None, None, None])  # a blank row is skipped
    sheet.append([5598765435, "Tredje AB", "2380", "25620", "3", "1 000 000,50", "2023", "nej"])
    other = workbook.create_sheet("Other")
    other.append(["not", "read"])
    path = tmp_path / "companies.xlsx"
    workbook.save(path)

    code, data = run_json(path)
    assert code == 0, data
    assert data["created"] == 3
    company = Company.objects.get(org_number="5560360793")
    assert company.municipality_id == "0180"  # leading zero restored
    assert company.sni_primary == "25620"
    figures = company.key_figures.get()
    assert (figures.staff_awu, figures.turnover_sek, figures.fiscal_year, figures.estimated) == (
        Decimal("12.5"), Decimal("1234567.5"), 2024, True,
    )
    assert Company.objects.get(org_number="5598765435").key_figures.get().turnover_sek == Decimal("1000000.50")


@pytest.mark.django_db
def test_xlsx_row_numbers_are_sheet_rows(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["org_number", "name", "municipality_code"])
    sheet.append(["5560360793", "Ett AB", "2380"])
    sheet.append([])
    sheet.append(["5561234567", "Två AB", "9999"])
    path = tmp_path / "rows.xlsx"
    workbook.save(path)
    code, data = run_json(path)
    assert code == 1
    assert data["errors"] == [{"row": 4, "column": "municipality_code", "message": "9999 is not a Swedish municipality code."}]
    assert nothing_written()


# --- bad rows --------------------------------------------------------------------------------


BAD_ROWS = [
    ("bad_check_digit.csv", 3, "organisationsnummer", "check digit"),
    ("unknown_municipality.csv", 3, "kommunkod", "not a Swedish municipality code"),
    ("unknown_sni.csv", 3, "sni", "not a code in SNI 2007"),
    ("negative_figure.csv", 3, "omsättning", "Cannot be negative"),
    ("duplicate_org_number.csv", 4, "organisationsnummer", "also on row 2"),
    ("unreadable_number.csv", 3, "anställda", "is not a number"),
    ("missing_fiscal_year.csv", 3, "räkenskapsår", "fiscal year"),
    ("bad_fiscal_year.csv", 3, "räkenskapsår", "between 1900 and 2100"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "row", "column", "message"), BAD_ROWS)
def test_an_invalid_row_fails_the_whole_file(name, row, column, message):
    code, data = run_json(CORPUS / name)
    assert code == 1
    assert len(data["errors"]) == 1, data["errors"]
    error = data["errors"][0]
    assert (error["row"], error["column"]) == (row, column)
    assert message in error["message"]
    assert (data["created"], data["updated"], data["unchanged"]) == (0, 0, 0)
    assert nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "row", "column", "message"), BAD_ROWS)
def test_skip_invalid_imports_the_valid_rows(name, row, column, message):
    code, data = run_json(CORPUS / name, "--skip-invalid")
    assert code == 0
    assert data["created"] == (2 if name == "duplicate_org_number.csv" else 1)
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(row, column)]
    assert Company.objects.filter(org_number="5560360793", name="Åkerströms Mekaniska AB").exists()


@pytest.mark.django_db
def test_every_error_of_a_row_is_listed_in_text_output(tmp_path):
    path = write_csv(tmp_path, HEADER + "556036-0794;;9999;99999;-1;abc;;3000\n")
    code, out, err = run(path)
    assert code == 1
    for expected in (
        "Row 2, column “organisationsnummer”: The check digit",
        "Row 2, column “namn”: A company needs a name.",
        "Row 2, column “kommunkod”:",
        "Row 2, column “sni”:",
        "Row 2, column “anställda”: Cannot be negative.",
        "Row 2, column “omsättning”:",
        "Row 2, column “räkenskapsår”: The fiscal year must be between 1900 and 2100.",
    ):
        assert expected in err
    assert "Traceback" not in err
    assert nothing_written()


@pytest.mark.django_db
def test_a_row_with_more_cells_than_headings_is_an_error(tmp_path):
    path = write_csv(tmp_path, "organisationsnummer,namn,anställda,räkenskapsår\n5560360793,Ett AB,12,5,2024\n")
    code, data = run_json(path)
    assert code == 1
    assert data["errors"][0]["row"] == 2
    assert "more cells than the heading row" in data["errors"][0]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("sni_sekundär", "28410, 99999", "99999 is not a code in SNI 2007"),
        ("sni_sekundär", "28410 x1", "is not an SNI code"),
        ("epost", "not-an-address", "is not an e-mail address"),
        ("webbplats", "http://", "is not a web address"),
        ("juridisk_form", "Kooperativ", "is not a legal form"),
        ("status", "sovande", "is not a status"),
        ("uppskattad", "kanske", "is not yes or no"),
        ("postnummer", "123456789012", "at most 10 characters"),
        ("anställda", "100000000", "too large"),
        ("räkenskapsår", "2024,5", "is not a year"),
    ],
)
def test_cell_validation(tmp_path, column, value, message):
    year = "" if column == "räkenskapsår" else "räkenskapsår;"
    path = write_csv(tmp_path, f"organisationsnummer;namn;{year}{column}\n5560360793;Ett AB;{year and '2024;'}\"{value}\"\n")
    code, data = run_json(path)
    assert code == 1
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(2, column)]
    assert message in data["errors"][0]["message"]


@pytest.mark.django_db
def test_extra_columns_and_other_spellings(tmp_path):
    path = write_csv(
        tmp_path,
        "Org nr;Företagsnamn;Kommun;SNI-kod;Juridisk form;Telefon;E-post;Hemsida;Status\n"
        "SE556036079301;Ett AB;Östersund;25.620;Aktiebolag;070-1234567;a@b.se;https://ett.se;alumn\n"
        "165598765435;Två HB;Härjedalen;C;HB;;;;prospekt\n",
    )
    code, data = run_json(path)
    assert code == 0, data
    one = Company.objects.get(org_number="5560360793")
    assert (one.municipality_id, one.sni_primary, one.legal_form, one.status) == ("2380", "25620", "ab", "alumni")
    assert (one.phone, one.email, one.website) == ("070-1234567", "a@b.se", "https://ett.se")
    two = Company.objects.get(org_number="5598765435")
    assert (two.municipality_id, two.legal_form, two.status) == ("2361", "hb", "prospect")


@pytest.mark.django_db
def test_utf16_with_bom(tmp_path):
    path = write_csv(tmp_path, "organisationsnummer\tnamn\n5560360793\tÅkerströms AB\n", encoding="utf-16")
    code, data = run_json(path)
    assert code == 0, data
    assert Company.objects.get().name == "Åkerströms AB"


@pytest.mark.django_db
def test_personal_identity_numbers_are_not_echoed(tmp_path):
    path = write_csv(tmp_path, "organisationsnummer;namn\n19121212-1213;Enskild firma\n")
    code, data = run_json(path)
    assert code == 1
    assert "1212" not in data["errors"][0]["message"]


# --- bad files -------------------------------------------------------------------------------


def _xlsx_with_empty_first_sheet(tmp_path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Tom"
    second = workbook.create_sheet("Data")
    second.append(["organisationsnummer", "namn"])
    second.append(["5560360793", "Ett AB"])
    path = tmp_path / "empty-first.xlsx"
    workbook.save(path)
    return path


BAD_FILES = [
    (lambda tmp: CORPUS / "empty.csv", "The file is empty."),
    (lambda tmp: CORPUS / "binary.csv", "binary data"),
    (lambda tmp: CORPUS / "header_only.csv", "no rows of companies"),
    (lambda tmp: CORPUS / "wrong_headers.csv", "Required column missing: “organisationsnummer”"),
    (lambda tmp: CORPUS / "corrupt.xlsx", "cannot be opened"),
    (_xlsx_with_empty_first_sheet, "The first sheet of the workbook (“Tom”) is empty"),
    (lambda tmp: tmp / "does-not-exist.csv", "File not found"),
    (lambda tmp: write_csv(tmp, "   \r\n\r\n  \n"), "The file is empty."),
    (lambda tmp: write_csv(tmp, "\ufeff", encoding="utf-8"), "The file is empty."),
    (lambda tmp: write_csv(tmp, "organisationsnummer;namn;org_nr\n5560360793;Ett AB;5560360793\n"), "both mean"),
    (lambda tmp: write_csv(tmp, "organisationsnummer;namn;anställda\n5560360793;Ett AB;3\n"), "no fiscal-year column"),
    (lambda tmp: write_csv(tmp, 'organisationsnummer;namn\n5560360793;"Ett AB\n' + "x" * 140_000 + "\n"), "cannot be read as CSV"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("make", "message"), BAD_FILES)
def test_a_file_that_is_not_a_table_gets_one_clear_message(tmp_path, make, message):
    path = make(tmp_path)
    code, data = run_json(path)
    assert code == 1
    assert len(data["errors"]) == 1
    assert message in data["errors"][0]["message"]
    assert nothing_written()
    code, out, err = run(path)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out


@pytest.mark.django_db
def test_old_excel_files_are_explained(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    code, data = run_json(path)
    assert code == 1
    assert ".xlsx" in data["errors"][0]["message"]


@pytest.mark.django_db
def test_missing_required_column_is_reported_on_the_heading_row():
    code, data = run_json(CORPUS / "wrong_headers.csv")
    assert data["errors"][0]["row"] == 1
    assert data["errors"][0]["column"] is None
    assert data["warnings"] == ["Column “telefonnummer2” is not recognised and was ignored."]  # "ort" is the city


# --- dry run, idempotency, updates -----------------------------------------------------------


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_reports_what_would_change():
    code, data = run_json(CORPUS / "good_utf8_semicolon.csv", "--dry-run")
    assert code == 0
    assert data["dry_run"] is True
    assert data["created"] == 3
    assert nothing_written()
    code, out, _err = run(CORPUS / "good_utf8_semicolon.csv", "--dry-run")
    assert code == 0
    assert "Dry run" in out


@pytest.mark.django_db
def test_dry_run_of_a_file_with_errors_exits_1():
    code, data = run_json(CORPUS / "unknown_sni.csv", "--dry-run")
    assert code == 1
    assert data["created"] == 1  # what would be created with --skip-invalid
    assert nothing_written()


@pytest.mark.django_db
def test_second_import_of_the_same_file_changes_nothing():
    code, first = run_json(CORPUS / "good_utf8_semicolon.csv")
    assert code == 0
    events = AuditEvent.objects.count()
    updated_at = dict(Company.objects.values_list("org_number", "updated_at"))
    for name in GOOD_FILES:  # the same content in any encoding, delimiter or heading language
        code, again = run_json(CORPUS / name)
        assert code == 0
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3), name
    assert AuditEvent.objects.count() == events
    assert dict(Company.objects.values_list("org_number", "updated_at")) == updated_at


@pytest.mark.django_db
def test_existing_companies_are_updated_and_audited(tmp_path):
    company = CompanyFactory(org_number="5560360793", name="Gammalt Namn AB", municipality_id="0180", status="prospect")
    untouched = CompanyFactory(org_number="5561234567", name="Björk AB", municipality_id="2380")
    KeyFiguresFactory(company=company, fiscal_year=2024, staff_awu=Decimal("40"), turnover_sek=Decimal("1000"),
                      balance_sheet_sek=Decimal("2000"))
    path = write_csv(
        tmp_path,
        HEADER
        + "556036-0793;Nytt Namn AB;2380;25620;12;5000000;;2024\n"
        + "5561234567;Björk AB;;;;;;\n"  # empty cells leave the register unchanged
        + "5598765435;Ny AB;2380;25620;;;;\n",
    )
    code, data = run_json(path)
    assert code == 0, data
    assert (data["created"], data["updated"], data["unchanged"]) == (1, 1, 1)
    company.refresh_from_db()
    assert company.name == "Nytt Namn AB"
    assert company.municipality_id == "2380"
    assert company.search_text == services.search_text_for("Nytt Namn AB", "5560360793")
    figures = company.key_figures.get(fiscal_year=2024)
    assert figures.staff_awu == Decimal("12")
    assert figures.turnover_sek == Decimal("5000000")
    assert figures.balance_sheet_sek == Decimal("2000")  # not in the row: kept
    untouched.refresh_from_db()
    assert untouched.municipality_id == "2380"

    update = AuditEvent.objects.get(object_type="companies.company", object_id=str(company.pk), action="update")
    assert update.source == AuditEvent.Source.CLI
    assert update.actor is None
    assert update.changes == {
        "name": {"before": "Gammalt Namn AB", "after": "Nytt Namn AB"},
        "municipality": {"before": "0180", "after": "2380"},
    }
    figures_event = AuditEvent.objects.get(object_type="companies.keyfigures", action="update")
    assert figures_event.scope_id == str(company.pk)
    assert figures_event.changes == {
        "staff_awu": {"before": "40", "after": "12"},
        "turnover_sek": {"before": "1000", "after": "5000000"},
    }
    assert not AuditEvent.objects.filter(object_id=str(untouched.pk), object_type="companies.company").exists()
    # The SME class follows the new figures (12 AWU: small).
    assert (company.size_class, company.size_class_year) == ("small", 2024)


@pytest.mark.django_db
def test_audit_events_of_created_rows_match_build_event(tmp_path):
    code, _data = run_json(CORPUS / "good_utf8_semicolon.csv")
    assert code == 0
    assert AuditEvent.objects.count() == 3 + 2  # three companies, two key-figures rows
    for company in Company.objects.all():
        event = AuditEvent.objects.get(object_type="companies.company", object_id=str(company.pk))
        expected = build_event(None, "create", company, after=snapshot(company), source="cli")
        expected_changes = dict(expected.changes)
        # The size class is set with the figures in the same write (the service sets it just after).
        for field in ("size_class", "size_class_year"):
            expected_changes.pop(field, None)
            event.changes.pop(field, None)
        assert event.changes == expected_changes
        for field in ("action", "source", "object_type", "object_repr", "scope_type", "scope_id", "actor_label"):
            assert getattr(event, field) == getattr(expected, field), field
        assert event.message == "Imported from good_utf8_semicolon.csv"
    for figures in KeyFigures.objects.select_related("company"):
        event = AuditEvent.objects.get(object_type="companies.keyfigures", object_id=str(figures.pk))
        expected = build_event(None, "create", figures, after=snapshot(figures), scope=figures.company, source="cli")
        assert event.changes == expected.changes
        assert (event.object_repr, event.scope_type, event.scope_id) == (
            expected.object_repr, expected.scope_type, expected.scope_id,
        )


@pytest.mark.django_db
def test_creation_json_is_what_json_field_stores():
    table = importer._Table(Company)
    rows = [
        {"org_number": "5560360793", "name": "Åkerströms \"Mek\" AB", "sni_secondary": ["28410"], "size_class_year": 2024},
        {"org_number": "5561234567", "name": "Björk AB", "is_public_body": True, "municipality_id": "0180"},
        {"org_number": "5561234567", "name": "Björk AB", "is_public_body": True, "municipality_id": "0180"},  # cached
    ]
    for row in rows:
        assert table.creation_json(row) == json.dumps(table.creation_changes(row))
    figures = importer._Table(KeyFigures)
    row = {"company_id": 7, "fiscal_year": 2024, "staff_awu": Decimal("12.50"), "turnover_sek": Decimal("1000.00"),
           "estimated": True}
    assert json.loads(figures.creation_json(row)) == {
        "company": {"before": None, "after": 7},
        "fiscal_year": {"before": None, "after": 2024},
        "staff_awu": {"before": None, "after": "12.5"},
        "turnover_sek": {"before": None, "after": "1000"},
        "source": {"before": None, "after": ""},
        "estimated": {"before": None, "after": True},
    }


@pytest.mark.django_db
def test_the_acting_user_is_recorded(make_user):
    user = make_user(Role.ADVISOR)
    code, _out, _err = run(CORPUS / "good_utf8_semicolon.csv", "--user", user.username)
    assert code == 0
    assert set(AuditEvent.objects.values_list("actor_id", flat=True)) == {user.pk}
    assert set(Company.objects.values_list("created_by_id", flat=True)) == {user.pk}
    code, _out, err = run(CORPUS / "good_utf8_semicolon.csv", "--user", "nobody-by-that-name")
    assert code == 1
    assert "No user" in err


@pytest.mark.django_db
def test_new_keys_never_reuse_those_of_deleted_rows(tmp_path):
    kept = CompanyFactory()
    deleted = CompanyFactory()
    deleted_pk = deleted.pk
    deleted.delete()
    code, _data = run_json(CORPUS / "good_utf8_semicolon.csv")
    assert code == 0
    new_ids = set(Company.objects.exclude(pk=kept.pk).values_list("pk", flat=True))
    assert len(new_ids) == 3 and min(new_ids) > deleted_pk
    figures = KeyFigures.objects.select_related("company")
    assert all(f.company.org_number in {"5560360793", "2120000019"} for f in figures)
    for event in AuditEvent.objects.filter(object_type="companies.keyfigures"):
        assert KeyFigures.objects.get(pk=int(event.object_id)).company_id == int(event.scope_id)


@pytest.mark.django_db
def test_a_conflicting_write_rolls_back_everything(tmp_path, monkeypatch):
    """A company created by someone else after the lookup: the unique key stops the import."""
    CompanyFactory(org_number="2120000019", name="Region")
    real_lookup = importer._Importer._lookup

    def stale_lookup(self, batch):
        existing, figures, linked = real_lookup(self, batch)
        existing.pop("2120000019", None)
        return existing, figures, linked

    monkeypatch.setattr(importer._Importer, "_lookup", stale_lookup)
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    events = AuditEvent.objects.count()
    result = import_companies(CORPUS / "good_utf8_semicolon.csv")
    assert result.fatal
    assert "changed while the file was being imported" in result.errors[0].message
    assert Company.objects.count() == 1
    assert not KeyFigures.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_archived_companies_keep_their_status(tmp_path):
    company = CompanyFactory(org_number="5560360793", status=CompanyStatus.ARCHIVED, name="Ett AB")
    path = write_csv(tmp_path, "organisationsnummer;namn;status\n5560360793;Ett AB;aktiv\n")
    code, data = run_json(path)
    assert code == 0
    assert data["unchanged"] == 1
    assert data["warnings"]
    company.refresh_from_db()
    assert company.status == CompanyStatus.ARCHIVED


@pytest.mark.django_db
def test_status_archived_is_refused(tmp_path):
    path = write_csv(tmp_path, "organisationsnummer;namn;status\n5560360793;Ett AB;arkiverad\n")
    code, data = run_json(path)
    assert code == 1
    assert data["errors"][0]["column"] == "status"


# --- SME class after import --------------------------------------------------------------------


def _service_size_class(company: Company) -> tuple[str, int | None]:
    result = services.company_sme_assessment(company)
    return (result.category, result.year) if result else ("", None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("earlier", "row", "public"),
    [
        (None, "12;5000000;3000000;2024", False),
        ((2023, "5", "1000000", "1000000"), "12;5000000;3000000;2024", False),  # crossed once: stays micro
        ((2023, "15", "1000000", "1000000"), "12;5000000;3000000;2024", False),  # crossed twice: small
        ((2025, "300", "900000000", "900000000"), "12;5000000;3000000;2024", False),  # a later year decides
        ((2023, "5", None, "1000000"), "60;;;2024", False),  # no financial figure: 2024 not usable
        (None, "1;100;;2024", True),  # public body: large
    ],
)
def test_size_class_of_unlinked_companies_matches_the_service(tmp_path, earlier, row, public):
    org = "2120000019" if public else "5560360793"
    company = CompanyFactory(org_number=org, is_public_body=public, size_class="", size_class_year=None)
    if earlier:
        year, staff, turnover, balance = earlier
        KeyFiguresFactory(company=company, fiscal_year=year, staff_awu=Decimal(staff),
                          turnover_sek=turnover and Decimal(turnover), balance_sheet_sek=balance and Decimal(balance))
    services.company_refresh_size_classes([company.pk])
    path = write_csv(tmp_path, f"{HEADER}{org};{company.name};2380;25620;{row}\n")
    code, data = run_json(path)
    assert code == 0, data
    company.refresh_from_db()
    assert (company.size_class, company.size_class_year) == _service_size_class(company)


@pytest.mark.django_db
def test_size_class_of_linked_companies_is_refreshed_through_the_service(tmp_path):
    parent = CompanyFactory(org_number=make_org_number(1))
    child = CompanyFactory(org_number="5560360793", name="Dotter AB")
    KeyFiguresFactory(company=parent, fiscal_year=2024, staff_awu=Decimal("300"), turnover_sek=Decimal("900000000"),
                      balance_sheet_sek=Decimal("900000000"))
    OwnershipLinkFactory(holder=parent, held=child, capital_pct=Decimal("100"), voting_pct=Decimal("100"))
    path = write_csv(tmp_path, f"{HEADER}5560360793;Dotter AB;2380;25620;5;1000000;1000000;2024\n")
    code, _data = run_json(path)
    assert code == 0
    child.refresh_from_db()
    parent.refresh_from_db()
    assert child.size_class == "large"  # the parent's figures count
    assert (child.size_class, child.size_class_year) == _service_size_class(child)
    assert (parent.size_class, parent.size_class_year) == _service_size_class(parent)


# --- JSON, progress, reading details -----------------------------------------------------------


@pytest.mark.django_db
def test_json_output_shape():
    code, out, _err = run(CORPUS / "unknown_municipality.csv", "--json", "--skip-invalid")
    data = json.loads(out)  # one object, nothing else on stdout
    assert set(data) == {"created", "updated", "unchanged", "errors", "warnings", "dry_run"}
    assert all(isinstance(data[key], int) for key in ("created", "updated", "unchanged"))
    assert data["errors"] == [{"row": 3, "column": "kommunkod", "message": "9999 is not a Swedish municipality code."}]


@pytest.mark.django_db
def test_progress_is_reported_and_batches_are_used(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 7)
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 5)
    lines = [f"{make_org_number(n)};Företag {n} AB;2380;25620;{n % 50};{n * 1000},5;;2024\n" for n in range(40)]
    path = write_csv(tmp_path, HEADER + "".join(lines))
    calls = []
    result = import_companies(path, progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert result.ok and result.created == 40
    assert {phase for phase, _done, _total in calls} == {"check", "write"}
    checks = [call for call in calls if call[0] == "check"]
    writes = [call for call in calls if call[0] == "write"]
    assert checks[-1] == ("check", path.stat().st_size, path.stat().st_size)  # bytes of the file
    assert writes[-1] == ("write", 40, 40)  # rows
    assert len(writes) >= 40 // 7
    assert Company.objects.count() == 40
    assert KeyFigures.objects.count() == 40
    assert AuditEvent.objects.count() == 80


@pytest.mark.django_db
def test_non_utf8_after_the_first_block_is_detected(tmp_path):
    lines = [f"{make_org_number(n)};Foretag {n} AB;2380\n" for n in range(3000)]
    text = "organisationsnummer;namn;kommunkod\n" + "".join(lines) + f"{make_org_number(5000)};Öst AB;2380\n"
    path = write_csv(tmp_path, text, encoding="cp1252")
    assert path.stat().st_size > importer.SAMPLE_SIZE
    result = import_companies(path)
    assert result.ok, result.errors
    assert Company.objects.get(org_number=make_org_number(5000)).name == "Öst AB"


@pytest.mark.django_db
def test_file_objects_and_unseekable_streams(tmp_path):
    data = (CORPUS / "good_utf8_semicolon.csv").read_bytes()
    result = import_companies(io.BytesIO(data), dry_run=True)
    assert result.ok and result.created == 3

    class Pipe(io.RawIOBase):
        def __init__(self, payload):
            self._inner = io.BytesIO(payload)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    result = import_companies(Pipe(data), dry_run=True, name="stdin")
    assert result.ok and result.created == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234 567,50", Decimal("1234567.50")),
        ("1234567.5", Decimal("1234567.5")),
        ("12,5", Decimal("12.5")),
        ("1\u00a0234", Decimal("1234")),
        ("1.234.567", Decimal("1234567")),
        ("1,234,567.50", Decimal("1234567.50")),
        ("1.234.567,5", Decimal("1234567.5")),
        ("-5", Decimal("-5")),
        ("\u22125", Decimal("-5")),
        (" 42 ", Decimal("42")),
        (12.5, Decimal("12.5")),
        (7, Decimal("7")),
    ],
)
def test_numbers_swedish_and_english(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1,2,3", "12,5,0", "1.2.3", "1 234,5,6", "", "--5", "5-", "nan", "inf", "1e5x"])
def test_unreadable_numbers(text):
    with pytest.raises(importer.ValueProblem):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("Organisationsnummer", "org_number"),
        ("ORG_NUMBER", "org_number"),
        ("Org nr", "org_number"),
        ("Omsättning (SEK)", "turnover_sek"),
        ("omsattning", "turnover_sek"),
        ("Räkenskaps år", "fiscal_year"),
        ("Anställda", "staff_awu"),
        ("E-post", "email"),
        ("SNI sekundär", "sni_secondary"),
        ("balance sheet sek", "balance_sheet_sek"),
        ("\ufeffnamn", "name"),
    ],
)
def test_headings_are_matched_leniently(heading, key):
    assert importer.HEADING_ALIASES[normalise_heading(heading)] == key


# --- web -------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return settings.MEDIA_ROOT


def upload(client, path: Path, name: str | None = None):
    with open(path, "rb") as f:
        return client.post(reverse("companies:import"), {"file": _named(f, name or path.name)})


def _named(f, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, f.read())


def _token(response) -> str:
    assert response.status_code == 302, getattr(response, "content", b"")[:500]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.django_db
def test_web_upload_preview_confirm(client_for, media):
    client = client_for(Role.ADVISOR)
    response = client.get(reverse("companies:import"))
    assert response.status_code == 200
    assert b"organisationsnummer" in response.content

    token = _token(upload(client, CORPUS / "good_utf8_semicolon.csv"))
    assert (media / "imports" / token / "upload").exists()
    preview = client.get(reverse("companies:import-preview", args=[token]))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert 'id="count-created">3<' in html
    assert "Åkerströms Mekaniska AB" in html
    assert 'id="import-button"' in html and "disabled" not in html.split('id="import-button"')[1].split(">")[0]
    assert nothing_written()  # the preview is a dry run

    response = client.post(reverse("companies:import-preview", args=[token]), {"action": "import"})
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:list")
    assert Company.objects.count() == 3
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {AuditEvent.Source.WEB}
    assert set(AuditEvent.objects.values_list("actor_id", flat=True)) == {client.user.pk}
    assert not (media / "imports" / token).exists()
    page = client.get(response["Location"])
    assert "3 companies created" in page.content.decode()


@pytest.mark.django_db
def test_web_preview_shows_updates_before_and_after(client_for, media):
    CompanyFactory(org_number="5560360793", name="Gammalt Namn AB", municipality_id="0180")
    client = client_for(Role.ADVISOR)
    token = _token(upload(client, CORPUS / "good_utf8_semicolon.csv"))
    html = client.get(reverse("companies:import-preview", args=[token])).content.decode()
    assert 'id="count-updated">1<' in html
    assert "Gammalt Namn AB" in html and "Åkerströms Mekaniska AB" in html
    assert "Stockholm (0180)" in html and "Östersund (2380)" in html


@pytest.mark.django_db
def test_web_errors_disable_import_unless_invalid_rows_are_skipped(client_for, media):
    client = client_for(Role.ADVISOR)
    token = _token(upload(client, CORPUS / "unknown_municipality.csv"))
    url = reverse("companies:import-preview", args=[token])
    html = client.get(url).content.decode()
    errors_table = html.split('id="import-errors"')[1].split("</table>")[0]
    assert "<td class=\"num\">3</td><td>kommunkod</td>" in errors_table
    button = html.split('id="import-button"')[1].split(">")[0]
    assert "disabled" in button

    # Posting anyway (without skipping) imports nothing.
    response = client.post(url, {"action": "import"})
    assert response.status_code == 400
    assert nothing_written()

    html = client.get(url, {"skip_invalid": "1"}).content.decode()
    assert "disabled" not in html.split('id="import-button"')[1].split(">")[0]
    response = client.post(url, {"action": "import", "skip_invalid": "1"})
    assert response.status_code == 302
    assert Company.objects.count() == 1


@pytest.mark.django_db
def test_web_not_a_table(client_for, media):
    client = client_for(Role.ADVISOR)
    token = _token(upload(client, CORPUS / "binary.csv", name="picture.png"))
    response = client.get(reverse("companies:import-preview", args=[token]))
    assert response.status_code == 200
    assert "binary data" in response.content.decode()
    assert 'id="import-button"' not in response.content.decode()


@pytest.mark.django_db
def test_web_cancel_removes_the_upload(client_for, media):
    client = client_for(Role.ADVISOR)
    token = _token(upload(client, CORPUS / "good_utf8_semicolon.csv"))
    response = client.post(reverse("companies:import-preview", args=[token]), {"action": "cancel"})
    assert response.status_code == 302
    assert not (media / "imports" / token).exists()
    assert nothing_written()
    assert client.get(reverse("companies:import-preview", args=[token])).status_code == 404


@pytest.mark.django_db
def test_web_someone_elses_upload_is_not_found(client_for, make_user, media, client):
    owner = client_for(Role.ADVISOR)
    token = _token(upload(owner, CORPUS / "good_utf8_semicolon.csv"))
    other = make_user(Role.ADVISOR)
    client.force_login(other)
    url = reverse("companies:import-preview", args=[token])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "import"}).status_code == 404
    assert nothing_written()
    assert client.get(reverse("companies:import-preview", args=["..%2F..%2Fetc%2Fpasswd"])).status_code == 404
    assert client.get(reverse("companies:import-preview", args=["x" * 30])).status_code == 404


@pytest.mark.django_db
def test_web_role_without_permission_is_forbidden(client_for, media):
    client = client_for(Role.AUDITOR)
    assert client.get(reverse("companies:import")).status_code == 403
    assert client.post(reverse("companies:import"), {}).status_code == 403
    assert client.get(reverse("companies:import-preview", args=["a" * 32])).status_code == 403


@pytest.mark.django_db
def test_web_upload_size_limit(client_for, media, settings):
    settings.SIM_IMPORT_MAX_UPLOAD_MB = 1
    client = client_for(Role.ADVISOR)
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.csv", b"organisationsnummer;namn\n" + b"x" * (1024 * 1024 + 1))
    response = client.post(reverse("companies:import"), {"file": big})
    assert response.status_code == 200
    assert "too large" in response.content.decode()
    assert not (media / "imports").exists() or not any((media / "imports").iterdir())
