"""Every write of assessments, needs and growth plans: validate, save and audit in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.programmes.models import FocusArea

from . import rules
from .models import (
    Assessment,
    AssessmentPhase,
    AssessmentStatus,
    GrowthAction,
    GrowthGoal,
    GrowthPlan,
    InstrumentVersion,
    Need,
    NeedStatus,
    SelfAssessmentLink,
)

Action = AuditEvent.Action
Source = AuditEvent.Source

EDITABLE_BY_ADVISOR = (AssessmentStatus.DRAFT, AssessmentStatus.AWAITING_COMPANY, AssessmentStatus.SUBMITTED)
EDITABLE_BY_COMPANY = (AssessmentStatus.AWAITING_COMPANY,)


class AnswerConflict(ValidationError):
    """Someone else changed this answer since the editor loaded it."""

    def __init__(self, message: str, *, current_value: Any, current_version: int):
        super().__init__(message, code="conflict")
        self.current_value = current_value
        self.current_version = current_version


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Starting ---------------------------------------------------------------------------------


def latest_instrument_version(key: str) -> InstrumentVersion:
    version = InstrumentVersion.objects.filter(key=key).order_by("-version").first()
    if version is None:
        raise ValidationError({"instrument": _("No instrument called %(key)s is published.") % {"key": key}})
    return version


@transaction.atomic
def assessment_start(
    actor, company, instrument_key: str, *, phase: str = AssessmentPhase.T0, conducted_on: dt.date | None = None,
    version: int | None = None, source: str = Source.WEB,
) -> Assessment:
    if company.is_archived:
        raise ValidationError(_("Restore the company before starting an assessment."))
    if phase not in AssessmentPhase.values:
        raise ValidationError({"phase": _("Choose T0 or follow-up.")})
    if version is None:
        instrument_version = latest_instrument_version(instrument_key)
    else:
        instrument_version = InstrumentVersion.objects.filter(key=instrument_key, version=version).first()
        if instrument_version is None:
            raise ValidationError({"instrument": _("Version %(version)s of %(key)s is not published.") % {
                "version": version, "key": instrument_key}})
    assessment = Assessment.objects.create(
        company=company, instrument_version=instrument_version, phase=phase,
        conducted_on=conducted_on or timezone.localdate(), led_by=_user(actor), created_by=_user(actor),
    )
    audit_record(actor, Action.CREATE, assessment, after=snapshot(assessment, ["instrument_version", "phase", "conducted_on", "led_by"]),
                 scope=company, source=source)
    return assessment


# --- Answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSaved:
    question_id: str
    value: Any
    version: int
    changed: bool


def _editable(assessment: Assessment, *, by_company: bool) -> None:
    allowed = EDITABLE_BY_COMPANY if by_company else EDITABLE_BY_ADVISOR
    if assessment.status not in allowed:
        if assessment.is_locked:
            raise ValidationError(_("This assessment is completed and locked. Correct it to change answers."))
        raise ValidationError(_("This assessment cannot be changed now."))


@transaction.atomic
def assessment_answer(
    actor, assessment: Assessment, question_id: str, raw_value: Any, *, expected_version: int | None = None,
    by_company: bool = False, source: str = Source.WEB,
) -> AnswerSaved:
    """Save one answer. `expected_version` is the version the editor saw; a mismatch is a conflict.

    An empty value removes the answer.
    """
    assessment = Assessment.objects.select_for_update().select_related("instrument_version", "company").get(pk=assessment.pk)
    _editable(assessment, by_company=by_company)
    instrument = assessment.instrument()
    try:
        question = instrument.question(question_id)
    except KeyError as exc:
        raise ValidationError(_("This instrument has no question %(id)s.") % {"id": question_id}) from exc
    try:
        value = None if rules.is_empty(raw_value) else rules.validate_answer(question, raw_value)
    except rules.AnswerError as exc:
        raise ValidationError({question_id: exc.message}) from exc

    current = assessment.answers.get(question_id)
    current_version = int(assessment.answer_versions.get(question_id, 0))
    if expected_version is not None and expected_version != current_version and current != value:
        raise AnswerConflict(
            _("Someone else changed this answer while you were editing. It now reads: %(value)s. "
              "Check it and save again if yours should stand.") % {"value": _display(current)},
            current_value=current, current_version=current_version,
        )
    if current == value:
        return AnswerSaved(question_id, value, current_version, changed=False)
    if value is None:
        assessment.answers.pop(question_id, None)
    else:
        assessment.answers[question_id] = value
    assessment.answer_versions[question_id] = current_version + 1
    assessment.save(update_fields=["answers", "answer_versions", "updated_at"])
    audit_record(actor, Action.UPDATE, assessment, before={question_id: current}, after={question_id: value},
                 source=source)
    return AnswerSaved(question_id, value, current_version + 1, changed=True)


def _display(value: Any) -> str:
    if value is None:
        return _("no answer")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@transaction.atomic
def assessment_set_details(actor, assessment: Assessment, *, notes: str | None = None, phase: str | None = None,
                           conducted_on: dt.date | None = None, source: str = Source.WEB) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    before = snapshot(assessment, ["notes", "phase", "conducted_on"])
    if assessment.is_locked and (phase is not None or conducted_on is not None):
        raise ValidationError(_("This assessment is completed and locked. Correct it to change answers."))
    if notes is not None:
        assessment.notes = notes
    if phase is not None:
        if phase not in AssessmentPhase.values:
            raise ValidationError({"phase": _("Choose T0 or follow-up.")})
        assessment.phase = phase
    if conducted_on is not None:
        assessment.conducted_on = conducted_on
    after = snapshot(assessment, ["notes", "phase", "conducted_on"])
    if after != before:
        assessment.save()
        audit_record(actor, Action.UPDATE, assessment, before=before, after=after, source=source)
    return assessment


# --- Completing and correcting --------------------------------------------------------------


@transaction.atomic
def assessment_complete(actor, assessment: Assessment, *, source: str = Source.WEB) -> Assessment:
    """Validate (every visible required question answered, every answer valid), score and lock."""
    assessment = Assessment.objects.select_for_update().select_related("instrument_version", "company").get(pk=assessment.pk)
    if assessment.is_locked:
        raise ValidationError(_("This assessment is already completed."))
    instrument = assessment.instrument()
    normalised, issues = rules.validate_answers(instrument, assessment.answers)
    if issues:
        raise ValidationError([f"{issue.question}: {issue.message}" for issue in issues])
    missing = rules.missing_required(instrument, normalised)
    if missing:
        labels = [instrument.question(qid).text.get(_language()) for qid in missing]
        raise ValidationError(
            _("Answer the required questions before completing: %(questions)s") % {"questions": "; ".join(labels)},
            code="missing_required",
        )
    result = rules.score(instrument, normalised)
    before = snapshot(assessment, ["status"])
    assessment.status = AssessmentStatus.COMPLETED
    assessment.completed_at = timezone.now()
    assessment.completed_by = _user(actor)
    assessment.scores = rules.score_to_json(result)
    assessment.overall_score = result.overall
    assessment.overall_band = result.band or ""
    assessment.save()
    audit_record(actor, Action.UPDATE, assessment, before=before,
                 after={"status": assessment.status, "overall_score": str(result.overall) if result.overall is not None else None},
                 scope=assessment.company, message=_("Completed"), source=source)
    if assessment.revises_id:
        previous = Assessment.objects.select_for_update().get(pk=assessment.revises_id)
        previous.status = AssessmentStatus.SUPERSEDED
        previous.save(update_fields=["status", "updated_at"])
        audit_record(actor, Action.UPDATE, previous, before={"status": AssessmentStatus.COMPLETED},
                     after={"status": AssessmentStatus.SUPERSEDED}, scope=assessment.company,
                     message=_("Superseded by a correction: %(reason)s") % {"reason": assessment.revision_reason},
                     source=source)
        Need.objects.filter(assessment=previous, source=Need.Source.DERIVED, status=NeedStatus.OPEN).update(
            assessment=assessment
        )
    needs_derive(actor, assessment, source=source)
    return assessment


def _language() -> str:
    from django.utils.translation import get_language

    return "en" if (get_language() or "sv").startswith("en") else "sv"


@transaction.atomic
def assessment_correct(actor, assessment: Assessment, *, reason: str, source: str = Source.WEB) -> Assessment:
    """Open a revision of a completed assessment: a new draft with the same answers and a reason."""
    if assessment.status != AssessmentStatus.COMPLETED:
        raise ValidationError(_("Only a completed assessment can be corrected."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the assessment is corrected.")})
    if assessment.revisions.exclude(status=AssessmentStatus.SUPERSEDED).exists():
        raise ValidationError(_("A correction of this assessment is already in progress."))
    revision = Assessment.objects.create(
        company=assessment.company, instrument_version=assessment.instrument_version, phase=assessment.phase,
        conducted_on=assessment.conducted_on, led_by=assessment.led_by, answers=dict(assessment.answers),
        answer_versions=dict(assessment.answer_versions), notes=assessment.notes, revises=assessment,
        revision_reason=reason.strip(), created_by=_user(actor),
    )
    audit_record(actor, Action.CREATE, revision, after={"revises": assessment.pk, "revision_reason": revision.revision_reason},
                 scope=assessment.company, message=_("Correction opened"), source=source)
    return revision


# --- Self-assessment links ------------------------------------------------------------------


@transaction.atomic
def self_assessment_invite(
    actor, assessment: Assessment, *, email: str, contact=None, valid_days: int = 14, base_url: str = "",
    source: str = Source.WEB,
) -> tuple[SelfAssessmentLink, str]:
    """Send a personal link to the company. Returns the link and the URL (shown once to the advisor)."""
    from django.core.validators import validate_email
    from django.urls import reverse

    if assessment.status not in (AssessmentStatus.DRAFT, AssessmentStatus.AWAITING_COMPANY):
        raise ValidationError(_("A link can only be sent for an assessment in progress."))
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from exc
    if contact is not None and contact.company_id != assessment.company_id:
        raise ValidationError({"contact": _("The contact must belong to the company.")})
    if not 1 <= valid_days <= 90:
        raise ValidationError({"valid_days": _("A link can be valid for 1 to 90 days.")})
    secret = SelfAssessmentLink.new_secret()
    link = SelfAssessmentLink.objects.create(
        assessment=assessment, contact=contact, email=email, digest=SelfAssessmentLink.digest_of(secret),
        created_by=_user(actor), expires_at=timezone.now() + dt.timedelta(days=valid_days),
    )
    url = base_url.rstrip("/") + reverse("assessments:self", args=[secret])
    if assessment.status == AssessmentStatus.DRAFT:
        assessment.status = AssessmentStatus.AWAITING_COMPANY
        assessment.save(update_fields=["status", "updated_at"])
    instrument = assessment.instrument_version
    send_mail(
        subject=_("Self-assessment: %(title)s") % {"title": instrument.title},
        message=_(
            "Hello,\n\nyou are invited to fill in %(title)s for %(company)s. Open this personal link "
            "(valid until %(expires)s; no account needed):\n\n%(url)s\n\nYour answers are saved as you go. "
            "When you are done, press Submit and your advisor will review them with you.\n"
        ) % {"title": instrument.title, "company": assessment.company.name,
             "expires": timezone.localtime(link.expires_at).strftime("%Y-%m-%d"), "url": url},
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
    audit_record(actor, Action.UPDATE, assessment, after={"self_assessment_link_sent_to": email},
                 scope=assessment.company, source=source)
    return link, url


def self_assessment_link_for(secret: str) -> SelfAssessmentLink | None:
    """The usable link behind a secret, or None (unknown, expired, revoked or already submitted)."""
    if not secret or len(secret) > 100:
        return None
    link = (
        SelfAssessmentLink.objects.select_related("assessment__company", "assessment__instrument_version")
        .filter(digest=SelfAssessmentLink.digest_of(secret)).first()
    )
    if link is None or not link.is_usable:
        return None
    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > dt.timedelta(minutes=1):
        SelfAssessmentLink.objects.filter(pk=link.pk).update(last_used_at=now)
    return link


@transaction.atomic
def self_assessment_submit(link: SelfAssessmentLink) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=link.assessment_id)
    if assessment.status != AssessmentStatus.AWAITING_COMPANY:
        raise ValidationError(_("This assessment cannot be changed now."))
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.save(update_fields=["status", "updated_at"])
    link.submitted_at = timezone.now()
    link.save(update_fields=["submitted_at"])
    SelfAssessmentLink.objects.filter(assessment=assessment, submitted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=link.submitted_at
    )
    audit_record(None, Action.UPDATE, assessment, before={"status": AssessmentStatus.AWAITING_COMPANY},
                 after={"status": AssessmentStatus.SUBMITTED}, scope=assessment.company,
                 message=_("Submitted by %(email)s") % {"email": link.email}, source=Source.WEB)
    return assessment


@transaction.atomic
def self_assessment_revoke(actor, link: SelfAssessmentLink, *, source: str = Source.WEB) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(actor, Action.UPDATE, link.assessment, after={"self_assessment_link_revoked": link.email},
                     scope=link.assessment.company, source=source)


# --- Needs ------------------------------------------------------------------------------------


def _focus_area(key: str | None) -> FocusArea | None:
    return FocusArea.objects.filter(key=key).first() if key else None


@transaction.atomic
def needs_derive(actor, assessment: Assessment, *, source: str = Source.WEB) -> list[Need]:
    """Create needs for dimensions scored below their threshold (replacing earlier derived open ones)."""
    instrument = assessment.instrument()
    result = rules.score(instrument, assessment.answers)
    derived = rules.derive_needs(instrument, result)
    language = _language()
    existing = {n.dimension: n for n in Need.objects.filter(
        assessment=assessment, source=Need.Source.DERIVED, status=NeedStatus.OPEN)}
    created: list[Need] = []
    for need in derived:
        title = need.title.get(language)
        rationale = need.rationale.get(language)
        current = existing.pop(need.dimension, None)
        if current is not None:
            if (current.score, current.priority) != (need.score, need.priority):
                current.score, current.priority = need.score, need.priority
                current.save(update_fields=["score", "priority", "updated_at"])
            continue
        row = Need.objects.create(
            company=assessment.company, assessment=assessment, focus_area=_focus_area(need.focus_area),
            dimension=need.dimension, title=title, rationale=rationale, priority=need.priority, score=need.score,
            source=Need.Source.DERIVED, created_by=_user(actor),
        )
        audit_record(actor, Action.CREATE, row, after=snapshot(row), scope=assessment.company, source=source)
        created.append(row)
    for stale in existing.values():
        stale.status = NeedStatus.DISMISSED
        stale.save(update_fields=["status", "updated_at"])
    # A newer completed assessment of the same instrument replaces the derived needs of older ones:
    # the ones still open are marked addressed when the new scores no longer show them, and are
    # superseded by the new need when they do.
    older = Need.objects.filter(
        company=assessment.company, source=Need.Source.DERIVED, status=NeedStatus.OPEN,
        assessment__instrument_version__key=assessment.instrument_version.key,
        assessment__conducted_on__lte=assessment.conducted_on,
    ).exclude(assessment=assessment)
    still_needed = {need.dimension for need in derived}
    for need in older:
        need.status = NeedStatus.DISMISSED if need.dimension in still_needed else NeedStatus.ADDRESSED
        need.save(update_fields=["status", "updated_at"])
        audit_record(actor, Action.UPDATE, need, before={"status": NeedStatus.OPEN}, after={"status": need.status},
                     scope=assessment.company, message=_("Replaced by the results of %(assessment)s") % {
                         "assessment": assessment}, source=source)
    return created


NEED_FIELDS = ("title", "rationale", "priority", "focus_area", "status")


@transaction.atomic
def need_save(actor, company, data: dict[str, Any], *, need: Need | None = None, assessment: Assessment | None = None,
              source: str = Source.WEB) -> Need:
    created = need is None
    if created:
        need = Need(company=company, assessment=assessment, source=Need.Source.ADVISOR, created_by=_user(actor))
    elif need.company_id != company.pk:
        raise ValidationError(_("The need belongs to another company."))
    before = {} if created else snapshot(need, NEED_FIELDS)
    for key, value in data.items():
        if key not in NEED_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(need, key, value)
    if not (need.title or "").strip():
        raise ValidationError({"title": _("Describe the need.")})
    if not 1 <= int(need.priority or 0) <= 99:
        raise ValidationError({"priority": _("Priority is a number from 1 (most urgent) to 99.")})
    need.full_clean(exclude=["company", "assessment", "created_by"])
    need.save()
    after = snapshot(need, NEED_FIELDS)
    if created or after != before:
        audit_record(actor, Action.CREATE if created else Action.UPDATE, need, before=before, after=after,
                     scope=company, source=source)
    return need


# --- Growth plans -----------------------------------------------------------------------------


@transaction.atomic
def growth_plan_create(actor, company, *, title: str = "", assessment: Assessment | None = None,
                       from_needs: bool = True, source: str = Source.WEB) -> GrowthPlan:
    """Draft a plan; with `from_needs`, one action per open need, most urgent first."""
    if company.is_archived:
        raise ValidationError(_("Restore the company before drafting a growth plan."))
    if assessment is not None and assessment.company_id != company.pk:
        raise ValidationError(_("The assessment belongs to another company."))
    today = timezone.localdate()
    try:
        period_end = today.replace(year=today.year + 2)
    except ValueError:  # 29 February
        period_end = today.replace(year=today.year + 2, day=28)
    plan = GrowthPlan.objects.create(
        company=company, assessment=assessment, created_by=_user(actor),
        title=title.strip() or _("Growth plan %(year)s") % {"year": today.year},
        period_start=today, period_end=period_end,
    )
    audit_record(actor, Action.CREATE, plan, after=snapshot(plan), scope=company, source=source)
    if from_needs:
        needs = Need.objects.filter(company=company, status=NeedStatus.OPEN).select_related("focus_area")
        if assessment is not None:
            # That assessment's needs and the advisor's own, not the derived needs of other assessments.
            needs = needs.filter(Q(assessment=assessment) | Q(source=Need.Source.ADVISOR))
        for order, need in enumerate(needs.order_by("priority", "id"), start=1):
            growth_action_save(actor, plan, {
                "title": need.title, "description": need.rationale, "focus_area": need.focus_area, "need": need,
                "order": order,
            }, source=source)
    return plan


PLAN_FIELDS = ("title", "summary", "status", "period_start", "period_end", "agreed_on", "shared_with_company")


@transaction.atomic
def growth_plan_update(actor, plan: GrowthPlan, data: dict[str, Any], *, source: str = Source.WEB) -> GrowthPlan:
    before = snapshot(plan, PLAN_FIELDS)
    for key, value in data.items():
        if key not in PLAN_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(plan, key, value)
    if plan.period_start and plan.period_end and plan.period_end < plan.period_start:
        raise ValidationError({"period_end": _("The plan cannot end before it starts.")})
    if plan.status == "agreed" and not plan.agreed_on:
        plan.agreed_on = timezone.localdate()
    plan.full_clean(exclude=["company", "assessment", "created_by"])
    after = snapshot(plan, PLAN_FIELDS)
    if after != before:
        plan.save()
        audit_record(actor, Action.UPDATE, plan, before=before, after=after, scope=plan.company, source=source)
    return plan


GOAL_FIELDS = ("title", "metric", "baseline", "target", "unit", "target_date", "order")
ACTION_FIELDS = ("title", "description", "focus_area", "need", "referral", "intervention", "owner", "due_date", "status", "order")


def _save_part(actor, plan: GrowthPlan, model, fields, data: dict[str, Any], instance, source: str):
    created = instance is None
    if created:
        instance = model(plan=plan)
    elif instance.plan_id != plan.pk:
        raise ValidationError(_("This belongs to another plan."))
    before = {} if created else snapshot(instance, fields)
    for key, value in data.items():
        if key not in fields:
            raise ValidationError({key: _("Unknown field.")})
        setattr(instance, key, value)
    if not (instance.title or "").strip():
        raise ValidationError({"title": _("A title is required.")})
    instance.full_clean(exclude=["plan", "need", "focus_area", "referral", "intervention"])
    after = snapshot(instance, fields)
    if created or after != before:
        instance.save()
        audit_record(actor, Action.CREATE if created else Action.UPDATE, instance, before=before, after=after,
                     scope=plan.company, source=source)
    return instance


@transaction.atomic
def growth_goal_save(actor, plan: GrowthPlan, data: dict[str, Any], *, goal: GrowthGoal | None = None,
                     source: str = Source.WEB) -> GrowthGoal:
    for key in ("baseline", "target"):
        if data.get(key) is not None and Decimal(data[key]) < 0 and data.get("metric") != "other":
            raise ValidationError({key: _("Cannot be negative.")})
    return _save_part(actor, plan, GrowthGoal, GOAL_FIELDS, data, goal, source)


@transaction.atomic
def growth_action_save(actor, plan: GrowthPlan, data: dict[str, Any], *, action: GrowthAction | None = None,
                       source: str = Source.WEB) -> GrowthAction:
    need = data.get("need")
    if need is not None and need.company_id != plan.company_id:
        raise ValidationError({"need": _("The need belongs to another company.")})
    for key in ("referral", "intervention"):
        linked = data.get(key)
        if linked is not None and linked.company_id != plan.company_id:
            raise ValidationError({key: _("This belongs to another company.")})
    return _save_part(actor, plan, GrowthAction, ACTION_FIELDS, data, action, source)


@transaction.atomic
def growth_part_remove(actor, part, *, source: str = Source.WEB) -> None:
    """Remove a goal or an action from a plan that is still a draft (agreed plans keep theirs)."""
    plan = part.plan
    if plan.status != "draft":
        raise ValidationError(_("Only a draft plan can have goals or actions removed; mark the action cancelled instead."))
    audit_record(actor, Action.ARCHIVE, part, before=snapshot(part), after={}, scope=plan.company, source=source)
    part.delete()
