"""Candidate fixes for the latency misses, measured without touching the application's files.

    .venv/bin/python bench/register_bench.py --skip-import --variant fixes

The latency worker imports this module and calls :func:`apply` before measuring; it runs the
``SCHEMA`` statements first and the ``UNDO`` statements afterwards (unless ``--keep-variant``), so
the benchmark database is left as the import made it. Each patch below is a proposal for
``sim/companies/selectors.py`` / ``views.py`` / a migration; docs/performance.md gives the diff.

1. Organisation-number and SNI prefixes as ranges (``>= '556309' AND < '556310'``) instead of
   ``LIKE '556309%'``: SQLite never uses an index for ``LIKE`` on a BINARY-collated column, so the
   current lookups scan the table (2 s at 1M rows). The range uses the unique index on both
   databases (and makes the ``varchar_pattern_ops`` indexes of migration 0002 unnecessary).
2. Name fragments: first count the matches, up to ``SMALL_MATCHES`` (cheap: FTS5 on SQLite, a
   ``LIMIT``ed trigram scan on PostgreSQL). Few matches: fetch them all and sort (the planner is
   kept from walking the name index: ``name || ''`` on PostgreSQL). Many matches: walk the name
   index and test each row (``+id IN (…)`` on SQLite), which finds 25 quickly because the matches
   are everywhere. Without this, a fragment that matches a few thousand names at one end of the
   alphabet ("Öresunds…", "Viklund…") makes PostgreSQL walk the whole name index (1.5–2 s), and a
   very common one ("son") makes SQLite sort 220,000 rows (200 ms).
3. A capped COUNT in the list's paginator: ``SELECT COUNT(*) FROM (SELECT … LIMIT 10001)``; the
   page shows "more than 10,000" and offers pages up to there. The exact COUNT of a million-row
   register costs 50–1,500 ms per request, whatever the page.
4. An index on ``(updated_at, id)`` for the sorts by last change, and a covering name index
   (``(name, id)`` + ``search_text``, ``status``) for the name-ordered walk of common fragments.
6. The county filter and the target group's county as a list of municipality codes (reference
   data, read once), the target group's SNI prefixes as ranges: filters on indexed company columns
   instead of a join the planners estimate badly.
5. Sorts that no index can give (size, status, municipality name: CASE expressions and a join)
   are applied only when the filtered list has at most 10,000 companies; above that the list keeps
   name order (the page says why). Sorting a million rows takes 0.4–1.5 s per request.
"""

from __future__ import annotations

import functools
import re

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import CharField, F, Func, Q
from django.utils.functional import cached_property

SMALL_MATCHES = 20_000
COUNT_CAP = 10_000
UNINDEXED_SORTS = {"size", "-size", "status", "-status", "municipality", "-municipality"}

# The covering name index replaces company_name_idx (SQLite would otherwise walk the narrower
# one and read every table row to test search_text).
SCHEMA = {
    "sqlite": [
        "CREATE INDEX IF NOT EXISTS bench_company_updated_idx ON companies_company (updated_at, id)",
        "CREATE INDEX IF NOT EXISTS bench_company_name_search_idx ON companies_company (name, id, search_text, status)",
        "DROP INDEX IF EXISTS company_name_idx",
    ],
    "postgresql": [
        "CREATE INDEX IF NOT EXISTS bench_company_updated_idx ON companies_company (updated_at, id)",
        "CREATE INDEX IF NOT EXISTS bench_company_name_search_idx ON companies_company (name, id) INCLUDE (search_text, status)",
        "DROP INDEX IF EXISTS company_name_idx",
        "VACUUM ANALYZE companies_company",  # index-only scans need the visibility map
    ],
}
_RESTORE = [
    "DROP INDEX IF EXISTS bench_company_updated_idx",
    "DROP INDEX IF EXISTS bench_company_name_search_idx",
    'CREATE INDEX IF NOT EXISTS "company_name_idx" ON "companies_company" ("name")',
]
UNDO = {"sqlite": _RESTORE, "postgresql": _RESTORE}


def prefix_q(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (digits), as a range the field's b-tree index serves."""
    q = Q(**{f"{field}__gte": prefix})
    stripped = prefix.rstrip("9")
    if stripped:
        upper = stripped[:-1] + chr(ord(stripped[-1]) + 1)
        q &= Q(**{f"{field}__lt": upper})
    return q


class _NameNoIndex(Func):
    """``name || ''``: the same order, but PostgreSQL cannot take it from the name index."""

    template = "(%(expressions)s || '')"
    output_field = CharField()


def _name_order(descending: bool = False):
    expression = _NameNoIndex(F("name"))
    return (expression.desc(), "-id") if descending else (expression.asc(), "id")


def search_filter(queryset, term: str):
    """(filtered queryset, few_matches) — few_matches: sort all matches rather than walk the name index."""
    from sim.companies import selectors

    term = " ".join(term.split()).strip()
    if not term:
        return queryset, False
    if selectors.ORG_NUMBER_FRAGMENT.match(term):
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
        match = selectors._fts_query(lowered)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({fts} LIMIT {SMALL_MATCHES + 1})", [match])
            few = cursor.fetchone()[0] <= SMALL_MATCHES
        if few:  # SQLite looks the matches up by rowid and sorts them
            return queryset.extra(where=[f"companies_company.id IN ({fts})"], params=[match]), True
        # Many: walk the (covering) name index and test each row's search_text.
        return queryset.extra(where=["instr(companies_company.search_text, %s) > 0"], params=[lowered]), False
    from sim.companies.models import Company

    few = (
        Company.objects.filter(search_text__contains=lowered).order_by().values("pk")[: SMALL_MATCHES + 1].count()
        <= SMALL_MATCHES
    )
    return queryset.filter(search_text__contains=lowered), few


def company_search(queryset, term: str):
    filtered, few = search_filter(queryset, term)
    if few and connection.vendor == "postgresql" and not filtered.query.order_by:
        filtered = filtered.order_by(*_name_order())
    return filtered


@functools.cache
def municipality_codes(counties: tuple[str, ...]) -> list[str]:
    """The municipalities of these counties (reference data: 290 rows, read once per process)."""
    from sim.companies.models import Municipality

    return sorted(Municipality.objects.filter(county_id__in=counties).values_list("code", flat=True))


def target_group_q() -> Q:
    """As selectors.target_group_q, with ranges for the SNI prefixes and the county as a list of
    municipality codes, so the database filters on indexed company columns (no join)."""
    from django.conf import settings

    low, high = settings.SIM_MANUFACTURING_DIVISIONS
    industry = Q(sni_primary__gte=f"{low:02d}", sni_primary__lt=f"{high + 1:02d}")
    for prefix in settings.SIM_MANUFACTURING_ADJACENT_SNI:
        industry |= prefix_q("sni_primary", prefix.replace(".", "").strip())
    return industry & Q(municipality_id__in=municipality_codes(tuple(settings.SIM_TARGET_COUNTIES)))


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    return queryset.order_by().values("pk")[: cap + 1].count()


def company_list(user, filters):
    from sim.companies import selectors
    from sim.companies.models import CompanyStatus

    queryset = selectors.companies_visible_to(user)
    if filters.status == "all":
        pass
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.exclude(status=CompanyStatus.ARCHIVED)
    if filters.municipality:
        queryset = queryset.filter(municipality_id=filters.municipality)
    if filters.county:
        queryset = queryset.filter(municipality_id__in=municipality_codes((filters.county,)))
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
    queryset, few = search_filter(queryset, filters.q)
    sort = filters.sort
    if sort in UNINDEXED_SORTS and capped_count(queryset) > COUNT_CAP:
        filters.errors["sort"] = "Narrow the list to 10,000 companies or fewer to sort by this column."
        sort = "name"
    order = selectors.SORTS[sort]
    if few and connection.vendor == "postgresql" and sort in ("name", "-name"):
        order = _name_order(descending=sort == "-name")
    return queryset.select_related("municipality", "owner_advisor").order_by(*order)


class CappedPaginator(Paginator):
    """Counts up to ``COUNT_CAP + 1`` rows; ``is_capped`` tells the template to say "more than"."""

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list)

    @property
    def is_capped(self) -> bool:
        return self.count > COUNT_CAP


def apply() -> None:
    from sim.companies import selectors, views

    selectors.company_search = company_search
    selectors.company_list = company_list
    selectors.target_group_q = target_group_q
    views.Paginator = CappedPaginator
