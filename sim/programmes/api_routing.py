"""REST endpoints of referrals, company-specific interventions and follow-ups.

Same permissions and project scoping as the web: 401 without credentials, 403 without the
permission, 404 for a record of a project the user does not work in; 422 for invalid input
(``detail`` says what), 409 when the state machine refuses a move. A refused approval is 422 with
``reasons`` and the de minimis and budget figures.

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module.
"""

import datetime as dt
import mimetypes
import os
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.companies.selectors import company_for_user
from sim.core.models import AuditEvent

from . import selectors, services, states
from .models import (
    FocusArea,
    FollowUp,
    Intervention,
    InterventionStatus,
    Offer,
    Organisation,
    Referral,
    ReferralStatus,
    SupportForm,
)
from .projects import projects_for

router = Router(tags=["referrals, interventions and follow-ups"])
SOURCE = AuditEvent.Source.API


# --- Helpers --------------------------------------------------------------------------------


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{name}: {message}" if name != "__all__" else message
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)


def _raise_validation(exc: ValidationError):
    raise HttpError(422, "; ".join(_messages(exc)))


def _company(request: HttpRequest, company_id: int):
    company = company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    return company


def _person(user_id: int | None, field_name: str):
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise HttpError(422, f"{field_name}: no such user.")
    return user


def _choice(value: str, choices, field_name: str) -> str:
    if value not in choices:
        raise HttpError(422, f"{field_name}: choose one of {', '.join(choices)}.")
    return value


class ErrorOut(Schema):
    detail: str


# --- Referrals ------------------------------------------------------------------------------


class ReferralOut(Schema):
    id: int
    project_id: int
    project_code: str
    company_id: int
    company_name: str
    offer_id: int
    offer_title: str
    status: str
    next_statuses: list[str] = Field(..., description="The statuses it may move to now")
    advisor_id: int | None
    proposed_on: dt.date
    accepted_on: dt.date | None
    started_on: dt.date | None
    completed_on: dt.date | None
    declined_on: dt.date | None
    withdrawn_on: dt.date | None
    reason: str
    notes: str
    status_changed_at: dt.datetime
    created_at: dt.datetime

    @staticmethod
    def resolve_project_code(obj: Referral) -> str:
        return obj.project.code

    @staticmethod
    def resolve_company_name(obj: Referral) -> str:
        return obj.company.name

    @staticmethod
    def resolve_offer_title(obj: Referral) -> str:
        return obj.offer.title

    @staticmethod
    def resolve_next_statuses(obj: Referral) -> list[str]:
        return states.referral_next_statuses(obj.status)


class ReferralFilterIn(Schema):
    project: int | None = None
    company: int | None = None
    offer: int | None = None
    status: str = Field("", description="proposed, accepted, started, completed, declined, withdrawn or open")
    advisor: int | None = None
    focus_area: str = Field("", description="Focus area key")


class ReferralIn(Schema):
    company: int = Field(..., description="Company id")
    offer: int = Field(..., description="Offer id (active, in one of your projects)")
    project: int | None = Field(None, description="Project id; must be the offer's project when given")
    advisor: int | None = Field(None, description="Responsible advisor (user id); you when left out")
    proposed_on: dt.date | None = Field(None, description="Today when left out")
    notes: str = ""


class ReferralUpdateIn(Schema):
    advisor: int | None = None
    notes: str | None = None


class MoveIn(Schema):
    status: str = Field(..., description="The new status")
    on: dt.date | None = Field(None, description="Date of the change; today when left out")
    reason: str = Field("", description="Required when declining, withdrawing or cancelling")


def _referral(request: HttpRequest, referral_id: int) -> Referral:
    referral = selectors.referral_for_user(request.user, referral_id)
    if referral is None:
        raise HttpError(404, "No such referral.")
    return referral


@router.get("/referrals/", response=list[ReferralOut], summary="List referrals")
@paginate(LimitOffsetPagination)
def list_referrals(request: HttpRequest, filters: Query[ReferralFilterIn]):
    _require(request, "programmes.view_referral")
    queryset = selectors.referrals_visible_to(request.user)
    for name in ("project", "company", "offer", "advisor"):
        value = getattr(filters, name)
        if value is not None:
            queryset = queryset.filter(**{f"{name}_id": value})
    if filters.status == "open":
        queryset = queryset.filter(status__in=states.REFERRAL_OPEN)
    elif filters.status:
        queryset = queryset.filter(status=_choice(filters.status, ReferralStatus.values, "status"))
    if filters.focus_area:
        queryset = queryset.filter(offer__focus_areas__key=filters.focus_area).distinct()
    return queryset.order_by("-proposed_on", "-id")


@router.post("/referrals/", response={201: ReferralOut}, summary="Refer a company to an offer")
def create_referral(request: HttpRequest, payload: ReferralIn):
    _require(request, "programmes.add_referral")
    company = _company(request, payload.company)
    projects = projects_for(request.user)
    offer = Offer.objects.filter(pk=payload.offer, project__in=projects).first()
    if offer is None:
        raise HttpError(404, "No such offer.")
    project = None
    if payload.project is not None:
        project = projects.filter(pk=payload.project).first()
        if project is None:
            raise HttpError(404, "No such project.")
    try:
        referral = services.referral_create(
            request.user, company, offer, advisor=_person(payload.advisor, "advisor"), notes=payload.notes,
            proposed_on=payload.proposed_on, project=project, source=SOURCE,
        )
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _referral(request, referral.pk))


@router.get("/referrals/{int:referral_id}", response=ReferralOut, summary="One referral")
def get_referral(request: HttpRequest, referral_id: int):
    _require(request, "programmes.view_referral")
    return _referral(request, referral_id)


@router.patch("/referrals/{int:referral_id}", response=ReferralOut, summary="Change the advisor or notes")
def update_referral(request: HttpRequest, referral_id: int, payload: ReferralUpdateIn):
    _require(request, "programmes.change_referral")
    referral = _referral(request, referral_id)
    try:
        services.referral_update(request.user, referral, advisor=_person(payload.advisor, "advisor"),
                                 notes=payload.notes, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _referral(request, referral_id)


@router.post(
    "/referrals/{int:referral_id}/transition", response={200: ReferralOut, 409: ErrorOut},
    summary="Move a referral to another status",
)
def transition_referral(request: HttpRequest, referral_id: int, payload: MoveIn):
    """Allowed moves: proposed → accepted, declined, withdrawn; accepted → started, declined, withdrawn;
    started → completed, withdrawn. Declined and withdrawn need a `reason`. A move the state machine
    does not allow is 409."""
    _require(request, "programmes.change_referral")
    referral = _referral(request, referral_id)
    try:
        services.referral_move(request.user, referral, payload.status, on=payload.on, reason=payload.reason, source=SOURCE)
    except services.TransitionRefused as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    except ValidationError as exc:
        _raise_validation(exc)
    return _referral(request, referral_id)


# --- Interventions --------------------------------------------------------------------------


class InterventionOut(Schema):
    id: int
    project_id: int
    project_code: str
    company_id: int
    company_name: str
    title: str
    focus_area: str | None
    description: str
    provider_id: int | None
    provider_name: str
    start_date: dt.date | None
    end_date: dt.date | None
    budget_sek: Decimal
    own_cash_sek: Decimal
    own_hours: Decimal
    support_form: str
    is_state_aid: bool
    aid_amount_sek: Decimal | None
    status: str
    next_statuses: list[str]
    approved_by_id: int | None
    approved_on: dt.date | None
    has_decision_document: bool
    started_on: dt.date | None
    delivered_on: dt.date | None
    closed_on: dt.date | None
    cancelled_on: dt.date | None
    cancel_reason: str
    deliverables: str
    results: str
    growth_goals: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_project_code(obj: Intervention) -> str:
        return obj.project.code

    @staticmethod
    def resolve_company_name(obj: Intervention) -> str:
        return obj.company.name

    @staticmethod
    def resolve_focus_area(obj: Intervention) -> str | None:
        return obj.focus_area.key if obj.focus_area_id else None

    @staticmethod
    def resolve_next_statuses(obj: Intervention) -> list[str]:
        return states.intervention_next_statuses(obj.status)

    @staticmethod
    def resolve_has_decision_document(obj: Intervention) -> bool:
        return bool(obj.decision_document)

    @staticmethod
    def resolve_growth_goals(obj: Intervention) -> list[int]:
        return sorted(goal.pk for goal in obj.growth_goals.all())


class InterventionFilterIn(Schema):
    project: int | None = None
    company: int | None = None
    status: str = ""


class InterventionFields(Schema):
    title: str | None = None
    focus_area: str | None = Field(None, description="Focus area key")
    description: str | None = None
    provider: int | None = Field(None, description="Organisation id")
    provider_name: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    budget_sek: Decimal | None = None
    own_cash_sek: Decimal | None = None
    own_hours: Decimal | None = None
    support_form: str | None = Field(None, description="grant, financial or non_financial")
    is_state_aid: bool | None = None
    aid_amount_sek: Decimal | None = Field(None, description="Gross grant equivalent (SEK)")
    deliverables: str | None = None
    results: str | None = None
    growth_goals: list[int] | None = Field(None, description="Ids of goals of the company's growth plans")


class InterventionIn(InterventionFields):
    project: int = Field(..., description="Project id")
    company: int = Field(..., description="Company id")
    title: str


class ApproveIn(Schema):
    on: dt.date | None = Field(None, description="Decision date; today when left out")


class AidCheckOut(Schema):
    allowed: bool
    ceiling_eur: Decimal
    used_eur: Decimal
    proposed_eur: Decimal
    headroom_eur: Decimal
    members: list[int]
    message: str


class BudgetCheckOut(Schema):
    allowed: bool
    budget_sek: Decimal | None
    committed_sek: Decimal
    proposed_sek: Decimal
    message: str


class ApprovalRefusedOut(Schema):
    detail: str
    reasons: list[str]
    aid: AidCheckOut | None
    budget: BudgetCheckOut


def _intervention(request: HttpRequest, intervention_id: int) -> Intervention:
    intervention = selectors.intervention_for_user(request.user, intervention_id)
    if intervention is None:
        raise HttpError(404, "No such intervention.")
    return intervention


def _intervention_data(payload: InterventionFields, company) -> dict:
    data = payload.dict(exclude_unset=True)
    data.pop("project", None)
    data.pop("company", None)
    if "focus_area" in data:
        key = data["focus_area"]
        if key is None:
            data["focus_area"] = None
        else:
            focus_area = FocusArea.objects.filter(key=key).first()
            if focus_area is None:
                raise HttpError(422, "focus_area: no such focus area.")
            data["focus_area"] = focus_area
    if "provider" in data and data["provider"] is not None:
        provider = Organisation.objects.filter(pk=data["provider"]).first()
        if provider is None:
            raise HttpError(422, "provider: no such organisation.")
        data["provider"] = provider
    if data.get("support_form") is not None:
        _choice(data["support_form"], SupportForm.values, "support_form")
    for name in ("title", "description", "provider_name", "deliverables", "results", "support_form", "is_state_aid",
                 "budget_sek", "own_cash_sek", "own_hours"):
        if name in data and data[name] is None:
            raise HttpError(422, f"{name}: may not be null.")
    if "growth_goals" in data:
        from sim.assessments.models import GrowthGoal

        ids = data["growth_goals"] or []
        goals = list(GrowthGoal.objects.filter(pk__in=ids, plan__company=company))
        if len(goals) != len(set(ids)):
            raise HttpError(422, "growth_goals: choose goals of this company's growth plans.")
        data["growth_goals"] = goals
    return data


@router.get("/interventions/", response=list[InterventionOut], summary="List interventions")
@paginate(LimitOffsetPagination)
def list_interventions(request: HttpRequest, filters: Query[InterventionFilterIn]):
    _require(request, "programmes.view_intervention")
    queryset = selectors.interventions_visible_to(request.user).prefetch_related("growth_goals")
    if filters.project is not None:
        queryset = queryset.filter(project_id=filters.project)
    if filters.company is not None:
        queryset = queryset.filter(company_id=filters.company)
    if filters.status:
        queryset = queryset.filter(status=_choice(filters.status, InterventionStatus.values, "status"))
    return queryset.order_by("-created_at", "-id")


@router.post("/interventions/", response={201: InterventionOut}, summary="Draft an intervention")
def create_intervention(request: HttpRequest, payload: InterventionIn):
    _require(request, "programmes.add_intervention")
    project = projects_for(request.user).filter(pk=payload.project).first()
    if project is None:
        raise HttpError(404, "No such project.")
    company = _company(request, payload.company)
    data = _intervention_data(payload, company)
    try:
        intervention = services.intervention_create(request.user, project, company, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _intervention(request, intervention.pk))


@router.get("/interventions/{int:intervention_id}", response=InterventionOut, summary="One intervention")
def get_intervention(request: HttpRequest, intervention_id: int):
    _require(request, "programmes.view_intervention")
    return _intervention(request, intervention_id)


@router.patch("/interventions/{int:intervention_id}", response=InterventionOut, summary="Change an intervention")
def update_intervention(request: HttpRequest, intervention_id: int, payload: InterventionFields):
    """Only the fields sent change. After approval the budget, aid amount, state aid and form of support are fixed."""
    _require(request, "programmes.change_intervention")
    intervention = _intervention(request, intervention_id)
    data = _intervention_data(payload, intervention.company)
    try:
        services.intervention_update(request.user, intervention, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _intervention(request, intervention_id)


@router.post(
    "/interventions/{int:intervention_id}/approve", response={200: InterventionOut, 422: ApprovalRefusedOut},
    summary="Approve an intervention",
)
def approve_intervention(request: HttpRequest, intervention_id: int, payload: ApproveIn):
    """Refused (422) with every reason when the company's single undertaking lacks de minimis
    headroom or the project's budget for company support would be exceeded."""
    _require(request, "programmes.approve_intervention")
    intervention = _intervention(request, intervention_id)
    try:
        services.intervention_approve(request.user, intervention, on=payload.on, source=SOURCE)
    except services.ApprovalRefused as exc:
        check = exc.check
        aid_out = None
        if check.aid is not None:
            aid_out = {
                "allowed": check.aid.allowed, "ceiling_eur": check.aid.ceiling_eur, "used_eur": check.aid.used_eur,
                "proposed_eur": check.aid.proposed_eur, "headroom_eur": check.aid.headroom_eur,
                "members": list(check.aid.members), "message": check.aid.message,
            }
        return Status(422, {
            "detail": "The intervention cannot be approved: " + " ".join(check.reasons),
            "reasons": check.reasons, "aid": aid_out,
            "budget": {
                "allowed": check.budget.allowed, "budget_sek": check.budget.budget_sek,
                "committed_sek": check.budget.committed_sek, "proposed_sek": check.budget.proposed_sek,
                "message": check.budget.message,
            },
        })
    except ValidationError as exc:
        _raise_validation(exc)
    return _intervention(request, intervention_id)


@router.post(
    "/interventions/{int:intervention_id}/transition", response={200: InterventionOut, 409: ErrorOut},
    summary="Move an intervention on or cancel it",
)
def transition_intervention(request: HttpRequest, intervention_id: int, payload: MoveIn):
    """approved → in_progress → delivered → closed; cancelled (with `reason`) from draft, approved or
    in progress. Approval has its own endpoint. Delivering books a T1 follow-up six months later."""
    _require(request, "programmes.change_intervention")
    intervention = _intervention(request, intervention_id)
    try:
        services.intervention_move(request.user, intervention, payload.status, on=payload.on, reason=payload.reason,
                                   source=SOURCE)
    except services.TransitionRefused as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    except ValidationError as exc:
        _raise_validation(exc)
    return _intervention(request, intervention_id)


@router.post(
    "/interventions/{int:intervention_id}/decision", response=InterventionOut,
    summary="Upload the decision document (multipart, field `document`)",
)
def upload_decision(request: HttpRequest, intervention_id: int, document: File[UploadedFile]):
    """PDF, image (PNG, JPEG, TIFF) or office document, at most 10 MB, of an approved intervention;
    replaces an earlier one (which stays stored as evidence)."""
    _require(request, "programmes.approve_intervention")
    intervention = _intervention(request, intervention_id)
    try:
        services.intervention_attach_decision(request.user, intervention, document, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _intervention(request, intervention_id)


@router.get("/interventions/{int:intervention_id}/decision", summary="Download the decision document")
def download_decision(request: HttpRequest, intervention_id: int):
    _require(request, "programmes.view_intervention")
    intervention = _intervention(request, intervention_id)
    if not intervention.decision_document:
        raise HttpError(404, "This intervention has no decision document.")
    try:
        handle = intervention.decision_document.open("rb")
    except OSError:
        raise HttpError(404, "The decision document is missing from storage.") from None
    name = os.path.basename(intervention.decision_document.name)
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")


# --- Follow-ups -----------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: int
    project_id: int | None
    company_id: int
    company_name: str
    title: str
    due_on: dt.date
    overdue: bool
    assigned_to_id: int | None
    kind: str
    done_at: dt.datetime | None
    notes: str
    created_at: dt.datetime

    @staticmethod
    def resolve_company_name(obj: FollowUp) -> str:
        return obj.company.name

    @staticmethod
    def resolve_overdue(obj: FollowUp) -> bool:
        from django.utils import timezone

        return obj.done_at is None and obj.due_on < timezone.localdate()


class FollowUpFilterIn(Schema):
    mine: bool = Field(True, description="Only follow-ups assigned to you (default)")
    company: int | None = None
    done: bool | None = Field(None, description="true: only done; false: only open; left out: both")


class FollowUpIn(Schema):
    company: int
    project: int
    title: str
    due_on: dt.date
    assigned_to: int | None = Field(None, description="User id; you when left out")
    notes: str = ""


def _follow_up(request: HttpRequest, follow_up_id: int) -> FollowUp:
    follow_up = selectors.follow_up_for_user(request.user, follow_up_id)
    if follow_up is None:
        raise HttpError(404, "No such follow-up.")
    return follow_up


@router.get("/follow-ups/", response=list[FollowUpOut], summary="List follow-ups (yours by default)")
@paginate(LimitOffsetPagination)
def list_follow_ups(request: HttpRequest, filters: Query[FollowUpFilterIn]):
    """Open ones first, by due date (so overdue ones come first)."""
    _require(request, "programmes.view_followup")
    queryset = selectors.follow_ups_visible_to(request.user)
    if filters.mine:
        queryset = queryset.filter(assigned_to=request.user)
    if filters.company is not None:
        queryset = queryset.filter(company_id=filters.company)
    if filters.done is not None:
        queryset = queryset.filter(done_at__isnull=not filters.done)
    return queryset.order_by("done_at", "due_on", "id")


@router.post("/follow-ups/", response={201: FollowUpOut}, summary="Add a follow-up")
def create_follow_up(request: HttpRequest, payload: FollowUpIn):
    _require(request, "programmes.add_followup")
    company = _company(request, payload.company)
    project = projects_for(request.user).filter(pk=payload.project).first()
    if project is None:
        raise HttpError(404, "No such project.")
    try:
        follow_up = services.follow_up_create(
            request.user, company, title=payload.title, due_on=payload.due_on, project=project,
            assigned_to=_person(payload.assigned_to, "assigned_to"), notes=payload.notes, source=SOURCE,
        )
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _follow_up(request, follow_up.pk))


@router.post("/follow-ups/{int:follow_up_id}/done", response={200: FollowUpOut, 409: ErrorOut}, summary="Mark a follow-up done")
def done_follow_up(request: HttpRequest, follow_up_id: int):
    _require(request, "programmes.change_followup")
    follow_up = _follow_up(request, follow_up_id)
    if follow_up.done_at is not None:
        return Status(409, {"detail": "This follow-up is already done."})
    try:
        services.follow_up_done(request.user, follow_up, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _follow_up(request, follow_up_id)
