"""REST endpoints of activities, hour roll-ups, events and registrations. Same permissions and scoping as the web.

* 401 without credentials, 403 without the permission, 404 for records outside the user's projects;
* 422 for invalid input, 409 when an event is full or closed for registration.

Activity notes are returned only to users with ``activities.view_activity_notes`` (null otherwise).

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module, where string annotations cannot be resolved.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Value
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.companies.models import Contact
from sim.companies.selectors import company_for_user
from sim.core.models import AuditEvent
from sim.programmes.models import FocusArea
from sim.programmes.projects import projects_for

from . import selectors, services
from .models import Activity, Event, Registration

router = Router(tags=["activities"])
SOURCE = AuditEvent.Source.API
NOTES_PERMISSION = "activities.view_activity_notes"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        )
    return "; ".join(exc.messages)


def _project(request: HttpRequest, project_id: int):
    project = projects_for(request.user).filter(pk=project_id).first()
    if project is None:
        raise HttpError(404, "No such project.")
    return project


def _activity(request: HttpRequest, activity_id: int) -> Activity:
    activity = selectors.activity_for_user(request.user, activity_id)
    if activity is None:
        raise HttpError(404, "No such activity.")
    return activity


def _event(request: HttpRequest, event_id: int) -> Event:
    event = selectors.event_for_user(request.user, event_id)
    if event is None:
        raise HttpError(404, "No such event.")
    return event


class ErrorOut(Schema):
    detail: str


# --- Activities -----------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    project_id: int
    company_id: int
    company_name: str
    kind: str
    date: dt.date
    hours: Decimal
    advisors: list[int]
    contacts: list[int]
    focus_area: str | None
    subject: str
    notes: str | None = Field(..., description="Null without permission to read activity notes")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_company_name(obj: Activity) -> str:
        return obj.company.name

    @staticmethod
    def resolve_advisors(obj: Activity) -> list[int]:
        return sorted(u.pk for u in obj.advisors.all())

    @staticmethod
    def resolve_contacts(obj: Activity) -> list[int]:
        return sorted(c.pk for c in obj.contacts.all())

    @staticmethod
    def resolve_focus_area(obj: Activity) -> str | None:
        return obj.focus_area.key if obj.focus_area_id else None

    @staticmethod
    def resolve_notes(obj: Activity) -> str | None:
        return obj.notes if getattr(obj, "api_show_notes", False) else None


def _with_notes(request: HttpRequest, activity: Activity) -> Activity:
    activity.api_show_notes = request.user.has_perm(NOTES_PERMISSION)
    return activity


class ActivityFilterIn(Schema):
    project: int | None = None
    company: int | None = None
    kind: str = ""
    start: dt.date | None = None
    end: dt.date | None = None


class ActivityIn(Schema):
    project: int
    company: int
    kind: str = Activity.Kind.MEETING
    date: dt.date
    hours: Decimal = Field(..., gt=0, le=200)
    advisors: list[int] | None = Field(None, description="User ids; yourself when left out")
    contacts: list[int] = Field(default_factory=list, description="Contact ids of the company")
    focus_area: str | None = Field(None, description="Focus-area key")
    subject: str = ""
    notes: str = ""


class ActivityPatchIn(Schema):
    kind: str | None = None
    date: dt.date | None = None
    hours: Decimal | None = Field(None, gt=0, le=200)
    advisors: list[int] | None = None
    contacts: list[int] | None = None
    focus_area: str | None = None
    subject: str | None = None
    notes: str | None = None


def _focus_area(key: str | None):
    if not key:
        return None
    area = FocusArea.objects.filter(key=key).first()
    if area is None:
        raise HttpError(422, f"focus_area: unknown key {key!r}.")
    return area


def _users(ids: list[int]):
    users = list(get_user_model().objects.filter(pk__in=ids))
    if len(users) != len(set(ids)):
        raise HttpError(422, "advisors: unknown user id.")
    return users


def _contacts(company, ids: list[int]):
    contacts = list(Contact.objects.filter(pk__in=ids, company=company))
    if len(contacts) != len(set(ids)):
        raise HttpError(422, "contacts: every contact must belong to the company.")
    return contacts


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in Activity.Kind.values:
        raise HttpError(422, f"kind: choose one of {', '.join(Activity.Kind.values)}.")


@router.get("/", response=list[ActivityOut], summary="List activities in your projects")
@paginate(LimitOffsetPagination)
def list_activities(request: HttpRequest, filters: Query[ActivityFilterIn]):
    _require(request, "activities.view_activity")
    queryset = selectors.activities_visible_to(request.user)
    if filters.project is not None:
        queryset = queryset.filter(project_id=filters.project)
    if filters.company is not None:
        queryset = queryset.filter(company_id=filters.company)
    if filters.kind:
        _check_kind(filters.kind)
        queryset = queryset.filter(kind=filters.kind)
    if filters.start:
        queryset = queryset.filter(date__gte=filters.start)
    if filters.end:
        queryset = queryset.filter(date__lte=filters.end)
    items = queryset.order_by("-date", "-id")
    if request.user.has_perm(NOTES_PERMISSION):
        items = items.annotate(api_show_notes=Value(True, output_field=BooleanField()))
    return items


@router.post("/", response={201: ActivityOut}, summary="Record an activity")
def create_activity(request: HttpRequest, payload: ActivityIn):
    _require(request, "activities.add_activity")
    project = _project(request, payload.project)
    company = company_for_user(request.user, payload.company)
    if company is None:
        raise HttpError(404, "No such company.")
    _check_kind(payload.kind)
    advisors = _users(payload.advisors) if payload.advisors is not None else None
    try:
        activity = services.activity_create(
            request.user, project, company,
            {"kind": payload.kind, "date": payload.date, "hours": payload.hours,
             "focus_area": _focus_area(payload.focus_area), "subject": payload.subject.strip(),
             "notes": payload.notes if request.user.has_perm(NOTES_PERMISSION) else ""},
            advisors=advisors, contacts=_contacts(company, payload.contacts), source=SOURCE,
        )
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
    return Status(201, _with_notes(request, _activity(request, activity.pk)))


@router.get("/{int:activity_id}", response=ActivityOut, summary="One activity")
def get_activity(request: HttpRequest, activity_id: int):
    _require(request, "activities.view_activity")
    return _with_notes(request, _activity(request, activity_id))


@router.patch("/{int:activity_id}", response=ActivityOut, summary="Change an activity")
def update_activity(request: HttpRequest, activity_id: int, payload: ActivityPatchIn):
    _require(request, "activities.change_activity")
    activity = _activity(request, activity_id)
    given = payload.dict(exclude_unset=True)
    _check_kind(given.get("kind"))
    if "notes" in given and not request.user.has_perm(NOTES_PERMISSION):
        raise HttpError(403, "You may not change activity notes.")
    data = {k: v for k, v in given.items() if k in ("kind", "date", "hours", "subject", "notes") and v is not None}
    if "focus_area" in given:
        data["focus_area"] = _focus_area(given["focus_area"])
    advisors = _users(given["advisors"]) if given.get("advisors") is not None else None
    contacts = _contacts(activity.company, given["contacts"]) if given.get("contacts") is not None else None
    try:
        services.activity_update(request.user, activity, data, advisors=advisors, contacts=contacts, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
    return _with_notes(request, _activity(request, activity_id))


# --- Hour roll-ups --------------------------------------------------------------------------


class HoursRow(Schema):
    key: str | None = Field(..., description="Company id, focus-area key, user id or month (YYYY-MM)")
    label: str
    hours: Decimal
    activities: int


ROLLUPS = ("company", "focus_area", "advisor", "month")


@router.get("/hours", response=list[HoursRow], summary="Hours of a project, rolled up")
def hours(request: HttpRequest, project: int, by: str = "focus_area", start: dt.date | None = None,
          end: dt.date | None = None):
    """Hours per company, focus area, advisor or month, for a project and an optional period."""
    _require(request, "activities.view_activity")
    if by not in ROLLUPS:
        raise HttpError(422, f"by: choose one of {', '.join(ROLLUPS)}.")
    chosen = _project(request, project)
    if by == "company":
        return [{"key": str(r["company_id"]), "label": r["name"], "hours": r["hours"], "activities": r["activities"]}
                for r in selectors.hours_by_company(chosen, start, end)]
    if by == "focus_area":
        return [{"key": r["key"], "label": r["name_en"] or "", "hours": r["hours"], "activities": r["activities"]}
                for r in selectors.hours_by_focus_area(chosen, start, end)]
    if by == "advisor":
        return [{"key": str(r["user_id"]), "label": f"{r['first_name']} {r['last_name']}".strip() or r["username"],
                 "hours": r["hours"], "activities": r["activities"]}
                for r in selectors.hours_by_advisor(chosen, start, end)]
    return [{"key": r["month"].strftime("%Y-%m"), "label": r["month"].strftime("%Y-%m"), "hours": r["hours"],
             "activities": r["activities"]} for r in selectors.hours_by_month(chosen, start, end)]


# --- Events and registrations ---------------------------------------------------------------


class EventOut(Schema):
    id: int
    project_id: int
    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    capacity: int | None
    registration_open: bool
    registered: int
    attended: int

    @staticmethod
    def resolve_attended(obj: Event) -> int:
        return obj.attended_count


class RegistrationOut(Schema):
    id: int
    name: str
    email: str
    company_id: int | None
    contact_id: int | None
    organisation_name: str
    attended: bool | None
    cancelled_at: dt.datetime | None
    created_at: dt.datetime


class RegistrationIn(Schema):
    contact: int | None = Field(None, description="Contact id; name, e-mail and company come from it")
    company: int | None = Field(None, description="Company id, for a participant who is not a contact")
    name: str = ""
    email: str = ""
    organisation_name: str = ""


class AttendanceIn(Schema):
    attended: bool | None


@router.get("/events/", response=list[EventOut], summary="Events in your projects")
@paginate(LimitOffsetPagination)
def list_events(request: HttpRequest, project: int | None = None):
    _require(request, "activities.view_event")
    queryset = selectors.events_visible_to(request.user)
    if project is not None:
        queryset = queryset.filter(project_id=project)
    return selectors.with_counts(queryset).order_by("-starts_at")


@router.get("/events/{int:event_id}", response=EventOut, summary="One event")
def get_event(request: HttpRequest, event_id: int):
    _require(request, "activities.view_event")
    _event(request, event_id)
    return selectors.with_counts(selectors.events_visible_to(request.user).filter(pk=event_id)).get()


@router.get("/events/{int:event_id}/registrations", response=list[RegistrationOut], summary="Registrations of an event")
def list_registrations(request: HttpRequest, event_id: int):
    _require(request, "activities.view_registration")
    return list(selectors.registrations_of(_event(request, event_id)))


@router.post(
    "/events/{int:event_id}/registrations", response={201: RegistrationOut, 409: ErrorOut},
    summary="Register a participant (409 when the event is full)",
)
def create_registration(request: HttpRequest, event_id: int, payload: RegistrationIn):
    _require(request, "activities.add_registration")
    event = _event(request, event_id)
    data = {"name": payload.name.strip(), "email": payload.email.strip(), "organisation_name": payload.organisation_name}
    if payload.contact is not None:
        contact = Contact.objects.select_related("company").filter(pk=payload.contact).first()
        if contact is None or company_for_user(request.user, contact.company_id) is None:
            raise HttpError(404, "No such contact.")
        data["contact"] = contact
    if payload.company is not None:
        company = company_for_user(request.user, payload.company)
        if company is None:
            raise HttpError(404, "No such company.")
        data["company"] = company
    if data["email"]:
        from django.core.validators import validate_email

        try:
            validate_email(data["email"])
        except ValidationError:
            raise HttpError(422, "email: not a valid address.") from None
    try:
        registration = services.registration_create(request.user, event, data, source=SOURCE)
    except services.EventFull as exc:
        return Status(409, {"detail": _messages(exc)})
    except ValidationError as exc:
        if not event.registration_open:
            return Status(409, {"detail": _messages(exc)})
        raise HttpError(422, _messages(exc)) from None
    return Status(201, registration)


@router.patch(
    "/events/{int:event_id}/registrations/{int:registration_id}", response=RegistrationOut,
    summary="Mark attendance",
)
def set_attendance(request: HttpRequest, event_id: int, registration_id: int, payload: AttendanceIn):
    _require(request, "activities.change_registration")
    event = _event(request, event_id)
    registration = Registration.objects.filter(event=event, pk=registration_id).first()
    if registration is None:
        raise HttpError(404, "No such registration.")
    try:
        return services.attendance_set(request.user, registration, payload.attended, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
