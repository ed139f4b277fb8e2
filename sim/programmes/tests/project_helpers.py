"""Builders for the project, mailing and activity tests (written through services_projects)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import translation

from sim.companies.models import County
from sim.programmes import services_projects
from sim.programmes.models import FocusArea, Organisation, Project

_seq = itertools.count(1)

ANONYMOUS = "anonymous"


def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIM_MAIL_SEND_INLINE = False
    return translation.override("en")


def organisation(name: str | None = None, kind: str = Organisation.Kind.DEVELOPMENT) -> Organisation:
    return Organisation.objects.get_or_create(name=name or f"Organisation {next(_seq)}", defaults={"kind": kind})[0]


def make_project(*members, code: str | None = None, start=dt.date(2024, 1, 1), end=dt.date(2027, 12, 31),
                 counties=("23",), focus_areas=None, **extra) -> Project:
    n = next(_seq)
    owner = organisation(extra.pop("owner_name", f"Ägare {n}"), Organisation.Kind.PUBLIC)
    data = {
        "code": code or f"proj-{n}", "name": extra.pop("name", f"Projekt {n}"), "start_date": start, "end_date": end,
        "owner": owner, "counties": list(County.objects.filter(code__in=counties)),
        "focus_areas": list(FocusArea.objects.filter(key__in=focus_areas) if focus_areas is not None
                            else FocusArea.objects.all()),
        **extra,
    }
    project = services_projects.project_create(None, data, join=False)
    for user in members:
        services_projects.project_member_add(None, project, user, owner)
    return project
