"""The current project and the projects to switch between, for the header of every page."""

from __future__ import annotations

from .projects import current_project, projects_for


def current_project_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("programmes.view_project"):
        return {"current_project": None, "switchable_projects": []}
    return {
        "current_project": current_project(request),
        "switchable_projects": list(projects_for(user).only("pk", "code", "name", "status").order_by("-start_date", "code")),
    }
