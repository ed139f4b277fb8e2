"""``sim import_costs --project CODE FILE [--dry-run] [--json] [--user USERNAME]``.

Imports cost entries from an accounting export (CSV or XLSX) into a project's ledger (see
``docs/import.md``). Exit status 0 when the import (or the dry run) went through, also when every
line was already in the ledger (nothing is added then); 1 when the file is not a readable table,
any row is invalid (nothing is written), or the project or user does not exist.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sim.core.commands import actor_by_username, refusal, write_problems
from sim.core.models import AuditEvent
from sim.finance.cost_import import CostImportResult, import_costs
from sim.programmes.models import Project


class Command(BaseCommand):
    help = (
        "Import cost entries from an accounting export (CSV or XLSX) into a project's ledger: all rows or "
        "none. See docs/import.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="The project's code (e.g. sim-mitt).")
        parser.add_argument("file", help="CSV or XLSX file (first sheet), or - to read standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report what would be added; write nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the result as one JSON object.")
        parser.add_argument("--user", help="Record this user (username) as the one who imported, in the audit trail.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(code=options["project"]).first()
        if project is None:
            raise CommandError(_("No project with the code %(code)s.") % {"code": options["project"]}, returncode=1)
        actor = actor_by_username(options.get("user"))
        if options["file"] == "-":
            result = import_costs(project, sys.stdin.buffer, actor=actor, dry_run=options["dry_run"],
                                  source=AuditEvent.Source.CLI, name=_("standard input"))
        else:
            result = import_costs(project, options["file"], actor=actor, dry_run=options["dry_run"],
                                  source=AuditEvent.Source.CLI)
        if options["as_json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        else:
            self._report(result)
        if result.fatal or result.error_count:
            raise refusal(result, dry_run=options["dry_run"])

    def _report(self, result: CostImportResult) -> None:
        write_problems(self, result)
        if result.fatal:
            return
        if result.error_count:
            return
        if result.already_imported:
            for notice in result.notices:
                self.stdout.write(self.style.WARNING(notice))
            return
        figures = {"created": result.created, "amount": number_format(result.total_sek, decimal_pos=2, force_grouping=True), "project": result.project_code}
        if result.dry_run:
            summary = _("Dry run, nothing written: %(created)d cost entries (SEK %(amount)s) would be added to %(project)s.")
        else:
            summary = _("Imported: %(created)d cost entries (SEK %(amount)s) added to %(project)s.")
        self.stdout.write(self.style.SUCCESS(summary % figures))
