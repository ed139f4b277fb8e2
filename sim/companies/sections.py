"""Other apps add sections to the company page without the register depending on them.

An app registers a `CompanySection` in its `AppConfig.ready()`; the company page renders every
section whose `context(request, company)` returns a dict (None hides it, e.g. for lack of permission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CompanySection:
    key: str  # anchor id on the page
    label: Callable[[], str]  # lazy label for the section tabs
    template: str  # rendered with `section` (this object) and `data` (the context dict)
    context: Callable[[Any, Any], dict | None]
    order: int = 100


_SECTIONS: dict[str, CompanySection] = {}


def register_company_section(section: CompanySection) -> None:
    _SECTIONS[section.key] = section


def sections_for(request, company) -> list[dict]:
    rendered = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        data = section.context(request, company)
        if data is not None:
            rendered.append({"key": section.key, "label": section.label(), "template": section.template, "data": data})
    return rendered
