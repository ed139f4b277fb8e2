"""Every write to the company register: validate, apply rules, save and audit in one transaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent

from . import rules
from .models import (
    Company,
    CompanyStatus,
    Contact,
    KeyFigures,
    LegalBasis,
    LegalForm,
    Municipality,
    NotDuplicate,
    OwnershipLink,
    SniCode,
)
from .selectors import ownership_component

Source = AuditEvent.Source
Action = AuditEvent.Action

LEGAL_FORM_BY_GROUP = {
    "estate": LegalForm.ESTATE,
    "public": LegalForm.PUBLIC,
    "foreign": LegalForm.FOREIGN_BRANCH,
    "limited_company": LegalForm.LIMITED_COMPANY,
    "simple_partnership": LegalForm.SIMPLE_PARTNERSHIP,
    "economic_association": LegalForm.ECONOMIC_ASSOCIATION,
    "non_profit": LegalForm.NON_PROFIT,
    "partnership": LegalForm.TRADING_PARTNERSHIP,
    "sole_trader": LegalForm.SOLE_TRADER,
}

COMPANY_FIELDS = (
    "org_number", "name", "legal_form", "sni_system", "sni_primary", "sni_secondary", "municipality",
    "street_address", "postal_code", "postal_city", "mailing_address", "website", "phone", "email",
    "registration_date", "status", "growth_ambition", "growth_ambition_notes", "owner_advisor",
    "is_public_body", "is_exempt_investor",
)


def search_text_for(name: str, org_number: str) -> str:
    return f" {name.lower()} {org_number}"[:300]


# --- Validation shared by forms, API, import ------------------------------------------------


def clean_org_number(value: str) -> rules.OrgNumber:
    try:
        return rules.parse_org_number(str(value or ""))
    except rules.InvalidOrgNumber as exc:
        raise ValidationError({"org_number": str(exc)}) from exc


def clean_sni_code(value: str, *, system: str = "SNI2007", field: str = "sni_primary") -> str:
    from .reference import normalise_sni_code

    if not value:
        return ""
    try:
        code = normalise_sni_code(str(value))
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from exc
    if not SniCode.objects.filter(system=system, code=code).exists():
        raise ValidationError({field: _("%(code)s is not a code in %(system)s.") % {"code": value, "system": system}})
    return code


def clean_municipality(value) -> Municipality | None:
    if value in (None, ""):
        return None
    if isinstance(value, Municipality):
        return value
    municipality = Municipality.objects.filter(code=str(value).strip().zfill(4)).first()
    if municipality is None:
        raise ValidationError({"municipality": _("%(code)s is not a Swedish municipality code.") % {"code": value}})
    return municipality


def _apply_company_data(company: Company, data: dict[str, Any]) -> None:
    if "org_number" in data:
        parsed = clean_org_number(data["org_number"])
        company.org_number = parsed.digits
        company.is_sole_trader = parsed.is_personal
        if not data.get("legal_form") and (company.legal_form in ("", LegalForm.OTHER)):
            company.legal_form = LEGAL_FORM_BY_GROUP.get(parsed.legal_form_group or "", LegalForm.OTHER)
    system = data.get("sni_system") or company.sni_system or "SNI2007"
    for key, value in data.items():
        if key == "org_number":
            continue
        if key not in COMPANY_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        if key == "sni_primary":
            value = clean_sni_code(value, system=system)
        elif key == "sni_secondary":
            codes = [c for c in (value or []) if c]
            value = list(dict.fromkeys(clean_sni_code(c, system=system, field="sni_secondary") for c in codes))
        elif key == "municipality":
            value = clean_municipality(value)
        elif key == "legal_form" and not value:
            continue
        elif key == "status" and value == CompanyStatus.ARCHIVED:
            if company.status != CompanyStatus.ARCHIVED:
                raise ValidationError({"status": _("Use archive to archive a company.")})
        elif key == "status" and company.status == CompanyStatus.ARCHIVED:
            raise ValidationError({"status": _("Use restore to bring back an archived company.")})
        setattr(company, key, value)
    if "org_number" in data and rules.parse_org_number(company.org_number).is_public_body:
        # Numbers of group 2 belong to the state, regions and municipalities: always public bodies.
        company.is_public_body = True
    if not (company.name or "").strip():
        raise ValidationError({"name": _("A company needs a name.")})
    company.name = company.name.strip()
    company.search_text = search_text_for(company.name, company.org_number)


def _full_clean(instance, exclude: Iterable[str] = ()) -> None:
    instance.full_clean(exclude=[*exclude], validate_unique=True, validate_constraints=True)


# --- Companies ------------------------------------------------------------------------------


@transaction.atomic
def company_create(actor, data: dict[str, Any], *, source: str = Source.WEB) -> Company:
    company = Company(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    if not data.get("org_number"):
        raise ValidationError({"org_number": _("An organisation number is required.")})
    _apply_company_data(company, data)
    if Company.objects.filter(org_number=company.org_number).exists():
        raise ValidationError(
            {"org_number": _("A company with organisation number %(number)s is already in the register.")
             % {"number": company.org_number_display}}
        )
    _full_clean(company, exclude=["search_text", "created_by", "merged_into"])
    company.save()
    audit_record(actor, Action.CREATE, company, after=snapshot(company), source=source)
    return company


@transaction.atomic
def company_update(actor, company: Company, data: dict[str, Any], *, source: str = Source.WEB) -> Company:
    company = Company.objects.select_for_update().get(pk=company.pk)
    before = snapshot(company)
    _apply_company_data(company, data)
    if company.org_number != before["org_number"] and Company.objects.filter(
        org_number=company.org_number
    ).exclude(pk=company.pk).exists():
        raise ValidationError({"org_number": _("Another company already has this organisation number.")})
    _full_clean(company, exclude=["search_text", "created_by", "merged_into"])
    after = snapshot(company)
    if after != before:
        company.save()
        audit_record(actor, Action.UPDATE, company, before=before, after=after, source=source)
        if (before["is_public_body"], before["is_exempt_investor"]) != (after["is_public_body"], after["is_exempt_investor"]):
            company_refresh_size_classes([company.pk])
    return company


@transaction.atomic
def company_archive(actor, company: Company, *, reason: str = "", source: str = Source.WEB) -> Company:
    if company.status == CompanyStatus.ARCHIVED:
        return company
    before = snapshot(company)
    company.status = CompanyStatus.ARCHIVED
    company.archived_at = timezone.now()
    company.save(update_fields=["status", "archived_at", "updated_at"])
    audit_record(actor, Action.ARCHIVE, company, before=before, after=snapshot(company), message=reason, source=source)
    return company


@transaction.atomic
def company_restore(actor, company: Company, *, status: str = CompanyStatus.PROSPECT, source: str = Source.WEB) -> Company:
    if company.status != CompanyStatus.ARCHIVED:
        return company
    if company.merged_into_id:
        raise ValidationError(_("A company merged into another cannot be restored."))
    if status not in CompanyStatus.values or status == CompanyStatus.ARCHIVED:
        raise ValidationError({"status": _("Choose the status the company returns to.")})
    before = snapshot(company)
    company.status = status
    company.archived_at = None
    company.save(update_fields=["status", "archived_at", "updated_at"])
    audit_record(actor, Action.RESTORE, company, before=before, after=snapshot(company), source=source)
    return company


# --- Key figures and SME class --------------------------------------------------------------


KEY_FIGURE_FIELDS = ("staff_awu", "turnover_sek", "balance_sheet_sek", "source", "estimated")


@transaction.atomic
def key_figures_set(
    actor, company: Company, fiscal_year: int, data: dict[str, Any], *, source: str = Source.WEB,
    refresh: bool = True,
) -> KeyFigures:
    """Create or update the key figures of one accounting year."""
    figures = KeyFigures.objects.filter(company=company, fiscal_year=fiscal_year).first()
    created = figures is None
    if created:
        figures = KeyFigures(company=company, fiscal_year=fiscal_year)
    before = {} if created else snapshot(figures)
    for key, value in data.items():
        if key not in KEY_FIGURE_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        if key in ("staff_awu", "turnover_sek", "balance_sheet_sek") and value is not None and Decimal(value) < 0:
            raise ValidationError({key: _("Cannot be negative.")})
        setattr(figures, key, value)
    _full_clean(figures, exclude=["company"])
    after = snapshot(figures)
    if created or after != before:
        figures.save()
        audit_record(
            actor, Action.CREATE if created else Action.UPDATE, figures, before=before, after=after,
            scope=company, source=source,
        )
        if refresh:
            company_refresh_size_classes([company.pk])
    return figures


def _sek_per_eur() -> Decimal:
    return Decimal(str(settings.SIM_SME_SEK_PER_EUR))


def enterprise_label(company: Company) -> str:
    """How a company is named in SME explanations (unique thanks to the number)."""
    return f"{company.name} ({company.org_number_display})"


def sme_scenario_for(company_ids: set[int]) -> tuple[list[rules.Enterprise], list[rules.Holding], dict[str, Company]]:
    """Build the pure-rule inputs for companies and everything linked to them by ownership.

    Enterprises are identified by their label, so the rule's explanation names them readably.
    """
    component, links = ownership_component(company_ids)
    companies = {c.pk: c for c in Company.objects.filter(pk__in=component)}
    rate = _sek_per_eur()
    figures_by_company: dict[int, list[rules.Accounts]] = {pk: [] for pk in companies}
    for fig in KeyFigures.objects.filter(company_id__in=component).order_by("fiscal_year"):
        if fig.staff_awu is None or (fig.turnover_sek is None and fig.balance_sheet_sek is None):
            continue
        turnover = fig.turnover_sek if fig.turnover_sek is not None else fig.balance_sheet_sek
        balance = fig.balance_sheet_sek if fig.balance_sheet_sek is not None else fig.turnover_sek
        figures_by_company[fig.company_id].append(
            rules.Accounts(
                year=fig.fiscal_year,
                staff_awu=Decimal(fig.staff_awu),
                turnover_eur=(Decimal(turnover) / rate).quantize(Decimal("1")),
                balance_sheet_eur=(Decimal(balance) / rate).quantize(Decimal("1")),
            )
        )
    enterprises = [
        rules.Enterprise(
            id=enterprise_label(company),
            accounts=tuple(figures_by_company[pk]),
            public_body=company.is_public_body,
            exempt_investor=company.is_exempt_investor,
        )
        for pk, company in companies.items()
    ]
    holdings = [
        rules.Holding(
            holder=enterprise_label(companies[link.holder_id]), held=enterprise_label(companies[link.held_id]),
            capital_pct=Decimal(link.capital_pct),
            voting_pct=Decimal(link.voting_pct), controls=link.controls,
        )
        for link in links
    ]
    return enterprises, holdings, {enterprise_label(c): c for c in companies.values()}


def company_sme_assessment(company: Company) -> rules.SmeResult | None:
    """The SME category with its explanation, or None when the company has no usable accounts."""
    enterprises, holdings, _companies = sme_scenario_for({company.pk})
    subject_id = enterprise_label(company)
    subject = next(e for e in enterprises if e.id == subject_id)
    if not subject.accounts:
        return None
    # Related enterprises without accounts cannot be aggregated; leave them out and say so.
    # (Public bodies count by their holdings alone, so they stay.)
    usable_ids = {e.id for e in enterprises if e.accounts or e.public_body}
    left_out = sorted(
        h.holder if h.holder not in usable_ids else h.held
        for h in holdings
        if (h.holder not in usable_ids or h.held not in usable_ids) and subject_id in (h.holder, h.held)
    )
    holdings = [h for h in holdings if h.holder in usable_ids and h.held in usable_ids]
    enterprises = [e for e in enterprises if e.id in usable_ids]
    try:
        result = rules.classify_sme(subject_id, enterprises, holdings)
    except rules.SmeInputError:
        return None
    if left_out:
        note = _("Left out for lack of key figures: %(names)s. Add their figures for a complete result.") % {
            "names": ", ".join(left_out)
        }
        result = dataclasses.replace(result, explanation=(*result.explanation, note))
    return result


def company_refresh_size_classes(company_ids: Iterable[int]) -> None:
    """Recompute the cached SME class of these companies and of all linked to them."""
    component, _links = ownership_component(set(company_ids))
    for company in Company.objects.filter(pk__in=component):
        result = company_sme_assessment(company)
        size_class = result.category if result else ""
        year = result.year if result else None
        if (company.size_class, company.size_class_year) != (size_class, year):
            Company.objects.filter(pk=company.pk).update(size_class=size_class, size_class_year=year)


# --- Ownership ------------------------------------------------------------------------------


@transaction.atomic
def ownership_link_set(
    actor, holder: Company, held: Company, *, capital_pct, voting_pct, controls: bool = False,
    source_note: str = "", source: str = Source.WEB,
) -> OwnershipLink:
    if holder.pk == held.pk:
        raise ValidationError({"holder": _("A company cannot own itself.")})
    link = OwnershipLink.objects.filter(holder=holder, held=held).first()
    created = link is None
    if created:
        link = OwnershipLink(holder=holder, held=held)
    before = {} if created else snapshot(link)
    link.capital_pct = Decimal(str(capital_pct))
    link.voting_pct = Decimal(str(voting_pct))
    link.controls = bool(controls)
    link.source = source_note
    for key in ("capital_pct", "voting_pct"):
        if not Decimal(0) <= getattr(link, key) <= Decimal(100):
            raise ValidationError({key: _("A percentage must be between 0 and 100.")})
    _full_clean(link, exclude=["holder", "held"])
    after = snapshot(link)
    if created or before != after:
        link.save()
        for company in (held, holder):
            audit_record(
                actor, Action.CREATE if created else Action.UPDATE, link, before=before, after=after,
                scope=company, source=source,
            )
        company_refresh_size_classes([holder.pk, held.pk])
    return link


@transaction.atomic
def ownership_link_remove(actor, link: OwnershipLink, *, reason: str = "", source: str = Source.WEB) -> None:
    before = snapshot(link)
    holder_id, held_id = link.holder_id, link.held_id
    for company in (link.held, link.holder):
        audit_record(actor, Action.ARCHIVE, link, before=before, after={}, scope=company, message=reason, source=source)
    link.delete()
    company_refresh_size_classes([holder_id, held_id])


# --- Contacts -------------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "role", "email", "phone", "legal_basis", "consent_date", "notes")


def _apply_contact_data(contact: Contact, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key not in CONTACT_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(contact, key, value if value is not None else ("" if key != "consent_date" else None))
    if contact.legal_basis == LegalBasis.CONSENT and not contact.consent_date:
        raise ValidationError({"consent_date": _("Consent needs the date it was given.")})
    _full_clean(contact, exclude=["company", "created_by"])


@transaction.atomic
def contact_create(actor, company: Company, data: dict[str, Any], *, source: str = Source.WEB) -> Contact:
    if company.status == CompanyStatus.ARCHIVED:
        raise ValidationError(_("Restore the company before adding contacts to it."))
    contact = Contact(company=company, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply_contact_data(contact, data)
    contact.save()
    audit_record(actor, Action.CREATE, contact, after=snapshot(contact), scope=company, source=source)
    return contact


@transaction.atomic
def contact_update(actor, contact: Contact, data: dict[str, Any], *, source: str = Source.WEB) -> Contact:
    if contact.erased_at:
        raise ValidationError(_("An erased contact cannot be edited."))
    before = snapshot(contact)
    _apply_contact_data(contact, data)
    after = snapshot(contact)
    if after != before:
        contact.save()
        audit_record(actor, Action.UPDATE, contact, before=before, after=after, scope=contact.company, source=source)
    return contact


@transaction.atomic
def contact_archive(actor, contact: Contact, *, source: str = Source.WEB) -> Contact:
    if contact.archived_at is None:
        before = snapshot(contact)
        contact.archived_at = timezone.now()
        contact.save(update_fields=["archived_at", "updated_at"])
        audit_record(actor, Action.ARCHIVE, contact, before=before, after=snapshot(contact), scope=contact.company, source=source)
    return contact


def contact_personal_data(contact: Contact) -> dict[str, Any]:
    """Everything the register holds about a person (GDPR Art. 15 access request)."""
    from .selectors import company_history  # noqa: F401  (kept close to the export for readers)

    events = AuditEvent.objects.filter(object_type="companies.contact", object_id=str(contact.pk)).order_by("occurred_at")
    return {
        "format": "sim.contact-personal-data/1",
        "exported_at": timezone.now().isoformat(),
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "role": contact.role,
            "email": contact.email,
            "phone": contact.phone,
            "legal_basis": contact.legal_basis,
            "consent_date": contact.consent_date.isoformat() if contact.consent_date else None,
            "notes": contact.notes,
            "opted_out_at": contact.opted_out_at.isoformat() if contact.opted_out_at else None,
            "archived_at": contact.archived_at.isoformat() if contact.archived_at else None,
            "created_at": contact.created_at.isoformat(),
            "updated_at": contact.updated_at.isoformat(),
        },
        "company": {"org_number": contact.company.org_number_display, "name": contact.company.name},
        "history": [
            {"when": e.occurred_at.isoformat(), "who": e.actor_label, "action": e.action, "changes": e.changes}
            for e in events
        ],
    }


@transaction.atomic
def contact_export(actor, contact: Contact, *, source: str = Source.WEB) -> str:
    data = contact_personal_data(contact)
    audit_record(actor, Action.EXPORT, contact, scope=contact.company, message=_("Personal data exported"), source=source)
    return json.dumps(data, ensure_ascii=False, indent=2)


@transaction.atomic
def contact_erase(actor, contact: Contact, *, reason: str = "", source: str = Source.WEB) -> Contact:
    """Anonymise a contact (GDPR Art. 17): the row stays so counts hold, the person is gone.

    Earlier audit events of this contact keep their field values; they are redacted too, which is
    the one sanctioned rewrite of the trail (done with a queryset that bypasses the guard).
    """
    if contact.erased_at:
        return contact
    contact.name = _("Erased contact")
    contact.role = ""
    contact.email = ""
    contact.phone = ""
    contact.notes = ""
    contact.consent_date = None
    contact.erased_at = timezone.now()
    contact.archived_at = contact.archived_at or contact.erased_at
    contact.save()
    redacted = {"redacted": True}
    from django.db.models import QuerySet

    QuerySet.update(
        AuditEvent.objects.filter(object_type="companies.contact", object_id=str(contact.pk)),
        changes=redacted,
        object_repr=str(contact.name),
    )
    audit_record(actor, Action.ERASE, contact, scope=contact.company, message=reason, source=source)
    return contact


# --- Duplicates and merge -------------------------------------------------------------------


@transaction.atomic
def duplicate_dismiss(actor, first: Company, second: Company) -> None:
    a, b = sorted([first.pk, second.pk])
    NotDuplicate.objects.get_or_create(first_id=a, second_id=b, defaults={"decided_by": actor})


@transaction.atomic
def company_merge(actor, survivor: Company, absorbed: Company, *, source: str = Source.WEB) -> Company:
    """Merge `absorbed` into `survivor`: move contacts, key figures, links and history; archive it.

    Key figures for a year both have are kept from the survivor (the absorbed ones are recorded in
    the merge event). Links between the two disappear; duplicated links keep the survivor's.
    """
    if survivor.pk == absorbed.pk:
        raise ValidationError(_("Choose two different companies."))
    if absorbed.merged_into_id or survivor.merged_into_id:
        raise ValidationError(_("One of these companies has already been merged into another."))
    survivor = Company.objects.select_for_update().get(pk=survivor.pk)
    absorbed = Company.objects.select_for_update().get(pk=absorbed.pk)
    summary: dict[str, Any] = {"contacts": 0, "key_figures": 0, "key_figures_dropped": [], "links": 0}

    summary["contacts"] = Contact.objects.filter(company=absorbed).update(company=survivor)
    survivor_years = set(KeyFigures.objects.filter(company=survivor).values_list("fiscal_year", flat=True))
    for fig in KeyFigures.objects.filter(company=absorbed):
        if fig.fiscal_year in survivor_years:
            summary["key_figures_dropped"].append(snapshot(fig))
            fig.delete()
        else:
            fig.company = survivor
            fig.save(update_fields=["company", "updated_at"])
            summary["key_figures"] += 1
    for link in OwnershipLink.objects.filter(Q(holder=absorbed) | Q(held=absorbed)):
        holder_id = survivor.pk if link.holder_id == absorbed.pk else link.holder_id
        held_id = survivor.pk if link.held_id == absorbed.pk else link.held_id
        if holder_id == held_id or OwnershipLink.objects.filter(holder_id=holder_id, held_id=held_id).exists():
            link.delete()
            continue
        OwnershipLink.objects.filter(pk=link.pk).update(holder_id=holder_id, held_id=held_id)
        summary["links"] += 1
    from .models import CompanyRepresentative

    for rep in CompanyRepresentative.objects.filter(company=absorbed):
        if CompanyRepresentative.objects.filter(company=survivor, user=rep.user_id).exists():
            rep.delete()
        else:
            CompanyRepresentative.objects.filter(pk=rep.pk).update(company=survivor)

    before = snapshot(absorbed)
    absorbed.merged_into = survivor
    absorbed.status = CompanyStatus.ARCHIVED
    absorbed.archived_at = timezone.now()
    absorbed.save(update_fields=["merged_into", "status", "archived_at", "updated_at"])
    NotDuplicate.objects.filter(Q(first=absorbed) | Q(second=absorbed)).delete()
    message = _("%(absorbed)s merged into %(survivor)s") % {"absorbed": absorbed, "survivor": survivor}
    audit_record(actor, Action.MERGE, absorbed, before=before, after=snapshot(absorbed), message=message, source=source)
    audit_record(
        actor, Action.MERGE, survivor, after={"merged": summary}, message=message, source=source,
    )
    company_refresh_size_classes([survivor.pk])
    return survivor
