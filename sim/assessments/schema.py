"""The schema of an instrument file (a growth interview or a maturity assessment).

An instrument is data: a YAML file under ``sim/assessments/instruments/<id>/v<N>.yaml`` that is
validated by the pydantic models below when it is loaded (see :mod:`sim.assessments.instrument_files`
for loading and ``docs/instruments.md`` for the file format with examples).

All models are immutable (``frozen``) and reject unknown fields, so that a misspelt key
(``requird: true``) is an error instead of a silently ignored line.  Every human-readable text is a
:class:`Translated` with a non-empty Swedish (``sv``) and English (``en``) version.

Validation happens in three layers, each reporting every problem it finds:

1. field types and ranges (pydantic's own checks, e.g. a weight that is not a positive number);
2. per question: the fields allowed and required for its ``type`` (``levels`` for a scale,
   ``options`` for a choice, value bands for a scored number, ...);
3. across the instrument: unique ids, bands covering 0–100 without gaps or overlaps, scoring that
   names an existing dimension, conditions that reference an *earlier* question with values that
   question can take, and every dimension having at least one scored question.

Nothing here touches the database or needs Django settings.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

__all__ = [
    "ANSWER_TYPES",
    "NUMERIC_TYPES",
    "SCORABLE_TYPES",
    "Band",
    "Condition",
    "Dimension",
    "Instrument",
    "InstrumentProblems",
    "NeedTemplate",
    "Option",
    "Question",
    "Scoring",
    "Section",
    "Translated",
    "ValueBand",
]

#: The question types, in the order the documentation lists them.
ANSWER_TYPES: tuple[str, ...] = (
    "scale",
    "single_choice",
    "multiple_choice",
    "number",
    "money",
    "percentage",
    "date",
    "text",
)
#: Types whose answer is a number (normalised to a decimal string, see ``rules.validate_answer``).
NUMERIC_TYPES: frozenset[str] = frozenset({"number", "money", "percentage"})
#: Types that may carry ``scoring``.
SCORABLE_TYPES: frozenset[str] = frozenset({"scale", "single_choice", "multiple_choice", *NUMERIC_TYPES})
#: A scale has exactly these levels; level ``n`` scores ``n / 5 × 100``.
SCALE_LEVELS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
#: Default and largest ``max_length`` of a text question.
DEFAULT_TEXT_MAX_LENGTH = 2000
TEXT_MAX_LENGTH_LIMIT = 20000
#: A dimension id that would clash with the ``overall`` key of ``rules.compare``.
RESERVED_DIMENSION_IDS = frozenset({"overall"})
#: Placeholders allowed in a need template's rationale.
RATIONALE_PLACEHOLDERS = frozenset({"score", "threshold"})

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
INSTRUMENT_ID_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
HOOK_PATTERN = r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$"

Id = Annotated[StrictStr, Field(pattern=ID_PATTERN, max_length=64)]
Score = Annotated[Decimal, Field(ge=0, le=100)]
Weight = Annotated[Decimal, Field(gt=0, le=1000)]


class InstrumentProblems(ValueError):
    """Raised inside a model validator with every (path, message) problem found.

    ``instrument_files`` unpacks it into :class:`~sim.assessments.instrument_files.InstrumentError`
    so that each problem is reported on its own line with its own path.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _fmt(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``Decimal("50.0")`` → ``"50"``)."""
    value = value.normalize()
    if value == 0:
        return "0"
    return format(value, "f")


# --------------------------------------------------------------------------------------------
# Small building blocks
# --------------------------------------------------------------------------------------------


class Translated(_Model):
    """A text in Swedish and English; both must be present and non-empty (whitespace is trimmed)."""

    sv: StrictStr
    en: StrictStr

    @field_validator("sv", "en")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    def get(self, language: str | None) -> str:
        """The text for a language code (``sv``, ``sv-se``, ``en-gb``, ...); Swedish by default."""
        if language and language.lower().startswith("en"):
            return self.en
        return self.sv

    def __str__(self) -> str:
        return self.sv


class Option(_Model):
    """An answer option of a single- or multiple-choice question.

    ``score`` (0–100) is used when the question is scored.  In a scored single-choice question an
    option *without* a score ("don't know", "not applicable") counts as answered but is left out
    of the score.  ``exclusive`` (multiple choice only) marks an option such as "none of these"
    that cannot be combined with other options.
    """

    id: Id
    label: Translated
    score: Score | None = None
    exclusive: StrictBool = False


class ValueBand(_Model):
    """Maps a numeric answer to a score: ``min <= value < max`` scores ``score``.

    ``min`` may be omitted in the first band (no lower limit) and ``max`` in the last (no upper
    limit).  The last band's ``max`` is *inclusive*, so ``{min: 75, max: 100}`` includes 100.
    """

    min: Decimal | None = None
    max: Decimal | None = None
    score: Score


class Scoring(_Model):
    """How a question contributes to a dimension score.

    ``bands`` maps the value of a number, money or percentage question to a score (required for
    number and money; a percentage without bands scores its own value, 40 % → 40).
    """

    dimension: Id
    weight: Weight = Decimal(1)
    bands: list[ValueBand] | None = None


class Condition(_Model):
    """``show_if``: the question is shown only when an earlier question's answer matches.

    Exactly one kind of test: ``equals`` (one value), ``in`` (any of several values), or ``gte``
    and/or ``lte`` (numeric range, inclusive; for scale and numeric questions).  For a
    multiple-choice question ``equals: x`` means "x is among the chosen options" and ``in`` means
    "any of them is".  A question whose referenced question is hidden or unanswered is hidden.
    """

    question: Id
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in", min_length=1)
    gte: Decimal | None = None
    lte: Decimal | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        has_equals = self.equals is not None
        kinds = [
            name
            for name, present in (
                ("equals", has_equals),
                ("in", self.in_ is not None),
                ("gte/lte", self.gte is not None or self.lte is not None),
            )
            if present
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a condition needs exactly one of equals, in, or gte/lte"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if self.gte is not None and self.lte is not None and self.gte > self.lte:
            raise ValueError(f"gte ({_fmt(self.gte)}) is greater than lte ({_fmt(self.lte)})")
        return self

    @property
    def values(self) -> list[Any] | None:
        """The values of ``equals`` / ``in`` as a list (``None`` for a numeric range)."""
        if self.in_ is not None:
            return list(self.in_)
        if self.equals is not None:
            return [self.equals]
        return None


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------

# Fields that only some types may set: field → types allowing it.
_TYPE_FIELDS: dict[str, frozenset[str]] = {
    "levels": frozenset({"scale"}),
    "options": frozenset({"single_choice", "multiple_choice"}),
    "min": frozenset({"number", "money"}),
    "max": frozenset({"number", "money"}),
    "unit": frozenset({"number"}),
    "integer": frozenset({"number"}),
    "max_length": frozenset({"text"}),
}


class Question(_Model):
    """One question.  ``type`` decides which other fields apply (see ``docs/instruments.md``)."""

    id: Id
    type: Literal[
        "scale", "single_choice", "multiple_choice", "number", "money", "percentage", "date", "text"
    ]
    text: Translated
    help: Translated | None = None
    required: StrictBool = False
    levels: dict[int, Translated] | None = None  # lax keys: JSON (and a JSON dump) has "0".."5"
    options: list[Option] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    unit: Translated | None = None
    integer: StrictBool = False
    max_length: StrictInt | None = Field(default=None, ge=1, le=TEXT_MAX_LENGTH_LIMIT)
    show_if: Condition | None = None
    scoring: Scoring | None = None
    hooks: list[Annotated[StrictStr, Field(pattern=HOOK_PATTERN, max_length=100)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _fits_type(self) -> Question:
        problems = list(self.type_problems())
        if problems:
            raise InstrumentProblems(problems)
        return self

    def type_problems(self) -> Iterator[tuple[str, str]]:
        """(field, message) for every field that does not fit the question's type."""
        kind = self.type
        for name, allowed in _TYPE_FIELDS.items():
            value = getattr(self, name)
            # A field left at its default (None, or False for ``integer``) is fine for any type,
            # so that a full ``model_dump()`` validates again.
            if value is not None and value is not False and kind not in allowed:
                yield (
                    name,
                    f"{name} is not allowed in a {kind} question (only in {', '.join(sorted(allowed))})",
                )

        if kind == "scale":
            if self.levels is None:
                yield "levels", "a scale question needs levels 0 to 5, each with a label in sv and en"
            elif sorted(self.levels) != list(SCALE_LEVELS):
                missing = sorted(set(SCALE_LEVELS) - set(self.levels))
                extra = sorted(set(self.levels) - set(SCALE_LEVELS))
                details = []
                if missing:
                    details.append("missing " + ", ".join(map(str, missing)))
                if extra:
                    details.append("unexpected " + ", ".join(map(str, extra)))
                yield "levels", f"a scale needs exactly the levels 0 to 5 ({'; '.join(details)})"

        if kind in ("single_choice", "multiple_choice"):
            yield from self._option_problems()

        if self.min is not None and self.max is not None and self.min > self.max:
            yield "min", f"min ({_fmt(self.min)}) is greater than max ({_fmt(self.max)})"

        if len(set(self.hooks)) != len(self.hooks):
            yield "hooks", "a hook is listed twice"

        if self.scoring is not None:
            yield from self._scoring_problems()

    def _option_problems(self) -> Iterator[tuple[str, str]]:
        options = self.options
        if not options or len(options) < 2:
            yield "options", f"a {self.type} question needs at least two options"
            return
        seen: set[str] = set()
        for option in options:
            if option.id in seen:
                yield "options", f"option id {option.id!r} is used twice"
            seen.add(option.id)
            if option.exclusive and self.type != "multiple_choice":
                yield "options", f"option {option.id!r}: exclusive only applies to multiple_choice questions"
        scored = [option for option in options if option.score is not None]
        if self.scoring is None and scored:
            yield (
                "options",
                "options have scores but the question has no scoring: add scoring.dimension or remove "
                "the scores",
            )
        if self.scoring is not None:
            if not scored:
                yield "options", "the question is scored but none of its options has a score"
            elif self.type == "multiple_choice" and len(scored) != len(options):
                unscored = ", ".join(option.id for option in options if option.score is None)
                yield (
                    "options",
                    f"in a scored multiple_choice question every option needs a score ({unscored})",
                )

    def _scoring_problems(self) -> Iterator[tuple[str, str]]:
        scoring = self.scoring
        assert scoring is not None
        if self.type not in SCORABLE_TYPES:
            yield "scoring", f"a {self.type} question cannot be scored"
            return
        if scoring.bands is not None and self.type not in NUMERIC_TYPES:
            yield "scoring.bands", f"value bands only apply to number, money and percentage, not {self.type}"
            return
        if self.type in ("number", "money") and not scoring.bands:
            yield "scoring.bands", f"a scored {self.type} question needs value bands mapping values to scores"
            return
        if scoring.bands is not None:
            yield from self._value_band_problems(scoring.bands)

    def _value_band_problems(self, bands: list[ValueBand]) -> Iterator[tuple[str, str]]:
        if not bands:
            yield "scoring.bands", "value bands must not be empty"
            return
        last = len(bands) - 1
        for i, band in enumerate(bands):
            where = f"scoring.bands[{i}]"
            if band.min is None and i != 0:
                yield where, "only the first band may leave out min"
            if band.max is None and i != last:
                yield where, "only the last band may leave out max"
            if band.min is not None and band.max is not None and band.min >= band.max:
                yield where, f"min ({_fmt(band.min)}) must be less than max ({_fmt(band.max)})"
            if i < last:
                following = bands[i + 1]
                if band.max is not None and following.min is not None and band.max != following.min:
                    kind = "a gap" if band.max < following.min else "an overlap"
                    yield (
                        where,
                        f"{kind} between bands: this band ends at {_fmt(band.max)} but the next starts at "
                        f"{_fmt(following.min)} (each band must start where the previous one ends)",
                    )
        low, high = self.value_range()
        first, final = bands[0], bands[last]
        if first.min is not None and (low is None or low < first.min):
            below = f"below {_fmt(first.min)}"
            yield (
                "scoring.bands",
                f"the bands do not cover values {below}: give the question a min of at least "
                f"{_fmt(first.min)} or leave out the first band's min",
            )
        if final.max is not None and (high is None or high > final.max):
            yield (
                "scoring.bands",
                f"the bands do not cover values above {_fmt(final.max)}: give the question a max of at most "
                f"{_fmt(final.max)} or leave out the last band's max",
            )

    def value_range(self) -> tuple[Decimal | None, Decimal | None]:
        """The (min, max) an answer may take (``None`` = unbounded); percentage is 0–100."""
        if self.type == "percentage":
            return Decimal(0), Decimal(100)
        return self.min, self.max

    @property
    def text_max_length(self) -> int:
        return self.max_length if self.max_length is not None else DEFAULT_TEXT_MAX_LENGTH

    def option(self, option_id: str) -> Option | None:
        for option in self.options or ():
            if option.id == option_id:
                return option
        return None


class Section(_Model):
    """A group of questions shown together (a page or a fieldset in the UI)."""

    id: Id
    title: Translated
    help: Translated | None = None
    questions: list[Question] = Field(min_length=1)


# --------------------------------------------------------------------------------------------
# Dimensions, bands, instrument
# --------------------------------------------------------------------------------------------


class NeedTemplate(_Model):
    """A need derived when a dimension scores *below* ``threshold``.

    ``rationale`` may use the placeholders ``{score}`` and ``{threshold}`` (formatted with one
    decimal, a decimal comma in Swedish).
    """

    threshold: Score = Decimal(50)
    title: Translated
    rationale: Translated

    @field_validator("rationale")
    @classmethod
    def _placeholders(cls, value: Translated) -> Translated:
        for language in ("sv", "en"):
            text = getattr(value, language)
            try:
                fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise ValueError(f"{language}: {exc} (write {{{{ and }}}} for literal braces)") from None
            unknown = fields - RATIONALE_PLACEHOLDERS
            if unknown:
                raise ValueError(
                    f"{language}: unknown placeholder(s) {', '.join('{' + f + '}' for f in sorted(unknown))}; "
                    "only {score} and {threshold} are available"
                )
        return value


class Dimension(_Model):
    """What is scored 0–100: a focus area of the programme or a maturity dimension."""

    id: Id
    title: Translated
    description: Translated
    focus_area: Annotated[StrictStr, Field(pattern=ID_PATTERN, max_length=64)] | None = None
    weight: Weight = Decimal(1)
    need: NeedTemplate | None = None


class Band(_Model):
    """A label for a score range: ``min <= score < max``, the last band including 100."""

    id: Id
    min: Score
    max: Score
    label: Translated


class Instrument(_Model):
    """A versioned interview or self-assessment.  ``(id, version)`` identifies it for good."""

    id: Annotated[StrictStr, Field(pattern=INSTRUMENT_ID_PATTERN, max_length=64)]
    version: StrictInt = Field(ge=1)
    title: Translated
    description: Translated
    kind: Literal["growth_interview", "maturity"]
    dimensions: list[Dimension] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)
    overall: Literal["mean", "weighted_mean"] = "mean"
    sections: list[Section] = Field(min_length=1)

    _questions: tuple[Question, ...] = PrivateAttr(default=())
    _by_id: dict[str, Question] = PrivateAttr(default_factory=dict)
    _section_of: dict[str, str] = PrivateAttr(default_factory=dict)
    _dimensions: dict[str, Dimension] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        problems = list(self._consistency_problems())
        if problems:
            raise InstrumentProblems(problems)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._questions = tuple(q for section in self.sections for q in section.questions)
        self._by_id = {q.id: q for q in self._questions}
        self._section_of = {q.id: section.id for section in self.sections for q in section.questions}
        self._dimensions = {d.id: d for d in self.dimensions}

    # ---- lookups -----------------------------------------------------------------------------

    @property
    def key(self) -> tuple[str, int]:
        """``(id, version)``: what a completed assessment points at."""
        return (self.id, self.version)

    @property
    def questions(self) -> tuple[Question, ...]:
        """All questions in order (section by section)."""
        return self._questions

    def question(self, question_id: str) -> Question:
        """The question with this id (``KeyError`` if there is none)."""
        return self._by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def section_of(self, question_id: str) -> str:
        """The id of the section holding a question."""
        return self._section_of[question_id]

    def dimension(self, dimension_id: str) -> Dimension:
        return self._dimensions[dimension_id]

    def band(self, band_id: str) -> Band:
        for band in self.bands:
            if band.id == band_id:
                return band
        raise KeyError(band_id)

    def band_for(self, score: Decimal | None) -> Band | None:
        """The band a score (0–100) falls in: ``min <= score < max``, 100 in the last band."""
        if score is None:
            return None
        for band in self.bands:
            if band.min <= score < band.max:
                return band
        last = self.bands[-1]
        return last if score == last.max else None

    def scored_questions(self, dimension_id: str | None = None) -> list[Question]:
        """Questions with scoring (for one dimension, or all)."""
        return [
            q
            for q in self._questions
            if q.scoring is not None and (dimension_id is None or q.scoring.dimension == dimension_id)
        ]

    # ---- cross-field validation --------------------------------------------------------------

    def _consistency_problems(self) -> Iterator[tuple[str, str]]:
        dimension_ids: set[str] = set()
        for i, dimension in enumerate(self.dimensions):
            where = f"dimensions[{i}]({dimension.id})"
            if dimension.id in dimension_ids:
                yield where, f"dimension id {dimension.id!r} is used twice"
            if dimension.id in RESERVED_DIMENSION_IDS:
                yield where, f"{dimension.id!r} is reserved and cannot be a dimension id"
            dimension_ids.add(dimension.id)

        yield from self._band_problems()

        section_ids: set[str] = set()
        question_at: dict[str, tuple[int, str]] = {}  # id → (position, path)
        position = 0
        for s, section in enumerate(self.sections):
            section_path = f"sections[{s}]({section.id})"
            if section.id in section_ids:
                yield section_path, f"section id {section.id!r} is used twice"
            section_ids.add(section.id)
            for q, question in enumerate(section.questions):
                path = f"{section_path}.questions[{q}]({question.id})"
                if question.id in question_at:
                    yield (
                        path,
                        f"question id {question.id!r} is used twice (first at {question_at[question.id][1]}); "
                        "question ids must be unique across the instrument",
                    )
                else:
                    question_at[question.id] = (position, path)
                if question.scoring is not None and question.scoring.dimension not in dimension_ids:
                    yield (
                        f"{path}.scoring.dimension",
                        f"unknown dimension {question.scoring.dimension!r}; the dimensions are "
                        f"{', '.join(d.id for d in self.dimensions)}",
                    )
                if question.show_if is not None:
                    yield from self._condition_problems(question, position, path, question_at)
                position += 1

        scored = {q.scoring.dimension for s in self.sections for q in s.questions if q.scoring is not None}
        for i, dimension in enumerate(self.dimensions):
            if dimension.id not in scored:
                yield (
                    f"dimensions[{i}]({dimension.id})",
                    "no question is scored in this dimension (add scoring.dimension to at least one question)",
                )

    def _band_problems(self) -> Iterator[tuple[str, str]]:
        ids: set[str] = set()
        for i, band in enumerate(self.bands):
            if band.id in ids:
                yield f"bands[{i}]({band.id})", f"band id {band.id!r} is used twice"
            ids.add(band.id)
            if band.min >= band.max:
                yield (
                    f"bands[{i}]({band.id})",
                    f"min ({_fmt(band.min)}) must be less than max ({_fmt(band.max)})",
                )
        ordered = sorted(self.bands, key=lambda band: (band.min, band.max))
        if [band.id for band in ordered] != [band.id for band in self.bands]:
            yield "bands", "list the bands from the lowest to the highest score"
        if ordered[0].min != 0:
            yield "bands", f"the bands must start at 0 (the lowest starts at {_fmt(ordered[0].min)})"
        if ordered[-1].max != 100:
            yield "bands", f"the bands must end at 100 (the highest ends at {_fmt(ordered[-1].max)})"
        for lower, upper in zip(ordered, ordered[1:], strict=False):
            if lower.max < upper.min:
                yield (
                    "bands",
                    f"gap between bands {lower.id!r} (ends at {_fmt(lower.max)}) and {upper.id!r} "
                    f"(starts at {_fmt(upper.min)})",
                )
            elif lower.max > upper.min:
                yield (
                    "bands",
                    f"bands {lower.id!r} ({_fmt(lower.min)}–{_fmt(lower.max)}) and {upper.id!r} "
                    f"({_fmt(upper.min)}–{_fmt(upper.max)}) overlap; each band must start where the "
                    "previous one ends",
                )

    def _condition_problems(
        self, question: Question, position: int, path: str, earlier: dict[str, tuple[int, str]]
    ) -> Iterator[tuple[str, str]]:
        condition = question.show_if
        assert condition is not None
        where = f"{path}.show_if"
        ref_id = condition.question
        if ref_id == question.id:
            yield where, "a question cannot depend on itself"
            return
        if ref_id not in earlier or earlier[ref_id][0] >= position:
            later = any(q.id == ref_id for s in self.sections for q in s.questions)
            if later:
                yield (
                    where,
                    f"refers to {ref_id!r}, which comes later; a condition may only use earlier questions",
                )
            else:
                yield where, f"refers to unknown question {ref_id!r}"
            return
        ref = next(q for s in self.sections for q in s.questions if q.id == ref_id)
        if condition.gte is not None or condition.lte is not None:
            if ref.type not in NUMERIC_TYPES and ref.type != "scale":
                yield where, f"gte/lte need a scale or numeric question, but {ref_id!r} is {ref.type}"
            return
        # Imported here: the rules module imports this one.
        from sim.assessments.rules import AnswerError, validate_condition_value

        for value in condition.values or ():
            try:
                validate_condition_value(ref, value)
            except AnswerError as exc:
                yield where, f"{value!r} is not a possible answer to {ref_id!r}: {exc}"
