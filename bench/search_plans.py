#!/usr/bin/env python3
"""Name search: the two plans of ``selectors._search_window`` side by side, per fragment.

    DATABASE_URL=sqlite:///$PWD/bench/out/bench.sqlite3 .venv/bin/python bench/search_plans.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sim_bench .venv/bin/python bench/search_plans.py [--size 501]

For the name fragments of the latency run (``register_bench.benchmark_name_terms``: same seed,
same 100 fragments), with the window size ``--size`` (25: ``company_search(..., limit=25)`` as
the benchmark's search; 501: the list page's window):

* ``matches``: how many companies match, and ``first``: how many names come before the first
  match in name order (where a walk of the name index finds it);
* ``walk``: ``_walk_name_index`` (at most ``SEARCH_WALK_BUDGET`` index entries), its time and
  how many ids it found (``size``: the window is full);
* ``sort``: every match fetched and sorted, the first ``size`` ids;
* ``chosen``: ``_search_window`` as the code runs it (walk, then sort if the walk fell short).

Times are the best of two runs, in ms. docs/performance.md explains the choice made from this.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=25, help="window size (25: the search; 501: the list)")
    args = parser.parse_args()

    import django

    django.setup()
    from bench.register_bench import benchmark_name_terms
    from sim.companies import selectors
    from sim.companies.models import Company

    def best(fn):
        fastest, value = float("inf"), None
        for _ in range(2):
            started = time.perf_counter()
            value = fn()
            fastest = min(fastest, time.perf_counter() - started)
        return fastest * 1000, value

    queryset = Company.objects.exclude(status="archived")
    rows = []
    for term in dict.fromkeys(benchmark_name_terms()):  # each fragment once, in order
        fragment = selectors._name_fragment(term)
        matching = selectors._matching(queryset, fragment)
        matches = matching.count()
        first_name = matching.order_by("name").values_list("name", flat=True).first()
        first = queryset.filter(name__lt=first_name).count() if first_name is not None else 0
        walk_ms, walked = best(lambda f=fragment: selectors._walk_name_index(queryset, f, False, args.size))
        sort_ms, _ids = best(lambda m=matching: list(
            m.order_by(*selectors._order_of_all_matches("name")).values_list("pk", flat=True)[: args.size]))
        chosen_ms, _ids = best(lambda f=fragment: selectors._search_window(queryset, f, "name", walk=True, size=args.size))
        rows.append((term, matches, first, walk_ms, len(walked), sort_ms, chosen_ms))
    print(f"{'fragment':<18}{'matches':>9}{'first':>9}{'walk ms':>9}{'found':>7}{'sort ms':>9}{'chosen ms':>11}")
    for term, matches, first, walk_ms, found, sort_ms, chosen_ms in sorted(rows, key=lambda r: r[1]):
        print(f"{term:<18}{matches:>9,}{first:>9,}{walk_ms:>9.1f}{found:>7}{sort_ms:>9.1f}{chosen_ms:>11.1f}")
    chosen = sorted(r[6] for r in rows)
    print(f"\n{len(rows)} fragments; chosen plan p50 {chosen[len(chosen) // 2]:.1f} ms, "
          f"p95 {chosen[max(0, -(-len(chosen) * 95 // 100) - 1)]:.1f} ms (each fragment once)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
