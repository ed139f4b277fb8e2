"""Offline reference data for Swedish companies, shipped with the code.

Two data files sit beside this module:

* ``municipalities.csv``: the 290 Swedish municipalities (kommuner) with their
  four-digit SCB code and their county (län).
* ``sni2007.csv``: the Swedish Standard Industrial Classification SNI 2007 from
  sections down to five-digit subclasses, codes written without dots.

The functions here are pure (no Django models, no database) so that they can be
used from migrations, management commands and tests alike.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "SNI_LEVELS",
    "Municipality",
    "SniCode",
    "load_municipalities",
    "load_sni_codes",
    "normalise_sni_code",
]

#: SNI levels from the top down, with the length of their (dotless) codes.
SNI_LEVELS: dict[str, int] = {
    "section": 1,
    "division": 2,
    "group": 3,
    "class": 4,
    "subclass": 5,
}

_SECTION_RE = re.compile(r"[A-Ua-u]")
_NUMERIC_RE = re.compile(r"([0-9]{2})(?:\.?([0-9]{1,3}))?")


@dataclass(frozen=True, slots=True)
class Municipality:
    """A Swedish municipality (kommun)."""

    code: str  # four digits, leading zero kept, e.g. "0114"
    name: str
    county_code: str  # two digits, e.g. "01"
    county_name: str


@dataclass(frozen=True, slots=True)
class SniCode:
    """One code of SNI 2007 at any level, written without dots."""

    code: str
    level: str  # one of SNI_LEVELS
    parent: str  # the code one level up; "" for a section
    name_sv: str
    name_en: str


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _municipalities() -> tuple[Municipality, ...]:
    return tuple(
        Municipality(
            code=row["code"],
            name=row["name"],
            county_code=row["county_code"],
            county_name=row["county_name"],
        )
        for row in _read_csv("municipalities.csv")
    )


@cache
def _sni_codes() -> tuple[SniCode, ...]:
    return tuple(
        SniCode(
            code=row["code"],
            level=row["level"],
            parent=row["parent"],
            name_sv=row["name_sv"],
            name_en=row["name_en"],
        )
        for row in _read_csv("sni2007.csv")
    )


def load_municipalities() -> list[Municipality]:
    """All 290 Swedish municipalities, ordered by code.

    The file is read once; every call returns a fresh list of the same frozen objects.
    """
    return list(_municipalities())


def load_sni_codes() -> list[SniCode]:
    """Every SNI 2007 code (sections, divisions, groups, classes, subclasses) in hierarchy order.

    The file is read once; every call returns a fresh list of the same frozen objects.
    """
    return list(_sni_codes())


def normalise_sni_code(text: str) -> str:
    """Return an SNI code written the way the reference data writes it: without dots.

    Accepts a section letter ("C", "c") or a numeric code of 2 to 5 digits, with or
    without the dot after the division ("25", "25.6", "25.62", "2562", "25.620",
    "25620"); surrounding whitespace is ignored. Raises ``ValueError`` for anything
    else. Whether the code exists in SNI 2007 is not checked.
    """
    if not isinstance(text, str):
        raise ValueError(f"An SNI code must be text, not {type(text).__name__}.")
    value = text.strip()
    if not value:
        raise ValueError("An SNI code is empty.")
    if _SECTION_RE.fullmatch(value):
        return value.upper()
    match = _NUMERIC_RE.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{text.strip()!r} is not an SNI code: expected a section letter A-U or 2 to 5 digits "
            "such as 25, 25.6, 25.62 or 25.620."
        )
    return match.group(1) + (match.group(2) or "")
