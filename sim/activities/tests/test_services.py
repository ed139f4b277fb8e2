"""Activity, event, registration and attendance services: rules, audit, capacity."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sim.activities import services
from sim.activities.models import Activity, Registration
from sim.companies.tests.factories import CompanyFactory, ContactFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes.tests.project_helpers import english, make_project

from .builders import activity, area, event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def project(advisor):
    return make_project(advisor, focus_areas=["production_efficiency", "financing"])


def test_create_defaults_advisor_to_the_actor_and_audits_with_notes_out_of_the_company_history(advisor, project):
    company = CompanyFactory()
    contact = ContactFactory(company=company)
    item = activity(advisor, project, company, contacts=[contact], notes="Konfidentiellt om ägarbyte.")
    assert list(item.advisors.all()) == [advisor] and list(item.contacts.all()) == [contact]
    event_ = AuditEvent.objects.get(object_type="activities.activity", object_id=str(item.pk))
    assert event_.scope_type == "activities.activity"  # not the company page's history
    assert event_.changes["advisors"]["after"] == [advisor.pk]
    assert not AuditEvent.objects.filter(scope_type="companies.company", scope_id=str(company.pk),
                                         object_type="activities.activity").exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"hours": "0"}, "hours"),
    ({"hours": "250"}, "hours"),
    ({"date": dt.date(2023, 12, 31)}, "date"),
    ({"date": dt.date.today() + dt.timedelta(days=3)}, "date"),
    ({"focus": "internationalisation"}, "focus_area"),
])
def test_activity_rules(advisor, project, change, field):
    with pytest.raises(ValidationError) as exc:
        activity(advisor, project, CompanyFactory(), **change)
    assert field in exc.value.message_dict
    assert not Activity.objects.exists()


def test_advisors_must_work_in_the_project_and_contacts_belong_to_the_company(advisor, project, make_user):
    company = CompanyFactory()
    with pytest.raises(ValidationError, match="do not work in the project"):
        activity(advisor, project, company, advisors=[make_user(Role.ADVISOR)])
    with pytest.raises(ValidationError) as exc:
        activity(advisor, project, company, contacts=[ContactFactory()])
    assert "contacts" in exc.value.message_dict
    with pytest.raises(ValidationError, match="archived"):
        activity(advisor, project, CompanyFactory(status="archived"))
    closed = make_project(advisor, status="closed")
    with pytest.raises(ValidationError, match="closed"):
        activity(advisor, closed, company)


def test_update_and_delete_are_audited(advisor, project, make_user):
    item = activity(advisor, project, CompanyFactory(), hours="1.5")
    services.activity_update(advisor, item, {"hours": Decimal("3"), "focus_area": area("financing")})
    item.refresh_from_db()
    assert item.hours == Decimal("3") and item.focus_area.key == "financing"
    change = AuditEvent.objects.get(object_type="activities.activity", action="update")
    assert change.changes["hours"] == {"before": "1.5", "after": "3"}
    pk = item.pk
    services.activity_delete(make_user(Role.ADMIN), item, reason="Dubbelregistrerad")
    assert not Activity.objects.filter(pk=pk).exists()
    gone = AuditEvent.objects.get(object_type="activities.activity", object_id=str(pk), action="archive")
    assert gone.message == "Dubbelregistrerad" and gone.changes["hours"]["before"] == "3"


def test_registration_capacity_is_enforced_with_a_clear_message(advisor, project):
    item = event(advisor, project, capacity=2)
    company = CompanyFactory()
    first = services.registration_create(advisor, item, {"contact": ContactFactory(company=company)})
    services.registration_create(advisor, item, {"name": "Extern Gäst", "organisation_name": "Mittuniversitetet"})
    with pytest.raises(services.EventFull) as exc:
        services.registration_create(advisor, item, {"name": "Tredje Person"})
    assert "The event is full: all 2 places are taken" in exc.value.messages[0]
    assert item.registrations.count() == 2
    services.registration_cancel(advisor, first)
    third = services.registration_create(advisor, item, {"name": "Tredje Person"})
    assert third.pk and item.registrations.filter(cancelled_at__isnull=True).count() == 2
    with pytest.raises(ValidationError, match="capacity cannot be lower"):
        services.event_update(advisor, item, {"capacity": 1})


def test_registering_a_contact_twice_and_reregistering(advisor, project):
    item = event(advisor, project)
    contact = ContactFactory(name="Karin Lund")
    registration = services.registration_create(advisor, item, {"contact": contact})
    assert (registration.name, registration.email, registration.company) == ("Karin Lund", contact.email, contact.company)
    with pytest.raises(ValidationError, match="already registered"):
        services.registration_create(advisor, item, {"contact": contact})
    services.registration_cancel(advisor, registration)
    again = services.registration_create(advisor, item, {"contact": contact})
    assert again.pk == registration.pk and again.cancelled_at is None
    assert AuditEvent.objects.filter(object_type="activities.registration", action="restore").exists()
    with pytest.raises(ValidationError, match="another company"):
        services.registration_create(advisor, item, {"contact": ContactFactory(), "company": CompanyFactory()})
    with pytest.raises(ValidationError, match="erased"):
        services.registration_create(advisor, item, {"contact": ContactFactory(erased_at=timezone.now())})
    closed = event(advisor, project, open_=False)
    with pytest.raises(ValidationError, match="closed"):
        services.registration_create(advisor, closed, {"name": "Sen Anmälan"})


def test_attendance(advisor, project):
    item = event(advisor, project, days=-1)
    registration = services.registration_create(advisor, item, {"name": "Närvarande Person"})
    services.attendance_set(advisor, registration, True)
    assert Registration.objects.get(pk=registration.pk).attended is True
    services.attendance_set(advisor, registration, True)  # no change, no event
    assert AuditEvent.objects.filter(object_type="activities.registration", action="update").count() == 1
    services.registration_cancel(advisor, registration)
    assert Registration.objects.get(pk=registration.pk).attended is None
    with pytest.raises(ValidationError, match="cancelled registration"):
        services.attendance_set(advisor, registration, True)


def test_event_rules(advisor, project):
    with pytest.raises(ValidationError) as exc:
        services.event_create(advisor, project, {"title": "Fel", "starts_at": timezone.now(),
                                                 "ends_at": timezone.now() - dt.timedelta(hours=2)})
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.event_create(advisor, project, {"title": "", "starts_at": timezone.now()})
    with pytest.raises(ValidationError, match="Unknown field"):
        services.event_create(advisor, project, {"title": "X", "starts_at": timezone.now(), "nonsense": 1})
