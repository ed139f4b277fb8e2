#!/usr/bin/env python3
"""Markdown tables of the figures in ``bench/out/results-*.json``, for docs/performance.md.

    .venv/bin/python bench/report.py                  # every results file
    .venv/bin/python bench/report.py sqlite postgres  # results-sqlite.json, results-postgres.json
    .venv/bin/python bench/report.py sqlite-before sqlite-after   # runs made with --tag
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def summary(results: dict[str, dict]) -> str:
    names = list(results)
    lines = ["| figure | target | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]

    def row(label: str, target: str, cell) -> None:
        cells = []
        for r in results.values():
            try:
                cells.append(cell(r))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")

    t = next(iter(results.values()))["targets"]
    row("companies", "", lambda r: f"{r['rows']:,}")
    row("baseline load, rows/s", "", lambda r: f"{r['baseline']['rows_per_s']:,.0f} ({r['baseline']['load_s']:.0f} s)")
    row("import, rows/s (wall)", "", lambda r: f"{r['import']['rows_per_s']:,.0f} ({r['import']['wall_s']:.0f} s)")
    row("import, CPU s of the import process", "", lambda r: f"{r['import']['cpu_s']:.0f}")
    row("import ÷ baseline", f"≥ {t['import_ratio']:.0%}", lambda r: (
        lambda q: f"{q:.0%} {verdict(q >= t['import_ratio'])}")(r["import"]["rows_per_s"] / r["baseline"]["rows_per_s"]))
    row("import peak RSS, MB", f"< {t['import_peak_mb']:.0f}", lambda r: (
        f"{r['import']['peak_rss_mb']:.0f} {verdict(r['import']['peak_rss_mb'] < t['import_peak_mb'])}"))
    row("load average during import", "", lambda r: f"{r['import']['loadavg_before'][0]:.1f} → {r['import']['loadavg_after'][0]:.1f}")
    row("load average around search + list", "", lambda r: (
        f"{r['latency']['loadavg_before'][0]:.1f} → {r['latency']['loadavg_after'][0]:.1f}"
        + (f" (during: {r['latency']['loadavg_during']['min']:.1f}–{r['latency']['loadavg_during']['max']:.1f})"
           if r["latency"].get("loadavg_during") else "")))
    for key, label in (("name", "search, name fragment"), ("org_number", "search, org. number"), ("all", "search, all")):
        row(f"{label} p50 / p95 ms", f"p95 ≤ {t['search_p95_ms']:.0f}", lambda r, key=key: (
            lambda s: f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} {verdict(s['p95_ms'] <= t['search_p95_ms'])}")(
            r["latency"]["search"][key]))
    for key in ("full", "htmx"):
        row(f"list page ({key}) p50 / p95 ms", f"p95 ≤ {t['list_p95_ms']:.0f}", lambda r, key=key: (
            lambda s: f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} {verdict(s['p95_ms'] <= t['list_p95_ms'])}")(
            r["latency"]["list"][key]["all"]))
    row("API list p50 / p95 ms", f"p95 ≤ {t['list_p95_ms']:.0f}", lambda r: (
        lambda s: f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} {verdict(s['p95_ms'] <= t['list_p95_ms'])}")(
        r["latency"]["api"]["all"]))
    return "\n".join(lines)


def scenarios(results: dict[str, dict]) -> str:
    names = list(results)
    first = next(iter(results.values()))
    lines = ["| list scenario (full page) | " + " | ".join(f"{n} p50 / p95 ms" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for scenario in first["latency"]["list"]["full"]["by_scenario"]:
        cells = []
        for r in results.values():
            s = r["latency"]["list"]["full"]["by_scenario"].get(scenario)
            cells.append(f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f}" if s else "–")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    api = [r["latency"].get("api", {}).get("by_scenario", {}) for r in results.values()]
    for scenario in dict.fromkeys(k for a in api for k in a):
        cells = [f"{a[scenario]['p50_ms']:.0f} / {a[scenario]['p95_ms']:.0f}" if scenario in a else "–" for a in api]
        lines.append(f"| API: {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    tags = argv or sorted(p.stem.removeprefix("results-") for p in OUT.glob("results-*.json"))
    results = {tag: json.loads((OUT / f"results-{tag}.json").read_text()) for tag in tags}
    print(summary(results))
    print()
    print(scenarios(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
