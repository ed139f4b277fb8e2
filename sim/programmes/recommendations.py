"""Recommendations: company and offer profiles built in bulk, ranked by the pure rules.

Profiles are built with a handful of queries whatever the number of companies (companies with
their county and target-group flag; open needs; completed assessments; the instruments' labels),
never one query per company, and ranking is pure Python (``sim.programmes.rules``). Explanations
(translated sentences) are only built for what is shown: one company's offers, or one page (or
the export) of an offer's companies.

The de minimis headroom comes from ``sim.programmes.aid.deminimis_headroom_sek(company, on_date)``
when that module exists, and is unknown (``None``) otherwise. As it may cost queries per company,
it is only looked up where it can change an answer: for offers with a headroom rule, and for the
companies that pass every other rule of such an offer (plus the rows shown, so that their reasons
are complete).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db.models import BooleanField, Case, Count, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sim.assessments.models import Assessment, AssessmentStatus, InstrumentVersion, Need, NeedStatus
from sim.companies.models import Company, CompanyStatus, Municipality, SizeClass
from sim.companies.selectors import companies_visible_to, municipality_codes, prefix_q, target_group_q

from . import rules
from .models import FocusArea, Offer, Project, Referral, ReferralStatus

logger = logging.getLogger(__name__)

#: Referrals in these statuses take one of the offer's seats.
SEAT_STATUSES = (ReferralStatus.ACCEPTED, ReferralStatus.STARTED, ReferralStatus.COMPLETED)
#: How many offers of each kind the company page shows (the full list is one click away).
SECTION_LIMIT = 10


def _english() -> bool:
    return (get_language() or "sv").startswith("en")


# --- Labels and instrument metadata ---------------------------------------------------------

_INSTRUMENT_CACHE: dict[tuple[str, int, str], dict[str, Any]] = {}


def _instrument_meta() -> list[dict[str, Any]]:
    """Per stored instrument version: key, version, titles and dimensions (id, titles, focus area).

    Definitions are read once per (key, version, digest) and kept (they never change).
    """
    versions = list(InstrumentVersion.objects.order_by("key", "version").values_list("pk", "key", "version", "digest"))
    missing = [pk for pk, key, version, digest in versions if (key, version, digest) not in _INSTRUMENT_CACHE]
    if missing:
        for key, version, digest, title_sv, title_en, definition in InstrumentVersion.objects.filter(
            pk__in=missing
        ).values_list("key", "version", "digest", "title_sv", "title_en", "definition"):
            dimensions = []
            for item in (definition or {}).get("dimensions", []):
                title = item.get("title") or {}
                dimensions.append({
                    "id": item.get("id"), "focus_area": item.get("focus_area"),
                    "title_sv": title.get("sv") or item.get("id"), "title_en": title.get("en") or item.get("id"),
                })
            _INSTRUMENT_CACHE[(key, version, digest)] = {
                "key": key, "version": version, "title_sv": title_sv, "title_en": title_en, "dimensions": dimensions,
            }
    return [_INSTRUMENT_CACHE[(key, version, digest)] for _pk, key, version, digest in versions]


def dimension_focus_areas() -> dict[tuple[str, str], str]:
    """``(instrument, dimension) → focus area key`` for dimensions that belong to a focus area."""
    mapping: dict[tuple[str, str], str] = {}
    for meta in _instrument_meta():
        for dimension in meta["dimensions"]:
            if dimension["focus_area"]:
                mapping[(meta["key"], dimension["id"])] = dimension["focus_area"]
    return mapping


def instrument_dimension_choices() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """``[(instrument key, title, [(dimension id, title), …]), …]`` of the latest version of each
    instrument, for the eligibility editor."""
    english = _english()
    latest: dict[str, dict[str, Any]] = {}
    for meta in _instrument_meta():
        latest[meta["key"]] = meta  # ordered by version: the last one wins
    result = []
    for key in sorted(latest):
        meta = latest[key]
        title = meta["title_en"] if english else meta["title_sv"]
        dims = [(d["id"], d["title_en"] if english else d["title_sv"]) for d in meta["dimensions"]]
        result.append((key, title, dims))
    return result


def known_dimensions() -> set[tuple[str, str]]:
    """Every ``(instrument, dimension)`` of any stored version (a rule may name an older one)."""
    return {(meta["key"], d["id"]) for meta in _instrument_meta() for d in meta["dimensions"]}


class _LazyMapping(Mapping):
    """A mapping read from the database on first use (labels are only needed for explanations)."""

    def __init__(self, load: Callable[[], dict]) -> None:
        self._load = load
        self._data: dict | None = None

    def _mapping(self) -> dict:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key):
        return self._mapping()[key]

    def __iter__(self):
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def labels() -> rules.Labels:
    """Names for codes in the rules' messages, in the active language; each kind is read (one
    small query) only when a message first needs it."""
    english = _english()

    @cache
    def instrument_names() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        instruments: dict[str, str] = {}
        dimensions: dict[tuple[str, str], str] = {}
        for meta in _instrument_meta():  # later versions overwrite earlier titles
            instruments[meta["key"]] = meta["title_en"] if english else meta["title_sv"]
            for d in meta["dimensions"]:
                dimensions[(meta["key"], d["id"])] = d["title_en"] if english else d["title_sv"]
        return instruments, dimensions

    @cache
    def places() -> list[tuple[str, str, str, str]]:
        return list(Municipality.objects.values_list("code", "name", "county_id", "county__name"))

    return rules.Labels(
        focus_areas=_LazyMapping(lambda: {fa.key: fa.name for fa in FocusArea.objects.all()}),
        instruments=_LazyMapping(lambda: instrument_names()[0]),
        dimensions=_LazyMapping(lambda: instrument_names()[1]),
        counties=_LazyMapping(lambda: {county: county_name for _code, _name, county, county_name in places()}),
        municipalities=_LazyMapping(lambda: {code: name for code, name, _county, _county_name in places()}),
    )


# --- De minimis headroom --------------------------------------------------------------------


#: Up to this many companies, the headroom is asked company by company
#: (``aid.deminimis_headroom_sek``); beyond it, in bulk (:func:`_bulk_headroom`).
HEADROOM_BULK_FROM = 50
_BULK_PARTS = ("single_undertaking", "granted_aid", "sek_per_eur", "window_after", "deminimis_decision", "CENT")


def _aid_module():
    """``sim.programmes.aid`` (written with the state-aid rules), or ``None`` when it is missing."""
    try:
        from sim.programmes import aid
    except ImportError as exc:
        if getattr(exc, "name", None) != "sim.programmes.aid":
            logger.warning("sim.programmes.aid cannot be imported (%s); de minimis headroom is unknown.", exc)
        return None
    return aid


def _bulk_headroom(aid, ids: list[int], on_date: date) -> dict[int, Decimal | None] | None:
    """The headroom of many companies with a few queries, from the aid module's own parts.

    The same computation as ``aid.deminimis_headroom_sek`` (a test holds them equal): the single
    undertaking of each company (``aid.single_undertaking``, asked only for companies that have an
    ownership link at all: the others are on their own), its de minimis awards in the window
    (``aid.granted_aid``, one query per 500 companies) and the headroom left under the ceiling
    (``aid.deminimis_decision``) at the date's rate (``aid.sek_per_eur``). ``None`` when the aid
    module lacks a part or an award cannot be converted (then ask company by company).
    """
    from django.db.models import Q

    from sim.companies.models import OwnershipLink

    if not all(hasattr(aid, name) for name in _BULK_PARTS):
        return None
    rate = aid.sek_per_eur(on_date)
    if rate is None:
        return dict.fromkeys(ids)
    linked: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for holder, held in OwnershipLink.objects.filter(Q(holder_id__in=chunk) | Q(held_id__in=chunk)).values_list(
            "holder_id", "held_id",
        ):
            linked.update((holder, held))
    members: dict[int, tuple[int, ...]] = {}
    linked_companies = {c.pk: c for c in Company.objects.filter(pk__in=[i for i in ids if i in linked])}
    for company_id in ids:
        company = linked_companies.get(company_id)
        members[company_id] = aid.single_undertaking(company) if company is not None else (company_id,)
    everyone = sorted({member for group in members.values() for member in group})
    used_by_company: dict[int, Decimal] = {}
    after = aid.window_after(on_date)
    for start in range(0, len(everyone), 500):
        awards = aid.granted_aid(everyone[start:start + 500], after, on_date)
        if awards is None:
            return None
        for award in awards:
            used_by_company[award.company_id] = used_by_company.get(award.company_id, Decimal(0)) + award.amount_eur
    result: dict[int, Decimal | None] = {}
    for company_id, group in members.items():
        used = sum((used_by_company.get(member, Decimal(0)) for member in group), Decimal(0))
        _allowed, headroom_eur = aid.deminimis_decision(used, Decimal(0))
        result[company_id] = (headroom_eur * rate).quantize(aid.CENT, rounding=ROUND_HALF_UP)
    return result


def _headroom_of(company: Company, on_date: date) -> Decimal | None:
    aid = _aid_module()
    function = getattr(aid, "deminimis_headroom_sek", None) if aid is not None else None
    value = function(company, on_date) if function is not None else None
    return None if value is None else Decimal(str(value))


def headroom_for(company_ids: Iterable[int], on_date: date) -> dict[int, Decimal | None]:
    """The de minimis headroom (SEK) of each company on that date; ``None`` when unknown.

    From ``sim.programmes.aid.deminimis_headroom_sek(company, on_date)`` when it exists (company by
    company for a few companies, in bulk for many); unknown for all when it does not.
    """
    ids = list(dict.fromkeys(company_ids))
    aid = _aid_module()
    function = getattr(aid, "deminimis_headroom_sek", None) if aid is not None else None
    if function is None or not ids:
        return dict.fromkeys(ids)
    if len(ids) >= HEADROOM_BULK_FROM:
        bulk = _bulk_headroom(aid, ids, on_date)
        if bulk is not None:
            return bulk
    result: dict[int, Decimal | None] = {}
    for start in range(0, len(ids), 500):
        for company in Company.objects.filter(pk__in=ids[start:start + 500]):
            value = function(company, on_date)
            result[company.pk] = None if value is None else Decimal(str(value))
    return result


def _with_headroom(profiles: Sequence[rules.CompanyProfile], on_date: date) -> list[rules.CompanyProfile]:
    values = headroom_for((p.id for p in profiles), on_date)
    return [replace(p, deminimis_headroom_sek=values.get(p.id)) for p in profiles]


# --- Profiles -------------------------------------------------------------------------------


def company_profiles(
    companies: QuerySet[Company], *, on_date: date | None = None, with_headroom: bool = False,
    dimension_focus: dict[tuple[str, str], str] | None = None,
) -> list[rules.CompanyProfile]:
    """Profiles of every company of the queryset, in three queries (plus the instruments').

    ``companies`` must not be sliced. The headroom is only looked up with ``with_headroom``.
    """
    on_date = on_date or timezone.localdate()
    dimension_focus = dimension_focus_areas() if dimension_focus is None else dimension_focus
    ids = companies.order_by().values("pk")
    rows = companies.order_by().annotate(
        in_target=Case(When(target_group_q(), then=Value(True)), default=Value(False), output_field=BooleanField()),
    ).values_list("pk", "name", "org_number", "size_class", "sni_primary", "municipality_id", "municipality__county_id", "in_target")

    needs: dict[int, list[rules.NeedItem]] = {}
    for company_id, focus_key, priority, title in Need.objects.filter(
        company_id__in=ids, status=NeedStatus.OPEN,
    ).order_by().values_list("company_id", "focus_area__key", "priority", "title"):
        needs.setdefault(company_id, []).append(rules.NeedItem(focus_key, priority, title))

    scores: dict[int, dict[tuple[str, str], float | None]] = {}
    focus_scores: dict[int, dict[str, float]] = {}
    assessed: dict[int, set[str]] = {}
    seen: set[tuple[int, str]] = set()
    for company_id, key, data in Assessment.objects.filter(
        company_id__in=ids, status=AssessmentStatus.COMPLETED,
    ).order_by("company_id", "instrument_version__key", "-conducted_on", "-completed_at", "-id").values_list(
        "company_id", "instrument_version__key", "scores",
    ):
        if (company_id, key) in seen:
            continue  # an older assessment of the same instrument
        seen.add((company_id, key))
        assessed.setdefault(company_id, set()).add(key)
        company_scores = scores.setdefault(company_id, {})
        for dimension, item in ((data or {}).get("dimensions") or {}).items():
            value = item.get("score") if isinstance(item, dict) else None
            value = None if value is None else float(value)
            company_scores[(key, dimension)] = value
            area = dimension_focus.get((key, dimension))
            if area and value is not None:
                current = focus_scores.setdefault(company_id, {}).get(area)
                if current is None or value < current:
                    focus_scores[company_id][area] = value

    profiles = [
        rules.CompanyProfile(
            id=pk, name=name, org_number=org_number, size_class=size_class or "", sni=sni or "",
            county=county or "", municipality=municipality or "", in_target_group=bool(in_target),
            scores=scores.get(pk, {}), needs=tuple(needs.get(pk, ())),
            focus_area_scores=focus_scores.get(pk, {}), assessed_instruments=frozenset(assessed.get(pk, ())),
        )
        for pk, name, org_number, size_class, sni, municipality, county, in_target in rows
    ]
    if with_headroom:
        profiles = _with_headroom(profiles, on_date)
    return profiles


def company_profile(company: Company, *, on_date: date | None = None, with_headroom: bool = True) -> rules.CompanyProfile:
    return company_profiles(Company.objects.filter(pk=company.pk), on_date=on_date, with_headroom=with_headroom)[0]


_PARSED_RULES: dict[str, rules.EligibilityRules] = {}
_PARSED_RULES_MAX = 4096


def _parsed_rules(text: str | None) -> tuple[rules.EligibilityRules, str]:
    """Parsed eligibility from the stored JSON text (cached by that text: offers share rules, and
    rules rarely change), or the reason it cannot be read."""
    key = text or "{}"
    parsed = _PARSED_RULES.get(key)
    if parsed is not None:
        return parsed, ""
    try:
        data = json.loads(key)
    except ValueError:
        return rules.EligibilityRules(), "invalid JSON"
    try:
        parsed = rules.parse_eligibility(data)
    except rules.EligibilityError as exc:
        return rules.EligibilityRules(), str(exc)  # not cached: the message is in the active language
    if len(_PARSED_RULES) >= _PARSED_RULES_MAX:
        _PARSED_RULES.clear()
    _PARSED_RULES[key] = parsed
    return parsed, ""


def offer_profiles(offers: QuerySet[Offer]) -> list[rules.OfferProfile]:
    """Profiles of the offers (at most three queries: offers, their focus areas, seats taken of the
    offers that have a capacity)."""
    english = _english()
    rows = list(offers.order_by().annotate(eligibility_text=Cast("eligibility", TextField())).values_list(
        "pk", "project_id", "title_sv", "title_en", "support_form", "eligibility_text", "capacity", "available_from",
        "available_to",
    ))
    if not rows:
        return []
    ids = offers.order_by().values("pk")
    areas: dict[int, set[str]] = {}
    for offer_id, key in Offer.focus_areas.through.objects.filter(offer_id__in=ids).values_list("offer_id", "focusarea__key"):
        areas.setdefault(offer_id, set()).add(key)
    taken: dict[int, int] = {}
    if any(row[6] is not None for row in rows):
        taken = dict(Referral.objects.filter(offer_id__in=ids, status__in=SEAT_STATUSES).order_by().values(
            "offer_id").annotate(n=Count("id")).values_list("offer_id", "n"))
    profiles = []
    for pk, project_id, title_sv, title_en, support_form, eligibility_text, capacity, available_from, available_to in rows:
        eligibility, error = _parsed_rules(eligibility_text)
        profiles.append(rules.OfferProfile(
            id=pk, title=(title_en or title_sv) if english else (title_sv or title_en),
            focus_area_keys=frozenset(areas.get(pk, ())), support_form=support_form, eligibility=eligibility,
            capacity=capacity, capacity_left=None if capacity is None else capacity - taken.get(pk, 0),
            available_from=available_from, available_to=available_to, rules_error=error, project_id=project_id,
        ))
    return profiles


# --- Recommendations for a company ----------------------------------------------------------


@dataclass
class CompanyRecommendations:
    """Ranked offers of one company; reasons and explanations are built for what is read."""

    profile: rules.CompanyProfile
    eligible: list[rules.RankedOffer]
    ineligible: list[rules.RankedOffer]
    on_date: date

    @property
    def total(self) -> int:
        return len(self.eligible) + len(self.ineligible)

    def rows(self, ranked: Sequence[rules.RankedOffer], limit: int | None = None) -> list[RecommendationRow]:
        """``(rank, ranked offer, its model row)`` for templates; rank counts among ``ranked``.

        Only the chosen offers' rows are read (with project and provider).
        """
        chosen = list(ranked if limit is None else ranked[:limit])
        models = Offer.objects.select_related("project", "provider").in_bulk([item.offer.id for item in chosen])
        return [RecommendationRow(position, item, models[item.offer.id]) for position, item in enumerate(chosen, start=1)]


@dataclass(frozen=True)
class RecommendationRow:
    rank: int
    ranked: rules.RankedOffer
    offer: Offer


def recommendable_offers(projects) -> QuerySet[Offer]:
    """The offers that can be recommended: open for referrals, in these projects."""
    return Offer.objects.filter(project__in=projects, active=True)


def recommendations_for_company(company: Company, offers: QuerySet[Offer], *, on_date: date | None = None) -> CompanyRecommendations:
    """Every offer of ``offers`` for this company: eligible ones ranked by fit, ineligible ones
    (also by fit) with their reasons. Nothing is left out."""
    on_date = on_date or timezone.localdate()
    offer_list = offer_profiles(offers)
    profile = company_profile(company, on_date=on_date, with_headroom=False)
    if any(o.eligibility.deminimis_headroom_sek is not None for o in offer_list):
        profile = replace(profile, deminimis_headroom_sek=_headroom_of(company, on_date))
    eligible, ineligible = rules.rank_offers(profile, offer_list, on_date, labels())
    return CompanyRecommendations(profile, eligible, ineligible, on_date)


# --- Companies an offer suits ---------------------------------------------------------------


def project_companies(project: Project) -> QuerySet[Company]:
    """The companies of the project's area: its municipalities, or (when it lists none) every
    municipality of its counties; the whole register when it names neither. Archived and merged
    companies are left out."""
    queryset = Company.objects.exclude(status=CompanyStatus.ARCHIVED).filter(merged_into__isnull=True)
    codes = list(project.municipalities.values_list("code", flat=True))
    if not codes:
        counties = list(project.counties.values_list("code", flat=True))
        if counties:
            codes = municipality_codes(counties)
        else:
            return queryset
    return queryset.filter(municipality_id__in=codes)


def project_has_area(project: Project) -> bool:
    return project.municipalities.exists() or project.counties.exists()


ELIGIBLE_CHOICES = (("yes", _("Eligible only")), ("no", _("Not eligible only")), ("all", _("All")))


@dataclass
class SuitedFilters:
    municipality: str = ""
    size_class: str = ""
    sni: str = ""
    target_group: str = ""  # "yes" | "no" | ""
    min_fit: str = ""
    eligible: str = "yes"  # "yes" | "no" | "all"
    errors: dict[str, str] = field(default_factory=dict)

    KEYS = ("municipality", "size_class", "sni", "target_group", "min_fit", "eligible")

    @classmethod
    def from_params(cls, params) -> SuitedFilters:
        filters = cls(**{key: str(params.get(key) or "").strip() for key in cls.KEYS})
        if not filters.eligible:
            filters.eligible = "yes"
        if filters.eligible not in {"yes", "no", "all"}:
            filters.errors["eligible"] = str(_("Choose eligible, not eligible or all."))
            filters.eligible = "yes"
        if filters.size_class and filters.size_class not in SizeClass.values:
            filters.errors["size_class"] = str(_("Unknown size class."))
            filters.size_class = ""
        if filters.target_group and filters.target_group not in {"yes", "no"}:
            filters.errors["target_group"] = str(_("Choose yes or no."))
            filters.target_group = ""
        if filters.sni and not re.fullmatch(r"[0-9]{1,2}(\.?[0-9]{0,3})?", filters.sni):
            filters.errors["sni"] = str(_("Write an SNI code or its beginning, e.g. 25 or 25.62."))
            filters.sni = ""
        if filters.municipality and not re.fullmatch(r"[0-9]{4}", filters.municipality):
            filters.errors["municipality"] = str(_("Unknown municipality."))
            filters.municipality = ""
        if filters.min_fit:
            try:
                value = Decimal(filters.min_fit.replace(",", "."))
                if not value.is_finite() or not 0 <= value <= 100:
                    raise InvalidOperation
            except InvalidOperation:
                filters.errors["min_fit"] = str(_("Write a number from 0 to 100."))
                filters.min_fit = ""
        return filters

    @property
    def min_fit_value(self) -> float | None:
        return float(Decimal(self.min_fit.replace(",", "."))) if self.min_fit else None

    def as_query(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in self.KEYS if getattr(self, key) and not (key == "eligible" and self.eligible == "yes")}


@dataclass
class SuitedRow:
    rank: int | None  # position among the eligible companies (None for the ineligible)
    eligible: bool
    fit: float
    profile: rules.CompanyProfile
    explanation: str = ""
    municipality_name: str = ""

    @property
    def company_id(self) -> int:
        return self.profile.id

    @property
    def org_number_display(self) -> str:
        number = self.profile.org_number
        return f"{number[:6]}-{number[6:]}" if len(number) == 10 else number

    @property
    def size_class_label(self) -> str:
        return str(SizeClass(self.profile.size_class).label) if self.profile.size_class in SizeClass.values else ""

    @property
    def sni_display(self) -> str:
        return rules.format_sni(self.profile.sni) if self.profile.sni else ""


@dataclass
class SuitedCompanies:
    offer_profile: rules.OfferProfile
    rows: list[SuitedRow]  # ranked and filtered, explanations not yet filled
    considered: int  # companies of the project's area (after the register filters)
    eligible_count: int
    on_date: date
    area_limited: bool


def suited_companies(user, offer: Offer, filters: SuitedFilters, *, on_date: date | None = None) -> SuitedCompanies:
    """The companies of the offer's project area ranked for the offer: eligible first, by fit.

    Companies the user may not see are left out. Call :func:`explain_rows` for the rows shown.
    """
    on_date = on_date or timezone.localdate()
    offer_profile = offer_profiles(Offer.objects.filter(pk=offer.pk))[0]
    queryset = project_companies(offer.project) & companies_visible_to(user)
    if filters.municipality:
        queryset = queryset.filter(municipality_id=filters.municipality)
    if filters.size_class:
        queryset = queryset.filter(size_class=filters.size_class)
    if filters.sni:
        queryset = queryset.filter(prefix_q("sni_primary", filters.sni.replace(".", "")))
    if filters.target_group == "yes":
        queryset = queryset.filter(target_group_q())
    elif filters.target_group == "no":
        queryset = queryset.exclude(target_group_q())
    profiles = company_profiles(queryset, on_date=on_date)
    if offer_profile.eligibility.deminimis_headroom_sek is not None:
        candidates = [p for p in profiles if rules.eligible_except_headroom(p, offer_profile, on_date)]
        filled = {p.id: p for p in _with_headroom(candidates, on_date)}
        profiles = [filled.get(p.id, p) for p in profiles]
    ranked = rules.rank_companies(offer_profile, profiles, on_date)
    rows: list[SuitedRow] = []
    position = 0
    for eligible, fit, profile in ranked:
        if eligible:
            position += 1
        rows.append(SuitedRow(position if eligible else None, eligible, fit, profile))
    eligible_count = position
    minimum = filters.min_fit_value
    if minimum is not None:
        rows = [row for row in rows if row.fit >= minimum]
    if filters.eligible == "yes":
        rows = [row for row in rows if row.eligible]
    elif filters.eligible == "no":
        rows = [row for row in rows if not row.eligible]
    return SuitedCompanies(offer_profile, rows, len(profiles), eligible_count, on_date, project_has_area(offer.project))


def explain_rows(result: SuitedCompanies, rows: Sequence[SuitedRow], label_set: rules.Labels | None = None) -> list[SuitedRow]:
    """Fill in the explanation (and a complete de minimis reason) of the rows to show."""
    label_set = label_set or labels()
    offer = result.offer_profile
    if offer.eligibility.deminimis_headroom_sek is not None:
        missing = [row.profile for row in rows if row.profile.deminimis_headroom_sek is None]
        values = headroom_for((p.id for p in missing), result.on_date)
    else:
        values = {}
    for row in rows:
        profile = row.profile
        if profile.id in values:
            profile = replace(profile, deminimis_headroom_sek=values[profile.id])
        evaluation = rules.evaluate(profile, offer, result.on_date, label_set)
        breakdown = rules.fit_breakdown(profile, offer)
        row.explanation = rules.explain(profile, offer, evaluation, breakdown, label_set)
        row.municipality_name = label_set.municipalities.get(profile.municipality, "")
    return list(rows)


# --- Everything at once (dashboards, benchmark) ---------------------------------------------


def rank_all(companies: QuerySet[Company], offers: QuerySet[Offer], *, on_date: date | None = None) -> dict[int, list[tuple[bool, float, int]]]:
    """Every company of ``companies`` against every offer of ``offers`` (see :func:`rank_matrix`).

    The de minimis headroom is looked up only for companies that pass every other rule of at least
    one offer with a headroom rule.
    """
    on_date = on_date or timezone.localdate()
    offer_list = offer_profiles(offers)
    profiles = company_profiles(companies, on_date=on_date)
    candidates = rules.headroom_candidates(profiles, offer_list, on_date)
    if candidates:
        values = headroom_for(sorted(candidates), on_date)
        profiles = [replace(p, deminimis_headroom_sek=values[p.id]) if p.id in values else p for p in profiles]
    return rank_matrix(profiles, offer_list, on_date)


def rank_matrix(
    companies: Sequence[rules.CompanyProfile], offers: Sequence[rules.OfferProfile], on_date: date,
) -> dict[int, list[tuple[bool, float, int]]]:
    """For each company, every offer as ``(eligible, fit, offer id)``: eligible first, by fit
    (``rules.rank_matrix``). Fill the headroom first if any offer has a headroom rule."""
    return rules.rank_matrix(companies, offers, on_date)

