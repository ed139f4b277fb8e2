#!/usr/bin/env python3
"""Show (and time) the SQL behind the company search and the list page, with query plans.

    DATABASE_URL=sqlite:///$PWD/bench/out/bench.sqlite3 .venv/bin/python bench/explain_queries.py [--analyze]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sim_bench .venv/bin/python bench/explain_queries.py --analyze

For each case: the page query (25 rows at the page's offset) and the paginator's COUNT, their
plan (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL; ``--analyze`` runs
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL) and their time (best of ``--repeat`` runs).
``--case NAME`` limits the output to some cases; ``--sql`` prints the SQL text as well.
Used to find the causes of the misses recorded in docs/performance.md.
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
    "sni_class": {"sni": "25.62"},
    "size_micro": {"size_class": "micro"},
    "size_unknown": {"size_class": "unknown"},
    "status_active": {"status": "active"},
    "target_group": {"target_group": "yes"},
    "q_common": {"q": "bygg"},
    "q_rare": {"q": "ångermanlands glas"},
    "q_mid": {"q": "kanis"},
    "q_org": {"q": "556309-78"},
    "sort_size": {"sort": "size"},
    "sort_status": {"sort": "status"},
    "sort_municipality": {"sort": "municipality"},
    "sort_updated": {"sort": "-updated"},
    "sort_org": {"sort": "org_number"},
    "page_40": {"page": "40"},
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
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sim.companies import selectors

    user = get_user_model().objects.filter(username="bench-advisor").first()
    if user is None:
        raise SystemExit("Run bench/register_bench.py first (it creates the user bench-advisor).")

    def show(label: str, sql: str, _params) -> None:
        with connection.cursor() as cursor:
            best = float("inf")
            for _ in range(args.repeat):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                best = min(best, time.perf_counter() - started)
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = [f"{row[1]:>3} {row[3]}" for row in cursor.fetchall()]
            else:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if args.analyze else "EXPLAIN "
                cursor.execute(prefix + sql)
                plan = [row[0] for row in cursor.fetchall()]
        print(f"  {label}: {best * 1000:.1f} ms")
        if args.sql:
            print("    " + sql)
        for line in plan:
            print("    | " + line)

    for name, params in CASES.items():
        if args.case and name not in args.case:
            continue
        filters = selectors.CompanyFilters.from_params(params)
        queryset = selectors.company_list(user, filters)
        # The queries the view runs for its results: the paginator's COUNT and the page.
        with CaptureQueriesContext(connection) as captured:
            page = Paginator(queryset, 25).get_page(params.get("page"))
            list(page.object_list)
        print(f"\n== {name} {params}")
        for query in captured.captured_queries:
            label = "count" if query["sql"].lstrip().upper().startswith("SELECT COUNT") else "page"
            show(label, query["sql"], None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
