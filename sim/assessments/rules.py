"""Pure rules for assessments: conditional questions, answer validation, scoring and needs.

Everything here works on an :class:`~sim.assessments.schema.Instrument` and plain dicts of answers
(``{question_id: value}``); nothing touches the database or needs Django settings.  Translatable
messages go through Django's translation machinery once the app registry is ready and are returned
untranslated before that (plain unit tests, scripts).

Answers
    ``validate_answer`` turns a raw value into its *normalised*, JSON-friendly form, which is what
    should be stored and what every other function works on:

    ==================  ===========================================================
    type                normalised value
    ==================  ===========================================================
    scale               ``int`` 0–5
    single_choice       ``str`` option id
    multiple_choice     ``list[str]`` option ids, no duplicates, in the options' order
    number, money,      ``str`` holding a plain decimal without exponent or trailing
    percentage          zeros (``"1250000"``, ``"12.5"``, ``"-3"``): exact, unlike floats
    date                ``str`` ISO date ``"YYYY-MM-DD"``
    text                ``str`` with surrounding whitespace removed
    ==================  ===========================================================

    An *empty* value — ``None``, a blank string, an empty list — means "not answered": it
    normalises to ``None`` and ``validate_answers`` leaves it out of the normalised dict.

    The public functions below that take ``answers`` accept raw or normalised answers; they
    normalise them first and raise :class:`AnswerError` (listing every problem in ``issues``) when
    an answer is invalid or a question id is unknown.

Visibility
    A question with ``show_if`` is visible when the question it refers to is visible *and*
    answered *and* the answer matches; so hiding a question hides everything that depends on it.
    Answers stored for hidden questions are kept by ``validate_answers`` (unless
    ``drop_hidden=True``) but never count: not for progress, required answers or scores.

Scoring (0–100, see ``docs/instruments.md`` for worked examples)
    * scale: level / 5 × 100 (3 → 60);
    * single choice: the option's score; an option without a score ("don't know") is left out;
    * multiple choice: the sum of the chosen options' scores, capped at 100;
    * number / money / percentage: the score of the value band the value falls in
      (``min <= value < max``, the last band's max inclusive); a percentage without bands scores
      its own value;
    * a dimension's score is the weighted mean (``scoring.weight``) of the scores of its visible,
      answered questions, rounded half-up to one decimal; ``None`` when none is answered;
    * the overall score is the mean (or, with ``overall: weighted_mean``, the mean weighted by
      ``Dimension.weight``) of the *rounded* dimension scores that exist, rounded likewise; so the
      overall score can be checked by hand from the dimension scores that are shown;
    * a score's band is looked up from the rounded score: ``min <= score < max``, the last band
      also including 100.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _django_gettext

from sim.assessments.schema import NUMERIC_TYPES, Condition, Instrument, Question, Translated

__all__ = [
    "MAX_ABS_NUMBER",
    "NUMBER_DECIMALS",
    "AnswerError",
    "AnswerIssue",
    "DimensionScore",
    "Need",
    "ScoreRequest",
    "ScoreResult",
    "SectionProgress",
    "compare",
    "condition_met",
    "derive_needs",
    "hooked_answers",
    "is_empty",
    "missing_required",
    "question_score",
    "score",
    "score_from_json",
    "score_request_from_json",
    "score_to_json",
    "section_progress",
    "validate_answer",
    "validate_answers",
    "validate_condition_value",
    "visible_questions",
]


def gettext(message: str) -> str:
    """Django's ``gettext`` once the app registry is ready; the message unchanged before that."""
    if apps.ready:
        return _django_gettext(message)
    return message


_ = gettext

#: Numeric answers must be smaller than this in absolute value (SEK turnover fits easily).
MAX_ABS_NUMBER = Decimal("1e15")
#: Largest number of decimals accepted per numeric type (``integer: true`` numbers: none).
NUMBER_DECIMALS: dict[str, int] = {"number": 4, "money": 2, "percentage": 2}

_HUNDRED = Decimal(100)
_SCALE_STEP = Decimal(20)  # level / 5 × 100
_ONE_DECIMAL = Decimal("0.1")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[+-]?\d{1,9}")


# --------------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerIssue:
    """A problem with the answer to one question (``question`` is the id as given)."""

    question: str
    message: str

    def __str__(self) -> str:
        return f"{self.question}: {self.message}"


class AnswerError(ValueError):
    """An answer that cannot be accepted.

    ``message`` explains the problem without naming the question (so a form can show it next to
    the field); ``question`` is the question id when known; ``issues`` holds every problem when
    several answers were checked at once.
    """

    def __init__(self, message: str, *, question: str | None = None, issues: Iterable[AnswerIssue] = ()):
        self.message = message
        self.question = question
        self.issues = tuple(issues)
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.message)

    def __reduce__(self):
        return (_rebuild_answer_error, (self.message, self.question, self.issues))


def _rebuild_answer_error(message, question, issues):
    return AnswerError(message, question=question, issues=issues)


@dataclass(frozen=True)
class SectionProgress:
    """How far a section has been filled in (visible questions only)."""

    section_id: str
    answered: int
    total_visible: int
    required_missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """All visible required questions of the section are answered."""
        return not self.required_missing


@dataclass(frozen=True)
class DimensionScore:
    """``score`` 0–100 with one decimal (``None`` when nothing scored is answered).

    ``answered`` counts the questions that contributed to the score; ``scored_questions`` the
    visible scored questions of the dimension.  A "don't know" option (no score) counts in
    neither ``answered`` nor the score, but it does count in the section progress.
    """

    score: Decimal | None
    band: str | None
    answered: int
    scored_questions: int


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one set of answers.  ``dimensions`` keeps the instrument's dimension order."""

    dimensions: dict[str, DimensionScore]
    overall: Decimal | None
    band: str | None
    missing_required: list[str] = field(default_factory=list)
    instrument: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class Need:
    """A need derived from a dimension that scored below its threshold (priority 1 = most urgent)."""

    dimension: str
    focus_area: str | None
    priority: int
    score: Decimal
    threshold: Decimal
    title: Translated
    rationale: Translated


@dataclass(frozen=True)
class ScoreRequest:
    """The JSON input of ``sim assessment_score``: which instrument, and the raw answers."""

    instrument: str
    version: int | None
    answers: dict[str, Any]


# --------------------------------------------------------------------------------------------
# Answer validation and normalisation
# --------------------------------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """``None``, a blank string or an empty list/tuple/set: "not answered"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) == 0
    return False


def _canonical(value: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros, no negative zero."""
    value = value.normalize()
    if value == 0:
        return "0"
    return format(value, "f")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, list | tuple | set | frozenset):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise AnswerError(_("Enter a number, not true/false."))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # 0.1 → Decimal("0.1"), no binary noise
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise AnswerError(
                _("%(value)r is not a number (use digits and a decimal point, e.g. 1250.5).")
                % {"value": value}
            ) from None
    else:
        raise AnswerError(_("Enter a number (got %(type)s).") % {"type": _type_name(value)})
    if not result.is_finite():
        raise AnswerError(_("Enter a finite number."))
    return result


def _whole_number(value: Any, message: str) -> int:
    if isinstance(value, bool):
        raise AnswerError(message)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value == value and abs(value) <= 1e6 and value.is_integer():  # value == value: not NaN
            return int(value)
        raise AnswerError(message)
    if isinstance(value, Decimal):
        # copy_abs() needs no context (cannot overflow); int() of 1e999999999 would hang.
        if value.is_finite() and value.copy_abs() <= 10**6 and value == value.to_integral_value():
            return int(value)
        raise AnswerError(message)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    raise AnswerError(message)


def _normalise_scale(question: Question, value: Any) -> int:
    message = _("Choose a level from 0 to 5 (got %(value)s).") % {"value": _short(value)}
    level = _whole_number(value, message)
    if not 0 <= level <= 5:
        raise AnswerError(message)
    return level


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _option_ids(question: Question) -> str:
    return ", ".join(option.id for option in question.options or ())


def _normalise_single(question: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerError(
            _("Choose one option (an option id as text, got %(type)s).") % {"type": _type_name(value)}
        )
    choice = value.strip()
    if question.option(choice) is None:
        raise AnswerError(
            _("Unknown option %(value)s; choose one of %(options)s.")
            % {"value": _short(choice), "options": _option_ids(question)}
        )
    return choice


def _normalise_multiple(question: Question, value: Any) -> list[str]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise AnswerError(_("Choose a list of options (got %(type)s).") % {"type": _type_name(value)})
    chosen: set[str] = set()
    unknown: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise AnswerError(
                _("Each chosen option must be an option id as text (got %(type)s).")
                % {"type": _type_name(item)}
            )
        item = item.strip()
        if question.option(item) is None:
            if item not in unknown:
                unknown.append(item)
        else:
            chosen.add(item)
    if unknown:
        raise AnswerError(
            _("Unknown option(s) %(values)s; choose from %(options)s.")
            % {"values": ", ".join(map(_short, unknown)), "options": _option_ids(question)}
        )
    ordered = [option.id for option in question.options or () if option.id in chosen]
    if len(ordered) > 1:
        exclusive = [
            option.id for option in question.options or () if option.exclusive and option.id in chosen
        ]
        if exclusive:
            raise AnswerError(
                _("The option %(option)s cannot be combined with other options.")
                % {"option": repr(exclusive[0])}
            )
    return ordered


def _normalise_numeric(question: Question, value: Any) -> str:
    number = _to_decimal(value)
    if number.copy_abs() >= MAX_ABS_NUMBER:  # copy_abs: no context, cannot overflow
        raise AnswerError(_("The number is too large."))
    places = 0 if question.integer else NUMBER_DECIMALS[question.type]
    quantum = Decimal(1).scaleb(-places)
    if number.quantize(quantum) != number:
        if places == 0:
            raise AnswerError(_("Enter a whole number."))
        raise AnswerError(_("Use at most %(places)d decimals.") % {"places": places})
    number = number.quantize(quantum)
    low, high = question.value_range()
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            message = _("Enter a value from %(min)s to %(max)s (got %(value)s).")
        elif low is not None:
            message = _("Enter a value of at least %(min)s (got %(value)s).")
        else:
            message = _("Enter a value of at most %(max)s (got %(value)s).")
        raise AnswerError(
            message
            % {
                "min": _canonical(low) if low is not None else "",
                "max": _canonical(high) if high is not None else "",
                "value": _canonical(number),
            }
        )
    return _canonical(number)


def _normalise_date(question: Question, value: Any) -> str:
    if isinstance(value, datetime):
        raise AnswerError(_("Enter a date without a time of day (YYYY-MM-DD)."))
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise AnswerError(_("Enter a date as YYYY-MM-DD (got %(type)s).") % {"type": _type_name(value)})
    text = value.strip()
    if not _ISO_DATE.fullmatch(text):
        raise AnswerError(_("Enter a date as YYYY-MM-DD (got %(value)s).") % {"value": _short(text)})
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise AnswerError(_("%(value)s is not a valid date.") % {"value": text}) from None


def _normalise_text(question: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise AnswerError(_("Enter text (got %(type)s).") % {"type": _type_name(value)})
    text = value.strip()
    limit = question.text_max_length
    if len(text) > limit:
        raise AnswerError(
            _("The text is too long: %(length)d characters, at most %(limit)d allowed.")
            % {"length": len(text), "limit": limit}
        )
    return text


_NORMALISERS = {
    "scale": _normalise_scale,
    "single_choice": _normalise_single,
    "multiple_choice": _normalise_multiple,
    "number": _normalise_numeric,
    "money": _normalise_numeric,
    "percentage": _normalise_numeric,
    "date": _normalise_date,
    "text": _normalise_text,
}


def validate_answer(question: Question, value: Any) -> Any:
    """The normalised answer (see the module docstring), or ``None`` for an empty value.

    Raises :class:`AnswerError` (with ``question`` set) for a value out of range, an unknown
    option, a value of the wrong type, a bad date or a text that is too long.
    """
    if is_empty(value):
        return None
    try:
        return _NORMALISERS[question.type](question, value)
    except AnswerError as exc:
        raise AnswerError(exc.message, question=question.id) from None


def validate_condition_value(question: Question, value: Any) -> Any:
    """A value of a ``show_if`` condition (``equals``/``in``) normalised for ``question``.

    For a multiple-choice question the value is *one* option id.
    """
    if is_empty(value):
        raise AnswerError(_("A condition value cannot be empty."), question=question.id)
    if question.type == "multiple_choice":
        return _normalise_single(question, value)
    return validate_answer(question, value)


def validate_answers(
    instrument: Instrument, answers: Mapping[str, Any], *, drop_hidden: bool = False
) -> tuple[dict[str, Any], list[AnswerIssue]]:
    """Validate every answer: ``(normalised answers, issues)``.

    ``normalised`` holds the valid, non-empty answers in the instrument's question order; an answer
    with an issue is left out of it.  Unknown question ids are issues too.  With
    ``drop_hidden=True`` answers to questions hidden by their conditions are left out as well.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError(_("The answers must be an object mapping question ids to values."))
    issues: list[AnswerIssue] = []
    normalised: dict[str, Any] = {}
    for question in instrument.questions:
        if question.id not in answers:
            continue
        try:
            value = validate_answer(question, answers[question.id])
        except AnswerError as exc:
            issues.append(AnswerIssue(question.id, str(exc)))
            continue
        if value is not None:
            normalised[question.id] = value
    for key in answers:
        if not isinstance(key, str) or not instrument.has_question(key):
            issues.append(
                AnswerIssue(
                    str(key),
                    _("Unknown question: %(instrument)s version %(version)s has no question with this id.")
                    % {"instrument": instrument.id, "version": instrument.version},
                )
            )
    if drop_hidden:
        visible = _visible_ids(instrument, normalised)
        normalised = {key: value for key, value in normalised.items() if key in visible}
    return normalised, issues


def _normalised(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    normalised, issues = validate_answers(instrument, answers)
    if issues:
        raise AnswerError(
            _("%(count)d invalid answer(s): %(issues)s")
            % {"count": len(issues), "issues": "; ".join(map(str, issues))},
            issues=issues,
        )
    return normalised


# --------------------------------------------------------------------------------------------
# Conditional questions, required answers, progress
# --------------------------------------------------------------------------------------------


def _as_decimal(question: Question, value: Any) -> Decimal:
    """A normalised scale or numeric answer as a Decimal."""
    return Decimal(value) if question.type == "scale" else Decimal(str(value))


def condition_met(instrument: Instrument, condition: Condition, answers: Mapping[str, Any]) -> bool:
    """Whether the (normalised) answer to ``condition.question`` satisfies the condition.

    Only looks at the answer itself; :func:`visible_questions` also requires the referenced
    question to be visible.  An unanswered question satisfies no condition.
    """
    ref = instrument.question(condition.question)
    answer = answers.get(ref.id)
    if answer is None:
        return False
    if condition.gte is not None or condition.lte is not None:
        if ref.type != "scale" and ref.type not in NUMERIC_TYPES:
            return False
        number = _as_decimal(ref, answer)
        if condition.gte is not None and number < condition.gte:
            return False
        return not (condition.lte is not None and number > condition.lte)
    values = [validate_condition_value(ref, value) for value in condition.values or ()]
    if ref.type == "multiple_choice":
        return any(value in answer for value in values)
    if ref.type in NUMERIC_TYPES:
        number = _as_decimal(ref, answer)
        return any(number == Decimal(value) for value in values)
    return answer in values


def _visible_ids(instrument: Instrument, answers: Mapping[str, Any]) -> set[str]:
    visible: set[str] = set()
    for question in instrument.questions:
        condition = question.show_if
        if condition is None or (
            condition.question in visible and condition_met(instrument, condition, answers)
        ):
            visible.add(question.id)
    return visible


def visible_questions(instrument: Instrument, answers: Mapping[str, Any]) -> list[Question]:
    """The questions shown for these answers, in order.

    A question is hidden when its condition is not met, when the question its condition refers to
    is unanswered, or when that question is itself hidden (so hiding cascades).
    """
    visible = _visible_ids(instrument, _normalised(instrument, answers))
    return [question for question in instrument.questions if question.id in visible]


def _missing_required(instrument: Instrument, normalised: Mapping[str, Any], visible: set[str]) -> list[str]:
    return [
        question.id
        for question in instrument.questions
        if question.required and question.id in visible and question.id not in normalised
    ]


def missing_required(instrument: Instrument, answers: Mapping[str, Any]) -> list[str]:
    """Ids of the visible required questions without an answer, in order."""
    normalised = _normalised(instrument, answers)
    return _missing_required(instrument, normalised, _visible_ids(instrument, normalised))


def section_progress(instrument: Instrument, answers: Mapping[str, Any]) -> list[SectionProgress]:
    """Per section: answered and visible questions, and the visible required ones still missing."""
    normalised = _normalised(instrument, answers)
    visible = _visible_ids(instrument, normalised)
    progress = []
    for section in instrument.sections:
        shown = [question for question in section.questions if question.id in visible]
        progress.append(
            SectionProgress(
                section_id=section.id,
                answered=sum(1 for question in shown if question.id in normalised),
                total_visible=len(shown),
                required_missing=[
                    question.id for question in shown if question.required and question.id not in normalised
                ],
            )
        )
    return progress


def hooked_answers(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{hook: {question_id: normalised answer}}`` for the visible, answered questions with hooks.

    Other modules pick their data up here (e.g. ``key_figures.staff_awu``, ``competence_need``).
    Hooks appear in the order of the questions.
    """
    normalised = _normalised(instrument, answers)
    visible = _visible_ids(instrument, normalised)
    result: dict[str, dict[str, Any]] = {}
    for question in instrument.questions:
        if question.id in visible and question.id in normalised:
            for hook in question.hooks:
                result.setdefault(hook, {})[question.id] = normalised[question.id]
    return result


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _round1(value: Decimal) -> Decimal:
    return value.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def question_score(question: Question, value: Any) -> Decimal | None:
    """The 0–100 score of a *normalised*, non-empty answer, or ``None`` if it does not score.

    ``None`` for questions without scoring and for a single-choice option without a score.
    """
    scoring = question.scoring
    if scoring is None or value is None:
        return None
    if question.type == "scale":
        return Decimal(value) * _SCALE_STEP
    if question.type == "single_choice":
        option = question.option(value)
        return option.score if option is not None else None
    if question.type == "multiple_choice":
        total = sum(
            ((option.score or Decimal(0)) for option in question.options or () if option.id in value),
            Decimal(0),
        )
        return min(total, _HUNDRED)
    if question.type in NUMERIC_TYPES:
        number = Decimal(str(value))
        if scoring.bands is None:  # a percentage scores its own value
            return min(max(number, Decimal(0)), _HUNDRED)
        last = len(scoring.bands) - 1
        for i, band in enumerate(scoring.bands):
            above_min = band.min is None or number >= band.min
            below_max = band.max is None or number < band.max or (i == last and number == band.max)
            if above_min and below_max:
                return band.score
        return None
    return None


def _weighted_mean(pairs: Sequence[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Mean of ``(value, weight)`` pairs weighted by weight; ``None`` for no pairs."""
    total_weight = sum((weight for _, weight in pairs), Decimal(0))
    if not pairs or total_weight == 0:
        return None
    return sum((value * weight for value, weight in pairs), Decimal(0)) / total_weight


def score(instrument: Instrument, answers: Mapping[str, Any]) -> ScoreResult:
    """Score a set of answers (see the module docstring for the rules)."""
    normalised = _normalised(instrument, answers)
    visible = _visible_ids(instrument, normalised)
    per_dimension: dict[str, list[tuple[Decimal, Decimal]]] = {d.id: [] for d in instrument.dimensions}
    shown: dict[str, int] = dict.fromkeys(per_dimension, 0)
    for question in instrument.questions:
        if question.scoring is None or question.id not in visible:
            continue
        dimension_id = question.scoring.dimension
        shown[dimension_id] += 1
        value = question_score(question, normalised.get(question.id))
        if value is not None:
            per_dimension[dimension_id].append((value, question.scoring.weight))

    dimensions: dict[str, DimensionScore] = {}
    for dimension in instrument.dimensions:
        mean = _weighted_mean(per_dimension[dimension.id])
        rounded = _round1(mean) if mean is not None else None
        band = instrument.band_for(rounded)
        dimensions[dimension.id] = DimensionScore(
            score=rounded,
            band=band.id if band is not None else None,
            answered=len(per_dimension[dimension.id]),
            scored_questions=shown[dimension.id],
        )

    weighted = instrument.overall == "weighted_mean"
    pairs: list[tuple[Decimal, Decimal]] = []
    for dimension in instrument.dimensions:
        value = dimensions[dimension.id].score
        if value is not None:
            pairs.append((value, dimension.weight if weighted else Decimal(1)))
    mean = _weighted_mean(pairs)
    overall = _round1(mean) if mean is not None else None
    overall_band = instrument.band_for(overall)
    return ScoreResult(
        dimensions=dimensions,
        overall=overall,
        band=overall_band.id if overall_band is not None else None,
        missing_required=_missing_required(instrument, normalised, visible),
        instrument=instrument.id,
        version=instrument.version,
    )


def compare(result_a: ScoreResult, result_b: ScoreResult) -> dict[str, Decimal | None]:
    """Change from ``result_a`` (e.g. before support, T0) to ``result_b`` (after, T1): b − a.

    Keys: the dimensions of ``a`` in order, then those only in ``b``, then ``"overall"``.  A change
    is ``None`` where either side has no score.  Results of different instruments (ids) cannot be
    compared; different versions of one instrument can.
    """
    if result_a.instrument and result_b.instrument and result_a.instrument != result_b.instrument:
        raise ValueError(
            f"cannot compare results of different instruments ({result_a.instrument} and {result_b.instrument})"
        )

    def change(a: Decimal | None, b: Decimal | None) -> Decimal | None:
        return None if a is None or b is None else b - a

    keys = list(result_a.dimensions) + [key for key in result_b.dimensions if key not in result_a.dimensions]
    changes = {}
    for key in keys:
        a = result_a.dimensions.get(key)
        b = result_b.dimensions.get(key)
        changes[key] = change(a.score if a else None, b.score if b else None)
    changes["overall"] = change(result_a.overall, result_b.overall)
    return changes


def _format_number(value: Decimal, language: str, *, fixed: bool) -> str:
    """One decimal (``fixed``) or as few as needed; a decimal comma in Swedish."""
    text = f"{_round1(value):.1f}" if fixed else _canonical(value)
    return text.replace(".", ",") if language == "sv" else text


def derive_needs(
    instrument: Instrument,
    result: ScoreResult,
    *,
    threshold_override: Decimal | int | float | Mapping[str, Decimal | int | float] | None = None,
) -> list[Need]:
    """Needs for the dimensions scored *below* their need threshold (``score < threshold``).

    Only dimensions with a ``need`` template and a score take part.  ``threshold_override`` replaces
    the template thresholds: one number for all dimensions, or ``{dimension_id: threshold}`` for
    some.  Priority 1 is the most urgent: the lowest score; ties go to the dimension with the
    larger weight, then to the one listed first in the instrument.
    """
    overrides: dict[str, Decimal] = {}
    common: Decimal | None = None
    if isinstance(threshold_override, Mapping):
        for key, value in threshold_override.items():
            instrument.dimension(key)  # KeyError for an unknown dimension
            overrides[key] = _threshold(value)
    elif threshold_override is not None:
        common = _threshold(threshold_override)

    candidates = []
    for position, dimension in enumerate(instrument.dimensions):
        template = dimension.need
        scored = result.dimensions.get(dimension.id)
        if template is None or scored is None or scored.score is None:
            continue
        threshold = overrides.get(dimension.id, common if common is not None else template.threshold)
        if scored.score < threshold:
            candidates.append((scored.score, -dimension.weight, position, dimension, threshold))
    candidates.sort(key=lambda item: item[:3])

    needs = []
    for priority, (value, _weight, _position, dimension, threshold) in enumerate(candidates, start=1):
        template = dimension.need
        assert template is not None
        rationale = {
            language: getattr(template.rationale, language).format(
                score=_format_number(value, language, fixed=True),
                threshold=_format_number(threshold, language, fixed=False),
            )
            for language in ("sv", "en")
        }
        needs.append(
            Need(
                dimension=dimension.id,
                focus_area=dimension.focus_area,
                priority=priority,
                score=value,
                threshold=threshold,
                title=template.title,
                rationale=Translated(**rationale),
            )
        )
    return needs


def _threshold(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("a need threshold must be a number from 0 to 100")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or not 0 <= number <= 100:
        raise ValueError("a need threshold must be a number from 0 to 100")
    return number


# --------------------------------------------------------------------------------------------
# JSON in and out
# --------------------------------------------------------------------------------------------


def _json_score(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def score_to_json(result: ScoreResult) -> dict[str, Any]:
    """The result as JSON-ready data; scores are numbers with one decimal (or ``null``)."""
    return {
        "instrument": result.instrument,
        "version": result.version,
        "dimensions": {
            key: {
                "score": _json_score(dimension.score),
                "band": dimension.band,
                "answered": dimension.answered,
                "scored_questions": dimension.scored_questions,
            }
            for key, dimension in result.dimensions.items()
        },
        "overall": _json_score(result.overall),
        "band": result.band,
        "missing_required": list(result.missing_required),
    }


def _score_from_json(value: Any, path: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{path} must be a number or null")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or not 0 <= number <= 100:
        raise ValueError(f"{path} must be from 0 to 100")
    return _round1(number)


def score_from_json(data: Mapping[str, Any]) -> ScoreResult:
    """Rebuild a :class:`ScoreResult` from :func:`score_to_json` output (e.g. stored in a JSON field)."""
    try:
        dimensions = {
            str(key): DimensionScore(
                score=_score_from_json(item.get("score"), f"dimensions.{key}.score"),
                band=item.get("band"),
                answered=int(item.get("answered", 0)),
                scored_questions=int(item.get("scored_questions", 0)),
            )
            for key, item in data["dimensions"].items()
        }
        return ScoreResult(
            dimensions=dimensions,
            overall=_score_from_json(data.get("overall"), "overall"),
            band=data.get("band"),
            missing_required=list(data.get("missing_required", [])),
            instrument=data.get("instrument"),
            version=data.get("version"),
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a score result: {exc}") from None


def score_request_from_json(data: Any) -> ScoreRequest:
    """Parse ``{"instrument": id, "version": n, "answers": {question_id: value}}``.

    ``version`` may be left out (the latest version is meant).  Unknown fields are rejected so that
    a misspelt key cannot be silently ignored.  Raises :class:`AnswerError` listing every problem.
    """
    if not isinstance(data, Mapping):
        raise AnswerError(_("The input must be a JSON object with instrument, version and answers."))
    problems: list[str] = []
    unknown = sorted(str(key) for key in data if key not in ("instrument", "version", "answers"))
    if unknown:
        problems.append(
            _("Unknown field(s) %(fields)s; expected instrument, version and answers.")
            % {"fields": ", ".join(unknown)}
        )
    instrument = data.get("instrument")
    if not isinstance(instrument, str) or not instrument.strip():
        problems.append(_("instrument must be the id of an instrument (text)."))
    version = data.get("version")
    if version is not None:
        if isinstance(version, Decimal) and version == version.to_integral_value():
            version = int(version)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            problems.append(_("version must be a whole number of at least 1."))
            version = None
    if "answers" not in data:
        problems.append(_("answers is missing (an object mapping question ids to values)."))
    answers = data.get("answers", {})
    if not isinstance(answers, Mapping):
        problems.append(_("answers must be an object mapping question ids to values."))
    if problems:
        raise AnswerError("\n".join(problems))
    return ScoreRequest(instrument=instrument.strip(), version=version, answers=dict(answers))
