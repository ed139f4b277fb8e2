"""Budget services: scenarios (create, change, copy, adopt, delete), budget lines (one cell, many
cells, the whole set) and the financing plan, with their clear refusals and the audit trail."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.finance import selectors, services
from sim.finance.models import BudgetLine, BudgetScenario, FinancingSource

from .budget_builders import english, erdf_scenario, owner, partner, seed_scenario, sim_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def project():
    return sim_project()


@pytest.fixture
def scenario(project):
    return services.scenario_create(None, project, {"name": "Plan"})


def events(instance, action=None):
    found = AuditEvent.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    return found.filter(action=action) if action else found


# --- Scenarios -----------------------------------------------------------------------------------


def test_create_defaults_to_the_project_period_and_is_audited(project, make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    scenario = services.scenario_create(manager, project, {"name": "  Plan A  "})
    assert (scenario.name, scenario.start_date, scenario.end_date) == ("Plan A", dt.date(2019, 1, 1), dt.date(2021, 12, 31))
    assert scenario.created_by == manager and not scenario.is_adopted
    assert scenario.indirect_rate_pct == 15
    event = events(scenario).get()
    assert event.action == "create" and event.scope_id == str(project.pk) and event.actor == manager


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"name": "X", "start_date": dt.date(2020, 1, 1), "end_date": dt.date(2019, 1, 1)}, "end_date"),
    ({"name": "X", "indirect_rate_pct": D(101)}, "indirect_rate_pct"),
    ({"name": "X", "company_share_target_pct": D(-1)}, "company_share_target_pct"),
    ({"name": "X", "advisor_company_facing_pct": "lots"}, "advisor_company_facing_pct"),
    ({"name": "X", "in_kind_hourly_rate_sek": D(-500)}, "in_kind_hourly_rate_sek"),
    ({"name": "X", "indirect_rate_pct": D("15.555")}, "indirect_rate_pct"),
    ({"name": "X", "is_adopted": True}, "is_adopted"),
])
def test_create_refuses_bad_input_by_field(project, data, field):
    with pytest.raises(ValidationError) as exc:
        services.scenario_create(None, project, data)
    assert field in exc.value.message_dict
    assert not BudgetScenario.objects.exists()


def test_names_are_unique_per_project_whatever_the_case(project, scenario):
    with pytest.raises(ValidationError) as exc:
        services.scenario_create(None, project, {"name": "plan"})
    assert "already has a scenario called" in exc.value.message_dict["name"][0]
    other = sim_project()
    assert services.scenario_create(None, other, {"name": "Plan"}).project == other


def test_update_audits_changes_and_keeps_lines_inside_the_period(scenario):
    services.budget_line_set(None, scenario, category="staff", year=2021, amount=D(100))
    services.scenario_update(None, scenario, {"indirect_rate_pct": D(20)})
    event = events(scenario, "update").get()
    assert event.changes["indirect_rate_pct"] == {"before": "15", "after": "20"}
    services.scenario_update(None, scenario, {"indirect_rate_pct": D(20)})  # no change: no event
    assert events(scenario, "update").count() == 1
    with pytest.raises(ValidationError) as exc:
        services.scenario_update(None, scenario, {"end_date": dt.date(2020, 12, 31)})
    assert "Staff 2021" in exc.value.message_dict["end_date"][0]
    scenario.refresh_from_db()
    assert scenario.end_date == dt.date(2021, 12, 31)


def test_copy_takes_lines_financing_and_settings_and_may_extend(project):
    seed = seed_scenario(project)
    copy = services.scenario_copy(None, seed, {"name": "Seed + 2021", "end_date": dt.date(2021, 12, 31)})
    assert not copy.is_adopted and copy.end_date == dt.date(2021, 12, 31)
    assert copy.lines.count() == seed.lines.count() == 10
    assert copy.financing.count() == 4
    assert selectors.scenario_summary(copy).totals.total == D(16_000_000)
    assert events(copy).get().message == "Copied from 16 MSEK, 2 years, no ERDF"
    with pytest.raises(ValidationError) as exc:
        services.scenario_copy(None, seed, {"name": "Short", "end_date": dt.date(2019, 12, 31)})
    assert "lie outside the new period" in exc.value.message_dict["end_date"][0]
    with pytest.raises(ValidationError):
        services.scenario_copy(None, seed, {"name": seed.name})
    assert BudgetScenario.objects.filter(project=project).count() == 2


def test_exactly_one_adopted_scenario_per_project(project):
    seed = seed_scenario(project)
    erdf = erdf_scenario(project)
    assert list(BudgetScenario.objects.filter(is_adopted=True)) == [seed]
    services.scenario_adopt(None, erdf)
    seed.refresh_from_db()
    erdf.refresh_from_db()
    assert erdf.is_adopted and not seed.is_adopted
    assert events(seed, "update").order_by("-pk").first().message == "Replaced by 32 MSEK with 50 % ERDF, 3 years"
    services.scenario_adopt(None, erdf)  # already adopted: nothing changes
    assert BudgetScenario.objects.filter(project=project, is_adopted=True).count() == 1


def test_adopting_needs_a_budget_and_a_balanced_plan(project, scenario):
    with pytest.raises(ValidationError, match="has no budget yet"):
        services.scenario_adopt(None, scenario)
    low = erdf_scenario(project, name="40 %", rate=D(40))
    with pytest.raises(ValidationError) as exc:
        services.scenario_adopt(None, low)
    assert "3,200,000.00 short" in exc.value.messages[0]
    low.refresh_from_db()
    assert not low.is_adopted


def test_delete_a_scenario_but_never_the_adopted_one(project):
    seed = seed_scenario(project)
    with pytest.raises(ValidationError, match="cannot be deleted"):
        services.scenario_delete(None, seed)
    erdf = erdf_scenario(project)
    pk = erdf.pk
    services.scenario_delete(None, erdf)
    assert not BudgetScenario.objects.filter(pk=pk).exists()
    assert not BudgetLine.objects.filter(scenario_id=pk).exists()
    assert AuditEvent.objects.filter(object_type="finance.budgetscenario", object_id=str(pk), action="archive").exists()


# --- Budget lines --------------------------------------------------------------------------------


def test_set_change_and_clear_a_cell(scenario, project):
    line = services.budget_line_set(None, scenario, category="staff", year=2019, partner=partner(project),
                                    amount=D("1000.50"))
    assert (line.amount_sek, line.partner, line.quarter) == (D("1000.50"), partner(project), None)
    again = services.budget_line_set(None, scenario, category="staff", year="2019", partner=partner(project).pk,
                                     amount="2000")
    assert again.pk == line.pk and again.amount_sek == 2000
    assert BudgetLine.objects.count() == 1  # no duplicate, on SQLite too
    services.budget_line_set(None, scenario, category="staff", year=2019, partner=partner(project), amount=D(2000))
    assert [e.action for e in events(line).order_by("pk")] == ["create", "update"]
    assert services.budget_line_set(None, scenario, category="staff", year=2019, partner=partner(project),
                                    amount=None) is None
    assert not BudgetLine.objects.exists()
    assert events(line).order_by("-pk").first().action == "archive"
    # Clearing an empty cell does nothing.
    assert services.budget_line_set(None, scenario, category="travel", year=2019, amount="") is None


def test_a_project_level_and_a_partner_line_are_different_cells(scenario, project):
    services.budget_line_set(None, scenario, category="travel", year=2019, amount=D(10))
    services.budget_line_set(None, scenario, category="travel", year=2019, partner=owner(project), amount=D(20))
    services.budget_line_set(None, scenario, category="travel", year=2019, amount=D(30))
    assert sorted(BudgetLine.objects.values_list("amount_sek", flat=True)) == [D(20), D(30)]


@pytest.mark.parametrize(("cell", "field", "message"), [
    ({"category": "indirect", "year": 2019}, "category", "Indirect costs are not entered: they are 15.00 % of staff costs."),
    ({"category": "salaries", "year": 2019}, "category", "Choose one of"),
    ({"category": "staff", "year": 2022}, "year", "2022 lies outside the scenario's period (2019-01-01 – 2021-12-31)."),
    ({"category": "staff", "year": 2019, "quarter": 5}, "quarter", "A quarter is 1, 2, 3 or 4."),
    ({"category": "staff", "year": "next"}, "year", "A year"),
    ({"category": "staff", "year": 2019, "amount": D(-1)}, "amount_sek", "cannot be negative"),
    ({"category": "staff", "year": 2019, "amount": D("1.005")}, "amount_sek", "at most 2 decimals"),
    ({"category": "staff", "year": 2019, "amount": "many"}, "amount_sek", "Enter a number."),
    ({"category": "staff", "year": 2019, "amount": D("1E+13")}, "amount_sek", "too large"),
])
def test_cells_are_refused_with_clear_errors(scenario, cell, field, message):
    with pytest.raises(ValidationError) as exc:
        services.budget_line_set(None, scenario, **{"amount": D(1), **cell})
    assert message in exc.value.message_dict[field][0]
    assert not BudgetLine.objects.exists()


def test_quarter_outside_a_shorter_period_and_a_partner_of_another_project(project):
    scenario = services.scenario_create(None, project, {"name": "H2", "start_date": dt.date(2019, 7, 1),
                                                        "end_date": dt.date(2019, 12, 31)})
    with pytest.raises(ValidationError, match="2019 Q1 lies outside"):
        services.budget_line_set(None, scenario, category="staff", year=2019, quarter=1, amount=D(1))
    services.budget_line_set(None, scenario, category="staff", year=2019, quarter=3, amount=D(1))
    stranger = owner(sim_project())
    with pytest.raises(ValidationError) as exc:
        services.budget_line_set(None, scenario, category="staff", year=2019, partner=stranger, amount=D(1))
    assert exc.value.message_dict["partner"] == ["No such partner in the project."]


def test_a_year_is_budgeted_whole_or_per_quarter_not_both(scenario):
    services.budget_line_set(None, scenario, category="staff", year=2019, amount=D(100))
    with pytest.raises(ValidationError, match="budgeted for the whole year; clear that amount"):
        services.budget_line_set(None, scenario, category="staff", year=2019, quarter=2, amount=D(10))
    services.budget_line_set(None, scenario, category="staff", year=2020, quarter=1, amount=D(10))
    with pytest.raises(ValidationError, match="budgeted per quarter"):
        services.budget_line_set(None, scenario, category="staff", year=2020, amount=D(10))
    # Another category or partner is another matter.
    services.budget_line_set(None, scenario, category="travel", year=2019, quarter=2, amount=D(10))


def test_many_cells_all_or_nothing(scenario):
    cells = [
        {"key": "c-staff-2019-0", "category": "staff", "year": 2019, "amount": D(100)},
        {"key": "c-travel-2019-0", "category": "travel", "year": 2019, "amount": D(-5)},
        {"key": "c-other-2025-0", "category": "other", "year": 2025, "amount": D(5)},
    ]
    with pytest.raises(ValidationError) as exc:
        services.budget_lines_set(None, scenario, cells)
    assert set(exc.value.message_dict) == {"c-travel-2019-0", "c-other-2025-0"}
    assert not BudgetLine.objects.exists()
    assert services.budget_lines_set(None, scenario, [cells[0]]) == 1
    assert BudgetLine.objects.get().amount_sek == 100


def test_replace_the_whole_set(scenario, project):
    services.budget_line_set(None, scenario, category="equipment", year=2020, amount=D(9))
    services.budget_line_set(None, scenario, category="staff", year=2019, amount=D(9))
    lines = services.budget_lines_replace(None, scenario, [
        {"category": "staff", "year": 2019, "quarter": 1, "amount": D(1)},
        {"category": "staff", "year": 2019, "quarter": 2, "amount": D(2), "note": "Två"},
        {"category": "travel", "year": 2020, "partner": partner(project).pk, "amount": D(3)},
    ])
    assert len(lines) == 3
    assert sorted(BudgetLine.objects.values_list("category", "year", "quarter", "amount_sek")) == [
        ("staff", 2019, 1, D(1)), ("staff", 2019, 2, D(2)), ("travel", 2020, None, D(3))]
    assert BudgetLine.objects.get(quarter=2).note == "Två"


@pytest.mark.parametrize(("lines", "key", "message"), [
    ([{"category": "staff", "year": 2019, "amount": D(1)}, {"category": "staff", "year": 2019, "amount": D(2)}],
     "line 2", "The same cell as line 1."),
    ([{"category": "staff", "year": 2019, "amount": D(1)}, {"category": "staff", "year": 2019, "quarter": 3, "amount": D(2)}],
     "line 2", "given both for the whole year and per quarter"),
    ([{"category": "staff", "year": 2019}], "line 1", "This field is required."),
    ([{"category": "indirect", "year": 2019, "amount": D(1)}], "line 1", "Indirect costs are not entered"),
])
def test_replace_refuses_and_keeps_the_old_set(scenario, lines, key, message):
    services.budget_line_set(None, scenario, category="other", year=2021, amount=D(7))
    with pytest.raises(ValidationError) as exc:
        services.budget_lines_replace(None, scenario, lines)
    assert message in " ".join(exc.value.message_dict[key])
    assert list(BudgetLine.objects.values_list("category", "amount_sek")) == [("other", D(7))]


# --- Financing -----------------------------------------------------------------------------------


def test_add_change_and_remove_sources(scenario):
    source = services.financing_source_create(None, scenario, {"kind": "erdf", "name": " Tillväxtverket ",
                                                               "rate_pct": D(50)})
    assert (source.name, source.rate_pct, source.amount_sek) == ("Tillväxtverket", D(50), None)
    services.financing_source_update(None, source, {"rate_pct": None, "amount_sek": D(1000)})
    source.refresh_from_db()
    assert (source.rate_pct, source.amount_sek) == (None, D(1000))
    assert [e.action for e in events(source).order_by("pk")] == ["create", "update"]
    services.financing_source_delete(None, source)
    assert not FinancingSource.objects.exists()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "erdf"}, "amount_sek", "Give exactly one of"),
    ({"kind": "erdf", "amount_sek": D(1), "rate_pct": D(1)}, "amount_sek", "Give exactly one of"),
    ({"kind": "regional_public", "hours": D(10)}, "hours", "Hours are for private contributions in kind"),
    ({"kind": "private_in_kind", "rate_pct": D(10)}, "rate_pct", "not as a rate"),
    ({"kind": "erdf", "rate_pct": D(120)}, "rate_pct", "A percentage from 0 to 100."),
    ({"kind": "erdf", "amount_sek": D(-1)}, "amount_sek", "An amount from 0 upwards."),
    ({"kind": "private_in_kind", "hours": D("-3")}, "hours", "A positive number of hours."),
    ({"kind": "private_in_kind", "hours": D("1.25")}, "hours", "at most 1 decimals"),
    ({"kind": "lottery", "amount_sek": D(1)}, "kind", "Choose one of"),
])
def test_sources_are_refused_with_clear_errors(scenario, data, field, message):
    with pytest.raises(ValidationError) as exc:
        services.financing_source_create(None, scenario, data)
    assert message in exc.value.message_dict[field][0]
    assert not FinancingSource.objects.exists()


def test_replace_the_plan_all_or_nothing(scenario):
    services.financing_source_create(None, scenario, {"kind": "private_cash", "amount_sek": D(1)})
    with pytest.raises(ValidationError) as exc:
        services.financing_replace(None, scenario, [{"kind": "erdf", "rate_pct": D(50)}, {"kind": "erdf"}])
    assert list(exc.value.message_dict) == ["source 2"]
    assert list(FinancingSource.objects.values_list("kind", flat=True)) == ["private_cash"]
    items = services.financing_replace(None, scenario, [{"kind": "erdf", "rate_pct": D(50), "id": 99}])
    assert [i.kind for i in items] == ["erdf"] and FinancingSource.objects.count() == 1


def test_the_plan_follows_the_budget(project):
    """An ERDF rate takes its amount from the budget: more budget, more ERDF."""
    scenario = erdf_scenario(project)
    summary = selectors.scenario_summary(scenario)
    assert summary.plan.sources[0].amount == D(16_000_000) and summary.balance.balanced
    services.budget_line_set(None, scenario, category="equipment", year=2021, amount=D(200_000))
    summary = selectors.scenario_summary(scenario)
    assert summary.plan.sources[0].amount == D(16_100_000)
    assert summary.balance.direction == "short" and summary.balance.gap == D(100_000)
