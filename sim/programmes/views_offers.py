"""Web views of the offer catalogue and recommendations. Thin: parse, check, call, render.

Every page is scoped to the projects the user works in: the catalogue lists the current
project's offers; an offer of a project the user is not in is a 404.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies.models import Municipality, SizeClass
from sim.companies.selectors import company_for_user
from sim.core.audit import history_for
from sim.core.spreadsheet import safe_text

from . import offer_selectors, offer_services, recommendations, rules
from .forms_offers import EligibilityForm, OfferForm, ScoreRuleFormSet, eligibility_initial, eligibility_json
from .models import FocusArea, Offer, SupportForm
from .projects import current_project

PAGE_SIZE = 25


def _offer_or_404(request: HttpRequest, pk: int) -> Offer:
    offer = offer_selectors.offer_for_user(request.user, pk)
    if offer is None:
        raise Http404(_("No such offer."))
    return offer


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


# --- Catalogue ------------------------------------------------------------------------------


@login_required
@permission_required("programmes.view_offer", raise_exception=True)
def offer_list(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    filters = offer_selectors.OfferFilters.from_params(request.GET)
    queryset = offer_selectors.offer_list(request.user, filters, project) if project else Offer.objects.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "filters": filters,
        "page": page,
        "query_string": urlencode(filters.as_query()),
        "active_nav": "offers",
    }
    if request.htmx and request.htmx.target == "offer-results":
        return render(request, "programmes/offer_list_results.html", context)
    areas = project.focus_areas.all() if project else FocusArea.objects.none()
    context.update({
        "focus_areas": areas if project and areas.exists() else FocusArea.objects.filter(active=True),
        "kinds": Offer.Kind.choices,
        "support_forms": SupportForm.choices,
        "active_choices": offer_selectors.ACTIVE_CHOICES,
    })
    return render(request, "programmes/offer_list.html", context)


@login_required
@permission_required("programmes.view_offer", raise_exception=True)
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    try:
        parsed = rules.parse_eligibility(offer.eligibility)
        rules_error = ""
    except rules.EligibilityError as exc:
        parsed, rules_error = rules.EligibilityRules(), str(exc)
    taken = offer.referrals.filter(status__in=recommendations.SEAT_STATUSES).count()
    context = {
        "offer": offer,
        "eligibility_lines": rules.describe_eligibility(parsed, recommendations.labels()),
        "rules_error": rules_error,
        "seats_taken": taken,
        "seats_left": None if offer.capacity is None else offer.capacity - taken,
        "history": history_for(offer)[:100] if request.user.has_perm("core.view_auditevent") else None,
        "active_nav": "offers",
    }
    return render(request, "programmes/offer_detail.html", context)


def _apply_errors(offer_form: OfferForm, eligibility_form: EligibilityForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field == "eligibility":
                eligibility_form.add_error(None, errors)
            elif field in offer_form.fields:
                offer_form.add_error(field, errors)
            else:
                offer_form.add_error(None, errors)
    else:
        offer_form.add_error(None, exc.messages)


def _offer_form_page(request: HttpRequest, *, project, offer: Offer | None) -> HttpResponse:
    if request.method == "POST":
        form = OfferForm(request.POST, instance=offer, project=project)
        eligibility_form = EligibilityForm(request.POST, prefix="elig")
        score_formset = ScoreRuleFormSet(request.POST, prefix="score")
        if form.is_valid() and eligibility_form.is_valid() and score_formset.is_valid():
            data = form.service_data()
            data["eligibility"] = eligibility_json(eligibility_form, score_formset)
            try:
                if offer is None:
                    saved = offer_services.offer_create(request.user, project, data)
                    messages.success(request, _("The offer “%(title)s” was added.") % {"title": saved.title})
                else:
                    saved = offer_services.offer_update(request.user, offer, data)
                    messages.success(request, _("Changes saved."))
            except ValidationError as exc:
                _apply_errors(form, eligibility_form, exc)
            else:
                return redirect("programmes:offer-detail", pk=saved.pk)
    else:
        form = OfferForm(instance=offer, project=project)
        initial, scores = eligibility_initial(offer.eligibility if offer else {})
        eligibility_form = EligibilityForm(initial=initial, prefix="elig")
        score_formset = ScoreRuleFormSet(initial=scores, prefix="score")
    context = {
        "form": form,
        "eligibility_form": eligibility_form,
        "score_formset": score_formset,
        "offer": offer,
        "project": project,
        "active_nav": "offers",
    }
    return render(request, "programmes/offer_form.html", context)


@login_required
@permission_required("programmes.add_offer", raise_exception=True)
def offer_create(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    if project is None:
        messages.error(request, _("You are not a member of any project, so there is no catalogue to add offers to."))
        return redirect("programmes:offer-list")
    return _offer_form_page(request, project=project, offer=None)


@login_required
@permission_required("programmes.change_offer", raise_exception=True)
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    return _offer_form_page(request, project=offer.project, offer=offer)


@login_required
@permission_required("programmes.change_offer", raise_exception=True)
@require_POST
def offer_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer_or_404(request, pk)
    active = request.POST.get("active") == "1"
    offer_services.offer_set_active(request.user, offer, active)
    if active:
        messages.success(request, _("The offer is open for referrals again."))
    else:
        messages.success(request, _("The offer is closed for referrals. It stays in the catalogue with its history."))
    return redirect("programmes:offer-detail", pk=offer.pk)


# --- Companies an offer suits ---------------------------------------------------------------


@login_required
@permission_required("programmes.view_offer", raise_exception=True)
def offer_companies(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "companies.view_company")
    offer = _offer_or_404(request, pk)
    filters = recommendations.SuitedFilters.from_params(request.GET)
    result = recommendations.suited_companies(request.user, offer, filters)
    page = Paginator(result.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    recommendations.explain_rows(result, page.object_list)
    context = {
        "offer": offer,
        "filters": filters,
        "result": result,
        "page": page,
        "query_string": urlencode(filters.as_query()),
        "active_nav": "offers",
    }
    if request.htmx and request.htmx.target == "suited-results":
        return render(request, "programmes/offer_companies_results.html", context)
    context.update({
        "municipalities": Municipality.objects.filter(
            code__in=recommendations.project_companies(offer.project).values("municipality_id")
        ).select_related("county").order_by("county_id", "name"),
        "size_choices": SizeClass.choices,
        "eligible_choices": recommendations.ELIGIBLE_CHOICES,
    })
    return render(request, "programmes/offer_companies.html", context)


EXPORT_HEADER = [
    "rank", "organisation_number", "name", "municipality_code", "municipality", "size_class", "sni",
    "target_group", "fit", "eligible", "explanation",
]


@login_required
@permission_required("programmes.view_offer", raise_exception=True)
def offer_companies_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The filtered, ranked list as CSV (UTF-8 with BOM and semicolons, like the register export)."""
    _require(request, "companies.view_company", "companies.export_companies")
    offer = _offer_or_404(request, pk)
    filters = recommendations.SuitedFilters.from_params(request.GET)
    result = recommendations.suited_companies(request.user, offer, filters)
    label_set = recommendations.labels()

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo(), delimiter=";")
    yes, no = _("yes"), _("no")
    language = translation.get_language()

    def rows():
        yield "\ufeff" + writer.writerow(EXPORT_HEADER)
        for start in range(0, len(result.rows), 500):
            # Streamed after the view has returned: keep the request's language for the explanations.
            with translation.override(language):
                chunk = recommendations.explain_rows(result, result.rows[start:start + 500], label_set)
            for row in chunk:
                profile = row.profile
                yield writer.writerow([safe_text(value) for value in (
                    row.rank or "", row.org_number_display, profile.name, profile.municipality, row.municipality_name,
                    profile.size_class, row.sni_display, yes if profile.in_target_group else no,
                    f"{row.fit:.1f}", yes if row.eligible else no, row.explanation,
                )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="offer-{offer.pk}-companies.csv"'
    return response


# --- All recommendations for one company ----------------------------------------------------


@login_required
@permission_required("programmes.view_offer", raise_exception=True)
def company_recommendations(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "companies.view_company")
    company = company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    project = current_project(request)
    result = None
    if project is not None:
        result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
    return render(request, "programmes/offer_recommendations.html", {
        "company": company, "project": project, "result": result, "active_nav": "companies",
        "eligible": result.rows(result.eligible) if result else [],
        "ineligible": result.rows(result.ineligible) if result else [],
    })
