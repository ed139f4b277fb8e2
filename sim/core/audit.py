"""Writing the audit trail. Services call `audit_record` for every business record change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

from .models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # One spelling per value, whatever the scale, and never an exponent: 15000000.00 and
        # 1.5E+7 are both "15000000", 55.50 is "55.5" (otherwise re-saving equal values shows a change).
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):  # a file field: its stored name
        return value.name or ""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited field values of a model instance, as JSON-friendly values."""
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.name in {"created_at", "updated_at", "search_text"}:
            continue
        if fields is not None and field.name not in fields:
            continue
        value = getattr(instance, field.attname)
        result[field.name] = _plain(value)
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in keys
        if before.get(key) != after.get(key)
    }


def actor_fields(actor) -> dict[str, Any]:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return {"actor": actor, "actor_label": actor.get_username()}
    return {"actor": None, "actor_label": "system"}


def build_event(
    actor,
    action: str,
    instance: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    scope: models.Model | None = None,
    message: str = "",
    source: str = AuditEvent.Source.WEB,
) -> AuditEvent:
    """An unsaved event (for bulk writes such as imports)."""
    scope = scope if scope is not None else instance
    return AuditEvent(
        **actor_fields(actor),
        action=action,
        source=source,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        scope_type=scope._meta.label_lower,
        scope_id=str(scope.pk),
        changes=diff(before or {}, after or {}),
        message=message,
    )


def audit_record(actor, action: str, instance: models.Model, **kwargs) -> AuditEvent:
    event = build_event(actor, action, instance, **kwargs)
    event.save(force_insert=True)
    return event


def history_for(instance: models.Model, *, extra_scopes: Iterable[models.Model] = ()):
    """Events whose scope is this record (or records merged into it), newest first."""
    scopes = [instance, *extra_scopes]
    query = models.Q()
    for scope in scopes:
        query |= models.Q(scope_type=scope._meta.label_lower, scope_id=str(scope.pk))
    return AuditEvent.objects.filter(query).select_related("actor")


# Fields that only repeat what the event already says (its record, its author).
_NOT_SHOWN = {"created_by", "company"}


def _display_value(field, value):
    from django.utils.translation import gettext as _

    if value is None or value == "":
        return "—"
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def describe_changes(event: AuditEvent, hidden: Iterable[str] = ()) -> list[dict[str, Any]]:
    """An event's changes as rows a person can read: field label, value before and after.

    Fields in `hidden` (e.g. contact notes for a reader without that permission) are listed as
    changed without their values.
    """
    from django.apps import apps

    if not event.changes or event.changes.get("redacted"):
        return []
    try:
        model = apps.get_model(event.object_type)
    except (LookupError, ValueError):
        model = None
    rows = []
    for name, change in event.changes.items():
        if name in _NOT_SHOWN or not isinstance(change, dict):
            continue
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except Exception:  # noqa: BLE001 - a field renamed since the event was written
                field = None
        label = str(field.verbose_name) if field is not None else name.replace("_", " ")
        before, after = change.get("before"), change.get("after")
        rows.append({
            "field": name,
            "label": label[:1].upper() + label[1:],
            "hidden": name in hidden,
            "before": None if before in (None, "") else _display_value(field, before),
            "after": _display_value(field, after),
        })
    return rows
