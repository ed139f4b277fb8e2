"""Shared helpers for the assessment tests: valid answers, and assessments answered and completed
through the services (so they have the same history as real ones)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sim.assessments import rules, services
from sim.assessments.models import Assessment, AssessmentPhase
from sim.assessments.schema import NUMERIC_TYPES, Instrument, Question

GROWTH = "sim-growth-interview"
DIGITAL = "digital-maturity"


def sample_value(question: Question, level: int = 3) -> Any:
    """A valid answer to any question; scored questions score about ``level`` / 5."""
    kind = question.type
    if kind == "scale":
        return level
    if kind in ("single_choice", "multiple_choice"):
        options = list(question.options or ())
        scored = [o for o in options if o.score is not None and not o.exclusive]
        if scored:
            target = Decimal(level * 20)
            chosen = min(scored, key=lambda o: abs(o.score - target))
        else:
            chosen = next(o for o in options if not o.exclusive)
        return chosen.id if kind == "single_choice" else [chosen.id]
    if kind in NUMERIC_TYPES:
        low, high = question.value_range()
        value = Decimal(10)
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        return str(value)
    if kind == "date":
        return "2025-01-15"
    return "Svar i fritext"


def required_answers(instrument: Instrument, *, level: int = 3, **overrides: Any) -> dict[str, Any]:
    """Answers to every visible required question (and the ``overrides``), normalised.

    Answering may reveal further required questions (``cn_gaps: yes`` shows ``cn_description``),
    so this repeats until nothing required is missing.
    """
    answers: dict[str, Any] = {
        key: rules.validate_answer(instrument.question(key), value) for key, value in overrides.items()
    }
    for _round in range(len(instrument.questions)):
        missing = rules.missing_required(instrument, answers)
        if not missing:
            return answers
        for question_id in missing:
            answers[question_id] = rules.validate_answer(
                instrument.question(question_id), sample_value(instrument.question(question_id), level)
            )
    raise AssertionError("could not answer every required question")


def answer_all(actor, assessment: Assessment, answers: dict[str, Any], **kwargs: Any) -> Assessment:
    """Save each answer through ``services.assessment_answer``."""
    for question_id, value in answers.items():
        services.assessment_answer(actor, assessment, question_id, value, **kwargs)
    assessment.refresh_from_db()
    return assessment


def answer_required(actor, assessment: Assessment, *, level: int = 3, **overrides: Any) -> Assessment:
    """Answer every visible required question validly (without completing)."""
    return answer_all(actor, assessment, required_answers(assessment.instrument(), level=level, **overrides))


def complete(actor, assessment: Assessment, *, level: int = 3, **overrides: Any) -> Assessment:
    """Answer every visible required question validly and complete the assessment (refreshed)."""
    answer_required(actor, assessment, level=level, **overrides)
    services.assessment_complete(actor, assessment)
    assessment.refresh_from_db()
    return assessment


def start(actor, company, instrument: str = GROWTH, **kwargs: Any) -> Assessment:
    return services.assessment_start(actor, company, instrument, **kwargs)


def completed_assessment(
    actor, company, instrument: str = GROWTH, *, level: int = 3, phase: str = AssessmentPhase.T0,
    conducted_on=None, **overrides: Any,
) -> Assessment:
    """Start, answer and complete an assessment in one go."""
    assessment = start(actor, company, instrument, phase=phase, conducted_on=conducted_on)
    return complete(actor, assessment, level=level, **overrides)


def complete_quickly(actor, assessment: Assessment, *, level: int = 3, **overrides: Any) -> Assessment:
    """Store valid answers in one write (no per-answer history) and complete through the service.

    For tests that need many completed assessments and do not look at the answering itself.
    """
    answers = required_answers(assessment.instrument(), level=level, **overrides)
    Assessment.objects.filter(pk=assessment.pk).update(
        answers=answers, answer_versions=dict.fromkeys(answers, 1)
    )
    services.assessment_complete(actor, assessment)
    assessment.refresh_from_db()
    return assessment
