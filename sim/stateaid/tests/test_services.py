"""Writes of the ledger: declarations, proposed and granted awards refused with the figures over the
ceiling, revocations by reversal, the award written when an intervention is approved (and revoked when
it is cancelled), and the strict, atomic, audited import of exchange rates."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sim.companies.tests.factories import CompanyFactory, OwnershipLinkFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import services as programmes_services
from sim.programmes.models import InterventionStatus
from sim.programmes.tests.routing_builders import english_settings, make_intervention, make_project
from sim.stateaid import selectors, services
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate()
AUTHORITY = "Region Jämtland Härjedalen"


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


@pytest.fixture
def rate():
    return ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=D("10"))


@pytest.fixture
def officer(make_user):
    return make_user(Role.FINANCE_OFFICER)


def grant(actor, company, **kwargs):
    return services.grant_award(actor, company, granting_authority=kwargs.pop("granting_authority", AUTHORITY),
                                measure=kwargs.pop("measure", "Automationsanalys"),
                                granted_on=kwargs.pop("granted_on", TODAY), **kwargs)


# --- Amounts --------------------------------------------------------------------------------


def test_amounts_in_sek_or_eur_at_the_rate_of_the_date():
    ExchangeRateFactory(date=dt.date(2025, 1, 2), sek_per_eur=D("11.4865"))
    amounts = services.amounts_on(dt.date(2025, 3, 1), amount_sek=D(1_000_000))
    assert (amounts.sek, amounts.eur, amounts.rate.date) == (D("1000000.00"), D("87058.72"), dt.date(2025, 1, 2))
    amounts = services.amounts_on(dt.date(2025, 3, 1), amount_eur=D(1000))
    assert (amounts.sek, amounts.eur) == (D("11486.50"), D("1000.00"))
    with pytest.raises(ValidationError, match="No SEK/EUR exchange rate is known on or before 2025-01-01"):
        services.amounts_on(dt.date(2025, 1, 1), amount_sek=D(1))
    with pytest.raises(ValidationError, match="one of them"):
        services.amounts_on(dt.date(2025, 3, 1), amount_sek=D(1), amount_eur=D(1))
    with pytest.raises(ValidationError, match="one of them"):
        services.amounts_on(dt.date(2025, 3, 1))
    with pytest.raises(ValidationError, match="0 or more"):
        services.amounts_on(dt.date(2025, 3, 1), amount_sek=D(-1))


# --- Granting and proposing -----------------------------------------------------------------


def test_grant_fits_exactly_then_is_refused_with_the_figures(rate, officer):
    company = CompanyFactory(name="Verkstaden AB")
    sister = CompanyFactory(name="Systern AB")
    parent = CompanyFactory(name="Mor AB")
    OwnershipLinkFactory(holder=parent, held=company, voting_pct=D(100))
    OwnershipLinkFactory(holder=parent, held=sister, voting_pct=D(100))
    AidAwardFactory(undertaking=sister, granted_on=TODAY - dt.timedelta(days=300), amount_eur=D(250000))
    award = grant(officer, company, amount_sek=D(500_000))  # EUR 50,000: exactly the ceiling
    assert (award.status, award.amount_eur, award.sek_per_eur, award.regulation) == (
        AwardStatus.GRANTED, D("50000.00"), D("10.0000"), "2023/2831")
    assert award.created_by == officer
    event = AuditEvent.objects.get(object_type="stateaid.aidaward", object_id=str(award.pk))
    assert event.action == "create" and event.scope_id == str(company.pk)
    assert "Mor AB (" in event.message

    with pytest.raises(services.AidRefused) as refused:
        grant(officer, company, amount_sek=D("0.10"))
    message = refused.value.messages[0]
    for figure in ("used EUR 300,000.00", "proposed EUR 0.01", "ceiling EUR 300,000.00", "headroom EUR 0.00",
                   f"to {TODAY.isoformat()}", f"Mor AB ({parent.org_number_display})",
                   f"Systern AB ({sister.org_number_display})", f"Verkstaden AB ({company.org_number_display})",
                   "no part of it may be granted"):
        assert figure in message
    assert refused.value.check.result.used_eur == D(300000)
    assert AidAward.objects.count() == 2


def test_grant_validation(rate, officer):
    company = CompanyFactory()
    with pytest.raises(ValidationError, match="future"):
        grant(officer, company, amount_sek=D(1), granted_on=TODAY + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="granting authority"):
        grant(officer, company, amount_sek=D(1), granting_authority=" ")
    with pytest.raises(ValidationError, match="measure"):
        grant(officer, company, amount_sek=D(1), measure="")
    company.status = "archived"
    company.save()
    with pytest.raises(ValidationError, match="archived"):
        grant(officer, company, amount_sek=D(1))
    assert not AidAward.objects.exists()


def test_proposal_then_grant_is_checked_again(rate, officer):
    company = CompanyFactory()
    proposal = services.propose_award(officer, company, granting_authority=AUTHORITY, measure="Exportplan",
                                      granted_on=TODAY, amount_eur=D(100000))
    assert proposal.status == AwardStatus.PROPOSED
    assert selectors.ledger_check(company, TODAY, D(0)).result.used_eur == 0  # a proposal does not count
    AidAwardFactory(undertaking=company, granted_on=TODAY, amount_eur=D(250000), declared=True,
                    granting_authority="Almi")
    with pytest.raises(services.AidRefused):
        services.grant_proposal(officer, proposal)
    services.revoke_award(officer, AidAward.objects.get(declared=True), reason="Felregistrerad")
    granted = services.grant_proposal(officer, proposal)
    assert (granted.status, granted.proposal, granted.amount_eur) == (AwardStatus.GRANTED, proposal, D("100000.00"))
    with pytest.raises(ValidationError, match="already granted"):
        services.grant_proposal(officer, proposal)
    with pytest.raises(ValidationError, match="revoke the granted award instead"):
        services.revoke_award(officer, proposal, reason="x")
    with pytest.raises(ValidationError, match="Only a proposed award"):
        services.grant_proposal(officer, granted)


def test_revocation_is_a_reversal_entry(rate, officer):
    company = CompanyFactory()
    award = grant(officer, company, amount_sek=D(1_000_000), granted_on=TODAY - dt.timedelta(days=10))
    with pytest.raises(ValidationError, match="Say why"):
        services.revoke_award(officer, award, reason=" ")
    with pytest.raises(ValidationError, match="before it was granted"):
        services.revoke_award(officer, award, reason="Fel", on=TODAY - dt.timedelta(days=11))
    reversal = services.revoke_award(officer, award, reason="Beslutet upphävt")
    assert (reversal.status, reversal.reverses, reversal.revoked_on, reversal.amount_eur) == (
        AwardStatus.REVOKED, award, TODAY, award.amount_eur)
    assert selectors.ledger_check(company, TODAY, D(0)).result.used_eur == 0
    with pytest.raises(ValidationError, match="already revoked"):
        services.revoke_award(officer, award, reason="igen")
    with pytest.raises(ValidationError, match="cannot itself be revoked"):
        services.revoke_award(officer, reversal, reason="igen")
    assert AuditEvent.objects.filter(object_type="stateaid.aidaward", object_id=str(reversal.pk)).exists()


# --- Declarations ---------------------------------------------------------------------------


def test_declaration_of_earlier_aid_counts_and_is_recorded_even_over_the_ceiling(rate, make_user):
    advisor = make_user(Role.ADVISOR)
    company = CompanyFactory()
    declared = services.record_declaration(
        advisor, company, granting_authority="Tillväxtverket", measure="Konsultcheck",
        granted_on=dt.date(2024, 9, 1), amount_eur=D(310000), notes="Intyg bifogat")
    assert (declared.declared, declared.status, declared.amount_sek, declared.regulation) == (
        True, AwardStatus.GRANTED, D("3100000.00"), "2023/2831")
    check = selectors.ledger_check(company, TODAY, D(1))
    assert check.result.used_eur == D(310000) and check.result.headroom_eur == 0 and not check.allowed
    older = services.record_declaration(advisor, company, granting_authority="Kommunen", measure="Mässa",
                                        granted_on=dt.date(2022, 3, 1), amount_sek=D(50000), regulation="other")
    assert (older.regulation, older.amount_eur) == ("other", D("5000.00"))
    with pytest.raises(ValidationError, match="future"):
        services.record_declaration(advisor, company, granting_authority="A", measure="B",
                                    granted_on=TODAY + dt.timedelta(days=1), amount_eur=D(1))
    with pytest.raises(ValidationError, match="regulation"):
        services.record_declaration(advisor, company, granting_authority="A", measure="B",
                                    granted_on=TODAY, amount_eur=D(1), regulation="1998/2006")


def test_declaration_without_a_rate_is_refused_clearly(officer):
    with pytest.raises(ValidationError, match="imports the rates first"):
        services.record_declaration(officer, CompanyFactory(), granting_authority="A", measure="B",
                                    granted_on=TODAY, amount_eur=D(1))
    assert not AidAward.objects.exists()


# --- Intervention approval ------------------------------------------------------------------


def test_approving_an_intervention_writes_the_granted_award(rate, make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    project = make_project(manager)
    company = CompanyFactory()
    draft = make_intervention(project, company, budget=D(200_000), aid=D(150_000), title="Robotcell")
    approved = programmes_services.intervention_approve(manager, draft, on=TODAY)
    award = AidAward.objects.get(intervention=approved)
    assert (award.status, award.undertaking, award.amount_sek, award.amount_eur, award.granted_on, award.measure,
            award.granting_authority) == (AwardStatus.GRANTED, company, D("150000.00"), D("15000.00"), TODAY,
                                          "Robotcell", AUTHORITY)
    # Cancelling the intervention revokes its award.
    programmes_services.intervention_move(manager, approved, InterventionStatus.CANCELLED, on=TODAY,
                                          reason="Företaget avbröt")
    reversal = AidAward.objects.get(reverses=award)
    assert reversal.reason == "Företaget avbröt"
    assert selectors.ledger_check(company, TODAY, D(0)).result.used_eur == 0


def test_approval_refused_by_the_ledger_writes_nothing(rate, make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    project = make_project(manager, budget=D(10_000_000))
    company = CompanyFactory()
    AidAwardFactory(undertaking=company, granted_on=TODAY - dt.timedelta(days=30), amount_eur=D(295000),
                    declared=True, granting_authority="Tillväxtverket")
    draft = make_intervention(project, company, budget=D(60_000), aid=D(60_000))  # EUR 6,000
    with pytest.raises(programmes_services.ApprovalRefused) as refused:
        programmes_services.intervention_approve(manager, draft, on=TODAY)
    assert "EUR 295,000.00 of EUR 300,000.00" in refused.value.check.reasons[0]
    draft.refresh_from_db()
    assert draft.status == InterventionStatus.DRAFT
    assert not AidAward.objects.filter(intervention=draft).exists()


def test_approval_without_a_rate_is_refused_with_a_clear_message(make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    project = make_project(manager)
    draft = make_intervention(project, CompanyFactory(), budget=D(10_000), aid=D(10_000))
    with pytest.raises(programmes_services.ApprovalRefused) as refused:
        programmes_services.intervention_approve(manager, draft, on=TODAY)
    assert "No usable SEK/EUR exchange rate" in " ".join(refused.value.check.reasons)
    assert not AidAward.objects.exists()


def test_approval_of_aid_that_is_not_state_aid_writes_no_award(rate, make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    draft = make_intervention(make_project(manager), CompanyFactory(), budget=D(10_000), aid=None, is_state_aid=False)
    programmes_services.intervention_approve(manager, draft, on=TODAY)
    assert not AidAward.objects.exists()


# --- Property: an earlier award never raises the headroom -----------------------------------


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 150_000)), min_size=1, max_size=6))
def test_adding_an_earlier_award_never_raises_the_headroom(rate, awards):
    company = CompanyFactory()
    on = dt.date(2025, 6, 1)
    headroom = selectors.ledger_check(company, on, D(0)).result.headroom_eur
    for days_before, eur in awards:
        AidAwardFactory(undertaking=company, granted_on=on - dt.timedelta(days=days_before), amount_eur=D(eur))
        now = selectors.ledger_check(company, on, D(0)).result.headroom_eur
        assert 0 <= now <= headroom
        headroom = now


# --- Exchange-rate import -------------------------------------------------------------------


def test_rate_import_adds_updates_and_audits(officer):
    ExchangeRateFactory(date=dt.date(2025, 1, 2), sek_per_eur=D("11.5"), source="Riksbanken")
    ExchangeRateFactory(date=dt.date(2025, 2, 3), sek_per_eur=D("11.2"), source="Riksbanken")
    data = ("datum;kurs;källa\n2025-01-02;11,4865;Riksbanken\n2025-02-03;11.2;\n\n2025-03-03;11,1000;Riksbanken\n"
            .encode())
    result = services.import_rates(officer, data)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert ExchangeRate.objects.get(date=dt.date(2025, 1, 2)).sek_per_eur == D("11.4865")
    events = AuditEvent.objects.filter(object_type="stateaid.exchangerate")
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]
    assert services.import_rates(officer, b"date,sek_per_eur\n2025-03-03,11.1\n").unchanged == 1


@pytest.mark.parametrize(("data", "expected"), [
    (b"date;sek_per_eur\n2025-13-01;11\n", "Row 2, date"),
    (b"date;sek_per_eur\n2025-01-02;abc\n", "Row 2, sek_per_eur"),
    (b"date;sek_per_eur\n2025-01-02;0\n", "not a rate above zero"),
    (b"date;sek_per_eur\n2025-01-02;-11\n", "not a rate above zero"),
    (b"date;sek_per_eur\n2025-01-02;11.123456\n", "more than four decimals"),
    (b"date;sek_per_eur\n2025-01-02;11\n2025-01-02;11.1\n", "also on row 2"),
    (b"day;value\n2025-01-02;11\n", "date and sek_per_eur"),
    (b"", "empty"),
    (b"date;sek_per_eur\n", "no rates"),
    (b"\xff\xfe\x00\x81\x8d", "Row"),
])
def test_rate_import_is_strict(officer, data, expected):
    with pytest.raises(services.RateImportError) as refused:
        services.import_rates(officer, data)
    assert any(expected in message for message in refused.value.messages), refused.value.messages
    assert not ExchangeRate.objects.exists()


def test_rate_import_is_atomic(officer):
    with pytest.raises(services.RateImportError):
        services.import_rates(officer, b"date;sek_per_eur\n2025-05-02;11\n2025-05-03;elva\n")
    assert not ExchangeRate.objects.exists()
    assert not AuditEvent.objects.filter(object_type="stateaid.exchangerate").exists()


def test_rate_import_reports_every_bad_row():
    with pytest.raises(services.RateImportError) as refused:
        services.parse_rates_csv(b"date;sek_per_eur\nx;1\n2025-01-02;y\n2025-01-03;11\n")
    assert [(e.row, e.field) for e in refused.value.errors] == [(2, "date"), (3, "sek_per_eur")]


# --- Undertaking profile (Regulation No 1407/2013) ------------------------------------------


def test_road_freight_and_fiscal_year_of_the_undertaking_in_checks_before_2024(officer):
    company = CompanyFactory()
    on = dt.date(2023, 9, 15)
    AidAwardFactory(undertaking=company, granted_on=dt.date(2021, 6, 30), amount_eur=D(40000))
    AidAwardFactory(undertaking=company, granted_on=dt.date(2021, 7, 1), amount_eur=D(60000))
    calendar = selectors.ledger_check(company, on, D(0)).result
    assert (calendar.window.start, calendar.used_eur, calendar.ceiling_eur) == (dt.date(2021, 1, 1), D(100000), D(200000))
    profile = services.profile_set(officer, company, road_freight=True, fiscal_year_start="07-01")
    assert (profile.road_freight, profile.fiscal_year_start) == (True, "07-01")
    july = selectors.ledger_check(company, on, D(0))
    assert (july.result.window.start, july.result.used_eur, july.result.ceiling_eur) == (
        dt.date(2021, 7, 1), D(60000), D(100000))
    assert not selectors.ledger_check(company, on, D("40000.01")).allowed
    # From 2024 the profile does not matter: EUR 300,000 over three years.
    assert selectors.ledger_check(company, dt.date(2024, 3, 1), D(0)).result.ceiling_eur == D(300000)
    services.profile_set(officer, company, road_freight=True, fiscal_year_start="7-1")  # unchanged: no event
    events = AuditEvent.objects.filter(object_type="stateaid.undertakingprofile")
    assert list(events.values_list("action", flat=True)) == ["create"]
    with pytest.raises(ValidationError, match="fiscal-year start"):
        services.profile_set(officer, company, road_freight=False, fiscal_year_start="02-30")
    with pytest.raises(ValidationError, match="fiscal-year start"):
        services.profile_set(officer, company, road_freight=False, fiscal_year_start="juli")
