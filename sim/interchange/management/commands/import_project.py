"""``sim import_project FILE.json [--check] [--user USERNAME]``: load a project export into this database.

The file is checked as a whole first (format, version, keys, values, references, conflicts with
this database); an invalid file is refused with every problem named by its path in the JSON, and
nothing is written. Exit status 0 when imported, 1 when refused.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sim.core.commands import actor_by_username
from sim.core.models import AuditEvent
from sim.interchange.importing import ImportRefused, check_document, import_project, load


class Command(BaseCommand):
    help = "Load a project export (docs/project-export-format.md) into a database without that project."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The JSON file, or - for standard input.")
        parser.add_argument("--user", help="Record this user (username) as the one who imported, in the audit trail.")
        parser.add_argument("--check", action="store_true", help="Only check the file against this database; write nothing.")

    def handle(self, *args: Any, file: str, user: str | None = None, check: bool = False, **options: Any) -> None:
        actor = actor_by_username(user)
        try:
            if file == "-":
                text = sys.stdin.buffer.read()
            else:
                with open(file, "rb") as handle:
                    text = handle.read()
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(reason)s") % {"file": file, "reason": exc.strerror}, returncode=1) from exc
        try:
            document = load(text)
            if check:
                check_document(document)
                self.stdout.write(self.style.SUCCESS(
                    _("The file can be imported into this database (nothing was written).")
                ))
                return
            project = import_project(document, actor=actor, source=AuditEvent.Source.CLI)
        except ImportRefused as refused:
            for line in refused.errors:
                self.stderr.write(line)
            raise CommandError(
                _("The file was refused (%(count)d problems); nothing was imported.") % {"count": len(refused.errors)},
                returncode=1,
            ) from refused
        self.stdout.write(self.style.SUCCESS(
            _("Project %(code)s imported: %(count)d records.") % {"code": project.code, "count": project.imported_records}
        ))
