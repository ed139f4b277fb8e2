"""Impact rules (pure: no database). Documented in docs/domain-rules.md, "Impact".

Two questions: how did the supported enterprises change (before/after), and did they grow more
than similar enterprises that were not supported (difference-in-differences)?

Before/after (:func:`before_after`, :func:`maturity_changes`):

* staff (AWU) and turnover (SEK) from the register's key figures: *before* is the fiscal year
  before the year of the first support, *after* the latest fiscal year after that year;
* maturity per dimension, the export share (%) and the numbers of new products and of new
  services launched in the last twelve months (:data:`ANSWERED`) from completed assessments:
  *before* is the company's latest completed T0 assessment of an instrument, *after* its latest
  completed follow-up of the same instrument conducted on or after that T0;
* a company counts in a figure only when it has both values (``n`` says how many did).

Comparison (:func:`compare_growth`):

* growth of a company is the log change ``ln(after) − ln(before)`` between two fiscal years (both
  figures above zero); ``100 × (e^g − 1)`` is the same growth in per cent;
* a supported company's window is (year before first support, latest year after the support
  year with a figure); its stratum is (size class in the baseline year, SNI division);
* it is matched with the comparison companies of the same stratum that have figures in the same
  two calendar years; the companies sharing stratum and window form a *cell*;
* DiD = Σ_cells w_c × (mean growth of the supported − mean growth of the comparison companies),
  w_c = the cell's share of the matched supported companies (the effect on the supported);
* the confidence interval is a percentile bootstrap: companies are resampled with replacement
  within each cell and group, :data:`RESAMPLES` times, with a fixed seed so a page and its
  exports always show the same interval;
* the comparison is shown only when both groups have at least :data:`MIN_GROUP` companies.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

MIN_GROUP = 10
RESAMPLES = 2000
SEED = 20260601
LEVEL = 0.95

STAFF = "staff"
TURNOVER = "turnover"
MEASURES = (STAFF, TURNOVER)

#: Measures answered in the assessments (key: the instrument hook whose answer holds it).
EXPORT_SHARE = "export_share"
NEW_PRODUCTS = "new_products"
NEW_SERVICES = "new_services"
ANSWERED = (EXPORT_SHARE, NEW_PRODUCTS, NEW_SERVICES)

_DRAWS_PER_SLICE = 2_000_000

#: Reasons a comparison is not shown.
TOO_FEW = "too_few"


class ImpactError(ValueError):
    """Input the impact rules cannot use (the message says why)."""


# --- Before/after ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Mean before, after and change of the ``n`` companies that have both values."""

    n: int
    before: Decimal | None
    after: Decimal | None
    change: Decimal | None


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return (sum(values, Decimal(0)) / len(values)) if values else None


def _round(value: Decimal | None, places: str = "0.01") -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places))


def before_after(pairs: Iterable[tuple[Decimal | None, Decimal | None]], places: str = "0.01") -> Change:
    """Means over the pairs with both values (``None`` values leave a pair out)."""
    kept = [(Decimal(b), Decimal(a)) for b, a in pairs if b is not None and a is not None]
    before = _mean([b for b, _a in kept])
    after = _mean([a for _b, a in kept])
    change = _mean([a - b for b, a in kept])
    return Change(len(kept), _round(before, places), _round(after, places), _round(change, places))


def register_window(figures: Mapping[int, Decimal | None], first_support_year: int) -> tuple[int, int] | None:
    """(baseline year, after year): the year before the support year and the latest year after it
    with a figure; ``None`` when either is missing."""
    baseline = first_support_year - 1
    later = [y for y, v in figures.items() if v is not None and y > first_support_year]
    if figures.get(baseline) is None or not later:
        return None
    return baseline, max(later)


@dataclass(frozen=True)
class Taken:
    """One completed assessment of a company: scores per dimension, and the :data:`ANSWERED` measures
    it holds an answer to (``answers``; a measure the instrument version does not ask is absent)."""

    company: str
    instrument: str
    phase: str  # "t0" | "follow_up"
    conducted_on: object  # a date (compared only)
    order: int  # tie-breaker for one day (the id)
    scores: Mapping[str, Decimal | None]
    answers: Mapping[str, Decimal | None] = field(default_factory=dict)


def assessment_pairs(taken: Iterable[Taken]) -> dict[tuple[str, str], tuple[Taken, Taken]]:
    """Per (company, instrument): (latest T0, latest follow-up conducted on or after it)."""
    by: dict[tuple[str, str], list[Taken]] = defaultdict(list)
    for t in taken:
        if t.phase not in ("t0", "follow_up"):
            raise ImpactError(f"Unknown assessment phase {t.phase!r}.")
        by[(t.company, t.instrument)].append(t)
    result = {}
    for key, items in by.items():
        t0s = sorted((t for t in items if t.phase == "t0"), key=lambda t: (t.conducted_on, t.order))
        if not t0s:
            continue
        t0 = t0s[-1]
        later = sorted((t for t in items if t.phase == "follow_up" and t.conducted_on >= t0.conducted_on),
                       key=lambda t: (t.conducted_on, t.order))
        if later:
            result[key] = (t0, later[-1])
    return result


def maturity_changes(taken: Iterable[Taken], dimensions: Mapping[str, Sequence[str]],
                     ) -> dict[str, dict[str, Change]]:
    """Per instrument and dimension (in ``dimensions``' order, then ``overall``), the change from T0 to
    the latest follow-up over the companies with a score at both."""
    pairs = assessment_pairs(taken)
    result: dict[str, dict[str, Change]] = {}
    for instrument, keys in dimensions.items():
        mine = [p for (_c, i), p in pairs.items() if i == instrument]
        if not mine:
            continue
        result[instrument] = {key: before_after(((t0.scores.get(key), t1.scores.get(key)) for t0, t1 in mine), "0.1")
                              for key in (*keys, "overall")}
    return result


def answered_changes(taken: Iterable[Taken]) -> dict[str, Change]:
    """Each :data:`ANSWERED` measure at T0 and at the latest follow-up, over the (company, instrument)
    pairs answered at both: a T0 taken with a version that did not ask the question is not a pair
    for it, so the measures can have different ``n``."""
    pairs = list(assessment_pairs(taken).values())
    return {measure: before_after(((t0.answers.get(measure), t1.answers.get(measure)) for t0, t1 in pairs), "0.1")
            for measure in ANSWERED}


# --- Difference-in-differences -----------------------------------------------------------------


def log_growth(before: Decimal | float | None, after: Decimal | float | None) -> float | None:
    """``ln(after) − ln(before)``; ``None`` unless both are above zero."""
    if before is None or after is None or before <= 0 or after <= 0:
        return None
    return math.log(float(after)) - math.log(float(before))


def as_percent(growth: float | None) -> float | None:
    """A log growth as per cent: ``100 × (e^g − 1)``."""
    return None if growth is None else 100.0 * math.expm1(growth)


def sni_division(code: str | None) -> str:
    """The SNI division: the first two digits of the code ("" when unknown)."""
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    return digits[:2] if len(digits) >= 2 else ""


@dataclass(frozen=True)
class Panel:
    """A company's figures by fiscal year. ``key`` (its organisation number) is never shown."""

    key: str
    division: str
    sizes: Mapping[int, str] = field(default_factory=dict)  # size class by fiscal year
    staff: Mapping[int, Decimal] = field(default_factory=dict)
    turnover: Mapping[int, Decimal] = field(default_factory=dict)

    def figures(self, measure: str) -> Mapping[int, Decimal]:
        if measure == STAFF:
            return self.staff
        if measure == TURNOVER:
            return self.turnover
        raise ImpactError(f"Unknown measure {measure!r}.")


@dataclass(frozen=True)
class Treated:
    panel: Panel
    first_support_year: int


@dataclass(frozen=True)
class Cell:
    """Companies sharing a stratum and a window: their (before, after) outcomes."""

    key: tuple
    treated: tuple[tuple[float, float], ...]
    control: tuple[tuple[float, float], ...]


def difference_in_differences(cells: Sequence[Cell]) -> float:
    """Σ w_c × (mean change of the treated − mean change of the controls), w_c ∝ treated in the cell.

    Outcomes are any numbers (the comparison uses log figures); cells without both groups are an
    error (drop them first)."""
    total = sum(len(c.treated) for c in cells)
    if not cells or total == 0:
        raise ImpactError("No cell has companies of both groups.")
    result = 0.0
    for c in cells:
        if not c.treated or not c.control:
            raise ImpactError(f"Cell {c.key} lacks one of the groups.")
        treated = sum(a - b for b, a in c.treated) / len(c.treated)
        control = sum(a - b for b, a in c.control) / len(c.control)
        result += len(c.treated) / total * (treated - control)
    return result


def group_means(cells: Sequence[Cell]) -> tuple[float, float]:
    """(mean change of the treated, the controls' mean change weighted as in the DiD)."""
    total = sum(len(c.treated) for c in cells)
    treated = sum(a - b for c in cells for b, a in c.treated) / total
    control = sum(len(c.treated) / total * sum(a - b for b, a in c.control) / len(c.control) for c in cells)
    return treated, control


def bootstrap_interval(cells: Sequence[Cell], *, resamples: int = RESAMPLES, seed: int = SEED,
                       level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`difference_in_differences`: companies resampled with
    replacement within each cell and group; deterministic for a seed."""
    import numpy as np

    if resamples < 1:
        raise ImpactError("At least one resample is needed.")
    if not 0 < level < 1:
        raise ImpactError("The confidence level must be between 0 and 1.")
    rng = np.random.default_rng(seed)
    total = sum(len(c.treated) for c in cells)
    estimates = np.zeros(resamples)
    for c in sorted(cells, key=lambda c: repr(c.key)):
        weight = len(c.treated) / total
        for values, sign in ((c.treated, 1.0), (c.control, -1.0)):
            changes = np.array([a - b for b, a in values], dtype=float)
            # In slices of at most ~2 million draws, so a large group does not need gigabytes.
            step = max(1, _DRAWS_PER_SLICE // len(changes))
            for start in range(0, resamples, step):
                stop = min(resamples, start + step)
                draws = rng.integers(0, len(changes), size=(stop - start, len(changes)))
                estimates[start:stop] += sign * weight * changes[draws].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    measure: str
    n_treated: int  # matched supported companies
    n_control: int  # distinct comparison companies used
    unmatched: int  # supported companies with figures but no comparison company in their cell
    lacking: int  # supported companies without the figures, size class or SNI division needed
    cells: int
    did: float | None = None  # in log points
    interval: tuple[float, float] | None = None
    treated_growth: float | None = None
    control_growth: float | None = None
    reason: str = ""  # why there is no estimate (TOO_FEW)

    @property
    def shown(self) -> bool:
        return self.did is not None

    @property
    def did_pct(self) -> float | None:
        return as_percent(self.did)

    @property
    def interval_pct(self) -> tuple[float, float] | None:
        return None if self.interval is None else (as_percent(self.interval[0]), as_percent(self.interval[1]))

    @property
    def treated_pct(self) -> float | None:
        return as_percent(self.treated_growth)

    @property
    def control_pct(self) -> float | None:
        return as_percent(self.control_growth)


def _logs(figures: Mapping[int, Decimal], baseline: int, after: int) -> tuple[float, float] | None:
    before, later = figures.get(baseline), figures.get(after)
    if log_growth(before, later) is None:
        return None
    return math.log(float(before)), math.log(float(later))


def build_cells(treated: Iterable[Treated], controls: Iterable[Panel], measure: str,
                ) -> tuple[list[Cell], int, int, set[str]]:
    """Match each supported company with the comparison companies of its stratum and window.

    Returns (cells with both groups, unmatched supported, supported lacking figures, keys of the
    comparison companies used)."""
    treated = list(treated)
    supported = {t.panel.key for t in treated}
    by_cell: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    lacking = 0
    for t in treated:
        figures = t.panel.figures(measure)
        window = register_window(figures, t.first_support_year)
        size = t.panel.sizes.get(window[0]) if window else None
        outcome = _logs(figures, *window) if window else None
        if window is None or outcome is None or not size or not t.panel.division:
            lacking += 1
            continue
        by_cell[(size, t.panel.division, *window)].append(outcome)
    pool: dict[tuple[str, int, str], list[Panel]] = defaultdict(list)
    for panel in controls:
        if panel.division and panel.key not in supported:  # a supported company never compares with itself
            for year, size in panel.sizes.items():
                if size:
                    pool[(panel.division, year, size)].append(panel)
    cells, unmatched, used = [], 0, set()
    for key in sorted(by_cell):
        size, division, baseline, after = key
        control, keys = [], []
        for panel in pool.get((division, baseline, size), ()):
            outcome = _logs(panel.figures(measure), baseline, after)
            if outcome is not None:
                control.append(outcome)
                keys.append(panel.key)
        if not control:
            unmatched += len(by_cell[key])
            continue
        used.update(keys)
        cells.append(Cell(key, tuple(by_cell[key]), tuple(control)))
    return cells, unmatched, lacking, used


def compare_growth(treated: Iterable[Treated], controls: Iterable[Panel], measure: str, *,
                   minimum: int = MIN_GROUP, resamples: int = RESAMPLES, seed: int = SEED,
                   level: float = LEVEL) -> Comparison:
    """The difference-in-differences of ``measure`` growth (see the module docstring)."""
    if measure not in MEASURES:
        raise ImpactError(f"Unknown measure {measure!r}.")
    cells, unmatched, lacking, used = build_cells(treated, controls, measure)
    n_treated = sum(len(c.treated) for c in cells)
    base = Comparison(measure=measure, n_treated=n_treated, n_control=len(used), unmatched=unmatched,
                      lacking=lacking, cells=len(cells))
    if n_treated < minimum or len(used) < minimum:
        return Comparison(**{**base.__dict__, "reason": TOO_FEW})
    treated_growth, control_growth = group_means(cells)
    return Comparison(**{**base.__dict__, "did": difference_in_differences(cells),
                         "interval": bootstrap_interval(cells, resamples=resamples, seed=seed, level=level),
                         "treated_growth": treated_growth, "control_growth": control_growth})
