"""Browser journey: a finance officer approves an intervention that fits under the de minimis ceiling,
sees another refused with the figures (the whole single undertaking listed), and downloads the
certificate PDF of the granted award from the ledger."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sim.companies.tests.factories import CompanyFactory, OwnershipLinkFactory
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory
from sim.programmes.models import InterventionStatus
from sim.programmes.tests.routing_builders import make_intervention, make_project
from sim.stateaid.models import AidAward, AwardStatus

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_finance_officer_approves_one_intervention_sees_another_refused_and_downloads_the_certificate(page, live_server):
    today = timezone.localdate()
    officer = UserFactory(username="lars", role=Role.FINANCE_OFFICER, first_name="Lars", last_name="Mattsson")
    project = make_project(officer, budget=D(5_000_000), name="SIM Fortsättning", code="sim2")
    ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=D("11"))
    fits_company = CompanyFactory(name="Storsjöns Mekaniska AB")
    parent = CompanyFactory(name="Fjällkoncernen AB")
    child = CompanyFactory(name="Frostviken Plåt AB")
    OwnershipLinkFactory(holder=parent, held=child, voting_pct=D(80))
    # The group already has EUR 290,000 of de minimis aid, declared from another authority.
    AidAwardFactory(undertaking=parent, granted_on=today - dt.timedelta(days=200), amount_eur=D(290000),
                    declared=True, granting_authority="Tillväxtverket")
    fits = make_intervention(project, fits_company, title="Robotcell för svetsning", budget=D(330_000), aid=D(330_000))
    too_much = make_intervention(project, child, title="Ny pressline", budget=D(220_000), aid=D(220_000))

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    log_in(page, "lars")

    # The one that fits: EUR 30,000 of EUR 300,000.
    page.goto(f"/programmes/interventions/{fits.pk}/approve/")
    expect(page.locator("#approval-check-heading")).to_be_visible()
    expect(page.locator(".routing-ok").first).to_contain_text("fits")
    expect(page.locator(".aid-members")).to_contain_text(f"Storsjöns Mekaniska AB ({fits_company.org_number_display})")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(rf"/programmes/interventions/{fits.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("The intervention was approved.")
    fits.refresh_from_db()
    assert fits.status == InterventionStatus.APPROVED
    award = AidAward.objects.get(intervention=fits, status=AwardStatus.GRANTED)
    assert (award.amount_sek, award.amount_eur, award.sek_per_eur) == (D("330000.00"), D("30000.00"), D("11.0000"))

    # The one that does not: EUR 20,000 more to a group with EUR 290,000 → refused with the figures.
    page.goto(f"/programmes/interventions/{too_much.pk}/approve/")
    page.get_by_role("button", name="Approve").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The intervention cannot be approved")
    expect(summary).to_contain_text("EUR 290,000.00 of EUR 300,000.00")
    expect(summary).to_contain_text("would exceed the ceiling by EUR 10,000.00")
    expect(summary).to_contain_text("headroom EUR 10,000.00")
    members = page.locator(".aid-members")
    expect(members).to_contain_text(f"Fjällkoncernen AB ({parent.org_number_display})")
    expect(members).to_contain_text(f"Frostviken Plåt AB ({child.org_number_display})")
    too_much.refresh_from_db()
    assert too_much.status == InterventionStatus.DRAFT
    assert not AidAward.objects.filter(intervention=too_much).exists()

    # The ledger: the granted award and its certificate.
    page.get_by_role("link", name="De minimis").click()
    page.wait_for_url(re.compile(r"/stateaid/$"))
    page.get_by_role("link", name="Robotcell för svetsning").click()
    page.wait_for_url(re.compile(rf"/stateaid/awards/{award.pk}/$"))
    expect(page.locator("dl.facts")).to_contain_text("330,000.00")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Certificate (Swedish, PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"intyg-de-minimis-{award.pk}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
