"""Import of cost entries from an accounting export (``sim import_costs`` and the web import).

As strict as the company import, and built on its reader: :class:`sim.companies.importer.TableReader`
opens the CSV (``,`` ``;`` or tab, UTF-8/UTF-16/Windows-1252, decimal comma) or the XLSX workbook
(first sheet), and its number parser reads the amounts. Every row is checked first; each problem
is reported with the row (as Excel numbers it), the column heading as written and the reason. If
any row is invalid, nothing is written. A file that is not a table gets one message.

Idempotent: a voucher line (partner, voucher, category, amount, date) is in the ledger once.
When every line of the file is already there (the same file imported again), nothing is added and
the result says so; when only some are, those rows are errors, like a line repeated in the file.

The columns (Swedish or English headings, see ``docs/import.md``): date, voucher, category,
amount (required); partner, description, intervention, company (optional).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sim.companies import rules as company_rules
from sim.companies.importer import (
    Column,
    ImportFileError,
    ImportResult,
    TableReader,
    ValueProblem,
    normalise_heading,
    parse_decimal,
)
from sim.companies.importer import _cell_text as cell_text
from sim.companies.importer import _is_blank as is_blank
from sim.companies.importer import _RestartWithEncoding as RestartWithEncoding
from sim.companies.models import Company
from sim.core.models import AuditEvent
from sim.programmes.models import Intervention, Project

from . import rules_actuals as rules
from . import services_actuals as services
from .models import CostCategory, CostEntry

Source = AuditEvent.Source

COLUMNS: tuple[Column, ...] = (
    Column("date", "datum", "date", (
        "bokföringsdatum", "verifikationsdatum", "transaktionsdatum", "fakturadatum", "booking_date",
        "posting_date", "transaction_date", "voucher_date",
    )),
    Column("voucher", "verifikation", "voucher", (
        "verifikationsnummer", "verifikationsnr", "vernr", "ver_nr", "ver", "voucher_number", "voucher_no",
        "verification", "verification_number",
    )),
    Column("category", "kostnadsslag", "category", (
        "kategori", "kostnadskategori", "cost_category", "cost_type", "budgetpost",
    )),
    Column("amount", "belopp", "amount", (
        "belopp_sek", "belopp_kr", "summa", "kostnad", "amount_sek", "sum", "cost",
    )),
    Column("partner", "partner", "partner", (
        "samverkanspartner", "projektpartner", "organisation", "organization", "part",
    )),
    Column("description", "beskrivning", "description", (
        "text", "verifikationstext", "benämning", "specifikation", "transaktionstext", "note", "comment",
    )),
    Column("intervention", "insats", "intervention", (
        "insats_id", "insatsnummer", "intervention_id", "företagsspecifik_insats",
    )),
    Column("company", "företag", "company", (
        "organisationsnummer", "orgnr", "org_nr", "company_org_number", "org_number", "organisation_number",
    )),
)
REQUIRED = ("date", "voucher", "category", "amount")
COLUMNS_BY_KEY = {c.key: c for c in COLUMNS}
HEADINGS: dict[str, str] = {}
for _column in COLUMNS:
    for _name in _column.names:
        HEADINGS.setdefault(normalise_heading(_name), _column.key)
#: The model field each column fills (for the messages of the shared checks).
FIELD_COLUMN = {
    "date": "date", "voucher": "voucher", "category": "category", "amount_sek": "amount", "partner": "partner",
    "description": "description", "intervention": "intervention", "company": "company",
}


def describe(key: str) -> str:
    column = COLUMNS_BY_KEY[key]
    return f"“{column.swedish}” ({column.english})"


@dataclass
class CostImportResult(ImportResult):
    """:class:`sim.companies.importer.ImportResult` with the cost import's own figures."""

    #: Sum of the amounts of the rows (to be) created.
    total_sek: Decimal = Decimal(0)
    #: Every line of the file was already in the ledger: nothing to add.
    already_imported: bool = False
    batch: str = ""
    project_code: str = ""
    notices: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return {
            "project": self.project_code,
            "created": self.created,
            "unchanged": self.unchanged,
            "total_sek": str(self.total_sek.quantize(rules.CENT)),
            "already_imported": self.already_imported,
            "errors": self.listed_errors(),
            "warnings": list(self.warnings),
            "dry_run": self.dry_run,
        }

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.update(self.as_json())
        data.pop("updated", None)
        data["notices"] = list(self.notices)
        return data


# --- Values -----------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value: Any) -> dt.date:
    """``2024-03-15``, ``20240315`` or a workbook date."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise ValueProblem(_("“%(value)s” is not a date (write e.g. 2024-03-15).") % {"value": cell_text(value)})
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value).strip()
    match = _ISO_DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise ValueProblem(_("“%(value)s” is not a date (write e.g. 2024-03-15).") % {"value": _shorten(text)})


def parse_amount(value: Any) -> Decimal:
    try:
        number = parse_decimal(value)
    except ValueProblem:
        raise ValueProblem(_("“%(value)s” is not an amount (write e.g. 12 500,00 or -1250.50).") % {
            "value": _shorten(value)}) from None
    if isinstance(value, float):  # a workbook number: binary fractions of öre are noise
        number = number.quantize(rules.CENT, rounding=ROUND_HALF_UP)
    if number != number.quantize(rules.CENT):
        raise ValueProblem(_("An amount can have at most two decimals (öre)."))
    if number == 0:
        raise ValueProblem(_("The amount is zero: leave the line out."))
    return number.quantize(rules.CENT)


def parse_category(value: Any) -> str:
    code = rules.category_code(cell_text(value))
    if code is None:
        raise ValueProblem(_(
            "“%(value)s” is not a cost category (write e.g. externa tjänster, stöd till företag, resor, utrustning, "
            "övriga kostnader, or the codes external_services, company_support, travel, equipment, other).")
            % {"value": _shorten(value)})
    return code


def _shorten(value: Any, length: int = 40) -> str:
    text = cell_text(value)
    return text if len(text) <= length else text[: length - 1] + "…"


class References:
    """The project's partners, interventions and the register's companies, for looking up rows."""

    def __init__(self, ctx: services.LedgerContext) -> None:
        self.ctx = ctx
        self.partners: dict[str, Any] = {}
        for partner in ctx.partners.values():
            self.partners[normalise_heading(partner.organisation.name)] = partner
            if partner.organisation.org_number:
                self.partners[partner.organisation.org_number] = partner
        self.interventions = {
            iv.pk: iv for iv in Intervention.objects.filter(project=ctx.project).select_related("company")
        }
        self._companies: dict[str, Company | None] = {}

    def partner(self, value: Any):
        text = cell_text(value).strip()
        digits = re.sub(r"\D", "", text)
        found = self.partners.get(digits) if len(digits) == 10 else None
        found = found or self.partners.get(normalise_heading(text))
        if found is None:
            names = ", ".join(sorted(p.organisation.name for p in self.ctx.partners.values()))
            raise ValueProblem(_("“%(value)s” is not a partner in the project (partners: %(names)s).") % {
                "value": _shorten(value), "names": names or "—"})
        return found

    def intervention(self, value: Any):
        text = cell_text(value).strip()
        number = text[1:] if text.startswith("#") else text
        if not number.isdigit() or int(number) not in self.interventions:
            raise ValueProblem(_("%(value)s is not the number of an intervention in the project.") % {
                "value": _shorten(value)})
        return self.interventions[int(number)]

    def company(self, value: Any):
        raw = value
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = cell_text(raw)
            if len(raw) == 9:
                raw = "0" + raw
        try:
            org = company_rules.parse_org_number(cell_text(raw))
        except company_rules.InvalidOrgNumber as exc:
            raise ValueProblem(str(exc)) from None
        if org.digits not in self._companies:
            self._companies[org.digits] = Company.objects.filter(org_number=org.digits).first()
        company = self._companies[org.digits]
        if company is None:
            raise ValueProblem(_("No company with the organisation number %(number)s in the register.") % {
                "number": org.formatted})
        return company


@dataclass
class ParsedLine:
    row: int
    values: dict[str, Any]
    key: tuple


class Headings:
    def __init__(self, row: int, cells: list[Any], result: CostImportResult) -> None:
        self.row = row
        self.width = len(cells)
        self.index: dict[str, int] = {}
        self.written: dict[str, str] = {}
        for position, heading in enumerate(cells):
            text = " ".join(cell_text(heading).replace("\ufeff", "").split())
            if not text:
                continue
            key = HEADINGS.get(normalise_heading(text))
            if key is None:
                result.warnings.append(_("Column “%(column)s” is not recognised and was ignored.") % {"column": text})
                continue
            if key in self.index:
                raise ImportFileError(
                    _("The columns “%(first)s” and “%(second)s” both mean %(field)s: keep one of them.")
                    % {"first": self.written[key], "second": text, "field": describe(key)}, row=row, column=text)
            self.index[key] = position
            self.written[key] = text
        missing = [key for key in REQUIRED if key not in self.index]
        if missing:
            raise ImportFileError(
                _("Required column missing: %(columns)s. The first row must hold the column headings.")
                % {"columns": _(" and ").join(describe(key) for key in missing)}, row=row)

    def column(self, field_name: str) -> str | None:
        key = FIELD_COLUMN.get(field_name, field_name)
        if key == "company" and "company" not in self.written:
            key = "intervention"
        return self.written.get(key)


class _CostImporter:
    def __init__(self, reader: TableReader, project: Project, *, dry_run: bool) -> None:
        self.reader = reader
        self.project = project
        self.dry_run = dry_run
        self.result = self._new_result(reader.encoding)
        self.ctx = services.LedgerContext(project)
        self.references = References(self.ctx)
        self.lines: list[ParsedLine] = []
        self.headings: Headings | None = None

    def _new_result(self, encoding: str) -> CostImportResult:
        return CostImportResult(dry_run=self.dry_run, file_format=self.reader.format, encoding=encoding,
                                delimiter={";": "semicolon", "\t": "tab", ",": "comma"}.get(self.reader.delimiter, ""),
                                project_code=self.project.code)

    def check(self) -> None:
        encoding = self.reader.encoding
        while True:
            try:
                self._check(encoding)
                return
            except RestartWithEncoding as restart:
                encoding = restart.encoding
                self.reader.encoding = encoding
                self.result = self._new_result(encoding)

    def _check(self, encoding: str) -> None:
        result = self.result
        headings: Headings | None = None
        seen: dict[tuple, int] = {}
        self.lines = []
        rows = invalid = 0
        for number, cells in self.reader.rows(encoding):
            if is_blank(cells):
                continue
            if headings is None:
                headings = Headings(number, cells, result)
                continue
            rows += 1
            errors: list[tuple[str | None, str]] = []
            line = self._parse(number, cells, headings, errors)
            if line is not None:
                first = seen.setdefault(line.key, number)
                if first != number:
                    errors.append((headings.written["voucher"], _(
                        "The same voucher line (voucher, date, category, partner and amount) is also on row %(row)d: "
                        "each line may appear once; add the amounts together if they belong together.")
                        % {"row": first}))
            if errors:
                invalid += 1
                for column, message in errors:
                    result.add_error(number, column, message)
            elif line is not None:
                self.lines.append(line)
        if headings is None:
            if self.reader.format == "xlsx":
                raise ImportFileError(
                    _("The first sheet of the workbook (“%(sheet)s”) is empty: the costs must be on the first sheet.")
                    % {"sheet": self.reader.sheet_name})
            raise ImportFileError(_("The file is empty."))
        if rows == 0:
            raise ImportFileError(_("The file has column headings but no rows of costs."), row=headings.row)
        result.rows = rows
        result.invalid_rows = invalid
        self.headings = headings

    def _parse(self, number: int, cells: list[Any], headings: Headings, errors: list) -> ParsedLine | None:
        if len(cells) > headings.width and any(cell_text(c).strip() for c in cells[headings.width:]):
            errors.append((None, _(
                "This row has more cells than the heading row: check the delimiter and quoting "
                "(a decimal comma must be quoted in a comma-separated file).")))
            return None
        parsers = {
            "date": parse_date, "voucher": lambda v: " ".join(cell_text(v).split()), "category": parse_category,
            "amount": parse_amount, "partner": self.references.partner,
            "description": lambda v: " ".join(cell_text(v).split()), "intervention": self.references.intervention,
            "company": self.references.company,
        }
        raw: dict[str, Any] = {}
        failed: set[str] = set()
        for key, position in headings.index.items():
            value = cells[position] if position < len(cells) else None
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            try:
                raw[key] = parsers[key](value)
            except ValueProblem as exc:
                errors.append((headings.written[key], str(exc)))
                failed.add(key)
        values = {
            "date": raw.get("date"), "voucher": raw.get("voucher", ""), "category": raw.get("category", ""),
            "amount_sek": raw.get("amount"), "partner": raw.get("partner") or self.ctx.default_partner(),
            "description": raw.get("description", ""), "intervention": raw.get("intervention"),
            "company": raw.get("company"),
        }
        for field_name, message in services.entry_problems(self.ctx, values):
            key = FIELD_COLUMN.get(field_name, field_name)
            if key in failed or (field_name == "company" and "intervention" in failed):
                continue
            errors.append((headings.column(field_name), message))
        if errors:
            return None
        partner = values["partner"]
        key = services.entry_key(partner.pk if partner else None, values["voucher"], values["category"],
                                 values["amount_sek"], values["date"])
        return ParsedLine(number, values, key)

    def apply(self, *, actor, source: str, batch: str, name: str) -> None:
        result = self.result
        message = _("Imported from %(file)s") % {"file": name}
        with transaction.atomic():
            if not self.dry_run and not result.error_count:
                # One importer of a project's ledger at a time; the duplicate check sees every line.
                Project.objects.select_for_update().filter(pk=self.project.pk).first()
            ledger = services.ledger_keys(self.project)
            present = [line for line in self.lines if line.key in ledger]
            if not result.error_count and present and len(present) == len(self.lines):
                result.unchanged = len(present)
                result.already_imported = True
                earlier = CostEntry.objects.filter(project=self.project, import_batch=batch).order_by("recorded_at").first()
                if earlier is not None:
                    result.notices.append(_(
                        "This file was already imported on %(date)s: all its %(count)d lines are in the ledger, "
                        "nothing was added.") % {"date": date_format(earlier.recorded_at, "SHORT_DATE_FORMAT"),
                                                 "count": len(present)})
                else:
                    result.notices.append(_(
                        "All %(count)d lines of the file are already in the ledger: nothing was added.")
                        % {"count": len(present)})
                return
            for line in present:
                entry = ledger[line.key]
                result.add_error(line.row, self.headings.written["voucher"], services.duplicate_message(entry))
            result.invalid_rows += len(present)
            if result.error_count:
                return
            result.created = len(self.lines)
            result.total_sek = sum((line.values["amount_sek"] for line in self.lines), Decimal(0))
            if self.dry_run:
                return
            services.cost_entries_write(actor, self.project, [line.values for line in self.lines], batch=batch,
                                        source=source, message=message)
            result.written = True


def _digest(source: str | os.PathLike | IO[bytes]) -> str:
    digest = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as stream:
                while chunk := stream.read(1024 * 1024):
                    digest.update(chunk)
        except OSError:
            return ""
        return digest.hexdigest()
    source.seek(0)
    while chunk := source.read(1024 * 1024):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


def import_costs(
    project: Project,
    path_or_file: str | os.PathLike | IO[bytes],
    *,
    actor=None,
    dry_run: bool = False,
    source: str = Source.IMPORT,
    name: str | None = None,
) -> CostImportResult:
    """Import the cost entries of a CSV or XLSX accounting export into a project's ledger.

    Never raises for problems with the file: they are in the result. Writes nothing when
    ``dry_run`` is true or when any row is invalid; otherwise writes every row in one transaction.
    """
    actor = actor if getattr(actor, "is_authenticated", False) else None
    spooled: IO[bytes] | None = None
    source_obj = path_or_file
    if not isinstance(path_or_file, str | os.PathLike) and not getattr(path_or_file, "seekable", lambda: False)():
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
            return _fatal(CostImportResult(dry_run=dry_run, project_code=project.code), exc)
        importer = _CostImporter(reader, project, dry_run=dry_run)
        try:
            importer.check()
            importer.apply(actor=actor, source=source, batch=_digest(source_obj), name=reader.name)
        except ImportFileError as exc:
            return _fatal(importer.result, exc)
        return importer.result
    finally:
        if spooled is not None:
            spooled.close()


def _fatal(result: CostImportResult, exc: ImportFileError) -> CostImportResult:
    result.fatal = True
    result.created = result.unchanged = 0
    result.total_sek = Decimal(0)
    result.errors = []
    result.error_count = 0
    result.add_error(exc.row, exc.column, exc.message)
    return result


def category_table() -> list[tuple[str, str, tuple[str, ...]]]:
    """``(code, label, accepted names)`` of the categories a cost entry can have (for the upload page)."""
    labels = dict(CostCategory.choices)
    return [(code, str(labels[code]), rules.CATEGORY_NAMES[code]) for code in rules.ENTRY_CATEGORIES]
