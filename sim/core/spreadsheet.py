"""Text for exports that end in a spreadsheet (CSV, XLSX): never run as a formula.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by
spreadsheets as a formula (CSV injection), and openpyxl stores a string starting with ``=`` as one.
Names, notes and labels come from users and imported files, so every export passes its texts here.
Figures are written as numbers and need nothing (a negative number is not a formula).
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    """``value`` as text (``None`` as empty), with a leading ``'`` when it starts like a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_START else text
