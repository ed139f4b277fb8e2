"""Writing competence needs, match corrections and offerings; needs from the growth interview."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from sim.companies.tests.factories import CompanyFactory
from sim.competence import selectors, services
from sim.competence.models import CompetenceNeed, MatchCorrection, NeedConcept
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import provider_with_staff
from sim.core.models import AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


def test_need_create_links_confirmed_concepts_remembers_and_audits(advisor, concepts):
    company = CompanyFactory(municipality_id="2309")
    need = services.need_create(advisor, company, text="  två  svetsare MIG/MAG ", people=2, kind="upskill", horizon="0-6",
                                urgency="high", concept_ids=[concepts["welder"].pk], scores={concepts["welder"].pk: 0.8})
    assert need.text == "två svetsare MIG/MAG" and need.municipality_id == "2309"
    link = NeedConcept.objects.get(need=need)
    assert link.confirmed and link.confirmed_by == advisor and link.score == 0.8
    correction = MatchCorrection.objects.get()
    assert (correction.text_key, correction.concept, correction.times) == ("två svetsare mig mag", concepts["welder"], 1)
    event = AuditEvent.objects.get(object_type="competence.competenceneed", object_id=str(need.pk))
    assert event.action == AuditEvent.Action.CREATE and event.scope_id == str(company.pk)
    assert event.changes["concepts"]["after"] == [concepts["welder"].uri]


@pytest.mark.parametrize(("values", "field"), [
    ({"text": "   "}, "text"), ({"text": "x" * 501}, "text"), ({"people": 0}, "people"), ({"people": 1001}, "people"),
    ({"kind": "hire"}, "kind"), ({"horizon": "1-2"}, "horizon"), ({"urgency": "now"}, "urgency"),
])
def test_need_create_refuses_bad_values(advisor, concepts, values, field):
    arguments = {"text": "svetsare", "people": 1} | values
    with pytest.raises(ValidationError) as error:
        services.need_create(advisor, CompanyFactory(), **arguments)
    assert field in error.value.message_dict
    assert not CompetenceNeed.objects.exists()


def test_need_create_refuses_unknown_or_inactive_concepts(advisor, concepts):
    concepts["plc"].active = False
    concepts["plc"].save()
    for ids in ([999999], [concepts["plc"].pk]):
        with pytest.raises(ValidationError) as error:
            services.need_create(advisor, CompanyFactory(), text="plc", concept_ids=ids)
        assert "concepts" in error.value.message_dict
    assert not CompetenceNeed.objects.exists()


def test_corrections_are_reused_for_the_same_text(advisor, concepts):
    # The matcher ranks the CNC operator first for "svarvare cnc"; the advisor picks the welder twice.
    assert selectors.suggestions("CNC operatör")[0].concept_id == concepts["cnc"].pk
    for _ in range(2):
        services.need_create(advisor, CompanyFactory(), text="CNC-operatör!", concept_ids=[concepts["plc"].pk])
    first = selectors.suggestions("cnc  operatör")[0]
    assert first.concept_id == concepts["plc"].pk and first.corrected
    assert MatchCorrection.objects.get(concept=concepts["plc"]).times == 2
    # Other texts are not affected, and a suggestion is never listed twice.
    assert not selectors.suggestions("svetsare")[0].corrected
    ids = [s.concept_id for s in selectors.suggestions("cnc operatör")]
    assert len(ids) == len(set(ids))


def test_suggestions_without_the_matcher_search_the_labels(advisor, concepts, monkeypatch):
    monkeypatch.setattr(selectors, "_matcher", lambda: None)
    assert [s.concept_id for s in selectors.suggestions("Automationstekniker")] == [concepts["plc"].pk]
    assert selectors.suggestions("   ") == []


def test_need_update_changes_concepts_status_and_audits(advisor, concepts):
    company = CompanyFactory()
    need = services.need_create(advisor, company, text="svetsare", concept_ids=[concepts["welder"].pk])
    services.need_update(advisor, need, concept_ids=[concepts["cnc"].pk], people=3, status="met")
    need.refresh_from_db()
    assert list(need.concepts.all()) == [concepts["cnc"]] and need.people == 3 and need.status == "met"
    assert MatchCorrection.objects.filter(concept=concepts["cnc"], text_key="svetsare").exists()
    update = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(need.pk)).get()
    assert update.changes["people"] == {"before": 1, "after": 3}
    with pytest.raises(ValidationError):
        services.need_update(advisor, need, status="gone")
    # Nothing changed: no event.
    services.need_update(advisor, need, people=3)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(need.pk)).count() == 1


def test_needs_from_the_growth_interview(advisor, concepts):
    from sim.assessments.tests.helpers import complete_quickly, start

    company = CompanyFactory()
    interview = start(advisor, company)
    with pytest.raises(ValidationError):
        services.needs_from_interview(advisor, interview)
    interview = complete_quickly(advisor, interview, cn_gaps="yes", cn_description="2 svetsare MIG/MAG\nCNC-operatör",
                                 cn_horizon="months_0_6", cn_approach="upskill", cn_people="5")
    created = services.needs_from_interview(advisor, interview)
    assert [(n.text, n.people, n.kind, n.horizon, n.urgency, n.source) for n in created] == [
        ("2 svetsare MIG/MAG", 2, "upskill", "0-6", "high", "interview"), ("CNC-operatör", 1, "upskill", "0-6", "high", "interview")]
    assert all(n.assessment == interview and not n.concepts.exists() for n in created)
    assert services.needs_from_interview(advisor, interview) == []  # twice: nothing new


def test_offering_create_update_and_refusals(advisor, concepts):
    provider = provider_with_staff(None)
    from sim.companies.models import Municipality

    ostersund = Municipality.objects.get(code="2380")
    offering = services.offering_create(advisor, provider, name=" CNC-tekniker ", kind="yh", municipality=ostersund,
                                        start_dates=[dt.date(2027, 1, 10), "2026-08-20", dt.date(2027, 1, 10)], seats=20,
                                        concept_ids=[concepts["cnc"].pk])
    assert offering.name == "CNC-tekniker" and offering.start_dates == ["2026-08-20", "2027-01-10"]
    assert offering.links.get().confirmed
    with pytest.raises(ValidationError) as error:
        services.offering_create(advisor, provider, name="CNC-tekniker", kind="yh", municipality=ostersund)
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.offering_create(advisor, provider, name="Nowhere", kind="yh", municipality=None)
    assert "municipality" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.offering_create(advisor, provider, name="X", kind="course", distance=True, start_dates=["soon"], seats=-1)
    assert {"kind", "start_dates", "seats"} <= set(error.value.message_dict)
    services.offering_update(advisor, offering, seats=0, active=False, concept_ids=[concepts["welder"].pk])
    offering.refresh_from_db()
    assert offering.seats == 0 and not offering.active and list(offering.concepts.all()) == [concepts["welder"]]
    assert AuditEvent.objects.filter(object_type="competence.educationoffering").count() == 2


def test_demo_step_writes_needs_and_offerings_that_show_in_the_report(make_user):
    from types import SimpleNamespace

    from sim.companies.demo import DemoContext
    from sim.competence.demo_needs import write_competence
    from sim.competence.models import EducationOffering, ProviderStaff
    from sim.competence.selectors import ReportFilters, demand_report
    from sim.competence.tests.factories import load_default_taxonomy

    load_default_taxonomy()
    admin, teacher = make_user(Role.ADMIN), make_user(Role.EDUCATION_PROVIDER)
    companies = {str(i): CompanyFactory(municipality_id=("2380", "2309", "2281", "2361")[i % 4]) for i in range(45)}
    context = DemoContext(plan=SimpleNamespace(seed=7), actor=admin, users={"utbildare": teacher}, companies=companies)
    write_competence(context)
    assert context.counts["education_offerings"] == 15
    assert EducationOffering.objects.values("provider").distinct().count() == 3
    assert CompetenceNeed.objects.values("company").distinct().count() == 40
    assert ProviderStaff.objects.filter(user=teacher).exists()
    report = demand_report(ReportFilters(area="c:23"), today=dt.date(2026, 11, 20))
    shown = [row for row in report.rows if not row.total.suppressed]
    assert len(shown) >= 3 and all(row.total.people > 0 for row in shown)
    assert len(report.quarters) >= 3
    # Running it again writes nothing twice.
    write_competence(context)
    assert EducationOffering.objects.count() == 15 and context.counts["education_offerings"] == 0
