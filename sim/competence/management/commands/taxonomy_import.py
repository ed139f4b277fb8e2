"""``sim taxonomy_import FILE --format esco-csv --kind occupation|skill [--language sv|en]``.

Imports an ESCO CSV download into the competence taxonomy (see docs/domain-rules.md, "Taxonomy"):

* ``--format esco-csv`` (default): a concept file (``occupations_sv.csv``, ``skills_en.csv``, …) with
  the columns ``conceptUri``, ``preferredLabel``, ``altLabels`` (one label a line) and optionally
  ``description``; other columns are ignored. The labels are of one language: ``--language``, or
  the one in the file name, or Swedish. Concepts are matched by URI: new ones are created, known
  ones get the file's labels in that language (in place, no duplicates).
* ``--format esco-broader``: ESCO's broader relations (``broaderRelationsOccPillar.csv``):
  ``conceptUri``, ``broaderUri``; links between concepts already in the taxonomy are added.

All or nothing: when any row is invalid nothing is written and every problem is listed with its
row and column. Exit status 0 when the import (or dry run) went through, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sim.competence import taxonomy
from sim.competence.esco_import import ESCO_BROADER, ESCO_CSV, FORMATS, TaxonomyImportResult
from sim.competence.services_taxonomy import taxonomy_import
from sim.core.commands import actor_by_username, refusal, write_problems
from sim.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Import ESCO occupations or skills (CSV download) into the competence taxonomy: create new "
        "concepts and update the labels of known ones (matched by URI). See docs/domain-rules.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="ESCO CSV file (e.g. occupations_sv.csv), or - to read standard input.")
        parser.add_argument("--format", dest="file_format", choices=FORMATS, default=ESCO_CSV,
                            help="esco-csv: a concept file (default); esco-broader: broader relations.")
        parser.add_argument("--kind", choices=taxonomy.KINDS, help="What the concept file holds (required for esco-csv).")
        parser.add_argument("--language", help="Language of the labels: sv or en (default: from the file name, else sv).")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report what would change; write nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the result as one JSON object.")
        parser.add_argument("--user", help="Record this user (username) as the one who imported, in the audit trail.")

    def handle(self, *args: Any, **options: Any) -> None:
        file_format = options["file_format"]
        if file_format == ESCO_CSV and not options.get("kind"):
            raise CommandError(_("Say which kind of concepts the file holds: --kind occupation or --kind skill."), returncode=1)
        actor = actor_by_username(options.get("user"))
        source = options["file"]
        common = {
            "file_format": file_format, "kind": options.get("kind"), "language": options.get("language"),
            "actor": actor, "dry_run": options["dry_run"], "source": AuditEvent.Source.CLI,
        }
        if source == "-":
            result = taxonomy_import(sys.stdin.buffer, name=_("standard input"), **common)
        else:
            result = taxonomy_import(source, **common)
        if options["as_json"]:
            data = result.as_json()
            data["rows"] = result.rows
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self._report(result)
        if not result.ok:
            raise refusal(result, dry_run=options["dry_run"])

    def _report(self, result: TaxonomyImportResult) -> None:
        write_problems(self, result)
        if result.fatal:
            return
        if not result.ok:
            return
        counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        if result.format == ESCO_BROADER:
            counts["skipped"] = result.skipped
            if result.dry_run:
                summary = _("Dry run, nothing written: %(created)d links to add, %(unchanged)d already there, %(skipped)d left out.")
            else:
                summary = _("Imported: %(created)d links added, %(unchanged)d already there, %(skipped)d left out.")
        elif result.dry_run:
            summary = _("Dry run, nothing written: %(created)d concepts to create, %(updated)d to update, %(unchanged)d unchanged.")
        else:
            summary = _("Imported: %(created)d concepts created, %(updated)d updated, %(unchanged)d unchanged.")
        self.stdout.write(self.style.SUCCESS(summary % counts))
