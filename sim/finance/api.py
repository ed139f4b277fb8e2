"""REST endpoints of budgets: scenarios with their totals, budget lines, financing plans and the
dashboard figures (the same selectors as the pages, so the same numbers).

Same permissions and project scoping as the web: 401 without credentials, 403 without the
permission (finance officers and project managers edit budgets; auditors read; other roles have
no access), 404 for a project or scenario the user does not work in; 422 for invalid input, with
``detail`` and, for whole-set writes, ``errors`` keyed by line or source. Amounts are SEK with two
decimals.

No `from __future__ import annotations` here: django-ninja reads the annotations at import time.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from sim.core.models import AuditEvent

from . import rules, selectors, services
from .models import BudgetLine, BudgetScenario

router = Router(tags=["budgets and financing"])
SOURCE = AuditEvent.Source.API
VIEW = "finance.view_budgetscenario"


# --- Helpers -------------------------------------------------------------------------------------


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


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: list(messages) for name, messages in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def _project(request: HttpRequest, project_id: int):
    project = selectors.project_for_user(request.user, project_id)
    if project is None:
        raise HttpError(404, "No such project.")
    return project


def _scenario(request: HttpRequest, scenario_id: int) -> BudgetScenario:
    scenario = selectors.scenario_for_user(request.user, scenario_id)
    if scenario is None:
        raise HttpError(404, "No such budget scenario.")
    return scenario


c = rules.cents


class ErrorOut(Schema):
    detail: str


class ErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]]


# --- Shapes of the figures -----------------------------------------------------------------------


class BalanceOut(Schema):
    budget_sek: Decimal
    financing_sek: Decimal
    difference_sek: Decimal = Field(..., description="financing − budget")
    balanced: bool
    direction: str = Field(..., description="balanced, short (financing below budget) or over")
    message: str


def _balance(balance: rules.Balance) -> dict:
    return {"budget_sek": c(balance.budget), "financing_sek": c(balance.financing),
            "difference_sek": c(balance.difference), "balanced": balance.balanced, "direction": balance.direction,
            "message": balance.message()}


class ReachOut(Schema):
    amount_sek: Decimal = Field(..., description="direct + staff share")
    direct_sek: Decimal = Field(..., description="Direct support to companies and company-specific costs")
    staff_share_sek: Decimal = Field(..., description="The company-facing share of staff costs")
    total_sek: Decimal
    share_pct: Decimal | None
    target_pct: Decimal
    meets_target: bool | None


def _reach(reach: rules.Reach) -> dict:
    return {"amount_sek": c(reach.amount), "direct_sek": c(reach.direct), "staff_share_sek": c(reach.staff_share),
            "total_sek": c(reach.total), "share_pct": reach.share_pct, "target_pct": reach.target_pct,
            "meets_target": reach.meets_target}


class SourceOut(Schema):
    id: int | None
    kind: str
    kind_label: str
    name: str
    basis: str = Field(..., description="How the amount is given: amount, rate (of the eligible budget) or hours")
    amount_sek: Decimal | None = Field(..., description="As entered")
    rate_pct: Decimal | None
    hours: Decimal | None
    resolved_amount_sek: Decimal = Field(..., description="What the source brings")
    share_pct: Decimal | None = Field(..., description="Of the budget")


def _sources(summary: selectors.ScenarioSummary) -> list[dict]:
    return [
        {"id": row["id"], "kind": row["kind"], "kind_label": row["kind_label"], "name": row["name"],
         "basis": row["basis"], "amount_sek": row["entered_amount"], "rate_pct": row["rate_pct"], "hours": row["hours"],
         "resolved_amount_sek": c(row["amount"]), "share_pct": row["share_pct"]}
        for row in summary.source_rows
    ]


class CategoryTotalOut(Schema):
    category: str
    label: str
    total_sek: Decimal
    by_year: dict[str, Decimal]


class YearTotalOut(Schema):
    year: int
    total_sek: Decimal


class PartnerTotalOut(Schema):
    partner_id: int | None
    label: str
    total_sek: Decimal


class KindTotalOut(Schema):
    kind: str
    label: str
    amount_sek: Decimal
    share_pct: Decimal | None


class ScenarioOut(Schema):
    id: int
    project_id: int
    name: str
    description: str
    start_date: dt.date
    end_date: dt.date
    is_adopted: bool
    indirect_rate_pct: Decimal
    company_share_target_pct: Decimal
    advisor_company_facing_pct: Decimal
    in_kind_hourly_rate_sek: Decimal
    total_sek: Decimal
    staff_sek: Decimal
    indirect_sek: Decimal
    by_category: list[CategoryTotalOut]
    by_year: list[YearTotalOut]
    by_partner: list[PartnerTotalOut]
    financing: list[SourceOut]
    financing_by_kind: list[KindTotalOut]
    balance: BalanceOut
    reach: ReachOut


def _scenario_out(summary: selectors.ScenarioSummary) -> dict:
    s = summary.scenario
    return {
        "id": s.pk, "project_id": s.project_id, "name": s.name, "description": s.description,
        "start_date": s.start_date, "end_date": s.end_date, "is_adopted": s.is_adopted,
        "indirect_rate_pct": s.indirect_rate_pct, "company_share_target_pct": s.company_share_target_pct,
        "advisor_company_facing_pct": s.advisor_company_facing_pct, "in_kind_hourly_rate_sek": s.in_kind_hourly_rate_sek,
        "total_sek": c(summary.totals.total), "staff_sek": c(summary.totals.staff),
        "indirect_sek": c(summary.totals.indirect),
        "by_category": [
            {"category": row["key"], "label": row["label"], "total_sek": c(row["total"]),
             "by_year": {str(y): c(v) for y, v in zip(summary.years, row["by_year"], strict=True)}}
            for row in summary.category_rows
        ],
        "by_year": [{"year": row["year"], "total_sek": c(row["total"])} for row in summary.year_rows],
        "by_partner": [{"partner_id": row["id"], "label": row["label"], "total_sek": c(row["total"])}
                       for row in summary.partner_rows],
        "financing": _sources(summary),
        "financing_by_kind": [{"kind": row["kind"], "label": row["label"], "amount_sek": c(row["amount"]),
                               "share_pct": row["share_pct"]} for row in summary.kind_rows],
        "balance": _balance(summary.balance),
        "reach": _reach(summary.reach),
    }


# --- Scenarios -----------------------------------------------------------------------------------


class ScenarioIn(Schema):
    name: str
    description: str = ""
    start_date: dt.date | None = Field(None, description="The project's start when left out")
    end_date: dt.date | None = Field(None, description="The project's (extended) end when left out")
    indirect_rate_pct: Decimal = Decimal(15)
    company_share_target_pct: Decimal = Decimal(60)
    advisor_company_facing_pct: Decimal = Decimal(70)
    in_kind_hourly_rate_sek: Decimal = Decimal(500)


class CopyIn(Schema):
    name: str
    description: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@router.get("/projects/{int:project_id}/scenarios", response=list[ScenarioOut], summary="Budget scenarios of a project")
def list_scenarios(request: HttpRequest, project_id: int):
    """Every scenario of the project with its totals per category, year and partner, its financing
    plan, whether the plan balances, and what reaches companies. The adopted one comes first."""
    _require(request, VIEW)
    project = _project(request, project_id)
    partners = selectors.partner_labels(project)
    return [_scenario_out(selectors.scenario_summary(s, partners)) for s in selectors.scenarios_of(project)]


@router.post("/projects/{int:project_id}/scenarios", response={201: ScenarioOut}, summary="Add a budget scenario")
def create_scenario(request: HttpRequest, project_id: int, payload: ScenarioIn):
    _require(request, "finance.add_budgetscenario")
    project = _project(request, project_id)
    data = {k: v for k, v in payload.dict().items() if v is not None or k not in ("start_date", "end_date")}
    try:
        scenario = services.scenario_create(request.user, project, data, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, "; ".join(_messages(exc))) from None
    return Status(201, _scenario_out(selectors.scenario_summary(scenario)))


@router.get("/scenarios/{int:scenario_id}", response=ScenarioOut, summary="One budget scenario with its totals")
def get_scenario(request: HttpRequest, scenario_id: int):
    _require(request, VIEW)
    return _scenario_out(selectors.scenario_summary(_scenario(request, scenario_id)))


@router.post("/scenarios/{int:scenario_id}/copy", response={201: ScenarioOut}, summary="Copy a scenario")
def copy_scenario(request: HttpRequest, scenario_id: int, payload: CopyIn):
    """A new scenario with the budget lines, financing plan and settings of this one; give a new
    name, and optionally another period (e.g. a year longer)."""
    _require(request, "finance.add_budgetscenario")
    scenario = _scenario(request, scenario_id)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    try:
        copy = services.scenario_copy(request.user, scenario, data, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, "; ".join(_messages(exc))) from None
    return Status(201, _scenario_out(selectors.scenario_summary(copy)))


@router.post("/scenarios/{int:scenario_id}/adopt", response=ScenarioOut, summary="Adopt a scenario as the budget")
def adopt_scenario(request: HttpRequest, scenario_id: int):
    """Make this the project's one adopted budget. Refused (422) when its financing plan does not
    balance, with the difference and which way."""
    _require(request, "finance.change_budgetscenario")
    scenario = _scenario(request, scenario_id)
    try:
        services.scenario_adopt(request.user, scenario, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, "; ".join(_messages(exc))) from None
    return _scenario_out(selectors.scenario_summary(_scenario(request, scenario_id)))


# --- Budget lines --------------------------------------------------------------------------------


class BudgetLineOut(Schema):
    id: int
    partner_id: int | None
    category: str
    year: int
    quarter: int | None
    amount_sek: Decimal
    note: str


class BudgetLineIn(Schema):
    category: str = Field(..., description="staff, external_services, company_support, travel, equipment or other "
                                           "(indirect costs are computed)")
    year: int
    quarter: int | None = Field(None, description="1–4, or left out for the whole year")
    partner: int | None = Field(None, description="ProjectPartner id, or left out for none")
    amount_sek: Decimal
    note: str = ""


class BudgetLinesOut(Schema):
    scenario_id: int
    lines: list[BudgetLineOut]
    total_sek: Decimal = Field(..., description="All lines plus indirect costs")
    indirect_sek: Decimal
    by_category: list[CategoryTotalOut]


def _lines_out(scenario: BudgetScenario) -> dict:
    summary = selectors.scenario_summary(scenario)
    lines = BudgetLine.objects.filter(scenario=scenario).order_by("year", "quarter", "category", "partner_id", "pk")
    return {
        "scenario_id": scenario.pk,
        "lines": [{"id": x.pk, "partner_id": x.partner_id, "category": x.category, "year": x.year, "quarter": x.quarter,
                   "amount_sek": x.amount_sek, "note": x.note} for x in lines],
        "total_sek": c(summary.totals.total), "indirect_sek": c(summary.totals.indirect),
        "by_category": _scenario_out(summary)["by_category"],
    }


@router.get("/scenarios/{int:scenario_id}/budget-lines", response=BudgetLinesOut, summary="Budget lines of a scenario")
def list_budget_lines(request: HttpRequest, scenario_id: int):
    _require(request, VIEW, "finance.view_budgetline")
    return _lines_out(_scenario(request, scenario_id))


@router.put("/scenarios/{int:scenario_id}/budget-lines", response={200: BudgetLinesOut, 422: ErrorsOut},
            summary="Replace the budget lines of a scenario")
def put_budget_lines(request: HttpRequest, scenario_id: int, payload: list[BudgetLineIn]):
    """The scenario's budget becomes exactly these lines (all or nothing). A year is given either
    whole or per quarter; indirect costs are never sent (they are the scenario's flat rate on staff)."""
    _require(request, "finance.change_budgetline", "finance.add_budgetline", "finance.delete_budgetline")
    scenario = _scenario(request, scenario_id)
    lines = [{"category": x.category, "year": x.year, "quarter": x.quarter, "partner": x.partner,
              "amount": x.amount_sek, "note": x.note} for x in payload]
    try:
        services.budget_lines_replace(request.user, scenario, lines, source=SOURCE)
    except ValidationError as exc:
        return Status(422, {"detail": "; ".join(_messages(exc)), "errors": _errors(exc)})
    return _lines_out(scenario)


# --- Financing -----------------------------------------------------------------------------------


class FinancingIn(Schema):
    kind: str = Field(..., description="erdf, regional_public, other_public, private_cash or private_in_kind")
    name: str = ""
    amount_sek: Decimal | None = None
    rate_pct: Decimal | None = Field(None, description="Of the eligible budget (e.g. the ERDF rate)")
    hours: Decimal | None = Field(None, description="Company staff hours in kind, valued at the standard hourly rate")


class FinancingOut(Schema):
    scenario_id: int
    sources: list[SourceOut]
    by_kind: list[KindTotalOut]
    balance: BalanceOut


def _financing_out(scenario: BudgetScenario) -> dict:
    summary = selectors.scenario_summary(scenario)
    out = _scenario_out(summary)
    return {"scenario_id": scenario.pk, "sources": out["financing"], "by_kind": out["financing_by_kind"],
            "balance": out["balance"]}


@router.get("/scenarios/{int:scenario_id}/financing", response=FinancingOut, summary="Financing plan of a scenario")
def get_financing(request: HttpRequest, scenario_id: int):
    """The sources with their resolved amounts and shares, and whether the plan balances against the budget."""
    _require(request, VIEW, "finance.view_financingsource")
    return _financing_out(_scenario(request, scenario_id))


@router.put("/scenarios/{int:scenario_id}/financing", response={200: FinancingOut, 422: ErrorsOut},
            summary="Replace the financing plan of a scenario")
def put_financing(request: HttpRequest, scenario_id: int, payload: list[FinancingIn]):
    """The plan becomes exactly these sources (all or nothing); each gives one of an amount, a rate
    or hours (in kind). A plan that does not balance is saved, and ``balance`` says by how much and
    which way (adopting the scenario needs a balanced plan)."""
    _require(request, "finance.change_financingsource", "finance.add_financingsource",
             "finance.delete_financingsource")
    scenario = _scenario(request, scenario_id)
    try:
        services.financing_replace(request.user, scenario, [x.dict() for x in payload], source=SOURCE)
    except ValidationError as exc:
        return Status(422, {"detail": "; ".join(_messages(exc)), "errors": _errors(exc)})
    return _financing_out(scenario)


# --- The dashboard -------------------------------------------------------------------------------


class FiguresOut(Schema):
    key: str
    label: str
    budget_sek: Decimal
    actual_sek: Decimal
    forecast_sek: Decimal
    projected_end_sek: Decimal = Field(..., description="budget − actual − forecast")
    overspent: bool = Field(..., description="actual + forecast > budget")


def _figures(key: str, label: str, f: rules.Figures) -> dict:
    return {"key": key, "label": label, "budget_sek": f.budget, "actual_sek": f.actual, "forecast_sek": f.forecast,
            "projected_end_sek": f.projected_end, "overspent": f.overspent}


class BurnOut(Schema):
    window_months: int
    months_counted: int
    spent_sek: Decimal
    per_month_sek: Decimal


def _burn(burn: rules.Burn) -> dict:
    return {"window_months": burn.window, "months_counted": burn.months, "spent_sek": c(burn.spent),
            "per_month_sek": burn.per_month}


class MonthOut(Schema):
    month: str = Field(..., description="YYYY-MM")
    budget_cumulative_sek: Decimal
    actual_cumulative_sek: Decimal | None
    forecast_cumulative_sek: Decimal | None = Field(..., description="actual + forecast, from the as-of month")


class CoFinancingOut(Schema):
    interventions: int
    cash_sek: Decimal
    hours: Decimal
    hourly_rate_sek: Decimal
    in_kind_sek: Decimal
    total_sek: Decimal
    planned_cash_sek: Decimal
    planned_in_kind_sek: Decimal
    planned_total_sek: Decimal
    total_pct: Decimal | None


class DashboardOut(Schema):
    project_id: int
    scenario_id: int
    scenario_name: str
    as_of: dt.date
    window_months: int
    total: FiguresOut
    by_category: list[FiguresOut]
    by_partner: list[FiguresOut]
    by_year: list[FiguresOut]
    by_quarter: list[FiguresOut]
    by_line: list[FiguresOut]
    burn: BurnOut
    burn_rates: list[BurnOut]
    remaining_months: int
    reach_actual: ReachOut
    reach_budget: ReachOut
    co_financing: CoFinancingOut
    balance: BalanceOut
    warnings: list[str]
    notes: list[str]
    months: list[MonthOut]


class DashboardIn(Schema):
    as_of: dt.date | None = Field(None, description="Today when left out")
    window: int = Field(3, description="Burn-rate window for the forecast: 3, 6 or 12 months")
    scenario: int | None = Field(None, description="A scenario of the project; the adopted one when left out")


@router.get("/projects/{int:project_id}/dashboard", response={200: DashboardOut, 404: ErrorOut},
            summary="Budget vs actual vs forecast of a project")
def get_dashboard(request: HttpRequest, project_id: int, filters: Query[DashboardIn]):
    """The figures of the finance dashboard page: budget, actual and forecast per category, partner,
    year, quarter and line, burn rates, projected end balance, the share reaching companies, private
    co-financing achieved, and the warnings. 404 when the project has no adopted scenario (and none is named)."""
    _require(request, VIEW)
    project = _project(request, project_id)
    if filters.window not in (3, 6, 12):
        raise HttpError(422, "window: 3, 6 or 12 months.")
    if filters.scenario is not None:
        scenario = BudgetScenario.objects.filter(project=project, pk=filters.scenario).first()
        if scenario is None:
            raise HttpError(404, "No such budget scenario in the project.")
    else:
        scenario = selectors.adopted_scenario(project)
        if scenario is None:
            raise HttpError(404, "The project has no adopted budget scenario.")
    dash = selectors.dashboard(project, scenario, filters.as_of or timezone.localdate(), filters.window)
    co = dash.co_financing
    return {
        "project_id": project.pk, "scenario_id": scenario.pk, "scenario_name": scenario.name, "as_of": dash.as_of,
        "window_months": dash.window,
        "total": _figures("total", "Total", dash.total),
        "by_category": [_figures(r.key, r.label, r.figures) for r in dash.categories],
        "by_partner": [_figures(r.key, r.label, r.figures) for r in dash.partners],
        "by_year": [_figures(r.key, r.label, r.figures) for r in dash.years],
        "by_quarter": [_figures(r.key, r.label, r.figures) for r in dash.quarters],
        "by_line": [_figures(r.key, r.label, r.figures) for r in dash.lines],
        "burn": _burn(dash.burn), "burn_rates": [_burn(b) for b in dash.figures.burns.values()],
        "remaining_months": dash.figures.remaining_months,
        "reach_actual": _reach(dash.figures.reach_actual), "reach_budget": _reach(dash.figures.reach_budget),
        "co_financing": {
            "interventions": co.interventions, "cash_sek": c(co.cash), "hours": co.hours,
            "hourly_rate_sek": co.hourly_rate, "in_kind_sek": c(co.in_kind), "total_sek": c(co.total),
            "planned_cash_sek": c(co.planned_cash), "planned_in_kind_sek": c(co.planned_in_kind),
            "planned_total_sek": c(co.planned_total), "total_pct": co.total_pct,
        },
        "balance": _balance(dash.summary.balance),
        "warnings": dash.warnings, "notes": dash.notes,
        "months": [{"month": rules.month_date(p.month).strftime("%Y-%m"), "budget_cumulative_sek": p.budget_cumulative,
                    "actual_cumulative_sek": p.actual_cumulative, "forecast_cumulative_sek": p.forecast_cumulative}
                   for p in dash.figures.months],
    }
