"""Writing competence needs, match corrections and education offerings (transactional, audited).

Taxonomy writes are in :mod:`sim.competence.services_taxonomy`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent

from . import rules
from .models import (
    CompetenceNeed,
    Concept,
    EducationOffering,
    MatchCorrection,
    NeedConcept,
    NeedReferral,
    OfferingConcept,
    OfferingKind,
    OfferingOffer,
)

Action = AuditEvent.Action
Source = AuditEvent.Source

NEED_FIELDS = ("text", "people", "kind", "horizon", "urgency", "municipality", "status", "project", "assessment")
OFFERING_FIELDS = ("provider", "name", "kind", "municipality", "distance", "start_dates", "length_weeks", "seats",
                   "description", "url", "active")


def _concepts(concept_ids: Iterable[int]) -> list[Concept]:
    ids = list(dict.fromkeys(int(pk) for pk in concept_ids))
    found = Concept.objects.in_bulk(ids)
    missing = [pk for pk in ids if pk not in found or not found[pk].active]
    if missing:
        raise ValidationError({"concepts": _("Unknown or inactive concept: %(ids)s.") % {"ids": ", ".join(map(str, missing))}})
    return [found[pk] for pk in ids]


def _check_need(values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    text = " ".join(str(values.get("text") or "").split())
    if not text:
        errors["text"] = _("Describe the need.")
    elif len(text) > rules.MAX_NEED_TEXT:
        errors["text"] = _("At most %(max)d characters.") % {"max": rules.MAX_NEED_TEXT}
    values["text"] = text
    people = values.get("people")
    if not isinstance(people, int) or not 1 <= people <= 1000:
        errors["people"] = _("Between 1 and 1000 people.")
    for name, allowed in (("kind", rules.NEED_KINDS), ("horizon", rules.HORIZONS), ("urgency", rules.URGENCIES)):
        if values.get(name) not in allowed:
            errors[name] = _("Choose one of the options.")
    if errors:
        raise ValidationError(errors)


def remember_correction(actor, text: str, concept: Concept) -> None:
    """The advisor chose ``concept`` for ``text``: later suggestions for the same text put it first."""
    key = rules.normalise_text(text)
    if not key:
        return
    updated = MatchCorrection.objects.filter(text_key=key, concept=concept).update(
        times=F("times") + 1, chosen_by=actor if getattr(actor, "is_authenticated", False) else None)
    if not updated:
        try:
            with transaction.atomic():
                MatchCorrection.objects.create(text_key=key, concept=concept,
                                               chosen_by=actor if getattr(actor, "is_authenticated", False) else None)
        except IntegrityError:  # chosen at the same moment by someone else
            MatchCorrection.objects.filter(text_key=key, concept=concept).update(times=F("times") + 1)


def _set_need_concepts(actor, need: CompetenceNeed, concepts: list[Concept], scores: dict[int, float] | None) -> None:
    scores = scores or {}
    wanted = {concept.pk for concept in concepts}
    need.links.exclude(concept_id__in=wanted).delete()
    existing = set(need.links.values_list("concept_id", flat=True))
    user = actor if getattr(actor, "is_authenticated", False) else None
    for concept in concepts:
        if concept.pk in existing:
            need.links.filter(concept=concept, confirmed=False).update(confirmed=True, confirmed_by=user)
            continue
        NeedConcept.objects.create(need=need, concept=concept, confirmed=True, confirmed_by=user, score=scores.get(concept.pk))
        remember_correction(actor, need.text, concept)


@transaction.atomic
def need_create(actor, company, *, text: str, people: int = 1, kind: str = rules.RECRUIT, horizon: str = "6-12",
                urgency: str = "medium", municipality=None, concept_ids: Iterable[int] = (),
                scores: dict[int, float] | None = None, source: str = CompetenceNeed.Source.COMPANY_PAGE,
                project=None, assessment=None, audit_source: str = Source.WEB) -> CompetenceNeed:
    """A company's need; the chosen concepts are linked as confirmed and remembered as corrections."""
    values = {"text": text, "people": people, "kind": kind, "horizon": horizon, "urgency": urgency}
    _check_need(values)
    concepts = _concepts(concept_ids)
    need = CompetenceNeed.objects.create(
        company=company, municipality=municipality if municipality is not None else company.municipality,
        source=source, project=project, assessment=assessment,
        created_by=actor if getattr(actor, "is_authenticated", False) else None, **values,
    )
    _set_need_concepts(actor, need, concepts, scores)
    after = snapshot(need, NEED_FIELDS)
    after["concepts"] = sorted(concept.uri for concept in concepts)
    audit_record(actor, Action.CREATE, need, after=after, scope=company, source=audit_source)
    return need


@transaction.atomic
def need_update(actor, need: CompetenceNeed, *, concept_ids: Iterable[int] | None = None,
                scores: dict[int, float] | None = None, audit_source: str = Source.WEB, **changes: Any) -> CompetenceNeed:
    need = CompetenceNeed.objects.select_for_update().get(pk=need.pk)
    before = snapshot(need, NEED_FIELDS)
    before["concepts"] = sorted(need.concepts.values_list("uri", flat=True))
    values = {name: changes.get(name, getattr(need, name)) for name in ("text", "people", "kind", "horizon", "urgency")}
    _check_need(values)
    for name, value in values.items():
        setattr(need, name, value)
    if "municipality" in changes:
        need.municipality = changes["municipality"]
    if "status" in changes:
        if changes["status"] not in CompetenceNeed.Status.values:
            raise ValidationError({"status": _("Choose one of the options.")})
        need.status = changes["status"]
    need.save()
    if concept_ids is not None:
        _set_need_concepts(actor, need, _concepts(concept_ids), scores)
    after = snapshot(need, NEED_FIELDS)
    after["concepts"] = sorted(need.concepts.values_list("uri", flat=True))
    if before != after:
        audit_record(actor, Action.UPDATE, need, before=before, after=after, scope=need.company, source=audit_source)
    return need


@transaction.atomic
def needs_from_interview(actor, assessment, *, audit_source: str = Source.WEB) -> list[CompetenceNeed]:
    """The needs a completed growth interview's competence answers give (:func:`rules.interview_needs`).

    Lines already made into needs from this interview (same text) are skipped, so pressing the
    button twice creates nothing new. Concepts are not linked: the advisor confirms them per need.
    """
    from sim.assessments.rules import hooked_answers

    if getattr(assessment, "completed_at", None) is None:
        raise ValidationError(_("The interview is not completed."))
    hooked = hooked_answers(assessment.instrument(), assessment.answers or {})
    existing = {rules.normalise_text(text) for text in assessment.competence_needs.values_list("text", flat=True)}
    created = []
    for item in rules.interview_needs(hooked):
        if rules.normalise_text(item.text) in existing:
            continue
        created.append(need_create(
            actor, assessment.company, text=item.text, people=item.people, kind=item.kind, horizon=item.horizon,
            urgency=item.urgency, source=CompetenceNeed.Source.INTERVIEW, assessment=assessment,
            audit_source=audit_source,
        ))
        existing.add(rules.normalise_text(item.text))
    return created


# --- education offerings ------------------------------------------------------------------


def _check_offering(values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    values["name"] = " ".join(str(values.get("name") or "").split())
    if not values["name"]:
        errors["name"] = _("Give the offering a name.")
    elif len(values["name"]) > 255:
        errors["name"] = _("At most %(max)d characters.") % {"max": 255}
    if values.get("kind") not in OfferingKind.values:
        errors["kind"] = _("Choose one of the options.")
    if values.get("municipality") is None and not values.get("distance"):
        errors["municipality"] = _("Give a municipality, or mark the offering as distance learning.")
    starts = values.get("start_dates") or []
    try:
        values["start_dates"] = sorted({(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))).isoformat() for d in starts})
    except ValueError:
        errors["start_dates"] = _("Write start dates as YYYY-MM-DD.")
    for name in ("length_weeks", "seats"):
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or value < 0 or value > 100000):
            errors[name] = _("A whole number, 0 or more.")
    if errors:
        raise ValidationError(errors)


def _set_offering_concepts(actor, offering: EducationOffering, concepts: list[Concept], scores: dict[int, float] | None) -> None:
    scores = scores or {}
    wanted = {concept.pk for concept in concepts}
    offering.links.exclude(concept_id__in=wanted).delete()
    existing = set(offering.links.values_list("concept_id", flat=True))
    user = actor if getattr(actor, "is_authenticated", False) else None
    offering.links.filter(concept_id__in=wanted, confirmed=False).update(confirmed=True, confirmed_by=user)
    OfferingConcept.objects.bulk_create([
        OfferingConcept(offering=offering, concept=concept, confirmed=True, confirmed_by=user, score=scores.get(concept.pk))
        for concept in concepts if concept.pk not in existing
    ])


def _offering_after(offering: EducationOffering) -> dict[str, Any]:
    after = snapshot(offering, OFFERING_FIELDS)
    after["concepts"] = sorted(offering.concepts.values_list("uri", flat=True))
    return after


@transaction.atomic
def offering_create(actor, provider, *, concept_ids: Iterable[int] = (), scores: dict[int, float] | None = None,
                    audit_source: str = Source.WEB, **values: Any) -> EducationOffering:
    values = {name: values.get(name) for name in OFFERING_FIELDS if name not in ("provider", "active")} | {
        "distance": bool(values.get("distance")), "description": values.get("description") or "", "url": values.get("url") or ""}
    _check_offering(values)
    concepts = _concepts(concept_ids)
    if EducationOffering.objects.filter(provider=provider, name=values["name"], municipality=values["municipality"]).exists():
        raise ValidationError({"name": _("The provider already has an offering with this name in this place.")})
    offering = EducationOffering.objects.create(
        provider=provider, created_by=actor if getattr(actor, "is_authenticated", False) else None, **values)
    _set_offering_concepts(actor, offering, concepts, scores)
    audit_record(actor, Action.CREATE, offering, after=_offering_after(offering), scope=provider, source=audit_source)
    return offering


@transaction.atomic
def offering_update(actor, offering: EducationOffering, *, concept_ids: Iterable[int] | None = None,
                    scores: dict[int, float] | None = None, audit_source: str = Source.WEB, **changes: Any) -> EducationOffering:
    offering = EducationOffering.objects.select_for_update().get(pk=offering.pk)
    before = _offering_after(offering)
    values = {name: changes.get(name, getattr(offering, name))
              for name in OFFERING_FIELDS if name not in ("provider", "active")}
    values["distance"] = bool(values["distance"])
    _check_offering(values)
    clash = EducationOffering.objects.filter(provider=offering.provider, name=values["name"],
                                             municipality=values["municipality"]).exclude(pk=offering.pk)
    if clash.exists():
        raise ValidationError({"name": _("The provider already has an offering with this name in this place.")})
    for name, value in values.items():
        setattr(offering, name, value)
    if "active" in changes:
        offering.active = bool(changes["active"])
    offering.save()
    if concept_ids is not None:
        _set_offering_concepts(actor, offering, _concepts(concept_ids), scores)
    after = _offering_after(offering)
    if before != after:
        audit_record(actor, Action.UPDATE, offering, before=before, after=after, scope=offering.provider, source=audit_source)
    return offering


# --- Referring a company to an education offering ---------------------------------------------


def _offering_offer(actor, offering: EducationOffering, project, *, audit_source: str):
    """The project's offer that stands for ``offering`` (kind course, the offering's provider, its
    seats), created and audited the first time; referrals to the offering point to it. Only inside
    :func:`need_refer`, whose referral checks the actor's membership of the project and rolls this
    back with it when refused."""
    from sim.programmes.models import Offer, SupportForm

    link = OfferingOffer.objects.select_related("offer").filter(offering=offering, project=project).first()
    if link is not None:
        return link.offer
    offer = Offer.objects.create(
        project=project, title_sv=offering.name[:255], title_en=offering.name[:255], kind=Offer.Kind.COURSE,
        provider=offering.provider, description_sv=offering.description, capacity=offering.seats,
        support_form=SupportForm.NON_FINANCIAL, active=True,
    )
    OfferingOffer.objects.create(offering=offering, project=project, offer=offer)
    audit_record(actor, Action.CREATE, offer,
                 after=snapshot(offer, ["project", "title_sv", "kind", "provider", "capacity", "support_form"]),
                 scope=project, source=audit_source,
                 message=_("Offer for the education offering %(offering)s") % {"offering": offering.name})
    return offer


@transaction.atomic
def need_refer(actor, need: CompetenceNeed, offering: EducationOffering, project, *, advisor=None, notes: str = "",
               audit_source: str = Source.WEB):
    """Refer the need's company to an education offering in ``project`` (status proposed), through
    the project's offer for the offering (:func:`_offering_offer`), and remember the need it was for.
    The referral then follows its statuses like any other (a started referral counts as support)."""
    from sim.programmes import services as programmes

    # As stored now, not as the caller last read them.
    need = CompetenceNeed.objects.select_for_update().select_related("company").get(pk=need.pk)
    offering = EducationOffering.objects.select_related("provider").get(pk=offering.pk)
    if need.status != CompetenceNeed.Status.OPEN:
        raise ValidationError(_("Only an open need can be referred to an education offering."))
    if not offering.active:
        raise ValidationError({"offering": _("The education offering %(offering)s is no longer active.") % {
            "offering": offering.name}})
    offer = _offering_offer(actor, offering, project, audit_source=audit_source)
    text = notes.strip() or _("Competence need: %(need)s (%(people)s people)") % {"need": need.text, "people": need.people}
    referral = programmes.referral_create(actor, need.company, offer, advisor=advisor, notes=text, project=project,
                                          source=audit_source)
    NeedReferral.objects.create(need=need, referral=referral, offering=offering)
    audit_record(actor, Action.UPDATE, need, scope=need.company, source=audit_source,
                 after={"referral": referral.pk, "offering": offering.pk},
                 message=_("Referred to the education offering %(offering)s") % {"offering": offering.name})
    return referral
