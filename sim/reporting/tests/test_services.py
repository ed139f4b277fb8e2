"""Choosing the indicator set, own indicators, targets and milestones, recorded values: validated,
audited, append-only; and the indicator files themselves."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sim.core.models import AppendOnlyError, AuditEvent
from sim.programmes.tests.routing_builders import make_project
from sim.reporting import catalogue, services
from sim.reporting.models import IndicatorEntry, ProjectIndicator

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def project():
    return make_project(code="ind")


def codes(project) -> list[str]:
    return list(ProjectIndicator.objects.filter(project=project).order_by("own", "order").values_list("code", flat=True))


def test_catalogue_has_both_sets_with_every_required_code():
    sets = catalogue.indicator_sets()
    old = [i.code for i in sets["erdf-2014-2020"].indicators]
    new = [i.code for i in sets["erdf-2021-2027"].indicators]
    assert old == ["CO01", "CO02", "CO03", "CO04", "CO05", "CO06", "CO07", "CO08", "CO28", "CO29"]
    assert new == ["RCO01", "RCO02", "RCO03", "RCO04", "RCO05", "RCO10", "RCO101", "RCR01", "RCR02", "RCR03",
                   "RCR04", "RCR13", "RCR19", "RCR25", "RCR98"]
    for s in sets.values():
        for i in s.indicators:
            assert i.name_sv and i.name_en and i.definition_sv and i.definition_en and i.unit


@pytest.mark.parametrize(("data", "message"), [
    ({"key": "x", "name_sv": "x", "name_en": "x"}, "missing 'indicators'"),
    ({"key": "x", "name_sv": "x", "name_en": "x", "indicators": [{"code": "A"}]}, "lacks"),
    ({"key": "x", "name_sv": "x", "name_en": "x", "indicators": [
        {"code": "A", "method": "guess", "unit": "enterprises", "name_sv": "a", "name_en": "a", "definition_sv": "a",
         "definition_en": "a"}]}, "unknown method"),
])
def test_bad_indicator_files_are_refused(data, message):
    with pytest.raises(catalogue.CatalogueError, match=message):
        catalogue.parse_set(json.loads(json.dumps(data)), "test.json")


def test_choose_a_set_adds_its_indicators_audited(project, make_user):
    user = make_user("project_manager")
    chosen = services.indicator_set_choose(user, project, "erdf-2014-2020")
    assert chosen.new_enterprise_years == 3
    assert codes(project)[:3] == ["CO01", "CO02", "CO03"]
    event = AuditEvent.objects.get(object_type="reporting.projectindicatorset")
    assert event.action == "create" and event.actor == user and event.scope_id == str(project.pk)


def test_changing_the_set_keeps_own_indicators_and_replaces_the_set(project):
    services.indicator_set_choose(None, project, "erdf-2014-2020")
    services.indicator_own_create(None, project, {"code": "eget-1", "name_sv": "Antal rundabordssamtal"})
    services.indicator_set_choose(None, project, "erdf-2021-2027")
    assert "CO01" not in codes(project)
    assert codes(project)[0] == "RCO01" and codes(project)[-1] == "EGET-1"
    assert "Removed indicators: CO01" in AuditEvent.objects.filter(action="update").get().message


def test_set_with_recorded_values_cannot_be_changed(project):
    services.indicator_set_choose(None, project, "erdf-2014-2020")
    co28 = project.indicators.get(code="CO28")
    services.indicator_entry_add(None, co28, D(2024, 5, 1), "2", "Två nya produkter enligt slutrapporter")
    with pytest.raises(ValidationError, match="CO28"):
        services.indicator_set_choose(None, project, "erdf-2021-2027")
    # Choosing the same set again keeps the values and the targets.
    services.indicator_target_set(None, co28, "5")
    services.indicator_set_choose(None, project, "erdf-2014-2020", new_enterprise_years=2)
    co28.refresh_from_db()
    assert co28.target == Decimal("5.00") and co28.entries.count() == 1


@pytest.mark.parametrize(("key", "years"), [("nope", None), ("erdf-2021-2027", 0), ("erdf-2021-2027", 11)])
def test_bad_set_choices_are_refused(project, key, years):
    with pytest.raises(ValidationError):
        services.indicator_set_choose(None, project, key, new_enterprise_years=years)


@pytest.mark.parametrize(("data", "field"), [
    ({"code": "", "name_sv": "x"}, "code"), ({"code": "a b", "name_sv": "x"}, "code"),
    ({"code": "OK", "name_sv": ""}, "name_sv"), ({"code": "OK", "name_sv": "x", "unit": "kg"}, "unit"),
])
def test_bad_own_indicators_are_refused(project, data, field):
    with pytest.raises(ValidationError) as info:
        services.indicator_own_create(None, project, data)
    assert field in info.value.message_dict


def test_own_indicator_code_is_unique(project):
    services.indicator_own_create(None, project, {"code": "X1", "name_sv": "x"})
    with pytest.raises(ValidationError, match="already"):
        services.indicator_own_create(None, project, {"code": "x1", "name_sv": "y"})


def test_targets_and_milestones(project):
    services.indicator_set_choose(None, project, "erdf-2021-2027")
    rco01 = project.indicators.get(code="RCO01")
    services.indicator_target_set(None, rco01, "120", [(D(2025, 12, 31), "60"), (D(2024, 12, 31), "20")])
    assert [(m.date, m.value) for m in rco01.milestones.all()] == [(D(2024, 12, 31), Decimal("20.00")),
                                                                    (D(2025, 12, 31), Decimal("60.00"))]
    event = AuditEvent.objects.filter(object_type="reporting.projectindicator").latest("id")
    assert "milestones" in event.changes and Decimal(event.changes["target"]["after"]) == 120
    services.indicator_target_set(None, rco01, "", [])
    rco01.refresh_from_db()
    assert rco01.target is None and not rco01.milestones.exists()


@pytest.mark.parametrize(("target", "milestones", "message"), [
    ("-1", [], "negative"), ("abc", [], "number"), ("10", [(D(2024, 6, 1), "11")], "above the target"),
    ("10", [(D(2030, 1, 1), "1")], "outside"), ("10", [(D(2024, 6, 1), "1"), (D(2024, 6, 1), "2")], "Two milestones"),
])
def test_bad_targets_are_refused(project, target, milestones, message):
    services.indicator_set_choose(None, project, "erdf-2021-2027")
    with pytest.raises(ValidationError, match=message):
        services.indicator_target_set(None, project.indicators.get(code="RCO01"), target, milestones)


def test_entries_only_for_manual_indicators_and_append_only(project):
    services.indicator_set_choose(None, project, "erdf-2021-2027")
    with pytest.raises(ValidationError, match="counted by the platform"):
        services.indicator_entry_add(None, project.indicators.get(code="RCO01"), D(2024, 1, 1), "1", "x")
    rcr03 = project.indicators.get(code="RCR03")
    with pytest.raises(ValidationError, match="rests on"):
        services.indicator_entry_add(None, rcr03, D(2024, 1, 1), "1", " ")
    entry = services.indicator_entry_add(None, rcr03, D(2024, 1, 1), "-1,5", "Rättelse")
    assert entry.value == Decimal("-1.50")
    assert AuditEvent.objects.filter(object_type="reporting.indicatorentry", action="create").count() == 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert IndicatorEntry.objects.count() == 1
