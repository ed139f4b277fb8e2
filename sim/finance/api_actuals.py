"""REST endpoints of the actuals: cost entries (by hand, reversals, import), staff rates, time
reports, company contributions and actual costs.

Same permissions and project scoping as the web: 401 without credentials, 403 without the
permission (finance officers write; project managers and auditors read), 404 for a project the
user does not work in or a record of one; 422 for invalid input (``detail`` says what).

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.companies.models import Company
from sim.companies.rules import InvalidOrgNumber, parse_org_number
from sim.core.models import AuditEvent
from sim.programmes.models import FocusArea, Intervention, Project, ProjectPartner
from sim.programmes.projects import projects_for

from . import cost_import, selectors_actuals, services_actuals
from . import rules_actuals as rules
from .models import CostEntry, StaffRate, TimeReport

router = Router(tags=["costs, time reports and contributions"])
SOURCE = AuditEvent.Source.API


# --- Helpers --------------------------------------------------------------------------------


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
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


def _project(request: HttpRequest, project_id: int) -> Project:
    project = projects_for(request.user).filter(pk=project_id).first()
    if project is None:
        raise HttpError(404, "No such project.")
    return project


def _partner(project: Project, partner_id: int | None):
    if partner_id is None:
        return None
    partner = ProjectPartner.objects.filter(pk=partner_id, project=project).select_related("organisation").first()
    if partner is None:
        raise HttpError(422, "partner: not a partner in this project.")
    return partner


def _person(project: Project, user_id: int):
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not project.memberships.filter(user=user).exists():
        raise HttpError(422, "person: not a member of this project.")
    return user


class ErrorOut(Schema):
    detail: str


# --- Cost entries ---------------------------------------------------------------------------


class CostEntryOut(Schema):
    id: int
    project_id: int
    partner_id: int | None
    partner_name: str | None
    category: str
    date: dt.date
    amount_sek: Decimal
    voucher: str
    description: str
    intervention_id: int | None
    company_id: int | None
    reverses_id: int | None
    reversed_by_id: int | None
    source: str
    recorded_at: dt.datetime
    recorded_by_id: int | None

    @staticmethod
    def resolve_partner_name(obj: CostEntry) -> str | None:
        return obj.partner.organisation.name if obj.partner_id else None

    @staticmethod
    def resolve_reversed_by_id(obj: CostEntry) -> int | None:
        return CostEntry.objects.filter(reverses_id=obj.pk).values_list("pk", flat=True).first()


class CostFilterIn(Schema):
    category: str = ""
    partner: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    intervention: int | None = None
    q: str = Field("", description="Text in the voucher or description")


class CostEntryIn(Schema):
    date: dt.date
    voucher: str
    category: str = Field(..., description="external_services, company_support, travel, equipment or other "
                                           "(staff costs come from time reports)")
    amount_sek: Decimal = Field(..., description="Not zero; negative for a credit")
    partner: int | None = Field(None, description="ProjectPartner id; the project owner when left out")
    description: str = ""
    intervention: int | None = Field(None, description="Intervention id (approved, of this project)")
    company: str | None = Field(None, description="Organisation number of the company the cost is for")


class ReversalIn(Schema):
    reason: str = Field(..., description="Why the entry is corrected (required)")
    on: dt.date | None = Field(None, description="Date of the correction; today when left out")
    voucher: str = Field("", description="Voucher of the correction; the original's when left out")


def _entry(request: HttpRequest, entry_id: int) -> CostEntry:
    entry = selectors_actuals.cost_entry_for_user(request.user, entry_id)
    if entry is None:
        raise HttpError(404, "No such cost entry.")
    return entry


@router.get("/projects/{int:project_id}/costs", response=list[CostEntryOut], summary="List a project's cost entries")
@paginate(LimitOffsetPagination)
def list_costs(request: HttpRequest, project_id: int, filters: Query[CostFilterIn]):
    _require(request, "finance.view_costentry")
    project = _project(request, project_id)
    return selectors_actuals.cost_entries_filtered(project, selectors_actuals.CostFilters(
        category=filters.category, partner=filters.partner, start=filters.start, end=filters.end,
        intervention=filters.intervention, text=filters.q.strip()))


@router.post("/projects/{int:project_id}/costs", response={201: CostEntryOut}, summary="Book a cost entry")
def create_cost(request: HttpRequest, project_id: int, payload: CostEntryIn):
    _require(request, "finance.add_costentry")
    project = _project(request, project_id)
    intervention = None
    if payload.intervention is not None:
        intervention = Intervention.objects.filter(pk=payload.intervention, project=project).select_related("company").first()
        if intervention is None:
            raise HttpError(422, "intervention: no such intervention in this project.")
    company = None
    if payload.company:
        try:
            org = parse_org_number(payload.company)
        except InvalidOrgNumber as exc:
            raise HttpError(422, f"company: {exc}") from None
        company = Company.objects.filter(org_number=org.digits).first()
        if company is None:
            raise HttpError(422, "company: no company with this organisation number in the register.")
    data = {
        "date": payload.date, "voucher": payload.voucher, "category": payload.category, "amount_sek": payload.amount_sek,
        "partner": _partner(project, payload.partner), "description": payload.description,
        "intervention": intervention, "company": company,
    }
    try:
        entry = services_actuals.cost_entry_create(request.user, project, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _entry(request, entry.pk))


@router.get("/costs/{int:entry_id}", response=CostEntryOut, summary="One cost entry")
def get_cost(request: HttpRequest, entry_id: int):
    _require(request, "finance.view_costentry")
    return _entry(request, entry_id)


@router.post("/costs/{int:entry_id}/reverse", response={201: CostEntryOut}, summary="Reverse a cost entry")
def reverse_cost(request: HttpRequest, entry_id: int, payload: ReversalIn):
    """Books the negated amount as a new entry that `reverses` this one. An entry is reversed once;
    a reversal cannot be reversed; the reason is required."""
    _require(request, "finance.add_costentry")
    entry = _entry(request, entry_id)
    try:
        reversal = services_actuals.cost_entry_reverse(request.user, entry, reason=payload.reason, on=payload.on,
                                                       voucher=payload.voucher, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _entry(request, reversal.pk))


class ImportErrorOut(Schema):
    row: int | None
    column: str | None
    message: str


class CostImportOut(Schema):
    project: str
    created: int
    unchanged: int
    total_sek: Decimal
    already_imported: bool
    errors: list[ImportErrorOut]
    warnings: list[str]
    dry_run: bool


@router.post("/projects/{int:project_id}/costs/import", response={200: CostImportOut, 422: CostImportOut},
             summary="Import cost entries from an accounting export")
def import_costs(request: HttpRequest, project_id: int, file: File[UploadedFile], dry_run: bool = False):
    """CSV or XLSX, the columns of `docs/import.md`. All rows or none: 422 with every problem (row,
    column, reason) when any row is invalid or the file is not a table. Importing the same file
    again adds nothing (`already_imported`)."""
    _require(request, "finance.import_costentry")
    project = _project(request, project_id)
    result = cost_import.import_costs(project, file, actor=request.user, dry_run=dry_run, source=SOURCE,
                                      name=file.name)
    return Status(422 if (result.fatal or result.error_count) else 200, result.as_json())


# --- Staff rates ----------------------------------------------------------------------------


class StaffRateOut(Schema):
    id: int
    project_id: int
    person_id: int
    person_name: str
    partner_id: int | None
    valid_from: dt.date
    monthly_salary_sek: Decimal
    overhead_pct: Decimal
    annual_hours: Decimal
    hourly_cost_sek: Decimal

    @staticmethod
    def resolve_person_name(obj: StaffRate) -> str:
        return obj.person.get_full_name() or obj.person.get_username()

    @staticmethod
    def resolve_hourly_cost_sek(obj: StaffRate) -> Decimal:
        return rules.hourly_cost(obj.monthly_salary_sek, obj.overhead_pct, obj.annual_hours)


class StaffRateIn(Schema):
    person: int = Field(..., description="User id of a project member")
    valid_from: dt.date
    monthly_salary_sek: Decimal
    overhead_pct: Decimal = Decimal(51)
    annual_hours: Decimal = Decimal(1720)
    partner: int | None = Field(None, description="ProjectPartner id; the member's partner when left out")


class StaffRateUpdateIn(Schema):
    valid_from: dt.date | None = None
    monthly_salary_sek: Decimal | None = None
    overhead_pct: Decimal | None = None
    annual_hours: Decimal | None = None
    partner: int | None = None


@router.get("/projects/{int:project_id}/staff-rates", response=list[StaffRateOut], summary="A project's staff rates")
def list_staff_rates(request: HttpRequest, project_id: int):
    _require(request, "finance.view_staffrate")
    return selectors_actuals.staff_rates(_project(request, project_id))


@router.post("/projects/{int:project_id}/staff-rates", response={201: StaffRateOut}, summary="Add a staff rate")
def create_staff_rate(request: HttpRequest, project_id: int, payload: StaffRateIn):
    _require(request, "finance.add_staffrate")
    project = _project(request, project_id)
    data = {
        "person": _person(project, payload.person), "valid_from": payload.valid_from,
        "monthly_salary_sek": payload.monthly_salary_sek, "overhead_pct": payload.overhead_pct,
        "annual_hours": payload.annual_hours, "partner": _partner(project, payload.partner),
    }
    try:
        rate = services_actuals.staff_rate_create(request.user, project, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, rate)


@router.patch("/staff-rates/{int:rate_id}", response=StaffRateOut, summary="Correct a staff rate")
def update_staff_rate(request: HttpRequest, rate_id: int, payload: StaffRateUpdateIn):
    """Time reports already recorded keep their hourly cost."""
    _require(request, "finance.change_staffrate")
    rate = selectors_actuals.staff_rate_for_user(request.user, rate_id)
    if rate is None:
        raise HttpError(404, "No such staff rate.")
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k == "partner"}
    if "partner" in data:
        data["partner"] = _partner(rate.project, data["partner"])
    try:
        return services_actuals.staff_rate_update(request.user, rate, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)


# --- Time reports ---------------------------------------------------------------------------


class TimeReportOut(Schema):
    id: int
    project_id: int
    person_id: int
    partner_id: int | None
    month: dt.date
    focus_area: str | None = Field(..., description="Focus area key; null for work not tied to one")
    hours: Decimal
    hourly_cost_sek: Decimal
    cost_sek: Decimal
    note: str

    @staticmethod
    def resolve_focus_area(obj: TimeReport) -> str | None:
        return obj.focus_area.key if obj.focus_area_id else None


class TimeFilterIn(Schema):
    month: str = Field("", description="A month, e.g. 2024-03")
    person: int | None = None


class MonthIn(Schema):
    hours: dict[str, Decimal] = Field(..., description="Hours per focus area key; the key \"general\" for work not "
                                                       "tied to a focus area. A key given 0 loses its hours.")
    note: str = ""


class MonthOut(Schema):
    created: int
    updated: int
    removed: int
    hours: Decimal
    cost_sek: Decimal
    hourly_cost_sek: Decimal | None
    reports: list[TimeReportOut]


@router.get("/projects/{int:project_id}/time-reports", response=list[TimeReportOut], summary="A project's time reports")
@paginate(LimitOffsetPagination)
def list_time_reports(request: HttpRequest, project_id: int, filters: Query[TimeFilterIn]):
    _require(request, "finance.view_timereport")
    project = _project(request, project_id)
    month = None
    if filters.month:
        try:
            month = rules.parse_month(filters.month)
        except rules.RuleError as exc:
            raise HttpError(422, f"month: {exc}") from None
    person = get_user_model().objects.filter(pk=filters.person).first() if filters.person else None
    if filters.person and person is None:
        return TimeReport.objects.none()
    return selectors_actuals.time_reports(project, month=month, person=person)


@router.put("/projects/{int:project_id}/time-reports/{int:person_id}/{month}", response=MonthOut,
            summary="Report a person's month")
def save_month(request: HttpRequest, project_id: int, person_id: int, month: str, payload: MonthIn):
    """Replaces the person's hours of the month in the project, per focus area. Refused (422) when
    no staff rate is valid in the month or the hours exceed a plausible month."""
    _require(request, "finance.add_timereport", "finance.change_timereport")
    project = _project(request, project_id)
    person = _person(project, person_id)
    try:
        first = rules.parse_month(month)
    except rules.RuleError as exc:
        raise HttpError(422, f"month: {exc}") from None
    areas = {a.key: a.pk for a in FocusArea.objects.all()}
    hours: dict[int | None, Decimal] = {}
    for key, value in payload.hours.items():
        if key in ("general", ""):
            hours[None] = value
        elif key in areas:
            hours[areas[key]] = value
        else:
            raise HttpError(422, f"hours: {key} is not a focus area.")
    try:
        saved = services_actuals.time_report_save_month(request.user, project, person, first, hours, note=payload.note,
                                                        source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return {**saved, "reports": list(selectors_actuals.time_reports(project, month=first, person=person))}


# --- Contributions and actual costs ---------------------------------------------------------


class ContributionOut(Schema):
    intervention_id: int
    title: str
    company_id: int
    company_name: str
    status: str
    own_cash_sek: Decimal
    own_hours: Decimal
    hours_value_sek: Decimal | None
    total_sek: Decimal


class ContributionsOut(Schema):
    hourly_rate_sek: Decimal | None
    scenario_id: int | None
    cash_sek: Decimal
    hours: Decimal
    hours_value_sek: Decimal | None
    total_sek: Decimal
    interventions: list[ContributionOut]


@router.get("/projects/{int:project_id}/contributions", response=ContributionsOut,
            summary="Companies' own contributions (private co-financing)")
def contributions(request: HttpRequest, project_id: int):
    _require(request, "finance.view_costentry")
    data = selectors_actuals.company_contributions(_project(request, project_id))
    return {
        "hourly_rate_sek": data.hourly_rate_sek, "scenario_id": data.scenario.pk if data.scenario else None,
        "cash_sek": data.cash_sek, "hours": data.hours, "hours_value_sek": data.hours_value_sek,
        "total_sek": data.total_sek,
        "interventions": [
            {"intervention_id": row.intervention.pk, "title": row.intervention.title,
             "company_id": row.intervention.company_id, "company_name": row.intervention.company.name,
             "status": row.intervention.status, "own_cash_sek": row.own_cash_sek, "own_hours": row.own_hours,
             "hours_value_sek": row.hours_value_sek, "total_sek": row.total_sek}
            for row in data.rows
        ],
    }


class ActualCostOut(Schema):
    category: str | None = None
    partner: int | None = None
    month: dt.date | None = None
    company_specific: bool | None = None
    amount_sek: Decimal


@router.get("/projects/{int:project_id}/actual-costs", response=list[ActualCostOut], summary="Actual costs, grouped")
def actual_costs(request: HttpRequest, project_id: int, by: str = "category,partner,month",
                 start: dt.date | None = None, end: dt.date | None = None):
    """Staff costs from time reports (category `staff`), other costs from the ledger; `by` is a
    comma-separated list of category, partner, month, company_specific."""
    _require(request, "finance.view_costentry", "finance.view_timereport")
    groups = [g.strip() for g in by.split(",") if g.strip()]
    if not groups or any(g not in selectors_actuals.GROUPINGS for g in groups):
        raise HttpError(422, f"by: choose from {', '.join(selectors_actuals.GROUPINGS)}.")
    return selectors_actuals.actual_costs(_project(request, project_id), by=groups, start=start, end=end)
