"""Project pages: list, detail, create/edit, partners and members, and switching the current project.

Thin: parse, check the permission and the project scope (a project the user does not work in is a
404), call services_projects, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services_projects as services
from .forms_projects import MemberAddForm, PartnerAddForm, ProjectForm
from .models import Organisation, Project, ProjectMembership, ProjectPartner
from .projects import current_project, projects_for, set_current_project


def project_for_user(request: HttpRequest, pk: int) -> Project:
    project = projects_for(request.user).select_related("owner").filter(pk=pk).first()
    if project is None:
        raise Http404(_("No such project."))
    return project


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@permission_required("programmes.view_project", raise_exception=True)
def project_list(request: HttpRequest) -> HttpResponse:
    projects = (
        projects_for(request.user)
        .select_related("owner")
        .annotate(n_members=Count("memberships", distinct=True), n_partners=Count("partners", distinct=True))
        .order_by("-start_date", "code")
    )
    return render(request, "programmes/project_list.html", {
        "projects": projects, "current": current_project(request), "active_nav": "projects",
    })


@login_required
@permission_required("programmes.view_project", raise_exception=True)
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for_user(request, pk)
    return render(request, "programmes/project_detail.html", {
        "project": project,
        "partners": project.partners.select_related("organisation").order_by("role", "organisation__name"),
        "members": project.memberships.select_related("user", "organisation").order_by(
            "organisation__name", "user__first_name", "user__last_name"),
        "focus_areas": project.focus_areas.order_by("order", "key"),
        "counties": project.counties.order_by("code"),
        "municipalities": project.municipalities.select_related("county").order_by("county_id", "name"),
        "counts": services.project_counts(project),
        "is_current": current_project(request) == project,
        "active_nav": "projects",
    })


def _save_project(request: HttpRequest, form: ProjectForm, project: Project | None) -> Project | None:
    data = form.service_data()
    try:
        new_owner = (form.cleaned_data.get("new_owner") or "").strip()
        if new_owner and not data.get("owner"):
            existing = Organisation.objects.filter(name__iexact=new_owner).first()
            data["owner"] = existing or services.organisation_create(
                request.user, {"name": new_owner, "kind": Organisation.Kind.PUBLIC})
        if project is None:
            return services.project_create(request.user, data)
        return services.project_update(request.user, project, data)
    except ValidationError as exc:
        _apply_errors(form, exc)
        return None


@login_required
@permission_required("programmes.add_project", raise_exception=True)
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = _save_project(request, form, None)
        if project is not None:
            set_current_project(request, project)
            messages.success(request, _("The project %(name)s was created; you are a member of it.") % {"name": project.name})
            return redirect("programmes:project-detail", pk=project.pk)
    return render(request, "programmes/project_form.html", {"form": form, "active_nav": "projects"})


@login_required
@permission_required("programmes.change_project", raise_exception=True)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for_user(request, pk)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid() and _save_project(request, form, project) is not None:
        messages.success(request, _("Changes saved."))
        return redirect("programmes:project-detail", pk=project.pk)
    return render(request, "programmes/project_form.html", {"form": form, "project": project, "active_nav": "projects"})


@login_required
@permission_required("programmes.manage_project", raise_exception=True)
def project_partners(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for_user(request, pk)
    form = PartnerAddForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = form.cleaned_data["organisation"]
            if organisation is None:
                organisation = services.organisation_create(request.user, {
                    "name": form.cleaned_data["new_name"], "kind": form.cleaned_data["new_kind"] or Organisation.Kind.OTHER,
                })
            services.project_partner_add(request.user, project, organisation)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is now a partner in the project.") % {"name": organisation.name})
            return redirect("programmes:project-partners", pk=project.pk)
    partners = project.partners.select_related("organisation").order_by("role", "organisation__name")
    staff = dict(
        project.memberships.exclude(organisation=None).values_list("organisation").annotate(n=Count("id"))
        .values_list("organisation", "n")
    )
    return render(request, "programmes/project_partners.html", {
        "project": project, "form": form, "partners": partners, "staff": staff, "active_nav": "projects",
    })


@login_required
@permission_required("programmes.manage_project", raise_exception=True)
@require_POST
def project_partner_remove(request: HttpRequest, pk: int, partner_id: int) -> HttpResponse:
    project = project_for_user(request, pk)
    partner = get_object_or_404(ProjectPartner.objects.select_related("organisation", "project"), project=project, pk=partner_id)
    try:
        services.project_partner_remove(request.user, partner)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s was removed from the project.") % {"name": partner.organisation.name})
    return redirect("programmes:project-partners", pk=project.pk)


@login_required
@permission_required("programmes.manage_project", raise_exception=True)
def project_members(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for_user(request, pk)
    form = MemberAddForm(request.POST or None, project=project, candidates=services.member_candidates(project))
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["user"]
        try:
            services.project_member_add(request.user, project, user, form.cleaned_data["organisation"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is now a member of the project.") % {
                "name": user.get_full_name() or user.get_username()})
            return redirect("programmes:project-members", pk=project.pk)
    return render(request, "programmes/project_members.html", {
        "project": project, "form": form,
        "members": project.memberships.select_related("user", "organisation").order_by(
            "organisation__name", "user__first_name", "user__last_name"),
        "organisations": Organisation.objects.filter(partnerships__project=project).order_by("name"),
        "active_nav": "projects",
    })


@login_required
@permission_required("programmes.manage_project", raise_exception=True)
@require_POST
def project_member_update(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    project = project_for_user(request, pk)
    membership = get_object_or_404(ProjectMembership.objects.select_related("user", "project"), project=project, pk=member_id)
    organisation = None
    raw = request.POST.get("organisation", "")
    if raw:
        organisation = Organisation.objects.filter(partnerships__project=project, pk=raw if raw.isdigit() else 0).first()
        if organisation is None:
            messages.error(request, _("Members work for one of the project's partners."))
            return redirect("programmes:project-members", pk=project.pk)
    services.project_member_update(request.user, membership, organisation)
    messages.success(request, _("Saved."))
    return redirect("programmes:project-members", pk=project.pk)


@login_required
@permission_required("programmes.manage_project", raise_exception=True)
@require_POST
def project_member_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    project = project_for_user(request, pk)
    membership = get_object_or_404(ProjectMembership.objects.select_related("user", "project"), project=project, pk=member_id)
    try:
        services.project_member_remove(request.user, membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is no longer a member of the project.") % {
            "name": membership.user.get_full_name() or membership.user.get_username()})
    return redirect("programmes:project-members", pk=project.pk)


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's projects the current one (kept in the session)."""
    raw = request.POST.get("project", "")
    project = projects_for(request.user).filter(pk=int(raw)).first() if raw.isdigit() else None
    if project is None:
        raise Http404(_("No such project."))
    set_current_project(request, project)
    messages.success(request, _("You now work in %(name)s.") % {"name": project.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = ""
    return redirect(target or "programmes:project-list")
