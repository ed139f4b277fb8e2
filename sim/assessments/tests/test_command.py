"""The ``sim assessment_score`` command: JSON output, readable report, and error exits.

The command class is called directly (it needs no installed app and no database), or run in a
subprocess with minimal settings to check the exit status and that stderr has no traceback.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from sim.assessments.management.commands.assessment_score import Command

from .builders import instrument_data

REPO_ROOT = Path(__file__).resolve().parents[3]

EXAMPLE = {
    "instrument": "digital-maturity",
    "version": 1,
    "answers": {
        "dbs_strategy": 3,
        "dbs_areas": ["production", "logistics"],
        "dr_connected_machines": "half",
        "hc_skills": 2,
        "da_storage": "shared",
        "ai_robots": "not_relevant",
        "gd_monitoring": 1,
        "dm_role": "production",
    },
}

EXPECTED = {
    "instrument": "digital-maturity",
    "version": 1,
    "dimensions": {
        "digital_business_strategy": {"score": 45.0, "band": "average", "answered": 2, "scored_questions": 5},
        "digital_readiness": {
            "score": 65.0,
            "band": "moderately_advanced",
            "answered": 1,
            "scored_questions": 5,
        },
        "human_centric_digitalisation": {
            "score": 40.0,
            "band": "average",
            "answered": 1,
            "scored_questions": 5,
        },
        "data_management": {
            "score": 60.0,
            "band": "moderately_advanced",
            "answered": 1,
            "scored_questions": 5,
        },
        "automation_and_ai": {"score": None, "band": None, "answered": 0, "scored_questions": 5},
        "green_digitalisation": {"score": 20.0, "band": "basic", "answered": 1, "scored_questions": 5},
    },
    "overall": 46.0,
    "band": "average",
    "missing_required": ["dr_technologies", "ai_production"],
}


@pytest.fixture
def write_json(tmp_path):
    def write(data, name="answers.json"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return path

    return write


def run_command(*args, **options) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(Command(), *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue()


def command_error(*args, **options) -> CommandError:
    with pytest.raises(CommandError) as info:
        run_command(*args, **options)
    assert info.value.returncode == 1
    return info.value


def test_json_output(write_json):
    output = run_command(str(write_json(EXAMPLE)), "--json")
    data = json.loads(output)
    assert data == EXPECTED
    assert list(data) == ["instrument", "version", "dimensions", "overall", "band", "missing_required"]
    assert isinstance(data["overall"], float)


def test_version_defaults_to_the_latest(write_json):
    without_version = {key: value for key, value in EXAMPLE.items() if key != "version"}
    assert json.loads(run_command(str(write_json(without_version)), "--json"))["version"] == 1


def test_decimal_answers_stay_exact(write_json):
    answers = {
        "instrument": "sim-growth-interview",
        "answers": {"kf_export_share": 9.99, "sa_revenue_share": 0.1},
    }
    data = json.loads(run_command(str(write_json(answers)), "--json"))
    assert data["dimensions"]["internationalisation"]["score"] == 30.0
    assert data["dimensions"]["service_addition"]["score"] == 0.0


def test_readable_report(write_json):
    output = run_command(str(write_json(EXAMPLE)), "--language", "en")
    assert "Digital maturity (digital-maturity, version 1)" in output
    assert "Digital business strategy" in output and "45.0" in output and "Average" in output
    assert "2 of 5 scored questions answered" in output
    assert "Overall: 46.0 (Average)" in output
    assert "Required questions not answered: dr_technologies, ai_production" in output
    assert "1. Use digitalisation for the environment (20.0)" in output
    assert "Green digitalisation scored 20.0 out of 100 (threshold 50)." in output


def test_readable_report_in_swedish_by_default(write_json):
    output = run_command(str(write_json(EXAMPLE)))
    assert "Digital mognad" in output
    assert "Grundläggande" in output
    assert "Grön digitalisering fick 20,0 av 100 (gräns 50)." in output


def test_reads_standard_input():
    output = run_command("-", "--json", stdin=io.StringIO(json.dumps(EXAMPLE)))
    assert json.loads(output)["overall"] == 46.0


def test_invalid_answers_list_every_problem(write_json):
    bad = {
        "instrument": "digital-maturity",
        "version": 1,
        "answers": {
            "dbs_strategy": 7,
            "nope": 1,
            "dbs_areas": ["none", "production"],
            "hc_skills": "2.5",
            "da_storage": "cloud",
        },
    }
    error = command_error(str(write_json(bad)), "--json")
    lines = str(error).splitlines()
    assert lines[0] == "5 invalid answer(s) for digital-maturity version 1:"
    assert lines[1:] == [
        "  - dbs_strategy: Choose a level from 0 to 5 (got 7).",
        "  - dbs_areas: The option 'none' cannot be combined with other options.",
        "  - hc_skills: Choose a level from 0 to 5 (got '2.5').",
        "  - da_storage: Unknown option 'cloud'; choose one of paper, personal_files, shared, integrated.",
        "  - nope: Unknown question: digital-maturity version 1 has no question with this id.",
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "File not found"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"instrument": "nope", "answers": {}}), "unknown instrument 'nope' (known instruments: "),
        (
            json.dumps({"instrument": "digital-maturity", "version": 9, "answers": {}}),
            "has no version 9 (versions: 1)",
        ),
        (
            json.dumps({"instrument": "digital-maturity", "version": "1", "answers": {}}),
            "version must be a whole number",
        ),
        (json.dumps({"instrument": "digital-maturity"}), "answers is missing"),
        (json.dumps({"instrument": "digital-maturity", "answers": {}, "extra": 1}), "Unknown field(s) extra"),
        (json.dumps({"instrument": "../etc", "answers": {}}), "is not a valid instrument id"),
    ],
)
def test_bad_input_is_a_command_error_with_status_1(tmp_path, content, fragment):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert fragment in str(command_error(str(path)))


def test_directory_and_bad_encoding(tmp_path):
    assert "is a directory" in str(command_error(str(tmp_path)))
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"instrument": "Å"}'.encode("latin-1"))
    assert "not UTF-8" in str(command_error(str(latin1)))


def test_instrument_file_option(tmp_path, write_json):
    draft = tmp_path / "v2.yaml"
    draft.write_text(yaml.safe_dump(instrument_data(id="draft-check", version=2)), encoding="utf-8")
    answers = write_json({"instrument": "draft-check", "version": 2, "answers": {"q1": 4}})
    data = json.loads(run_command(str(answers), "--json", "--instrument-file", str(draft)))
    assert data["dimensions"]["d1"]["score"] == 80.0
    assert (data["instrument"], data["version"]) == ("draft-check", 2)

    other = write_json({"instrument": "digital-maturity", "answers": {}}, "other.json")
    error = command_error(str(other), "--instrument-file", str(draft))
    assert "The answers are for digital-maturity but" in str(error)
    assert "holds draft-check version 2" in str(error)

    broken = tmp_path / "v3.yaml"
    data = instrument_data(id="draft-check", version=3)
    data["bands"][1]["min"] = 30
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    error = command_error(str(answers), "--instrument-file", str(broken))
    assert f"{broken}: invalid instrument (1 problem)" in str(error)
    assert "gap between bands 'basic' (ends at 25) and 'average' (starts at 30)" in str(error)


STANDALONE = textwrap.dedent(
    """
    import sys
    import django
    from django.conf import settings
    settings.configure(INSTALLED_APPS=[])
    django.setup()
    from sim.assessments.management.commands.assessment_score import Command
    Command().run_from_argv(["sim", "assessment_score", *sys.argv[1:]])
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
        timeout=120,
    )


def test_exit_status_and_stderr_without_traceback(tmp_path, write_json):
    ok = run_standalone(str(write_json(EXAMPLE)), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == EXPECTED

    invalid = write_json({**EXAMPLE, "answers": {"dbs_strategy": 6, "zz": "x"}}, "invalid.json")
    failed = run_standalone(str(invalid), "--json")
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "dbs_strategy: Choose a level from 0 to 5 (got 6)." in failed.stderr
    assert "zz: Unknown question" in failed.stderr
    assert "Traceback" not in failed.stderr

    unknown = run_standalone(str(write_json({"instrument": "nope", "answers": {}}, "unknown.json")))
    assert unknown.returncode == 1
    assert "unknown instrument 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    missing = run_standalone(str(tmp_path / "missing.json"))
    assert missing.returncode == 1
    assert "File not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_command_needs_no_database_or_checks():
    assert Command.requires_system_checks == []
    assert not Command.requires_migrations_checks
