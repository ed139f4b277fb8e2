"""Factories of the de minimis ledger: exchange rates and ledger entries written directly (no check),
for setting up a ledger in tests; the services are tested with their own calls."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from sim.companies.tests.factories import CompanyFactory
from sim.stateaid import rules
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate
        django_get_or_create = ("date",)

    date = dt.date(2000, 1, 1)
    sek_per_eur = Decimal("10")
    source = "test"


class AidAwardFactory(factory.django.DjangoModelFactory):
    """A granted award of EUR 10,000 at 10 SEK/EUR (written as it is: the ledger's check is not run)."""

    class Meta:
        model = AidAward

    undertaking = factory.SubFactory(CompanyFactory)
    granting_authority = "Region Jämtland Härjedalen"
    measure = factory.Sequence(lambda n: f"Åtgärd {n}")
    granted_on = dt.date(2025, 1, 15)
    regulation = factory.LazyAttribute(lambda a: rules.regulation_for(a.granted_on))
    amount_eur = Decimal("10000.00")
    sek_per_eur = Decimal("10")
    amount_sek = factory.LazyAttribute(lambda a: rules.cents(Decimal(a.amount_eur) * a.sek_per_eur))
    rate_date = dt.date(2000, 1, 1)
    status = AwardStatus.GRANTED


def ledger_award_for(intervention) -> AidAward | None:
    """The granted ledger award an approved state-aid intervention has (as approval writes it), at the
    table's rate on its date; for builders that create approved interventions directly."""
    from sim.stateaid.selectors import rate_on_or_before

    if not intervention.is_state_aid or intervention.aid_amount_sek is None or intervention.approved_on is None:
        return None
    rate = rate_on_or_before(intervention.approved_on)
    if rate is None:
        raise LookupError(f"No exchange rate on or before {intervention.approved_on}: create one (ExchangeRateFactory).")
    return AidAward.objects.create(
        undertaking=intervention.company, granting_authority="Region Jämtland Härjedalen", measure=intervention.title,
        intervention=intervention, regulation=rules.regulation_for(intervention.approved_on),
        granted_on=intervention.approved_on, amount_sek=intervention.aid_amount_sek,
        amount_eur=rules.sek_to_eur(intervention.aid_amount_sek, rate.sek_per_eur), sek_per_eur=rate.sek_per_eur,
        rate_date=rate.date, status=AwardStatus.GRANTED,
    )
