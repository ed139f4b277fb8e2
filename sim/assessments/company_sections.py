"""The assessment and growth-plan sections of the company page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.sections import CompanySection, register_company_section

from . import selectors


def _assessments_context(request, company) -> dict | None:
    user = request.user
    if not user.has_perm("assessments.view_assessment"):
        return None
    return {
        "company": company,
        "assessments": selectors.assessments_of(user, company),
        "instruments": selectors.published_instruments() if user.has_perm("assessments.add_assessment") else [],
    }


def _growth_context(request, company) -> dict | None:
    user = request.user
    if not user.has_perm("assessments.view_growthplan"):
        return None
    return {
        "company": company,
        "needs": selectors.needs_of(user, company),
        "plans": selectors.growth_plans_visible_to(user).filter(company=company).order_by("-created_at"),
    }


def register() -> None:
    register_company_section(CompanySection(
        key="assessments", label=lambda: str(_("Growth interviews and assessments")),
        template="assessments/_company_assessments.html", context=_assessments_context, order=10,
    ))
    register_company_section(CompanySection(
        key="growth", label=lambda: str(_("Needs and growth plans")),
        template="assessments/_company_growth.html", context=_growth_context, order=20,
    ))
