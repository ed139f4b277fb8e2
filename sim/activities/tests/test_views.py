"""Activity and event pages: roles, project scoping, notes hidden from auditors, quick entry from the
company page, capacity, attendance (HTMX and without JavaScript), participant exports."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from sim.activities import services
from sim.activities.models import Activity
from sim.companies.tests.factories import CompanyFactory, ContactFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import services_projects
from sim.programmes.tests.project_helpers import ANONYMOUS, english, make_project

from .builders import activity, area, event

pytestmark = pytest.mark.django_db

ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
SECRET = "Hemlig anteckning om ägarbytet"


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def world(make_user):
    advisor = make_user(Role.ADVISOR, first_name="Erik", last_name="Hansson")
    project = make_project(advisor, name="SIM Fortsättning")
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    contact = ContactFactory(company=company, name="Karin Lund", email="karin@storsjon.se")
    item = activity(advisor, project, company, notes=SECRET, subject="Genomgång av flöden", contacts=[contact])
    happening = event(advisor, project, capacity=3, title="Industrins dag 2025")
    services.registration_create(advisor, happening, {"contact": contact})
    services.registration_create(advisor, happening, {"name": "=HYPERLINK(\"http://x\")", "organisation_name": "+46 Konsult"})
    return {"advisor": advisor, "project": project, "company": company, "contact": contact, "activity": item,
            "event": happening}


@pytest.fixture
def as_role(client, make_user, world):
    def login(role, member=True):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if member and role in READERS - {Role.ADMIN}:
            services_projects.project_member_add(None, world["project"], user)
        client.force_login(user)
        client.user = user
        return client

    return login


def _expect(response, role, allowed):
    if role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if allowed else 403), (role, response.status_code)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reading_pages_per_role(as_role, world, role):
    client = as_role(role)
    response = client.get(reverse("activities:list"))
    _expect(response, role, role in READERS)
    if role in READERS:
        assert "Storsjöns Mekaniska AB" in response.content.decode()
    _expect(client.get(reverse("activities:event-list")), role, role in READERS)
    _expect(client.get(reverse("activities:event-detail", args=[world["event"].pk])), role, role in READERS)
    _expect(client.get(reverse("activities:event-export", args=[world["event"].pk, "csv"])), role, role in READERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_writing_pages_per_role(as_role, world, role):
    client = as_role(role)
    _expect(client.get(reverse("activities:create") + f"?company={world['company'].pk}"), role, role in WRITERS)
    _expect(client.get(reverse("activities:edit", args=[world["activity"].pk])), role, role in WRITERS)
    _expect(client.get(reverse("activities:event-create")), role, role in WRITERS)
    _expect(client.get(reverse("activities:event-edit", args=[world["event"].pk])), role, role in WRITERS)
    response = client.post(reverse("activities:registration-add", args=[world["event"].pk]), {"name": "Ny Gäst"})
    if role in WRITERS:
        assert response.status_code == 302
    else:
        _expect(response, role, False)


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.AUDITOR, Role.FINANCE_OFFICER])
def test_notes_hidden_from_those_without_the_permission(as_role, world, role):
    client = as_role(role)
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "Genomgång av flöden" in page
    assert (SECRET in page) == (role == Role.ADVISOR)
    history = client.get(reverse("companies:detail", args=[world["company"].pk]) + "#history").content.decode()
    assert (SECRET in history) == (role == Role.ADVISOR)


def test_non_members_get_404(as_role, world):
    client = as_role(Role.ADVISOR, member=False)
    make_project(client.user)
    assert "Storsjöns" not in client.get(reverse("activities:list")).content.decode()
    assert client.get(reverse("activities:edit", args=[world["activity"].pk])).status_code == 404
    assert client.get(reverse("activities:event-detail", args=[world["event"].pk])).status_code == 404
    assert client.get(reverse("activities:event-export", args=[world["event"].pk, "xlsx"])).status_code == 404
    assert client.post(reverse("activities:attendance-save", args=[world["event"].pk])).status_code == 404
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "Genomgång av flöden" not in page


def test_company_section_quick_entry_htmx_and_fallback(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    page = client.get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert 'id="activities"' in page and "Record an activity" in page
    assert f'<option value="{world["project"].pk}" selected>' in page  # the current project preselected
    url = reverse("activities:company-quick-add", args=[company.pk])
    data = {"quick-project": world["project"].pk, "quick-kind": "call", "quick-date": "2025-04-02",
            "quick-hours": "0.5", "quick-advisors": [client.user.pk], "quick-focus_area": area("financing").pk,
            "quick-subject": "Uppföljningssamtal", "quick-notes": "Kort samtal."}
    response = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activities")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("<section") and "Uppföljningssamtal" in text and "The activity was recorded" in text
    assert Activity.objects.filter(company=company, subject="Uppföljningssamtal", hours="0.5").exists()
    bad = client.post(url, {**data, "quick-hours": "0"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Hours must be more than 0" in bad.content.decode()
    fallback = client.post(url, {**data, "quick-subject": "Utan JavaScript"})
    assert fallback.status_code == 302 and fallback["Location"].endswith("#activities")
    outsider = CompanyFactory()
    assert client.post(reverse("activities:company-quick-add", args=[outsider.pk + 999])).status_code == 404


def test_auditor_sees_hours_but_no_entry_form(as_role, world):
    client = as_role(Role.AUDITOR)
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "Hours per focus area" in page and "Save activity" not in page


def test_full_create_page_company_picker_and_edit(as_role, world):
    client = as_role(Role.ADVISOR)
    picker = client.get(reverse("activities:create") + "?q=Storsjöns")
    assert "Storsjöns Mekaniska AB" in picker.content.decode()
    response = client.post(reverse("activities:create") + f"?company={world['company'].pk}", {
        "project": world["project"].pk, "kind": "workshop", "date": "2025-05-05", "hours": "6",
        "advisors": [client.user.pk], "contacts": [world["contact"].pk], "subject": "Workshop värdeflöde",
    })
    assert response.status_code == 302
    created = Activity.objects.get(subject="Workshop värdeflöde")
    response = client.post(reverse("activities:edit", args=[created.pk]), {
        "kind": "workshop", "date": "2025-05-05", "hours": "7", "advisors": [client.user.pk], "subject": "Workshop",
        "notes": "",
    })
    assert response.status_code == 302
    created.refresh_from_db()
    assert str(created.hours) == "7.00"


def test_event_capacity_message_and_attendance(as_role, world):
    client = as_role(Role.ADVISOR)
    happening = world["event"]
    url = reverse("activities:registration-add", args=[happening.pk])
    assert client.post(url, {"name": "Tredje", "email": "karin@storsjon.se"}).status_code == 422  # already registered
    assert client.post(url, {"name": "Tredje Gäst", "org_number": "556036-0793"}).status_code == 422  # no such company
    assert client.post(url, {"name": "Tredje Gäst"}).status_code == 302
    full = client.post(url, {"name": "Fjärde Gäst"})
    assert full.status_code == 422
    assert "The event is full: all 3 places are taken" in full.content.decode()
    registrations = list(happening.registrations.order_by("id"))
    # HTMX: one checkbox; the whole form's values come along.
    one = reverse("activities:attendance-one", args=[happening.pk, registrations[0].pk])
    response = client.post(one, {"attended": [registrations[0].pk], "listed": [r.pk for r in registrations]},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Saved: attended" in response.content.decode()
    registrations[0].refresh_from_db()
    assert registrations[0].attended is True
    # Without JavaScript: the whole form.
    response = client.post(reverse("activities:attendance-save", args=[happening.pk]),
                           {"attended": [registrations[1].pk], "listed": [r.pk for r in registrations]})
    assert response.status_code == 302
    states = [r.attended for r in happening.registrations.order_by("id")]
    assert states == [False, True, False]
    page = client.get(reverse("activities:event-detail", args=[happening.pk])).content.decode()
    assert "Free places" in page and "The event is full" in page


def test_exports_have_equal_content_and_are_injection_safe(as_role, world):
    client = as_role(Role.AUDITOR)
    happening = world["event"]
    csv_response = client.get(reverse("activities:event-export", args=[happening.pk, "csv"]))
    xlsx_response = client.get(reverse("activities:event-export", args=[happening.pk, "xlsx"]))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert xlsx_response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = csv_response.content.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert csv_rows == xlsx_rows
    assert csv_rows[0][:4] == ["evenemang", "datum", "namn", "e-post"]
    assert len(csv_rows) == 3
    injected = next(r for r in csv_rows if "HYPERLINK" in r[2])
    assert injected[2].startswith("'=") and injected[6] == "'+46 Konsult"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    karin = next(r for r in csv_rows if r[2] == "Karin Lund")
    assert karin[5] == "Storsjöns Mekaniska AB" and karin[4] == world["company"].org_number_display
    assert AuditEvent.objects.filter(object_type="activities.event", action="export").count() == 2
    assert client.get(reverse("activities:event-export", args=[happening.pk, "pdf"])).status_code == 404


def test_event_create_page(as_role, world):
    client = as_role(Role.PROJECT_MANAGER)
    response = client.post(reverse("activities:event-create"), {
        "title": "Rundabordssamtal om export", "kind": "roundtable", "starts_at": "2026-03-10T09:00",
        "ends_at": "2026-03-10T12:00", "place": "Östersund", "capacity": "20", "registration_open": "on",
        "focus_areas": [area("internationalisation").pk],
    })
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Rundabordssamtal om export" in page and "20" in page
    bad = client.post(reverse("activities:event-create"), {"title": "Fel", "kind": "workshop",
                                                            "starts_at": "2026-03-10T09:00", "ends_at": "2026-03-09T09:00"})
    assert bad.status_code == 200 and "cannot end before it starts" in bad.content.decode()


def test_activity_list_filters(as_role, world):
    client = as_role(Role.ADVISOR)
    activity(world["advisor"], world["project"], world["company"], hours="3", date=dt.date(2025, 6, 1),
             focus="financing", kind="visit", subject="Besök")
    response = client.get(reverse("activities:list"), {"kind": "visit"})
    text = response.content.decode()
    assert "Besök" in text and "Genomgång av flöden" not in text
    assert "1 activity, 3 hours" in text


def test_quick_entry_offers_open_projects_and_advising_members_only(as_role, world, make_user):
    auditor = make_user(Role.AUDITOR, first_name="Ingrid", last_name="Revisor")
    services_projects.project_member_add(None, world["project"], auditor)
    closed = make_project(world["advisor"], name="Avslutat projekt", status="closed")
    client = as_role(Role.ADVISOR)
    services_projects.project_member_add(None, closed, client.user)
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    quick = page[page.index('class="activity-quick"'):]
    assert "Erik Hansson" in quick and "Ingrid Revisor" not in quick
    assert "Avslutat projekt" not in quick


def test_closed_registration_hides_the_form(as_role, world):
    client = as_role(Role.ADVISOR)
    services.event_update(world["advisor"], world["event"], {"registration_open": False})
    page = client.get(reverse("activities:event-detail", args=[world["event"].pk])).content.decode()
    assert "Registration for this event is closed." in page and 'name="org_number"' not in page
