"""Writes of the de minimis ledger: declarations, proposed and granted awards, revocations, rates.

Every write validates, runs the de minimis check where aid is added (refusing with the figures when
the ceiling would be exceeded), saves and audits in one transaction. The ledger is append-only: a
revocation is a new entry that reverses an earlier one.

Intervention approval (``sim.programmes.services.intervention_approve``) calls
:func:`grant_for_intervention` inside its own transaction; cancelling an approved intervention
calls :func:`revoke_for_intervention`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.companies.models import Company
from sim.core.audit import audit_record, build_event, snapshot
from sim.core.models import AuditEvent

from . import rules, selectors
from .models import AidAward, AwardStatus, ExchangeRate, Regulation, UndertakingProfile

Action = AuditEvent.Action
Source = AuditEvent.Source

AWARD_FIELDS = [
    "undertaking", "granting_authority", "measure", "offer", "intervention", "regulation", "granted_on", "amount_sek",
    "amount_eur", "sek_per_eur", "rate_date", "status", "declared", "proposal", "reverses", "revoked_on", "reason",
    "document", "created_by",
]
RATE_FIELDS = ["date", "sek_per_eur", "source"]
PROFILE_FIELDS = ["company", "road_freight", "fiscal_year_start"]
MAX_AMOUNT = Decimal("999999999999.99")


class AidRefused(ValidationError):
    """The award would take the single undertaking over the de minimis ceiling (the check is attached)."""

    def __init__(self, check: selectors.LedgerCheck):
        super().__init__(check.message, code="deminimis")
        self.check = check


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _not_in_future(on: dt.date, field_name: str) -> None:
    if on > timezone.localdate():
        raise ValidationError({field_name: _("The date cannot be in the future.")})


@dataclass(frozen=True)
class Amounts:
    sek: Decimal
    eur: Decimal
    rate: ExchangeRate | None


def amounts_on(on: dt.date, *, amount_sek: Decimal | None = None, amount_eur: Decimal | None = None) -> Amounts:
    """Both amounts of an award given in SEK or EUR, at the latest rate on or before `on`.

    Raises ValidationError when neither or both are given, an amount is negative, or no rate is known.
    """
    if (amount_sek is None) == (amount_eur is None):
        raise ValidationError({"amount_sek": _("Give the amount in SEK or in EUR (one of them).")})
    name = "amount_sek" if amount_sek is not None else "amount_eur"
    value = Decimal(amount_sek if amount_sek is not None else amount_eur)
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValidationError({name: _("The amount must be 0 or more.")})
    rate = selectors.rate_on_or_before(on)
    if rate is None:
        raise ValidationError({"granted_on": _(
            "No SEK/EUR exchange rate is known on or before %(date)s: a finance officer imports the rates first."
        ) % {"date": on.isoformat()}})
    if amount_sek is not None:
        sek = rules.cents(value)
        return Amounts(sek, rules.sek_to_eur(sek, rate.sek_per_eur), rate)
    eur = rules.cents(value)
    return Amounts(rules.cents(eur * rate.sek_per_eur), eur, rate)


def check_amount(company: Company, on: dt.date, *, amount_sek: Decimal | None = None,
                 amount_eur: Decimal | None = None, exclude_intervention: int | None = None) -> selectors.LedgerCheck:
    """The on-demand check (read only): the figures for `company` on `on` with the proposed amount."""
    amounts = amounts_on(on, amount_sek=amount_sek, amount_eur=amount_eur)
    return selectors.ledger_check(company, on, amounts.eur, proposed_sek=amounts.sek, rate=amounts.rate,
                                  exclude_intervention=exclude_intervention)


def _texts(granting_authority: str, measure: str) -> tuple[str, str]:
    authority, measure = (granting_authority or "").strip(), (measure or "").strip()
    errors = {}
    if not authority:
        errors["granting_authority"] = _("Name the granting authority.")
    if not measure:
        errors["measure"] = _("Describe the measure the aid is for.")
    if errors:
        raise ValidationError(errors)
    return authority[:255], measure[:255]


def _save(actor, award: AidAward, *, document=None, source: str, message: str = "") -> AidAward:
    award.created_by = _user(actor)
    if document is not None:
        from sim.programmes.services import validate_decision_document

        validate_decision_document(document)
        award.document.save(os.path.basename(document.name), document, save=False)
    try:
        with transaction.atomic():
            award.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError(_("The entry conflicts with the ledger (%(error)s).") % {"error": exc}) from None
    audit_record(actor, Action.CREATE, award, after=snapshot(award, AWARD_FIELDS), scope=award.undertaking,
                 source=source, message=message)
    return award


def _lock_undertaking(company: Company) -> None:
    """Awards to one single undertaking wait for each other, so two cannot both fit the same headroom."""
    list(Company.objects.select_for_update().filter(pk__in=list(selectors.single_undertaking(company))).order_by("pk")
         .values_list("pk", flat=True))


@transaction.atomic
def record_declaration(
    actor, company: Company, *, granting_authority: str, measure: str, granted_on: dt.date,
    amount_sek: Decimal | None = None, amount_eur: Decimal | None = None, regulation: str | None = None,
    document=None, notes: str = "", source: str = Source.WEB,
) -> AidAward:
    """The company's declaration of de minimis aid it was granted by another authority (counted as granted).

    Aid already granted is recorded as it is, even over the ceiling; the check is in the audit note.
    """
    authority, measure = _texts(granting_authority, measure)
    _not_in_future(granted_on, "granted_on")
    amounts = amounts_on(granted_on, amount_sek=amount_sek, amount_eur=amount_eur)
    regulation = regulation or rules.regulation_for(granted_on)
    if regulation not in Regulation.values:
        raise ValidationError({"regulation": _("Choose a regulation.")})
    award = AidAward(
        undertaking=company, granting_authority=authority, measure=measure, regulation=regulation,
        granted_on=granted_on, amount_sek=amounts.sek, amount_eur=amounts.eur,
        sek_per_eur=amounts.rate.sek_per_eur if amounts.rate else None, rate_date=amounts.rate.date if amounts.rate else None,
        status=AwardStatus.GRANTED, declared=True, reason=(notes or "").strip(),
    )
    return _save(actor, award, document=document, source=source, message=_("declared by the company"))


def _new_award(
    actor, company: Company, *, status: str, granting_authority: str, measure: str, granted_on: dt.date,
    amount_sek: Decimal | None, amount_eur: Decimal | None, offer=None, intervention=None, document=None,
    notes: str = "", proposal: AidAward | None = None, source: str,
) -> AidAward:
    authority, measure = _texts(granting_authority, measure)
    if company.is_archived:
        raise ValidationError(_("%(company)s is archived.") % {"company": company.name})
    if status == AwardStatus.GRANTED:
        _not_in_future(granted_on, "granted_on")
    _lock_undertaking(company)
    amounts = amounts_on(granted_on, amount_sek=amount_sek, amount_eur=amount_eur)
    check = selectors.ledger_check(company, granted_on, amounts.eur, proposed_sek=amounts.sek, rate=amounts.rate,
                                   exclude_intervention=intervention.pk if intervention is not None else None)
    if not check.allowed:
        raise AidRefused(check)
    award = AidAward(
        undertaking=company, granting_authority=authority, measure=measure, offer=offer, intervention=intervention,
        regulation=check.result.regulation, granted_on=granted_on, amount_sek=amounts.sek, amount_eur=amounts.eur,
        sek_per_eur=amounts.rate.sek_per_eur, rate_date=amounts.rate.date, status=status, proposal=proposal,
        reason=(notes or "").strip(),
    )
    return _save(actor, award, document=document, source=source, message=check.message)


@transaction.atomic
def propose_award(actor, company: Company, *, granting_authority: str, measure: str, granted_on: dt.date,
                  amount_sek: Decimal | None = None, amount_eur: Decimal | None = None, offer=None, intervention=None,
                  document=None, notes: str = "", source: str = Source.WEB) -> AidAward:
    """A proposed award (not yet counted): refused with the figures when it would not fit on its date."""
    return _new_award(actor, company, status=AwardStatus.PROPOSED, granting_authority=granting_authority,
                      measure=measure, granted_on=granted_on, amount_sek=amount_sek, amount_eur=amount_eur, offer=offer,
                      intervention=intervention, document=document, notes=notes, source=source)


@transaction.atomic
def grant_award(actor, company: Company, *, granting_authority: str, measure: str, granted_on: dt.date,
                amount_sek: Decimal | None = None, amount_eur: Decimal | None = None, offer=None, intervention=None,
                document=None, notes: str = "", source: str = Source.WEB) -> AidAward:
    """A granted award: refused with the figures when it would take the single undertaking over the ceiling."""
    return _new_award(actor, company, status=AwardStatus.GRANTED, granting_authority=granting_authority,
                      measure=measure, granted_on=granted_on, amount_sek=amount_sek, amount_eur=amount_eur, offer=offer,
                      intervention=intervention, document=document, notes=notes, source=source)


@transaction.atomic
def grant_proposal(actor, proposal: AidAward, *, on: dt.date | None = None, source: str = Source.WEB) -> AidAward:
    """Grant a proposed award on `on` (default today): checked again against the ledger of that day."""
    proposal = AidAward.objects.select_for_update().select_related("undertaking").get(pk=proposal.pk)
    if proposal.status != AwardStatus.PROPOSED:
        raise ValidationError(_("Only a proposed award can be granted."))
    if proposal.is_reversed():
        raise ValidationError(_("This proposal was withdrawn."))
    if proposal.is_proposal_granted():
        raise ValidationError(_("This proposal is already granted."))
    on = on or timezone.localdate()
    return _new_award(actor, proposal.undertaking, status=AwardStatus.GRANTED,
                      granting_authority=proposal.granting_authority, measure=proposal.measure, granted_on=on,
                      amount_sek=proposal.amount_sek, amount_eur=None, offer=proposal.offer,
                      intervention=proposal.intervention, notes=proposal.reason, proposal=proposal, source=source)


@transaction.atomic
def revoke_award(actor, award: AidAward, *, reason: str, on: dt.date | None = None, source: str = Source.WEB) -> AidAward:
    """Revoke a granted award, a declaration or a proposal: a reversal entry that references it."""
    award = AidAward.objects.select_for_update().select_related("undertaking").get(pk=award.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the award is revoked.")})
    if award.status == AwardStatus.REVOKED:
        raise ValidationError(_("A revocation cannot itself be revoked."))
    if award.is_reversed():
        raise ValidationError(_("This award is already revoked."))
    if award.status == AwardStatus.PROPOSED and award.is_proposal_granted():
        raise ValidationError(_("This proposal was granted: revoke the granted award instead."))
    on = on or timezone.localdate()
    _not_in_future(on, "on")
    if on < award.granted_on and award.status == AwardStatus.GRANTED:
        raise ValidationError({"on": _("An award cannot be revoked before it was granted (%(date)s).") % {
            "date": award.granted_on.isoformat()}})
    reversal = AidAward(
        undertaking=award.undertaking, granting_authority=award.granting_authority, measure=award.measure,
        offer=award.offer, intervention=award.intervention, regulation=award.regulation, granted_on=award.granted_on,
        amount_sek=award.amount_sek, amount_eur=award.amount_eur, sek_per_eur=award.sek_per_eur,
        rate_date=award.rate_date, status=AwardStatus.REVOKED, declared=award.declared, reverses=award,
        revoked_on=on, reason=reason,
    )
    return _save(actor, reversal, source=source, message=_("revokes entry %(id)s") % {"id": award.pk})


# --- Interventions --------------------------------------------------------------------------


def granting_authority_of(intervention) -> str:
    owner = getattr(intervention.project, "owner", None)
    return owner.name if owner is not None else str(intervention.project)


def grant_for_intervention(actor, intervention, *, on: dt.date, source: str = Source.WEB) -> AidAward | None:
    """On approval of a state-aid intervention: check against the ledger and write the granted award.

    Runs inside the approval's transaction; an :class:`AidRefused` rolls the approval back.
    """
    if not intervention.is_state_aid:
        return None
    if intervention.aid_amount_sek is None:
        raise ValidationError(_("Enter the aid amount (gross grant equivalent) of this state aid before approving it."))
    return grant_award(
        actor, intervention.company, granting_authority=granting_authority_of(intervention),
        measure=intervention.title, granted_on=on, amount_sek=intervention.aid_amount_sek, intervention=intervention,
        source=source,
    )


def revoke_for_intervention(actor, intervention, *, on: dt.date, reason: str, source: str = Source.WEB) -> list[AidAward]:
    """When an approved intervention is cancelled: revoke its granted award (if any)."""
    revoked = []
    for award in AidAward.objects.counted().filter(intervention=intervention, declared=False):
        revoked.append(revoke_award(actor, award, reason=reason or _("The intervention was cancelled."),
                                    on=max(on, award.granted_on), source=source))
    return revoked


# --- Undertaking profile --------------------------------------------------------------------


@transaction.atomic
def profile_set(actor, company: Company, *, road_freight: bool, fiscal_year_start: str,
                source: str = Source.WEB) -> UndertakingProfile:
    """Road freight and fiscal-year start of an undertaking (for checks under Regulation No 1407/2013)."""
    try:
        start = rules.format_fiscal_year_start(rules.parse_fiscal_year_start((fiscal_year_start or "").strip() or None))
    except rules.RuleError as exc:
        raise ValidationError({"fiscal_year_start": str(exc)}) from None
    profile = UndertakingProfile.objects.select_for_update().filter(company=company).first()
    if profile is None:
        profile = UndertakingProfile.objects.create(company=company, road_freight=bool(road_freight),
                                                    fiscal_year_start=start)
        audit_record(actor, Action.CREATE, profile, after=snapshot(profile, PROFILE_FIELDS), scope=company,
                     source=source)
        return profile
    before = snapshot(profile, PROFILE_FIELDS)
    profile.road_freight, profile.fiscal_year_start = bool(road_freight), start
    profile.save(update_fields=["road_freight", "fiscal_year_start", "updated_at"])
    after = snapshot(profile, PROFILE_FIELDS)
    if after != before:
        audit_record(actor, Action.UPDATE, profile, before=before, after=after, scope=company, source=source)
    return profile


# --- Exchange rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # line of the file (the header is line 1)
    field: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)s, %(field)s: %(message)s") % {"row": self.row, "field": self.field, "message": self.message}


class RateImportError(ValidationError):
    def __init__(self, errors: list[RowError]):
        super().__init__([str(e) for e in errors], code="import")
        self.errors = errors


@dataclass
class RateImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dates: list[dt.date] = field(default_factory=list)


RATE_MAX_BYTES = 1024 * 1024
RATE_HEADERS = {"date": "date", "datum": "date", "sek_per_eur": "sek_per_eur", "kurs": "sek_per_eur",
                "rate": "sek_per_eur", "source": "source", "källa": "source"}


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RateImportError([RowError(0, _("file"), _("The file is neither UTF-8 nor Windows-1252 text."))])


def parse_rates_csv(data: bytes) -> list[tuple[int, dt.date, Decimal, str]]:
    """The rows of a rates CSV (``date;sek_per_eur[;source]``, header first, ``;`` or ``,``).

    Every problem is reported with its row and field; nothing is returned unless all rows are good.
    """
    if len(data) > RATE_MAX_BYTES:
        raise RateImportError([RowError(0, _("file"), _("The file is larger than 1 MB."))])
    text = _decode(data)
    if not text.strip():
        raise RateImportError([RowError(0, _("file"), _("The file is empty."))])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    columns = {RATE_HEADERS[h]: i for i, h in enumerate(header) if h in RATE_HEADERS}
    missing = [name for name in ("date", "sek_per_eur") if name not in columns]
    if missing:
        raise RateImportError([RowError(1, ", ".join(missing), _(
            "The header must name the columns date and sek_per_eur (and optionally source)."))])
    errors: list[RowError] = []
    rows: list[tuple[int, dt.date, Decimal, str]] = []
    seen: dict[dt.date, int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        try:
            day = dt.date.fromisoformat(cells["date"]) if len(cells["date"]) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors.append(RowError(number, "date", _("“%(value)s” is not a date (write YYYY-MM-DD).") % {
                "value": cells["date"]}))
        raw = cells["sek_per_eur"].replace(" ", "").replace("\u00a0", "").replace(",", ".")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0 or value >= Decimal("100000"):
            errors.append(RowError(number, "sek_per_eur", _("“%(value)s” is not a rate above zero.") % {
                "value": cells["sek_per_eur"]}))
            value = None
        elif value != value.quantize(Decimal("0.0001")):
            errors.append(RowError(number, "sek_per_eur", _("“%(value)s” has more than four decimals.") % {
                "value": cells["sek_per_eur"]}))
            value = None
        if day is not None:
            if day in seen:
                errors.append(RowError(number, "date", _("%(date)s is also on row %(row)s.") % {
                    "date": day.isoformat(), "row": seen[day]}))
            seen.setdefault(day, number)
        if day is not None and value is not None:
            rows.append((number, day, value, cells.get("source", "")[:100]))
    if errors:
        raise RateImportError(errors)
    if not rows:
        raise RateImportError([RowError(0, _("file"), _("The file has no rates."))])
    return rows


@transaction.atomic
def import_rates(actor, data: bytes, *, source: str = Source.IMPORT) -> RateImportResult:
    """Import a rates CSV: all rows or none. New dates are added, changed rates updated (audited)."""
    rows = parse_rates_csv(data)
    result = RateImportResult()
    existing = ExchangeRate.objects.select_for_update().in_bulk([day for _n, day, _v, _s in rows], field_name="date")
    events = []
    for _number, day, value, origin in rows:
        rate = existing.get(day)
        if rate is None:
            rate = ExchangeRate.objects.create(date=day, sek_per_eur=value, source=origin, created_by=_user(actor))
            events.append(build_event(actor, Action.CREATE, rate, after=snapshot(rate, RATE_FIELDS), source=source))
            result.created += 1
        elif rate.sek_per_eur != value or (origin and rate.source != origin):
            before = snapshot(rate, RATE_FIELDS)
            rate.sek_per_eur = value
            rate.source = origin or rate.source
            rate.save(update_fields=["sek_per_eur", "source", "updated_at"])
            events.append(build_event(actor, Action.UPDATE, rate, before=before, after=snapshot(rate, RATE_FIELDS),
                                      source=source))
            result.updated += 1
        else:
            result.unchanged += 1
        result.dates.append(day)
    AuditEvent.objects.bulk_create(events)
    return result
