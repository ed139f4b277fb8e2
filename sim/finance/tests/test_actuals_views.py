"""Pages of the actuals: permissions per role, project scoping, and the journeys (book, reverse,
import, report a month, staff rates, contributions)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.finance.models import CostEntry, StaffRate, TimeReport
from sim.finance.tests.actuals_builders import (
    add_member,
    adopt_scenario,
    english,
    make_entry,
    make_intervention,
    make_project,
    make_rate,
    owner_partner,
)

D = Decimal
CORPUS = Path(__file__).parent / "cost_corpus"
pytestmark = pytest.mark.django_db

READERS = (Role.PROJECT_MANAGER, Role.AUDITOR)
DENIED = (Role.ADVISOR, Role.COMPANY_REPRESENTATIVE, Role.EDUCATION_PROVIDER)


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with english(settings):
        yield


@pytest.fixture
def project():
    return make_project()


def login(client_for, role, project=None):
    client = client_for(role)
    if project is not None:
        add_member(project, client.user)
    return client


def read_pages(project, entry, rate):
    return [
        reverse("finance:costs-project", args=[project.pk]),
        reverse("finance:cost-detail", args=[entry.pk]),
        reverse("finance:time-project", args=[project.pk]),
        reverse("finance:staff-rates", args=[project.pk]),
        reverse("finance:contributions", args=[project.pk]),
    ]


def write_pages(project, entry, rate):
    return [
        reverse("finance:cost-create", args=[project.pk]),
        reverse("finance:cost-reverse", args=[entry.pk]),
        reverse("finance:cost-import", args=[project.pk]),
        reverse("finance:time-entry", args=[project.pk]),
        reverse("finance:staff-rate-edit", args=[rate.pk]),
    ]


@pytest.fixture
def records(project, make_user):
    advisor = make_user(Role.ADVISOR)
    add_member(project, advisor)
    return make_entry(project, voucher="V9"), make_rate(project, advisor)


# --- Permissions and scoping ----------------------------------------------------------------


def test_finance_officer_reads_and_writes(client_for, project, records):
    client = login(client_for, Role.FINANCE_OFFICER, project)
    for url in read_pages(project, *records) + write_pages(project, *records):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", READERS)
def test_project_manager_and_auditor_read_only(client_for, project, records, role):
    client = login(client_for, role, project)
    for url in read_pages(project, *records):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Book a cost" not in response.content
    for url in write_pages(project, *records):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url
    assert client.post(reverse("finance:staff-rates", args=[project.pk]), {}).status_code == 403
    assert CostEntry.objects.count() == 1


@pytest.mark.parametrize("role", DENIED)
def test_others_are_denied(client_for, project, records, role):
    client = login(client_for, role, project)
    for url in read_pages(project, *records) + write_pages(project, *records):
        assert client.get(url).status_code == 403, url


def test_non_members_get_404(client_for, project, records):
    client = login(client_for, Role.FINANCE_OFFICER, make_project())
    for url in read_pages(project, *records) + write_pages(project, *records):
        assert client.get(url).status_code == 404, url


def test_anonymous_is_sent_to_login(client, project, records):
    for url in read_pages(project, *records):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_index_pages_go_to_the_current_project(client_for, project):
    client = login(client_for, Role.AUDITOR, project)
    response = client.get(reverse("finance:costs"))
    assert response.status_code == 302 and response["Location"] == reverse("finance:costs-project", args=[project.pk])
    assert client.get(reverse("finance:time"))["Location"] == reverse("finance:time-project", args=[project.pk])
    lonely = client_for(Role.AUDITOR)
    response = lonely.get(reverse("finance:costs"))
    assert response.status_code == 200 and b"do not work in any project" in response.content


def test_navigation_link(client_for, project):
    client = login(client_for, Role.AUDITOR, project)
    assert reverse("finance:costs").encode() in client.get(reverse("home")).content
    advisor = login(client_for, Role.ADVISOR, project)
    assert reverse("finance:costs").encode() not in advisor.get(reverse("home")).content


# --- Cost ledger ----------------------------------------------------------------------------


@pytest.fixture
def officer_client(client_for, project):
    return login(client_for, Role.FINANCE_OFFICER, project)


def test_book_a_cost(officer_client, project):
    intervention = make_intervention(project)
    url = reverse("finance:cost-create", args=[project.pk])
    response = officer_client.post(url, {
        "date": "2024-03-15", "voucher": "V42", "category": "company_support", "partner": owner_partner(project).pk,
        "amount_sek": "12500,50", "description": "Konsultfaktura", "intervention": intervention.pk, "company": ""})
    entry = CostEntry.objects.get(voucher="V42")
    assert response.status_code == 302 and response["Location"] == reverse("finance:cost-detail", args=[entry.pk])
    assert entry.amount_sek == D("12500.50") and entry.company == intervention.company
    page = officer_client.get(reverse("finance:costs-project", args=[project.pk]))
    assert b"V42" in page.content and b"12,500.50" in page.content


def test_book_a_cost_shows_errors(officer_client, project):
    url = reverse("finance:cost-create", args=[project.pk])
    response = officer_client.post(url, {"date": "2024-03-15", "voucher": "V1", "category": "travel",
                                         "amount_sek": "0"})
    assert response.status_code == 400
    assert b"The amount cannot be zero." in response.content
    response = officer_client.post(url, {"date": "2024-03-15", "voucher": "V1", "category": "travel",
                                         "amount_sek": "12 tusen", "company": "5560360794"})
    assert response.status_code == 400
    assert b"Enter an amount, e.g. 12 500,50." in response.content and b"check digit" in response.content
    assert not CostEntry.objects.exists()


def test_staff_is_not_a_choice_when_booking(officer_client, project):
    response = officer_client.post(reverse("finance:cost-create", args=[project.pk]), {
        "date": "2024-03-15", "voucher": "V1", "category": "staff", "amount_sek": "100"})
    assert response.status_code == 400 and not CostEntry.objects.exists()


def test_ledger_filters(officer_client, project):
    make_entry(project, voucher="A1", category="travel", amount="100", date=dt.date(2024, 2, 1))
    make_entry(project, voucher="B2", category="equipment", amount="900", date=dt.date(2024, 5, 1), description="Skrivare")
    url = reverse("finance:costs-project", args=[project.pk])
    content = officer_client.get(url, {"category": "equipment"}).content
    assert b"B2" in content and b">A1<" not in content
    content = officer_client.get(url, {"start": "2024-03-01"}).content
    assert b"B2" in content and b">A1<" not in content
    content = officer_client.get(url, {"q": "skrivare"}).content
    assert b"B2" in content and b">A1<" not in content


def test_reverse_an_entry(officer_client, project):
    entry = make_entry(project, voucher="V7", amount="4000")
    detail = reverse("finance:cost-detail", args=[entry.pk])
    assert b"Reverse this entry" in officer_client.get(detail).content
    response = officer_client.post(reverse("finance:cost-reverse", args=[entry.pk]), {"reason": ""})
    assert response.status_code == 400 and b"This field is required" in response.content
    response = officer_client.post(reverse("finance:cost-reverse", args=[entry.pk]), {"reason": "Dubbelbokad"})
    assert response.status_code == 302
    reversal = CostEntry.objects.get(reverses=entry)
    assert reversal.amount_sek == D("-4000.00")
    page = officer_client.get(detail).content
    assert b"This entry has been reversed by" in page and b"Reverse this entry" not in page and b"Dubbelbokad" in page
    response = officer_client.post(reverse("finance:cost-reverse", args=[entry.pk]), {"reason": "Igen"})
    assert response.status_code == 400 and b"already been reversed" in response.content
    page = officer_client.get(reverse("finance:cost-detail", args=[reversal.pk])).content
    assert b"This entry is a reversal of" in page and b"Reverse this entry" not in page


# --- Import ---------------------------------------------------------------------------------


def _upload(client, project, name):
    data = (CORPUS / name).read_bytes()
    return client.post(reverse("finance:cost-import", args=[project.pk]),
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_import_upload_preview_confirm(officer_client, project):
    page = officer_client.get(reverse("finance:cost-import", args=[project.pk]))
    assert b"externa tj" in page.content and b"company_support" in page.content
    response = _upload(officer_client, project, "good_utf8_semicolon.csv")
    assert response.status_code == 302
    preview = officer_client.get(response["Location"])
    assert preview.status_code == 200 and b'id="count-created">4<' in preview.content
    assert not CostEntry.objects.exists()
    response = officer_client.post(response["Location"], {"action": "import"})
    assert response.status_code == 302 and response["Location"] == reverse("finance:costs-project", args=[project.pk])
    assert CostEntry.objects.count() == 4
    assert set(AuditEvent.objects.filter(object_type="finance.costentry").values_list("source", flat=True)) == {"web"}
    # Again: nothing to add, and the page says so.
    response = _upload(officer_client, project, "good_utf8_semicolon.csv")
    preview = officer_client.get(response["Location"])
    assert b"already imported" in preview.content and b"disabled" in preview.content
    response = officer_client.post(response["Location"], {"action": "import"}, follow=True)
    assert b"already imported" in response.content
    assert CostEntry.objects.count() == 4


def test_import_with_errors_lists_them_and_books_nothing(officer_client, project):
    response = _upload(officer_client, project, "bad_amount.csv")
    preview = officer_client.get(response["Location"])
    assert b"is not an amount" in preview.content and b"Belopp" in preview.content
    response = officer_client.post(response["Location"], {"action": "import"})
    assert response.status_code == 400 and not CostEntry.objects.exists()


def test_import_not_a_table(officer_client, project):
    response = _upload(officer_client, project, "binary.csv")
    preview = officer_client.get(response["Location"])
    assert b"This file cannot be imported" in preview.content and b"binary data" in preview.content


def test_import_cancel_and_other_users_token(officer_client, project, make_user):
    from django.test import Client

    response = _upload(officer_client, project, "good_utf8_semicolon.csv")
    url = response["Location"]
    other = Client()
    colleague = make_user(Role.FINANCE_OFFICER)
    add_member(project, colleague)
    other.force_login(colleague)
    assert other.get(url).status_code == 404
    response = officer_client.post(url, {"action": "cancel"})
    assert response.status_code == 302
    assert officer_client.get(url).status_code == 404
    assert not CostEntry.objects.exists()


def test_import_token_of_another_project_is_404(officer_client, project):
    second = make_project()
    add_member(second, officer_client.user)
    response = _upload(officer_client, project, "good_utf8_semicolon.csv")
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert officer_client.get(reverse("finance:cost-import-preview", args=[second.pk, token])).status_code == 404


# --- Time reports ---------------------------------------------------------------------------


def test_report_a_month(officer_client, project, make_user):
    advisor = make_user(Role.ADVISOR, first_name="Erik", last_name="Hansson")
    add_member(project, advisor)
    make_rate(project, advisor)
    url = reverse("finance:time-entry", args=[project.pk])
    page = officer_client.get(url, {"person": advisor.pk, "month": "2024-03"})
    assert page.status_code == 200 and b"474.07" in page.content and b'id="time-grid"' in page.content
    areas = {a.key: a.pk for a in project.focus_areas.all()}
    response = officer_client.post(url, {
        "person": advisor.pk, "month": "2024-03", f"hours_{areas['production_efficiency']}": "60",
        f"hours_{areas['internationalisation']}": "", "hours_general": "12,5", "note": "Mars"})
    assert response.status_code == 302
    assert TimeReport.objects.filter(person=advisor).count() == 2
    listing = officer_client.get(response["Location"])
    assert b"72.5" in listing.content and b"Erik Hansson" in listing.content


def test_report_a_month_refusals(officer_client, project, make_user):
    advisor = make_user(Role.ADVISOR)
    add_member(project, advisor)
    url = reverse("finance:time-entry", args=[project.pk])
    page = officer_client.get(url, {"person": advisor.pk, "month": "2024-03"})
    assert b"No staff rate is valid in this month" in page.content
    response = officer_client.post(url, {"person": advisor.pk, "month": "2024-03", "hours_general": "10"})
    assert response.status_code == 400 and b"has no staff rate valid in March 2024" in response.content
    make_rate(project, advisor)
    response = officer_client.post(url, {"person": advisor.pk, "month": "2024-03", "hours_general": "300"})
    assert response.status_code == 400 and b"more than one person can work" in response.content
    response = officer_client.post(url, {"person": advisor.pk, "month": "march", "hours_general": "3"})
    assert response.status_code == 400 and b"is not a month" in response.content
    outsider = make_user(Role.ADVISOR)
    response = officer_client.get(url, {"person": outsider.pk, "month": "2024-03"})
    assert b"Select a valid choice" in response.content
    assert not TimeReport.objects.exists()


def test_time_list_filters(officer_client, project, make_user):
    advisor = make_user(Role.ADVISOR, first_name="Sara", last_name="Nordin")
    add_member(project, advisor)
    make_rate(project, advisor)
    TimeReport.objects.create(project=project, person=advisor, month=dt.date(2024, 3, 1), hours=D(10),
                              hourly_cost_sek=D(500))
    TimeReport.objects.create(project=project, person=advisor, month=dt.date(2024, 5, 1), hours=D(7),
                              hourly_cost_sek=D(500))
    url = reverse("finance:time-project", args=[project.pk])
    content = officer_client.get(url, {"start": "2024-04"}).content.decode()
    assert "2024-05" in content and ">2024-03<" not in content
    assert 'id="time-total-hours">7' in content


# --- Staff rates and contributions ----------------------------------------------------------


def test_staff_rates_add_and_edit(officer_client, project, make_user):
    advisor = make_user(Role.ADVISOR)
    add_member(project, advisor)
    url = reverse("finance:staff-rates", args=[project.pk])
    response = officer_client.post(url, {"person": advisor.pk, "valid_from": "2024-01-01",
                                         "monthly_salary_sek": "45000", "overhead_pct": "51", "annual_hours": "1720"})
    assert response.status_code == 302
    rate = StaffRate.objects.get(person=advisor)
    assert b"474.07" in officer_client.get(url).content
    response = officer_client.post(url, {"person": advisor.pk, "valid_from": "2024-01-01",
                                         "monthly_salary_sek": "46000", "overhead_pct": "51", "annual_hours": "1720"})
    assert response.status_code == 400
    edit = reverse("finance:staff-rate-edit", args=[rate.pk])
    response = officer_client.post(edit, {"person": advisor.pk, "valid_from": "2024-01-01",
                                          "monthly_salary_sek": "47000", "overhead_pct": "51", "annual_hours": "1720"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.monthly_salary_sek == D(47000)


def test_contributions_page(client_for, project):
    client = login(client_for, Role.AUDITOR, project)
    intervention = make_intervention(project, own_cash="60000", own_hours="80")
    make_entry(project, category="company_support", amount="150000", intervention=intervention)
    url = reverse("finance:contributions", args=[project.pk])
    content = client.get(url).content.decode()
    assert 'id="no-rate"' in content and 'id="total-cash">60,000.00' in content
    adopt_scenario(project, rate="500")
    content = client.get(url).content.decode()
    assert 'id="total-hours-value">40,000.00' in content and 'id="total-contributions">100,000.00' in content
    assert "150,000.00" in content
