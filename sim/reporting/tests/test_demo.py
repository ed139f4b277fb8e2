"""The demo step of indicators (``sim demo``): sets, targets, milestones and recorded values."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

import sim.activities.demo  # noqa: F401  (registers the routing and activities steps first)
import sim.reporting.demo  # noqa: F401
from sim.programmes.demo import MITT_CODE, SIM_CODE
from sim.programmes.models import Project
from sim.reporting import selectors
from sim.reporting.models import IndicatorEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", seed=5, companies=60, stdout=io.StringIO())
        yield {"sim": Project.objects.get(code=SIM_CODE), "mitt": Project.objects.get(code=MITT_CODE)}
        transaction.set_rollback(True)


def test_sets_targets_and_milestones(demo):
    assert demo["sim"].indicator_set.set_key == "erdf-2014-2020"
    assert demo["mitt"].indicator_set.set_key == "erdf-2021-2027"
    sim = selectors.indicator_report(demo["sim"])
    rows = {r.code: r for r in sim.rows}
    assert rows["CO01"].value.value > 0
    assert rows["CO01"].target >= rows["CO01"].value.value
    assert rows["CO01"].milestones  # one at the end of each year but the last
    assert rows["CO29"].value.value == 7
    mitt = {r.code: r for r in selectors.indicator_report(demo["mitt"]).rows}
    assert mitt["RCO01"].target is not None and sum(mitt["RCO01"].value.breakdown.values()) == mitt["RCO01"].value.value
    assert IndicatorEntry.objects.count() == 6
