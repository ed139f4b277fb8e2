"""Browser journey: an advisor opens a company with a completed growth interview, sees the offers
ranked with their explanations, refers the company to one, and moves the referral to started on
the pipeline board (with the mouse, then with the keyboard)."""

import re

import pytest
from playwright.sync_api import expect

from sim.assessments.models import Need, NeedStatus
from sim.assessments.tests.helpers import GROWTH, completed_assessment
from sim.companies.tests.factories import CompanyFactory
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory
from sim.programmes.models import FocusArea, Referral, ReferralStatus

from .routing_builders import make_offer, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username="anna"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_advisor_refers_a_company_from_its_recommendations_and_starts_it_on_the_board(page, live_server):
    anna = UserFactory(username="anna", role=Role.ADVISOR, first_name="Anna", last_name="Berg")
    project = make_project(anna, name="SIM Fortsättning", code="sim2")
    project.focus_areas.set(FocusArea.objects.all())
    company = CompanyFactory(name="Storsjöns Mekaniska AB", size_class="small", sni_primary="25620",
                             municipality_id="2380")
    # A completed growth interview with low scores: its derived needs drive the ranking.
    completed_assessment(anna, company, GROWTH, level=1)
    needs = Need.objects.filter(company=company, status=NeedStatus.OPEN).select_related("focus_area")
    assert needs.exists()
    need_area = next(n.focus_area for n in needs if n.focus_area_id)
    # A focus area none of the needs is in (an offer there ranks lower).
    other_area = FocusArea.objects.exclude(pk__in=needs.exclude(focus_area=None).values("focus_area")).first()
    fitting = make_offer(project, title="Lyftet för behovet", focus_areas=[need_area])
    if other_area is not None:
        make_offer(project, title="Erbjudande utan behov", focus_areas=[other_area])
    make_offer(project, title="Storföretagsprogram", focus_areas=[need_area], eligibility={"size_classes": ["large"]})

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    log_in(page)

    # The company page: ranked offers with explanations; the ineligible one separately, with its reason.
    page.goto(f"/companies/{company.pk}/")
    recommendations = page.locator("#recommendations")
    expect(recommendations.get_by_role("heading", name="Recommended offers")).to_be_visible()
    eligible = recommendations.locator("#recommendations-eligible")
    first_row = eligible.locator("tbody tr").first
    expect(first_row).to_contain_text("Lyftet för behovet")
    expect(first_row).to_contain_text("meets need")
    expect(first_row).to_contain_text(f"in focus area {need_area.name_en}")
    expect(first_row).to_contain_text("eligible")
    ineligible = recommendations.locator("#recommendations-ineligible")
    expect(ineligible).to_contain_text("Storföretagsprogram")
    expect(ineligible).to_contain_text("not eligible: size class small is not allowed")

    # Refer it to the best fit.
    first_row.get_by_role("link", name=re.compile("Refer")).click()
    page.wait_for_url(re.compile(rf"/programmes/referrals/new/{company.pk}/\?offer={fitting.pk}$"))
    expect(page.get_by_label("Offer")).to_have_value(str(fitting.pk))
    expect(page.get_by_label("Responsible advisor")).to_have_value(str(anna.pk))
    page.get_by_label("Notes").fill("Intresserade av automation i svetslinjen.")
    page.get_by_role("button", name="Refer").click()
    page.wait_for_url(re.compile(rf"/companies/{company.pk}/#routing$"))
    expect(page.locator(".messages")).to_contain_text("Storsjöns Mekaniska AB was referred to Lyftet för behovet.")
    routing = page.locator("#routing")
    expect(routing).to_contain_text("Lyftet för behovet")
    expect(routing).to_contain_text("Proposed")
    referral = Referral.objects.get(company=company, offer=fitting)
    assert (referral.status, referral.advisor, referral.project) == (ReferralStatus.PROPOSED, anna, project)

    # On to the board, through the referral's page.
    routing.get_by_role("link", name="Lyftet för behovet").click()
    page.get_by_role("link", name="Pipeline: SIM Fortsättning").click()
    page.wait_for_url(re.compile(rf"/programmes/pipeline/{project.pk}/$"))
    board = page.locator("#pipeline-board")
    proposed = board.locator("section", has=page.get_by_role("heading", name=re.compile("^Proposed")))
    card = proposed.locator(f"#referral-{referral.pk}")
    expect(card).to_contain_text("Storsjöns Mekaniska AB")
    expect(card).to_contain_text("Lyftet för behovet")
    # Completing or starting what was never accepted is not offered.
    expect(card.get_by_role("button", name=re.compile("Move to Started"))).to_have_count(0)

    # Mouse: accept. The board is swapped in place and the moved card has the focus.
    card.get_by_role("button", name=re.compile("Move to Accepted")).click()
    expect(board.locator(".pipeline-notice")).to_contain_text("is now accepted")
    accepted = board.locator("section", has=page.get_by_role("heading", name=re.compile("^Accepted")))
    moved = accepted.locator(f"#referral-{referral.pk}")
    expect(moved).to_be_visible()
    expect(moved).to_be_focused()
    expect(proposed.locator(f"#referral-{referral.pk}")).to_have_count(0)

    # Keyboard: Tab from the focused card to its "Move to Started" button and press Enter.
    start_button = moved.get_by_role("button", name=re.compile("Move to Started"))
    for _step in range(6):
        if start_button.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(start_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(board.locator(".pipeline-notice")).to_contain_text("is now started")
    started = board.locator("section", has=page.get_by_role("heading", name=re.compile("^Started")))
    expect(started.locator(f"#referral-{referral.pk}")).to_be_visible()
    expect(started).to_contain_text("Storsjöns Mekaniska AB")

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.STARTED
    assert referral.accepted_on is not None and referral.started_on is not None

    # The company's timeline shows every step.
    page.goto(f"/companies/{company.pk}/#routing")
    timeline = page.locator(".routing-timeline")
    expect(timeline).to_contain_text("Referral to Lyftet för behovet: Started")
    expect(timeline).to_contain_text("Referral to Lyftet för behovet: Accepted")
    expect(timeline).to_contain_text("Referral to Lyftet för behovet: Proposed")
