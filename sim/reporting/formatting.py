"""One way to write report numbers, shared by the page, the exports and the table of the CLI, so
they show the same figures: whole numbers as integers, others with two decimals in the current
language's decimal sign (no grouping), a missing value as a dash."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format

DASH = "–"


def format_value(value, unit: str = "") -> str:
    if value is None:
        return DASH
    value = Decimal(value)
    if value == value.to_integral_value() and unit != "SEK":
        return str(int(value))
    return number_format(value.quantize(Decimal("0.01")), decimal_pos=2, use_l10n=True, force_grouping=False)


def format_pct(value) -> str:
    if value is None:
        return DASH
    return number_format(Decimal(value), decimal_pos=1, use_l10n=True, force_grouping=False) + " %"
