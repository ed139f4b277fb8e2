"""Browser journey: a project manager opens the project overview from the menu, filters a period and
downloads the progress report as XLSX, whose figures are those on the page."""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from sim.core.roles import Role
from sim.core.tests.factories import UserFactory
from sim.reporting import services

from .builders import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_manager_filters_the_overview_and_downloads_the_xlsx(page, live_server, settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    maria = UserFactory(username="maria", role=Role.PROJECT_MANAGER)
    world = build_world()
    world["project"].memberships.create(user=maria)
    services.indicator_target_set(maria, world["project"].indicators.get(code="RCO01"), "6")

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Overview: Rapportprojektet")).to_be_visible()
    expect(page.locator("#overview-targets svg")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option(label="2024 Q2")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"period=2024-Q2"))
    expect(page.get_by_text("2024-04-01 – 2024-06-30")).to_be_visible()
    rco01 = page.locator('table[data-section="indicators"] tr', has_text="RCO01")
    on_screen = rco01.locator("td").nth(2).inner_text()
    assert on_screen == "1"

    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX in English").click()
    download = info.value
    assert download.suggested_filename == "lagesrapport-rapport-2024-04-01-2024-06-30-en.xlsx"
    with open(download.path(), "rb") as fh:
        workbook = load_workbook(io.BytesIO(fh.read()))
    sheet = workbook["Indicators"]
    values = {row[0]: row[3] for row in sheet.iter_rows(min_row=4, max_row=18, values_only=True)}
    assert values["RCO01"] == int(on_screen)
    assert values["RCO04"] == 1
