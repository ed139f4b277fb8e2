"""De minimis check (Regulation (EU) 2023/2831) with worked examples: the rolling three-year window,
its edges, the single undertaking over control links, statuses that count, and the ceiling."""

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
    assert "(5 companies)" in check.message
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
