"""Reads of the taxonomy: search and browse, and walking broader/narrower links (roll-up)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, TextField
from django.db.models.functions import Cast

from . import taxonomy
from .models import Concept

#: Concepts a search looks at before ranking (the list shows the best first).
SEARCH_CANDIDATES = 2000


@dataclass(frozen=True)
class ConceptFilters:
    query: str = ""
    kind: str = ""
    include_inactive: bool = False

    @classmethod
    def from_params(cls, params) -> ConceptFilters:
        kind = params.get("kind", "")
        return cls(
            query=" ".join(str(params.get("q", "")).split())[:200],
            kind=kind if kind in taxonomy.KINDS else "",
            include_inactive=params.get("inactive") in ("1", "on", "true"),
        )

    def as_query(self) -> dict[str, str]:
        data = {"q": self.query, "kind": self.kind}
        if self.include_inactive:
            data["inactive"] = "1"
        return {k: v for k, v in data.items() if v}


def _label_filter(query: str) -> Q:
    """Concepts with ``query`` in any label, letter case ignored.

    SQLite folds the case of ASCII letters only, so the query is also searched in lower case, upper
    case and capitalised ("ÖVERSTE", "överste", "Överste"). Alternative labels are JSON lists: on
    SQLite they are stored with ``\\uXXXX`` escapes, so the escaped forms are searched as well."""
    condition = Q()
    for variant in dict.fromkeys((query, query.lower(), query.upper(), query.capitalize(), query.title())):
        condition |= (
            Q(preferred_label_sv__icontains=variant) | Q(preferred_label_en__icontains=variant)
            | Q(alt_sv_text__icontains=variant) | Q(alt_en_text__icontains=variant)
        )
        escaped = json.dumps(variant)[1:-1]
        if escaped != variant:
            condition |= Q(alt_sv_text__icontains=escaped) | Q(alt_en_text__icontains=escaped)
    return condition


def _rank(concept: Concept, key: str) -> tuple:
    """Exact label first, then a label starting with the query, then the rest; preferred before
    alternative labels; then alphabetically."""
    preferred = [taxonomy.label_key(label) for label in (concept.preferred_label_sv, concept.preferred_label_en) if label]
    alternative = [taxonomy.label_key(label) for label in (*concept.alt_labels_sv, *concept.alt_labels_en)]
    if key in preferred:
        score = 0
    elif key in alternative:
        score = 1
    elif any(label.startswith(key) for label in preferred):
        score = 2
    elif any(label.startswith(key) for label in alternative):
        score = 3
    elif any(key in label for label in preferred):
        score = 4
    else:
        score = 5
    return (score, taxonomy.label_key(concept.label))


def concept_list(filters: ConceptFilters) -> QuerySet[Concept] | list[Concept]:
    """Concepts for the browse page: filtered by kind and activity; with a query, those whose labels
    contain it (either language, preferred or alternative), best matches first."""
    queryset = Concept.objects.all()
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if not filters.include_inactive:
        queryset = queryset.filter(active=True)
    if not filters.query:
        return queryset.order_by("kind", "preferred_label_sv", "preferred_label_en", "pk")
    return concept_search(filters.query, queryset=queryset)


def concept_search(query: str, *, kind: str | None = None, queryset: QuerySet[Concept] | None = None,
                   limit: int | None = None) -> list[Concept]:
    """Concepts whose labels (Swedish or English, preferred or alternative) contain ``query``,
    ranked (see :func:`_rank`). For ranking free text by meaning use the matcher instead."""
    query = " ".join(str(query or "").split())
    if not query:
        return []
    if queryset is None:
        queryset = Concept.objects.filter(active=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    queryset = queryset.annotate(
        alt_sv_text=Cast("alt_labels_sv", TextField()), alt_en_text=Cast("alt_labels_en", TextField())
    ).filter(_label_filter(query))
    key = taxonomy.label_key(query)
    found = sorted(queryset[:SEARCH_CANDIDATES], key=lambda concept: _rank(concept, key))
    return found[:limit] if limit else found


def concept_by_uri(uri: str) -> Concept | None:
    return Concept.objects.filter(uri=uri).first()


def concept_detail(pk: int) -> Concept | None:
    return Concept.objects.prefetch_related("broader", "narrower").filter(pk=pk).first()


def kind_counts() -> dict[str, int]:
    """Active concepts per kind."""
    counts = dict(Concept.objects.filter(active=True).values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return {kind: counts.get(kind, 0) for kind in taxonomy.KINDS}


# --- broader/narrower ----------------------------------------------------------------------


def broader_map(concept_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """``{concept id: [broader ids]}`` for every link (or for the links above ``concept_ids``,
    followed upwards until the top)."""
    Link = Concept.broader.through
    result: dict[int, list[int]] = {}
    if concept_ids is None:
        for narrower_id, broader_id in Link.objects.values_list("from_concept_id", "to_concept_id").iterator(chunk_size=5000):
            result.setdefault(narrower_id, []).append(broader_id)
        return result
    frontier = set(concept_ids)
    seen: set[int] = set()
    while frontier:
        seen |= frontier
        following: set[int] = set()
        for narrower_id, broader_id in Link.objects.filter(from_concept_id__in=frontier).values_list(
            "from_concept_id", "to_concept_id"
        ):
            result.setdefault(narrower_id, []).append(broader_id)
            if broader_id not in seen:
                following.add(broader_id)
        frontier = following
    return result


def ancestors(concept: Concept | int) -> list[Concept]:
    """All broader concepts of a concept (transitively), nearest first."""
    pk = concept.pk if isinstance(concept, Concept) else concept
    order = taxonomy.ancestors_of(pk, broader_map([pk]))
    found = Concept.objects.in_bulk(order)
    return [found[i] for i in order if i in found]


def broader_path(concept: Concept) -> list[Concept]:
    """The chain from the top group down to the concept along its primary broader links (a
    breadcrumb): ``[top, …, concept]``."""
    chain = taxonomy.primary_path(concept.pk, broader_map([concept.pk]))
    found = Concept.objects.in_bulk(chain)
    return [found[i] for i in chain if i in found]


def descendants(concept: Concept | int) -> list[Concept]:
    """All narrower concepts (transitively), nearest first."""
    pk = concept.pk if isinstance(concept, Concept) else concept
    Link = Concept.broader.through
    order: list[int] = []
    seen = {pk}
    frontier = {pk}
    while frontier:
        children = set(Link.objects.filter(to_concept_id__in=frontier).values_list("from_concept_id", flat=True)) - seen
        seen |= children
        order.extend(sorted(children))
        frontier = children
    found = Concept.objects.in_bulk(order)
    return [found[i] for i in order if i in found]


def roll_up(concept_ids: Iterable[int], level: int = 0) -> dict[int, int]:
    """``{concept id: id rolled up}``: each concept replaced by its ancestor ``level`` steps below
    the top of its primary broader path (0 = the top group: for occupations of the default
    taxonomy an ISCO major group, for skills one of our skill areas). A concept not that deep
    stays itself; a concept without broader links is its own top.

    For aggregating demand and supply "rolled up the taxonomy": sum by the returned ids.
    """
    ids = list(dict.fromkeys(concept_ids))
    return taxonomy.roll_up_map(ids, level, broader_map(ids))


def depth_of(concept_ids: Iterable[int]) -> dict[int, int]:
    """How many primary broader steps each concept is below its top (0 = a top concept)."""
    ids = list(dict.fromkeys(concept_ids))
    graph = broader_map(ids)
    return {pk: len(taxonomy.primary_path(pk, graph)) - 1 for pk in ids}
