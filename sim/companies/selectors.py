"""Reads of the company register: visibility, search, filters, summaries."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from math import ceil

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, CharField, Count, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat, StrIndex
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from sim.core.audit import history_for
from sim.core.models import AuditEvent
from sim.core.roles import REGISTER_WIDE_ROLES, user_roles

from .models import Company, CompanyStatus, Contact, SizeClass

ORG_NUMBER_FRAGMENT = re.compile(r"^[0-9][0-9\- ]*$")
#: A name search (a fragment of three characters or more) on the list page and in the API lists
#: its first SEARCH_WINDOW matches in the list's order (20 pages) and says "more than 500" when
#: there are more; the export lists every match. See :func:`_search_window`.
SEARCH_WINDOW = 500
#: A name search walks the name index (reading only the index) to fill its window for at most
#: this many index entries per match it is expected to have, and at most SEARCH_WALK_BUDGET
#: entries (about 25 ms), before it sorts all matches instead. Sorting costs about as much per
#: match as testing 15–20 index entries, so a walk that falls short adds a fifth to the sort.
SEARCH_WALK_PER_MATCH = 3
SEARCH_WALK_BUDGET = 150_000
#: SQLite, which counts matches exactly: with more than this many the walk has no budget
#: (sorting them costs as much as walking the whole index, 150 ms).
SEARCH_MANY_MATCHES = 20_000
#: The list counts at most this many companies ("more than 10,000") and sorts by columns no
#: index can give (size, status, municipality) only up to this many.
LIST_COUNT_CAP = 10_000
UNINDEXED_SORTS = {"size", "-size", "status", "-status", "municipality", "-municipality"}


def prefix_q(field: str, prefix: str) -> Q:
    """``field`` starts with the digits ``prefix``, as a range its b-tree index serves
    (SQLite never uses an index for ``LIKE 'x%'`` on a case-sensitive column)."""
    q = Q(**{f"{field}__gte": prefix})
    stripped = prefix.rstrip("9")
    if stripped:
        q &= Q(**{f"{field}__lt": stripped[:-1] + chr(ord(stripped[-1]) + 1)})
    return q


def municipality_codes(counties) -> list[str]:
    """The municipality codes of these counties (290-row reference table)."""
    from .models import Municipality

    return list(Municipality.objects.filter(county_id__in=list(counties)).values_list("code", flat=True))


def companies_visible_to(user) -> QuerySet[Company]:
    """The companies this user may read: the whole register, their own, or none."""
    if not user.is_authenticated or not user.has_perm("companies.view_company"):
        return Company.objects.none()
    roles = user_roles(user)
    if user.is_superuser or roles & REGISTER_WIDE_ROLES:
        return Company.objects.all()
    return Company.objects.filter(representatives__user=user)


def company_for_user(user, pk: int) -> Company | None:
    return companies_visible_to(user).select_related("municipality__county", "owner_advisor").filter(pk=pk).first()


def companies_owned_by(user) -> QuerySet[Company]:
    return companies_visible_to(user).filter(owner_advisor=user).exclude(status=CompanyStatus.ARCHIVED)


def target_group_q() -> Q:
    """Målgrupp: manufacturing or manufacturing-adjacent, located in the programme's county."""
    low, high = settings.SIM_MANUFACTURING_DIVISIONS
    industry = Q(sni_primary__gte=f"{low:02d}", sni_primary__lt=f"{high + 1:02d}")
    for prefix in settings.SIM_MANUFACTURING_ADJACENT_SNI:
        # Codes are stored without dots; the setting may be written either way ("46.6" or "466").
        industry |= prefix_q("sni_primary", prefix.replace(".", "").strip())
    # The county as its municipality codes: a filter on an indexed company column, not a join.
    return industry & Q(municipality_id__in=municipality_codes(settings.SIM_TARGET_COUNTIES))


def is_in_target_group(company: Company) -> bool:
    return Company.objects.filter(target_group_q(), pk=company.pk).exists()


_FTS_IDS = "SELECT rowid FROM companies_company_fts WHERE companies_company_fts MATCH %s"


def _fts_query(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _NameUnindexed(Func):
    """``name || ''``: name order that PostgreSQL cannot take from the name index."""

    template = "(%(expressions)s || '')"
    output_field = CharField()


def _org_number_digits(term: str) -> str | None:
    """The digits of an organisation-number prefix (three or more), or None."""
    if not ORG_NUMBER_FRAGMENT.match(term):
        return None
    digits = re.sub(r"\D", "", term)
    if len(digits) == 12 and digits[:2] in {"16", "19", "20"}:
        digits = digits[2:]
    return digits if len(digits) >= 3 else None


def _name_fragment(term: str) -> str | None:
    """The lower-case name fragment a search term looks for (three characters or more, not an
    organisation number), or None."""
    term = " ".join(term.split())
    if len(term) < 3 or _org_number_digits(term) is not None:
        return None
    return term.lower()


def _matching(queryset: QuerySet[Company], fragment: str) -> QuerySet[Company]:
    """Companies whose name (or organisation number) contains ``fragment``, through the full-text
    index: FTS5 trigram on SQLite, pg_trgm on PostgreSQL (migration 0002)."""
    if connection.vendor == "sqlite":
        return queryset.extra(where=[f"companies_company.id IN ({_FTS_IDS})"], params=[_fts_query(fragment)])
    return queryset.filter(search_text__contains=fragment)


def _search(queryset: QuerySet[Company], term: str) -> QuerySet[Company]:
    """The search filter: organisation-number prefix, word start (one or two characters) or name
    fragment."""
    term = " ".join(term.split())
    if not term:
        return queryset
    digits = _org_number_digits(term)
    if digits is not None:
        return queryset.filter(prefix_q("org_number", digits))
    lowered = term.lower()
    if len(lowered) < 3:
        return queryset.filter(Q(name__istartswith=term) | Q(search_text__contains=f" {lowered}"))
    return _matching(queryset, lowered)


def _order_of_all_matches(sort: str) -> tuple:
    """The order in which to sort every match of a name search: on PostgreSQL name order over
    ``name || ''``, or the planner walks the name index reading every row (seconds when the
    matches sit at the end of the alphabet)."""
    if connection.vendor == "postgresql" and sort in ("name", "-name"):
        expression = _NameUnindexed(F("name"))
        return (expression.desc(), "-id") if sort == "-name" else (expression.asc(), "id")
    return SORTS[sort]


def _walk_budget(fragment: str) -> int | None:
    """How many entries of the name index a search for ``fragment`` may walk: SEARCH_WALK_PER_MATCH
    per match it is expected to have, at most SEARCH_WALK_BUDGET; None for no limit.

    SQLite counts the matches (FTS5 counts without reading rows), up to SEARCH_MANY_MATCHES.
    PostgreSQL asks the planner: its estimate comes from the statistics of ``search_text``, kept
    at 1,000 histogram buckets by migration 0004 (within about 20 % above 5,000 matches).
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({_FTS_IDS} LIMIT {SEARCH_MANY_MATCHES + 1})", [_fts_query(fragment)])
            count = cursor.fetchone()[0]
        return None if count > SEARCH_MANY_MATCHES else min(SEARCH_WALK_BUDGET, SEARCH_WALK_PER_MATCH * count)
    sql, params = Company.objects.filter(search_text__contains=fragment).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return min(SEARCH_WALK_BUDGET, SEARCH_WALK_PER_MATCH * int(plan[0]["Plan"]["Plan Rows"]))


def _walk_name_index(queryset: QuerySet[Company], fragment: str, descending: bool, size: int,
                     budget: int | None) -> list[int]:
    """The ids of the first ``size`` companies of ``queryset`` in name order whose search text
    contains ``fragment``, among the first ``budget`` entries (None: all) of the covering name
    index (``company_name_idx``: name, id, search_text, status), which is walked without reading
    rows. Fewer than ``size`` when the budget ran out first."""
    order = ("-name", "-id") if descending else ("name", "id")
    if connection.vendor == "sqlite":
        # SQLite runs a LIMITed subquery to its end before filtering it, so the budget is a bound
        # on the name: the name ``budget`` entries into the index (an OFFSET over the index, a few
        # milliseconds). instr() is tested in the index.
        walk = queryset.extra(where=["instr(companies_company.search_text, %s) > 0"], params=[fragment])
        if budget is not None:
            names = queryset.model._default_manager.order_by(*order).values_list("name", flat=True)
            edge = list(names[budget : budget + 1])
            if edge:
                walk = walk.filter(**{"name__gte" if descending else "name__lte": edge[0]})
        return list(walk.order_by(*order).values_list("pk", flat=True)[:size])
    # PostgreSQL: a subquery of the first SEARCH_WALK_BUDGET index entries (an index-only scan: it
    # reads nothing but indexed columns), filtered outside it; the outer ORDER BY keeps the
    # subquery's order and costs no sort, and the scan stops when the window is full.
    walked = queryset.order_by(*order).values("id", "name", "search_text")[:budget]
    sql, params = walked.query.sql_with_params()
    direction = "DESC" if descending else "ASC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT walked.id FROM ({sql}) walked WHERE strpos(walked.search_text, %s) > 0 "
            f"ORDER BY walked.name {direction}, walked.id {direction} LIMIT %s",
            (*params, fragment, size),
        )
        return [row[0] for row in cursor.fetchall()]


def _search_window(queryset: QuerySet[Company], fragment: str, sort: str, *, walk: bool,
                   size: int | None = None) -> list[int]:
    """The ids of the first ``size`` companies of ``queryset`` that match the name fragment, in
    ``sort`` order: the window a name search lists (by default SEARCH_WINDOW + 1, the one more
    saying "more than SEARCH_WINDOW").

    Two plans, and neither is good for every fragment (docs/performance.md):

    * walk the name index until the window is full: fast when the matches are spread over the
      alphabet ("son": 220,000 matches, 1 ms), slow when they sit at its end ("Öresunds");
    * fetch every match and sort: cost grows with the matches (15 ms for 10,000, 300 ms for
      220,000), wherever they sit.

    The walk is tried first, in name order and when nothing but the status filters ``queryset``
    (other columns are not in the index), for as many index entries as :func:`_walk_budget` allows
    (the more matches, the dearer the sort and the likelier the walk); when it does not fill the
    window, every match is sorted.
    """
    size = size or SEARCH_WINDOW + 1
    ids: list[int] = []
    if walk and sort in ("name", "-name"):
        budget = _walk_budget(fragment)
        if budget is None or budget >= size:
            ids = _walk_name_index(queryset, fragment, descending=sort == "-name", size=size, budget=budget)
    if len(ids) < size:
        matches = _matching(queryset, fragment).order_by(*_order_of_all_matches(sort))
        ids = list(matches.values_list("pk", flat=True)[:size])
    return ids


def _in_order_of(ids: list[int]) -> StrIndex:
    """Orders rows as ``ids`` lists them: the position of ``,id,`` in the text ``,id1,id2,…,``
    (one parameter and one string search per row; no index can serve it, so PostgreSQL fetches
    the rows by primary key and sorts them rather than walk an index testing the ids)."""
    listed = Value("," + ",".join(str(pk) for pk in ids) + ",")
    return StrIndex(listed, Concat(Value(","), Cast("id", CharField()), Value(","), output_field=CharField()))


def company_search(queryset: QuerySet[Company], term: str, *, limit: int = SEARCH_WINDOW) -> QuerySet[Company]:
    """Search by name fragment or organisation number (with or without dash, any prefix).

    A name fragment (three characters or more) gives its first ``limit`` matches in name order
    (found as :func:`_search_window` says: ask for as many as you show); an organisation number
    or a word start of one or two characters gives every match, unordered.
    """
    fragment = _name_fragment(term)
    if fragment is None:
        return _search(queryset, term)
    ids = _search_window(queryset, fragment, "name", walk=not queryset.query.has_filters(), size=limit)
    return queryset.filter(pk__in=ids).order_by(_in_order_of(ids))


def _rank(field_name: str, values: list[str]) -> Case:
    """Sort by the natural order of choices (micro < small < ...), not their codes' alphabet."""
    return Case(
        *(When(**{field_name: value}, then=Value(i)) for i, value in enumerate(values)),
        default=Value(None), output_field=IntegerField(),
    )


_SIZE_RANK = _rank("size_class", list(SizeClass.values))
_STATUS_RANK = _rank("status", list(CompanyStatus.values))

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "org_number": ("org_number",),
    "-org_number": ("-org_number",),
    # Ending in the id, every order is total: a page always follows the previous one.
    "municipality": ("municipality__name", "name", "id"),
    "-municipality": ("-municipality__name", "name", "id"),
    # Unknown size (no key figures) last either way.
    "size": (_SIZE_RANK.asc(nulls_last=True), "name", "id"),
    "-size": (_SIZE_RANK.desc(nulls_last=True), "name", "id"),
    "status": (_STATUS_RANK.asc(), "name", "id"),
    "-status": (_STATUS_RANK.desc(), "name", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


@dataclass
class CompanyFilters:
    q: str = ""
    municipality: str = ""
    county: str = ""
    sni: str = ""
    size_class: str = ""
    status: str = ""
    target_group: str = ""  # "yes" | "no" | ""
    owner: str = ""  # user id, "me" or "none"
    sort: str = "name"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> CompanyFilters:
        filters = cls(**{key: (params.get(key) or "").strip() for key in (
            "q", "municipality", "county", "sni", "size_class", "status", "target_group", "owner", "sort"
        )})
        if filters.sort not in SORTS:
            filters.sort = "name"
        if filters.size_class and filters.size_class not in {*SizeClass.values, "unknown"}:
            filters.errors["size_class"] = str(_("Unknown size class."))
            filters.size_class = ""
        if filters.status and filters.status not in {*CompanyStatus.values, "all"}:
            filters.errors["status"] = str(_("Unknown status."))
            filters.status = ""
        if filters.sni and not re.fullmatch(r"[0-9.]{1,6}", filters.sni):
            filters.errors["sni"] = str(_("Write an SNI code or its beginning, e.g. 25 or 25.62."))
            filters.sni = ""
        return filters

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if k != "errors" and v and not (k == "sort" and v == "name")}

    @property
    def name_search(self) -> bool:
        """``q`` is a name fragment: ``company_list(..., window=True)`` lists its first
        SEARCH_WINDOW matches only."""
        return _name_fragment(self.q) is not None

    @property
    def count_cap(self) -> int:
        """How many companies the list counts and pages through before it says "more than":
        SEARCH_WINDOW for a name search, LIST_COUNT_CAP otherwise."""
        return SEARCH_WINDOW if self.name_search else LIST_COUNT_CAP


def company_list(user, filters: CompanyFilters, *, window: bool = False) -> QuerySet[Company]:
    """The companies the list shows for these filters, in the chosen order.

    With ``window`` (the list page and the API), a name search holds only the ids of its first
    SEARCH_WINDOW + 1 matches (:func:`_search_window`), found before the queryset is returned;
    ``filters.count_cap`` says how far to count. The returned queryset then carries them as its
    ``window`` attribute (a filtered copy of it does not), which :func:`capped_count` and
    :func:`page_rows` use instead of a query. Without ``window`` (the export), every match.
    """
    queryset = companies_visible_to(user)
    # A name search may walk the name index when nothing but the status (which the index holds)
    # narrows the register, and the status leaves most of it.
    narrowed = (filters.municipality, filters.county, filters.sni, filters.size_class,
                filters.target_group in ("yes", "no"), filters.owner in ("me", "none") or filters.owner.isdigit())
    walk = not queryset.query.has_filters() and not any(narrowed) and filters.status in ("", "all", CompanyStatus.PROSPECT)
    if filters.status == "all":
        pass
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.exclude(status=CompanyStatus.ARCHIVED)
    if filters.municipality:
        queryset = queryset.filter(municipality_id=filters.municipality)
    if filters.county:
        queryset = queryset.filter(municipality_id__in=municipality_codes([filters.county]))
    if filters.sni:
        queryset = queryset.filter(prefix_q("sni_primary", filters.sni.replace(".", "")))
    if filters.size_class == "unknown":
        queryset = queryset.filter(size_class="")
    elif filters.size_class:
        queryset = queryset.filter(size_class=filters.size_class)
    if filters.target_group == "yes":
        queryset = queryset.filter(target_group_q())
    elif filters.target_group == "no":
        queryset = queryset.exclude(target_group_q())
    if filters.owner == "me":
        queryset = queryset.filter(owner_advisor=user)
    elif filters.owner == "none":
        queryset = queryset.filter(owner_advisor__isnull=True)
    elif filters.owner.isdigit():
        queryset = queryset.filter(owner_advisor_id=int(filters.owner))
    searched = _search(queryset, filters.q)
    sort = filters.sort
    if sort in UNINDEXED_SORTS and capped_count(searched) > LIST_COUNT_CAP:
        # Sorting a million rows by a CASE expression or a joined name takes 0.5–1.5 s.
        filters.errors["sort"] = str(
            _("Narrow the list to %(count)s companies or fewer to sort by this column.") % {"count": "10 000"}
        )
        sort = "name"
    fragment = _name_fragment(filters.q)
    if window and fragment is not None:
        ids = _search_window(queryset, fragment, sort, walk=walk)
        # The ids carry every filter already; the order of the window is the list's order.
        windowed = Company.objects.filter(pk__in=ids).select_related("municipality", "owner_advisor")
        windowed = windowed.order_by(_in_order_of(ids))
        windowed.window = ids
        return windowed
    return searched.select_related("municipality", "owner_advisor").order_by(*SORTS[sort])


def capped_count(queryset: QuerySet, cap: int = LIST_COUNT_CAP) -> int:
    """``min(count, cap + 1)``: ``SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)``, or the
    length of a search window (:func:`company_list`)."""
    window = getattr(queryset, "window", None)
    if window is not None:
        return min(len(window), cap + 1)
    return queryset.order_by().values("pk")[: cap + 1].count()


def page_rows(queryset: QuerySet, start: int, stop: int) -> list:
    """Rows ``start:stop`` of an ordered queryset, ids first: the page's ids from a query that
    reads only ids (an index often answers it alone: on SQLite a county walks
    ``company_muni_list_idx`` municipality by municipality in name order and stops after the
    page, instead of sorting every row of the county), or from a search window, then those rows
    by primary key."""
    window = getattr(queryset, "window", None)
    ids = window[start:stop] if window is not None else list(queryset.values_list("pk", flat=True)[start:stop])
    rows = queryset.model._default_manager.filter(pk__in=ids)
    rows.query.select_related = queryset.query.select_related
    by_pk = {row.pk: row for row in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


class CappedPaginator(Paginator):
    """Counts up to ``cap`` + 1 rows and pages through the first ``cap`` (``is_capped``: the
    page says "more than ``cap``"), loading each page ids first (:func:`page_rows`)."""

    def __init__(self, object_list, per_page, cap: int = LIST_COUNT_CAP, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list, self.cap)

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        if self.is_capped:
            return ceil(self.cap / self.per_page)
        return super().num_pages

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        listed = min(self.count, self.cap)
        top = bottom + self.per_page
        if top + self.orphans >= listed:
            top = listed
        return self._get_page(page_rows(self.object_list, bottom, top), number, self)


def register_summary(user) -> dict:
    visible = companies_visible_to(user)
    status_counts = dict(visible.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "total": sum(n for status, n in status_counts.items() if status != CompanyStatus.ARCHIVED),
        "target_group": visible.exclude(status=CompanyStatus.ARCHIVED).filter(target_group_q()).count(),
        "by_status": [
            {"status": status, "label": label, "count": status_counts.get(status, 0)}
            for status, label in CompanyStatus.choices
        ],
    }


def recent_changes(user) -> QuerySet[AuditEvent]:
    if not user.has_perm("core.view_auditevent"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(scope_type="companies.company").select_related("actor")


def company_history(company: Company) -> QuerySet[AuditEvent]:
    """The company's history, including that of companies merged into it (and into those, ...)."""
    merged: list[Company] = []
    frontier = [company.pk]
    while frontier:
        found = list(Company.objects.filter(merged_into_id__in=frontier).exclude(pk=company.pk))
        found = [c for c in found if c not in merged]
        merged.extend(found)
        frontier = [c.pk for c in found]
    return history_for(company, extra_scopes=merged)


def contacts_of(company: Company, *, include_archived: bool = False) -> QuerySet[Contact]:
    queryset = company.contacts.all()
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    return queryset.order_by("erased_at", "name")


def ownership_of(company: Company) -> dict:
    return {
        "owners": company.owners.select_related("holder").order_by("-voting_pct"),
        "holdings": company.holdings.select_related("held").order_by("-voting_pct"),
    }


def ownership_component(company_ids: set[int], *, max_size: int = 500) -> tuple[set[int], list]:
    """Companies connected to these through ownership links (any direction, any depth)."""
    from .models import OwnershipLink

    seen = set(company_ids)
    frontier = set(company_ids)
    links: dict[int, OwnershipLink] = {}
    while frontier and len(seen) < max_size:
        batch = list(
            OwnershipLink.objects.filter(Q(holder_id__in=frontier) | Q(held_id__in=frontier))
        )
        frontier = set()
        for link in batch:
            links[link.pk] = link
            for cid in (link.holder_id, link.held_id):
                if cid not in seen:
                    seen.add(cid)
                    frontier.add(cid)
    return seen, list(links.values())


def likely_duplicates(limit: int = 200) -> list[dict]:
    """Flagged pairs of active companies, with both records loaded for display."""
    from .duplicates import CompanyKey, duplicate_pairs
    from .models import NotDuplicate

    keys = [
        CompanyKey(id=pk, name=name, municipality=muni, org_number=org)
        for pk, name, muni, org in Company.objects.filter(merged_into__isnull=True)
        .exclude(status=CompanyStatus.ARCHIVED)
        .values_list("id", "name", "municipality_id", "org_number")
        .iterator(chunk_size=5000)
    ]
    dismissed = set(NotDuplicate.objects.values_list("first_id", "second_id"))
    pairs = duplicate_pairs(keys, dismissed)[:limit]
    ids = {p.first for p in pairs} | {p.second for p in pairs}
    companies = Company.objects.select_related("municipality").in_bulk(ids)
    return [
        {"first": companies[p.first], "second": companies[p.second], "reason": p.reason, "similarity": p.similarity}
        for p in pairs
    ]


def sni_names(codes: list[str], system: str = "SNI2007") -> dict[str, str]:
    from .models import SniCode

    wanted = [c for c in codes if c]
    return {sni.code: sni.name for sni in SniCode.objects.filter(system=system, code__in=wanted)}
