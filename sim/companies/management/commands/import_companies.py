"""``sim import_companies FILE [--dry-run] [--skip-invalid] [--json] [--user USERNAME]``.

Imports companies and their key figures from a CSV or XLSX file (see ``docs/import.md``).
Exit status 0 when the import (or the dry run) went through, 1 when the file or any row is invalid
(nothing is written then, unless ``--skip-invalid``) or the file is not a readable table.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from sim.companies.importer import ImportResult, import_companies
from sim.core.commands import actor_by_username, refusal, write_problems
from sim.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Import companies (and key figures) from a CSV or XLSX file: create new ones, update those "
        "already in the register (matched by organisation number). See docs/import.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="CSV or XLSX file (first sheet), or - to read standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report what would change; write nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows and report the invalid ones (default: all or nothing)."
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the result as one JSON object.")
        parser.add_argument("--user", help="Record this user (username) as the one who imported, in the audit trail.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_by_username(options.get("user"))
        as_json = options["as_json"]
        source = options["file"]
        progress_bar = None
        callback = None
        if not as_json and self._is_terminal():
            progress_bar, callback = self._progress(options["dry_run"])
        try:
            if source == "-":
                import sys

                result = import_companies(
                    sys.stdin.buffer, actor=actor, dry_run=options["dry_run"], skip_invalid=options["skip_invalid"],
                    progress=callback, source=AuditEvent.Source.CLI, name=_("standard input"),
                )
            else:
                result = import_companies(
                    source, actor=actor, dry_run=options["dry_run"], skip_invalid=options["skip_invalid"],
                    progress=callback, source=AuditEvent.Source.CLI,
                )
        finally:
            if progress_bar is not None:
                progress_bar.stop()

        if as_json:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        else:
            self._report(result)
        if result.fatal or (result.error_count and not (options["skip_invalid"] and result.written)):
            raise refusal(result, dry_run=options["dry_run"])

    # --- helpers -----------------------------------------------------------------------------

    def _is_terminal(self) -> bool:
        try:
            return bool(self.stdout.isatty())
        except (AttributeError, ValueError):
            return False

    def _progress(self, dry_run: bool):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
            console=Console(file=self.stdout._out), transient=True,
        )
        labels = {"check": _("Checking"), "write": _("Comparing") if dry_run else _("Importing")}
        tasks: dict[str, int] = {}

        def callback(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(labels.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        progress.start()
        return progress, callback

    def _report(self, result: ImportResult) -> None:
        write = self.stdout.write
        write_problems(self, result)
        if result.fatal:
            return
        counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        if result.dry_run:
            summary = _("Dry run, nothing written: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged.")
        elif result.written:
            summary = _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        else:
            return
        write(self.style.SUCCESS(summary % counts) if result.ok or result.written else summary % counts)
        if result.written and result.invalid_rows:
            write(self.style.WARNING(_("%(count)d invalid rows were skipped.") % {"count": result.invalid_rows}))
