"""Browser journey: an advisor types a company's competence need, picks the suggested occupation,
and sees it counted in the county's anonymised demand report."""

import re

import pytest
from playwright.sync_api import expect

from sim.companies.tests.factories import CompanyFactory
from sim.competence import selectors, services
from sim.competence.models import CompetenceNeed, Concept
from sim.competence.tests.factories import load_default_taxonomy
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WELDER = "https://sim-platform.eu/taxonomy/occupation/welder-mig-mag"


@pytest.fixture
def taxonomy(monkeypatch):
    """The shipped default taxonomy, and the real matcher when it is installed (else a stand-in
    that suggests concepts whose labels share a word with the text)."""
    load_default_taxonomy()
    try:
        from sim.competence import matching  # noqa: F401
    except ImportError:
        from sim.competence.tests.demand_world import fake_matcher

        concepts = list(Concept.objects.filter(kind="occupation"))
        monkeypatch.setattr(selectors, "_matcher", lambda: fake_matcher(concepts))
    selectors.suggestions("svetsare")  # builds the matcher's index (embeddings) before the browser waits for it
    return Concept.objects.get(uri=WELDER)


def log_in(page, username="anna"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_advisor_records_a_need_and_sees_it_in_the_county_report(page, live_server, taxonomy):
    welder = taxonomy
    anna = UserFactory(username="anna", role=Role.ADVISOR)
    # Three other companies in the county already need MIG/MAG welders (2 each): with ours, four.
    for _ in range(3):
        services.need_create(anna, CompanyFactory(municipality_id="2380"), text="MAG-svetsare", people=2, concept_ids=[welder.pk])
    company = CompanyFactory(name="Storsjöns Svets AB", municipality_id="2380")

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    log_in(page)
    page.goto(f"/companies/{company.pk}/")
    section = page.locator("#competence")
    expect(section.get_by_role("heading", name="Competence needs")).to_be_visible()
    section.get_by_role("link", name="New competence need").click()
    page.wait_for_url(re.compile(rf"/competence/companies/{company.pk}/needs/new/$"))

    # Typing asks for suggestions (HTMX); the advisor ticks the suggested occupation.
    with page.expect_response(re.compile(r"/competence/suggest/\?.*text="), timeout=60_000):
        page.get_by_label("Need, in the company's words").press_sequentially("två svetsare MIG/MAG", delay=20)
    suggestion = page.locator("#concept-picker").get_by_label(re.compile("MIG/MAG welder"))
    expect(suggestion).to_be_visible()
    suggestion.check()
    page.get_by_label("Number of people").fill("2")
    page.get_by_label("Time horizon").select_option("6-12")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(re.compile(rf"/companies/{company.pk}/#competence$"))
    expect(page.locator(".messages")).to_contain_text("The competence need was saved.")
    row = page.locator("#competence tbody tr", has_text="två svetsare MIG/MAG")
    expect(row).to_contain_text("MIG/MAG welder")
    need = CompetenceNeed.objects.get(company=company)
    assert list(need.concepts.all()) == [welder]

    # The county report (Jämtland) counts it: 3 × 2 + 2 people from four companies.
    page.get_by_role("link", name="Competence demand").click()
    page.get_by_label("Area").select_option("c:23")
    page.get_by_role("button", name="Show").click()
    report_row = page.locator("#demand-heading + .table-wrap tbody tr, table[aria-labelledby='demand-heading'] tbody tr").filter(
        has_text="MIG/MAG welder").first
    expect(report_row.locator("td").first).to_have_text("8")
    expect(page.locator("main")).not_to_contain_text("Storsjöns Svets AB")
