"""Pure rules of competence needs, education offerings and the demand picture.

Nothing here touches the database. The selectors turn needs and offerings into the plain records
below (:class:`DemandFact`, :class:`SupplyFact`); these functions decide

* which needs an interview's competence answers give (:func:`interview_needs`),
* whether an offering covers a need (concept, reach, seats, kind, start) (:func:`offering_covers`),
* the demand cube: people, needs, urgency points and companies per cell of concept × area ×
  horizon × kind × quarter × coverage (:func:`build_cube`), and
* which cells may be shown (:func:`protect`): a cell built from fewer than :data:`MIN_COMPANIES`
  companies is suppressed, and so are as many other cells as it takes that no published number,
  under any filter, nor any difference or sum of published numbers, gives a suppressed cell's value
  (complementary suppression, checked by an exact linear-algebra audit). See
  ``docs/adr/0013-demand-anonymity.md`` and ``docs/domain-rules.md``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A cell of the demand picture built from fewer companies than this is never shown.
MIN_COMPANIES = 3

RECRUIT, UPSKILL = "recruit", "upskill"
NEED_KINDS = (RECRUIT, UPSKILL)
HORIZONS = ("0-6", "6-12", "12-36")
HORIZON_MONTHS = {"0-6": 6, "6-12": 12, "12-36": 36}
URGENCIES = ("low", "medium", "high")
URGENCY_WEIGHT = {"low": 1, "medium": 2, "high": 3}

#: Which kinds of need an offering of each kind serves: programmes that train new people serve
#: recruitment, short courses for the employed serve upskilling, the rest both.
OFFERING_SERVES: dict[str, frozenset[str]] = {
    "yh": frozenset({RECRUIT}),
    "komvux": frozenset({RECRUIT, UPSKILL}),
    "university": frozenset({RECRUIT, UPSKILL}),
    "supplier": frozenset({UPSKILL}),
    "labour_market": frozenset({RECRUIT}),
    "in_house": frozenset({UPSKILL}),
}

ALL = "*"
COVERED, GAP = "covered", "gap"
LEVEL_CONCEPT, LEVEL_GROUP = "c", "g"
LEVELS = (LEVEL_CONCEPT, LEVEL_GROUP)
BREAKDOWNS = ("", "municipality", "horizon", "kind", "quarter")


# =============================================================================================
# Text
# =============================================================================================

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """A need text as compared for corrections: case-folded, punctuation dropped, spaces collapsed
    ("Svetsare, MIG/MAG!" and "svetsare mig mag" are the same text)."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())[:255]


NUMBER_WORDS = {
    "en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9,
    "tio": 10, "elva": 11, "tolv": 12, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,4})\b")


def people_in_text(text: str) -> int | None:
    """The number of people a need text starts with ("2 CNC-operatörer", "två svetsare"), if any."""
    match = _LEADING_NUMBER.match(text or "")
    if match:
        value = int(match.group(1))
        return value if 1 <= value <= 1000 else None
    words = normalise_text(text).split()
    return NUMBER_WORDS.get(words[0]) if words else None


# =============================================================================================
# Needs from a growth interview
# =============================================================================================

INTERVIEW_HOOK = "competence_need"
INTERVIEW_HORIZON = {"months_0_6": "0-6", "months_6_12": "6-12", "months_12_36": "12-36"}
INTERVIEW_KIND = {"recruit": RECRUIT, "upskill": UPSKILL, "both": RECRUIT, "undecided": RECRUIT}
#: The urgency a need from an interview gets from its horizon (the advisor may change it).
URGENCY_BY_HORIZON = {"0-6": "high", "6-12": "medium", "12-36": "low"}
MAX_NEED_TEXT = 500


@dataclass(frozen=True)
class InterviewNeed:
    text: str
    people: int
    kind: str
    horizon: str
    urgency: str


def interview_needs(hooked: Mapping[str, Mapping[str, Any]]) -> list[InterviewNeed]:
    """The competence needs a completed growth interview gives.

    ``hooked`` is :func:`sim.assessments.rules.hooked_answers` of the interview. Only a "yes" to
    "do you lack competence" with a description gives needs. Each non-empty line of the
    description is one need. With one line, "how many people" is its number of people; with
    several, each line's own leading number ("2 svetsare") or 1. The approach gives the kind
    ("both" and "not decided" count as recruitment), the time horizon the horizon (6–12 months
    when not answered) and the urgency (high within 6 months, low beyond a year).
    """
    answers = hooked.get(INTERVIEW_HOOK) or {}
    if str(answers.get("cn_gaps", "")) != "yes":
        return []
    lines = [" ".join(line.split()) for line in str(answers.get("cn_description") or "").splitlines()]
    lines = [line[:MAX_NEED_TEXT] for line in lines if line.strip(" .,;-")]
    if not lines:
        return []
    horizon = INTERVIEW_HORIZON.get(str(answers.get("cn_horizon", "")), "6-12")
    kind = INTERVIEW_KIND.get(str(answers.get("cn_approach", "")), RECRUIT)
    stated = _whole_number(answers.get("cn_people"))
    needs = []
    for line in lines:
        people = stated if (len(lines) == 1 and stated) else (people_in_text(line) or 1)
        needs.append(InterviewNeed(text=line, people=max(1, min(people, 1000)), kind=kind, horizon=horizon,
                                   urgency=URGENCY_BY_HORIZON[horizon]))
    return needs


def _whole_number(value: Any) -> int | None:
    try:
        number = int(float(str(value)))
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None


# =============================================================================================
# Time
# =============================================================================================


def quarter_of(day: dt.date | dt.datetime) -> str:
    """``2025Q3``: the calendar quarter of a date."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_label(quarter: str) -> str:
    return quarter.replace("Q", " Q") if quarter != ALL else quarter


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31][month - 1]
    return dt.date(year, month, min(day.day, last))


# =============================================================================================
# Supply: does an offering cover a need?
# =============================================================================================


@dataclass(frozen=True)
class SupplyFact:
    """An active education offering as the demand picture sees it."""

    offering_id: int
    provider_id: int
    concept_ids: frozenset[int]  # confirmed links
    municipality: str  # "" for distance only
    county: str
    distance: bool
    seats: int | None  # None: not stated
    kind: str
    start_dates: tuple[dt.date, ...] = ()


def offering_has_seats(offering: SupplyFact) -> bool:
    """Seats not stated count as available; zero seats do not."""
    return offering.seats is None or offering.seats > 0


def offering_reaches(offering: SupplyFact, municipality: str, county: str) -> bool:
    """Within reach: distance learning, or in the same municipality or county as the workplace."""
    if offering.distance:
        return True
    if not offering.municipality:
        return False
    return offering.municipality == municipality or bool(county and offering.county == county)


def reach_of(offering: SupplyFact, municipality: str, county: str) -> str:
    """``municipality``, ``county``, ``distance`` or ``""`` (out of reach), nearest first."""
    if offering.municipality and offering.municipality == municipality:
        return "municipality"
    if offering.municipality and county and offering.county == county:
        return "county"
    if offering.distance:
        return "distance"
    return ""


def offering_starts_in_time(offering: SupplyFact, horizon: str, today: dt.date) -> bool:
    """An offering without start dates runs continuously; otherwise one start must fall between
    today and the end of the need's horizon."""
    if not offering.start_dates:
        return True
    end = add_months(today, HORIZON_MONTHS.get(horizon, 12))
    return any(today <= start <= end for start in offering.start_dates)


def offering_covers(offering: SupplyFact, *, concepts: Iterable[int], kind: str, horizon: str, municipality: str,
                    county: str, today: dt.date) -> bool:
    """An offering covers a need's concept when it is linked to one of ``concepts`` (the concept
    and its direct broader and narrower concepts), has seats, serves the kind of need, is within
    reach of the workplace and starts within the need's horizon."""
    return (
        bool(offering.concept_ids.intersection(concepts))
        and offering_has_seats(offering)
        and kind in OFFERING_SERVES.get(offering.kind, frozenset())
        and offering_reaches(offering, municipality, county)
        and offering_starts_in_time(offering, horizon, today)
    )


# =============================================================================================
# The demand cube
# =============================================================================================


@dataclass(frozen=True)
class DemandFact:
    """One confirmed concept of one open need."""

    need_id: int
    company_id: int
    concept_id: int
    group_id: int  # the concept rolled up the taxonomy
    municipality: str  # code of the workplace, "" when unknown
    county: str
    horizon: str
    kind: str
    urgency: str
    people: int
    quarter: str
    covered: bool = False


Key = tuple  # (level, concept, area, horizon, kind, quarter, coverage)
DIM_CONCEPT, DIM_AREA, DIM_HORIZON, DIM_KIND, DIM_QUARTER, DIM_COVERAGE = 1, 2, 3, 4, 5, 6
DIMENSIONS = (DIM_CONCEPT, DIM_AREA, DIM_HORIZON, DIM_KIND, DIM_QUARTER, DIM_COVERAGE)


def area_municipality(code: str) -> str:
    return f"m:{code or '?'}"


def area_county(code: str) -> str:
    return f"c:{code or '?'}"


@dataclass
class CellStats:
    people: int = 0
    needs: int = 0
    points: int = 0  # people × urgency weight: ranks gaps by size and urgency
    companies: set = field(default_factory=set)

    def add(self, fact: DemandFact) -> None:
        self.people += fact.people
        self.needs += 1
        self.points += fact.people * URGENCY_WEIGHT.get(fact.urgency, 2)
        self.companies.add(fact.company_id)


def fact_keys(fact: DemandFact) -> Iterator[Key]:
    """Every published cell a fact counts in.

    A cell fixes each dimension to a value or leaves it open (``*``): the concept as recorded or
    rolled up; the area as municipality, county or all; horizon; kind; quarter of recording; and
    coverage (covered by an offering within reach, or a gap). Quarters are published by county
    (not by municipality) and without the coverage split.
    """
    coverage = COVERED if fact.covered else GAP
    municipality, county = area_municipality(fact.municipality), area_county(fact.county)
    for level, concept in ((LEVEL_CONCEPT, fact.concept_id), (LEVEL_GROUP, fact.group_id)):
        for horizon in (fact.horizon, ALL):
            for kind in (fact.kind, ALL):
                for area in (municipality, county, ALL):
                    for cov in (coverage, ALL):
                        yield (level, concept, area, horizon, kind, ALL, cov)
                for area in (county, ALL):
                    yield (level, concept, area, horizon, kind, fact.quarter, ALL)


@dataclass
class Cube:
    """The demand picture before suppression: statistics per cell, and the hierarchy it needs."""

    cells: dict[Key, CellStats]
    group_of: dict[int, int]  # concept → rolled-up concept
    county_of: dict[str, str]  # area "m:…" → area "c:…"

    def parent(self, key: Key, dim: int) -> Key | None:
        """The cell one step up along a dimension (its total over that dimension), or None at the top."""
        value = key[dim]
        if dim == DIM_CONCEPT:
            if key[0] != LEVEL_CONCEPT:
                return None
            return (LEVEL_GROUP, self.group_of[value], *key[2:])
        if value == ALL:
            return None
        replacement = (self.county_of[value] if value.startswith("m:") else ALL) if dim == DIM_AREA else ALL
        return key[:dim] + (replacement,) + key[dim + 1:]


def build_cube(facts: Iterable[DemandFact]) -> Cube:
    cells: dict[Key, CellStats] = defaultdict(CellStats)
    group_of: dict[int, int] = {}
    county_of: dict[str, str] = {}
    for fact in facts:
        # A concept rolls up to one group and a municipality lies in one county, or the totals
        # would not be the sums of their parts (and the suppression audit would be wrong).
        if group_of.setdefault(fact.concept_id, fact.group_id) != fact.group_id:
            raise ValueError(f"concept {fact.concept_id} rolled up to two groups")
        area = area_municipality(fact.municipality)
        if county_of.setdefault(area, area_county(fact.county)) != area_county(fact.county):
            raise ValueError(f"municipality {fact.municipality!r} in two counties")
        for key in fact_keys(fact):
            cells[key].add(fact)
    return Cube(cells=dict(cells), group_of=group_of, county_of=county_of)


@dataclass(frozen=True)
class Relation:
    """``parent = sum(children)``: a cell is the total of the cells below it along one dimension
    (every additive figure—people, needs, urgency points—obeys it). Cells not in the cube are 0."""

    parent: Key
    children: tuple[Key, ...]


def relations(cube: Cube) -> list[Relation]:
    grouped: dict[tuple[Key, int], list[Key]] = defaultdict(list)
    for key in cube.cells:
        for dim in DIMENSIONS:
            parent = cube.parent(key, dim)
            if parent is not None:
                grouped[(parent, dim)].append(key)
    return [Relation(parent, tuple(sorted(children, key=_sort_key)))
            for (parent, _dim), children in sorted(grouped.items(), key=lambda item: (_sort_key(item[0][0]), item[0][1]))]


def _sort_key(key: Key) -> tuple:
    return tuple(str(part) for part in key)


@dataclass
class Protection:
    """Which cells are suppressed: ``primary`` (fewer than the minimum of companies) and all
    ``suppressed`` (primary and complementary)."""

    primary: set[Key]
    suppressed: set[Key]
    rounds: int = 0

    def is_suppressed(self, key: Key) -> bool:
        return key in self.suppressed


def protect(cube: Cube, *, min_companies: int = MIN_COMPANIES, rels: list[Relation] | None = None) -> Protection:
    """Primary and complementary suppression over the whole cube, every filter combination at once.

    1. Primary: every cell with 1 to ``min_companies - 1`` companies.
    2. Complementary, for every relation ``parent = sum(children)`` until nothing changes:
       a relation with exactly one suppressed cell gets a second one (the smallest child, else the
       parent), since the one would be the parent minus the rest; and where the parent is shown,
       the suppressed children together (which the parent minus the shown children reveals) must
       come from at least ``min_companies`` companies, else one more child (or the parent) is
       suppressed.
    3. Audit: the suppressed cells as unknowns and every relation as an equation; if any primary
       cell is still determined by the published figures (its unit vector lies in the row space),
       one more cell of a relation it is in is suppressed (when all of those are suppressed already,
       the nearest published cell linked to it through a chain of relations) and we go back to 2.
    """
    rels = relations(cube) if rels is None else rels
    cells = cube.cells
    primary = {key for key, stats in cells.items() if len(stats.companies) < min_companies}
    suppressed = set(primary)
    by_cell: dict[Key, list[int]] = defaultdict(list)
    for index, relation in enumerate(rels):
        by_cell[relation.parent].append(index)
        for child in relation.children:
            by_cell[child].append(index)

    def cost(key: Key) -> tuple:
        stats = cells[key]
        return (stats.people, len(stats.companies), _sort_key(key))

    def settle(pending: Iterable[int]) -> None:
        queue = sorted(set(pending))
        queued = set(queue)
        while queue:
            index = queue.pop()
            queued.discard(index)
            added = _complement(rels[index], cells, suppressed, min_companies, cost)
            if added is not None:
                suppressed.add(added)
                for other in by_cell[added]:
                    if other not in queued:
                        queued.add(other)
                        queue.append(other)

    settle(index for key in primary for index in by_cell[key])
    rounds = 0
    while True:
        rounds += 1
        exposed = determined_cells(rels, suppressed, primary)
        if not exposed:
            break
        touched = []
        # Cells sharing a relation with an exposed cell first; only when none of the exposed cells
        # has one left, the nearest published cells further out (fewer cells suppressed in all).
        for reach in (1, None):
            for key in sorted(exposed, key=_sort_key):
                candidates = _nearest_published(key, rels, by_cell, suppressed, reach=reach)
                if candidates:
                    chosen = min(candidates, key=cost)
                    suppressed.add(chosen)
                    touched.extend(by_cell[chosen])
            if touched:
                break
        if not touched:  # every connected cell is suppressed: cannot happen, the exposed cells would be 0
            break
        settle(touched)
    return Protection(primary=primary, suppressed=suppressed, rounds=rounds)


def _nearest_published(key: Key, rels: list[Relation], by_cell: Mapping[Key, list[int]],
                       suppressed: set[Key], *, reach: int | None = None) -> list[Key]:
    """The published cells closest to ``key`` through relations: those sharing a relation with it,
    else (every such cell already suppressed, the value still follows through a chain of relations)
    those sharing one with the suppressed cells around it, and so on outwards, at most ``reach``
    relations away (``None``: no limit)."""
    seen = {key}
    frontier = [key]
    steps = 0
    while frontier and (reach is None or steps < reach):
        steps += 1
        found: list[Key] = []
        further: list[Key] = []
        for cell in frontier:
            for index in by_cell[cell]:
                for member in (rels[index].parent, *rels[index].children):
                    if member in seen:
                        continue
                    seen.add(member)
                    (further if member in suppressed else found).append(member)
        if found:
            return found
        frontier = further
    return []


def _complement(relation: Relation, cells, suppressed: set[Key], min_companies: int, cost) -> Key | None:
    """The one more cell a relation needs suppressed, or None when it is safe as it is."""
    members = (relation.parent, *relation.children)
    hidden = [key for key in members if key in suppressed]
    if not hidden:
        return None
    open_children = [key for key in relation.children if key not in suppressed]
    if len(hidden) == 1:
        if open_children:
            return min(open_children, key=cost)
        return relation.parent if relation.parent not in suppressed else None
    if relation.parent in suppressed:
        return None
    companies: set = set()
    for key in hidden:
        companies |= cells[key].companies
    if len(companies) >= min_companies:
        return None
    return min(open_children, key=cost) if open_children else relation.parent


# --- The audit: which suppressed cells do the published figures determine? ------------------

_PRIME = (1 << 61) - 1  # arithmetic modulo a large prime: exact for the 0/±1 systems we solve


def determined_cells(rels: Iterable[Relation], suppressed: set[Key], sensitive: set[Key]) -> set[Key]:
    """The ``sensitive`` cells among the ``suppressed`` whose value follows from the published ones.

    Every relation is an equation ``parent - sum(children) = 0``; published cells are known
    numbers, suppressed cells unknowns. A cell is determined exactly when its unit vector lies in
    the row space of the equations over the unknowns, which the reduced row echelon form shows: its
    column is a pivot whose row has no other entry. Solved per connected group of unknowns, modulo
    a 61-bit prime (a coefficient matrix of 0 and ±1 has the same rank there as over the rationals
    except with negligible probability; the tests check small cases with exact fractions).
    """
    rows: list[dict[Key, int]] = []
    for relation in rels:
        row: dict[Key, int] = {}
        if relation.parent in suppressed:
            row[relation.parent] = 1
        for child in relation.children:
            if child in suppressed:
                row[child] = _PRIME - 1
        if row:
            rows.append(row)
    # Connected components of unknowns (union-find), so each system stays small.
    parent: dict[Key, Key] = {}

    def find(key: Key) -> Key:
        root = key
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    for row in rows:
        keys = iter(row)
        first = find(next(keys))
        for other in keys:
            root = find(other)
            if root != first:
                parent[root] = first
    systems: dict[Key, list[dict[Key, int]]] = defaultdict(list)
    for row in rows:
        systems[find(next(iter(row)))].append(row)
    exposed: set[Key] = set()
    for system in systems.values():
        for key, row in _rref(system).items():
            if len(row) == 1 and key in sensitive:
                exposed.add(key)
    return exposed


def _rref(rows: list[dict[Key, int]]) -> dict[Key, dict[Key, int]]:
    """Reduced row echelon form modulo :data:`_PRIME`: ``{pivot column: row}``."""
    p = _PRIME
    pivots: dict[Key, dict[Key, int]] = {}
    holders: dict[Key, set[Key]] = defaultdict(set)  # column → pivots whose rows contain it
    # Pivot on the column in the fewest equations first (Markowitz): far less fill-in.
    count: dict[Key, int] = defaultdict(int)
    for row in rows:
        for key in row:
            count[key] += 1
    order = {key: (count[key], _sort_key(key)) for key in count}
    for original in sorted(rows, key=len):
        row = dict(original)
        for col in [c for c in row if c in pivots]:
            factor = row.get(col)
            if not factor:
                continue
            for c, v in pivots[col].items():
                value = (row.get(c, 0) - factor * v) % p
                if value:
                    row[c] = value
                else:
                    row.pop(c, None)
        if not row:
            continue
        pivot = min(row, key=order.__getitem__)
        inverse = pow(row[pivot], p - 2, p)
        row = {c: (v * inverse) % p for c, v in row.items()}
        # Eliminate the new pivot from the rows that hold it.
        for other in list(holders.get(pivot, ())):
            other_row = pivots[other]
            factor = other_row.get(pivot)
            if not factor:
                continue
            for c, v in row.items():
                value = (other_row.get(c, 0) - factor * v) % p
                if value:
                    if c not in other_row:
                        holders[c].add(other)
                    other_row[c] = value
                else:
                    other_row.pop(c, None)
                    holders[c].discard(other)
        holders.pop(pivot, None)
        pivots[pivot] = row
        for c in row:
            if c != pivot:
                holders[c].add(pivot)
    return pivots


# =============================================================================================
# Reading the protected cube
# =============================================================================================


@dataclass(frozen=True)
class Figure:
    """What a report shows for one cell: nothing (no demand), a mark (suppressed) or the figures."""

    people: int = 0
    needs: int = 0
    companies: int = 0
    points: int = 0
    suppressed: bool = False

    @property
    def empty(self) -> bool:
        return not self.suppressed and self.people == 0

    @property
    def urgency(self) -> float | None:
        """Mean urgency weight (1 low – 3 high), weighted by people."""
        return round(self.points / self.people, 2) if self.people and not self.suppressed else None


def figure(cube: Cube, protection: Protection, key: Key) -> Figure:
    stats = cube.cells.get(key)
    if stats is None:
        return Figure()
    if key in protection.suppressed:
        return Figure(suppressed=True)
    return Figure(people=stats.people, needs=stats.needs, companies=len(stats.companies), points=stats.points)


def cell_key(*, level: str, concept: int, area: str = ALL, horizon: str = ALL, kind: str = ALL, quarter: str = ALL,
             coverage: str = ALL) -> Key:
    return (level, concept, area, horizon, kind, quarter, coverage)


def gap_rank_key(item: Figure) -> tuple:
    """Gaps first by urgency-weighted people (size × urgency), then by people."""
    return (-item.points, -item.people)
