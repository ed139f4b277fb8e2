"""Apps add panels to the start page without the core depending on them.

An app registers a `HomePanel` in its `AppConfig.ready()`; the start page renders every panel
whose `context(request)` returns a dict (None hides it, e.g. for lack of permission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str  # rendered with `data` (the context dict)
    context: Callable[[Any], dict | None]
    order: int = 100


_PANELS: dict[str, HomePanel] = {}


def register_home_panel(panel: HomePanel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request) -> list[dict]:
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        data = panel.context(request)
        if data is not None:
            rendered.append({"key": panel.key, "template": panel.template, "data": data})
    return rendered
