"""``sim create_follow_ups [--days 30] [--today YYYY-MM-DD] [--dry-run] [--json]``.

Creates a follow-up for every open referral (proposed, accepted or started) whose status has not
changed for ``--days`` days (30 by default), assigned to its responsible advisor and due today.
Idempotent: each referral gets one such follow-up per status change (``FollowUp.source_key``), so
running it daily (cron or a systemd timer, see docs/operations.md) never duplicates one. Moving the
referral on marks its reminder done.

(The other automatic follow-up — the T1 assessment six months after an intervention is
delivered — is created by the delivered transition itself.)
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sim.core.models import AuditEvent
from sim.programmes import services
from sim.programmes.selectors import stale_referrals


class Command(BaseCommand):
    help = "Create follow-ups for referrals whose status has not changed for 30 days (idempotent; run daily)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=services.STALE_REFERRAL_DAYS,
                            help="Days without a status change (default %(default)s).")
        parser.add_argument("--today", help="Run as if today were this date (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Only list the referrals; create nothing.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if days < 1:
            raise CommandError("--days must be at least 1.")
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today: {options['today']!r} is not a date (YYYY-MM-DD).") from None
        if options["dry_run"]:
            from django.utils import timezone

            from sim.programmes.models import FollowUp

            rows = []
            for referral in stale_referrals(today=today or timezone.localdate(), days=days):
                key = services.stale_referral_key(referral)
                exists = FollowUp.objects.filter(kind=FollowUp.Kind.STALE_REFERRAL, source_key=key).exists()
                rows.append({"referral": referral.pk, "company": referral.company.name, "offer": referral.offer.title,
                             "status": referral.status, "has_follow_up": exists})
            self._print(rows, options, created=False)
            return
        with transaction.atomic():
            created = services.follow_ups_create_for_stale_referrals(
                None, today=today, days=days, source=AuditEvent.Source.CLI,
            )
        rows = [{"follow_up": f.pk, "company": f.company.name, "title": f.title, "due_on": f.due_on.isoformat(),
                 "assigned_to": f.assigned_to.get_username() if f.assigned_to else None} for f in created]
        self._print(rows, options, created=True)

    def _print(self, rows: list[dict], options: dict, *, created: bool) -> None:
        if options["json"]:
            self.stdout.write(json.dumps({"created" if created else "stale": rows}, ensure_ascii=False, indent=2))
            return
        if created:
            self.stdout.write(f"{len(rows)} follow-up(s) created.")
            for row in rows:
                self.stdout.write(f"  #{row['follow_up']} {row['company']}: {row['title']} → {row['assigned_to'] or '—'}")
        else:
            self.stdout.write(f"{len(rows)} referral(s) without a status change for {options['days']} days.")
            for row in rows:
                mark = " (follow-up exists)" if row["has_follow_up"] else ""
                self.stdout.write(f"  referral #{row['referral']} {row['company']} → {row['offer']} [{row['status']}]{mark}")
