"""Web views of competence needs, education offerings and the anonymised demand report.

Thin: check the permission, find the record among those the user may see (else 404), call a
service or selector, render. Education providers never reach a view with company data: the need
views require the company to be visible to the user, which it never is for a provider.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies.selectors import company_for_user

from . import rules, selectors, selectors_taxonomy, services
from .forms import NeedForm, NeedReferForm, NeedStatusForm, OfferingForm, OfferingImportForm, ReportFilterForm
from .models import CompetenceNeed, Concept, ConceptKind, EducationOffering

GROWTH_INTERVIEW = "sim-growth-interview"


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _company_or_404(request: HttpRequest, company_id: int):
    company = company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    return company


def _company_url(company) -> str:
    return reverse("companies:detail", args=[company.pk]) + "#competence"


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _chosen_ids(request: HttpRequest) -> list[int]:
    return [int(value) for value in request.POST.getlist("concepts") if value.isdigit()][:20]


def _scores(request: HttpRequest) -> dict[int, float]:
    scores = {}
    for value in request.POST.getlist("scores"):
        pk, _sep, score = value.partition(":")
        try:
            scores[int(pk)] = float(score)
        except ValueError:
            continue
    return scores


def _choices(text: str, chosen: list[int], search: str = "", kind: str | None = ConceptKind.OCCUPATION) -> dict:
    """What the concept picker shows: the chosen concepts, the suggestions for the text and the
    results of a search, each once."""
    chosen_concepts = list(Concept.objects.filter(pk__in=chosen))
    found = selectors.suggestions(text, kind=None, top=8) if text.strip() else []
    searched = list(selectors_taxonomy.concept_search(search)[:10]) if search.strip() else []
    seen = {concept.pk for concept in chosen_concepts}
    suggestions = [item for item in found if item.concept_id not in seen]
    seen |= {item.concept_id for item in suggestions}
    return {"chosen": chosen_concepts, "suggestions": suggestions,
            "searched": [concept for concept in searched if concept.pk not in seen], "search": search, "text": text}


# --- company section --------------------------------------------------------------------------


def company_competence_context(request, company) -> dict | None:
    user = request.user
    if not selectors.sees_company_needs(user):
        return None
    needs = selectors.needs_of(user, company)
    today = timezone.localdate()
    rows = [{"need": need, "offerings": selectors.offerings_for_need(need, today=today) if need.status == "open" else []}
            for need in needs]
    interview = None
    if user.has_perm("competence.add_competenceneed"):
        from sim.assessments.models import Assessment

        interview = (Assessment.objects.filter(company=company, completed_at__isnull=False,
                                               instrument_version__key=GROWTH_INTERVIEW)
                     .order_by("-completed_at").first())
    return {"company": company, "rows": rows, "interview": interview,
            "can_add": user.has_perm("competence.add_competenceneed"),
            "can_refer": user.has_perm("programmes.add_referral") and not company.is_archived,
            "can_view_referrals": user.has_perm("programmes.view_referral"),
            "can_change": user.has_perm("competence.change_competenceneed")}


# --- needs ------------------------------------------------------------------------------------


def _need_source(user) -> str:
    from sim.core.roles import Role, user_roles

    roles = user_roles(user)
    if Role.COMPANY_REPRESENTATIVE in roles and not user.is_superuser and len(roles) == 1:
        return CompetenceNeed.Source.PORTAL
    return CompetenceNeed.Source.COMPANY_PAGE


@login_required
def need_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "competence.add_competenceneed")
    company = _company_or_404(request, company_id)
    return _need_form(request, company, None)


@login_required
def need_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "competence.change_competenceneed")
    need = selectors.need_for_user(request.user, pk)
    if need is None:
        raise Http404(_("No such need."))
    return _need_form(request, need.company, need)


def _need_form(request: HttpRequest, company, need: CompetenceNeed | None) -> HttpResponse:
    if request.method == "POST":
        form = NeedForm(request.POST)
        chosen = _chosen_ids(request)
        saving = "save" in request.POST
    else:
        initial = {"municipality": company.municipality_id}
        if need is not None:
            initial = {name: getattr(need, name) for name in ("text", "people", "kind", "horizon", "urgency")}
            initial["municipality"] = need.municipality_id
        form = NeedForm(initial=initial)
        chosen = [link.concept_id for link in need.links.all() if link.confirmed] if need else []
        saving = False
    if saving and form.is_valid():
        data = form.cleaned_data
        if not chosen:
            form.add_error(None, _("Choose at least one occupation or skill: pick a suggestion or search the taxonomy."))
        else:
            values = {name: data[name] for name in ("text", "people", "kind", "horizon", "urgency")}
            try:
                if need is None:
                    services.need_create(request.user, company, municipality=data["municipality"], concept_ids=chosen,
                                         scores=_scores(request), source=_need_source(request.user), **values)
                    messages.success(request, _("The competence need was saved."))
                else:
                    services.need_update(request.user, need, municipality=data["municipality"], concept_ids=chosen,
                                         scores=_scores(request), **values)
                    messages.success(request, _("The competence need was updated."))
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(_company_url(company))
    text = form.data.get("text", "") if form.is_bound else form.initial.get("text", "")
    search = form.data.get("search", "") if form.is_bound else ""
    return render(request, "competence/need_form.html", {
        "form": form, "company": company, "need": need, "picker": _choices(text, chosen, search),
        "active_nav": "companies",
    })


@login_required
def suggest(request: HttpRequest) -> HttpResponse:
    """The concept picker for the text typed so far (an HTMX fragment of the need form)."""
    if not (request.user.has_perm("competence.add_competenceneed") or request.user.has_perm("competence.add_educationoffering")):
        raise PermissionDenied
    text = request.GET.get("text", "")[:rules.MAX_NEED_TEXT]
    chosen = [int(value) for value in request.GET.getlist("concepts") if value.isdigit()][:20]
    return render(request, "competence/_picker.html", {"picker": _choices(text, chosen, request.GET.get("search", "")[:200])})


@login_required
@require_POST
def need_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "competence.change_competenceneed")
    need = selectors.need_for_user(request.user, pk)
    if need is None:
        raise Http404(_("No such need."))
    form = NeedStatusForm(request.POST)
    if form.is_valid():
        services.need_update(request.user, need, status=form.cleaned_data["status"])
        messages.success(request, _("The status of the need was changed."))
    else:
        messages.error(request, _("Choose one of the options."))
    return redirect(_company_url(need.company))


@login_required
def need_refer(request: HttpRequest, pk: int, offering_id: int) -> HttpResponse:
    """Refer the company to an education offering for this need (a referral in one of my projects)."""
    _require(request, "programmes.add_referral", "competence.view_competenceneed")
    need = selectors.need_for_user(request.user, pk)
    if need is None:
        raise Http404(_("No such need."))
    offering = EducationOffering.objects.select_related("provider", "municipality").filter(pk=offering_id).first()
    if offering is None:
        raise Http404(_("No such education offering."))
    projects = selectors.projects_to_refer_in(request.user)
    form = NeedReferForm(request.POST or None, projects=projects,
                         initial={"project": selectors.default_referral_project(need, projects)})
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.need_refer(request.user, need, offering, form.cleaned_data["project"],
                                           notes=form.cleaned_data["notes"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(company)s was referred to %(offering)s.") % {
                "company": need.company.name, "offering": offering.name})
            return redirect(reverse("programmes:referral", args=[referral.pk]))
    match = next((m for m in selectors.offerings_for_need(need, today=timezone.localdate())
                  if m.offering.pk == offering.pk), None)
    return render(request, "competence/need_refer.html", {
        "form": form, "need": need, "company": need.company, "offering": offering, "match": match,
        "earlier": need.referral_links.select_related("referral", "offering").filter(offering=offering),
        "active_nav": "companies",
    })


@login_required
@require_POST
def needs_from_interview(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "competence.add_competenceneed")
    company = _company_or_404(request, company_id)
    context = company_competence_context(request, company)
    interview = context["interview"] if context else None
    if interview is None:
        messages.error(request, _("The company has no completed growth interview."))
        return redirect(_company_url(company))
    try:
        created = services.needs_from_interview(request.user, interview)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if created:
            messages.success(request, _("%(count)d needs were created from the interview. Link each to an occupation or skill.")
                             % {"count": len(created)})
        else:
            messages.info(request, _("The interview gives no new competence needs."))
    return redirect(_company_url(company))


# --- offerings ----------------------------------------------------------------------------------


@login_required
def offering_list(request: HttpRequest) -> HttpResponse:
    _require(request, "competence.view_educationoffering")
    offerings = selectors.offerings_visible_to(request.user).order_by("provider__name", "name")
    editable = set(selectors.offerings_editable_by(request.user).values_list("pk", flat=True))
    return render(request, "competence/offering_list.html", {
        "offerings": offerings, "editable": editable, "can_add": selectors.providers_of(request.user).exists(),
        "active_nav": "offerings",
    })


def _offering_form(request: HttpRequest, offering=None) -> HttpResponse:
    providers = selectors.providers_of(request.user)
    if not providers.exists():
        raise PermissionDenied
    if request.method == "POST":
        form = OfferingForm(request.POST, providers=providers)
        chosen = _chosen_ids(request)
    else:
        initial = {}
        if offering is not None:
            initial = {name: getattr(offering, name) for name in ("name", "kind", "distance", "length_weeks", "seats",
                                                                 "description", "url", "active")}
            initial |= {"provider": offering.provider_id, "municipality": offering.municipality_id,
                        "start_dates": ", ".join(offering.start_dates or [])}
        form = OfferingForm(initial=initial, providers=providers)
        chosen = [link.concept_id for link in offering.links.all() if link.confirmed] if offering else []
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        data = dict(form.cleaned_data)
        provider = data.pop("provider")
        try:
            if offering is None:
                data.pop("active")
                offering = services.offering_create(request.user, provider, concept_ids=chosen, scores=_scores(request), **data)
                messages.success(request, _("The offering was saved."))
            else:
                if provider != offering.provider:
                    form.add_error("provider", _("An offering cannot move to another provider."))
                    raise ValidationError({})
                services.offering_update(request.user, offering, concept_ids=chosen, scores=_scores(request), **data)
                messages.success(request, _("The offering was updated."))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("competence:offerings")
    text = " ".join(filter(None, [form.data.get("name", ""), form.data.get("description", "")])) if form.is_bound else \
        (f"{offering.name} {offering.description}" if offering else "")
    return render(request, "competence/offering_form.html", {
        "form": form, "offering": offering, "picker": _choices(text, chosen, form.data.get("search", "") if form.is_bound else ""),
        "active_nav": "offerings",
    })


@login_required
def offering_create(request: HttpRequest) -> HttpResponse:
    _require(request, "competence.add_educationoffering")
    return _offering_form(request)


@login_required
def offering_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "competence.change_educationoffering")
    offering = selectors.offerings_editable_by(request.user).filter(pk=pk).first()
    if offering is None:
        raise Http404(_("No such offering."))
    return _offering_form(request, offering)


@login_required
def offering_import(request: HttpRequest) -> HttpResponse:
    from .importing import import_offerings

    _require(request, "competence.add_educationoffering")
    providers = selectors.providers_of(request.user)
    if not providers.exists():
        raise PermissionDenied
    form = OfferingImportForm(request.POST or None, request.FILES or None, providers=providers)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = import_offerings(upload, provider=form.cleaned_data["provider"], actor=request.user, name=upload.name)
        if result.ok:
            messages.success(request, _("%(created)d offerings created, %(updated)d updated.") % {
                "created": result.created, "updated": result.updated})
            return redirect("competence:offerings")
    return render(request, "competence/offering_import.html", {"form": form, "result": result, "active_nav": "offerings"})


# --- the demand report ----------------------------------------------------------------------------


def _report(request: HttpRequest):
    if not selectors.sees_demand_report(request.user):
        raise PermissionDenied
    from .selectors import ReportFilters, demand_report

    first = demand_report(ReportFilters())
    form = ReportFilterForm(request.GET or None, areas=first.areas)
    filters = form.filters() if form.is_bound else ReportFilters()
    report = first if filters == first.filters else demand_report(filters)
    return form, report


@login_required
def report(request: HttpRequest) -> HttpResponse:
    form, data = _report(request)
    return render(request, "competence/report.html", {
        "form": form, "report": data, "min_companies": rules.MIN_COMPANIES, "query": request.GET.urlencode(),
        "active_nav": "competence",
    })


@login_required
def report_xlsx(request: HttpRequest) -> HttpResponse:
    from .xlsx import report_workbook

    _form, data = _report(request)
    response = HttpResponse(report_workbook(data),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="competence-demand-{data.generated_on:%Y-%m-%d}.xlsx"'
    return response


@login_required
def report_pdf(request: HttpRequest) -> HttpResponse:
    from .pdf import report_pdf as render_pdf

    _form, data = _report(request)
    response = HttpResponse(render_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="competence-demand-{data.generated_on:%Y-%m-%d}.pdf"'
    return response
