"""``sim export_project CODE FILE.json [--user USERNAME]``: write a project's complete data.

The format is `sim-project-export` version 1 (docs/project-export-format.md). ``-`` as FILE writes
to standard output. The file holds personal data (contacts, users): handle it accordingly.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sim.core.audit import audit_record
from sim.core.commands import actor_by_username
from sim.core.models import AuditEvent
from sim.interchange.exporting import ExportInconsistent, export_project
from sim.programmes.models import Project


class Command(BaseCommand):
    help = "Write a project's complete data as a versioned JSON document (docs/project-export-format.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="The project's code (e.g. sim-2019).")
        parser.add_argument("file", help="The JSON file to write, or - for standard output.")
        parser.add_argument("--user", help="Record this user (username) as the one who exported, in the audit trail.")

    def handle(self, *args: Any, code: str, file: str, user: str | None = None, **options: Any) -> None:
        project = Project.objects.filter(code=code).first()
        if project is None:
            raise CommandError(_("No project with the code %(code)s.") % {"code": code}, returncode=1)
        actor = actor_by_username(user)
        started = time.perf_counter()
        try:
            document = export_project(project)
        except ExportInconsistent as exc:
            raise CommandError(str(exc), returncode=1) from exc
        text = json.dumps(document, ensure_ascii=False, indent=1)
        if file == "-":
            self.stdout.write(text)
        else:
            try:
                with open(file, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
            except OSError as exc:
                raise CommandError(_("Cannot write %(file)s: %(reason)s") % {"file": file, "reason": exc.strerror}, returncode=1) from exc
        audit_record(actor, AuditEvent.Action.EXPORT, project, source=AuditEvent.Source.CLI,
                     message=_("Project data exported (%(format)s version %(version)s).")
                     % {"format": document["format"], "version": document["version"]})
        if file != "-":
            counts = ", ".join(f"{key} {len(value)}" for key, value in document.items() if isinstance(value, list) and value)
            self.stdout.write(self.style.SUCCESS(
                _("Project %(code)s exported to %(file)s in %(seconds).1f s: %(counts)s.")
                % {"code": code, "file": file, "seconds": time.perf_counter() - started, "counts": counts}
            ))
