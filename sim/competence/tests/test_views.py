"""Web views: permissions per role for every page and export, the need form with and without
JavaScript, offerings, and the anonymised report (web, XLSX, PDF)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.competence import services
from sim.competence.models import CompetenceNeed, EducationOffering, MatchCorrection
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import companies_with_needs, provider_with_staff
from sim.core.roles import Role

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english
ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, *Role]


@pytest.fixture
def world(make_user, concepts):
    advisor = make_user(Role.ADVISOR)
    company = CompanyFactory(name="Hemliga Verkstaden AB")
    need = services.need_create(advisor, company, text="svetsare", concept_ids=[concepts["welder"].pk])
    provider = provider_with_staff(None)
    offering = services.offering_create(advisor, provider, name="Svets", kind="komvux", distance=True,
                                        concept_ids=[concepts["welder"].pk])
    return {"company": company, "need": need, "provider": provider, "offering": offering, "advisor": advisor}


@pytest.fixture
def as_role(client, make_user, world):
    def login(role):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(company=world["company"], user=user)
        if role == Role.EDUCATION_PROVIDER:
            from sim.competence.models import ProviderStaff

            ProviderStaff.objects.create(user=user, provider=world["provider"])
        client.force_login(user)
        return client

    return login


STAFF = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
REPORT = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.AUDITOR, Role.EDUCATION_PROVIDER}
# name, method, url, roles allowed, status when allowed
ENDPOINTS = [
    ("report", "get", lambda w: reverse("competence:report"), REPORT, 200),
    ("report-xlsx", "get", lambda w: reverse("competence:report-xlsx"), REPORT, 200),
    ("report-pdf", "get", lambda w: reverse("competence:report-pdf"), REPORT, 200),
    ("need-create", "get", lambda w: reverse("competence:need-create", args=[w["company"].pk]),
     STAFF | {Role.COMPANY_REPRESENTATIVE}, 200),
    ("need-edit", "get", lambda w: reverse("competence:need-edit", args=[w["need"].pk]), STAFF | {Role.COMPANY_REPRESENTATIVE}, 200),
    ("need-status", "post", lambda w: reverse("competence:need-status", args=[w["need"].pk]),
     STAFF | {Role.COMPANY_REPRESENTATIVE}, 302),
    ("needs-from-interview", "post", lambda w: reverse("competence:needs-from-interview", args=[w["company"].pk]),
     STAFF | {Role.COMPANY_REPRESENTATIVE}, 302),
    ("suggest", "get", lambda w: reverse("competence:suggest") + "?text=svetsare",
     STAFF | {Role.COMPANY_REPRESENTATIVE, Role.EDUCATION_PROVIDER}, 200),
    ("offerings", "get", lambda w: reverse("competence:offerings"), REPORT | {Role.COMPANY_REPRESENTATIVE}, 200),
    ("offering-create", "get", lambda w: reverse("competence:offering-create"), STAFF | {Role.EDUCATION_PROVIDER}, 200),
    ("offering-edit", "get", lambda w: reverse("competence:offering-edit", args=[w["offering"].pk]),
     STAFF | {Role.EDUCATION_PROVIDER}, 200),
    ("offering-import", "get", lambda w: reverse("competence:offering-import"), STAFF | {Role.EDUCATION_PROVIDER}, 200),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url", "allowed", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(as_role, world, role, name, method, url, allowed, ok):
    client = as_role(role)
    response = getattr(client, method)(url(world), {"status": "met"} if method == "post" else None)
    if role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == ok, response.content[:300]
    else:
        assert response.status_code in (403, 404)


def test_education_providers_never_see_company_data(as_role, world):
    client = as_role(Role.EDUCATION_PROVIDER)
    assert client.get(reverse("companies:detail", args=[world["company"].pk])).status_code in (403, 404)
    assert client.get(reverse("competence:need-edit", args=[world["need"].pk])).status_code == 403
    for name in ("competence:report", "competence:offerings"):
        assert "Hemliga Verkstaden" not in client.get(reverse(name)).content.decode()


def test_representative_only_reaches_own_company(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE)
    other = CompanyFactory()
    assert client.get(reverse("competence:need-create", args=[other.pk])).status_code == 404
    response = client.post(reverse("competence:need-create", args=[world["company"].pk]), {
        "text": "CNC-operatör", "people": 2, "kind": "recruit", "horizon": "0-6", "urgency": "high",
        "concepts": [world["need"].concepts.get().pk], "save": "1"})
    assert response.status_code == 302
    assert CompetenceNeed.objects.get(text="CNC-operatör").source == "portal"


def test_provider_edits_only_own_offerings(as_role, world, concepts):
    other = services.offering_create(world["advisor"], provider_with_staff(None, name="Annan"), name="X", kind="yh", distance=True)
    client = as_role(Role.EDUCATION_PROVIDER)
    assert client.get(reverse("competence:offering-edit", args=[other.pk])).status_code == 404
    response = client.post(reverse("competence:offering-create"), {
        "provider": world["provider"].pk, "name": "CNC-kurs", "kind": "komvux", "distance": "on", "start_dates": "2027-01-10",
        "seats": "10", "concepts": [concepts["cnc"].pk], "save": "1"})
    assert response.status_code == 302
    offering = EducationOffering.objects.get(name="CNC-kurs")
    assert offering.start_dates == ["2027-01-10"] and list(offering.concepts.all()) == [concepts["cnc"]]
    # Not to another provider.
    response = client.post(reverse("competence:offering-create"), {
        "provider": other.provider.pk, "name": "Y", "kind": "komvux", "distance": "on", "save": "1"})
    assert response.status_code == 200 and not EducationOffering.objects.filter(name="Y").exists()


def test_need_form_without_javascript_suggests_then_saves(client, make_user, concepts):
    advisor = make_user(Role.ADVISOR)
    client.force_login(advisor)
    company = CompanyFactory()
    url = reverse("competence:need-create", args=[company.pk])
    data = {"text": "två svetsare MIG/MAG", "people": "2", "kind": "recruit", "horizon": "6-12", "urgency": "medium"}
    page = client.post(url, data | {"suggest": "1"}).content.decode()
    assert f'value="{concepts["welder"].pk}"' in page and "MIG/MAG welder" in page
    assert not CompetenceNeed.objects.exists()
    # Saving without a concept is refused with a clear message.
    page = client.post(url, data | {"save": "1"}).content.decode()
    assert "Choose at least one occupation or skill" in page
    # Searching the taxonomy for another concept (the correction).
    page = client.post(url, data | {"search": "Automation", "find": "1"}).content.decode()
    assert "Automation technician" in page
    response = client.post(url, data | {"concepts": [concepts["plc"].pk], "scores": [f"{concepts['welder'].pk}:0.9"], "save": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#competence")
    need = CompetenceNeed.objects.get()
    assert list(need.concepts.all()) == [concepts["plc"]]
    assert MatchCorrection.objects.get().text_key == "två svetsare mig mag"
    # The company page shows the need in its section.
    page = client.get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert 'id="competence"' in page and "två svetsare MIG/MAG" in page and "Automation technician" in page


def test_need_form_refuses_bad_input_without_error(client, make_user, concepts):
    client.force_login(make_user(Role.ADVISOR))
    url = reverse("competence:need-create", args=[CompanyFactory().pk])
    response = client.post(url, {"text": "", "people": "0", "kind": "x", "horizon": "1", "urgency": "y",
                                 "concepts": ["abc", "999999"], "save": "1"})
    assert response.status_code == 200 and not CompetenceNeed.objects.exists()
    response = client.post(url, {"text": "svets", "people": "1", "kind": "recruit", "horizon": "0-6", "urgency": "low",
                                 "concepts": ["999999"], "save": "1"})
    assert response.status_code == 200 and "Unknown or inactive concept" in response.content.decode()


def test_suggest_fragment_for_htmx(client, make_user, concepts):
    client.force_login(make_user(Role.ADVISOR))
    response = client.get(reverse("competence:suggest"), {"text": "CNC-operatör", "concepts": [concepts["plc"].pk]},
                          HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<fieldset class="concept-picker"')
    assert "CNC operator" in page and f'value="{concepts["plc"].pk}" id="concept-{concepts["plc"].pk}" checked' in page


def test_need_status_and_interview_button(client, make_user, concepts):
    from sim.assessments.tests.helpers import complete_quickly, start

    advisor = make_user(Role.ADVISOR)
    client.force_login(advisor)
    company = CompanyFactory()
    url = reverse("competence:needs-from-interview", args=[company.pk])
    client.post(url)
    assert not CompetenceNeed.objects.exists()  # no interview: a message, nothing created
    complete_quickly(advisor, start(advisor, company), cn_gaps="yes", cn_description="svetsare\ntruckförare")
    page = client.get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert "Create needs from interview" in page
    client.post(url)
    assert sorted(CompetenceNeed.objects.values_list("text", flat=True)) == ["svetsare", "truckförare"]
    need = CompetenceNeed.objects.get(text="svetsare")
    client.post(reverse("competence:need-status", args=[need.pk]), {"status": "withdrawn"})
    need.refresh_from_db()
    assert need.status == "withdrawn"
    client.post(reverse("competence:need-status", args=[need.pk]), {"status": "bogus"})
    need.refresh_from_db()
    assert need.status == "withdrawn"


def test_report_web_xlsx_and_pdf_are_anonymised(client, make_user, concepts):
    from openpyxl import load_workbook

    advisor = make_user(Role.ADVISOR)
    companies = companies_with_needs(advisor, concepts["welder"], 3, people=2)
    companies += companies_with_needs(advisor, concepts["plc"], 1, people=9)
    client.force_login(make_user(Role.EDUCATION_PROVIDER))
    page = client.get(reverse("competence:report")).content.decode()
    assert "MIG/MAG welder" in page and "Automation technician" not in page  # one company: not even listed
    assert ">6<" in page and ">9<" not in page
    assert not any(company.name in page for company in companies)
    workbook = load_workbook(io.BytesIO(client.get(reverse("competence:report-xlsx")).content))
    rows = list(workbook.active.iter_rows(values_only=True))
    welder = next(row for row in rows if row[0] == "MIG/MAG welder")
    assert welder[2] == 6 and welder[6] == 6 and welder[5] == 0
    cells = " ".join(str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row)
    assert not any(company.name in cells for company in companies) and "Automation technician" not in cells
    pdf = client.get(reverse("competence:report-pdf"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # Filters: a municipality, a kind; a bad filter falls back to everything without an error.
    assert client.get(reverse("competence:report"), {"area": "m:2380", "kind": "recruit", "level": "g"}).status_code == 200
    assert client.get(reverse("competence:report"), {"area": "m:9999", "horizon": "x"}).status_code == 200


def test_offering_import_view(client, make_user, concepts):
    user = make_user(Role.EDUCATION_PROVIDER)
    provider = provider_with_staff(user)
    client.force_login(user)
    url = reverse("competence:offering-import")
    bad = io.BytesIO(b"namn;typ;kommunkod\nSvets;kurs;2380\n")
    bad.name = "bad.csv"
    page = client.post(url, {"provider": provider.pk, "file": bad}).content.decode()
    assert "Row 2" in page and not EducationOffering.objects.exists()
    good = io.BytesIO(f"namn;typ;kommunkod;begrepp\nSvets;komvux;2380;{concepts['welder'].uri}\n".encode())
    good.name = "good.csv"
    response = client.post(url, {"provider": provider.pk, "file": good})
    assert response.status_code == 302
    assert list(EducationOffering.objects.get(provider=provider).concepts.all()) == [concepts["welder"]]
