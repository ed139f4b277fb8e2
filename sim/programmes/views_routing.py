"""Web views of routing: the pipeline board, referrals, interventions and follow-ups.

Thin: check the permission, find the record among the user's projects (else 404), call a service
or selector, render. Refusals of the state machines are shown as messages, never as errors.
"""

from __future__ import annotations

import mimetypes
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies.selectors import company_for_user

from . import selectors, services, states
from .forms_routing import (
    DecisionDocumentForm,
    FollowUpForm,
    InterventionApproveForm,
    InterventionForm,
    InterventionMoveForm,
    ReferralCreateForm,
    ReferralEditForm,
    ReferralMoveForm,
)
from .models import FocusArea, Intervention, InterventionStatus, Offer, Project, ReferralStatus
from .projects import current_project, projects_for, set_current_project


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


def _company_or_404(request: HttpRequest, company_id: int):
    company = company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    return company


def _project_or_404(request: HttpRequest, project_id: int) -> Project:
    project = projects_for(request.user).filter(pk=project_id).first()
    if project is None:
        raise Http404(_("No such project."))
    return project


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _company_url(company, anchor: str = "routing") -> str:
    return reverse("companies:detail", args=[company.pk]) + f"#{anchor}"


# --- Pipeline board -------------------------------------------------------------------------


def _board_context(request: HttpRequest, project: Project, filters: selectors.PipelineFilters) -> dict:
    return {
        "project": project,
        "columns": selectors.pipeline(request.user, project, filters),
        "filters": filters,
        "query_string": urlencode(filters.as_query()),
        "can_move": request.user.has_perm("programmes.change_referral"),
        "board_url": reverse("programmes:pipeline-project", args=[project.pk]),
    }


@login_required
@permission_required("programmes.view_referral", raise_exception=True)
def pipeline(request: HttpRequest, project_id: int | None = None) -> HttpResponse:
    """The referrals of one project in columns by status, filtered by advisor and focus area."""
    if project_id is None:
        project = current_project(request)
        if project is None:
            return render(request, "programmes/pipeline_none.html", {"active_nav": "pipeline"})
        return redirect(reverse("programmes:pipeline-project", args=[project.pk]) + (
            f"?{request.GET.urlencode()}" if request.GET else ""))
    project = _project_or_404(request, project_id)
    set_current_project(request, project)
    filters = selectors.PipelineFilters.from_params(request.GET)
    context = _board_context(request, project, filters)
    if request.htmx and request.htmx.target == "pipeline-board":
        return render(request, "programmes/_pipeline_board.html", context)
    context.update({
        "projects": projects_for(request.user).order_by("-start_date", "code"),
        "advisors": selectors.project_advisors(project),
        "focus_areas": project.focus_areas.all() if project.focus_areas.exists() else FocusArea.objects.filter(active=True),
        "active_nav": "pipeline",
    })
    return render(request, "programmes/pipeline.html", context)


# --- Referrals ------------------------------------------------------------------------------


def _referral_or_404(request: HttpRequest, pk: int):
    referral = selectors.referral_for_user(request.user, pk)
    if referral is None:
        raise Http404(_("No such referral."))
    return referral


@login_required
def referral_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "programmes.add_referral")
    company = _company_or_404(request, company_id)
    projects = projects_for(request.user)
    form = ReferralCreateForm(request.POST or None, projects=projects, user=request.user)
    offer_id = request.GET.get("offer", "")
    if not form.is_bound and offer_id.isdigit():
        form.initial["offer"] = int(offer_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                request.user, company, data["offer"], advisor=data["advisor"], notes=data["notes"],
                proposed_on=data["proposed_on"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(company)s was referred to %(offer)s.") % {
                "company": company.name, "offer": referral.offer.title})
            return redirect(_next_url(request, _company_url(company)))
    return render(request, "programmes/referral_form.html", {
        "form": form, "company": company, "next": _next_url(request, ""), "active_nav": "companies",
    })


@login_required
@permission_required("programmes.view_referral", raise_exception=True)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _referral_or_404(request, pk)
    steps = [
        (ReferralStatus(status).label, getattr(referral, field_name))
        for status, field_name in states.REFERRAL_DATE_FIELD.items() if getattr(referral, field_name)
    ]
    history = None
    if request.user.has_perm("core.view_auditevent"):
        from sim.core.models import AuditEvent

        history = AuditEvent.objects.filter(object_type="programmes.referral", object_id=str(referral.pk)).select_related("actor")
    next_statuses = [(s, ReferralStatus(s).label) for s in states.referral_next_statuses(referral.status)]
    return render(request, "programmes/referral_detail.html", {
        "referral": referral, "steps": sorted(steps, key=lambda s: s[1]), "history": history,
        "next_statuses": next_statuses,
        "forward_statuses": [(s, label) for s, label in next_statuses if s not in states.REFERRAL_NEEDS_REASON],
        "closing_statuses": [(s, label) for s, label in next_statuses if s in states.REFERRAL_NEEDS_REASON],
        "can_move": request.user.has_perm("programmes.change_referral"),
        "is_open": referral.status in states.REFERRAL_OPEN,
        "active_nav": "pipeline",
    })


@login_required
@require_POST
def referral_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a referral to another status: from the board (HTMX or plain form) or its page."""
    _require(request, "programmes.change_referral")
    referral = _referral_or_404(request, pk)
    form = ReferralMoveForm(request.POST)
    moved = None
    error = notice = None
    if not form.is_valid():
        error = " ".join(_messages(ValidationError(form.errors)))
    else:
        data = form.cleaned_data
        try:
            moved = services.referral_move(request.user, referral, data["status"], on=data["on"], reason=data["reason"])
        except ValidationError as exc:
            error = " ".join(_messages(exc))
    if moved is not None:
        notice = _("%(company)s → %(offer)s is now %(status)s.") % {
            "company": moved.company.name, "offer": moved.offer.title, "status": str(moved.get_status_display()).lower()}
    if request.htmx and request.POST.get("board"):
        filters = selectors.PipelineFilters.from_params(request.POST)
        context = _board_context(request, referral.project, filters)
        context.update({"error": error, "notice": notice, "moved_id": moved.pk if moved else None})
        return render(request, "programmes/_pipeline_board.html", context)
    if moved is not None:
        messages.success(request, notice)
    else:
        messages.error(request, error)
    return redirect(_next_url(request, reverse("programmes:referral", args=[referral.pk])))


@login_required
def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "programmes.change_referral")
    referral = _referral_or_404(request, pk)
    form = ReferralEditForm(request.POST or None, project=referral.project,
                            initial={"advisor": referral.advisor_id, "notes": referral.notes})
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_update(request.user, referral, advisor=form.cleaned_data["advisor"],
                                     notes=form.cleaned_data["notes"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The referral was saved."))
            return redirect("programmes:referral", pk=referral.pk)
    return render(request, "programmes/referral_edit.html", {"form": form, "referral": referral, "active_nav": "pipeline"})


# --- Interventions --------------------------------------------------------------------------


def _intervention_or_404(request: HttpRequest, pk: int) -> Intervention:
    intervention = selectors.intervention_for_user(request.user, pk)
    if intervention is None:
        raise Http404(_("No such intervention."))
    return intervention


@login_required
@permission_required("programmes.view_intervention", raise_exception=True)
def intervention_list(request: HttpRequest, project_id: int | None = None) -> HttpResponse:
    if project_id is None:
        project = current_project(request)
        if project is None:
            return render(request, "programmes/pipeline_none.html", {"active_nav": "pipeline"})
        return redirect("programmes:interventions-project", project_id=project.pk)
    project = _project_or_404(request, project_id)
    set_current_project(request, project)
    status = request.GET.get("status", "")
    queryset = selectors.interventions_visible_to(request.user).filter(project=project).order_by("-created_at", "-pk")
    if status in InterventionStatus.values:
        queryset = queryset.filter(status=status)
    return render(request, "programmes/intervention_list.html", {
        "project": project, "interventions": queryset, "status": status, "statuses": InterventionStatus.choices,
        "budget": services.budget_check(project, 0),
        "projects": projects_for(request.user).order_by("-start_date", "code"),
        "active_nav": "pipeline",
    })


@login_required
def intervention_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "programmes.add_intervention")
    company = _company_or_404(request, company_id)
    projects = projects_for(request.user).order_by("-start_date", "code")
    project = current_project(request)
    form = InterventionForm(
        request.POST or None, projects=projects, goals=selectors.growth_goals_of(company),
        initial={"project": project.pk if project else None, "support_form": "grant", "is_state_aid": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            intervention = services.intervention_create(request.user, form.cleaned_data["project"], company, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The intervention was saved as a draft."))
            return redirect("programmes:intervention", pk=intervention.pk)
    return render(request, "programmes/intervention_form.html", {
        "form": form, "company": company, "intervention": None, "active_nav": "companies"})


@login_required
@permission_required("programmes.view_intervention", raise_exception=True)
def intervention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intervention = _intervention_or_404(request, pk)
    user = request.user
    history = None
    if user.has_perm("core.view_auditevent"):
        from sim.core.models import AuditEvent

        history = AuditEvent.objects.filter(
            object_type="programmes.intervention", object_id=str(intervention.pk)).select_related("actor")
    next_statuses = [
        (s, InterventionStatus(s).label) for s in states.intervention_next_statuses(intervention.status)
        if s != InterventionStatus.APPROVED
    ]
    steps = [(_("Drafted"), intervention.created_at.date())] + [
        (InterventionStatus(status).label, getattr(intervention, field_name))
        for status, field_name in states.INTERVENTION_DATE_FIELD.items() if getattr(intervention, field_name)
    ]
    return render(request, "programmes/intervention_detail.html", {
        "intervention": intervention,
        "goals": intervention.growth_goals.select_related("plan"),
        "steps": steps,
        "history": history,
        "forward_statuses": [(s, label) for s, label in next_statuses if s not in states.INTERVENTION_NEEDS_REASON],
        "can_cancel": InterventionStatus.CANCELLED in dict(next_statuses),
        "can_move": user.has_perm("programmes.change_intervention"),
        "can_edit": user.has_perm("programmes.change_intervention")
        and intervention.status not in (InterventionStatus.CLOSED, InterventionStatus.CANCELLED),
        "can_approve": user.has_perm("programmes.approve_intervention") and intervention.status == InterventionStatus.DRAFT,
        "can_attach": user.has_perm("programmes.approve_intervention")
        and intervention.status not in (InterventionStatus.DRAFT, InterventionStatus.CANCELLED),
        "document_form": DecisionDocumentForm(),
        "active_nav": "pipeline",
    })


@login_required
def intervention_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "programmes.change_intervention")
    intervention = _intervention_or_404(request, pk)
    if intervention.status in (InterventionStatus.CLOSED, InterventionStatus.CANCELLED):
        messages.error(request, _("The intervention is %(status)s and can no longer be changed.") % {
            "status": str(intervention.get_status_display()).lower()})
        return redirect("programmes:intervention", pk=intervention.pk)
    locked = frozenset({"project"}) | (
        states.INTERVENTION_DECIDED_FIELDS if intervention.status != InterventionStatus.DRAFT else frozenset())
    initial = {name: getattr(intervention, name) for name in (
        "title", "focus_area", "description", "provider", "provider_name", "start_date", "end_date", "budget_sek",
        "own_cash_sek", "own_hours", "support_form", "is_state_aid", "aid_amount_sek", "deliverables", "results")}
    initial["project"] = intervention.project_id
    initial["growth_goals"] = list(intervention.growth_goals.values_list("pk", flat=True))
    form = InterventionForm(
        request.POST or None, projects=Project.objects.filter(pk=intervention.project_id),
        goals=selectors.growth_goals_of(intervention.company), locked=locked, initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.intervention_update(request.user, intervention, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The intervention was saved."))
            return redirect("programmes:intervention", pk=intervention.pk)
    return render(request, "programmes/intervention_form.html", {
        "form": form, "company": intervention.company, "intervention": intervention, "active_nav": "pipeline"})


@login_required
def intervention_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision: the de minimis and budget figures, then approve (or the reasons it is refused)."""
    _require(request, "programmes.approve_intervention")
    intervention = _intervention_or_404(request, pk)
    form = InterventionApproveForm(request.POST or None, request.FILES or None)
    on = form.cleaned_data["approved_on"] if form.is_bound and form.is_valid() else None
    if request.method == "POST" and form.is_valid():
        try:
            services.intervention_approve(
                request.user, intervention, on=form.cleaned_data["approved_on"],
                document=form.cleaned_data.get("decision_document"),
            )
        except services.ApprovalRefused as exc:
            form.add_error(None, _("The intervention cannot be approved:"))
            for reason in exc.check.reasons:
                form.add_error(None, reason)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The intervention was approved."))
            return redirect("programmes:intervention", pk=intervention.pk)
    return render(request, "programmes/intervention_approve.html", {
        "form": form, "intervention": intervention,
        "check": services.intervention_approval_check(intervention, on), "active_nav": "pipeline",
    })


@login_required
@require_POST
def intervention_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "programmes.change_intervention")
    intervention = _intervention_or_404(request, pk)
    form = InterventionMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(_messages(ValidationError(form.errors))))
    else:
        data = form.cleaned_data
        try:
            moved = services.intervention_move(request.user, intervention, data["status"], on=data["on"], reason=data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(_messages(exc)))
        else:
            messages.success(request, _("The intervention is now %(status)s.") % {
                "status": str(moved.get_status_display()).lower()})
            if moved.status == InterventionStatus.DELIVERED:
                messages.info(request, _("A follow-up to book the T1 assessment was added."))
    return redirect(_next_url(request, reverse("programmes:intervention", args=[intervention.pk])))


@login_required
@permission_required("programmes.view_intervention", raise_exception=True)
def intervention_decision(request: HttpRequest, pk: int) -> FileResponse:
    """The decision document, only through this permission-checked view."""
    intervention = _intervention_or_404(request, pk)
    document = intervention.decision_document
    if not document:
        raise Http404(_("This intervention has no decision document."))
    try:
        handle = document.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("The decision document is missing from storage.")) from None
    name = os.path.basename(document.name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


@login_required
@require_POST
def intervention_decision_upload(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "programmes.approve_intervention")
    intervention = _intervention_or_404(request, pk)
    form = DecisionDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(_messages(ValidationError(form.errors))))
    else:
        try:
            services.intervention_attach_decision(request.user, intervention, form.cleaned_data["decision_document"])
        except ValidationError as exc:
            messages.error(request, " ".join(_messages(exc)))
        else:
            messages.success(request, _("The decision document was saved."))
    return redirect("programmes:intervention", pk=intervention.pk)


# --- Follow-ups -----------------------------------------------------------------------------


@login_required
@permission_required("programmes.view_followup", raise_exception=True)
def follow_up_list(request: HttpRequest) -> HttpResponse:
    include_done = request.GET.get("done") == "1"
    return render(request, "programmes/followup_list.html", {
        "follow_ups": selectors.my_follow_ups(request.user, include_done=include_done),
        "include_done": include_done, "can_change": request.user.has_perm("programmes.change_followup"),
        "active_nav": "home",
    })


@login_required
def follow_up_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "programmes.add_followup")
    company = _company_or_404(request, company_id)
    projects = projects_for(request.user).order_by("-start_date", "code")
    form = FollowUpForm(request.POST or None, projects=projects, user=request.user, current_project=current_project(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.follow_up_create(
                request.user, company, title=data["title"], due_on=data["due_on"], assigned_to=data["assigned_to"],
                project=data["project"], notes=data["notes"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The follow-up was added."))
            return redirect(_next_url(request, _company_url(company)))
    return render(request, "programmes/followup_form.html", {"form": form, "company": company, "active_nav": "companies"})


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "programmes.change_followup")
    follow_up = selectors.follow_up_for_user(request.user, pk)
    if follow_up is None:
        raise Http404(_("No such follow-up."))
    try:
        services.follow_up_done(request.user, follow_up)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("“%(title)s” is done.") % {"title": follow_up.title})
    return redirect(_next_url(request, reverse("programmes:follow-ups")))


# --- Company page section and start page panel ----------------------------------------------


def company_routing_context(request: HttpRequest, company) -> dict | None:
    user = request.user
    perms = ("programmes.view_referral", "programmes.view_intervention", "programmes.view_followup")
    if not any(user.has_perm(perm) for perm in perms):
        return None
    routing = selectors.company_routing(user, company)
    return {
        "company": company,
        "items": routing["items"],
        "events": routing["events"],
        "follow_ups": selectors.follow_ups_of(user, company),
        "offers_available": user.has_perm("programmes.add_referral")
        and Offer.objects.filter(project__in=projects_for(user), active=True).exists(),
        "can_refer": user.has_perm("programmes.add_referral") and not company.is_archived,
        "can_add_intervention": user.has_perm("programmes.add_intervention") and not company.is_archived,
        "can_add_follow_up": user.has_perm("programmes.add_followup") and not company.is_archived,
        "can_change_follow_up": user.has_perm("programmes.change_followup"),
        "has_projects": projects_for(user).exists(),
    }


def home_routing_context(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not (user.has_perm("programmes.view_followup") or user.has_perm("programmes.view_referral")):
        return None
    follow_ups = selectors.my_follow_ups(user) if user.has_perm("programmes.view_followup") else []
    referrals = selectors.my_open_referrals(user) if user.has_perm("programmes.view_referral") else []
    works_here = user.has_perm("programmes.change_referral") or user.has_perm("programmes.change_followup")
    if not follow_ups and not referrals and not works_here:
        return None
    return {
        "follow_ups": follow_ups[:15],
        "follow_ups_more": max(len(follow_ups) - 15, 0),
        "overdue": sum(1 for f in follow_ups if f.is_overdue),
        "referrals": referrals,
        "can_change_follow_up": user.has_perm("programmes.change_followup"),
    }
