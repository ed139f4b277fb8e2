"""Every write of the offer catalogue: validate, save and audit in one transaction.

The eligibility rules arrive as JSON (from the API, or built by the editor form) and are checked
twice: their shape by ``rules.parse_eligibility`` (pure), then against the reference data
(counties, municipalities, instrument dimensions that exist). They are stored normalised
(``rules.eligibility_to_json``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sim.companies.models import County, Municipality
from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent

from . import rules
from .models import FocusArea, Offer, Organisation, Project

Action = AuditEvent.Action
Source = AuditEvent.Source

#: Fields a caller may set (plus ``focus_areas`` and ``eligibility``).
OFFER_FIELDS = (
    "title_sv", "title_en", "kind", "internal", "provider", "description_sv", "description_en",
    "support_form", "is_state_aid", "aid_scheme", "typical_value_sek", "typical_hours", "capacity",
    "available_from", "available_to", "contact_name", "contact_email", "active",
)
_TEXT_FIELDS = {"title_sv", "title_en", "description_sv", "description_en", "aid_scheme", "contact_name", "contact_email"}


def eligibility_validate(data: Any) -> dict[str, Any]:
    """The eligibility JSON checked and normalised; ``ValidationError`` on the field
    ``eligibility`` listing every problem."""
    from .recommendations import known_dimensions, labels

    try:
        parsed = rules.parse_eligibility(data)
    except rules.EligibilityError as exc:
        raise ValidationError({"eligibility": [f"{path}: {message}" if path else message for path, message in exc.issues]}) from exc
    problems: list[str] = []
    if parsed.counties:
        unknown = sorted(parsed.counties - set(County.objects.filter(code__in=parsed.counties).values_list("code", flat=True)))
        if unknown:
            problems.append(_("counties: no such county: %(codes)s") % {"codes": ", ".join(unknown)})
    if parsed.municipalities:
        known = set(Municipality.objects.filter(code__in=parsed.municipalities).values_list("code", flat=True))
        unknown = sorted(parsed.municipalities - known)
        if unknown:
            problems.append(_("municipalities: no such municipality: %(codes)s") % {"codes": ", ".join(unknown)})
    if parsed.scores:
        dimensions = known_dimensions()
        instruments = {instrument for instrument, _dimension in dimensions}
        for index, rule in enumerate(parsed.scores):
            if rule.instrument not in instruments:
                problems.append(_("scores[%(index)s].instrument: no published instrument “%(key)s”") % {
                    "index": index, "key": rule.instrument})
            elif (rule.instrument, rule.dimension) not in dimensions:
                problems.append(_("scores[%(index)s].dimension: %(instrument)s has no dimension “%(key)s”") % {
                    "index": index, "instrument": labels().instrument(rule.instrument), "key": rule.dimension})
    if problems:
        raise ValidationError({"eligibility": problems})
    return rules.eligibility_to_json(parsed)


def _focus_areas(project: Project, value: Iterable[Any]) -> list[FocusArea]:
    """Focus areas given as objects, ids or keys; they must be the project's (when it has any)."""
    wanted = list(value or [])
    keys = [item.key if isinstance(item, FocusArea) else item for item in wanted]
    found = {fa.key: fa for fa in FocusArea.objects.filter(key__in=[k for k in keys if isinstance(k, str)])}
    found_ids = {fa.pk: fa for fa in FocusArea.objects.filter(pk__in=[k for k in keys if isinstance(k, int)])}
    result: list[FocusArea] = []
    unknown: list[str] = []
    for key in keys:
        area = found.get(key) if isinstance(key, str) else found_ids.get(key)
        if area is None:
            unknown.append(str(key))
        elif area not in result:
            result.append(area)
    if unknown:
        raise ValidationError({"focus_areas": _("No such focus area: %(keys)s") % {"keys": ", ".join(unknown)}})
    allowed = set(project.focus_areas.values_list("pk", flat=True))
    outside = [area.key for area in result if allowed and area.pk not in allowed]
    if outside:
        raise ValidationError({"focus_areas": _("Not a focus area of the project: %(keys)s") % {"keys": ", ".join(outside)}})
    return result


def _apply(offer: Offer, data: dict[str, Any]) -> None:
    for name in OFFER_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in _TEXT_FIELDS and value is None:
            value = ""
        if name == "provider" and value is not None and not isinstance(value, Organisation):
            provider = Organisation.objects.filter(pk=value).first()
            if provider is None:
                raise ValidationError({"provider": _("No such organisation.")})
            value = provider
        if name in {"internal", "is_state_aid", "active"} and value is None:
            continue
        setattr(offer, name, value)


def _snapshot(offer: Offer, focus_keys: list[str]) -> dict[str, Any]:
    data = snapshot(offer)
    data["focus_areas"] = sorted(focus_keys)
    return data


def _full_clean(offer: Offer) -> None:
    offer.full_clean()
    if offer.is_state_aid is False and offer.aid_scheme:
        raise ValidationError({"aid_scheme": _("Only state aid has an aid scheme.")})


@transaction.atomic
def offer_create(actor, project: Project, data: dict[str, Any], *, source: str = Source.WEB) -> Offer:
    offer = Offer(project=project)
    _apply(offer, data)
    offer.eligibility = eligibility_validate(data.get("eligibility") or {})
    areas = _focus_areas(project, data.get("focus_areas") or [])
    _full_clean(offer)
    offer.save()
    offer.focus_areas.set(areas)
    audit_record(actor, Action.CREATE, offer, after=_snapshot(offer, [a.key for a in areas]), source=source)
    return offer


@transaction.atomic
def offer_update(actor, offer: Offer, data: dict[str, Any], *, source: str = Source.WEB) -> Offer:
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    before_keys = list(offer.focus_areas.values_list("key", flat=True))
    before = _snapshot(offer, before_keys)
    _apply(offer, data)
    if "eligibility" in data:
        offer.eligibility = eligibility_validate(data["eligibility"] or {})
    areas = _focus_areas(offer.project, data["focus_areas"]) if "focus_areas" in data else None
    _full_clean(offer)
    after = _snapshot(offer, [a.key for a in areas] if areas is not None else before_keys)
    if after != before:
        offer.save()
        if areas is not None:
            offer.focus_areas.set(areas)
        audit_record(actor, Action.UPDATE, offer, before=before, after=after, source=source)
    return offer


@transaction.atomic
def offer_set_active(actor, offer: Offer, active: bool, *, reason: str = "", source: str = Source.WEB) -> Offer:
    """Open or close an offer for referrals (an offer is never deleted: referrals point at it)."""
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    if offer.active == active:
        return offer
    offer.active = active
    offer.save(update_fields=["active", "updated_at"])
    message = reason or (_("Opened for referrals.") if active else _("Closed for referrals."))
    audit_record(actor, Action.UPDATE, offer, before={"active": not active}, after={"active": active},
                 message=message, source=source)
    return offer

