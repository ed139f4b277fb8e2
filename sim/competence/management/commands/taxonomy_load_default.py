"""``sim taxonomy_load_default [--update] [--dry-run] [--json] [--user USERNAME]``.

Loads the default taxonomy shipped with the package (``sim/competence/data/occupations.csv`` and
``skills.csv``: occupations and skills of manufacturing and adjacent trades, Swedish and English
labels). Idempotent: concepts already there are left alone (``--update`` resets them to the shipped
labels), missing ones and missing broader links are added. ``sim demo`` runs it as well.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sim.competence.services_taxonomy import TaxonomyError, default_taxonomy_sync
from sim.competence.taxonomy import DefaultTaxonomyError
from sim.core.commands import actor_by_username
from sim.core.models import AuditEvent


class Command(BaseCommand):
    help = "Load the default taxonomy (occupations and skills of manufacturing) shipped with the package."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--update", action="store_true",
                            help="Also set concepts that differ from the shipped ones back to the shipped labels.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the counts as one JSON object.")
        parser.add_argument("--user", help="Record this user (username) in the audit trail.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_by_username(options.get("user"))
        try:
            counts = default_taxonomy_sync(update=options["update"], dry_run=options["dry_run"], actor=actor,
                                           source=AuditEvent.Source.CLI)
        except (TaxonomyError, DefaultTaxonomyError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, TaxonomyError) else str(exc)
            raise CommandError(message, returncode=1) from None
        if options["as_json"]:
            self.stdout.write(json.dumps({**counts, "dry_run": options["dry_run"]}, indent=2))
            return
        if options["dry_run"]:
            summary = _(
                "Dry run, nothing written: %(created)d concepts to create, %(updated)d to update, %(unchanged)d "
                "unchanged, %(kept)d edited and kept, %(links_created)d broader links to add."
            )
        else:
            summary = _(
                "Default taxonomy loaded: %(created)d concepts created, %(updated)d updated, %(unchanged)d "
                "unchanged, %(kept)d edited and kept, %(links_created)d broader links added."
            )
        self.stdout.write(self.style.SUCCESS(summary % counts))
        if counts["kept"] and not options["update"]:
            self.stdout.write(_("Run with --update to set the edited concepts back to the shipped labels."))
