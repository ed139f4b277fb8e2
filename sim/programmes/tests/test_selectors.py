"""Routing reads: project scoping, the pipeline board and its filters, follow-ups (overdue first),
the company timeline and the stale-referral cutoff."""

import datetime as dt

import pytest
from django.utils import timezone

from sim.companies.tests.factories import CompanyFactory
from sim.core.roles import Role
from sim.programmes import selectors
from sim.programmes.models import FollowUp, InterventionStatus, Referral, ReferralStatus

from .routing_builders import (
    english_settings,
    focus_area,
    make_intervention,
    make_offer,
    make_project,
    make_referral,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def english(settings):
    with english_settings(settings):
        yield


@pytest.fixture
def world(make_user):
    anna = make_user(Role.ADVISOR, first_name="Anna")
    bo = make_user(Role.ADVISOR, first_name="Bo")
    outsider = make_user(Role.ADVISOR)
    project = make_project(anna, bo)
    other = make_project(outsider)
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    production = make_offer(project, title="Produktionslyftet", focus_areas=[focus_area("production_efficiency")])
    export = make_offer(project, title="Exportlyftet", focus_areas=[focus_area("internationalisation")])
    return {"anna": anna, "bo": bo, "outsider": outsider, "project": project, "other": other, "company": company,
            "production": production, "export": export}


def test_referrals_are_scoped_to_the_users_projects(world, make_user):
    mine = make_referral(world["project"], world["company"], world["production"], advisor=world["anna"])
    theirs = make_referral(world["other"], world["company"], make_offer(world["other"]))
    assert list(selectors.referrals_visible_to(world["anna"])) == [mine]
    assert list(selectors.referrals_visible_to(world["outsider"])) == [theirs]
    assert set(selectors.referrals_visible_to(make_user(Role.ADMIN))) == {mine, theirs}
    assert not selectors.referrals_visible_to(make_user(Role.COMPANY_REPRESENTATIVE)).exists()
    assert selectors.referral_for_user(world["outsider"], mine.pk) is None


def test_pipeline_columns_filters_and_next_moves(world):
    project, company = world["project"], world["company"]
    a = make_referral(project, company, world["production"], advisor=world["anna"])
    b = make_referral(project, CompanyFactory(), world["export"], advisor=world["bo"], status=ReferralStatus.ACCEPTED,
                      accepted_on=TODAY)
    c = make_referral(project, CompanyFactory(), world["export"], advisor=world["anna"], status=ReferralStatus.DECLINED,
                      declined_on=TODAY, reason="Inte nu")
    columns = selectors.pipeline(world["anna"], project)
    assert [col.status for col in columns] == ["proposed", "accepted", "started", "completed", "declined", "withdrawn"]
    by_status = {col.status: col for col in columns}
    assert by_status["proposed"].cards == [a] and by_status["accepted"].cards == [b] and by_status["declined"].cards == [c]
    assert by_status["proposed"].open and not by_status["declined"].open
    card = by_status["proposed"].cards[0]
    assert [s for s, _label in card.forward_statuses] == ["accepted"]
    assert [s for s, _label in card.closing_statuses] == ["declined", "withdrawn"]
    assert by_status["declined"].cards[0].next_statuses == []

    only_bo = selectors.pipeline(world["anna"], project, selectors.PipelineFilters(advisor=world["bo"].pk))
    assert [card for col in only_bo for card in col.cards] == [b]
    export_only = selectors.pipeline(
        world["anna"], project, selectors.PipelineFilters(focus_area=focus_area("internationalisation").pk))
    assert {card for col in export_only for card in col.cards} == {b, c}
    # Another project's member sees nothing of this board.
    assert all(not col.cards for col in selectors.pipeline(world["outsider"], project))


def test_pipeline_filters_from_query_parameters():
    filters = selectors.PipelineFilters.from_params({"advisor": "12", "focus_area": "x"})
    assert (filters.advisor, filters.focus_area) == (12, None)
    assert filters.as_query() == {"advisor": 12}


def test_closed_columns_are_cut(world, monkeypatch):
    monkeypatch.setattr(selectors, "CLOSED_COLUMN_LIMIT", 2)
    for _n in range(3):
        make_referral(world["project"], CompanyFactory(), world["export"], status=ReferralStatus.WITHDRAWN,
                      withdrawn_on=TODAY, reason="x")
    column = {c.status: c for c in selectors.pipeline(world["anna"], world["project"])}["withdrawn"]
    assert (len(column.cards), column.count, column.truncated) == (2, 3, True)


def _follow_up(world, title, due, **kwargs):
    return FollowUp.objects.create(project=kwargs.pop("project", world["project"]), company=world["company"], title=title,
                                   due_on=due, assigned_to=kwargs.pop("assigned_to", world["anna"]), **kwargs)


def test_my_follow_ups_overdue_first_and_done_last(world):
    later = _follow_up(world, "Senare", TODAY + dt.timedelta(days=10))
    today = _follow_up(world, "Idag", TODAY)
    overdue_old = _follow_up(world, "Länge sedan", TODAY - dt.timedelta(days=20))
    overdue = _follow_up(world, "Igår", TODAY - dt.timedelta(days=1))
    done = _follow_up(world, "Klar", TODAY - dt.timedelta(days=30), done_at=timezone.now())
    _follow_up(world, "Bos", TODAY - dt.timedelta(days=5), assigned_to=world["bo"])
    _follow_up(world, "Annat projekt", TODAY - dt.timedelta(days=5), project=world["other"])

    rows = selectors.my_follow_ups(world["anna"])
    assert rows == [overdue_old, overdue, today, later]
    assert [r.is_overdue for r in rows] == [True, True, False, False]
    assert rows[2].is_due_today
    assert selectors.my_follow_ups(world["anna"], include_done=True)[-1] == done
    assert set(selectors.follow_ups_due(world["anna"])) == {overdue_old, overdue, today}
    # The other project's follow-up is not visible even though it is assigned to Anna.
    assert "Annat projekt" not in [f.title for f in selectors.follow_ups_visible_to(world["anna"])]


def test_follow_ups_of_a_company(world):
    open_one = _follow_up(world, "Öppen", TODAY + dt.timedelta(days=3))
    done = _follow_up(world, "Klar", TODAY - dt.timedelta(days=3), done_at=timezone.now())
    overdue = _follow_up(world, "Sen", TODAY - dt.timedelta(days=3), assigned_to=world["bo"])
    rows = selectors.follow_ups_of(world["anna"], world["company"])
    assert rows == [overdue, open_one, done]
    assert rows[0].is_overdue


def test_company_timeline_has_every_dated_step_newest_first(world):
    company = world["company"]
    referral = make_referral(world["project"], company, world["production"], status=ReferralStatus.STARTED,
                             proposed_on=dt.date(2025, 1, 10), accepted_on=dt.date(2025, 2, 1),
                             started_on=dt.date(2025, 3, 1))
    intervention = make_intervention(world["project"], company, title="Automationsanalys",
                                     status=InterventionStatus.DELIVERED, approved_on=dt.date(2025, 1, 20),
                                     started_on=dt.date(2025, 2, 10), delivered_on=dt.date(2025, 4, 1),
                                     created_at=timezone.make_aware(dt.datetime(2025, 1, 5, 9, 0)))
    make_referral(world["other"], company, make_offer(world["other"]))  # not Anna's project

    routing = selectors.company_routing(world["anna"], company)
    assert [item.obj for item in routing["items"]] == [intervention, referral]
    assert [label for label, _day in routing["items"][1].steps] == ["Proposed", "Accepted", "Started"]
    same_day = make_referral(world["project"], CompanyFactory(), world["export"], status=ReferralStatus.STARTED,
                             proposed_on=TODAY, accepted_on=TODAY, started_on=TODAY)
    same_day_events = [e.label for e in selectors.company_routing(world["anna"], same_day.company)["events"]]
    assert same_day_events == ["Started", "Accepted", "Proposed"]
    dates = [event.on for event in routing["events"]]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == dt.date(2025, 4, 1)
    assert {(e.kind, e.label, e.on) for e in routing["events"]} >= {
        ("referral", "Started", dt.date(2025, 3, 1)), ("intervention", "Approved", dt.date(2025, 1, 20)),
        ("intervention", "Delivered", dt.date(2025, 4, 1)), ("intervention", "Drafted", dt.date(2025, 1, 5)),
    }


def test_stale_referrals_cutoff(world):
    def aged(days, status=ReferralStatus.PROPOSED):
        referral = make_referral(world["project"], CompanyFactory(), world["export"], status=status,
                                 **({"accepted_on": TODAY} if status == ReferralStatus.ACCEPTED else {}))
        changed = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(23, 59)))
        Referral.objects.filter(pk=referral.pk).update(status_changed_at=changed)
        return referral

    thirty = aged(30)
    twenty_nine = aged(29)
    accepted = aged(40, ReferralStatus.ACCEPTED)
    stale = set(selectors.stale_referrals(today=TODAY, days=30))
    assert thirty in stale and accepted in stale
    assert twenty_nine not in stale


def test_my_open_referrals(world):
    mine = make_referral(world["project"], world["company"], world["production"], advisor=world["anna"])
    make_referral(world["project"], CompanyFactory(), world["production"], advisor=world["bo"])
    make_referral(world["project"], CompanyFactory(), world["export"], advisor=world["anna"],
                  status=ReferralStatus.WITHDRAWN, withdrawn_on=TODAY, reason="x")
    assert selectors.my_open_referrals(world["anna"]) == [mine]
