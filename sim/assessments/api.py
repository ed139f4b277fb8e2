"""REST endpoints of instruments, assessments and growth plans. Same permissions and scoping as the web.

* 401 without credentials, 403 without the permission, 404 for records the user may not see;
* 422 for invalid input (``detail`` says what is wrong), 409 when the record's state or a newer
  answer stands in the way (a completed assessment, an answer someone else changed).

Free-text answers and the advisor's notes are only returned to users with
``assessments.view_assessment_text`` (auditors read scores, not interview notes).

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module, where string annotations cannot be resolved.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.companies.selectors import company_for_user
from sim.core.models import AuditEvent
from sim.programmes.models import FocusArea

from . import rules, selectors, services
from .models import (
    ActionStatus,
    Assessment,
    AssessmentPhase,
    AssessmentStatus,
    GoalMetric,
    GrowthAction,
    GrowthGoal,
    GrowthPlan,
    GrowthPlanStatus,
    InstrumentVersion,
    Need,
)

router = Router(tags=["assessments"])
SOURCE = AuditEvent.Source.API
TEXT_PERMISSION = "assessments.view_assessment_text"


# --- Helpers --------------------------------------------------------------------------------


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)


def _raise_validation(exc: ValidationError):
    raise HttpError(422, "; ".join(_messages(exc)))


def _assessment(request: HttpRequest, assessment_id: int) -> Assessment:
    assessment = selectors.assessment_for_user(request.user, assessment_id)
    if assessment is None:
        raise HttpError(404, "No such assessment.")
    return assessment


def _plan(request: HttpRequest, plan_id: int) -> GrowthPlan:
    plan = selectors.growth_plans_visible_to(request.user).filter(pk=plan_id).first()
    if plan is None:
        raise HttpError(404, "No such growth plan.")
    return plan


def _company(request: HttpRequest, company_id: int):
    company = company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    return company


def _text_questions(assessment: Assessment) -> set[str]:
    return {q.id for q in assessment.instrument().questions if q.type == "text"}


def _may_read_text(request: HttpRequest) -> bool:
    return request.user.has_perm(TEXT_PERMISSION)


class ErrorOut(Schema):
    detail: str


# --- Instruments ----------------------------------------------------------------------------


class InstrumentOut(Schema):
    key: str
    version: int
    kind: str
    title_sv: str
    title_en: str
    digest: str
    published_at: dt.datetime


class InstrumentDetailOut(InstrumentOut):
    definition: dict[str, Any] = Field(..., description="The frozen instrument file (see docs/instruments.md)")


@router.get("/instruments/", response=list[InstrumentOut], summary="Published instruments")
def list_instruments(request: HttpRequest, all_versions: bool = False):
    """The latest version of each instrument (for new assessments), or every version with `all_versions`."""
    _require(request, "assessments.view_assessment")
    if all_versions:
        return list(InstrumentVersion.objects.order_by("key", "-version"))
    return selectors.published_instruments()


@router.get("/instruments/{key}/{int:version}", response=InstrumentDetailOut, summary="One instrument version")
def get_instrument(request: HttpRequest, key: str, version: int):
    _require(request, "assessments.view_assessment")
    instrument = InstrumentVersion.objects.filter(key=key, version=version).first()
    if instrument is None:
        raise HttpError(404, "No such instrument version.")
    return instrument


# --- Assessments ----------------------------------------------------------------------------


class AssessmentOut(Schema):
    id: int
    company_id: int
    company_name: str
    instrument: str
    instrument_version: int
    instrument_title: str
    phase: str
    status: str
    conducted_on: dt.date
    led_by_id: int | None
    completed_at: dt.datetime | None
    overall_score: float | None
    overall_band: str
    revises_id: int | None
    revision_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_company_name(obj: Assessment) -> str:
        return obj.company.name

    @staticmethod
    def resolve_instrument(obj: Assessment) -> str:
        return obj.instrument_version.key

    @staticmethod
    def resolve_instrument_version(obj: Assessment) -> int:
        return obj.instrument_version.version

    @staticmethod
    def resolve_instrument_title(obj: Assessment) -> str:
        return obj.instrument_version.title

    @staticmethod
    def resolve_overall_score(obj: Assessment) -> float | None:
        return float(obj.overall_score) if obj.overall_score is not None else None


class NeedOut(Schema):
    id: int
    title: str
    dimension: str
    focus_area: str | None
    priority: int
    score: float | None
    source: str
    status: str

    @staticmethod
    def resolve_focus_area(obj: Need) -> str | None:
        return obj.focus_area.key if obj.focus_area_id else None

    @staticmethod
    def resolve_score(obj: Need) -> float | None:
        return float(obj.score) if obj.score is not None else None


class AssessmentDetailOut(AssessmentOut):
    answers: dict[str, Any] = Field(..., description="Normalised answers by question id (see docs/instruments.md)")
    answer_versions: dict[str, int] = Field(
        ..., description="Per question: the version to send back with a changed answer"
    )
    notes: str | None = Field(..., description="The advisor's notes (null without permission to read free text)")
    text_answers_hidden: bool = Field(..., description="Free-text answers were left out (no permission)")
    needs: list[NeedOut] = Field(..., description="Needs derived from this assessment or added to it")

    # `_detail` puts what this user may read on the instance.
    @staticmethod
    def resolve_answers(obj: Assessment) -> dict[str, Any]:
        return obj.api_answers

    @staticmethod
    def resolve_answer_versions(obj: Assessment) -> dict[str, int]:
        return obj.api_answer_versions

    @staticmethod
    def resolve_notes(obj: Assessment) -> str | None:
        return obj.api_notes

    @staticmethod
    def resolve_text_answers_hidden(obj: Assessment) -> bool:
        return obj.api_text_hidden

    @staticmethod
    def resolve_needs(obj: Assessment) -> list[Need]:
        return obj.api_needs


def _detail(request: HttpRequest, assessment: Assessment) -> Assessment:
    answers = dict(assessment.answers)
    versions = {key: int(value) for key, value in assessment.answer_versions.items()}
    may_read_text = _may_read_text(request)
    if not may_read_text:
        for question_id in _text_questions(assessment):
            answers.pop(question_id, None)
            versions.pop(question_id, None)
    assessment.api_answers = answers
    assessment.api_answer_versions = versions
    assessment.api_notes = assessment.notes if may_read_text else None
    assessment.api_text_hidden = not may_read_text
    assessment.api_needs = list(
        selectors.needs_of(request.user, assessment.company).filter(assessment=assessment)
    )
    return assessment


class AssessmentFilterIn(Schema):
    company: int | None = None
    instrument: str = ""
    status: str = ""
    phase: str = ""


class AssessmentIn(Schema):
    company: int = Field(..., description="Company id")
    instrument: str = Field(..., description="Instrument key, e.g. sim-growth-interview")
    version: int | None = Field(None, description="Instrument version; the latest when left out")
    phase: str = Field(AssessmentPhase.T0, description="t0 or follow_up")
    conducted_on: dt.date | None = Field(None, description="Date of the interview; today when left out")


@router.get("/", response=list[AssessmentOut], summary="List assessments")
@paginate(LimitOffsetPagination)
def list_assessments(request: HttpRequest, filters: Query[AssessmentFilterIn]):
    _require(request, "assessments.view_assessment")
    queryset = selectors.assessments_visible_to(request.user)
    if filters.company is not None:
        queryset = queryset.filter(company_id=filters.company)
    if filters.instrument:
        queryset = queryset.filter(instrument_version__key=filters.instrument)
    if filters.status:
        if filters.status not in AssessmentStatus.values:
            raise HttpError(422, f"status: choose one of {', '.join(AssessmentStatus.values)}.")
        queryset = queryset.filter(status=filters.status)
    if filters.phase:
        if filters.phase not in AssessmentPhase.values:
            raise HttpError(422, f"phase: choose one of {', '.join(AssessmentPhase.values)}.")
        queryset = queryset.filter(phase=filters.phase)
    return queryset.order_by("-conducted_on", "-id")


@router.post("/", response={201: AssessmentDetailOut}, summary="Start an assessment")
def create_assessment(request: HttpRequest, payload: AssessmentIn):
    _require(request, "assessments.add_assessment")
    company = _company(request, payload.company)
    try:
        assessment = services.assessment_start(
            request.user, company, payload.instrument.strip(), phase=payload.phase, version=payload.version,
            conducted_on=payload.conducted_on, source=SOURCE,
        )
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _detail(request, _assessment(request, assessment.pk)))


@router.get("/{int:assessment_id}", response=AssessmentDetailOut, summary="One assessment with its answers")
def get_assessment(request: HttpRequest, assessment_id: int):
    _require(request, "assessments.view_assessment")
    return _detail(request, _assessment(request, assessment_id))


class AnswerIn(Schema):
    value: Any = Field(None, description="The answer; null, \"\" or [] removes it")
    version: int | None = Field(
        None, ge=0, description="The answer version you last saw (from answer_versions; 0 when unanswered). "
        "When someone else has changed the answer since, the answer is not saved (409)."
    )


class AnswerOut(Schema):
    question_id: str
    value: Any
    version: int
    changed: bool


class ConflictOut(Schema):
    detail: str
    current_value: Any = Field(None, description="The answer as it now stands (when someone else changed it)")
    current_version: int | None = Field(None, description="Its version: send this to overwrite it")


# PUT is the natural verb; POST is accepted for clients (and HTML forms) that cannot send PUT.
@router.put(
    "/{int:assessment_id}/answers/{question_id}", response={200: AnswerOut, 409: ConflictOut},
    summary="Save one answer", operation_id="sim_assessments_api_put_answer",
)
@router.post(
    "/{int:assessment_id}/answers/{question_id}", response={200: AnswerOut, 409: ConflictOut},
    summary="Save one answer (POST)", operation_id="sim_assessments_api_post_answer",
)
def put_answer(request: HttpRequest, assessment_id: int, question_id: str, payload: AnswerIn):
    _require(request, "assessments.change_assessment")
    assessment = _assessment(request, assessment_id)
    if not assessment.instrument().has_question(question_id):
        raise HttpError(404, "This instrument has no such question.")
    if assessment.is_locked:
        return Status(409, {"detail": "This assessment is completed and locked. Correct it to change answers."})
    hide = question_id in _text_questions(assessment) and not _may_read_text(request)
    try:
        saved = services.assessment_answer(
            request.user, assessment, question_id, payload.value, expected_version=payload.version, source=SOURCE,
        )
    except services.AnswerConflict as exc:
        return Status(409, {"detail": exc.messages[0] if not hide else "Someone else changed this answer.",
                            "current_value": None if hide else exc.current_value,
                            "current_version": exc.current_version})
    except ValidationError as exc:
        _raise_validation(exc)
    return {"question_id": saved.question_id, "value": None if hide else saved.value, "version": saved.version,
            "changed": saved.changed}


class DimensionScoreOut(Schema):
    id: str
    title: str
    focus_area: str | None
    score: float | None
    band: str | None
    answered: int
    scored_questions: int


class MissingQuestionOut(Schema):
    id: str
    section: str
    text: str


class ScoresOut(Schema):
    assessment_id: int
    instrument: str
    version: int
    status: str
    frozen: bool = Field(..., description="True once completed: the scores stored at completion")
    dimensions: list[DimensionScoreOut]
    overall: float | None
    band: str | None
    missing_required: list[MissingQuestionOut]


def _language() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "sv").startswith("en") else "sv"


def _missing(instrument, question_ids) -> list[dict]:
    language = _language()
    return [
        {"id": qid, "section": instrument.section_of(qid), "text": instrument.question(qid).text.get(language)}
        for qid in question_ids
    ]


def _scores(assessment: Assessment) -> dict:
    instrument = assessment.instrument()
    try:
        result = selectors.result_of(assessment)
    except rules.AnswerError as exc:
        raise HttpError(422, "; ".join(str(issue) for issue in exc.issues) or exc.message) from exc
    language = _language()
    dimensions = []
    for dimension_id, scored in result.dimensions.items():
        try:
            definition = instrument.dimension(dimension_id)
            title, focus_area = definition.title.get(language), definition.focus_area
        except KeyError:
            title, focus_area = dimension_id, None
        dimensions.append({
            "id": dimension_id, "title": title, "focus_area": focus_area,
            "score": float(scored.score) if scored.score is not None else None, "band": scored.band,
            "answered": scored.answered, "scored_questions": scored.scored_questions,
        })
    return {
        "assessment_id": assessment.pk,
        "instrument": assessment.instrument_version.key,
        "version": assessment.instrument_version.version,
        "status": assessment.status,
        "frozen": bool(assessment.scores),
        "dimensions": dimensions,
        "overall": float(result.overall) if result.overall is not None else None,
        "band": result.band,
        "missing_required": _missing(instrument, result.missing_required),
    }


@router.get("/{int:assessment_id}/scores", response=ScoresOut, summary="Scores (live while in progress)")
def get_scores(request: HttpRequest, assessment_id: int):
    _require(request, "assessments.view_assessment")
    return _scores(_assessment(request, assessment_id))


class CompleteRefusedOut(Schema):
    detail: str
    missing_required: list[MissingQuestionOut]
    invalid: list[str] = Field(..., description="Answers that are not valid, as 'question: problem'")


@router.post(
    "/{int:assessment_id}/complete", response={200: ScoresOut, 409: ErrorOut, 422: CompleteRefusedOut},
    summary="Complete (score and lock) an assessment",
)
def complete_assessment(request: HttpRequest, assessment_id: int):
    _require(request, "assessments.complete_assessment")
    assessment = _assessment(request, assessment_id)
    if assessment.is_locked:
        return Status(409, {"detail": "This assessment is already completed."})
    try:
        assessment = services.assessment_complete(request.user, assessment, source=SOURCE)
    except ValidationError as exc:
        instrument = assessment.instrument()
        normalised, issues = rules.validate_answers(instrument, assessment.answers)
        missing = rules.missing_required(instrument, normalised)
        return Status(422, {
            "detail": "; ".join(_messages(exc)),
            "missing_required": _missing(instrument, missing),
            "invalid": [str(issue) for issue in issues],
        })
    return _scores(assessment)


class CorrectionIn(Schema):
    reason: str = Field(..., description="Why the completed assessment is corrected")


@router.post(
    "/{int:assessment_id}/correct", response={201: AssessmentDetailOut, 409: ErrorOut},
    summary="Open a correction (a new revision) of a completed assessment",
)
def correct_assessment(request: HttpRequest, assessment_id: int, payload: CorrectionIn):
    _require(request, "assessments.complete_assessment")
    assessment = _assessment(request, assessment_id)
    if assessment.status != AssessmentStatus.COMPLETED:
        return Status(409, {"detail": "Only a completed assessment can be corrected."})
    if assessment.revisions.exclude(status=AssessmentStatus.SUPERSEDED).exists():
        return Status(409, {"detail": "A correction of this assessment is already in progress."})
    try:
        revision = services.assessment_correct(request.user, assessment, reason=payload.reason, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _detail(request, _assessment(request, revision.pk)))


# --- Growth plans ---------------------------------------------------------------------------


class GoalOut(Schema):
    id: int
    title: str
    metric: str
    baseline: Decimal | None
    target: Decimal | None
    unit: str
    target_date: dt.date | None
    order: int


class ActionOut(Schema):
    id: int
    title: str
    description: str
    focus_area: str | None
    need_id: int | None
    owner: str
    due_date: dt.date | None
    status: str
    order: int

    @staticmethod
    def resolve_focus_area(obj: GrowthAction) -> str | None:
        return obj.focus_area.key if obj.focus_area_id else None


class GrowthPlanOut(Schema):
    id: int
    company_id: int
    company_name: str
    assessment_id: int | None
    title: str
    summary: str
    status: str
    period_start: dt.date | None
    period_end: dt.date | None
    agreed_on: dt.date | None
    shared_with_company: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_company_name(obj: GrowthPlan) -> str:
        return obj.company.name


class GrowthPlanDetailOut(GrowthPlanOut):
    goals: list[GoalOut]
    actions: list[ActionOut]

    @staticmethod
    def resolve_goals(obj: GrowthPlan):
        return list(obj.goals.all())

    @staticmethod
    def resolve_actions(obj: GrowthPlan):
        return list(obj.actions.select_related("focus_area"))


class GrowthPlanIn(Schema):
    company: int = Field(..., description="Company id")
    assessment: int | None = Field(None, description="The assessment the plan is based on")
    title: str = ""
    from_needs: bool = Field(True, description="One action per open need of the company, most urgent first")


class GrowthPlanPatch(Schema):
    title: str | None = None
    summary: str | None = None
    status: str | None = Field(None, description=", ".join(GrowthPlanStatus.values))
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    agreed_on: dt.date | None = None
    shared_with_company: bool | None = None


class GoalIn(Schema):
    title: str
    metric: str = Field(GoalMetric.OTHER, description=", ".join(GoalMetric.values))
    baseline: Decimal | None = None
    target: Decimal | None = None
    unit: str = ""
    target_date: dt.date | None = None
    order: int = Field(0, ge=0, le=32767)


class ActionIn(Schema):
    title: str
    description: str = ""
    focus_area: str | None = Field(None, description="Focus area key")
    need: int | None = Field(None, description="Id of a need of the plan's company")
    owner: str = ""
    due_date: dt.date | None = None
    status: str = Field(ActionStatus.PLANNED, description=", ".join(ActionStatus.values))
    order: int = Field(0, ge=0, le=32767)


def _plan_detail(plan: GrowthPlan) -> GrowthPlan:
    return GrowthPlan.objects.select_related("company").get(pk=plan.pk)


@router.get("/growth-plans/", response=list[GrowthPlanOut], summary="List growth plans")
@paginate(LimitOffsetPagination)
def list_growth_plans(request: HttpRequest, company: int | None = None, status: str = ""):
    _require(request, "assessments.view_growthplan")
    queryset = selectors.growth_plans_visible_to(request.user)
    if company is not None:
        queryset = queryset.filter(company_id=company)
    if status:
        if status not in GrowthPlanStatus.values:
            raise HttpError(422, f"status: choose one of {', '.join(GrowthPlanStatus.values)}.")
        queryset = queryset.filter(status=status)
    return queryset.order_by("company__name", "-created_at", "-id")


@router.post("/growth-plans/", response={201: GrowthPlanDetailOut}, summary="Draft a growth plan")
def create_growth_plan(request: HttpRequest, payload: GrowthPlanIn):
    _require(request, "assessments.add_growthplan")
    company = _company(request, payload.company)
    assessment = _assessment(request, payload.assessment) if payload.assessment is not None else None
    try:
        plan = services.growth_plan_create(
            request.user, company, title=payload.title, assessment=assessment, from_needs=payload.from_needs,
            source=SOURCE,
        )
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _plan_detail(plan))


@router.get("/growth-plans/{int:plan_id}", response=GrowthPlanDetailOut, summary="One growth plan")
def get_growth_plan(request: HttpRequest, plan_id: int):
    _require(request, "assessments.view_growthplan")
    return _plan_detail(_plan(request, plan_id))


@router.patch("/growth-plans/{int:plan_id}", response=GrowthPlanDetailOut, summary="Change a growth plan")
def update_growth_plan(request: HttpRequest, plan_id: int, payload: GrowthPlanPatch):
    _require(request, "assessments.change_growthplan")
    plan = _plan(request, plan_id)
    data = payload.dict(exclude_unset=True)
    if data.get("summary", "") is None:
        data["summary"] = ""
    for key in ("title", "status", "shared_with_company"):
        if key in data and data[key] is None:
            raise HttpError(422, f"{key}: may not be null.")
    try:
        plan = services.growth_plan_update(request.user, plan, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _plan_detail(plan)


@router.post("/growth-plans/{int:plan_id}/goals", response={201: GoalOut}, summary="Add a goal to a plan")
def create_goal(request: HttpRequest, plan_id: int, payload: GoalIn):
    _require(request, "assessments.add_growthgoal")
    plan = _plan(request, plan_id)
    try:
        goal = services.growth_goal_save(request.user, plan, payload.dict(), source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, GrowthGoal.objects.get(pk=goal.pk))


@router.post("/growth-plans/{int:plan_id}/actions", response={201: ActionOut}, summary="Add an action to a plan")
def create_action(request: HttpRequest, plan_id: int, payload: ActionIn):
    _require(request, "assessments.add_growthaction")
    plan = _plan(request, plan_id)
    data = payload.dict()
    if data["focus_area"] is not None:
        focus_area = FocusArea.objects.filter(key=data["focus_area"]).first()
        if focus_area is None:
            raise HttpError(422, f"focus_area: no focus area with the key {data['focus_area']}.")
        data["focus_area"] = focus_area
    if data["need"] is not None:
        need = Need.objects.filter(pk=data["need"]).first()
        if need is None or need.company_id != plan.company_id:
            raise HttpError(422, "need: the plan's company has no such need.")
        data["need"] = need
    try:
        action = services.growth_action_save(request.user, plan, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, GrowthAction.objects.select_related("focus_area").get(pk=action.pk))
