"""Writes of activities, events, registrations and attendance: validate, save and audit in one transaction.

Activity notes can be confidential (auditors may not read them), so the audit events of an activity
are scoped to the activity itself rather than to the company page's history.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.companies.models import CompanyStatus, Contact
from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.programmes.models import Project, ProjectStatus

from .models import Activity, Event, Registration

Source = AuditEvent.Source
Action = AuditEvent.Action

ACTIVITY_FIELDS = ("kind", "date", "hours", "focus_area", "subject", "notes")
EVENT_FIELDS = ("title", "kind", "starts_at", "ends_at", "place", "capacity", "description", "registration_open")
MAX_HOURS = Decimal("200")


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _full_clean(instance, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


def _activity_snapshot(activity: Activity, advisors=None, contacts=None) -> dict[str, Any]:
    data = snapshot(activity)
    data["advisors"] = sorted(
        [a.pk for a in advisors] if advisors is not None else activity.advisors.values_list("pk", flat=True))
    data["contacts"] = sorted(
        [c.pk for c in contacts] if contacts is not None else activity.contacts.values_list("pk", flat=True))
    return data


def _check_activity(activity: Activity, advisors, contacts) -> None:
    project = activity.project
    errors: dict[str, Any] = {}
    if project.status == ProjectStatus.CLOSED:
        errors["project"] = _("The project is closed; activities can no longer be recorded in it.")
    if activity.date and not (project.start_date <= activity.date <= project.effective_end):
        errors["date"] = _("The date lies outside the project's period (%(start)s – %(end)s).") % {
            "start": project.start_date.isoformat(), "end": project.effective_end.isoformat()}
    if activity.date and activity.date > timezone.localdate():
        errors["date"] = _("Record activities when they have taken place, not in advance.")
    try:
        hours = Decimal(str(activity.hours)) if activity.hours is not None else None
    except InvalidOperation:
        hours = None
    if hours is None or hours <= 0 or hours > MAX_HOURS:
        errors["hours"] = _("Hours must be more than 0 and at most %(max)s.") % {"max": MAX_HOURS}
    if activity.focus_area_id and project.focus_areas.exists() and not project.focus_areas.filter(
        pk=activity.focus_area_id
    ).exists():
        errors["focus_area"] = _("This focus area is not one of the project's.")
    if activity.company.status == CompanyStatus.ARCHIVED:
        errors["company"] = _("The company is archived; restore it before recording activities.")
    if not advisors:
        errors["advisors"] = _("Choose at least one advisor.")
    else:
        members = set(project.memberships.values_list("user_id", flat=True))
        outside = [a for a in advisors if a.pk not in members]
        if outside:
            errors["advisors"] = _("%(names)s do not work in the project.") % {
                "names": ", ".join(a.get_full_name() or a.get_username() for a in outside)}
    wrong = [c for c in contacts if c.company_id != activity.company_id or c.erased_at is not None]
    if wrong:
        errors["contacts"] = _("Contacts must be (not erased) contacts of the company.")
    if errors:
        raise ValidationError(errors)


def _apply(activity: Activity, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in ACTIVITY_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(activity, key, value if value is not None or key in ("focus_area", "hours", "date") else "")


@transaction.atomic
def activity_create(
    actor, project: Project, company, data: dict[str, Any], *, advisors=None, contacts=(), source: str = Source.WEB
) -> Activity:
    activity = Activity(project=project, company=company, created_by=_user(actor))
    _apply(activity, data)
    advisors = list(advisors) if advisors is not None else ([actor] if _user(actor) else [])
    contacts = list(contacts)
    _check_activity(activity, advisors, contacts)
    # The related records were checked above (or are the caller's own objects): no lookups again.
    _full_clean(activity, exclude=["created_by", "project", "company", "focus_area"])
    activity.save()
    activity.advisors.add(*advisors)
    activity.contacts.add(*contacts)
    audit_record(actor, Action.CREATE, activity, after=_activity_snapshot(activity, advisors, contacts), source=source)
    return activity


@transaction.atomic
def activity_update(
    actor, activity: Activity, data: dict[str, Any], *, advisors=None, contacts=None, source: str = Source.WEB
) -> Activity:
    activity = Activity.objects.select_for_update().select_related("project", "company").get(pk=activity.pk)
    before = _activity_snapshot(activity)
    _apply(activity, data)
    advisors = list(advisors) if advisors is not None else list(activity.advisors.all())
    contacts = list(contacts) if contacts is not None else list(activity.contacts.all())
    _check_activity(activity, advisors, contacts)
    _full_clean(activity, exclude=["created_by"])
    activity.save()
    activity.advisors.set(advisors)
    activity.contacts.set(contacts)
    after = _activity_snapshot(activity)
    if after != before:
        audit_record(actor, Action.UPDATE, activity, before=before, after=after, source=source)
    return activity


@transaction.atomic
def activity_delete(actor, activity: Activity, *, reason: str = "", source: str = Source.WEB) -> None:
    """Remove an activity entered by mistake; the audit trail keeps what it was."""
    audit_record(actor, Action.ARCHIVE, activity, before=_activity_snapshot(activity), source=source,
                 message=reason or _("Deleted"))
    activity.delete()


# --- Events -----------------------------------------------------------------------------------


def _check_event(event: Event) -> None:
    errors = {}
    if event.project.status == ProjectStatus.CLOSED:
        errors["project"] = _("The project is closed.")
    if event.ends_at and event.starts_at and event.ends_at < event.starts_at:
        errors["ends_at"] = _("The event cannot end before it starts.")
    if errors:
        raise ValidationError(errors)


def _event_snapshot(event: Event) -> dict[str, Any]:
    data = snapshot(event)
    data["focus_areas"] = sorted(event.focus_areas.values_list("pk", flat=True))
    return data


@transaction.atomic
def event_create(actor, project: Project, data: dict[str, Any], *, focus_areas=(), source: str = Source.WEB) -> Event:
    event = Event(project=project, created_by=_user(actor))
    for key, value in data.items():
        if key not in EVENT_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(event, key, value if value is not None or key in ("capacity", "ends_at", "starts_at") else "")
    _check_event(event)
    _full_clean(event, exclude=["created_by"])
    event.save()
    event.focus_areas.set(list(focus_areas))
    audit_record(actor, Action.CREATE, event, after=_event_snapshot(event), scope=project, source=source)
    return event


@transaction.atomic
def event_update(actor, event: Event, data: dict[str, Any], *, focus_areas=None, source: str = Source.WEB) -> Event:
    event = Event.objects.select_for_update().select_related("project").get(pk=event.pk)
    before = _event_snapshot(event)
    for key, value in data.items():
        if key not in EVENT_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(event, key, value if value is not None or key in ("capacity", "ends_at", "starts_at") else "")
    _check_event(event)
    if event.capacity is not None:
        taken = event.registrations.filter(cancelled_at__isnull=True).count()
        if taken > event.capacity:
            raise ValidationError({"capacity": _(
                "%(taken)d people are registered; the capacity cannot be lower than that."
            ) % {"taken": taken}})
    _full_clean(event, exclude=["created_by"])
    event.save()
    if focus_areas is not None:
        event.focus_areas.set(list(focus_areas))
    after = _event_snapshot(event)
    if after != before:
        audit_record(actor, Action.UPDATE, event, before=before, after=after, scope=event.project, source=source)
    return event


class EventFull(ValidationError):
    """Registration refused: the event has no free seat."""


REGISTRATION_FIELDS = ("company", "contact", "name", "email", "organisation_name", "source")


@transaction.atomic
def registration_create(actor, event: Event, data: dict[str, Any], *, source: str = Source.WEB) -> Registration:
    """Register a person; refused with a clear message when the event is full or closed for registration.

    The event row is locked first, so two registrations for the last seat cannot both succeed.
    A registration by a contact marks the contact's invitations to this event as registered.
    """
    from sim.programmes.mailings import mark_registered

    event = Event.objects.select_for_update().select_related("project").get(pk=event.pk)
    unknown = set(data) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("Unknown field.")})
    if not event.registration_open:
        raise ValidationError(_("Registration for this event is closed."))
    contact: Contact | None = data.get("contact")
    company = data.get("company")
    if contact is not None:
        if contact.erased_at is not None:
            raise ValidationError({"contact": _("This contact has been erased.")})
        if company is not None and contact.company_id != company.pk:
            raise ValidationError({"contact": _("The contact belongs to another company.")})
        company = contact.company
    name = (data.get("name") or (contact.name if contact else "")).strip()
    if not name:
        raise ValidationError({"name": _("Write the participant's name.")})
    email = (data.get("email") or (contact.email if contact else "") or "").strip()
    existing = None
    if contact is not None:
        existing = event.registrations.filter(contact=contact).first()
        if existing is not None and existing.cancelled_at is None:
            raise ValidationError({"contact": _("%(name)s is already registered.") % {"name": contact.name}})
    if event.capacity is not None:
        taken = event.registrations.filter(cancelled_at__isnull=True).count()
        if taken >= event.capacity:
            raise EventFull(_(
                "The event is full: all %(capacity)d places are taken. Registration refused; "
                "raise the capacity or cancel another registration first."
            ) % {"capacity": event.capacity})
    if existing is not None:
        before = snapshot(existing)
        existing.cancelled_at = None
        existing.name, existing.email = name, email
        existing.source = (data.get("source") or existing.source)[:20]
        existing.save()
        registration = existing
        audit_record(actor, Action.RESTORE, registration, before=before, after=snapshot(registration),
                     scope=event, source=source)
    else:
        registration = Registration(
            event=event, company=company, contact=contact, name=name, email=email,
            organisation_name=(data.get("organisation_name") or "").strip(),
            source=(data.get("source") or "")[:20], created_by=_user(actor),
        )
        _full_clean(registration, exclude=["created_by"])
        registration.save()
        audit_record(actor, Action.CREATE, registration, after=snapshot(registration), scope=event, source=source)
    if contact is not None:
        mark_registered(actor, contact, event, source=source)
    return registration


@transaction.atomic
def registration_cancel(actor, registration: Registration, *, source: str = Source.WEB) -> Registration:
    if registration.cancelled_at is None:
        before = snapshot(registration)
        registration.cancelled_at = timezone.now()
        registration.attended = None
        registration.save(update_fields=["cancelled_at", "attended", "updated_at"])
        audit_record(actor, Action.ARCHIVE, registration, before=before, after=snapshot(registration),
                     scope=registration.event, source=source)
    return registration


@transaction.atomic
def attendance_set(actor, registration: Registration, attended: bool | None, *, source: str = Source.WEB) -> Registration:
    if registration.cancelled_at is not None and attended:
        raise ValidationError(_("A cancelled registration cannot be marked as attended."))
    if registration.attended != attended:
        before = {"attended": registration.attended}
        registration.attended = attended
        registration.save(update_fields=["attended", "updated_at"])
        audit_record(actor, Action.UPDATE, registration, before=before, after={"attended": attended},
                     scope=registration.event, source=source)
    return registration
