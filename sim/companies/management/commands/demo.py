"""``sim demo [--seed N] [--companies 300] [--if-empty]``: fill an empty database with demo data.

Creates one demo user per role (shared password, demo only) and a believable company register for
Jämtland county, written through the services so that it has an audit history. Same seed, same
data. See :mod:`sim.companies.demo`.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sim.companies.demo import DEFAULT_COMPANIES, DEFAULT_SEED, MIN_COMPANIES, plan_demo, write_demo
from sim.companies.models import Company


class Command(BaseCommand):
    help = "Fill an empty database with demo users and a demo company register (Jämtland county)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s)."
        )
        parser.add_argument(
            "--companies",
            type=int,
            default=DEFAULT_COMPANIES,
            help=f"Number of companies, at least {MIN_COMPANIES} (default %(default)s).",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the register already holds companies."
        )

    def handle(self, *args, seed: int, companies: int, if_empty: bool, **options):
        existing = Company.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(
                    _("The register already holds %(count)d companies: no demo data written.")
                    % {"count": existing}
                )
                return
            raise CommandError(
                _(
                    "The register already holds %(count)d companies. The demo is meant for an empty "
                    "database; use --if-empty to skip silently."
                )
                % {"count": existing}
            )
        if companies < MIN_COMPANIES:
            raise CommandError(_("The demo needs at least %(min)d companies.") % {"min": MIN_COMPANIES})

        started = time.perf_counter()
        plan = plan_demo(seed, companies)
        context = write_demo(plan)
        elapsed = time.perf_counter() - started
        counts = context.counts
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo data written in %(seconds).1f s (seed %(seed)d): %(companies)d companies "
                    "(%(outside)d outside the county), %(figures)d key-figure years, "
                    "%(links)d ownership links, %(contacts)d contacts."
                )
                % {
                    "seconds": elapsed,
                    "seed": seed,
                    "companies": counts["companies"],
                    "outside": counts["outside_county"],
                    "figures": counts["key_figures"],
                    "links": counts["ownership_links"],
                    "contacts": counts["contacts"],
                }
            )
        )
        self.stdout.write(_("Demo users: %(users)s") % {"users": ", ".join(u.username for u in plan.users)})
        self.stdout.write(
            _(
                "Password for all demo users: %(password)s "
                "(demo only: never use these accounts in production)."
            )
            % {"password": plan.password}
        )
        if context.kept_users:
            self.stdout.write(
                self.style.WARNING(
                    _("These users already existed and were left unchanged (password included): %(users)s")
                    % {"users": ", ".join(context.kept_users)}
                )
            )
        self.stdout.write(_("Run `sim demo_logins` to list the logins per role."))
