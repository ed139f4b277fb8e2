"""The demo steps of projects, routing, activities, events and outreach (``sim demo``)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max, Min, Q, Sum

import sim.activities.demo  # noqa: F401  (registers the routing and activities steps at collection)
from sim.activities import selectors as activity_selectors
from sim.activities.models import Activity, Event
from sim.companies.demo import ADVISORS
from sim.core.models import AuditEvent
from sim.programmes.demo import MITT_CODE, SIM_BUDGET, SIM_CODE, demo_today
from sim.programmes.models import (
    Intervention,
    InterventionStatus,
    Mailing,
    MailingRecipient,
    Project,
    Referral,
    ReferralStatus,
)

N = 60
SEED = 3
COMMITTED = ("approved", "in_progress", "delivered", "closed")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """`sim demo` once for this module (rolled back afterwards)."""
    with django_db_blocker.unblock(), transaction.atomic():
        mail.outbox = []
        out = io.StringIO()
        call_command("demo", seed=SEED, companies=N, stdout=out)
        yield {"sim": Project.objects.get(code=SIM_CODE), "mitt": Project.objects.get(code=MITT_CODE)}
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_two_projects_with_periods_owners_partners_and_counties(demo):
    sim, mitt = demo["sim"], demo["mitt"]
    assert (sim.start_date, sim.end_date, sim.extended_to) == (dt.date(2019, 1, 1), dt.date(2020, 12, 31),
                                                               dt.date(2021, 12, 31))
    assert sim.owner.name == "Region Jämtland Härjedalen" and sim.status == "closed"
    assert set(sim.partners.values_list("organisation__name", flat=True)) == {"Region Jämtland Härjedalen", "IUC Z-GROUP"}
    assert list(sim.counties.values_list("code", flat=True)) == ["23"]
    assert mitt.status == "active" and mitt.start_date <= demo_today() <= mitt.effective_end
    assert sorted(mitt.counties.values_list("code", flat=True)) == ["22", "23"]
    assert mitt.partners.count() >= 3
    assert sim.focus_areas.count() == mitt.focus_areas.count() == 5


def test_staff_are_members_advisors_in_both(demo):
    for project in (demo["sim"], demo["mitt"]):
        usernames = set(project.memberships.values_list("user__username", flat=True))
        assert set(ADVISORS) <= usernames
        assert {"admin", "projektledare", "ekonom", "revisor"} <= usernames
        assert "foretag" not in usernames and "utbildare" not in usernames


def test_every_referral_status_in_the_running_project_history_in_the_closed_one(demo):
    mitt_statuses = set(Referral.objects.filter(project=demo["mitt"]).values_list("status", flat=True))
    assert mitt_statuses == set(ReferralStatus.values)
    sim_statuses = set(Referral.objects.filter(project=demo["sim"]).values_list("status", flat=True))
    assert sim_statuses <= {"completed", "declined", "withdrawn"} and "completed" in sim_statuses
    for referral in Referral.objects.all():
        assert referral.offer.project_id == referral.project_id
        dates = [d for d in (referral.proposed_on, referral.accepted_on, referral.started_on, referral.completed_on)
                 if d is not None]
        assert dates == sorted(dates) and dates[-1] <= demo_today()
        if referral.status in ("declined", "withdrawn"):
            assert referral.reason
    assert AuditEvent.objects.filter(object_type="programmes.referral", source="system").count() >= Referral.objects.count()


def test_every_intervention_status_and_believable_budgets(demo):
    sim, mitt = demo["sim"], demo["mitt"]
    assert set(Intervention.objects.filter(project=mitt).values_list("status", flat=True)) == set(InterventionStatus.values)
    assert set(Intervention.objects.filter(project=sim).values_list("status", flat=True)) <= {"closed", "delivered", "cancelled"}
    for project in (sim, mitt):
        committed = Intervention.objects.filter(project=project, status__in=COMMITTED).aggregate(s=Sum("budget_sek"))["s"]
        assert Decimal(0) < committed <= project.company_support_budget_sek
    sim_committed = Intervention.objects.filter(project=sim, status__in=COMMITTED).aggregate(s=Sum("budget_sek"))["s"]
    assert sim_committed >= SIM_BUDGET * Decimal("0.2")  # a small register: fewer companies, same share each
    for intervention in Intervention.objects.exclude(status="draft"):
        assert intervention.approved_on is not None and intervention.approved_by.username == "projektledare"
        assert 60000 <= intervention.budget_sek <= 650000


def test_activities_in_both_projects_supported_companies_have_enough_hours(demo):
    for project in (demo["sim"], demo["mitt"]):
        assert Activity.objects.filter(project=project).count() > 20
        hours = {r["company_id"]: r["hours"] for r in activity_selectors.hours_by_company(project)}
        for intervention in Intervention.objects.filter(project=project):
            assert hours[intervention.company_id] >= project.min_support_hours
        by_area = activity_selectors.hours_by_focus_area(project)
        assert len([r for r in by_area if r["key"]]) >= 4
        span = Activity.objects.filter(project=project).aggregate(first=Min("date"), last=Max("date"))
        assert project.start_date <= span["first"] and span["last"] <= min(project.effective_end, demo_today())
    advisors = set(Activity.advisors.through.objects.values_list("user__username", flat=True))
    assert advisors == set(ADVISORS)


def test_industry_day_with_registrations_and_attendance(demo):
    days = activity_selectors.with_counts(Event.objects.filter(kind="industry_day")).order_by("starts_at")
    assert {e.project.code for e in days} == {SIM_CODE, MITT_CODE}
    for day in days:
        assert 0 < day.attended_count < day.registered <= day.capacity
        assert day.companies >= 3
    upcoming = Event.objects.get(project=demo["mitt"], kind="roundtable", registration_open=True)
    assert upcoming.starts_at.date() > demo_today()
    assert not upcoming.registrations.filter(attended__isnull=False).exists()


def test_outreach_sent_through_the_dummy_backend(demo):
    assert not mail.outbox  # nothing left the machine
    invitation = Mailing.objects.get(project=demo["mitt"], event__isnull=False)
    statuses = set(invitation.recipients.values_list("status", flat=True))
    assert {MailingRecipient.Status.SENT, MailingRecipient.Status.REGISTERED, MailingRecipient.Status.BOUNCED} <= statuses
    registered = invitation.recipients.filter(status="registered").values_list("contact_id", flat=True)
    assert set(registered) <= set(invitation.event.registrations.values_list("contact_id", flat=True))
    assert invitation.status == Mailing.Status.SENT
    assert Mailing.objects.filter(status=Mailing.Status.DRAFT).exists()
    # The audit message is written in the language active when the demo ran (Swedish by default).
    opted_out = Q(message__startswith="Opted out") | Q(message__startswith="Avregistrerad från utskick")
    assert AuditEvent.objects.filter(opted_out, object_type="companies.contact").exists()
