"""Results of an assessment: scores, charts, comparison, peer benchmark and needs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from sim.companies.selectors import company_for_user
from sim.core import charts
from sim.programmes.models import FocusArea

from . import rules, selectors, services
from .forms_results import NeedForm
from .models import Assessment

PEER_GROUPS = [
    ("all", gettext_lazy("All assessed companies")),
    ("sni_division", gettext_lazy("Same industry (SNI division)")),
    ("size_class", gettext_lazy("Same size class")),
]


# --- Building blocks, shared with the growth-plan PDF ---------------------------------------------


def language() -> str:
    return "en" if (get_language() or "sv").startswith("en") else "sv"


def format_score(value: float | Decimal | None) -> str:
    return "–" if value is None else number_format(Decimal(str(value)), 1)


@dataclass(frozen=True)
class ScoreRow:
    key: str
    title: str
    focus_area: str
    score: Decimal | None
    band: str
    answered: int
    scored_questions: int
    peer: Decimal | None = None


def _band_label(instrument, band_id: str | None) -> str:
    if not band_id:
        return ""
    try:
        return instrument.band(band_id).label.get(language())
    except KeyError:
        return band_id


def dimension_titles(*instruments) -> dict[str, str]:
    """Dimension titles by id; later instruments (newer versions) win."""
    titles: dict[str, str] = {}
    for instrument in instruments:
        for dimension in instrument.dimensions:
            titles[dimension.id] = dimension.title.get(language())
    return titles


def score_rows(assessment: Assessment, result: rules.ScoreResult | None = None, peer=None) -> list[ScoreRow]:
    """One row per dimension of the result: title, focus area, score, band, counts (and peer mean)."""
    instrument = assessment.instrument()
    result = result or selectors.result_of(assessment)
    keys = {d.focus_area for d in instrument.dimensions if d.focus_area}
    areas = {area.key: area.name for area in FocusArea.objects.filter(key__in=keys)}
    titles = dimension_titles(instrument)
    rows = []
    for key, scored in result.dimensions.items():
        try:
            focus_key = instrument.dimension(key).focus_area
        except KeyError:
            focus_key = None
        rows.append(ScoreRow(
            key=key, title=titles.get(key, key), focus_area=areas.get(focus_key, "") if focus_key else "",
            score=scored.score, band=_band_label(instrument, scored.band), answered=scored.answered,
            scored_questions=scored.scored_questions,
            peer=peer.dimensions.get(key) if peer is not None else None,
        ))
    return rows


def series_label(assessment: Assessment) -> str:
    return f"{assessment.get_phase_display()} {assessment.conducted_on:%Y-%m-%d}"


def profile_charts(assessment: Assessment, rows: list[ScoreRow], *, peer=None, id_prefix: str = "profile"):
    """(radar or None, bar chart) of the scores, with the peer mean as a second series if given."""
    axes = [row.title for row in rows]
    series = [charts.Series(series_label(assessment), [row.score for row in rows], style="primary")]
    if peer is not None:
        series.append(charts.Series(_("Peers: %(group)s (%(count)s companies)") % {
            "group": peer.label, "count": peer.companies}, [row.peer for row in rows], style="tertiary"))
    title = _("Profile: %(instrument)s, %(company)s") % {
        "instrument": assessment.instrument_version.title, "company": assessment.company.name}
    radar = None
    if charts.RADAR_AXES[0] <= len(axes) <= charts.RADAR_AXES[1]:
        radar = charts.radar_chart(axes, series, title=title, value_format=_format_float,
                                   id_prefix=f"{id_prefix}-radar")
    bars = charts.bar_chart(axes, series, title=title, value_format=_format_float, id_prefix=f"{id_prefix}-bars")
    return radar, bars


def _format_float(value: float) -> str:
    return number_format(round(value, 1), 1)


def _chart_table(rows: list[ScoreRow], headers: list[str], columns: list[list]) -> dict:
    return {
        "headers": headers,
        "rows": [(row.title, [format_score(column[i]) for column in columns]) for i, row in enumerate(rows)],
    }


# --- Views ----------------------------------------------------------------------------------------


def _assessment_or_404(request: HttpRequest, pk: int) -> Assessment:
    assessment = selectors.assessment_for_user(request.user, pk)
    if assessment is None:
        raise Http404(_("No such assessment."))
    return assessment


@login_required
@permission_required("assessments.view_assessment", raise_exception=True)
def assessment_results(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment_or_404(request, pk)
    user = request.user
    company = assessment.company
    comparables = list(selectors.comparable_assessments(assessment).filter(
        pk__in=selectors.assessments_visible_to(user).values("pk")))
    compare_id = request.GET.get("compare")
    if compare_id:
        if compare_id.isdigit() and int(compare_id) in {a.pk for a in comparables}:
            return redirect("assessments:compare", pk=assessment.pk, other_pk=int(compare_id))
        messages.error(request, _("Choose an assessment to compare with."))

    result = selectors.result_of(assessment)
    group = request.GET.get("peers") or "all"
    if group not in dict(PEER_GROUPS):
        group = "all"
    peer = selectors.peer_benchmark(assessment, group)
    rows = score_rows(assessment, result, peer)
    radar, bars = profile_charts(assessment, rows, peer=peer)
    headers = [series_label(assessment)] + ([_("Peers")] if peer else [])
    columns = [[row.score for row in rows]] + ([[row.peer for row in rows]] if peer else [])
    needs = selectors.needs_of(user, company).filter(assessment=assessment)
    context = {
        "assessment": assessment,
        "company": company,
        "instrument": assessment.instrument_version,
        "result": result,
        "overall_band": _band_label(assessment.instrument(), result.band),
        "rows": rows,
        "show_focus_areas": any(row.focus_area for row in rows),
        "preliminary": not assessment.is_locked,
        "radar_svg": mark_safe(radar.to_svg()) if radar else "",  # built from escaped text
        "bars_svg": mark_safe(bars.to_svg()),
        "chart_table": _chart_table(rows, headers, columns),
        "comparables": comparables,
        "peer_groups": PEER_GROUPS,
        "peer_group": group,
        "peer": peer,
        "peer_minimum": selectors.PEER_MINIMUM,
        "needs": needs,
        "can_add_need": user.has_perm("assessments.add_need") and not company.is_archived,
        "can_change_need": user.has_perm("assessments.change_need"),
        "can_plan": user.has_perm("assessments.add_growthplan") and not company.is_archived,
        "active_nav": "companies",
    }
    return render(request, "assessments/results.html", context)


@login_required
@permission_required("assessments.view_assessment", raise_exception=True)
def assessment_compare(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    this = _assessment_or_404(request, pk)
    other = _assessment_or_404(request, other_pk)
    if this.pk == other.pk or this.company_id != other.company_id or (
        this.instrument_version.key != other.instrument_version.key
    ):
        raise Http404(_("These assessments cannot be compared."))
    first, second = sorted((this, other), key=lambda a: (a.conducted_on, a.pk))
    result_a, result_b = selectors.result_of(first), selectors.result_of(second)
    try:
        changes = rules.compare(result_a, result_b)
    except ValueError as exc:
        raise Http404(_("These assessments cannot be compared.")) from exc
    titles = dimension_titles(first.instrument(), second.instrument())
    rows = []
    for key, change in changes.items():
        if key == "overall":
            continue
        a, b = result_a.dimensions.get(key), result_b.dimensions.get(key)
        rows.append({
            "key": key, "title": titles.get(key, key), "a": a.score if a else None, "b": b.score if b else None,
            "change": change,
        })
    label_a, label_b = series_label(first), series_label(second)
    if label_a == label_b:
        label_a, label_b = f"{label_a} (A)", f"{label_b} (B)"
    axes = [row["title"] for row in rows]
    series = [charts.Series(label_a, [row["a"] for row in rows], style="primary"),
              charts.Series(label_b, [row["b"] for row in rows], style="secondary")]
    title = _("Comparison: %(instrument)s, %(company)s") % {
        "instrument": second.instrument_version.title, "company": second.company.name}
    radar = charts.radar_chart(axes, series, title=title, value_format=_format_float,
                               id_prefix="compare-radar") if charts.RADAR_AXES[0] <= len(axes) <= charts.RADAR_AXES[1] else None
    bars = charts.bar_chart(axes, series, title=title, value_format=_format_float, id_prefix="compare-bars")
    context = {
        "assessment": this,
        "company": this.company,
        "first": first,
        "second": second,
        "label_a": label_a,
        "label_b": label_b,
        "rows": rows,
        "overall": {"a": result_a.overall, "b": result_b.overall, "change": changes["overall"]},
        "versions_differ": first.instrument_version.version != second.instrument_version.version,
        "preliminary": not (first.is_locked and second.is_locked),
        "radar_svg": mark_safe(radar.to_svg()) if radar else "",
        "bars_svg": mark_safe(bars.to_svg()),
        "chart_table": {
            "headers": [label_a, label_b],
            "rows": [(row["title"], [format_score(row["a"]), format_score(row["b"])]) for row in rows],
        },
        "active_nav": "companies",
    }
    return render(request, "assessments/compare.html", context)


@login_required
@permission_required("assessments.view_assessment", raise_exception=True)
def radar_svg(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment_or_404(request, pk)
    rows = score_rows(assessment)
    radar, bars = profile_charts(assessment, rows, id_prefix=f"assessment-{assessment.pk}")
    chart = radar or bars
    response = HttpResponse(chart.to_svg(), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="assessment-{assessment.pk}.svg"'
    return response


@login_required
def need_edit(request: HttpRequest, company_id: int, need_id: int | None = None) -> HttpResponse:
    # Permission first (403), then the company and the need (404).
    if not request.user.has_perm("assessments.add_need" if need_id is None else "assessments.change_need"):
        raise PermissionDenied
    company = company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    need = None
    if need_id is not None:
        need = selectors.needs_of(request.user, company).filter(pk=need_id).first()
        if need is None:
            raise Http404(_("No such need."))
    assessment = need.assessment if need is not None else None
    assessment_id = request.POST.get("assessment") or request.GET.get("assessment")
    if need is None and assessment_id:
        assessment = selectors.assessment_for_user(request.user, int(assessment_id)) if assessment_id.isdigit() else None
        if assessment is None or assessment.company_id != company.pk:
            raise Http404(_("No such assessment."))
    if need is None and company.is_archived:
        messages.error(request, _("Restore the company before adding needs."))
        return redirect(_back(company, assessment))
    form = NeedForm(request.POST or None, instance=need)
    if request.method == "POST" and form.is_valid():
        try:
            services.need_save(request.user, company, form.service_data(), need=need, assessment=assessment)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The need was saved."))
            return redirect(_back(company, assessment))
    return render(request, "assessments/need_form.html", {
        "form": form, "company": company, "need": need, "assessment": assessment,
        "back_url": _back(company, assessment), "active_nav": "companies",
    })


def _back(company, assessment: Assessment | None) -> str:
    if assessment is not None:
        return reverse("assessments:results", args=[assessment.pk]) + "#needs"
    return reverse("companies:detail", args=[company.pk]) + "#growth"


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)

