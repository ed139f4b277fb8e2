"""The "Recommended offers" section of the company page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.sections import CompanySection, register_company_section

from . import recommendations
from .projects import current_project


def company_recommendations_context(request, company) -> dict | None:
    """The current project's open offers for this company: eligible ranked by fit, then the
    ineligible ones with their reasons (each list cut at ``SECTION_LIMIT``, with a link to all)."""
    user = request.user
    if not (user.has_perm("programmes.view_offer") and user.has_perm("companies.view_company")):
        return None
    project = current_project(request)
    if project is None:
        return {"company": company, "project": None, "result": None}
    result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
    limit = recommendations.SECTION_LIMIT
    return {
        "company": company,
        "project": project,
        "result": result,
        "eligible": result.rows(result.eligible, limit),
        "ineligible": result.rows(result.ineligible, limit),
        "more": len(result.eligible) > limit or len(result.ineligible) > limit,
    }


def register() -> None:
    register_company_section(CompanySection(
        key="recommendations", label=lambda: str(_("Recommended offers")),
        template="programmes/_company_recommendations.html", context=company_recommendations_context, order=30,
    ))
