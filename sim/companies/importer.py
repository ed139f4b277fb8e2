"""Company import (``sim import_companies`` and the web import): read, validate, upsert.

Three parts, usable on their own:

* :class:`TableReader` opens a CSV file (delimiter ``,`` ``;`` or tab; UTF-8 with or without BOM,
  UTF-16 with BOM, Windows-1252 or Latin-1) or an XLSX workbook (first sheet) and yields
  ``(row_number, cells)`` pairs, streaming: the file is never loaded whole.  Row numbers are the
  ones a user sees in Excel (the heading row is row 1).
* :class:`RowParser` maps the heading row (Swedish or English names) to register fields and turns
  one row into validated values, with the same rules as the rest of the application
  (:func:`rules.parse_org_number`, municipalities and SNI codes from the reference tables).
* :func:`import_companies` runs two streaming passes: the first reads and validates every row,
  keeping in memory only the organisation numbers seen (duplicates) and spooling the parsed valid
  rows to a temporary file; the second reads them back a batch at a time, looks up the existing
  companies of the batch with one query and creates or updates them in bulk, with their key
  figures, SME class and audit events, all inside one transaction.  Nothing is written when any
  row is invalid unless ``skip_invalid`` is given, and nothing at all on a dry run.

Problems with the file as a whole (not a table, missing required column) are reported as one
error without a row; problems with a row give one error per cell, with the row number, the
column heading as written in the file and the reason.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import io
import json
import os
import queue
import re
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.core.audit import _plain as audit_plain
from sim.core.audit import actor_fields, diff
from sim.core.models import AuditEvent
from sim.core.spool import RowSpool

from . import rules
from .models import Company, CompanyStatus, KeyFigures, LegalForm, Municipality, OwnershipLink, SniCode
from .services import LEGAL_FORM_BY_GROUP, search_text_for

Source = AuditEvent.Source
Action = AuditEvent.Action

#: Rows looked up and written together (one query for the existing companies of a batch).
BATCH_SIZE = 2000
#: Row errors kept in full; beyond this only the number is reported (memory stays bounded).
MAX_LISTED_ERRORS = 100_000
#: Changes described one by one in the result (for the web preview).
DEFAULT_CHANGE_LIMIT = 50
#: Bytes read to recognise the file type, encoding and delimiter.
SAMPLE_SIZE = 64 * 1024
#: Progress is reported every this many rows.
PROGRESS_EVERY = 2000

SNI_SYSTEM = "SNI2007"

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``; phase is ``"check"`` or ``"write"``; ``done``/``total`` are
bytes for CSV files and rows for workbooks (``total`` may be ``None``)."""


# =============================================================================================
# Results
# =============================================================================================


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: ``row`` is the 1-based row as shown in Excel (``None`` for the file as a
    whole), ``column`` the heading as written in the file (``None`` when no single column)."""

    row: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: All errors found, also those beyond :data:`MAX_LISTED_ERRORS`.
    error_count: int = 0
    #: Rows (not errors) that were invalid and therefore not imported.
    invalid_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: True when the file as a whole could not be imported (not a table, missing column, ...).
    fatal: bool = False
    #: Whether the register was written to.
    written: bool = False
    rows: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    file_format: str = ""
    encoding: str = ""
    delimiter: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_count and not self.fatal

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(row, column, str(message)))

    def listed_errors(self) -> list[dict[str, Any]]:
        listed = [error.as_dict() for error in self.errors]
        if self.error_count > len(self.errors):
            listed.append(
                {
                    "row": None,
                    "column": None,
                    "message": _("%(count)d more errors are not listed.") % {"count": self.error_count - len(self.errors)},
                }
            )
        return listed

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.listed_errors(),
            "warnings": list(self.warnings),
            "dry_run": self.dry_run,
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-friendly (kept with an upload for the web preview)."""
        return {
            **self.as_json(),
            "error_count": self.error_count,
            "invalid_rows": self.invalid_rows,
            "fatal": self.fatal,
            "written": self.written,
            "rows": self.rows,
            "changes": self.changes,
            "file_format": self.file_format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }


class ImportFileError(Exception):
    """The file as a whole cannot be read as a table of companies."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.row = row
        self.column = column


class _RestartWithEncoding(Exception):
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding


# =============================================================================================
# Reading CSV and XLSX
# =============================================================================================

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DELIMITERS = (";", "\t", ",")
_DELIMITER_NAMES = {";": "semicolon", "\t": "tab", ",": "comma"}


def _cell_text(value: Any) -> str:
    """A workbook cell as text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class TableReader:
    """Rows of a CSV file or of the first sheet of an XLSX workbook.

    ``source`` is a path or a binary file object; a file object must be seekable (the reader looks
    at the start of the file first, and every call of :meth:`rows` starts from the top);
    :func:`import_companies` copies unseekable streams to a temporary file.
    Raises :class:`ImportFileError` for anything that is not a readable table.
    """

    def __init__(self, source: str | os.PathLike | IO[bytes], *, name: str | None = None) -> None:
        self.source = source
        if isinstance(source, str | os.PathLike):
            self.name = name or Path(source).name
        else:
            self.name = name or Path(getattr(source, "name", "") or "upload").name
        self.format = ""
        self.encoding = ""
        self.delimiter = ""
        self.sheet_name = ""
        self.size: int | None = None
        self.position = 0  # bytes (CSV) or rows (XLSX) read so far in the current pass
        self.total: int | None = None
        self._sniff()

    # --- opening ---------------------------------------------------------------------------

    def _open_binary(self) -> IO[bytes]:
        if isinstance(self.source, str | os.PathLike):
            try:
                return open(self.source, "rb")  # noqa: SIM115 - closed by the caller
            except FileNotFoundError:
                raise ImportFileError(_("File not found: %(file)s") % {"file": self.source}) from None
            except IsADirectoryError:
                raise ImportFileError(_("%(file)s is a directory, not a file.") % {"file": self.source}) from None
            except OSError as exc:
                raise ImportFileError(
                    _("Cannot read %(file)s: %(error)s") % {"file": self.source, "error": exc.strerror or exc}
                ) from None
        self.source.seek(0)
        return _Unclosable(self.source)

    def _sniff(self) -> None:
        with self._open_binary() as stream:
            sample = stream.read(SAMPLE_SIZE)
            try:
                stream.seek(0, io.SEEK_END)
                self.size = stream.tell()
            except (OSError, ValueError):
                self.size = None
        if not sample.strip(b" \t\r\n\xef\xbb\xbf"):
            raise ImportFileError(_("The file is empty."))
        if sample.startswith(_XLSX_MAGIC):
            self.format = "xlsx"
            self._check_workbook()
            return
        if sample.startswith(_OLE_MAGIC):
            raise ImportFileError(
                _(
                    "This is an old Excel (.xls) file or another binary document: save it as an Excel "
                    "workbook (.xlsx) or as CSV and try again."
                )
            )
        self.format = "csv"
        self.encoding = self._detect_encoding(sample)
        text = self._decode_sample(sample)
        if not text.strip():
            raise ImportFileError(_("The file is empty."))
        if len(_CONTROL_CHARS.findall(text)) > max(2, len(text) // 200):
            raise ImportFileError(
                _("This is not a table: the file contains binary data. Upload a CSV file or an Excel workbook (.xlsx).")
            )
        self.delimiter = self._detect_delimiter(text)
        self.total = self.size

    def _detect_encoding(self, sample: bytes) -> str:
        if sample.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in sample:
            raise ImportFileError(
                _("This is not a table: the file contains binary data. Upload a CSV file or an Excel workbook (.xlsx).")
            )
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(sample, final=len(sample) < SAMPLE_SIZE)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"

    def _decode_sample(self, sample: bytes) -> str:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        return decoder.decode(sample, final=False)

    @staticmethod
    def _detect_delimiter(text: str) -> str:
        """The delimiter most frequent (outside quotes) on the first non-blank line."""
        for line in text.splitlines():
            if line.strip():
                header = re.sub(r'"[^"]*"', "", line)
                break
        else:
            return ","
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])
        return best if counts[best] else ","

    def _check_workbook(self) -> None:
        workbook, sheet = self._open_sheet()
        try:
            self.total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 0 else None
        finally:
            workbook.close()

    def _open_sheet(self):
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        stream = self._open_binary()
        if isinstance(self.source, str | os.PathLike):
            stream.close()  # openpyxl opens (and closes) the path itself
            stream = None
        try:
            workbook = openpyxl.load_workbook(
                self.source if stream is None else stream, read_only=True, data_only=True
            )
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, EOFError, TypeError):
            if stream is not None:
                stream.close()
            raise ImportFileError(
                _("The file looks like an Excel workbook but cannot be opened: it may be damaged. Save it again as .xlsx or CSV.")
            ) from None
        except Exception:  # noqa: BLE001 - any parser failure means a damaged workbook
            if stream is not None:
                stream.close()
            raise ImportFileError(
                _("The file looks like an Excel workbook but cannot be opened: it may be damaged. Save it again as .xlsx or CSV.")
            ) from None
        if not workbook.sheetnames:
            workbook.close()
            raise ImportFileError(_("The workbook has no sheets."))
        sheet = workbook[workbook.sheetnames[0]]
        self.sheet_name = workbook.sheetnames[0]
        if not hasattr(sheet, "iter_rows"):
            workbook.close()
            raise ImportFileError(
                _("The first sheet of the workbook is a chart, not a table: put the companies on the first sheet.")
            )
        return workbook, sheet

    # --- rows ------------------------------------------------------------------------------

    def rows(self, encoding: str | None = None) -> Iterator[tuple[int, list[Any]]]:
        """``(row_number, cells)`` for every row, the heading row included, blank rows included."""
        self.position = 0
        if self.format == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows(encoding or self.encoding)

    def _csv_rows(self, encoding: str) -> Iterator[tuple[int, list[Any]]]:
        binary = self._open_binary()
        text = io.TextIOWrapper(binary, encoding=encoding, newline="", errors="strict")
        reader = csv.reader(text, delimiter=self.delimiter)
        number = 0
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise _RestartWithEncoding("cp1252" if encoding.startswith("utf-8") else "latin-1") from None
                except csv.Error as exc:
                    raise ImportFileError(
                        _("Row %(row)d cannot be read as CSV (%(error)s): check quotes and the delimiter.")
                        % {"row": number + 1, "error": exc},
                        row=number + 1,
                    ) from None
                number += 1
                if number % 256 == 0:
                    with contextlib.suppress(OSError, ValueError):
                        self.position = binary.tell()
                yield number, cells
        finally:
            with contextlib.suppress(ValueError):
                text.detach()
            binary.close()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        workbook, sheet = self._open_sheet()
        try:
            number = 0
            iterator = sheet.iter_rows(values_only=True)
            while True:
                try:
                    values = next(iterator)
                except StopIteration:
                    return
                except Exception:  # noqa: BLE001 - a damaged sheet part
                    raise ImportFileError(
                        _("The workbook cannot be read after row %(row)d: it may be damaged. Save it again as .xlsx or CSV.")
                        % {"row": number},
                        row=number + 1,
                    ) from None
                number += 1
                self.position = number
                yield number, list(values)
        finally:
            workbook.close()


class _Unclosable:
    """A caller's file object lent to a reader: closing it only rewinds."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.seek(0)

    @property
    def closed(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def read1(self, size: int = -1) -> bytes:
        reader = getattr(self._stream, "read1", None)
        return reader(size) if reader else self._stream.read(size)

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# =============================================================================================
# Columns
# =============================================================================================


def normalise_heading(text: Any) -> str:
    """Lower case, ASCII letters and digits only: ``"Omsättning (SEK)"`` → ``"omsattningsek"``."""
    decomposed = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", decomposed.lower())


@dataclass(frozen=True)
class Column:
    key: str
    swedish: str
    english: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.swedish, self.english, *self.aliases)


COLUMNS: tuple[Column, ...] = (
    Column("org_number", "organisationsnummer", "org_number", (
        "orgnr", "org_nr", "orgnummer", "organisationsnr", "organisation_number", "organization_number",
        "orgno", "org_no", "organisationsnummer_personnummer",
    )),
    Column("name", "namn", "name", ("företagsnamn", "foretag", "företag", "company", "company_name", "firma", "firmanamn")),
    Column("legal_form", "juridisk_form", "legal_form", ("bolagsform", "företagsform", "juridiskform_kod")),
    Column("municipality", "kommunkod", "municipality_code", ("kommun", "municipality", "kommun_kod", "kommunnummer")),
    Column("sni_primary", "sni", "sni_primary", ("sni_kod", "snikod", "sni_code", "sni2007", "huvudbransch", "sni_primär", "primär_sni")),
    Column("sni_secondary", "sni_sekundär", "sni_secondary", ("sekundär_sni", "sni_övriga", "övriga_sni", "secondary_sni", "sni_codes_secondary")),
    Column("street_address", "gatuadress", "street_address", ("adress", "address", "besöksadress", "utdelningsadress", "street")),
    Column("postal_code", "postnummer", "postal_code", ("postnr", "zip", "zip_code", "postcode", "post_code")),
    Column("postal_city", "postort", "city", ("postal_city", "ort", "town")),
    Column("website", "webbplats", "website", ("hemsida", "webb", "webbadress", "url", "web", "homepage")),
    Column("phone", "telefon", "phone", ("telefonnummer", "tel", "telnr", "phone_number", "telephone")),
    Column("email", "epost", "email", ("e-post", "epostadress", "mail", "e_mail", "email_address")),
    Column("status", "status", "status", ()),
    Column("staff_awu", "anställda", "employees", (
        "antal_anställda", "anstallda_arsverk", "årsverk", "staff", "staff_awu", "number_of_employees", "employees_awu",
    )),
    Column("turnover_sek", "omsättning", "turnover_sek", ("omsättning_sek", "omsättning_kr", "nettoomsättning", "turnover")),
    Column("balance_sheet_sek", "balansomslutning", "balance_sheet_sek", (
        "balansomslutning_sek", "balansomslutning_kr", "balance_sheet", "balance_sheet_total", "total_assets",
    )),
    Column("fiscal_year", "räkenskapsår", "fiscal_year", ("år", "year", "bokslutsår", "accounting_year", "financial_year")),
    Column("source", "källa", "source", ("datakälla", "data_source")),
    Column("estimated", "uppskattad", "estimated", ("uppskattat", "estimerad", "is_estimated")),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
HEADING_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    for _name in _column.names:
        HEADING_ALIASES.setdefault(normalise_heading(_name), _column.key)

REQUIRED_COLUMNS = ("org_number", "name")
FIGURE_KEYS = ("staff_awu", "turnover_sek", "balance_sheet_sek")
KEY_FIGURE_KEYS = (*FIGURE_KEYS, "source", "estimated")
COMPANY_KEYS = (
    "name", "legal_form", "municipality", "sni_primary", "sni_secondary", "street_address", "postal_code",
    "postal_city", "website", "phone", "email", "status",
)
#: Import key → model attribute.
COMPANY_ATTRS = {key: ("municipality_id" if key == "municipality" else key) for key in COMPANY_KEYS}


# =============================================================================================
# Values
# =============================================================================================


class ValueProblem(ValueError):
    """A cell value that cannot be accepted; the message says why."""


_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:X\d{3})+")
_TWO_PLACES = Decimal("0.01")
_WHOLE = Decimal("1")


def _check_grouping(integer_part: str, separator: str) -> str:
    if separator not in integer_part:
        return integer_part
    digits = integer_part.lstrip("+-")
    if not _GROUPED.fullmatch(digits.replace(separator, "X")):
        raise ValueProblem(_("Not a number."))
    return integer_part.replace(separator, "")


def parse_decimal(value: Any) -> Decimal:
    """A number written the Swedish or the English way: ``1 234 567,50``, ``1234567.5``, ``12,5``,
    ``1.234.567``, ``1,234,567.50``; workbook numbers as they are.  Raises :class:`ValueProblem`."""
    if isinstance(value, bool):
        raise ValueProblem(_("Not a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueProblem(_("Not a number."))
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueProblem(_("Not a number."))
        return value
    text = str(value).strip()
    if text.isdigit() and text.isascii():
        return Decimal(text)
    text = _NUMBER_SPACES.sub("", text).replace("\u2212", "-")
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        last = max(text.rfind(","), text.rfind("."))
        decimal_mark = text[last]
        thousands = "." if decimal_mark == "," else ","
        integer_part, fraction = text[:last], text[last + 1 :]
        if decimal_mark in integer_part:
            raise ValueProblem(_("Not a number."))
        text = _check_grouping(integer_part, thousands) + "." + fraction
    elif commas == 1:
        text = text.replace(",", ".")
    elif commas > 1:
        text = _check_grouping(text, ",")
    elif dots > 1:
        text = _check_grouping(text, ".")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueProblem(_("Not a number."))
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(_("Not a number.")) from None
    if not number.is_finite():
        raise ValueProblem(_("Not a number."))
    return number


def _figure_parser(max_digits: int) -> Callable[[Any], Decimal]:
    limit = Decimal(10) ** (max_digits - 2)

    def parse(value: Any) -> Decimal:
        try:
            number = parse_decimal(value)
        except ValueProblem:
            raise ValueProblem(
                _("“%(value)s” is not a number (write e.g. 1 234 567,50 or 1234567.5).") % {"value": _shorten(value)}
            ) from None
        if number < 0:
            raise ValueProblem(_("Cannot be negative."))
        number = number.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)
        if number >= limit:
            raise ValueProblem(_("The number is too large."))
        return number

    return parse


def _shorten(value: Any, length: int = 40) -> str:
    text = _cell_text(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def parse_fiscal_year(value: Any) -> int:
    try:
        number = parse_decimal(value)
    except ValueProblem:
        number = None
    if number is None or number != number.to_integral_value():
        raise ValueProblem(_("“%(value)s” is not a year (write e.g. 2024).") % {"value": _shorten(value)})
    year = int(number)
    if not 1900 <= year <= 2100:
        raise ValueProblem(_("The fiscal year must be between 1900 and 2100."))
    return year


_TRUE = {"1", "ja", "j", "yes", "y", "true", "sant", "x", "sann"}
_FALSE = {"0", "nej", "n", "no", "false", "falskt", "falsk"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = normalise_heading(_cell_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(_("“%(value)s” is not yes or no (write ja/nej or yes/no).") % {"value": _shorten(value)})


#: Written legal forms → :class:`LegalForm`; also the codes of Statistics Sweden (juridisk form).
_LEGAL_FORMS: dict[str, str] = {}
for _code, _names in {
    LegalForm.LIMITED_COMPANY: ("ab", "aktiebolag", "publaktiebolag", "privataktiebolag", "limitedcompany", "41", "42", "43", "49"),
    LegalForm.TRADING_PARTNERSHIP: ("hb", "handelsbolag", "tradingpartnership", "31"),
    LegalForm.LIMITED_PARTNERSHIP: ("kb", "kommanditbolag", "limitedpartnership", "32"),
    LegalForm.SOLE_TRADER: ("ef", "enskildfirma", "enskildnaringsidkare", "soletrader", "10"),
    LegalForm.ECONOMIC_ASSOCIATION: ("ek", "ekonomiskforening", "economicassociation", "bostadsrattsforening", "51", "53", "54"),
    LegalForm.NON_PROFIT: ("if", "ideellforening", "stiftelse", "nonprofit", "foundation", "61", "62", "63", "71", "72"),
    LegalForm.FOREIGN_BRANCH: ("fi", "filial", "utlandskfilial", "foreignbranch", "96"),
    LegalForm.PUBLIC: ("pub", "offentlig", "publicbody", "public", "kommun", "region", "statligmyndighet", "81", "82", "83", "84", "85", "87", "88", "89"),
    LegalForm.ESTATE: ("db", "dodsbo", "estate", "91"),
    LegalForm.SIMPLE_PARTNERSHIP: ("eb", "enkeltbolag", "simplepartnership", "21"),
    LegalForm.OTHER: ("other", "ovrig", "ovriga", "annan", "98", "99"),
}.items():
    for _name in _names:
        _LEGAL_FORMS[_name] = str(_code)


def parse_legal_form(value: Any) -> str:
    key = normalise_heading(_cell_text(value))
    if key in _LEGAL_FORMS:
        return _LEGAL_FORMS[key]
    for label_code, label in LegalForm.choices:
        if normalise_heading(label) == key:
            return str(label_code)
    raise ValueProblem(
        _("“%(value)s” is not a legal form (write e.g. AB, HB, KB, EF, ek, or the code of Statistics Sweden).")
        % {"value": _shorten(value)}
    )


_STATUSES = {
    "prospect": CompanyStatus.PROSPECT, "prospekt": CompanyStatus.PROSPECT, "potentiell": CompanyStatus.PROSPECT,
    "active": CompanyStatus.ACTIVE, "aktiv": CompanyStatus.ACTIVE,
    "alumni": CompanyStatus.ALUMNI, "alumn": CompanyStatus.ALUMNI, "tidigare": CompanyStatus.ALUMNI,
}


def parse_status(value: Any) -> str:
    key = normalise_heading(_cell_text(value))
    if key in ("archived", "arkiverad", "arkiverat"):
        raise ValueProblem(_("Companies are archived in the register, not by import."))
    if key in _STATUSES:
        return str(_STATUSES[key])
    for label_code, label in CompanyStatus.choices:
        if normalise_heading(label) == key and label_code != CompanyStatus.ARCHIVED:
            return str(label_code)
    raise ValueProblem(_("“%(value)s” is not a status (write prospect, active or alumni).") % {"value": _shorten(value)})


def _text_parser(max_length: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = " ".join(_cell_text(value).split())
        if len(text) > max_length:
            raise ValueProblem(_("Too long: at most %(max)d characters.") % {"max": max_length})
        return text

    return parse


_url_validator = URLValidator(schemes=["http", "https"])
_email_validator = EmailValidator()


def parse_website(value: Any) -> str:
    text = _cell_text(value).strip()
    if "://" not in text:
        text = "https://" + text
    if len(text) > 200:
        raise ValueProblem(_("Too long: at most %(max)d characters.") % {"max": 200})
    try:
        _url_validator(text)
    except ValidationError:
        raise ValueProblem(_("“%(value)s” is not a web address.") % {"value": _shorten(value)}) from None
    return text


def parse_email(value: Any) -> str:
    text = _cell_text(value).strip()
    if len(text) > 254:
        raise ValueProblem(_("Too long: at most %(max)d characters.") % {"max": 254})
    try:
        _email_validator(text)
    except ValidationError:
        raise ValueProblem(_("“%(value)s” is not an e-mail address.") % {"value": _shorten(value)}) from None
    return text


# =============================================================================================
# Rows
# =============================================================================================


class ReferenceData:
    """Municipality and SNI codes, read once per import."""

    def __init__(self) -> None:
        from .reference import normalise_sni_code

        self._normalise_sni = normalise_sni_code
        self.municipalities: set[str] = set()
        self.municipality_names: dict[str, str | None] = {}
        self.municipality_labels: dict[str, str] = {}
        for code, name in Municipality.objects.values_list("code", "name"):
            self.municipalities.add(code)
            self.municipality_labels[code] = name
            key = normalise_heading(name)
            self.municipality_names[key] = None if key in self.municipality_names else code
        self.sni_codes = set(SniCode.objects.filter(system=SNI_SYSTEM).values_list("code", flat=True))
        self._sni_cache: dict[str, str | ValueProblem] = {}

    def municipality(self, value: Any) -> str:
        text = _cell_text(value).strip()
        if text.isdigit():
            code = text.zfill(4)
            if code in self.municipalities:
                return code
        else:
            found = self.municipality_names.get(normalise_heading(text))
            if found:
                return found
        raise ValueProblem(_("%(code)s is not a Swedish municipality code.") % {"code": _shorten(value)})

    def sni(self, value: Any) -> str:
        text = _cell_text(value).strip()
        cached = self._sni_cache.get(text)
        if cached is None:
            try:
                code = self._normalise_sni(text)
            except ValueError as exc:
                cached = ValueProblem(str(exc) or _("“%(code)s” is not an SNI code.") % {"code": _shorten(text)})
            else:
                if code in self.sni_codes:
                    cached = code
                else:
                    cached = ValueProblem(
                        _("%(code)s is not a code in %(system)s.") % {"code": _shorten(text), "system": "SNI 2007"}
                    )
            if len(self._sni_cache) < 50_000:
                self._sni_cache[text] = cached
        if isinstance(cached, ValueProblem):
            raise cached
        return cached

    def sni_list(self, value: Any) -> list[str]:
        parts = [p for p in re.split(r"[,;\s|]+", _cell_text(value)) if p]
        return list(dict.fromkeys(self.sni(p) for p in parts))


@dataclass(slots=True)
class ParsedRow:
    row: int
    org: rules.OrgNumber
    values: dict[str, Any]

    @property
    def has_figures(self) -> bool:
        return any(key in self.values for key in FIGURE_KEYS)


class RowParser:
    """Maps the heading row to fields; parses and validates data rows."""

    def __init__(self, header_row: int, headings: list[Any], reference: ReferenceData, result: ImportResult) -> None:
        self.header_row = header_row
        self.reference = reference
        self.width = len(headings)
        self.headers: dict[str, str] = {}  # key → heading as written
        self.handlers: list[tuple[int, str, str, Callable[[Any], Any]]] = []
        self.org_index = -1
        self.org_header = ""
        parsers: dict[str, Callable[[Any], Any]] = {
            "name": _text_parser(255),
            "legal_form": parse_legal_form,
            "municipality": reference.municipality,
            "sni_primary": reference.sni,
            "sni_secondary": reference.sni_list,
            "street_address": _text_parser(255),
            "postal_code": _text_parser(10),
            "postal_city": _text_parser(100),
            "website": parse_website,
            "phone": _text_parser(40),
            "email": parse_email,
            "status": parse_status,
            "staff_awu": _figure_parser(9),
            "turnover_sek": _figure_parser(16),
            "balance_sheet_sek": _figure_parser(16),
            "fiscal_year": parse_fiscal_year,
            "source": _text_parser(100),
            "estimated": parse_bool,
        }
        for index, heading in enumerate(headings):
            written = " ".join(_cell_text(heading).replace("\ufeff", "").split())
            if not written:
                continue
            key = HEADING_ALIASES.get(normalise_heading(written))
            if key is None:
                result.warnings.append(
                    _("Column “%(column)s” is not recognised and was ignored.") % {"column": written}
                )
                continue
            if key in self.headers:
                raise ImportFileError(
                    _("The columns “%(first)s” and “%(second)s” both mean %(field)s: keep one of them.")
                    % {"first": self.headers[key], "second": written, "field": self.describe(key)},
                    row=header_row,
                    column=written,
                )
            self.headers[key] = written
            if key == "org_number":
                self.org_index, self.org_header = index, written
            else:
                self.handlers.append((index, key, written, parsers[key]))
        missing = [key for key in REQUIRED_COLUMNS if key not in self.headers]
        if missing:
            raise ImportFileError(
                _("Required column missing: %(columns)s. The first row must hold the column headings.")
                % {"columns": _(" and ").join(self.describe(key) for key in missing)},
                row=header_row,
            )
        if any(key in self.headers for key in FIGURE_KEYS) and "fiscal_year" not in self.headers:
            raise ImportFileError(
                _(
                    "The file has key figures (%(columns)s) but no fiscal-year column: add a column "
                    "“räkenskapsår” (fiscal_year)."
                )
                % {"columns": ", ".join(f"“{self.headers[k]}”" for k in FIGURE_KEYS if k in self.headers)},
                row=header_row,
            )
        self.figure_headers = [self.headers[k] for k in FIGURE_KEYS if k in self.headers]

    @staticmethod
    def describe(key: str) -> str:
        column = COLUMNS_BY_KEY[key]
        return f"“{column.swedish}” ({column.english})"

    @property
    def keys(self) -> set[str]:
        return set(self.headers)

    def parse(
        self, number: int, cells: list[Any], errors: list[tuple[str | None, str]], seen: dict[int, int] | None = None
    ) -> ParsedRow | None:
        """Values of one row; problems are appended to ``errors`` as ``(column, message)``.

        ``seen`` (organisation number → first row) finds numbers that occur more than once.
        """
        if len(cells) > self.width and any(_cell_text(c).strip() for c in cells[self.width :]):
            errors.append(
                (
                    None,
                    _(
                        "This row has more cells than the heading row: check the delimiter and quoting "
                        "(a decimal comma must be quoted in a comma-separated file)."
                    ),
                )
            )
            return None
        size = len(cells)
        org: rules.OrgNumber | None = None
        raw_org = cells[self.org_index] if self.org_index < size else None
        if isinstance(raw_org, int | float) and not isinstance(raw_org, bool):
            raw_org = _cell_text(raw_org)
            if len(raw_org) == 9:  # a number cell lost the leading zero
                raw_org = "0" + raw_org
        try:
            org = rules.parse_org_number(_cell_text(raw_org))
        except rules.InvalidOrgNumber as exc:
            errors.append((self.org_header, str(exc)))
        else:
            if seen is not None:
                key = int(org.digits)
                first = seen.setdefault(key, number)
                if first != number:
                    errors.append(
                        (
                            self.org_header,
                            _(
                                "The organisation number %(number)s is also on row %(row)d: each company may "
                                "appear only once in a file."
                            )
                            % {"number": org.formatted, "row": first},
                        )
                    )
        values: dict[str, Any] = {}
        for index, key, header, parse in self.handlers:
            if index >= size:
                continue
            raw = cells[index]
            if raw is None:
                continue
            if isinstance(raw, str):
                raw = raw.strip()
                if not raw:
                    continue
            try:
                values[key] = parse(raw)
            except ValueProblem as exc:
                errors.append((header, str(exc)))
        if "name" not in values and not any(col == self.headers["name"] for col, _m in errors):
            errors.append((self.headers["name"], _("A company needs a name.")))
        if (
            "fiscal_year" not in values
            and any(k in values for k in FIGURE_KEYS)
            and not any(col == self.headers["fiscal_year"] for col, _m in errors)
        ):
            errors.append((self.headers["fiscal_year"], _("Key figures need the fiscal year they belong to.")))
        if errors or org is None:
            return None
        return ParsedRow(number, org, values)


def _is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# =============================================================================================
# SME class (fast path for companies without ownership links)
# =============================================================================================


def size_class_from_figures(
    figures: Iterable[tuple[int, Any, Any, Any]], *, public_body: bool, sek_per_eur: Decimal
) -> tuple[str, int | None]:
    """The cached SME class of a company without ownership links, from its key figures
    ``(fiscal_year, staff_awu, turnover_sek, balance_sheet_sek)``: exactly what
    :func:`services.company_refresh_size_classes` computes, without queries."""
    raw: dict[int, str] = {}
    for year, staff, turnover, balance in figures:
        if staff is None or (turnover is None and balance is None):
            continue
        if turnover is None:
            turnover = balance
        if balance is None:
            balance = turnover
        # As services.sme_scenario_for builds rules.Accounts (already validated: not negative).
        raw[year] = rules.category_for(
            Decimal(staff),
            (Decimal(turnover) / sek_per_eur).quantize(_WHOLE),
            (Decimal(balance) / sek_per_eur).quantize(_WHOLE),
        )
    if not raw:
        return "", None
    year = max(raw)
    if public_body:
        return "large", year
    return rules.apply_two_year_rule(raw)[year], year


# =============================================================================================
# Bulk writing
# =============================================================================================


_AS_IS = frozenset({str, int, bool, type(None)})

#: A write, prepared without touching the database: ``("insert", quoted table, quoted columns,
#: rows)`` or ``("many", sql, rows)`` (``%s`` placeholders).
Operation = tuple


class _Table:
    """Fast bulk writes of one model, prepared as :data:`Operation` values from ``{attname: value}``
    rows and executed by :class:`_Writer`: ``executemany`` (SQLite) or ``COPY`` (PostgreSQL).

    Django's ``bulk_create`` spends most of an import's time compiling SQL object by object; here
    a statement is built once per batch, and only the values that need it are converted, the way
    the model fields convert them (dates and times, JSON).  Decimal values are passed as they
    are, as ``DecimalField`` does with a ``Decimal``.
    """

    _PLAIN = (
        models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.ForeignKey,
        models.DecimalField,
    )

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        meta = model._meta
        self.table = meta.db_table
        self.pk_column = meta.pk.column
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.by_attname = {f.attname: f for f in self.fields}
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.pairs = [(f.attname, self.defaults[f.attname]) for f in self.fields]
        self._memo: dict[tuple[int, Any], Any] = {}
        self._fragments: dict[tuple[str, type, Any], str] = {}
        self._conversions = [
            (index, convert, isinstance(self.fields[index], models.DateTimeField | models.JSONField))
            for index, attname in enumerate(self.attnames)
            if (convert := self.converter(attname)) is not None
        ]
        # The fields sim.core.audit.snapshot() records, as (name, attname, default).
        self.audited = [
            (f.name, f.attname, self.defaults[f.attname])
            for f in self.fields
            if f.name not in {"created_at", "updated_at", "search_text"}
        ]

    def column_list(self, with_pk: bool) -> str:
        quote = connection.ops.quote_name
        columns = [self.pk_column] if with_pk else []
        columns.extend(f.column for f in self.fields)
        return ", ".join(quote(c) for c in columns)

    def converter(self, attname: str) -> Callable[[Any], Any] | None:
        field = self.by_attname[attname]
        database = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked for every value
        if isinstance(field, models.JSONField):
            adapt, encoder = database.ops.adapt_json_value, field.encoder
            return lambda value: adapt(value, encoder)
        if isinstance(field, self._PLAIN):
            return None
        return lambda value: field.get_db_prep_save(value, database)

    def insert(self, rows: list[dict[str, Any]], *, with_pk: bool = True) -> Operation:
        """Rows given as ``{attname: value}`` (defaults for the rest); ``with_pk``: each row carries
        its primary key as ``"id"``."""
        pairs = self.pairs
        conversions = self._conversions
        memo = self._memo
        params = []
        for row in rows:
            values = [row.get(attname, default) for attname, default in pairs]
            for index, convert, reuse in conversions:
                value = values[index]
                if value is None:
                    continue
                if reuse and (value == [] or isinstance(value, dt.datetime)):
                    # The same timestamp (and the empty list) on every row: convert once.
                    key = (index, value if isinstance(value, dt.datetime) else "[]")
                    converted = memo.get(key)
                    if converted is None:
                        converted = memo[key] = convert(value)
                    values[index] = converted
                else:
                    values[index] = convert(value)
            if with_pk:
                values.insert(0, row["id"])
            params.append(values)
        return ("insert", connection.ops.quote_name(self.table), self.column_list(with_pk), params)

    def update(self, changes: list[tuple[int, dict[str, Any]]]) -> list[Operation]:
        """``changes``: ``(pk, {attname: value})``; one statement per distinct set of columns."""
        groups: dict[tuple[str, ...], list[list[Any]]] = {}
        converters: dict[str, Callable[[Any], Any] | None] = {}
        for pk, values in changes:
            attnames = tuple(sorted(values))
            row = []
            for attname in attnames:
                if attname not in converters:
                    converters[attname] = self.converter(attname)
                convert = converters[attname]
                value = values[attname]
                row.append(convert(value) if convert is not None and value is not None else value)
            row.append(pk)
            groups.setdefault(attnames, []).append(row)
        quote = connection.ops.quote_name
        operations = []
        for attnames, params in groups.items():
            assignments = ", ".join(f"{quote(self.by_attname[a].column)} = %s" for a in attnames)
            operations.append(
                ("many", f"UPDATE {quote(self.table)} SET {assignments} WHERE {quote(self.pk_column)} = %s", params)
            )
        return operations

    def creation_json(self, row: dict[str, Any]) -> str:
        """``json.dumps(creation_changes(row))``, built from cached pieces: most values (defaults,
        municipality and SNI codes, flags) repeat from row to row."""
        cache = self._fragments
        parts = []
        for name, attname, default in self.audited:
            value = row.get(attname, default)
            if value is None:
                continue
            if type(value) not in _AS_IS:
                value = audit_plain(value)
            kind = type(value)
            key = (name, kind, value) if kind is not list else (name, kind, "[]") if not value else None
            fragment = cache.get(key) if key is not None else None
            if fragment is None:
                fragment = f'{json.dumps(name)}: {{"before": null, "after": {json.dumps(value)}}}'
                if key is not None and len(cache) < 50_000:
                    cache[key] = fragment
            parts.append(fragment)
        return "{" + ", ".join(parts) + "}"

    def creation_changes(self, row: dict[str, Any]) -> dict[str, Any]:
        """``diff({}, snapshot(instance))`` (:mod:`sim.core.audit`) for a row about to be inserted:
        the changes of its creation event."""
        changes = {}
        for name, attname, default in self.audited:
            value = row.get(attname, default)
            if value is not None:
                changes[name] = {"before": None, "after": value if type(value) in _AS_IS else audit_plain(value)}
        return changes

    def select(self, columns: Iterable[str], where_column: str, values: list[Any]) -> list[tuple]:
        """``SELECT columns FROM table WHERE where_column IN values``, without the ORM."""
        quote = connection.ops.quote_name
        wanted = ", ".join(quote(self.by_attname[c].column) if c in self.by_attname else quote(c) for c in columns)
        column = quote(self.by_attname[where_column].column) if where_column in self.by_attname else quote(where_column)
        rows: list[tuple] = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT {wanted} FROM {quote(self.table)} WHERE {column} = ANY(%s)", [list(values)])
                return cursor.fetchall()
            for start in range(0, len(values), 900):
                chunk = values[start : start + 900]
                cursor.execute(
                    f"SELECT {wanted} FROM {quote(self.table)} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                rows.extend(cursor.fetchall())
        return rows


class _IdPool:
    """Primary keys for new rows, known before they are written (so that key figures and audit
    events can refer to them without reading them back).

    PostgreSQL: taken from the table's sequence.  SQLite: counted on from the highest key ever
    used; safe because the import's transaction holds the write lock (``BEGIN IMMEDIATE``), and
    a clash would fail the import as a whole (unique key), never write wrong data.
    """

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.free: collections.deque[int] = collections.deque()
        self.next: int | None = None

    def ensure(self, count: int) -> None:
        """Have at least ``count`` keys ready (queries the database: call it while nothing writes)."""
        missing = count - len(self.free)
        if missing <= 0:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table.table, self.table.pk_column, missing],
                )
                self.free.extend(pk for (pk,) in cursor.fetchall())
                return
            if self.next is None:
                cursor.execute(f"SELECT MAX({quote(self.table.pk_column)}) FROM {quote(self.table.table)}")
                highest = cursor.fetchone()[0] or 0
                if connection.vendor == "sqlite":
                    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table.table])
                    found = cursor.fetchone()
                    highest = max(highest, found[0] if found else 0)
                self.next = highest + 1
        self.free.extend(range(self.next, self.next + missing))
        self.next += missing

    def take(self) -> int:
        return self.free.popleft()


class _Writer:
    """Runs the prepared writes of one batch in a thread of its own while the next batch is
    prepared: the database (SQLite releases the GIL while it works; PostgreSQL works in its own
    process) and Python then work at the same time.

    The thread uses the same database connection, inside the import's transaction; the caller
    makes sure the two never use it at the same time (:meth:`wait` before any query).
    """

    #: Vendors whose writes run in a thread.  Not SQLite: its driver takes the GIL back after
    #: every row, and each time waits for the busy main thread to let go of it (a convoy).
    THREADED = frozenset({"postgresql"})

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.vendor = connection.vendor
        self.jobs: queue.Queue[list[Operation] | None] = queue.Queue()
        self.idle = threading.Event()
        self.idle.set()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if self.vendor in self.THREADED:
            self.thread = threading.Thread(target=self._run, name="sim-import-writer", daemon=True)
            self.thread.start()

    def submit(self, operations: list[Operation]) -> None:
        if self.thread is None:
            with connection.wrap_database_errors:
                self._execute(operations)
            return
        self.idle.clear()
        self.jobs.put(operations)

    def wait(self) -> None:
        """Until the submitted writes are done; re-raises their error (as Django's exception)."""
        self.idle.wait()
        if self.error is not None:
            error, self.error = self.error, None
            with connection.wrap_database_errors:
                raise error

    def stop(self) -> None:
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()

    def _run(self) -> None:
        while (operations := self.jobs.get()) is not None:
            try:
                if self.error is None:
                    self._execute(operations)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc
            finally:
                self.idle.set()

    def _execute(self, operations: list[Operation]) -> None:
        cursor = self.raw.cursor()
        try:
            for operation in operations:
                if operation[0] == "insert":
                    _kind, table, columns, rows = operation
                    if not rows:
                        continue
                    if self.vendor == "postgresql":
                        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                        continue
                    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(rows[0]))})"
                else:
                    _kind, sql, rows = operation
                    if not rows:
                        continue
                if self.vendor == "sqlite":
                    sql = sql.replace("%s", "?")
                cursor.executemany(sql, rows)
        finally:
            cursor.close()


class _AuditRows:
    """Audit events as database rows: the same values :func:`sim.core.audit.build_event` gives
    an event (a test compares them), without building model instances."""

    def __init__(self, table: _Table, actor, source: str, message: str, now: dt.datetime) -> None:
        fields = actor_fields(actor)
        values = {
            "occurred_at": now,
            "actor_id": fields["actor"].pk if fields["actor"] is not None else None,
            "actor_label": fields["actor_label"],
            "source": source,
            "message": message,
        }
        self.table = table
        occurred_at = table.converter("occurred_at")
        values["occurred_at"] = occurred_at(now) if occurred_at else now
        order = table.attnames
        self.template = [values.get(attname) for attname in order]
        self.slots = {attname: order.index(attname) for attname in (
            "action", "object_type", "object_id", "object_repr", "scope_type", "scope_id", "changes",
        )}
        self.rows: list[list[Any]] = []

    def add(
        self, action: str, object_type: str, object_id: int, object_repr: str, scope_type: str, scope_id: int,
        before: dict[str, Any], after: dict[str, Any],
    ) -> None:
        self.add_changes(action, object_type, object_id, object_repr, scope_type, scope_id, diff(before, after))

    def add_changes(
        self, action: str, object_type: str, object_id: int, object_repr: str, scope_type: str, scope_id: int,
        changes: dict[str, Any] | str,
    ) -> None:
        """``changes`` as a dict, or already as JSON text (what ``JSONField`` would store)."""
        row = self.template.copy()
        slots = self.slots
        row[slots["action"]] = action
        row[slots["object_type"]] = object_type
        row[slots["object_id"]] = str(object_id)
        row[slots["object_repr"]] = object_repr[:255]
        row[slots["scope_type"]] = scope_type
        row[slots["scope_id"]] = str(scope_id)
        row[slots["changes"]] = changes if isinstance(changes, str) else json.dumps(changes)
        self.rows.append(row)

    def operation(self) -> Operation:
        quote = connection.ops.quote_name
        return ("insert", quote(self.table.table), self.table.column_list(False), self.rows)


_COMPANY = "companies.company"
_KEY_FIGURES = "companies.keyfigures"


def _company_repr(name: str, org_number: str) -> str:
    """``str(Company)``."""
    return f"{name} ({org_number[:6]}-{org_number[6:]})"


# =============================================================================================
# The import
# =============================================================================================


class _Spool(RowSpool):
    """The valid rows of the first pass, on disk for the second pass (memory stays flat and the file
    is parsed only once); figures travel as text, since ``marshal`` has no ``Decimal``."""

    def __init__(self) -> None:
        super().__init__(BATCH_SIZE)

    def add(self, row: ParsedRow) -> None:
        values = row.values
        for key in FIGURE_KEYS:
            if key in values:
                values[key] = str(values[key])
        super().add((row.row, row.org.digits, row.org.is_personal, values))

    def batches(self) -> Iterator[list[ParsedRow]]:
        for records in super().batches():
            batch = []
            for number, digits, personal, values in records:
                for key in FIGURE_KEYS:
                    if key in values:
                        values[key] = Decimal(values[key])
                batch.append(ParsedRow(number, rules.OrgNumber(digits=digits, is_personal=personal), values))
            yield batch


class _Importer:
    def __init__(
        self, reader: TableReader, *, actor, dry_run: bool, skip_invalid: bool, progress: ProgressCallback | None,
        source: str, change_limit: int,
    ) -> None:
        from django.conf import settings

        self.reader = reader
        self.actor = actor if getattr(actor, "is_authenticated", False) else None
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.source = source
        self.change_limit = change_limit
        self.result = ImportResult(dry_run=dry_run, file_format=reader.format, encoding=reader.encoding,
                                   delimiter=_DELIMITER_NAMES.get(reader.delimiter, ""))
        self.sek_per_eur = Decimal(str(settings.SIM_SME_SEK_PER_EUR))
        self.message = _("Imported from %(file)s") % {"file": reader.name}
        self.parser: RowParser | None = None
        self.spool: _Spool | None = None
        self.reference = ReferenceData()
        self.linked_to_refresh: set[int] = set()
        self.archived_kept = 0
        self.companies = _Table(Company)
        self.key_figures = _Table(KeyFigures)
        self.events = _Table(AuditEvent)
        self.company_ids = _IdPool(self.companies)
        self.figure_ids = _IdPool(self.key_figures)

    # --- pass 1: validate ------------------------------------------------------------------

    def check(self) -> None:
        encoding = self.reader.encoding
        while True:
            try:
                self._check(encoding)
                return
            except _RestartWithEncoding as restart:
                encoding = restart.encoding
                self.reader.encoding = encoding
                self.result = ImportResult(dry_run=self.dry_run, file_format=self.reader.format, encoding=encoding,
                                           delimiter=self.result.delimiter)

    def _check(self, encoding: str) -> None:
        result = self.result
        seen: dict[int, int] = {}
        parser: RowParser | None = None
        data_rows = invalid_rows = 0
        total = self.reader.total
        if self.spool is not None:
            self.spool.close()
        self.spool = spool = _Spool()
        for number, cells in self.reader.rows(encoding):
            if parser is None:
                if _is_blank(cells):
                    continue
                parser = RowParser(number, cells, self.reference, result)
                continue
            if _is_blank(cells):
                continue
            data_rows += 1
            if self.progress and data_rows % PROGRESS_EVERY == 0:
                self.progress("check", self.reader.position, total)
            errors: list[tuple[str | None, str]] = []
            parsed = parser.parse(number, cells, errors, seen)
            if errors:
                invalid_rows += 1
                for column, message in errors:
                    result.add_error(number, column, message)
            elif parsed is not None:
                spool.add(parsed)
        if parser is None:
            if self.reader.format == "xlsx":
                raise ImportFileError(
                    _("The first sheet of the workbook (“%(sheet)s”) is empty: the companies must be on the first sheet.")
                    % {"sheet": self.reader.sheet_name}
                )
            raise ImportFileError(_("The file is empty."))
        if data_rows == 0:
            raise ImportFileError(_("The file has column headings but no rows of companies."), row=parser.header_row)
        if self.progress:
            self.progress("check", total or self.reader.position, total)
        result.rows = data_rows
        result.invalid_rows = invalid_rows
        self.parser = parser

    # --- pass 2: compare and write ---------------------------------------------------------

    def apply(self) -> None:
        try:
            write = not self.dry_run and (not self.result.invalid_rows or self.skip_invalid)
            if write:
                try:
                    with transaction.atomic():
                        self._apply(write=True)
                except IntegrityError:
                    self.result.created = self.result.updated = self.result.unchanged = 0
                    self.result.changes = []
                    raise ImportFileError(
                        _("The register changed while the file was being imported; nothing was written. Try again.")
                    ) from None
                self.result.written = True
            elif self.dry_run:
                self._apply(write=False)
        finally:
            if self.spool is not None:
                self.spool.close()
        if self.archived_kept:
            self.result.warnings.append(
                _("%(count)d archived companies keep the status archived; restore them in the register to change it.")
                % {"count": self.archived_kept}
            )

    def _apply(self, *, write: bool) -> None:
        """Pass 2. When writing, batch N is written (by :class:`_Writer`) while batch N+1 is
        compared and prepared; the database is queried only while nothing is being written."""
        assert self.spool is not None
        total = self.spool.count
        done = 0
        writer = _Writer() if write else None
        pending: list[Operation] | None = None
        try:
            for batch in self.spool.batches():
                if writer is not None:
                    writer.wait()
                lookup = self._lookup(batch)
                if writer is not None:
                    existing, figures, _linked = lookup
                    self.company_ids.ensure(sum(1 for r in batch if r.org.digits not in existing))
                    self.figure_ids.ensure(sum(
                        1 for r in batch
                        if r.has_figures and (
                            r.org.digits not in existing
                            or r.values["fiscal_year"] not in figures.get(existing[r.org.digits]["id"], {})
                        )
                    ))
                    if pending:
                        writer.submit(pending)
                        pending = None
                plan = self._compare(batch, lookup)
                if writer is not None:
                    pending = self._prepare(plan)
                done += len(batch)
                if self.progress:
                    self.progress("write", done, total)
            if writer is not None:
                writer.wait()
                if pending:
                    writer.submit(pending)
                    writer.wait()
        finally:
            if writer is not None:
                writer.stop()
        if write and self.linked_to_refresh:
            from .services import company_refresh_size_classes

            ids = sorted(self.linked_to_refresh)
            for start in range(0, len(ids), 200):
                company_refresh_size_classes(ids[start : start + 200])
        if self.progress:
            self.progress("write", total, total)

    def _lookup(self, batch: list[ParsedRow]) -> tuple[dict[str, dict], dict[int, dict[int, dict]], set[int]]:
        """What the register holds for a batch: companies by organisation number, their key
        figures by year (for rows with figures), and which of them have ownership links."""
        keys = self.parser.keys if self.parser else set()
        columns = list(dict.fromkeys(
            ["id", "org_number", "name", "status", "is_public_body", "size_class", "size_class_year",
             *(COMPANY_ATTRS[k] for k in COMPANY_KEYS if k in keys)]
        ))
        found = self.companies.select(["id"], "org_number", [r.org.digits for r in batch])
        existing = (
            {row["org_number"]: row for row in Company.objects.filter(id__in=[pk for (pk,) in found]).values(*columns)}
            if found
            else {}
        )
        figures: dict[int, dict[int, dict[str, Any]]] = {}
        linked: set[int] = set()
        with_figures = [existing[r.org.digits]["id"] for r in batch if r.has_figures and r.org.digits in existing]
        if with_figures:
            for fig in KeyFigures.objects.filter(company_id__in=with_figures).values(
                "id", "company_id", "fiscal_year", *KEY_FIGURE_KEYS
            ):
                figures.setdefault(fig["company_id"], {})[fig["fiscal_year"]] = fig
            for holder, held in OwnershipLink.objects.filter(
                Q(holder_id__in=with_figures) | Q(held_id__in=with_figures)
            ).values_list("holder_id", "held_id"):
                linked.add(holder)
                linked.add(held)
        return existing, figures, linked

    def _compare(self, batch: list[ParsedRow], lookup) -> dict[str, Any]:
        """Decide, row by row, what to create and change (no queries); count and describe it."""
        existing, figures, linked = lookup
        result = self.result
        keys = self.parser.keys if self.parser else set()
        company_keys = [k for k in COMPANY_KEYS if k in keys]
        now = timezone.now()
        new_companies: list[dict[str, Any]] = []
        new_figures: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (figures row, its company row)
        company_updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []  # row, before, after
        figure_updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        size_updates: list[tuple[str, int | None, int]] = []
        actor_id = self.actor.pk if self.actor is not None else None
        sek_per_eur = self.sek_per_eur

        for row in batch:
            values = row.values
            org = row.org
            company = existing.get(org.digits)
            figure_values = {k: values[k] for k in KEY_FIGURE_KEYS if k in values} if row.has_figures else None
            if company is None:
                company = {
                    "org_number": org.digits,
                    "is_sole_trader": org.is_personal,
                    "is_public_body": org.is_public_body,
                    "legal_form": LEGAL_FORM_BY_GROUP.get(org.legal_form_group or "", LegalForm.OTHER),
                    "created_by_id": actor_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for key in company_keys:
                    if key in values:
                        company[COMPANY_ATTRS[key]] = values[key]
                company["search_text"] = search_text_for(company["name"], org.digits)
                if figure_values is not None:
                    fig = {"fiscal_year": values["fiscal_year"], "created_at": now, "updated_at": now, **figure_values}
                    new_figures.append((fig, company))
                    company["size_class"], company["size_class_year"] = size_class_from_figures(
                        [(fig["fiscal_year"], fig.get("staff_awu"), fig.get("turnover_sek"), fig.get("balance_sheet_sek"))],
                        public_body=company["is_public_body"], sek_per_eur=sek_per_eur,
                    )
                new_companies.append(company)
                result.created += 1
                self._describe_new(row, company, figure_values)
                continue

            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for key in company_keys:
                if key not in values:
                    continue
                attr = COMPANY_ATTRS[key]
                value = values[key]
                if key == "status" and company["status"] == CompanyStatus.ARCHIVED:
                    if value != company["status"]:
                        self.archived_kept += 1
                    continue
                if company[attr] != value:
                    before[key] = company[attr]
                    after[key] = value
            if after:
                company_updates.append((company, before, after))

            figure_change: tuple[dict[str, Any], dict[str, Any]] | None = None
            if figure_values is not None:
                year = values["fiscal_year"]
                years = figures.setdefault(company["id"], {})
                fig = years.get(year)
                if fig is None:
                    fig = {"fiscal_year": year, "created_at": now, "updated_at": now, **figure_values}
                    years[year] = fig
                    new_figures.append((fig, company))
                    figure_change = ({}, {"fiscal_year": year, **figure_values})
                else:
                    fig_before = {k: fig[k] for k, v in figure_values.items() if fig[k] != v}
                    if fig_before:
                        fig_after = {k: figure_values[k] for k in fig_before}
                        fig.update(fig_after)
                        figure_updates.append((fig, company, fig_before, fig_after))
                        figure_change = (fig_before, fig_after)
                if figure_change is not None:
                    if company["id"] in linked:
                        self.linked_to_refresh.add(company["id"])
                    else:
                        size = size_class_from_figures(
                            [(f["fiscal_year"], f.get("staff_awu"), f.get("turnover_sek"), f.get("balance_sheet_sek"))
                             for f in years.values()],
                            public_body=company["is_public_body"], sek_per_eur=sek_per_eur,
                        )
                        if size != (company["size_class"], company["size_class_year"]):
                            size_updates.append((*size, company["id"]))
            if after or figure_change is not None:
                result.updated += 1
                self._describe_update(row, company, before, after, figure_change)
            else:
                result.unchanged += 1
        return {
            "now": now, "new_companies": new_companies, "new_figures": new_figures,
            "company_updates": company_updates, "figure_updates": figure_updates, "size_updates": size_updates,
        }

    def _prepare(self, plan: dict[str, Any]) -> list[Operation]:
        """The writes of a compared batch, with their audit events (no queries)."""
        now = plan["now"]
        events = _AuditRows(self.events, self.actor, self.source, self.message, now)
        operations: list[Operation] = []
        new_companies = plan["new_companies"]
        if new_companies:
            for company in new_companies:
                company["id"] = self.company_ids.take()
            operations.append(self.companies.insert(new_companies))
            for company in new_companies:
                events.add_changes(
                    Action.CREATE, _COMPANY, company["id"], _company_repr(company["name"], company["org_number"]),
                    _COMPANY, company["id"], self.companies.creation_json(company),
                )
        if plan["company_updates"]:
            changes = []
            for company, before, after in plan["company_updates"]:
                values = {COMPANY_ATTRS[k]: v for k, v in after.items()}
                values["updated_at"] = now
                company.update(values)
                if "name" in after:
                    values["search_text"] = search_text_for(after["name"], company["org_number"])
                changes.append((company["id"], values))
                events.add(
                    Action.UPDATE, _COMPANY, company["id"], _company_repr(company["name"], company["org_number"]),
                    _COMPANY, company["id"], {k: audit_plain(v) for k, v in before.items()},
                    {k: audit_plain(v) for k, v in after.items()},
                )
            operations.extend(self.companies.update(changes))
        if plan["new_figures"]:
            for fig, company in plan["new_figures"]:
                fig["company_id"] = company["id"]
                fig["id"] = self.figure_ids.take()
                events.add_changes(
                    Action.CREATE, _KEY_FIGURES, fig["id"], f"{company['name']} {fig['fiscal_year']}",
                    _COMPANY, company["id"], self.key_figures.creation_json(fig),
                )
            operations.append(self.key_figures.insert([fig for fig, _company in plan["new_figures"]]))
        if plan["figure_updates"]:
            changes = []
            for fig, company, before, after in plan["figure_updates"]:
                changes.append((fig["id"], {**after, "updated_at": now}))
                events.add(
                    Action.UPDATE, _KEY_FIGURES, fig["id"], f"{company['name']} {fig['fiscal_year']}",
                    _COMPANY, company["id"], {k: audit_plain(v) for k, v in before.items()},
                    {k: audit_plain(v) for k, v in after.items()},
                )
            operations.extend(self.key_figures.update(changes))
        if plan["size_updates"]:
            quote = connection.ops.quote_name
            operations.append((
                "many",
                f"UPDATE {quote(self.companies.table)} SET {quote('size_class')} = %s, {quote('size_class_year')} = %s "
                f"WHERE {quote(self.companies.pk_column)} = %s",
                plan["size_updates"],
            ))
        operations.append(events.operation())
        return operations

    # --- describing changes ----------------------------------------------------------------

    def _describe_new(self, row: ParsedRow, company: dict[str, Any], figures: dict[str, Any] | None) -> None:
        if len(self.result.changes) >= self.change_limit:
            return
        fields = [
            {"field": key, "label": _field_label(key), "before": None, "after": self._display(key, row.values[key])}
            for key in COMPANY_KEYS
            if key in row.values
        ]
        if figures:
            fields.extend(
                {"field": key, "label": _field_label(key, row.values["fiscal_year"]), "before": None,
                 "after": self._display(key, value)}
                for key, value in figures.items()
            )
        self.result.changes.append(
            {"row": row.row, "action": "create", "org_number": row.org.formatted, "name": company["name"],
             "fields": fields}
        )

    def _describe_update(
        self, row: ParsedRow, company: dict[str, Any], before: dict[str, Any], after: dict[str, Any],
        figures: tuple[dict[str, Any], dict[str, Any]] | None,
    ) -> None:
        if len(self.result.changes) >= self.change_limit:
            return
        fields = [
            {"field": key, "label": _field_label(key), "before": self._display(key, before[key]),
             "after": self._display(key, after[key])}
            for key in after
        ]
        if figures:
            fig_before, fig_after = figures
            year = row.values["fiscal_year"]
            fields.extend(
                {"field": key, "label": _field_label(key, year), "before": self._display(key, fig_before.get(key)),
                 "after": self._display(key, value)}
                for key, value in fig_after.items()
                if key != "fiscal_year"
            )
        self.result.changes.append(
            {"row": row.row, "action": "update", "org_number": row.org.formatted,
             "name": after.get("name", company["name"]), "fields": fields}
        )

    def _display(self, key: str, value: Any) -> str | None:
        if key == "municipality" and value:
            name = self.reference.municipality_labels.get(value)
            return f"{name} ({value})" if name else str(value)
        return _display(key, value)


_FIELD_LABELS: dict[str, Callable[[], str]] = {
    "name": lambda: _("Name"),
    "legal_form": lambda: _("Legal form"),
    "municipality": lambda: _("Municipality"),
    "sni_primary": lambda: _("Primary SNI code"),
    "sni_secondary": lambda: _("Secondary SNI codes"),
    "street_address": lambda: _("Street address"),
    "postal_code": lambda: _("Postal code"),
    "postal_city": lambda: _("City"),
    "website": lambda: _("Website"),
    "phone": lambda: _("Phone"),
    "email": lambda: _("E-mail"),
    "status": lambda: _("Status"),
    "staff_awu": lambda: _("Staff (AWU)"),
    "turnover_sek": lambda: _("Turnover (SEK)"),
    "balance_sheet_sek": lambda: _("Balance sheet (SEK)"),
    "source": lambda: _("Source"),
    "estimated": lambda: _("Estimated"),
}


def _field_label(key: str, year: int | None = None) -> str:
    label = _FIELD_LABELS[key]()
    return f"{label} {year}" if year is not None else label


def _display(key: str, value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if key == "sni_secondary":
        return ", ".join(value)
    if key == "legal_form":
        return str(dict(LegalForm.choices).get(value, value))
    if key == "status":
        return str(dict(CompanyStatus.choices).get(value, value))
    if key == "estimated":
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):
        return str(audit_plain(value))
    return str(value)


def import_companies(
    path_or_file: str | os.PathLike | IO[bytes],
    *,
    actor=None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
    source: str = Source.IMPORT,
    name: str | None = None,
    change_limit: int = DEFAULT_CHANGE_LIMIT,
) -> ImportResult:
    """Import companies (and their key figures) from a CSV or XLSX file.

    Returns an :class:`ImportResult`; never raises for problems with the file.  Nothing is
    written when ``dry_run`` is true, nor when any row is invalid and ``skip_invalid`` is false.
    """
    spooled: IO[bytes] | None = None
    source_obj = path_or_file
    if not isinstance(path_or_file, str | os.PathLike):
        seekable = getattr(path_or_file, "seekable", lambda: False)()
        if not seekable:
            spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
            while chunk := path_or_file.read(1024 * 1024):
                spooled.write(chunk)
            spooled.seek(0)
            name = name or Path(getattr(path_or_file, "name", "") or "upload").name
            source_obj = spooled
    try:
        try:
            reader = TableReader(source_obj, name=name)
        except ImportFileError as exc:
            return _fatal(ImportResult(dry_run=dry_run), exc)
        importer = _Importer(
            reader, actor=actor, dry_run=dry_run, skip_invalid=skip_invalid, progress=progress, source=source,
            change_limit=change_limit,
        )
        try:
            importer.check()
            importer.apply()
        except ImportFileError as exc:
            return _fatal(importer.result, exc)
        return importer.result
    finally:
        if spooled is not None:
            spooled.close()


def _fatal(result: ImportResult, exc: ImportFileError) -> ImportResult:
    result.fatal = True
    result.created = result.updated = result.unchanged = 0
    result.changes = []
    result.errors = []
    result.error_count = 0
    result.add_error(exc.row, exc.column, exc.message)
    return result
