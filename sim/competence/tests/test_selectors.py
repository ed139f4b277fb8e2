"""Reading needs and offerings per role, offerings for a need, and the anonymised demand report."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.companies.models import Municipality
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.competence import rules, selectors, services
from sim.competence.selectors import ReportFilters, demand_report
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import companies_with_needs, provider_with_staff
from sim.core.roles import Role

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


def _row(report, concept):
    return next(row for row in report.rows if row.concept_id == concept.pk)


def _shown(report, concept):
    """The row of a concept, or None when its total cannot be shown (then it is not listed)."""
    return next((row for row in report.rows if row.concept_id == concept.pk), None)


def test_needs_visible_per_role(make_user, advisor, concepts):
    mine, other = CompanyFactory(), CompanyFactory()
    for company in (mine, other):
        services.need_create(advisor, company, text="svetsare", concept_ids=[concepts["welder"].pk])
    representative = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(company=mine, user=representative)
    assert selectors.needs_visible_to(advisor).count() == 2
    assert selectors.needs_visible_to(make_user(Role.AUDITOR)).count() == 2
    assert [n.company for n in selectors.needs_visible_to(representative)] == [mine]
    assert not selectors.needs_visible_to(make_user(Role.EDUCATION_PROVIDER)).exists()
    assert not selectors.needs_visible_to(make_user(Role.FINANCE_OFFICER)).exists()


def test_who_sees_the_demand_report(make_user):
    for role in (Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.AUDITOR, Role.EDUCATION_PROVIDER):
        assert selectors.sees_demand_report(make_user(role)), role
    for role in (Role.COMPANY_REPRESENTATIVE, Role.FINANCE_OFFICER, None):
        assert not selectors.sees_demand_report(make_user(role)), role


def test_providers_of_and_editable_offerings(make_user, advisor, concepts):
    teacher = make_user(Role.EDUCATION_PROVIDER)
    own = provider_with_staff(teacher)
    other = provider_with_staff(None, name="Annan skola")
    for provider in (own, other):
        services.offering_create(advisor, provider, name="Svets", kind="komvux", distance=True)
    assert list(selectors.providers_of(teacher)) == [own]
    assert [o.provider for o in selectors.offerings_editable_by(teacher)] == [own]
    assert selectors.offerings_visible_to(teacher).count() == 2
    assert selectors.providers_of(advisor).count() >= 2
    assert not selectors.providers_of(make_user(Role.AUDITOR)).exists()


def test_offerings_for_a_need_nearest_first(advisor, concepts):
    provider = provider_with_staff(None)
    place = {code: Municipality.objects.get(code=code) for code in ("2380", "2309", "2281")}
    make = lambda name, **kw: services.offering_create(advisor, provider, name=name, **({"kind": "komvux"} | kw))  # noqa: E731
    make("Distans", distance=True, concept_ids=[concepts["welder"].pk])
    make("Krokom", municipality=place["2309"], concept_ids=[concepts["welder"].pk])
    make("Östersund", municipality=place["2380"], concept_ids=[concepts["group"].pk])  # the broader concept
    make("Sundsvall", municipality=place["2281"], concept_ids=[concepts["welder"].pk])  # another county
    make("Full", municipality=place["2380"], seats=0, concept_ids=[concepts["welder"].pk])
    make("Fel yrke", municipality=place["2380"], concept_ids=[concepts["cnc"].pk])
    make("Bara anställda", kind="supplier", municipality=place["2380"], concept_ids=[concepts["welder"].pk])
    make("För sent", municipality=place["2380"], start_dates=[dt.date(2029, 1, 1)], concept_ids=[concepts["welder"].pk])
    need = services.need_create(advisor, CompanyFactory(municipality_id="2380"), text="svetsare", horizon="6-12",
                                concept_ids=[concepts["welder"].pk])
    need = selectors.need_for_user(advisor, need.pk)
    matches = selectors.offerings_for_need(need, today=TODAY)
    assert [(m.offering.name, m.reach) for m in matches] == [("Östersund", "municipality"), ("Krokom", "county"),
                                                             ("Distans", "distance")]


def test_report_shows_three_companies_and_hides_fewer(advisor, concepts):
    companies_with_needs(advisor, concepts["welder"], 3, people=2)
    companies_with_needs(advisor, concepts["plc"], 2, people=5)
    report = demand_report(ReportFilters(), today=TODAY)
    welder = _row(report, concepts["welder"])
    assert (welder.total.people, welder.total.needs, welder.total.suppressed) == (6, 3, False)
    assert welder.gap.people == 6 and welder.covered.empty  # no offering anywhere
    assert _shown(report, concepts["plc"]) is None
    assert all(not row.total.suppressed for row in report.rows)
    assert [row.concept_id for row in report.gaps] == [concepts["welder"].pk]
    assert report.companies == 5


def test_report_rolls_up_and_protects_across_levels(advisor, concepts):
    companies_with_needs(advisor, concepts["welder"], 3, people=2)
    companies_with_needs(advisor, concepts["cnc"], 2, people=5)
    # The group (welders and CNC operators, 5 companies) minus the welders would be the 2 CNC
    # companies: one of the two published figures is withheld as well.
    concept_level = demand_report(ReportFilters(), today=TODAY)
    group_level = demand_report(ReportFilters(level=rules.LEVEL_GROUP), today=TODAY)
    assert _shown(concept_level, concepts["cnc"]) is None
    assert _shown(concept_level, concepts["welder"]) is None or _shown(group_level, concepts["group"]) is None
    companies_with_needs(advisor, concepts["cnc"], 1, people=1)
    group_level = demand_report(ReportFilters(level=rules.LEVEL_GROUP), today=TODAY)
    assert _row(group_level, concepts["group"]).total.people == 6 + 10 + 1
    assert _row(demand_report(ReportFilters(), today=TODAY), concepts["cnc"]).total.people == 11


def test_report_never_names_companies_or_reveals_by_differencing(advisor, concepts):
    companies = companies_with_needs(advisor, concepts["welder"], 3, kind="recruit")
    companies += companies_with_needs(advisor, concepts["welder"], 1, kind="upskill", people=7)
    total = _shown(demand_report(ReportFilters(), today=TODAY), concepts["welder"])
    recruit = _shown(demand_report(ReportFilters(kind="recruit"), today=TODAY), concepts["welder"])
    upskill = _shown(demand_report(ReportFilters(kind="upskill"), today=TODAY), concepts["welder"])
    assert upskill is None
    assert total is None or recruit is None  # else total - recruit = the one company's 7 people
    for filters in (ReportFilters(), ReportFilters(kind="recruit"), ReportFilters(area="m:2380")):
        report = demand_report(filters, today=TODAY)
        text = repr(report)
        assert not any(company.name in text for company in companies)


def test_report_coverage_follows_offerings_within_reach(advisor, concepts):
    companies_with_needs(advisor, concepts["welder"], 3, municipality="2380")
    provider = provider_with_staff(None)
    services.offering_create(advisor, provider, name="Svets", kind="komvux", municipality=Municipality.objects.get(code="2309"),
                             seats=12, concept_ids=[concepts["welder"].pk])
    row = _row(demand_report(ReportFilters(area="c:23"), today=TODAY), concepts["welder"])
    assert row.covered.people == 6 and row.gap.empty and row.offerings == 1 and row.seats == 12
    assert demand_report(ReportFilters(), today=TODAY).gaps == []
    # An offering in another county is out of reach of the county, but counts for the whole region.
    services.offering_create(advisor, provider, name="Svets", kind="komvux", municipality=Municipality.objects.get(code="2281"),
                             seats=None, concept_ids=[concepts["welder"].pk])
    assert _row(demand_report(ReportFilters(area="c:23"), today=TODAY), concepts["welder"]).offerings == 1
    everywhere = _row(demand_report(ReportFilters(), today=TODAY), concepts["welder"])
    assert everywhere.offerings == 2 and everywhere.seats is None  # seats not stated for one


def test_area_choices_list_every_municipality_of_a_county_with_demand(advisor, concepts):
    companies_with_needs(advisor, concepts["welder"], 3, municipality="2380")
    choices = dict(demand_report(ReportFilters(), today=TODAY).areas)
    assert "c:23" in choices and "m:2309" in choices and "m:2380" in choices  # Krokom has no demand
    assert "c:22" not in choices


def test_report_over_time_by_quarter(advisor, concepts):
    from django.utils import timezone

    from sim.competence.models import CompetenceNeed

    companies_with_needs(advisor, concepts["welder"], 3)
    CompetenceNeed.objects.update(created_at=timezone.make_aware(dt.datetime(2026, 5, 4, 12)))
    report = demand_report(ReportFilters(), today=TODAY)
    assert report.quarters == ["2026Q2"]
    assert _row(report, concepts["welder"]).quarters[0].people == 6


def test_closed_and_unconfirmed_needs_do_not_count(advisor, concepts):
    companies_with_needs(advisor, concepts["welder"], 3)
    from sim.competence.models import CompetenceNeed, NeedConcept

    need = CompetenceNeed.objects.first()
    services.need_update(advisor, need, status="met")
    assert _shown(demand_report(ReportFilters(), today=TODAY), concepts["welder"]) is None
    services.need_update(advisor, need, status="open")
    NeedConcept.objects.filter(need=need).update(confirmed=False)
    assert _shown(demand_report(ReportFilters(), today=TODAY), concepts["welder"]) is None
