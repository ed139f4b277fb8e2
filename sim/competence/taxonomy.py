"""Pure rules of the competence taxonomy: URIs, labels, language from a file name, the shipped
default taxonomy files, and walking the broader/narrower graph.

Nothing here touches the database: the services and selectors call these functions with plain
values (URIs, labels, ``{id: [broader ids]}`` maps), so they are easy to test on their own.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

OCCUPATION = "occupation"
SKILL = "skill"
KINDS = (OCCUPATION, SKILL)
LANGUAGES = ("sv", "en")

#: ESCO's namespace (ESCO concepts, ISCO groups of the occupation pillar).
ESCO_NAMESPACE = "http://data.europa.eu/esco/"
#: Our own namespace, for concepts of the default taxonomy that have no ESCO URI we are sure of.
DEFAULT_NAMESPACE = "https://sim-platform.eu/taxonomy/"

#: The ESCO URI paths of each kind (``isco`` are the ISCO-08 groups above ESCO occupations).
ESCO_PATHS = {OCCUPATION: ("occupation", "isco"), SKILL: ("skill",)}
#: ESCO's ``conceptType`` column → our kind.
ESCO_CONCEPT_TYPES = {
    "occupation": OCCUPATION,
    "iscogroup": OCCUPATION,
    "knowledgeskillcompetence": SKILL,
    "skillgroup": SKILL,
}

MAX_URI_LENGTH = 255
MAX_LABEL_LENGTH = 255

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LANGUAGE_IN_NAME = re.compile(r"_([a-z]{2}(?:-[a-z]{2})?)$", re.IGNORECASE)


class TaxonomyValueError(ValueError):
    """A value (URI, label) that cannot be stored; the message says why, for a person."""


# =============================================================================================
# URIs
# =============================================================================================


def parse_uri(value: object, kind: str | None = None) -> str:
    """A concept URI, trimmed; raises :class:`TaxonomyValueError` when it is not one.

    The URI must be an absolute ``http``/``https`` address with a host, without spaces, of at most
    255 characters. A URI in ESCO's namespace must also be of the given kind: an occupation is
    ``…/esco/occupation/…`` or an ISCO group ``…/esco/isco/…``, a skill ``…/esco/skill/…``.
    """
    text = str(value or "").strip()
    if not text:
        raise TaxonomyValueError(_("The URI is missing."))
    shown = text if len(text) <= 80 else text[:77] + "…"
    if len(text) > MAX_URI_LENGTH:
        raise TaxonomyValueError(
            _("The URI is longer than %(max)d characters: %(uri)s") % {"max": MAX_URI_LENGTH, "uri": shown}
        )
    if any(ch.isspace() for ch in text) or _CONTROL.search(text):
        raise TaxonomyValueError(_("The URI contains spaces or control characters: %(uri)s") % {"uri": shown})
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or "." not in parts.netloc:
        raise TaxonomyValueError(
            _("Not a valid URI (an http:// or https:// address is expected): %(uri)s") % {"uri": shown}
        )
    if parts.path in ("", "/"):
        raise TaxonomyValueError(_("The URI names no concept (it has no path): %(uri)s") % {"uri": shown})
    esco_kind = esco_uri_kind(text)
    if text.startswith(ESCO_NAMESPACE):
        if esco_kind is None:
            raise TaxonomyValueError(
                _("Not an ESCO occupation, ISCO group or skill URI: %(uri)s") % {"uri": shown}
            )
        if kind is not None and esco_kind != kind:
            raise TaxonomyValueError(
                _("This is an ESCO %(actual)s URI, but %(expected)s concepts are being imported: %(uri)s")
                % {"actual": kind_label(esco_kind), "expected": kind_label(kind), "uri": shown}
            )
    return text


def esco_uri_kind(uri: str) -> str | None:
    """``occupation`` or ``skill`` for a URI in ESCO's namespace (``None`` for any other URI)."""
    if not uri.startswith(ESCO_NAMESPACE):
        return None
    rest = uri[len(ESCO_NAMESPACE):]
    section, _sep, tail = rest.partition("/")
    if not tail:
        return None
    for kind, sections in ESCO_PATHS.items():
        if section in sections:
            return kind
    return None


def source_for_uri(uri: str) -> str:
    """The ``source`` of a concept of the default taxonomy: ``esco`` for an ESCO URI, ``default``
    for our own namespace."""
    return "esco" if uri.startswith(ESCO_NAMESPACE) else "default"


def default_uri(kind: str, slug: str) -> str:
    """A URI in our own namespace (``https://sim-platform.eu/taxonomy/<kind>/<slug>``)."""
    if kind not in KINDS:
        raise TaxonomyValueError(_("Unknown kind: %(kind)s") % {"kind": kind})
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        raise TaxonomyValueError(_("A slug is lower-case letters, digits and hyphens: %(slug)s") % {"slug": slug})
    return f"{DEFAULT_NAMESPACE}{kind}/{slug}"


def kind_label(kind: str) -> str:
    return {OCCUPATION: _("occupation"), SKILL: _("skill")}.get(kind, kind)


# =============================================================================================
# Labels
# =============================================================================================


def clean_label(value: object) -> str:
    """One label: surrounding and repeated white space removed; too long or with control
    characters is an error. An empty result is allowed (the caller decides whether it may be)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value or ""))).strip()
    if _CONTROL.search(text):
        raise TaxonomyValueError(_("The label contains control characters."))
    if len(text) > MAX_LABEL_LENGTH:
        raise TaxonomyValueError(
            _("The label is longer than %(max)d characters: %(label)s…") % {"max": MAX_LABEL_LENGTH, "label": text[:40]}
        )
    return text


def split_labels(value: object, separator: str = "\n", *, exclude: Iterable[str] = ()) -> list[str]:
    """Alternative labels from one cell (ESCO: one label a line; our files: ``|``), cleaned, in
    their order, without blanks and without repeats (letter case ignored), leaving out any label
    equal to one of ``exclude`` (the preferred label)."""
    seen = {label_key(label) for label in exclude if label}
    labels: list[str] = []
    text = str(value or "")
    parts = text.splitlines() if separator == "\n" else text.split(separator)
    for part in parts:
        label = clean_label(part)
        key = label_key(label)
        if label and key not in seen:
            seen.add(key)
            labels.append(label)
    return labels


def label_key(label: str) -> str:
    """A label as compared for duplicates: case-folded, white space collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", label)).strip().casefold()


def language_from_filename(name: str) -> str | None:
    """The language code in an ESCO download's name (``occupations_sv.csv`` → ``sv``,
    ``skills_en.csv`` → ``en``), or ``None`` when the name has none."""
    stem = Path(str(name)).name
    stem = re.sub(r"\.(csv|txt)$", "", stem, flags=re.IGNORECASE)
    match = _LANGUAGE_IN_NAME.search(stem)
    return match.group(1).lower() if match else None


# =============================================================================================
# The default taxonomy files
# =============================================================================================

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = {OCCUPATION: DATA_DIR / "occupations.csv", SKILL: DATA_DIR / "skills.csv"}
DEFAULT_COLUMNS = (
    "uri", "preferred_label_sv", "preferred_label_en", "alt_labels_sv", "alt_labels_en",
    "description_sv", "description_en", "broader",
)
#: Separator of several values in one cell of our files (alternative labels, broader URIs).
LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class DefaultConcept:
    """One row of the shipped taxonomy."""

    uri: str
    kind: str
    preferred_label_sv: str
    preferred_label_en: str
    alt_labels_sv: list[str] = field(default_factory=list)
    alt_labels_en: list[str] = field(default_factory=list)
    description_sv: str = ""
    description_en: str = ""
    broader: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return source_for_uri(self.uri)

    def fields(self) -> dict[str, object]:
        """The stored fields (what the loader compares and writes)."""
        return {
            "kind": self.kind,
            "preferred_label_sv": self.preferred_label_sv,
            "preferred_label_en": self.preferred_label_en,
            "alt_labels_sv": list(self.alt_labels_sv),
            "alt_labels_en": list(self.alt_labels_en),
            "description_sv": self.description_sv,
            "description_en": self.description_en,
            "source": self.source,
        }


class DefaultTaxonomyError(ValueError):
    """The shipped files are inconsistent (a bug in the package, caught by the tests)."""


def read_default_file(path: Path, kind: str) -> Iterator[DefaultConcept]:
    """The concepts of one file of our format (see docs/domain-rules.md, "Taxonomy")."""
    with open(path, encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = [column for column in DEFAULT_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise DefaultTaxonomyError(f"{path.name}: missing columns {', '.join(missing)}")
        for number, row in enumerate(reader, start=2):
            try:
                uri = parse_uri(row["uri"], kind)
                preferred_sv = clean_label(row["preferred_label_sv"])
                preferred_en = clean_label(row["preferred_label_en"])
                yield DefaultConcept(
                    uri=uri,
                    kind=kind,
                    preferred_label_sv=preferred_sv,
                    preferred_label_en=preferred_en,
                    alt_labels_sv=split_labels(row["alt_labels_sv"], LIST_SEPARATOR, exclude=[preferred_sv]),
                    alt_labels_en=split_labels(row["alt_labels_en"], LIST_SEPARATOR, exclude=[preferred_en]),
                    description_sv=(row["description_sv"] or "").strip(),
                    description_en=(row["description_en"] or "").strip(),
                    broader=[parse_uri(u, kind) for u in (row["broader"] or "").split(LIST_SEPARATOR) if u.strip()],
                )
            except TaxonomyValueError as exc:
                raise DefaultTaxonomyError(f"{path.name}, row {number}: {exc}") from None


def read_default_taxonomy(files: Mapping[str, Path] | None = None) -> list[DefaultConcept]:
    """Every concept of the shipped taxonomy, occupations first; checks that URIs are unique and
    that every broader URI is a concept of the files."""
    files = files or DEFAULT_FILES
    concepts: list[DefaultConcept] = []
    for kind in KINDS:
        if kind in files:
            concepts.extend(read_default_file(Path(files[kind]), kind))
    seen: set[str] = set()
    for concept in concepts:
        if concept.uri in seen:
            raise DefaultTaxonomyError(f"The URI {concept.uri} is in the default taxonomy twice.")
        seen.add(concept.uri)
    for concept in concepts:
        for uri in concept.broader:
            if uri not in seen:
                raise DefaultTaxonomyError(f"{concept.uri}: the broader concept {uri} is not in the default taxonomy.")
    cycle = find_cycle({c.uri: c.broader for c in concepts})
    if cycle:
        raise DefaultTaxonomyError("Broader links form a cycle: " + " → ".join(cycle))
    return concepts


# =============================================================================================
# The broader/narrower graph (nodes are ids or URIs; ``broader_of[node]`` lists its broader nodes)
# =============================================================================================


def find_cycle(broader_of: Mapping) -> list | None:
    """A cycle of broader links (``[a, b, …, a]``), or ``None`` when there is none."""
    white, grey, black = 0, 1, 2
    colour: dict = {}
    for start in broader_of:
        if colour.get(start, white) != white:
            continue
        stack = [(start, iter(broader_of.get(start, ())))]
        path = [start]
        colour[start] = grey
        while stack:
            node, children = stack[-1]
            for child in children:
                state = colour.get(child, white)
                if state == grey:
                    return [*path[path.index(child):], child]
                if state == white:
                    colour[child] = grey
                    path.append(child)
                    stack.append((child, iter(broader_of.get(child, ()))))
                    break
            else:
                colour[node] = black
                path.pop()
                stack.pop()
    return None


def ancestors_of(node, broader_of: Mapping) -> list:
    """All broader nodes of ``node``, nearest first (breadth-first), each once; safe on cycles."""
    seen = {node}
    order: list = []
    frontier = list(broader_of.get(node, ()))
    while frontier:
        following: list = []
        for parent in frontier:
            if parent in seen:
                continue
            seen.add(parent)
            order.append(parent)
            following.extend(broader_of.get(parent, ()))
        frontier = following
    return order


def primary_path(node, broader_of: Mapping) -> list:
    """The chain from the top of the taxonomy down to ``node`` along the *primary* broader link
    (the smallest broader node, so the result does not depend on query order): ``[top, …, node]``.
    A concept without broader links is its own top."""
    chain = [node]
    seen = {node}
    current = node
    while True:
        parents = sorted(p for p in broader_of.get(current, ()) if p not in seen)
        if not parents:
            break
        current = parents[0]
        seen.add(current)
        chain.append(current)
    chain.reverse()
    return chain


def roll_up_map(nodes: Iterable, level: int, broader_of: Mapping) -> dict:
    """``{node: node rolled up}``: each node replaced by its ancestor at ``level`` on its primary
    path, counted from the top (0 = the top group, 1 = the level below, …). A node that is not
    that deep stays itself."""
    if level < 0:
        raise ValueError("level must be 0 or more")
    result = {}
    for node in nodes:
        path = primary_path(node, broader_of)
        result[node] = path[level] if level < len(path) else node
    return result
