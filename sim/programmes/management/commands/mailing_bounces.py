"""``sim mailing_bounces FILE [--mailing ID]``: mark sent invitations to these addresses as bounced.

FILE holds one address per line (``-`` reads standard input), e.g. from the mail server's bounce report.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from sim.core.models import AuditEvent
from sim.programmes import mailings
from sim.programmes.models import Mailing


class Command(BaseCommand):
    help = "Mark sent outreach invitations to the listed addresses as bounced."

    def add_arguments(self, parser):
        parser.add_argument("file", help="File with one address per line, or - for standard input.")
        parser.add_argument("--mailing", type=int, default=None, help="Only this mailing (id).")

    def handle(self, *args, file: str, mailing: int | None, **options):
        if file == "-":
            text = sys.stdin.read()
        else:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        target = None
        if mailing is not None:
            target = Mailing.objects.filter(pk=mailing).first()
            if target is None:
                raise CommandError(f"No mailing with id {mailing}.")
        addresses = [line.strip() for line in text.replace(",", "\n").splitlines() if "@" in line]
        result = mailings.mark_bounced(None, addresses, mailing=target, source=AuditEvent.Source.CLI)
        self.stdout.write(f"{result['marked']} recipients marked as bounced.")
        if result["unknown"]:
            self.stdout.write("Not found among sent invitations: " + ", ".join(result["unknown"]))
