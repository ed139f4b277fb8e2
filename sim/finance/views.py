"""Web views of budgets: scenarios, the budget grid, the financing plan, comparison and the dashboard.

Thin: check the permission, find the project or scenario among the user's projects (else 404),
call a service or selector, render. Finance officers and project managers edit; auditors read;
other roles have no finance permissions (403).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.core.charts import Series, bar_chart, line_chart, nice_ceiling
from sim.programmes.models import Project, ProjectPartner
from sim.programmes.projects import current_project

from . import rules, selectors, services
from .forms import FinancingSourceForm, ScenarioCopyForm, ScenarioForm, parse_amount, show_amount
from .models import BudgetScenario, FinancingSource

VIEW = "finance.view_budgetscenario"
ADD = "finance.add_budgetscenario"
CHANGE = "finance.change_budgetscenario"
DELETE = "finance.delete_budgetscenario"
EDIT_LINES = "finance.change_budgetline"
EDIT_FINANCING = "finance.change_financingsource"
WINDOWS = (3, 6, 12)
NAV = "finance"


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    return list(exc.messages)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _project(request: HttpRequest, project_id: int) -> Project:
    project = selectors.project_for_user(request.user, project_id)
    if project is None:
        raise Http404(_("No such project."))
    return project


def _scenario(request: HttpRequest, pk: int) -> BudgetScenario:
    scenario = selectors.scenario_for_user(request.user, pk)
    if scenario is None:
        raise Http404(_("No such budget scenario."))
    return scenario


def _can(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "can_add": user.has_perm(ADD), "can_change": user.has_perm(CHANGE), "can_delete": user.has_perm(DELETE),
        "can_edit_lines": user.has_perm(EDIT_LINES), "can_edit_financing": user.has_perm(EDIT_FINANCING),
    }


# --- Money in charts -----------------------------------------------------------------------------


def _money_format(top: float):
    if top >= 1_000_000:
        return lambda v: number_format(Decimal(str(v)) / Decimal(1_000_000), decimal_pos=1) + " M"
    return lambda v: number_format(Decimal(str(round(v))), decimal_pos=0, force_grouping=True)


def _dashboard_charts(dash: selectors.Dashboard) -> dict:
    rows = [row for row in dash.categories if row.figures.budget or row.figures.actual or row.figures.forecast]
    top = max([float(v) for row in rows for v in (row.figures.budget, row.figures.actual + row.figures.forecast)] or [0])
    scale = nice_ceiling(top)
    fmt = _money_format(scale)
    charts: dict = {}
    if rows:
        bars = bar_chart(
            [row.label for row in rows],
            [Series(_("Budget"), [row.figures.budget for row in rows]),
             Series(_("Actual"), [row.figures.actual for row in rows]),
             Series(_("Actual + forecast"), [row.figures.actual + row.figures.forecast for row in rows])],
            max_value=scale, value_format=fmt, id_prefix="finance-categories",
            title=_("Budget, actual and forecast per cost category (SEK)"),
        )
        charts["categories_svg"] = mark_safe(bars.to_svg())  # built from escaped text
    points = dash.figures.months
    if points:
        labels = [rules.month_date(p.month).strftime("%Y-%m") for p in points]
        lines = line_chart(
            labels,
            [Series(_("Budget, cumulative"), [p.budget_cumulative for p in points]),
             Series(_("Actual, cumulative"), [p.actual_cumulative for p in points]),
             Series(_("Actual + forecast, cumulative"), [p.forecast_cumulative for p in points])],
            value_format=_money_format(nice_ceiling(max(
                [float(v) for p in points for v in (p.budget_cumulative, p.actual_cumulative, p.forecast_cumulative)
                 if v is not None] or [0]))),
            id_prefix="finance-cumulative",
            title=_("Cumulative budget, actual and forecast over time (SEK)"),
        )
        charts["cumulative_svg"] = mark_safe(lines.to_svg())
        charts["cumulative_rows"] = list(zip(labels, points, strict=True))
    return charts


# --- Start, dashboard ----------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def finance_home(request: HttpRequest) -> HttpResponse:
    """The finance menu entry: the dashboard of the current project."""
    project = current_project(request)
    if project is None:
        return render(request, "finance/dashboard_none.html", {"project": None, "active_nav": NAV})
    return redirect("finance:dashboard", project_id=project.pk)


def _as_of(request: HttpRequest) -> tuple[dt.date, str]:
    raw = request.GET.get("as_of", "")
    if raw:
        try:
            return dt.date.fromisoformat(raw), ""
        except ValueError:
            return timezone.localdate(), _("%(value)s is not a date (YYYY-MM-DD); today is used.") % {"value": raw}
    return timezone.localdate(), ""


def _window(request: HttpRequest) -> int:
    raw = request.GET.get("window", "")
    return int(raw) if raw.isdigit() and int(raw) in WINDOWS else selectors.DEFAULT_WINDOW


@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    raw = request.GET.get("scenario", "")
    if raw:
        scenario = BudgetScenario.objects.filter(project=project, pk=int(raw) if raw.isdigit() else 0).first()
        if scenario is None:
            raise Http404(_("No such budget scenario."))
    else:
        scenario = selectors.adopted_scenario(project)
    if scenario is None:
        return render(request, "finance/dashboard_none.html", {
            "project": project, "scenarios": selectors.scenarios_of(project), "active_nav": NAV, **_can(request)})
    as_of, as_of_error = _as_of(request)
    window = _window(request)
    dash = selectors.dashboard(project, scenario, as_of, window)
    return render(request, "finance/dashboard.html", {
        "project": project, "scenario": scenario, "dash": dash, "as_of_error": as_of_error, "windows": WINDOWS,
        "scenarios": selectors.scenarios_of(project), "active_nav": NAV, **_dashboard_charts(dash), **_can(request),
    })


# --- Scenarios -----------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def scenario_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    partners = selectors.partner_labels(project)
    summaries = [selectors.scenario_summary(s, partners) for s in selectors.scenarios_of(project)]
    return render(request, "finance/scenario_list.html", {
        "project": project, "summaries": summaries, "active_nav": NAV, **_can(request)})


@login_required
@permission_required(ADD, raise_exception=True)
def scenario_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    form = ScenarioForm(request.POST or None, initial={
        "start_date": project.start_date, "end_date": project.effective_end, "indirect_rate_pct": Decimal(15),
        "company_share_target_pct": Decimal(60), "advisor_company_facing_pct": Decimal(70),
        "in_kind_hourly_rate_sek": Decimal(500)})
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_create(request.user, project, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The scenario %(name)s was created; enter its budget.") % {"name": scenario.name})
            return redirect("finance:budget-edit", pk=scenario.pk)
    return render(request, "finance/scenario_form.html", {"form": form, "project": project, "active_nav": NAV})


@login_required
@permission_required(VIEW, raise_exception=True)
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    summary = selectors.scenario_summary(scenario)
    return render(request, "finance/scenario_detail.html", {
        "scenario": scenario, "project": scenario.project, "summary": summary, "active_nav": NAV, **_can(request)})


@login_required
@permission_required(CHANGE, raise_exception=True)
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    form = ScenarioForm(request.POST or None, instance=scenario)
    if request.method == "POST" and form.is_valid():
        try:
            services.scenario_update(request.user, scenario, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("finance:scenario-detail", pk=scenario.pk)
    return render(request, "finance/scenario_form.html", {
        "form": form, "project": scenario.project, "scenario": scenario, "active_nav": NAV})


@login_required
@permission_required(ADD, raise_exception=True)
def scenario_copy(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    form = ScenarioCopyForm(request.POST or None, initial={
        "name": _("Copy of %(name)s") % {"name": scenario.name}, "description": scenario.description,
        "start_date": scenario.start_date, "end_date": scenario.end_date})
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.scenario_copy(request.user, scenario, form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was created from %(source)s.") % {"name": copy.name, "source": scenario.name})
            return redirect("finance:scenario-detail", pk=copy.pk)
    return render(request, "finance/scenario_copy.html", {
        "form": form, "scenario": scenario, "project": scenario.project, "active_nav": NAV})


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def scenario_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    try:
        services.scenario_adopt(request.user, scenario)
    except ValidationError as exc:
        messages.error(request, " ".join(_messages(exc)))
        return redirect("finance:scenario-detail", pk=scenario.pk)
    messages.success(request, _("%(name)s is now the project's adopted budget.") % {"name": scenario.name})
    return redirect("finance:dashboard", project_id=scenario.project_id)


@login_required
@permission_required(DELETE, raise_exception=True)
@require_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    try:
        services.scenario_delete(request.user, scenario)
    except ValidationError as exc:
        messages.error(request, " ".join(_messages(exc)))
        return redirect("finance:scenario-detail", pk=scenario.pk)
    messages.success(request, _("The scenario %(name)s was deleted.") % {"name": scenario.name})
    return redirect("finance:scenario-list", project_id=scenario.project_id)


@login_required
@permission_required(VIEW, raise_exception=True)
def scenario_compare(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    available = list(selectors.scenarios_of(project))
    chosen_ids = {int(v) for v in request.GET.getlist("s") if v.isdigit()}
    chosen = [s for s in available if s.pk in chosen_ids] if chosen_ids else available[:4]
    comparison = selectors.compare(chosen)
    return render(request, "finance/compare.html", {
        "project": project, "available": available, "chosen_ids": {s.pk for s in chosen}, "comparison": comparison,
        "active_nav": NAV,
    })


# --- The budget grid -----------------------------------------------------------------------------


def _grid_partner(request: HttpRequest, scenario: BudgetScenario, data) -> ProjectPartner | None:
    raw = data.get("partner", "")
    if not raw or raw == "none":
        return None
    partner = ProjectPartner.objects.select_related("organisation").filter(
        project_id=scenario.project_id, pk=int(raw) if raw.isdigit() else 0).first()
    if partner is None:
        raise Http404(_("No such partner in the project."))
    return partner


def _prepare(grid: selectors.BudgetGrid) -> selectors.BudgetGrid:
    for row in grid.rows:
        for cell in row.cells:
            cell.text = cell.submitted if cell.submitted is not None else show_amount(cell.value)
    return grid


def _grid_url(scenario: BudgetScenario, partner: ProjectPartner | None, by: str) -> str:
    return reverse("finance:budget-edit", args=[scenario.pk]) + "?" + urlencode(
        {"partner": partner.pk if partner else "none", "by": by})


@login_required
@permission_required(EDIT_LINES, raise_exception=True)
def budget_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The budget grid of a scenario, for one partner (or none), per year or per quarter.

    Every cell saves by itself with JavaScript (:func:`budget_cell`); without it, the form saves
    every changed cell at once.
    """
    scenario = _scenario(request, pk)
    data = request.POST if request.method == "POST" else request.GET
    partner = _grid_partner(request, scenario, data)
    by = "quarter" if data.get("by") == "quarter" else "year"
    overrides: dict[str, dict] = {}
    if request.method == "POST":
        grid = selectors.budget_grid(scenario, partner, by)
        cells = []
        for row in grid.rows:
            for cell in row.cells:
                if cell.locked or cell.name not in request.POST:
                    continue
                text = request.POST.get(cell.name, "").strip()
                try:
                    amount = parse_amount(text)
                except ValidationError as exc:
                    overrides[cell.name] = {"submitted": text, "error": " ".join(exc.messages)}
                    continue
                if amount != cell.value:
                    cells.append({"key": cell.name, "category": cell.category, "year": cell.year,
                                  "quarter": cell.quarter, "partner": partner, "amount": amount})
        if not overrides:
            try:
                count = services.budget_lines_set(request.user, scenario, cells)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    overrides[name] = {"submitted": request.POST.get(name, ""), "error": " ".join(errors)}
            else:
                messages.success(request, _("The budget was saved (%(count)d cells changed).") % {"count": count})
                return redirect(_grid_url(scenario, partner, by))
        else:
            for name in request.POST:
                if name.startswith("c-") and name not in overrides:
                    overrides[name] = {"submitted": request.POST.get(name, "")}
    grid = _prepare(selectors.budget_grid(scenario, partner, by, overrides))
    return render(request, "finance/budget_grid.html", {
        "scenario": scenario, "project": scenario.project, "grid": grid, "has_errors": bool(
            [o for o in overrides.values() if o.get("error")]), "active_nav": NAV,
    }, status=422 if any(o.get("error") for o in overrides.values()) else 200)


@login_required
@permission_required(EDIT_LINES, raise_exception=True)
@require_POST
def budget_cell(request: HttpRequest, pk: int) -> HttpResponse:
    """Save one cell of the grid (HTMX): the cell again (saved, or with its error) and the totals out of band."""
    scenario = _scenario(request, pk)
    partner = _grid_partner(request, scenario, request.POST)
    by = "quarter" if request.POST.get("by") == "quarter" else "year"
    name = (request.htmx.trigger_name if request.htmx else None) or request.POST.get("cell", "")
    parsed = selectors.parse_cell_name(name or "")
    if parsed is None:
        return HttpResponseBadRequest(_("Which cell? Send the cell's name."), content_type="text/plain; charset=utf-8")
    category, year, quarter = parsed
    text = request.POST.get(name, "").strip()
    overrides: dict[str, dict] = {}
    try:
        services.budget_line_set(request.user, scenario, category=category, year=year, quarter=quarter, partner=partner,
                                 amount=parse_amount(text))
    except ValidationError as exc:
        overrides[name] = {"submitted": text, "error": " ".join(_messages(exc))}
    if not request.htmx:
        if overrides:
            messages.error(request, overrides[name]["error"])
        return redirect(_grid_url(scenario, partner, by))
    grid = _prepare(selectors.budget_grid(scenario, partner, by, overrides))
    cell = grid.cell(name)
    if cell is None:  # a cell of another view (e.g. a quarter in the year view): show the grid again
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "finance/budget_cell_response.html", {
        "scenario": scenario, "grid": grid, "cell": cell, "saved": not overrides})


# --- Financing plan ------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def financing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The financing plan: its sources with amount and share, the balance, and a form to add a source."""
    scenario = _scenario(request, pk)
    form = FinancingSourceForm(request.POST or None, initial={"kind": FinancingSource.Kind.ERDF})
    if request.method == "POST":
        _require(request, EDIT_FINANCING, "finance.add_financingsource")
        if form.is_valid():
            try:
                services.financing_source_create(request.user, scenario, form.service_data())
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return _after_financing_change(request, scenario, _("The source was added."))
    summary = selectors.scenario_summary(scenario)
    return render(request, "finance/financing_plan.html", {
        "scenario": scenario, "project": scenario.project, "summary": summary, "form": form, "active_nav": NAV,
        **_can(request)})


def _after_financing_change(request: HttpRequest, scenario: BudgetScenario, message: str) -> HttpResponse:
    messages.success(request, message)
    balance = selectors.scenario_summary(scenario).balance
    if not balance.balanced:
        messages.warning(request, balance.message())
    return redirect("finance:financing-edit", pk=scenario.pk)


@login_required
@permission_required(EDIT_FINANCING, raise_exception=True)
def financing_source_edit(request: HttpRequest, pk: int, source_id: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    item = get_object_or_404(FinancingSource, scenario=scenario, pk=source_id)
    form = FinancingSourceForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.financing_source_update(request.user, item, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _after_financing_change(request, scenario, _("Changes saved."))
    return render(request, "finance/financing_source_form.html", {
        "scenario": scenario, "project": scenario.project, "form": form, "item": item, "active_nav": NAV})


@login_required
@permission_required("finance.delete_financingsource", raise_exception=True)
@require_POST
def financing_source_delete(request: HttpRequest, pk: int, source_id: int) -> HttpResponse:
    scenario = _scenario(request, pk)
    item = get_object_or_404(FinancingSource, scenario=scenario, pk=source_id)
    services.financing_source_delete(request.user, item)
    return _after_financing_change(request, scenario, _("The source was removed."))
