"""Builders for the offer and recommendation tests: projects with members, offers, needs.

Rows are written directly (projects and memberships are another area's services); offers that
the tests check for validation go through ``offer_services``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sim.assessments.models import Need, NeedStatus
from sim.companies.models import County, Municipality
from sim.programmes.models import FocusArea, Offer, Organisation, Project, ProjectMembership, ProjectPartner

_counter = itertools.count(1)


def organisation(name: str | None = None, **kwargs) -> Organisation:
    return Organisation.objects.create(name=name or f"Organisation {next(_counter)}", **kwargs)


def project(
    *, code: str | None = None, name: str = "", members=(), counties=("23",), municipalities=(), focus_areas=None,
    status: str = "active", start: dt.date = dt.date(2024, 1, 1), end: dt.date = dt.date(2027, 12, 31),
) -> Project:
    number = next(_counter)
    owner = organisation(f"Project owner {number}")
    item = Project.objects.create(
        code=code or f"p{number}", name=name or f"Project {number}", start_date=start, end_date=end, owner=owner,
        status=status,
    )
    ProjectPartner.objects.create(project=item, organisation=owner, role=ProjectPartner.Role.OWNER)
    item.counties.set(County.objects.filter(code__in=counties))
    item.municipalities.set(Municipality.objects.filter(code__in=municipalities))
    keys = focus_areas if focus_areas is not None else [fa.key for fa in FocusArea.objects.all()]
    item.focus_areas.set(FocusArea.objects.filter(key__in=keys))
    for user in members:
        ProjectMembership.objects.create(project=item, user=user, organisation=owner)
    return item


def offer(project: Project, title: str = "", *, focus_areas=(), eligibility=None, **kwargs) -> Offer:
    item = Offer.objects.create(
        project=project, title_sv=title or f"Erbjudande {next(_counter)}", title_en=kwargs.pop("title_en", ""),
        eligibility=eligibility or {}, **kwargs,
    )
    item.focus_areas.set(FocusArea.objects.filter(key__in=focus_areas))
    return item


def need(company, focus_area: str | None, priority: int = 1, title: str = "", *, status: str = NeedStatus.OPEN) -> Need:
    return Need.objects.create(
        company=company, focus_area=FocusArea.objects.filter(key=focus_area).first() if focus_area else None,
        title=title or f"Need {next(_counter)}", priority=priority, status=status,
    )


def money(value) -> Decimal:
    return Decimal(str(value))
