"""Services of the actuals: cost entries and reversals, staff rates, time reports; and the selectors
the dashboard and the contributions page read."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sim.core.models import AppendOnlyError, AuditEvent
from sim.core.roles import Role
from sim.finance import selectors_actuals as selectors
from sim.finance import services_actuals as services
from sim.finance.models import CostEntry, StaffRate, TimeReport
from sim.finance.tests.actuals_builders import (
    adopt_scenario,
    english,
    make_entry,
    make_intervention,
    make_project,
    make_rate,
    other_partner,
    owner_partner,
)
from sim.programmes.models import FocusArea, InterventionStatus

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def officer(make_user):
    return make_user(Role.FINANCE_OFFICER)


@pytest.fixture
def project(officer):
    return make_project(officer)


def _data(project, **extra):
    return {"date": dt.date(2024, 3, 15), "voucher": "V100", "category": "travel", "amount_sek": D("1250.50"),
            "partner": owner_partner(project), "description": "Tåg Östersund–Stockholm", **extra}


def _errors(exc) -> dict:
    return exc.value.message_dict


# --- Cost entries ---------------------------------------------------------------------------


def test_create_cost_entry_is_audited(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project))
    assert entry.pk and entry.source == "manual" and entry.recorded_by == officer
    assert entry.amount_sek == D("1250.50") and entry.description == "Tåg Östersund–Stockholm"
    event = AuditEvent.objects.get(object_type="finance.costentry", object_id=str(entry.pk))
    assert event.action == "create" and event.actor == officer
    assert event.changes["amount_sek"]["after"] == "1250.5" and event.changes["voucher"]["after"] == "V100"


def test_partner_defaults_to_project_owner(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project, partner=None))
    assert entry.partner == owner_partner(project)


def test_intervention_sets_the_company(officer, project):
    intervention = make_intervention(project)
    entry = services.cost_entry_create(officer, project, _data(project, category="company_support",
                                                              intervention=intervention))
    assert entry.company == intervention.company


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"category": "staff"}, "category", "time reports"),
    ({"category": "indirect"}, "category", "flat rate"),
    ({"category": "fika"}, "category", "Choose a cost category"),
    ({"amount_sek": D(0)}, "amount_sek", "cannot be zero"),
    ({"amount_sek": None}, "amount_sek", "Enter the amount"),
    ({"amount_sek": D("1.005")}, "amount_sek", "two decimals"),
    ({"amount_sek": D("1000000000000")}, "amount_sek", "too large"),
    ({"voucher": "  "}, "voucher", "voucher"),
    ({"voucher": "V" * 65}, "voucher", "at most 64"),
    ({"date": dt.date(2023, 12, 31)}, "date", "outside the project's period"),
    ({"date": None}, "date", "Enter the date"),
    ({"description": "x" * 256}, "description", "at most 255"),
])
def test_create_refuses_invalid_entries(officer, project, change, field, message):
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, **change))
    assert message in " ".join(_errors(exc)[field])
    assert not CostEntry.objects.exists()


def test_create_refuses_future_dates(officer, project):
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, date=timezone.localdate() + dt.timedelta(days=1)))
    assert "future" in _errors(exc)["date"][0]


def test_create_refuses_foreign_partner_intervention_and_mismatched_company(officer, project):
    elsewhere = make_project()
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, partner=owner_partner(elsewhere)))
    assert "not a partner" in _errors(exc)["partner"][0]
    foreign = make_intervention(elsewhere)
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, intervention=foreign))
    assert "another project" in _errors(exc)["intervention"][0]
    intervention = make_intervention(project)
    other = make_intervention(project)
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, intervention=intervention, company=other.company))
    assert "not for this company" in _errors(exc)["company"][0]


def test_costs_of_a_draft_intervention_are_refused(officer, project):
    draft = make_intervention(project, status=InterventionStatus.DRAFT)
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, intervention=draft))
    assert "not approved" in _errors(exc)["intervention"][0]


def test_duplicate_voucher_line_is_refused_also_without_partner_on_sqlite(officer, project):
    services.cost_entry_create(officer, project, _data(project))
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_create(officer, project, _data(project, voucher=" v100 "))
    assert "already in the ledger" in _errors(exc)["voucher"][0]
    # Another line of the same voucher (another amount or category) is fine.
    services.cost_entry_create(officer, project, _data(project, amount_sek=D(99)))
    services.cost_entry_create(officer, project, _data(project, category="other"))
    assert CostEntry.objects.count() == 3


def test_closed_project_still_takes_costs_within_its_period(officer):
    project = make_project(officer, end=dt.date(2024, 12, 31), status="closed")
    entry = services.cost_entry_create(officer, project, _data(project))
    assert entry.pk


# --- Reversals ------------------------------------------------------------------------------


def test_reversal_negates_and_links(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project))
    reversal = services.cost_entry_reverse(officer, entry, reason="Fel projekt", on=dt.date(2024, 4, 2))
    assert reversal.reverses == entry and reversal.amount_sek == D("-1250.50")
    assert (reversal.category, reversal.partner, reversal.voucher) == (entry.category, entry.partner, entry.voucher)
    assert reversal.date == dt.date(2024, 4, 2) and reversal.source == "reversal"
    assert "Fel projekt" in reversal.description
    event = AuditEvent.objects.get(object_type="finance.costentry", object_id=str(reversal.pk))
    assert event.scope_id == str(entry.pk) and "Fel projekt" in event.message
    assert sum(e.amount_sek for e in CostEntry.objects.filter(project=project)) == 0


def test_reversal_rules(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project))
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_reverse(officer, entry, reason="  ")
    assert "reason" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_reverse(officer, entry, reason="Fel", on=dt.date(2024, 3, 1))
    assert "before the entry" in _errors(exc)["on"][0]
    reversal = services.cost_entry_reverse(officer, entry, reason="Fel belopp")
    assert reversal.date == timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_reverse(officer, entry, reason="Igen")
    assert "already been reversed" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError) as exc:
        services.cost_entry_reverse(officer, reversal, reason="Ångra")
    assert "itself a reversal" in " ".join(exc.value.messages)
    assert CostEntry.objects.count() == 2


def test_reversal_with_own_voucher(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project))
    reversal = services.cost_entry_reverse(officer, entry, reason="Kreditfaktura", voucher="K7")
    assert reversal.voucher == "K7"


def test_ledger_is_append_only(officer, project):
    entry = services.cost_entry_create(officer, project, _data(project))
    entry.amount_sek = D(1)
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        CostEntry.objects.filter(pk=entry.pk).update(amount_sek=D(2))


# --- Staff rates ----------------------------------------------------------------------------


def test_staff_rate_create_and_update(officer, project, make_user):
    advisor = make_user(Role.ADVISOR)
    from sim.finance.tests.actuals_builders import add_member

    add_member(project, advisor)
    rate = services.staff_rate_create(officer, project, {
        "person": advisor, "valid_from": dt.date(2024, 1, 1), "monthly_salary_sek": D(45000), "overhead_pct": D(51),
        "annual_hours": D(1720)})
    assert rate.partner == other_partner(project)  # the membership's organisation
    assert AuditEvent.objects.filter(object_type="finance.staffrate", action="create").count() == 1
    services.staff_rate_update(officer, rate, {"monthly_salary_sek": D(46000)})
    rate.refresh_from_db()
    assert rate.monthly_salary_sek == D(46000)
    assert AuditEvent.objects.filter(object_type="finance.staffrate", action="update").count() == 1


def test_staff_rate_refusals(officer, project, make_user):
    outsider = make_user(Role.ADVISOR)
    with pytest.raises(ValidationError) as exc:
        services.staff_rate_create(officer, project, {"person": outsider, "valid_from": dt.date(2024, 1, 1),
                                                      "monthly_salary_sek": D(40000)})
    assert "does not work in the project" in _errors(exc)["person"][0]
    make_rate(project, officer)
    for change, field in (({"monthly_salary_sek": D(0)}, "monthly_salary_sek"), ({"overhead_pct": D(-1)}, "overhead_pct"),
                          ({"annual_hours": D(0)}, "annual_hours"), ({"valid_from": dt.date(2024, 1, 1)}, "valid_from")):
        data = {"person": officer, "valid_from": dt.date(2024, 6, 1), "monthly_salary_sek": D(40000), **change}
        with pytest.raises(ValidationError) as exc:
            services.staff_rate_create(officer, project, data)
        assert field in _errors(exc)


# --- Time reports ---------------------------------------------------------------------------


@pytest.fixture
def advisor(make_user, project):
    from sim.finance.tests.actuals_builders import add_member

    user = make_user(Role.ADVISOR)
    add_member(project, user)
    return user


def _areas(project):
    return {a.key: a.pk for a in project.focus_areas.all()}


def test_month_grid_creates_rows_at_the_months_rate(officer, project, advisor):
    make_rate(project, advisor, dt.date(2024, 1, 1), salary="45000")
    make_rate(project, advisor, dt.date(2024, 6, 1), salary="48000")
    areas = _areas(project)
    saved = services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 17), {
        areas["production_efficiency"]: "60", areas["internationalisation"]: "30,5", None: "20"})
    assert saved["created"] == 3 and saved["hours"] == D("110.5")
    assert saved["hourly_cost_sek"] == D("474.07")
    reports = TimeReport.objects.filter(person=advisor)
    assert {r.month for r in reports} == {dt.date(2024, 3, 1)}
    assert {r.hourly_cost_sek for r in reports} == {D("474.07")}
    assert {r.partner for r in reports} == {other_partner(project)}
    assert saved["cost_sek"] == sum(r.cost_sek for r in reports)
    june = services.time_report_save_month(officer, project, advisor, dt.date(2024, 6, 1), {None: "10"})
    assert june["hourly_cost_sek"] == D("505.67")  # 48 000 × 12 × 1.51 / 1 720


def test_hourly_cost_is_fixed_when_recorded(officer, project, advisor):
    rate = make_rate(project, advisor, dt.date(2024, 1, 1), salary="45000")
    areas = _areas(project)
    services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {
        areas["production_efficiency"]: "60", None: "10"})
    services.staff_rate_update(officer, rate, {"monthly_salary_sek": D(50000)})
    # Unchanged rows keep their cost; a changed row takes the rate valid now.
    saved = services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {
        areas["production_efficiency"]: "60", None: "12"})
    assert saved["updated"] == 1 and saved["created"] == 0
    costs = dict(TimeReport.objects.filter(person=advisor).values_list("focus_area_id", "hourly_cost_sek"))
    assert costs[areas["production_efficiency"]] == D("474.07")
    assert costs[None] == D("526.74")  # 50 000 × 12 × 1.51 / 1 720


def test_clearing_a_cell_removes_its_hours(officer, project, advisor):
    make_rate(project, advisor)
    areas = _areas(project)
    services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {
        areas["production_efficiency"]: "60", None: "10"})
    saved = services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {
        areas["production_efficiency"]: "", None: "10"})
    assert saved["removed"] == 1 and saved["hours"] == D(10)
    assert AuditEvent.objects.filter(object_type="finance.timereport", action="archive").count() == 1


def test_no_staff_rate_is_refused_with_a_clear_message(officer, project, advisor):
    make_rate(project, advisor, dt.date(2024, 5, 1))
    with pytest.raises(ValidationError) as exc:
        services.time_report_save_month(officer, project, advisor, dt.date(2024, 4, 1), {None: "10"})
    assert "no staff rate valid in April 2024" in exc.value.messages[0]
    assert not TimeReport.objects.exists()


def test_implausible_month_is_refused_across_projects(officer, project, advisor):
    make_rate(project, advisor)
    other = make_project(officer)
    from sim.finance.tests.actuals_builders import add_member

    add_member(other, advisor)
    make_rate(other, advisor)
    # March 2024 has 21 weekdays: at most 210 hours.
    services.time_report_save_month(officer, other, advisor, dt.date(2024, 3, 1), {None: "150"})
    with pytest.raises(ValidationError) as exc:
        services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {None: "61"})
    message = exc.value.messages[0]
    assert "211" in message and "at most 210" in message and "150" in message
    saved = services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {None: "60"})
    assert saved["hours"] == D(60)


@pytest.mark.parametrize(("month", "hours", "field", "message"), [
    (dt.date(2023, 12, 1), {None: "10"}, "month", "outside the project's period"),
    (None, {None: "10"}, "month", "not in advance"),
    (dt.date(2024, 3, 1), {None: "-1"}, "hours_general", "negative"),
    (dt.date(2024, 3, 1), {None: "abc"}, "hours_general", "not a number"),
    (dt.date(2024, 3, 1), {None: "401"}, "hours_general", "400"),
])
def test_time_report_refusals(officer, project, advisor, month, hours, field, message):
    make_rate(project, advisor)
    month = month or (timezone.localdate().replace(day=1) + dt.timedelta(days=32))
    with pytest.raises(ValidationError) as exc:
        services.time_report_save_month(officer, project, advisor, month, hours)
    assert message in " ".join(_errors(exc)[field])


def test_time_report_refuses_outsiders_and_foreign_focus_areas(officer, project, advisor, make_user):
    make_rate(project, advisor)
    with pytest.raises(ValidationError) as exc:
        services.time_report_save_month(officer, project, make_user(Role.ADVISOR), dt.date(2024, 3, 1), {None: "1"})
    assert "does not work" in _errors(exc)["person"][0]
    financing = FocusArea.objects.get(key="financing")
    with pytest.raises(ValidationError) as exc:
        services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {financing.pk: "1"})
    assert "not one of the project's" in _errors(exc)[f"hours_{financing.pk}"][0]


# --- Selectors ------------------------------------------------------------------------------


def test_actual_costs_combine_ledger_and_time_reports(officer, project, advisor):
    make_rate(project, advisor)
    services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {None: "10"})
    services.time_report_save_month(officer, project, advisor, dt.date(2024, 4, 1), {None: "20"})
    intervention = make_intervention(project)
    make_entry(project, amount="1000", category="travel", date=dt.date(2024, 3, 5))
    entry = make_entry(project, amount="500", category="travel", date=dt.date(2024, 3, 20))
    services.cost_entry_reverse(officer, entry, reason="Fel", on=dt.date(2024, 4, 2))
    make_entry(project, amount="80000", category="company_support", date=dt.date(2024, 4, 10),
               intervention=intervention, company=intervention.company, partner=other_partner(project))

    rows = selectors.actual_costs(project, by=("category", "month"))
    as_dict = {(r["category"], r["month"]): r["amount_sek"] for r in rows}
    assert as_dict == {
        ("company_support", dt.date(2024, 4, 1)): D("80000.00"),
        ("staff", dt.date(2024, 3, 1)): D("4740.70"),
        ("staff", dt.date(2024, 4, 1)): D("9481.40"),
        ("travel", dt.date(2024, 3, 1)): D("1500.00"),
        ("travel", dt.date(2024, 4, 1)): D("-500.00"),
    }
    by_specific = {(r["category"], r["company_specific"]): r["amount_sek"]
                   for r in selectors.actual_costs(project, by=("category", "company_specific"))}
    assert by_specific == {("company_support", True): D("80000.00"), ("staff", False): D("14222.10"),
                           ("travel", False): D("1000.00")}
    by_partner = {r["partner"]: r["amount_sek"] for r in selectors.actual_costs(project, by=("partner",))}
    assert by_partner == {owner_partner(project).pk: D("1000.00"), other_partner(project).pk: D("94222.10")}
    assert sum(r["amount_sek"] for r in selectors.actual_costs(project, by=("month",), end=dt.date(2024, 3, 31))) == \
        D("6240.70")
    with pytest.raises(ValueError, match="unknown grouping"):
        selectors.actual_costs(project, by=("colour",))


def test_actual_items_agree_with_the_dashboards_reading(officer, project, advisor):
    from sim.finance import selectors as dashboard_selectors

    make_rate(project, advisor)
    services.time_report_save_month(officer, project, advisor, dt.date(2024, 3, 1), {None: "10.33"})
    intervention = make_intervention(project)
    make_entry(project, amount="1000", category="travel", date=dt.date(2024, 3, 5))
    make_entry(project, amount="2500", category="company_support", date=dt.date(2024, 5, 5), intervention=intervention)

    def key(items):
        return sorted((i.category, i.month, i.partner, i.company_specific, i.amount) for i in items)

    ours = selectors.actual_items(project)
    theirs = dashboard_selectors.actual_items(project, timezone.localdate())
    assert key(ours) == key(theirs)


def test_company_contributions(project):
    adopt_scenario(project, rate="450")
    make_intervention(project, own_cash="60000", own_hours="80")
    make_intervention(project, own_cash="0", own_hours="40", status=InterventionStatus.CLOSED)
    make_intervention(project, own_cash="99999", own_hours="99", status=InterventionStatus.DRAFT)
    make_intervention(project, own_cash="99999", own_hours="99", status=InterventionStatus.CANCELLED)
    make_intervention(project, own_cash="0", own_hours="0")
    data = selectors.company_contributions(project)
    assert len(data.rows) == 2
    assert (data.cash_sek, data.hours, data.hourly_rate_sek) == (D(60000), D(120), D(450))
    assert data.hours_value_sek == D("54000.00") and data.total_sek == D("114000.00")
    assert {row.hours_value_sek for row in data.rows} == {D("36000.00"), D("18000.00")}


def test_company_contributions_without_adopted_scenario_do_not_value_hours(project):
    make_intervention(project, own_cash="60000", own_hours="80")
    data = selectors.company_contributions(project)
    assert data.hourly_rate_sek is None and data.hours_value_sek is None
    assert data.total_sek == D(60000) and data.rows[0].hours_value_sek is None
    assert selectors.company_contributions(project, hourly_rate_sek=D(100)).hours_value_sek == D("8000.00")


def test_staff_rates_selector_has_hourly_cost(project, officer):
    make_rate(project, officer, salary="45000")
    (rate,) = selectors.staff_rates(project)
    assert rate.hourly_cost_sek == D("474.07")
    assert StaffRate.objects.count() == 1
