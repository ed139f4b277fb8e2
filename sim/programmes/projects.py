"""Which projects a user works in, and which one is current in their session."""

from __future__ import annotations

from django.db.models import QuerySet

from sim.core.roles import Role, user_roles

from .models import Project, ProjectStatus

SESSION_KEY = "sim_project_id"


def projects_for(user) -> QuerySet[Project]:
    """Administrators see every project; everyone else the projects they are members of."""
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    if user.is_superuser or Role.ADMIN in user_roles(user):
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def current_project(request) -> Project | None:
    """The project chosen in this session, else the user's latest running project."""
    projects = projects_for(request.user)
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        project = projects.filter(pk=chosen).first()
        if project is not None:
            return project
    project = projects.filter(status=ProjectStatus.ACTIVE).order_by("-start_date").first() or projects.order_by("-start_date").first()
    if project is not None:
        request.session[SESSION_KEY] = project.pk
    return project


def set_current_project(request, project: Project) -> None:
    request.session[SESSION_KEY] = project.pk
