"""Writes of the actuals: cost entries (by hand, by import, reversals), staff rates and time
reports. Each function validates, applies the rules of :mod:`.rules_actuals`, saves and audits in
one transaction, and raises ``ValidationError`` (by field where it can) with a clear message.

* Cost entries are an append-only ledger. A correction is a **reversal**: a new entry with the
  negated amount that points at the original through ``reverses``. An entry is reversed at most
  once, a reversal is never reversed, and the reason is required (it is kept in the audit trail
  and in the reversal's description).
* Staff costs are not cost entries: they come from time reports (hours × the hourly cost of the
  staff rate valid in the month, copied onto the report when the hours are recorded). Indirect
  costs are a flat rate on staff costs and are not entries either.
* Finance work goes on after a project is closed (final accounts, audit corrections), so the
  project's status does not block it; dates must lie in the project's period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, build_event, snapshot
from sim.core.models import AuditEvent
from sim.programmes.models import FocusArea, InterventionStatus, Project, ProjectPartner

from . import rules_actuals as rules
from .models import CostCategory, CostEntry, StaffRate, TimeReport

Source = AuditEvent.Source
Action = AuditEvent.Action

#: Amounts must stay below this (the field holds 14 digits with 2 decimals).
MAX_AMOUNT = Decimal("1000000000000")
#: Interventions whose costs may be booked (an approval decision exists).
COSTED_INTERVENTION_STATUSES = (
    InterventionStatus.APPROVED, InterventionStatus.IN_PROGRESS, InterventionStatus.DELIVERED,
    InterventionStatus.CLOSED, InterventionStatus.CANCELLED,
)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _person_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _month_label(month: dt.date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


# =============================================================================================
# Cost entries
# =============================================================================================


class LedgerContext:
    """What the checks of a cost entry need about a project, read once (an import checks many rows)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.partners = {p.pk: p for p in ProjectPartner.objects.filter(project=project).select_related("organisation")}
        self.owner = next((p for p in self.partners.values() if p.role == ProjectPartner.Role.OWNER), None)
        self.today = timezone.localdate()

    def default_partner(self) -> ProjectPartner | None:
        """The partner of an entry that names none: the only partner, else the project owner."""
        if len(self.partners) == 1:
            return next(iter(self.partners.values()))
        return self.owner


def entry_key(partner_id: int | None, voucher: str, category: str, amount: Decimal, date: dt.date) -> tuple:
    """A voucher line's identity: what the ledger holds once only (``costentry_unique_voucher_line``)."""
    return (partner_id, voucher.strip().casefold(), category, Decimal(amount).quantize(rules.CENT), date)


def entry_problems(ctx: LedgerContext, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a new cost entry, as ``(field, message)`` pairs (none when it is fine).

    ``values``: ``partner`` (ProjectPartner or None), ``category``, ``date``, ``amount_sek``,
    ``voucher``, ``description``, ``intervention`` (or None), ``company`` (or None).
    Does not look for duplicates (see :func:`ledger_keys`).
    """
    problems: list[tuple[str, str]] = []
    project = ctx.project
    category = values.get("category") or ""
    if category == CostCategory.STAFF:
        problems.append(("category", _(
            "Staff costs are not booked as cost entries: they come from the time reports (hours × hourly cost).")))
    elif category == CostCategory.INDIRECT:
        problems.append(("category", _(
            "Indirect costs are not booked as cost entries: they are a flat rate on the staff costs.")))
    elif category not in rules.ENTRY_CATEGORIES:
        problems.append(("category", _("Choose a cost category.")))

    partner = values.get("partner")
    if partner is not None and partner.pk not in ctx.partners:
        problems.append(("partner", _("%(name)s is not a partner in this project.") % {"name": partner.organisation}))

    day = values.get("date")
    if not isinstance(day, dt.date):
        problems.append(("date", _("Enter the date of the cost.")))
    else:
        if not project.start_date <= day <= project.effective_end:
            problems.append(("date", _("The date lies outside the project's period (%(start)s – %(end)s).") % {
                "start": project.start_date.isoformat(), "end": project.effective_end.isoformat()}))
        elif day > ctx.today:
            problems.append(("date", _("The date is in the future: book costs when they have arisen.")))

    amount = values.get("amount_sek")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        problems.append(("amount_sek", _("Enter the amount in SEK.")))
    elif amount.quantize(rules.CENT) == 0:
        problems.append(("amount_sek", _("The amount cannot be zero.")))
    elif abs(amount) >= MAX_AMOUNT:
        problems.append(("amount_sek", _("The amount is too large.")))
    elif amount != amount.quantize(rules.CENT):
        problems.append(("amount_sek", _("The amount can have at most two decimals (öre).")))

    voucher = (values.get("voucher") or "").strip()
    if not voucher:
        problems.append(("voucher", _("Enter the voucher (verification) number.")))
    elif len(voucher) > 64:
        problems.append(("voucher", _("Too long: at most %(max)d characters.") % {"max": 64}))
    if len(values.get("description") or "") > 255:
        problems.append(("description", _("Too long: at most %(max)d characters.") % {"max": 255}))

    intervention = values.get("intervention")
    company = values.get("company")
    if intervention is not None:
        if intervention.project_id != project.pk:
            problems.append(("intervention", _("This intervention belongs to another project.")))
        elif intervention.status not in COSTED_INTERVENTION_STATUSES:
            problems.append(("intervention", _(
                "The intervention “%(title)s” is not approved: book its costs after the decision.") % {
                "title": intervention.title}))
        if company is not None and intervention.company_id != company.pk:
            problems.append(("company", _("The intervention “%(title)s” is for %(name)s, not for this company.") % {
                "title": intervention.title, "name": intervention.company.name}))
    return problems


def ledger_keys(project: Project) -> dict[tuple, CostEntry]:
    """Every voucher line of a project's ledger, by :func:`entry_key`."""
    return {
        entry_key(e.partner_id, e.voucher, e.category, e.amount_sek, e.date): e
        for e in CostEntry.objects.filter(project=project).only(
            "id", "partner_id", "voucher", "category", "amount_sek", "date", "import_batch", "recorded_at",
            "recorded_by_id")
    }


def duplicate_message(entry: CostEntry) -> str:
    return _("This voucher line is already in the ledger (voucher %(voucher)s of %(date)s, %(amount)s SEK).") % {
        "voucher": entry.voucher, "date": entry.date.isoformat(), "amount": entry.amount_sek}


def _raise(problems: list[tuple[str, str]]) -> None:
    errors: dict[str, list[str]] = {}
    for field, message in problems:
        errors.setdefault(field, []).append(message)
    raise ValidationError(errors)


def _new_entry(project: Project, values: Mapping[str, Any], *, actor, source_kind: str, batch: str = "") -> CostEntry:
    intervention = values.get("intervention")
    company = values.get("company") or (intervention.company if intervention is not None else None)
    return CostEntry(
        project=project, partner=values.get("partner"), category=values["category"], date=values["date"],
        amount_sek=Decimal(values["amount_sek"]).quantize(rules.CENT), voucher=values["voucher"].strip(),
        description=" ".join((values.get("description") or "").split()), intervention=intervention,
        company=company, source=source_kind, import_batch=batch, recorded_by=_user(actor),
    )


def _check_amount(value) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@transaction.atomic
def cost_entry_create(actor, project: Project, data: Mapping[str, Any], *, source: str = Source.WEB) -> CostEntry:
    """Book one cost entry by hand."""
    values = dict(data)
    values["amount_sek"] = _check_amount(values.get("amount_sek"))
    ctx = LedgerContext(project)
    if values.get("partner") is None:
        values["partner"] = ctx.default_partner()
    problems = entry_problems(ctx, values)
    if problems:
        _raise(problems)
    # Serialise writers of this project's ledger (the duplicate check must see every line).
    Project.objects.select_for_update().filter(pk=project.pk).first()
    partner = values["partner"]
    key = entry_key(partner.pk if partner else None, values["voucher"], values["category"], values["amount_sek"],
                    values["date"])
    existing = ledger_keys(project).get(key)
    if existing is not None:
        raise ValidationError({"voucher": [duplicate_message(existing)]})
    entry = _new_entry(project, values, actor=actor, source_kind="manual")
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"voucher": [_("This voucher line is already in the ledger.")]}) from None
    audit_record(actor, Action.CREATE, entry, after=snapshot(entry), source=source)
    return entry


@transaction.atomic
def cost_entry_reverse(
    actor, entry: CostEntry, *, reason: str, on: dt.date | None = None, voucher: str = "", source: str = Source.WEB
) -> CostEntry:
    """Correct an entry: a new entry with the negated amount that ``reverses`` it.

    ``on`` is the date of the correction (today when left out; not before the original's date);
    ``voucher`` the correction's voucher number (the original's when left out).
    """
    reason = " ".join((reason or "").split())
    original = CostEntry.objects.select_for_update().select_related("project").filter(pk=entry.pk).first()
    if original is None:
        raise ValidationError(_("No such cost entry."))
    errors: dict[str, list[str]] = {}
    if not reason:
        errors.setdefault("reason", []).append(_("Give the reason for the correction."))
    elif len(reason) > 200:
        errors.setdefault("reason", []).append(_("Too long: at most %(max)d characters.") % {"max": 200})
    if original.reverses_id is not None:
        errors.setdefault("__all__", []).append(_("This entry is itself a reversal and cannot be reversed."))
    elif CostEntry.objects.filter(reverses=original).exists():
        errors.setdefault("__all__", []).append(_("This entry has already been reversed."))
    on = on or timezone.localdate()
    if on < original.date:
        errors.setdefault("on", []).append(_("A reversal cannot be dated before the entry it corrects (%(date)s).") % {
            "date": original.date.isoformat()})
    elif on > timezone.localdate():
        errors.setdefault("on", []).append(_("The date is in the future."))
    voucher = (voucher or "").strip() or original.voucher
    if len(voucher) > 64:
        errors.setdefault("voucher", []).append(_("Too long: at most %(max)d characters.") % {"max": 64})
    if errors:
        raise ValidationError(errors)
    description = _("Reversal of %(voucher)s: %(reason)s") % {"voucher": original.voucher, "reason": reason}
    reversal = CostEntry(
        project=original.project, partner=original.partner, category=original.category, date=on,
        amount_sek=-original.amount_sek, voucher=voucher, description=description[:255],
        intervention=original.intervention, company=original.company, reverses=original, source="reversal",
        recorded_by=_user(actor),
    )
    try:
        with transaction.atomic():
            reversal.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_(
            "This entry has already been reversed, or the correction's voucher line is already in the ledger."
        )) from None
    audit_record(actor, Action.CREATE, reversal, after=snapshot(reversal), scope=original, source=source,
                 message=_("Reversal of %(voucher)s: %(reason)s") % {"voucher": original.voucher, "reason": reason})
    return reversal


def cost_entries_write(
    actor, project: Project, rows: Iterable[Mapping[str, Any]], *, batch: str, source: str, message: str
) -> list[CostEntry]:
    """Write checked import rows (see :mod:`.cost_import`) with one audit event each. The caller
    holds the transaction and has checked every row and the ledger for duplicates."""
    entries = [_new_entry(project, values, actor=actor, source_kind="import", batch=batch) for values in rows]
    created = CostEntry.objects.bulk_create(entries)
    if any(entry.pk is None for entry in created):  # a database that does not return keys
        keys = {entry_key(e.partner_id, e.voucher, e.category, e.amount_sek, e.date): e for e in created}
        for stored in CostEntry.objects.filter(project=project, import_batch=batch):
            entry = keys.get(entry_key(stored.partner_id, stored.voucher, stored.category, stored.amount_sek, stored.date))
            if entry is not None:
                entry.pk = entry.id = stored.pk
    AuditEvent.objects.bulk_create([
        build_event(actor, Action.CREATE, entry, after=snapshot(entry), source=source, message=message)
        for entry in created
    ])
    return created


# =============================================================================================
# Staff rates
# =============================================================================================

RATE_FIELDS = ("person", "partner", "valid_from", "monthly_salary_sek", "overhead_pct", "annual_hours")


def member_partner(project: Project, person) -> ProjectPartner | None:
    """The partner a member works for in a project (through the membership's organisation)."""
    membership = project.memberships.filter(user=person).select_related("organisation").first()
    if membership is None or membership.organisation_id is None:
        return None
    return ProjectPartner.objects.filter(project=project, organisation_id=membership.organisation_id).first()


def _check_rate(rate: StaffRate) -> None:
    errors: dict[str, list[str]] = {}
    project = rate.project
    if rate.person_id is None:
        errors.setdefault("person", []).append(_("Choose the person."))
    elif not project.memberships.filter(user_id=rate.person_id).exists():
        errors.setdefault("person", []).append(_("%(name)s does not work in the project.") % {
            "name": _person_name(rate.person)})
    if rate.partner_id is not None and rate.partner.project_id != project.pk:
        errors.setdefault("partner", []).append(_("This partner is not in the project."))
    for field, value, message in (
        ("monthly_salary_sek", rate.monthly_salary_sek, _("The monthly salary must be more than 0.")),
        ("annual_hours", rate.annual_hours, _("The working hours per year must be more than 0.")),
    ):
        if value is None or Decimal(value) <= 0:
            errors.setdefault(field, []).append(message)
    if rate.overhead_pct is None or not Decimal(0) <= Decimal(rate.overhead_pct) <= Decimal(200):
        errors.setdefault("overhead_pct", []).append(_("The overhead must be between 0 and 200 %."))
    if rate.annual_hours is not None and Decimal(rate.annual_hours) > Decimal(3000):
        errors.setdefault("annual_hours", []).append(_("At most 3,000 working hours per year."))
    if rate.valid_from is None:
        errors.setdefault("valid_from", []).append(_("Enter the date the rate is valid from."))
    elif rate.valid_from > project.effective_end:
        errors.setdefault("valid_from", []).append(_("The date is after the project's end (%(end)s).") % {
            "end": project.effective_end.isoformat()})
    elif rate.person_id is not None and StaffRate.objects.filter(
        project=project, person_id=rate.person_id, valid_from=rate.valid_from
    ).exclude(pk=rate.pk).exists():
        errors.setdefault("valid_from", []).append(_("%(name)s already has a staff rate valid from %(date)s.") % {
            "name": _person_name(rate.person), "date": rate.valid_from.isoformat()})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def staff_rate_create(actor, project: Project, data: Mapping[str, Any], *, source: str = Source.WEB) -> StaffRate:
    """A person's salary and overhead from a date. Time reports already recorded keep their hourly cost."""
    rate = StaffRate(project=project)
    for key, value in data.items():
        if key in RATE_FIELDS:
            setattr(rate, key, value)
    if rate.partner_id is None and rate.person_id is not None:
        rate.partner = member_partner(project, rate.person)
    _check_rate(rate)
    try:
        with transaction.atomic():
            rate.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"valid_from": [_("There is already a staff rate for this person from this date.")]}) from None
    audit_record(actor, Action.CREATE, rate, after=snapshot(rate), scope=project, source=source)
    return rate


@transaction.atomic
def staff_rate_update(actor, rate: StaffRate, data: Mapping[str, Any], *, source: str = Source.WEB) -> StaffRate:
    """Change a staff rate (e.g. a typing error). Time reports already recorded keep their hourly cost."""
    rate = StaffRate.objects.select_for_update().select_related("project", "person").get(pk=rate.pk)
    before = snapshot(rate)
    for key, value in data.items():
        if key in RATE_FIELDS and key != "person":
            setattr(rate, key, value)
    _check_rate(rate)
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError:
        raise ValidationError({"valid_from": [_("There is already a staff rate for this person from this date.")]}) from None
    after = snapshot(rate)
    if after != before:
        audit_record(actor, Action.UPDATE, rate, before=before, after=after, scope=rate.project, source=source)
    return rate


def rates_of(project: Project, person) -> list[rules.Rate]:
    return [
        rules.Rate(r.valid_from, r.monthly_salary_sek, r.overhead_pct, r.annual_hours, r.pk)
        for r in StaffRate.objects.filter(project=project, person=person)
    ]


# =============================================================================================
# Time reports
# =============================================================================================


def report_focus_areas(project: Project):
    """The focus areas hours can be reported on: the project's, else every active one."""
    areas = project.focus_areas.all()
    return (areas if areas.exists() else FocusArea.objects.filter(active=True)).order_by("order", "key")


@transaction.atomic
def time_report_save_month(
    actor, project: Project, person, month: dt.date, hours: Mapping[int | None, Any], *, note: str = "",
    source: str = Source.WEB,
) -> dict[str, Any]:
    """Record a person's hours in a project for a month, per focus area (``None``: work not tied to a
    focus area, such as project management).

    The grid replaces the month's hours: a focus area given 0 (or left blank) loses its hours. New
    and changed rows get the hourly cost of the staff rate valid in the month, fixed on the report;
    rows whose hours do not change keep theirs. Returns ``{"created", "updated", "removed",
    "hours", "cost_sek", "hourly_cost_sek"}``.
    """
    month = rules.month_start(month)
    errors: dict[str, list[str]] = {}
    if not project.memberships.filter(user=person).exists():
        raise ValidationError({"person": [_("%(name)s does not work in the project.") % {"name": _person_name(person)}]})
    if month < rules.month_start(project.start_date) or month > project.effective_end:
        errors.setdefault("month", []).append(
            _("%(month)s lies outside the project's period (%(start)s – %(end)s).") % {
                "month": _month_label(month), "start": project.start_date.isoformat(),
                "end": project.effective_end.isoformat()})
    elif month > rules.month_start(timezone.localdate()):
        errors.setdefault("month", []).append(_("Report hours when they have been worked, not in advance."))
    allowed = {area.pk: area for area in report_focus_areas(project)}
    # Areas reported earlier stay editable even if the project has dropped them since.
    allowed.update({r.focus_area_id: r.focus_area for r in TimeReport.objects.filter(
        project=project, person=person, month=month, focus_area__isnull=False).select_related("focus_area")})
    parsed: dict[int | None, Decimal] = {}
    for key, value in hours.items():
        field = f"hours_{key or 'general'}"
        if key is not None and key not in allowed:
            errors.setdefault(field, []).append(_("This focus area is not one of the project's."))
            continue
        try:
            parsed[key] = rules.parse_hours(value)
        except rules.RuleError as exc:
            errors.setdefault(field, []).append(str(exc))
    if len(note or "") > 255:
        errors.setdefault("note", []).append(_("Too long: at most %(max)d characters.") % {"max": 255})
    if errors:
        raise ValidationError(errors)

    # One writer per person at a time: the plausibility check spans every project.
    type(person).objects.select_for_update().filter(pk=person.pk).first()
    existing = {r.focus_area_id: r for r in TimeReport.objects.select_for_update().filter(
        project=project, person=person, month=month)}
    total = sum((h for h in parsed.values()), Decimal(0))
    total += sum((r.hours for key, r in existing.items() if key not in parsed), Decimal(0))
    elsewhere = TimeReport.objects.filter(person=person, month=month).exclude(project=project).aggregate(
        hours=Sum("hours"))["hours"] or Decimal(0)
    limit = rules.max_month_hours(month)
    if total + elsewhere > limit:
        message = _("%(hours)s hours in %(month)s is more than one person can work: at most %(max)s hours "
                    "(10 per weekday).") % {"hours": total + elsewhere, "month": _month_label(month), "max": limit}
        if elsewhere:
            message += " " + _("%(hours)s hours of them are reported in other projects.") % {"hours": elsewhere}
        raise ValidationError({"__all__": [message]})

    changing = [key for key, value in parsed.items()
                if value > 0 and (key not in existing or existing[key].hours != value)]
    rate = rules.rate_for_month(rates_of(project, person), month)
    if changing and rate is None:
        raise ValidationError({"__all__": [_(
            "%(name)s has no staff rate valid in %(month)s: add a staff rate (monthly salary and overhead) "
            "valid from that month or earlier first.") % {"name": _person_name(person), "month": _month_label(month)}]})
    hourly = rate.hourly_cost if rate is not None else None
    partner = None
    if rate is not None:
        partner_id = StaffRate.objects.filter(pk=rate.id).values_list("partner_id", flat=True).first()
        partner = ProjectPartner.objects.filter(pk=partner_id).first() if partner_id else None
    partner = partner or member_partner(project, person)

    note = " ".join((note or "").split())
    counts = {"created": 0, "updated": 0, "removed": 0}
    for key, value in parsed.items():
        report = existing.get(key)
        if value == 0:
            if report is not None:
                audit_record(actor, Action.ARCHIVE, report, before=snapshot(report), scope=project, source=source,
                             message=_("Hours removed from the time report"))
                report.delete()
                counts["removed"] += 1
            continue
        if report is None:
            report = TimeReport(project=project, person=person, month=month, focus_area_id=key, hours=value,
                                hourly_cost_sek=hourly, partner=partner, note=note, created_by=_user(actor))
            report.save(force_insert=True)
            audit_record(actor, Action.CREATE, report, after=snapshot(report), scope=project, source=source)
            counts["created"] += 1
            continue
        before = snapshot(report)
        if report.hours != value:
            report.hours = value
            report.hourly_cost_sek = hourly
            report.partner = partner
        report.note = note
        after = snapshot(report)
        if after != before:
            report.save()
            audit_record(actor, Action.UPDATE, report, before=before, after=after, scope=project, source=source)
            counts["updated"] += 1
    reports = TimeReport.objects.filter(project=project, person=person, month=month)
    counts["hours"] = sum((r.hours for r in reports), Decimal(0))
    counts["cost_sek"] = sum((r.cost_sek for r in reports), Decimal(0))
    counts["hourly_cost_sek"] = hourly
    return counts
