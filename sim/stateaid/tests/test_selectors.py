"""Reads of the ledger: rates, the single undertaking from the register, the check against the
ledger (both regulations, window edges), what each user may see and the ledger filters."""

import datetime as dt
from decimal import Decimal

import pytest

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory, OwnershipLinkFactory
from sim.core.roles import Role
from sim.programmes.tests.routing_builders import english_settings
from sim.stateaid import selectors
from sim.stateaid.models import AwardStatus

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


def test_the_rate_used_is_the_latest_on_or_before_the_date():
    ExchangeRateFactory(date=dt.date(2025, 1, 2), sek_per_eur=D("11.49"))
    ExchangeRateFactory(date=dt.date(2025, 2, 3), sek_per_eur=D("11.22"))
    assert selectors.rate_on_or_before(dt.date(2025, 1, 1)) is None
    assert selectors.rate_on_or_before(dt.date(2025, 1, 2)).sek_per_eur == D("11.49")
    assert selectors.rate_on_or_before(dt.date(2025, 2, 2)).sek_per_eur == D("11.49")
    assert selectors.rate_on_or_before(dt.date(2025, 2, 3)).sek_per_eur == D("11.22")
    assert selectors.rate_on_or_before(dt.date(2030, 1, 1)).sek_per_eur == D("11.22")


def test_single_undertaking_through_chains_of_control_links_and_mergers():
    parent, child, grandchild, sister, minority, agreement, absorbed, stranger = (CompanyFactory() for _ in range(8))
    OwnershipLinkFactory(holder=parent, held=child, voting_pct=D("50.01"))
    OwnershipLinkFactory(holder=child, held=grandchild, voting_pct=D(100))
    OwnershipLinkFactory(holder=parent, held=sister, voting_pct=D(70))
    OwnershipLinkFactory(holder=parent, held=minority, voting_pct=D(50))  # exactly half: no control
    OwnershipLinkFactory(holder=agreement, held=grandchild, voting_pct=D(10), controls=True)
    absorbed.merged_into = sister
    absorbed.save()
    group = {parent.pk, child.pk, grandchild.pk, sister.pk, agreement.pk, absorbed.pk}
    for member in (parent, grandchild, sister, agreement, absorbed):
        assert set(selectors.single_undertaking(member)) == group
    assert selectors.single_undertaking(minority) == (minority.pk,)
    assert selectors.single_undertaking(stranger.pk) == (stranger.pk,)


def test_worked_example_2023_2831_with_the_window_edges():
    company = CompanyFactory(name="Bruket AB")
    on = dt.date(2025, 6, 15)
    AidAwardFactory(undertaking=company, granted_on=dt.date(2022, 6, 15), amount_eur=D(90000))  # three years before: out
    AidAwardFactory(undertaking=company, granted_on=dt.date(2022, 6, 16), amount_eur=D(100000))  # the day after: in
    AidAwardFactory(undertaking=company, granted_on=dt.date(2025, 6, 15), amount_eur=D(50000), declared=True,
                    granting_authority="Tillväxtverket")  # the same day, declared: in
    AidAwardFactory(undertaking=company, granted_on=dt.date(2025, 6, 16), amount_eur=D(70000))  # later: out
    AidAwardFactory(undertaking=company, granted_on=dt.date(2024, 1, 1), amount_eur=D(80000),
                    status=AwardStatus.PROPOSED)  # a proposal does not count
    fits = selectors.ledger_check(company, on, D(150000))
    assert fits.result.regulation == "2023/2831"
    assert (fits.result.window.start, fits.result.window.end) == (dt.date(2022, 6, 16), on)
    assert (fits.result.used_eur, fits.result.headroom_eur, fits.allowed) == (D(150000), D(150000), True)
    over = selectors.ledger_check(company, on, D("150000.01"))
    assert not over.allowed
    assert "would exceed the ceiling by EUR 0.01" in over.message
    for figure in ("used EUR 150,000.00", "proposed EUR 150,000.01", "ceiling EUR 300,000.00",
                   "headroom EUR 150,000.00", "from 2022-06-16 to 2025-06-15", "Bruket AB ("):
        assert figure in over.message
    assert [m.pk for m in over.members] == [company.pk]


def test_worked_example_1407_2013_fiscal_years():
    company = CompanyFactory()
    on = dt.date(2023, 5, 10)  # before 2024: Regulation 1407/2013, calendar fiscal years 2021–2023
    AidAwardFactory(undertaking=company, granted_on=dt.date(2020, 12, 31), amount_eur=D(100000))  # out
    AidAwardFactory(undertaking=company, granted_on=dt.date(2021, 1, 1), amount_eur=D(120000))  # in
    AidAwardFactory(undertaking=company, granted_on=dt.date(2023, 5, 10), amount_eur=D(30000))  # in
    check = selectors.ledger_check(company, on, D(50000))
    assert check.result.regulation == "1407/2013"
    assert check.result.ceiling_eur == D(200000)
    assert check.result.window.start == dt.date(2021, 1, 1)
    assert (check.result.used_eur, check.allowed) == (D(150000), True)
    assert not selectors.ledger_check(company, on, D("50000.01")).allowed


def test_group_aid_and_revocations_in_the_check():
    parent, child = CompanyFactory(name="Moder AB"), CompanyFactory(name="Dotter AB")
    OwnershipLinkFactory(holder=parent, held=child, voting_pct=D(100))
    AidAwardFactory(undertaking=child, granted_on=dt.date(2025, 1, 10), amount_eur=D(200000))
    revoked = AidAwardFactory(undertaking=parent, granted_on=dt.date(2025, 2, 10), amount_eur=D(90000))
    AidAwardFactory(undertaking=parent, status=AwardStatus.REVOKED, reverses=revoked, granted_on=revoked.granted_on,
                    amount_eur=revoked.amount_eur, revoked_on=dt.date(2025, 3, 1))
    check = selectors.ledger_check(parent, dt.date(2025, 6, 1), D(100001))
    assert check.result.used_eur == D(200000)
    assert not check.allowed
    assert check.member_labels == [f"Dotter AB ({child.org_number_display})", f"Moder AB ({parent.org_number_display})"]
    assert "Dotter AB (" in check.message and "Moder AB (" in check.message


def test_an_intervention_can_be_left_out_of_its_own_check():
    from sim.programmes.tests.routing_builders import make_intervention, make_project

    ExchangeRateFactory()
    company = CompanyFactory()
    intervention = make_intervention(make_project(), company, status="approved", aid=D(1000000),
                                     approved_on=dt.date(2025, 1, 1))
    assert selectors.ledger_check(company, dt.date(2025, 6, 1), D(0)).result.used_eur == D(100000)
    assert selectors.ledger_check(company, dt.date(2025, 6, 1), D(0),
                                  exclude_intervention=intervention.pk).result.used_eur == D(0)


def test_who_sees_which_awards(make_user):
    own, other = CompanyFactory(), CompanyFactory()
    mine, theirs = AidAwardFactory(undertaking=own), AidAwardFactory(undertaking=other)
    for role in (Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR):
        assert set(selectors.awards_visible_to(make_user(role))) == {mine, theirs}
    representative = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=representative, company=own)
    assert list(selectors.awards_visible_to(representative)) == [mine]
    assert selectors.award_for_user(representative, theirs.pk) is None
    assert not selectors.awards_visible_to(make_user(Role.EDUCATION_PROVIDER)).exists()
    assert not selectors.awards_visible_to(make_user()).exists()


def test_ledger_filters(make_user):
    user = make_user(Role.FINANCE_OFFICER)
    a = AidAwardFactory(undertaking=CompanyFactory(name="Alfa Verkstad AB"), granted_on=dt.date(2024, 3, 1),
                        measure="Robotcell")
    b = AidAwardFactory(declared=True, granted_on=dt.date(2023, 3, 1), granting_authority="Almi")
    c = AidAwardFactory(status=AwardStatus.PROPOSED, granted_on=dt.date(2025, 3, 1))

    def ids(**kwargs):
        return [x.pk for x in selectors.ledger(user, selectors.LedgerFilters(**kwargs))]

    assert ids() == [c.pk, a.pk, b.pk]
    assert ids(q="alfa") == [a.pk] == ids(q="robot") == ids(q=a.undertaking.org_number_display)
    assert ids(q="almi") == [b.pk]
    assert ids(status="proposed") == [c.pk]
    assert ids(declared="yes") == [b.pk]
    assert ids(declared="no") == [c.pk, a.pk]
    assert ids(regulation="1407/2013") == [b.pk]
    assert ids(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)) == [a.pk]
    assert ids(company=a.undertaking_id) == [a.pk]


def test_the_check_honours_the_undertaking_profile_fiscal_year_and_road_freight():
    """1407/2013: the window follows the fiscal year of the undertaking the aid is for, the ceiling
    its road freight (from its UndertakingProfile); 2023/2831 ignores both."""
    from sim.stateaid.models import UndertakingProfile

    parent, company = CompanyFactory(), CompanyFactory()
    OwnershipLinkFactory(holder=parent, held=company, voting_pct=D(100))
    UndertakingProfile.objects.create(company=company, road_freight=True, fiscal_year_start="07-01")
    on = dt.date(2023, 5, 10)  # fiscal year from 2022-07-01: counted from 2020-07-01
    AidAwardFactory(undertaking=parent, granted_on=dt.date(2020, 6, 30), amount_eur=D(50000))  # out
    AidAwardFactory(undertaking=parent, granted_on=dt.date(2020, 7, 1), amount_eur=D(60000))  # in
    check = selectors.ledger_check(company, on, D(40000))
    assert check.result.window.start == dt.date(2020, 7, 1)
    assert check.result.fiscal_year_start == (7, 1)
    assert (check.result.ceiling_eur, check.result.used_eur, check.allowed) == (D(100000), D(60000), True)
    assert check.result.road_freight
    assert not selectors.ledger_check(company, on, D("40000.01")).allowed
    # The parent has no profile: calendar fiscal years and the general ceiling.
    from_parent = selectors.ledger_check(parent, on, D(0))
    assert from_parent.result.window.start == dt.date(2021, 1, 1)
    assert (from_parent.result.ceiling_eur, from_parent.result.used_eur) == (D(200000), D(0))
    # From 2024: Regulation 2023/2831 whatever the profile.
    later = selectors.ledger_check(company, dt.date(2024, 1, 1), D(0))
    assert (later.result.regulation, later.result.ceiling_eur, later.result.window.start) == (
        "2023/2831", D(300000), dt.date(2021, 1, 2))


def test_a_profile_with_an_unusable_fiscal_year_start_falls_back_to_calendar_years():
    from sim.stateaid.models import UndertakingProfile

    company = CompanyFactory()
    UndertakingProfile.objects.filter(pk=UndertakingProfile.objects.create(company=company).pk).update(
        fiscal_year_start="02-29")
    assert selectors.ledger_check(company, dt.date(2023, 5, 10), D(0)).result.window.start == dt.date(2021, 1, 1)


def test_takeover_roots_and_awards_by_root():
    from sim.companies.models import Company

    top, middle, bottom, alone = (CompanyFactory() for _ in range(4))
    Company.objects.filter(pk=middle.pk).update(merged_into=top)
    Company.objects.filter(pk=bottom.pk).update(merged_into=middle)
    assert selectors.takeover_roots([bottom.pk, middle.pk, top.pk, alone.pk]) == {
        bottom.pk: top.pk, middle.pk: top.pk, top.pk: top.pk, alone.pk: alone.pk}
    first = AidAwardFactory(undertaking=bottom, granted_on=dt.date(2024, 3, 1), amount_eur=D(1000))
    second = AidAwardFactory(undertaking=alone, granted_on=dt.date(2024, 4, 1), amount_eur=D(2000))
    AidAwardFactory(undertaking=top, granted_on=dt.date(2020, 1, 1), amount_eur=D(4000))  # before the window
    start, end = dt.date(2022, 1, 1), dt.date(2025, 1, 1)
    assert selectors.counted_awards_by_root([top.pk, alone.pk], start, end) == [(top.pk, first), (alone.pk, second)]
    # Asked in two parts, every award comes once: with the part that holds the company that took it over.
    assert selectors.counted_awards_by_root([bottom.pk, alone.pk], start, end) == [(alone.pk, second)]
    assert selectors.counted_awards_by_root([top.pk], start, end) == [(top.pk, first)]
    # A merged-away company that still has a control link of its own: only the one-by-one check is exact.
    OwnershipLinkFactory(holder=middle, held=CompanyFactory(), voting_pct=D(100))
    assert selectors.counted_awards_by_root([top.pk], start, end) is None
