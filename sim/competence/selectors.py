"""Reading competence needs, offerings, suggestions and the anonymised demand picture.

Taxonomy reads are in :mod:`sim.competence.selectors_taxonomy`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from sim.core.roles import REGISTER_WIDE_ROLES, Role, user_roles

from . import rules, selectors_taxonomy
from .models import (
    CompetenceNeed,
    Concept,
    EducationOffering,
    MatchCorrection,
    NeedConcept,
    NeedReferral,
    OfferingConcept,
    ProviderStaff,
)

#: Concepts are rolled up to the ancestor this many steps below the top of the taxonomy (0 = the
#: top group; 1 = one level below, e.g. an ISCO sub-major group) for the "group" level.
ROLLUP_LEVEL = 1


# --- who sees what ------------------------------------------------------------------------


def sees_company_needs(user) -> bool:
    """Staff with the register see every company's needs; representatives their own; education
    providers none at all (only the anonymised demand picture)."""
    return user.is_authenticated and user.has_perm("competence.view_competenceneed")


def needs_visible_to(user) -> QuerySet[CompetenceNeed]:
    if not sees_company_needs(user):
        return CompetenceNeed.objects.none()
    roles = user_roles(user)
    if user.is_superuser or roles & REGISTER_WIDE_ROLES:
        qs = CompetenceNeed.objects.all()
    elif Role.COMPANY_REPRESENTATIVE in roles:
        qs = CompetenceNeed.objects.filter(company__representatives__user=user)
    else:
        return CompetenceNeed.objects.none()
    return qs.select_related("municipality", "company").prefetch_related(
        Prefetch("links", queryset=NeedConcept.objects.select_related("concept").order_by("-confirmed", "-score", "id")),
        Prefetch("referral_links", queryset=NeedReferral.objects.select_related("referral", "offering")))


def needs_of(user, company) -> list[CompetenceNeed]:
    return list(needs_visible_to(user).filter(company=company).order_by("status", "-created_at"))


def need_for_user(user, pk: int) -> CompetenceNeed | None:
    return needs_visible_to(user).filter(pk=pk).first()


def may_change_need(user, need_or_company) -> bool:
    return user.has_perm("competence.change_competenceneed")


def sees_demand_report(user) -> bool:
    """The anonymised report: programme staff and education providers (company representatives
    work with their own company's needs in the portal)."""
    if not user.is_authenticated or not user.has_perm("competence.view_concept"):
        return False
    return user.is_superuser or bool(user_roles(user) - {Role.COMPANY_REPRESENTATIVE})


def providers_of(user):
    """The provider organisations whose offerings this user maintains: all for staff who may add
    offerings, their own for education providers."""
    from sim.programmes.models import Organisation

    if not user.is_authenticated or not user.has_perm("competence.change_educationoffering"):
        return Organisation.objects.none()
    roles = user_roles(user)
    if user.is_superuser or roles & REGISTER_WIDE_ROLES:
        return Organisation.objects.all()
    return Organisation.objects.filter(staff__user=user).distinct()


def offerings_visible_to(user) -> QuerySet[EducationOffering]:
    if not user.is_authenticated or not user.has_perm("competence.view_educationoffering"):
        return EducationOffering.objects.none()
    return EducationOffering.objects.select_related("provider", "municipality").prefetch_related(
        Prefetch("links", queryset=OfferingConcept.objects.select_related("concept").order_by("-confirmed", "id")))


def offerings_editable_by(user) -> QuerySet[EducationOffering]:
    return offerings_visible_to(user).filter(provider__in=providers_of(user))


def is_provider_staff(user) -> bool:
    return ProviderStaff.objects.filter(user=user).exists() if user.is_authenticated else False


# --- suggestions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    concept_id: int
    uri: str
    label: str
    kind: str
    score: float
    corrected: bool = False  # chosen for the same text before


def _matcher():
    """The taxonomy matcher (:mod:`sim.competence.matching`), or None where it is not installed."""
    try:
        from . import matching
    except ImportError:
        return None
    return getattr(matching, "suggest_concepts", None)


def suggestions(text: str, *, kind: str | None = None, top: int = 8) -> list[Suggestion]:
    """Concepts for a need text: earlier choices for the same text first (most chosen first), then
    the matcher's ranking (or, without the matcher, a label search)."""
    key = rules.normalise_text(text)
    if not key:
        return []
    result: list[Suggestion] = []
    seen: set[int] = set()
    corrections = MatchCorrection.objects.filter(text_key=key, concept__active=True).select_related("concept")
    if kind:
        corrections = corrections.filter(concept__kind=kind)
    for correction in corrections.order_by("-times", "-last_chosen_at")[:top]:
        concept = correction.concept
        result.append(Suggestion(concept.pk, concept.uri, concept.label, concept.kind, 1.0, corrected=True))
        seen.add(concept.pk)
    matcher = _matcher()
    if matcher is not None:
        found = [(item.concept_id, float(item.score)) for item in matcher(text, kind=kind, top=top)]
    else:
        found = [(concept.pk, 0.0) for concept in selectors_taxonomy.concept_search(text, kind=kind)[:top]]
    concepts = Concept.objects.in_bulk([pk for pk, _score in found])
    for pk, score in found:
        concept = concepts.get(pk)
        if concept is None or pk in seen or not concept.active:
            continue
        seen.add(pk)
        result.append(Suggestion(pk, concept.uri, concept.label, concept.kind, round(score, 3)))
    return result[:top]


# --- supply -----------------------------------------------------------------------------------


def _neighbours(concept_ids) -> dict[int, set[int]]:
    """Each concept with its direct broader and narrower concepts (what an offering may cover)."""
    ids = set(concept_ids)
    result = {pk: {pk} for pk in ids}
    Link = Concept.broader.through
    for narrower, broader in Link.objects.filter(Q(from_concept_id__in=ids) | Q(to_concept_id__in=ids)).values_list(
            "from_concept_id", "to_concept_id"):
        if narrower in result:
            result[narrower].add(broader)
        if broader in result:
            result[broader].add(narrower)
    return result


def supply_facts(queryset: QuerySet[EducationOffering] | None = None) -> list[rules.SupplyFact]:
    qs = queryset if queryset is not None else EducationOffering.objects.all()
    qs = qs.filter(active=True).select_related("municipality")
    concepts: dict[int, set[int]] = defaultdict(set)
    for offering_id, concept_id in OfferingConcept.objects.filter(offering__in=qs, confirmed=True).values_list(
            "offering_id", "concept_id"):
        concepts[offering_id].add(concept_id)
    facts = []
    for offering in qs:
        starts = []
        for value in offering.start_dates or []:
            try:
                starts.append(dt.date.fromisoformat(str(value)))
            except ValueError:
                continue
        facts.append(rules.SupplyFact(
            offering_id=offering.pk, provider_id=offering.provider_id, concept_ids=frozenset(concepts[offering.pk]),
            municipality=offering.municipality_id or "", county=offering.municipality.county_id if offering.municipality else "",
            distance=offering.distance, seats=offering.seats, kind=offering.kind, start_dates=tuple(starts)))
    return facts


@dataclass
class OfferingMatch:
    offering: EducationOffering
    reach: str  # municipality, county, distance


def projects_to_refer_in(user):
    """The running (not closed) projects a user may refer companies in: those they are a member of."""
    from sim.programmes.models import ProjectStatus
    from sim.programmes.projects import projects_for

    return projects_for(user).exclude(status=ProjectStatus.CLOSED).order_by("name")


def default_referral_project(need: CompetenceNeed, projects):
    """The project a referral for ``need`` is proposed in: the need's own when it is one of
    ``projects``, else the first of them (None when there is none)."""
    if need.project_id and projects.filter(pk=need.project_id).exists():
        return need.project_id
    first = projects.first()
    return first.pk if first is not None else None


def offerings_for_need(need: CompetenceNeed, *, today: dt.date | None = None) -> list[OfferingMatch]:
    """Active offerings that cover one of the need's confirmed concepts within reach, nearest first."""
    today = today or timezone.localdate()
    concept_ids = [link.concept_id for link in need.links.all() if link.confirmed]
    if not concept_ids:
        return []
    near = set().union(*_neighbours(concept_ids).values())
    municipality = need.municipality_id or need.company.municipality_id or ""
    county = (need.municipality or need.company.municipality).county_id if (need.municipality or need.company.municipality) else ""
    candidates = EducationOffering.objects.filter(active=True, links__concept_id__in=near, links__confirmed=True).distinct()
    facts = {fact.offering_id: fact for fact in supply_facts(candidates)}
    order = {"municipality": 0, "county": 1, "distance": 2}
    matches = []
    for offering in candidates.select_related("provider", "municipality"):
        fact = facts.get(offering.pk)
        if fact and rules.offering_covers(fact, concepts=near, kind=need.kind, horizon=need.horizon,
                                          municipality=municipality, county=county, today=today):
            matches.append(OfferingMatch(offering, rules.reach_of(fact, municipality, county)))
    return sorted(matches, key=lambda m: (order.get(m.reach, 3), m.offering.name))


# --- the demand picture -------------------------------------------------------------------------


def demand_facts(*, today: dt.date | None = None, supply: list[rules.SupplyFact] | None = None) -> list[rules.DemandFact]:
    """One fact per confirmed concept of each open need, with the concept rolled up and whether an
    offering within reach covers it."""
    today = today or timezone.localdate()
    supply = supply_facts() if supply is None else supply
    links = list(NeedConcept.objects.filter(confirmed=True, need__status=CompetenceNeed.Status.OPEN, concept__active=True)
                 .values_list("need_id", "concept_id", "need__company_id", "need__municipality_id",
                              "need__municipality__county_id", "need__company__municipality_id",
                              "need__company__municipality__county_id", "need__horizon", "need__kind", "need__urgency",
                              "need__people", "need__created_at").order_by("need_id", "concept_id"))
    concept_ids = {link[1] for link in links}
    groups = selectors_taxonomy.roll_up(concept_ids, ROLLUP_LEVEL) if concept_ids else {}
    near = _neighbours(concept_ids)
    by_concept: dict[int, list[rules.SupplyFact]] = defaultdict(list)
    for offering in supply:
        for concept_id in offering.concept_ids:
            by_concept[concept_id].append(offering)
    facts = []
    for (need_id, concept_id, company_id, municipality, county, company_municipality, company_county, horizon, kind,
         urgency, people, created_at) in links:
        if not municipality:
            municipality, county = company_municipality, company_county
        candidates = {offering.offering_id: offering for pk in near.get(concept_id, {concept_id}) for offering in by_concept.get(pk, ())}
        covered = any(rules.offering_covers(offering, concepts=near.get(concept_id, {concept_id}), kind=kind, horizon=horizon,
                                            municipality=municipality or "", county=county or "", today=today)
                      for offering in candidates.values())
        facts.append(rules.DemandFact(
            need_id=need_id, company_id=company_id, concept_id=concept_id, group_id=groups.get(concept_id, concept_id),
            municipality=municipality or "", county=county or "", horizon=horizon, kind=kind, urgency=urgency,
            people=people, quarter=rules.quarter_of(timezone.localtime(created_at) if timezone.is_aware(created_at) else created_at),
            covered=covered))
    return facts


_PROTECTED: dict[tuple, tuple[rules.Cube, rules.Protection]] = {}


def protected_cube(facts: list[rules.DemandFact]) -> tuple[rules.Cube, rules.Protection]:
    """The cube and its suppression, computed once per set of facts (kept for the last few)."""
    key = tuple(facts)
    if key not in _PROTECTED:
        cube = rules.build_cube(facts)
        if len(_PROTECTED) >= 4:
            _PROTECTED.pop(next(iter(_PROTECTED)))
        _PROTECTED[key] = (cube, rules.protect(cube))
    return _PROTECTED[key]


@dataclass(frozen=True)
class ReportFilters:
    level: str = rules.LEVEL_CONCEPT
    area: str = rules.ALL  # "*", "c:23" or "m:2380"
    horizon: str = rules.ALL
    kind: str = rules.ALL

    def key(self, concept: int, **overrides: Any) -> rules.Key:
        values = {"area": self.area, "horizon": self.horizon, "kind": self.kind} | overrides
        return rules.cell_key(level=self.level, concept=concept, **values)


@dataclass
class ReportRow:
    concept_id: int
    label: str
    uri: str
    total: rules.Figure
    covered: rules.Figure
    gap: rules.Figure
    offerings: int
    seats: int | None
    quarters: list[rules.Figure] = field(default_factory=list)


@dataclass
class DemandReport:
    filters: ReportFilters
    rows: list[ReportRow]
    gaps: list[ReportRow]
    quarters: list[str]
    areas: list[tuple[str, str]]
    suppressed_cells: int
    companies: int  # shown only when at least the minimum
    generated_on: dt.date


def area_choices(cube: rules.Cube) -> list[tuple[str, str]]:
    """The counties with demand, each followed by all its municipalities (not only those with
    demand: the list must not tell where the needs are)."""
    from sim.companies.models import County, Municipality

    counties = sorted(area[2:] for area in set(cube.county_of.values()) if area != "c:?")
    names = dict(County.objects.filter(code__in=counties).values_list("code", "name"))
    municipalities: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, name, county in Municipality.objects.filter(county_id__in=counties).order_by("name").values_list(
            "code", "name", "county_id"):
        municipalities[county].append((f"m:{code}", f"– {name}"))
    choices = []
    for code in sorted(counties, key=lambda c: names.get(c, c)):
        choices.append((f"c:{code}", names.get(code, code)))
        choices.extend(municipalities[code])
    return choices


def demand_report(filters: ReportFilters, *, today: dt.date | None = None) -> DemandReport:
    """The anonymised demand picture for one choice of filters.

    Suppression is decided on the whole cube at once (every area, horizon, kind, quarter and
    coverage and both concept levels), so no two filters—nor any sum or difference of what they
    show—give away a cell built from fewer than three companies. No company is named.
    """
    today = today or timezone.localdate()
    supply = supply_facts()
    facts = demand_facts(today=today, supply=supply)
    cube, protection = protected_cube(facts)
    concepts_in_view = sorted({key[1] for key in cube.cells if key[0] == filters.level})
    labels = {c.pk: c for c in Concept.objects.filter(pk__in=concepts_in_view)}
    quarters = sorted({key[5] for key in cube.cells if key[5] != rules.ALL})
    quarter_area = filters.area if not filters.area.startswith("m:") else cube.county_of.get(filters.area, rules.ALL)
    members: dict[int, set[int]] = defaultdict(set)
    for concept_id, group_id in cube.group_of.items():
        members[concept_id if filters.level == rules.LEVEL_CONCEPT else group_id].add(concept_id)
    rows = []
    for concept_id in concepts_in_view:
        total = rules.figure(cube, protection, filters.key(concept_id))
        if total.empty or total.suppressed:
            # Not even listed: that an occupation is needed at all in a small area could point
            # to the one company there. The report says that some rows may be left out.
            continue
        reach = _supply_in_area(supply, members[concept_id], filters)
        concept = labels.get(concept_id)
        rows.append(ReportRow(
            concept_id=concept_id, label=concept.label if concept else str(concept_id), uri=concept.uri if concept else "",
            total=total, covered=rules.figure(cube, protection, filters.key(concept_id, coverage=rules.COVERED)),
            gap=rules.figure(cube, protection, filters.key(concept_id, coverage=rules.GAP)),
            offerings=len(reach), seats=_seats(reach),
            quarters=[rules.figure(cube, protection, filters.key(concept_id, area=quarter_area, quarter=q)) for q in quarters],
        ))
    rows.sort(key=lambda row: (-row.total.people, row.label))
    gaps = sorted((row for row in rows if not row.gap.suppressed and not row.gap.empty), key=lambda row: rules.gap_rank_key(row.gap))
    companies = len({fact.company_id for fact in facts})
    return DemandReport(filters=filters, rows=rows, gaps=gaps, quarters=quarters, areas=area_choices(cube),
                        suppressed_cells=len(protection.suppressed),
                        companies=companies if companies >= rules.MIN_COMPANIES else 0, generated_on=today)


def _supply_in_area(supply: list[rules.SupplyFact], concept_ids: set[int], filters: ReportFilters) -> list[rules.SupplyFact]:
    result = []
    for offering in supply:
        if not offering.concept_ids & concept_ids or not rules.offering_has_seats(offering):
            continue
        if filters.kind != rules.ALL and filters.kind not in rules.OFFERING_SERVES.get(offering.kind, ()):
            continue
        area = filters.area
        if area.startswith("m:"):
            county = area_county_code(area)
            if not rules.offering_reaches(offering, area[2:], county):
                continue
        elif area.startswith("c:") and not (offering.distance or offering.county == area[2:]):
            continue
        result.append(offering)
    return result


def area_county_code(area: str) -> str:
    from sim.companies.models import Municipality

    return Municipality.objects.filter(code=area[2:]).values_list("county_id", flat=True).first() or ""


def _seats(offerings: list[rules.SupplyFact]) -> int | None:
    if any(offering.seats is None for offering in offerings):
        return None
    return sum(offering.seats or 0 for offering in offerings)
