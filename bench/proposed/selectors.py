"""Reads of the company register: visibility, search, filters, summaries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, CharField, Count, F, Func, IntegerField, Q, QuerySet, Value, When
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from sim.core.audit import history_for
from sim.core.models import AuditEvent
from sim.core.roles import REGISTER_WIDE_ROLES, user_roles

from .models import Company, CompanyStatus, Contact, SizeClass

ORG_NUMBER_FRAGMENT = re.compile(r"^[0-9][0-9\- ]*$")
#: A name search with at most this many matches fetches and sorts them all; with more, it walks
#: the name index (the matches are then spread over the alphabet, so 25 come quickly).
SEARCH_FEW_MATCHES = 20_000
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


def _fts_query(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _NameUnindexed(Func):
    """``name || ''``: name order that PostgreSQL cannot take from the name index."""

    template = "(%(expressions)s || '')"
    output_field = CharField()


def _sort_all_matches(descending: bool = False) -> tuple:
    expression = _NameUnindexed(F("name"))
    return (expression.desc(), "-id") if descending else (expression.asc(), "id")


def _search(queryset: QuerySet[Company], term: str) -> tuple[QuerySet[Company], bool]:
    """The search filter, and whether it matches few enough companies to sort them all.

    Name order over a trigram filter has two plans: fetch every match and sort (cost grows with
    the matches: 200 ms for a fragment in 220,000 names) or walk the name index until 25 match
    (fast when matches are everywhere, seconds when they all sit at one end of the alphabet,
    "Öresunds …"). Counting up to SEARCH_FEW_MATCHES first (cheap) picks the right one.
    """
    term = " ".join(term.split()).strip()
    if not term:
        return queryset, False
    if ORG_NUMBER_FRAGMENT.match(term):
        digits = re.sub(r"\D", "", term)
        if len(digits) == 12 and digits[:2] in {"16", "19", "20"}:
            digits = digits[2:]
        if len(digits) >= 3:
            return queryset.filter(prefix_q("org_number", digits)), False
    lowered = term.lower()
    if len(lowered) < 3:
        return queryset.filter(Q(name__istartswith=term) | Q(search_text__contains=f" {lowered}")), False
    if connection.vendor == "sqlite":
        fts = "SELECT rowid FROM companies_company_fts WHERE companies_company_fts MATCH %s"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({fts} LIMIT {SEARCH_FEW_MATCHES + 1})", [_fts_query(lowered)])
            few = cursor.fetchone()[0] <= SEARCH_FEW_MATCHES
        if few:  # look the matches up by rowid and sort them
            return queryset.extra(where=[f"companies_company.id IN ({fts})"], params=[_fts_query(lowered)]), True
        # Many: walk the covering name index (company_name_idx) testing search_text.
        return queryset.extra(where=["instr(companies_company.search_text, %s) > 0"], params=[lowered]), False
    few = (
        Company.objects.filter(search_text__contains=lowered).order_by().values("pk")[: SEARCH_FEW_MATCHES + 1].count()
        <= SEARCH_FEW_MATCHES
    )
    return queryset.filter(search_text__contains=lowered), few


def company_search(queryset: QuerySet[Company], term: str) -> QuerySet[Company]:
    """Search by name fragment or organisation number (with or without dash, any prefix).

    Name fragments of three characters or more use the database's index: FTS5 trigram on
    SQLite, pg_trgm on PostgreSQL (see migration 0002); see :func:`_search` for the plan choice.
    """
    queryset, few = _search(queryset, term)
    if few and connection.vendor == "postgresql" and not queryset.query.order_by:
        queryset = queryset.order_by(*_sort_all_matches())
    return queryset


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
    "municipality": ("municipality__name", "name"),
    "-municipality": ("-municipality__name", "name"),
    # Unknown size (no key figures) last either way.
    "size": (_SIZE_RANK.asc(nulls_last=True), "name"),
    "-size": (_SIZE_RANK.desc(nulls_last=True), "name"),
    "status": (_STATUS_RANK.asc(), "name"),
    "-status": (_STATUS_RANK.desc(), "name"),
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


def company_list(user, filters: CompanyFilters) -> QuerySet[Company]:
    queryset = companies_visible_to(user)
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
    queryset, few = _search(queryset, filters.q)
    sort = filters.sort
    if sort in UNINDEXED_SORTS and capped_count(queryset) > LIST_COUNT_CAP:
        # Sorting a million rows by a CASE expression or a joined name takes 0.5–1.5 s.
        filters.errors["sort"] = str(
            _("Narrow the list to %(count)s companies or fewer to sort by this column.") % {"count": "10 000"}
        )
        sort = "name"
    order = SORTS[sort]
    if few and connection.vendor == "postgresql" and sort in ("name", "-name"):
        order = _sort_all_matches(descending=sort == "-name")
    return queryset.select_related("municipality", "owner_advisor").order_by(*order)


def capped_count(queryset: QuerySet, cap: int = LIST_COUNT_CAP) -> int:
    """``min(count, cap + 1)``: ``SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)``."""
    return queryset.order_by().values("pk")[: cap + 1].count()


class CappedPaginator(Paginator):
    """Counts up to LIST_COUNT_CAP + 1 rows; ``is_capped`` makes the page say "more than"."""

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list)

    @property
    def is_capped(self) -> bool:
        return self.count > LIST_COUNT_CAP


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
