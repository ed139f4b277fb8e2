"""Pure rules of project finance: budget totals and indirect costs, the financing plan and its
balance, burn rate, forecast, projected end balance and the share of costs that reaches companies.

Nothing here touches the database: plain dataclasses in, plain dataclasses out (selectors gather
the inputs, services and views call these). Amounts are ``Decimal`` SEK and are kept *exact* while
they are added up (a flat rate of 15 % on 1 234.56 is 185.184); figures are rounded to the öre
only when they are handed out (:func:`cents`). The methods are documented in
``docs/domain-rules.md`` ("Budget, financing and forecast").

Months are counted as integers (:func:`month_index`: year × 12 + month − 1) so that windows and
ranges are plain integer arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .models import CostCategory, FinancingSource

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
#: A financing plan balances when financing and budget differ by less than one öre (rates of the
#: eligible budget can give amounts with fractions of an öre).
BALANCE_TOLERANCE = CENT
#: Every cost category, in the order budgets are laid out; ``indirect`` is computed, never entered.
CATEGORIES: tuple[str, ...] = tuple(CostCategory.values)
ENTERED_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c != CostCategory.INDIRECT)
STAFF = CostCategory.STAFF.value
INDIRECT = CostCategory.INDIRECT.value
COMPANY_SUPPORT = CostCategory.COMPANY_SUPPORT.value
#: Burn-rate windows shown on the dashboard (months).
BURN_WINDOWS = (3, 6)
PRIVATE_KINDS = (FinancingSource.Kind.PRIVATE_CASH.value, FinancingSource.Kind.PRIVATE_IN_KIND.value)


def cents(value: Decimal) -> Decimal:
    """Round to the öre, half up (how a figure is shown and handed out)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def pct(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (two decimals); ``None`` when ``whole`` is not positive."""
    if whole <= 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


def sek(value: Decimal) -> str:
    """An amount as text for messages: grouped, two decimals, in the current language."""
    return number_format(cents(value), decimal_pos=2, force_grouping=True)


# --- Months, years and quarters ----------------------------------------------------------------


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_date(index: int) -> dt.date:
    """The first day of a month index."""
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_of(index: int) -> int:
    return (index % 12) // 3 + 1


def period_key(index: int) -> tuple[int, int]:
    """(year, quarter) of a month index."""
    return index // 12, quarter_of(index)


def quarter_label(year: int, quarter: int) -> str:
    return f"{year} Q{quarter}"


def period_months(year: int, quarter: int | None) -> range:
    """The month indexes of a year, or of one of its quarters."""
    if quarter is None:
        return range(year * 12, year * 12 + 12)
    first = year * 12 + (quarter - 1) * 3
    return range(first, first + 3)


def months_in(start: dt.date, end: dt.date, year: int, quarter: int | None = None) -> list[int]:
    """The months of a year (or quarter) that lie in the period ``start``–``end``."""
    low, high = month_index(start), month_index(end)
    return [m for m in period_months(year, quarter) if low <= m <= high]


def years_of(start: dt.date, end: dt.date) -> list[int]:
    return list(range(start.year, end.year + 1))


def quarters_of(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """(year, quarter) pairs that overlap the period, in order."""
    seen: list[tuple[int, int]] = []
    for m in range(month_index(start), month_index(end) + 1):
        key = period_key(m)
        if not seen or seen[-1] != key:
            seen.append(key)
    return seen


# --- Budget ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetItem:
    """One budget line: a category, a year (optionally a quarter), a partner (``None``: not assigned)."""

    category: str
    year: int
    amount: Decimal
    quarter: int | None = None
    partner: int | None = None


def indirect_costs(staff: Decimal, rate_pct: Decimal) -> Decimal:
    """Indirect costs as a flat rate of staff costs: ``staff × rate / 100`` (exact)."""
    return Decimal(staff) * Decimal(rate_pct) / HUNDRED


def with_indirect(items: Iterable[BudgetItem], rate_pct: Decimal) -> list[BudgetItem]:
    """The items plus one computed indirect-cost item for every staff item (same year, quarter and partner).

    Entered indirect items are ignored: indirect costs are always computed.
    """
    result: list[BudgetItem] = []
    for item in items:
        if item.category == INDIRECT:
            continue
        result.append(item)
        if item.category == STAFF:
            result.append(BudgetItem(INDIRECT, item.year, indirect_costs(item.amount, rate_pct), item.quarter,
                                     item.partner))
    return result


@dataclass(frozen=True)
class BudgetTotals:
    """A budget added up, indirect costs included. Figures exact; round with :func:`cents` to show."""

    total: Decimal
    by_category: dict[str, Decimal]
    by_year: dict[int, Decimal]
    by_partner: dict[int | None, Decimal]
    by_category_year: dict[tuple[str, int], Decimal]
    by_category_partner: dict[tuple[str, int | None], Decimal]
    by_cell: dict[tuple[str, int, int | None, int | None], Decimal]  # (category, year, quarter, partner)

    @property
    def staff(self) -> Decimal:
        return self.by_category.get(STAFF, ZERO)

    @property
    def indirect(self) -> Decimal:
        return self.by_category.get(INDIRECT, ZERO)


def budget_totals(items: Iterable[BudgetItem], rate_pct: Decimal) -> BudgetTotals:
    """Totals per category (every category, in order), year, partner and combinations, with indirect costs."""
    by_category = dict.fromkeys(CATEGORIES, ZERO)
    by_year: dict[int, Decimal] = defaultdict(lambda: ZERO)
    by_partner: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    by_category_year: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    by_category_partner: dict[tuple[str, int | None], Decimal] = defaultdict(lambda: ZERO)
    by_cell: dict[tuple[str, int, int | None, int | None], Decimal] = defaultdict(lambda: ZERO)
    total = ZERO
    for item in with_indirect(items, rate_pct):
        amount = Decimal(item.amount)
        total += amount
        by_category[item.category] = by_category.get(item.category, ZERO) + amount
        by_year[item.year] += amount
        by_partner[item.partner] += amount
        by_category_year[(item.category, item.year)] += amount
        by_category_partner[(item.category, item.partner)] += amount
        by_cell[(item.category, item.year, item.quarter, item.partner)] += amount
    return BudgetTotals(
        total=total, by_category=by_category, by_year=dict(sorted(by_year.items())),
        by_partner=dict(by_partner), by_category_year=dict(by_category_year),
        by_category_partner=dict(by_category_partner), by_cell=dict(by_cell),
    )


def spread(amount: Decimal, months: Sequence[int]) -> dict[int, Decimal]:
    """An amount in equal monthly parts, whole öre each; what does not divide goes to the last month."""
    if not months:
        return {}
    amount = Decimal(amount)
    part = (amount / len(months)).quantize(CENT, rounding=ROUND_DOWN)
    result = dict.fromkeys(months, part)
    result[months[-1]] = amount - part * (len(months) - 1)
    return result


def spread_item(item: BudgetItem, start: dt.date, end: dt.date) -> dict[int, Decimal]:
    """A budget line per month: a year's (or quarter's) amount spread evenly over its months inside the
    scenario period (over all its months when none lies inside)."""
    months = months_in(start, end, item.year, item.quarter) or list(period_months(item.year, item.quarter))
    return spread(item.amount, months)


# --- Financing plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceItem:
    """A financing source as entered: an amount, a rate of the eligible budget, or hours in kind."""

    kind: str
    name: str = ""
    amount: Decimal | None = None
    rate_pct: Decimal | None = None
    hours: Decimal | None = None
    id: int | None = None


@dataclass(frozen=True)
class ResolvedSource:
    source: SourceItem
    amount: Decimal
    basis: str  # "rate" | "hours" | "amount"
    share_pct: Decimal | None  # of the budget


@dataclass(frozen=True)
class Balance:
    """Financing against budget. ``difference`` = financing − budget."""

    budget: Decimal
    financing: Decimal

    @property
    def difference(self) -> Decimal:
        return self.financing - self.budget

    @property
    def balanced(self) -> bool:
        return abs(self.difference) < BALANCE_TOLERANCE

    @property
    def direction(self) -> str:
        """``balanced``, ``short`` (financing below the budget) or ``over`` (financing above it)."""
        if self.balanced:
            return "balanced"
        return "short" if self.difference < 0 else "over"

    @property
    def gap(self) -> Decimal:
        return abs(self.difference)

    def message(self) -> str:
        figures = {"gap": sek(self.gap), "financing": sek(self.financing), "budget": sek(self.budget)}
        if self.direction == "short":
            return _(
                "The financing plan does not balance: it is SEK %(gap)s short of the budget (financing SEK "
                "%(financing)s, budget SEK %(budget)s). Add SEK %(gap)s of financing or lower the budget."
            ) % figures
        if self.direction == "over":
            return _(
                "The financing plan does not balance: it exceeds the budget by SEK %(gap)s (financing SEK "
                "%(financing)s, budget SEK %(budget)s). Lower the financing by SEK %(gap)s or raise the budget."
            ) % figures
        return _("The financing plan balances: SEK %(financing)s of financing for a budget of SEK %(budget)s.") % figures


def balance(financing: Decimal, budget: Decimal) -> Balance:
    return Balance(budget=Decimal(budget), financing=Decimal(financing))


def source_amount(source: SourceItem, eligible: Decimal, hourly_rate: Decimal) -> tuple[Decimal, str]:
    """What a source brings: a rate of the eligible budget, hours at the standard hourly rate, or its amount."""
    if source.rate_pct is not None:
        return Decimal(eligible) * Decimal(source.rate_pct) / HUNDRED, "rate"
    if source.hours is not None:
        return Decimal(source.hours) * Decimal(hourly_rate), "hours"
    return Decimal(source.amount or 0), "amount"


@dataclass(frozen=True)
class FinancingPlan:
    sources: list[ResolvedSource]
    by_kind: dict[str, Decimal]
    balance: Balance

    @property
    def total(self) -> Decimal:
        return self.balance.financing

    @property
    def private(self) -> Decimal:
        return sum((self.by_kind.get(kind, ZERO) for kind in PRIVATE_KINDS), ZERO)


def financing_plan(sources: Iterable[SourceItem], budget: Decimal, hourly_rate: Decimal) -> FinancingPlan:
    """Resolve every source against the (eligible) budget and check that the plan balances.

    All budgeted costs, indirect costs included, are eligible: a rate applies to the budget total.
    """
    resolved: list[ResolvedSource] = []
    by_kind = dict.fromkeys(FinancingSource.Kind.values, ZERO)
    total = ZERO
    for source in sources:
        amount, basis = source_amount(source, budget, hourly_rate)
        resolved.append(ResolvedSource(source, amount, basis, pct(amount, budget)))
        by_kind[source.kind] = by_kind.get(source.kind, ZERO) + amount
        total += amount
    return FinancingPlan(sources=resolved, by_kind=by_kind, balance=balance(total, budget))


# --- Costs that reach companies ------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Costs reaching companies: direct support and company-specific costs, plus the company-facing
    share of staff costs; their share of all costs against the target share."""

    direct: Decimal
    staff_share: Decimal
    total: Decimal
    target_pct: Decimal

    @property
    def amount(self) -> Decimal:
        return self.direct + self.staff_share

    @property
    def share_pct(self) -> Decimal | None:
        return pct(self.amount, self.total)

    @property
    def meets_target(self) -> bool | None:
        share = self.share_pct
        return None if share is None else share >= Decimal(self.target_pct)


def company_reach(direct: Decimal, staff: Decimal, total: Decimal, facing_pct: Decimal, target_pct: Decimal) -> Reach:
    return Reach(direct=Decimal(direct), staff_share=Decimal(staff) * Decimal(facing_pct) / HUNDRED,
                 total=Decimal(total), target_pct=Decimal(target_pct))


def budget_reach(totals: BudgetTotals, facing_pct: Decimal, target_pct: Decimal) -> Reach:
    """What reaches companies in a budget: the company-support category plus the company-facing share of staff."""
    return company_reach(totals.by_category.get(COMPANY_SUPPORT, ZERO), totals.staff, totals.total, facing_pct,
                         target_pct)


def in_kind_value(hours: Decimal, hourly_rate: Decimal) -> Decimal:
    """Company staff hours valued at the scenario's standard hourly rate."""
    return Decimal(hours) * Decimal(hourly_rate)


# --- Burn rate and forecast ----------------------------------------------------------------------


@dataclass(frozen=True)
class Burn:
    """Actual spend per month over the complete months before the as-of month."""

    window: int
    months: int  # months counted (the window, less months before the scenario started)
    spent: Decimal

    @property
    def per_month(self) -> Decimal:
        return cents(self.spent / self.months) if self.months else ZERO


def burn_rate(monthly: Mapping[int, Decimal], as_of: int, window: int, start: int) -> Burn:
    """Spend in the ``window`` complete months before month ``as_of`` (not before month ``start``), per month."""
    if window < 1:
        raise ValueError("the burn-rate window is at least one month")
    months = range(max(as_of - window, start), as_of)
    spent = sum((Decimal(monthly.get(m, ZERO)) for m in months), ZERO)
    return Burn(window=window, months=len(months), spent=spent)


def forecast(monthly: Mapping[int, Decimal], as_of: int, end: int, per_month: Decimal) -> dict[int, Decimal]:
    """Spend expected in the remaining months at ``per_month`` (a negative rate counts as none).

    The as-of month gets what the rate leaves after its actual spend so far (never below 0); every
    later month up to ``end`` gets the rate. Nothing when the as-of month is after ``end``.
    """
    rate = max(Decimal(per_month), ZERO)
    result: dict[int, Decimal] = {}
    if as_of > end:
        return result
    result[as_of] = max(rate - Decimal(monthly.get(as_of, ZERO)), ZERO)
    for m in range(as_of + 1, end + 1):
        result[m] = rate
    return result


# --- The dashboard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActualItem:
    """Actual costs of one month: a category, a partner and whether they were company-specific
    (a cost for an intervention or a named company)."""

    category: str
    month: int
    amount: Decimal
    partner: int | None = None
    company_specific: bool = False


@dataclass(frozen=True)
class Figures:
    """Budget, actual and forecast of a line, rounded to the öre."""

    budget: Decimal
    actual: Decimal
    forecast: Decimal

    @property
    def spent_and_forecast(self) -> Decimal:
        return self.actual + self.forecast

    @property
    def projected_end(self) -> Decimal:
        """Budget − actual − forecast: what is left at the end (negative: overspent)."""
        return self.budget - self.actual - self.forecast

    @property
    def overspent(self) -> bool:
        """The line will be overspent: actual + forecast > budget."""
        return self.spent_and_forecast > self.budget

    @property
    def used_pct(self) -> Decimal | None:
        return pct(self.actual, self.budget)


def _figures(budget: Decimal, actual: Decimal, fc: Decimal) -> Figures:
    return Figures(cents(budget), cents(actual), cents(fc))


@dataclass(frozen=True)
class DashboardInput:
    start: dt.date
    end: dt.date
    as_of: dt.date
    window: int
    indirect_rate_pct: Decimal
    facing_pct: Decimal
    target_pct: Decimal


@dataclass(frozen=True)
class MonthPoint:
    month: int
    budget_cumulative: Decimal
    actual_cumulative: Decimal | None  # up to the as-of month
    forecast_cumulative: Decimal | None  # actual + forecast, from the as-of month on


@dataclass(frozen=True)
class DashboardFigures:
    total: Figures
    by_category: dict[str, Figures]
    by_partner: dict[int | None, Figures]
    by_year: dict[int, Figures]
    by_quarter: dict[tuple[int, int], Figures]
    by_line: dict[tuple[str, int | None], Figures]  # (category, partner)
    burn: Burn  # the window the forecast uses
    burns: dict[int, Burn]  # every dashboard window
    remaining_months: int
    reach_actual: Reach
    reach_budget: Reach
    months: list[MonthPoint] = field(default_factory=list)

    @property
    def overspent_lines(self) -> list[tuple[str, int | None]]:
        return [key for key, figures in self.by_line.items() if figures.overspent]

    @property
    def overspent_categories(self) -> list[str]:
        return [key for key, figures in self.by_category.items() if figures.overspent]


def _add(target: dict, key, amount: Decimal) -> None:
    target[key] = target.get(key, ZERO) + amount


def dashboard_figures(budget_items: Iterable[BudgetItem], actual_items: Iterable[ActualItem],
                      settings: DashboardInput) -> DashboardFigures:
    """Budget vs actual vs forecast per category, partner, year, quarter and line, with burn rate,
    projected end balance and the share of costs reaching companies.

    * Budget lines are spread over their months (:func:`spread_item`); indirect costs are the flat
      rate on staff costs, for the budget, the actuals and the forecast alike.
    * Actual costs are those of months up to and including the as-of month.
    * The forecast runs each line (category and partner) at its own burn rate over the ``window``
      complete months before the as-of month (:func:`burn_rate`, :func:`forecast`) to the end of
      the scenario; the indirect-cost forecast is the flat rate on the staff forecast.
    """
    rate = Decimal(settings.indirect_rate_pct)
    start, end, as_of = month_index(settings.start), month_index(settings.end), month_index(settings.as_of)

    # (category, partner) → month → amount
    budget: dict[tuple[str, int | None], dict[int, Decimal]] = defaultdict(dict)
    for item in with_indirect(budget_items, rate):
        line = budget[(item.category, item.partner)]
        for month, amount in spread_item(item, settings.start, settings.end).items():
            _add(line, month, amount)

    actual: dict[tuple[str, int | None], dict[int, Decimal]] = defaultdict(dict)
    direct_actual = ZERO
    for item in actual_items:
        if item.category == INDIRECT or item.month > as_of:
            continue
        _add(actual[(item.category, item.partner)], item.month, Decimal(item.amount))
        if item.category != STAFF and (item.company_specific or item.category == COMPANY_SUPPORT):
            direct_actual += Decimal(item.amount)
        if item.category == STAFF:
            _add(actual[(INDIRECT, item.partner)], item.month, indirect_costs(item.amount, rate))

    lines = set(budget) | set(actual)
    entered = sorted((k for k in lines if k[0] != INDIRECT), key=lambda k: (CATEGORIES.index(k[0]), k[1] or 0))
    predicted: dict[tuple[str, int | None], dict[int, Decimal]] = {}
    for key in entered:
        series = actual.get(key, {})
        burn = burn_rate(series, as_of, settings.window, start)
        predicted[key] = forecast(series, as_of, end, burn.per_month)
    for key in entered:
        if key[0] == STAFF:
            indirect_key = (INDIRECT, key[1])
            predicted[indirect_key] = {m: indirect_costs(a, rate) for m, a in predicted[key].items()}
            lines.add(indirect_key)

    # Everything per (line, month), then added up every way the dashboard shows it.
    cells: dict[tuple[str, int | None, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for index, source in enumerate((budget, actual, predicted)):
        for key, series in source.items():
            for month, amount in series.items():
                cells[(key[0], key[1], month)][index] += amount

    def group(key_of) -> dict:
        sums: dict = defaultdict(lambda: [ZERO, ZERO, ZERO])
        for (category, partner, month), values in cells.items():
            target = sums[key_of(category, partner, month)]
            for i in range(3):
                target[i] += values[i]
        return {key: _figures(*values) for key, values in sums.items()}

    by_category_all = group(lambda c, p, m: c)
    by_category = {c: by_category_all.get(c, Figures(ZERO, ZERO, ZERO)) for c in CATEGORIES}
    by_partner = group(lambda c, p, m: p)
    by_year = dict(sorted(group(lambda c, p, m: m // 12).items()))
    by_quarter = dict(sorted(group(lambda c, p, m: period_key(m)).items()))
    by_line = dict(sorted(group(lambda c, p, m: (c, p)).items(),
                          key=lambda kv: (CATEGORIES.index(kv[0][0]), kv[0][1] is not None, kv[0][1] or 0)))
    totals = [ZERO, ZERO, ZERO]
    for values in cells.values():
        for i in range(3):
            totals[i] += values[i]

    # Burn rate of all spend (indirect costs included), per window.
    monthly_total: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (_category, _partner, month), values in cells.items():
        monthly_total[month] += values[1]
    burns = {w: burn_rate(monthly_total, as_of, w, start) for w in sorted({*BURN_WINDOWS, settings.window})}

    staff_actual = sum((v for (c, _p), s in actual.items() if c == STAFF for v in s.values()), ZERO)
    reach_actual = company_reach(direct_actual, staff_actual, totals[1], settings.facing_pct, settings.target_pct)
    budget_by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (category, _partner), series in budget.items():
        budget_by_category[category] += sum(series.values(), ZERO)
    reach_budget = company_reach(budget_by_category[COMPANY_SUPPORT], budget_by_category[STAFF], totals[0],
                                 settings.facing_pct, settings.target_pct)

    # Cumulative series for the chart: the scenario's months and any other month with figures.
    monthly: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for (_c, _p, m), values in cells.items():
        for i in range(3):
            monthly[m][i] += values[i]
    first, last = min([start, *monthly]), max([end, *monthly])
    points: list[MonthPoint] = []
    cum = [ZERO, ZERO, ZERO]
    for m in range(first, last + 1):
        for i in range(3):
            cum[i] += monthly[m][i] if m in monthly else ZERO
        actual_point = cents(cum[1]) if m <= as_of else None
        forecast_point = cents(cum[1] + cum[2]) if as_of <= m <= end else None
        points.append(MonthPoint(m, cents(cum[0]), actual_point, forecast_point))

    return DashboardFigures(
        total=_figures(*totals), by_category=by_category, by_partner=by_partner, by_year=by_year,
        by_quarter=by_quarter, by_line=by_line, burn=burns[settings.window], burns=burns,
        remaining_months=max(0, end - max(as_of, start) + 1), reach_actual=reach_actual, reach_budget=reach_budget,
        months=points,
    )
