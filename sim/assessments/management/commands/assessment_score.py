"""``sim assessment_score FILE.json [--json]``: score a set of answers to an instrument.

The input (``version`` may be left out for the latest version)::

    {"instrument": "digital-maturity", "version": 1,
     "answers": {"dbs_strategy": 3, "dbs_areas": ["production", "logistics"],
                 "dr_connected_machines": "half", "kf_turnover_sek": 12500000}}

Values are what ``sim.assessments.rules.validate_answer`` accepts: a level 0–5 for a scale, an
option id for a single choice, a list of option ids for a multiple choice, a number (or a decimal
string) for number, money and percentage, ``"YYYY-MM-DD"`` for a date, text for text.

``--json`` prints::

    {"instrument": "digital-maturity", "version": 1,
     "dimensions": {"digital_business_strategy": {"score": 62.5, "band": "moderately_advanced",
                                                  "answered": 3, "scored_questions": 5}, ...},
     "overall": 55.0, "band": "moderately_advanced", "missing_required": ["hc_skills"]}

``--instrument-file draft.yaml`` scores against an instrument file that is not (yet) in the
repository, which is how a new version is tried out before it is published.

Invalid input — a missing or unreadable file, bad JSON, an unknown instrument or version, an
unknown question, a value out of range — gives exit status 1 and a message on stderr that lists
every problem.  Pure computation: no database.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sim.assessments.instrument_files import InstrumentError, load_instrument, load_instrument_file
from sim.assessments.rules import (
    AnswerError,
    ScoreResult,
    derive_needs,
    gettext,
    score,
    score_request_from_json,
    score_to_json,
    validate_answers,
)
from sim.assessments.schema import Instrument


class Command(BaseCommand):
    help = (
        "Score answers to a growth interview or maturity assessment from a JSON file: scores per "
        "dimension, overall score, bands, missing required answers and derived needs."
    )
    # Pure computation: no database, no need for the system checks.
    requires_system_checks: list[str] = []
    # Tests may pass ``stdin=`` to call_command() to feed "-".
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Answers JSON file, or - to read standard input.")
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the result as one JSON object instead of a readable report.",
        )
        parser.add_argument(
            "--instrument-file",
            dest="instrument_file",
            help="Score against this instrument YAML file instead of the instruments in the repository.",
        )
        parser.add_argument(
            "--language",
            choices=("sv", "en"),
            default="sv",
            help="Language of titles and labels in the readable report (default: sv).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"]
        text = self._read(source, options.get("stdin") or sys.stdin)
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise CommandError(
                gettext("%(file)s is not valid JSON: %(error)s") % {"file": self._name(source), "error": exc},
                returncode=1,
            ) from None
        except RecursionError:
            raise CommandError(
                gettext("%(file)s is nested too deeply to be read.") % {"file": self._name(source)},
                returncode=1,
            ) from None

        try:
            request = score_request_from_json(data)
        except AnswerError as exc:
            raise CommandError(str(exc), returncode=1) from None

        instrument = self._instrument(request.instrument, request.version, options.get("instrument_file"))
        normalised, issues = validate_answers(instrument, request.answers)
        if issues:
            lines = [
                gettext("%(count)d invalid answer(s) for %(instrument)s version %(version)s:")
                % {"count": len(issues), "instrument": instrument.id, "version": instrument.version}
            ]
            lines.extend(f"  - {issue.question}: {issue.message}" for issue in issues)
            raise CommandError("\n".join(lines), returncode=1)

        result = score(instrument, normalised)
        if options["as_json"]:
            self.stdout.write(json.dumps(score_to_json(result), indent=2, ensure_ascii=False))
        else:
            self._report(instrument, result, options["language"])

    # ---- input ---------------------------------------------------------------------------------

    @staticmethod
    def _instrument(instrument_id: str, version: int | None, instrument_file: str | None) -> Instrument:
        try:
            if not instrument_file:
                return load_instrument(instrument_id, version)
            instrument = load_instrument_file(instrument_file)
        except InstrumentError as exc:
            raise CommandError(str(exc), returncode=1) from None
        if instrument.id != instrument_id or (version is not None and instrument.version != version):
            raise CommandError(
                gettext(
                    "The answers are for %(wanted)s but %(file)s holds %(instrument)s version %(version)s."
                )
                % {
                    "wanted": instrument_id if version is None else f"{instrument_id} version {version}",
                    "file": instrument_file,
                    "instrument": instrument.id,
                    "version": instrument.version,
                },
                returncode=1,
            )
        return instrument

    @staticmethod
    def _name(source: str) -> str:
        return gettext("standard input") if source == "-" else source

    def _read(self, source: str, stdin) -> str:
        try:
            if source == "-":
                return stdin.read()
            return Path(source).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(gettext("File not found: %(file)s") % {"file": source}, returncode=1) from None
        except IsADirectoryError:
            raise CommandError(gettext("%(file)s is a directory.") % {"file": source}, returncode=1) from None
        except UnicodeDecodeError:
            raise CommandError(
                gettext("%(file)s is not UTF-8 text.") % {"file": self._name(source)}, returncode=1
            ) from None
        except OSError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: %(error)s") % {"file": source, "error": exc.strerror or exc},
                returncode=1,
            ) from None

    # ---- output --------------------------------------------------------------------------------

    def _report(self, instrument: Instrument, result: ScoreResult, language: str) -> None:
        write = self.stdout.write

        def band_label(band_id: str | None) -> str:
            return instrument.band(band_id).label.get(language) if band_id else "–"

        def number(value: Decimal | None) -> str:
            return "–" if value is None else f"{value:.1f}"

        write(
            self.style.SUCCESS(
                f"{instrument.title.get(language)} ({instrument.id}, "
                + gettext("version %(version)s") % {"version": instrument.version}
                + ")"
            )
        )
        titles = {d.id: d.title.get(language) for d in instrument.dimensions}
        width = max(len(title) for title in titles.values())
        for dimension_id, dimension in result.dimensions.items():
            write(
                f"  {titles[dimension_id]:<{width}}  {number(dimension.score):>5}  "
                f"{band_label(dimension.band):<22}  "
                + gettext("%(answered)d of %(total)d scored questions answered")
                % {"answered": dimension.answered, "total": dimension.scored_questions}
            )
        write(
            gettext("Overall: %(score)s (%(band)s)")
            % {"score": number(result.overall), "band": band_label(result.band)}
        )
        if result.missing_required:
            write(
                gettext("Required questions not answered: %(questions)s")
                % {"questions": ", ".join(result.missing_required)}
            )
        needs = derive_needs(instrument, result)
        if needs:
            write(gettext("Needs (dimensions below their threshold, most urgent first):"))
            for need in needs:
                write(f"  {need.priority}. {need.title.get(language)} ({number(need.score)})")
                write(f"     {need.rationale.get(language)}")
