"""Reading ESCO's CSV downloads (``sim taxonomy_import``): the first, checking pass.

Two formats:

* ``esco-csv`` — a concept file of ESCO's download (``occupations_sv.csv``, ``skills_en.csv``,
  ``ISCOGroups_sv.csv``, …): columns ``conceptUri``, ``preferredLabel``, ``altLabels`` (one label a
  line) and, when present, ``description`` and ``conceptType``; every other column is ignored.
* ``esco-broader`` — ESCO's broader relations (``broaderRelationsOccPillar.csv``,
  ``broaderRelationsSkillPillar.csv``): columns ``conceptUri`` and ``broaderUri``.

The reader streams the file once (:class:`sim.companies.importer.TableReader`), checks every row,
remembers only the URIs seen (for duplicates) and spools the parsed rows to a temporary file for
the writing pass in :mod:`sim.competence.services_taxonomy`.  Problems of the file as a whole raise
:class:`ImportFileError`; problems of a row are added to the result with row and column.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from sim.companies.importer import (
    ImportFileError,
    ImportResult,
    TableReader,
    _cell_text,
    _is_blank,
    _RestartWithEncoding,
    normalise_heading,
)
from sim.core.spool import RowSpool

from . import taxonomy
from .taxonomy import TaxonomyValueError

ESCO_CSV = "esco-csv"
ESCO_BROADER = "esco-broader"
FORMATS = (ESCO_CSV, ESCO_BROADER)

#: Rows looked up and written together in the second pass.
BATCH_SIZE = 1000
#: Rows checked between two progress reports.
PROGRESS_EVERY = 2000
#: Broader relations skipped because a concept is unknown: this many are named in warnings.
LISTED_SKIPS = 10
#: Bytes read at a time when looking for the first character that is not UTF-8.
SCAN_CHUNK = 1024 * 1024

ProgressCallback = Callable[[str, int, int | None], None]

CONCEPT_COLUMNS = {
    "concepturi": "uri",
    "preferredlabel": "preferred",
    "altlabels": "alt",
    "description": "description",
    "concepttype": "type",
}
CONCEPT_REQUIRED = ("uri", "preferred", "alt")
BROADER_COLUMNS = {
    "concepturi": "uri",
    "broaderuri": "broader",
    "concepttype": "type",
    "broadertype": "broader_type",
}
BROADER_REQUIRED = ("uri", "broader")
ESCO_HEADINGS = {
    "uri": "conceptUri", "preferred": "preferredLabel", "alt": "altLabels", "description": "description",
    "type": "conceptType", "broader": "broaderUri", "broader_type": "broaderType",
}


@dataclass
class TaxonomyImportResult(ImportResult):
    """What an import did (or would do): counts, errors, warnings."""

    format: str = ESCO_CSV
    kind: str = ""
    language: str = ""
    #: Broader relations left out because a concept is not in the taxonomy.
    skipped: int = 0
    #: Created/updated concept URIs of this run (for the matcher's incremental rebuild).
    touched_uris: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = super().as_json()
        data.update({"format": self.format, "kind": self.kind or None, "language": self.language or None})
        if self.format == ESCO_BROADER:
            data["skipped"] = self.skipped
        return data


@dataclass(frozen=True, slots=True)
class ParsedConcept:
    row: int
    uri: str
    preferred: str
    alt: list[str]
    #: ``None`` when the file has no description column (the stored one is kept).
    description: str | None


@dataclass(frozen=True, slots=True)
class ParsedRelation:
    row: int
    uri: str
    broader: str


class Spool(RowSpool):
    """Parsed rows in batches on disk: memory stays flat on ESCO's 14,000 skills."""

    def __init__(self) -> None:
        super().__init__(BATCH_SIZE)


class _Headings:
    """The heading row mapped to our keys."""

    def __init__(self, number: int, cells: list[Any], known: dict[str, str], required: tuple[str, ...], what: str):
        self.row = number
        self.index: dict[str, int] = {}
        self.written: dict[str, str] = {}
        self.width = len(cells)
        for position, heading in enumerate(cells):
            text = " ".join(_cell_text(heading).replace("\ufeff", "").split())
            key = known.get(normalise_heading(text))
            if key is None:
                continue  # ESCO's other columns (status, skillType, iscoGroup, …) are ignored
            if key in self.index:
                raise ImportFileError(
                    _("The column “%(column)s” appears twice: keep one of them.") % {"column": text},
                    row=number, column=text,
                )
            self.index[key] = position
            self.written[key] = text
        missing = [ESCO_HEADINGS[key] for key in required if key not in self.index]
        if missing:
            raise ImportFileError(
                _(
                    "Required column missing: %(columns)s. %(what)s The first row must hold the column headings."
                )
                % {"columns": ", ".join(missing), "what": what},
                row=number,
            )

    def cell(self, cells: list[Any], key: str) -> str:
        position = self.index.get(key)
        if position is None or position >= len(cells):
            return ""
        return _cell_text(cells[position])


def open_reader(source, *, name: str | None = None) -> TableReader:
    """A reader for an ESCO CSV file; refuses workbooks and files that are not UTF-8."""
    reader = TableReader(source, name=name)
    if reader.format != "csv":
        raise ImportFileError(
            _("ESCO files are CSV files; this is an Excel workbook. Use the CSV download of ESCO.")
        )
    if not reader.encoding.startswith(("utf-8", "utf-16")):
        raise ImportFileError(_not_utf8(_first_bad_line(reader)))
    return reader


def _first_bad_line(reader: TableReader) -> int | None:
    """The line of the file (counting line breaks, from 1) with the first byte that is not UTF-8,
    or ``None`` when there is none. Reads the file in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with reader._open_binary() as stream:
        while True:
            chunk = stream.read(SCAN_CHUNK)
            pending = decoder.getstate()[0]  # the start of a character cut by the previous chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return lines + chunk[: max(exc.start - len(pending), 0)].count(b"\n")
            if not chunk:
                return None
            lines += chunk.count(b"\n")


def _not_utf8(line: int | None = None) -> str:
    text = _(
        "The file is not UTF-8 encoded (ESCO's downloads are UTF-8). It may have been saved by a "
        "spreadsheet in another encoding: download it again, or save it as “CSV UTF-8”."
    )
    if line is not None:
        text = _("Line %(line)d has a character that is not UTF-8.") % {"line": line} + " " + text
    return text


class _Reader:
    """Shared loop of the first pass: headings, blank rows, progress, encoding errors."""

    required: tuple[str, ...] = ()
    known: dict[str, str] = {}
    what = ""

    def __init__(self, reader: TableReader, result: TaxonomyImportResult, progress: ProgressCallback | None) -> None:
        self.reader = reader
        self.result = result
        self.progress = progress
        self.spool = Spool()
        self.headings: _Headings | None = None

    def read(self) -> Spool:
        data_rows = 0
        try:
            for number, cells in self.reader.rows():
                if self.headings is None:
                    if _is_blank(cells):
                        continue
                    self.headings = _Headings(number, cells, self.known, self.required, self.what)
                    continue
                if _is_blank(cells):
                    continue
                data_rows += 1
                if self.progress and data_rows % PROGRESS_EVERY == 0:
                    self.progress("check", self.reader.position, self.reader.total)
                if len(cells) > self.headings.width and any(str(c).strip() for c in cells[self.headings.width:]):
                    self.result.add_error(
                        number, None,
                        _("The row has more cells than there are column headings: check quotes and delimiters."),
                    )
                    self.result.invalid_rows += 1
                    continue
                self.parse(number, cells)
        except _RestartWithEncoding:
            self.spool.close()
            raise ImportFileError(_not_utf8(_first_bad_line(self.reader))) from None
        except ImportFileError:
            self.spool.close()
            raise
        if self.headings is None:
            self.spool.close()
            raise ImportFileError(_("The file is empty."))
        if data_rows == 0:
            self.spool.close()
            raise ImportFileError(_("The file has column headings but no rows."), row=self.headings.row)
        if self.progress:
            self.progress("check", self.reader.total or self.reader.position, self.reader.total)
        self.result.rows = data_rows
        return self.spool

    def parse(self, number: int, cells: list[Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class ConceptReader(_Reader):
    """First pass over an ESCO concept file."""

    required = CONCEPT_REQUIRED
    known = CONCEPT_COLUMNS

    def __init__(self, reader: TableReader, result: TaxonomyImportResult, progress: ProgressCallback | None, *,
                 kind: str) -> None:
        super().__init__(reader, result, progress)
        self.kind = kind
        self.what = _("An ESCO concept file has the columns conceptUri, preferredLabel and altLabels.")
        self.seen: dict[str, int] = {}

    def parse(self, number: int, cells: list[Any]) -> None:
        headings = self.headings
        errors: list[tuple[str, str]] = []
        uri = ""
        try:
            uri = taxonomy.parse_uri(headings.cell(cells, "uri"), self.kind)
        except TaxonomyValueError as exc:
            errors.append((headings.written["uri"], str(exc)))
        if uri:
            first = self.seen.get(uri)
            if first is not None:
                errors.append((headings.written["uri"], _("The URI %(uri)s is already on row %(row)d.") % {"uri": uri, "row": first}))
                uri = ""
            else:
                self.seen[uri] = number
        if "type" in headings.index:
            concept_type = headings.cell(cells, "type").strip()
            kind = taxonomy.ESCO_CONCEPT_TYPES.get(normalise_heading(concept_type))
            if kind is None:
                errors.append((headings.written["type"], _("Unknown concept type: %(type)s") % {"type": concept_type or "—"}))
            elif kind != self.kind:
                errors.append((
                    headings.written["type"],
                    _("The row is a %(actual)s (%(type)s), but %(expected)s concepts are being imported.")
                    % {"actual": taxonomy.kind_label(kind), "type": concept_type, "expected": taxonomy.kind_label(self.kind)},
                ))
        preferred = ""
        try:
            preferred = taxonomy.clean_label(headings.cell(cells, "preferred"))
            if not preferred:
                errors.append((headings.written["preferred"], _("The preferred label is missing.")))
        except TaxonomyValueError as exc:
            errors.append((headings.written["preferred"], str(exc)))
        alt: list[str] = []
        try:
            alt = taxonomy.split_labels(headings.cell(cells, "alt"), "\n", exclude=[preferred])
        except TaxonomyValueError as exc:
            errors.append((headings.written["alt"], str(exc)))
        description = None
        if "description" in headings.index:
            description = headings.cell(cells, "description").strip()
        if errors:
            self.result.invalid_rows += 1
            for column, message in errors:
                self.result.add_error(number, column, message)
            return
        self.spool.add((number, uri, preferred, alt, description))


class RelationReader(_Reader):
    """First pass over an ESCO broader-relations file."""

    required = BROADER_REQUIRED
    known = BROADER_COLUMNS

    def __init__(self, reader: TableReader, result: TaxonomyImportResult, progress: ProgressCallback | None) -> None:
        super().__init__(reader, result, progress)
        self.what = _("An ESCO broader-relations file has the columns conceptUri and broaderUri.")
        self.seen: dict[tuple[str, str], int] = {}

    def parse(self, number: int, cells: list[Any]) -> None:
        headings = self.headings
        errors: list[tuple[str, str]] = []
        uris: dict[str, str] = {}
        for key in ("uri", "broader"):
            try:
                uris[key] = taxonomy.parse_uri(headings.cell(cells, key))
            except TaxonomyValueError as exc:
                errors.append((headings.written[key], str(exc)))
        if len(uris) == 2:
            uri, broader = uris["uri"], uris["broader"]
            if uri == broader:
                errors.append((headings.written["broader"], _("A concept cannot be broader than itself.")))
            else:
                kinds = (taxonomy.esco_uri_kind(uri), taxonomy.esco_uri_kind(broader))
                if None not in kinds and kinds[0] != kinds[1]:
                    errors.append((
                        headings.written["broader"],
                        _("A %(narrower)s cannot have a %(broader)s as its broader concept.")
                        % {"narrower": taxonomy.kind_label(kinds[0]), "broader": taxonomy.kind_label(kinds[1])},
                    ))
                first = self.seen.get((uri, broader))
                if first is not None:
                    errors.append((headings.written["uri"], _("The same relation is already on row %(row)d.") % {"row": first}))
                else:
                    self.seen[(uri, broader)] = number
        if errors:
            self.result.invalid_rows += 1
            for column, message in errors:
                self.result.add_error(number, column, message)
            return
        self.spool.add((number, uris["uri"], uris["broader"]))


def concepts_from_batch(batch: list[tuple]) -> list[ParsedConcept]:
    return [ParsedConcept(*row) for row in batch]


def relations_from_batch(batch: list[tuple]) -> list[ParsedRelation]:
    return [ParsedRelation(*row) for row in batch]


def resolve_language(name: str, language: str | None) -> str:
    """The language of a concept file: ``--language`` if given, else the one in the file name
    (``skills_en.csv``), else Swedish. Only ``sv`` and ``en`` are stored."""
    if language:
        code = language.lower()
        if code not in taxonomy.LANGUAGES:
            raise ImportFileError(
                _("Only Swedish (sv) and English (en) labels are stored, not “%(language)s”.") % {"language": language}
            )
        return code
    from_name = taxonomy.language_from_filename(name)
    if from_name is None:
        return "sv"
    if from_name not in taxonomy.LANGUAGES:
        raise ImportFileError(
            _(
                "The file name says the labels are in “%(language)s”, but only Swedish (sv) and English (en) "
                "labels are stored. Import occupations_sv.csv or occupations_en.csv (or the skills files), or "
                "give --language if the name is misleading."
            )
            % {"language": from_name}
        )
    return from_name
