"""Results pages: who sees what, scores as scored, comparison, peer benchmark, charts and needs."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from sim.assessments import rules, selectors, services
from sim.assessments.models import AssessmentStatus, Need, NeedStatus
from sim.assessments.tests.helpers import GROWTH, answer_required, complete, completed_assessment, start
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def company():
    return CompanyFactory(name="Storsjöns Mekaniska AB", sni_primary="25620")


@pytest.fixture
def completed(advisor, company):
    """A completed growth interview with low scores, so that needs are derived."""
    return completed_assessment(advisor, company, GROWTH, level=1, conducted_on=dt.date(2024, 3, 1))


def login(client, user):
    client.force_login(user)
    return client


def representative(make_user, company):
    user = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=user, company=company)
    return user


def results_url(assessment, **params):
    url = reverse("assessments:results", args=[assessment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def row_cells(html: str, row_id: str) -> list[str]:
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert match, row_id
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", match.group(1), re.S)]


def fmt(value) -> str:
    return "–" if value is None else f"{value:.1f}"


# --- Who may open the results ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.PROJECT_MANAGER, Role.AUDITOR, Role.ADMIN])
def test_staff_roles_see_results(client, make_user, completed, role):
    response = login(client, make_user(role)).get(results_url(completed))
    assert response.status_code == 200
    assert "Storsjöns Mekaniska AB" in response.content.decode()


@pytest.mark.parametrize("role", [Role.EDUCATION_PROVIDER, Role.FINANCE_OFFICER])
def test_roles_without_assessments_are_refused(client, make_user, completed, role):
    client = login(client, make_user(role))
    assert client.get(results_url(completed)).status_code == 403
    assert client.get(reverse("assessments:radar-svg", args=[completed.pk])).status_code == 403


def test_anonymous_is_sent_to_login(client, completed):
    response = client.get(results_url(completed))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_company_representative_sees_own_completed_results_only(client, make_user, advisor, company, completed):
    client = login(client, representative(make_user, company))
    response = client.get(results_url(completed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Add a need" not in html and "need-edit" not in html
    assert "Draft a growth plan" not in html
    draft = start(advisor, company)
    assert client.get(results_url(draft)).status_code == 404
    other = completed_assessment(advisor, CompanyFactory(), GROWTH)
    assert client.get(results_url(other)).status_code == 404
    assert client.get(reverse("assessments:radar-svg", args=[other.pk])).status_code == 404
    assert client.get(reverse("assessments:radar-svg", args=[completed.pk])).status_code == 200


def test_auditor_reads_but_cannot_edit_needs(client, make_user, completed):
    client = login(client, make_user(Role.AUDITOR))
    html = client.get(results_url(completed)).content.decode()
    assert "Strengthen the financing of growth" in html
    assert "Add a need" not in html and "Draft a growth plan" not in html
    need = Need.objects.filter(assessment=completed).first()
    assert client.get(reverse("assessments:need-edit", args=[completed.company_id, need.pk])).status_code == 403
    assert client.get(reverse("assessments:need-add", args=[completed.company_id])).status_code == 403


# --- What the results show ---------------------------------------------------------------------------


def test_scores_equal_the_rules(client, advisor, completed):
    instrument = completed.instrument()
    expected = rules.score(instrument, completed.answers)
    html = login(client, advisor).get(results_url(completed)).content.decode()
    for key, dimension in expected.dimensions.items():
        cells = row_cells(html, f"dimension-{key}")
        assert fmt(dimension.score) in cells
        assert f"{dimension.answered} of {dimension.scored_questions}" in cells
        band = instrument.band(dimension.band).label.en
        assert band in cells
    assert re.search(rf'id="overall-score">{re.escape(fmt(expected.overall))}<', html)
    # Focus area names of the growth interview.
    assert "Production efficiency" in row_cells(html, "dimension-production_efficiency")
    assert "preliminary" not in html.lower()
    # Two charts inline, each followed by a data table with a caption.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert html.count("Scores shown in the") == 2
    assert 'scope="row"' in html and 'scope="col"' in html


def test_draft_shows_live_preliminary_scores(client, advisor, company):
    draft = answer_required(advisor, start(advisor, company), level=2)
    live = rules.score(draft.instrument(), draft.answers)
    html = login(client, advisor).get(results_url(draft)).content.decode()
    assert 'id="preliminary-note"' in html
    assert fmt(live.dimensions["financing"].score) in row_cells(html, "dimension-financing")


def test_radar_svg(client, advisor, completed):
    response = login(client, advisor).get(reverse("assessments:radar-svg", args=[completed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.get("role") == "img"
    assert root.find("{http://www.w3.org/2000/svg}title").text
    polygons = [p for p in root.iter("{http://www.w3.org/2000/svg}polygon") if "chart-series" in (p.get("class") or "")]
    assert len(polygons) == 1


# --- Comparison -----------------------------------------------------------------------------------


def test_compare_page_numbers_equal_rules_compare(client, advisor, company, completed):
    later = completed_assessment(advisor, company, GROWTH, level=3, phase="follow_up", conducted_on=dt.date(2025, 3, 1))
    client = login(client, advisor)
    # The results page offers the other assessment and the select leads to the comparison.
    html = client.get(results_url(later)).content.decode()
    assert f'<option value="{completed.pk}">' in html
    response = client.get(results_url(later, compare=completed.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:compare", args=[later.pk, completed.pk])
    html = client.get(response["Location"]).content.decode()
    changes = rules.compare(selectors.result_of(completed), selectors.result_of(later))
    for key, change in changes.items():
        cells = row_cells(html, f"change-{key}")
        expected = "–" if change is None else (f"+{change:.1f}" if change > 0 else f"{change:.1f}")
        assert expected in cells[-1], (key, cells)
    assert 'id="versions-differ"' not in html
    root_count = html.count('class="chart-series chart-series-')
    assert root_count >= 2  # both series in the radar


def test_compare_notes_different_versions(client, advisor, company):
    """A T0 answered with version 1 of the growth interview, a follow-up with version 2."""
    earlier = complete(advisor, start(advisor, company, GROWTH, conducted_on=dt.date(2024, 3, 1), version=1), level=1)
    later = completed_assessment(advisor, company, GROWTH, level=3, conducted_on=dt.date(2025, 3, 1))
    assert (earlier.instrument_version.version, later.instrument_version.version) == (1, 2)
    html = login(client, advisor).get(reverse("assessments:compare", args=[earlier.pk, later.pk])).content.decode()
    assert 'id="versions-differ"' in html
    # Scoring did not change between the versions: every dimension lines up with a change.
    for dimension in earlier.scores["dimensions"]:
        row = re.search(rf'<tr id="change-{dimension}">(.*?)</tr>', html, re.S).group(1)
        a, b = re.findall(r'<td class="num">([^<]*)</td>', row)[:2]
        assert "–" not in (a, b), dimension


def test_compare_refuses_other_companies_and_instruments(client, advisor, company, completed):
    other_company = completed_assessment(advisor, CompanyFactory(), GROWTH)
    other_instrument = completed_assessment(advisor, company, "digital-maturity")
    client = login(client, advisor)
    assert client.get(reverse("assessments:compare", args=[completed.pk, other_company.pk])).status_code == 404
    assert client.get(reverse("assessments:compare", args=[completed.pk, other_instrument.pk])).status_code == 404
    assert client.get(reverse("assessments:compare", args=[completed.pk, completed.pk])).status_code == 404


# --- Peer benchmark -------------------------------------------------------------------------------


def test_peer_benchmark_needs_five_other_companies(client, advisor, completed):
    client = login(client, advisor)
    for _ in range(4):
        completed_assessment(advisor, CompanyFactory(sni_primary="25110"), GROWTH, level=4)
    html = client.get(results_url(completed)).content.decode()
    assert 'id="peer-too-few"' in html and 'id="peer-benchmark"' not in html
    assert "Peers (mean)" not in html

    completed_assessment(advisor, CompanyFactory(sni_primary="25110"), GROWTH, level=4)
    html = client.get(results_url(completed, peers="sni_division")).content.decode()
    assert 'id="peer-benchmark"' in html and 'id="peer-too-few"' not in html
    assert "5 other companies" in html
    benchmark = selectors.peer_benchmark(completed, "sni_division")
    assert fmt(benchmark.dimensions["financing"]) in row_cells(html, "dimension-financing")
    # Another industry has no peers.
    completed.company.sni_primary = "62010"
    completed.company.save()
    html = client.get(results_url(completed, peers="sni_division")).content.decode()
    assert 'id="peer-too-few"' in html


# --- Needs ----------------------------------------------------------------------------------------


def test_needs_listed_in_priority_order(client, advisor, completed):
    html = login(client, advisor).get(results_url(completed)).content.decode()
    needs = list(Need.objects.filter(assessment=completed).order_by("priority", "id"))
    assert needs
    positions = [html.index(need.title) for need in needs]
    assert positions == sorted(positions)
    assert needs[0].rationale[:30] in html


def test_add_and_edit_a_need(client, advisor, company, completed):
    client = login(client, advisor)
    url = reverse("assessments:need-add", args=[company.pk]) + f"?assessment={completed.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "title": "Certifiera enligt ISO 9001", "rationale": "Kunderna kräver det.", "priority": "2",
        "focus_area": "", "status": NeedStatus.OPEN, "assessment": completed.pk,
    })
    assert response.status_code == 302
    need = Need.objects.get(title="Certifiera enligt ISO 9001")
    assert need.assessment == completed and need.source == Need.Source.ADVISOR
    assert response["Location"].startswith(results_url(completed))

    edit = reverse("assessments:need-edit", args=[company.pk, need.pk])
    response = client.post(edit, {"title": need.title, "rationale": "Ny motivering.", "priority": "1",
                                  "focus_area": "", "status": NeedStatus.ADDRESSED})
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.priority, need.status, need.rationale) == (1, NeedStatus.ADDRESSED, "Ny motivering.")

    response = client.post(edit, {"title": need.title, "priority": "0", "status": NeedStatus.OPEN})
    assert response.status_code == 200
    assert "Priority is a number from 1" in response.content.decode()


def test_need_of_another_company_is_not_found(client, advisor, company, completed):
    other = CompanyFactory()
    need = Need.objects.filter(assessment=completed).first()
    client = login(client, advisor)
    assert client.get(reverse("assessments:need-edit", args=[other.pk, need.pk])).status_code == 404
    url = reverse("assessments:need-add", args=[other.pk]) + f"?assessment={completed.pk}"
    assert client.get(url).status_code == 404


def test_representative_cannot_edit_needs(client, make_user, company, completed):
    client = login(client, representative(make_user, company))
    need = Need.objects.filter(assessment=completed).first()
    assert client.post(reverse("assessments:need-edit", args=[company.pk, need.pk]),
                       {"title": "x", "priority": 1, "status": "open"}).status_code == 403
    assert client.get(reverse("assessments:need-add", args=[company.pk])).status_code == 403


# --- Company page section ---------------------------------------------------------------------------


def test_company_page_growth_section(client, make_user, advisor, company, completed):
    plan = services.growth_plan_create(advisor, company, title="Tillväxtplan 2025", assessment=completed)
    html = login(client, advisor).get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert 'id="growth"' in html
    assert "New growth plan" in html and "Tillväxtplan 2025" in html
    assert "Strengthen the financing of growth" in html

    client.logout()
    client = login(client, representative(make_user, company))
    response = client.get(reverse("companies:detail", args=[company.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Tillväxtplan 2025" not in text and "New growth plan" not in text
    services.growth_plan_update(advisor, plan, {"shared_with_company": True})
    assert "Tillväxtplan 2025" in client.get(reverse("companies:detail", args=[company.pk])).content.decode()


def test_company_page_without_open_needs(client, advisor, company):
    completed_assessment(advisor, company, GROWTH, level=5)
    html = login(client, advisor).get(reverse("companies:detail", args=[company.pk])).content.decode()
    assert "No open needs." in html


def test_status_is_shown(client, advisor, completed):
    html = login(client, advisor).get(results_url(completed)).content.decode()
    assert str(AssessmentStatus.COMPLETED.label) in html
    assert "2024-03-01" in html


def test_results_in_swedish_use_a_decimal_comma(client, advisor, completed, settings):
    settings.LANGUAGE_CODE = "sv"
    response = login(client, advisor).get(results_url(completed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "20,0" in row_cells(html, "dimension-financing")
    assert "Finansiering" in html  # dimension titles from the instrument, in Swedish
