"""Pure rules of the actuals (no database): months, hourly cost, staff cost, plausible hours, and
the names a cost category may be written with in an accounting export.

See ``docs/domain-rules.md`` ("Actuals").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
MONTHS_PER_YEAR = Decimal(12)
#: Hours a person may report in one month, in all projects together: this many per weekday.
MAX_HOURS_PER_WEEKDAY = Decimal(10)

#: Categories a cost entry may have. Staff costs come from time reports (hours × hourly cost) and
#: indirect costs are a flat rate on staff costs: neither is booked as a cost entry.
ENTRY_CATEGORIES = ("external_services", "company_support", "travel", "equipment", "other")
NOT_ENTRY_CATEGORIES = ("staff", "indirect")


class RuleError(ValueError):
    """An input a rule cannot accept; the message says why."""


# --- Months ---------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of the month of ``day``."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of the month of ``day``."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (or before) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from the month of ``first`` to the month of ``last``, inclusive."""
    result = []
    current = month_start(first)
    while current <= last:
        result.append(current)
        current = add_months(current, 1)
    return result


_MONTH_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})"),
    re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4})"),
)


def parse_month(value: str | dt.date) -> dt.date:
    """A month written ``2024-03``, ``2024-03-01``, ``202403`` or ``3/2024`` (or a date) → its first day."""
    if isinstance(value, dt.datetime):
        return month_start(value.date())
    if isinstance(value, dt.date):
        return month_start(value)
    text = str(value or "").strip()
    for pattern in _MONTH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                day = int(match.group("d")) if "d" in match.groupdict() and match.group("d") else 1
                parsed = dt.date(int(match.group("y")), int(match.group("m")), day)
            except ValueError:
                break
            return month_start(parsed)
    raise RuleError(_("“%(value)s” is not a month (write e.g. 2024-03).") % {"value": text})


def weekdays_in_month(month: dt.date) -> int:
    first = month_start(month)
    days = calendar.monthrange(first.year, first.month)[1]
    return sum(1 for n in range(days) if (first + dt.timedelta(days=n)).weekday() < 5)


def max_month_hours(month: dt.date) -> Decimal:
    """The most hours one person can plausibly work in a month: 10 per weekday (e.g. 230 in a
    month of 23 weekdays), all projects together."""
    return MAX_HOURS_PER_WEEKDAY * weekdays_in_month(month)


# --- Money ----------------------------------------------------------------------------------


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hourly_cost(monthly_salary_sek: Decimal, overhead_pct: Decimal, annual_hours: Decimal) -> Decimal:
    """What an hour costs: monthly salary × 12 × (1 + overhead %) / working hours per year, in öre
    (half up). Example: 45 000 × 12 × 1.51 / 1 720 = 474.07 SEK."""
    salary, overhead, hours = Decimal(monthly_salary_sek), Decimal(overhead_pct), Decimal(annual_hours)
    if salary <= 0:
        raise RuleError(_("The monthly salary must be more than 0."))
    if overhead < 0:
        raise RuleError(_("The overhead cannot be negative."))
    if hours <= 0:
        raise RuleError(_("The working hours per year must be more than 0."))
    return to_cents(salary * MONTHS_PER_YEAR * (1 + overhead / 100) / hours)


def staff_cost(hours: Decimal, hourly_cost_sek: Decimal) -> Decimal:
    """Hours × hourly cost, in öre (as ``TimeReport.cost_sek``)."""
    return to_cents(Decimal(hours) * Decimal(hourly_cost_sek))


@dataclass(frozen=True)
class Rate:
    """A staff rate as the rules see it."""

    valid_from: dt.date
    monthly_salary_sek: Decimal
    overhead_pct: Decimal
    annual_hours: Decimal
    id: int | None = None

    @property
    def hourly_cost(self) -> Decimal:
        return hourly_cost(self.monthly_salary_sek, self.overhead_pct, self.annual_hours)


def rate_for_month(rates: Iterable[Rate], month: dt.date) -> Rate | None:
    """The staff rate valid in a month: the one with the latest ``valid_from`` on or before the
    month's last day (a rate from the 15th applies to that whole month). ``None`` when there is none."""
    last = month_end(month)
    valid = [rate for rate in rates if rate.valid_from <= last]
    return max(valid, key=lambda rate: rate.valid_from) if valid else None


# --- Hours ----------------------------------------------------------------------------------

MAX_HOURS_PER_ROW = Decimal(400)


def parse_hours(value) -> Decimal:
    """Hours as a Decimal with at most two decimals, 0 or more (blank is 0); a decimal comma is fine."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        hours = value
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not text:
            return Decimal(0)
        try:
            hours = Decimal(text)
        except InvalidOperation:
            raise RuleError(_("“%(value)s” is not a number of hours.") % {"value": value}) from None
    if not hours.is_finite():
        raise RuleError(_("“%(value)s” is not a number of hours.") % {"value": value})
    if hours < 0:
        raise RuleError(_("Hours cannot be negative."))
    if hours != hours.quantize(CENT):
        raise RuleError(_("Hours can have at most two decimals."))
    if hours > MAX_HOURS_PER_ROW:
        raise RuleError(_("At most %(max)s hours per row.") % {"max": MAX_HOURS_PER_ROW})
    return hours.quantize(CENT)


# --- Cost categories ------------------------------------------------------------------------


def normalise(text) -> str:
    """Lower case ASCII letters and digits only: ``"Övriga kostnader"`` → ``"ovrigakostnader"``."""
    decomposed = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", decomposed.lower())


#: The names and codes a category may be written with (Swedish, English and short codes), as
#: documented in ``docs/import.md``. Matching ignores case, spaces, punctuation and diacritics.
CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    "external_services": (
        "external_services", "external services", "externa tjänster", "extern tjänst", "köpta tjänster",
        "konsulttjänster", "konsulter", "ext", "ET",
    ),
    "company_support": (
        "company_support", "company support", "direct support to companies",
        "direct support to companies / company-specific interventions", "company-specific interventions",
        "direkt stöd till företag", "stöd till företag", "företagsstöd", "företagsspecifika insatser",
        "företagsspecifik insats", "direkt stöd till företag / företagsspecifika insatser", "stöd", "FS",
    ),
    "travel": ("travel", "travel costs", "resor", "resekostnader", "resa", "R"),
    "equipment": ("equipment", "utrustning", "inventarier", "U"),
    "other": ("other", "other costs", "övriga kostnader", "övrigt", "övrig kostnad", "Ö", "O"),
    # Recognised so that the message can say why they are not cost entries.
    "staff": ("staff", "staff costs", "personal", "personalkostnader", "lön", "löner", "P"),
    "indirect": (
        "indirect", "indirect costs", "indirect costs (flat rate)", "indirekta kostnader", "overhead",
        "indirekta kostnader (schablon)", "schablon", "OH",
    ),
}
_CATEGORY_LOOKUP: dict[str, str] = {}
for _code, _names in CATEGORY_NAMES.items():
    for _name in _names:
        _CATEGORY_LOOKUP.setdefault(normalise(_name), _code)


def category_code(text) -> str | None:
    """The category a written name or code means (any category, staff and indirect included), or ``None``."""
    return _CATEGORY_LOOKUP.get(normalise(text))
