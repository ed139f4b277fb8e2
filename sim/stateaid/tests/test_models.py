"""The ledger's models: append-only aid awards and their database constraints; exchange rates."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from sim.core.models import AppendOnlyError
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db
D = Decimal


def test_an_award_cannot_be_changed_or_deleted():
    award = AidAwardFactory()
    award.amount_eur = D(1)
    with pytest.raises(AppendOnlyError):
        award.save()
    with pytest.raises(AppendOnlyError):
        award.delete()
    with pytest.raises(AppendOnlyError):
        AidAward.objects.filter(pk=award.pk).update(amount_eur=D(1))
    with pytest.raises(AppendOnlyError):
        AidAward.objects.filter(pk=award.pk).delete()
    assert AidAward.objects.get(pk=award.pk).amount_eur == D("10000.00")


@pytest.mark.parametrize("bad", [
    {"amount_sek": D(-1)},
    {"amount_eur": D(-1)},
    {"sek_per_eur": D(0)},
    {"status": "cancelled"},
    {"regulation": "1998/2006"},
    {"granting_authority": ""},
    {"measure": ""},
    {"status": AwardStatus.REVOKED},  # a revocation must reverse an entry, with a date
    {"revoked_on": dt.date(2025, 2, 1)},  # only a revocation has a revocation date
    {"declared": True, "status": AwardStatus.PROPOSED},  # a declaration is aid already granted
])
def test_database_constraints(bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        AidAwardFactory(**bad)


def test_a_revocation_reverses_one_entry_once():
    award = AidAwardFactory()
    AidAwardFactory(undertaking=award.undertaking, status=AwardStatus.REVOKED, reverses=award,
                    revoked_on=dt.date(2025, 3, 1))
    assert award.is_reversed()
    with pytest.raises(IntegrityError), transaction.atomic():
        AidAwardFactory(undertaking=award.undertaking, status=AwardStatus.REVOKED, reverses=award,
                        revoked_on=dt.date(2025, 3, 2))


def test_a_proposal_is_granted_only_by_a_granted_entry():
    proposal = AidAwardFactory(status=AwardStatus.PROPOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        AidAwardFactory(undertaking=proposal.undertaking, status=AwardStatus.PROPOSED, proposal=proposal)
    AidAwardFactory(undertaking=proposal.undertaking, status=AwardStatus.GRANTED, proposal=proposal)
    assert proposal.is_proposal_granted()


def test_counted_are_granted_entries_not_revoked_declared_included():
    granted = AidAwardFactory()
    declared = AidAwardFactory(declared=True)
    AidAwardFactory(status=AwardStatus.PROPOSED)
    revoked = AidAwardFactory()
    AidAwardFactory(undertaking=revoked.undertaking, status=AwardStatus.REVOKED, reverses=revoked,
                    revoked_on=dt.date(2025, 3, 1))
    assert set(AidAward.objects.counted()) == {granted, declared}


def test_exchange_rates_are_positive_and_one_per_date():
    ExchangeRateFactory(date=dt.date(2025, 1, 2), sek_per_eur=D("11.4865"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(date=dt.date(2025, 1, 2), sek_per_eur=D("11.5"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(date=dt.date(2025, 1, 3), sek_per_eur=D("0"))
    assert str(ExchangeRate.objects.get()) == "2025-01-02: 11.4865 SEK/EUR"
