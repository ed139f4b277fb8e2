"""The finance step of ``sim demo``: scenarios, financing plans, staff rates, time reports, the cost
ledger and the dashboard of the running project."""

import datetime as dt
import io
import random
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

import sim.companies.demo as demo_steps
import sim.finance.demo as finance_demo  # registers the finance step after the steps it builds on
from sim.core.models import AuditEvent
from sim.finance import rules, selectors, selectors_actuals
from sim.finance.demo import IUC, MITT_ADOPTED, SIM_A, SIM_B
from sim.finance.models import BudgetScenario, CostEntry, StaffRate, TimeReport
from sim.programmes.demo import MITT_CODE, SIM_CODE, demo_today
from sim.programmes.models import Project

N = 60
SEED = 3


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """`sim demo` once for this module (rolled back afterwards)."""
    with django_db_blocker.unblock(), transaction.atomic():
        mail.outbox = []
        out = io.StringIO()
        timing = {}
        index = next(i for i, (name, _step) in enumerate(demo_steps._STEPS) if name == "finance")
        step = demo_steps._STEPS[index][1]

        def timed(ctx):
            started = time.process_time()  # CPU time: what the step costs, however busy the machine
            step(ctx)
            timing["finance"] = time.process_time() - started

        demo_steps._STEPS[index] = ("finance", timed)
        try:
            call_command("demo", seed=SEED, companies=N, stdout=out)
        finally:
            demo_steps._STEPS[index] = ("finance", step)
        yield {"sim": Project.objects.get(code=SIM_CODE), "mitt": Project.objects.get(code=MITT_CODE),
               "finance_seconds": timing["finance"]}
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_sim_has_both_scenarios_balanced_the_two_year_one_adopted(demo):
    scenarios = {s.name: s for s in selectors.scenarios_of(demo["sim"])}
    assert set(scenarios) == {SIM_A, SIM_B}
    a, b = selectors.scenario_summary(scenarios[SIM_A]), selectors.scenario_summary(scenarios[SIM_B])
    assert scenarios[SIM_A].is_adopted and not scenarios[SIM_B].is_adopted
    assert (scenarios[SIM_A].start_date, scenarios[SIM_A].end_date) == (dt.date(2019, 1, 1), dt.date(2020, 12, 31))
    assert (scenarios[SIM_B].start_date, scenarios[SIM_B].end_date) == (dt.date(2019, 1, 1), dt.date(2021, 12, 31))
    assert a.totals.total == Decimal("16000000") and b.totals.total == Decimal("32000000")
    assert a.balance.balanced and b.balance.balanced
    # Indirect costs are the 15 % flat rate of staff costs, never entered.
    assert a.totals.indirect == a.totals.staff * Decimal("0.15")
    # No ERDF in the two-year plan; half of the three-year plan; in kind valued at the standard rate.
    assert a.plan.by_kind["erdf"] == 0 and a.plan.by_kind["private_in_kind"] == Decimal("3000") * 500
    assert a.plan.by_kind["regional_public"] > 0 and a.plan.by_kind["other_public"] > 0
    assert b.plan.by_kind["erdf"] == Decimal("16000000")
    # Budget lines per partner, category and year; most of the money is meant to reach companies.
    assert set(a.totals.by_year) == {2019, 2020} and set(b.totals.by_year) == {2019, 2020, 2021}
    partners = set(demo["sim"].partners.values_list("organisation__name", flat=True))
    assert {a.partners[p] for p in a.totals.by_partner} == partners
    assert a.reach.meets_target and b.reach.meets_target
    comparison = selectors.compare([scenarios[SIM_A], scenarios[SIM_B]])
    assert comparison.years == [2019, 2020, 2021] and len(comparison.summaries) == 2


def test_every_scenario_plan_balances_and_is_audited(demo):
    for scenario in BudgetScenario.objects.all():
        summary = selectors.scenario_summary(scenario)
        assert summary.balance.balanced, (scenario.name, summary.balance.message())
        assert AuditEvent.objects.filter(object_type="finance.budgetscenario", object_id=str(scenario.pk)).exists()


def test_staff_rates_and_time_reports_for_the_advisors_in_both_projects(demo):
    from sim.companies.demo import ADVISORS

    for project in (demo["sim"], demo["mitt"]):
        people = set(StaffRate.objects.filter(project=project).values_list("person__username", flat=True))
        assert set(ADVISORS) <= people
        reports = TimeReport.objects.filter(project=project)
        assert set(ADVISORS) <= set(reports.values_list("person__username", flat=True))
        for report in reports:
            rate = selectors_actuals.rate_in_month(project, report.person, report.month)
            assert report.hourly_cost_sek == rules_hourly(rate)
    sim_months = set(TimeReport.objects.filter(project=demo["sim"]).values_list("month", flat=True))
    assert min(sim_months) == dt.date(2019, 1, 1) and max(sim_months) == dt.date(2021, 12, 1)
    mitt_months = set(TimeReport.objects.filter(project=demo["mitt"]).values_list("month", flat=True))
    assert max(mitt_months) < demo_today().replace(day=1)


def rules_hourly(rate):
    from sim.finance.rules_actuals import hourly_cost

    return hourly_cost(rate.monthly_salary_sek, rate.overhead_pct, rate.annual_hours)


def test_ledger_imported_with_vouchers_across_categories_and_a_reversal(demo):
    for project in (demo["sim"], demo["mitt"]):
        entries = CostEntry.objects.filter(project=project)
        assert {"external_services", "company_support", "travel", "equipment", "other"} <= set(
            entries.values_list("category", flat=True))
        assert entries.filter(source="import").count() > 50
        assert all(entry.voucher for entry in entries)
        assert entries.filter(intervention__isnull=False).exists()
        assert all(project.start_date <= entry.date <= min(project.effective_end, demo_today()) for entry in entries)
        reversal = entries.get(reverses__isnull=False)
        assert reversal.amount_sek == -reversal.reverses.amount_sek and reversal.date >= reversal.reverses.date
        assert reversal.reverses.voucher in reversal.description and reversal.source == "reversal"
    # Intervention costs only for approved interventions, never more than their budget.
    for entry in CostEntry.objects.filter(intervention__isnull=False).select_related("intervention"):
        assert entry.intervention.approved_on is not None
    by_intervention: dict[int, Decimal] = {}
    for entry in CostEntry.objects.filter(intervention__isnull=False):
        by_intervention[entry.intervention_id] = by_intervention.get(entry.intervention_id, Decimal(0)) + entry.amount_sek
    from sim.programmes.models import Intervention

    for pk, amount in by_intervention.items():
        assert amount <= Intervention.objects.get(pk=pk).budget_sek


def test_company_contributions_counted_as_private_co_financing(demo):
    for project in (demo["sim"], demo["mitt"]):
        contributions = selectors_actuals.company_contributions(project)
        assert contributions.rows and contributions.cash_sek > 0 and contributions.hours > 0
        assert contributions.hourly_rate_sek == Decimal("500")
        assert contributions.hours_value_sek == contributions.hours * 500


def test_running_project_dashboard_has_burn_rate_forecast_and_an_overspend_warning(demo):
    mitt = demo["mitt"]
    scenario = selectors.adopted_scenario(mitt)
    assert scenario.name == MITT_ADOPTED
    with translation.override("en"):
        dash = selectors.dashboard(mitt, scenario, demo_today())
    assert dash.summary.balance.balanced
    assert dash.summary.plan.by_kind["erdf"] == dash.summary.totals.total * Decimal("0.4")
    assert dash.total.budget > dash.total.actual > 0 and dash.total.forecast > 0
    assert dash.burn.months == 3 and dash.burn.per_month > 0
    assert dash.figures.remaining_months > 0
    assert dash.total.projected_end == dash.total.budget - dash.total.actual - dash.total.forecast
    assert dash.total.projected_end > 0  # the project as a whole stays within its budget
    iuc = mitt.partners.get(organisation__name=IUC)
    overspent = {row.key for row in dash.lines if row.figures.overspent}
    assert f"travel:{iuc.pk}" in overspent
    travel = next(row.figures for row in dash.lines if row.key == f"travel:{iuc.pk}")
    assert travel.actual > travel.budget and travel.forecast > 0  # already over, and still travelling
    assert any(IUC in warning and "overspent" in warning for warning in dash.warnings)
    assert dash.figures.reach_actual.share_pct is not None and dash.figures.reach_actual.share_pct > 0
    assert dash.co_financing.interventions > 0 and dash.co_financing.total > 0
    assert all(row.figures.actual > 0 for row in dash.partners)
    assert dash.figures.by_category[rules.INDIRECT].actual == rules.cents(
        dash.figures.by_category[rules.STAFF].actual * Decimal("0.15"))


def test_closed_project_dashboard_no_forecast_and_within_budget(demo):
    sim = demo["sim"]
    dash = selectors.dashboard(sim, selectors.adopted_scenario(sim), demo_today())
    assert dash.total.forecast == 0 and 0 < dash.total.actual < dash.total.budget
    assert not dash.warnings


def test_ledger_lines_and_vouchers_follow_the_seed():
    def export(seed: str) -> bytes:
        lines = finance_demo._recurring(random.Random(seed), finance_demo.MITT_RECURRING, dt.date(2024, 1, 1),
                                        dt.date(2026, 10, 31), dt.date(2026, 10, 31))
        return finance_demo._csv(lines)

    assert export("3:finance") == export("3:finance")
    assert export("3:finance") != export("4:finance")
    header, first = export("3:finance").decode().splitlines()[:2]
    assert header.startswith("Datum;Verifikation;Kostnadsslag;Belopp")
    day, voucher, category, amount = first.split(";")[:4]
    assert dt.date.fromisoformat(day).weekday() < 5 and voucher[0] in "AZVM" and "," in amount


def test_demo_again_if_empty_writes_no_second_ledger(demo):
    before = (BudgetScenario.objects.count(), CostEntry.objects.count(), TimeReport.objects.count(),
              StaffRate.objects.count())
    out = io.StringIO()
    call_command("demo", seed=SEED, companies=N, if_empty=True, stdout=out)
    assert "no demo data written" in out.getvalue() or "inga demodata" in out.getvalue().lower()
    assert (BudgetScenario.objects.count(), CostEntry.objects.count(), TimeReport.objects.count(),
            StaffRate.objects.count()) == before


def test_finance_step_is_fast(demo):
    assert demo["finance_seconds"] < 10, demo["finance_seconds"]

