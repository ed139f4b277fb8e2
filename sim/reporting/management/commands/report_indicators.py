"""``sim report_indicators --project CODE [--from DATE] [--to DATE] [--json]``: every indicator of the
project's set (and its own), counted for the period (default: the whole project).

``--json`` prints ``{"project": …, "period": {"from": …, "to": …}, "indicators": [{"code", "value",
"unit", "breakdown" (size split, where the indicator has one), "target", "companies" (organisation
numbers, for indicators that count enterprises)}]}``; without it a table. Bad input gives a message
and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from sim.reporting import rules, selectors


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Count the project's EU indicators for a period (the whole project unless --from/--to)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="The project's code.")
        parser.add_argument("--from", dest="start", help="First day (YYYY-MM-DD); default the project's start.")
        parser.add_argument("--to", dest="end", help="Last day (YYYY-MM-DD); default the project's end.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON instead of a table.")
        parser.add_argument("--language", choices=("sv", "en"), default="sv", help="Language of the table.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = selectors.project_by_code(options["project"])
        if project is None:
            raise CommandError(f"No project with the code {options['project']!r}.")
        start = _date(options["start"], "--from") or project.start_date
        end = _date(options["end"], "--to") or project.effective_end
        try:
            period = rules.Period(start, end)
        except rules.RuleError as exc:
            raise CommandError(str(exc)) from None
        report = selectors.indicator_report(project, period)
        if not report.rows:
            raise CommandError(f"Project {project.code} has no indicators: choose an indicator set first.")
        if options["as_json"]:
            self.stdout.write(json.dumps(selectors.report_json(report), ensure_ascii=False, indent=2))
            return
        with translation.override(options["language"]):
            self._table(report)

    def _table(self, report) -> None:
        from rich.console import Console
        from rich.table import Table

        from sim.reporting.formatting import format_value

        english = translation.get_language() == "en"
        table = Table(title=f"{report.project.name} ({report.project.code}) {report.period.start} – {report.period.end}")
        for heading in (("Code", "Kod"), ("Indicator", "Indikator"), ("Value", "Värde"), ("Unit", "Enhet"),
                        ("Target", "Mål"), ("Breakdown", "Fördelning")):
            table.add_column(heading[0] if english else heading[1])
        for row in report.rows:
            breakdown = ", ".join(f"{k} {v}" for k, v in (row.value.breakdown or {}).items())
            table.add_row(row.code, row.indicator.name, format_value(row.value.value, row.indicator.unit),
                          row.indicator.unit, format_value(row.target, row.indicator.unit), breakdown)
        console = Console(file=self.stdout, width=160, force_terminal=False, color_system=None)
        console.print(table)
