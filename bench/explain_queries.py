#!/usr/bin/env python3
"""Show (and time) the SQL behind the company list page, with query plans.

    DATABASE_URL=sqlite:///$PWD/bench/out/bench.sqlite3 .venv/bin/python bench/explain_queries.py [--analyze]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sim_bench .venv/bin/python bench/explain_queries.py --analyze

For each case, every query the view runs for its results, as ``views.company_list`` runs them
(``selectors.company_list(..., window=True)``, then ``CappedPaginator``): a name search's window
(the walk of the name index and/or the sort of all matches), the capped COUNT, the page's ids and
the page's rows. Each is timed (best of ``--repeat`` runs) with its plan (``EXPLAIN QUERY PLAN``
on SQLite, ``EXPLAIN`` on PostgreSQL; ``--analyze`` runs ``EXPLAIN (ANALYZE, BUFFERS)`` on
PostgreSQL). ``--case NAME`` limits the output to some cases; ``--sql`` prints the SQL text too.
Used to find the causes recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")

CASES: dict[str, dict[str, str]] = {
    "default": {},
    "county": {"county": "01"},
    "sni_division": {"sni": "25"},
    "sni_division_46": {"sni": "46"},
    "sni_class": {"sni": "25.62"},
    "size_micro": {"size_class": "micro"},
    "size_unknown": {"size_class": "unknown"},
    "size_small": {"size_class": "small"},
    "size_large": {"size_class": "large"},
    "status_active": {"status": "active"},
    "target_group": {"target_group": "yes"},
    "q_common": {"q": "bygg"},
    "q_rare": {"q": "ångermanlands glas"},
    "q_mid": {"q": "kanis"},
    "q_org": {"q": "556309-78"},
    "q_late": {"q": "Öresunds"},
    "q_many_late": {"q": "Sjö"},
    "q_many": {"q": "son"},
    "q_sort_size": {"q": "bygg", "sort": "size"},
    "sort_size": {"sort": "size"},
    "sort_status": {"sort": "status"},
    "sort_municipality": {"sort": "municipality"},
    "sort_updated": {"sort": "-updated"},
    "sort_org": {"sort": "org_number"},
    "page_40": {"page": "40"},
    "county_page_40": {"county": "01", "page": "40"},
    "page_4000": {"page": "4000"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--analyze", action="store_true")
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", action="append")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sim.companies import selectors

    user = get_user_model().objects.filter(username="bench-advisor").first()
    if user is None:
        raise SystemExit("Run bench/register_bench.py first (it creates the user bench-advisor).")

    def show(label: str, sql: str, params) -> None:
        with connection.cursor() as cursor:
            best = float("inf")
            for _ in range(args.repeat):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                best = min(best, time.perf_counter() - started)
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = [f"{row[1]:>3} {row[3]}" for row in cursor.fetchall()]
            else:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if args.analyze else "EXPLAIN "
                cursor.execute(prefix + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
        print(f"  {label}: {best * 1000:.1f} ms")
        if args.sql:
            print("    " + sql[:2000])
        for line in plan:
            print("    | " + line[:300])

    def label(sql: str) -> str | None:
        text = sql.lstrip().upper()
        if "COMPANIES_" not in text:
            return None  # the user's permissions, read once
        if "COMPANIES_COMPANY_FTS" in text and text.startswith("SELECT COUNT"):
            return "window: FTS5 count"
        if text.startswith("SELECT WALKED.ID") or "INSTR(COMPANIES_COMPANY.SEARCH_TEXT" in text:
            return "window: walk of the name index"
        if text.startswith("SELECT COUNT"):
            return "count (capped)"
        if text.startswith('SELECT "COMPANIES_MUNICIPALITY"."CODE"'):
            return "county's municipality codes"
        if text.startswith('SELECT "COMPANIES_COMPANY"."ID" AS "PK"'):
            return "ids (a window's sort of all matches, or the page's ids)"
        return "rows (by primary key)"

    for name, params in CASES.items():
        if args.case and name not in args.case:
            continue
        filters = selectors.CompanyFilters.from_params(params)
        # The queries the view runs for its results: the window, the capped COUNT, the page.
        with CaptureQueriesContext(connection) as captured:
            queryset = selectors.company_list(user, filters, window=True)
            page = selectors.CappedPaginator(queryset, 25, cap=filters.count_cap).get_page(params.get("page"))
            list(page.object_list)
        print(f"\n== {name} {params}  (count {page.paginator.count}, capped {page.paginator.is_capped})")
        for query in captured.captured_queries:  # the SQL with its parameters inlined
            if label(query["sql"]):
                show(label(query["sql"]), query["sql"], None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
