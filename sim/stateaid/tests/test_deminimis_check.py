"""``sim deminimis_check FILE.json [--json]``: a pure computation, with the database blocked.

Called through call_command (messages in English) and once through the real ``sim`` console
command in a subprocess whose database cannot be opened.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import translation

from sim.stateaid.rules import evaluate_scenario

REPO_ROOT = Path(__file__).resolve().parents[3]

EXAMPLE = {
    "undertakings": [{"id": "556000-0001", "road_freight": False, "fiscal_year_start": "01-01"}],
    "control_links": [{"parent": "556000-0001", "child": "556000-0002"}],
    "rates": [{"date": "2023-01-02", "sek_per_eur": 11.1}],
    "awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 120000}],
    "proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_sek": 1000000},
}

EXPECTED_FIGURES = {
    "allowed": True,
    "regulation": "2023/2831",
    "ceiling_eur": 300000,
    "used_eur": 120000,
    "proposed_eur": 90090,
    "headroom_eur": 180000,
    "window": {"from": "2022-03-02", "to": "2025-03-01"},
    "single_undertaking": ["556000-0001", "556000-0002"],
    "counted_awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 120000}],
}


def _no_queries(execute, sql, params, many, context):
    raise AssertionError(f"deminimis_check ran a database query: {sql}")


@pytest.fixture(autouse=True)
def no_database(django_db_blocker):
    """No database for the command: blocked by pytest-django (also explicitly here) and no query may run."""
    with translation.override("en"), django_db_blocker.block(), ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(_no_queries))
        yield


@pytest.fixture
def write_json(tmp_path):
    def write(data, name="scenario.json") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return path

    return write


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("deminimis_check", *args, **options)
    return out.getvalue()


def run_error(*args, stdin: str | None = None) -> str:
    with pytest.raises(CommandError) as error:
        run(*args, stdin=stdin)
    assert error.value.returncode == 1
    return str(error.value)


def test_the_database_is_really_blocked_here():
    from django.contrib.auth.models import Group

    with pytest.raises(RuntimeError, match="Database access not allowed"):
        Group.objects.count()


def test_json_output_of_the_issue_example(write_json):
    result = json.loads(run(str(write_json(EXAMPLE)), "--json"))
    assert list(result) == ["allowed", "regulation", "ceiling_eur", "used_eur", "proposed_eur", "headroom_eur",
                            "window", "single_undertaking", "counted_awards", "explanation"]
    explanation = result.pop("explanation")
    assert result == EXPECTED_FIGURES
    assert explanation == evaluate_scenario(EXAMPLE)["explanation"]
    assert "The new aid: SEK 1,000,000 at 11.1 SEK/EUR (rate of 2023-01-02) = EUR 90,090.09." in explanation


def test_json_output_from_standard_input():
    result = json.loads(run("-", "--json", stdin=json.dumps(EXAMPLE)))
    assert result["headroom_eur"] == 180000


def test_file_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(EXAMPLE), encoding="utf-8-sig")
    assert json.loads(run(str(path), "--json"))["allowed"] is True


def test_readable_output(write_json):
    out = run(str(write_json(EXAMPLE)))
    assert ("Allowed under Regulation (EU) 2023/2831: EUR 90 090 fits (used EUR 120 000 of EUR 300 000, headroom "
            "EUR 180 000).") in out
    assert "Window: 2022-03-02 to 2025-03-01" in out
    assert "Single undertaking: 556000-0001, 556000-0002" in out
    assert "  - Counted: EUR 120,000 to 556000-0002 granted on 2023-05-01." in out


def test_refusal_is_a_result_not_an_error(write_json):
    data = {**EXAMPLE, "proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01",
                                    "amount_eur": "180000.01"}}
    path = str(write_json(data))
    result = json.loads(run(path, "--json"))
    assert (result["allowed"], result["used_eur"], result["proposed_eur"], result["headroom_eur"]) == (
        False, 120000, 180000, 180000)
    out = run(path)
    assert "Not allowed under Regulation (EU) 2023/2831" in out
    assert "no part of it may be granted as de minimis aid" in out
    assert "would exceed the ceiling by EUR 0.01" in out


def test_1407_2013_road_freight_with_fiscal_year_from_july(write_json):
    data = {
        "undertakings": [{"id": "556000-0001", "road_freight": True, "fiscal_year_start": "07-01"}],
        "awards": [{"undertaking": "556000-0001", "date_granted": "2020-06-30", "amount_eur": 50000},
                   {"undertaking": "556000-0001", "date_granted": "2020-07-01", "amount_eur": 60000}],
        "proposed": {"undertaking": "556000-0001", "date_granted": "2023-06-30", "amount_eur": 40001},
    }
    result = json.loads(run(str(write_json(data)), "--json"))
    assert result["regulation"] == "1407/2013"
    assert result["window"] == {"from": "2020-07-01", "to": "2023-06-30"}
    assert (result["ceiling_eur"], result["used_eur"], result["headroom_eur"], result["allowed"]) == (
        100000, 60000, 40000, False)


BAD_DOCUMENTS = [
    ("unknown undertaking", {**EXAMPLE, "proposed": {**EXAMPLE["proposed"], "undertaking": "556000-0009"}},
     "proposed: unknown undertaking 556000-0009 (list it under “undertakings”)."),
    ("negative amount", {**EXAMPLE, "awards": [{**EXAMPLE["awards"][0], "amount_eur": -5}]},
     "awards[0]: “amount_eur” cannot be negative (-5)."),
    ("unparsable date", {**EXAMPLE, "awards": [{**EXAMPLE["awards"][0], "date_granted": "2023-5-1"}]},
     "awards[0]: “date_granted” is not a date (write YYYY-MM-DD): 2023-5-1"),
    ("missing rate", {**EXAMPLE, "rates": [{"date": "2025-03-02", "sek_per_eur": 11.2}]},
     "proposed: no SEK/EUR rate on or before 2025-03-01, so the SEK amount cannot be converted."),
    ("not an object", [EXAMPLE], "The document must be an object."),
]


@pytest.mark.parametrize(("data", "message"), [case[1:] for case in BAD_DOCUMENTS],
                         ids=[case[0] for case in BAD_DOCUMENTS])
def test_bad_input_exit_status_1_with_the_reason(write_json, data, message):
    path = str(write_json(data))
    assert run_error(path, "--json") == message
    assert run_error(path) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"undertakings": [', "is not valid JSON: Expecting value: line 1 column 19"),
        ("", "is not valid JSON"),
        ('{"a": 1} trailing', "is not valid JSON: Extra data"),
        ('{"n": ' + "9" * 5000 + "}", "is not valid JSON"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
    ids=["truncated", "empty", "trailing", "huge integer", "deep"],
)
def test_malformed_json(write_json, text, message):
    path = write_json(text)
    error = run_error(str(path), "--json")
    assert error.startswith(str(path))
    assert message in error


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.json"
    assert run_error(str(missing)) == f"File not found: {missing}"


def test_directory_instead_of_a_file(tmp_path):
    assert run_error(str(tmp_path)) == f"{tmp_path} is a directory."


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"undertakings": [{"id": "Ö"}]}'.encode("latin-1"))
    assert run_error(str(path)) == f"{path} is not UTF-8 text."


def test_malformed_standard_input():
    assert run_error("-", stdin="{").startswith("standard input is not valid JSON")


# --- The real console command ---------------------------------------------------------------


def sim(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": "sqlite:////nonexistent-directory/for/deminimis/sim.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([str(Path(sys.executable).parent / "sim"), "deminimis_check", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_console_command_without_a_database(write_json):
    """The database of this process cannot even be opened: the command must not need it."""
    ok = sim(str(write_json(EXAMPLE)), "--json")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    result.pop("explanation")
    assert result == EXPECTED_FIGURES

    bad = sim(str(write_json({**EXAMPLE, "awards": [{**EXAMPLE["awards"][0], "undertaking": "556000-0042"}]},
                             "bad.json")), "--json")
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "556000-0042" in bad.stderr
    assert "Traceback" not in bad.stderr
