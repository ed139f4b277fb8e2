"""Writing a project's data as a `sim-project-export` document (see `spec.py`).

Batched: one query per section, one per many-to-many field and one per referenced model, whatever
the number of rows (no queries in loops over rows).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from . import spec
from .spec import ExportContext, Section


def plain(value: Any) -> Any:
    """A column value as JSON: decimals as exact strings, dates and times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


class ExportInconsistent(RuntimeError):
    """A required reference of a project record points at a record that does not belong to the project."""


def _company_ids(ctx: ExportContext) -> set[int]:
    ids: set[int] = set()
    for label, column, scope in spec.COMPANY_SOURCES:
        model = apps.get_model(label)
        ids.update(
            value for value in model.objects.filter(scope(ctx)).order_by().values_list(column, flat=True).distinct()
            if value is not None
        )
    return ids


class _Exporter:
    def __init__(self, project) -> None:
        self.project = project
        self.ctx = ExportContext(project_id=project.pk)
        self.by_model = spec.sections_by_model()
        self.raw: dict[str, list[dict[str, Any]]] = {}
        self.m2m_raw: dict[tuple[str, str], dict[int, list[int]]] = {}
        # Ids referenced per model label (dictionaries and reference data), resolved in one query each.
        self.wanted: dict[str, set[int]] = defaultdict(set)
        self.refs: dict[str, dict[int, str]] = {}  # section key → pk → ref / natural key

    # --- reading ---------------------------------------------------------------------------------

    def read(self) -> None:
        self.ctx.company_ids = _company_ids(self.ctx)
        for section in spec.SECTIONS:
            self._read_section(section)

    def _read_section(self, section: Section) -> None:
        model = section.model
        columns = ["pk", *[f.attname for f in section.fields()]]
        rows = list(model.objects.filter(section.scope(self.ctx)).order_by(*section.order_by).values(*columns))
        rows = self._drop_orphans(section, rows)
        pks = [row["pk"] for row in rows]
        self.ctx.pks[section.key] = pks
        if section.prefix:
            self.refs[section.key] = {pk: f"{section.prefix}:{n}" for n, pk in enumerate(pks, start=1)}
        self.raw[section.key] = rows
        for f in section.m2m_fields():
            through = f.remote_field.through
            source = f.m2m_field_name()
            target = f.m2m_reverse_field_name()
            links: dict[int, list[int]] = defaultdict(list)
            for src, dst in through.objects.filter(**{f"{source}__in": pks}).order_by(target, "pk").values_list(
                f"{source}_id", f"{target}_id"
            ):
                links[src].append(dst)
            self.m2m_raw[(section.key, f.name)] = links
            self._want(f, [dst for values in links.values() for dst in values])
        for f in section.fields():
            if f.is_relation:
                self._want(f, [row[f.attname] for row in rows])

    def _drop_orphans(self, section: Section, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows whose `required_if_set` reference points outside the export are left out."""
        if not section.required_if_set:
            return rows
        columns = [section.model._meta.get_field(name).attname for name in section.required_if_set]
        kept: list[dict[str, Any]] = []
        kept_pks: set[int] = set()
        for row in rows:  # in pk order: a reversed row comes before the row reversing it
            if all(row[c] is None or row[c] in kept_pks for c in columns):
                kept.append(row)
                kept_pks.add(row["pk"])
        return kept

    def _want(self, f: models.Field, ids) -> None:
        label = f.related_model._meta.label_lower
        if label in spec.DICTIONARIES or label in spec.REFERENCE_CODES or label == "programmes.project":
            self.wanted[label].update(i for i in ids if i is not None)

    # --- lookups ---------------------------------------------------------------------------------

    def lookups(self) -> None:
        self.names: dict[str, dict[Any, Any]] = {}
        for label, ids in self.wanted.items():
            model = apps.get_model(label)
            if label == "assessments.instrumentversion":
                self.names[label] = {
                    pk: f"{key}:{version}" for pk, key, version in model.objects.filter(pk__in=ids).values_list("pk", "key", "version")
                }
            elif label == "programmes.project":
                self.names[label] = dict(model.objects.filter(pk__in=ids).values_list("pk", "code"))
            elif label in spec.REFERENCE_CODES:
                self.names[label] = {pk: pk for pk in ids}  # municipalities and counties: the code is the key
            else:
                natural = spec.DICTIONARIES[label][1]
                self.names[label] = dict(model.objects.filter(pk__in=ids).values_list("pk", natural))
        # Natural keys of exported sections (companies by number, partners by organisation name, …).
        for section in spec.SECTIONS:
            if section.natural_key and not section.prefix:
                f = section.model._meta.get_field(section.natural_key)
                self.refs[section.key] = {
                    row["pk"]: self.names[f.related_model._meta.label_lower][row[f.attname]] if f.is_relation
                    else plain(row[f.attname])
                    for row in self.raw[section.key]
                }

    def reference(self, f: models.Field, value):
        if value is None:
            return None
        kind, target = spec.reference_kind(f, self.by_model)
        if kind == "section":
            return self.refs[target.key].get(value)  # None: outside the export (nullable references only)
        return self.names[f.related_model._meta.label_lower][value]

    # --- writing ---------------------------------------------------------------------------------

    def section_rows(self, section: Section) -> list[dict[str, Any]]:
        out = []
        fields = section.fields()
        m2m = [(f, self.m2m_raw[(section.key, f.name)]) for f in section.m2m_fields()]
        refs = self.refs.get(section.key, {})
        for row in self.raw[section.key]:
            item: dict[str, Any] = {}
            if section.prefix:
                item["ref"] = refs[row["pk"]]
            for f in fields:
                value = row[f.attname]
                if f.is_relation:
                    value = self.reference(f, value)
                    if value is None and not f.null:
                        raise ExportInconsistent(
                            f"{section.key}: a {section.model._meta.model_name} of the project has a {f.name} "
                            f"outside the project (database id {row['pk']}); correct it before exporting."
                        )
                else:
                    value = plain(value)
                item[f.name] = value
            for f, links in m2m:
                values = [self.reference(f, dst) for dst in links.get(row["pk"], [])]
                item[f.name] = sorted(v for v in values if v is not None)
            if section.key == "follow_ups":
                item["source_key"] = self._source_key(item["source_key"])
            elif section.key == "contacts" and item["erased_at"]:
                # An erased contact is anonymised (ADR 5); nothing personal leaves with it, whatever the row holds.
                item.update(role="", email="", phone="", notes="", consent_date=None)
            out.append(item)
        return out

    def _source_key(self, key: str) -> str:
        match = re.fullmatch(r"(referral|intervention):(\d+)(:.*)?", key or "")
        if not match:
            return key
        ref = self.refs[spec.SOURCE_KEY_SECTIONS[match.group(1)]].get(int(match.group(2)))
        # A record outside the export: the key would name another row after an import.
        return f"{ref}{match.group(3) or ''}" if ref else ""

    def dictionaries(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = {}
        for key in spec.DICTIONARY_ORDER:
            label, fields = spec.DICTIONARY_FIELDS[key]
            label = label.lower()
            model = apps.get_model(label)
            natural = spec.DICTIONARIES[label][1]
            ids = self.wanted.get(label, set())
            rows = [
                {name: plain(row[name]) for name in fields}
                for row in model.objects.filter(pk__in=ids).order_by(natural).values("pk", *fields)
            ]
            if key == "users":
                roles: dict[str, list[str]] = defaultdict(list)
                through = model.groups.through
                for username, group in through.objects.filter(user_id__in=ids).order_by("group__name").values_list(
                    "user__username", "group__name"
                ):
                    roles[username].append(group)
                for row in rows:
                    row["roles"] = roles.get(row["username"], [])
            result[key] = rows
        return result


def export_project(project) -> dict[str, Any]:
    """The project's complete data as a JSON-ready dict (see docs/project-export-format.md)."""
    exporter = _Exporter(project)
    exporter.read()
    exporter.lookups()
    sections = {s.key: exporter.section_rows(s) for s in spec.SECTIONS}
    document: dict[str, Any] = {
        "format": spec.FORMAT,
        "version": spec.VERSION,
        "exported_at": timezone.now().isoformat(),
        "project": sections.pop("project")[0],
    }
    document.update(exporter.dictionaries())
    document.update(sections)
    assert list(document) == spec.TOP_LEVEL_KEYS
    return document
