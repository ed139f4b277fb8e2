"""The ledger's demo steps (``sim demo``): rates 2019–2026 before the interventions are approved, an
award for every approved state-aid intervention, declarations, and one company close to the ceiling."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min

from sim.programmes.demo import demo_today
from sim.programmes.models import Intervention
from sim.programmes.states import INTERVENTION_COMMITTED
from sim.stateaid import selectors
from sim.stateaid.demo import NEAR_CEILING_HEADROOM_EUR
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", seed=5, companies=40, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def test_rates_cover_2019_to_2026(demo):
    span = ExchangeRate.objects.aggregate(first=Min("date"), last=Max("date"))
    assert (span["first"].isoformat(), span["last"].isoformat()) == ("2019-01-01", "2026-12-01")
    assert ExchangeRate.objects.count() == 96


def test_every_approved_state_aid_intervention_has_its_award(demo):
    committed = Intervention.objects.filter(is_state_aid=True, status__in=INTERVENTION_COMMITTED)
    assert committed.exists()
    for intervention in committed:
        award = AidAward.objects.counted().get(intervention=intervention)
        assert (award.granted_on, award.amount_sek) == (intervention.approved_on, intervention.aid_amount_sek)
    for intervention in Intervention.objects.filter(status="cancelled", approved_on__isnull=False):
        assert not AidAward.objects.counted().filter(intervention=intervention).exists()


def test_declarations_and_a_company_close_to_the_ceiling(demo):
    declared = AidAward.objects.filter(declared=True, status=AwardStatus.GRANTED)
    assert declared.count() >= 4
    headrooms = [selectors.headroom_today(award.undertaking, demo_today()).result.headroom_eur for award in declared]
    assert NEAR_CEILING_HEADROOM_EUR in headrooms
