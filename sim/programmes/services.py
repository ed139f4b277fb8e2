"""Writes of routing: referrals (slussa in), company-specific interventions and follow-ups.

Each function validates, applies the state machine of `states.py`, saves and audits in one
transaction. Refusals are `ValidationError`s with a message a person can act on; a refused
status change is a `TransitionRefused`, a refused approval an `ApprovalRefused` (with the de
minimis and budget figures).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.core.roles import Role, has_role

from . import aid, states
from .models import (
    FollowUp,
    Intervention,
    InterventionStatus,
    Offer,
    Project,
    ProjectMembership,
    Referral,
    ReferralStatus,
    SupportForm,
)
from .projects import projects_for

Action = AuditEvent.Action
Source = AuditEvent.Source

#: How long a referral may stay in one open status before a follow-up is created.
STALE_REFERRAL_DAYS = 30
#: When the follow-up assessment (T1) is due after an intervention is delivered.
T1_AFTER_MONTHS = 6

REFERRAL_FIELDS = ["project", "company", "offer", "status", "advisor", *states.REFERRAL_DATE_FIELD.values(), "reason", "notes"]
INTERVENTION_FIELDS = [
    "project", "company", "title", "focus_area", "description", "provider", "provider_name", "start_date", "end_date",
    "budget_sek", "own_cash_sek", "own_hours", "support_form", "is_state_aid", "aid_amount_sek", "status",
    "approved_by", "approved_on", "decision_document", "deliverables", "results", "started_on", "delivered_on",
    "closed_on", "cancelled_on", "cancel_reason",
]
FOLLOW_UP_FIELDS = ["project", "company", "title", "due_on", "assigned_to", "kind", "source_key", "done_at", "notes"]

# Decision documents: PDF, images and office documents, recognised by extension and content.
DECISION_MAX_BYTES = 10 * 1024 * 1024
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
DECISION_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".docx": _ZIP, ".xlsx": _ZIP, ".pptx": _ZIP, ".odt": _ZIP, ".ods": _ZIP, ".odp": _ZIP,
    ".doc": _OLE, ".xls": _OLE, ".ppt": _OLE,
}


class TransitionRefused(ValidationError):
    """The state machine does not allow this move (or its preconditions are not met)."""

    def __init__(self, message: str):
        super().__init__(message, code="transition")


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _sek(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


def _check_project_access(actor, project: Project) -> None:
    """A person works only inside their projects (system and CLI writes have no actor)."""
    if _user(actor) is not None and not projects_for(actor).filter(pk=project.pk).exists():
        raise ValidationError(_("You are not a member of the project %(project)s.") % {"project": project.name})


def _works_in(user, project: Project) -> bool:
    """Members of the project, and administrators (who see every project)."""
    if user.is_superuser or has_role(user, Role.ADMIN):
        return True
    return ProjectMembership.objects.filter(project=project, user=user).exists()


def _check_member(user, project: Project, field_name: str) -> None:
    if user is None:
        return
    if not _works_in(user, project):
        raise ValidationError({field_name: _("%(user)s is not a member of the project %(project)s.") % {
            "user": user.get_full_name() or user.get_username(), "project": project.name}})


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it has no such day (31 Aug + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _assignee(project: Project, *candidates):
    """The first candidate who works in the project (automatic follow-ups go to someone who can see them)."""
    for user in candidates:
        if user is not None and _works_in(user, project):
            return user
    return None


def _not_in_future(on: dt.date, field_name: str = "on") -> None:
    if on > timezone.localdate():
        raise ValidationError({field_name: _("The date cannot be in the future.")})


# --- Referrals ------------------------------------------------------------------------------


def _open_referral(company, offer, *, exclude: int | None = None) -> Referral | None:
    queryset = Referral.objects.filter(company=company, offer=offer, status__in=states.REFERRAL_OPEN)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.first()


def _duplicate_message(existing: Referral) -> str:
    return _(
        "%(company)s already has an open referral to %(offer)s (%(status)s since %(date)s). "
        "Move that one on instead of referring again."
    ) % {
        "company": existing.company.name, "offer": existing.offer.title, "status": existing.get_status_display(),
        "date": getattr(existing, states.REFERRAL_DATE_FIELD[existing.status]).isoformat(),
    }


@transaction.atomic
def referral_create(
    actor, company, offer: Offer, *, advisor=None, notes: str = "", proposed_on: dt.date | None = None,
    project: Project | None = None, source: str = Source.WEB,
) -> Referral:
    """Refer `company` to `offer` (status proposed). The referral belongs to the offer's project."""
    offer = Offer.objects.select_related("project").get(pk=offer.pk)
    if project is not None and project.pk != offer.project_id:
        raise ValidationError({"offer": _("The offer %(offer)s belongs to another project (%(project)s).") % {
            "offer": offer.title, "project": offer.project.name}})
    project = offer.project
    _check_project_access(actor, project)
    if company.is_archived:
        raise ValidationError(_("%(company)s is archived; restore it before referring it.") % {"company": company.name})
    if not offer.active:
        raise ValidationError({"offer": _("The offer %(offer)s is not open for referrals.") % {"offer": offer.title}})
    today = timezone.localdate()
    if offer.available_to is not None and offer.available_to < today:
        raise ValidationError({"offer": _("The offer %(offer)s ended on %(date)s.") % {
            "offer": offer.title, "date": offer.available_to.isoformat()}})
    proposed_on = proposed_on or today
    _not_in_future(proposed_on, "proposed_on")
    advisor = advisor if advisor is not None else _user(actor)
    _check_member(advisor, project, "advisor")
    existing = _open_referral(company, offer)
    if existing is not None:
        raise ValidationError(_duplicate_message(existing), code="duplicate")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                project=project, company=company, offer=offer, advisor=advisor, notes=notes.strip(),
                proposed_on=proposed_on, status=ReferralStatus.PROPOSED, status_changed_at=timezone.now(),
                created_by=_user(actor),
            )
    except IntegrityError:  # someone referred it in the same moment
        existing = _open_referral(company, offer)
        raise ValidationError(_duplicate_message(existing) if existing else _("This referral exists already."),
                              code="duplicate") from None
    audit_record(actor, Action.CREATE, referral, after=snapshot(referral, REFERRAL_FIELDS), scope=company, source=source)
    return referral


def referral_check_move(referral: Referral, target: str) -> None:
    """Raise `TransitionRefused` when the state machine does not allow `referral` → `target`."""
    if target not in ReferralStatus.values:
        raise TransitionRefused(_("%(status)s is not a referral status.") % {"status": target})
    if not states.referral_move_allowed(referral.status, target):
        current = ReferralStatus(referral.status).label
        wanted = ReferralStatus(target).label
        allowed = [str(ReferralStatus(s).label) for s in states.referral_next_statuses(referral.status)]
        if allowed:
            raise TransitionRefused(_(
                "A referral that is %(current)s cannot become %(wanted)s. It can become: %(allowed)s."
            ) % {"current": str(current).lower(), "wanted": str(wanted).lower(),
                 "allowed": ", ".join(a.lower() for a in allowed)})
        raise TransitionRefused(_("The referral is %(current)s: it cannot change any more.") % {
            "current": str(current).lower()})


def _latest_date(instance, date_fields) -> dt.date | None:
    dates = [getattr(instance, name) for name in date_fields if getattr(instance, name)]
    return max(dates) if dates else None


@transaction.atomic
def referral_move(
    actor, referral: Referral, target: str, *, on: dt.date | None = None, reason: str = "", source: str = Source.WEB,
) -> Referral:
    """Move a referral to `target` on date `on` (today by default)."""
    referral = Referral.objects.select_for_update().select_related("company", "offer", "project").get(pk=referral.pk)
    referral_check_move(referral, target)
    reason = (reason or "").strip()
    if target in states.REFERRAL_NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("Say why the referral is %(status)s.") % {
            "status": str(ReferralStatus(target).label).lower()}})
    on = on or timezone.localdate()
    _not_in_future(on)
    latest = _latest_date(referral, states.REFERRAL_DATE_FIELD.values())
    if latest is not None and on < latest:
        raise ValidationError({"on": _("The date cannot be before the referral's last change (%(date)s).") % {
            "date": latest.isoformat()}})
    before = snapshot(referral, REFERRAL_FIELDS)
    old = referral.status
    referral.status = target
    setattr(referral, states.REFERRAL_DATE_FIELD[target], on)
    if target in states.REFERRAL_NEEDS_REASON:
        referral.reason = reason
    referral.status_changed_at = timezone.now()
    referral.save()
    audit_record(
        actor, Action.UPDATE, referral, before=before, after=snapshot(referral, REFERRAL_FIELDS), scope=referral.company,
        source=source, message=f"{old} → {target}",
    )
    # A reminder about a referral standing still is answered by moving it.
    for follow_up in FollowUp.objects.filter(
        kind=FollowUp.Kind.STALE_REFERRAL, source_key__startswith=f"referral:{referral.pk}:", done_at__isnull=True,
    ):
        _follow_up_mark_done(actor, follow_up, source=source, message=_("The referral moved on."))
    return referral


@transaction.atomic
def referral_update(actor, referral: Referral, *, advisor=None, notes: str | None = None, source: str = Source.WEB) -> Referral:
    """Change the responsible advisor or the notes (the status only moves through `referral_move`)."""
    referral = Referral.objects.select_for_update().select_related("company", "project").get(pk=referral.pk)
    before = snapshot(referral, REFERRAL_FIELDS)
    if advisor is not None:
        _check_member(advisor, referral.project, "advisor")
        referral.advisor = advisor
    if notes is not None:
        referral.notes = notes.strip()
    after = snapshot(referral, REFERRAL_FIELDS)
    if after != before:
        referral.save()
        audit_record(actor, Action.UPDATE, referral, before=before, after=after, scope=referral.company, source=source)
    return referral


# --- Interventions --------------------------------------------------------------------------


def validate_decision_document(upload) -> None:
    """PDF, an image or an office document, at most `DECISION_MAX_BYTES`, whose content matches its name."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in DECISION_TYPES:
        raise ValidationError({"decision_document": _(
            "Upload the decision as PDF, an image (PNG, JPEG, TIFF) or an office document (Word, Excel, "
            "PowerPoint, OpenDocument); %(name)s is none of these."
        ) % {"name": name or _("the file")}})
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError({"decision_document": _("The file is empty.")})
    if size > DECISION_MAX_BYTES:
        raise ValidationError({"decision_document": _("The file is %(size)s MB; at most %(max)s MB is accepted.") % {
            "size": number_format(Decimal(size) / (1024 * 1024), decimal_pos=1),
            "max": DECISION_MAX_BYTES // (1024 * 1024)}})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in DECISION_TYPES[extension]):
        raise ValidationError({"decision_document": _(
            "The content of %(name)s is not a %(type)s file."
        ) % {"name": name, "type": extension[1:].upper()}})


def _clean_intervention_data(project: Project, company, data: dict) -> dict:
    """Check the fields of an intervention that the model cannot check alone."""
    errors: dict[str, str] = {}
    focus_area = data.get("focus_area")
    if focus_area is not None and project.focus_areas.exists() and not project.focus_areas.filter(pk=focus_area.pk).exists():
        errors["focus_area"] = _("%(area)s is not a focus area of the project %(project)s.") % {
            "area": focus_area.name, "project": project.name}
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end < start:
        errors["end_date"] = _("The end cannot be before the start.")
    for name in ("budget_sek", "own_cash_sek", "own_hours", "aid_amount_sek"):
        value = data.get(name)
        if value is not None and value < 0:
            errors[name] = _("Enter zero or more.")
    if data.get("support_form") is not None and data["support_form"] not in SupportForm.values:
        errors["support_form"] = _("Choose a form of support.")
    if errors:
        raise ValidationError(errors)
    return data


def _goals_of_company(company, goals) -> list:
    from sim.assessments.models import GrowthGoal

    goals = list(goals or [])
    ids = {goal.pk for goal in goals}
    valid = set(GrowthGoal.objects.filter(pk__in=ids, plan__company=company).values_list("pk", flat=True))
    if ids - valid:
        raise ValidationError({"growth_goals": _("Choose goals of this company's growth plans.")})
    return goals


_INTERVENTION_EDITABLE = [
    "title", "focus_area", "description", "provider", "provider_name", "start_date", "end_date", "budget_sek",
    "own_cash_sek", "own_hours", "support_form", "is_state_aid", "aid_amount_sek", "deliverables", "results",
]


@transaction.atomic
def intervention_create(actor, project: Project, company, data: dict, *, source: str = Source.WEB) -> Intervention:
    """A draft intervention. `data` holds fields of `_INTERVENTION_EDITABLE` and optionally ``growth_goals``."""
    _check_project_access(actor, project)
    if company.is_archived:
        raise ValidationError(_("%(company)s is archived; restore it before planning an intervention.") % {
            "company": company.name})
    if not (data.get("title") or "").strip():
        raise ValidationError({"title": _("Give the intervention a title.")})
    data = _clean_intervention_data(project, company, data)
    goals = _goals_of_company(company, data.get("growth_goals"))
    values = {name: data[name] for name in _INTERVENTION_EDITABLE if name in data and data[name] is not None}
    values["title"] = values["title"].strip()
    intervention = Intervention(project=project, company=company, created_by=_user(actor), **values)
    intervention.full_clean(exclude=["decision_document", "growth_goals"])
    intervention.save()
    intervention.growth_goals.set(goals)
    after = snapshot(intervention, INTERVENTION_FIELDS)
    after["growth_goals"] = sorted(goal.pk for goal in goals)
    audit_record(actor, Action.CREATE, intervention, after=after, scope=company, source=source)
    return intervention


@transaction.atomic
def intervention_update(actor, intervention: Intervention, data: dict, *, source: str = Source.WEB) -> Intervention:
    """Change an intervention. Closed and cancelled ones are final; approved ones keep their decided figures."""
    intervention = Intervention.objects.select_for_update().select_related("project", "company").get(pk=intervention.pk)
    if intervention.status in (InterventionStatus.CLOSED, InterventionStatus.CANCELLED):
        raise ValidationError(_("The intervention is %(status)s and can no longer be changed.") % {
            "status": str(intervention.get_status_display()).lower()})
    data = _clean_intervention_data(intervention.project, intervention.company, data)
    before = snapshot(intervention, INTERVENTION_FIELDS)
    before["growth_goals"] = sorted(intervention.growth_goals.values_list("pk", flat=True))
    for name in _INTERVENTION_EDITABLE:
        if name in data:
            value = data[name]
            if name == "title":
                value = (value or "").strip()
                if not value:
                    raise ValidationError({"title": _("Give the intervention a title.")})
            if intervention.status != InterventionStatus.DRAFT and name in states.INTERVENTION_DECIDED_FIELDS:
                current = getattr(intervention, name)
                if value != current:
                    raise ValidationError({name: _(
                        "This was fixed by the approval decision. Cancel the intervention and draft a new one to change it."
                    )})
            setattr(intervention, name, value)
    intervention.full_clean(exclude=["decision_document", "growth_goals"])
    intervention.save()
    if "growth_goals" in data:
        intervention.growth_goals.set(_goals_of_company(intervention.company, data["growth_goals"]))
    after = snapshot(intervention, INTERVENTION_FIELDS)
    after["growth_goals"] = sorted(intervention.growth_goals.values_list("pk", flat=True))
    if after != before:
        audit_record(actor, Action.UPDATE, intervention, before=before, after=after, scope=intervention.company, source=source)
    return intervention


@dataclass(frozen=True)
class BudgetCheck:
    allowed: bool
    budget_sek: Decimal | None  # None: the project has no budget for company support
    committed_sek: Decimal  # approved, in progress, delivered and closed interventions of the project
    proposed_sek: Decimal
    message: str

    @property
    def remaining_sek(self) -> Decimal | None:
        return None if self.budget_sek is None else self.budget_sek - self.committed_sek


def budget_check(project: Project, amount_sek: Decimal, *, exclude_intervention: int | None = None) -> BudgetCheck:
    """Would approving `amount_sek` exceed the project's budget for company support?"""
    committed = (
        Intervention.objects.filter(project=project, status__in=states.INTERVENTION_COMMITTED)
        .exclude(pk=exclude_intervention)
        .aggregate(total=Sum("budget_sek"))["total"]
    ) or Decimal(0)
    budget = project.company_support_budget_sek
    values = {"project": project.name, "proposed": _sek(amount_sek), "committed": _sek(committed)}
    if budget is None:
        return BudgetCheck(False, None, committed, amount_sek, _(
            "The project %(project)s has no budget for company support; a project manager sets it on the project."
        ) % values)
    values.update({"budget": _sek(budget), "total": _sek(committed + amount_sek),
                   "remaining": _sek(max(budget - committed, Decimal(0))), "over": _sek(committed + amount_sek - budget)})
    if committed + amount_sek > budget:
        return BudgetCheck(False, budget, committed, amount_sek, _(
            "The budget for company support of %(project)s would be exceeded: SEK %(committed)s is committed, "
            "this intervention's SEK %(proposed)s would make SEK %(total)s of SEK %(budget)s "
            "(SEK %(over)s over; SEK %(remaining)s remains)."
        ) % values)
    return BudgetCheck(True, budget, committed, amount_sek, _(
        "Budget for company support: SEK %(committed)s of SEK %(budget)s committed; this intervention's "
        "SEK %(proposed)s fits."
    ) % values)


@dataclass(frozen=True)
class ApprovalCheck:
    on: dt.date
    aid: aid.AidCheck | None  # None when the intervention is not state aid
    budget: BudgetCheck
    reasons: list[str] = field(default_factory=list)  # why approval is refused (empty: it may be approved)

    @property
    def allowed(self) -> bool:
        return not self.reasons


def intervention_approval_check(intervention: Intervention, on: dt.date | None = None) -> ApprovalCheck:
    """Everything that decides whether `intervention` may be approved on `on` (read only)."""
    on = on or timezone.localdate()
    reasons: list[str] = []
    if intervention.status != InterventionStatus.DRAFT:
        reasons.append(_("Only a draft can be approved; this intervention is %(status)s.") % {
            "status": str(intervention.get_status_display()).lower()})
    if intervention.company.is_archived:
        reasons.append(_("%(company)s is archived.") % {"company": intervention.company.name})
    aid_check = None
    if intervention.is_state_aid:
        if intervention.aid_amount_sek is None:
            reasons.append(_("Enter the aid amount (gross grant equivalent) of this state aid before approving it."))
        else:
            aid_check = aid.check_deminimis(intervention.company, intervention.aid_amount_sek, on,
                                            exclude_intervention=intervention.pk)
            if not aid_check.allowed:
                reasons.append(aid_check.message)
    budget = budget_check(intervention.project, intervention.budget_sek, exclude_intervention=intervention.pk)
    if not budget.allowed:
        reasons.append(budget.message)
    return ApprovalCheck(on=on, aid=aid_check, budget=budget, reasons=reasons)


class ApprovalRefused(ValidationError):
    def __init__(self, check: ApprovalCheck):
        super().__init__(check.reasons, code="approval")
        self.check = check


@transaction.atomic
def intervention_approve(
    actor, intervention: Intervention, *, on: dt.date | None = None, document=None, source: str = Source.WEB,
) -> Intervention:
    """Approve a draft: de minimis and budget are checked; refused with every reason at once."""
    # Approvals in one project wait for each other, so two cannot both fit the same remaining budget.
    Project.objects.select_for_update().filter(pk=intervention.project_id).first()
    intervention = Intervention.objects.select_for_update().select_related("project", "company").get(pk=intervention.pk)
    _check_project_access(actor, intervention.project)
    on = on or timezone.localdate()
    _not_in_future(on)
    if document is not None:
        validate_decision_document(document)
    check = intervention_approval_check(intervention, on)
    if not check.allowed:
        raise ApprovalRefused(check)
    before = snapshot(intervention, INTERVENTION_FIELDS)
    intervention.status = InterventionStatus.APPROVED
    intervention.approved_on = on
    intervention.approved_by = _user(actor)
    if document is not None:
        intervention.decision_document.save(os.path.basename(document.name), document, save=False)
    intervention.save()
    audit_record(
        actor, Action.UPDATE, intervention, before=before, after=snapshot(intervention, INTERVENTION_FIELDS),
        scope=intervention.company, source=source,
        message="; ".join(m for m in ("draft → approved", check.aid.message if check.aid else "", check.budget.message) if m),
    )
    # The granted award goes into the de minimis ledger (checked there again); a refusal undoes the approval.
    from sim.stateaid.services import grant_for_intervention

    grant_for_intervention(actor, intervention, on=on, source=source)
    return intervention


@transaction.atomic
def intervention_attach_decision(actor, intervention: Intervention, document, *, source: str = Source.WEB) -> Intervention:
    """Attach (or replace) the decision document of an approved intervention."""
    intervention = Intervention.objects.select_for_update().select_related("company").get(pk=intervention.pk)
    if intervention.status in (InterventionStatus.DRAFT, InterventionStatus.CANCELLED):
        raise ValidationError({"decision_document": _("A decision document belongs to an approved intervention.")})
    validate_decision_document(document)
    before = snapshot(intervention, ["decision_document"])
    intervention.decision_document.save(os.path.basename(document.name), document, save=False)
    intervention.save(update_fields=["decision_document", "updated_at"])
    audit_record(actor, Action.UPDATE, intervention, before=before, after=snapshot(intervention, ["decision_document"]),
                 scope=intervention.company, source=source)
    # A replaced file stays in storage: the audit trail refers to it (decisions are evidence).
    return intervention


def intervention_check_move(intervention: Intervention, target: str) -> None:
    if target not in InterventionStatus.values:
        raise TransitionRefused(_("%(status)s is not an intervention status.") % {"status": target})
    if target == InterventionStatus.APPROVED and intervention.status == InterventionStatus.DRAFT:
        raise TransitionRefused(_("Approval is a decision of its own: use Approve."))
    if not states.intervention_move_allowed(intervention.status, target):
        current = str(InterventionStatus(intervention.status).label).lower()
        wanted = str(InterventionStatus(target).label).lower()
        allowed = [str(InterventionStatus(s).label).lower() for s in states.intervention_next_statuses(intervention.status)
                   if s != InterventionStatus.APPROVED]
        if allowed:
            raise TransitionRefused(_(
                "An intervention that is %(current)s cannot become %(wanted)s. It can become: %(allowed)s."
            ) % {"current": current, "wanted": wanted, "allowed": ", ".join(allowed)})
        raise TransitionRefused(_("The intervention is %(current)s: it cannot change any more.") % {"current": current})


@transaction.atomic
def intervention_move(
    actor, intervention: Intervention, target: str, *, on: dt.date | None = None, reason: str = "",
    source: str = Source.WEB,
) -> Intervention:
    """Move an intervention on (in progress, delivered, closed) or cancel it. Approval: `intervention_approve`."""
    intervention = Intervention.objects.select_for_update().select_related("project", "company").get(pk=intervention.pk)
    intervention_check_move(intervention, target)
    reason = (reason or "").strip()
    if target in states.INTERVENTION_NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("Say why the intervention is cancelled.")})
    on = on or timezone.localdate()
    _not_in_future(on)
    latest = _latest_date(intervention, states.INTERVENTION_DATE_FIELD.values())
    if latest is not None and on < latest:
        raise ValidationError({"on": _("The date cannot be before the intervention's last change (%(date)s).") % {
            "date": latest.isoformat()}})
    before = snapshot(intervention, INTERVENTION_FIELDS)
    old = intervention.status
    intervention.status = target
    setattr(intervention, states.INTERVENTION_DATE_FIELD[target], on)
    if target == InterventionStatus.CANCELLED:
        intervention.cancel_reason = reason
    intervention.save()
    audit_record(
        actor, Action.UPDATE, intervention, before=before, after=snapshot(intervention, INTERVENTION_FIELDS),
        scope=intervention.company, source=source, message=f"{old} → {target}",
    )
    if target == InterventionStatus.CANCELLED and old in states.INTERVENTION_COMMITTED:
        # Aid that will not be given is revoked in the de minimis ledger.
        from sim.stateaid.services import revoke_for_intervention

        revoke_for_intervention(actor, intervention, on=on, reason=reason, source=source)
    if target == InterventionStatus.DELIVERED:
        _t1_follow_up(actor, intervention, source=source)
    return intervention


def _t1_follow_up(actor, intervention: Intervention, *, source: str) -> FollowUp | None:
    """Book the follow-up assessment (T1) six months after delivery, once per intervention."""
    key = f"intervention:{intervention.pk}"
    if FollowUp.objects.filter(kind=FollowUp.Kind.T1_DUE, source_key=key).exists():
        return None
    assignee = _assignee(intervention.project, intervention.company.owner_advisor, intervention.created_by, _user(actor))
    title = _("Book the follow-up assessment (T1) after “%(title)s”") % {"title": intervention.title}
    return follow_up_create(
        actor, intervention.company, project=intervention.project, title=title[:255],
        due_on=add_months(intervention.delivered_on, T1_AFTER_MONTHS), assigned_to=assignee,
        kind=FollowUp.Kind.T1_DUE, source_key=key, source=source, automatic=True,
    )


# --- Follow-ups -----------------------------------------------------------------------------


@transaction.atomic
def follow_up_create(
    actor, company, *, title: str, due_on: dt.date, assigned_to=None, project: Project | None = None, notes: str = "",
    kind: str = FollowUp.Kind.MANUAL, source_key: str = "", source: str = Source.WEB, automatic: bool = False,
) -> FollowUp:
    """A dated task on a company. `automatic` ones (T1 due, stale referral) skip the checks of a person's entry."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Say what is to be done.")})
    if due_on is None:
        raise ValidationError({"due_on": _("Give a due date.")})
    if project is None:
        raise ValidationError({"project": _("Choose the project the follow-up belongs to.")})
    if not automatic:
        _check_project_access(actor, project)
        if company.is_archived:
            raise ValidationError(_("%(company)s is archived.") % {"company": company.name})
        assigned_to = assigned_to if assigned_to is not None else _user(actor)
        _check_member(assigned_to, project, "assigned_to")
    follow_up = FollowUp.objects.create(
        project=project, company=company, title=title[:255], due_on=due_on, assigned_to=assigned_to, notes=notes.strip(),
        kind=kind, source_key=source_key, created_by=_user(actor),
    )
    audit_record(actor, Action.CREATE, follow_up, after=snapshot(follow_up, FOLLOW_UP_FIELDS), scope=company, source=source)
    return follow_up


def _follow_up_mark_done(actor, follow_up: FollowUp, *, source: str, message: str = "") -> FollowUp:
    before = snapshot(follow_up, FOLLOW_UP_FIELDS)
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["done_at", "updated_at"])
    audit_record(actor, Action.UPDATE, follow_up, before=before, after=snapshot(follow_up, FOLLOW_UP_FIELDS),
                 scope=follow_up.company, source=source, message=message)
    return follow_up


@transaction.atomic
def follow_up_done(actor, follow_up: FollowUp, *, source: str = Source.WEB) -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().select_related("company").get(pk=follow_up.pk)
    if follow_up.done_at is not None:
        raise ValidationError(_("This follow-up was marked done on %(date)s.") % {
            "date": timezone.localtime(follow_up.done_at).date().isoformat()})
    return _follow_up_mark_done(actor, follow_up, source=source)


def stale_referral_key(referral: Referral) -> str:
    """One reminder per referral and status change: the key names both."""
    changed = referral.status_changed_at
    return f"referral:{referral.pk}:{referral.status}:{int(changed.timestamp())}{changed.microsecond:06d}"


@transaction.atomic
def follow_ups_create_for_stale_referrals(
    actor=None, *, today: dt.date | None = None, days: int = STALE_REFERRAL_DAYS, source: str = Source.SYSTEM,
) -> list[FollowUp]:
    """A follow-up for every open referral whose status has not changed for `days` days (idempotent)."""
    from .selectors import stale_referrals

    today = today or timezone.localdate()
    created = []
    for referral in stale_referrals(today=today, days=days):
        key = stale_referral_key(referral)
        if FollowUp.objects.filter(kind=FollowUp.Kind.STALE_REFERRAL, source_key=key).exists():
            continue
        changed = timezone.localtime(referral.status_changed_at).date()
        created.append(follow_up_create(
            actor, referral.company, project=referral.project,
            title=(_("Referral to %(offer)s has been %(status)s since %(date)s: follow it up") % {
                "offer": referral.offer.title, "status": str(referral.get_status_display()).lower(),
                "date": changed.isoformat()})[:255],
            due_on=today, assigned_to=_assignee(referral.project, referral.advisor, referral.created_by),
            kind=FollowUp.Kind.STALE_REFERRAL, source_key=key, source=source, automatic=True,
        ))
    return created
