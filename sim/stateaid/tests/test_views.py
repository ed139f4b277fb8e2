"""Pages of the ledger: who may open what (per role, and a company representative only for their own
company), the ledger with filters, recording awards refused with the figures, declarations from the
portal, the on-demand check, rates and their import, the certificate PDF and the central-register CSV."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from sim.assessments.tests.test_pdf import pdf_text
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings
from sim.stateaid import pdf
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate

from .factories import AidAwardFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate()
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER}
DECLARERS = WRITERS | {Role.ADVISOR}
EXPORTERS = WRITERS | {Role.AUDITOR}
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with english_settings(settings):
        yield


@pytest.fixture
def world():
    ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=D("10"))
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    award = AidAwardFactory(undertaking=company, granted_on=dt.date(2025, 3, 1), amount_eur=D(20000),
                            measure="Automationsanalys")
    proposal = AidAwardFactory(undertaking=company, status=AwardStatus.PROPOSED, granted_on=TODAY)
    award.document.save("beslut.pdf", ContentFile(PDF), save=False)
    documented = AidAwardFactory(undertaking=company, document=award.document.name)
    represented = CompanyFactory(name="Representerat AB")
    own = AidAwardFactory(undertaking=represented, measure="Eget stöd")
    return {"company": company, "award": award, "proposal": proposal, "documented": documented,
            "represented": represented, "own": own}


@pytest.fixture
def as_role(client, make_user):
    def login(role, world=None):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE and world is not None:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        client.force_login(user)
        client.user = user
        return client

    return login


def award_post(w):
    return {"status": "granted", "granting_authority": "Region Jämtland Härjedalen", "measure": "Exportplan",
            "granted_on": TODAY.isoformat(), "amount_sek": "100000", "amount_eur": "", "notes": ""}


# (name, method, url, data, roles allowed, status when allowed, status for a company representative)
ENDPOINTS = [
    ("ledger", "get", lambda w: reverse("stateaid:ledger"), None, READERS, 200, 200),
    ("award", "get", lambda w: reverse("stateaid:award", args=[w["award"].pk]), None, READERS, 200, 404),
    ("company", "get", lambda w: reverse("stateaid:company", args=[w["company"].pk]), None, READERS, 200, 404),
    ("award-create", "get", lambda w: reverse("stateaid:award-create", args=[w["company"].pk]), None, WRITERS, 200, 403),
    ("award-create-post", "post", lambda w: reverse("stateaid:award-create", args=[w["company"].pk]), award_post,
     WRITERS, 302, 403),
    ("award-grant", "post", lambda w: reverse("stateaid:award-grant", args=[w["proposal"].pk]),
     lambda w: {"on": TODAY.isoformat()}, WRITERS, 302, 403),
    ("award-revoke", "get", lambda w: reverse("stateaid:award-revoke", args=[w["award"].pk]), None, WRITERS, 200, 403),
    ("award-revoke-post", "post", lambda w: reverse("stateaid:award-revoke", args=[w["award"].pk]),
     lambda w: {"on": TODAY.isoformat(), "reason": "Upphävt"}, WRITERS, 302, 403),
    ("award-document", "get", lambda w: reverse("stateaid:award-document", args=[w["documented"].pk]), None,
     READERS, 200, 404),
    ("certificate", "get", lambda w: reverse("stateaid:certificate", args=[w["award"].pk]), None, READERS, 200, 404),
    ("declare", "get", lambda w: reverse("stateaid:declare", args=[w["company"].pk]), None, DECLARERS, 200, 404),
    ("profile", "get", lambda w: reverse("stateaid:profile", args=[w["company"].pk]), None, WRITERS, 200, 403),
    ("profile-post", "post", lambda w: reverse("stateaid:profile", args=[w["company"].pk]),
     lambda w: {"road_freight": "on", "fiscal_year_start": "07-01"}, WRITERS, 302, 403),
    ("check", "get", lambda w: reverse("stateaid:check"), None, READERS, 200, 403),
    ("rates", "get", lambda w: reverse("stateaid:rates"), None, READERS, 200, 403),
    ("rates-import", "get", lambda w: reverse("stateaid:rates-import"), None, WRITERS, 200, 403),
    ("export", "get", lambda w: reverse("stateaid:export"), None, EXPORTERS, 200, 403),
]


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "data", "allowed", "ok", "rep"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(as_role, world, role, name, method, url, data, allowed, ok, rep):
    client = as_role(role, world)
    response = getattr(client, method)(url(world), data(world) if data else None)
    if role == ANONYMOUS:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == ok, response.content[:800]
    elif role == Role.COMPANY_REPRESENTATIVE:
        assert response.status_code == rep
    else:
        assert response.status_code == 403


def test_company_representative_sees_and_declares_only_for_their_own_company(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE, world)
    page = client.get(reverse("stateaid:ledger")).content.decode()
    assert "Eget stöd" in page and "Automationsanalys" not in page
    assert client.get(reverse("stateaid:award", args=[world["own"].pk])).status_code == 200
    assert client.get(reverse("stateaid:certificate", args=[world["own"].pk])).status_code == 200
    company_page = client.get(reverse("companies:detail", args=[world["represented"].pk])).content.decode()
    assert 'id="deminimis"' in company_page and "Declare earlier aid" in company_page
    assert "Record an award" not in company_page
    response = client.post(reverse("stateaid:declare", args=[world["represented"].pk]), {
        "granting_authority": "Tillväxtverket", "measure": "Konsultcheck", "granted_on": "2024-10-01",
        "amount_sek": "", "amount_eur": "12000", "regulation": "", "notes": "",
        "document": SimpleUploadedFile("intyg.pdf", PDF, content_type="application/pdf"),
    })
    assert response.status_code == 302
    declared = AidAward.objects.get(declared=True)
    assert (declared.undertaking, declared.amount_eur, declared.amount_sek, declared.created_by) == (
        world["represented"], D("12000.00"), D("120000.00"), client.user)
    assert declared.document.name.endswith("intyg.pdf")
    assert client.post(reverse("stateaid:declare", args=[world["company"].pk]), {}).status_code == 404


def test_declaration_errors_are_shown(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.post(reverse("stateaid:declare", args=[world["company"].pk]), {
        "granting_authority": "Almi", "measure": "Lån", "granted_on": (TODAY + dt.timedelta(days=3)).isoformat(),
        "amount_sek": "5", "amount_eur": "5"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The date cannot be in the future." in page and "one of them" in page


def test_ledger_filters_and_the_company_section(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    AidAwardFactory(undertaking=CompanyFactory(name="Annat AB"), declared=True, granting_authority="Almi")
    page = client.get(reverse("stateaid:ledger"), {"declared": "yes"}).content.decode()
    assert "Annat AB" in page and "Automationsanalys" not in page
    page = client.get(reverse("stateaid:ledger"), {"q": "Storsjöns"}).content.decode()
    assert "Automationsanalys" in page and "Annat AB" not in page
    bad = client.get(reverse("stateaid:ledger"), {"date_from": "igår"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()
    company_page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert 'id="deminimis-headroom"' in company_page
    assert f"Storsjöns Mekaniska AB ({world['company'].org_number_display})" in company_page
    assert "Record an award" in company_page


def test_recording_an_award_over_the_ceiling_shows_the_figures(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    data = {**award_post(world), "amount_sek": "", "amount_eur": "270000.01"}  # EUR 30,000 is used
    response = client.post(reverse("stateaid:award-create", args=[world["company"].pk]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "it would exceed the de minimis ceiling" in page
    assert 'id="check-used">30,000.00' in page and 'id="check-headroom">270,000.00' in page
    assert "would exceed the ceiling by EUR 0.01" in page
    from sim.programmes.tests.routing_builders import make_offer, make_project

    offer = make_offer(make_project(client.user), title="Exportlyftet")
    other = make_offer(make_project(), title="Annat projekts erbjudande")
    data.update(amount_eur="270000", offer=str(other.pk))
    response = client.post(reverse("stateaid:award-create", args=[world["company"].pk]), data)
    assert "Select a valid choice" in response.content.decode()  # not an offer of the user's projects
    data["offer"] = str(offer.pk)
    response = client.post(reverse("stateaid:award-create", args=[world["company"].pk]), data)
    award = AidAward.objects.get(amount_eur=D(270000))
    assert response["Location"] == reverse("stateaid:award", args=[award.pk])
    assert award.offer == offer


def test_granting_and_revoking_from_the_detail_page(as_role, world):
    client = as_role(Role.PROJECT_MANAGER)
    page = client.get(reverse("stateaid:award", args=[world["proposal"].pk])).content.decode()
    assert "Grant this proposal" in page
    response = client.post(reverse("stateaid:award-grant", args=[world["proposal"].pk]), {"on": TODAY.isoformat()})
    granted = AidAward.objects.get(proposal=world["proposal"])
    assert response["Location"] == reverse("stateaid:award", args=[granted.pk])
    response = client.post(reverse("stateaid:award-revoke", args=[granted.pk]), {"on": TODAY.isoformat(), "reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(reverse("stateaid:award-revoke", args=[granted.pk]),
                           {"on": TODAY.isoformat(), "reason": "Upphävt"})
    reversal = AidAward.objects.get(reverses=granted)
    assert response["Location"] == reverse("stateaid:award", args=[reversal.pk])
    again = client.post(reverse("stateaid:award-revoke", args=[granted.pk]), {"on": TODAY.isoformat(), "reason": "x"})
    assert "already revoked" in again.content.decode()


def test_the_check_form(as_role, world):
    client = as_role(Role.ADVISOR)
    org = world["company"].org_number_display
    page = client.get(reverse("stateaid:check"), {"company_id": world["company"].pk}).content.decode()
    assert f'value="{org}"' in page
    page = client.get(reverse("stateaid:check"), {"company": org, "on": TODAY.isoformat(), "amount_sek": "500000",
                                                  "amount_eur": ""}).content.decode()
    assert "The aid fits under the ceiling" in page
    assert 'id="check-proposed">50,000.00' in page and "SEK 500,000.00 at 10.0000 SEK/EUR" in page
    assert f"Storsjöns Mekaniska AB ({org})" in page
    page = client.get(reverse("stateaid:check"), {"company": org, "on": "2025-06-01", "amount_eur": "270001"}).content.decode()
    assert "The aid would exceed the ceiling" in page
    page = client.get(reverse("stateaid:check"), {"company": "556000-0000", "on": "2025-06-01",
                                                  "amount_eur": "1"}).content.decode()
    assert "check digit" in page or "No company" in page
    ExchangeRate.objects.all().delete()
    page = client.get(reverse("stateaid:check"), {"company": org, "on": "2025-06-01", "amount_sek": "1"}).content.decode()
    assert "No SEK/EUR exchange rate is known on or before 2025-06-01" in page


def test_rates_import_page(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    bad = SimpleUploadedFile("kurser.csv", b"date;sek_per_eur\n2025-01-02;11,49\n2025-01-03;noll\n")
    response = client.post(reverse("stateaid:rates-import"), {"file": bad})
    page = response.content.decode()
    assert response.status_code == 200 and "Nothing was imported" in page
    assert "<td>3</td><td>sek_per_eur</td>" in page
    assert not ExchangeRate.objects.filter(date=dt.date(2025, 1, 2)).exists()
    good = SimpleUploadedFile("kurser.csv", b"date;sek_per_eur;source\n2025-01-02;11,49;Riksbanken\n")
    response = client.post(reverse("stateaid:rates-import"), {"file": good})
    assert response["Location"] == reverse("stateaid:rates")
    page = client.get(reverse("stateaid:rates")).content.decode()
    assert "2025-01-02" in page and "11.4900" in page and "Riksbanken" in page


def test_certificate_in_swedish_and_english(as_role, world):
    client = as_role(Role.AUDITOR)
    response = client.get(reverse("stateaid:certificate", args=[world["award"].pk]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert f'filename="intyg-de-minimis-{world["award"].pk}.pdf"' in response["Content-Disposition"]
    english = client.get(reverse("stateaid:certificate", args=[world["award"].pk]), {"lang": "en"})
    assert f'de-minimis-certificate-{world["award"].pk}.pdf' in english["Content-Disposition"]
    sv = pdf_text(pdf.certificate_pdf(world["award"], language="sv", compress=False))
    for text in ("Intyg om stöd av mindre betydelse", "Storsjöns Mekaniska AB", world["company"].org_number_display,
                 "2025-03-01", "200 000,00", "20 000,00", "2023/2831", "de minimis-stöd", "Region Jämtland Härjedalen"):
        assert text in sv, text
    en = pdf_text(pdf.certificate_pdf(world["award"], language="en", compress=False))
    for text in ("Certificate of de minimis aid", "200,000.00", "20,000.00", "Commission Regulation (EU) 2023/2831",
                 "is de minimis aid"):
        assert text in en, text
    # Declarations and proposals have no certificate.
    assert client.get(reverse("stateaid:certificate", args=[world["proposal"].pk])).status_code == 404


def test_export_for_the_central_register(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    AidAwardFactory(undertaking=world["company"], measure="=HYPERLINK(\"http://x\")", granted_on=dt.date(2025, 4, 1))
    AidAwardFactory(undertaking=world["company"], declared=True, granting_authority="Almi", measure="Deklarerat")
    response = client.get(reverse("stateaid:export"))
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:8] == ["post_id", "beviljande_myndighet", "organisationsnummer", "foretag", "atgard", "forordning",
                           "beviljandedatum", "belopp_sek"]
    measures = [row[4] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in measures
    assert "Deklarerat" not in measures  # declared aid only on request
    assert "proposed" not in [row[11] for row in rows[1:]]
    with_declared = b"".join(client.get(reverse("stateaid:export"), {"declared": "all"}).streaming_content).decode()
    assert "Deklarerat" in with_declared
    assert client.get(reverse("stateaid:export"), {"date_from": "x"}).status_code == 400


def test_the_undertaking_profile_page(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    url = reverse("stateaid:profile", args=[world["company"].pk])
    response = client.post(url, {"fiscal_year_start": "13-01"})
    assert response.status_code == 200 and "fiscal-year start" in response.content.decode()
    response = client.post(url, {"road_freight": "on", "fiscal_year_start": "07-01"})
    assert response["Location"] == reverse("stateaid:company", args=[world["company"].pk])
    page = client.get(response["Location"]).content.decode()
    assert "Fiscal year starts 07-01; road freight transport for hire or reward" in page
