"""``sim demo_logins``: the demo site's address and the demo logins per role."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sim.companies.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the URL and the demo logins (username, password, role) created by `sim demo`."

    def handle(self, *args, **options):
        url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/"
        users = get_user_model().objects.in_bulk([u.username for u in DEMO_USERS], field_name="username")
        rows = []
        unchanged: dict[str, bool] = {}  # by stored hash: `sim demo` gives all users the same one
        for spec in DEMO_USERS:
            user = users.get(spec.username)
            if user is None:
                continue
            if user.password not in unchanged:
                unchanged[user.password] = user.check_password(DEMO_PASSWORD)
            password = DEMO_PASSWORD if unchanged[user.password] else _("(changed)")
            rows.append((spec.username, password, spec.role.label, user.get_full_name()))
        if not rows:
            self.stdout.write(_("No demo users in this database. Create them with: sim demo"))
            return

        headers = tuple(pgettext("demo logins", h) for h in ("Username", "Password", "Role", "Name"))
        if self.stdout.isatty():
            from rich.console import Console
            from rich.table import Table

            table = Table(title=_("Demo logins at %(url)s") % {"url": url})
            for header in headers:
                table.add_column(header)
            for row in rows:
                table.add_row(*row)
            console = Console()
            console.print(table)
            console.print(_("Demo only: never use these accounts in production."), style="yellow")
            return

        self.stdout.write(_("Demo logins at %(url)s") % {"url": url})
        widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
        for row in (headers, *rows):
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write(_("Demo only: never use these accounts in production."))
