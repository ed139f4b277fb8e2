"""The progress report page and its exports: who may open them (per role and project), periods,
numbers equal on screen, in the CLI, the API and every export, Swedish and English, CSV injection."""

import csv
import datetime as dt
import io
import json
import re
import zlib

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from sim.core.roles import Role
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings, make_project
from sim.reporting import exports, selectors, services
from sim.reporting.tables import sections

from .builders import build_world

pytestmark = pytest.mark.django_db
D = dt.date
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    with english_settings(settings):
        yield


@pytest.fixture
def world():
    w = build_world()
    services.indicator_target_set(None, w["project"].indicators.get(code="RCO01"), "40", [(D(2024, 12, 31), "2")])
    return w


@pytest.fixture
def as_role(client, make_user, world):
    def login(role, *, member=True):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if member and role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        client.force_login(user)
        return client

    return login


def urls(world):
    pk = world["project"].pk
    return [reverse("reporting:home"), reverse("reporting:report", args=[pk])] + [
        reverse("reporting:export", args=[pk, fmt]) for fmt in ("xlsx", "csv", "pdf")]


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_permissions_per_role(as_role, world, role):
    client = as_role(role)
    for url in urls(world):
        response = client.get(url)
        if role == ANONYMOUS:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        elif role in READERS:
            assert response.status_code == (302 if url == reverse("reporting:home") else 200), url
        else:
            assert response.status_code == 403, url


def test_other_projects_are_not_found(as_role, world):
    client = as_role(Role.PROJECT_MANAGER, member=False)
    for url in urls(world)[1:]:
        assert client.get(url).status_code == 404


def test_home_without_a_project(client, make_user):
    client.force_login(make_user(Role.ADVISOR))
    response = client.get(reverse("reporting:home"))
    assert response.status_code == 200 and "not work in any project" in response.content.decode()


def test_menu_entry_for_readers_only(as_role, world):
    assert "/reports/" in as_role(Role.AUDITOR).get(reverse("home")).content.decode()


def cells(html: str, section: str) -> list[list[str]]:
    table = re.search(rf'<table class="report-table" data-section="{section}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def cli_json(*args) -> dict:
    out = io.StringIO()
    call_command("report_indicators", "--project", "rapport", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def as_number(text: str) -> float:
    return float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))


@pytest.mark.parametrize(("period", "args"), [
    ("project", ()), ("2024-Q2", ("--from", "2024-04-01", "--to", "2024-06-30")),
    ("2025", ("--from", "2025-01-01", "--to", "2025-12-31")),
])
def test_numbers_equal_on_screen_in_cli_api_and_exports(as_role, world, period, args):
    client = as_role(Role.PROJECT_MANAGER)
    pk = world["project"].pk
    html = client.get(reverse("reporting:report", args=[pk]), {"period": period}).content.decode()
    screen = {row[0]: row[3] for row in cells(html, "indicators")}
    cli = {i["code"]: i["value"] for i in cli_json(*args)["indicators"]}
    query = dict(zip(("from", "to"), args[1::2], strict=False))
    api = client.get(f"/api/reporting/projects/{pk}/indicators", query).json()
    assert {i["code"]: i["value"] for i in api["indicators"]} == cli
    assert set(screen) == set(cli)
    for code, value in cli.items():
        assert as_number(screen[code]) == value, code

    workbook = load_workbook(io.BytesIO(client.get(reverse("reporting:export", args=[pk, "xlsx"]),
                                                   {"period": period, "lang": "en"}).content))
    sheet = workbook["Indicators"]
    xlsx = {row[0]: row[3] for row in sheet.iter_rows(min_row=4, max_row=3 + len(cli), values_only=True)}
    assert xlsx == cli

    text = client.get(reverse("reporting:export", args=[pk, "csv"]), {"period": period, "lang": "en"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    start = rows.index(["Code", "Indicator", "Unit", "In the period", "From the start to the period's end", "Target",
                        "Milestone due", "Share of target"])
    in_csv = {r[0]: r[3] for r in rows[start + 1:start + 1 + len(cli)]}
    assert {code: as_number(v) for code, v in in_csv.items()} == cli

    progress = selectors.progress_report(world["project"], selectors.period_choice(world["project"], period).period)
    pdf = _pdf_text(exports.to_pdf(progress, sections(progress), compress=False))
    for row in sections(progress)[0].rows:
        assert f"({row[3].text})" in pdf


def _pdf_text(data: bytes) -> str:
    return data.decode("latin-1") if b"FlateDecode" not in data else zlib.decompress(data).decode("latin-1")


def test_the_page_shows_every_part(as_role, world):
    html = as_role(Role.AUDITOR).get(reverse("reporting:report", args=[world["project"].pk])).content.decode()
    for title in ("Indicators", "RCO01 by size class at first support", "Budget and actual costs",
                  "Activities and events", "Referrals and interventions per focus area", "Supported enterprises"):
        assert title in html
    enterprises = cells(html, "enterprises")
    assert [r[1] for r in enterprises] == ["Alfa Mekaniska AB", "Beta Plast AB", "Delta Verkstad AB"]
    alfa = enterprises[0]
    assert alfa[0] == f"{world['alfa'].org_number[:6]}-{world['alfa'].org_number[6:]}"
    assert alfa[2] == "micro" and alfa[3] == "Grant, Non-financial support" and alfa[4] == "2024-02-10"
    rco01 = next(r for r in cells(html, "indicators") if r[0] == "RCO01")
    assert rco01[5] == "40" and rco01[6] == "2024-12-31: 2" and rco01[7] == "7.5 %"
    assert "The project has no adopted budget scenario." in html
    work = dict(cells(html, "work"))
    assert work == {"Activities": "3", "Activity hours": "23.50", "Companies met in activities": "2", "Events": "0",
                    "Participants who attended events": "0"}


def test_a_quarter(as_role, world):
    html = as_role(Role.ADVISOR).get(reverse("reporting:report", args=[world["project"].pk]),
                                      {"period": "2024-Q2"}).content.decode()
    assert "2024-04-01 – 2024-06-30" in html
    assert [r[1] for r in cells(html, "enterprises")] == ["Beta Plast AB"]


def test_unknown_period_is_explained_not_a_500(as_role, world):
    client = as_role(Role.PROJECT_MANAGER)
    pk = world["project"].pk
    response = client.get(reverse("reporting:report", args=[pk]), {"period": "2031-Q9"})
    assert response.status_code == 200 and "is not a period of this project" in response.content.decode()
    response = client.get(reverse("reporting:export", args=[pk, "csv"]), {"period": "1999"})
    assert response.status_code == 400 and "is not a period" in response.content.decode()
    assert client.get(reverse("reporting:export", args=[pk, "csv"]), {"lang": "de"}).status_code == 400
    assert client.get(reverse("reporting:export", args=[pk, "doc"])).status_code == 404
    assert client.get(f"/api/reporting/projects/{pk}/indicators", {"from": "2025-02-01", "to": "2025-01-01"}).status_code == 422


def test_exports_in_swedish_and_english(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    pk = world["project"].pk
    sv = client.get(reverse("reporting:export", args=[pk, "csv"]), {"lang": "sv"})
    en = client.get(reverse("reporting:export", args=[pk, "csv"]), {"lang": "en"})
    assert "Företag som får stöd" in sv.content.decode("utf-8-sig")
    assert "Enterprises supported" in en.content.decode("utf-8-sig")
    assert 'filename="lagesrapport-rapport-2024-01-01-2027-12-31-sv.csv"' in sv["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(client.get(reverse("reporting:export", args=[pk, "xlsx"]), {"lang": "sv"}).content)).worksheets[0]
    assert sheet["B4"].value == "Företag som får stöd (varav mikro, små, medelstora, stora)"
    pdf = client.get(reverse("reporting:export", args=[pk, "pdf"]), {"lang": "en"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_csv_and_xlsx_are_safe_against_formula_injection(as_role, world):
    world["alfa"].name = "=HYPERLINK(\"http://evil\")"
    world["alfa"].save()
    client = as_role(Role.PROJECT_MANAGER)
    pk = world["project"].pk
    text = client.get(reverse("reporting:export", args=[pk, "csv"])).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    workbook = load_workbook(io.BytesIO(client.get(reverse("reporting:export", args=[pk, "xlsx"])).content))
    values = [c for ws in workbook for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "'=HYPERLINK(\"http://evil\")" in values
    assert not any(v.startswith("=") for v in values)


def test_project_without_a_set_says_so(as_role, make_user, client):
    user = make_user(Role.PROJECT_MANAGER)
    project = make_project(user, code="tom")
    client.force_login(user)
    html = client.get(reverse("reporting:report", args=[project.pk])).content.decode()
    assert "has not chosen an indicator set" in html


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_api_permissions_per_role(as_role, world, role):
    response = as_role(role).get(f"/api/reporting/projects/{world['project'].pk}/indicators")
    if role == ANONYMOUS:
        assert response.status_code == 401
    else:
        assert response.status_code == (200 if role in READERS else 403)


def test_api_other_project_is_not_found(as_role, world):
    assert as_role(Role.ADVISOR, member=False).get(f"/api/reporting/projects/{world['project'].pk}/indicators").status_code == 404


def test_a_long_list_of_enterprises_is_cut_on_the_page_not_in_the_downloads(as_role, world, monkeypatch):
    from sim.reporting import views

    monkeypatch.setattr(views, "PAGE_ENTERPRISES", 2)
    client = as_role(Role.PROJECT_MANAGER)
    pk = world["project"].pk
    html = client.get(reverse("reporting:report", args=[pk])).content.decode()
    assert len(cells(html, "enterprises")) == 2 and "The first 2 of 3 are shown" in html
    text = client.get(reverse("reporting:export", args=[pk, "csv"]), {"lang": "en"}).content.decode("utf-8-sig")
    assert "Delta Verkstad AB" in text
