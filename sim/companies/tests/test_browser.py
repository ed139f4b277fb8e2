"""Browser journey: an advisor finds a company and reads its SME class and history."""

from decimal import Decimal

import pytest

from sim.companies import services
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_advisor_searches_opens_company_and_sees_sme_class_and_history(page, live_server):
    advisor = UserFactory(username="anna", role=Role.ADVISOR, first_name="Anna", last_name="Berg")
    company = services.company_create(
        advisor,
        {"org_number": "556036-0793", "name": "Storsjöns Mekaniska AB", "sni_primary": "25.620", "municipality": "2380"},
    )
    services.key_figures_set(advisor, company, 2023, {"staff_awu": Decimal("8"), "turnover_sek": Decimal("15000000"), "balance_sheet_sek": Decimal("9000000")})
    services.key_figures_set(advisor, company, 2024, {"staff_awu": Decimal("14"), "turnover_sek": Decimal("30000000"), "balance_sheet_sek": Decimal("12000000")})
    services.company_update(advisor, company, {"website": "https://storsjons-mekaniska.se"})

    page.goto("/accounts/login/")
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill("correct-horse-battery")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("link", name="Företag", exact=True).first.click()

    page.get_by_label("Namn eller organisationsnummer").fill("sjöns meka")
    result = page.locator("#company-results").get_by_role("link", name="Storsjöns Mekaniska AB")
    result.wait_for()
    assert page.locator("#result-count").inner_text().startswith("1 ")
    result.click()

    page.get_by_role("heading", name="Storsjöns Mekaniska AB", level=1).wait_for()
    assert "Mikro" in page.locator("#sme-category").inner_text()
    explanation = page.locator(".sme-explanation").inner_text()
    assert "2024" in explanation
    history = page.locator("#history").inner_text()
    assert "anna" in history
    assert "storsjons-mekaniska.se" in history
