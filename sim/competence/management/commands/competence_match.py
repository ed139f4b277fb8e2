"""``sim competence_match``: match free-text needs to concepts of the taxonomy.

One text::

    sim competence_match "två CNC-operatörer" [--top 10] [--kind occupation|skill] [--json]

prints the best concepts (rank, score, kind, label, URI); with ``--json`` one object
``{"text": "…", "matches": [{"uri": "…", "label": "…", "score": 0.0}]}``.

Many texts::

    sim competence_match --batch needs.tsv [--top 10] [--kind …] --json

reads one need a line, ``id<TAB>text`` (UTF-8; blank lines are skipped) and prints one JSON object a
line, ``{"id": "…", "matches": [{"uri": "…", "label": "…", "score": 0.0}]}``, in the order of the
file (without ``--json``: ``id``, rank, score, URI and label separated by tabs).

Problems with the input (a missing or unreadable file, a line without a tab, an empty id or text,
a repeated id) are all reported with their line numbers on stderr, nothing is matched, and the
exit status is 1. Labels are Swedish (``--language en`` for English). Concepts an advisor chose for
the same text come first (see :func:`sim.competence.matching.suggest_concepts`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import translation

from sim.competence import matching

MAX_TOP = 100
MAX_ERRORS_SHOWN = 20


def read_batch(path: Path) -> list[tuple[str, str]]:
    """``[(id, text)]`` of a batch file; raises :class:`CommandError` listing every bad line."""
    if not path.exists():
        raise CommandError(f"File not found: {path}")
    if not path.is_file():
        raise CommandError(f"Not a file: {path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    rows: list[tuple[str, str]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text_line = line.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            errors.append(f"line {number}: not UTF-8 text")
            continue
        if not text_line.strip():
            continue
        if "\t" not in text_line:
            errors.append(f"line {number}: no tab between the id and the text (expected id<TAB>text)")
            continue
        identifier, text = (part.strip() for part in text_line.split("\t", 1))
        if not identifier:
            errors.append(f"line {number}: the id is empty")
            continue
        if not text:
            errors.append(f"line {number}: the text of {identifier!r} is empty")
            continue
        if identifier in seen:
            errors.append(f"line {number}: the id {identifier!r} is already on line {seen[identifier]}")
            continue
        seen[identifier] = number
        rows.append((identifier, " ".join(text.split())))
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > len(shown):
            shown.append(f"… and {len(errors) - len(shown)} more")
        raise CommandError(f"{path}: {len(errors)} bad line(s), nothing matched:\n  " + "\n  ".join(shown))
    if not rows:
        raise CommandError(f"{path}: no needs in the file (expected lines id<TAB>text)")
    return rows


def matches_json(suggestions: list[matching.Suggestion]) -> list[dict]:
    return [{"uri": s.uri, "label": s.label, "score": round(s.score, 4)} for s in suggestions]


class Command(BaseCommand):
    help = "Match free-text competence needs (Swedish or English) to occupations and skills of the taxonomy."

    def add_arguments(self, parser) -> None:
        parser.add_argument("text", nargs="?", help="The need, in free text (or use --batch).")
        parser.add_argument("--batch", metavar="FILE.tsv", help="Match every line id<TAB>text of this file.")
        parser.add_argument("--top", type=int, default=10, help=f"Concepts per need, 1–{MAX_TOP} (default 10).")
        parser.add_argument("--kind", choices=(matching.OCCUPATION, matching.SKILL), help="Only this kind of concept.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON (one object a line).")
        parser.add_argument("--language", choices=("sv", "en"), default="sv", help="Language of labels (default sv).")

    def handle(self, *args, **options) -> None:
        text, batch = options.get("text"), options.get("batch")
        if text is not None and batch:
            raise CommandError("Give either a TEXT or --batch FILE, not both.")
        if text is None and not batch:
            raise CommandError('Give a TEXT to match (sim competence_match "CNC-operatör") or --batch FILE.tsv.')
        top = options["top"]
        if not 1 <= top <= MAX_TOP:
            raise CommandError(f"--top must be between 1 and {MAX_TOP} (got {top}).")
        if text is not None and not " ".join(text.split()):
            raise CommandError("The TEXT is empty.")
        rows = read_batch(Path(batch)) if batch else [("", " ".join(text.split()))]
        kind = options.get("kind")
        with translation.override(options["language"]):
            try:
                matcher = matching.get_matcher()
            except DatabaseError as exc:
                raise CommandError(f"Cannot read the taxonomy from the database ({exc}); has `sim migrate` been run?") from None
            if not len(matcher):
                raise CommandError("The taxonomy has no active concepts: import or load one first (sim taxonomy_import).")
            if matching.semantic_enabled() and not matcher.semantic:
                sys.stderr.write("Warning: the embedding model could not be loaded; matching on letters only.\n")
            results = matching.suggest_batch([row[1] for row in rows], kind=kind, top=top)
        if batch:
            for (identifier, _text), found in zip(rows, results, strict=True):
                if options["as_json"]:
                    self.stdout.write(json.dumps({"id": identifier, "matches": matches_json(found)}, ensure_ascii=False))
                else:
                    for rank, suggestion in enumerate(found, start=1):
                        self.stdout.write(f"{identifier}\t{rank}\t{suggestion.score:.4f}\t{suggestion.uri}\t{suggestion.label}")
            return
        found = results[0]
        if options["as_json"]:
            self.stdout.write(json.dumps({"text": rows[0][1], "matches": matches_json(found)}, ensure_ascii=False))
            return
        if not found:
            self.stdout.write("No matching concepts.")
        for rank, suggestion in enumerate(found, start=1):
            self.stdout.write(f"{rank:>3}. {suggestion.score:.3f}  {suggestion.kind:<10}  {suggestion.label}  <{suggestion.uri}>")
