"""Outreach, "Förmedla möjligheter": invitations about an offer or event to a selection of companies.

Flow
----
1. :func:`mailing_create` saves a draft: subject, message, the offer or event it is about, and the
   *selection* (register filters, "without a growth interview yet", "companies the offer suits",
   the legal bases allowed).
2. :func:`plan_recipients` decides, per contact of the selected companies, whether it may be sent
   to (:func:`recipient_decision`, pure): erased, archived and opted-out contacts, contacts without
   an address, contacts whose legal basis the mailing does not allow and second contacts with the
   same address are recorded as SKIPPED with the reason.
3. :func:`mailing_queue` writes the recipients (unique per mailing and contact) and marks the
   mailing queued, in one transaction.
4. :func:`send_queued` (``sim send_mailings [--loop]``, or a background thread after the queue
   transaction commits when ``SIM_MAIL_SEND_INLINE`` is on) sends queued recipients in batches
   through Django's e-mail backend.

Delivery guarantee: at most once
--------------------------------
A batch is *claimed* in one short transaction: rows still ``queued`` and unclaimed
(``sent_at`` empty) are locked (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
senders take different rows; SQLite serialises the claim transactions, one sender at a time) and
stamped with ``sent_at`` (when the message was handed to the mail backend) and ``attempts + 1``.
Only then is the message sent, outside any transaction, and the outcome written in a second
transaction that checks the row is still the claimed, queued one. A sender that dies between the
hand-over and the bookkeeping leaves the row queued *and* claimed: it is never picked again, so no
contact receives an invitation twice; it is shown as "interrupted" and the operator may release it
(``send_mailings --release-interrupted``), accepting a possible duplicate for those few. A failure
the backend reports (connection refused, SMTP error) releases the claim for a retry, up to
:data:`MAX_ATTEMPTS`; a refused address fails at once.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sim.companies.models import Company, Contact, LegalBasis
from sim.companies.selectors import CompanyFilters, company_list
from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent

from .models import Mailing, MailingRecipient, Offer, Project

logger = logging.getLogger(__name__)

Source = AuditEvent.Source
Action = AuditEvent.Action
Status = MailingRecipient.Status

MAX_ATTEMPTS = 3
BATCH_SIZE = 50
MAX_COMPANIES = 5000
DEFAULT_LEGAL_BASES = (LegalBasis.CONSENT.value, LegalBasis.LEGITIMATE_INTEREST.value)
FILTER_KEYS = ("q", "municipality", "county", "sni", "size_class", "status", "target_group", "owner")
# Statuses a later event (bounce, reply, registration) may replace.
DELIVERED = (Status.SENT, Status.REPLIED)

SKIP_REASONS = {
    "erased": gettext_lazy("The contact has been erased."),
    "archived": gettext_lazy("The contact is archived."),
    "opted_out": gettext_lazy("The contact has opted out of mailings."),
    "no_email": gettext_lazy("No e-mail address."),
    "no_legal_basis": gettext_lazy("No legal basis recorded for the contact."),
    "basis_not_allowed": gettext_lazy("The contact's legal basis is not allowed for this mailing."),
    "duplicate_email": gettext_lazy("Same address as another recipient of this mailing."),
}


# --- Selection --------------------------------------------------------------------------------


@dataclass
class Selection:
    """Which companies a mailing goes to, and which legal bases it may rely on."""

    filters: dict[str, str] = field(default_factory=dict)
    without_growth_interview: bool = False
    offer_suits: int | None = None
    legal_bases: list[str] = field(default_factory=lambda: list(DEFAULT_LEGAL_BASES))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Selection:
        data = data or {}
        offer = data.get("offer_suits")
        return cls(
            filters={k: str(v) for k, v in (data.get("filters") or {}).items() if k in (*FILTER_KEYS, "sort")},
            without_growth_interview=bool(data.get("without_growth_interview")),
            offer_suits=int(offer) if offer not in (None, "") else None,
            legal_bases=[b for b in (data.get("legal_bases") or DEFAULT_LEGAL_BASES) if b in LegalBasis.values],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "without_growth_interview": self.without_growth_interview,
            "offer_suits": self.offer_suits,
            "legal_bases": list(self.legal_bases),
        }

    def company_filters(self) -> CompanyFilters:
        return CompanyFilters.from_params(self.filters)


def without_growth_interview_q() -> Q:
    """Companies with no completed growth interview (a completed or corrected one counts)."""
    from sim.assessments.models import Assessment, AssessmentStatus

    done = Assessment.objects.filter(
        instrument_version__kind="growth_interview",
        status__in=[AssessmentStatus.COMPLETED, AssessmentStatus.SUPERSEDED],
    ).values("company_id")
    return ~Q(pk__in=done)


def companies_suited_to(user, offer: Offer) -> list[int] | None:
    """The companies the offer suits (eligible by its rules, in its project's area), from the
    recommendations module; None when that module is not installed."""
    try:
        from .recommendations import SuitedFilters, suited_companies
    except ImportError:
        return None
    result = suited_companies(user, offer, SuitedFilters(eligible="yes"))
    return [row.company_id for row in result.rows if row.eligible]


def selection_companies(user, project: Project, selection: Selection) -> QuerySet[Company]:
    filters = selection.company_filters()
    queryset = company_list(user, filters)
    if selection.without_growth_interview:
        queryset = queryset.filter(without_growth_interview_q())
    if selection.offer_suits is not None:
        offer = Offer.objects.filter(project=project, pk=selection.offer_suits).first()
        if offer is None:
            raise ValidationError({"offer_suits": _("The offer is not in this project.")})
        suited = companies_suited_to(user, offer)
        if suited is None:
            raise ValidationError({"offer_suits": _(
                "Selecting the companies an offer suits needs the recommendations module, which is not installed."
            )})
        queryset = queryset.filter(pk__in=suited)
    return queryset


# --- Recipients (pure decision) --------------------------------------------------------------


def recipient_decision(contact: Contact, allowed_bases, seen_emails: set[str]) -> tuple[bool, str]:
    """Whether a contact may receive this mailing; when not, the reason code (see SKIP_REASONS)."""
    if contact.erased_at is not None:
        return False, "erased"
    if contact.archived_at is not None:
        return False, "archived"
    if contact.opted_out_at is not None:
        return False, "opted_out"
    email = (contact.email or "").strip().lower()
    if not email:
        return False, "no_email"
    if not contact.legal_basis:
        return False, "no_legal_basis"
    if contact.legal_basis not in allowed_bases:
        return False, "basis_not_allowed"
    if contact.legal_basis == LegalBasis.CONSENT and contact.consent_date is None:
        return False, "no_legal_basis"
    if email in seen_emails:
        return False, "duplicate_email"
    return True, ""


def skip_reason_text(code: str, contact: Contact | None = None) -> str:
    if code == "basis_not_allowed" and contact is not None:
        return _("The contact's legal basis (%(basis)s) is not allowed for this mailing.") % {
            "basis": contact.get_legal_basis_display()}
    text = SKIP_REASONS.get(code)
    return code if text is None else str(text)


def selection_description(selection: Selection) -> list[tuple[str, str]]:
    """The selection as (label, value) rows a person can read."""
    from django.contrib.auth import get_user_model

    from sim.companies.models import CompanyStatus, County, Municipality, SizeClass

    rows: list[tuple[str, str]] = []
    filters = selection.filters
    if filters.get("q"):
        rows.append((_("Name or organisation number"), filters["q"]))
    if filters.get("municipality"):
        found = Municipality.objects.filter(code=filters["municipality"]).first()
        rows.append((_("Municipality"), found.name if found else filters["municipality"]))
    if filters.get("county"):
        found = County.objects.filter(code=filters["county"]).first()
        rows.append((_("County"), found.name if found else filters["county"]))
    if filters.get("sni"):
        rows.append((_("SNI code begins with"), filters["sni"]))
    if filters.get("size_class"):
        rows.append((_("Size class"), str(dict(SizeClass.choices).get(filters["size_class"], _("Unknown")))))
    if filters.get("status"):
        rows.append((_("Company status"), str(dict(CompanyStatus.choices).get(filters["status"], filters["status"]))))
    if filters.get("target_group") in ("yes", "no"):
        rows.append((_("Target group"), _("In the target group") if filters["target_group"] == "yes"
                     else _("Outside the target group")))
    owner = filters.get("owner")
    if owner:
        user = get_user_model().objects.filter(pk=int(owner)).first() if owner.isdigit() else None
        label = _("No owner") if owner == "none" else (user.get_full_name() or user.get_username()) if user else owner
        rows.append((_("Owner advisor"), label))
    if selection.without_growth_interview:
        rows.append((_("Growth interview"), _("Only companies without a completed growth interview")))
    if selection.offer_suits is not None:
        offer = Offer.objects.filter(pk=selection.offer_suits).first()
        rows.append((_("Companies the offer suits"), offer.title if offer else "—"))
    if not rows:
        rows.append((_("Companies"), _("Every company in the register that is not archived")))
    labels = dict(LegalBasis.choices)
    rows.append((_("Legal bases allowed"), ", ".join(str(labels.get(b, b)) for b in selection.legal_bases)))
    return rows


@dataclass
class PlannedRecipient:
    contact: Contact
    company: Company
    email: str
    send: bool
    reason: str = ""  # code when not sent


def plan_recipients(user, mailing: Mailing) -> list[PlannedRecipient]:
    selection = Selection.from_json(mailing.selection)
    companies = selection_companies(user, mailing.project, selection)
    company_ids = list(companies.order_by().values_list("pk", flat=True)[: MAX_COMPANIES + 1])
    if len(company_ids) > MAX_COMPANIES:
        raise ValidationError(_(
            "The selection holds more than %(max)d companies; narrow it (e.g. by municipality or industry)."
        ) % {"max": MAX_COMPANIES})
    contacts = (
        Contact.objects.filter(company_id__in=company_ids)
        .select_related("company")
        .order_by("company__name", "company_id", "erased_at", "name", "id")
    )
    seen: set[str] = set()
    planned = []
    for contact in contacts:
        send, reason = recipient_decision(contact, selection.legal_bases, seen)
        email = (contact.email or "").strip()
        if send:
            seen.add(email.lower())
        planned.append(PlannedRecipient(contact=contact, company=contact.company, email=email, send=send, reason=reason))
    return planned


def preview(user, mailing: Mailing) -> dict[str, Any]:
    """What queueing would do: companies, recipients, and skipped contacts by reason."""
    planned = plan_recipients(user, mailing)
    reasons = Counter(p.reason for p in planned if not p.send)
    return {
        "companies": len({p.company.pk for p in planned}),
        "companies_without_recipient": len({p.company.pk for p in planned}) - len({p.company.pk for p in planned if p.send}),
        "to_send": sum(1 for p in planned if p.send),
        "skipped": sum(reasons.values()),
        "reasons": [{"code": code, "label": skip_reason_text(code), "count": n} for code, n in reasons.most_common()],
        "sample": [p for p in planned if p.send][:20],
    }


# --- Drafts -----------------------------------------------------------------------------------

MAILING_FIELDS = ("subject", "body", "offer", "event")


def _check_links(project: Project, data: dict[str, Any]) -> None:
    offer, event = data.get("offer"), data.get("event")
    if offer is not None and offer.project_id != project.pk:
        raise ValidationError({"offer": _("The offer is not in this project.")})
    if event is not None and event.project_id != project.pk:
        raise ValidationError({"event": _("The event is not in this project.")})


def _apply(mailing: Mailing, data: dict[str, Any], selection: Selection | None) -> None:
    for key, value in data.items():
        if key not in MAILING_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(mailing, key, value)
    _check_links(mailing.project, {"offer": mailing.offer, "event": mailing.event})
    if selection is not None:
        if not selection.legal_bases:
            raise ValidationError({"legal_bases": _("Allow at least one legal basis.")})
        if selection.offer_suits is not None and not Offer.objects.filter(
            project=mailing.project, pk=selection.offer_suits
        ).exists():
            raise ValidationError({"offer_suits": _("The offer is not in this project.")})
        mailing.selection = selection.as_json()
    if not (mailing.subject or "").strip():
        raise ValidationError({"subject": _("Write a subject.")})
    if not (mailing.body or "").strip():
        raise ValidationError({"body": _("Write the message.")})


@transaction.atomic
def mailing_create(
    actor, project: Project, data: dict[str, Any], selection: Selection, *, source: str = Source.WEB
) -> Mailing:
    mailing = Mailing(project=project, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply(mailing, data, selection)
    mailing.save()
    audit_record(actor, Action.CREATE, mailing, after=snapshot(mailing), scope=project, source=source)
    return mailing


@transaction.atomic
def mailing_update(
    actor, mailing: Mailing, data: dict[str, Any], selection: Selection | None = None, *, source: str = Source.WEB
) -> Mailing:
    mailing = Mailing.objects.select_for_update().select_related("project").get(pk=mailing.pk)
    if mailing.status != Mailing.Status.DRAFT:
        raise ValidationError(_("A mailing that has been queued cannot be changed."))
    before = snapshot(mailing)
    _apply(mailing, data, selection)
    after = snapshot(mailing)
    if after != before:
        mailing.save()
        audit_record(actor, Action.UPDATE, mailing, before=before, after=after, scope=mailing.project, source=source)
    return mailing


# --- Queueing ---------------------------------------------------------------------------------


@transaction.atomic
def mailing_queue(actor, mailing: Mailing, *, base_url: str = "", source: str = Source.WEB) -> dict[str, int]:
    """Write the recipients and queue the mailing, in one transaction; sending starts after commit."""
    mailing = Mailing.objects.select_for_update().select_related("project").get(pk=mailing.pk)
    if mailing.status != Mailing.Status.DRAFT:
        raise ValidationError(_("This mailing has already been queued."))
    planned = plan_recipients(actor, mailing)
    if not any(p.send for p in planned):
        raise ValidationError(_("No contact in the selection may receive this mailing; nothing was queued."))
    existing = set(mailing.recipients.values_list("contact_id", flat=True))
    rows = [
        MailingRecipient(
            mailing=mailing, contact=p.contact, company=p.company, email=p.email[:254],
            status=Status.QUEUED if p.send else Status.SKIPPED,
            error="" if p.send else skip_reason_text(p.reason, p.contact),
        )
        for p in planned
        if p.contact.pk not in existing
    ]
    MailingRecipient.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    before = snapshot(mailing)
    selection = dict(mailing.selection or {})
    if base_url:
        selection["base_url"] = base_url.rstrip("/")
    mailing.selection = selection
    mailing.status = Mailing.Status.QUEUED
    mailing.queued_at = timezone.now()
    mailing.save(update_fields=["selection", "status", "queued_at", "updated_at"])
    counts = {
        "queued": mailing.recipients.filter(status=Status.QUEUED).count(),
        "skipped": mailing.recipients.filter(status=Status.SKIPPED).count(),
    }
    audit_record(
        actor, Action.UPDATE, mailing, before=before, after=snapshot(mailing), scope=mailing.project, source=source,
        message=_("Queued for %(queued)d recipients; %(skipped)d contacts skipped.") % counts,
    )
    transaction.on_commit(start_inline_sender)
    return counts


# --- Sending ----------------------------------------------------------------------------------


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry: int = 0

    def add(self, other: SendResult) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.retry += other.retry


def site_url(mailing: Mailing) -> str:
    return ((mailing.selection or {}).get("base_url") or getattr(settings, "SIM_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def opt_out_url(recipient: MailingRecipient) -> str:
    return site_url(recipient.mailing) + reverse("programmes:optout", args=[recipient.opt_out_token])


def _personalise(text: str, recipient: MailingRecipient) -> str:
    for placeholder, value in (
        ("{name}", recipient.contact.name), ("{namn}", recipient.contact.name),
        ("{company}", recipient.company.name), ("{företag}", recipient.company.name),
    ):
        text = text.replace(placeholder, value)
    return text


def build_message(recipient: MailingRecipient, connection=None) -> EmailMessage:
    """The invitation as it is sent: the message, what it is about, and the opt-out link."""
    mailing = recipient.mailing
    url = opt_out_url(recipient)
    with translation.override(settings.LANGUAGE_CODE):
        parts = [_personalise(mailing.body.strip(), recipient)]
        if mailing.event_id:
            event = mailing.event
            when = timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M")
            parts.append(_("Event: %(title)s, %(when)s, %(place)s") % {
                "title": event.title, "when": when, "place": event.place or "—"})
        if mailing.offer_id:
            parts.append(_("About: %(offer)s") % {"offer": mailing.offer.title})
        parts.append("-- \n" + _(
            "You receive this invitation from %(project)s as a contact of %(company)s. "
            "To receive no more invitations, open: %(url)s"
        ) % {"project": mailing.project.name, "company": recipient.company.name, "url": url})
        subject = _personalise(mailing.subject, recipient)
    reply_to = [mailing.created_by.email] if mailing.created_by_id and mailing.created_by.email else None
    return EmailMessage(
        subject=subject.replace("\n", " ").strip(),
        body="\n\n".join(parts),
        to=[recipient.email],
        reply_to=reply_to,
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-SIM-Mailing": str(mailing.pk),
        },
    )


def _claim(batch_size: int) -> list[MailingRecipient]:
    """Stamp up to ``batch_size`` queued, unclaimed recipients as handed over; return them."""
    stamp = timezone.now()
    with transaction.atomic():
        candidates = MailingRecipient.objects.filter(
            status=Status.QUEUED, sent_at__isnull=True, mailing__status=Mailing.Status.QUEUED
        ).order_by("id")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:batch_size])
        if not ids:
            return []
        MailingRecipient.objects.filter(pk__in=ids, status=Status.QUEUED, sent_at__isnull=True).update(
            sent_at=stamp, attempts=F("attempts") + 1
        )
        return list(
            MailingRecipient.objects.filter(pk__in=ids, status=Status.QUEUED, sent_at=stamp)
            .select_related("mailing__project", "mailing__offer", "mailing__event", "mailing__created_by",
                            "contact", "company")
            .order_by("id")
        )


def _permanent(exc: Exception) -> bool:
    import smtplib

    return isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | ValueError) or (
        isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
    )


def _finish(recipient: MailingRecipient, *, ok: bool, error: str = "", permanent: bool = False) -> str:
    """Record the outcome, if the row is still the one this sender claimed."""
    with transaction.atomic():
        row = MailingRecipient.objects.filter(
            pk=recipient.pk, status=Status.QUEUED, sent_at=recipient.sent_at
        )
        if connection.vendor == "postgresql":
            row = row.select_for_update()
        current = row.first()
        if current is None:
            return "gone"
        if ok:
            current.status = Status.SENT
            current.error = ""
            outcome = "sent"
        elif permanent or current.attempts >= MAX_ATTEMPTS:
            current.status = Status.FAILED
            current.error = error[:2000]
            outcome = "failed"
        else:
            current.sent_at = None  # release the claim: the backend did not take the message
            current.error = error[:2000]
            outcome = "retry"
        current.save(update_fields=["status", "error", "sent_at"])
        return outcome


def _close_finished(mailing_ids: set[int]) -> None:
    for mailing in Mailing.objects.filter(pk__in=mailing_ids, status=Mailing.Status.QUEUED):
        if not mailing.recipients.filter(status=Status.QUEUED).exists():
            with transaction.atomic():
                updated = Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.QUEUED).update(
                    status=Mailing.Status.SENT, updated_at=timezone.now())
                if updated:
                    counts = Counter(mailing.recipients.values_list("status", flat=True))
                    audit_record(
                        None, Action.UPDATE, mailing, before={"status": Mailing.Status.QUEUED},
                        after={"status": Mailing.Status.SENT}, scope=mailing.project, source=Source.SYSTEM,
                        message=_("Sending finished: %(sent)d sent, %(failed)d failed, %(skipped)d skipped.") % {
                            "sent": counts[Status.SENT], "failed": counts[Status.FAILED],
                            "skipped": counts[Status.SKIPPED]},
                    )


def send_queued(batch_size: int = BATCH_SIZE) -> SendResult:
    """Claim and send one batch of queued recipients (see the module docstring for the guarantee)."""
    return deliver(_claim(batch_size))


def deliver(claimed: list[MailingRecipient]) -> SendResult:
    """Send recipients this sender has claimed and record each outcome."""
    result = SendResult(claimed=len(claimed))
    if not claimed:
        return result
    backend = get_connection(fail_silently=False)
    try:
        try:
            backend.open()
        except Exception as exc:  # noqa: BLE001 - the server is unreachable: every message is retried
            logger.warning("Mail backend unavailable: %s", exc)
            for recipient in claimed:
                outcome = _finish(recipient, ok=False, error=f"{type(exc).__name__}: {exc}")
                result.failed += outcome == "failed"
                result.retry += outcome == "retry"
            return result
        for recipient in claimed:
            if not MailingRecipient.objects.filter(
                pk=recipient.pk, status=Status.QUEUED, sent_at=recipient.sent_at
            ).exists():
                continue  # no longer this sender's (released and taken by another): never send twice
            try:
                build_message(recipient, connection=backend).send(fail_silently=False)
            except Exception as exc:  # noqa: BLE001 - any backend error is this recipient's outcome
                outcome = _finish(recipient, ok=False, error=f"{type(exc).__name__}: {exc}", permanent=_permanent(exc))
            else:
                outcome = _finish(recipient, ok=True)
            result.sent += outcome == "sent"
            result.failed += outcome == "failed"
            result.retry += outcome == "retry"
    finally:
        try:
            backend.close()
        except Exception:  # noqa: BLE001
            logger.exception("Closing the mail connection failed")
        _close_finished({r.mailing_id for r in claimed})
    return result


def send_all(batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> SendResult:
    """Send batches until nothing is left to claim (or ``max_batches``). Retries wait for the next run."""
    total = SendResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        result = send_queued(batch_size)
        batches += 1
        total.add(result)
        if result.claimed == 0 or result.claimed == result.retry:
            break
    return total


def interrupted(older_than: timedelta = timedelta(minutes=10)) -> QuerySet[MailingRecipient]:
    """Recipients claimed by a sender that never recorded the outcome."""
    return MailingRecipient.objects.filter(
        status=Status.QUEUED, sent_at__isnull=False, sent_at__lt=timezone.now() - older_than
    )


@transaction.atomic
def release_interrupted(actor=None, older_than: timedelta = timedelta(minutes=10), *, source: str = Source.CLI) -> int:
    """Make interrupted recipients sendable again (they may get the invitation twice)."""
    rows = list(interrupted(older_than).select_related("mailing"))
    for row in rows:
        MailingRecipient.objects.filter(pk=row.pk, status=Status.QUEUED, sent_at=row.sent_at).update(sent_at=None)
        audit_record(actor, Action.UPDATE, row, before={"sent_at": row.sent_at.isoformat()}, after={"sent_at": None},
                     scope=row.mailing.project, source=source, message=_("Interrupted send released for a retry"))
    return len(rows)


# --- Sending in the background during development ---------------------------------------------

_INLINE_LOCK = threading.Lock()


def _drain() -> None:
    try:
        if not _INLINE_LOCK.acquire(blocking=False):
            return  # another thread of this process is already sending
        try:
            close_old_connections()
            send_all()
        finally:
            _INLINE_LOCK.release()
    except Exception:  # noqa: BLE001 - a background thread has nobody to report to but the log
        logger.exception("Sending queued mailings in the background failed")
    finally:
        connections.close_all()


def start_inline_sender() -> threading.Thread | None:
    """After a queue transaction commits: send in a background thread when SIM_MAIL_SEND_INLINE is on.

    For development (``make run`` starts no worker); production runs ``sim send_mailings --loop``.
    """
    if not getattr(settings, "SIM_MAIL_SEND_INLINE", False):
        return None
    thread = threading.Thread(target=_drain, name="sim-mail-sender", daemon=True)
    thread.start()
    return thread


# --- After sending: bounces, replies, registrations, opt-out ----------------------------------


def _set_status(actor, recipient: MailingRecipient, status: str, *, source: str, message: str = "") -> None:
    before = {"status": recipient.status}
    recipient.status = status
    recipient.save(update_fields=["status"])
    audit_record(actor, Action.UPDATE, recipient, before=before, after={"status": status},
                 scope=recipient.mailing.project, source=source, message=message)


@transaction.atomic
def mark_bounced(actor, addresses, *, mailing: Mailing | None = None, source: str = Source.WEB) -> dict[str, Any]:
    """Mark sent messages to these addresses as bounced (from a bounce report)."""
    wanted = {a.strip().lower() for a in addresses if a and a.strip()}
    queryset = MailingRecipient.objects.filter(status__in=DELIVERED).select_related("mailing__project")
    if mailing is not None:
        queryset = queryset.filter(mailing=mailing)
    marked, found = 0, set()
    for address in sorted(wanted):
        for recipient in queryset.filter(email__iexact=address):
            _set_status(actor, recipient, Status.BOUNCED, source=source, message=_("Reported as bounced"))
            found.add(address)
            marked += 1
    return {"marked": marked, "unknown": sorted(wanted - found)}


@transaction.atomic
def mark_replied(actor, recipient: MailingRecipient, *, source: str = Source.WEB) -> MailingRecipient:
    if recipient.status not in (Status.SENT, Status.BOUNCED):
        raise ValidationError(_("Only a sent invitation can be marked as replied."))
    _set_status(actor, recipient, Status.REPLIED, source=source, message=_("Marked as replied"))
    return recipient


def mark_registered(actor, contact: Contact, event, *, source: str = Source.WEB) -> int:
    """An event registration by a contact marks that contact's invitations to the event as registered."""
    rows = MailingRecipient.objects.filter(
        contact=contact, mailing__event=event, status__in=(Status.SENT, Status.REPLIED, Status.BOUNCED)
    ).select_related("mailing__project")
    count = 0
    for recipient in rows:
        _set_status(actor, recipient, Status.REGISTERED, source=source, message=_("Registered for the event"))
        count += 1
    return count


def recipient_for_token(token: str) -> MailingRecipient | None:
    if not token or len(token) > 64:
        return None
    return (
        MailingRecipient.objects.filter(opt_out_token=token)
        .select_related("contact", "company", "mailing__project")
        .first()
    )


@transaction.atomic
def opt_out(recipient: MailingRecipient, *, source: str = Source.WEB) -> bool:
    """The contact asks for no more mailings. Returns False when already opted out (or erased)."""
    contact = Contact.objects.select_for_update().get(pk=recipient.contact_id)
    if contact.opted_out_at is not None or contact.erased_at is not None:
        return False
    before = snapshot(contact, ["opted_out_at"])
    contact.opted_out_at = timezone.now()
    contact.save(update_fields=["opted_out_at", "updated_at"])
    audit_record(
        None, Action.UPDATE, contact, before=before, after=snapshot(contact, ["opted_out_at"]),
        scope=contact.company, source=source,
        message=_("Opted out of mailings with the link in “%(subject)s”") % {"subject": recipient.mailing.subject},
    )
    return True


# --- Reads ------------------------------------------------------------------------------------


def mailings_visible_to(user) -> QuerySet[Mailing]:
    from .projects import projects_for

    if not user.has_perm("programmes.view_mailing"):
        return Mailing.objects.none()
    return Mailing.objects.filter(project__in=projects_for(user)).select_related("project", "offer", "event", "created_by")


def recipient_counts(mailing: Mailing) -> dict[str, int]:
    found = Counter(mailing.recipients.values_list("status", flat=True))
    counts = {status: found.get(status, 0) for status in Status.values}
    counts["total"] = sum(found.values())
    counts["delivered"] = counts[Status.SENT] + counts[Status.REPLIED] + counts[Status.REGISTERED]
    counts["undelivered"] = counts[Status.FAILED] + counts[Status.BOUNCED]
    counts["interrupted"] = mailing.recipients.filter(
        status=Status.QUEUED, sent_at__isnull=False, sent_at__lt=timezone.now() - timedelta(minutes=10)
    ).count()
    return counts
