"""The growth plan as PDF: content in the chosen language, and the same permissions as the plan page."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sim.assessments import services
from sim.assessments.pdf import growth_plan_pdf, profile_assessment
from sim.assessments.tests.helpers import GROWTH, completed_assessment, start
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role
from sim.programmes.models import FocusArea

pytestmark = pytest.mark.django_db

_LITERAL = re.compile(rb"\((?:\\.|[^\\()])*\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def pdf_text(data: bytes) -> str:
    """The literal strings of an uncompressed PDF, unescaped and decoded (standard fonts: cp1252)."""
    parts = []
    for match in _LITERAL.finditer(data):
        raw = match.group(0)[1:-1]
        out = bytearray()
        i = 0
        while i < len(raw):
            byte = raw[i:i + 1]
            if byte == b"\\":
                octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
                if octal:
                    out.append(int(octal.group(0), 8))
                    i += 1 + len(octal.group(0))
                    continue
                out += _ESCAPES.get(raw[i + 1:i + 2], raw[i + 1:i + 2])
                i += 2
                continue
            out += byte
            i += 1
        parts.append(out.decode("cp1252", "replace"))
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def english_pages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def company():
    return CompanyFactory(name="Storsjöns Mekaniska AB")


@pytest.fixture
def plan(advisor, company):
    assessment = completed_assessment(advisor, company, GROWTH, level=1, conducted_on=dt.date(2024, 3, 1))
    plan = services.growth_plan_create(advisor, company, title="Tillväxtplan för Storsjöns", assessment=assessment)
    services.growth_goal_save(advisor, plan, {
        "title": "Öka exportandelen till 20 procent", "metric": "export_share_pct", "baseline": Decimal("5.5"),
        "target": Decimal("20"), "unit": "%", "target_date": dt.date(2026, 12, 31)})
    services.growth_action_save(advisor, plan, {
        "title": "Ta fram en finansieringsplan", "focus_area": FocusArea.objects.get(key="financing"),
        "owner": "VD", "order": 99})
    return plan


def login(client, user):
    client.force_login(user)
    return client


def pdf_url(plan, lang=None):
    return reverse("assessments:plan-pdf", args=[plan.pk]) + (f"?lang={lang}" if lang else "")


def test_pdf_download(client, advisor, plan):
    response = login(client, advisor).get(pdf_url(plan, "sv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="tillvaxtplan-storsjons-mekaniska-ab-\d+-\d{8}\.pdf"', disposition)
    english = client.get(pdf_url(plan, "en"))
    assert 'filename="growth-plan-storsjons-mekaniska-ab-' in english["Content-Disposition"]
    assert client.get(pdf_url(plan, "xx")).status_code == 200  # unknown language: the current one


def test_pdf_in_swedish_has_company_plan_and_goal(plan):
    data = growth_plan_pdf(plan, language="sv", compress=False, invariant=True)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "SIM – Smart industriell modernisering" in text
    assert "Storsjöns Mekaniska AB" in text
    assert plan.company.org_number_display in text
    assert "Tillväxtplan för Storsjöns" in text
    assert "Öka exportandelen till 20 procent" in text
    assert "5,5" in text  # Swedish decimal comma
    assert "Ta fram en finansieringsplan" in text
    assert "Finansiering" in text  # the focus area and the radar axis, in Swedish
    assert re.search(r"\b1 .*2\b", text)  # page x of y


def test_pdf_in_english_has_english_headings(plan):
    text = pdf_text(growth_plan_pdf(plan, language="en", compress=False, invariant=True))
    for heading in ("Company profile", "Goals", "Actions", "Organisation number", "Financing", "Page 1 of"):
        assert heading in text, heading
    assert "Öka exportandelen till 20 procent" in text
    assert "5.5" in text


def test_pdf_is_repeatable_when_invariant(plan):
    first = growth_plan_pdf(plan, language="en", compress=False, invariant=True)
    assert first == growth_plan_pdf(plan, language="en", compress=False, invariant=True)


def test_pdf_actions_are_grouped_by_focus_area(plan):
    text = pdf_text(growth_plan_pdf(plan, language="en", compress=False, invariant=True))
    actions_at = text.index("Actions")
    financing = text.index("Financing", actions_at)
    production = text.index("Production efficiency", actions_at)
    assert financing < text.index("Ta fram en finansieringsplan") < production  # grouped under Financing


def test_pdf_without_assessment_uses_the_latest_completed_one(advisor, company):
    plan = services.growth_plan_create(advisor, company, title="Plan utan analys", from_needs=False)
    assert profile_assessment(plan) is None
    text = pdf_text(growth_plan_pdf(plan, language="en", compress=False, invariant=True))
    assert "no completed assessment" in text
    start(advisor, company)  # a draft does not count
    completed = completed_assessment(advisor, company, GROWTH, level=2)
    assert profile_assessment(plan) == completed
    text = pdf_text(growth_plan_pdf(plan, language="en", compress=False, invariant=True))
    assert "Overall" in text and "No goals yet." in text


def test_pdf_escapes_markup_in_user_text(advisor, company):
    plan = services.growth_plan_create(advisor, company, title="Plan <b>&</b> mer", from_needs=False)
    services.growth_goal_save(advisor, plan, {"title": "Mål <i>x</i> & y ≥ 3", "metric": "other"})
    # reportlab draws the text around an entity as separate pieces on the same line.
    text = pdf_text(growth_plan_pdf(plan, language="sv", compress=False, invariant=True)).replace("\n", "")
    assert "Plan <b>&</b> mer" in text
    assert "Mål <i>x</i> & y ? 3" in text  # "≥" is outside the standard fonts' character set


# --- Permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.AUDITOR])
def test_staff_may_download(client, make_user, plan, role):
    assert login(client, make_user(role)).get(pdf_url(plan)).status_code == 200


def test_pdf_permissions(client, make_user, advisor, company, plan):
    assert client.get(pdf_url(plan)).status_code == 302  # anonymous → login
    assert login(client, make_user(Role.EDUCATION_PROVIDER)).get(pdf_url(plan)).status_code == 403

    rep = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=rep, company=company)
    stranger = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=stranger, company=CompanyFactory())
    assert login(client, rep).get(pdf_url(plan)).status_code == 404  # not shared
    services.growth_plan_update(advisor, plan, {"shared_with_company": True})
    response = login(client, rep).get(pdf_url(plan, "sv"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert login(client, stranger).get(pdf_url(plan)).status_code == 404
