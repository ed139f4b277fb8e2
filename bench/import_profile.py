#!/usr/bin/env python3
"""Where does an import spend its time? Run ``import_companies`` on a fresh database, optionally
without audit events or under cProfile.

    .venv/bin/python bench/import_profile.py --db sqlite --rows 200000
    .venv/bin/python bench/import_profile.py --db postgres --rows 200000 --no-audit
    .venv/bin/python bench/import_profile.py --db sqlite --rows 100000 --profile bench/out/import.prof

Uses the first ``--rows`` rows of ``bench/out/register.csv`` (made by generate_register.py),
a fresh database (``bench/out/profile.sqlite3`` or PostgreSQL database ``sim_bench_profile``,
deleted afterwards unless ``--keep``), and prints wall time, CPU time and peak RSS of the import
process. ``--no-audit`` patches the importer, in the measuring process only, so that it builds
and writes no audit events: the difference is what the audit trail costs an import.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.register_bench import OUT, PG_URL, SIM, db_env, pg_admin_url, pg_connect, run_measured  # noqa: E402


def child(args) -> None:
    import django

    django.setup()
    from sim.companies import importer

    if args.no_audit:
        importer._AuditRows.add_changes = lambda self, *a, **k: None
    started = time.perf_counter()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(importer.import_companies, args.csv)
        profiler.dump_stats(args.profile)
    else:
        result = importer.import_companies(args.csv)
    print(json.dumps({"created": result.created, "errors": result.error_count,
                      "import_s": time.perf_counter() - started}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--profile", help="write a cProfile dump here")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0

    source = OUT / "register.csv"
    csv_path = OUT / f"register-head-{args.rows}.csv"
    if not csv_path.exists():
        with open(source, encoding="utf-8") as src, open(csv_path, "w", encoding="utf-8") as dst:
            dst.writelines(itertools.islice(src, args.rows + 1))
    if args.db == "sqlite":
        path = OUT / "profile.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin, name = pg_admin_url(PG_URL)
        name = f"{name}_profile"
        with pg_connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    import subprocess

    subprocess.run([SIM, "migrate", "--noinput", "-v", "0"], env=db_env(url), cwd=ROOT, check=True)
    command = [sys.executable, __file__, "--child", "--csv", str(csv_path)]
    if args.no_audit:
        command.append("--no-audit")
    if args.profile:
        command += ["--profile", args.profile]
    measured = run_measured(command, db_env(url), OUT / "import-profile.out", OUT / "import-profile.err")
    if measured["returncode"]:
        raise SystemExit(f"import failed, see {OUT / 'import-profile.err'}")
    result = json.loads((OUT / "import-profile.out").read_text().strip().splitlines()[-1])
    print(f"{args.db}, {args.rows:,} rows{' without audit events' if args.no_audit else ''}: "
          f"{result['created']:,} created in {result['import_s']:.1f} s = {result['created'] / result['import_s']:,.0f} rows/s; "
          f"process CPU {measured['cpu_s']:.1f} s, peak {measured['peak_rss_mb']:.0f} MB, "
          f"load {measured['loadavg_before'][0]:.1f}")
    if not args.keep:
        if args.db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            with pg_connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
