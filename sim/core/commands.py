"""What the import commands (``import_companies``, ``import_costs``, ``taxonomy_import``) share:
the ``--user`` actor, the report of warnings and row errors, and the refusal with exit status 1.

The results they take are the importers' results: ``warnings``, ``fatal``, ``errors``,
``error_count`` and ``listed_errors()`` (rows of ``{"row", "column", "message"}``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


def actor_by_username(username: str | None):
    """The user named by ``--user`` (``None`` without one); an unknown name stops the command."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(_("No user with the username %(name)s.") % {"name": username}, returncode=1)
    return user


def write_problems(command: BaseCommand, result) -> None:
    """Warnings, then every listed row error (row and column named), on standard error. A refused
    file (``fatal``) has no row errors: its reason is the command's error message."""
    for warning in result.warnings:
        command.stderr.write(command.style.WARNING(_("Warning: %(message)s") % {"message": warning}))
    if result.fatal:
        return
    for error in result.listed_errors():
        if error["row"] is None:
            line = error["message"]
        elif error["column"]:
            line = _("Row %(row)s, column “%(column)s”: %(message)s") % error
        else:
            line = _("Row %(row)s: %(message)s") % error
        command.stderr.write(command.style.ERROR(line))


def refusal(result, *, dry_run: bool) -> CommandError:
    """The error (exit status 1) of a refused file or of a file with row errors."""
    if result.fatal:
        message = result.errors[0].message
    elif dry_run:
        message = _("The file has %(count)d errors.") % {"count": result.error_count}
    else:
        message = _("The file has %(count)d errors; nothing was imported.") % {"count": result.error_count}
    return CommandError(message, returncode=1)
