"""REST endpoints of the company register. Same permissions and scoping as the web views.

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module, where string annotations cannot be resolved.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.core.models import AuditEvent

from . import selectors, services
from .models import Company, Contact, KeyFigures, OwnershipLink

router = Router(tags=["companies"])
SOURCE = AuditEvent.Source.API


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "You do not have permission for this.")


def _company(request: HttpRequest, company_id: int) -> Company:
    company = selectors.company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    return company


def _raise_validation(exc: ValidationError):
    if hasattr(exc, "error_dict"):
        errors = [{"field": field, "message": message} for field, messages in exc.message_dict.items() for message in messages]
    else:
        errors = [{"field": None, "message": message} for message in exc.messages]
    raise HttpError(422, "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors))


class CompanyOut(Schema):
    id: int
    org_number: str = Field(..., description="Ten digits, no dash")
    name: str
    legal_form: str
    sni_system: str
    sni_primary: str
    sni_secondary: list[str]
    municipality_code: str | None = Field(None, alias="municipality_id")
    street_address: str
    postal_code: str
    postal_city: str
    website: str
    phone: str
    email: str
    registration_date: dt.date | None
    status: str
    growth_ambition: bool | None
    growth_ambition_notes: str
    owner_advisor_id: int | None
    is_sole_trader: bool
    is_public_body: bool
    is_exempt_investor: bool
    size_class: str
    size_class_year: int | None
    merged_into_id: int | None
    updated_at: dt.datetime


class CompanyIn(Schema):
    org_number: str
    name: str
    legal_form: str | None = None
    sni_primary: str | None = None
    sni_secondary: list[str] | None = None
    municipality: str | None = Field(None, description="Four-digit municipality code")
    street_address: str | None = None
    postal_code: str | None = None
    postal_city: str | None = None
    mailing_address: str | None = None
    website: str | None = None
    phone: str | None = None
    email: str | None = None
    registration_date: dt.date | None = None
    status: str | None = None
    growth_ambition: bool | None = None
    growth_ambition_notes: str | None = None
    owner_advisor: int | None = None
    is_public_body: bool | None = None
    is_exempt_investor: bool | None = None


class CompanyPatch(Schema):
    name: str | None = None
    legal_form: str | None = None
    sni_primary: str | None = None
    sni_secondary: list[str] | None = None
    municipality: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    postal_city: str | None = None
    mailing_address: str | None = None
    website: str | None = None
    phone: str | None = None
    email: str | None = None
    registration_date: dt.date | None = None
    status: str | None = None
    growth_ambition: bool | None = None
    growth_ambition_notes: str | None = None
    owner_advisor: int | None = None
    is_public_body: bool | None = None
    is_exempt_investor: bool | None = None


class CompanyFilterIn(Schema):
    q: str = ""
    municipality: str = ""
    county: str = ""
    sni: str = ""
    size_class: str = ""
    status: str = ""
    target_group: str = ""
    owner: str = ""
    sort: str = "name"


def _company_data(payload: Schema, *, exclude_unset: bool) -> dict:
    from django.contrib.auth import get_user_model

    data = payload.dict(exclude_unset=exclude_unset)
    text_fields = {"street_address", "postal_code", "postal_city", "mailing_address", "website", "phone", "email",
                   "growth_ambition_notes", "sni_primary", "legal_form"}
    for key in list(data):
        if data[key] is None and key in text_fields:
            data[key] = ""
    if data.get("sni_secondary") is None and "sni_secondary" in data:
        data["sni_secondary"] = []
    if data.get("status") is None:
        data.pop("status", None)
    for key in ("is_public_body", "is_exempt_investor"):
        if key in data and data[key] is None:
            data.pop(key)
    if data.get("owner_advisor") is not None:
        user = get_user_model().objects.filter(pk=data["owner_advisor"], is_active=True).first()
        if user is None:
            raise HttpError(422, "owner_advisor: no such active user.")
        data["owner_advisor"] = user
    return data


class CappedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset paging of the company list without a full count: counting a million rows
    costs up to a second, so the count stops at the list's cap, as on the list page."""

    class Output(Schema):
        items: list[Any]
        count: int = Field(
            ...,
            description=(
                f"Companies matching the filters, counted up to {selectors.LIST_COUNT_CAP:,}; a name search "
                "(`q` of three characters or more that is not an organisation number) lists and counts its "
                f"first {selectors.SEARCH_WINDOW:,} matches only. See `count_capped`."
            ),
        )
        count_capped: bool = Field(
            ...,
            description=(
                f"True when more companies match than `count` (\"more than {selectors.LIST_COUNT_CAP:,}\", or "
                f"\"more than {selectors.SEARCH_WINDOW:,}\" for a name search): narrow the filters. A name search "
                f"then returns no items beyond its first {selectors.SEARCH_WINDOW:,}; other lists can still be "
                "paged past `count`."
            ),
        )

    def paginate_queryset(self, queryset, pagination, request: HttpRequest, **params):
        filters = selectors.CompanyFilters.from_params(params["filters"].dict())
        cap = filters.count_cap
        count = selectors.capped_count(queryset, cap)
        offset, limit = pagination.offset, min(pagination.limit, self.max_limit)
        stop = min(offset + limit, cap) if filters.name_search else offset + limit
        return {
            "items": selectors.page_rows(queryset, offset, stop) if stop > offset else [],
            "count": min(count, cap),
            "count_capped": count > cap,
        }


@router.get("/", response=list[CompanyOut], summary="List and search companies")
@paginate(CappedLimitOffsetPagination)
def list_companies(request: HttpRequest, filters: Query[CompanyFilterIn]):
    """The companies you may read, filtered and sorted as on the list page (`sort`: name,
    org_number, municipality, size, status or updated, with `-` for descending). Paged with `limit`
    and `offset`; `count` stops at 10,000 (500 for a name search), see `count_capped`."""
    _require(request, "companies.view_company")
    parsed = selectors.CompanyFilters.from_params(filters.dict())
    return selectors.company_list(request.user, parsed, window=True)


@router.post("/", response={201: CompanyOut}, summary="Add a company")
def create_company(request: HttpRequest, payload: CompanyIn):
    _require(request, "companies.add_company")
    try:
        company = services.company_create(request.user, _company_data(payload, exclude_unset=True), source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, company)


# `int:` so that "/ownership" (POST, below) is not taken for a company id.
@router.get("/{int:company_id}", response=CompanyOut, summary="One company")
def get_company(request: HttpRequest, company_id: int):
    _require(request, "companies.view_company")
    return _company(request, company_id)


@router.patch("/{int:company_id}", response=CompanyOut, summary="Change a company")
def update_company(request: HttpRequest, company_id: int, payload: CompanyPatch):
    _require(request, "companies.change_company")
    company = _company(request, company_id)
    try:
        return services.company_update(request.user, company, _company_data(payload, exclude_unset=True), source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)


@router.post("/{company_id}/archive", response=CompanyOut, summary="Archive a company")
def archive_company(request: HttpRequest, company_id: int, reason: str = ""):
    _require(request, "companies.archive_company")
    return services.company_archive(request.user, _company(request, company_id), reason=reason, source=SOURCE)


# --- Key figures ----------------------------------------------------------------------------


class KeyFiguresOut(Schema):
    fiscal_year: int
    staff_awu: Decimal | None
    turnover_sek: Decimal | None
    balance_sheet_sek: Decimal | None
    source: str
    estimated: bool


class KeyFiguresIn(Schema):
    staff_awu: Decimal | None = Field(None, ge=0)
    turnover_sek: Decimal | None = Field(None, ge=0)
    balance_sheet_sek: Decimal | None = Field(None, ge=0)
    source: str = ""
    estimated: bool = False


@router.get("/{company_id}/key-figures", response=list[KeyFiguresOut], summary="Key figures per year")
def list_key_figures(request: HttpRequest, company_id: int):
    _require(request, "companies.view_keyfigures")
    return KeyFigures.objects.filter(company=_company(request, company_id)).order_by("-fiscal_year")


@router.put("/{company_id}/key-figures/{fiscal_year}", response=KeyFiguresOut, summary="Set the key figures of a year")
def put_key_figures(request: HttpRequest, company_id: int, fiscal_year: int, payload: KeyFiguresIn):
    if not (request.user.has_perm("companies.add_keyfigures") or request.user.has_perm("companies.change_keyfigures")):
        raise HttpError(403, "You do not have permission for this.")
    company = _company(request, company_id)
    exists = KeyFigures.objects.filter(company=company, fiscal_year=fiscal_year).exists()
    _require(request, "companies.change_keyfigures" if exists else "companies.add_keyfigures")
    if not 1900 <= fiscal_year <= 2100:
        raise HttpError(422, "fiscal_year: must be between 1900 and 2100.")
    try:
        return services.key_figures_set(request.user, company, fiscal_year, payload.dict(), source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)


# --- Ownership ------------------------------------------------------------------------------


class OwnershipOut(Schema):
    id: int
    holder_id: int
    held_id: int
    capital_pct: Decimal
    voting_pct: Decimal
    controls: bool
    source: str


class OwnershipIn(Schema):
    holder_id: int
    held_id: int
    capital_pct: Decimal = Field(..., ge=0, le=100)
    voting_pct: Decimal = Field(..., ge=0, le=100)
    controls: bool = False
    source: str = ""


@router.get("/{company_id}/ownership", response=list[OwnershipOut], summary="Owners and holdings of a company")
def list_ownership(request: HttpRequest, company_id: int):
    _require(request, "companies.view_ownershiplink")
    company = _company(request, company_id)
    return OwnershipLink.objects.filter(holder=company) | OwnershipLink.objects.filter(held=company)


@router.post("/ownership", response={201: OwnershipOut}, summary="Add or change an ownership link")
def set_ownership(request: HttpRequest, payload: OwnershipIn):
    _require(request, "companies.add_ownershiplink")
    holder = _company(request, payload.holder_id)
    held = _company(request, payload.held_id)
    try:
        link = services.ownership_link_set(
            request.user, holder, held, capital_pct=payload.capital_pct, voting_pct=payload.voting_pct,
            controls=payload.controls, source_note=payload.source, source=SOURCE,
        )
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, link)


# --- Contacts -------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    company_id: int
    name: str
    role: str
    email: str
    phone: str
    legal_basis: str
    consent_date: dt.date | None
    archived: bool
    erased: bool

    @staticmethod
    def resolve_archived(obj: Contact) -> bool:
        return obj.archived_at is not None

    @staticmethod
    def resolve_erased(obj: Contact) -> bool:
        return obj.erased_at is not None


class ContactWithNotesOut(ContactOut):
    notes: str


class ContactIn(Schema):
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    legal_basis: str
    consent_date: dt.date | None = None
    notes: str = ""


class ContactPatch(Schema):
    name: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    legal_basis: str | None = None
    consent_date: dt.date | None = None
    notes: str | None = None


def _contact_out(request: HttpRequest, contact: Contact) -> dict:
    schema = ContactWithNotesOut if request.user.has_perm("companies.view_contact_notes") else ContactOut
    return schema.from_orm(contact).dict()


@router.get("/{company_id}/contacts", response=list[dict], summary="Contacts of a company")
def list_contacts(request: HttpRequest, company_id: int):
    _require(request, "companies.view_contact")
    company = _company(request, company_id)
    return [_contact_out(request, c) for c in selectors.contacts_of(company, include_archived=True)]


@router.post("/{company_id}/contacts", response={201: dict}, summary="Add a contact")
def create_contact(request: HttpRequest, company_id: int, payload: ContactIn):
    _require(request, "companies.add_contact")
    company = _company(request, company_id)
    data = payload.dict()
    if not request.user.has_perm("companies.view_contact_notes"):
        data.pop("notes")
    try:
        contact = services.contact_create(request.user, company, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return Status(201, _contact_out(request, contact))


@router.patch("/{company_id}/contacts/{contact_id}", response=dict, summary="Change a contact")
def update_contact(request: HttpRequest, company_id: int, contact_id: int, payload: ContactPatch):
    _require(request, "companies.change_contact")
    company = _company(request, company_id)
    contact = get_object_or_404(Contact, company=company, pk=contact_id)
    data = payload.dict(exclude_unset=True)
    if not request.user.has_perm("companies.view_contact_notes"):
        data.pop("notes", None)
    try:
        contact = services.contact_update(request.user, contact, data, source=SOURCE)
    except ValidationError as exc:
        _raise_validation(exc)
    return _contact_out(request, contact)
