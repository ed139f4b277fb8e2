"""Small instruments for the tests, built as plain dicts (what a YAML file would hold)."""

from __future__ import annotations

import copy
from typing import Any

from sim.assessments.instrument_files import parse_instrument
from sim.assessments.schema import Instrument


def t(text: str) -> dict[str, str]:
    """A translated text: English ``text``, Swedish ``text (sv)``."""
    return {"sv": f"{text} (sv)", "en": text}


LEVELS = {level: t(f"level {level}") for level in range(6)}

BANDS = [
    {"id": "basic", "min": 0, "max": 25, "label": t("Basic")},
    {"id": "average", "min": 25, "max": 50, "label": t("Average")},
    {"id": "moderately_advanced", "min": 50, "max": 75, "label": t("Moderately advanced")},
    {"id": "advanced", "min": 75, "max": 100, "label": t("Advanced")},
]


def dimension(id_: str, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "title": t(id_), "description": t(f"about {id_}"), **extra}


def need(threshold: float | int = 50, **extra: Any) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "title": t("Need"),
        "rationale": {"sv": "Poäng {score} under {threshold}.", "en": "Score {score} below {threshold}."},
        **extra,
    }


def scale(id_: str, dimension_id: str | None = "d1", **extra: Any) -> dict[str, Any]:
    question: dict[str, Any] = {"id": id_, "type": "scale", "text": t(id_), "levels": copy.deepcopy(LEVELS)}
    if dimension_id:
        question["scoring"] = {"dimension": dimension_id}
    question.update(extra)
    return question


def option(id_: str, score: float | int | None = None, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"id": id_, "label": t(id_), **extra}
    if score is not None:
        result["score"] = score
    return result


def choice(
    id_: str, options: list[dict[str, Any]], dimension_id: str | None = None, *, multiple=False, **extra
):
    question: dict[str, Any] = {
        "id": id_,
        "type": "multiple_choice" if multiple else "single_choice",
        "text": t(id_),
        "options": options,
    }
    if dimension_id:
        question["scoring"] = {"dimension": dimension_id}
    question.update(extra)
    return question


def yes_no(id_: str, **extra: Any) -> dict[str, Any]:
    return choice(id_, [option("yes"), option("no")], **extra)


def question(id_: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "text": t(id_), **extra}


def section(id_: str, *questions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": id_, "title": t(id_), "questions": list(questions), **extra}


def instrument_data(
    *sections: dict[str, Any], dimensions: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": "test-instrument",
        "version": 1,
        "title": t("Test instrument"),
        "description": t("For tests"),
        "kind": "maturity",
        "dimensions": dimensions if dimensions is not None else [dimension("d1")],
        "bands": copy.deepcopy(BANDS),
        "overall": "mean",
        "sections": list(sections) if sections else [section("s1", scale("q1"))],
        **extra,
    }


def build(*sections: dict[str, Any], **kwargs: Any) -> Instrument:
    return parse_instrument(instrument_data(*sections, **kwargs))
