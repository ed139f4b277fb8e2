"""``sim send_mailings [--loop] [--batch 50] [--interval 10]``: send queued outreach mailings.

Safe to run more than once at a time: each sender claims its own recipients (see
:mod:`sim.programmes.mailings` for the at-most-once guarantee). With ``--loop`` it keeps running,
polling the queue every ``--interval`` seconds, until stopped (SIGTERM or Ctrl-C end it after the
message in hand).
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from sim.programmes import mailings

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send queued outreach mailings through the configured e-mail backend."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running and poll the queue.")
        parser.add_argument("--batch", type=int, default=mailings.BATCH_SIZE, help="Recipients per batch (default %(default)s).")
        parser.add_argument("--interval", type=float, default=10.0, help="Seconds between polls with --loop (default %(default)s).")
        parser.add_argument(
            "--release-interrupted", type=int, metavar="MINUTES", default=None,
            help="Make recipients whose send was interrupted more than MINUTES ago sendable again "
                 "(they may receive the invitation twice), then exit.",
        )

    def handle(self, *args, loop: bool, batch: int, interval: float, release_interrupted: int | None, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        if release_interrupted is not None:
            if release_interrupted < 1:
                raise CommandError("--release-interrupted needs at least 1 minute.")
            count = mailings.release_interrupted(None, timedelta(minutes=release_interrupted))
            self.stdout.write(f"{count} interrupted recipients released for another attempt.")
            return
        stopping = {"now": False}

        def stop(signum, frame):
            stopping["now"] = True

        if loop:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while True:
            if not loop:
                result = mailings.send_all(batch)
            else:
                try:
                    result = mailings.send_queued(batch)
                except Exception as exc:  # noqa: BLE001 - a worker outlives a database hiccup; the next poll retries
                    logger.exception("Sending queued mailings failed")
                    self.stderr.write(f"sending failed: {exc}; retrying in {interval:g} s")
                    result = mailings.SendResult()
            if result.claimed or not loop:
                self.stdout.write(
                    f"sent {result.sent}, failed {result.failed}, to retry {result.retry}"
                    f" (of {result.claimed} claimed)"
                )
            if not loop or stopping["now"]:
                break
            if result.claimed == 0 or result.claimed == result.retry:
                waited = 0.0
                while waited < interval and not stopping["now"]:
                    time.sleep(min(0.5, interval - waited))
                    waited += 0.5
                if stopping["now"]:
                    break
        stuck = mailings.interrupted().count()
        if stuck:
            self.stderr.write(
                f"{stuck} recipients were interrupted while sending (not known whether delivered); "
                "see docs/operations.md, or run with --release-interrupted MINUTES."
            )
