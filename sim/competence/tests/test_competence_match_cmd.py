"""``sim competence_match``: one text, a batch file, and clear errors for bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sim.competence import matching
from sim.competence.tests.test_matching import BASE, FIXTURE

ROOT = Path(__file__).resolve().parents[3]  # the repository


@pytest.fixture
def taxonomy(db, settings, tmp_path):
    from sim.competence.models import Concept

    settings.SIM_MATCHER_CACHE_DIR = str(tmp_path / "cache")
    settings.SIM_MATCHER_SEMANTIC = False
    Concept.objects.update(active=False)
    for slug, kind, sv, en, alt_sv, alt_en in FIXTURE:
        Concept.objects.create(uri=f"{BASE}{kind}/{slug}", kind=kind, preferred_label_sv=sv, preferred_label_en=en,
                               alt_labels_sv=alt_sv, alt_labels_en=alt_en, source="custom")
    matching.reset_matcher()
    yield
    matching.reset_matcher()


def run(*args) -> str:
    out = io.StringIO()
    call_command("competence_match", *args, stdout=out)
    return out.getvalue()


def test_single_text_readable(taxonomy):
    output = run("svetsaren", "--top", "3")
    lines = output.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].lstrip().startswith("1.")
    assert "svetsare" in lines[0] and f"{BASE}occupation/welder" in lines[0]


def test_single_text_json_kind_and_language(taxonomy):
    data = json.loads(run("CNC", "--kind", "skill", "--json", "--language", "en"))
    assert data["text"] == "CNC"
    assert data["matches"][0] == {"uri": f"{BASE}skill/cnc-programming", "label": "CNC programming",
                                  "score": data["matches"][0]["score"]}
    assert all("/skill/" in match["uri"] for match in data["matches"])
    assert set(data["matches"][0]) == {"uri", "label", "score"}
    assert isinstance(data["matches"][0]["score"], float)


def test_batch_json(taxonomy, tmp_path):
    path = tmp_path / "needs.tsv"
    path.write_text("n1\ttvå CNC-operatörer inom ett år\n\nn2\tsvetsare MIG/MAG\r\nn3\tautomationstekniker PLC\n",
                    encoding="utf-8")
    lines = run("--batch", str(path), "--top", "2", "--json").strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["id"] for row in rows] == ["n1", "n2", "n3"]
    assert rows[0]["matches"][0]["uri"] == f"{BASE}occupation/cnc-operator"
    assert rows[2]["matches"][0]["uri"] == f"{BASE}occupation/automation-technician"
    assert all(len(row["matches"]) == 2 for row in rows)
    assert set(rows[1]["matches"][0]) == {"uri", "label", "score"}


def test_batch_readable(taxonomy, tmp_path):
    path = tmp_path / "needs.tsv"
    path.write_text("a\tsvetsare\n", encoding="utf-8")
    line = run("--batch", str(path), "--top", "1").strip()
    assert line.split("\t")[0:2] == ["a", "1"]
    assert line.endswith("\tsvetsare")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ok\tsvetsare\nno tab here\n", "line 2: no tab between the id and the text"),
        ("\ttext\n", "line 1: the id is empty"),
        ("a\t \n", "line 1: the text of 'a' is empty"),
        ("a\tx\nb\ty\na\tz\n", "line 3: the id 'a' is already on line 1"),
        ("\n\n", "no needs in the file"),
    ],
)
def test_batch_errors_name_the_line(taxonomy, tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run("--batch", str(path), "--json")
    assert message in str(error.value)


def test_batch_not_utf8(taxonomy, tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("a\tsvetsare\nb\tmontör\n".encode("latin-1"))
    with pytest.raises(CommandError, match="line 2: not UTF-8"):
        run("--batch", str(path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--batch", "/nonexistent/needs.tsv"), "File not found: /nonexistent/needs.tsv"),
        ((), "Give a TEXT"),
        (("svetsare", "--batch", "x.tsv"), "not both"),
        (("svetsare", "--top", "0"), "--top must be between 1 and 100"),
        (("   ",), "The TEXT is empty"),
    ],
)
def test_argument_errors(taxonomy, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_empty_taxonomy(db, settings, tmp_path):
    from sim.competence.models import Concept

    settings.SIM_MATCHER_SEMANTIC = False
    settings.SIM_MATCHER_CACHE_DIR = str(tmp_path)
    Concept.objects.update(active=False)
    matching.reset_matcher()
    with pytest.raises(CommandError, match="no active concepts"):
        run("svetsare")
    matching.reset_matcher()


def test_exit_status_1_on_bad_input(tmp_path):
    """The real console command: message on stderr, exit status 1 (fails before any database use)."""
    path = tmp_path / "bad.tsv"
    path.write_text("x\ty\nno tab\n", encoding="utf-8")
    env = {**os.environ, "SIM_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", "from sim.cli import main; main()", "competence_match", "--batch", str(path), "--json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "line 2: no tab" in result.stderr
    assert result.stdout == ""
