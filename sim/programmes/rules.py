"""Pure rules of the offer catalogue: eligibility of a company for an offer, and fit.

Nothing here touches the database or Django models, and nothing needs configured settings:
translatable messages go through Django's translation machinery only once the app registry is
ready and are returned untranslated before that (plain unit tests, scripts, benchmarks).

Inputs are two dataclasses that ``sim.programmes.recommendations`` builds in bulk:

* :class:`CompanyProfile`: size class, SNI code, county and municipality, target-group
  membership, the scores of the latest completed assessment of each instrument, the open needs,
  the de minimis headroom (``None`` when unknown);
* :class:`OfferProfile`: focus areas, form of support, the eligibility rules (parsed from the
  offer's JSON, see :func:`parse_eligibility` and ``docs/domain-rules.md``), seats left and the
  dates the offer is available.

Eligibility (:func:`evaluate`) checks every rule of the offer and gives one :class:`Check` per
rule: passed, failed, or *unknown* when the company's data cannot answer it (no SNI code, no
completed assessment of the instrument a score rule names, de minimis headroom not known). An
unknown counts as **not eligible**: an advisor should rather check by hand than refer a company
that turns out not to qualify; the reason says what is missing. :func:`is_eligible` is the same
decision without the messages, for ranking thousands of pairs.

Fit (:func:`fit_score`, :func:`fit_breakdown`) is a number from 0 to 100, the sum of four parts
whose weights are the module constants below (worked examples in ``docs/domain-rules.md``):

* open needs in one of the offer's focus areas, by priority
  (:data:`NEED_POINTS_BY_PRIORITY`, :data:`NEED_POINTS_OTHER`), at most :data:`NEED_POINTS_CAP`;
* :data:`FOCUS_AREA_POINTS` for each distinct focus area of the offer the company has an open need
  in, at most :data:`FOCUS_AREA_POINTS_CAP`;
* a low score in a dimension of the offer's focus areas: :data:`LOW_SCORE_POINTS` × (100 − the
  lowest such score) / 100;
* :data:`SCORE_RANGE_POINTS` when the offer has score rules and the company's scores are all
  within them (an offer aimed at exactly this maturity).

Every part only grows with more open needs, so adding a need never lowers a fit. Offers are
ranked eligible first (by fit, highest first), then the ineligible ones, never mixed
(:func:`rank_offers`, :func:`rank_companies`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.apps import apps
from django.utils.functional import lazy
from django.utils.translation import gettext as _django_gettext
from django.utils.translation import gettext_noop

__all__ = [
    "FAIL",
    "PASS",
    "UNKNOWN",
    "Check",
    "CompanyProfile",
    "EligibilityError",
    "EligibilityResult",
    "EligibilityRules",
    "FitBreakdown",
    "Labels",
    "NeedItem",
    "OfferProfile",
    "RankedOffer",
    "ScoreRule",
    "SniRange",
    "describe_eligibility",
    "display_fit",
    "eligibility_to_json",
    "eligible_except_headroom",
    "evaluate",
    "explain",
    "fit_breakdown",
    "fit_score",
    "format_sni",
    "format_sni_ranges",
    "headroom_candidates",
    "headroom_ok",
    "is_eligible",
    "parse_eligibility",
    "parse_sni_ranges",
    "rank_companies",
    "rank_matrix",
    "rank_offers",
]


# --------------------------------------------------------------------------------------------
# Translation helpers (as in sim.companies.rules)
# --------------------------------------------------------------------------------------------


def gettext(message: str) -> str:
    """Django's ``gettext`` once the app registry is ready; the message unchanged before that."""
    if apps.ready:
        return _django_gettext(message)
    return message


gettext_lazy = lazy(gettext, str)
_ = gettext_lazy


# --------------------------------------------------------------------------------------------
# Weights of the fit score (documented in docs/domain-rules.md)
# --------------------------------------------------------------------------------------------

#: Points for one open need in a focus area of the offer, by the need's priority (1 = most urgent).
NEED_POINTS_BY_PRIORITY: Mapping[int, int] = {1: 30, 2: 20, 3: 12}
#: Points for an open need of priority 4 or lower.
NEED_POINTS_OTHER = 6
#: The needs part is capped, so that many small needs do not outweigh everything else.
NEED_POINTS_CAP = 50
#: Points for each distinct focus area of the offer in which the company has an open need.
FOCUS_AREA_POINTS = 10
FOCUS_AREA_POINTS_CAP = 20
#: Points for the lowest score in a dimension of the offer's focus areas: × (100 − score) / 100.
LOW_SCORE_POINTS = 20
#: Points when the offer has score rules and the company's scores are within all of them.
SCORE_RANGE_POINTS = 10
#: The highest fit possible (the sum of the caps).
FIT_MAX = NEED_POINTS_CAP + FOCUS_AREA_POINTS_CAP + LOW_SCORE_POINTS + SCORE_RANGE_POINTS

#: How many matched needs an explanation names (the most urgent first).
EXPLAIN_NEEDS = 3

SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_LABELS: Mapping[str, Any] = {
    "micro": _("micro"),
    "small": _("small"),
    "medium": _("medium-sized"),
    "large": _("large"),
}
SUPPORT_FORMS = ("grant", "financial", "non_financial")

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"

#: The rules in the order they are checked and reported.
RULES = ("size_class", "sni", "location", "target_group", "score", "deminimis", "capacity", "dates", "rules")


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NeedItem:
    """An open need of the company (from the latest growth interview or added by the advisor)."""

    focus_area_key: str | None
    priority: int
    title: str


@dataclass(frozen=True, slots=True, eq=False)
class CompanyProfile:
    """What the rules know about a company.

    ``scores`` maps ``(instrument key, dimension id)`` to the score (0–100, ``None`` for a
    dimension without answers) of the latest completed assessment of that instrument;
    ``focus_area_scores`` the lowest of those scores per focus area (for dimensions that belong to
    a focus area). ``sni`` is the primary code without dots. ``deminimis_headroom_sek`` is ``None``
    when unknown.
    """

    id: int
    name: str
    org_number: str = ""
    size_class: str = ""
    sni: str = ""
    county: str = ""
    municipality: str = ""
    in_target_group: bool = False
    scores: Mapping[tuple[str, str], float | None] = field(default_factory=dict)
    needs: tuple[NeedItem, ...] = ()
    deminimis_headroom_sek: Decimal | None = None
    focus_area_scores: Mapping[str, float] = field(default_factory=dict)
    assessed_instruments: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        from_scores = frozenset(instrument for instrument, _dimension in self.scores)
        if not from_scores <= self.assessed_instruments:
            object.__setattr__(self, "assessed_instruments", self.assessed_instruments | from_scores)


@dataclass(frozen=True, slots=True)
class SniRange:
    """SNI codes from ``low`` to ``high`` (digits without dots), compared at each bound's length.

    ``10``–``33`` takes every code of divisions 10 to 33; ``71.12`` (low = high = ``7112``) every
    code that starts with 7112; ``25.6``–``28`` the codes from group 25.6 up to division 28.
    """

    low: str
    high: str

    def matches(self, code: str) -> bool:
        return code[: len(self.low)] >= self.low and code[: len(self.high)] <= self.high

    @property
    def text(self) -> str:
        """For people: ``10–33``, ``71.12``."""
        if self.low == self.high:
            return format_sni(self.low)
        return f"{format_sni(self.low)}–{format_sni(self.high)}"

    @property
    def json(self) -> str:
        """As stored: ``10-33``, ``71.12``."""
        if self.low == self.high:
            return format_sni(self.low)
        return f"{format_sni(self.low)}-{format_sni(self.high)}"


@dataclass(frozen=True, slots=True)
class ScoreRule:
    """The company's score in ``dimension`` of ``instrument`` must be within ``min``–``max`` (inclusive)."""

    instrument: str
    dimension: str
    min: float | None = None
    max: float | None = None

    def within(self, score: float) -> bool:
        return (self.min is None or score >= self.min) and (self.max is None or score <= self.max)


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    """The eligibility rules of an offer. An empty field means no restriction."""

    size_classes: frozenset[str] = frozenset()
    sni: tuple[SniRange, ...] = ()
    counties: frozenset[str] = frozenset()
    municipalities: frozenset[str] = frozenset()
    scores: tuple[ScoreRule, ...] = ()
    deminimis_headroom_sek: Decimal | None = None
    target_group: bool = False

    @property
    def is_open(self) -> bool:
        """No rule at all: every company qualifies."""
        return not (
            self.size_classes or self.sni or self.counties or self.municipalities or self.scores
            or self.deminimis_headroom_sek is not None or self.target_group
        )


@dataclass(slots=True, eq=False)
class OfferProfile:
    """What the rules know about an offer. ``capacity_left`` is ``None`` when seats are unlimited.

    Not frozen only because building hundreds per request is then twice as fast; treat it as
    read-only.

    ``rules_error`` is set when the stored eligibility JSON could not be read (it is validated on
    every save, so only a hand edit in the database gets here): the offer is then not eligible for
    anyone, with that reason, rather than open to everyone.
    """

    id: int
    title: str
    focus_area_keys: frozenset[str] = frozenset()
    support_form: str = "non_financial"
    eligibility: EligibilityRules = field(default_factory=EligibilityRules)
    capacity: int | None = None
    capacity_left: int | None = None
    available_from: date | None = None
    available_to: date | None = None
    rules_error: str = ""
    project_id: int | None = None  # not used by the rules; for callers that show the offer


@dataclass(frozen=True)
class Labels:
    """Names for the codes in messages; a code without a name is shown as it is."""

    focus_areas: Mapping[str, str] = field(default_factory=dict)
    instruments: Mapping[str, str] = field(default_factory=dict)
    dimensions: Mapping[tuple[str, str], str] = field(default_factory=dict)
    counties: Mapping[str, str] = field(default_factory=dict)
    municipalities: Mapping[str, str] = field(default_factory=dict)

    def focus_area(self, key: str | None) -> str:
        if not key:
            return str(gettext("no focus area"))
        return self.focus_areas.get(key, key)

    def instrument(self, key: str) -> str:
        return self.instruments.get(key, key)

    def dimension(self, instrument: str, dimension: str) -> str:
        return self.dimensions.get((instrument, dimension), dimension)

    def county(self, code: str) -> str:
        name = self.counties.get(code)
        return f"{name} ({code})" if name else code

    def municipality(self, code: str) -> str:
        name = self.municipalities.get(code)
        return f"{name} ({code})" if name else code


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def format_sni(digits: str) -> str:
    """``25620`` → ``25.620``, ``2562`` → ``25.62``, ``25`` → ``25``."""
    return digits if len(digits) <= 2 else f"{digits[:2]}.{digits[2:]}"


def format_sni_ranges(ranges: Iterable[SniRange]) -> str:
    """For the editor: ``10-33, 62, 71.12``."""
    return ", ".join(r.json for r in ranges)


def _format_score(value: float | Decimal) -> str:
    number = Decimal(str(value)).quantize(Decimal("0.1"))
    return format(number.normalize(), "f") if number == number.to_integral_value() else format(number, "f")


def _format_sek(value: Decimal) -> str:
    """``1234567.5`` → ``1 234 567.50``, ``200000`` → ``200 000`` (non-breaking spaces)."""
    text = format(abs(value).quantize(Decimal("0.01")), "f")
    whole, _sep, cents = text.partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u00a0")
    sign = "-" if value < 0 else ""
    return f"{sign}{grouped}" if cents == "00" else f"{sign}{grouped}.{cents}"


def _score_range(rule: ScoreRule) -> str:
    if rule.min is not None and rule.max is not None:
        return f"{_format_score(rule.min)}–{_format_score(rule.max)}"
    if rule.min is not None:
        return gettext("at least %(min)s") % {"min": _format_score(rule.min)}
    return gettext("at most %(max)s") % {"max": _format_score(rule.max)}


def _lower_first(text: str) -> str:
    """``Digital maturity`` → ``digital maturity`` (but ``SIM growth interview`` stays)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


# --------------------------------------------------------------------------------------------
# Parsing and writing the eligibility JSON
# --------------------------------------------------------------------------------------------


class EligibilityError(ValueError):
    """The eligibility JSON (or an SNI list) is invalid; ``issues`` lists ``(path, message)``."""

    def __init__(self, issues: Sequence[tuple[str, str]]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in self.issues))


ELIGIBILITY_KEYS = ("size_classes", "sni", "counties", "municipalities", "scores", "deminimis_headroom_sek", "target_group")
SCORE_RULE_KEYS = ("instrument", "dimension", "min", "max")
_SNI_CODE = re.compile(r"^(\d{2})(?:\.?(\d{1,3}))?$")
_RANGE_DASH = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2212]\s*")
_COUNTY = re.compile(r"^\d{2}$")
_MUNICIPALITY = re.compile(r"^\d{4}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _sni_digits(token: str) -> str:
    match = _SNI_CODE.match(token.strip())
    if not match:
        raise ValueError(token)
    return match.group(1) + (match.group(2) or "")


def parse_sni_ranges(value: str | Iterable[str], *, path: str = "sni") -> tuple[SniRange, ...]:
    """``"10-33, 62, 71.12"`` (or a list of such items) → ranges. Raises :class:`EligibilityError`.

    An item is an SNI code of 2–5 digits, with or without the dot after the division
    (``25``, ``25.6``, ``25.62``, ``2562``), or two codes joined by a dash (``10-33``, ``25.6–28``)
    whose first is not after the second.
    """
    if isinstance(value, str):
        joined = _RANGE_DASH.sub("-", value.strip())
        items = [item for item in re.split(r"[,;\s]+", joined) if item]
    else:
        items = list(value)
    ranges: list[SniRange] = []
    issues: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]" if not isinstance(value, str) else path
        if not isinstance(item, str) or not item.strip():
            issues.append((item_path, str(gettext("each item must be an SNI code or a range such as 10-33"))))
            continue
        parts = _RANGE_DASH.split(item.strip())
        try:
            if len(parts) == 1:
                low = high = _sni_digits(parts[0])
            elif len(parts) == 2:
                low, high = _sni_digits(parts[0]), _sni_digits(parts[1])
            else:
                raise ValueError(item)
        except ValueError:
            issues.append((item_path, str(gettext("“%(item)s” is not an SNI code or a range such as 10-33")) % {"item": item.strip()}))
            continue
        common = min(len(low), len(high))
        if low[:common] > high[:common]:
            issues.append((item_path, str(gettext("the range “%(item)s” ends before it starts")) % {"item": item.strip()}))
            continue
        candidate = SniRange(low, high)
        if candidate not in ranges:
            ranges.append(candidate)
    if issues:
        raise EligibilityError(issues)
    return tuple(ranges)


def _score_bound(value: Any, path: str, issues: list[tuple[str, str]]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        issues.append((path, str(gettext("must be a number from 0 to 100"))))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        issues.append((path, str(gettext("must be a number from 0 to 100"))))
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        issues.append((path, str(gettext("must be a number from 0 to 100"))))
        return None
    if number != number.quantize(Decimal("0.1")):
        issues.append((path, str(gettext("at most one decimal"))))
        return None
    return float(number)


def _string_list(data: Mapping[str, Any], key: str, pattern: re.Pattern, message: str, issues: list) -> list[str]:
    """``message`` is translated only when an item is wrong (parsing valid rules stays cheap)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        issues.append((key, str(gettext("must be a list"))))
        return []
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not pattern.match(item):
            issues.append((f"{key}[{index}]", str(gettext(message))))
        elif item not in result:
            result.append(item)
    return result


def parse_eligibility(data: Any) -> EligibilityRules:
    """The eligibility JSON of an offer → :class:`EligibilityRules`. Raises :class:`EligibilityError`.

    Format (every key optional; a missing or empty key is no restriction)::

        {"size_classes": ["micro", "small"],
         "sni": ["10-33", "62", "71.12"],
         "counties": ["23"], "municipalities": ["2281"],
         "scores": [{"instrument": "digital-maturity", "dimension": "automation_and_ai", "min": 0, "max": 40}],
         "deminimis_headroom_sek": "200000",
         "target_group": true}

    Unknown keys are errors (a misspelt key is reported rather than silently ignored).
    """
    if data is None:
        return EligibilityRules()
    if not isinstance(data, Mapping):
        raise EligibilityError([("", str(gettext("the eligibility rules must be a JSON object")))])
    issues: list[tuple[str, str]] = []
    for key in data:
        if key not in ELIGIBILITY_KEYS:
            issues.append((str(key), str(gettext("unknown rule (known: %(keys)s)")) % {"keys": _join(ELIGIBILITY_KEYS)}))

    sizes = _string_list(
        data, "size_classes", re.compile(r"^(micro|small|medium|large)$"),
        gettext_noop("must be one of micro, small, medium, large"), issues,
    )

    sni: tuple[SniRange, ...] = ()
    raw_sni = data.get("sni")
    if raw_sni is not None:
        if isinstance(raw_sni, str):
            raw_sni = [raw_sni] if raw_sni.strip() else []
        if not isinstance(raw_sni, list):
            issues.append(("sni", str(gettext("must be a list"))))
        else:
            try:
                sni = parse_sni_ranges(raw_sni)
            except EligibilityError as exc:
                issues.extend(exc.issues)

    counties = _string_list(data, "counties", _COUNTY, gettext_noop("must be a two-digit county code"), issues)
    municipalities = _string_list(
        data, "municipalities", _MUNICIPALITY, gettext_noop("must be a four-digit municipality code"), issues,
    )

    scores: list[ScoreRule] = []
    raw_scores = data.get("scores")
    if raw_scores is not None and not isinstance(raw_scores, list):
        issues.append(("scores", str(gettext("must be a list"))))
        raw_scores = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(raw_scores or []):
        path = f"scores[{index}]"
        if not isinstance(item, Mapping):
            issues.append((path, str(gettext("must be an object with instrument, dimension, min and/or max"))))
            continue
        for key in item:
            if key not in SCORE_RULE_KEYS:
                issues.append((f"{path}.{key}", str(gettext("unknown key (known: %(keys)s)")) % {"keys": _join(SCORE_RULE_KEYS)}))
        instrument, dimension = item.get("instrument"), item.get("dimension")
        if not isinstance(instrument, str) or not _KEY.match(instrument):
            issues.append((f"{path}.instrument", str(gettext("must be an instrument key"))))
            continue
        if not isinstance(dimension, str) or not _KEY.match(dimension):
            issues.append((f"{path}.dimension", str(gettext("must be a dimension id"))))
            continue
        before = len(issues)
        low = _score_bound(item.get("min"), f"{path}.min", issues)
        high = _score_bound(item.get("max"), f"{path}.max", issues)
        if len(issues) > before:
            continue
        if low is None and high is None:
            issues.append((path, str(gettext("give a minimum, a maximum or both"))))
            continue
        if low is not None and high is not None and low > high:
            issues.append((path, str(gettext("the minimum is above the maximum"))))
            continue
        if (instrument, dimension) in seen:
            issues.append((path, str(gettext("only one rule per dimension"))))
            continue
        seen.add((instrument, dimension))
        scores.append(ScoreRule(instrument, dimension, low, high))

    headroom: Decimal | None = None
    raw_headroom = data.get("deminimis_headroom_sek")
    if raw_headroom is not None and raw_headroom != "":
        try:
            if isinstance(raw_headroom, bool) or not isinstance(raw_headroom, int | float | str | Decimal):
                raise InvalidOperation
            headroom = Decimal(str(raw_headroom).strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
            if not headroom.is_finite() or headroom < 0 or headroom != headroom.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            issues.append(("deminimis_headroom_sek", str(gettext("must be an amount in SEK, 0 or more, at most two decimals"))))
            headroom = None
        else:
            if headroom == 0:
                headroom = None  # "at least 0 SEK" is no requirement

    target_group = data.get("target_group", False)
    if target_group is None:
        target_group = False
    if not isinstance(target_group, bool):
        issues.append(("target_group", str(gettext("must be true or false"))))
        target_group = False

    if issues:
        raise EligibilityError(issues)
    return EligibilityRules(
        size_classes=frozenset(sizes), sni=sni, counties=frozenset(counties), municipalities=frozenset(municipalities),
        scores=tuple(scores), deminimis_headroom_sek=headroom, target_group=target_group,
    )


def _json_number(value: float) -> int | float:
    return int(value) if value == int(value) else value


def eligibility_to_json(rules: EligibilityRules) -> dict[str, Any]:
    """The normalised JSON stored on the offer: only the rules that restrict, in a fixed order."""
    data: dict[str, Any] = {}
    if rules.size_classes:
        data["size_classes"] = [size for size in SIZE_CLASSES if size in rules.size_classes]
    if rules.sni:
        data["sni"] = [r.json for r in rules.sni]
    if rules.counties:
        data["counties"] = sorted(rules.counties)
    if rules.municipalities:
        data["municipalities"] = sorted(rules.municipalities)
    if rules.scores:
        items = []
        for rule in rules.scores:
            item: dict[str, Any] = {"instrument": rule.instrument, "dimension": rule.dimension}
            if rule.min is not None:
                item["min"] = _json_number(rule.min)
            if rule.max is not None:
                item["max"] = _json_number(rule.max)
            items.append(item)
        data["scores"] = items
    if rules.deminimis_headroom_sek is not None:
        data["deminimis_headroom_sek"] = format(rules.deminimis_headroom_sek.normalize(), "f")
    if rules.target_group:
        data["target_group"] = True
    return data


def describe_eligibility(rules: EligibilityRules, labels: Labels | None = None) -> list[str]:
    """The rules in words, one line each, for the offer page (empty list: open to every company)."""
    labels = labels or Labels()
    lines: list[str] = []
    if rules.size_classes:
        lines.append(gettext("Size class: %(sizes)s") % {
            "sizes": _join(str(SIZE_LABELS[s]) for s in SIZE_CLASSES if s in rules.size_classes)})
    if rules.sni:
        lines.append(gettext("SNI codes: %(ranges)s") % {"ranges": _join(r.text for r in rules.sni)})
    if rules.counties or rules.municipalities:
        places = [labels.county(c) for c in sorted(rules.counties)] + [labels.municipality(m) for m in sorted(rules.municipalities)]
        lines.append(gettext("Located in: %(places)s") % {"places": _join(places)})
    if rules.target_group:
        lines.append(gettext("Only companies in the target group"))
    for rule in rules.scores:
        lines.append(gettext("%(instrument)s, %(dimension)s: score %(range)s") % {
            "instrument": labels.instrument(rule.instrument),
            "dimension": labels.dimension(rule.instrument, rule.dimension),
            "range": _score_range(rule),
        })
    if rules.deminimis_headroom_sek is not None:
        lines.append(gettext("De minimis headroom of at least %(amount)s SEK") % {
            "amount": _format_sek(rules.deminimis_headroom_sek)})
    return lines


# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one rule for one company: ``pass``, ``fail`` or ``unknown``, with the reason."""

    rule: str
    outcome: str
    message: str


@dataclass(frozen=True)
class EligibilityResult:
    checks: tuple[Check, ...]

    @property
    def eligible(self) -> bool:
        return all(check.outcome == PASS for check in self.checks)

    @property
    def passed(self) -> list[Check]:
        return [check for check in self.checks if check.outcome == PASS]

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.outcome == FAIL]

    @property
    def unknown(self) -> list[Check]:
        return [check for check in self.checks if check.outcome == UNKNOWN]

    @property
    def summary(self) -> str:
        """``eligible because …`` or ``not eligible: …`` (failed rules first, then the unknowns)."""
        if self.eligible:
            if not self.checks:
                return str(gettext("eligible: open to every company"))
            return gettext("eligible because %(reasons)s") % {"reasons": "; ".join(c.message for c in self.checks)}
        reasons = [c.message for c in self.failed] + [c.message for c in self.unknown]
        return gettext("not eligible: %(reasons)s") % {"reasons": "; ".join(reasons)}


def _check_headroom(company: CompanyProfile, required: Decimal) -> Check:
    headroom = company.deminimis_headroom_sek
    if headroom is None:
        return Check("deminimis", UNKNOWN, str(gettext("the de minimis headroom is not known")))
    params = {"headroom": _format_sek(headroom), "required": _format_sek(required)}
    if headroom >= required:
        return Check("deminimis", PASS, gettext("de minimis headroom %(headroom)s SEK covers the required %(required)s SEK") % params)
    return Check("deminimis", FAIL, gettext("de minimis headroom %(headroom)s SEK is less than the required %(required)s SEK") % params)


def evaluate(company: CompanyProfile, offer: OfferProfile, on_date: date, labels: Labels | None = None) -> EligibilityResult:
    """Every rule of the offer for this company, with reasons. Eligible when all pass."""
    labels = labels or Labels()
    rules = offer.eligibility
    checks: list[Check] = []

    if offer.rules_error:
        checks.append(Check("rules", FAIL, gettext("the offer's eligibility rules cannot be read (%(error)s)") % {
            "error": offer.rules_error}))

    if rules.size_classes:
        if not company.size_class:
            checks.append(Check("size_class", UNKNOWN, str(gettext("the company's size class is not known"))))
        else:
            size = str(SIZE_LABELS.get(company.size_class, company.size_class))
            if company.size_class in rules.size_classes:
                checks.append(Check("size_class", PASS, gettext("size class %(size)s is allowed") % {"size": size}))
            else:
                allowed = _join(str(SIZE_LABELS[s]) for s in SIZE_CLASSES if s in rules.size_classes)
                checks.append(Check("size_class", FAIL, gettext("size class %(size)s is not allowed (only %(allowed)s)") % {
                    "size": size, "allowed": allowed}))

    if rules.sni:
        if not company.sni:
            checks.append(Check("sni", UNKNOWN, str(gettext("the company has no SNI code"))))
        else:
            code = format_sni(company.sni)
            matched = next((r for r in rules.sni if r.matches(company.sni)), None)
            if matched is not None:
                checks.append(Check("sni", PASS, gettext("SNI %(code)s is in %(range)s") % {"code": code, "range": matched.text}))
            else:
                checks.append(Check("sni", FAIL, gettext("SNI %(code)s is not in %(ranges)s") % {
                    "code": code, "ranges": _join(r.text for r in rules.sni)}))

    if rules.counties or rules.municipalities:
        if not company.municipality:
            checks.append(Check("location", UNKNOWN, str(gettext("the company's municipality is not known"))))
        elif company.municipality in rules.municipalities:
            checks.append(Check("location", PASS, gettext("the company's municipality %(municipality)s is served") % {
                "municipality": labels.municipality(company.municipality)}))
        elif company.county in rules.counties:
            checks.append(Check("location", PASS, gettext("the company's county %(county)s is served") % {
                "county": labels.county(company.county)}))
        elif not rules.municipalities:
            checks.append(Check("location", FAIL, gettext("the company's county %(county)s is not served") % {
                "county": labels.county(company.county) if company.county else "—"}))
        else:
            checks.append(Check("location", FAIL, gettext("the company's municipality %(municipality)s is not served") % {
                "municipality": labels.municipality(company.municipality)}))

    if rules.target_group:
        if company.in_target_group:
            checks.append(Check("target_group", PASS, str(gettext("the company is in the target group"))))
        else:
            checks.append(Check("target_group", FAIL, str(gettext("the company is not in the target group"))))

    for rule in rules.scores:
        instrument = _lower_first(labels.instrument(rule.instrument))
        dimension = labels.dimension(rule.instrument, rule.dimension)
        if rule.instrument not in company.assessed_instruments:
            checks.append(Check("score", UNKNOWN, gettext("no completed %(instrument)s assessment") % {"instrument": instrument}))
            continue
        score = company.scores.get((rule.instrument, rule.dimension))
        if score is None:
            checks.append(Check("score", UNKNOWN, gettext("%(dimension)s has no score in the latest %(instrument)s assessment") % {
                "dimension": dimension, "instrument": instrument}))
            continue
        params = {"dimension": dimension, "score": _format_score(score), "range": _score_range(rule)}
        if rule.within(score):
            checks.append(Check("score", PASS, gettext("%(dimension)s score %(score)s is within %(range)s") % params))
        else:
            checks.append(Check("score", FAIL, gettext("%(dimension)s score %(score)s is not within %(range)s") % params))

    if rules.deminimis_headroom_sek is not None:
        checks.append(_check_headroom(company, rules.deminimis_headroom_sek))

    # Availability: reported only when it stands in the way (it says nothing about the company).
    if offer.capacity_left is not None and offer.capacity_left <= 0:
        checks.append(Check("capacity", FAIL, gettext("all %(capacity)s seats are taken") % {
            "capacity": offer.capacity if offer.capacity is not None else 0}))
    if offer.available_to is not None and on_date > offer.available_to:
        checks.append(Check("dates", FAIL, gettext("the offer closed on %(date)s") % {"date": offer.available_to.isoformat()}))

    return EligibilityResult(tuple(checks))


def eligible_except_headroom(company: CompanyProfile, offer: OfferProfile, on_date: date) -> bool:
    """:func:`is_eligible` without the de minimis rule (which may need a costly look-up)."""
    if offer.rules_error:
        return False
    rules = offer.eligibility
    if rules.size_classes and company.size_class not in rules.size_classes:
        return False
    if rules.sni:
        sni = company.sni
        if not sni or not any(r.matches(sni) for r in rules.sni):
            return False
    if (rules.counties or rules.municipalities) and not (
        company.municipality and (company.municipality in rules.municipalities or company.county in rules.counties)
    ):
        return False
    if rules.target_group and not company.in_target_group:
        return False
    for rule in rules.scores:
        score = company.scores.get((rule.instrument, rule.dimension))
        if score is None or not rule.within(score):
            return False
    if offer.capacity_left is not None and offer.capacity_left <= 0:
        return False
    return offer.available_to is None or on_date <= offer.available_to


def headroom_ok(company: CompanyProfile, offer: OfferProfile) -> bool:
    required = offer.eligibility.deminimis_headroom_sek
    if required is None:
        return True
    return company.deminimis_headroom_sek is not None and company.deminimis_headroom_sek >= required


def is_eligible(company: CompanyProfile, offer: OfferProfile, on_date: date) -> bool:
    """The decision of :func:`evaluate` without building messages (same result, much faster)."""
    return eligible_except_headroom(company, offer, on_date) and headroom_ok(company, offer)


# --------------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitBreakdown:
    needs_points: int
    focus_area_points: int
    low_score_points: float
    score_range_points: int
    matched_needs: tuple[NeedItem, ...]
    matched_focus_areas: tuple[str, ...]
    lowest_focus_area: tuple[str, float] | None  # (focus area, its lowest score)

    @property
    def total(self) -> float:
        return self.needs_points + self.focus_area_points + self.low_score_points + self.score_range_points


def _need_points(priority: int) -> int:
    return NEED_POINTS_BY_PRIORITY.get(priority, NEED_POINTS_OTHER)


def _within_score_rules(company: CompanyProfile, rules: EligibilityRules) -> bool:
    return bool(rules.scores) and _all_within(company, rules.scores)


def _all_within(company: CompanyProfile, score_rules: tuple[ScoreRule, ...]) -> bool:
    for rule in score_rules:
        score = company.scores.get((rule.instrument, rule.dimension))
        if score is None or not rule.within(score):
            return False
    return True


def fit_breakdown(company: CompanyProfile, offer: OfferProfile) -> FitBreakdown:
    """The fit of an offer for a company, part by part (see the module docstring)."""
    areas = offer.focus_area_keys
    matched = tuple(sorted(
        (need for need in company.needs if need.focus_area_key in areas),
        key=lambda need: (need.priority, need.title),
    ))
    needs_points = min(NEED_POINTS_CAP, sum(_need_points(need.priority) for need in matched))
    matched_areas = tuple(sorted({need.focus_area_key for need in matched}))
    focus_points = min(FOCUS_AREA_POINTS_CAP, FOCUS_AREA_POINTS * len(matched_areas))
    lowest: tuple[str, float] | None = None
    for key in sorted(areas):
        score = company.focus_area_scores.get(key)
        if score is not None and (lowest is None or score < lowest[1]):
            lowest = (key, score)
    low_points = LOW_SCORE_POINTS * (100 - lowest[1]) / 100 if lowest is not None else 0.0
    range_points = SCORE_RANGE_POINTS if _within_score_rules(company, offer.eligibility) else 0
    return FitBreakdown(needs_points, focus_points, low_points, range_points, matched, matched_areas, lowest)


def fit_score(company: CompanyProfile, offer: OfferProfile) -> float:
    """:func:`fit_breakdown` ``.total``, computed without building the breakdown."""
    areas = offer.focus_area_keys
    needs_points = 0
    matched_areas: set[str] = set()
    if areas:
        for need in company.needs:
            key = need.focus_area_key
            if key in areas:
                needs_points += NEED_POINTS_BY_PRIORITY.get(need.priority, NEED_POINTS_OTHER)
                matched_areas.add(key)
    total: float = min(NEED_POINTS_CAP, needs_points) + min(FOCUS_AREA_POINTS_CAP, FOCUS_AREA_POINTS * len(matched_areas))
    if areas and company.focus_area_scores:
        lowest = None
        for key in areas:
            score = company.focus_area_scores.get(key)
            if score is not None and (lowest is None or score < lowest):
                lowest = score
        if lowest is not None:
            total += LOW_SCORE_POINTS * (100 - lowest) / 100
    if offer.eligibility.scores and _within_score_rules(company, offer.eligibility):
        total += SCORE_RANGE_POINTS
    return total


def display_fit(value: float) -> float:
    """Fit rounded to one decimal, as shown and as ranked (so equal-looking fits tie)."""
    return round(value + 1e-9, 1)


def explain(
    company: CompanyProfile, offer: OfferProfile, eligibility: EligibilityResult, breakdown: FitBreakdown,
    labels: Labels | None = None,
) -> str:
    """One sentence for people: what the offer meets, then why the company is (not) eligible."""
    labels = labels or Labels()
    parts: list[str] = []
    for need in breakdown.matched_needs[:EXPLAIN_NEEDS]:
        parts.append(gettext("meets need “%(need)s” in focus area %(area)s") % {
            "need": need.title, "area": labels.focus_area(need.focus_area_key)})
    more = len(breakdown.matched_needs) - EXPLAIN_NEEDS
    if more > 0:
        parts.append(gettext("and %(count)s more needs") % {"count": more})
    if breakdown.lowest_focus_area is not None and breakdown.low_score_points > 0:
        key, score = breakdown.lowest_focus_area
        parts.append(gettext("low score in %(area)s (%(score)s of 100)") % {
            "area": labels.focus_area(key), "score": _format_score(score)})
    if breakdown.score_range_points:
        parts.append(str(gettext("the company's scores are within the offer's range")))
    if not breakdown.matched_needs:
        parts.insert(0, str(gettext("no open need in the offer's focus areas")))
    parts.append(eligibility.summary)
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------


class RankedOffer:
    """One offer ranked for one company.

    ``fit`` and ``eligible`` are decided when it is made (:func:`fit_score`, :func:`is_eligible`);
    the reasons (``eligibility``), the ``breakdown`` and the ``explanation`` are built when first
    read, so that ranking hundreds of offers only pays for the explanations that are shown.
    """

    def __init__(self, company: CompanyProfile, offer: OfferProfile, on_date: date, labels: Labels | None = None) -> None:
        self.company = company
        self.offer = offer
        self.on_date = on_date
        self.labels = labels
        self.fit = display_fit(fit_score(company, offer))
        self.eligible = is_eligible(company, offer, on_date)

    def __repr__(self) -> str:
        return f"<RankedOffer {self.offer.id} fit={self.fit} eligible={self.eligible}>"

    @cached_property
    def eligibility(self) -> EligibilityResult:
        return evaluate(self.company, self.offer, self.on_date, self.labels)

    @cached_property
    def breakdown(self) -> FitBreakdown:
        return fit_breakdown(self.company, self.offer)

    @cached_property
    def explanation(self) -> str:
        return explain(self.company, self.offer, self.eligibility, self.breakdown, self.labels)


def rank_offers(
    company: CompanyProfile, offers: Iterable[OfferProfile], on_date: date, labels: Labels | None = None,
) -> tuple[list[RankedOffer], list[RankedOffer]]:
    """The offers for one company: (eligible by fit, ineligible by fit), each with its explanation
    (built when read).

    Ties in fit are broken by title, then id, so the order is stable.
    """
    eligible: list[RankedOffer] = []
    ineligible: list[RankedOffer] = []
    for offer in offers:
        ranked = RankedOffer(company, offer, on_date, labels)
        (eligible if ranked.eligible else ineligible).append(ranked)
    key = _offer_order
    eligible.sort(key=key)
    ineligible.sort(key=key)
    return eligible, ineligible


def _offer_order(ranked: RankedOffer) -> tuple:
    return (-ranked.fit, ranked.offer.title.casefold(), ranked.offer.id)


def rank_companies(
    offer: OfferProfile, companies: Iterable[CompanyProfile], on_date: date,
) -> list[tuple[bool, float, CompanyProfile]]:
    """``(eligible, fit, company)`` for every company, eligible first, each part by fit (highest
    first), then name and id. No messages: explain the rows shown with :func:`evaluate`."""
    rows = [
        (is_eligible(company, offer, on_date), display_fit(fit_score(company, offer)), company)
        for company in companies
    ]
    rows.sort(key=lambda row: (not row[0], -row[1], row[2].name.casefold(), row[2].id))
    return rows


def _eligible_ids(offer: OfferProfile, on_date: date, index: _CompanyIndex) -> set[int] | frozenset[int]:
    """Ids of the indexed companies eligible for the offer: :func:`is_eligible` for all of them at
    once, with set operations over the index instead of one check per company."""
    if offer.rules_error or (offer.capacity_left is not None and offer.capacity_left <= 0) or (
        offer.available_to is not None and on_date > offer.available_to
    ):
        return frozenset()
    rules = offer.eligibility
    candidates: set[int] | frozenset[int] = index.all_ids
    if rules.size_classes:
        candidates = candidates & set().union(*(index.by_size.get(size, ()) for size in rules.size_classes))
    if rules.sni:
        codes = [code for code in index.by_sni if code and any(r.matches(code) for r in rules.sni)]
        candidates = candidates & set().union(*(index.by_sni[code] for code in codes))
    if rules.counties or rules.municipalities:
        served = set().union(
            *(index.by_municipality.get(code, ()) for code in rules.municipalities),
            *(index.by_county.get(code, ()) for code in rules.counties),
        )
        candidates = candidates & served
    if rules.target_group:
        candidates = candidates & index.in_target_group
    if rules.scores:
        by_id = index.by_id
        candidates = {i for i in candidates if _all_within(by_id[i], rules.scores)}
    required = rules.deminimis_headroom_sek
    if required is not None:
        by_id = index.by_id
        candidates = {
            i for i in candidates
            if by_id[i].deminimis_headroom_sek is not None and by_id[i].deminimis_headroom_sek >= required
        }
    return candidates


class _CompanyIndex:
    """Company ids by size class, SNI code, municipality, county and target group."""

    def __init__(self, companies: Sequence[CompanyProfile]) -> None:
        self.by_id = {c.id: c for c in companies}
        self.all_ids = frozenset(self.by_id)
        self.by_size: dict[str, set[int]] = {}
        self.by_sni: dict[str, set[int]] = {}
        self.by_municipality: dict[str, set[int]] = {}
        self.by_county: dict[str, set[int]] = {}
        self.in_target_group = {c.id for c in companies if c.in_target_group}
        for c in companies:
            self.by_size.setdefault(c.size_class, set()).add(c.id)
            self.by_sni.setdefault(c.sni, set()).add(c.id)
            if c.municipality:
                self.by_municipality.setdefault(c.municipality, set()).add(c.id)
                self.by_county.setdefault(c.county, set()).add(c.id)


def _base_fit(by_area: Mapping[str | None, int], area_scores: Mapping[str, float], areas: frozenset[str]) -> float:
    """:func:`fit_score` without the score-range part, from a company's need points per area."""
    points = 0
    matched = 0
    lowest = None
    for area in areas:
        value = by_area.get(area)
        if value:
            points += value
            matched += 1
        score = area_scores.get(area)
        if score is not None and (lowest is None or score < lowest):
            lowest = score
    total: float = min(NEED_POINTS_CAP, points) + min(FOCUS_AREA_POINTS_CAP, FOCUS_AREA_POINTS * matched)
    if lowest is not None:
        total += LOW_SCORE_POINTS * (100 - lowest) / 100
    return total


def rank_matrix(
    companies: Iterable[CompanyProfile], offers: Sequence[OfferProfile], on_date: date,
) -> dict[int, list[tuple[bool, float, int]]]:
    """For each company, every offer as ``(eligible, fit, offer id)``: eligible first, then by fit
    (highest first), then offer id.

    The same decisions and fits as :func:`is_eligible` and :func:`fit_score` (a property test holds
    them equal), for thousands of companies against hundreds of offers: eligibility is decided per
    offer for all companies at once (set operations over an index of the companies), and the fit
    per company once for each distinct set of focus areas among the offers.
    """
    company_list = list(companies)
    index = _CompanyIndex(company_list)
    area_sets: dict[frozenset[str], int] = {}
    prepared = []
    for offer in offers:
        slot = area_sets.setdefault(offer.focus_area_keys, len(area_sets))
        prepared.append((offer.id, slot, offer.eligibility.scores, _eligible_ids(offer, on_date, index)))
    distinct_areas = list(area_sets)
    need_points = NEED_POINTS_BY_PRIORITY
    result: dict[int, list[tuple[bool, float, int]]] = {}
    for company in company_list:
        by_area: dict[str | None, int] = {}
        for need in company.needs:
            by_area[need.focus_area_key] = by_area.get(need.focus_area_key, 0) + need_points.get(need.priority, NEED_POINTS_OTHER)
        # Per distinct set of focus areas: the fit without and with the score-range points, rounded
        # as display_fit rounds (the same float operations as fit_score, in the same order).
        fits = []
        for areas in distinct_areas:
            base = _base_fit(by_area, company.focus_area_scores, areas)
            fits.append((round(base + 1e-9, 1), round(base + SCORE_RANGE_POINTS + 1e-9, 1)))
        company_id = company.id
        row = []
        for offer_id, slot, score_rules, eligible_ids in prepared:
            fit = fits[slot][1 if score_rules and _all_within(company, score_rules) else 0]
            row.append((company_id in eligible_ids, fit, offer_id))
        row.sort(key=_matrix_order)
        result[company_id] = row
    return result


def headroom_candidates(companies: Iterable[CompanyProfile], offers: Iterable[OfferProfile], on_date: date) -> set[int]:
    """Ids of the companies that pass every rule but the de minimis one of at least one offer with
    a de minimis rule: the only companies whose headroom can change an answer."""
    company_list = list(companies)
    index = _CompanyIndex(company_list)
    result: set[int] = set()
    for offer in offers:
        if offer.eligibility.deminimis_headroom_sek is None:
            continue
        without = replace(offer, eligibility=replace(offer.eligibility, deminimis_headroom_sek=None))
        result |= _eligible_ids(without, on_date, index)
    return result


def _matrix_order(item: tuple[bool, float, int]) -> tuple:
    return (not item[0], -item[1], item[2])
