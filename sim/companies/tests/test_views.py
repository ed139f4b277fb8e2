"""Web pages of the register: who may open what, and what the pages show."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from sim.companies import services
from sim.companies.models import Company, Contact, KeyFigures, NotDuplicate, OwnershipLink
from sim.companies.tests.factories import (
    CompanyFactory,
    CompanyRepresentativeFactory,
    ContactFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
    make_org_number,
)
from sim.core.models import AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
ADMINS = {Role.ADMIN}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def world():
    """A company nobody represents, with a contact, key figures and an owner; and a represented company."""
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    contact = ContactFactory(company=company, name="Karin Lund", notes="Hemlig anteckning om ägarbytet.")
    KeyFiguresFactory(company=company, fiscal_year=2024)
    owner = CompanyFactory(name="Ägarbolaget AB")
    link = OwnershipLinkFactory(holder=owner, held=company)
    represented = CompanyFactory(name="Representerat AB")
    return {"company": company, "contact": contact, "link": link, "owner": owner, "represented": represented}


@pytest.fixture
def as_role(client, make_user, world):
    def login(role):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        client.force_login(user)
        client.user = user
        return client

    return login


# --- Who may open what ----------------------------------------------------------------------

# (name, method, url, roles allowed, status when allowed, status for a representative when not allowed)
ENDPOINTS = [
    ("list", "get", lambda w: reverse("companies:list"), READERS | {Role.COMPANY_REPRESENTATIVE}, 200, None),
    ("detail", "get", lambda w: reverse("companies:detail", args=[w["company"].pk]), READERS, 200, 404),
    ("create", "get", lambda w: reverse("companies:create"), WRITERS, 200, 403),
    ("edit", "get", lambda w: reverse("companies:edit", args=[w["company"].pk]), WRITERS, 200, 403),
    ("archive", "get", lambda w: reverse("companies:archive", args=[w["company"].pk]), WRITERS, 200, 403),
    ("key-figures-add", "get", lambda w: reverse("companies:key-figures-add", args=[w["company"].pk]),
     WRITERS, 200, 403),
    ("key-figures-edit", "get", lambda w: reverse("companies:key-figures-edit", args=[w["company"].pk, 2024]),
     WRITERS, 200, 403),
    ("ownership-add", "get", lambda w: reverse("companies:ownership-add", args=[w["company"].pk]),
     WRITERS, 200, 403),
    ("ownership-remove", "post",
     lambda w: reverse("companies:ownership-remove", args=[w["company"].pk, w["link"].pk]), WRITERS, 302, 403),
    ("contact-add", "get", lambda w: reverse("companies:contact-add", args=[w["company"].pk]), WRITERS, 200, 403),
    ("contact-edit", "get", lambda w: reverse("companies:contact-edit", args=[w["company"].pk, w["contact"].pk]),
     WRITERS, 200, 403),
    ("contact-archive", "post",
     lambda w: reverse("companies:contact-archive", args=[w["company"].pk, w["contact"].pk]), WRITERS, 302, 403),
    ("contact-export", "get",
     lambda w: reverse("companies:contact-export", args=[w["company"].pk, w["contact"].pk]), ADMINS, 200, 403),
    ("contact-erase", "get",
     lambda w: reverse("companies:contact-erase", args=[w["company"].pk, w["contact"].pk]), ADMINS, 200, 403),
    ("export", "get", lambda w: reverse("companies:export"), READERS, 200, 403),
    ("duplicates", "get", lambda w: reverse("companies:duplicates"), ADMINS, 200, 403),
    ("merge", "get", lambda w: reverse("companies:merge", args=[w["company"].pk, w["owner"].pk]), ADMINS, 200, 403),
    ("import", "get", lambda w: reverse("companies:import"), WRITERS, 200, 403),
]


def _expected(role, allowed, ok, rep_denied):
    if role == ANONYMOUS:
        return 302
    if role in allowed:
        return ok
    if role == Role.COMPANY_REPRESENTATIVE and rep_denied:
        return rep_denied
    return 403


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "allowed", "ok", "rep_denied"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_access(as_role, world, role, name, method, url, allowed, ok, rep_denied):
    client = as_role(role)
    path = url(world)
    response = getattr(client, method)(path)
    assert response.status_code == _expected(role, allowed, ok, rep_denied), (name, role)
    if role == ANONYMOUS:
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif response.status_code == 302:
        assert response["Location"].startswith(reverse("companies:detail", args=[world["company"].pk]))


@pytest.mark.parametrize("role", sorted(set(Role) - WRITERS), ids=str)
def test_roles_that_may_not_write_change_nothing(as_role, world, role):
    client = as_role(role)
    company, contact = world["company"], world["contact"]
    posts = [
        (reverse("companies:create"), {"org_number": make_org_number(700_001), "name": "Nytt AB",
                                       "legal_form": "ab", "status": "prospect"}),
        (reverse("companies:edit", args=[company.pk]), {"name": "Ändrat AB"}),
        (reverse("companies:archive", args=[company.pk]), {"reason": "x"}),
        (reverse("companies:key-figures-add", args=[company.pk]), {"fiscal_year": 2023, "staff_awu": "1"}),
        (reverse("companies:contact-add", args=[company.pk]), {"name": "Ny", "legal_basis": "legitimate_interest"}),
        (reverse("companies:contact-edit", args=[company.pk, contact.pk]),
         {"name": "Ändrad", "legal_basis": "legitimate_interest"}),
        (reverse("companies:contact-erase", args=[company.pk, contact.pk]), {"reason": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code in (403, 404), url
    company.refresh_from_db()
    assert company.name == "Storsjöns Mekaniska AB" and company.status == "active"
    assert Company.objects.count() == 3
    assert Contact.objects.get(pk=contact.pk).name == "Karin Lund"
    assert KeyFigures.objects.count() == 1
    assert not AuditEvent.objects.exists()


# --- Representatives ------------------------------------------------------------------------


def test_a_representative_sees_their_own_company(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE)
    own = world["represented"]
    ContactFactory(company=own, name="Egen Kontakt", notes="Intern notering")
    response = client.get(reverse("companies:detail", args=[own.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Representerat AB" in html
    assert "Egen Kontakt" in html
    assert "Intern notering" not in html
    assert 'id="history"' not in html  # no audit permission
    assert reverse("companies:edit", args=[own.pk]) not in html

    listing = client.get(reverse("companies:list")).content.decode()
    assert "Representerat AB" in listing
    assert "Storsjöns Mekaniska AB" not in listing and "Ägarbolaget AB" not in listing


def test_a_representative_cannot_guess_other_ids(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE)
    for company in (world["company"], world["owner"]):
        response = client.get(reverse("companies:detail", args=[company.pk]))
        assert response.status_code == 404
        assert company.name not in response.content.decode()
    assert client.get(reverse("companies:detail", args=[99999])).status_code == 404
    assert "Storsjöns" not in client.get(reverse("companies:list") + "?q=storsjöns&status=all").content.decode()


def test_a_representatives_home_page_shows_their_company(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE)
    html = client.get(reverse("home")).content.decode()
    assert "Representerat AB" in html
    assert "Storsjöns Mekaniska AB" not in html


def test_an_education_provider_has_no_register(as_role, world):
    client = as_role(Role.EDUCATION_PROVIDER)
    home = client.get(reverse("home")).content.decode()
    assert reverse("companies:list") not in home
    assert "Storsjöns" not in home
    assert client.get(reverse("companies:list")).status_code == 403
    assert client.get(reverse("companies:detail", args=[world["company"].pk])).status_code == 403


# --- Contact notes --------------------------------------------------------------------------


def test_auditors_do_not_see_contact_notes(as_role, world, make_user):
    # Give the notes a history too: the audit trail must not leak them either.
    services.contact_update(make_user(Role.ADVISOR), world["contact"], {"notes": "Ny hemlig anteckning."})
    client = as_role(Role.AUDITOR)
    response = client.get(reverse("companies:detail", args=[world["company"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Karin Lund" in html  # the contact is listed
    assert 'id="history"' in html  # and the history is shown
    assert "Hemlig anteckning" not in html
    assert "Ny hemlig anteckning" not in html
    assert response.context["show_contact_notes"] is False


def test_advisors_see_contact_notes(as_role, world):
    client = as_role(Role.ADVISOR)
    html = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "Hemlig anteckning om ägarbytet." in html


def test_the_contact_form_has_no_notes_field_without_the_permission(client, make_user, world):
    from django.contrib.auth.models import Permission

    user = make_user(Role.AUDITOR)  # may read contacts, not their notes
    user.user_permissions.add(Permission.objects.get(codename="change_contact"))
    client.force_login(user)
    company, contact = world["company"], world["contact"]
    url = reverse("companies:contact-edit", args=[company.pk, contact.pk])
    response = client.get(url)
    assert "notes" not in response.context["form"].fields
    assert "Hemlig anteckning" not in response.content.decode()
    response = client.post(url, {"name": "Karin Lund", "role": "Ekonomichef", "legal_basis": "legitimate_interest",
                                 "notes": "overwritten"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.role == "Ekonomichef"
    assert contact.notes == "Hemlig anteckning om ägarbytet."


# --- List and HTMX --------------------------------------------------------------------------


def test_the_list_page(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.get(reverse("companies:list"), {"q": "storsjöns"})
    html = response.content.decode()
    assert "<html" in html and 'id="company-results"' in html and "<form" in html
    assert "Storsjöns Mekaniska AB" in html
    assert "Ägarbolaget AB" not in html
    assert response.context["page"].paginator.count == 1


def test_an_htmx_request_gets_only_the_results(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.get(
        reverse("companies:list"), {"q": "ägar"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="company-results"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html and 'id="company-results"' not in html
    assert 'id="result-count"' in html
    assert "Ägarbolaget AB" in html
    assert "Storsjöns Mekaniska AB" not in html
    assert [t.name for t in response.templates][0] == "companies/_results.html"


def test_an_htmx_request_for_another_target_gets_the_page(as_role, world):
    client = as_role(Role.ADVISOR)
    html = client.get(reverse("companies:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="main").content.decode()
    assert "<html" in html


def test_the_list_is_paginated_and_keeps_the_filters(as_role, settings):
    client = as_role(Role.ADVISOR)
    CompanyFactory.create_batch(26, name="Sida AB")
    response = client.get(reverse("companies:list"), {"q": "sida", "page": 2})
    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 1
    html = response.content.decode()
    assert 'href="?q=sida&page=1"' in html


def test_the_list_reports_a_bad_filter(as_role, world):
    client = as_role(Role.ADVISOR)
    html = client.get(reverse("companies:list"), {"sni": "abc"}).content.decode()
    assert "Write an SNI code or its beginning" in html


# --- Create and edit ------------------------------------------------------------------------


def company_form(**data):
    return {"org_number": make_org_number(700_001), "name": "Nya Verkstaden AB", "legal_form": "ab",
            "status": "prospect", "sni_primary": "25.620", "municipality": "2380", "growth_ambition": "unknown",
            **data}


def test_create_a_company(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.post(reverse("companies:create"), company_form(sni_secondary="33.120, 25.110"))
    company = Company.objects.get(name="Nya Verkstaden AB")
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:detail", args=[company.pk])
    assert company.sni_primary == "25620"
    assert company.sni_secondary == ["33120", "25110"]
    assert company.created_by == client.user
    event = AuditEvent.objects.get(object_id=str(company.pk), object_type="companies.company")
    assert (event.action, event.source, event.actor) == ("create", "web", client.user)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"org_number": "556036-0794"}, "org_number", "The check digit (last digit) is wrong"),
        ({"org_number": "55603607"}, "org_number", "An organisation number has 10 digits"),
        ({"sni_primary": "99999"}, "sni_primary", "99999 is not a code in SNI2007"),
        ({"sni_secondary": "25620, 99998"}, "sni_secondary", "99998 is not a code in SNI2007"),
        ({"name": ""}, "name", "This field is required"),
    ],
)
def test_create_shows_field_errors(as_role, world, data, field, message):
    client = as_role(Role.ADVISOR)
    response = client.post(reverse("companies:create"), company_form(**data))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    error = html.split(f'id="id_{field}_error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert "error-summary" in html
    assert not Company.objects.filter(name="Nya Verkstaden AB").exists()


def test_create_refuses_a_number_already_in_the_register(as_role, world):
    client = as_role(Role.ADVISOR)
    number = world["company"].org_number
    response = client.post(reverse("companies:create"), company_form(org_number=f"16{number}"))
    assert response.status_code == 200
    assert "is already in the register" in response.content.decode()
    assert Company.objects.filter(org_number=number).count() == 1


def test_edit_a_company(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    page = client.get(reverse("companies:edit", args=[company.pk]))
    assert page.context["form"].initial["org_number"] == company.org_number_display
    data = company_form(org_number=company.org_number_display, name=company.name, sni_primary="25620",
                        website="https://storsjons.se")
    response = client.post(reverse("companies:edit", args=[company.pk]), data)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.website == "https://storsjons.se"
    event = AuditEvent.objects.get(action="update", object_id=str(company.pk))
    assert event.changes["website"] == {"before": "", "after": "https://storsjons.se"}
    assert "name" not in event.changes and "org_number" not in event.changes


def test_edit_keeps_an_owner_who_is_no_longer_an_advisor(as_role, world, make_user):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    former = make_user(Role.FINANCE_OFFICER, first_name="Fia", last_name="Före")
    Company.objects.filter(pk=company.pk).update(owner_advisor=former)
    company.refresh_from_db()
    html = client.get(reverse("companies:edit", args=[company.pk])).content.decode()
    assert f'<option value="{former.pk}" selected>' in html
    data = company_form(org_number=company.org_number_display, name=company.name, sni_primary="25620",
                        phone="063-55 55 55", owner_advisor=str(former.pk))
    assert client.post(reverse("companies:edit", args=[company.pk]), data).status_code == 302
    company.refresh_from_db()
    assert company.phone == "063-55 55 55"
    assert company.owner_advisor == former


def test_edit_offers_advisors_and_project_managers_as_owners(as_role, world, make_user):
    client = as_role(Role.ADVISOR)
    pm = make_user(Role.PROJECT_MANAGER)
    auditor = make_user(Role.AUDITOR)
    owners = client.get(reverse("companies:edit", args=[world["company"].pk])).context["form"].fields[
        "owner_advisor"].queryset
    assert pm in owners and client.user in owners
    assert auditor not in owners


def test_edit_shows_field_errors(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    response = client.post(
        reverse("companies:edit", args=[company.pk]),
        company_form(org_number=company.org_number_display, name=company.name, sni_primary="12345"),
    )
    assert response.status_code == 200
    assert "12345 is not a code in SNI2007" in response.content.decode()
    company.refresh_from_db()
    assert company.sni_primary == "25620"


def test_an_archived_company_is_restored_before_editing(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    services.company_archive(client.user, company)
    response = client.get(reverse("companies:edit", args=[company.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("companies:detail", args=[company.pk])
    assert "Restore the company before editing it." in response.content.decode()


# --- Detail ---------------------------------------------------------------------------------


def test_the_company_page_shows_the_sme_class_and_its_explanation(as_role, make_user):
    client = as_role(Role.ADVISOR)
    advisor = make_user(Role.ADVISOR, username="anna")
    company = services.company_create(
        advisor, {"org_number": make_org_number(700_002), "name": "Storsjöverken AB", "sni_primary": "25620",
                  "municipality": "2380"},
    )
    services.key_figures_set(advisor, company, 2024, {"staff_awu": Decimal("8"), "turnover_sek": Decimal("15000000"),
                                                      "balance_sheet_sek": Decimal("9000000")})
    services.company_update(advisor, company, {"website": "https://storsjoverken.se"})
    response = client.get(reverse("companies:detail", args=[company.pk]))
    html = response.content.decode()
    category = html.split('id="sme-category">', 1)[1].split("</strong>", 1)[0]
    assert category == "Micro"
    explanation = html.split('class="sme-explanation">', 1)[1].split("</ul>", 1)[0]
    assert "2024" in explanation
    assert "Result: micro for 2024" in explanation
    history = html.split('id="history"', 1)[1]
    assert "anna" in history
    assert "https://storsjoverken.se" in history
    assert "created" in history and "updated" in history
    assert "Target group" in html
    assert "Metallegoarbeten" in html or "Machining" in html  # SNI name


def test_the_company_page_without_key_figures_says_so(as_role):
    client = as_role(Role.ADVISOR)
    company = CompanyFactory()
    html = client.get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert "Not determined" in html
    assert 'id="sme-category"' not in html


def test_a_merged_company_points_to_the_survivor(as_role, world, make_user):
    client = as_role(Role.ADVISOR)
    services.company_merge(make_user(Role.ADMIN), world["owner"], world["company"])
    html = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "This record was merged into" in html
    assert reverse("companies:detail", args=[world["owner"].pk]) in html


def test_history_of_an_erased_contact_shows_no_details(as_role, world, make_user):
    admin = make_user(Role.ADMIN)
    services.contact_update(admin, world["contact"], {"email": "karin.lund@exempel.se"})
    services.contact_erase(admin, world["contact"])
    client = as_role(Role.ADVISOR)
    html = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert "karin.lund@exempel.se" not in html
    assert "Karin Lund" not in html
    assert "Details removed when the contact was erased." in html


# --- Archive --------------------------------------------------------------------------------


def test_archive_and_restore(as_role, world):
    client = as_role(Role.PROJECT_MANAGER)
    company = world["company"]
    url = reverse("companies:archive", args=[company.pk])
    assert client.post(url, {"reason": "Upphört"}).status_code == 302
    company.refresh_from_db()
    assert company.status == "archived"
    assert AuditEvent.objects.get(action="archive", object_id=str(company.pk)).message == "Upphört"
    assert "status" in client.get(url).context["form"].fields  # now the restore form
    assert client.post(url, {"status": "active"}).status_code == 302
    company.refresh_from_db()
    assert company.status == "active" and company.archived_at is None


# --- Key figures and ownership --------------------------------------------------------------


def test_add_and_edit_key_figures(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    response = client.post(
        reverse("companies:key-figures-add", args=[company.pk]),
        {"fiscal_year": 2023, "staff_awu": "4", "turnover_sek": "5000000", "balance_sheet_sek": "3000000",
         "source": "Årsredovisning"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#key-figures")
    assert KeyFigures.objects.get(company=company, fiscal_year=2023).source == "Årsredovisning"
    response = client.post(
        reverse("companies:key-figures-edit", args=[company.pk, 2023]),
        {"fiscal_year": 1999, "staff_awu": "5", "turnover_sek": "5000000", "balance_sheet_sek": "3000000"},
    )
    assert response.status_code == 302
    assert KeyFigures.objects.get(company=company, fiscal_year=2023).staff_awu == Decimal("5")
    assert not KeyFigures.objects.filter(fiscal_year=1999).exists()  # the year cannot be changed
    assert client.get(reverse("companies:key-figures-edit", args=[company.pk, 2001])).status_code == 404


def test_key_figures_form_errors(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.post(
        reverse("companies:key-figures-add", args=[world["company"].pk]), {"fiscal_year": 2023, "staff_awu": "-3"}
    )
    assert response.status_code == 200
    assert 'id="id_staff_awu_error"' in response.content.decode()
    assert not KeyFigures.objects.filter(fiscal_year=2023).exists()


def test_add_and_remove_ownership(as_role, world):
    client = as_role(Role.ADVISOR)
    company = world["company"]
    other = CompanyFactory(name="Dotter AB")
    response = client.post(
        reverse("companies:ownership-add", args=[company.pk]),
        {"direction": "holding", "other": other.org_number_display, "capital_pct": "100", "voting_pct": "100"},
    )
    assert response.status_code == 302
    link = OwnershipLink.objects.get(holder=company, held=other)
    assert link.voting_pct == Decimal("100")
    html = client.get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert "Dotter AB" in html and "Ägarbolaget AB" in html
    assert client.post(reverse("companies:ownership-remove", args=[company.pk, link.pk])).status_code == 302
    assert not OwnershipLink.objects.filter(pk=link.pk).exists()


def test_ownership_with_an_unknown_company(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.post(
        reverse("companies:ownership-add", args=[world["company"].pk]),
        {"direction": "owner", "other": make_org_number(700_009), "capital_pct": "10", "voting_pct": "10"},
    )
    assert response.status_code == 200
    assert "No company with this organisation number is in the register" in response.content.decode()


def test_ownership_remove_of_another_companys_link_is_404(as_role, world):
    client = as_role(Role.ADVISOR)
    unrelated = OwnershipLinkFactory()
    url = reverse("companies:ownership-remove", args=[world["company"].pk, unrelated.pk])
    assert client.post(url).status_code == 404
    assert OwnershipLink.objects.filter(pk=unrelated.pk).exists()


# --- Contacts -------------------------------------------------------------------------------


def test_add_a_contact_needs_a_consent_date_for_consent(as_role, world):
    client = as_role(Role.ADVISOR)
    url = reverse("companies:contact-add", args=[world["company"].pk])
    response = client.post(url, {"name": "Olle Berg", "legal_basis": "consent"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_consent_date_error"' in html and "Consent needs the date it was given." in html
    assert not Contact.objects.filter(name="Olle Berg").exists()
    response = client.post(url, {"name": "Olle Berg", "legal_basis": "consent", "consent_date": "2025-01-15",
                                 "email": "olle@exempel.se"})
    assert response.status_code == 302
    contact = Contact.objects.get(name="Olle Berg")
    assert contact.consent_date == dt.date(2025, 1, 15)


def test_edit_and_archive_a_contact(as_role, world):
    client = as_role(Role.ADVISOR)
    company, contact = world["company"], world["contact"]
    response = client.post(
        reverse("companies:contact-edit", args=[company.pk, contact.pk]),
        {"name": "Karin Lund", "role": "Vd", "legal_basis": "legitimate_interest", "notes": contact.notes},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.role == "Vd"
    assert client.post(reverse("companies:contact-archive", args=[company.pk, contact.pk])).status_code == 302
    contact.refresh_from_db()
    assert contact.archived_at is not None


def test_contact_of_another_company_is_404(as_role, world):
    client = as_role(Role.ADVISOR)
    other = ContactFactory()
    url = reverse("companies:contact-edit", args=[world["company"].pk, other.pk])
    assert client.get(url).status_code == 404


def test_export_a_contacts_data(as_role, world):
    client = as_role(Role.ADMIN)
    company, contact = world["company"], world["contact"]
    response = client.get(reverse("companies:contact-export", args=[company.pk, contact.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="contact-{contact.pk}.json"'
    payload = json.loads(response.content)
    assert payload["contact"]["name"] == "Karin Lund"
    assert payload["contact"]["notes"] == "Hemlig anteckning om ägarbytet."
    assert AuditEvent.objects.filter(action="export", object_id=str(contact.pk), actor=client.user).exists()


def test_erase_a_contact(as_role, world):
    client = as_role(Role.ADMIN)
    company, contact = world["company"], world["contact"]
    url = reverse("companies:contact-erase", args=[company.pk, contact.pk])
    assert "Karin Lund" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Begäran via e-post"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.name != "Karin Lund" and contact.email == ""
    assert client.get(reverse("companies:contact-edit", args=[company.pk, contact.pk])).status_code == 404


# --- CSV export -----------------------------------------------------------------------------


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_export_csv_follows_the_filters(as_role, world):
    client = as_role(Role.AUDITOR)
    response = client.get(reverse("companies:export"), {"q": "storsjöns"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="foretag.csv"'
    rows = _csv(response)
    assert rows[0][:3] == ["organisationsnummer", "namn", "juridisk_form"]
    assert len(rows) == 2
    company = world["company"]
    assert rows[1][:2] == [company.org_number_display, "Storsjöns Mekaniska AB"]
    assert rows[1][4:6] == ["2380", "Östersund"]
    all_rows = _csv(client.get(reverse("companies:export")))
    assert len(all_rows) == 4


def test_export_csv_neutralises_formulas(as_role):
    client = as_role(Role.ADVISOR)
    CompanyFactory(name='=HYPERLINK("http://evil.example","klicka")', website="https://ok.se")
    CompanyFactory(name="@SUM(1+1)")
    rows = _csv(client.get(reverse("companies:export")))
    names = sorted(row[1] for row in rows[1:] if not row[1][0].isalpha())
    assert names == ["'=HYPERLINK(\"http://evil.example\",\"klicka\")", "'@SUM(1+1)"]


# --- Duplicates and merge -------------------------------------------------------------------


def test_duplicates_page_lists_pairs(as_role):
    client = as_role(Role.ADMIN)
    a = CompanyFactory(name="Brunflo Trä AB")
    b = CompanyFactory(name="Brunflo Trä")
    html = client.get(reverse("companies:duplicates")).content.decode()
    assert reverse("companies:merge", args=[a.pk, b.pk]) in html
    assert "Same name" in html


def test_merge_from_the_web(as_role):
    client = as_role(Role.ADMIN)
    a = CompanyFactory(name="Brunflo Trä AB")
    b = CompanyFactory(name="Brunflo Trä")
    ContactFactory(company=b)
    page = client.get(reverse("companies:merge", args=[a.pk, b.pk]))
    assert page.context["counts"][b.pk]["contacts"] == 1
    response = client.post(reverse("companies:merge", args=[a.pk, b.pk]), {"survivor": str(b.pk), "action": "merge"})
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:detail", args=[b.pk])
    a.refresh_from_db()
    assert a.merged_into_id == b.pk and a.status == "archived"


def test_merge_again_shows_an_error(as_role):
    client = as_role(Role.ADMIN)
    a, b = CompanyFactory(), CompanyFactory()
    services.company_merge(client.user, a, b)
    response = client.post(reverse("companies:merge", args=[a.pk, b.pk]), {"survivor": str(a.pk), "action": "merge"})
    assert response.status_code == 200
    assert "already been merged" in response.content.decode()


def test_dismiss_a_pair(as_role):
    client = as_role(Role.ADMIN)
    a = CompanyFactory(name="Brunflo Trä AB")
    b = CompanyFactory(name="Brunflo Trä")
    response = client.post(reverse("companies:merge", args=[b.pk, a.pk]), {"action": "dismiss"})
    assert response.status_code == 302
    assert NotDuplicate.objects.filter(first=a, second=b).exists()
    assert "Brunflo" not in client.get(reverse("companies:duplicates")).content.decode()


def test_web_create_derives_legal_form_and_public_body_from_the_number(client_for):
    client = client_for(Role.ADVISOR)
    response = client.post(reverse("companies:create"), {
        "org_number": "212000-2395", "name": "Ragunda kommun", "legal_form": "", "status": "active",
        "growth_ambition": "unknown",
    })
    company = Company.objects.get(org_number="2120002395")
    assert response.status_code == 302
    assert company.legal_form == "pub"
    assert company.is_public_body is True
    response = client.post(reverse("companies:create"), {
        "org_number": "556036-0793", "name": "Aktiebolaget AB", "legal_form": "", "status": "active",
        "growth_ambition": "unknown",
    })
    company = Company.objects.get(org_number="5560360793")
    assert company.legal_form == "ab"
    assert company.is_public_body is False


def test_adding_a_year_that_exists_is_refused_not_overwritten(client_for):
    client = client_for(Role.ADVISOR)
    figures = KeyFiguresFactory(fiscal_year=2023, staff_awu=Decimal("5"))
    response = client.post(reverse("companies:key-figures-add", args=[figures.company_id]), {
        "fiscal_year": 2023, "staff_awu": "40", "turnover_sek": "1", "balance_sheet_sek": "1", "source": "x",
    })
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()
    figures.refresh_from_db()
    assert figures.staff_awu == Decimal("5")


def test_api_token_reload_does_not_create_a_second_token(client_for):
    from sim.core.models import ApiToken

    client = client_for(Role.ADVISOR)
    client.post(reverse("api-tokens"), {"name": "Ekonomi"})
    client.get(reverse("api-tokens"))
    client.get(reverse("api-tokens"))
    assert ApiToken.objects.filter(user=client.user).count() == 1
