"""Importing a provider's education offerings from CSV or XLSX, as strictly as the company import.

One offering a row. Every row is checked first; a problem is reported with its row (as shown in
Excel), its column (as written in the file) and why. Nothing is written while any row has an
error; otherwise all rows are written in one transaction (created, or updated when the provider
already has an offering with the same name in the same place), each audited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from sim.companies.importer import (
    ImportFileError,
    ImportResult,
    TableReader,
    ValueProblem,
    _cell_text,
    _RestartWithEncoding,
    normalise_heading,
    parse_bool,
)
from sim.core.models import AuditEvent

from . import services
from .models import Concept, EducationOffering, OfferingKind

#: Import key → headings accepted (Swedish, English, aliases), compared normalised.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("namn", "name", "utbildning", "kursnamn", "course", "title"),
    "kind": ("typ", "kind", "utbildningsform", "type"),
    "municipality": ("kommunkod", "municipality_code", "kommun", "municipality"),
    "distance": ("distans", "distance", "distance_learning"),
    "start_dates": ("startdatum", "start_dates", "start", "kursstart"),
    "length_weeks": ("veckor", "length_weeks", "längd", "weeks", "length"),
    "seats": ("platser", "seats", "antal_platser"),
    "description": ("beskrivning", "description"),
    "url": ("webbplats", "url", "web_page", "webbsida", "website"),
    "concepts": ("begrepp", "concepts", "concept_uris", "uri", "uris", "yrken"),
}
REQUIRED = ("name", "kind")
HEADINGS = {normalise_heading(name): key for key, names in COLUMNS.items() for name in names}
KIND_ALIASES = {normalise_heading(value): value for value in OfferingKind.values} | {
    normalise_heading(str(label)): value for value, label in OfferingKind.choices} | {
    "yrkeshogskola": "yh", "vux": "komvux", "universitet": "university", "hogskola": "university",
    "leverantorsutbildning": "supplier", "arbetsmarknadsutbildning": "labour_market", "intern": "in_house",
    "internutbildning": "in_house",
}
_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class OfferingRow:
    row: int
    values: dict[str, Any]
    concept_ids: list[int]


def _municipalities() -> dict[str, Any]:
    from sim.companies.models import Municipality

    return {m.code: m for m in Municipality.objects.all()}


def _whole(value: Any, maximum: int) -> int | None:
    text = _cell_text(value).strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit():
        raise ValueProblem(_("“%(value)s” is not a whole number.") % {"value": text[:20]})
    number = int(text)
    if number > maximum:
        raise ValueProblem(_("At most %(max)d.") % {"max": maximum})
    return number


def _dates(value: Any) -> list[str]:
    if isinstance(value, dt.datetime):
        return [value.date().isoformat()]
    if isinstance(value, dt.date):
        return [value.isoformat()]
    dates = set()
    for part in _SPLIT.split(_cell_text(value)):
        if not part:
            continue
        try:
            dates.add(dt.date.fromisoformat(part[:10] if "T" in part else part).isoformat())
        except ValueError:
            raise ValueProblem(_("“%(value)s” is not a date (write YYYY-MM-DD).") % {"value": part[:20]}) from None
    return sorted(dates)


def read_offerings(reader: TableReader, result: ImportResult) -> list[OfferingRow]:
    """Check every row; problems go to ``result``; the good rows are returned."""
    municipalities = _municipalities()
    concepts_by_uri = None
    headings: dict[int, str] | None = None
    names: dict[str, str] = {}
    rows: list[OfferingRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in reader.rows():
        if not any(_cell_text(cell).strip() for cell in cells):
            continue
        if headings is None:
            headings = {}
            for index, cell in enumerate(cells):
                key = HEADINGS.get(normalise_heading(cell))
                if key is None:
                    continue
                if key in headings.values():
                    raise ImportFileError(_("Column “%(column)s” appears twice.") % {"column": _cell_text(cell)}, row=number)
                headings[index] = key
                names[key] = _cell_text(cell)
            missing = [key for key in REQUIRED if key not in headings.values()]
            if missing:
                raise ImportFileError(_("Missing column: %(columns)s. The first row must name the columns.") % {
                    "columns": ", ".join(COLUMNS[key][0] for key in missing)}, row=number)
            continue
        result.rows += 1
        raw = {key: (cells[index] if index < len(cells) else None) for index, key in headings.items()}
        values: dict[str, Any] = {}
        errors = 0

        def problem(key: str, message: str, number=number) -> None:
            nonlocal errors
            errors += 1
            result.add_error(number, names.get(key, key), message)

        name = " ".join(_cell_text(raw.get("name")).split())
        if not name:
            problem("name", _("A name is required."))
        elif len(name) > 255:
            problem("name", _("At most %(max)d characters.") % {"max": 255})
        values["name"] = name
        kind = KIND_ALIASES.get(normalise_heading(_cell_text(raw.get("kind"))))
        if kind is None:
            problem("kind", _("“%(value)s” is not a kind of offering (yh, komvux, university, supplier, labour_market, in_house).")
                    % {"value": _cell_text(raw.get("kind"))[:40]})
        values["kind"] = kind
        code = _cell_text(raw.get("municipality")).strip()
        if code.isdigit() and len(code) < 4:
            code = code.zfill(4)
        values["municipality"] = municipalities.get(code) if code else None
        if code and values["municipality"] is None:
            problem("municipality", _("“%(value)s” is not a municipality code.") % {"value": code[:20]})
        try:
            values["distance"] = parse_bool(raw.get("distance")) if _cell_text(raw.get("distance")).strip() else False
        except ValueProblem as exc:
            problem("distance", str(exc))
        if not code and not values.get("distance"):
            problem("municipality", _("Give a municipality code, or yes in the distance column."))
        for key, parse in (("start_dates", _dates), ("length_weeks", lambda v: _whole(v, 1000)),
                           ("seats", lambda v: _whole(v, 100000))):
            try:
                values[key] = parse(raw.get(key))
            except ValueProblem as exc:
                problem(key, str(exc))
        values["description"] = _cell_text(raw.get("description")).strip()
        url = _cell_text(raw.get("url")).strip()
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                problem("url", _("“%(value)s” is not a web address (https://…).") % {"value": url[:60]})
        values["url"] = url
        concept_ids: list[int] = []
        uris = [uri for uri in _SPLIT.split(_cell_text(raw.get("concepts"))) if uri]
        if uris:
            if concepts_by_uri is None:
                concepts_by_uri = dict(Concept.objects.filter(active=True).values_list("uri", "pk"))
            for uri in uris:
                if uri not in concepts_by_uri:
                    problem("concepts", _("Unknown concept “%(uri)s”.") % {"uri": uri[:120]})
                else:
                    concept_ids.append(concepts_by_uri[uri])
        place = (name.casefold(), code)
        if name and place in seen:
            problem("name", _("The same offering (name and municipality) is also on row %(row)d.") % {"row": seen[place]})
        seen.setdefault(place, number)
        if errors:
            result.invalid_rows += 1
        else:
            rows.append(OfferingRow(number, values, concept_ids))
    if headings is None:
        raise ImportFileError(_("The file is empty."))
    return rows


def import_offerings(source, *, provider, actor, name: str | None = None, dry_run: bool = False) -> ImportResult:
    result = ImportResult(dry_run=dry_run)
    try:
        reader = TableReader(source, name=name)
        result.file_format = reader.format
        try:
            rows = read_offerings(reader, result)
        except _RestartWithEncoding as restart:
            reader.encoding = restart.encoding
            result.errors.clear()
            result.error_count = result.rows = result.invalid_rows = 0
            rows = read_offerings(reader, result)
    except ImportFileError as exc:
        result.fatal = True
        result.add_error(exc.row, exc.column, exc.message)
        return result
    if not result.ok or dry_run:
        return result
    existing = {(o.name.casefold(), o.municipality_id or ""): o for o in EducationOffering.objects.filter(provider=provider)}
    try:
        with transaction.atomic():
            for row in rows:
                current = existing.get((row.values["name"].casefold(), row.values["municipality"].code if row.values["municipality"] else ""))
                try:
                    if current is None:
                        services.offering_create(actor, provider, concept_ids=row.concept_ids,
                                                 audit_source=AuditEvent.Source.IMPORT, **row.values)
                        result.created += 1
                    else:
                        services.offering_update(actor, current, concept_ids=row.concept_ids or None,
                                                 audit_source=AuditEvent.Source.IMPORT, **row.values)
                        result.updated += 1
                except ValidationError as exc:
                    messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                    for column, texts in messages.items():
                        for text in texts:
                            result.add_error(row.row, column or None, text)
                    raise
    except ValidationError:
        result.created = result.updated = 0
        return result
    result.written = True
    return result
