#!/usr/bin/env python3
"""Benchmark the indicator report and the project overview at programme scale, on SQLite and
PostgreSQL, against an in-run naive baseline.

    .venv/bin/python bench/reporting_bench.py [--scale 1.0] [--db sqlite|postgres|both] [--runs 3]
                                              [--naive-sample 5000] [--seed 1] [--keep] [--reuse]

Per database, in a child process of its own (one Django set-up per database):

1. a fresh database: SQLite ``bench/out/reporting.sqlite3`` (deleted first) or the PostgreSQL
   database ``sim_bench_reporting`` (dropped and created; ``BENCH_REPORTING_POSTGRES_URL``, default
   ``postgres://postgres@127.0.0.1:5432/sim_bench_reporting``), migrated — never ``var/sim.sqlite3``
   or a test database. Both are removed at the end unless ``--keep``; ``--reuse`` measures a kept
   database again without generating;
2. the programme of ``bench/programme_generator.py`` at ``--scale`` (1.0: 100,000 companies,
   20,000 supported, 500,000 activities, 50,000 referrals, 50,000 interventions, 20,000 aid awards);
3. **indicator report**: ``selectors.indicator_report(project, period)`` for the whole project, the
   call ``sim report_indicators`` makes (plus ``report_json``, what it prints with ``--json``);
4. **overview**: ``selectors.overview(project, period)`` (every figure of the dashboard), and the
   page itself, ``GET /reports/projects/<id>/overview/`` through Django's test client logged in as
   the project's project manager (filters, tables, SVG charts and template included);
5. **naive baseline**: a loop over the register's companies with the ORM, per company its
   approved interventions, started referrals and activities (three queries), and for a supported
   company its key figures and ownership links, then the same counting rules. Its queries have no
   ORDER BY (the models' default ordering made SQLite walk the project's date index for every
   company: a baseline ten times slower than it need be). It runs on a random
   sample of ``--naive-sample`` companies (all when the register is smaller) and its time is
   extrapolated to the whole register (the sample is uniform, so the mean cost per company is
   estimated without bias; the output says when it is extrapolated);
6. **equality**: the naive facts of the sampled companies (first support, per form, research,
   size class at first support, new enterprise, staff and turnover) equal those of the report, and
   the count and result indicators computed on the sample from either side are equal; when the
   sample is the whole register every indicator value of the report is compared.

Times are the median of ``--runs`` runs (wall clock; process CPU time alongside). Targets (issue 6):
indicator report ≤ 2 s on PostgreSQL and ≤ 5 s on SQLite, and at least 20× faster than the naive
loop. Results: a table per database and ``bench/out/reporting-results-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SQLITE_PATH = OUT / "reporting.sqlite3"
PG_URL = os.environ.get("BENCH_REPORTING_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/sim_bench_reporting")
TARGETS = {"report_s": {"sqlite": 5.0, "postgres": 2.0}, "speedup": 20.0}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}Z] {message}", flush=True)


def db_url(db: str) -> str:
    return f"sqlite:///{SQLITE_PATH}" if db == "sqlite" else PG_URL


def pg_admin(url: str) -> tuple[str, str]:
    base, _slash, name = url.rpartition("/")
    return f"{base}/postgres".replace("postgres://", "postgresql://", 1), name.split("?")[0]


def pg_execute(sql: str) -> None:
    import psycopg

    admin, _name = pg_admin(PG_URL)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def pg_reachable() -> str | None:
    try:
        pg_execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def remove_database(db: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    else:
        _admin, name = pg_admin(PG_URL)
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(db: str) -> None:
    remove_database(db)
    if db == "postgres":
        _admin, name = pg_admin(PG_URL)
        pg_execute(f'CREATE DATABASE "{name}"')


# =============================================================================================
# The child: one database
# =============================================================================================


def setup_django(db: str, migrate: bool) -> None:
    os.environ["DATABASE_URL"] = db_url(db)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    expected = str(SQLITE_PATH) if db == "sqlite" else pg_admin(PG_URL)[1]
    assert name == expected, f"not the benchmark database: {name}"
    if migrate:
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        log(f"migrated in {time.perf_counter() - started:.1f} s")


def timed(fn, runs: int) -> dict:
    """Median of ``runs`` calls (wall and process CPU), the queries of the first, the last result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    walls, cpus, queries, result = [], [], None, None
    for _ in range(runs):
        connection.queries_log.clear()  # the log keeps 9,000 queries; the count is wrong past that
        with CaptureQueriesContext(connection) as captured:
            wall, cpu = time.perf_counter(), time.process_time()
            result = fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        if queries is None:
            queries = len(captured.captured_queries)
    return {"median_s": statistics.median(walls), "runs_s": [round(w, 3) for w in walls],
            "cpu_median_s": statistics.median(cpus), "queries": queries, "result": result}


# --- The naive baseline ------------------------------------------------------------------------


def naive_facts(project, company_ids: list[int]):
    """Per company, with the ORM: what the counting rules need (supports, facts, investments)."""
    from decimal import Decimal

    from django.db.models import Q

    from sim.activities.models import Activity
    from sim.companies import rules as company_rules
    from sim.companies.models import Company, OwnershipLink
    from sim.companies.services import company_sme_assessment
    from sim.programmes.models import Intervention, Organisation, Referral
    from sim.programmes.states import INTERVENTION_COMMITTED
    from sim.reporting import rules, selectors

    research = Organisation.Kind.RESEARCH
    minimum = selectors.min_hours(project)
    rate = selectors._sek_per_eur()
    supports, facts, investments = [], {}, []
    for company in Company.objects.filter(pk__in=company_ids).order_by("pk").iterator(chunk_size=1000):
        org = company.org_number
        own = []
        for i in Intervention.objects.filter(project=project, company=company, status__in=INTERVENTION_COMMITTED,
                                             approved_on__isnull=False).select_related("provider").order_by():
            own.append(rules.Support(org, i.approved_on, i.support_form, rules.SOURCE_INTERVENTION,
                                     i.provider is not None and i.provider.kind == research))
            if i.own_cash_sek > 0:
                investments.append(rules.Investment(i.approved_on, i.support_form, i.own_cash_sek))
        for r in Referral.objects.filter(project=project, company=company, status__in=selectors.REFERRAL_STARTED,
                                         started_on__isnull=False).select_related("offer__provider").order_by():
            own.append(rules.Support(org, r.started_on, r.offer.support_form, rules.SOURCE_REFERRAL,
                                     r.offer.provider is not None and r.offer.provider.kind == research))
        days = [rules.ActivityDay(org, a.date, a.hours) for a in Activity.objects.filter(project=project, company=company).order_by()]
        own.extend(rules.activity_supports(days, minimum))
        if not own:
            continue
        supports.extend(own)
        raw, staff, turnover = {}, {}, {}
        for kf in company.key_figures.order_by():
            category = selectors._raw_category(kf.staff_awu, kf.turnover_sek, kf.balance_sheet_sek, rate)
            if category:
                raw[kf.fiscal_year] = category
            if kf.staff_awu is not None:
                staff[kf.fiscal_year] = kf.staff_awu
            if kf.turnover_sek is not None:
                turnover[kf.fiscal_year] = kf.turnover_sek
        sizes = company_rules.apply_two_year_rule(raw) if raw else {}
        if OwnershipLink.objects.filter(Q(holder=company) | Q(held=company)).exists():
            assessment = company_sme_assessment(company)
            sizes = dict(assessment.effective_categories) if assessment else {}
        facts[org] = rules.CompanyFacts(org_number=org, name=company.name, registration_date=company.registration_date,
                                        size_classes=sizes, current_size_class=company.size_class or "",
                                        staff=staff, turnover=turnover)
    return supports, facts, [i for i in investments if i.amount > Decimal(0)]


def naive_report(project, period, company_ids: list[int]) -> dict:
    """The naive loop and the same counting rules: {code: (value, cumulative)} and the parts."""
    from sim.reporting import rules, selectors

    chosen = selectors.indicator_set_of(project)
    years = chosen.new_enterprise_years if chosen else rules.DEFAULT_NEW_ENTERPRISE_YEARS
    supports, facts, investments = naive_facts(project, company_ids)
    enterprises = rules.supported_enterprises(supports, facts, years)
    entries = selectors.entries_of(project)
    values = {}
    up_to_end = rules.Period(None, period.end)
    for indicator in selectors.indicators_of(project):
        kwargs = {"companies": facts, "investments": investments, "entries": entries.get(indicator.pk, []),
                  "breakdown": indicator.breakdown}
        values[indicator.code] = (rules.indicator_value(indicator.method, enterprises, period, **kwargs),
                                  rules.indicator_value(indicator.method, enterprises, up_to_end, **kwargs))
    return {"values": values, "enterprises": enterprises, "facts": facts}


def compare(report, naive: dict, sample_orgs: set[str], whole: bool) -> dict:
    """Equal facts for the sample, equal indicator values (all of them when the sample is everything)."""
    from sim.reporting import rules

    fast_enterprises = {o: e for o, e in report.facts.enterprises.items() if o in sample_orgs}
    problems = []
    if fast_enterprises != naive["enterprises"]:
        only_fast = sorted(set(fast_enterprises) - set(naive["enterprises"]))[:5]
        only_naive = sorted(set(naive["enterprises"]) - set(fast_enterprises))[:5]
        differ = sorted(o for o in set(fast_enterprises) & set(naive["enterprises"])
                        if fast_enterprises[o] != naive["enterprises"][o])[:5]
        problems.append(f"enterprises differ: only fast {only_fast}, only naive {only_naive}, different {differ}")
    for org in fast_enterprises:
        fast, slow = report.facts.companies.get(org), naive["facts"].get(org)
        if fast is None or slow is None or (fast.staff, fast.turnover, fast.size_classes) != (slow.staff, slow.turnover, slow.size_classes):
            problems.append(f"company facts differ for {org}")
            break
    compared = 0
    for row in report.rows:
        method = row.indicator.method
        naive_value, naive_cumulative = naive["values"][row.code]
        if whole:
            fast_pair = (row.value, row.cumulative)
        elif method in ("manual",) or method.startswith("private_investment"):
            continue  # not per enterprise: compared when the sample is the whole register
        else:
            kwargs = {"companies": report.facts.companies, "breakdown": row.indicator.breakdown}
            fast_pair = (rules.indicator_value(method, fast_enterprises, report.period, **kwargs),
                         rules.indicator_value(method, fast_enterprises, rules.Period(None, report.period.end), **kwargs))
        if fast_pair != (naive_value, naive_cumulative):
            problems.append(f"{row.code}: fast {fast_pair[0].value}/{fast_pair[1].value}, "
                            f"naive {naive_value.value}/{naive_cumulative.value}")
        compared += 1
    return {"equal": not problems, "problems": problems, "indicators_compared": compared,
            "enterprises_compared": len(fast_enterprises)}


def child(args) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    meta_path = OUT / f"reporting-meta-{args.db}.json"
    setup_django(args.db, migrate=not args.reuse)
    import programme_generator as generator
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from sim.companies.models import Company
    from sim.programmes.models import Project
    from sim.reporting import selectors

    if args.reuse:
        meta = json.loads(meta_path.read_text())
        log(f"reusing the {args.db} database generated at scale {meta['scale']}")
    else:
        generated = generator.generate(scale=args.scale, seed=args.seed, log=log)
        meta = {"scale": args.scale, "seed": args.seed, "counts": generated.counts, "supported": generated.supported,
                "generation_s": round(generated.seconds, 1)}
        meta_path.write_text(json.dumps(meta, indent=2))
    project = Project.objects.get(code=generator.PROJECT_CODE)
    period = selectors.whole_period(project)
    load_before = os.getloadavg()

    log("indicator report (selectors.indicator_report, as sim report_indicators)")
    report_t = timed(lambda: selectors.indicator_report(project, period), args.runs)
    report = report_t.pop("result")
    json_t = timed(lambda: selectors.report_json(report), 1)
    json_t.pop("result")
    rco01 = next((r for r in report.rows if r.indicator.method == "supported"), None)
    counted = rco01.value.value if rco01 else None
    log(f"  median {report_t['median_s']:.3f} s {report_t['runs_s']} ({report_t['queries']} queries); "
        f"supported enterprises {counted} (generated {meta['supported']})")

    log("overview (selectors.overview)")
    overview_t = timed(lambda: selectors.overview(project, period), args.runs)
    overview_t.pop("result")
    log(f"  median {overview_t['median_s']:.3f} s {overview_t['runs_s']} ({overview_t['queries']} queries)")

    log("overview page (GET /reports/projects/<id>/overview/ as the project manager)")
    client = Client()
    client.force_login(get_user_model().objects.get(username=meta.get("pm", generator.PM_USERNAME)))
    url = f"/reports/projects/{project.pk}/overview/"

    def page():
        response = client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        return len(response.content)

    page_t = timed(page, args.runs)
    page_bytes = page_t.pop("result")
    log(f"  median {page_t['median_s']:.3f} s {page_t['runs_s']} ({page_t['queries']} queries, {page_bytes:,} bytes)")

    log("naive baseline (a loop over the register's companies with the ORM)")
    all_ids = list(Company.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(args.seed)
    whole = args.naive_sample <= 0 or args.naive_sample >= len(all_ids)
    sample = all_ids if whole else sorted(rng.sample(all_ids, args.naive_sample))
    wall, cpu = time.perf_counter(), time.process_time()
    naive = naive_report(project, period, sample)
    naive_s, naive_cpu = time.perf_counter() - wall, time.process_time() - cpu
    naive_full_s = naive_s * len(all_ids) / len(sample)
    log(f"  {len(sample):,} of {len(all_ids):,} companies in {naive_s:.1f} s"
        + ("" if whole else f" → {naive_full_s:.1f} s for the whole register (extrapolated)"))
    sample_orgs = set(Company.objects.filter(pk__in=sample).values_list("org_number", flat=True)) if not whole else \
        set(Company.objects.values_list("org_number", flat=True))
    equality = compare(report, naive, sample_orgs, whole)
    log(f"  equal: {equality['equal']} ({equality['enterprises_compared']:,} enterprises, "
        f"{equality['indicators_compared']} indicators compared) {equality['problems'][:3]}")

    target = TARGETS["report_s"][args.db]
    speedup = naive_full_s / report_t["median_s"]
    results = {
        "db": args.db, "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "server": connection.pg_version if args.db == "postgres" else None},
        "data": meta, "load_before": load_before, "load_after": os.getloadavg(),
        "report": report_t, "report_json": json_t, "overview": overview_t, "overview_page": {**page_t, "bytes": page_bytes},
        "supported_counted": counted,
        "naive": {"companies": len(sample), "register": len(all_ids), "extrapolated": not whole,
                  "sample_s": naive_s, "sample_cpu_s": naive_cpu, "whole_register_s": naive_full_s},
        "speedup": {"report": speedup, "overview": naive_full_s / overview_t["median_s"],
                    "overview_page": naive_full_s / page_t["median_s"]},
        "equality": equality,
        "targets": {"report_s": target, "speedup": TARGETS["speedup"],
                    "report_pass": report_t["median_s"] <= target, "speedup_pass": speedup >= TARGETS["speedup"],
                    "supported_as_generated": counted == meta["supported"]},
    }
    path = OUT / f"reporting-results-{args.db}{'-' + args.tag if args.tag else ''}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print_table([results])
    return 0 if equality["equal"] and counted == meta["supported"] else 1


# =============================================================================================
# Output
# =============================================================================================


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(all_results: list[dict]) -> None:
    for r in all_results:
        n = r["naive"]
        naive_label = (f"{n['whole_register_s']:.1f} s (extrapolated from {n['companies']:,} of {n['register']:,} "
                       f"companies: {n['sample_s']:.1f} s)") if n["extrapolated"] else f"{n['whole_register_s']:.1f} s (all {n['register']:,} companies)"
        t = r["targets"]
        print()
        print(f"== {r['db']} · scale {r['data']['scale']} · {r['when']} · load {r['load_before'][0]:.1f} → {r['load_after'][0]:.1f}")
        rows = [
            ("indicator report (median of runs)", f"{r['report']['median_s']:.3f} s {r['report']['runs_s']}, "
             f"CPU {r['report']['cpu_median_s']:.2f} s, {r['report']['queries']} queries",
             f"≤ {t['report_s']:.0f} s", verdict(t["report_pass"])),
            ("  + report_json (the --json output)", f"{r['report_json']['median_s']:.3f} s", "", ""),
            ("overview selectors", f"{r['overview']['median_s']:.3f} s {r['overview']['runs_s']}, "
             f"{r['overview']['queries']} queries", "", ""),
            ("overview page (GET, project manager)", f"{r['overview_page']['median_s']:.3f} s {r['overview_page']['runs_s']}, "
             f"{r['overview_page']['queries']} queries", "", ""),
            ("naive loop over companies (ORM)", naive_label, "", ""),
            ("speed-up, indicator report", f"{r['speedup']['report']:.0f}×", f"≥ {t['speedup']:.0f}×", verdict(t["speedup_pass"])),
            ("speed-up, overview selectors / page", f"{r['speedup']['overview']:.0f}× / {r['speedup']['overview_page']:.0f}×", "", ""),
            ("fast = naive", f"{r['equality']['enterprises_compared']:,} enterprises, "
             f"{r['equality']['indicators_compared']} indicators", "", "OK" if r["equality"]["equal"] else "DIFFERENT"),
            ("supported enterprises counted", f"{r['supported_counted']:,} (generated {r['data']['supported']:,})", "",
             "OK" if t["supported_as_generated"] else "DIFFERENT"),
        ]
        width = max(len(a) for a, *_ in rows)
        for label, value, target, result in rows:
            print(f"  {label:<{width}}  {value:<70} {target:<7} {result}")


# =============================================================================================
# The parent
# =============================================================================================


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100,000 companies (0.1 for a quick run)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measure (the median is reported)")
    parser.add_argument("--naive-sample", type=int, default=5000,
                        help="companies the naive loop covers (0: all), extrapolated to the whole register")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database(s) afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure the kept database(s) again, no generation")
    parser.add_argument("--tag", default="", help="write reporting-results-<db>-TAG.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT / "bench"))
        return child(args)

    OUT.mkdir(parents=True, exist_ok=True)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    status, results = 0, []
    for db in databases:
        if db == "postgres":
            reason = pg_reachable()
            if reason:
                log(f"PostgreSQL not reachable ({reason}): skipped")
                continue
        if not args.reuse:
            fresh_database(db)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--db", db, "--scale", str(args.scale),
               "--seed", str(args.seed), "--runs", str(args.runs), "--naive-sample", str(args.naive_sample)]
        cmd += (["--reuse"] if args.reuse else []) + (["--tag", args.tag] if args.tag else [])
        env = {**os.environ, "DATABASE_URL": db_url(db), "DEBUG": "0"}
        log(f"{db}: {' '.join(cmd[1:])}")
        try:
            code = subprocess.call(cmd, env=env, cwd=ROOT)
        finally:
            if not args.keep:
                remove_database(db)
                log(f"{db}: benchmark database removed")
        status = status or code
        path = OUT / f"reporting-results-{db}{'-' + args.tag if args.tag else ''}.json"
        if code == 0 and path.exists():
            results.append(json.loads(path.read_text()))
    if len(results) > 1:
        print("\n==== summary")
        print_table(results)
    return status


if __name__ == "__main__":
    sys.exit(main())
