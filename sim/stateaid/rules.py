"""De minimis rules as pure functions (no database): one implementation for the ledger and the
``sim deminimis_check`` what-if command.

* **Regulation** by the date of granting: on or after 2024-01-01 Commission Regulation (EU)
  2023/2831, earlier Commission Regulation (EU) No 1407/2013.
* **2023/2831**: ceiling EUR 300,000 per single undertaking over a rolling three years. Counted are
  the awards granted *after* the same calendar date three years earlier and up to and including
  the date of granting of the new award, so the window runs from that date + 1 day. A date of
  granting on 29 February looks back to 28 February (there is no 29 February three years earlier),
  so its window starts on 1 March.
* **1407/2013**: ceiling EUR 200,000 (EUR 100,000 when the undertaking performs road freight
  transport for hire or reward) over the current fiscal year, up to and including the date of
  granting, and the two previous fiscal years. The fiscal years are those of the undertaking the
  new aid is for, starting on its ``fiscal_year_start`` ("MM-DD", default "01-01").
* ``used`` = the counted awards; ``allowed`` = used + proposed ≤ ceiling (reaching the ceiling
  exactly is allowed); ``headroom`` = ceiling − used, never below 0. If the new aid does not fit,
  **no part** of it may be granted as de minimis aid.
* The **single undertaking** is the connected component of the undertaking in the graph of
  control links (each link joins its two ends whichever way it points, at any depth).
* **SEK → EUR** at the latest rate on or before the date of granting; amounts in EUR are kept to
  the cent (half up) and the decision is taken on cents; whole euros (half up) only in output.
  No rate on or before a date ⇒ the amount cannot be converted.

:func:`evaluate_scenario` runs the whole check on the JSON document of the what-if command.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

REGULATION_2013 = "1407/2013"
REGULATION_2023 = "2023/2831"
REGULATION_OTHER = "other"
#: Awards granted on or after this date fall under Regulation (EU) 2023/2831.
REGULATION_2023_FROM = dt.date(2024, 1, 1)
#: From this date awards are recorded in the central (national) de minimis register.
CENTRAL_REGISTER_FROM = dt.date(2026, 1, 1)

CEILING_2023_EUR = Decimal("300000")
CEILING_2013_EUR = Decimal("200000")
CEILING_2013_ROAD_FREIGHT_EUR = Decimal("100000")
ROLLING_YEARS = 3
FISCAL_YEARS_BACK = 2
DEFAULT_FISCAL_YEAR_START = (1, 1)

CENT = Decimal("0.01")
EURO = Decimal("1")
#: No amount or rate in a scenario may reach this (a mistyped figure, not a de minimis award).
MAX_FIGURE = Decimal("1e15")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class RuleError(ValueError):
    """Input the rules cannot work with; the message says what is wrong."""


# --- Dates and windows ----------------------------------------------------------------------


def regulation_for(granted_on: dt.date) -> str:
    """The de minimis regulation that applies to aid granted on `granted_on`."""
    return REGULATION_2023 if granted_on >= REGULATION_2023_FROM else REGULATION_2013


def same_date_years_earlier(on: dt.date, years: int) -> dt.date:
    """The same calendar date `years` earlier; 29 February becomes 28 February in a year without it."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return dt.date(on.year - years, 2, 28)


def parse_fiscal_year_start(value: Any) -> tuple[int, int]:
    """``"MM-DD"`` → (month, day). 29 February is refused: a fiscal year must start every year."""
    if value is None or value == "":
        return DEFAULT_FISCAL_YEAR_START
    if isinstance(value, tuple) and len(value) == 2:
        month, day = value
    else:
        text = str(value).strip()
        parts = text.split("-")
        if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
            raise RuleError(_("“%(value)s” is not a fiscal-year start: write MM-DD, e.g. 07-01.") % {"value": text})
        month, day = int(parts[0]), int(parts[1])
    try:
        dt.date(2023, month, day)  # a year without 29 February
    except (ValueError, TypeError):
        raise RuleError(
            _("“%(value)s” is not a fiscal-year start: write MM-DD with a date that exists every year, e.g. 07-01.")
            % {"value": value}
        ) from None
    return month, day


def format_fiscal_year_start(start: tuple[int, int]) -> str:
    return f"{start[0]:02d}-{start[1]:02d}"


def fiscal_year_start_on_or_before(on: dt.date, start: tuple[int, int] = DEFAULT_FISCAL_YEAR_START) -> dt.date:
    """The first day of the fiscal year that `on` lies in."""
    month, day = start
    this_year = dt.date(on.year, month, day)
    return this_year if this_year <= on else dt.date(on.year - 1, month, day)


@dataclass(frozen=True)
class Window:
    """The period whose awards count, both ends included."""

    start: dt.date
    end: dt.date

    @property
    def after(self) -> dt.date:
        """The last day *before* the window (awards granted after it count)."""
        return self.start - dt.timedelta(days=1)

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _known_regulation(regulation: str) -> str:
    if regulation not in (REGULATION_2013, REGULATION_2023):
        raise RuleError(_("No de minimis ceiling is known for the regulation “%(regulation)s”.") % {
            "regulation": regulation})
    return regulation


def window_for(regulation: str, on: dt.date, fiscal_year_start: tuple[int, int] = DEFAULT_FISCAL_YEAR_START) -> Window:
    """The counting window of an award granted on `on` under `regulation`.

    2023/2831: from the day after the same calendar date three years earlier up to `on`.
    1407/2013: from the start of the fiscal year two years before the current one up to `on`.
    """
    if _known_regulation(regulation) == REGULATION_2013:
        current = fiscal_year_start_on_or_before(on, fiscal_year_start)
        return Window(current.replace(year=current.year - FISCAL_YEARS_BACK), on)
    return Window(same_date_years_earlier(on, ROLLING_YEARS) + dt.timedelta(days=1), on)


def rolling_window_after(on: dt.date) -> dt.date:
    """2023/2831: awards granted *after* this date (and up to `on`) count."""
    return same_date_years_earlier(on, ROLLING_YEARS)


def ceiling_for(regulation: str, *, road_freight: bool = False) -> Decimal:
    """EUR 300,000 under 2023/2831; EUR 200,000 under 1407/2013, EUR 100,000 for road freight."""
    if _known_regulation(regulation) == REGULATION_2013:
        return CEILING_2013_ROAD_FREIGHT_EUR if road_freight else CEILING_2013_EUR
    return CEILING_2023_EUR


# --- Money ----------------------------------------------------------------------------------


def _decimal(value: Decimal | int | str | float) -> Decimal:
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def cents(amount: Decimal) -> Decimal:
    """To the cent, half up."""
    try:
        return _decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise RuleError(_("The amount %(amount)s is too large.") % {"amount": amount}) from None


def whole_euros(amount: Decimal) -> int:
    """To the whole euro, half up (for output only: the rules work in cents)."""
    return int(_decimal(amount).quantize(EURO, rounding=ROUND_HALF_UP))


def sek_to_eur(amount_sek: Decimal, sek_per_eur: Decimal) -> Decimal:
    """SEK → EUR at `sek_per_eur`, to the cent (half up)."""
    rate = _decimal(sek_per_eur)
    if not rate.is_finite() or rate <= 0:
        raise RuleError(_("An exchange rate must be above zero."))
    try:
        return cents(_decimal(amount_sek) / rate)
    except InvalidOperation:
        raise RuleError(_("The amount SEK %(amount)s cannot be converted at %(rate)s SEK/EUR.") % {
            "amount": amount_sek, "rate": sek_per_eur}) from None


@dataclass(frozen=True)
class Rate:
    on: dt.date
    sek_per_eur: Decimal


class RateTable:
    """SEK per EUR by date; :meth:`on_or_before` gives the rate used for a date of granting."""

    def __init__(self, rates: Iterable[Rate | tuple[dt.date, Decimal]] | Mapping[dt.date, Decimal]):
        items = rates.items() if isinstance(rates, Mapping) else (
            (r.on, r.sek_per_eur) if isinstance(r, Rate) else tuple(r) for r in rates)
        by_date: dict[dt.date, Decimal] = {}
        for day, value in items:
            value = _decimal(value)
            if not value.is_finite() or value <= 0:
                raise RuleError(_("The rate of %(date)s must be a number above zero.") % {"date": day.isoformat()})
            if day in by_date and by_date[day] != value:
                raise RuleError(_("Two different rates are given for %(date)s.") % {"date": day.isoformat()})
            by_date[day] = value
        self._days = sorted(by_date)
        self._values = [by_date[d] for d in self._days]

    def on_or_before(self, day: dt.date) -> Rate | None:
        index = bisect.bisect_right(self._days, day)
        if index == 0:
            return None
        return Rate(self._days[index - 1], self._values[index - 1])

    def __len__(self) -> int:
        return len(self._days)


# --- The single undertaking -----------------------------------------------------------------


def single_undertaking(start: Hashable, links: Iterable[tuple[Hashable, Hashable]]) -> tuple:
    """Every undertaking connected to `start` through control links (itself included), sorted.

    Links are undirected for this purpose: a parent, its subsidiaries, their subsidiaries and
    sister companies under a common parent are one single undertaking.
    """
    neighbours: dict[Hashable, set[Hashable]] = {}
    for a, b in links:
        if a == b:
            continue
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    members = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for other in neighbours.get(current, ()):
            if other not in members:
                members.add(other)
                frontier.append(other)
    return tuple(sorted(members))


def is_control_link(*, controls: bool = False, voting_pct: Decimal | None = None) -> bool:
    """A control link: control by agreement, board appointment or dominant influence, or more
    than 50 % of the votes."""
    return bool(controls) or (voting_pct is not None and Decimal(voting_pct) > 50)


# --- The check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Award:
    """An award counted (or not) against the ceiling; `amount_eur` is to the cent."""

    undertaking: Hashable
    granted_on: dt.date
    amount_eur: Decimal
    ref: Any = None  # what the caller needs to find it again (a ledger id, an input position)
    amount_sek: Decimal | None = None  # when the award was given in SEK: the amount ...
    rate: Rate | None = None  # ... and the rate it was converted at


def decide(used_eur: Decimal, proposed_eur: Decimal, ceiling_eur: Decimal) -> tuple[bool, Decimal]:
    """(allowed, headroom before the proposal). No part is allowed when the total would exceed the ceiling."""
    headroom = max(ceiling_eur - used_eur, Decimal(0))
    return used_eur + proposed_eur <= ceiling_eur, headroom


@dataclass(frozen=True)
class Check:
    regulation: str
    ceiling_eur: Decimal
    window: Window
    members: tuple
    counted: tuple[Award, ...]
    used_eur: Decimal
    proposed_eur: Decimal
    headroom_eur: Decimal
    allowed: bool
    road_freight: bool = False
    fiscal_year_start: tuple[int, int] = DEFAULT_FISCAL_YEAR_START

    @property
    def remaining_after_eur(self) -> Decimal:
        return self.headroom_eur - self.proposed_eur

    @property
    def over_by_eur(self) -> Decimal:
        return self.used_eur + self.proposed_eur - self.ceiling_eur


def check(
    *, members: Sequence[Hashable], on: dt.date, proposed_eur: Decimal, awards: Iterable[Award],
    road_freight: bool = False, fiscal_year_start: tuple[int, int] = DEFAULT_FISCAL_YEAR_START,
    regulation: str | None = None,
) -> Check:
    """May `proposed_eur` be granted on `on` to the single undertaking `members`, given `awards`?

    `awards` may include awards to other undertakings and outside the window: only those to a
    member inside the window count. `road_freight` and `fiscal_year_start` are those of the
    undertaking the new aid is for (they matter only under 1407/2013).
    """
    proposed_eur = _decimal(proposed_eur)
    if not proposed_eur.is_finite():
        raise RuleError(_("The proposed amount is not a number."))
    if proposed_eur < 0:
        raise RuleError(_("The proposed amount cannot be negative."))
    regulation = regulation or regulation_for(on)
    window = window_for(regulation, on, fiscal_year_start)
    member_set = set(members)
    counted = tuple(sorted(
        (a for a in awards if a.undertaking in member_set and a.granted_on in window),
        key=lambda a: (a.granted_on, str(a.undertaking), str(a.ref), a.amount_eur, str(a.amount_sek), str(a.rate)),
    ))
    used = sum((a.amount_eur for a in counted), Decimal(0))
    ceiling = ceiling_for(regulation, road_freight=road_freight)
    allowed, headroom = decide(used, proposed_eur, ceiling)
    return Check(
        regulation=regulation, ceiling_eur=ceiling, window=window, members=tuple(sorted(member_set)), counted=counted,
        used_eur=used, proposed_eur=proposed_eur, headroom_eur=headroom, allowed=allowed,
        road_freight=road_freight and regulation == REGULATION_2013, fiscal_year_start=fiscal_year_start,
    )


def _figure(value: Decimal) -> str:
    """A figure for a sentence: grouped, with cents only when there are any."""
    value = _decimal(value)
    return number_format(value, decimal_pos=0 if value == value.to_integral_value() else 2, force_grouping=True)


def explain(result: Check, *, names: Mapping[Hashable, str] | None = None, whole: bool = True) -> list[str]:
    """The check in sentences: regulation, window, single undertaking, counted awards, decision."""
    def eur(value: Decimal) -> str:
        return _figure(Decimal(whole_euros(value))) if whole else _figure(value)

    def name(key) -> str:
        return (names or {}).get(key, str(key))

    lines = []
    if result.regulation == REGULATION_2023:
        lines.append(_(
            "Granted on %(date)s, on or after 2024-01-01: Regulation (EU) 2023/2831 applies, ceiling EUR %(ceiling)s "
            "over a rolling three years."
        ) % {"date": result.window.end.isoformat(), "ceiling": eur(result.ceiling_eur)})
        lines.append(_(
            "Counted: awards granted after %(after)s (the same date three years earlier) up to and including %(to)s."
        ) % {"after": result.window.after.isoformat(), "to": result.window.end.isoformat()})
    else:
        if result.road_freight:
            lines.append(_(
                "Granted on %(date)s, before 2024-01-01: Regulation (EU) No 1407/2013 applies; the undertaking performs "
                "road freight transport for hire or reward, ceiling EUR %(ceiling)s."
            ) % {"date": result.window.end.isoformat(), "ceiling": eur(result.ceiling_eur)})
        else:
            lines.append(_(
                "Granted on %(date)s, before 2024-01-01: Regulation (EU) No 1407/2013 applies, ceiling EUR %(ceiling)s."
            ) % {"date": result.window.end.isoformat(), "ceiling": eur(result.ceiling_eur)})
        lines.append(_(
            "Counted: awards in the current fiscal year up to and including %(to)s and the two previous fiscal years "
            "(fiscal years starting %(start)s), i.e. from %(from)s."
        ) % {"to": result.window.end.isoformat(), "start": format_fiscal_year_start(result.fiscal_year_start),
             "from": result.window.start.isoformat()})
    members = ", ".join(name(m) for m in result.members)
    lines.append(_("Single undertaking (linked by control): %(members)s.") % {"members": members})
    for award in result.counted:
        values = {"amount": eur(award.amount_eur), "who": name(award.undertaking), "date": award.granted_on.isoformat()}
        if award.amount_sek is not None and award.rate is not None:
            values.update({"sek": _figure(award.amount_sek), "rate": number_format(award.rate.sek_per_eur),
                           "rate_date": award.rate.on.isoformat()})
            lines.append(_(
                "Counted: EUR %(amount)s (SEK %(sek)s at %(rate)s SEK/EUR, rate of %(rate_date)s) to %(who)s granted "
                "on %(date)s."
            ) % values)
        else:
            lines.append(_("Counted: EUR %(amount)s to %(who)s granted on %(date)s.") % values)
    if not result.counted:
        lines.append(_("No earlier de minimis aid in the window."))
    values = {"used": eur(result.used_eur), "ceiling": eur(result.ceiling_eur), "proposed": eur(result.proposed_eur),
              "headroom": eur(result.headroom_eur), "over": eur(result.over_by_eur),
              "left": eur(result.remaining_after_eur)}
    lines.append(_("Used EUR %(used)s of EUR %(ceiling)s; headroom EUR %(headroom)s.") % values)
    if result.allowed:
        lines.append(_("The new aid of EUR %(proposed)s fits; EUR %(left)s remains.") % values)
    else:
        lines.append(_(
            "The new aid of EUR %(proposed)s would exceed the ceiling by EUR %(over)s, so no part of it may be granted "
            "as de minimis aid."
        ) % values)
    return lines


# --- The what-if document (``sim deminimis_check``) -------------------------------------------


@dataclass
class _Parsed:
    profiles: dict[str, tuple[bool, tuple[int, int]]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    known: set[str] = field(default_factory=set)


def _where(section: str, index: int | None = None) -> str:
    return section if index is None else f"{section}[{index}]"


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise RuleError(_("%(where)s must be an object.") % {"where": where})
    return value


def _list(data: dict, key: str, *, required: bool = False) -> list:
    if key not in data or data[key] is None:
        if required:
            raise RuleError(_("“%(key)s” is missing.") % {"key": key})
        return []
    if not isinstance(data[key], list):
        raise RuleError(_("“%(key)s” must be a list.") % {"key": key})
    return data[key]


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise RuleError(_("%(where)s: “%(key)s” is missing.") % {"where": where, "key": key})
    if not isinstance(value, str | int):
        raise RuleError(_("%(where)s: “%(key)s” must be text.") % {"where": where, "key": key})
    return str(value).strip()


def _date(data: dict, key: str, where: str) -> dt.date:
    value = data.get(key)
    if value is None:
        raise RuleError(_("%(where)s: “%(key)s” is missing.") % {"where": where, "key": key})
    try:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RuleError(
            _("%(where)s: “%(key)s” is not a date (write YYYY-MM-DD): %(value)s") % {
                "where": where, "key": key, "value": value}
        ) from None


def _number(value: Any, key: str, where: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise RuleError(_("%(where)s: “%(key)s” is not a number.") % {"where": where, "key": key})
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | float | Decimal) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise RuleError(_("%(where)s: “%(key)s” is not a number: %(value)s") % {"where": where, "key": key, "value": value})
    if abs(number) >= MAX_FIGURE:
        raise RuleError(_("%(where)s: “%(key)s” is too large: %(value)s") % {"where": where, "key": key, "value": value})
    return number


def _amount(data: dict, where: str) -> tuple[str, Decimal]:
    """("eur" | "sek", amount) of an award or of the proposal: exactly one of the two, not negative."""
    present = [key for key in ("amount_eur", "amount_sek") if data.get(key) is not None]
    if not present:
        raise RuleError(_("%(where)s: give “amount_eur” or “amount_sek”.") % {"where": where})
    if len(present) == 2:
        raise RuleError(_("%(where)s: give “amount_eur” or “amount_sek”, not both.") % {"where": where})
    key = present[0]
    amount = _number(data[key], key, where)
    if amount < 0:
        raise RuleError(_("%(where)s: “%(key)s” cannot be negative (%(value)s).") % {
            "where": where, "key": key, "value": data[key]})
    return key[-3:], amount


def _to_eur(kind: str, amount: Decimal, on: dt.date, rates: RateTable, where: str) -> tuple[Decimal, Rate | None]:
    if kind == "eur":
        return cents(amount), None
    rate = rates.on_or_before(on)
    if rate is None:
        raise RuleError(_("%(where)s: no SEK/EUR rate on or before %(date)s, so the SEK amount cannot be converted.") % {
            "where": where, "date": on.isoformat()})
    return sek_to_eur(amount, rate.sek_per_eur), rate


def _parse_undertakings(data: dict) -> _Parsed:
    parsed = _Parsed()
    for index, item in enumerate(_list(data, "undertakings", required=True)):
        where = _where("undertakings", index)
        item = _object(item, where)
        ident = _text(item, "id", where)
        if ident in parsed.profiles:
            raise RuleError(_("%(where)s: the undertaking %(id)s is listed twice.") % {"where": where, "id": ident})
        road = item.get("road_freight", False)
        if road is None:
            road = False
        if not isinstance(road, bool):
            raise RuleError(_("%(where)s: “road_freight” must be true or false.") % {"where": where})
        try:
            start = parse_fiscal_year_start(item.get("fiscal_year_start"))
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from None
        parsed.profiles[ident] = (road, start)
        parsed.known.add(ident)
    for index, item in enumerate(_list(data, "control_links")):
        where = _where("control_links", index)
        item = _object(item, where)
        parent, child = _text(item, "parent", where), _text(item, "child", where)
        if parent == child:
            raise RuleError(_("%(where)s: an undertaking cannot control itself (%(id)s).") % {"where": where, "id": parent})
        parsed.known.update((parent, child))
        voting = item.get("voting_pct")
        controls = item.get("controls")
        if controls is not None and not isinstance(controls, bool):
            raise RuleError(_("%(where)s: “controls” must be true or false.") % {"where": where})
        voting_pct = _number(voting, "voting_pct", where) if voting is not None else None
        if voting_pct is not None and not 0 <= voting_pct <= 100:
            raise RuleError(_("%(where)s: “voting_pct” must be between 0 and 100.") % {"where": where})
        # A link is a control link unless it says otherwise (controls false and at most 50 % of the votes).
        explicit = controls is not None or voting_pct is not None
        if not explicit or is_control_link(controls=bool(controls), voting_pct=voting_pct):
            parsed.links.append((parent, child))
    return parsed


def evaluate_scenario(data: Any) -> dict[str, Any]:
    """The what-if check on the command's JSON document; the result as the command prints it.

    Raises :class:`RuleError` with a message naming the offending part for any bad input.
    """
    data = _object(data, _("The document"))
    parsed = _parse_undertakings(data)
    rate_items = []
    for index, item in enumerate(_list(data, "rates")):
        where = _where("rates", index)
        item = _object(item, where)
        day = _date(item, "date", where)
        value = _number(item.get("sek_per_eur"), "sek_per_eur", where)
        if value <= 0:
            raise RuleError(_("%(where)s: “sek_per_eur” must be above zero.") % {"where": where})
        rate_items.append(Rate(day, value))
    rates = RateTable(rate_items)

    proposed = _object(data.get("proposed"), "proposed") if "proposed" in data else None
    if proposed is None:
        raise RuleError(_("“%(key)s” is missing.") % {"key": "proposed"})
    undertaking = _text(proposed, "undertaking", "proposed")
    if undertaking not in parsed.profiles:
        raise RuleError(_("proposed: unknown undertaking %(id)s (list it under “undertakings”).") % {"id": undertaking})
    on = _date(proposed, "date_granted", "proposed")
    kind, amount = _amount(proposed, "proposed")
    proposed_eur, proposed_rate = _to_eur(kind, amount, on, rates, "proposed")

    awards: list[Award] = []
    for index, item in enumerate(_list(data, "awards")):
        where = _where("awards", index)
        item = _object(item, where)
        who = _text(item, "undertaking", where)
        if who not in parsed.known:
            raise RuleError(_("%(where)s: unknown undertaking %(id)s (not under “undertakings” nor in a control link).")
                            % {"where": where, "id": who})
        granted_on = _date(item, "date_granted", where)
        award_kind, award_amount = _amount(item, where)
        amount_eur, rate = _to_eur(award_kind, award_amount, granted_on, rates, where)
        awards.append(Award(who, granted_on, amount_eur, ref=index,
                            amount_sek=award_amount if rate is not None else None, rate=rate))

    road, start = parsed.profiles[undertaking]
    members = single_undertaking(undertaking, parsed.links)
    result = check(members=members, on=on, proposed_eur=proposed_eur, awards=awards, road_freight=road,
                   fiscal_year_start=start)
    counted = []
    for award in result.counted:
        row: dict[str, Any] = {"undertaking": award.undertaking, "date_granted": award.granted_on.isoformat(),
                               "amount_eur": whole_euros(award.amount_eur)}
        if award.rate is not None:
            row.update({"amount_sek": _plain_number(award.amount_sek), "sek_per_eur": _plain_number(award.rate.sek_per_eur),
                        "rate_date": award.rate.on.isoformat()})
        counted.append(row)
    explanation = explain(result, whole=False)
    if proposed_rate is not None:
        explanation.insert(2, _("The new aid: SEK %(sek)s at %(rate)s SEK/EUR (rate of %(date)s) = EUR %(eur)s.") % {
            "sek": _figure(amount), "rate": number_format(proposed_rate.sek_per_eur),
            "date": proposed_rate.on.isoformat(), "eur": _figure(proposed_eur)})
    return {
        "allowed": result.allowed,
        "regulation": result.regulation,
        "ceiling_eur": whole_euros(result.ceiling_eur),
        "used_eur": whole_euros(result.used_eur),
        "proposed_eur": whole_euros(result.proposed_eur),
        "headroom_eur": whole_euros(result.headroom_eur),
        "window": {"from": result.window.start.isoformat(), "to": result.window.end.isoformat()},
        "single_undertaking": list(result.members),
        "counted_awards": counted,
        "explanation": explanation,
    }


def _plain_number(value: Decimal) -> int | float:
    """A JSON number for an input figure: whole numbers as integers."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)
