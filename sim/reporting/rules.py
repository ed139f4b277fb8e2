"""Counting rules of the EU indicators (pure: no database). Documented in docs/domain-rules.md,
"Indicators".

Inputs are plain values the selectors gather with a few aggregate queries:

* :class:`Support` – one qualifying support of a company (keyed by its organisation number): an
  approved intervention (its approval date and form of support), a referral that reached
  *started* (its start date and the offer's form of support) or the day a company's advisor
  activities in the project reached the project's minimum hours (non-financial). Research marks a
  support delivered by a university or research institute.
* :class:`ActivityDay` – a company's activity hours on one day, from which :func:`activity_supports`
  finds the day the running total reaches the minimum.
* :class:`CompanyFacts` – registration date, effective SME category per fiscal year, staff (AWU)
  and turnover per fiscal year.
* :class:`Investment` – companies' own cash contribution to approved interventions on a date.
* :class:`Entry` – a value the project recorded by hand for a ``manual`` indicator.

The rules:

* an enterprise is counted once per indicator, however often it is supported;
* it is *supported* from its first qualifying support; per form of support from its first support
  of that form; an output indicator counts the enterprises whose first (qualifying) support falls in
  the period, so counts of adjacent periods add up to the count of the whole;
* the size class is the effective SME category of the latest fiscal year before the year of the
  first support (else the earliest known year, else the register's current class, else unknown);
* a new enterprise was registered less than ``new_enterprise_years`` (3) before its first support;
* results (employment increase, higher turnover) cover the enterprises supported by the end of the
  period: baseline is the fiscal year before the year of first support, follow-up the latest fiscal
  year after that year and not after the period's end year; enterprises lacking either are left
  out (and listed as lacking figures).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

GRANT = "grant"
FINANCIAL = "financial"
NON_FINANCIAL = "non_financial"
FORMS = (GRANT, FINANCIAL, NON_FINANCIAL)

SIZE_CLASSES = ("micro", "small", "medium", "large")
UNKNOWN = "unknown"

DEFAULT_MIN_HOURS = Decimal("12")
DEFAULT_NEW_ENTERPRISE_YEARS = 3

#: Methods that count enterprises (and list them).
COUNT_METHODS = (
    "supported", GRANT, FINANCIAL, NON_FINANCIAL, "new_enterprise", "research_cooperation", "higher_turnover",
)
#: Methods that sum amounts.
AMOUNT_METHODS = (
    "private_investment_grant", "private_investment_financial", "private_investment", "employment_increase", "manual",
)
METHODS = (*COUNT_METHODS, *AMOUNT_METHODS)

SOURCE_INTERVENTION = "intervention"
SOURCE_REFERRAL = "referral"
SOURCE_ACTIVITIES = "activities"

ZERO = Decimal("0")
CENT = Decimal("0.01")


class RuleError(ValueError):
    """Input the rules cannot count (the message says why)."""


@dataclass(frozen=True)
class Period:
    """Inclusive dates; ``None`` is open on that side."""

    start: dt.date | None = None
    end: dt.date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise RuleError(f"The period ends ({self.end}) before it starts ({self.start}).")

    def contains(self, day: dt.date | None) -> bool:
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def reached_by(self, day: dt.date | None) -> bool:
        """``day`` is on or before the end (open end: any day)."""
        return day is not None and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Support:
    company: str
    date: dt.date
    form: str
    source: str = SOURCE_INTERVENTION
    research: bool = False

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise RuleError(f"Unknown form of support {self.form!r}.")


@dataclass(frozen=True)
class ActivityDay:
    company: str
    date: dt.date
    hours: Decimal


@dataclass(frozen=True)
class Investment:
    date: dt.date
    form: str
    amount: Decimal


@dataclass(frozen=True)
class Entry:
    date: dt.date
    value: Decimal


@dataclass(frozen=True)
class CompanyFacts:
    org_number: str
    name: str = ""
    registration_date: dt.date | None = None
    #: Effective SME category per fiscal year (the two-year rule already applied).
    size_classes: Mapping[int, str] = field(default_factory=dict)
    #: The register's current class, when no year is known.
    current_size_class: str = ""
    staff: Mapping[int, Decimal] = field(default_factory=dict)
    turnover: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Enterprise:
    """A supported enterprise: when it was first supported, overall and per form."""

    org_number: str
    name: str
    first_support: dt.date
    first_by_form: Mapping[str, dt.date]
    first_research: dt.date | None
    size_class: str
    new: bool

    def forms_by(self, end: dt.date | None) -> tuple[str, ...]:
        """The forms of support it had received by ``end`` (all when ``None``), in :data:`FORMS` order."""
        return tuple(f for f in FORMS if f in self.first_by_form and (end is None or self.first_by_form[f] <= end))


@dataclass(frozen=True)
class IndicatorValue:
    value: int | Decimal
    companies: tuple[str, ...] | None = None  # org numbers, for count indicators
    breakdown: dict[str, int] | None = None
    lacking: tuple[str, ...] = ()  # enterprises left out of a result for lack of figures


# --- Qualifying support ------------------------------------------------------------------------


def activity_supports(days: Iterable[ActivityDay], min_hours: Decimal | int = DEFAULT_MIN_HOURS) -> list[Support]:
    """One non-financial support per company, dated the day its activity hours reach ``min_hours``.

    Hours of the same day count together; a company below the minimum is not supported by its
    activities (it may still be by an intervention or referral).
    """
    minimum = Decimal(min_hours)
    if minimum < 0:
        raise RuleError("The minimum hours cannot be negative.")
    by_company: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for day in days:
        if day.hours < 0:
            raise RuleError(f"Negative hours for {day.company} on {day.date}.")
        by_company[day.company][day.date] += Decimal(day.hours)
    supports = []
    for company, hours_by_day in by_company.items():
        total = ZERO
        for date in sorted(hours_by_day):
            total += hours_by_day[date]
            if total >= minimum and total > 0:
                supports.append(Support(company, date, NON_FINANCIAL, SOURCE_ACTIVITIES))
                break
    return supports


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def is_new_enterprise(registration_date: dt.date | None, first_support: dt.date,
                      years: int = DEFAULT_NEW_ENTERPRISE_YEARS) -> bool:
    """Registered less than ``years`` years before the first support (unknown date: not new)."""
    if registration_date is None:
        return False
    return registration_date > years_before(first_support, years)


def size_class_at(size_classes: Mapping[int, str], day: dt.date, current: str = "") -> str:
    """The SME category that applied on ``day``: that of the latest fiscal year before ``day``'s year,
    else of the earliest known year (a company without closed accounts then), else ``current``,
    else unknown."""
    known = {year: c for year, c in size_classes.items() if c in SIZE_CLASSES}
    before = [year for year in known if year < day.year]
    if before:
        return known[max(before)]
    if known:
        return known[min(known)]
    return current if current in SIZE_CLASSES else UNKNOWN


def supported_enterprises(
    supports: Iterable[Support], companies: Mapping[str, CompanyFacts],
    new_enterprise_years: int = DEFAULT_NEW_ENTERPRISE_YEARS,
) -> dict[str, Enterprise]:
    """Every enterprise with a qualifying support, keyed by organisation number, whatever the period."""
    first: dict[str, dt.date] = {}
    by_form: dict[str, dict[str, dt.date]] = defaultdict(dict)
    research: dict[str, dt.date] = {}
    for support in supports:
        org = support.company
        if org not in first or support.date < first[org]:
            first[org] = support.date
        forms = by_form[org]
        if support.form not in forms or support.date < forms[support.form]:
            forms[support.form] = support.date
        if support.research and (org not in research or support.date < research[org]):
            research[org] = support.date
    result = {}
    for org in sorted(first):
        facts = companies.get(org) or CompanyFacts(org)
        result[org] = Enterprise(
            org_number=org, name=facts.name, first_support=first[org], first_by_form=dict(by_form[org]),
            first_research=research.get(org),
            size_class=size_class_at(facts.size_classes, first[org], facts.current_size_class),
            new=is_new_enterprise(facts.registration_date, first[org], new_enterprise_years),
        )
    return result


# --- Indicators --------------------------------------------------------------------------------


def _count(orgs: Iterable[str]) -> IndicatorValue:
    found = tuple(sorted(set(orgs)))
    return IndicatorValue(len(found), found)


def count_date(method: str, enterprise: Enterprise) -> dt.date | None:
    """The date from which ``enterprise`` counts for an output indicator (``None``: never)."""
    if method == "supported":
        return enterprise.first_support
    if method in FORMS:
        return enterprise.first_by_form.get(method)
    if method == "new_enterprise":
        return enterprise.first_support if enterprise.new else None
    if method == "research_cooperation":
        return enterprise.first_research
    raise RuleError(f"{method!r} is not an output count.")


def size_breakdown(enterprises: Iterable[Enterprise]) -> dict[str, int]:
    result = dict.fromkeys((*SIZE_CLASSES, UNKNOWN), 0)
    for enterprise in enterprises:
        result[enterprise.size_class if enterprise.size_class in SIZE_CLASSES else UNKNOWN] += 1
    return result


def baseline_and_follow_up(figures: Mapping[int, Decimal], first_support: dt.date,
                           period: Period) -> tuple[Decimal, Decimal] | None:
    """(year before the first support's year, latest year after it up to the period's end year)."""
    baseline = figures.get(first_support.year - 1)
    later = [y for y, v in figures.items() if v is not None and y > first_support.year
             and (period.end is None or y <= period.end.year)]
    if baseline is None or not later:
        return None
    return Decimal(baseline), Decimal(figures[max(later)])


def _quantize(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


def indicator_value(
    method: str, enterprises: Mapping[str, Enterprise], period: Period, *,
    companies: Mapping[str, CompanyFacts] | None = None, investments: Iterable[Investment] = (),
    entries: Iterable[Entry] = (), breakdown: str = "",
) -> IndicatorValue:
    """The value of one indicator for ``period`` (see the module docstring for the rules)."""
    companies = companies or {}
    if method in ("supported", *FORMS, "new_enterprise", "research_cooperation"):
        counted = [e for e in enterprises.values() if period.contains(count_date(method, e))]
        value = _count(e.org_number for e in counted)
        if breakdown == "size_class":
            value = IndicatorValue(value.value, value.companies, size_breakdown(counted))
        return value
    if method in ("employment_increase", "higher_turnover"):
        reached = [e for e in enterprises.values() if period.reached_by(e.first_support)]
        total, higher, lacking = ZERO, [], []
        for enterprise in reached:
            facts = companies.get(enterprise.org_number) or CompanyFacts(enterprise.org_number)
            figures = facts.staff if method == "employment_increase" else facts.turnover
            pair = baseline_and_follow_up(figures, enterprise.first_support, period)
            if pair is None:
                lacking.append(enterprise.org_number)
                continue
            before, after = pair
            total += after - before
            if after > before:
                higher.append(enterprise.org_number)
        if method == "higher_turnover":
            counted = _count(higher)
            return IndicatorValue(counted.value, counted.companies, lacking=tuple(sorted(lacking)))
        return IndicatorValue(_quantize(total), lacking=tuple(sorted(lacking)))
    if method.startswith("private_investment"):
        forms = {"private_investment_grant": (GRANT,), "private_investment_financial": (FINANCIAL,),
                 "private_investment": (GRANT, FINANCIAL)}[method]
        return IndicatorValue(_quantize(sum((Decimal(i.amount) for i in investments
                                             if i.form in forms and period.contains(i.date)), ZERO)))
    if method == "manual":
        return IndicatorValue(_quantize(sum((Decimal(e.value) for e in entries if period.contains(e.date)), ZERO)))
    raise RuleError(f"Unknown indicator method {method!r}.")


def counted_in_period(enterprises: Mapping[str, Enterprise], period: Period) -> list[Enterprise]:
    """The enterprises any output count of ``period`` counts, by first support date then number:
    the evidence behind the counts."""
    methods = ("supported", *FORMS, "new_enterprise", "research_cooperation")
    found = [e for e in enterprises.values() if any(period.contains(count_date(m, e)) for m in methods)]
    return sorted(found, key=lambda e: (e.first_support, e.org_number))


def progress(value: int | Decimal, target: Decimal | None) -> Decimal | None:
    """Value as a percentage of the target (one decimal), ``None`` without a positive target."""
    if target is None or Decimal(target) <= 0:
        return None
    return (Decimal(value) * 100 / Decimal(target)).quantize(Decimal("0.1"))


def milestone_due(milestones: Iterable[tuple[dt.date, Decimal]], period: Period) -> tuple[dt.date, Decimal] | None:
    """The latest milestone on or before the period's end (the one the report is measured against)."""
    due = [(d, v) for d, v in milestones if period.end is None or d <= period.end]
    return max(due) if due else None
