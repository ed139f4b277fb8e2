"""Reads of activities and events, scoped to the projects the user works in, and hour roll-ups.

The roll-ups (:func:`hours_by_company`, :func:`hours_by_focus_area`, :func:`hours_by_advisor`,
:func:`hours_by_month`) are single aggregate queries over a project and an optional period; the
reporting module builds on them. An activity with two advisors counts its hours once per company,
focus area and month, and once for each advisor in :func:`hours_by_advisor` (each of them spent them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from sim.programmes.models import Project
from sim.programmes.projects import projects_for

from .models import Activity, Event, Registration

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=2))


def activities_visible_to(user) -> QuerySet[Activity]:
    if not user.is_authenticated or not user.has_perm("activities.view_activity"):
        return Activity.objects.none()
    return (
        Activity.objects.filter(project__in=projects_for(user))
        .select_related("project", "company", "focus_area", "created_by")
        .prefetch_related("advisors", "contacts")
    )


def activity_for_user(user, pk: int) -> Activity | None:
    return activities_visible_to(user).filter(pk=pk).first()


def _period(queryset: QuerySet, start: dt.date | None, end: dt.date | None, field: str = "date") -> QuerySet:
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lte": end})
    return queryset


def project_activities(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> QuerySet[Activity]:
    return _period(Activity.objects.filter(project=project), start, end)


def hours_by_company(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """[{company_id, name, org_number, hours, activities}] with the most hours first."""
    rows = (
        project_activities(project, start, end)
        .values("company_id", "company__name", "company__org_number")
        .annotate(hours=Sum("hours"), activities=Count("id"))
        .order_by("-hours", "company__name")
    )
    return [
        {"company_id": r["company_id"], "name": r["company__name"], "org_number": r["company__org_number"],
         "hours": r["hours"], "activities": r["activities"]}
        for r in rows
    ]


def hours_by_focus_area(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """[{focus_area_id, key, name_sv, name_en, hours, activities, companies}]; no focus area last (key None)."""
    rows = (
        project_activities(project, start, end)
        .values("focus_area_id", "focus_area__key", "focus_area__name_sv", "focus_area__name_en", "focus_area__order")
        .annotate(hours=Sum("hours"), activities=Count("id"), companies=Count("company", distinct=True))
        .order_by("focus_area__order", "focus_area__key")
    )
    result = [
        {"focus_area_id": r["focus_area_id"], "key": r["focus_area__key"], "name_sv": r["focus_area__name_sv"],
         "name_en": r["focus_area__name_en"], "hours": r["hours"], "activities": r["activities"],
         "companies": r["companies"]}
        for r in rows
    ]
    return sorted(result, key=lambda r: r["key"] is None)


def hours_by_advisor(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """[{user_id, username, first_name, last_name, hours, activities}] with the most hours first."""
    through = Activity.advisors.through
    queryset = through.objects.filter(activity__project=project)
    if start is not None:
        queryset = queryset.filter(activity__date__gte=start)
    if end is not None:
        queryset = queryset.filter(activity__date__lte=end)
    rows = (
        queryset.values("user_id", "user__username", "user__first_name", "user__last_name")
        .annotate(hours=Sum("activity__hours"), activities=Count("activity_id"))
        .order_by("-hours", "user__username")
    )
    return [
        {"user_id": r["user_id"], "username": r["user__username"], "first_name": r["user__first_name"],
         "last_name": r["user__last_name"], "hours": r["hours"], "activities": r["activities"]}
        for r in rows
    ]


def hours_by_month(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """[{month (first day), hours, activities, companies}] in date order."""
    rows = (
        project_activities(project, start, end)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(hours=Sum("hours"), activities=Count("id"), companies=Count("company", distinct=True))
        .order_by("month")
    )
    return [
        {"month": r["month"] if isinstance(r["month"], dt.date) else dt.date.fromisoformat(str(r["month"])[:10]),
         "hours": r["hours"], "activities": r["activities"], "companies": r["companies"]}
        for r in rows
    ]


def hours_total(project: Project, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    return project_activities(project, start, end).aggregate(
        hours=Coalesce(Sum("hours"), ZERO), activities=Count("id"), companies=Count("company", distinct=True)
    )


def company_hours(company, projects) -> dict:
    """A company's hours in these projects: total and per focus area."""
    queryset = Activity.objects.filter(company=company, project__in=projects)
    total = queryset.aggregate(hours=Coalesce(Sum("hours"), ZERO), activities=Count("id"))
    by_area = (
        queryset.values("focus_area_id", "focus_area__name_sv", "focus_area__name_en", "focus_area__order")
        .annotate(hours=Sum("hours"), activities=Count("id"))
        .order_by("focus_area__order")
    )
    return {"total": total, "by_focus_area": sorted(by_area, key=lambda r: r["focus_area_id"] is None)}


# --- Events -----------------------------------------------------------------------------------


def events_visible_to(user) -> QuerySet[Event]:
    if not user.is_authenticated or not user.has_perm("activities.view_event"):
        return Event.objects.none()
    return Event.objects.filter(project__in=projects_for(user)).select_related("project")


def event_for_user(user, pk: int) -> Event | None:
    return events_visible_to(user).filter(pk=pk).first()


def with_counts(queryset: QuerySet[Event]) -> QuerySet[Event]:
    active = Q(registrations__cancelled_at__isnull=True)
    return queryset.annotate(
        registered=Count("registrations", filter=active, distinct=True),
        attended_count=Count("registrations", filter=active & Q(registrations__attended=True), distinct=True),
        companies=Count("registrations__company", filter=active, distinct=True),
    )


def registrations_of(event: Event, *, include_cancelled: bool = True) -> QuerySet[Registration]:
    queryset = event.registrations.select_related("company", "contact")
    if not include_cancelled:
        queryset = queryset.filter(cancelled_at__isnull=True)
    return queryset.order_by(F("cancelled_at").asc(nulls_first=True), "name", "id")


def seats_taken(event: Event) -> int:
    return event.registrations.filter(cancelled_at__isnull=True).count()
