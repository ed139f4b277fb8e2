"""``sim sme_classify FILE.json [--json]``: SME category of an enterprise from a JSON scenario.

The scenario format (numbers are JSON numbers; ``public_body``, ``exempt_investor``, ``controls``
and ``holdings`` are optional)::

    {"subject": "A",
     "enterprises": [
       {"id": "A", "public_body": false, "exempt_investor": false,
        "accounts": [{"year": 2024, "staff_awu": 11.0, "turnover_eur": 2100000,
                      "balance_sheet_eur": 950000}]},
       {"id": "B", "accounts": [...]}],
     "holdings": [{"holder": "B", "held": "A", "capital_pct": 30, "voting_pct": 35,
                   "controls": false}]}

Bad input (missing file, invalid JSON, inconsistent scenario) gives a message on stderr and exit
status 1.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sim.companies.rules import (
    CATEGORY_LABELS,
    SmeInputError,
    SmeResult,
    classify_sme,
    gettext,
    scenario_from_json,
    sme_result_to_json,
)


class Command(BaseCommand):
    help = (
        "Classify an enterprise as micro, small, medium-sized or large under the EU SME definition "
        "(Recommendation 2003/361/EC), from a JSON scenario of enterprises, accounts and holdings."
    )
    # Pure computation: no database, no need for the system checks.
    requires_system_checks: list[str] = []
    # Tests may pass ``stdin=`` to call_command() to feed "-".
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Scenario JSON file, or - to read standard input.")
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the result as one JSON object instead of a readable report.",
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
            subject, enterprises, holdings = scenario_from_json(data)
            result = classify_sme(subject, enterprises, holdings)
        except SmeInputError as exc:
            raise CommandError(str(exc), returncode=1) from None

        if options["as_json"]:
            self.stdout.write(json.dumps(sme_result_to_json(result), indent=2, ensure_ascii=False))
        else:
            self._report(result)

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

    def _report(self, result: SmeResult) -> None:
        data = sme_result_to_json(result)
        figures = data["aggregated"]
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                gettext("SME category: %(category)s (%(year)s)")
                % {"category": str(CATEGORY_LABELS[result.category]), "year": result.year}
            )
        )
        write(
            gettext(
                "Aggregated figures: %(staff).1f AWU, EUR %(turnover)s turnover, "
                "EUR %(balance)s balance sheet"
            )
            % {
                "staff": figures["staff_awu"],
                "turnover": f"{figures['turnover_eur']:,}",
                "balance": f"{figures['balance_sheet_eur']:,}",
            }
        )
        write(gettext("Per year (raw → effective):"))
        for year in sorted(result.raw_categories):
            write(
                f"  {year}: {CATEGORY_LABELS[result.raw_categories[year]]} → "
                f"{CATEGORY_LABELS[result.effective_categories.get(year, result.raw_categories[year])]}"
            )
        if data["relationships"]:
            write(gettext("Relationships:"))
            for relationship in data["relationships"]:
                kind = gettext("linked") if relationship["type"] == "linked" else gettext("partner")
                write(f"  {relationship['enterprise']}: {kind}, {relationship['share_pct']}%")
        else:
            write(gettext("Relationships: none (autonomous enterprise)."))
        write(gettext("Explanation:"))
        for line in data["explanation"]:
            write(f"  - {line}")
