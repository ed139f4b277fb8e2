"""Loading a `sim-project-export` document into a database that does not hold the project yet.

The whole file is checked first — format, version, keys, every value against its column, every
reference resolvable — and refused as a whole when anything is wrong, with the path of each problem
in the JSON (``interventions[3].company: unknown organisation number …``). Only then is it written,
in one transaction, with bulk inserts in file order (ledger rows are created, never updated), and
one audit event records the import.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import IntegrityError, models, transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from sim.companies.services import search_text_for
from sim.core.audit import audit_record
from sim.core.models import AuditEvent
from sim.core.roles import Role

from . import spec
from .spec import Section

MAX_ERRORS = 50


class ImportRefused(Exception):
    """The file was not imported; `errors` says why, each naming its place in the file."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def load(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ImportRefused([_("The file is not valid JSON%(where)s: %(reason)s") % {"where": where, "reason": getattr(exc, "msg", str(exc))}]) from exc


def _shown_number(value: Any) -> str:
    """An organisation number for a message; a sole trader's personal identity number is masked."""
    text = str(value)
    if re.fullmatch(r"\d{10}", text) and text[2:4] < "20":
        return f"{text[:6]}****"
    return text[:40]


class _TooMany(Exception):
    pass


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return value is not None


class _Checker:
    """Validates a document; collects errors with their JSON paths and the cleaned rows."""

    def __init__(self, document: Any) -> None:
        self.doc = document
        self.errors: list[str] = []
        self.by_model = spec.sections_by_model()
        self.clean: dict[str, list[dict[str, Any]]] = {}  # section/dictionary key → rows of cleaned values
        self.keys: dict[str, set[Any]] = {}  # section/dictionary key → natural keys or refs of its rows

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")
        if len(self.errors) >= MAX_ERRORS:
            raise _TooMany

    # --- the document ----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        except _TooMany:
            self.errors.append(_("… (stopped after %(count)d problems)") % {"count": MAX_ERRORS})

    def _run(self) -> None:
        doc = self.doc
        if not isinstance(doc, dict):
            self.error("$", _("the file must hold one JSON object"))
            return
        if doc.get("format") != spec.FORMAT:
            self.error("format", _("expected %(expected)r, found %(found)r") % {"expected": spec.FORMAT, "found": doc.get("format")})
            return
        if doc.get("version") != spec.VERSION:
            self.error("version", _("this version of SIM reads version %(expected)s, the file has %(found)r")
                       % {"expected": spec.VERSION, "found": doc.get("version")})
            return
        missing = [key for key in spec.TOP_LEVEL_KEYS if key not in doc]
        for key in missing:
            self.error(key, _("missing"))
        for key in doc:
            if key not in spec.TOP_LEVEL_KEYS:
                self.error(key, _("unknown key"))
        if missing:
            return
        self._value("exported_at", models.DateTimeField(), doc["exported_at"])
        self._reference_data()
        for key in spec.DICTIONARY_ORDER:
            self._dictionary(key)
        for section in spec.SECTIONS:
            self._section(section)
        self._conflicts()

    def _reference_data(self) -> None:
        self.reference_pks: dict[str, dict[Any, Any]] = {}
        for label in spec.REFERENCE_CODES:
            model = apps.get_model(label)
            if label == "assessments.instrumentversion":
                self.reference_pks[label] = {
                    f"{key}:{version}": pk for pk, key, version in model.objects.values_list("pk", "key", "version")
                }
            else:
                self.reference_pks[label] = {pk: pk for pk in model.objects.values_list("pk", flat=True)}

    # --- dictionaries ----------------------------------------------------------------------------

    def _dictionary(self, key: str) -> None:
        label, names = spec.DICTIONARY_FIELDS[key]
        model = apps.get_model(label)
        natural = spec.DICTIONARIES[label.lower()][1]
        expected = [*names, "roles"] if key == "users" else list(names)
        rows = self._list(key)
        clean_rows: list[dict[str, Any]] = []
        keys: set[Any] = set()
        for i, row in enumerate(rows):
            path = f"{key}[{i}]"
            if not self._keys(path, row, expected):
                continue
            values = {name: self._value(f"{path}.{name}", model._meta.get_field(name), row[name]) for name in names}
            if key == "users":
                roles = row["roles"]
                if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                    self.error(f"{path}.roles", _("must be a list of role names"))
                else:
                    for role in roles:
                        if role not in Role._value2member_map_:
                            self.error(f"{path}.roles", _("unknown role %(role)r") % {"role": role})
                    values["roles"] = roles
            if not _hashable(values[natural]):
                continue
            if values[natural] in keys:
                self.error(f"{path}.{natural}", _("defined twice: %(value)r") % {"value": values[natural]})
            keys.add(values[natural])
            clean_rows.append(values)
        self.clean[key] = clean_rows
        self.keys[key] = keys

    # --- sections --------------------------------------------------------------------------------

    def _list(self, key: str) -> list[Any]:
        rows = self.doc[key]
        if not isinstance(rows, list):
            self.error(key, _("must be a list"))
            return []
        return rows

    def _keys(self, path: str, row: Any, expected: list[str]) -> bool:
        if not isinstance(row, dict):
            self.error(path, _("must be an object"))
            return False
        ok = True
        for name in expected:
            if name not in row:
                self.error(f"{path}.{name}", _("missing"))
                ok = False
        for name in row:
            if name not in expected:
                self.error(f"{path}.{name}", _("unknown key"))
                ok = False
        return ok

    def _section(self, section: Section) -> None:
        rows = [self.doc["project"]] if section.single else self._list(section.key)
        expected = section.row_keys()
        fields = section.fields()
        m2m = section.m2m_fields()
        clean_rows: list[dict[str, Any]] = []
        keys: set[Any] = set()
        self.keys[section.key] = keys  # filled as rows pass, so a row may point at earlier ones only
        self.later: list[tuple[str, Any]] = []  # natural-key references within the list: checked at its end
        for i, row in enumerate(rows):
            path = section.key if section.single else f"{section.key}[{i}]"
            if not self._keys(path, row, expected):
                continue
            values: dict[str, Any] = {}
            if section.prefix:
                ref = row["ref"]
                if not isinstance(ref, str) or not ref:
                    self.error(f"{path}.ref", _("must be a non-empty string"))
                elif ref in keys:
                    self.error(f"{path}.ref", _("used twice: %(ref)r") % {"ref": ref})
                values["ref"] = ref
            for f in fields:
                if f.is_relation:
                    values[f.name] = self._reference(f"{path}.{f.name}", section, f, row[f.name])
                else:
                    values[f.name] = self._value(f"{path}.{f.name}", f, row[f.name])
            for f in m2m:
                items = row[f.name]
                if not isinstance(items, list):
                    self.error(f"{path}.{f.name}", _("must be a list"))
                    continue
                values[f.name] = [self._reference(f"{path}.{f.name}[{j}]", section, f, item) for j, item in enumerate(items)]
            if section.key == "follow_ups":
                self._source_key(f"{path}.source_key", values.get("source_key"))
            name = values.get("ref") if section.prefix else values.get(section.natural_key)
            if section.natural_key and _hashable(name) and name in keys:
                self.error(f"{path}.{section.natural_key}", _("defined twice: %(value)s") % {"value": self._show(section, name)})
            if _hashable(name):
                keys.add(name)
            clean_rows.append(values)
        self.clean[section.key] = clean_rows
        for path, value in self.later:
            if value not in keys:
                self.error(path, _("unknown organisation number %(number)s") % {"number": _shown_number(value)}
                           if section.key == "companies" else _("not in %(list)s: %(value)r") % {"list": section.key, "value": value})

    def _show(self, section: Section, value: Any) -> str:
        return _shown_number(value) if section.key == "companies" else repr(value)

    def _source_key(self, path: str, key: Any) -> None:
        if not isinstance(key, str):
            return  # reported as a value
        match = re.fullmatch(r"(referral|intervention):([^:]+)(:.*)?", key)
        if match and f"{match.group(1)}:{match.group(2)}" not in self.keys[spec.SOURCE_KEY_SECTIONS[match.group(1)]]:
            self.error(path, _("unknown %(kind)s %(ref)r") % {"kind": match.group(1), "ref": f"{match.group(1)}:{match.group(2)}"})

    def _reference(self, path: str, section: Section, f: models.Field, value: Any) -> Any:
        if value is None:
            if not f.null and not f.many_to_many:
                self.error(path, _("required"))
            return None
        if not isinstance(value, str):
            self.error(path, _("must be a string"))
            return None
        kind, target = spec.reference_kind(f, self.by_model)
        if kind == "project":
            project_code = self.doc["project"].get("code") if isinstance(self.doc["project"], dict) else None
            if value != project_code:
                self.error(path, _("not the project of this file: %(value)r") % {"value": value})
            return value
        if kind == "reference":
            label = f.related_model._meta.label_lower
            if value not in self.reference_pks[label]:
                what = {"companies.municipality": _("municipality code"), "companies.county": _("county code"),
                        "assessments.instrumentversion": _("instrument version (key:version)")}[label]
                self.error(path, _("unknown %(what)s %(value)r in this database") % {"what": what, "value": value})
            return value
        if kind == "dictionary":
            key, natural = target
            if value not in self.keys[key]:
                self.error(path, _("not among the %(list)s of the file: %(value)r") % {"list": key, "value": value})
            return value
        # A row of an exported section.
        if target.key == section.key and section.natural_key:
            self.later.append((path, value))  # e.g. a company merged into one later in the list
            return value
        if target.key not in self.keys or value not in self.keys[target.key]:
            if target.key == "companies":
                self.error(path, _("unknown organisation number %(number)s") % {"number": _shown_number(value)})
            elif target.key == section.key:
                self.error(path, _("%(ref)r is not an earlier row of %(list)s") % {"ref": value, "list": target.key})
            else:
                self.error(path, _("unknown %(list)s reference %(ref)r") % {"list": target.key, "ref": value})
        return value

    def _value(self, path: str, f: models.Field, value: Any) -> Any:  # noqa: C901 (one branch per column type)
        if value is None:
            if not f.null:
                self.error(path, _("required (null is not allowed)"))
            return None
        if isinstance(f, models.JSONField):
            return value
        if isinstance(f, models.BooleanField):
            if not isinstance(value, bool):
                self.error(path, _("must be true or false"))
            return value
        if isinstance(f, models.DateTimeField):
            try:
                parsed = parse_datetime(value) if isinstance(value, str) else None
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                self.error(path, _("not a date and time with time zone (ISO 8601): %(value)r") % {"value": value})
            return parsed
        if isinstance(f, models.DateField):
            try:
                parsed = parse_date(value) if isinstance(value, str) else None
            except ValueError:
                parsed = None
            if parsed is None:
                self.error(path, _("not a date (YYYY-MM-DD): %(value)r") % {"value": value})
            return parsed
        if isinstance(f, models.DecimalField):
            try:
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise InvalidOperation
                number = Decimal(str(value))
                if not number.is_finite():
                    raise InvalidOperation
                DecimalValidator(f.max_digits, f.decimal_places)(number)
            except (InvalidOperation, ValidationError):
                self.error(path, _("not a number with at most %(digits)d digits, %(places)d after the point: %(value)r")
                           % {"digits": f.max_digits, "places": f.decimal_places, "value": value})
                return None
            return number
        if isinstance(f, models.FloatField):
            if not isinstance(value, int | float) or isinstance(value, bool):
                self.error(path, _("must be a number"))
            return value
        if isinstance(f, models.IntegerField):
            if not isinstance(value, int) or isinstance(value, bool):
                self.error(path, _("must be a whole number"))
            elif isinstance(f, models.PositiveIntegerField | models.PositiveSmallIntegerField | models.PositiveBigIntegerField) and value < 0:
                self.error(path, _("must not be negative"))
            return value
        if isinstance(f, models.CharField | models.TextField | models.FileField):
            if not isinstance(value, str):
                self.error(path, _("must be a string"))
                return value
            if f.max_length and len(value) > f.max_length:
                self.error(path, _("longer than %(max)d characters") % {"max": f.max_length})
            if f.choices and value not in {str(k) for k, _label in f.flatchoices} and not (f.blank and value == ""):
                self.error(path, _("not one of the allowed values: %(value)r") % {"value": value})
            return value
        raise LookupError(f"no check for {f.__class__.__name__} ({path})")

    # --- conflicts with the database --------------------------------------------------------------

    def _conflicts(self) -> None:
        from sim.companies.models import Company
        from sim.programmes.models import Project
        from sim.stateaid.models import ExchangeRate

        project = self.clean.get("project") or []
        if project and Project.objects.filter(code=project[0].get("code")).exists():
            self.error("project.code", _("a project with the code %(code)r already exists in this database") % {"code": project[0]["code"]})
        numbers = [n for n in self.keys.get("companies", ()) if isinstance(n, str)]
        existing = set(Company.objects.filter(org_number__in=numbers).values_list("org_number", flat=True))
        for i, row in enumerate(self.doc["companies"] if isinstance(self.doc["companies"], list) else []):
            number = row.get("org_number") if isinstance(row, dict) else None
            if isinstance(number, str) and number in existing:
                self.error(f"companies[{i}].org_number",
                           _("the company %(number)s is already in this database; the import loads into a database "
                             "without the project's companies") % {"number": _shown_number(number)})
        rates = dict(ExchangeRate.objects.values_list("date", "sek_per_eur"))
        for i, row in enumerate(self.clean.get("exchange_rates", [])):
            date = row.get("date")
            if date in rates and rates[date] != row.get("sek_per_eur"):
                self.error(f"exchange_rates[{i}].sek_per_eur",
                           _("this database has another rate for %(date)s: %(rate)s") % {"date": date, "rate": rates[date]})


class _Writer:
    def __init__(self, checker: _Checker) -> None:
        self.clean = checker.clean
        self.by_model = checker.by_model
        self.reference_pks = checker.reference_pks
        self.dict_pks: dict[str, dict[Any, int]] = {}
        self.section_pks: dict[str, dict[Any, int]] = {}
        self.count = 0

    def write(self):
        for key in spec.DICTIONARY_ORDER:
            self._dictionary(key)
        for section in spec.SECTIONS:
            self._section(section)
        project_pk = self.section_pks["project"][self.clean["project"][0]["code"]]
        return apps.get_model("programmes.Project").objects.get(pk=project_pk)

    def _dictionary(self, key: str) -> None:
        label, names = spec.DICTIONARY_FIELDS[key]
        model = apps.get_model(label)
        natural = spec.DICTIONARIES[label.lower()][1]
        rows = self.clean[key]
        existing = dict(model.objects.filter(**{f"{natural}__in": [r[natural] for r in rows]}).values_list(natural, "pk"))
        new = []
        for row in rows:
            if row[natural] in existing:
                continue
            obj = model(**{name: row[name] for name in names})
            if key == "users":
                obj.set_unusable_password()
            new.append((row, obj))
        model.objects.bulk_create([obj for _row, obj in new])
        self.count += len(new)
        for row, obj in new:
            existing[row[natural]] = obj.pk
        if key == "users" and new:
            groups = dict(Group.objects.values_list("name", "pk"))
            through = model.groups.through
            through.objects.bulk_create([
                through(user_id=obj.pk, group_id=groups[role]) for row, obj in new for role in row["roles"] if role in groups
            ])
        self.dict_pks[label.lower()] = existing

    def _pk(self, section: Section, f: models.Field, value: Any) -> Any:
        if value is None:
            return None
        kind, target = spec.reference_kind(f, self.by_model)
        label = f.related_model._meta.label_lower
        if kind == "project":
            return self.section_pks["project"][value]
        if kind == "reference":
            return self.reference_pks[label][value]
        if kind == "dictionary":
            return self.dict_pks[label][value]
        return self.section_pks[target.key][value]

    def _section(self, section: Section) -> None:
        model = section.model
        fields = section.fields()
        implied = [f for f in model._meta.concrete_fields if section.implied_project(f)]
        deferred_self = [f for f in fields if f.is_relation and f.related_model is model and section.natural_key]
        pending: list[tuple[dict[str, Any], models.Model]] = []
        pks: dict[Any, int] = {}
        self.section_pks[section.key] = pks

        created: list[tuple[dict[str, Any], models.Model]] = []
        name = "ref" if section.prefix else section.natural_key

        def flush():
            if pending:
                model.objects.bulk_create([obj for _row, obj in pending])
                if name:
                    for row, obj in pending:
                        pks[row[name]] = obj.pk
                self.count += len(pending)
                created.extend(pending)
                pending.clear()

        for row in self.clean[section.key]:
            values: dict[str, Any] = {}
            for f in fields:
                if f in deferred_self:
                    continue
                if f.is_relation:
                    if f.related_model is model and row[f.name] is not None:
                        flush()  # the row it points at must have its primary key
                    values[f.attname] = self._pk(section, f, row[f.name])
                else:
                    values[f.attname] = row[f.name]
            for f in implied:
                values[f.attname] = self.section_pks["project"][self.clean["project"][0]["code"]]
            if section.key == "companies":
                values["search_text"] = search_text_for(row["name"], row["org_number"])
            if section.key == "follow_ups":
                values["source_key"] = self._source_key(values["source_key"])
            pending.append((row, model(**values)))
        flush()
        for f in deferred_self:  # companies merged into others: set once all exist
            for row in self.clean[section.key]:
                if row[f.name] is not None:
                    model.objects.filter(pk=pks[row[section.natural_key]]).update(**{f.attname: pks[row[f.name]]})
        for f in section.m2m_fields():
            through = f.remote_field.through
            source, target = f.m2m_field_name(), f.m2m_reverse_field_name()
            links = []
            for row, obj in created:
                for value in row[f.name]:
                    links.append(through(**{f"{source}_id": obj.pk, f"{target}_id": self._pk(section, f, value)}))
            through.objects.bulk_create(links)

    def _source_key(self, key: str) -> str:
        match = re.fullmatch(r"(referral|intervention):([^:]+)(:.*)?", key or "")
        if not match:
            return key
        pk = self.section_pks[spec.SOURCE_KEY_SECTIONS[match.group(1)]][f"{match.group(1)}:{match.group(2)}"]
        return f"{match.group(1)}:{pk}{match.group(3) or ''}"


def check_document(document: Any) -> _Checker:
    checker = _Checker(document)
    checker.run()
    if checker.errors:
        raise ImportRefused(checker.errors)
    return checker


def import_project(document: Any, *, actor=None, source: str = AuditEvent.Source.IMPORT):
    """Check and load a parsed export document; returns the new project. Raises ImportRefused."""
    checker = check_document(document)
    try:
        with transaction.atomic():
            writer = _Writer(checker)
            project = writer.write()
            audit_record(
                actor, AuditEvent.Action.CREATE, project, source=source,
                message=_("Imported from a project export (%(format)s version %(version)s, exported %(at)s): %(count)d records.")
                % {"format": spec.FORMAT, "version": spec.VERSION, "at": document["exported_at"], "count": writer.count},
            )
    except IntegrityError as exc:
        raise ImportRefused([_("The database refused the data, nothing was imported: %(reason)s") % {"reason": exc}]) from exc
    project.imported_records = writer.count
    return project
