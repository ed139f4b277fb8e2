"""Browser journey: an advisor runs a digital maturity assessment from the company page to the results."""

import re

import pytest
from playwright.sync_api import expect

from sim.assessments import services
from sim.assessments.models import Assessment, AssessmentStatus
from sim.companies.tests.factories import CompanyFactory
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The required question of each section after the first, and the option the advisor picks.
REQUIRED = {
    "digital_business_strategy": "#q-dbs_strategy-3",
    "digital_readiness": "#q-dr_technologies-0",
    "human_centric_digitalisation": None,  # answered with the keyboard below
    "data_management": "#q-da_storage-2",
    "automation_and_ai": "#q-ai_production-2",
    "green_digitalisation": "#q-gd_monitoring-4",
}


def log_in(page, username="anna"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_advisor_starts_fills_in_and_completes_a_digital_maturity_assessment(page, live_server):
    UserFactory(username="anna", role=Role.ADVISOR, first_name="Anna", last_name="Berg")
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    # The UI in English (the Swedish translations of these pages come later).
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])

    log_in(page)

    page.goto(f"/companies/{company.pk}/")
    section = page.locator("#assessments")
    section.get_by_label("Instrument").select_option("digital-maturity")
    section.get_by_label("Phase").select_option("t0")
    section.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Digital maturity", level=1).wait_for()
    assessment = Assessment.objects.get(company=company)
    assert page.url.endswith(f"/assessments/{assessment.pk}/")

    # First section: one question, answered by clicking its radio; saved as you go.
    progress = page.locator("#progress-respondent")
    expect(progress).to_contain_text("0/1")
    page.get_by_label("Owner or managing director").check()
    expect(page.locator("#feedback-dm_role")).to_contain_text("Saved")
    expect(progress).to_contain_text("1/1")
    expect(page.locator("#assessment-progress-total")).to_contain_text("1 of")

    # The remaining sections: answer the required question, watch the section turn complete.
    for section_id, option in REQUIRED.items():
        page.locator(".assessment-pager").get_by_role("link", name=re.compile("Next section")).click()
        page.wait_for_url(re.compile(rf"/section/{section_id}/$"))
        item = page.locator(f"#progress-{section_id}")
        expect(item).to_contain_text("1 required missing")
        if option is None:
            # Keyboard only: focus the first level, then move with the arrow key.
            page.locator("#q-hc_skills-0").focus()
            page.keyboard.press("Space")
            page.keyboard.press("ArrowDown")
            expect(page.locator("#q-hc_skills-1")).to_be_checked()
            question = "hc_skills"
        else:
            page.locator(option).check()
            question = option.split("-")[1]
        expect(page.locator(f"#feedback-{question}")).to_contain_text("Saved")
        expect(item).to_contain_text("complete")
        expect(item).not_to_contain_text("required missing")

    expect(page.locator("#assessment-progress-total")).to_contain_text("All required questions answered")

    # If the session ends, a change says it was not saved (instead of showing the login form).
    page.context.clear_cookies(name="sessionid")
    page.locator("#q-gd_monitoring-5").check()
    expect(page.locator("#feedback-gd_monitoring")).to_contain_text("you have been logged out")
    expect(page.locator("#feedback-gd_monitoring form")).to_have_count(0)
    log_in(page)
    assessment.refresh_from_db()
    assert assessment.answers["gd_monitoring"] == 4  # the change made while logged out was not saved
    assert assessment.answers["hc_skills"] == 1
    assert assessment.answers["dr_technologies"] == ["erp"]

    # Leaving and coming back loses nothing.
    page.goto(f"/assessments/{assessment.pk}/section/digital_business_strategy/")
    expect(page.locator("#q-dbs_strategy-3")).to_be_checked()

    page.get_by_role("link", name="Complete…").click()
    expect(page.get_by_text("All required questions are answered.")).to_be_visible()
    page.get_by_role("button", name="Complete and score").click()
    page.wait_for_url(re.compile(rf"/assessments/{assessment.pk}/results/$"))
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.COMPLETED
    assert assessment.overall_score is not None

    # The results: the radar chart (with its data table), then a growth plan and its PDF.
    radar = page.locator("svg[role=img]").first
    expect(radar).to_be_visible()
    assert radar.locator("polygon").count() >= 1
    expect(page.locator("table").first).to_contain_text("Digital business strategy")
    page.get_by_role("button", name="Draft a growth plan from these needs").click()
    page.wait_for_url(re.compile(r"/assessments/plans/\d+/$"))
    expect(page.locator("main")).to_contain_text("Storsjöns Mekaniska AB")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF in English").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_company_answers_through_its_personal_link_without_an_account(page, live_server):
    advisor = UserFactory(username="anna", role=Role.ADVISOR)
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    assessment = services.assessment_start(advisor, company, "digital-maturity")
    services.assessment_set_details(advisor, assessment, notes="Hemlig anteckning")
    _link, url = services.self_assessment_invite(advisor, assessment, email="karin@example.se", base_url=live_server.url)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])

    page.goto(url)
    page.get_by_role("heading", name="Digital maturity", level=1).wait_for()
    expect(page.get_by_text("Storsjöns Mekaniska AB")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main menu")).to_have_count(0)
    assert "Hemlig anteckning" not in page.content()
    page.get_by_label("IT or digitalisation").check()  # saved as you go, CSRF header and all
    expect(page.locator("#feedback-dm_role")).to_contain_text("Saved")
    expect(page.locator("#progress-respondent")).to_contain_text("1/1")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert assessment.answers == {"dm_role": "it_digital"}
    page.goto(url)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
