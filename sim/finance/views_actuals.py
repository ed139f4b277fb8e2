"""Pages of the actuals: the cost ledger (entries, reversals, import), time reports, staff rates
and company contributions. Thin: check permission and project scope, parse, call a service or
selector, render.

Finance officers write; project managers and auditors read; everyone else is refused (403). A
project the user does not work in, or a record of one, is a 404, like a missing one.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from sim.companies import views_import as upload_store
from sim.core.models import AuditEvent
from sim.programmes.models import Project
from sim.programmes.projects import current_project, projects_for, set_current_project

from . import cost_import, forms_actuals, selectors_actuals, services_actuals
from . import rules_actuals as rules
from .models import CostCategory

Source = AuditEvent.Source
ZERO = Decimal(0)


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied(_("You do not have permission for this."))


def _project_or_404(request: HttpRequest, project_id: int) -> Project:
    project = projects_for(request.user).filter(pk=project_id).first()
    if project is None:
        raise Http404(_("No such project."))
    set_current_project(request, project)
    return project


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _context(request: HttpRequest, project: Project, tab: str, **extra) -> dict:
    return {
        "project": project, "tab": tab, "active_nav": "costs",
        "projects": projects_for(request.user).order_by("-start_date", "code"), **extra,
    }


def _to_current(request: HttpRequest, name: str) -> HttpResponse:
    project = current_project(request)
    if project is None:
        return render(request, "finance/cost_no_project.html", {"active_nav": "costs"})
    return redirect(name, project_id=project.pk)


# --- Cost ledger ----------------------------------------------------------------------------


@login_required
def cost_index(request: HttpRequest) -> HttpResponse:
    _require(request, "finance.view_costentry")
    return _to_current(request, "finance:costs-project")


@login_required
def cost_list(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.view_costentry")
    project = _project_or_404(request, project_id)
    form = forms_actuals.CostFilterForm(request.GET or None, project=project)
    filters = selectors_actuals.CostFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors_actuals.CostFilters(
            category=data.get("category") or "", partner=data["partner"].pk if data.get("partner") else None,
            start=data.get("start"), end=data.get("end"), text=(data.get("q") or "").strip())
    queryset = selectors_actuals.cost_entries_filtered(project, filters)
    labels = dict(CostCategory.choices)
    totals = [{**row, "label": labels.get(row["category"], row["category"])}
              for row in selectors_actuals.cost_totals_by_category(queryset)]
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "finance/cost_list.html", _context(
        request, project, "costs", form=form,
        page=Paginator(queryset, 50).get_page(request.GET.get("page")),
        totals=totals, total=sum((row["amount_sek"] or ZERO for row in totals), ZERO),
        query_string=urlencode(query),
    ))


@login_required
def cost_create(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.add_costentry")
    project = _project_or_404(request, project_id)
    form = forms_actuals.CostEntryForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services_actuals.cost_entry_create(request.user, project, form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Cost entry %(voucher)s (SEK %(amount)s) was booked.") % {
                "voucher": entry.voucher, "amount": entry.amount_sek})
            if request.POST.get("another"):
                return redirect("finance:cost-create", project_id=project.pk)
            return redirect("finance:cost-detail", pk=entry.pk)
    return render(request, "finance/cost_form.html", _context(request, project, "costs", form=form),
                  status=400 if request.method == "POST" else 200)


def _entry_or_404(request: HttpRequest, pk: int):
    entry = selectors_actuals.cost_entry_for_user(request.user, pk)
    if entry is None:
        raise Http404(_("No such cost entry."))
    return entry


@login_required
def cost_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "finance.view_costentry")
    entry = _entry_or_404(request, pk)
    reversal = selectors_actuals.reversal_of(entry)
    can_reverse = (request.user.has_perm("finance.add_costentry") and entry.reverses_id is None and reversal is None)
    return render(request, "finance/cost_detail.html", _context(
        request, entry.project, "costs", entry=entry, reversal=reversal, can_reverse=can_reverse,
        form=forms_actuals.ReversalForm() if can_reverse else None,
        history=selectors_actuals.entry_history(entry)[:50],
    ))


@login_required
def cost_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "finance.add_costentry")
    entry = _entry_or_404(request, pk)
    form = forms_actuals.ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reversal = services_actuals.cost_entry_reverse(
                request.user, entry, reason=data["reason"], on=data.get("on"), voucher=data.get("voucher") or "")
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Cost entry %(voucher)s was reversed (SEK %(amount)s).") % {
                "voucher": entry.voucher, "amount": reversal.amount_sek})
            return redirect("finance:cost-detail", pk=entry.pk)
    return render(request, "finance/cost_reverse.html", _context(request, entry.project, "costs", entry=entry, form=form),
                  status=400 if request.method == "POST" else 200)


# --- Import ---------------------------------------------------------------------------------


def _load_upload(request: HttpRequest, project: Project, token: str):
    folder, meta = upload_store._load_pending(request, token)
    if meta.get("kind") != "costs" or meta.get("project") != project.pk:
        raise Http404(_("No such import."))
    return folder, meta


def _preview(request: HttpRequest, project: Project, folder, meta) -> dict:
    result = cost_import.import_costs(project, folder / "upload", actor=request.user, dry_run=True, source=Source.WEB,
                                      name=meta["name"])
    data = result.as_dict()
    (folder / "preview.json").write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    return data


@login_required
def cost_import_upload(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.import_costentry")
    project = _project_or_404(request, project_id)
    form = forms_actuals.CostImportForm(request.POST or None, request.FILES or None, max_mb=upload_store.max_upload_mb())
    if request.method == "POST" and form.is_valid():
        token, _path = upload_store._store_upload(request, form.cleaned_data["file"])
        folder = upload_store.imports_root() / token
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        meta.update({"kind": "costs", "project": project.pk})
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        _preview(request, project, folder, meta)
        return redirect("finance:cost-import-preview", project_id=project.pk, token=token)
    return render(request, "finance/import_costs.html", _context(
        request, project, "costs", form=form, columns=cost_import.COLUMNS, required=cost_import.REQUIRED,
        categories=cost_import.category_table()), status=400 if request.method == "POST" else 200)


@login_required
def cost_import_preview(request: HttpRequest, project_id: int, token: str) -> HttpResponse:
    _require(request, "finance.import_costentry")
    project = _project_or_404(request, project_id)
    folder, meta = _load_upload(request, project, token)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            shutil.rmtree(folder, ignore_errors=True)
            messages.info(request, _("The import was cancelled; nothing was changed."))
            return redirect("finance:cost-import", project_id=project.pk)
        result = cost_import.import_costs(project, folder / "upload", actor=request.user, source=Source.WEB,
                                          name=meta["name"])
        if result.written or result.already_imported:
            shutil.rmtree(folder, ignore_errors=True)
            if result.written:
                messages.success(request, _("Import of %(file)s done: %(count)d cost entries (SEK %(amount)s) added.") % {
                    "file": meta["name"], "count": result.created, "amount": result.total_sek})
            else:
                for notice in result.notices:
                    messages.info(request, notice)
            return redirect("finance:costs-project", project_id=project.pk)
        data = _preview(request, project, folder, meta)
        messages.error(request, _("Nothing was imported: the file has errors. Correct them and upload it again."))
        return _render_preview(request, project, token, meta, data, status=400)
    try:
        data = json.loads((folder / "preview.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = _preview(request, project, folder, meta)
    return _render_preview(request, project, token, meta, data)


def _render_preview(request, project, token, meta, data, status: int = 200) -> HttpResponse:
    errors = data.get("errors", [])
    return render(request, "finance/import_costs_preview.html", _context(
        request, project, "costs", token=token, file_name=meta["name"], result=data, errors=errors[:1000],
        errors_hidden=max(0, data.get("error_count", 0) - min(len(errors), 1000)),
        has_errors=bool(data.get("error_count")), fatal=data.get("fatal", False),
        can_import=not data.get("fatal") and not data.get("error_count") and not data.get("already_imported"),
    ), status=status)


# --- Time reports ---------------------------------------------------------------------------


@login_required
def time_index(request: HttpRequest) -> HttpResponse:
    _require(request, "finance.view_timereport")
    return _to_current(request, "finance:time-project")


@login_required
def time_list(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.view_timereport")
    project = _project_or_404(request, project_id)
    form = forms_actuals.TimeFilterForm(request.GET or None, staff=selectors_actuals.project_staff(project, with_reporters=True))
    start = end = person = None
    if form.is_valid():
        start, end, person = form.cleaned_data.get("start"), form.cleaned_data.get("end"), form.cleaned_data.get("person")
    reports = selectors_actuals.time_reports(project, person=person, start=start, end=end)
    summary = selectors_actuals.time_summary(reports)
    areas = list(services_actuals.report_focus_areas(project))
    extra_ids = {a for row in summary["rows"] for a in row.by_focus_area if a is not None} - {a.pk for a in areas}
    if extra_ids:
        from sim.programmes.models import FocusArea

        areas += list(FocusArea.objects.filter(pk__in=extra_ids))
    page = Paginator(summary["rows"], 60).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.cells = [row.by_focus_area.get(area.pk) for area in areas] + [row.by_focus_area.get(None)]
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "finance/time_list.html", _context(
        request, project, "time", form=form, page=page, summary=summary, areas=areas, query_string=urlencode(query)))


@login_required
def time_entry(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.add_timereport", "finance.change_timereport")
    project = _project_or_404(request, project_id)
    staff = selectors_actuals.project_staff(project)
    source = request.POST if request.method == "POST" else request.GET
    initial = {"month": rules.add_months(timezone.localdate(), -1)}
    pick = forms_actuals.TimeMonthForm(source if source.get("person") else None, staff=staff, initial=initial)
    context = _context(request, project, "time", pick=pick)
    if not pick.is_bound or not pick.is_valid():
        return render(request, "finance/time_entry.html", context, status=400 if request.method == "POST" else 200)
    person, month = pick.cleaned_data["person"], pick.cleaned_data["month"]
    areas = services_actuals.report_focus_areas(project)
    existing = selectors_actuals.month_grid(project, person, month)
    grid = forms_actuals.TimeGridForm(request.POST if request.method == "POST" else None, areas=areas, existing=existing)
    status = 200
    if request.method == "POST" and grid.is_valid():
        try:
            saved = services_actuals.time_report_save_month(
                request.user, project, person, month, grid.hours(), note=grid.cleaned_data.get("note", ""))
        except ValidationError as exc:
            _apply_errors(grid, exc)
            status = 400
        else:
            messages.success(request, _("%(name)s, %(month)s: %(hours)s hours, staff cost SEK %(cost)s.") % {
                "name": person.get_full_name() or person.get_username(), "month": month.strftime("%Y-%m"),
                "hours": saved["hours"], "cost": saved["cost_sek"]})
            return redirect(reverse("finance:time-project", kwargs={"project_id": project.pk}) + "?" + urlencode(
                {"person": person.pk}))
    elif request.method == "POST":
        status = 400
    rate = selectors_actuals.rate_in_month(project, person, month)
    context.update({
        "grid": grid, "person": person, "month": month, "rate": rate,
        "hourly_cost": rules.hourly_cost(rate.monthly_salary_sek, rate.overhead_pct, rate.annual_hours) if rate else None,
        "max_hours": rules.max_month_hours(month),
        "elsewhere": selectors_actuals.hours_elsewhere(project, person, month),
        "recorded": sum((r.hours for r in existing.values()), ZERO),
        "recorded_cost": sum((r.cost_sek for r in existing.values()), ZERO),
    })
    return render(request, "finance/time_entry.html", context, status=status)


# --- Staff rates ----------------------------------------------------------------------------


@login_required
def staff_rate_list(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.view_staffrate")
    project = _project_or_404(request, project_id)
    form = None
    if request.user.has_perm("finance.add_staffrate"):
        form = forms_actuals.StaffRateForm(request.POST or None, project=project,
                                           staff=selectors_actuals.project_staff(project))
    status = 200
    if request.method == "POST":
        _require(request, "finance.add_staffrate")
        if form.is_valid():
            try:
                rate = services_actuals.staff_rate_create(request.user, project, form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The staff rate of %(name)s from %(date)s was saved.") % {
                    "name": rate.person.get_full_name() or rate.person.get_username(),
                    "date": rate.valid_from.isoformat()})
                return redirect("finance:staff-rates", project_id=project.pk)
        status = 400
    return render(request, "finance/staffrate_list.html", _context(
        request, project, "rates", rates=selectors_actuals.staff_rates(project), form=form), status=status)


@login_required
def staff_rate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "finance.change_staffrate")
    rate = selectors_actuals.staff_rate_for_user(request.user, pk)
    if rate is None:
        raise Http404(_("No such staff rate."))
    project = rate.project
    form = forms_actuals.StaffRateForm(request.POST or None, instance=rate, project=project,
                                       staff=selectors_actuals.project_staff(project, also=[rate.person]))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "person"}
        try:
            services_actuals.staff_rate_update(request.user, rate, data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The staff rate was saved. Time reports already recorded keep their hourly cost."))
            return redirect("finance:staff-rates", project_id=project.pk)
    return render(request, "finance/staffrate_form.html", _context(request, project, "rates", form=form, rate=rate),
                  status=400 if request.method == "POST" else 200)


# --- Company contributions ------------------------------------------------------------------


@login_required
def contributions(request: HttpRequest, project_id: int) -> HttpResponse:
    _require(request, "finance.view_costentry")
    project = _project_or_404(request, project_id)
    data = selectors_actuals.company_contributions(project)
    booked = dict(
        selectors_actuals.CostEntry.objects.filter(project=project, intervention__isnull=False)
        .order_by().values_list("intervention_id").annotate(total=Sum("amount_sek")))
    for row in data.rows:
        row.costs_sek = booked.get(row.intervention.pk, ZERO)
    return render(request, "finance/contributions.html", _context(request, project, "contributions", data=data))
