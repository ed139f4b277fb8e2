"""The de minimis section of the company page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.sections import CompanySection, register_company_section


def register() -> None:
    from .views import company_ledger_context

    register_company_section(CompanySection(
        key="deminimis", label=lambda: str(_("De minimis aid")), template="stateaid/_company_section.html",
        context=company_ledger_context, order=60,
    ))
