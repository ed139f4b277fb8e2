"""The activities section of the company page: quick entry, the list, and hours per focus area."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.models import CompanyStatus
from sim.companies.sections import CompanySection, register_company_section
from sim.programmes.projects import current_project, projects_for

from . import selectors
from .forms import QuickActivityForm, open_projects

LATEST = 25


def section_context(request, company, form=None) -> dict | None:
    user = request.user
    if not user.has_perm("activities.view_activity"):
        return None
    projects = projects_for(user)
    project = current_project(request)
    activities = selectors.activities_visible_to(user).filter(company=company).order_by("-date", "-id")
    may_add = (
        user.has_perm("activities.add_activity") and project is not None and company.status != CompanyStatus.ARCHIVED
        and open_projects(user).exists()
    )
    if may_add and form is None:
        form = QuickActivityForm(company=company, projects=open_projects(user), project=project, user=user, prefix="quick")
    return {
        "company": company,
        "project": project,
        "activities": list(activities[:LATEST]),
        "more": max(activities.count() - LATEST, 0),
        "hours": selectors.company_hours(company, projects),
        "show_notes": user.has_perm("activities.view_activity_notes"),
        "form": form if may_add else None,
    }


def register() -> None:
    register_company_section(CompanySection(
        key="activities", label=lambda: str(_("Activities")),
        template="activities/_company_activities.html", context=section_context, order=40,
    ))
