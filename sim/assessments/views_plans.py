"""Growth plans (tillväxtplaner): drafting from needs, goals, actions, sharing and the PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies.selectors import company_for_user

from . import selectors, services
from .forms_results import GrowthActionForm, GrowthGoalForm, GrowthPlanForm
from .models import GrowthAction, GrowthGoal, GrowthPlan
from .views_results import _apply_errors, language


def _plan_or_404(request: HttpRequest, plan_id: int) -> GrowthPlan:
    plan = selectors.growth_plans_visible_to(request.user).filter(pk=plan_id).first()
    if plan is None:
        raise Http404(_("No such growth plan."))
    return plan


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def _plan_url(plan: GrowthPlan, anchor: str = "") -> str:
    return reverse("assessments:plan", args=[plan.pk]) + (f"#{anchor}" if anchor else "")


@login_required
@require_POST
def plan_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "assessments.add_growthplan", "assessments.add_growthaction")
    company = company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    assessment = None
    assessment_id = request.POST.get("assessment", "")
    if assessment_id:
        assessment = selectors.assessment_for_user(request.user, int(assessment_id)) if assessment_id.isdigit() else None
        if assessment is None or assessment.company_id != company.pk:
            raise Http404(_("No such assessment."))
    try:
        plan = services.growth_plan_create(request.user, company, assessment=assessment, from_needs=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("companies:detail", args=[company.pk]) + "#growth")
    count = plan.actions.count()
    messages.success(request, _("A draft growth plan was created with %(count)s action(s) from the open needs.") % {
        "count": count})
    return redirect(_plan_url(plan))


@login_required
@permission_required("assessments.view_growthplan", raise_exception=True)
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    user = request.user
    editable = user.has_perm("assessments.change_growthplan")
    goals = plan.goals.all() if user.has_perm("assessments.view_growthgoal") else GrowthGoal.objects.none()
    actions = (
        plan.actions.select_related("focus_area", "need")
        if user.has_perm("assessments.view_growthaction") else GrowthAction.objects.none()
    )
    context = {
        "plan": plan,
        "company": plan.company,
        "goals": goals,
        "actions": actions,
        "editable": editable,
        "is_draft": plan.status == "draft",
        "can_add_goal": editable and user.has_perm("assessments.add_growthgoal"),
        "can_change_goal": editable and user.has_perm("assessments.change_growthgoal"),
        "can_remove_goal": editable and user.has_perm("assessments.delete_growthgoal"),
        "can_add_action": editable and user.has_perm("assessments.add_growthaction"),
        "can_change_action": editable and user.has_perm("assessments.change_growthaction"),
        "can_remove_action": editable and user.has_perm("assessments.delete_growthaction"),
        "active_nav": "companies",
    }
    return render(request, "assessments/plan_detail.html", context)


@login_required
@permission_required("assessments.change_growthplan", raise_exception=True)
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request, plan_id)
    form = GrowthPlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.growth_plan_update(request.user, plan, form.service_data())
        except ValidationError as exc:
            plan.refresh_from_db()
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The growth plan was saved."))
            return redirect(_plan_url(plan))
    return render(request, "assessments/plan_form.html", {
        "form": form, "plan": plan, "company": plan.company, "active_nav": "companies"})


def _next_order(queryset) -> int:
    return (queryset.aggregate(top=Max("order"))["top"] or 0) + 1


@login_required
def goal_edit(request: HttpRequest, plan_id: int, goal_id: int | None = None) -> HttpResponse:
    _require(request, "assessments.change_growthplan",
             "assessments.add_growthgoal" if goal_id is None else "assessments.change_growthgoal")
    plan = _plan_or_404(request, plan_id)
    goal = get_object_or_404(GrowthGoal, pk=goal_id, plan=plan) if goal_id is not None else None
    form = GrowthGoalForm(request.POST or None, instance=goal)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if goal is None:
            data["order"] = _next_order(plan.goals)
        try:
            services.growth_goal_save(request.user, plan, data, goal=goal)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The goal was saved."))
            return redirect(_plan_url(plan, "goals"))
    return render(request, "assessments/goal_form.html", {
        "form": form, "plan": plan, "goal": goal, "company": plan.company, "active_nav": "companies"})


@login_required
def action_edit(request: HttpRequest, plan_id: int, action_id: int | None = None) -> HttpResponse:
    _require(request, "assessments.change_growthplan",
             "assessments.add_growthaction" if action_id is None else "assessments.change_growthaction")
    plan = _plan_or_404(request, plan_id)
    action = get_object_or_404(GrowthAction, pk=action_id, plan=plan) if action_id is not None else None
    form = GrowthActionForm(request.POST or None, instance=action, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if action is None:
            data["order"] = _next_order(plan.actions)
        try:
            services.growth_action_save(request.user, plan, data, action=action)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The action was saved."))
            return redirect(_plan_url(plan, "actions"))
    return render(request, "assessments/action_form.html", {
        "form": form, "plan": plan, "action": action, "company": plan.company, "active_nav": "companies"})


def _remove(request: HttpRequest, plan: GrowthPlan, part, anchor: str, done: str) -> HttpResponse:
    try:
        services.growth_part_remove(request.user, part)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(_plan_url(plan, anchor))


@login_required
@require_POST
def goal_remove(request: HttpRequest, plan_id: int, goal_id: int) -> HttpResponse:
    _require(request, "assessments.change_growthplan", "assessments.delete_growthgoal")
    plan = _plan_or_404(request, plan_id)
    goal = get_object_or_404(GrowthGoal, pk=goal_id, plan=plan)
    return _remove(request, plan, goal, "goals", _("The goal was removed."))


@login_required
@require_POST
def action_remove(request: HttpRequest, plan_id: int, action_id: int) -> HttpResponse:
    _require(request, "assessments.change_growthplan", "assessments.delete_growthaction")
    plan = _plan_or_404(request, plan_id)
    action = get_object_or_404(GrowthAction, pk=action_id, plan=plan)
    return _remove(request, plan, action, "actions", _("The action was removed."))


@login_required
@permission_required("assessments.view_growthplan", raise_exception=True)
def plan_pdf(request: HttpRequest, plan_id: int) -> HttpResponse:
    from .pdf import growth_plan_pdf

    plan = _plan_or_404(request, plan_id)
    lang = request.GET.get("lang") or language()
    if lang not in ("sv", "en"):
        lang = language()
    content = growth_plan_pdf(plan, language=lang)
    prefix = "tillvaxtplan" if lang == "sv" else "growth-plan"
    name = slugify(plan.company.name) or "company"
    filename = f"{prefix}-{name}-{plan.pk}-{timezone.localdate():%Y%m%d}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
