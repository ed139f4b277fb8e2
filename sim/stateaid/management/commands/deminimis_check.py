"""``sim deminimis_check FILE.json [--json]``: may a de minimis award be granted? A what-if with no database.

The scenario (see docs/domain-rules.md, "De minimis (Regulation 2023/2831 and 1407/2013)")::

    {"undertakings": [{"id": "556000-0001", "road_freight": false, "fiscal_year_start": "01-01"}],
     "control_links": [{"parent": "556000-0001", "child": "556000-0002"}],
     "rates": [{"date": "2023-01-02", "sek_per_eur": 11.1}],
     "awards": [{"undertaking": "556000-0002", "date_granted": "2023-05-01", "amount_eur": 120000}],
     "proposed": {"undertaking": "556000-0001", "date_granted": "2025-03-01", "amount_sek": 1000000}}

Every award and the proposal give ``amount_eur`` or ``amount_sek`` (converted at the latest rate on
or before its date of granting). The result: allowed, regulation, ceiling, used, proposed and
headroom in whole euros, the window, the single undertaking, the counted awards and an
explanation. The rules are those of the ledger (:mod:`sim.stateaid.rules`).

Bad input (missing file, invalid JSON, unknown undertaking, negative amount, unparsable date,
missing rate) gives a message on stderr and exit status 1. A refusal is a result, not an error:
exit status 0.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from sim.stateaid.rules import RuleError, evaluate_scenario


class Command(BaseCommand):
    help = (
        "Check whether a proposed de minimis award fits under the ceiling of Regulation (EU) 2023/2831 or "
        "No 1407/2013, from a JSON scenario of undertakings, control links, exchange rates and earlier awards."
    )
    # Pure computation: no database, no need for the system checks.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Scenario JSON file, or - to read standard input.")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="Print the result as one JSON object instead of a readable report.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"]
        text = self._read(source, options.get("stdin") or sys.stdin)
        try:
            data = json.loads(text, parse_float=Decimal)
        except RecursionError:
            raise CommandError(gettext("%(file)s is nested too deeply to be read.") % {"file": self._name(source)},
                               returncode=1) from None
        except ValueError as exc:  # invalid JSON, or an integer with too many digits
            raise CommandError(gettext("%(file)s is not valid JSON: %(error)s") % {
                "file": self._name(source), "error": exc}, returncode=1) from None
        try:
            result = evaluate_scenario(data)
        except RuleError as exc:
            raise CommandError(str(exc), returncode=1) from None
        if options["as_json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
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
            raise CommandError(gettext("%(file)s is not UTF-8 text.") % {"file": self._name(source)},
                               returncode=1) from None
        except OSError as exc:
            raise CommandError(gettext("Cannot read %(file)s: %(error)s") % {
                "file": source, "error": exc.strerror or exc}, returncode=1) from None

    def _report(self, result: dict) -> None:
        write = self.stdout.write
        values = {key: f"{result[key]:,}".replace(",", " ") for key in ("ceiling_eur", "used_eur", "proposed_eur",
                                                                         "headroom_eur")}
        values["regulation"] = result["regulation"]
        if result["allowed"]:
            write(self.style.SUCCESS(gettext(
                "Allowed under Regulation (EU) %(regulation)s: EUR %(proposed_eur)s fits (used EUR %(used_eur)s of "
                "EUR %(ceiling_eur)s, headroom EUR %(headroom_eur)s).") % values))
        else:
            write(self.style.ERROR(gettext(
                "Not allowed under Regulation (EU) %(regulation)s: EUR %(proposed_eur)s does not fit (used "
                "EUR %(used_eur)s of EUR %(ceiling_eur)s, headroom EUR %(headroom_eur)s); no part of it may be "
                "granted as de minimis aid.") % values))
        write(gettext("Window: %(from)s to %(to)s") % result["window"])
        write(gettext("Single undertaking: %(members)s") % {"members": ", ".join(result["single_undertaking"])})
        write(gettext("Explanation:"))
        for line in result["explanation"]:
            write(f"  - {line}")
