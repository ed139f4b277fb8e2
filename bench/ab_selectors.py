#!/usr/bin/env python3
"""Another version of ``sim/companies/selectors.py`` against the current one, interleaved.

    git show HEAD:sim/companies/selectors.py > /tmp/selectors_before.py
    DATABASE_URL=sqlite:///$PWD/bench/out/bench.sqlite3 .venv/bin/python bench/ab_selectors.py /tmp/selectors_before.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sim_bench .venv/bin/python bench/ab_selectors.py /tmp/selectors_before.py

On a shared machine two benchmark runs made minutes apart differ by up to 2× in p95; this
compares two versions of the selectors under the same load by running each measurement with the
old and the new version back to back, in one process, against the benchmark database:

* **search**: the latency run's 100 name fragments and 100 organisation-number prefixes,
  ``company_search(Company.objects.all(), term)`` (new: ``limit=25``), first 25 rows;
* **list**: the list page's queries for its results (no template): ``company_list`` (new:
  ``window=True``), ``CappedPaginator`` (new: ``cap=filters.count_cap``), the page's rows and the
  count, for the latency run's list scenarios;
* **api**: what ``GET /api/companies/?limit=25`` runs: old, a full ``count()`` and the first 25
  rows; new, the capped count and the page ids first.

Each measurement twice (old, new, old, new); p50 / p95 per version and the slowest items. The
old file is loaded as a module with its relative imports made absolute; it must fit the
current models and database. Needs the user ``bench-advisor`` (``register_bench.py`` creates it).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")


def load_module(path: Path, name: str):
    text = re.sub(r"^(\s*)from \.(\w+) import", r"\1from sim.companies.\2 import", path.read_text(), flags=re.M)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the other selectors.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=140, help="list and API requests per version")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from bench.register_bench import _fragments, _org_prefixes
    from sim.companies import selectors as new
    from sim.companies.models import Company, County, Municipality, SizeClass

    old = load_module(Path(args.old), "sim.companies.selectors_old")
    user = get_user_model().objects.get(username="bench-advisor")

    # The latency run's terms and scenario parameters (same seed, same draws).
    rng = random.Random(args.seed)
    max_id = Company.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample_ids = [rng.randint(1, max_id) for _ in range(400)]
    numbers = list(Company.objects.filter(id__in=sample_ids).values_list("org_number", flat=True))
    terms = _fragments(rng, 100) + _org_prefixes(rng, numbers, 100)
    municipalities = list(Municipality.objects.values_list("code", flat=True))
    counties = list(County.objects.values_list("code", flat=True))
    sni = [c for c in Company.objects.filter(id__in=sample_ids).values_list("sni_primary", flat=True) if c]
    scenarios = {
        "default": lambda: {},
        "municipality": lambda: {"municipality": rng.choice(municipalities)},
        "county": lambda: {"county": rng.choice(counties)},
        "sni_division": lambda: {"sni": rng.choice(sni)[:2]},
        "sni_class": lambda: {"sni": rng.choice(sni)[:4]},
        "size_class": lambda: {"size_class": rng.choice([*SizeClass.values, "unknown"])},
        "status": lambda: {"status": rng.choice(["active", "alumni", "prospect", "all"])},
        "target_group": lambda: {"target_group": "yes"},
        "q_name": lambda: {"q": rng.choice(terms[:100])},
        "q_org_number": lambda: {"q": rng.choice(terms[100:])},
        "combined": lambda: {"q": rng.choice(terms[:100]), "municipality": rng.choice(municipalities),
                             "size_class": "micro"},
        "sort": lambda: {"sort": rng.choice([s for s in new.SORTS if s != "name"])},
        "next_pages": lambda: {"page": str(rng.randint(2, 40))},
        "deep_page": lambda: {"page": str(rng.randint(1000, 4000))},
    }
    names = list(scenarios)
    requests = [(names[i % len(names)], scenarios[names[i % len(names)]]()) for i in range(args.requests)]

    def search_old(term):
        return list(old.company_search(Company.objects.all(), term)[:25])

    def search_new(term):
        return list(new.company_search(Company.objects.all(), term, limit=25)[:25])

    def list_old(params):
        filters = old.CompanyFilters.from_params(params)
        page = old.CappedPaginator(old.company_list(user, filters), 25).get_page(params.get("page"))
        return [c.pk for c in page.object_list], page.paginator.count

    def list_new(params):
        filters = new.CompanyFilters.from_params(params)
        queryset = new.company_list(user, filters, window=True)
        page = new.CappedPaginator(queryset, 25, cap=filters.count_cap).get_page(params.get("page"))
        return [c.pk for c in page.object_list], page.paginator.count

    def api_old(params):
        queryset = old.company_list(user, old.CompanyFilters.from_params(params))
        return queryset.count(), [c.pk for c in queryset[:25]]

    def api_new(params):
        filters = new.CompanyFilters.from_params(params)
        queryset = new.company_list(user, filters, window=True)
        return new.capped_count(queryset, filters.count_cap), [c.pk for c in new.page_rows(queryset, 0, 25)]

    def timed(fn, arg) -> float:
        started = time.perf_counter()
        fn(arg)
        return (time.perf_counter() - started) * 1000

    sections = [
        ("search (name)", search_old, search_new, [(t, t) for t in terms[:100]]),
        ("search (org. number)", search_old, search_new, [(t, t) for t in terms[100:]]),
        ("list", list_old, list_new, [(f"{n} {p}", p) for n, p in requests]),
        ("api", api_old, api_new, [(f"{n} {p}", p) for n, p in requests if n in {
            "default", "county", "size_class", "status", "q_name", "target_group", "sort"}]),
    ]
    for label, fn_old, fn_new, items in sections:
        for _key, arg in items[:3]:  # warm up
            fn_old(arg)
            fn_new(arg)
        times_old, times_new, rows = [], [], []
        for _round in range(2):
            for key, arg in items:
                a, b = timed(fn_old, arg), timed(fn_new, arg)
                times_old.append(a)
                times_new.append(b)
                rows.append((key, a, b))
        print(f"{label:<22} old p50 / p95 {percentile(times_old, 50):7.1f} / {percentile(times_old, 95):7.1f} ms   "
              f"new {percentile(times_new, 50):7.1f} / {percentile(times_new, 95):7.1f} ms   "
              f"(load {os.getloadavg()[0]:.1f})")
        for key, a, b in sorted(rows, key=lambda r: -r[2])[:5]:
            print(f"    slowest new: {key[:60]:<60} old {a:8.1f}  new {b:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
