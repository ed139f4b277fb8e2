#!/usr/bin/env python3
"""Generate a national-scale, Swedish-looking company register as CSV for the benchmarks.

    python bench/generate_register.py --rows 1000000 --seed 1 --out bench/out/register.csv

* Deterministic: the same ``--rows`` and ``--seed`` give the same file, byte for byte.
* Streaming: rows are written as they are made; memory stays constant whatever ``--rows``.
* Valid: every organisation number is a legal entity's number (3rd–4th digits ≥ 20) with a
  correct Luhn check digit (``sim.companies.rules.luhn_check_digit``) and unique in the file;
  municipality codes come from the 290 shipped municipalities, SNI codes from the shipped SNI 2007
  subclasses, so ``sim import_companies`` accepts every row.
* Realistic for search: names are put together from shared word lists ("Mekaniska", "Trä",
  "Bygg", place names and surnames), so a name fragment matches thousands of companies, as in the
  real register.

Columns (the Swedish headings the importer recognises), ``;``-separated, UTF-8::

    organisationsnummer;namn;kommunkod;sni;anställda;omsättning;balansomslutning;räkenskapsår;status

About 15 % of the rows have no key figures (empty cells). Status is mostly empty (the register's
default, prospect), 6 % ``aktiv`` and 2 % ``alumn``, so the status filter has something to find. Numbers are written the ways Swedish
spreadsheets write them: plain integers, a decimal comma (``12,5``), or thousands separated by
spaces (``1 234 567``).

Only the standard library and two pure modules of the project (no Django settings) are needed.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.companies.reference import load_municipalities, load_sni_codes  # noqa: E402
from sim.companies.rules import luhn_check_digit  # noqa: E402

HEADER = [
    "organisationsnummer", "namn", "kommunkod", "sni", "anställda", "omsättning", "balansomslutning", "räkenskapsår",
    "status",
]

# --- Word lists (shared by the benchmark, which draws its search fragments from them) -----------

PLACES = [
    "Norrlands", "Sjöns", "Bergs", "Dalarnas", "Västkustens", "Älvdalens", "Skogens", "Fjällets", "Åsens",
    "Hälsinge", "Jämtlands", "Gästrike", "Smålands", "Skånska", "Östgöta", "Värmlands", "Uppsala", "Mälardalens",
    "Roslagens", "Sörmlands", "Bohus", "Hallands", "Blekinge", "Gotlands", "Ölands", "Kalmar", "Vättern",
    "Vänerns", "Siljans", "Storsjöns", "Ådalens", "Kustens", "Bruks", "Dalens", "Hamnens", "Brobyggarnas",
    "Lappmarkens", "Tornedalens", "Medelpads", "Ångermanlands", "Härjedalens", "Västerbottens", "Norrbottens",
    "Kinda", "Tjust", "Vikens", "Öresunds", "Söderslätts", "Österlens", "Nordens", "Svea", "Göta",
]
SURNAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
    "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Jakobsson",
    "Magnusson", "Olofsson", "Lindström", "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg",
    "Lundgren", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg", "Sjöberg", "Wallin",
    "Engström", "Eklund", "Danielsson", "Lundqvist", "Håkansson", "Björk", "Bergman", "Gunnarsson", "Holm",
    "Wikström", "Samuelsson", "Isaksson", "Fransson", "Bergqvist", "Nyström", "Holmberg", "Arvidsson", "Löfgren",
    "Söderberg", "Nyberg", "Blomqvist", "Claesson", "Nordström", "Mårtensson", "Lundström", "Ali", "Mohammed",
    "Viklund", "Björklund", "Eliasson", "Pålsson", "Berggren", "Sandström", "Lund", "Nordin", "Ström", "Åberg",
    "Hermansson", "Ekström", "Holmgren", "Sundberg", "Hedlund", "Dahlberg", "Hellström", "Sjögren", "Abrahamsson",
    "Falk", "Martinsson", "Öberg", "Andreasson", "Strömberg", "Månsson", "Åkesson", "Hansen", "Norberg",
]
INDUSTRY = [
    "Mekaniska", "Mekanik", "Verkstad", "Verkstäder", "Trä", "Träindustri", "Snickeri", "Bygg", "Byggnads",
    "Plåt", "Plåtslageri", "Svets", "Smide", "Gjuteri", "Industri", "Produktion", "Maskin", "Maskiner",
    "Teknik", "Automation", "Elektro", "El", "Elinstallation", "Rör", "VVS", "Måleri", "Transport", "Åkeri",
    "Logistik", "Frakt", "Plast", "Gummi", "Kemi", "Färg", "Papper", "Tryckeri", "Förpackning", "Livsmedel",
    "Bageri", "Mejeri", "Slakteri", "Bryggeri", "Textil", "Sömnad", "Möbler", "Möbelsnickeri", "Glas", "Keramik",
    "Sten", "Betong", "Grus", "Skog", "Sågverk", "Hyvleri", "Energi", "Solenergi", "Kraft", "Konsult",
    "Redovisning", "Data", "IT", "Mjukvara", "Design", "Reklam", "Fastighet", "Förvaltning", "Städ", "Service",
    "Handel", "Import", "Export", "Partihandel", "Montage", "Installation", "Laser", "CNC", "Precision",
    "Hydraulik", "Pneumatik", "Fordon", "Bilverkstad", "Marin", "Båtvarv", "Verktyg", "Gjutning", "Lackering",
]
SECOND = [
    "och Bygg", "& Trä", "och Plåt", "& Svets", "och Montage", "& Service", "och Söner", "& Co", "och Partners",
    "i Norden", "Sverige", "Gruppen", "Konsult", "Teknik", "Industri", "Produktion", "Invest", "Holding",
]

#: Organisation-number series (first three digits) and their share of the register.
#: The first digit gives the legal-form group (5 limited company, 9 partnership, 7 economic
#: association, 8 non-profit, 2 public body); digits 3–4 are at least 20 for legal entities.
SERIES = [
    ("556", 0.40, "AB"), ("559", 0.30, "AB"), ("969", 0.07, "HB"), ("916", 0.06, "KB"),
    ("769", 0.06, "ek. för."), ("802", 0.08, "ideell förening"), ("212", 0.03, ""),
]
SERIES_CAPACITY = 1_000_000  # six free digits per series
FISCAL_YEARS = (2022, 2023, 2024)


def _series_counter_map(seed: int):
    """A bijection of 0..999999 (so numbers within a series are unique but not sequential)."""
    rng = random.Random(f"series-{seed}")
    multiplier = rng.randrange(100_001, 999_999, 2)
    while multiplier % 5 == 0:  # coprime to 10**6: odd and not a multiple of 5
        multiplier += 2
    offset = rng.randrange(SERIES_CAPACITY)
    return lambda k: (k * multiplier + offset) % SERIES_CAPACITY


def _municipality_weights(rng: random.Random, municipalities) -> list[float]:
    # A skewed but non-zero weight for every one of the 290 municipalities (a few large cities,
    # a long tail of small ones), as in the real register.
    weights = []
    for m in municipalities:
        base = rng.paretovariate(1.2)
        if m.code in {"0180", "1480", "1280"}:  # Stockholm, Göteborg, Malmö
            base *= 25
        weights.append(base)
    return weights


def _number(rng: random.Random, value: float, *, decimals: bool) -> str:
    """A number as Swedish spreadsheets write it (sometimes decimal comma or spaced thousands)."""
    style = rng.random()
    if decimals and style < 0.25:
        return f"{value:.2f}".replace(".", ",")
    integer = int(round(value))
    if style > 0.85 and integer >= 1000:
        return f"{integer:,}".replace(",", " ")
    return str(integer)


def _name(rng: random.Random, suffix: str) -> str:
    pattern = rng.random()
    industry = rng.choice(INDUSTRY)
    if pattern < 0.35:
        name = f"{rng.choice(PLACES)} {industry}"
    elif pattern < 0.65:
        name = f"{rng.choice(SURNAMES)}s {industry}"
    elif pattern < 0.85:
        name = f"{rng.choice(SURNAMES)} {industry} {rng.choice(SECOND)}"
    else:
        name = f"{rng.choice(PLACES)} {industry} {rng.choice(SECOND)}"
    return f"{name} {suffix}".strip() if suffix else name


def generate(rows: int, seed: int, out) -> dict:
    rng = random.Random(seed)
    municipalities = load_municipalities()
    muni_codes = [m.code for m in municipalities]
    muni_cum = _cum(_municipality_weights(random.Random(f"muni-{seed}"), municipalities))
    subclasses = [c.code for c in load_sni_codes() if c.level == "subclass"]
    series_prefixes = [s[0] for s in SERIES]
    series_cum = _cum([s[1] for s in SERIES])
    suffix_by_prefix = {s[0]: s[2] for s in SERIES}
    permute = _series_counter_map(seed)
    counters = dict.fromkeys(series_prefixes, 0)

    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for _i in range(rows):
        prefix = rng.choices(series_prefixes, cum_weights=series_cum)[0]
        k = counters[prefix]
        if k >= SERIES_CAPACITY:
            raise SystemExit(f"Series {prefix} is full: more than {SERIES_CAPACITY} rows need more series.")
        counters[prefix] = k + 1
        nine = f"{prefix}{permute(k):06d}"
        digits = nine + luhn_check_digit(nine)
        org = f"{digits[:6]}-{digits[6:]}" if rng.random() < 0.7 else digits
        name = _name(rng, suffix_by_prefix[prefix])
        municipality = rng.choices(muni_codes, cum_weights=muni_cum)[0]
        sni = rng.choice(subclasses)
        if rng.random() < 0.3:
            sni = f"{sni[:2]}.{sni[2:]}"  # "25.620": also accepted
        if rng.random() < 0.15:
            staff = turnover = balance = year = ""
        else:
            awu = min(rng.lognormvariate(1.0, 1.4), 20_000.0)
            if rng.random() < 0.5:
                awu = float(int(awu))
            staff = _number(rng, awu, decimals=awu != int(awu))
            per_head = rng.lognormvariate(14.0, 0.6)  # ≈ 1.2 MSEK turnover per annual work unit
            turnover_value = min((awu + 0.5) * per_head, 9e12)
            turnover = _number(rng, turnover_value, decimals=True)
            balance = _number(rng, min(turnover_value * rng.uniform(0.3, 1.5), 9e12), decimals=True)
            year = str(rng.choice(FISCAL_YEARS))
        draw = rng.random()
        status = "aktiv" if draw < 0.06 else "alumn" if draw < 0.08 else ""
        writer.writerow([org, name, municipality, sni, staff, turnover, balance, year, status])
    return {"rows": rows, "series": counters}


def _cum(weights: list[float]) -> list[float]:
    total, cum = 0.0, []
    for w in weights:
        total += w
        cum.append(total)
    return cum


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "register.csv"),
                        help="output file, or - for standard output")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.out == "-":
        info = generate(args.rows, args.seed, sys.stdout)
    else:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            info = generate(args.rows, args.seed, out)
        tmp.replace(path)
        print(f"{info['rows']:,} rows written to {path} ({path.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
