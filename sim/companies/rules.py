"""Pure business rules for the company register.

* Swedish organisation numbers (organisationsnummer), including sole traders identified by the
  owner's personal identity number (personnummer / samordningsnummer).
* The EU SME definition (Commission Recommendation 2003/361/EC, Annex): staff and financial
  ceilings, partner and linked enterprises, public-body control and the rule that a category
  changes only after the ceilings are crossed in two consecutive accounting periods.

Nothing here touches the database or Django models, and nothing needs configured settings:
translatable strings are looked up through Django's translation machinery only once the app
registry is ready, and are returned untranslated before that (plain unit tests, scripts).

Personal identity numbers are personal data (GDPR): error messages never echo the input, and the
``repr`` of a personal :class:`OrgNumber` masks the last four digits.
"""

from __future__ import annotations

import calendar
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from django.apps import apps
from django.utils.functional import lazy
from django.utils.translation import gettext as _django_gettext
from stdnum import luhn

__all__ = [
    "CATEGORIES",
    "LEGAL_FORM_GROUPS",
    "Accounts",
    "Enterprise",
    "Figures",
    "Holding",
    "InvalidOrgNumber",
    "OrgNumber",
    "Relationship",
    "SmeInputError",
    "SmeResult",
    "apply_two_year_rule",
    "category_for",
    "category_rank",
    "classify_sme",
    "luhn_check_digit",
    "parse_org_number",
    "scenario_from_json",
    "sme_result_to_json",
]


# --------------------------------------------------------------------------------------------
# Translation helpers
# --------------------------------------------------------------------------------------------


def gettext(message: str) -> str:
    """Django's ``gettext`` once the app registry is ready; the message unchanged before that.

    Django's own ``gettext`` needs configured settings and a ready app registry; these rules are
    also used (and unit-tested) without either.  ``makemessages`` extracts calls to ``gettext``
    and ``_`` in this module as usual.
    """
    if apps.ready:
        return _django_gettext(message)
    return message


#: Lazy variant, like ``django.utils.translation.gettext_lazy`` but safe without settings.
gettext_lazy = lazy(gettext, str)
_ = gettext_lazy


# --------------------------------------------------------------------------------------------
# A. Organisation numbers
# --------------------------------------------------------------------------------------------

#: First digit of a legal entity's organisation number → legal-form group.
LEGAL_FORM_GROUPS: dict[str, str] = {
    "1": "estate",
    "2": "public",
    "3": "foreign",
    "5": "limited_company",
    "6": "simple_partnership",
    "7": "economic_association",
    "8": "non_profit",
    "9": "partnership",
}
SOLE_TRADER_GROUP = "sole_trader"

#: Digits 3–4 of a legal entity's number form a number at least this large (never a month).
LEGAL_ENTITY_MIN_MIDDLE = 20
#: Samordningsnummer (co-ordination numbers) add this to the day of birth.
COORDINATION_DAY_OFFSET = 60

_ORG_MESSAGES = {
    "empty": _("Enter an organisation number."),
    "characters": _(
        "An organisation number may only contain digits, a hyphen (or a plus sign) and spaces, "
        "optionally with the prefix SE of a VAT number."
    ),
    "format": _(
        "Write the organisation number as NNNNNN-NNNN: only one separator, before the last four digits."
    ),
    "plus": _("The plus sign is only used in personal identity numbers of people aged 100 or more."),
    "length": _(
        "An organisation number has 10 digits (12 with the prefix 16, or with the century in a personal "
        "identity number)."
    ),
    "vat_length": _("A Swedish VAT number is SE followed by 12 digits."),
    "vat_suffix": _("A Swedish VAT number ends in 01."),
    "prefix": _(
        "A 12-digit number must start with 16 (legal entities) or with the century 19 or 20 (personal "
        "identity numbers)."
    ),
    "prefix_mismatch": _("The prefix 16 is only used with organisation numbers of legal entities."),
    "check_digit": _("The check digit (last digit) is wrong: check the number for typing errors."),
    "date": _(
        "This is neither the number of a legal entity (3rd and 4th digits 20 or more) nor a valid "
        "personal identity number (the birth date part is not a valid date)."
    ),
    "personal_not_allowed": _(
        "Personal identity numbers (sole traders) are not accepted here: enter the organisation number "
        "of a legal entity."
    ),
}


class InvalidOrgNumber(ValueError):
    """An organisation number that cannot be accepted.

    ``code`` is a stable machine-readable reason (one of the keys of ``InvalidOrgNumber.CODES``),
    ``message`` a lazily translated, human-readable explanation (``str(exc)`` gives it).  The
    offending value is deliberately not part of the message: it may be a personal identity number.
    """

    CODES = tuple(_ORG_MESSAGES)

    def __init__(self, code: str) -> None:
        self.code = code
        self.message = _ORG_MESSAGES[code]
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)

    def __reduce__(self):
        return (type(self), (self.code,))


@dataclass(frozen=True, repr=False)
class OrgNumber:
    """A validated organisation number in its 10-digit form."""

    digits: str
    is_personal: bool = False

    def __post_init__(self) -> None:
        if len(self.digits) != 10 or not self.digits.isascii() or not self.digits.isdigit():
            raise ValueError("OrgNumber.digits must be exactly 10 ASCII digits")

    def __repr__(self) -> str:
        shown = f"{self.digits[:6]}****" if self.is_personal else self.digits
        return f"OrgNumber(digits={shown!r}, is_personal={self.is_personal!r})"

    def __str__(self) -> str:
        return self.formatted

    @property
    def formatted(self) -> str:
        """``NNNNNN-NNNN``."""
        return f"{self.digits[:6]}-{self.digits[6:]}"

    @property
    def twelve_digit(self) -> str | None:
        """``16`` + the number for legal entities; ``None`` for personal numbers (century unknown)."""
        return None if self.is_personal else f"16{self.digits}"

    @property
    def vat_number(self) -> str:
        """``SE`` + the 10 digits + ``01``."""
        return f"SE{self.digits}01"

    @property
    def legal_form_group(self) -> str | None:
        """Key of the legal-form group given by the first digit, ``sole_trader`` for personal numbers."""
        if self.is_personal:
            return SOLE_TRADER_GROUP
        return LEGAL_FORM_GROUPS.get(self.digits[0])

    @property
    def is_public_body(self) -> bool:
        return self.legal_form_group == "public"


def luhn_check_digit(nine_digits: str) -> str:
    """The Luhn (mod 10) check digit completing ``nine_digits`` to a 10-digit number."""
    if len(nine_digits) != 9 or not nine_digits.isascii() or not nine_digits.isdigit():
        raise ValueError("luhn_check_digit() needs exactly 9 digits")
    return luhn.calc_check_digit(nine_digits)


_ORG_ALLOWED = re.compile(r"[0-9+\-\s]+")
_SEPARATORS = re.compile(r"[+\-]")
# Hyphen look-alikes pasted from word processors: hyphen, non-breaking hyphen, figure dash,
# en dash, em dash, minus sign.
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2212]")


def _valid_birth_date(year: int | None, month: int, day: int) -> bool:
    """Whether month/day (day possibly +60, samordningsnummer) form a date; any leap year if year unknown."""
    if day > COORDINATION_DAY_OFFSET:
        day -= COORDINATION_DAY_OFFSET
    if not 1 <= month <= 12 or day < 1:
        return False
    if year is None:
        return day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def parse_org_number(value: str, *, allow_personal: bool = True) -> OrgNumber:
    """Validate and normalise an organisation number.

    Accepts ``5560000001``, ``556000-0001``, ``556000 0001``, the 12-digit forms ``165560000001`` /
    ``16556000-0001``, the VAT form ``SE556000000101`` and, for sole traders, personal identity
    numbers ``YYMMDD-NNNN`` / ``YYMMDD+NNNN`` / ``YYYYMMDDNNNN`` / ``YYYYMMDD-NNNN`` (day + 60 for
    samordningsnummer).  Raises :class:`InvalidOrgNumber` with a specific ``code`` otherwise.
    """
    if value is None:
        raise InvalidOrgNumber("empty")
    if not isinstance(value, str):
        raise TypeError("parse_org_number() expects a string")
    text = value.strip()
    if not text:
        raise InvalidOrgNumber("empty")

    century: int | None = None
    if text[:2].upper() == "SE":
        body = re.sub(r"[\s\-]", "", text[2:])
        if not body.isascii() or not body.isdigit():
            raise InvalidOrgNumber("characters")
        if len(body) != 12:
            raise InvalidOrgNumber("vat_length")
        if not body.endswith("01"):
            raise InvalidOrgNumber("vat_suffix")
        digits, separator = body[:10], ""
    else:
        text = _DASHES.sub("-", text)
        if not _ORG_ALLOWED.fullmatch(text):
            raise InvalidOrgNumber("characters")
        compact = re.sub(r"\s", "", text)
        separators = _SEPARATORS.findall(compact)
        if len(separators) > 1:
            raise InvalidOrgNumber("format")
        separator = separators[0] if separators else ""
        if separator and (compact.index(separator) != len(compact) - 5 or compact.startswith(separator)):
            raise InvalidOrgNumber("format")
        digits = compact.replace(separator, "") if separator else compact
        if len(digits) not in (10, 12):
            raise InvalidOrgNumber("length")
        if len(digits) == 12:
            if separator == "+":
                raise InvalidOrgNumber("plus")
            prefix, digits = digits[:2], digits[2:]
            if prefix == "16":
                century = 16
            elif prefix in ("19", "20"):
                century = int(prefix)
            else:
                raise InvalidOrgNumber("prefix")

    if not luhn.is_valid(digits):
        raise InvalidOrgNumber("check_digit")

    is_legal_entity = int(digits[2:4]) >= LEGAL_ENTITY_MIN_MIDDLE
    if century == 16 and not is_legal_entity:
        raise InvalidOrgNumber("prefix_mismatch")
    if century in (19, 20) and is_legal_entity:
        # YYYYMMDD with a month of 20 or more: neither form fits.
        raise InvalidOrgNumber("date")
    if is_legal_entity:
        if separator == "+":
            raise InvalidOrgNumber("plus")
        return OrgNumber(digits=digits, is_personal=False)

    year = century * 100 + int(digits[:2]) if century in (19, 20) else None
    if not _valid_birth_date(year, int(digits[2:4]), int(digits[4:6])):
        raise InvalidOrgNumber("date")
    if not allow_personal:
        raise InvalidOrgNumber("personal_not_allowed")
    return OrgNumber(digits=digits, is_personal=True)


# --------------------------------------------------------------------------------------------
# B. SME category (Commission Recommendation 2003/361/EC)
# --------------------------------------------------------------------------------------------

CATEGORIES: tuple[str, ...] = ("micro", "small", "medium", "large")
CATEGORY_LABELS = {
    "micro": _("micro"),
    "small": _("small"),
    "medium": _("medium-sized"),
    "large": _("large"),
}

# Annex, Art. 2: staff strictly below the headcount ceiling, and turnover OR balance sheet total
# at most the financial ceiling.
MICRO_STAFF_CEILING = Decimal("10")
MICRO_TURNOVER_CEILING = Decimal("2000000")
MICRO_BALANCE_SHEET_CEILING = Decimal("2000000")
SMALL_STAFF_CEILING = Decimal("50")
SMALL_TURNOVER_CEILING = Decimal("10000000")
SMALL_BALANCE_SHEET_CEILING = Decimal("10000000")
MEDIUM_STAFF_CEILING = Decimal("250")
MEDIUM_TURNOVER_CEILING = Decimal("50000000")
MEDIUM_BALANCE_SHEET_CEILING = Decimal("43000000")

#: (category, staff below, turnover at most, balance sheet at most), smallest first.
CEILINGS: tuple[tuple[str, Decimal, Decimal, Decimal], ...] = (
    ("micro", MICRO_STAFF_CEILING, MICRO_TURNOVER_CEILING, MICRO_BALANCE_SHEET_CEILING),
    ("small", SMALL_STAFF_CEILING, SMALL_TURNOVER_CEILING, SMALL_BALANCE_SHEET_CEILING),
    ("medium", MEDIUM_STAFF_CEILING, MEDIUM_TURNOVER_CEILING, MEDIUM_BALANCE_SHEET_CEILING),
)

#: Art. 3(2): a holding of at least this share (higher of capital and votes) makes partners.
PARTNER_THRESHOLD_PCT = Decimal("25")
#: Art. 3(3)(a): more than this share of the votes makes linked enterprises.
LINKED_VOTING_THRESHOLD_PCT = Decimal("50")
#: Art. 3(2) second subparagraph: exempt investors may hold up to this share without being partners.
EXEMPT_INVESTOR_MAX_PCT = Decimal("50")
#: Art. 3(4): public bodies holding at least this share of capital or votes → not an SME.
PUBLIC_BODY_THRESHOLD_PCT = Decimal("25")

_HUNDRED = Decimal("100")
_ZERO = Decimal("0")


class SmeInputError(ValueError):
    """Input to the SME rules that cannot be classified (the message says why)."""


def _to_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise SmeInputError(gettext("%(field)s must be a number, not true/false.") % {"field": what})
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # shortest repr: 0.1 → Decimal("0.1"), no binary noise
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            result = Decimal("NaN")
    else:
        raise SmeInputError(gettext("%(field)s must be a number.") % {"field": what})
    if not result.is_finite():
        raise SmeInputError(gettext("%(field)s must be a finite number.") % {"field": what})
    return result


def category_rank(category: str) -> int:
    """0 for micro … 3 for large."""
    return CATEGORIES.index(category)


def category_for(
    staff_awu: Decimal | int, turnover_eur: Decimal | int, balance_sheet_eur: Decimal | int
) -> str:
    """Category for already aggregated figures (Annex, Art. 2)."""
    staff = _to_decimal(staff_awu, "staff_awu")
    turnover = _to_decimal(turnover_eur, "turnover_eur")
    balance = _to_decimal(balance_sheet_eur, "balance_sheet_eur")
    for category, staff_ceiling, turnover_ceiling, balance_ceiling in CEILINGS:
        if staff < staff_ceiling and (turnover <= turnover_ceiling or balance <= balance_ceiling):
            return category
    return "large"


@dataclass(frozen=True)
class Figures:
    """Staff (annual work units) and financial figures, exact (rounding only on output)."""

    staff_awu: Decimal = _ZERO
    turnover_eur: Decimal = _ZERO
    balance_sheet_eur: Decimal = _ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.staff_awu + other.staff_awu,
            self.turnover_eur + other.turnover_eur,
            self.balance_sheet_eur + other.balance_sheet_eur,
        )

    def scaled(self, pct: Decimal) -> Figures:
        factor = pct / _HUNDRED
        return Figures(self.staff_awu * factor, self.turnover_eur * factor, self.balance_sheet_eur * factor)

    @property
    def category(self) -> str:
        return category_for(self.staff_awu, self.turnover_eur, self.balance_sheet_eur)


@dataclass(frozen=True)
class Accounts:
    """One accounting period's figures of one enterprise (turnover without VAT)."""

    year: int
    staff_awu: Decimal
    turnover_eur: Decimal
    balance_sheet_eur: Decimal

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise SmeInputError(gettext("The accounting year must be a whole number."))
        for name in ("staff_awu", "turnover_eur", "balance_sheet_eur"):
            number = _to_decimal(getattr(self, name), name)
            if number < 0:
                raise SmeInputError(
                    gettext("%(field)s in the %(year)s accounts cannot be negative.")
                    % {"field": name, "year": self.year}
                )
            object.__setattr__(self, name, number)

    @property
    def figures(self) -> Figures:
        return Figures(self.staff_awu, self.turnover_eur, self.balance_sheet_eur)


@dataclass(frozen=True)
class Enterprise:
    id: str
    accounts: tuple[Accounts, ...] = ()
    public_body: bool = False
    exempt_investor: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise SmeInputError(gettext("Every enterprise needs a non-empty id."))
        object.__setattr__(self, "accounts", tuple(self.accounts))
        for account in self.accounts:
            if not isinstance(account, Accounts):
                raise SmeInputError(
                    gettext("The accounts of %(id)s must be Accounts objects.") % {"id": self.id}
                )


@dataclass(frozen=True)
class Holding:
    """``holder`` holds shares in ``held``; ``controls`` covers board-majority rights, dominant
    influence by contract or control by shareholder agreement (Art. 3(3) b–d)."""

    holder: str
    held: str
    capital_pct: Decimal
    voting_pct: Decimal
    controls: bool = False

    def __post_init__(self) -> None:
        label = f"{self.holder} → {self.held}"
        object.__setattr__(self, "capital_pct", _to_decimal(self.capital_pct, f"capital_pct ({label})"))
        object.__setattr__(self, "voting_pct", _to_decimal(self.voting_pct, f"voting_pct ({label})"))
        if not isinstance(self.controls, bool):
            raise SmeInputError(gettext("controls (%(label)s) must be true or false.") % {"label": label})

    @property
    def share_pct(self) -> Decimal:
        """The higher of the capital and the voting share."""
        return max(self.capital_pct, self.voting_pct)

    @property
    def is_link(self) -> bool:
        return self.controls or self.voting_pct > LINKED_VOTING_THRESHOLD_PCT


@dataclass(frozen=True)
class Relationship:
    """An enterprise whose figures count for the subject: ``type`` is ``"linked"`` (100 %) or
    ``"partner"`` (``share_pct`` %).  ``via`` is the member of the subject's linked group the
    relationship goes through (``None`` when it is the subject itself)."""

    enterprise: str
    type: str
    share_pct: Decimal
    via: str | None = None


@dataclass(frozen=True)
class SmeResult:
    category: str
    year: int
    aggregated: Figures
    relationships: tuple[Relationship, ...]
    explanation: tuple[str, ...]
    raw_categories: dict[int, str]
    effective_categories: dict[int, str] = field(default_factory=dict)
    aggregated_by_year: dict[int, Figures] = field(default_factory=dict)
    public_control: bool = False


# ---- formatting helpers (explanations, output) ---------------------------------------------


def _round(value: Decimal, exponent: str) -> Decimal:
    return value.quantize(Decimal(exponent), rounding=ROUND_HALF_UP)


def _fmt_pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _fmt_staff(value: Decimal) -> str:
    return f"{_round(value, '0.1'):.1f}"


def _fmt_eur(value: Decimal) -> str:
    return f"{int(_round(value, '1')):,}"


def _label(category: str) -> str:
    return str(CATEGORY_LABELS[category])


def _holding_params(holding: Holding) -> dict[str, str]:
    return {
        "holder": holding.holder,
        "held": holding.held,
        "share": _fmt_pct(holding.share_pct),
        "voting": _fmt_pct(holding.voting_pct),
        "capital": _fmt_pct(holding.capital_pct),
    }


# ---- the two-consecutive-years rule ----------------------------------------------------------


def _two_year_rule(raw: Mapping[int, str]) -> tuple[dict[int, str], list[str]]:
    years = sorted(raw)
    if not years:
        return {}, []
    effective = {years[0]: raw[years[0]]}
    notes: list[str] = []
    for previous, year in pairwise(years):
        current_effective = effective[previous]
        rank = category_rank(current_effective)
        now = category_rank(raw[year]) - rank
        before = category_rank(raw[previous]) - rank
        if now == 0:
            effective[year] = current_effective
        elif (now > 0 and before > 0) or (now < 0 and before < 0):
            # Crossed in this and the previous period, in the same direction: the category moves
            # as far as both periods agree (the nearer of the two raw categories).
            pick = min if now > 0 else max
            new = CATEGORIES[pick(category_rank(raw[year]), category_rank(raw[previous]))]
            effective[year] = new
            notes.append(
                gettext(
                    "Category changed from %(old)s to %(new)s in %(year)s: the ceiling was crossed in two "
                    "consecutive years (%(previous)s and %(year)s)."
                )
                % {"old": _label(current_effective), "new": _label(new), "year": year, "previous": previous}
            )
        else:
            effective[year] = current_effective
            notes.append(
                gettext(
                    "%(year)s figures point to %(raw)s, but only once; %(effective)s stays until the ceiling "
                    "is crossed in two consecutive years."
                )
                % {"year": year, "raw": _label(raw[year]), "effective": _label(current_effective)}
            )
    return effective, notes


def apply_two_year_rule(raw_categories: Mapping[int, str]) -> dict[int, str]:
    """Effective category per year from the raw category per year (Annex, Art. 4(2)).

    The first year's raw category applies.  Later, a raw category different from the effective
    one takes effect only if the previous year's raw category was also on the same side of the
    effective category (ceiling crossed in two consecutive periods); it then moves to the nearer
    of the two raw categories.  When both years agree this is simply "change to the raw category".
    """
    return _two_year_rule(raw_categories)[0]


# ---- linked groups ---------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return False
        self.parent[max(root_a, root_b)] = min(root_a, root_b)
        return True

    def groups(self) -> dict[str, frozenset[str]]:
        members: dict[str, set[str]] = {}
        for item in self.parent:
            members.setdefault(self.find(item), set()).add(item)
        frozen = {root: frozenset(group) for root, group in members.items()}
        return {item: frozen[self.find(item)] for item in self.parent}


@dataclass(frozen=True)
class _JointControl:
    holders: tuple[str, ...]
    held: str
    voting_pct: Decimal


def _linked_groups(
    ids: Iterable[str], holdings: Sequence[Holding]
) -> tuple[dict[str, frozenset[str]], list[_JointControl]]:
    """Connected components of the "linked" relation.

    Direct links: more than 50 % of the votes, or ``controls``.  Indirect control (Art. 3(3), "through
    one or more other enterprises") is covered by the components and, in addition, by joint
    control: enterprises already linked to each other that together hold more than 50 % of the
    votes of another enterprise control it, so it joins their group.
    """
    uf = _UnionFind(ids)
    for holding in holdings:
        if holding.is_link:
            uf.union(holding.holder, holding.held)
    joint: list[_JointControl] = []
    changed = True
    while changed:
        changed = False
        groups = uf.groups()
        votes: dict[tuple[frozenset[str], str], Decimal] = {}
        holders: dict[tuple[frozenset[str], str], list[str]] = {}
        for holding in holdings:
            group = groups[holding.holder]
            if holding.held in group:
                continue
            key = (group, holding.held)
            votes[key] = votes.get(key, _ZERO) + holding.voting_pct
            holders.setdefault(key, []).append(holding.holder)
        for (group, held), total in sorted(votes.items(), key=lambda item: (sorted(item[0][0]), item[0][1])):
            if total > LINKED_VOTING_THRESHOLD_PCT and uf.union(next(iter(group)), held):
                joint.append(_JointControl(tuple(sorted(holders[(group, held)])), held, total))
                changed = True  # recompute the groups before looking for further joint control
    return uf.groups(), joint


def _link_path(
    start: str, goal: str, group: frozenset[str], holdings: Sequence[Holding], joint: Sequence[_JointControl]
) -> list[str]:
    adjacency: dict[str, set[str]] = {member: set() for member in group}
    for holding in holdings:
        if holding.is_link and holding.holder in group and holding.held in group:
            adjacency[holding.holder].add(holding.held)
            adjacency[holding.held].add(holding.holder)
    for control in joint:
        if control.held in group:
            for holder in control.holders:
                adjacency[holder].add(control.held)
                adjacency[control.held].add(holder)
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for neighbour in sorted(adjacency[node]):
            if neighbour not in previous:
                previous[neighbour] = node
                queue.append(neighbour)
    path = [goal]
    while previous.get(path[-1]) is not None:
        path.append(previous[path[-1]])  # type: ignore[arg-type]
    return list(reversed(path))


# ---- validation ------------------------------------------------------------------------------


def _validate(
    subject_id: str, enterprises: Sequence[Enterprise], holdings: Sequence[Holding]
) -> dict[str, Enterprise]:
    by_id: dict[str, Enterprise] = {}
    for enterprise in enterprises:
        if not isinstance(enterprise, Enterprise):
            raise SmeInputError(gettext("Enterprises must be Enterprise objects."))
        if enterprise.id in by_id:
            raise SmeInputError(gettext("Duplicate enterprise id %(id)s.") % {"id": enterprise.id})
        years = [account.year for account in enterprise.accounts]
        duplicates = sorted({year for year in years if years.count(year) > 1})
        if duplicates:
            raise SmeInputError(
                gettext("Enterprise %(id)s has more than one set of accounts for %(year)s.")
                % {"id": enterprise.id, "year": duplicates[0]}
            )
        by_id[enterprise.id] = enterprise
    if subject_id not in by_id:
        raise SmeInputError(
            gettext("The subject enterprise %(id)s is not among the enterprises.") % {"id": subject_id}
        )
    if not by_id[subject_id].accounts:
        raise SmeInputError(
            gettext("The subject enterprise %(id)s has no accounts: at least one year is needed.")
            % {"id": subject_id}
        )
    seen_pairs: set[tuple[str, str]] = set()
    capital_in: dict[str, Decimal] = {}
    voting_in: dict[str, Decimal] = {}
    for holding in holdings:
        if not isinstance(holding, Holding):
            raise SmeInputError(gettext("Holdings must be Holding objects."))
        for role, enterprise_id in (("holder", holding.holder), ("held", holding.held)):
            if enterprise_id not in by_id:
                raise SmeInputError(
                    gettext("A holding refers to the unknown enterprise %(id)s (as %(role)s).")
                    % {"id": enterprise_id, "role": role}
                )
        if holding.holder == holding.held:
            raise SmeInputError(
                gettext("Enterprise %(id)s cannot hold shares in itself.") % {"id": holding.held}
            )
        for name, pct in (("capital_pct", holding.capital_pct), ("voting_pct", holding.voting_pct)):
            if not _ZERO <= pct <= _HUNDRED:
                raise SmeInputError(
                    gettext("%(field)s of %(holder)s in %(held)s must be between 0 and 100, not %(value)s.")
                    % {"field": name, "holder": holding.holder, "held": holding.held, "value": _fmt_pct(pct)}
                )
        pair = (holding.holder, holding.held)
        if pair in seen_pairs:
            raise SmeInputError(
                gettext("More than one holding of %(holder)s in %(held)s: combine them into one.")
                % {"holder": holding.holder, "held": holding.held}
            )
        seen_pairs.add(pair)
        capital_in[holding.held] = capital_in.get(holding.held, _ZERO) + holding.capital_pct
        voting_in[holding.held] = voting_in.get(holding.held, _ZERO) + holding.voting_pct
    for held in sorted(set(capital_in) | set(voting_in)):
        if capital_in.get(held, _ZERO) > _HUNDRED:
            raise SmeInputError(
                gettext("The holdings in %(held)s add up to more than 100%% of its capital.") % {"held": held}
            )
        if voting_in.get(held, _ZERO) > _HUNDRED:
            raise SmeInputError(
                gettext("The holdings in %(held)s add up to more than 100%% of its votes.") % {"held": held}
            )
    return by_id


# ---- classification --------------------------------------------------------------------------


def _describe_linked(
    subject_id: str, group: frozenset[str], holdings: Sequence[Holding], joint: Sequence[_JointControl]
) -> tuple[list[Relationship], list[str]]:
    """Relationships and explanation for the subject's linked group (figures added at 100 %)."""
    relationships: list[Relationship] = []
    notes: list[str] = []
    paths = {
        member: _link_path(subject_id, member, group, holdings, joint) for member in group - {subject_id}
    }
    for member in sorted(paths):
        path = paths[member]
        relationships.append(
            Relationship(member, "linked", _HUNDRED, via=path[-2] if len(path) > 2 else None)
        )
    for holding in holdings:
        if not (holding.is_link and holding.holder in group and holding.held in group):
            continue
        direct = subject_id in (holding.holder, holding.held)
        if holding.controls and holding.voting_pct <= LINKED_VOTING_THRESHOLD_PCT:
            text = (
                gettext(
                    "%(holder)s controls %(held)s (voting %(voting)s%%, capital %(capital)s%%, control by "
                    "board rights, contract or agreement): linked enterprise, 100%% of its figures added."
                )
                if direct
                else gettext(
                    "%(holder)s controls %(held)s (voting %(voting)s%%, capital %(capital)s%%, control by "
                    "board rights, contract or agreement): linked."
                )
            )
        else:
            text = (
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%): "
                    "linked enterprise, 100%% of its figures added."
                )
                if direct
                else gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%): "
                    "linked."
                )
            )
        notes.append(text % _holding_params(holding))
    for control in joint:
        if control.held in group:
            notes.append(
                gettext(
                    "%(holders)s, linked to each other, together hold %(voting)s%% of the votes of "
                    "%(held)s: %(held)s is linked to them."
                )
                % {
                    "holders": ", ".join(control.holders),
                    "voting": _fmt_pct(control.voting_pct),
                    "held": control.held,
                }
            )
    for relationship in relationships:
        member = relationship.enterprise
        if relationship.via is not None:
            notes.append(
                gettext(
                    "%(enterprise)s is linked to %(subject)s through %(path)s: 100%% of its figures added."
                )
                % {"enterprise": member, "subject": subject_id, "path": ", ".join(paths[member][1:-1])}
            )
        elif not any(h.is_link and {h.holder, h.held} == {subject_id, member} for h in holdings):
            notes.append(
                gettext("%(enterprise)s is linked to %(subject)s: 100%% of its figures added.")
                % {"enterprise": member, "subject": subject_id}
            )
    return relationships, notes


def _find_partners(
    subject_id: str,
    group: frozenset[str],
    groups: Mapping[str, frozenset[str]],
    holdings: Sequence[Holding],
    by_id: Mapping[str, Enterprise],
) -> tuple[dict[str, Decimal], list[Relationship], list[str]]:
    """Partner enterprises of the subject or of an enterprise linked to it (Art. 3(2), 6(2), 6(3)).

    Returns the share (%) per partner, the relationships and the explanation.
    """
    notes: list[str] = []
    shares: dict[str, Decimal] = {}
    via: dict[str, str] = {}
    qualifying: dict[str, list[Holding]] = {}
    for holding in holdings:
        holder_in, held_in = holding.holder in group, holding.held in group
        if holder_in == held_in:
            continue
        other, member = (holding.held, holding.holder) if holder_in else (holding.holder, holding.held)
        share = holding.share_pct
        if share < PARTNER_THRESHOLD_PCT:
            notes.append(
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%): "
                    "below 25%%, not a partner enterprise."
                )
                % _holding_params(holding)
            )
        elif by_id[holding.holder].exempt_investor and share <= EXEMPT_INVESTOR_MAX_PCT:
            notes.append(
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%), "
                    "but is an investor listed in Art. 3(2) of the SME definition holding no more than "
                    "50%%: not a partner enterprise."
                )
                % _holding_params(holding)
            )
        else:
            qualifying.setdefault(other, []).append(holding)
            if share > shares.get(other, _ZERO):
                shares[other], via[other] = share, member

    relationships: list[Relationship] = []
    included = set(group).union(*(groups[partner] for partner in shares))
    for partner in sorted(shares):
        share = shares[partner]
        best, *others = sorted(qualifying[partner], key=lambda h: (-h.share_pct, h.holder, h.held))
        params = _holding_params(best)
        if via[partner] == subject_id:
            notes.append(
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%): "
                    "partner enterprise, %(share)s%% of its figures added."
                )
                % params
            )
        else:
            notes.append(
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s (voting %(voting)s%%, capital %(capital)s%%): "
                    "%(partner)s is a partner of the linked enterprise %(via)s, %(share)s%% of its figures "
                    "added."
                )
                % {**params, "partner": partner, "via": via[partner]}
            )
        for holding in others:
            notes.append(
                gettext(
                    "%(holder)s also holds %(share)s%% of %(held)s; only the highest share in a partner "
                    "enterprise counts (%(used)s%%)."
                )
                % {**_holding_params(holding), "used": _fmt_pct(share)}
            )
        relationships.append(
            Relationship(partner, "partner", share, via=None if via[partner] == subject_id else via[partner])
        )
        partner_group = groups[partner]
        if len(partner_group) > 1:
            notes.append(
                gettext(
                    "The figures of %(partner)s include 100%% of the enterprises linked to it: %(linked)s."
                )
                % {"partner": partner, "linked": ", ".join(sorted(partner_group - {partner}))}
            )
        # Partners of partners are not included (Art. 6(2)); say so for holdings of 25 % or more.
        for holding in holdings:
            inside = (holding.holder in partner_group, holding.held in partner_group)
            if holding.is_link or inside[0] == inside[1] or holding.share_pct < PARTNER_THRESHOLD_PCT:
                continue
            if (holding.held if inside[0] else holding.holder) in included:
                continue
            notes.append(
                gettext(
                    "%(holder)s holds %(share)s%% of %(held)s: a partner of the partner enterprise "
                    "%(partner)s, not included."
                )
                % {**_holding_params(holding), "partner": partner}
            )
    return shares, relationships, notes


def _public_control(
    subject: Enterprise, enterprises: Sequence[Enterprise], holdings: Sequence[Holding]
) -> tuple[bool, list[str]]:
    """Art. 3(4): 25 % or more of capital or votes held, jointly or individually, by public bodies.

    Holdings of enterprises that public bodies control (more than 50 % of the votes, or control) count
    as held by public bodies ("directly or indirectly").
    """
    if subject.public_body:
        return True, [
            gettext("%(id)s is itself a public body: not an SME, category large.") % {"id": subject.id}
        ]
    controlled = {e.id for e in enterprises if e.public_body}
    changed = True
    while changed:
        changed = False
        votes: dict[str, Decimal] = {}
        for holding in holdings:
            if holding.holder in controlled and holding.held not in controlled:
                extra = _HUNDRED if holding.controls else holding.voting_pct
                votes[holding.held] = votes.get(holding.held, _ZERO) + extra
        for held, total in votes.items():
            if total > LINKED_VOTING_THRESHOLD_PCT:
                controlled.add(held)
                changed = True
    public = [h for h in holdings if h.held == subject.id and h.holder in controlled]
    if not public:
        return False, []
    capital = sum((h.capital_pct for h in public), _ZERO)
    voting = sum((h.voting_pct for h in public), _ZERO)
    params = {
        "holders": ", ".join(sorted(h.holder for h in public)),
        "capital": _fmt_pct(capital),
        "voting": _fmt_pct(voting),
        "id": subject.id,
    }
    if capital >= PUBLIC_BODY_THRESHOLD_PCT or voting >= PUBLIC_BODY_THRESHOLD_PCT:
        return True, [
            gettext(
                "Public bodies or enterprises they control (%(holders)s) hold %(capital)s%% of the capital "
                "and %(voting)s%% of the votes of %(id)s, jointly or individually; at 25%% or more it "
                "cannot be an SME (Art. 3(4)): category large."
            )
            % params
        ]
    return False, [
        gettext(
            "Public bodies or enterprises they control (%(holders)s) hold %(capital)s%% of the capital "
            "and %(voting)s%% of the votes of %(id)s: below 25%%, no effect on SME status."
        )
        % params
    ]


def _accounts_for(available: Mapping[int, Accounts], year: int) -> Accounts:
    """The accounts for ``year``; else the latest before it; else the earliest after it."""
    if year in available:
        return available[year]
    earlier = [y for y in available if y < year]
    return available[max(earlier) if earlier else min(available)]


def classify_sme(
    subject_id: str, enterprises: Sequence[Enterprise], holdings: Sequence[Holding]
) -> SmeResult:
    """Classify ``subject_id`` as micro, small, medium or large (Recommendation 2003/361/EC, Annex).

    * Linked enterprises (more than 50 % of the votes, or ``controls``, in either direction,
      transitively, including joint control by a linked group): 100 % of their figures.
    * Partner enterprises (25 % or more, the higher of capital and votes, not linked) directly
      upstream or downstream of the subject or of an enterprise linked to it: that share of their
      figures, which include 100 % of the enterprises linked to the partner.  Partners of partners
      are not included.  Investors listed in Art. 3(2) holding 25–50 % are not partners.
    * Public bodies holding 25 % or more of capital or votes, jointly or individually: large.
    * Figures per year of the subject's accounts, raw category per year, then the two-consecutive-
      years rule (:func:`apply_two_year_rule`); the result is the latest year's effective category.

    Every step that matters is described in ``SmeResult.explanation``.
    """
    enterprises = tuple(enterprises)
    holdings = tuple(holdings)
    by_id = _validate(subject_id, enterprises, holdings)
    subject = by_id[subject_id]

    groups, joint = _linked_groups(by_id, holdings)
    group = groups[subject_id]
    relationships, notes = _describe_linked(subject_id, group, holdings, joint)
    partner_shares, partner_relationships, partner_notes = _find_partners(
        subject_id, group, groups, holdings, by_id
    )
    relationships.extend(partner_relationships)
    notes.extend(partner_notes)

    # Enterprises whose figures count, at which share; all need accounts (public bodies excepted).
    contributions = [(member, _HUNDRED) for member in sorted(group)]
    for partner in sorted(partner_shares):
        contributions.extend((member, partner_shares[partner]) for member in sorted(groups[partner]))
    usable: list[tuple[str, Decimal]] = []
    for enterprise_id, share in contributions:
        enterprise = by_id[enterprise_id]
        if enterprise.accounts:
            usable.append((enterprise_id, share))
        elif enterprise.public_body:
            notes.append(
                gettext("%(id)s is a public body without accounts: its figures could not be added.")
                % {"id": enterprise_id}
            )
        else:
            relation = (
                gettext("a linked enterprise")
                if enterprise_id in group
                else gettext("a partner enterprise (or linked to one)")
            )
            raise SmeInputError(
                gettext(
                    "Enterprise %(id)s has no accounts, but it is %(relation)s of %(subject)s, so its "
                    "figures must be included."
                )
                % {"id": enterprise_id, "relation": relation, "subject": subject_id}
            )

    public_control, public_notes = _public_control(subject, enterprises, holdings)
    notes.extend(public_notes)

    accounts_by_id = {e.id: {a.year: a for a in e.accounts} for e in enterprises}
    years = sorted(accounts_by_id[subject_id])
    aggregated_by_year: dict[int, Figures] = {}
    raw: dict[int, str] = {}
    for year in years:
        total = Figures()
        for enterprise_id, share in usable:
            account = _accounts_for(accounts_by_id[enterprise_id], year)
            if account.year != year:
                note = gettext(
                    "%(year)s: no %(year)s accounts for %(id)s; its %(used)s accounts are used."
                ) % {
                    "year": year,
                    "id": enterprise_id,
                    "used": account.year,
                }
                if note not in notes:
                    notes.append(note)
            total = total + (account.figures if share == _HUNDRED else account.figures.scaled(share))
        aggregated_by_year[year] = total
        raw[year] = total.category
        notes.append(
            gettext(
                "%(year)s: %(staff)s AWU, EUR %(turnover)s turnover, EUR %(balance)s balance sheet ⇒ "
                "%(category)s (raw)."
            )
            % {
                "year": year,
                "staff": _fmt_staff(total.staff_awu),
                "turnover": _fmt_eur(total.turnover_eur),
                "balance": _fmt_eur(total.balance_sheet_eur),
                "category": _label(raw[year]),
            }
        )

    effective, rule_notes = _two_year_rule(raw)
    notes.extend(rule_notes)
    reference_year = years[-1]
    if len(years) == 1:
        notes.append(
            gettext("Only one year of accounts (%(year)s): its category applies.") % {"year": reference_year}
        )
    category = "large" if public_control else effective[reference_year]
    if category != effective[reference_year]:
        notes.append(
            gettext(
                "Result: large because of public bodies; the figures alone would give %(figures)s for "
                "%(year)s."
            )
            % {"figures": _label(effective[reference_year]), "year": reference_year}
        )
    else:
        notes.append(
            gettext("Result: %(category)s for %(year)s (the latest year of accounts).")
            % {"category": _label(category), "year": reference_year}
        )

    return SmeResult(
        category=category,
        year=reference_year,
        aggregated=aggregated_by_year[reference_year],
        relationships=tuple(relationships),
        explanation=tuple(notes),
        raw_categories=raw,
        effective_categories=effective,
        aggregated_by_year=aggregated_by_year,
        public_control=public_control,
    )


# ---- JSON in and out -------------------------------------------------------------------------


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def sme_result_to_json(result: SmeResult) -> dict[str, Any]:
    """The result as JSON-ready data (staff rounded to 0.1 AWU, money to whole euros)."""
    return {
        "category": result.category,
        "year": result.year,
        "aggregated": {
            "staff_awu": float(_round(result.aggregated.staff_awu, "0.1")),
            "turnover_eur": int(_round(result.aggregated.turnover_eur, "1")),
            "balance_sheet_eur": int(_round(result.aggregated.balance_sheet_eur, "1")),
        },
        "relationships": [
            {"enterprise": r.enterprise, "type": r.type, "share_pct": _json_number(r.share_pct)}
            for r in result.relationships
        ],
        "explanation": [str(line) for line in result.explanation],
    }


def _require(mapping: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in mapping:
        raise SmeInputError(gettext("%(path)s: the field %(key)s is missing.") % {"path": path, "key": key})
    return mapping[key]


def _expect_mapping(value: Any, path: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SmeInputError(gettext("%(path)s must be an object.") % {"path": path})
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise SmeInputError(
            gettext("%(path)s: unknown field(s) %(fields)s.")
            % {"path": path, "fields": ", ".join(map(str, unknown))}
        )
    return value


def _expect_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise SmeInputError(gettext("%(path)s must be a list.") % {"path": path})
    return list(value)


def _expect_str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SmeInputError(gettext("%(path)s must be a non-empty text.") % {"path": path})
    return value


def _expect_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SmeInputError(gettext("%(path)s must be true or false.") % {"path": path})
    return value


def _expect_number(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise SmeInputError(gettext("%(path)s must be a number.") % {"path": path})
    return _to_decimal(value, path)


def _expect_year(value: Any, path: str) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SmeInputError(gettext("%(path)s must be a whole number (the year).") % {"path": path})
    return value


def scenario_from_json(data: Mapping[str, Any]) -> tuple[str, list[Enterprise], list[Holding]]:
    """Parse ``{"subject": …, "enterprises": […], "holdings": […]}`` (see the command's help).

    Numbers may be JSON numbers (ints, floats, or Decimals when parsed with ``parse_float=Decimal``).
    Unknown fields are rejected so that a misspelt key (``"control"``) cannot silently default.
    """
    root = _expect_mapping(data, "scenario", ("subject", "enterprises", "holdings"))
    subject = _expect_str(_require(root, "subject", "scenario"), "subject")
    enterprises: list[Enterprise] = []
    for i, item in enumerate(_expect_list(_require(root, "enterprises", "scenario"), "enterprises")):
        path = f"enterprises[{i}]"
        entry = _expect_mapping(item, path, ("id", "accounts", "public_body", "exempt_investor"))
        enterprise_id = _expect_str(_require(entry, "id", path), f"{path}.id")
        accounts: list[Accounts] = []
        for j, raw_account in enumerate(_expect_list(entry.get("accounts", []), f"{path}.accounts")):
            account_path = f"{path}.accounts[{j}]"
            account = _expect_mapping(
                raw_account, account_path, ("year", "staff_awu", "turnover_eur", "balance_sheet_eur")
            )
            accounts.append(
                Accounts(
                    year=_expect_year(_require(account, "year", account_path), f"{account_path}.year"),
                    staff_awu=_expect_number(
                        _require(account, "staff_awu", account_path), f"{account_path}.staff_awu"
                    ),
                    turnover_eur=_expect_number(
                        _require(account, "turnover_eur", account_path), f"{account_path}.turnover_eur"
                    ),
                    balance_sheet_eur=_expect_number(
                        _require(account, "balance_sheet_eur", account_path),
                        f"{account_path}.balance_sheet_eur",
                    ),
                )
            )
        enterprises.append(
            Enterprise(
                id=enterprise_id,
                accounts=tuple(accounts),
                public_body=_expect_bool(entry.get("public_body", False), f"{path}.public_body"),
                exempt_investor=_expect_bool(entry.get("exempt_investor", False), f"{path}.exempt_investor"),
            )
        )
    holdings: list[Holding] = []
    for i, item in enumerate(_expect_list(root.get("holdings", []), "holdings")):
        path = f"holdings[{i}]"
        entry = _expect_mapping(item, path, ("holder", "held", "capital_pct", "voting_pct", "controls"))
        holdings.append(
            Holding(
                holder=_expect_str(_require(entry, "holder", path), f"{path}.holder"),
                held=_expect_str(_require(entry, "held", path), f"{path}.held"),
                capital_pct=_expect_number(_require(entry, "capital_pct", path), f"{path}.capital_pct"),
                voting_pct=_expect_number(_require(entry, "voting_pct", path), f"{path}.voting_pct"),
                controls=_expect_bool(entry.get("controls", False), f"{path}.controls"),
            )
        )
    return subject, enterprises, holdings
