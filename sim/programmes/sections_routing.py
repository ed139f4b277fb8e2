"""The routing section of the company page and the follow-ups panel of the start page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sim.companies.sections import CompanySection, register_company_section
from sim.core.home import HomePanel, register_home_panel


def register() -> None:
    from .views_routing import company_routing_context, home_routing_context

    register_company_section(CompanySection(
        key="routing", label=lambda: str(_("Referrals and interventions")),
        template="programmes/_company_routing.html", context=company_routing_context, order=40,
    ))
    register_home_panel(HomePanel(
        key="routing", template="programmes/_home_followups.html", context=home_routing_context, order=20,
    ))
