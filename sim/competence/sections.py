"""The competence-needs section of the company page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.sections import CompanySection, register_company_section


def register() -> None:
    from .views import company_competence_context

    register_company_section(CompanySection(
        key="competence", label=lambda: str(_("Competence needs")),
        template="competence/_company_needs.html", context=company_competence_context, order=25,
    ))
