#!/usr/bin/env python3
"""Benchmark the company register at national scale, on SQLite and on PostgreSQL.

    .venv/bin/python bench/register_bench.py [--rows 1000000] [--db sqlite|postgres|both] [--skip-import]

Per database:

1. a fresh database (SQLite: ``bench/out/bench.sqlite3``; PostgreSQL: database ``sim_bench``,
   dropped and created) migrated with ``sim migrate`` in a subprocess;
2. **baseline**: the same CSV rows loaded into the companies and key-figures tables with plain
   ``executemany`` (SQLite) / ``COPY`` (PostgreSQL), no validation, in one transaction, into a
   throw-away copy of the migrated database (so the import below starts from an empty register);
3. **import**: ``sim import_companies FILE --json`` in a subprocess: wall time, CPU time and peak
   RSS of that process alone (``os.wait4``);
4. **search**: ``selectors.company_search(Company.objects.all(), term, limit=25)[:25]``
   materialised, for name fragments and organisation-number prefixes;
5. **list page**: the real view ``GET /companies/?…`` through Django's test client, logged in as an
   advisor, full page and HTMX partial, with a spread of filters, sorts and pages;
6. **API list**: ``GET /api/companies/?…&limit=25`` with the same session, over a few of the
   list's scenarios.

Steps 2, 3 and 4–6 each run in their own process (a Django process can only be set up against
one database), one at a time. Results are printed as a table with the targets and written to
``bench/out/results-<db>.json``.

Environment: ``BENCH_POSTGRES_URL`` (default ``postgres://postgres@127.0.0.1:5432/sim_bench``).
The benchmark processes run with ``DEBUG=0`` (as in production).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
SIM = str(ROOT / ".venv" / "bin" / "sim") if (ROOT / ".venv" / "bin" / "sim").exists() else "sim"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/sim_bench"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG_URL)

TARGETS = {
    "import_ratio": 0.40,  # import rows/s ≥ 40 % of the baseline's
    "import_peak_mb": 500.0,  # peak RSS of the import process < 500 MB
    "search_p95_ms": 50.0,
    "list_p95_ms": 150.0,
}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# =============================================================================================
# Helpers
# =============================================================================================


def log(message: str) -> None:
    # UTC: the Django worker processes set TZ to the project's time zone.
    print(f"[{datetime.now(UTC):%H:%M:%S}Z] {message}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def summary_ms(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "max_ms": round(max(values), 2) if values else None,
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
    }


def run_measured(cmd: list[str], env: dict, stdout_path: Path, stderr_path: Path) -> dict:
    """Run a child process; wall time, CPU time and peak RSS of that child alone (wait4)."""
    samples: list[float] = []
    done = threading.Event()

    def sample_load() -> None:  # the 1-minute load average every 10 s while the child runs
        while not done.wait(10):
            samples.append(os.getloadavg()[0])

    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.perf_counter()
        load_before = os.getloadavg()
        sampler = threading.Thread(target=sample_load, daemon=True)
        sampler.start()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": proc.returncode,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "loadavg_during": {"min": min(samples), "mean": round(statistics.fmean(samples), 2), "max": max(samples)}
        if samples else None,
    }


def db_env(url: str) -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env["DEBUG"] = "0"
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def pg_admin_url(url: str) -> tuple[str, str]:
    """(URL of the maintenance database ``postgres``, name of the benchmark database)."""
    base, _slash, name = url.rpartition("/")
    name = name.split("?")[0]
    return f"{base}/postgres", name


def pg_connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), **kwargs)


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers; otherwise the reason."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        return f"psycopg is not installed ({exc})"
    admin, _name = pg_admin_url(PG_URL)
    try:
        with pg_connect(admin, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def machine_info() -> dict:
    info = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        with open("/proc/meminfo") as f:
            info["ram_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import django

        info["django"] = django.get_version()
    except ImportError:
        pass
    return info


# =============================================================================================
# The CSV
# =============================================================================================


def ensure_csv(path: Path, rows: int, seed: int) -> None:
    meta_path = path.with_name(path.name + ".meta.json")
    wanted = {"rows": rows, "seed": seed}
    if path.exists() and meta_path.exists():
        try:
            if json.loads(meta_path.read_text()) == wanted:
                log(f"Using {path} ({rows:,} rows, seed {seed})")
                return
        except ValueError:
            pass
    log(f"Generating {path} ({rows:,} rows, seed {seed}) ...")
    subprocess.run(
        [PYTHON, str(ROOT / "bench" / "generate_register.py"), "--rows", str(rows), "--seed", str(seed), "--out", str(path)],
        check=True, cwd=ROOT,
    )
    meta_path.write_text(json.dumps(wanted))


# =============================================================================================
# Baseline: plain executemany / COPY, no validation (runs in its own process)
# =============================================================================================

LEGAL_FORM_BY_DIGIT = {"1": "db", "2": "pub", "3": "fi", "5": "ab", "6": "eb", "7": "ek", "8": "if", "9": "hb"}
STATUS_WORDS = {"": "prospect", "aktiv": "active", "alumn": "alumni", "prospekt": "prospect"}
COMPANY_COLUMNS = (
    "id", "created_at", "updated_at", "org_number", "is_sole_trader", "name", "legal_form", "sni_system",
    "sni_primary", "sni_secondary", "street_address", "postal_code", "postal_city", "mailing_address", "website",
    "phone", "email", "status", "growth_ambition_notes", "is_public_body", "is_exempt_investor", "size_class",
    "search_text", "municipality_id",
)
FIGURE_COLUMNS = (
    "created_at", "updated_at", "fiscal_year", "staff_awu", "turnover_sek", "balance_sheet_sek", "source", "estimated",
    "company_id",
)


def _num(text: str) -> str | None:
    text = text.replace(" ", "").replace(",", ".")
    return text or None


def baseline_rows(csv_path: Path):
    """(company tuple, figures tuple or None) per row: the minimum conversion the tables need."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        for pk, cells in enumerate(reader, start=1):
            org = cells[0].replace("-", "")
            name = cells[1]
            company = (
                pk, now, now, org, False, name, LEGAL_FORM_BY_DIGIT.get(org[0], "other"), "SNI2007",
                cells[3].replace(".", ""), "[]", "", "", "", "", "", "", "", STATUS_WORDS.get(cells[8], "prospect"), "",
                org[0] == "2", False, "", f" {name.lower()} {org}"[:300], cells[2],
            )
            figures = None
            if cells[7]:
                figures = (now, now, int(cells[7]), _num(cells[4]), _num(cells[5]), _num(cells[6]), "", False, pk)
            yield company, figures


def baseline_sqlite(db_path: Path, csv_path: Path) -> dict:
    conn = sqlite3.connect(db_path, isolation_level=None)
    # The same connection settings as config/settings.py gives Django.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    company_sql = (f"INSERT INTO companies_company ({', '.join(COMPANY_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(COMPANY_COLUMNS))})")
    figure_sql = (f"INSERT INTO companies_keyfigures ({', '.join(FIGURE_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(FIGURE_COLUMNS))})")
    started = time.perf_counter()
    rows = figures_count = 0
    conn.execute("BEGIN IMMEDIATE")
    companies, figures = [], []
    for company, figure in baseline_rows(csv_path):
        companies.append(company)
        if figure is not None:
            figures.append(figure)
        if len(companies) >= 10_000:
            conn.executemany(company_sql, companies)
            conn.executemany(figure_sql, figures)
            rows += len(companies)
            figures_count += len(figures)
            companies, figures = [], []
    conn.executemany(company_sql, companies)
    conn.executemany(figure_sql, figures)
    rows += len(companies)
    figures_count += len(figures)
    conn.execute("COMMIT")
    wall = time.perf_counter() - started
    conn.close()
    return {"rows": rows, "key_figures": figures_count, "load_s": wall}


def baseline_postgres(url: str, csv_path: Path) -> dict:
    started = time.perf_counter()
    rows = figures_count = 0
    with pg_connect(url) as conn, conn.cursor() as cur:
        # One transaction (psycopg opens it implicitly; the with-block commits).
        with cur.copy(f"COPY companies_company ({', '.join(COMPANY_COLUMNS)}) FROM STDIN") as copy:
            for company, _figure in baseline_rows(csv_path):
                copy.write_row(company)
                rows += 1
        with cur.copy(f"COPY companies_keyfigures ({', '.join(FIGURE_COLUMNS)}) FROM STDIN") as copy:
            for _company, figure in baseline_rows(csv_path):
                if figure is not None:
                    copy.write_row(figure)
                    figures_count += 1
    wall = time.perf_counter() - started
    return {"rows": rows, "key_figures": figures_count, "load_s": wall}


def worker_baseline(args) -> None:
    csv_path = Path(args.csv)
    if args.db == "sqlite":
        result = baseline_sqlite(Path(args.target), csv_path)
    else:
        result = baseline_postgres(args.target, csv_path)
    print(json.dumps(result))


# =============================================================================================
# Latency: search and list page (runs in its own process, Django set up against one database)
# =============================================================================================

NAME_WORDS: list[str] = []


def _fragments(rng: random.Random, n: int) -> list[str]:
    """Name fragments as advisors type them: whole words, word starts, pieces from mid-word,
    place or surname pieces, two-word phrases; 3–10 characters, mixed case."""
    from bench.generate_register import INDUSTRY, PLACES, SURNAMES

    words = [w for w in (*INDUSTRY, *PLACES, *SURNAMES) if len(w) >= 3]
    fragments = []
    while len(fragments) < n:
        word = rng.choice(words)
        kind = rng.random()
        if kind < 0.3:
            text = word[: rng.randint(3, min(10, len(word)))]  # a word start: "Meka", "Bergs"
        elif kind < 0.6 and len(word) >= 5:
            start = rng.randint(1, len(word) - 3)
            text = word[start : start + rng.randint(3, min(10, len(word) - start))]  # mid-word: "kanis"
        elif kind < 0.85:
            text = word[:10]
        else:
            text = f"{rng.choice(PLACES)} {rng.choice(INDUSTRY)}"[: rng.randint(8, 14)]  # "Sjöns Meka"
        text = text.strip()
        if len(text) < 3:
            continue
        fragments.append(text.lower() if rng.random() < 0.5 else text)
    return fragments


def benchmark_name_terms(seed: int = 1, queries: int = 200, max_id: int = 1_000_000) -> list[str]:
    """The name fragments the latency run searches for (same seed, same register size), for the
    diagnosis scripts."""
    rng = random.Random(seed)
    for _ in range(400):  # the latency run samples 400 ids first
        rng.randint(1, max_id)
    return _fragments(rng, queries // 2)


def _org_prefixes(rng: random.Random, numbers: list[str], n: int) -> list[str]:
    prefixes = []
    for _ in range(n):
        digits = rng.choice(numbers)
        length = rng.randint(6, 10)
        if length > 6 and rng.random() < 0.5:
            prefixes.append(f"{digits[:6]}-{digits[6:length]}")
        else:
            prefixes.append(digits[:length])
    return prefixes


def _timed(fn, repeat_warmup: int = 0):
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def worker_latency(args) -> None:
    import django

    django.setup()
    from django.db import connection

    from sim.companies.models import Company

    rng = random.Random(args.seed)
    out: dict = {"companies": Company.objects.count(), "vendor": connection.vendor}
    _measure_latency(args, rng, out)
    Path(args.target).write_text(json.dumps(out, indent=2, ensure_ascii=False))


def _measure_latency(args, rng: random.Random, out: dict) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sim.companies import selectors
    from sim.companies.models import Company, County, Municipality, SizeClass
    from sim.core.roles import Role


    # --- sample organisation numbers (a few random ids) ---------------------------------------
    max_id = Company.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample_ids = [rng.randint(1, max_id) for _ in range(400)]
    numbers = list(Company.objects.filter(id__in=sample_ids).values_list("org_number", flat=True))

    # --- search ---------------------------------------------------------------------------------
    n = args.queries
    name_terms = _fragments(rng, n // 2)
    org_terms = _org_prefixes(rng, numbers, n - n // 2)
    for term in name_terms[:5] + org_terms[:5]:  # warm up (not timed)
        list(selectors.company_search(Company.objects.all(), term, limit=25)[:25])
    searches: dict[str, list[float]] = {"name": [], "org_number": []}
    per_query: list[dict] = []
    mixed = [("name", t) for t in name_terms] + [("org_number", t) for t in org_terms]
    rng.shuffle(mixed)
    for kind, term in mixed:
        ms, rows = _timed(lambda term=term: list(selectors.company_search(Company.objects.all(), term, limit=25)[:25]))
        searches[kind].append(ms)
        per_query.append({"kind": kind, "term": term, "ms": round(ms, 2), "rows": len(rows)})
    out["search"] = {
        "all": summary_ms(searches["name"] + searches["org_number"]),
        "name": summary_ms(searches["name"]),
        "org_number": summary_ms(searches["org_number"]),
        "slowest": sorted(per_query, key=lambda q: -q["ms"])[:10],
        "queries": per_query,
    }
    log(f"  search: p50 {out['search']['all']['p50_ms']} ms, p95 {out['search']['all']['p95_ms']} ms")

    # --- list page --------------------------------------------------------------------------------
    User = get_user_model()
    user, _created = User.objects.get_or_create(username="bench-advisor", defaults={"first_name": "Bench"})
    user.groups.add(Group.objects.get(name=Role.ADVISOR.value))
    client = Client()
    client.force_login(user)

    municipalities = list(Municipality.objects.values_list("code", flat=True))
    counties = list(County.objects.values_list("code", flat=True))
    divisions = sorted({c[:2] for c in Company.objects.filter(id__in=sample_ids).values_list("sni_primary", flat=True) if c})
    classes = sorted({f"{c[:2]}.{c[2:4]}" for c in Company.objects.filter(id__in=sample_ids).values_list("sni_primary", flat=True) if c})
    sizes = [*SizeClass.values, "unknown"]

    scenarios = {
        "default": lambda: {},
        "municipality": lambda: {"municipality": rng.choice(municipalities)},
        "county": lambda: {"county": rng.choice(counties)},
        "sni_division": lambda: {"sni": rng.choice(divisions)},
        "sni_class": lambda: {"sni": rng.choice(classes)},
        "size_class": lambda: {"size_class": rng.choice(sizes)},
        "status": lambda: {"status": rng.choice(["active", "alumni", "prospect", "all"])},
        "target_group": lambda: {"target_group": "yes"},
        "q_name": lambda: {"q": rng.choice(name_terms)},
        "q_org_number": lambda: {"q": rng.choice(org_terms)},
        "combined": lambda: {"q": rng.choice(name_terms), "municipality": rng.choice(municipalities), "size_class": "micro"},
        "sort": lambda: {"sort": rng.choice([s for s in selectors.SORTS if s != "name"])},
        "next_pages": lambda: {"page": str(rng.randint(2, 40))},
        "deep_page": lambda: {"page": str(rng.randint(1000, 4000))},
    }
    names = list(scenarios)
    requests = [(names[i % len(names)], scenarios[names[i % len(names)]]()) for i in range(args.requests)]

    def get(params: dict, htmx: bool):
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "company-results"} if htmx else {}
        response = client.get("/companies/", params, **headers)
        if response.status_code != 200:
            raise SystemExit(f"GET /companies/ {params} answered {response.status_code}")
        return response

    for name in names[:3]:  # warm up: templates, connections
        get(scenarios[name](), False)
        get(scenarios[name](), True)

    queries_per_request: dict[str, int] = {}
    for name in names:
        with CaptureQueriesContext(connection) as captured:
            get(scenarios[name](), True)
        queries_per_request[name] = len(captured.captured_queries)

    out["list"] = {}
    for htmx in (False, True):
        label = "htmx" if htmx else "full"
        times: list[float] = []
        by_scenario: dict[str, list[float]] = {}
        details = []
        for name, params in requests:
            ms, _response = _timed(lambda params=params, htmx=htmx: get(params, htmx))
            times.append(ms)
            by_scenario.setdefault(name, []).append(ms)
            details.append({"scenario": name, "params": params, "ms": round(ms, 2)})
        out["list"][label] = {
            "all": summary_ms(times),
            "by_scenario": {k: summary_ms(v) for k, v in by_scenario.items()},
            "slowest": sorted(details, key=lambda d: -d["ms"])[:10],
        }
        log(f"  list ({label}): p50 {out['list'][label]['all']['p50_ms']} ms, p95 {out['list'][label]['all']['p95_ms']} ms")
    out["list"]["queries_per_request"] = queries_per_request

    # --- API list endpoint (same session: the API accepts session authentication) --------------
    api_scenarios = ["default", "county", "size_class", "status", "q_name", "target_group", "sort"]
    api_requests = [(api_scenarios[i % len(api_scenarios)], {**scenarios[api_scenarios[i % len(api_scenarios)]](),
                                                              "limit": "25"}) for i in range(args.api_requests)]

    def api_get(params: dict):
        response = client.get("/api/companies/", params)
        if response.status_code != 200:
            raise SystemExit(f"GET /api/companies/ {params} answered {response.status_code}: {response.content[:300]!r}")
        return response

    for name in api_scenarios[:3]:
        api_get({**scenarios[name](), "limit": "25"})
    times = []
    by_scenario = {}
    details = []
    for name, params in api_requests:
        ms, _response = _timed(lambda params=params: api_get(params))
        times.append(ms)
        by_scenario.setdefault(name, []).append(ms)
        details.append({"scenario": name, "params": params, "ms": round(ms, 2)})
    out["api"] = {
        "all": summary_ms(times),
        "by_scenario": {k: summary_ms(v) for k, v in by_scenario.items()},
        "slowest": sorted(details, key=lambda d: -d["ms"])[:10],
    }
    log(f"  API list: p50 {out['api']['all']['p50_ms']} ms, p95 {out['api']['all']['p95_ms']} ms")


# =============================================================================================
# Orchestration
# =============================================================================================


def fresh_database(db: str) -> str:
    """Create an empty, migrated database; return its DATABASE_URL."""
    if db == "sqlite":
        path = OUT / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin, name = pg_admin_url(PG_URL)
        with pg_connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_baseline" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_URL
    log(f"{db}: migrating a fresh database ({url})")
    subprocess.run([SIM, "migrate", "--noinput", "-v", "0"], env=db_env(url), cwd=ROOT, check=True)
    return url


def run_baseline(db: str, url: str, csv_path: Path) -> dict:
    """Load the rows raw into a throw-away copy of the freshly migrated database."""
    if db == "sqlite":
        target = OUT / "baseline.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        source = sqlite3.connect(OUT / "bench.sqlite3")
        dest = sqlite3.connect(target)
        source.backup(dest)
        source.close()
        dest.close()
        target_arg = str(target)
    else:
        admin, name = pg_admin_url(PG_URL)
        with pg_connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_baseline" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}_baseline" TEMPLATE "{name}"')
        target_arg = PG_URL.rsplit("/", 1)[0] + f"/{name}_baseline"
    log(f"{db}: baseline (plain {'executemany' if db == 'sqlite' else 'COPY'}, no validation)")
    measured = run_measured(
        [PYTHON, __file__, "--worker", "baseline", "--db", db, "--csv", str(csv_path), "--target", target_arg],
        db_env(url), OUT / f"baseline-{db}.out", OUT / f"baseline-{db}.err",
    )
    if measured["returncode"] != 0:
        raise SystemExit(f"baseline failed, see {OUT / f'baseline-{db}.err'}")
    result = json.loads((OUT / f"baseline-{db}.out").read_text().strip().splitlines()[-1])
    result.update(measured)
    result["rows_per_s"] = result["rows"] / result["load_s"]
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target_arg}{suffix}").unlink(missing_ok=True)
    else:
        with pg_connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_baseline" WITH (FORCE)')
    log(f"{db}: baseline {result['rows']:,} rows in {result['load_s']:.1f} s = {result['rows_per_s']:,.0f} rows/s")
    return result


def run_import(db: str, url: str, csv_path: Path) -> dict:
    log(f"{db}: sim import_companies {csv_path.name} --json")
    measured = run_measured(
        [SIM, "import_companies", str(csv_path), "--json"], db_env(url), OUT / f"import-{db}.out", OUT / f"import-{db}.err"
    )
    output = (OUT / f"import-{db}.out").read_text(encoding="utf-8", errors="replace")
    try:
        report = json.loads(output)
    except ValueError:
        report = {"unparsed_output": output[-2000:]}
    if measured["returncode"] != 0:
        log(f"{db}: import FAILED (exit {measured['returncode']}), see {OUT / f'import-{db}.err'}")
    created = report.get("created", 0) if isinstance(report, dict) else 0
    result = {**measured, "created": created, "updated": report.get("updated"), "errors": len(report.get("errors", [])),
              "rows_per_s": created / measured["wall_s"] if measured["wall_s"] else 0,
              "rows_per_cpu_s": created / measured["cpu_s"] if measured["cpu_s"] else 0}
    log(f"{db}: imported {created:,} rows in {measured['wall_s']:.1f} s (CPU {measured['cpu_s']:.1f} s) = "
        f"{result['rows_per_s']:,.0f} rows/s, peak {measured['peak_rss_mb']:.0f} MB")
    return result


def analyze(db: str, url: str) -> None:
    if db == "postgres":
        # Autovacuum would vacuum and analyse the freshly loaded tables within minutes (and the
        # local benchmark server may run with autovacuum off): do it now, for the whole database.
        with pg_connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def run_latency(db: str, url: str, args) -> dict:
    log(f"{db}: search and list-page latency")
    tag = f"{db}-{args.tag}" if args.tag else db
    target = OUT / f"latency-{tag}.json"
    command = [PYTHON, __file__, "--worker", "latency", "--db", db, "--target", str(target), "--seed", str(args.seed),
               "--queries", str(args.queries), "--requests", str(args.requests),
               "--api-requests", str(args.api_requests)]
    measured = run_measured(command, db_env(url), OUT / f"latency-{tag}.out", OUT / f"latency-{tag}.err")
    sys.stdout.write((OUT / f"latency-{tag}.out").read_text())
    if measured["returncode"] != 0:
        raise SystemExit(f"latency run failed, see {OUT / f'latency-{tag}.err'}")
    result = json.loads(target.read_text())
    result["loadavg_before"] = measured["loadavg_before"]
    result["loadavg_after"] = measured["loadavg_after"]
    result["loadavg_during"] = measured["loadavg_during"]
    result["wall_s"] = measured["wall_s"]
    return result


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def assess(result: dict) -> list[tuple[str, str, str, str]]:
    """Rows of (figure, value, target, verdict)."""
    rows = []
    baseline, imported = result.get("baseline"), result.get("import")
    if baseline:
        rows.append(("baseline load (rows/s)", f"{baseline['rows_per_s']:,.0f}", "", ""))
    if imported:
        rows.append(("import (rows/s, wall)", f"{imported['rows_per_s']:,.0f}", "", ""))
        rows.append(("import (rows per CPU-s)", f"{imported['rows_per_cpu_s']:,.0f}", "", ""))
        if baseline:
            ratio = imported["rows_per_s"] / baseline["rows_per_s"]
            result["import_ratio"] = ratio
            rows.append(("import / baseline", f"{ratio:.0%}", f"≥ {TARGETS['import_ratio']:.0%}",
                         verdict(ratio >= TARGETS["import_ratio"])))
        rows.append(("import peak RSS (MB)", f"{imported['peak_rss_mb']:.0f}", f"< {TARGETS['import_peak_mb']:.0f}",
                     verdict(imported["peak_rss_mb"] < TARGETS["import_peak_mb"])))
    latency = result.get("latency")
    if latency:
        s = latency["search"]
        for key, label in (("name", "search, name fragment"), ("org_number", "search, org. number")):
            rows.append((f"{label} p50 / p95 (ms)", f"{s[key]['p50_ms']:.1f} / {s[key]['p95_ms']:.1f}",
                         f"p95 ≤ {TARGETS['search_p95_ms']:.0f}", verdict(s[key]["p95_ms"] <= TARGETS["search_p95_ms"])))
        rows.append(("search, all p50 / p95 (ms)", f"{s['all']['p50_ms']:.1f} / {s['all']['p95_ms']:.1f}",
                     f"p95 ≤ {TARGETS['search_p95_ms']:.0f}", verdict(s["all"]["p95_ms"] <= TARGETS["search_p95_ms"])))
        for label in ("full", "htmx"):
            a = latency["list"][label]["all"]
            rows.append((f"list page ({label}) p50 / p95 (ms)", f"{a['p50_ms']:.1f} / {a['p95_ms']:.1f}",
                         f"p95 ≤ {TARGETS['list_p95_ms']:.0f}", verdict(a["p95_ms"] <= TARGETS["list_p95_ms"])))
        if "api" in latency:
            a = latency["api"]["all"]
            rows.append(("API list p50 / p95 (ms)", f"{a['p50_ms']:.1f} / {a['p95_ms']:.1f}",
                         f"p95 ≤ {TARGETS['list_p95_ms']:.0f}", verdict(a["p95_ms"] <= TARGETS["list_p95_ms"])))
    return rows


def print_table(db: str, result: dict) -> None:
    rows = assess(result)
    width = max(len(r[0]) for r in rows) if rows else 20
    print()
    print(f"=== {db}: {result.get('rows', 0):,} companies ===")
    print(f"{'figure'.ljust(width)}  {'value':>16}  {'target':>10}  ")
    for figure, value, target, ok in rows:
        print(f"{figure.ljust(width)}  {value:>16}  {target:>10}  {ok}")
    latency = result.get("latency")
    if latency:
        print("\nlist page (full) by scenario: p50 / p95 ms (queries per request)")
        for name, s in latency["list"]["full"]["by_scenario"].items():
            h = latency["list"]["htmx"]["by_scenario"][name]
            q = latency["list"]["queries_per_request"].get(name, "?")
            print(f"  {name:<14} full {s['p50_ms']:>8.1f} / {s['p95_ms']:>8.1f}   htmx {h['p50_ms']:>8.1f} / "
                  f"{h['p95_ms']:>8.1f}   ({q} queries)")
        if "api" in latency:
            print("\nAPI list by scenario: p50 / p95 ms")
            for name, a in latency["api"]["by_scenario"].items():
                print(f"  {name:<14} {a['p50_ms']:>8.1f} / {a['p95_ms']:>8.1f}")
    print()


def bench_database(db: str, args, csv_path: Path) -> dict:
    result: dict = {"database": db, "rows": args.rows, "date": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "machine": machine_info(), "targets": TARGETS}
    if db == "postgres":
        with pg_connect(PG_URL.rsplit("/", 1)[0] + "/postgres") as conn:
            result["machine"]["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
    if args.skip_import:
        url = f"sqlite:///{OUT / 'bench.sqlite3'}" if db == "sqlite" else PG_URL
        previous = OUT / f"results-{db}.json"
        if previous.exists():
            old = json.loads(previous.read_text())
            for key in ("baseline", "import"):
                if key in old:
                    result[key] = old[key]
            result["import_from"] = old.get("date")
    else:
        url = fresh_database(db)
        if not args.skip_baseline:
            result["baseline"] = run_baseline(db, url, csv_path)
        result["import"] = run_import(db, url, csv_path)
        analyze(db, url)
    result["latency"] = run_latency(db, url, args)
    result["rows"] = result["latency"]["companies"]
    result["tag"] = args.tag
    print_table(db + (f" ({args.tag})" if args.tag else ""), result)
    results_path = OUT / (f"results-{db}-{args.tag}.json" if args.tag else f"results-{db}.json")
    results_path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    log(f"{db}: results written to {results_path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-import", action="store_true",
                        help="keep the database of the previous run; measure search and list page only")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the raw baseline load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", help="CSV file (default bench/out/register.csv, generated when missing)")
    parser.add_argument("--queries", type=int, default=200, help="search queries per database")
    parser.add_argument("--requests", type=int, default=200, help="list-page requests per database (full and HTMX each)")
    parser.add_argument("--api-requests", type=int, default=100, help="GET /api/companies/ requests per database")
    parser.add_argument("--tag", help="label of this run: results-<db>-TAG.json and latency-<db>-TAG.* instead of "
                        "results-<db>.json (to keep a before/after pair of a change)")
    parser.add_argument("--worker", choices=["baseline", "latency"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker == "baseline":
        worker_baseline(args)
        return 0
    if args.worker == "latency":
        worker_latency(args)
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = Path(args.csv) if args.csv else OUT / "register.csv"
    if not args.skip_import:
        ensure_csv(csv_path, args.rows, args.seed)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in databases:
        if db == "postgres":
            reason = postgres_reachable()
            if reason:
                print(f"\n*** PostgreSQL is not reachable at {PG_URL} ({reason}): skipping PostgreSQL. ***\n"
                      "    Set BENCH_POSTGRES_URL to a server where the user may create databases.\n", flush=True)
                continue
        bench_database(db, args, csv_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
