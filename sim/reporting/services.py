"""Writes of indicators (transactional, audited): choose a project's indicator set, add the
project's own indicators, set targets and milestones, record values of manual indicators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.programmes.models import Project

from . import catalogue, rules
from .models import IndicatorEntry, IndicatorMilestone, ProjectIndicator, ProjectIndicatorSet

Action = AuditEvent.Action
Source = AuditEvent.Source


def _decimal(value: Any, field: str, *, allow_negative: bool = False) -> Decimal:
    try:
        result = Decimal(str(value).strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if result < 0 and not allow_negative:
        raise ValidationError({field: _("The value cannot be negative.")})
    if abs(result) >= Decimal("1e12"):
        raise ValidationError({field: _("The value is too large.")})
    return result.quantize(rules.CENT)


@transaction.atomic
def indicator_set_choose(actor, project: Project, set_key: str, *, new_enterprise_years: int | None = None,
                         source: str = Source.WEB) -> ProjectIndicatorSet:
    """Choose (or change) the project's indicator set.

    The set's indicators are added to the project (existing ones keep their targets); the previous
    set's indicators are removed, unless values were recorded for one of them (then refused).
    The project's own indicators stay.
    """
    definition = catalogue.indicator_set(set_key)
    if definition is None:
        raise ValidationError({"set_key": _("Unknown indicator set %(key)s.") % {"key": set_key}})
    years = rules.DEFAULT_NEW_ENTERPRISE_YEARS if new_enterprise_years is None else new_enterprise_years
    if not 1 <= int(years) <= 10:
        raise ValidationError({"new_enterprise_years": _("Enter between 1 and 10 years.")})
    chosen = ProjectIndicatorSet.objects.select_for_update().filter(project=project).first()
    before = snapshot(chosen) if chosen else None
    codes = {i.code for i in definition.indicators}
    stale = ProjectIndicator.objects.filter(project=project, own=False).exclude(code__in=codes)
    with_values = sorted(stale.filter(entries__isnull=False).values_list("code", flat=True).distinct())
    if with_values:
        raise ValidationError({"set_key": _(
            "Values are recorded for %(codes)s of the current set; the set cannot be changed."
        ) % {"codes": ", ".join(with_values)}})
    removed = sorted(stale.values_list("code", flat=True))
    stale.delete()
    if chosen is None:
        chosen = ProjectIndicatorSet.objects.create(project=project, set_key=set_key, new_enterprise_years=years)
    else:
        chosen.set_key, chosen.new_enterprise_years = set_key, years
        chosen.save()
    existing = {i.code: i for i in ProjectIndicator.objects.filter(project=project)}
    for order, item in enumerate(definition.indicators):
        values = {"method": item.method, "unit": item.unit, "name_sv": item.name_sv, "name_en": item.name_en,
                  "definition_sv": item.definition_sv, "definition_en": item.definition_en,
                  "breakdown": item.breakdown, "order": order, "own": False}
        indicator = existing.get(item.code)
        if indicator is not None and indicator.own:
            raise ValidationError({"set_key": _(
                "The project's own indicator %(code)s has a code of the set; rename it first.") % {"code": item.code}})
        if indicator is None:
            ProjectIndicator.objects.create(project=project, code=item.code, **values)
        else:
            ProjectIndicator.objects.filter(pk=indicator.pk).update(**values)
    after = snapshot(chosen)
    message = _("Removed indicators: %(codes)s") % {"codes": ", ".join(removed)} if removed else ""
    audit_record(actor, Action.CREATE if before is None else Action.UPDATE, chosen, before=before, after=after,
                 scope=project, source=source, message=message)
    return chosen


@transaction.atomic
def indicator_own_create(actor, project: Project, data: dict[str, Any], *, source: str = Source.WEB
                         ) -> ProjectIndicator:
    """A project's own indicator (its values are recorded by hand)."""
    code = str(data.get("code", "")).strip().upper()
    errors = {}
    if not code or len(code) > 16 or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = _("Enter a code of letters, digits, - and _ (at most 16).")
    elif ProjectIndicator.objects.filter(project=project, code=code).exists():
        errors["code"] = _("The project already has an indicator %(code)s.") % {"code": code}
    if not str(data.get("name_sv", "")).strip():
        errors["name_sv"] = _("Enter a name.")
    unit = data.get("unit") or "number"
    if unit not in catalogue.UNITS:
        errors["unit"] = _("Unknown unit.")
    if errors:
        raise ValidationError(errors)
    indicator = ProjectIndicator(
        project=project, code=code, own=True, method="manual", unit=unit, name_sv=data["name_sv"].strip(),
        name_en=str(data.get("name_en", "")).strip(), definition_sv=str(data.get("definition_sv", "")).strip(),
        definition_en=str(data.get("definition_en", "")).strip(),
        order=ProjectIndicator.objects.filter(project=project, own=True).count(),
    )
    indicator.full_clean()
    indicator.save()
    audit_record(actor, Action.CREATE, indicator, after=snapshot(indicator), scope=project, source=source)
    return indicator


@transaction.atomic
def indicator_target_set(actor, indicator: ProjectIndicator, target: Any,
                         milestones: Iterable[tuple[dt.date, Any]] = (), *, source: str = Source.WEB
                         ) -> ProjectIndicator:
    """Set the target (``None``: none) and replace the milestones (date, cumulative value)."""
    indicator = ProjectIndicator.objects.select_for_update().get(pk=indicator.pk)
    before = {**snapshot(indicator), "milestones": _milestones(indicator)}
    indicator.target = None if target in (None, "") else _decimal(target, "target")
    parsed: dict[dt.date, Decimal] = {}
    project = indicator.project
    for day, value in milestones:
        if not isinstance(day, dt.date):
            raise ValidationError({"milestones": _("Each milestone needs a date.")})
        if day in parsed:
            raise ValidationError({"milestones": _("Two milestones on %(date)s.") % {"date": day.isoformat()}})
        if not project.start_date <= day <= project.effective_end:
            raise ValidationError({"milestones": _("The milestone %(date)s is outside the project's period.")
                                   % {"date": day.isoformat()}})
        parsed[day] = _decimal(value, "milestones")
        if indicator.target is not None and parsed[day] > indicator.target:
            raise ValidationError({"milestones": _("The milestone %(date)s is above the target.")
                                   % {"date": day.isoformat()}})
    indicator.save(update_fields=["target", "updated_at"])
    IndicatorMilestone.objects.filter(indicator=indicator).delete()
    IndicatorMilestone.objects.bulk_create(
        [IndicatorMilestone(indicator=indicator, date=d, value=v) for d, v in sorted(parsed.items())])
    after = {**snapshot(indicator), "milestones": _milestones(indicator)}
    if after != before:
        audit_record(actor, Action.UPDATE, indicator, before=before, after=after, scope=project, source=source)
    return indicator


def _milestones(indicator: ProjectIndicator) -> str:
    return "; ".join(f"{m.date.isoformat()}={m.value}" for m in indicator.milestones.order_by("date"))


@transaction.atomic
def indicator_entry_add(actor, indicator: ProjectIndicator, day: dt.date, value: Any, note: str, *,
                        source: str = Source.WEB) -> IndicatorEntry:
    """Record a value of a manual indicator (a negative value corrects an earlier one)."""
    if indicator.method != "manual":
        raise ValidationError({"value": _("%(code)s is counted by the platform; values cannot be recorded.")
                               % {"code": indicator.code}})
    if not isinstance(day, dt.date):
        raise ValidationError({"date": _("Enter a date.")})
    if not str(note or "").strip():
        raise ValidationError({"note": _("Say what the value rests on.")})
    entry = IndicatorEntry.objects.create(
        indicator=indicator, date=day, value=_decimal(value, "value", allow_negative=True), note=note.strip(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(actor, Action.CREATE, entry, after=snapshot(entry), scope=indicator.project, source=source)
    return entry
