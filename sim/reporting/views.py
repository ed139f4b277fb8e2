"""Web views of the progress report: the report page per project and period, and its exports (XLSX,
CSV, PDF in Swedish or English).

Thin: check the permission (project managers, administrators, finance officers, auditors and
advisors read; company representatives and education providers have no access: 403), find the
project among the user's projects (else 404), build the report with the selectors, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sim.programmes.models import FocusArea, Project
from sim.programmes.projects import current_project, projects_for

from . import exports, selectors, services
from .forms import EntryForm, OwnIndicatorForm, SetForm, TargetForm
from .models import ProjectIndicator
from .tables import period_label, sections

VIEW = "reporting.view_projectindicator"
NAV = "reports"
FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.to_xlsx),
    "csv": ("text/csv; charset=utf-8", exports.to_csv),
    "pdf": ("application/pdf", exports.to_pdf),
}
LANGUAGES = ("sv", "en")
#: Rows of the supported enterprises shown on the page; the downloads hold them all.
PAGE_ENTERPRISES = 1000


def _project(request: HttpRequest, project_id: int) -> Project:
    project = selectors.project_for_user(request.user, project_id)
    if project is None:
        raise Http404(_("No such project."))
    return project


@login_required
@permission_required(VIEW, raise_exception=True)
def report_home(request: HttpRequest) -> HttpResponse:
    """The menu entry: the overview of the current project."""
    project = current_project(request)
    if project is None:
        return render(request, "reporting/no_project.html", {"active_nav": NAV})
    return redirect("reporting:overview", project_id=project.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def report(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    choices = selectors.period_choices(project)
    key = request.GET.get("period") or "project"
    choice = selectors.period_choice(project, key)
    error = ""
    if choice is None:
        error = _("%(value)s is not a period of this project; the whole project is shown.") % {"value": key}
        choice = choices[0]
    progress = selectors.progress_report(project, choice.period)
    shown = sections(progress)
    for section in shown:
        if section.key == "enterprises" and len(section.rows) > PAGE_ENTERPRISES:
            section.note = _("The first %(shown)s of %(total)s are shown; the downloads hold them all.") % {
                "shown": PAGE_ENTERPRISES, "total": len(section.rows)}
            section.rows = section.rows[:PAGE_ENTERPRISES]
    return render(request, "reporting/report.html", {
        "project": project, "progress": progress, "sections": shown, "choices": choices,
        "choice": choice, "period_error": error, "period_text": period_label(choice.period),
        "languages": LANGUAGES, "formats": list(FORMATS), "active_nav": NAV,
        "has_set": bool(progress.indicators.set_key),
    })


@login_required
@permission_required(VIEW, raise_exception=True)
def export(request: HttpRequest, project_id: int, fmt: str) -> HttpResponse:
    project = _project(request, project_id)
    if fmt not in FORMATS:
        raise Http404(_("No such export format."))
    key = request.GET.get("period") or "project"
    choice = selectors.period_choice(project, key)
    if choice is None:
        return HttpResponseBadRequest(_("%(value)s is not a period of this project.") % {"value": key},
                                      content_type="text/plain; charset=utf-8")
    language = request.GET.get("lang") or (translation.get_language() or "sv")[:2]
    if language not in LANGUAGES:
        return HttpResponseBadRequest(_("The language must be sv or en."), content_type="text/plain; charset=utf-8")
    content_type, write = FORMATS[fmt]
    with translation.override(language):
        progress = selectors.progress_report(project, choice.period)
        body = write(progress, sections(progress))
        name = exports.filename(progress, fmt, language)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Managing the indicators --------------------------------------------------------------------

CHANGE = "reporting.change_projectindicator"


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _indicator(request: HttpRequest, pk: int) -> ProjectIndicator:
    indicator = (ProjectIndicator.objects.select_related("project")
                 .filter(pk=pk, project__in=projects_for(request.user)).first())
    if indicator is None:
        raise Http404(_("No such indicator."))
    return indicator


def _indicators_page(request, project, *, set_form=None, own_form=None, status=200) -> HttpResponse:
    chosen = selectors.indicator_set_of(project)
    milestones = selectors.milestones_of(project)
    rows = [{"indicator": i, "milestones": milestones.get(i.pk, [])} for i in selectors.indicators_of(project)]
    initial = {"set_key": chosen.set_key, "new_enterprise_years": chosen.new_enterprise_years} if chosen else None
    return render(request, "reporting/indicators.html", {
        "project": project, "chosen": chosen, "rows": rows, "active_nav": NAV,
        "set_form": set_form or SetForm(initial=initial), "own_form": own_form or OwnIndicatorForm(),
        "can_change": request.user.has_perm(CHANGE),
    }, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
def indicators(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's indicators with targets and milestones; project managers choose the set here."""
    project = _project(request, project_id)
    if request.method != "POST":
        return _indicators_page(request, project)
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied
    if "set_key" in request.POST:
        form = SetForm(request.POST)
        if form.is_valid():
            try:
                services.indicator_set_choose(request.user, project, form.cleaned_data["set_key"],
                                              new_enterprise_years=form.cleaned_data["new_enterprise_years"])
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The indicator set is saved."))
                return redirect("reporting:indicators", project_id=project.pk)
        return _indicators_page(request, project, set_form=form, status=400)
    form = OwnIndicatorForm(request.POST)
    if form.is_valid():
        try:
            services.indicator_own_create(request.user, project, form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The indicator is added."))
            return redirect("reporting:indicators", project_id=project.pk)
    return _indicators_page(request, project, own_form=form, status=400)


@login_required
@permission_required(CHANGE, raise_exception=True)
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Target and milestones of an indicator, and (for manual ones) the values recorded."""
    indicator = _indicator(request, pk)
    milestones = "\n".join(f"{m.date.isoformat()} {m.value.normalize():f}" for m in indicator.milestones.order_by("date"))
    target_form = TargetForm(initial={"target": "" if indicator.target is None else f"{indicator.target.normalize():f}",
                                      "milestones": milestones})
    entry_form = EntryForm()
    status = 200
    if request.method == "POST":
        if "target" in request.POST:
            target_form = TargetForm(request.POST)
            if target_form.is_valid():
                try:
                    services.indicator_target_set(request.user, indicator, target_form.cleaned_data["target"].strip(),
                                                  target_form.cleaned_data["milestones"])
                except ValidationError as exc:
                    _apply_errors(target_form, exc)
                else:
                    messages.success(request, _("The target and milestones are saved."))
                    return redirect("reporting:indicators", project_id=indicator.project_id)
        else:
            entry_form = EntryForm(request.POST)
            if entry_form.is_valid():
                try:
                    services.indicator_entry_add(request.user, indicator, entry_form.cleaned_data["date"],
                                                 entry_form.cleaned_data["value"], entry_form.cleaned_data["note"])
                except ValidationError as exc:
                    _apply_errors(entry_form, exc)
                else:
                    messages.success(request, _("The value is recorded."))
                    return redirect("reporting:indicator-edit", pk=indicator.pk)
        status = 400
    return render(request, "reporting/indicator_edit.html", {
        "indicator": indicator, "project": indicator.project, "target_form": target_form, "entry_form": entry_form,
        "entries": indicator.entries.select_related("created_by").order_by("-date", "-id"), "active_nav": NAV,
    }, status=status)


# --- The project overview -----------------------------------------------------------------------


def _overview_charts(data: selectors.Overview) -> dict:
    from django.utils.safestring import mark_safe

    from sim.core.charts import Series, bar_chart, line_chart, nice_ceiling

    from .formatting import format_pct, format_value

    charts: dict = {}
    targeted = [row for row in data.report.indicators.rows if row.progress is not None]
    if targeted:
        top = nice_ceiling(max([100.0, *[float(r.progress) for r in targeted]]))
        charts["targets_svg"] = mark_safe(bar_chart(  # built from escaped text
            [f"{r.code} {r.indicator.name}"[:60] for r in targeted],
            # xgettext:no-python-format
            [Series(_("Reached, % of target"), [r.progress for r in targeted])],
            max_value=top, value_format=lambda v: format_pct(v), id_prefix="overview-targets",
            title=_("Indicators against their targets (from the start to the period's end)"),
        ).to_svg())
    quarters = data.activity_by_quarter
    if quarters:
        charts["activity_svg"] = mark_safe(line_chart(
            [q[0] for q in quarters], [Series(_("Activity hours"), [q[2] for q in quarters])],
            value_format=lambda v: format_value(v), id_prefix="overview-activity",
            title=_("Advisor activity hours per quarter"),
        ).to_svg())
    referrals = data.referrals_by_status
    if any(n for _s, _l, n in referrals):
        charts["pipeline_svg"] = mark_safe(bar_chart(
            [label for _s, label, _n in referrals], [Series(_("Referrals"), [n for _s, _l, n in referrals])],
            max_value=max(5.0, nice_ceiling(max(n for _s, _l, n in referrals))), value_format=lambda v: format_value(v),
            id_prefix="overview-pipeline", title=_("Referrals proposed in the period, by status"),
        ).to_svg())
    return charts


@login_required
@permission_required(VIEW, raise_exception=True)
def overview(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project overview: indicators against targets, pipeline, budget burn and reach, activity over
    time, focus-area mix and supported enterprises per municipality, for a period."""
    project = _project(request, project_id)
    choices = selectors.period_choices(project)
    key = request.GET.get("period") or "project"
    choice = selectors.period_choice(project, key)
    error = ""
    if choice is None:
        error = _("%(value)s is not a period of this project; the whole project is shown.") % {"value": key}
        choice = choices[0]
    municipalities = selectors.municipalities_of(project)
    municipality = request.GET.get("municipality") or None
    filter_errors = []
    if municipality is not None and municipality not in dict(municipalities):
        filter_errors.append(_("%(value)s is not a municipality of the project's companies; all are shown.") % {
            "value": municipality})
        municipality = None
    areas = list(project.focus_areas.all()) or list(FocusArea.objects.filter(active=True))
    area_key = request.GET.get("focus_area") or None
    area = next((a for a in areas if a.key == area_key), None)
    if area_key is not None and area is None:
        filter_errors.append(_("%(value)s is not a focus area of the project; all are shown.") % {"value": area_key})
    partners = list(project.partners.select_related("organisation").order_by("organisation__name"))
    partner_key = request.GET.get("partner") or None
    partner = next((p for p in partners if str(p.organisation_id) == partner_key), None)
    if partner_key is not None and partner is None:
        filter_errors.append(_("%(value)s is not a partner of the project; all are shown.") % {"value": partner_key})
    staff = None
    if partner is not None:
        staff = tuple(project.memberships.filter(organisation_id=partner.organisation_id)
                      .order_by("user_id").values_list("user_id", flat=True))
    scope = selectors.Scope(municipality=municipality, focus_area=area.pk if area else None, partner_users=staff)
    data = selectors.overview(project, choice.period, scope=scope)
    tables = {s.key: s for s in sections(data.report)}
    return render(request, "reporting/overview.html", {
        "project": project, "data": data, "choices": choices, "choice": choice, "period_error": error,
        "municipalities": municipalities, "municipality": municipality, "filter_errors": filter_errors,
        "municipality_name": dict(municipalities).get(municipality, ""), "focus_areas": areas, "focus_area": area,
        "scope": scope, "partners": partners, "partner": partner,
        "period_text": period_label(choice.period), "indicators": tables["indicators"],
        "focus_area_table": tables["focus-areas"], "languages": LANGUAGES, "formats": list(FORMATS), "active_nav": NAV,
        **_overview_charts(data),
    })


# --- The advisor's view -------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def advisor_home(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    if project is None:
        return render(request, "reporting/no_project.html", {"active_nav": NAV})
    return redirect("reporting:advisor", project_id=project.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def advisor(request: HttpRequest, project_id: int) -> HttpResponse:
    """My companies, my open referrals and my follow-ups due, in a project."""
    project = _project(request, project_id)
    today = timezone.localdate()
    return render(request, "reporting/advisor.html", {
        "project": project, "view": selectors.advisor_view(request.user, project, today), "today": today,
        "active_nav": NAV,
    })
