"""De minimis check of intervention approval with worked examples: the rolling three-year window of
2023/2831 and its edges, 1407/2013 before 2024 (fiscal years, road freight), the single undertaking
over control links and mergers, statuses that count, the ceiling — and that the approval page's
check is the ledger's (the same figures as the award approval writes, and as the bulk headroom)."""

import datetime as dt
from decimal import Decimal

import pytest

from sim.companies.tests.factories import CompanyFactory, OwnershipLinkFactory
from sim.programmes import aid
from sim.programmes.models import InterventionStatus
from sim.stateaid.tests.factories import AidAwardFactory, ExchangeRateFactory

from .routing_builders import english_settings, make_intervention, make_project

D = Decimal
ON = dt.date(2025, 6, 15)


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


# --- Pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(("on", "after"), [
    (dt.date(2025, 6, 15), dt.date(2022, 6, 15)),
    (dt.date(2025, 1, 1), dt.date(2022, 1, 1)),
    (dt.date(2028, 2, 29), dt.date(2025, 2, 28)),  # no 29 February in 2025
    (dt.date(2027, 2, 28), dt.date(2024, 2, 28)),
])
def test_window_starts_on_the_same_calendar_date_three_years_earlier(on, after):
    assert aid.window_after(on) == after


@pytest.mark.parametrize(("granted", "counted"), [
    (dt.date(2022, 6, 14), False),
    (dt.date(2022, 6, 15), False),  # the same date three years earlier: outside
    (dt.date(2022, 6, 16), True),   # the day after: inside
    (dt.date(2024, 1, 1), True),
    (dt.date(2025, 6, 15), True),   # the day of the new award: inside
    (dt.date(2025, 6, 16), False),  # later awards do not count
])
def test_window_edges(granted, counted):
    assert aid.in_window(granted, ON) is counted


def test_leap_day_window():
    # A new award on 29 February 2028 counts awards from 1 March 2025.
    assert not aid.in_window(dt.date(2025, 2, 28), dt.date(2028, 2, 29))
    assert aid.in_window(dt.date(2025, 3, 1), dt.date(2028, 2, 29))
    # On 28 February 2027 an award of 29 February 2024 still counts.
    assert aid.in_window(dt.date(2024, 2, 29), dt.date(2027, 2, 28))


@pytest.mark.parametrize(("used", "proposed", "allowed", "headroom"), [
    (D(0), D(300000), True, D(300000)),            # the ceiling itself may be reached
    (D(250000), D(50000), True, D(50000)),
    (D(250000), D("50000.01"), False, D(50000)),   # one cent over: no part of it
    (D("299999.99"), D("0.01"), True, D("0.01")),
    (D(310000), D(1), False, D(0)),                # already over (older rules): headroom never negative
    (D(0), D("300000.01"), False, D(300000)),
])
def test_decision(used, proposed, allowed, headroom):
    assert aid.deminimis_decision(used, proposed) == (allowed, headroom)


# --- Against the database -------------------------------------------------------------------


@pytest.fixture
def rate(db):
    return ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=D("10"))  # EUR 1 = SEK 10: readable examples


@pytest.fixture
def project(rate):
    return make_project(budget=D("100000000"))


def award(project, company, sek, on, status=InterventionStatus.APPROVED, **kwargs):
    return make_intervention(project, company, status=status, budget=D(sek), aid=D(sek), approved_on=on,
                             is_state_aid=kwargs.pop("is_state_aid", True), **kwargs)


def test_worked_example_fits_exactly_then_one_krona_too_much(project):
    company = CompanyFactory()
    award(project, company, 2_000_000, dt.date(2023, 1, 10))  # EUR 200,000
    fits = aid.check_deminimis(company, D(1_000_000), ON)  # EUR 100,000 → exactly EUR 300,000
    assert fits.allowed
    assert (fits.used_eur, fits.proposed_eur, fits.headroom_eur) == (D("200000.00"), D("100000.00"), D("100000.00"))
    assert fits.ceiling_eur == D(300000)
    assert fits.members == (company.pk,)
    assert "EUR 0.00 remains" in fits.message

    too_much = aid.check_deminimis(company, D("1000000.10"), ON)  # EUR 100,000.01
    assert not too_much.allowed
    assert too_much.headroom_eur == D("100000.00")
    assert "no part of it may be granted" in too_much.message
    assert "would exceed the ceiling by EUR 0.01" in too_much.message


def test_awards_at_the_window_edges(project):
    company = CompanyFactory()
    award(project, company, 1_000_000, dt.date(2022, 6, 15))  # same date three years earlier: not counted
    award(project, company, 500_000, dt.date(2022, 6, 16))    # the day after: counted
    award(project, company, 700_000, dt.date(2025, 6, 16))    # after the new award: not counted
    check = aid.check_deminimis(company, D(0), ON)
    assert check.used_eur == D("50000.00")
    assert [a.granted_on for a in check.awards] == [dt.date(2022, 6, 16)]
    # A day later the award of 16 June 2022 has left the window too.
    assert aid.check_deminimis(company, D(0), dt.date(2025, 6, 16)).used_eur == D("70000.00")


def test_single_undertaking_follows_control_links_in_both_directions_and_any_depth(project):
    company = CompanyFactory(name="Dotterbolaget AB")
    parent = CompanyFactory(name="Moderbolaget AB")
    sister = CompanyFactory(name="Systerbolaget AB")
    grandchild = CompanyFactory(name="Barnbarnet AB")
    by_agreement = CompanyFactory(name="Avtalsstyrt AB")
    partner = CompanyFactory(name="Delägaren AB")
    OwnershipLinkFactory(holder=parent, held=company, capital_pct=D(60), voting_pct=D(60))
    OwnershipLinkFactory(holder=parent, held=sister, capital_pct=D(51), voting_pct=D("50.01"))
    OwnershipLinkFactory(holder=sister, held=grandchild, capital_pct=D(100), voting_pct=D(100))
    # Control by shareholder agreement without a majority of the votes.
    OwnershipLinkFactory(holder=company, held=by_agreement, capital_pct=D(40), voting_pct=D(40), controls=True)
    # A partner holding 50 % exactly (not more): not linked.
    OwnershipLinkFactory(holder=partner, held=company, capital_pct=D(50), voting_pct=D(50))

    members = aid.single_undertaking(company)
    assert set(members) == {company.pk, parent.pk, sister.pk, grandchild.pk, by_agreement.pk}
    assert partner.pk not in members

    award(project, grandchild, 1_500_000, dt.date(2024, 3, 1))   # EUR 150,000 to a member
    award(project, by_agreement, 1_000_000, dt.date(2023, 9, 1))  # EUR 100,000 to a member
    award(project, partner, 2_900_000, dt.date(2024, 3, 1))      # the partner's aid is its own

    check = aid.check_deminimis(company, D(600_000), ON)  # EUR 60,000
    assert check.used_eur == D("250000.00")
    assert check.headroom_eur == D("50000.00")
    assert not check.allowed
    assert "(5 companies)" in check.message and "Regulation 2023/2831" in check.message
    # The members are named in the message and listed on the check.
    assert check.member_names == tuple(sorted(
        (f"{c.name} ({c.org_number_display})" for c in (company, parent, sister, grandchild, by_agreement)),
        key=lambda label: label))
    for name in ("Dotterbolaget AB", "Moderbolaget AB", "Systerbolaget AB", "Barnbarnet AB", "Avtalsstyrt AB"):
        assert name in check.message
    assert "Delägaren AB" not in check.message
    # The same group seen from the sister: the same figures.
    assert aid.check_deminimis(sister, D(0), ON).used_eur == D("250000.00")
    # The partner alone has EUR 290,000 of its own.
    assert aid.check_deminimis(partner, D(100_000), ON).allowed
    assert not aid.check_deminimis(partner, D(100_010), ON).allowed


@pytest.mark.parametrize(("status", "counted"), [
    (InterventionStatus.DRAFT, False),
    (InterventionStatus.APPROVED, True),
    (InterventionStatus.IN_PROGRESS, True),
    (InterventionStatus.DELIVERED, True),
    (InterventionStatus.CLOSED, True),
    (InterventionStatus.CANCELLED, False),
])
def test_which_statuses_count(project, status, counted):
    company = CompanyFactory()
    award(project, company, 1_000_000, dt.date(2024, 1, 1), status=status)
    assert aid.check_deminimis(company, D(0), ON).used_eur == (D("100000.00") if counted else D(0))


def test_aid_that_is_not_state_aid_or_has_no_amount_is_not_counted(project):
    company = CompanyFactory()
    award(project, company, 1_000_000, dt.date(2024, 1, 1), is_state_aid=False)
    make_intervention(project, company, status=InterventionStatus.APPROVED, aid=None, approved_on=dt.date(2024, 1, 1))
    assert aid.check_deminimis(company, D(0), ON).used_eur == D(0)


def test_an_intervention_can_be_left_out_of_its_own_check(project):
    company = CompanyFactory()
    counted = award(project, company, 2_000_000, dt.date(2024, 1, 1))
    assert aid.check_deminimis(company, D(0), ON).used_eur == D("200000.00")
    assert aid.check_deminimis(company, D(0), ON, exclude_intervention=counted.pk).used_eur == D(0)


def test_headroom_in_sek(project):
    company = CompanyFactory()
    assert aid.deminimis_headroom_sek(company, ON) == D("3000000.00")
    award(project, company, 1_234_567, dt.date(2024, 1, 1))  # EUR 123,456.70
    assert aid.deminimis_headroom_sek(company, ON) == D("1765433.00")
    award(project, company, 2_000_000, dt.date(2024, 2, 1))  # over the ceiling in total
    assert aid.deminimis_headroom_sek(company, ON) == D("0.00")


def test_conversion_rounds_to_cents_at_the_rate_of_the_date(project):
    ExchangeRateFactory(date=dt.date(2024, 1, 1), sek_per_eur=D("11.0"))
    company = CompanyFactory()
    award(project, company, 1_000_000, dt.date(2024, 1, 1))
    check = aid.check_deminimis(company, D(1), ON)
    assert check.used_eur == D("90909.09")
    assert check.proposed_eur == D("0.09")
    # An award keeps the rate it was granted at; a new rate counts for later dates only.
    ExchangeRateFactory(date=dt.date(2025, 6, 1), sek_per_eur=D("12.5"))
    assert aid.check_deminimis(company, D(125), ON).used_eur == D("90909.09")
    assert aid.check_deminimis(company, D(125), ON).proposed_eur == D("10.00")
    assert aid.sek_per_eur(dt.date(2025, 5, 31)) == D("11.0")


def test_declared_aid_and_revocations_in_the_ledger_count_as_they_stand(project):
    company = CompanyFactory()
    declared = AidAwardFactory(undertaking=company, granted_on=dt.date(2024, 5, 1), amount_eur=D("50000"), declared=True,
                    granting_authority="Tillväxtverket")
    revoked = AidAwardFactory(undertaking=company, granted_on=dt.date(2024, 6, 1), amount_eur=D("70000"))
    AidAwardFactory(undertaking=company, granted_on=dt.date(2024, 6, 1), amount_eur=D("70000"), status="revoked",
                    reverses=revoked, revoked_on=dt.date(2024, 7, 1))
    AidAwardFactory(undertaking=company, granted_on=dt.date(2024, 6, 1), amount_eur=D("90000"), status="proposed")
    check = aid.check_deminimis(company, D(0), ON)
    assert check.used_eur == D("50000.00")
    assert [a.source for a in check.awards] == [f"award:{declared.pk}"]


def test_without_a_rate_nothing_is_allowed_and_headroom_is_unknown(db):
    ExchangeRateFactory(date=dt.date(2025, 7, 1), sek_per_eur=D("11"))  # only after the date asked about
    company = CompanyFactory()
    check = aid.check_deminimis(company, D(1), ON)
    assert not check.allowed
    assert "exchange rate" in check.message
    assert aid.deminimis_headroom_sek(company, ON) is None


# --- One implementation: the ledger's check -------------------------------------------------


def test_before_2024_regulation_1407_2013_with_the_undertakings_fiscal_year_and_road_freight(project):
    from sim.stateaid.models import UndertakingProfile

    company = CompanyFactory(name="Åkeriet AB")
    on = dt.date(2023, 5, 10)  # current fiscal year from 2022-07-01: counted from 2020-07-01
    award(project, company, 300_000, dt.date(2020, 6, 30))  # EUR 30,000, the day before the window
    award(project, company, 400_000, dt.date(2020, 7, 1))   # EUR 40,000, its first day
    award(project, company, 500_000, dt.date(2023, 5, 10))  # EUR 50,000, the day itself

    calendar = aid.check_deminimis(company, D(0), on)  # no profile: calendar years from 2021-01-01
    assert (calendar.regulation, calendar.ceiling_eur) == ("1407/2013", D(200000))
    assert calendar.window_after == dt.date(2020, 12, 31) and calendar.window_to == on
    assert calendar.used_eur == D("50000.00")

    UndertakingProfile.objects.create(company=company, road_freight=True, fiscal_year_start="07-01")
    check = aid.check_deminimis(company, D(100_000), on)  # EUR 10,000 more: 100,000 exactly
    assert (check.regulation, check.ceiling_eur) == ("1407/2013", D(100000))
    assert check.window_after == dt.date(2020, 6, 30)
    assert check.used_eur == D("90000.00") and check.headroom_eur == D("10000.00")
    assert check.allowed
    assert "Regulation 1407/2013" in check.message
    assert not aid.check_deminimis(company, D("100000.10"), on).allowed
    assert aid.deminimis_headroom_sek(company, on) == D("100000.00")
    # From 2024 the same undertaking is under 2023/2831: EUR 300,000, road freight or not.
    later = aid.check_deminimis(company, D(0), dt.date(2024, 1, 1))
    assert (later.regulation, later.ceiling_eur, later.used_eur) == ("2023/2831", D(300000), D("50000.00"))


def test_aid_of_a_company_merged_into_a_member_counts(project, rate):
    from sim.companies.services import company_merge

    survivor = CompanyFactory(name="Sammanslagna AB")
    absorbed = CompanyFactory(name="Uppköpta AB")
    award(project, absorbed, 2_000_000, dt.date(2024, 2, 1))  # EUR 200,000 before the merger
    company_merge(None, survivor, absorbed)
    survivor.refresh_from_db()
    check = aid.check_deminimis(survivor, D(1_000_010), ON)
    assert check.members == tuple(sorted((survivor.pk, absorbed.pk)))
    assert check.used_eur == D("200000.00") and check.headroom_eur == D("100000.00")
    assert not check.allowed
    assert "Uppköpta AB" in check.message
    assert aid.deminimis_headroom_sek(survivor, ON) == D("1000000.00")


@pytest.mark.parametrize("on", [ON, dt.date(2023, 5, 10)])
def test_the_page_shows_what_approval_decides(project, on):
    """The approval page's check and the ledger check at approval give the same figures and decision."""
    from sim.stateaid import services as ledger
    from sim.stateaid.models import UndertakingProfile

    parent, company = CompanyFactory(name="Koncernen AB"), CompanyFactory(name="Verkstaden AB")
    OwnershipLinkFactory(holder=parent, held=company, capital_pct=D(100), voting_pct=D(100))
    UndertakingProfile.objects.create(company=company, road_freight=True, fiscal_year_start="09-01")
    award(project, parent, 850_000, dt.date(2022, 10, 1))  # EUR 85,000
    for amount in (D(0), D("150000.00"), D("150000.10"), D("2150000.00"), D("2150000.10")):
        page = aid.check_deminimis(company, amount, on)
        approval = ledger.check_amount(company, on, amount_sek=amount)
        result = approval.result
        assert (page.allowed, page.regulation, page.ceiling_eur, page.used_eur, page.proposed_eur, page.headroom_eur) == (
            result.allowed, result.regulation, result.ceiling_eur, result.used_eur, result.proposed_eur,
            result.headroom_eur)
        assert (page.window_after, page.window_to) == (result.window.after, result.window.end)
        assert page.members == result.members and list(page.member_names) == approval.member_labels
        assert page.explanation == tuple(approval.explanation)
    # Under 1407/2013 road freight EUR 15,000 is what is left; under 2023/2831 EUR 215,000.
    assert aid.check_deminimis(company, D("150000.00"), on).allowed
    assert aid.check_deminimis(company, D("150000.10"), on).allowed is (on == ON)
    assert aid.check_deminimis(company, D("2150000.00"), on).allowed is (on == ON)
    assert not aid.check_deminimis(company, D("2150000.10"), on).allowed


def test_approval_follows_the_page(project, make_user):
    """An intervention the page refuses is refused by approval; one it allows is approved and in the ledger."""
    from sim.core.roles import Role
    from sim.programmes import services
    from sim.stateaid.models import AidAward, UndertakingProfile

    advisor = make_user(Role.ADVISOR)
    project = make_project(advisor, budget=D("100000000"))
    company = CompanyFactory()
    UndertakingProfile.objects.create(company=company, road_freight=True)
    on = dt.date(2023, 6, 1)  # 1407/2013, road freight: EUR 100,000
    award(project, company, 900_000, dt.date(2022, 3, 1))  # EUR 90,000
    refused = make_intervention(project, company, aid=D("100000.10"))
    assert not services.intervention_approval_check(refused, on).aid.allowed
    with pytest.raises(services.ApprovalRefused):
        services.intervention_approve(advisor, refused, on=on)
    fits = make_intervention(project, company, aid=D("100000.00"))
    assert services.intervention_approval_check(fits, on).aid.allowed
    services.intervention_approve(advisor, fits, on=on)
    assert AidAward.objects.get(intervention=fits).regulation == "1407/2013"


def test_a_negative_amount_is_refused_with_a_clear_message(project):
    check = aid.check_deminimis(CompanyFactory(), D(-1), ON)
    assert not check.allowed and "0 or more" in check.message


# --- Bulk headroom (recommendations) --------------------------------------------------------


def test_bulk_headroom_equals_the_ledger_check_with_mergers_and_without_per_company_queries(project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sim.companies.services import company_merge
    from sim.companies.tests.factories import OwnershipLinkFactory as Link
    from sim.programmes import recommendations

    plain = [CompanyFactory() for _ in range(recommendations.HEADROOM_BULK_FROM)]
    survivor, absorbed = CompanyFactory(name="Köparen AB"), CompanyFactory(name="Säljaren AB")
    parent, child, child_absorbed = CompanyFactory(), CompanyFactory(), CompanyFactory()
    Link(holder=parent, held=child, capital_pct=D(100), voting_pct=D(100))
    award(project, absorbed, 1_000_000, dt.date(2024, 2, 1))        # EUR 100,000 to the survivor's undertaking
    award(project, child_absorbed, 500_000, dt.date(2024, 2, 1))    # EUR 50,000 to the group's
    award(project, plain[0], 250_000, dt.date(2024, 2, 1))
    company_merge(None, survivor, absorbed)
    company_merge(None, child, child_absorbed)
    ids = [c.pk for c in [*plain, survivor, parent, child]]
    with CaptureQueriesContext(connection) as queries:
        bulk = recommendations.headroom_for(ids, ON)
    more = [CompanyFactory().pk for _ in range(recommendations.HEADROOM_BULK_FROM)]
    with CaptureQueriesContext(connection) as more_queries:
        recommendations.headroom_for(ids + more, ON)
    assert len(more_queries) == len(queries)  # not one query more for 50 companies more
    one_by_one = {pk: aid.deminimis_headroom_sek(CompanyFactory._meta.model.objects.get(pk=pk), ON) for pk in ids}
    assert bulk == one_by_one
    assert bulk[survivor.pk] == D("2000000.00")
    assert bulk[parent.pk] == bulk[child.pk] == D("2500000.00")
    assert bulk[plain[0].pk] == D("2750000.00") and bulk[plain[1].pk] == D("3000000.00")


def test_bulk_headroom_before_2024_is_the_ledger_check_of_each_undertaking(project):
    from sim.programmes import recommendations
    from sim.stateaid.models import UndertakingProfile

    companies = [CompanyFactory() for _ in range(recommendations.HEADROOM_BULK_FROM)]
    on = dt.date(2023, 5, 10)
    UndertakingProfile.objects.create(company=companies[0], road_freight=True, fiscal_year_start="07-01")
    award(project, companies[0], 400_000, dt.date(2020, 7, 1))
    award(project, companies[1], 400_000, dt.date(2020, 7, 1))  # calendar years: outside
    assert aid.granted_aid([c.pk for c in companies], aid.window_after(on), on) is None  # not summable in bulk
    bulk = recommendations.headroom_for([c.pk for c in companies], on)
    assert bulk == {c.pk: aid.deminimis_headroom_sek(c, on) for c in companies}
    assert bulk[companies[0].pk] == D("600000.00") and bulk[companies[1].pk] == D("2000000.00")
