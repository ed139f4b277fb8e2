"""Demo data: a believable company register for Jämtland county (``sim demo``).

Two halves, so the data can be inspected and tested without a database:

* :func:`plan_demo` is pure: from a seed and a size it decides every user, company, key figure,
  ownership link and contact (names and numbers included).  Same seed, same plan.
* :func:`write_demo` writes a plan through the services (``company_create``, ``key_figures_set``,
  ``ownership_link_set``, ``contact_create`` …), so the demo has a real audit history with the
  demo administrator as actor and the source "system".

Other apps extend the demo by registering a step in their own ``<app>/demo.py``::

    from sim.companies.demo import DemoContext, demo_step

    @demo_step("assessments")
    def _assessments(ctx: DemoContext) -> None:
        rng = ctx.rng("assessments")          # deterministic, independent of other steps
        for key, company in ctx.companies.items(): ...

Steps run after the register is written, in app order, inside the same transaction. A step that
needs another app's step first (or must come before one) says so by name:
``@demo_step("stateaid-rates", before="routing")``, ``@demo_step("finance", after=("projects", "routing"))``.

Everything here is invented: organisation numbers and personal identity numbers are random
numbers with a valid check digit (not taken from any register), contact phone numbers use the
range PTS reserves for fiction (070-174 06 05 – 99); company switchboard numbers, names and web
domains are made up but may happen to exist, so never send real mail or calls from demo data.
The shared password is for demos only; existing users are never given it.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from sim.core.roles import Role, sync_roles

from . import rules
from .duplicates import SIMILARITY_THRESHOLD, name_similarity, normalise_name

DEFAULT_SEED = 2019
DEFAULT_COMPANIES = 300
MIN_COMPANIES = 40
DEMO_PASSWORD = "demo-sim-2026"  # demo only: printed by `sim demo`, never use it in production
DEMO_EMAIL_DOMAIN = "sim-demo.se"
YEARS = (2022, 2023, 2024)

# --- Users ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{_ascii(self.first_name)}.{_ascii(self.last_name)}@{DEMO_EMAIL_DOMAIN}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Maria", "Sjöberg", Role.ADMIN, is_superuser=True),
    DemoUser("projektledare", "Karin", "Olofsson", Role.PROJECT_MANAGER),
    DemoUser("foretagsutvecklare", "Erik", "Hansson", Role.ADVISOR),
    DemoUser("foretagsutvecklare2", "Sara", "Nordin", Role.ADVISOR),
    DemoUser("ekonom", "Lars", "Mattsson", Role.FINANCE_OFFICER),
    DemoUser("revisor", "Ingrid", "Berglund", Role.AUDITOR),
    DemoUser("foretag", "Johan", "Ersson", Role.COMPANY_REPRESENTATIVE),
    DemoUser("utbildare", "Helena", "Wikström", Role.EDUCATION_PROVIDER),
)
ADMIN_USERNAME = "admin"
REPRESENTATIVE_USERNAME = "foretag"
ADVISORS = ("foretagsutvecklare", "foretagsutvecklare2")

# --- Geography --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locality:
    name: str
    postal_prefix: str  # first three digits
    postal_low: int  # last two digits, inclusive range
    postal_high: int
    weight: int = 1


@dataclass(frozen=True)
class Area:
    code: str  # SCB municipality code
    name: str
    weight: int
    phone_prefix: str
    regions: tuple[str, ...]  # words used in company names ("Storsjö Plast AB")
    localities: tuple[Locality, ...]
    streets: tuple[str, ...] = ()


_STREETS = (
    "Industrivägen",
    "Verkstadsvägen",
    "Fabriksvägen",
    "Hantverksvägen",
    "Storgatan",
    "Järnvägsgatan",
    "Stationsvägen",
    "Sågverksvägen",
    "Bruksvägen",
    "Kyrkvägen",
    "Åvägen",
    "Sjövägen",
    "Företagsvägen",
    "Timmervägen",
    "Smedjevägen",
    "Kvarnvägen",
    "Norra vägen",
    "Södra vägen",
    "Skolvägen",
    "Hamnvägen",
)

JAMTLAND: tuple[Area, ...] = (
    Area(
        "2380",
        "Östersund",
        40,
        "063",
        ("Storsjö", "Storsjöns", "Frösö", "Jämtlands", "Mittjämtlands"),
        (
            Locality("Östersund", "831", 30, 48, 6),
            Locality("Frösön", "832", 41, 56, 2),
            Locality("Brunflo", "834", 31, 34, 2),
            Locality("Lit", "836", 30, 31, 1),
        ),
        (
            "Chaufförvägen",
            "Mekanikervägen",
            "Bangårdsgatan",
            "Odenskogsvägen",
            "Prästgatan",
            "Rådhusgatan",
            "Fabriksgatan",
            "Hamngatan",
            "Kyrkgatan",
            "Byggmästarvägen",
        ),
    ),
    Area(
        "2309",
        "Krokom",
        14,
        "0640",
        ("Storsjö", "Offerdals", "Alsens", "Rödö"),
        (
            Locality("Krokom", "835", 31, 34, 4),
            Locality("Nälden", "835", 91, 92, 1),
            Locality("Föllinge", "835", 80, 81, 1),
            Locality("Dvärsätt", "835", 93, 94, 1),
        ),
    ),
    Area(
        "2321",
        "Åre",
        12,
        "0647",
        ("Fjällbygdens", "Åredalens", "Västjämtlands", "Skutans"),
        (
            Locality("Åre", "837", 51, 53, 3),
            Locality("Järpen", "837", 31, 32, 2),
            Locality("Duved", "837", 71, 72, 1),
            Locality("Mörsil", "837", 41, 42, 1),
            Locality("Hallen", "830", 10, 10, 1),
        ),
    ),
    Area(
        "2313",
        "Strömsund",
        9,
        "0670",
        ("Ströms", "Vattudalens", "Frostvikens"),
        (
            Locality("Strömsund", "833", 31, 36, 4),
            Locality("Hammerdal", "830", 70, 70, 1),
            Locality("Hoting", "830", 80, 80, 1),
            Locality("Gäddede", "830", 90, 90, 1),
        ),
    ),
    Area(
        "2361",
        "Härjedalen",
        8,
        "0680",
        ("Härjedalens", "Ljusnans", "Fjällvärldens"),
        (
            Locality("Sveg", "842", 31, 34, 3),
            Locality("Funäsdalen", "840", 95, 95, 1),
            Locality("Vemdalen", "840", 92, 92, 1),
            Locality("Ytterhogdal", "846", 31, 32, 1),
        ),
    ),
    Area(
        "2326",
        "Berg",
        7,
        "0687",
        ("Oviksfjällens", "Bergs", "Storsjöbygdens"),
        (
            Locality("Svenstavik", "845", 31, 33, 3),
            Locality("Myrviken", "845", 51, 52, 1),
            Locality("Hackås", "845", 53, 53, 1),
            Locality("Åsarna", "840", 31, 31, 1),
        ),
    ),
    Area(
        "2305",
        "Bräcke",
        6,
        "0693",
        ("Revsunds", "Gimdalens", "Bräcke"),
        (
            Locality("Bräcke", "840", 60, 60, 3),
            Locality("Gällö", "840", 12, 12, 1),
            Locality("Kälarne", "840", 64, 64, 1),
        ),
    ),
    Area(
        "2303",
        "Ragunda",
        5,
        "0696",
        ("Indalsälvens", "Ragunda", "Döda fallets"),
        (
            Locality("Hammarstrand", "840", 70, 70, 3),
            Locality("Stugun", "840", 50, 50, 1),
            Locality("Bispgården", "840", 73, 73, 1),
        ),
    ),
)

OUTSIDE: tuple[Area, ...] = (
    Area(
        "2281",
        "Sundsvall",
        5,
        "060",
        ("Mittnorr", "Medelpads", "Sundsvalls"),
        (
            Locality("Sundsvall", "852", 30, 42, 3),
            Locality("Sundsvall", "856", 31, 50, 1),
        ),
        ("Skolhusallén", "Bultvägen", "Norra Järnvägsgatan"),
    ),
    Area(
        "2480",
        "Umeå",
        4,
        "090",
        ("Västerbottens", "Norrlands", "Umeälvens"),
        (
            Locality("Umeå", "903", 26, 30, 2),
            Locality("Umeå", "906", 20, 27, 1),
        ),
        ("Formvägen", "Förrådsvägen", "Rådhusesplanaden"),
    ),
    Area(
        "0180",
        "Stockholm",
        4,
        "08",
        ("Nordiska", "Svenska", "Skandinaviska"),
        (
            Locality("Stockholm", "111", 20, 60, 2),
            Locality("Stockholm", "114", 30, 60, 1),
        ),
        ("Sveavägen", "Kungsgatan", "Vasagatan", "Birger Jarlsgatan", "Regeringsgatan"),
    ),
    Area(
        "2284",
        "Örnsköldsvik",
        2,
        "0660",
        ("Höga Kusten", "Örnsköldsviks"),
        (Locality("Örnsköldsvik", "891", 31, 41, 1),),
    ),
    Area(
        "2280", "Härnösand", 1, "0611", ("Ådalens", "Härnösands"), (Locality("Härnösand", "871", 31, 45, 1),)
    ),
    Area("2180", "Gävle", 1, "026", ("Gävleborgs", "Gästriklands"), (Locality("Gävle", "802", 20, 67, 1),)),
    Area("2580", "Luleå", 1, "0920", ("Norrbottens", "Luleälvens"), (Locality("Luleå", "972", 31, 54, 1),)),
    Area(
        "1480", "Göteborg", 1, "031", ("Västsvenska", "Göta älvs"), (Locality("Göteborg", "417", 1, 64, 1),)
    ),
)
AREAS = {a.code: a for a in (*JAMTLAND, *OUTSIDE)}
JAMTLAND_CODES = frozenset(a.code for a in JAMTLAND)

# --- Industries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Industry:
    sni: str
    weight: int
    economy: str  # key of ECONOMY
    trade: str  # word for fallback names ("Ersson & Nordin Mekaniska AB")
    templates: tuple[str, ...]


# Placeholders: {place} locality, {gen} its genitive, {region} a regional word, {sur} a surname.
MANUFACTURING: tuple[Industry, ...] = (
    Industry(
        "16101",
        8,
        "wood",
        "Trä",
        ("{gen} Sågverk AB", "{place} Såg AB", "{sur}s Såg AB", "{region} Timber AB", "{region} Trä AB"),
    ),
    Industry("16231", 3, "wood", "Hus", ("{place} Trähus AB", "{gen} Husfabrik AB", "{region} Hus AB")),
    Industry(
        "16239",
        6,
        "wood",
        "Snickeri",
        (
            "{gen} Snickeri AB",
            "{region} Trä & Snickeri AB",
            "{sur}s Snickerifabrik AB",
            "{place} Inredningssnickeri AB",
            "{sur}s Trä & Inredning AB",
        ),
    ),
    Industry("16240", 2, "wood", "Emballage", ("{place} Pall & Emballage AB", "{region} Pall AB")),
    Industry(
        "16291",
        2,
        "wood",
        "Träprodukter",
        ("{place} Träprodukter AB", "{region} Slöjd & Trä AB", "{sur}s Träförädling AB"),
    ),
    Industry(
        "10130",
        2,
        "food",
        "Chark",
        ("{place} Chark AB", "{sur}s Chark & Vilt AB", "{region} Viltförädling AB"),
    ),
    Industry(
        "10710", 2, "food", "Bageri", ("{gen} Bageri AB", "{sur}s Hembageri AB", "{place} Stenugnsbageri AB")
    ),
    Industry(
        "10721",
        2,
        "food",
        "Tunnbröd",
        ("{place} Tunnbröd AB", "{sur}s Tunnbrödsbageri AB", "{region} Tunnbröd AB"),
    ),
    Industry(
        "10511", 2, "food", "Mejeri", ("{place} Gårdsmejeri AB", "{region} Mejeri AB", "{place} Ost AB")
    ),
    Industry(
        "10890",
        2,
        "food",
        "Delikatesser",
        ("{place} Delikatesser AB", "{region} Smak AB", "{place} Bär & Sylt AB"),
    ),
    Industry("11050", 1, "food", "Bryggeri", ("{place} Bryggeri AB", "{region} Mikrobryggeri AB")),
    Industry(
        "25620",
        9,
        "metal",
        "Mekaniska",
        (
            "{gen} Mekaniska AB",
            "{place} Precision AB",
            "{sur}s Mekaniska Verkstad AB",
            "{place} CNC-teknik AB",
            "{region} Mekan AB",
            "{place} Legotillverkning AB",
        ),
    ),
    Industry(
        "25110", 3, "metal", "Stål", ("{place} Stålbyggnad AB", "{region} Stål AB", "{place} Svets & Stål AB")
    ),
    Industry("25500", 1, "metal", "Smide", ("{place} Smide AB", "{sur}s Smide AB")),
    Industry(
        "25610", 1, "metal", "Ytbehandling", ("{place} Ytbehandling AB", "{region} Lackering & Blästring AB")
    ),
    Industry("25999", 2, "metal", "Metall", ("{place} Plåt & Svets AB", "{region} Metallprodukter AB")),
    Industry("28302", 2, "machinery", "Skogsteknik", ("{place} Skogsmaskin AB", "{region} Skogsteknik AB")),
    Industry("28220", 1, "machinery", "Lyftteknik", ("{place} Lyftteknik AB", "{region} Kranteknik AB")),
    Industry("28290", 2, "machinery", "Maskinteknik", ("{place} Maskinteknik AB", "{region} Maskin AB")),
    Industry(
        "28990",
        2,
        "machinery",
        "Automation",
        ("{place} Automation AB", "{region} Industriautomation AB", "{place} Specialmaskiner AB"),
    ),
    Industry(
        "31090", 3, "wood", "Möbler", ("{place} Möbler AB", "{sur}s Möbelsnickeri AB", "{region} Möbel AB")
    ),
    Industry("31020", 1, "wood", "Kök", ("{place} Kök AB", "{region} Köksinredningar AB")),
    Industry(
        "33120",
        4,
        "service_mfg",
        "Maskinservice",
        ("{place} Maskinservice AB", "{place} Industriservice AB", "{region} Hydraulikservice AB"),
    ),
    Industry(
        "33200", 2, "service_mfg", "Montage", ("{place} Industrimontage AB", "{region} Montage & Service AB")
    ),
    Industry(
        "22290",
        2,
        "metal",
        "Plast",
        ("{place} Plast AB", "{place} Formsprutning AB", "{region} Plastteknik AB"),
    ),
    Industry(
        "22230", 1, "metal", "Plastteknik", ("{region} Profilplast AB", "{place} Plastbyggprodukter AB")
    ),
    Industry("27120", 1, "metal", "Elektro", ("{place} Elektro AB", "{place} Ställverk AB")),
    Industry("27900", 1, "metal", "Elteknik", ("{region} Elteknik AB", "{place} Power AB")),
    Industry(
        "18122", 2, "metal", "Tryckeri", ("{place} Tryckeri AB", "{gen} Grafiska AB", "{region} Print AB")
    ),
    Industry("23610", 1, "metal", "Betong", ("{place} Betong AB", "{region} Betongvaror AB")),
)
ADJACENT: tuple[Industry, ...] = (
    Industry(
        "46699",
        2,
        "trade",
        "Maskin",
        ("{place} Industriförnödenheter AB", "{region} Verktyg & Maskin AB", "{place} Maskinhandel AB"),
    ),
    Industry("46630", 1, "trade", "Entreprenadmaskiner", ("{region} Entreprenadmaskiner AB",)),
    Industry("46610", 1, "trade", "Lantbruksmaskiner", ("{place} Lantbruksmaskiner AB",)),
    Industry(
        "71122",
        3,
        "consulting",
        "Konstruktion",
        ("{place} Industrikonsult AB", "{region} Ingenjörsbyrå AB", "{place} Konstruktion AB"),
    ),
    Industry("71124", 1, "consulting", "Energiteknik", ("{region} Energiteknik AB",)),
    Industry("72190", 1, "consulting", "Innovation", ("{region} Innovation AB", "{place} Materialteknik AB")),
    Industry(
        "62010",
        2,
        "consulting",
        "IT",
        ("{place} Systemutveckling AB", "{region} IT-konsult AB", "{place} Software AB"),
    ),
)
OUTSIDE_TARGET: tuple[Industry, ...] = (
    Industry("47521", 2, "retail", "Järn", ("{gen} Järnhandel AB", "{place} Bygg & Järn AB")),
    Industry(
        "55101",
        2,
        "tourism",
        "Hotell",
        ("{place} Fjällhotell AB", "{place} Lodge AB", "{region} Fjällhotell AB"),
    ),
    Industry("56100", 1, "tourism", "Krog", ("{place} Krog & Café AB", "{sur}s Restaurang AB")),
    Industry("79120", 1, "tourism", "Äventyr", ("{region} Äventyr AB", "{place} Guidning & Upplevelser AB")),
    Industry("41200", 2, "construction", "Bygg", ("{place} Bygg AB", "{sur}s Byggnads AB")),
    Industry("43210", 1, "construction", "El", ("{place} El & Installation AB", "{sur}s El AB")),
    Industry("49410", 2, "construction", "Åkeri", ("{place} Åkeri AB", "{sur}s Transport AB")),
    Industry("02200", 1, "construction", "Skog", ("{place} Skogstjänst AB", "{sur}s Skogsavverkning AB")),
    Industry(
        "69201", 1, "consulting", "Redovisning", ("{place} Redovisning AB", "{sur}s Redovisningsbyrå AB")
    ),
)
SUPPLIER_ECONOMIES = frozenset({"metal", "machinery", "service_mfg", "trade", "consulting"})
HOLDING_SNI = "64202"
VENTURE_SNI = "64991"
PUBLIC_SNI = "84111"
ALL_INDUSTRIES = {i.sni: i for i in (*MANUFACTURING, *ADJACENT, *OUTSIDE_TARGET)}

#: Turnover per annual work unit (MSEK, range) and balance sheet / turnover (range).
ECONOMY: dict[str, tuple[float, float, float, float]] = {
    "wood": (1.6, 3.2, 0.5, 0.9),
    "food": (1.2, 2.2, 0.4, 0.7),
    "metal": (1.2, 2.2, 0.5, 0.8),
    "machinery": (1.5, 2.6, 0.5, 0.9),
    "service_mfg": (1.0, 1.6, 0.3, 0.6),
    "trade": (3.0, 6.0, 0.3, 0.6),
    "consulting": (0.9, 1.4, 0.3, 0.6),
    "retail": (2.5, 4.0, 0.3, 0.5),
    "tourism": (0.8, 1.3, 0.8, 1.6),
    "construction": (1.3, 2.2, 0.3, 0.6),
}
TIER_STAFF = {"micro": (1, 9), "small": (10, 45), "medium": (50, 180)}

# --- People and words -------------------------------------------------------------------------

FIRST_NAMES = (
    "Anders",
    "Per",
    "Jonas",
    "Mikael",
    "Stefan",
    "Magnus",
    "Henrik",
    "Peter",
    "Olof",
    "Nils",
    "Göran",
    "Mats",
    "Björn",
    "Tomas",
    "Jörgen",
    "Pär",
    "Emil",
    "Viktor",
    "Oskar",
    "Daniel",
    "Anna",
    "Eva",
    "Kristina",
    "Lena",
    "Maria",
    "Sofia",
    "Emma",
    "Linda",
    "Camilla",
    "Åsa",
    "Karin",
    "Therese",
    "Malin",
    "Ida",
    "Elin",
    "Jenny",
    "Marie",
    "Ulrika",
    "Britt",
    "Hanna",
)
LAST_NAMES = (
    "Ersson",
    "Olsson",
    "Jonsson",
    "Persson",
    "Hansson",
    "Mattsson",
    "Nordin",
    "Westin",
    "Sundin",
    "Englund",
    "Bergström",
    "Hammarström",
    "Sandberg",
    "Lindgren",
    "Wallin",
    "Holmgren",
    "Näslund",
    "Strömberg",
    "Östman",
    "Nordlund",
    "Andersson",
    "Nilsson",
    "Svensson",
    "Eriksson",
    "Jakobsson",
    "Lundqvist",
    "Forsberg",
    "Sjödin",
    "Hallberg",
    "Åström",
    "Grönlund",
    "Lidén",
)
SECOND_ROLES = (
    "Produktionschef",
    "Ekonomichef",
    "Produktionschef",
    "Ekonomichef",
    "Inköpschef",
    "Kvalitetschef",
    "HR-ansvarig",
    "Försäljningschef",
    "Teknisk chef",
)
GROWTH_YES_NOTES = (
    "Vill öka exporten till Norge de kommande tre åren.",
    "Planerar en ny produktionshall och fler anställda till 2026.",
    "Vill automatisera svetsningen för att kunna ta större order.",
    "Ser möjligheter att sälja service och underhåll, inte bara produkter.",
    "Siktar på att fördubbla omsättningen inom fem år.",
    "Vill bli underleverantör till vindkraftsbranschen.",
    "Behöver rekrytera CNC-operatörer för att kunna växa.",
    "Vill ta fram en egen produkt i stället för ren legotillverkning.",
    "Söker finansiering för en ny produktionslinje.",
    "Vill etablera sig på den tyska marknaden.",
    "Planerar att investera i en robotcell nästa år.",
    "Vill digitalisera orderflödet och produktionsplaneringen.",
)
GROWTH_NO_NOTES = (
    "Ägaren planerar generationsskifte; fokus på att lämna över, inte att växa.",
    "Nöjda med nuvarande storlek och kundbas.",
    "Fullt upp med befintliga kunder, ingen kapacitet att växa just nu.",
    "Svårt att rekrytera på orten; vill hålla nuvarande nivå.",
    "Ägaren går i pension inom två år.",
    "Konsoliderar efter en period med minskad orderingång.",
)
CONTACT_NOTES = (
    "Träffades på Industrins dag 2024.",
    "Föredrar kontakt via e-post.",
    "Nås bäst på förmiddagar.",
    "Intresserad av kompetensinventering för verkstaden.",
    "Vill ha information om finansieringsprogrammet.",
    "Sitter även i styrelsen för den lokala företagarföreningen.",
)
ARCHIVE_REASONS = (
    "Verksamheten avvecklad.",
    "Uppköpt och fusionerad med ett annat bolag.",
    "Försatt i konkurs 2024.",
    "Har flyttat verksamheten från länet.",
)

# --- The plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoKeyFigures:
    fiscal_year: int
    staff_awu: Decimal
    turnover_sek: Decimal
    balance_sheet_sek: Decimal
    source: str
    estimated: bool


@dataclass(frozen=True)
class DemoContact:
    name: str
    role: str
    email: str
    phone: str
    legal_basis: str  # LegalBasis value
    consent_date: date | None
    notes: str


@dataclass(frozen=True)
class DemoCompany:
    key: str
    org_number: str
    name: str
    sni_primary: str
    municipality: str
    street_address: str
    postal_code: str
    postal_city: str
    website: str
    phone: str
    email: str
    registration_date: date | None
    status: str  # CompanyStatus value; "archived" is written as create + archive
    growth_ambition: bool | None
    growth_ambition_notes: str
    owner_advisor: str | None  # username
    sni_secondary: tuple[str, ...] = ()
    is_exempt_investor: bool = False
    archive_reason: str = ""
    key_figures: tuple[DemoKeyFigures, ...] = ()
    contacts: tuple[DemoContact, ...] = ()
    role: str = ""  # why it is in the demo: "", "group:…", "duplicate_of:…"

    @property
    def in_county(self) -> bool:
        return self.municipality in JAMTLAND_CODES


@dataclass(frozen=True)
class DemoLink:
    holder: str  # company key
    held: str
    capital_pct: Decimal
    voting_pct: Decimal
    controls: bool = False
    note: str = ""


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    password: str
    users: tuple[DemoUser, ...]
    companies: tuple[DemoCompany, ...]
    links: tuple[DemoLink, ...]
    representative: tuple[str, str]  # (username, company key)

    def company(self, key: str) -> DemoCompany:
        return next(c for c in self.companies if c.key == key)


# --- Planning helpers -------------------------------------------------------------------------

_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "&": "-"})


def _ascii(text: str) -> str:
    text = text.lower().translate(_ASCII)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalnum() or ch in ".-")


def _genitive(place: str) -> str:
    return place if place[-1] in "sxz" else place + "s"


def _org_number(rng: random.Random, prefix: str) -> str:
    nine = prefix + "".join(str(rng.randrange(10)) for _ in range(9 - len(prefix)))
    return nine + rules.luhn_check_digit(nine)


def _personal_number(rng: random.Random) -> str:
    """A made-up personal identity number (YYMMDDNNNC) with a valid date and check digit."""
    birth = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 35))
    nine = f"{birth:%y%m%d}{rng.randrange(100, 1000):03d}"
    return nine + rules.luhn_check_digit(nine)


def _money(value: float) -> Decimal:
    return Decimal(int(round(value / 1000)) * 1000)


def _awu(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.5):.1f}")


def _weighted(rng: random.Random, items, weight=lambda item: item.weight):
    items = list(items)
    return rng.choices(items, weights=[weight(i) for i in items], k=1)[0]


class _Planner:
    """Keeps the state of one plan: the seeded random source and what is already taken."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.org_numbers: set[str] = set()
        self.names: set[str] = set()
        self.norms: set[str] = set()
        self.blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.domains: set[str] = set()
        self.companies: list[DemoCompany] = []
        self.tiers: dict[str, str] = {}
        self.counter = 0

    # Numbers and names

    def org_number(self, prefix: str) -> str:
        while True:
            number = _org_number(self.rng, prefix)
            if number not in self.org_numbers:
                self.org_numbers.add(number)
                return number

    def personal_number(self) -> str:
        while True:
            number = _personal_number(self.rng)
            if number not in self.org_numbers:
                self.org_numbers.add(number)
                return number

    def name_fits(self, name: str, municipality: str) -> bool:
        """Unique, and not so similar to another name in the municipality that it looks like a duplicate."""
        norm = normalise_name(name)
        if not norm or name.lower() in self.names or norm in self.norms:
            return False
        return all(
            name_similarity(norm, other) < SIMILARITY_THRESHOLD
            for other in self.blocks[(municipality, norm[:2])]
        )

    def take_name(self, name: str, municipality: str) -> None:
        norm = normalise_name(name)
        self.names.add(name.lower())
        self.norms.add(norm)
        self.blocks[(municipality, norm[:2])].append(norm)

    def invent_name(self, industry: Industry, area: Area, locality: Locality, suffix: str = "AB") -> str:
        rng = self.rng
        for attempt in range(60):
            if attempt < 40:
                template = rng.choice(industry.templates)
            else:
                template = "{sur} & {sur2} " + industry.trade + " AB"
            place = locality.name if rng.random() < 0.7 else area.name
            name = template.format(
                place=place,
                gen=_genitive(place),
                region=rng.choice(area.regions),
                sur=rng.choice(LAST_NAMES),
                sur2=rng.choice(LAST_NAMES),
            )
            if suffix != "AB":
                name = name.removesuffix(" AB") + f" {suffix}"
            if self.name_fits(name, area.code):
                self.take_name(name, area.code)
                return name
        raise RuntimeError("ran out of demo company names")  # pragma: no cover

    def domain_for(self, name: str) -> str:
        words = [w for w in name.replace("&", " ").split() if w.lower() not in {"ab", "hb", "ek.", "för."}]
        base = _ascii("".join(words)).replace(".", "") or "foretag"
        domain, n = f"{base}.se", 2
        while domain in self.domains:
            domain, n = f"{base}{n}.se", n + 1
        self.domains.add(domain)
        return domain

    # Records

    def address(self, area: Area, locality: Locality | None = None) -> tuple[Locality, str, str]:
        rng = self.rng
        locality = locality or _weighted(rng, area.localities)
        streets = area.streets + _STREETS if area.streets else _STREETS
        street = f"{rng.choice(streets)} {rng.randint(1, 60)}{rng.choice(['', '', '', ' A', ' B'])}"
        postal = (
            f"{locality.postal_prefix.strip()} {rng.randint(locality.postal_low, locality.postal_high):02d}"
        )
        return locality, street, postal

    def phone(self, area: Area) -> str:
        """A switchboard number in the area's format (063-12 34 56, 0640-123 45, 08-123 456 78)."""
        r = self.rng.randrange
        if len(area.phone_prefix) == 2:
            return f"{area.phone_prefix}-{r(100, 1000)} {r(100, 1000)} {r(10, 100)}"
        if len(area.phone_prefix) == 3:
            return f"{area.phone_prefix}-{r(10, 100)} {r(10, 100)} {r(10, 100)}"
        return f"{area.phone_prefix}-{r(100, 1000)} {r(10, 100)}"

    def registration_date(self, org_number: str) -> date | None:
        rng = self.rng
        ranges = {"556": (1972, 2013), "559": (2014, 2023), "969": (1985, 2022), "769": (1990, 2020)}
        low, high = ranges.get(org_number[:3], (1995, 2023))
        start = date(low, 1, 1)
        return start + timedelta(days=rng.randrange((date(high, 12, 31) - start).days))

    def key_figures(
        self, economy: str, staff: float, registered: date | None, *, style: str = "", holding: bool = False
    ) -> tuple[DemoKeyFigures, ...]:
        """Three years of figures with a trend; ``style`` "", "latest" or "all" marks estimates."""
        rng = self.rng
        years = [y for y in YEARS if registered is None or y >= registered.year]
        if holding:
            turnover = rng.uniform(1.5, 6.0) * 1e6
            ratio = rng.uniform(8.0, 20.0)
        else:
            low, high, ratio_low, ratio_high = ECONOMY[economy]
            turnover = staff * rng.uniform(low, high) * 1e6
            ratio = rng.uniform(ratio_low, ratio_high)
        trend = _weighted(rng, [("grow", 55), ("flat", 25), ("decline", 20)], weight=lambda t: t[1])[0]
        rate = {
            "grow": rng.uniform(0.03, 0.14),
            "flat": rng.uniform(-0.02, 0.03),
            "decline": rng.uniform(-0.12, -0.03),
        }[trend]
        result = []
        for i, year in enumerate(years):
            if i:
                staff *= 1 + rate * 0.6 + rng.uniform(-0.02, 0.02)
                turnover *= 1 + rate + rng.uniform(-0.03, 0.03)
            balance = turnover * ratio * rng.uniform(0.95, 1.05)
            estimated = style == "all" or (style == "latest" and year == years[-1])
            source = "Uppskattning vid företagsbesök" if estimated else f"Årsredovisning {year}"
            result.append(
                DemoKeyFigures(year, _awu(staff), _money(turnover), _money(balance), source, estimated)
            )
        return tuple(result)

    def add(self, company: DemoCompany, tier: str = "") -> DemoCompany:
        self.companies.append(company)
        self.tiers[company.key] = tier
        return company

    def next_key(self) -> str:
        self.counter += 1
        return f"c{self.counter:04d}"


def _status_and_owner(p: _Planner, *, target: bool) -> tuple[str, str | None]:
    rng = p.rng
    if target:
        status = _weighted(
            rng, [("prospect", 48), ("active", 30), ("alumni", 16), ("archived", 4)], lambda s: s[1]
        )[0]
    else:
        status = _weighted(
            rng, [("prospect", 88), ("alumni", 6), ("archived", 3), ("active", 3)], lambda s: s[1]
        )[0]
    owned = status in ("active", "alumni") or rng.random() < (0.35 if target else 0.08)
    owner = _weighted(rng, [(ADVISORS[0], 6), (ADVISORS[1], 4)], lambda a: a[1])[0] if owned else None
    return status, owner


def _growth(p: _Planner, status: str) -> tuple[bool | None, str]:
    rng = p.rng
    weights = (
        [(True, 65), (False, 15), (None, 20)]
        if status in ("active", "alumni")
        else [(True, 25), (False, 10), (None, 65)]
    )
    ambition = _weighted(rng, weights, lambda w: w[1])[0]
    if ambition is None or rng.random() < 0.2:
        return ambition, ""
    return ambition, rng.choice(GROWTH_YES_NOTES if ambition else GROWTH_NO_NOTES)


def _company(
    p: _Planner,
    *,
    area: Area,
    industry: Industry | None,
    name: str,
    org_number: str,
    locality: Locality | None = None,
    sni: str = "",
    tier: str = "",
    staff: float | None = None,
    status: str | None = None,
    owner: str | None = "auto",
    website: bool | None = None,
    figures_style: str | None = None,
    holding: bool = False,
    role: str = "",
    is_exempt_investor: bool = False,
    with_figures: bool = True,
) -> DemoCompany:
    """One company record; anything not given is drawn from the random source."""
    rng = p.rng
    sni = sni or (industry.sni if industry else "")
    target = area.code in JAMTLAND_CODES and industry is not None and industry not in OUTSIDE_TARGET
    auto_status, auto_owner = _status_and_owner(p, target=target)
    status = status or auto_status
    if owner == "auto":
        owner = (
            auto_owner
            if status == auto_status
            else (rng.choice(ADVISORS) if status in ("active", "alumni") else None)
        )
    locality, street, postal = p.address(area, locality)
    personal = org_number[2:4] < "20"
    domain = p.domain_for(name)
    has_website = website if website is not None else (not personal and rng.random() < 0.85)
    registered = None if org_number.startswith("2") else p.registration_date("" if personal else org_number)
    ambition, notes = _growth(p, status)
    secondary: tuple[str, ...] = ()
    if industry and industry in MANUFACTURING and rng.random() < 0.18:
        other = rng.choice(
            [i for i in MANUFACTURING if i.economy == industry.economy and i.sni != industry.sni]
            or [ALL_INDUSTRIES["33120"]]
        )
        secondary = (other.sni,)
    figures: tuple[DemoKeyFigures, ...] = ()
    if with_figures:
        if staff is None:
            low, high = TIER_STAFF[tier or "micro"]
            staff = rng.uniform(low, high)
        if figures_style is None:
            if personal or org_number.startswith("969"):
                figures_style = "all"
            else:
                figures_style = _weighted(rng, [("", 80), ("latest", 10), ("all", 10)], lambda s: s[1])[0]
        economy = industry.economy if industry else "consulting"
        figures = p.key_figures(economy, staff, registered, style=figures_style, holding=holding)
    return p.add(
        DemoCompany(
            key=p.next_key(),
            org_number=org_number,
            name=name,
            sni_primary=sni,
            sni_secondary=secondary,
            municipality=area.code,
            street_address=street,
            postal_code=postal,
            postal_city=locality.name,
            website=f"https://www.{domain}" if has_website else "",
            phone=p.phone(area),
            email=f"{rng.choice(['info', 'info', 'info', 'kontakt', 'order'])}@{domain}",
            registration_date=registered,
            status=status,
            archive_reason=rng.choice(ARCHIVE_REASONS) if status == "archived" else "",
            growth_ambition=ambition,
            growth_ambition_notes=notes,
            owner_advisor=owner,
            is_exempt_investor=is_exempt_investor,
            key_figures=figures,
            role=role,
        ),
        tier,
    )


# --- Ownership groups -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Special:
    name: str
    municipality: str
    sni: str
    staff: float | None
    status: str = "prospect"
    locality: str = ""
    holding: bool = False
    public: bool = False
    exempt: bool = False


_GROUPS: tuple[tuple[str, dict[str, _Special], tuple[tuple[str, str, int, int], ...]], ...] = (
    # Parent outside the county, wholly owned subsidiaries: linked, the group is large.
    (
        "g1",
        {
            "parent": _Special("Nordiska Komponentgruppen AB", "0180", "25620", 320),
            "sub_a": _Special("Östersunds Precisionsmekanik AB", "2380", "25620", 62, "active"),
            "sub_b": _Special("Strömsunds Hydraulik AB", "2313", "28120", 24),
        },
        (("parent", "sub_a", 100, 100), ("parent", "sub_b", 100, 100)),
    ),
    # A chain of three: holding in Umeå → Krokom → Åre (60 %).
    (
        "g2",
        {
            "top": _Special("Västerbottens Industriinvest AB", "2480", HOLDING_SNI, 2, holding=True),
            "mid": _Special("Krokoms Mekaniska AB", "2309", "25620", 34, "active", "Krokom"),
            "bottom": _Special("Åre Svets & Montage AB", "2321", "25110", 7, locality="Järpen"),
        },
        (("top", "mid", 100, 100), ("mid", "bottom", 60, 60)),
    ),
    # Sawmill group from Sundsvall: two subsidiaries in Bräcke.
    (
        "g3",
        {
            "parent": _Special("Medelpads Träindustri AB", "2281", "16101", 140),
            "sub_a": _Special("Bräcke Sågverk AB", "2305", "16101", 45, "active", "Bräcke"),
            "sub_b": _Special("Gällö Emballage AB", "2305", "16240", 12, locality="Gällö"),
        },
        (("parent", "sub_a", 100, 100), ("parent", "sub_b", 75, 75)),
    ),
    # Partner holdings (25–50 %).
    (
        "g4",
        {
            "a": _Special("Storsjö Plast AB", "2380", "22290", 28, "active", "Östersund"),
            "b": _Special("Frösö Formsprutning AB", "2380", "22290", 5, "active", "Frösön"),
            "c": _Special("Jämtlands Elteknik AB", "2380", "27120", 18, "alumni", "Östersund"),
            "d": _Special("Krokom Automation AB", "2309", "28990", 6, locality="Krokom"),
        },
        (("a", "b", 40, 40), ("c", "d", 30, 30)),
    ),
    # A municipality holds 34 %: public-body rule, the company is large whatever its size.
    (
        "g5",
        {
            "owner": _Special(
                "Ragunda kommun", "2303", PUBLIC_SNI, 560, locality="Hammarstrand", public=True
            ),
            "held": _Special("Ragunda Energi & Teknik AB", "2303", "27120", 14, "active", "Hammarstrand"),
        },
        (("owner", "held", 34, 34),),
    ),
    # Venture capital (Art. 3(2) exempt investor) with 35 %: not a partner.
    (
        "g6",
        {
            "investor": _Special(
                "Norrland Venture Partners AB", "2480", VENTURE_SNI, 4, holding=True, exempt=True
            ),
            "held": _Special("Åre Precision AB", "2321", "25620", 8, "active", "Åre"),
        },
        (("investor", "held", 35, 35),),
    ),
    # Family group inside the county.
    (
        "g7",
        {
            "parent": _Special("Westins Förvaltning AB", "2380", HOLDING_SNI, 1, holding=True),
            "a": _Special("Westins Snickerifabrik AB", "2326", "16239", 30, "active", "Svenstavik"),
            "b": _Special("Oviksfjällens Trähus AB", "2326", "16231", 11, locality="Myrviken"),
        },
        (("parent", "a", 100, 100), ("parent", "b", 51, 51)),
    ),
)


def _plan_groups(p: _Planner) -> list[DemoLink]:
    links: list[DemoLink] = []
    for group, members, holdings in _GROUPS:
        keys: dict[str, str] = {}
        for role, spec in members.items():
            area = AREAS[spec.municipality]
            locality = next((loc for loc in area.localities if loc.name == spec.locality), None)
            p.take_name(spec.name, area.code)
            if spec.public:
                prefix = "212000"  # municipalities: 212000-NNNN
            elif spec.staff is None or spec.staff >= 20 or spec.holding:
                prefix = "556"
            else:
                prefix = p.rng.choice(["556", "559"])
            org = p.org_number(prefix)
            industry = ALL_INDUSTRIES.get(spec.sni)
            staff = spec.staff
            tier = "micro" if staff is None or staff < 10 else "small" if staff < 50 else "medium"
            company = _company(
                p,
                area=area,
                industry=industry,
                name=spec.name,
                org_number=org,
                locality=locality,
                sni=spec.sni,
                tier=tier,
                staff=staff,
                status=spec.status,
                owner=None if spec.public or area.code not in JAMTLAND_CODES else "auto",
                figures_style="",
                holding=spec.holding,
                role=f"group:{group}:{role}",
                is_exempt_investor=spec.exempt,
            )
            if spec.public:
                # A municipality's own accounts (personnel, revenue incl. tax, balance sheet).
                figures = tuple(
                    replace(f, source=f"Kommunens årsredovisning {f.fiscal_year}")
                    for f in company.key_figures
                )
                p.companies[-1] = company = replace(
                    company, growth_ambition=None, growth_ambition_notes="", key_figures=figures
                )
            keys[role] = company.key
        for holder, held, capital, voting in holdings:
            links.append(
                DemoLink(
                    holder=keys[holder],
                    held=keys[held],
                    capital_pct=Decimal(capital),
                    voting_pct=Decimal(voting),
                    note="Bolagsverket" if capital > 50 else "Aktiebok, uppgift från företaget",
                )
            )
    return links


# --- Contacts ---------------------------------------------------------------------------------


def _contacts(p: _Planner, company: DemoCompany, tier: str) -> tuple[DemoContact, ...]:
    rng = p.rng
    domain = company.email.split("@")[1] if company.email else p.domain_for(company.name)
    if company.org_number[2:4] < "20":  # sole trader: the owner
        count = 1
    elif tier == "medium":
        count = rng.choice([2, 3, 3])
    elif tier == "small":
        count = _weighted(rng, [(1, 30), (2, 45), (3, 25)], lambda c: c[1])[0]
    else:
        count = _weighted(rng, [(1, 70), (2, 30)], lambda c: c[1])[0]
    roles = ["VD" if tier != "micro" or rng.random() < 0.6 else "VD och ägare"]
    roles += rng.sample(SECOND_ROLES[:], k=len(SECOND_ROLES))
    chosen_roles: list[str] = []
    for role in roles:
        if role not in chosen_roles:
            chosen_roles.append(role)
        if len(chosen_roles) == count:
            break
    contacts = []
    used_names: set[str] = set()
    for role in chosen_roles:
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if f"{first} {last}" not in used_names:
                break
        used_names.add(f"{first} {last}")
        contacts.append(_contact(p, first, last, role, domain))
    return tuple(contacts)


def _contact(p: _Planner, first: str, last: str, role: str, domain: str) -> DemoContact:
    rng = p.rng
    consent = rng.random() < 0.2
    return DemoContact(
        name=f"{first} {last}",
        role=role,
        email=f"{_ascii(first)}.{_ascii(last)}@{domain}",
        phone=f"070-174 06 {rng.randint(5, 99):02d}",  # PTS range for fiction
        legal_basis="consent" if consent else "legitimate_interest",
        consent_date=date(2023, 1, 1) + timedelta(days=rng.randrange(900)) if consent else None,
        notes=rng.choice(CONTACT_NOTES) if rng.random() < 0.2 else "",
    )


# --- Duplicates -------------------------------------------------------------------------------


def _duplicate_variant(name: str, preferred: int) -> str:
    """How the same company gets entered twice: "&" as "och", "AB" spelt out, a dropped genitive s."""
    first, _, rest = name.partition(" ")
    options = [
        name.replace(" & ", " och ") if " & " in name else "",
        name.removesuffix(" AB") + " Aktiebolag",
        f"{first[:-1]} {rest}" if first.endswith("s") and len(first) > 5 and rest else "",
    ]
    return options[preferred % 3] or options[1]


def _plan_duplicates(p: _Planner, count: int) -> None:
    rng = p.rng
    manufacturing = {i.sni for i in MANUFACTURING}
    candidates = sorted(
        (
            c
            for c in p.companies
            if not c.role and c.in_county and c.status != "archived" and c.name.endswith(" AB")
        ),
        key=lambda c: (c.sni_primary not in manufacturing, c.key),
    )[: max(count * 4, 12)]
    for i, original in enumerate(rng.sample(candidates, k=min(count, len(candidates)))):
        name = _duplicate_variant(original.name, i + 2)
        p.names.add(name.lower())
        area = AREAS[original.municipality]
        p.add(
            replace(
                original,
                key=p.next_key(),
                org_number=p.org_number(rng.choice(["556", "559"])),
                name=name,
                street_address=original.street_address if rng.random() < 0.5 else p.address(area)[1],
                website=original.website if rng.random() < 0.7 else "",
                status="prospect",
                owner_advisor=None,
                growth_ambition=None,
                growth_ambition_notes="",
                archive_reason="",
                key_figures=(),
                sni_secondary=(),
                role=f"duplicate_of:{original.key}",
            ),
            "micro",
        )


def _allocate(rng: random.Random, count: int, placed: list[DemoCompany]) -> list[str]:
    """Municipality codes for ``count`` more companies so that the county matches the weights."""
    already = {a.code: sum(1 for c in placed if c.municipality == a.code) for a in JAMTLAND}
    total = count + sum(already.values())
    weight_sum = sum(a.weight for a in JAMTLAND)
    wanted = {a.code: max(a.weight * total / weight_sum - already[a.code], 0.0) for a in JAMTLAND}
    scale = count / sum(wanted.values())
    wanted = {code: value * scale for code, value in wanted.items()}
    quota = {code: int(value) for code, value in wanted.items()}
    by_remainder = sorted(JAMTLAND, key=lambda a: (-(wanted[a.code] - quota[a.code]), -a.weight))
    for area in by_remainder[: count - sum(quota.values())]:
        quota[area.code] += 1
    codes = [a.code for a in JAMTLAND for _ in range(quota[a.code])]
    rng.shuffle(codes)
    return codes


# --- plan_demo --------------------------------------------------------------------------------


def plan_demo(seed: int = DEFAULT_SEED, n: int = DEFAULT_COMPANIES) -> DemoPlan:
    """Decide the whole demo register (no database). Same seed and size ⇒ the same plan."""
    if n < MIN_COMPANIES:
        raise ValueError(f"The demo needs at least {MIN_COMPANIES} companies.")
    p = _Planner(seed)
    rng = p.rng
    links = _plan_groups(p)
    specials_outside = sum(1 for c in p.companies if not c.in_county)
    specials_inside = len(p.companies) - specials_outside
    n_duplicates = 3 if n >= 150 else 2
    n_outside = max(specials_outside + 2, round(n * 0.07))
    n_sole_traders = 3 if n >= 150 else 2
    n_inside = n - n_outside - n_duplicates - specials_inside

    # Outside the county: parent companies above, suppliers and customers here.
    suppliers = [i for i in (*MANUFACTURING, *ADJACENT) if i.economy in SUPPLIER_ECONOMIES]
    for _ in range(n_outside - specials_outside):
        area = _weighted(rng, OUTSIDE)
        industry = _weighted(rng, suppliers, lambda i: i.weight * (3 if i in ADJACENT else 1))
        locality = _weighted(rng, area.localities)
        name = p.invent_name(industry, area, locality)
        tier = _weighted(rng, [("micro", 25), ("small", 45), ("medium", 30)], lambda t: t[1])[0]
        _company(
            p,
            area=area,
            industry=industry,
            name=name,
            org_number=p.org_number(rng.choice(["556", "559"])),
            locality=locality,
            tier=tier,
        )

    # Inside the county: exact shares per municipality (Östersund most), in random order.
    municipalities = _allocate(rng, n_inside, p.companies)
    for i, code in enumerate(municipalities):
        area = AREAS[code]
        locality = _weighted(rng, area.localities)
        group = _weighted(rng, [(MANUFACTURING, 70), (ADJACENT, 12), (OUTSIDE_TARGET, 18)], lambda g: g[1])[0]
        industry = _weighted(rng, group)
        sole_trader = i < n_sole_traders
        if sole_trader:
            industry = ALL_INDUSTRIES[rng.choice(["16239", "25500", "16291"])]
            first, last = rng.choice(FIRST_NAMES[:20]), rng.choice(LAST_NAMES)
            name = f"{first} {last} {industry.trade}"
            if not p.name_fits(name, area.code):
                name = f"{last}s {industry.trade} {locality.name}"
            p.take_name(name, area.code)
            company = _company(
                p,
                area=area,
                industry=industry,
                name=name,
                org_number=p.personal_number(),
                locality=locality,
                tier="micro",
                staff=rng.choice([0.8, 1.0, 1.0, 1.5]),
            )
            owner = _contact(p, first, last, "Ägare", company.email.split("@")[1])
            p.companies[-1] = replace(company, contacts=(owner,))
            continue
        form = _weighted(
            rng,
            [("ab", 90), ("hb", 6), ("ek", 4 if industry.economy in ("food", "wood") else 0)],
            lambda f: f[1],
        )[0]
        suffix = {"ab": "AB", "hb": "HB", "ek": "ek. för."}[form]
        prefix = {"ab": rng.choice(["556", "556", "559"]), "hb": "969", "ek": "769"}[form]
        name = p.invent_name(industry, area, locality, suffix=suffix)
        if group is MANUFACTURING:
            tiers = [("micro", 52), ("small", 38), ("medium", 10)]
        elif group is ADJACENT:
            tiers = [("micro", 55), ("small", 38), ("medium", 7)]
        else:
            tiers = [("micro", 65), ("small", 32), ("medium", 3)]
        tier = "micro" if form == "hb" else _weighted(rng, tiers, lambda t: t[1])[0]
        _company(
            p,
            area=area,
            industry=industry,
            name=name,
            org_number=p.org_number(prefix),
            locality=locality,
            tier=tier,
            with_figures=rng.random() > 0.07,
        )

    _plan_duplicates(p, n_duplicates)

    # The company representative's company: an active, small manufacturer in the county.
    duplicated = {c.role.split(":")[1] for c in p.companies if c.role.startswith("duplicate_of:")}
    candidates = [
        c
        for c in p.companies
        if c.in_county
        and c.status == "active"
        and not c.role
        and c.sni_primary in {i.sni for i in MANUFACTURING}
        and c.org_number[2:4] >= "20"
        and c.key_figures
        and c.key not in duplicated
    ] or [c for c in p.companies if c.role == "group:g4:a"]
    represented = rng.choice(candidates)

    representative = next(u for u in DEMO_USERS if u.username == REPRESENTATIVE_USERNAME)
    companies = []
    for company in p.companies:
        if company.contacts:  # sole traders: the owner
            contacts = company.contacts
        elif company.role.startswith("duplicate_of:"):
            original = next(c for c in companies if c.key == company.role.split(":")[1])
            contacts = original.contacts[:1]
        elif company.role == "group:g5:owner":
            contacts = (_contact(p, "Anna", "Sjödin", "Näringslivschef", company.email.split("@")[1]),)
        else:
            contacts = _contacts(p, company, p.tiers[company.key])
        if company.key == represented.key:
            domain = company.email.split("@")[1]
            contacts = (
                _contact(p, representative.first_name, representative.last_name, "VD", domain),
                *contacts[1:],
            )
        companies.append(replace(company, contacts=contacts))

    return DemoPlan(
        seed=seed,
        password=DEMO_PASSWORD,
        users=DEMO_USERS,
        companies=tuple(companies),
        links=tuple(links),
        representative=(REPRESENTATIVE_USERNAME, represented.key),
    )


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What a demo step gets: the plan and the records written for it."""

    plan: DemoPlan
    actor: Any
    users: dict[str, Any]  # username → user
    companies: dict[str, Any]  # plan key → Company
    kept_users: list[str] = field(default_factory=list)  # demo usernames that existed and were left alone
    counts: dict[str, int] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """A random source of its own for one step, derived from the plan's seed."""
        return random.Random(f"{self.plan.seed}:{name}")


DemoStep = Callable[[DemoContext], None]
_STEPS: list[tuple[str, DemoStep]] = []  # (name, step) in the order they registered
_ORDER: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # name → (before, after)


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def demo_step(name: str, *, before: str | Iterable[str] = (), after: str | Iterable[str] = ()) -> Callable[[DemoStep], DemoStep]:
    """Register a step that extends the demo after the company register is written.

    Steps run in app order (``INSTALLED_APPS`` of the module that registers them; within an app, in
    the order they register) — whichever module happens to be imported first. ``before`` and
    ``after`` name steps (of any app) this one must run before or after, e.g.
    ``@demo_step("stateaid-rates", before="routing")``; a name no step has is ignored.
    """
    before_names, after_names = _names(before), _names(after)
    if name in before_names or name in after_names:
        raise ValueError(f"The demo step {name!r} cannot run before or after itself.")

    def register(step: DemoStep) -> DemoStep:
        if all(existing != name for existing, _step in _STEPS):
            _STEPS.append((name, step))
            _ORDER[name] = (before_names, after_names)
        return step

    return register


def _app_index(step: DemoStep) -> int:
    """Position in INSTALLED_APPS of the app whose module defines `step` (unknown: after all apps)."""
    module = getattr(step, "__module__", "") or ""
    best, index = -1, len(apps.get_app_configs())
    for position, config in enumerate(apps.get_app_configs()):
        if (module == config.name or module.startswith(config.name + ".")) and len(config.name) > best:
            best, index = len(config.name), position
    return index


def ordered_steps(steps: list[tuple[str, DemoStep]] | None = None) -> list[tuple[str, DemoStep]]:
    """The steps in the order they run: app order, then every ``before``/``after`` of :func:`demo_step`.

    Each step in app order runs once the steps it waits for have run: a step that must come first
    is moved up to just before the first step that needs it, everything else keeps its place.
    Raises ``ValueError`` naming the steps when the constraints contradict each other.
    """
    steps = list(_STEPS if steps is None else steps)
    base = [entry for _position, entry in sorted(enumerate(steps), key=lambda item: (_app_index(item[1][1]), item[0]))]
    names = [name for name, _step in base]
    present = set(names)
    waits_for: dict[str, set[str]] = {name: set() for name in names}
    for name in names:
        before, after = _ORDER.get(name, ((), ()))
        waits_for[name].update(other for other in after if other in present)
        for other in before:
            if other in present:
                waits_for[other].add(name)
    by_name = dict(base)
    position = {name: index for index, name in enumerate(names)}
    ordered: list[tuple[str, DemoStep]] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            cycle = " before ".join(reversed((*path[path.index(name):], name)))  # in the order they would run
            raise ValueError(f"The demo steps cannot be ordered: their before/after contradict each other ({cycle}).")
        for other in sorted(waits_for[name], key=position.__getitem__):
            visit(other, (*path, name))
        done.add(name)
        ordered.append((name, by_name[name]))

    for name in names:
        visit(name, ())
    return ordered


def _discover_steps() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("sim.") or config.name == "sim.companies":
            continue
        try:
            import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise


def write_users(plan: DemoPlan) -> tuple[dict[str, Any], list[str]]:
    """The demo users (one per role, two advisors) with the shared password, and who already existed.

    A user that already exists is used as it is: its password, roles and flags are never touched, so
    running the demo cannot hand a real account the published demo password.
    """
    User = get_user_model()
    if Group.objects.filter(name__in=[r.value for r in Role]).count() < len(Role):
        sync_roles()
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    existing = User.objects.in_bulk([u.username for u in plan.users], field_name="username")
    password = make_password(plan.password)  # hashed once: the same password for all
    users, kept = {}, []
    for spec in plan.users:
        user = existing.get(spec.username)
        if user is not None:
            kept.append(spec.username)
        else:
            user = User.objects.create(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=spec.email,
                is_staff=spec.is_superuser,
                is_superuser=spec.is_superuser,
                password=password,
            )
            user.groups.set([groups[spec.role.value]])
        users[spec.username] = user
    return users, kept


@transaction.atomic
def write_demo(plan: DemoPlan) -> DemoContext:
    """Write a plan through the services, audited as the demo administrator with source "system"."""
    from sim.core.models import AuditEvent

    from . import services
    from .models import CompanyRepresentative, CompanyStatus

    source = AuditEvent.Source.SYSTEM
    users, kept_users = write_users(plan)
    actor = users[ADMIN_USERNAME]
    companies: dict[str, Any] = {}
    for spec in plan.companies:
        data = {
            "org_number": spec.org_number,
            "name": spec.name,
            "sni_primary": spec.sni_primary,
            "sni_secondary": list(spec.sni_secondary),
            "municipality": spec.municipality,
            "street_address": spec.street_address,
            "postal_code": spec.postal_code,
            "postal_city": spec.postal_city,
            "website": spec.website,
            "phone": spec.phone,
            "email": spec.email,
            "registration_date": spec.registration_date,
            "status": CompanyStatus.PROSPECT if spec.status == CompanyStatus.ARCHIVED else spec.status,
            "growth_ambition": spec.growth_ambition,
            "growth_ambition_notes": spec.growth_ambition_notes,
            "owner_advisor": users[spec.owner_advisor] if spec.owner_advisor else None,
            "is_exempt_investor": spec.is_exempt_investor,
        }
        companies[spec.key] = services.company_create(actor, data, source=source)
    for spec in plan.companies:
        for figures in spec.key_figures:
            services.key_figures_set(
                actor,
                companies[spec.key],
                figures.fiscal_year,
                {
                    "staff_awu": figures.staff_awu,
                    "turnover_sek": figures.turnover_sek,
                    "balance_sheet_sek": figures.balance_sheet_sek,
                    "source": figures.source,
                    "estimated": figures.estimated,
                },
                source=source,
                refresh=False,
            )
    for link in plan.links:
        services.ownership_link_set(
            actor,
            companies[link.holder],
            companies[link.held],
            capital_pct=link.capital_pct,
            voting_pct=link.voting_pct,
            controls=link.controls,
            source_note=link.note,
            source=source,
        )
    contacts = 0
    for spec in plan.companies:
        for contact in spec.contacts:
            services.contact_create(
                actor,
                companies[spec.key],
                {
                    "name": contact.name,
                    "role": contact.role,
                    "email": contact.email,
                    "phone": contact.phone,
                    "legal_basis": contact.legal_basis,
                    "consent_date": contact.consent_date,
                    "notes": contact.notes,
                },
                source=source,
            )
            contacts += 1
    for spec in plan.companies:
        if spec.status == CompanyStatus.ARCHIVED:
            companies[spec.key] = services.company_archive(
                actor, companies[spec.key], reason=spec.archive_reason, source=source
            )
    username, company_key = plan.representative
    CompanyRepresentative.objects.get_or_create(user=users[username], company=companies[company_key])
    services.company_refresh_size_classes([c.pk for c in companies.values()])

    context = DemoContext(
        plan=plan,
        actor=actor,
        users=users,
        companies=companies,
        kept_users=kept_users,
        counts={
            "users": len(users) - len(kept_users),
            "companies": len(companies),
            "outside_county": sum(1 for c in plan.companies if not c.in_county),
            "key_figures": sum(len(c.key_figures) for c in plan.companies),
            "ownership_links": len(plan.links),
            "contacts": contacts,
        },
    )
    _discover_steps()
    for _name, step in ordered_steps():
        step(context)
    return context
