"""Pure rules of the actuals: months, hourly cost, staff cost, plausible hours, categories."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from sim.finance import rules_actuals as rules
from sim.finance.models import CostCategory


@pytest.fixture(autouse=True)
def _english():
    # The messages are checked in English; the interface's default language is Swedish.
    with translation.override("en"):
        yield

D = Decimal


# --- Months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03", dt.date(2024, 3, 1)),
    ("2024-3", dt.date(2024, 3, 1)),
    ("2024-03-17", dt.date(2024, 3, 1)),
    ("202403", dt.date(2024, 3, 1)),
    ("3/2024", dt.date(2024, 3, 1)),
    (" 2024-12 ", dt.date(2024, 12, 1)),
])
def test_parse_month(text, expected):
    assert rules.parse_month(text) == expected


@pytest.mark.parametrize("text", ["", "2024-13", "march", "2024-02-30", "24-03", "2024/03/01"])
def test_parse_month_refuses(text):
    with pytest.raises(rules.RuleError, match="not a month"):
        rules.parse_month(text)


def test_parse_month_of_dates():
    assert rules.parse_month(dt.date(2024, 2, 29)) == dt.date(2024, 2, 1)
    assert rules.parse_month(dt.datetime(2024, 2, 29, 13, 0)) == dt.date(2024, 2, 1)


def test_month_helpers():
    assert rules.month_end(dt.date(2024, 2, 10)) == dt.date(2024, 2, 29)
    assert rules.month_end(dt.date(2023, 2, 1)) == dt.date(2023, 2, 28)
    assert rules.add_months(dt.date(2024, 11, 15), 3) == dt.date(2025, 2, 1)
    assert rules.add_months(dt.date(2024, 1, 31), -1) == dt.date(2023, 12, 1)
    assert rules.months_between(dt.date(2023, 11, 20), dt.date(2024, 2, 1)) == [
        dt.date(2023, 11, 1), dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert rules.months_between(dt.date(2024, 3, 5), dt.date(2024, 2, 1)) == []


def test_plausible_month_is_ten_hours_per_weekday():
    assert rules.weekdays_in_month(dt.date(2024, 3, 1)) == 21  # March 2024: 31 days, starts on a Friday
    assert rules.max_month_hours(dt.date(2024, 3, 1)) == D(210)
    assert rules.weekdays_in_month(dt.date(2024, 2, 1)) == 21
    assert rules.max_month_hours(dt.date(2026, 2, 1)) == D(200)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_month_start_and_end_bracket_every_date(day):
    assert rules.month_start(day) <= day <= rules.month_end(day)
    assert rules.month_start(day).day == 1
    assert (rules.month_end(day) + dt.timedelta(days=1)).day == 1
    assert 20 <= rules.weekdays_in_month(day) <= 23


# --- Hourly cost ----------------------------------------------------------------------------


def test_hourly_cost_worked_example():
    # 45 000 × 12 × 1.51 / 1 720 = 474.0697… → 474.07
    assert rules.hourly_cost(D(45000), D(51), D(1720)) == D("474.07")
    # Half up at the öre: 1 000 × 12 × 1 / 1 600 = 7.5 exactly; 1 001 × 12 / 1 600 = 7.5075 → 7.51
    assert rules.hourly_cost(D(1000), D(0), D(1600)) == D("7.50")
    assert rules.hourly_cost(D(1001), D(0), D(1600)) == D("7.51")


@pytest.mark.parametrize(("salary", "overhead", "hours", "message"), [
    (D(0), D(50), D(1720), "salary"),
    (D(-1), D(50), D(1720), "salary"),
    (D(40000), D(-1), D(1720), "overhead"),
    (D(40000), D(50), D(0), "working hours"),
])
def test_hourly_cost_refuses_bad_input(salary, overhead, hours, message):
    with pytest.raises(rules.RuleError, match=message):
        rules.hourly_cost(salary, overhead, hours)


@given(
    st.decimals(min_value=D(1000), max_value=D(200000), places=2),
    st.decimals(min_value=D(0), max_value=D(100), places=2),
    st.decimals(min_value=D(800), max_value=D(2400), places=1),
)
def test_hourly_cost_grows_with_salary_and_overhead(salary, overhead, hours):
    cost = rules.hourly_cost(salary, overhead, hours)
    assert cost == cost.quantize(D("0.01"))
    assert rules.hourly_cost(salary + 100, overhead, hours) >= cost
    assert rules.hourly_cost(salary, overhead + 1, hours) >= cost
    assert rules.hourly_cost(salary, overhead, hours + 100) <= cost


def test_staff_cost_rounds_to_ore():
    assert rules.staff_cost(D("10.5"), D("474.07")) == D("4977.74")  # 4977.735 → half up
    assert rules.staff_cost(D(0), D("474.07")) == D(0)


# --- Rates ----------------------------------------------------------------------------------


def _rate(day, salary="40000"):
    return rules.Rate(day, D(salary), D(50), D(1720))


def test_rate_for_month_takes_latest_valid_by_the_months_last_day():
    rates = [_rate(dt.date(2024, 1, 1), "40000"), _rate(dt.date(2024, 4, 15), "42000"), _rate(dt.date(2025, 1, 1), "44000")]
    assert rules.rate_for_month(rates, dt.date(2023, 12, 1)) is None
    assert rules.rate_for_month(rates, dt.date(2024, 3, 1)).monthly_salary_sek == D(40000)
    # A rate from the 15th applies to its whole month.
    assert rules.rate_for_month(rates, dt.date(2024, 4, 1)).monthly_salary_sek == D(42000)
    assert rules.rate_for_month(rates, dt.date(2024, 12, 1)).monthly_salary_sek == D(42000)
    assert rules.rate_for_month(rates, dt.date(2026, 6, 1)).monthly_salary_sek == D(44000)
    assert rules.rate_for_month([], dt.date(2024, 1, 1)) is None


def test_rate_hourly_cost_property():
    assert _rate(dt.date(2024, 1, 1), "45000").hourly_cost == rules.hourly_cost(D(45000), D(50), D(1720))


# --- Hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("", D(0)), (None, D(0)), ("8", D(8)), ("7,5", D("7.5")), ("7.25", D("7.25")), (" 1 20 ", D(120)),
    (D("3.5"), D("3.5")), ("0", D(0)),
])
def test_parse_hours(value, expected):
    assert rules.parse_hours(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("x", "not a number"), ("-1", "negative"), ("1.255", "two decimals"), ("401", "400"), ("NaN", "not a number"),
])
def test_parse_hours_refuses(value, message):
    with pytest.raises(rules.RuleError, match=message):
        rules.parse_hours(value)


# --- Categories -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [
    ("external_services", "external_services"), ("Externa tjänster", "external_services"),
    ("EXTERNA TJANSTER", "external_services"), ("External services", "external_services"),
    ("Köpta tjänster", "external_services"),
    ("company_support", "company_support"), ("Direkt stöd till företag", "company_support"),
    ("Företagsspecifika insatser", "company_support"),
    ("Direct support to companies / company-specific interventions", "company_support"),
    ("Resor", "travel"), ("travel", "travel"), ("Resekostnader", "travel"),
    ("Utrustning", "equipment"), ("equipment", "equipment"),
    ("Övriga kostnader", "other"), ("other", "other"), ("Ö", "other"),
    ("Personal", "staff"), ("staff", "staff"), ("Indirekta kostnader", "indirect"), ("overhead", "indirect"),
])
def test_category_names(text, code):
    assert rules.category_code(text) == code


@pytest.mark.parametrize("text", ["", "fika", "12345", "lokaler"])
def test_unknown_categories(text):
    assert rules.category_code(text) is None


def test_every_category_is_named_and_labels_are_recognised():
    assert set(rules.CATEGORY_NAMES) == set(CostCategory.values)
    assert set(rules.ENTRY_CATEGORIES) | set(rules.NOT_ENTRY_CATEGORIES) == set(CostCategory.values)
    for language in ("sv", "en"):  # the labels as the pages show them, in either language
        with translation.override(language):
            for code, label in CostCategory.choices:
                assert rules.category_code(code) == code
                assert rules.category_code(str(label)) == code
