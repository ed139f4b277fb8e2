"""Cost import: ``sim import_costs`` and :func:`sim.finance.cost_import.import_costs`.

The files in ``cost_corpus/`` are small CSV files: good ones in several encodings and delimiters,
and one bad file per kind of problem. Workbooks, and files naming interventions and companies
(whose ids depend on the test database), are written here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from sim.companies.tests.factories import CompanyFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.finance import cost_import
from sim.finance.models import CostEntry
from sim.finance.tests.actuals_builders import (
    make_entry,
    make_intervention,
    make_project,
    other_partner,
    owner_partner,
)
from sim.programmes.models import InterventionStatus

CORPUS = Path(__file__).parent / "cost_corpus"
D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def project():
    return make_project(code="sim-test")


def run(path, *args, project="sim-test") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_costs", "--project", project, str(path), *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def run_json(path, *args, project="sim-test") -> tuple[int, dict]:
    code, out, err = run(path, "--json", *args, project=project)
    return code, json.loads(out) if out else {"stderr": err}


def write(tmp_path, text: str, name: str = "costs.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


GOOD = ["good_utf8_semicolon.csv", "good_cp1252_tab.csv", "good_utf8_bom_semicolon.csv", "good_english_comma.csv"]


@pytest.mark.parametrize("name", GOOD)
def test_good_files(project, name):
    code, data = run_json(CORPUS / name)
    assert code == 0, data
    assert data == {"project": "sim-test", "created": 4, "unchanged": 0, "total_sek": "15469.50",
                    "already_imported": False, "errors": [], "warnings": [], "dry_run": False}
    entries = {(e.voucher, e.category): e for e in CostEntry.objects.filter(project=project)}
    assert set(entries) == {("V1001", "external_services"), ("V1002", "travel"), ("V1003", "other"), ("V1003", "travel")}
    first = entries[("V1001", "external_services")]
    assert (first.date, first.amount_sek, first.partner) == (dt.date(2024, 3, 5), D("12500.00"), other_partner(project))
    assert first.description == "Konsult workshop" and first.source == "import"
    assert first.import_batch == hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
    assert entries[("V1002", "travel")].amount_sek == D("-1250.50")
    assert entries[("V1002", "travel")].description == "Kreditering tåg"
    assert entries[("V1003", "other")].partner == owner_partner(project)  # an empty cell: the owner
    events = AuditEvent.objects.filter(object_type="finance.costentry")
    assert events.count() == 4
    assert {e.source for e in events} == {"cli"} and {e.message for e in events} == {f"Imported from {name}"}


def test_dry_run_writes_nothing(project):
    code, out, _err = run(CORPUS / "good_utf8_semicolon.csv", "--dry-run")
    assert code == 0 and "Dry run, nothing written: 4 cost entries (SEK 15,469.50)" in out
    assert not CostEntry.objects.exists() and not AuditEvent.objects.exists()


def test_summary_and_user(project, make_user):
    officer = make_user(Role.FINANCE_OFFICER, username="ekonom1")
    code, out, _err = run(CORPUS / "good_utf8_semicolon.csv", "--user", "ekonom1")
    assert code == 0 and "Imported: 4 cost entries (SEK 15,469.50) added to sim-test." in out
    assert set(CostEntry.objects.values_list("recorded_by", flat=True)) == {officer.pk}
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {officer.pk}


def test_importing_the_same_file_twice_adds_nothing_and_says_so(project):
    assert run_json(CORPUS / "good_utf8_semicolon.csv")[0] == 0
    code, out, _err = run(CORPUS / "good_utf8_semicolon.csv")
    assert code == 0 and "This file was already imported on" in out and "nothing was added" in out
    code, data = run_json(CORPUS / "good_utf8_semicolon.csv")
    assert code == 0 and data["created"] == 0 and data["unchanged"] == 4 and data["already_imported"] is True
    assert CostEntry.objects.count() == 4
    # The same lines in another file (another encoding, delimiter and headings) are recognised too.
    code, out, _err = run(CORPUS / "good_english_comma.csv")
    assert code == 0 and "All 4 lines of the file are already in the ledger" in out
    assert CostEntry.objects.count() == 4


def test_lines_partly_in_the_ledger_are_errors(project, tmp_path):
    make_entry(project, voucher="V1002", category="travel", amount="-1250.50", date=dt.date(2024, 3, 12))
    code, data = run_json(CORPUS / "good_utf8_semicolon.csv")
    assert code == 1
    assert data["errors"] == [{"row": 3, "column": "Verifikation", "message":
                               "This voucher line is already in the ledger (voucher V1002 of 2024-03-12, -1250.50 SEK)."}]
    assert CostEntry.objects.count() == 1


@pytest.mark.parametrize(("name", "errors"), [
    ("bad_date.csv", [
        {"row": 2, "column": "Bokföringsdatum", "message": "“2024-02-30” is not a date (write e.g. 2024-03-15)."},
        {"row": 4, "column": "Bokföringsdatum", "message": "“15/3/2024” is not a date (write e.g. 2024-03-15)."},
    ]),
    ("unknown_category.csv", [{"row": 2, "column": "Kostnadsslag", "message": (
        "“Fika” is not a cost category (write e.g. externa tjänster, stöd till företag, resor, utrustning, övriga "
        "kostnader, or the codes external_services, company_support, travel, equipment, other).")}]),
    ("staff_category.csv", [
        {"row": 2, "column": "Kostnadsslag", "message": "Staff costs are not booked as cost entries: they come from "
                                                        "the time reports (hours × hourly cost)."},
        {"row": 3, "column": "Kostnadsslag", "message": "Indirect costs are not booked as cost entries: they are a "
                                                        "flat rate on the staff costs."},
    ]),
    ("unknown_partner.csv", [{"row": 2, "column": "Partner", "message": (
        "“Almi” is not a partner in the project (partners: IUC Z-GROUP, Region Jämtland Härjedalen).")}]),
    ("bad_amount.csv", [
        {"row": 2, "column": "Belopp", "message": "“tusen” is not an amount (write e.g. 12 500,00 or -1250.50)."},
        {"row": 3, "column": "Belopp", "message": "The amount is zero: leave the line out."},
        {"row": 4, "column": "Belopp", "message": "Enter the amount in SEK."},
        {"row": 5, "column": "Belopp", "message": "An amount can have at most two decimals (öre)."},
    ]),
    ("duplicate_line.csv", [{"row": 4, "column": "Ver.nr", "message": (
        "The same voucher line (voucher, date, category, partner and amount) is also on row 2: each line may appear "
        "once; add the amounts together if they belong together.")}]),
    ("outside_period.csv", [{"row": 2, "column": "Bokföringsdatum", "message": (
        "The date lies outside the project's period (2024-01-01 – %s).")}]),
    ("wrong_delimiter_decimal_comma.csv", [{"row": 2, "column": None, "message": (
        "This row has more cells than the heading row: check the delimiter and quoting (a decimal comma must be "
        "quoted in a comma-separated file).")}]),
])
def test_every_invalid_row_is_listed_and_nothing_written(project, name, errors):
    for error in errors:
        if "%s" in error["message"]:
            error["message"] = error["message"] % project.effective_end.isoformat()
    for args in ((), ("--dry-run",)):
        code, data = run_json(CORPUS / name, *args)
        assert code == 1
        assert data["errors"] == errors
        assert data["created"] == 0
    assert not CostEntry.objects.exists() and not AuditEvent.objects.exists()


def test_errors_go_to_stderr_with_row_and_column(project):
    code, out, err = run(CORPUS / "bad_amount.csv")
    assert code == 1 and out == ""
    assert "Row 2, column “Belopp”: “tusen” is not an amount" in err
    assert "The file has 4 errors; nothing was imported." in err


@pytest.mark.parametrize(("name", "message"), [
    ("empty.csv", "The file is empty."),
    ("header_only.csv", "The file has column headings but no rows of costs."),
    ("missing_columns.csv", "Required column missing: “verifikation” (voucher) and “kostnadsslag” (category) and "
                            "“belopp” (amount). The first row must hold the column headings."),
    ("binary.csv", "This is not a table: the file contains binary data. Upload a CSV file or an Excel workbook (.xlsx)."),
])
def test_a_file_that_is_not_a_table_gets_one_message(project, name, message):
    code, data = run_json(CORPUS / name)
    assert code == 1
    assert [e["message"] for e in data["errors"]] == [message]
    code, out, err = run(CORPUS / name)
    assert code == 1 and message in err and "Traceback" not in err


def test_missing_file_and_directory(project, tmp_path):
    code, data = run_json(tmp_path / "nope.csv")
    assert code == 1 and data["errors"][0]["message"].startswith("File not found")
    code, data = run_json(tmp_path)
    assert code == 1 and "is a directory" in data["errors"][0]["message"]


def test_unknown_project_and_user(project):
    code, _out, err = run(CORPUS / "good_utf8_semicolon.csv", project="nope")
    assert code == 1 and "No project with the code nope." in err
    code, _out, err = run(CORPUS / "good_utf8_semicolon.csv", "--user", "nobody")
    assert code == 1 and "No user with the username nobody." in err
    assert not CostEntry.objects.exists()


def test_unrecognised_column_is_a_warning(project, tmp_path):
    path = write(tmp_path, "datum;verifikation;kostnadsslag;belopp;konto\n2024-03-01;V1;resor;100;5800\n")
    code, data = run_json(path)
    assert code == 0 and data["warnings"] == ["Column “konto” is not recognised and was ignored."]
    assert data["created"] == 1


def test_two_columns_with_the_same_meaning(project, tmp_path):
    path = write(tmp_path, "datum;verifikation;kostnadsslag;belopp;summa\n2024-03-01;V1;resor;100;100\n")
    code, data = run_json(path)
    assert code == 1
    assert data["errors"] == [{"row": 1, "column": "summa", "message": (
        "The columns “belopp” and “summa” both mean “belopp” (amount): keep one of them.")}]


def test_interventions_and_companies(project, tmp_path):
    intervention = make_intervention(project)
    draft = make_intervention(project, status=InterventionStatus.DRAFT)
    foreign = make_intervention(make_project())
    other = CompanyFactory()
    text = (
        "datum;verifikation;kostnadsslag;belopp;insats;företag\n"
        f"2024-03-01;F1;stöd till företag;50000;#{intervention.pk};\n"
        f"2024-03-01;F2;stöd till företag;50000;;{other.org_number_display}\n"
        f"2024-03-01;F3;stöd till företag;50000;{foreign.pk};\n"
        f"2024-03-01;F4;stöd till företag;50000;{draft.pk};\n"
        f"2024-03-01;F5;stöd till företag;50000;{intervention.pk};{other.org_number}\n"
        "2024-03-01;F6;stöd till företag;50000;;556036-0793\n"
        "2024-03-01;F7;stöd till företag;50000;abc;5560360794\n"
    )
    code, data = run_json(write(tmp_path, text))
    assert code == 1
    assert data["errors"] == [
        {"row": 4, "column": "insats", "message": f"{foreign.pk} is not the number of an intervention in the project."},
        {"row": 5, "column": "insats", "message":
            f"The intervention “{draft.title}” is not approved: book its costs after the decision."},
        {"row": 6, "column": "företag", "message":
            f"The intervention “{intervention.title}” is for {intervention.company.name}, not for this company."},
        {"row": 7, "column": "företag", "message": "No company with the organisation number 556036-0793 in the register."},
        {"row": 8, "column": "insats", "message": "abc is not the number of an intervention in the project."},
        {"row": 8, "column": "företag", "message": data["errors"][5]["message"]},
    ]
    assert "check digit" in data["errors"][5]["message"]
    good = "\n".join(text.splitlines()[:3]) + "\n"
    code, data = run_json(write(tmp_path, good, "good.csv"))
    assert code == 0 and data["created"] == 2
    assert CostEntry.objects.get(voucher="F1").company == intervention.company
    assert CostEntry.objects.get(voucher="F2").company == other


def test_workbook(project, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Datum", "Verifikation", "Kostnadsslag", "Belopp", "Partner"])
    sheet.append([dt.datetime(2024, 5, 2), 2001, "Utrustning", 15999.9, "IUC Z-GROUP"])
    sheet.append([dt.date(2024, 5, 3), "2002", "resor", 0.1 + 0.2, None])
    path = tmp_path / "costs.xlsx"
    workbook.save(path)
    code, data = run_json(path)
    assert code == 0, data
    assert data["created"] == 2 and data["total_sek"] == "16000.20"
    equipment = CostEntry.objects.get(voucher="2001")
    assert (equipment.date, equipment.amount_sek, equipment.category) == (dt.date(2024, 5, 2), D("15999.90"), "equipment")


def test_empty_workbook_sheet(project, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Kostnader"
    path = tmp_path / "empty.xlsx"
    workbook.save(path)
    code, data = run_json(path)
    assert code == 1 and "“Kostnader”" in data["errors"][0]["message"]


def test_write_is_atomic(project, monkeypatch):
    from sim.finance import services_actuals

    original = services_actuals.cost_entries_write

    def failing(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services_actuals, "cost_entries_write", failing)
    with pytest.raises(RuntimeError):
        cost_import.import_costs(project, CORPUS / "good_utf8_semicolon.csv")
    assert not CostEntry.objects.exists() and not AuditEvent.objects.exists()


def test_import_from_a_file_object(project):
    data = (CORPUS / "good_english_comma.csv").read_bytes()
    result = cost_import.import_costs(project, io.BytesIO(data), name="export.csv")
    assert result.ok and result.written and result.created == 4
    assert result.as_dict()["file_format"] == "csv"
