"""Reads of routing: referrals, the pipeline board, interventions, follow-ups and the company timeline.

Everything is scoped to the projects the user works in (`projects.projects_for`): a referral,
intervention or follow-up of another project is not found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import states
from .models import FollowUp, Intervention, InterventionStatus, Project, Referral, ReferralStatus
from .projects import projects_for

#: Closed columns of the board (completed, declined, withdrawn) show at most this many cards.
CLOSED_COLUMN_LIMIT = 30


# --- Referrals ------------------------------------------------------------------------------


def referrals_visible_to(user) -> QuerySet[Referral]:
    if not user.is_authenticated or not user.has_perm("programmes.view_referral"):
        return Referral.objects.none()
    return Referral.objects.filter(project__in=projects_for(user)).select_related(
        "project", "company", "offer", "advisor"
    )


def referral_for_user(user, pk: int) -> Referral | None:
    return referrals_visible_to(user).filter(pk=pk).first()


@dataclass
class PipelineColumn:
    status: str
    label: str
    cards: list[Referral]
    count: int
    open: bool

    @property
    def truncated(self) -> bool:
        return self.count > len(self.cards)


@dataclass
class PipelineFilters:
    advisor: int | None = None
    focus_area: int | None = None

    @classmethod
    def from_params(cls, params) -> PipelineFilters:
        def number(name):
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        return cls(advisor=number("advisor"), focus_area=number("focus_area"))

    def as_query(self) -> dict:
        return {key: value for key, value in (("advisor", self.advisor), ("focus_area", self.focus_area)) if value}


def pipeline(user, project: Project, filters: PipelineFilters | None = None) -> list[PipelineColumn]:
    """The referrals of `project` in one column per status (open columns whole, closed ones the latest)."""
    filters = filters or PipelineFilters()
    queryset = referrals_visible_to(user).filter(project=project)
    if filters.advisor:
        queryset = queryset.filter(advisor_id=filters.advisor)
    if filters.focus_area:
        queryset = queryset.filter(offer__focus_areas=filters.focus_area).distinct()
    columns = []
    for status in states.REFERRAL_COLUMNS:
        in_column = queryset.filter(status=status)
        is_open = status in states.REFERRAL_OPEN
        ordered = in_column.order_by("status_changed_at", "pk") if is_open else in_column.order_by("-status_changed_at", "-pk")
        cards = list(ordered if is_open else ordered[:CLOSED_COLUMN_LIMIT])
        for card in cards:
            card.next_statuses = [(s, ReferralStatus(s).label) for s in states.referral_next_statuses(card.status)]
            card.forward_statuses = [(s, label) for s, label in card.next_statuses if s not in states.REFERRAL_NEEDS_REASON]
            card.closing_statuses = [(s, label) for s, label in card.next_statuses if s in states.REFERRAL_NEEDS_REASON]
            card.status_date = getattr(card, states.REFERRAL_DATE_FIELD[card.status])
        columns.append(PipelineColumn(
            status=status, label=str(ReferralStatus(status).label), cards=cards,
            count=len(cards) if is_open else in_column.count(), open=is_open,
        ))
    return columns


def project_advisors(project: Project) -> QuerySet:
    """The people of a project, for the advisor filter and the advisor choice of a referral."""
    return get_user_model().objects.filter(project_memberships__project=project, is_active=True).order_by(
        "first_name", "last_name", "username"
    ).distinct()


def my_open_referrals(user, limit: int = 20) -> list[Referral]:
    return list(
        referrals_visible_to(user).filter(advisor=user, status__in=states.REFERRAL_OPEN)
        .order_by("status_changed_at", "pk")[:limit]
    )


def stale_referrals(*, today: dt.date, days: int) -> QuerySet[Referral]:
    """Open referrals whose status last changed on or before `today` − `days` (all projects)."""
    cutoff = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min))
    return Referral.objects.filter(status__in=states.REFERRAL_OPEN, status_changed_at__lt=cutoff).select_related(
        "project", "company", "offer", "advisor", "created_by"
    ).order_by("pk")


# --- Interventions --------------------------------------------------------------------------


def interventions_visible_to(user) -> QuerySet[Intervention]:
    if not user.is_authenticated or not user.has_perm("programmes.view_intervention"):
        return Intervention.objects.none()
    return Intervention.objects.filter(project__in=projects_for(user)).select_related(
        "project", "company", "focus_area", "provider", "approved_by"
    )


def intervention_for_user(user, pk: int) -> Intervention | None:
    return interventions_visible_to(user).filter(pk=pk).first()


def growth_goals_of(company) -> QuerySet:
    """The measurable goals of the company's growth plans an intervention can serve."""
    from sim.assessments.models import GrowthGoal

    return GrowthGoal.objects.filter(plan__company=company).select_related("plan").order_by("plan__created_at", "order", "pk")


# --- Follow-ups -----------------------------------------------------------------------------


def follow_ups_visible_to(user) -> QuerySet[FollowUp]:
    if not user.is_authenticated or not user.has_perm("programmes.view_followup"):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(
        Q(project__in=projects_for(user)) | Q(project__isnull=True, assigned_to=user)
    ).select_related("project", "company", "assigned_to")


def follow_up_for_user(user, pk: int) -> FollowUp | None:
    return follow_ups_visible_to(user).filter(pk=pk).first()


def my_follow_ups(user, *, include_done: bool = False, today: dt.date | None = None) -> list[FollowUp]:
    """The user's follow-ups, overdue first (oldest due date first), then due today, then later."""
    today = today or timezone.localdate()
    queryset = follow_ups_visible_to(user).filter(assigned_to=user)
    if not include_done:
        queryset = queryset.filter(done_at__isnull=True)
    rows = list(queryset.order_by("done_at", "due_on", "pk"))
    for row in rows:
        row.is_overdue = row.done_at is None and row.due_on < today
        row.is_due_today = row.done_at is None and row.due_on == today
    # Open ones first, overdue before the rest; done ones last.
    rows.sort(key=lambda r: (r.done_at is not None, not r.is_overdue, r.due_on, r.pk))
    return rows


def follow_ups_of(user, company, *, today: dt.date | None = None) -> list[FollowUp]:
    today = today or timezone.localdate()
    rows = list(follow_ups_visible_to(user).filter(company=company).order_by("due_on", "pk"))
    for row in rows:
        row.is_overdue = row.done_at is None and row.due_on < today
    rows.sort(key=lambda r: (r.done_at is not None, r.due_on if r.done_at is None else dt.date.max - r.due_on, r.pk))
    return rows


def follow_ups_due(user, *, today: dt.date | None = None) -> QuerySet[FollowUp]:
    """Open follow-ups assigned to the user that are due today or overdue."""
    today = today or timezone.localdate()
    return follow_ups_visible_to(user).filter(assigned_to=user, done_at__isnull=True, due_on__lte=today)


# --- The company timeline -------------------------------------------------------------------


@dataclass
class TimelineItem:
    kind: str  # "referral" | "intervention"
    obj: object
    title: str
    status: str
    status_label: str
    project: Project
    steps: list[tuple[str, dt.date]] = field(default_factory=list)  # (label, date), in order

    @property
    def latest(self) -> dt.date:
        return max((day for _label, day in self.steps), default=dt.date.min)


@dataclass
class TimelineEvent:
    on: dt.date
    kind: str
    label: str
    title: str
    obj: object


def company_routing(user, company) -> dict:
    """Referrals and interventions of the company (in the user's projects) with their dated steps.

    ``items``: one per referral/intervention, newest change first; ``events``: every dated step,
    newest first (the timeline).
    """
    items: list[TimelineItem] = []
    for referral in referrals_visible_to(user).filter(company=company).prefetch_related("offer__focus_areas"):
        steps = [
            (str(ReferralStatus(status).label), getattr(referral, date_field))
            for status, date_field in states.REFERRAL_DATE_FIELD.items()
            if getattr(referral, date_field)
        ]
        items.append(TimelineItem("referral", referral, referral.offer.title, referral.status,
                                  str(referral.get_status_display()), referral.project, sorted(steps, key=lambda s: s[1])))
    for intervention in interventions_visible_to(user).filter(company=company):
        steps = [(_("Drafted"), timezone.localtime(intervention.created_at).date())]
        steps += [
            (str(InterventionStatus(status).label), getattr(intervention, date_field))
            for status, date_field in states.INTERVENTION_DATE_FIELD.items()
            if getattr(intervention, date_field)
        ]
        items.append(TimelineItem("intervention", intervention, intervention.title, intervention.status,
                                  str(intervention.get_status_display()), intervention.project,
                                  sorted(steps, key=lambda s: s[1])))
    items.sort(key=lambda item: (item.latest, item.obj.pk), reverse=True)
    # Newest first; steps of one item on the same day in reverse order of the machine (started before accepted).
    ordered = [
        (day, index, TimelineEvent(on=day, kind=item.kind, label=label, title=item.title, obj=item.obj))
        for item in items for index, (label, day) in enumerate(item.steps)
    ]
    ordered.sort(key=lambda row: (row[0], row[1]), reverse=True)
    events = [event for _day, _index, event in ordered]
    return {"items": items, "events": events}
