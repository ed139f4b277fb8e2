"""Budget selectors: scenario summaries, comparison, the budget grid, and the dashboard read from the
ledgers (cost entries with reversals, time reports, the companies' own contributions)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from sim.companies.tests.factories import CompanyFactory
from sim.finance import selectors, services
from sim.finance.models import CostEntry, TimeReport
from sim.programmes.models import InterventionStatus
from sim.programmes.tests.routing_builders import make_intervention

from .budget_builders import english, erdf_scenario, owner, partner, seed_scenario, sim_project

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2019, 4, 15)


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def project():
    return sim_project()


def cost(project, category, day, amount, *, partner_=None, company=None, voucher=None, reverses=None):
    return CostEntry.objects.create(project=project, partner=partner_, category=category, date=day,
                                    amount_sek=D(amount), voucher=voucher or f"V{day:%m%d}{category[:3]}{amount}",
                                    company=company, reverses=reverses)


def hours(project, person, month, h, rate, *, partner_=None):
    return TimeReport.objects.create(project=project, person=person, partner=partner_, month=month, hours=D(h),
                                     hourly_cost_sek=D(rate))


@pytest.fixture
def ledger(project, make_user):
    """Q1 2019: staff 60 000 a month (IUC), support to a company 300 000, company-specific external
    services 30 000, travel 12 000, a travel entry reversed, and a cost after the as-of date."""
    person = make_user()
    company = CompanyFactory()
    for month in (1, 2, 3):
        hours(project, person, dt.date(2019, month, 1), 100, 600, partner_=partner(project))
    cost(project, "company_support", dt.date(2019, 2, 10), 300_000, company=company)
    cost(project, "external_services", dt.date(2019, 3, 5), 30_000, company=company)
    cost(project, "travel", dt.date(2019, 1, 20), 12_000)
    wrong = cost(project, "travel", dt.date(2019, 3, 1), 5_000)
    cost(project, "travel", dt.date(2019, 3, 2), -5_000, reverses=wrong, voucher="R1")
    cost(project, "travel", dt.date(2019, 5, 2), 9_999)
    return {"company": company, "person": person}


# --- Scenarios -----------------------------------------------------------------------------------


def test_summary_rows_for_the_seed(project):
    summary = selectors.scenario_summary(seed_scenario(project))
    assert summary.years == [2019, 2020] and summary.lines == 10
    rows = {row["key"]: row for row in summary.category_rows}
    assert rows["indirect"]["by_year"] == [D(300_000), D(300_000)]
    assert rows["company_support"]["total"] == D(10_400_000)
    partners = {row["label"]: row["total"] for row in summary.partner_rows}
    assert partners == {"IUC Z-GROUP": D(4_600_000), "Not assigned to a partner": D(11_400_000)}
    assert [row["kind"] for row in summary.source_rows] == ["regional_public", "other_public", "private_cash", "private_in_kind"]
    assert [row["basis"] for row in summary.source_rows] == ["amount", "amount", "amount", "hours"]
    in_kind = summary.source_rows[-1]
    assert (in_kind["amount"], in_kind["share_pct"], in_kind["hours"]) == (D(1_000_000), D("6.25"), D(2000))
    assert summary.financing_share_pct == D("100.00")
    kinds = {row["kind"]: row["amount"] for row in summary.kind_rows}
    assert kinds["erdf"] == 0 and kinds["regional_public"] == D(10_000_000)


def test_compare_side_by_side(project):
    seed, erdf = seed_scenario(project), erdf_scenario(project)
    comparison = selectors.compare([seed, erdf])
    assert comparison.years == [2019, 2020, 2021]
    years = {row["label"]: row["values"] for row in comparison.year_rows}
    assert years["2021"] == [None, D(16_000_000)]
    kinds = {row["label"]: row["cells"] for row in comparison.kind_rows}
    erdf_cells = kinds["European Regional Development Fund (ERDF)"]
    assert [c["amount"] for c in erdf_cells] == [D(0), D(16_000_000)] and erdf_cells[1]["share"] == D("50.00")
    categories = {row["label"]: row["values"] for row in comparison.category_rows}
    assert categories["Staff"] == [D(4_000_000), D(8_000_000)]
    assert [s.reach.amount for s in comparison.summaries] == [D(13_200_000), D(26_400_000)]
    assert selectors.compare([]).summaries == []


def test_scoping_of_projects_and_scenarios(project, make_user):
    scenario = seed_scenario(project, adopt=False)
    member, stranger = make_user("finance_officer"), make_user("finance_officer")
    project.memberships.create(user=member)
    assert selectors.scenario_for_user(member, scenario.pk) == scenario
    assert selectors.scenario_for_user(stranger, scenario.pk) is None
    assert selectors.project_for_user(stranger, project.pk) is None
    assert selectors.adopted_scenario(project) is None


# --- The grid ------------------------------------------------------------------------------------


def test_year_grid_with_a_year_budgeted_per_quarter(project):
    scenario = services.scenario_create(None, project, {"name": "Grid", "indirect_rate_pct": D(10)})
    services.budget_line_set(None, scenario, category="staff", year=2019, amount=D(1000))
    services.budget_line_set(None, scenario, category="staff", year=2020, quarter=1, amount=D(300))
    services.budget_line_set(None, scenario, category="staff", year=2020, quarter=2, amount=D(200))
    services.budget_line_set(None, scenario, category="travel", year=2021, amount=D(50))
    services.budget_line_set(None, scenario, category="travel", year=2019, partner=partner(project), amount=D(7))
    grid = selectors.budget_grid(scenario, None, "year")
    assert [c.label for c in grid.columns] == ["2019", "2020", "2021"]
    staff = grid.staff_row
    assert [(c.value, c.locked) for c in staff.cells] == [(D(1000), False), (D(500), True), (None, False)]
    assert staff.cells[0].name == "c-staff-2019-0" and staff.cells[0].label == "Staff, 2019"
    assert grid.indirect_cells == [D(100), D(50), D(0)]
    assert grid.column_totals == [D(1100), D(550), D(50)]
    assert grid.total == D(1700)
    assert grid.summary.totals.total == D(1707)  # the partner's line too
    assert grid.partner_key == "none" and grid.partner_label == "Not assigned to a partner"
    assert grid.cell("c-travel-2021-0").value == D(50) and grid.cell("c-nothing") is None


def test_quarter_grid_has_whole_year_and_quarter_columns(project):
    scenario = services.scenario_create(None, project, {"name": "Q", "start_date": dt.date(2019, 5, 1),
                                                        "end_date": dt.date(2020, 3, 31)})
    services.budget_line_set(None, scenario, category="other", year=2019, quarter=3, partner=owner(project), amount=D(5))
    grid = selectors.budget_grid(scenario, owner(project), "quarter",
                                 overrides={"c-other-2019-4": {"submitted": "x", "error": "Not a number"}})
    assert [c.label for c in grid.columns] == ["2019 whole year", "2019 Q2", "2019 Q3", "2019 Q4",
                                               "2020 whole year", "2020 Q1"]
    other = next(r for r in grid.rows if r.category == "other")
    assert [c.value for c in other.cells] == [None, None, D(5), None, None, None]
    assert other.cells[3].error == "Not a number" and other.cells[3].submitted == "x"
    assert grid.partner_key == str(owner(project).pk)


def test_cell_names_round_trip():
    assert selectors.parse_cell_name(selectors.cell_name("company_support", 2019, 3)) == ("company_support", 2019, 3)
    assert selectors.parse_cell_name(selectors.cell_name("staff", 2019, None)) == ("staff", 2019, None)
    for bad in ("", "c-staff-2019", "x-staff-2019-0", "c-staff-year-0", "c-a-b-c-d"):
        assert selectors.parse_cell_name(bad) is None


# --- The dashboard -------------------------------------------------------------------------------


def test_dashboard_from_the_ledgers(project, ledger):
    scenario = seed_scenario(project)
    dash = selectors.dashboard(project, scenario, AS_OF, 3)
    rows = {row.key: row.figures for row in dash.categories}
    assert rows["staff"].actual == D(180_000) and rows["indirect"].actual == D(27_000)
    assert rows["travel"].actual == D(12_000)  # the reversed entry nets to zero; May is after the as-of date
    assert rows["company_support"].actual == D(300_000) and rows["external_services"].actual == D(30_000)
    assert dash.total.actual == D(549_000)
    assert dash.burn.per_month == D(183_000) and dash.figures.remaining_months == 21
    assert rows["staff"].forecast == D(21 * 60_000) and rows["indirect"].forecast == D(21 * 9_000)
    assert dash.total.forecast == D(21 * 183_000)
    assert dash.total.projected_end == D(16_000_000 - 549_000 - 21 * 183_000)
    reach = dash.figures.reach_actual
    assert (reach.direct, reach.staff_share, reach.share_pct) == (D(330_000), D(126_000), D("83.06"))
    partners = {row.label: row.figures for row in dash.partners}
    assert partners["IUC Z-GROUP"].actual == D(207_000) and partners["IUC Z-GROUP"].budget == D(4_600_000)
    assert [row.label for row in dash.years] == ["2019", "2020"]
    assert [row.key for row in dash.quarters][:2] == ["2019-Q1", "2019-Q2"]
    assert dash.lines[0].label == "Staff – IUC Z-GROUP" and dash.lines[0].key == f"staff:{partner(project).pk}"
    assert dash.warnings == [] and dash.notes == []


def test_dashboard_warns_of_overspending_and_an_unbalanced_plan(project, ledger):
    cost(project, "travel", dt.date(2019, 3, 20), 150_000)
    low = erdf_scenario(project, name="40 %", rate=D(40))
    dash = selectors.dashboard(project, low, AS_OF, 3)
    travel = next(row for row in dash.lines if row.key == "travel:none")
    assert travel.figures.overspent
    assert any(w.startswith("Travel will be overspent: SEK 162,000.00 spent and SEK ") for w in dash.warnings)
    assert any("short of the budget" in w for w in dash.warnings)
    assert not any("whole budget" in w for w in dash.warnings)


def test_dashboard_notes_without_history_and_below_target(project, make_user):
    scenario = seed_scenario(project)
    dash = selectors.dashboard(project, scenario, dt.date(2019, 1, 10), 3)
    assert dash.notes and "No complete month with costs" in dash.notes[0]
    hours(project, make_user(), dt.date(2019, 1, 1), 10, 100)
    cost(project, "travel", dt.date(2019, 1, 5), 100_000)
    dash = selectors.dashboard(project, scenario, dt.date(2019, 2, 10), 3)
    assert any("reached companies; the target is 60.0 %" in note for note in dash.notes)


def test_private_co_financing_achieved(project):
    scenario = seed_scenario(project)
    company = CompanyFactory()
    make_intervention(project, company, status=InterventionStatus.APPROVED, own_cash_sek=D(50_000), own_hours=D(100),
                      approved_on=dt.date(2019, 3, 1))
    make_intervention(project, company, status=InterventionStatus.CLOSED, own_cash_sek=D(10_000), own_hours=D(0))
    make_intervention(project, company, status=InterventionStatus.DRAFT, own_cash_sek=D(99_000), own_hours=D(99))
    make_intervention(project, company, status=InterventionStatus.CANCELLED, own_cash_sek=D(99_000))
    co = selectors.dashboard(project, scenario, AS_OF, 3).co_financing
    assert (co.interventions, co.cash, co.hours, co.in_kind, co.total) == (2, D(60_000), D(100), D(50_000), D(110_000))
    assert (co.planned_cash, co.planned_in_kind, co.planned_total) == (D(3_000_000), D(1_000_000), D(4_000_000))
    assert (co.cash_pct, co.in_kind_pct, co.total_pct) == (D("2.00"), D("5.00"), D("2.75"))
