#!/usr/bin/env python3
"""Name search: the two plans side by side, per fragment, to choose between them.

    DATABASE_URL=sqlite:///$PWD/bench/out/bench.sqlite3 .venv/bin/python bench/search_plans.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sim_bench .venv/bin/python bench/search_plans.py

For the benchmark's 100 name fragments (same seed as register_bench.py): the number of matches
and the time (best of 2) of the first 25 in name order by

* plan A, walking the name index and testing each row (SQLite ``+id IN (fts)``; PostgreSQL
  ``ORDER BY name`` over the trigram filter, which is what the planner picks today), and
* plan B, fetching all matches and sorting them (SQLite ``id IN (fts)``; PostgreSQL
  ``ORDER BY name || ''``, which keeps the planner off the name index).

A is fast when the matches are spread over the alphabet and slow when the first 25 lie far down
it; B grows with the number of matches. docs/performance.md explains the choice made from this.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")


def main() -> int:
    import django

    django.setup()
    from django.db import connection

    from bench.register_bench import _fragments

    fragments = _fragments(random.Random(1), 100)
    if connection.vendor == "sqlite":
        fts = "SELECT rowid FROM companies_company_fts WHERE companies_company_fts MATCH %s"
        plan_a = f"SELECT id, name FROM companies_company WHERE +id IN ({fts}) ORDER BY name, id LIMIT 25"
        plan_b = f"SELECT id, name FROM companies_company WHERE id IN ({fts}) ORDER BY name, id LIMIT 25"
        count = f"SELECT count(*) FROM ({fts})"

        def param(term: str) -> list[str]:
            return ['"' + term.lower().replace('"', '""') + '"']
    else:
        plan_a = "SELECT id, name FROM companies_company WHERE search_text::text LIKE %s ORDER BY name, id LIMIT 25"
        plan_b = "SELECT id, name FROM companies_company WHERE search_text::text LIKE %s ORDER BY name || '', id LIMIT 25"
        count = "SELECT count(*) FROM companies_company WHERE search_text::text LIKE %s"

        def param(term: str) -> list[str]:
            return ["%" + term.lower() + "%"]

    rows = []
    with connection.cursor() as cursor:

        def best(sql: str, params: list[str]) -> float:
            fastest = float("inf")
            for _ in range(2):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                fastest = min(fastest, time.perf_counter() - started)
            return fastest * 1000

        for term in fragments:
            params = param(term)
            cursor.execute(count, params)
            rows.append((term, cursor.fetchone()[0], best(plan_a, params), best(plan_b, params)))
    print(f"{'fragment':<18}{'matches':>9}{'A walk ms':>11}{'B sort ms':>11}")
    for term, matches, a, b in sorted(rows, key=lambda r: r[1]):
        print(f"{term:<18}{matches:>9,}{a:>11.1f}{b:>11.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
