"""The facts read from the database and the indicator report of the worked example, the query count,
and ``sim report_indicators``."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from sim.activities.models import Activity
from sim.companies.tests.factories import CompanyFactory, KeyFiguresFactory, OwnershipLinkFactory
from sim.programmes.models import InterventionStatus
from sim.reporting import rules, selectors, services

from .builders import build_world, make_intervention

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def rate(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"


@pytest.fixture
def world():
    return build_world()


def values(report) -> dict:
    return {row.code: row.value for row in report.rows}


def test_whole_project_worked_example(world):
    report = selectors.indicator_report(world["project"])
    v = values(report)
    alfa, beta, delta = (world[k].org_number for k in ("alfa", "beta", "delta"))
    assert v["RCO01"].value == 3
    assert v["RCO01"].companies == tuple(sorted([alfa, beta, delta]))
    assert v["RCO01"].breakdown == {"micro": 1, "small": 1, "medium": 0, "large": 0, "unknown": 1}
    assert v["RCO02"].companies == (alfa,)  # two grants, counted once
    assert v["RCO03"].companies == (delta,)
    assert set(v["RCO04"].companies) == {alfa, beta}
    assert v["RCO05"].companies == (beta,)
    assert v["RCO10"].companies == (alfa,)
    assert v["RCR01"].value == Decimal("1.00")  # alfa +3, beta −2, delta lacks figures
    assert v["RCR01"].lacking == (delta,)
    assert v["RCR02"].value == Decimal("50000.00")
    assert set(v["RCR19"].companies) == {alfa, beta}
    assert v["RCR03"].value == Decimal("0.00")


def test_quarter_counts_first_supports_in_it(world):
    report = selectors.indicator_report(world["project"], rules.Period(D(2024, 4, 1), D(2024, 6, 30)))
    v = values(report)
    assert v["RCO01"].companies == (world["beta"].org_number,)
    assert v["RCO02"].value == 0
    assert v["RCO04"].companies == (world["beta"].org_number,)
    assert [e.org_number for e in report.enterprises] == [world["beta"].org_number]
    # Cumulative to the end of the quarter: alfa and beta.
    assert {r.code: r.cumulative.value for r in report.rows}["RCO01"] == 2


def test_threshold_follows_the_project_minimum(world):
    project = world["project"]
    project.min_support_hours = Decimal("11.5")
    project.save()
    v = values(selectors.indicator_report(project))
    assert world["gamma"].org_number in v["RCO01"].companies
    project.min_support_hours = Decimal("13")
    project.save()
    v = values(selectors.indicator_report(project))
    assert world["beta"].org_number not in v["RCO01"].companies


def test_new_enterprise_years_are_configurable(world):
    services.indicator_set_choose(None, world["project"], "erdf-2021-2027", new_enterprise_years=1)
    assert values(selectors.indicator_report(world["project"]))["RCO05"].value == 0


def test_size_class_of_linked_company_uses_the_full_rule(world):
    # beta is controlled by a large group: large, not small, at its first support.
    parent = CompanyFactory(name="Storkoncernen AB")
    KeyFiguresFactory(company=parent, fiscal_year=2023, staff_awu=Decimal("900"), turnover_sek=Decimal("9000000000"),
                      balance_sheet_sek=Decimal("9000000000"))
    OwnershipLinkFactory(holder=parent, held=world["beta"])
    breakdown = values(selectors.indicator_report(world["project"]))["RCO01"].breakdown
    assert breakdown == {"micro": 1, "small": 0, "medium": 0, "large": 1, "unknown": 1}


def test_milestones_and_targets_in_the_report(world):
    indicator = world["project"].indicators.get(code="RCO01")
    services.indicator_target_set(None, indicator, "10", [(D(2024, 12, 31), "2"), (D(2025, 12, 31), "6")])
    row = next(r for r in selectors.indicator_report(world["project"], rules.Period(D(2025, 1, 1), D(2025, 12, 31))).rows
               if r.code == "RCO01")
    assert row.value.value == 1 and row.cumulative.value == 3
    assert row.milestone == (D(2025, 12, 31), Decimal("6.00"))
    assert row.milestone_met is False
    assert row.progress == Decimal("30.0")


def test_few_queries_whatever_the_number_of_companies(world, django_assert_max_num_queries):
    project = world["project"]
    with django_assert_max_num_queries(14):
        selectors.indicator_report(project)
    for n in range(30):
        company = CompanyFactory()
        KeyFiguresFactory(company=company, fiscal_year=2023)
        make_intervention(project, company, status=InterventionStatus.APPROVED, approved_on=D(2024, 6, 1) + dt.timedelta(days=n),
                          support_form="grant")
        Activity.objects.create(project=project, company=company, date=D(2024, 7, 1), hours=Decimal("20"))
    with django_assert_max_num_queries(14):
        report = selectors.indicator_report(project)
    assert values(report)["RCO01"].value == 33


# --- The command -------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("report_indicators", *args, stdout=out)
    return out.getvalue()


def test_json_has_the_documented_shape(world):
    data = json.loads(run("--project", "rapport", "--json"))
    assert data["project"] == "rapport"
    assert data["period"] == {"from": "2024-01-01", "to": "2027-12-31"}
    codes = [i["code"] for i in data["indicators"]]
    assert codes[:6] == ["RCO01", "RCO02", "RCO03", "RCO04", "RCO05", "RCO10"]
    assert len(codes) == 15
    rco01 = data["indicators"][0]
    assert list(rco01) == ["code", "value", "unit", "breakdown", "target", "companies"]
    assert rco01["value"] == 3 and rco01["unit"] == "enterprises" and rco01["target"] is None
    assert rco01["breakdown"]["micro"] == 1
    by_code = {i["code"]: i for i in data["indicators"]}
    assert by_code["RCR01"] == {"code": "RCR01", "value": 1, "unit": "FTE", "target": None}
    assert by_code["RCR02"]["value"] == 50000
    assert "companies" not in by_code["RCR03"]
    assert by_code["RCR19"]["companies"] == sorted([world["alfa"].org_number, world["beta"].org_number])


def test_period_options(world):
    data = json.loads(run("--project", "rapport", "--from", "2025-01-01", "--to", "2025-12-31", "--json"))
    assert data["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    assert data["indicators"][0]["companies"] == [world["delta"].org_number]


def test_table_in_swedish_and_english(world):
    text = run("--project", "rapport")
    assert "RCO01" in text and "Företag som får stöd" in text and "Värde" in text
    assert "Enterprises supported" in run("--project", "rapport", "--language", "en")


@pytest.mark.parametrize(("args", "message"), [
    (("--project", "nope"), "No project"),
    (("--project", "rapport", "--from", "2025-13-01"), "--from must be a date"),
    (("--project", "rapport", "--from", "2025-02-01", "--to", "2025-01-01"), "ends"),
])
def test_bad_input_is_refused_clearly(world, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_project_without_indicators_is_refused():
    build_world(choose_set=None)
    with pytest.raises(CommandError, match="no indicators"):
        run("--project", "rapport")


def test_budget_vs_actual_of_the_period_as_the_finance_dashboard(world):
    from sim.finance import services as finance
    from sim.finance.tests.actuals_builders import make_entry

    project = world["project"]
    assert selectors.budget_vs_actual(project, rules.Period(D(2024, 4, 1), D(2024, 6, 30))) is None
    scenario = finance.scenario_create(None, project, {"name": "Budget", "start_date": project.start_date,
                                                       "end_date": project.effective_end})
    finance.budget_lines_replace(None, scenario, [{"category": "travel", "year": 2024, "amount": Decimal("120000"),
                                                   "partner": None}])
    finance.financing_replace(None, scenario, [{"kind": "regional_public", "name": "Region", "amount_sek": Decimal("120000")}])
    finance.scenario_adopt(None, scenario)
    make_entry(project, amount="1000", date=D(2024, 3, 1))
    make_entry(project, amount="2000", date=D(2024, 5, 1))
    figures = selectors.budget_vs_actual(project, rules.Period(D(2024, 4, 1), D(2024, 6, 30)))
    assert figures.quarters == [("2024 Q2", Decimal("30000.00"), Decimal("2000.00"))]
    assert (figures.budget, figures.actual) == (Decimal("30000.00"), Decimal("2000.00"))
    assert (figures.budget_to_date, figures.actual_to_date) == (Decimal("60000.00"), Decimal("3000.00"))
    assert figures.total_budget == Decimal("120000.00")
    assert figures.used_pct == Decimal("6.7")


def test_work_and_focus_areas_in_the_period(world):
    from sim.programmes.models import FocusArea

    project = world["project"]
    work = selectors.work_in_period(project, rules.Period(D(2024, 3, 1), D(2024, 3, 31)))
    assert (work.activities, work.activity_hours, work.activity_companies) == (2, Decimal("16.50"), 2)
    area = FocusArea.objects.get(key="production_efficiency")
    intervention = project.interventions.filter(company=world["alfa"]).order_by("approved_on").first()
    intervention.focus_area = area
    intervention.save()
    rows = {r.key: r for r in selectors.by_focus_area(project, selectors.whole_period(project))}
    assert rows["production_efficiency"].interventions == 1
    assert rows[""].interventions == 2  # alfa's second and delta's, without a focus area
    assert rows[""].referrals == 3 and rows[""].referrals_started == 2


def test_period_choices_cover_the_project(world):
    keys = [c.key for c in selectors.period_choices(world["project"])]
    assert keys[:6] == ["project", "2024", "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert keys[-1] == "2027-Q4"
    q4 = selectors.period_choice(world["project"], "2024-Q4").period
    assert (q4.start, q4.end) == (D(2024, 10, 1), D(2024, 12, 31))
    assert selectors.period_choice(world["project"], "2023") is None


@pytest.mark.parametrize("minimum", ["0", "3.33", "12", "12.01", "25"])
def test_threshold_in_sql_equals_the_pure_rule(minimum):
    import random

    from sim.programmes.tests.routing_builders import make_project

    project = make_project(code="timmar")
    rng = random.Random(7)
    companies = [CompanyFactory() for _ in range(8)]
    days = []
    for company in companies:
        for _ in range(rng.randint(1, 6)):
            day = D(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 40))
            hours = Decimal(rng.choice(["0.1", "0.2", "1.11", "2.5", "3.33", "4", "6"]))
            Activity.objects.create(project=project, company=company, date=day, hours=hours)
            days.append(rules.ActivityDay(company.org_number, day, hours))
    expected = {(s.company, s.date) for s in rules.activity_supports(days, Decimal(minimum))}
    found = {(org, day) for _pk, org, day in selectors.activity_threshold_dates(project, Decimal(minimum))}
    assert found == expected
