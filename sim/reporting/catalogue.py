"""The indicator sets as data: ``sim/reporting/indicators/*.json`` (one file per set).

Each set has a key, a Swedish and English name and its indicators; each indicator has a code,
names and definitions in both languages (written for this platform, in plain words), a unit and
the *method* that computes it (see :mod:`sim.reporting.rules`; ``manual`` ones are summed from the
values the project records). ``breakdown: "size_class"`` asks for the split by SME category.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import rules

DIRECTORY = Path(__file__).resolve().parent / "indicators"
UNITS = ("enterprises", "FTE", "SEK", "participants", "number", "percent")
UNIT_LABELS = {
    "enterprises": _("enterprises"), "FTE": _("FTE (annual work units)"), "SEK": _("SEK"),
    "participants": _("participants"), "number": _("number"), "percent": _("per cent"),
}


def unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


@dataclass(frozen=True)
class IndicatorDefinition:
    code: str
    method: str
    unit: str
    name_sv: str
    name_en: str
    definition_sv: str
    definition_en: str
    breakdown: str = ""

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv

    @property
    def definition(self) -> str:
        return self.definition_en if (get_language() or "sv").startswith("en") else self.definition_sv


@dataclass(frozen=True)
class IndicatorSetDefinition:
    key: str
    name_sv: str
    name_en: str
    indicators: tuple[IndicatorDefinition, ...]

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv

    def get(self, code: str) -> IndicatorDefinition | None:
        return next((i for i in self.indicators if i.code == code), None)


class CatalogueError(ValueError):
    """An indicator file that does not follow the format (the message says which and why)."""


_FIELDS = ("code", "method", "unit", "name_sv", "name_en", "definition_sv", "definition_en")


def parse_set(data: dict, source: str) -> IndicatorSetDefinition:
    for field in ("key", "name_sv", "name_en", "indicators"):
        if field not in data:
            raise CatalogueError(f"{source}: missing {field!r}")
    indicators = []
    seen: set[str] = set()
    for n, item in enumerate(data["indicators"], start=1):
        missing = [f for f in _FIELDS if not str(item.get(f, "")).strip()]
        if missing:
            raise CatalogueError(f"{source}: indicator {n} lacks {', '.join(missing)}")
        if item["method"] not in rules.METHODS:
            raise CatalogueError(f"{source}: indicator {item['code']} has unknown method {item['method']!r}")
        if item["unit"] not in UNITS:
            raise CatalogueError(f"{source}: indicator {item['code']} has unknown unit {item['unit']!r}")
        if item["code"] in seen:
            raise CatalogueError(f"{source}: indicator {item['code']} appears twice")
        seen.add(item["code"])
        indicators.append(IndicatorDefinition(**{f: item[f] for f in _FIELDS}, breakdown=item.get("breakdown", "")))
    return IndicatorSetDefinition(key=data["key"], name_sv=data["name_sv"], name_en=data["name_en"],
                                  indicators=tuple(indicators))


@cache
def indicator_sets() -> dict[str, IndicatorSetDefinition]:
    """Every set shipped with the platform, by key, in file order."""
    sets = {}
    for path in sorted(DIRECTORY.glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            parsed = parse_set(json.load(fh), path.name)
        sets[parsed.key] = parsed
    return sets


def indicator_set(key: str) -> IndicatorSetDefinition | None:
    return indicator_sets().get(key)


def set_choices() -> list[tuple[str, str]]:
    return [(key, s.name) for key, s in indicator_sets().items()]
