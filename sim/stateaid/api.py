"""REST endpoints of the de minimis ledger: read the ledger and the rates, run the check.

Same permissions and company scoping as the web: 401 without credentials, 403 without the
permission, 404 for an award or company the user may not see, 422 for invalid input (``detail``
says what).

No `from __future__ import annotations` here: django-ninja evaluates the annotations of views
wrapped by `@paginate` in its own module.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from sim.companies.selectors import companies_visible_to

from . import selectors, services
from .models import AidAward, AwardStatus, ExchangeRate, Regulation

router = Router(tags=["de minimis ledger"])


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {message}" if name != "__all__" else message
                         for name, messages in exc.message_dict.items() for message in messages)
    return "; ".join(exc.messages)


class AwardOut(Schema):
    id: int
    undertaking_id: int
    undertaking_name: str
    undertaking_org_number: str
    granting_authority: str
    measure: str
    offer_id: int | None
    intervention_id: int | None
    regulation: str
    granted_on: dt.date
    amount_sek: Decimal
    amount_eur: Decimal
    sek_per_eur: Decimal | None
    rate_date: dt.date | None
    status: str
    declared: bool
    proposal_id: int | None
    reverses_id: int | None
    revoked_on: dt.date | None
    reason: str
    counted: bool = Field(description="Granted and not revoked: counts against the ceiling")

    @staticmethod
    def resolve_undertaking_name(obj: AidAward) -> str:
        return obj.undertaking.name

    @staticmethod
    def resolve_undertaking_org_number(obj: AidAward) -> str:
        return obj.undertaking.org_number_display

    @staticmethod
    def resolve_counted(obj: AidAward) -> bool:
        return obj.status == AwardStatus.GRANTED and not obj.is_reversed_flag


def _with_flags(qs):
    return qs.annotate(is_reversed_flag=Exists(AidAward.objects.filter(reverses=OuterRef("pk"))))


class AwardFilters(Schema):
    company_id: int | None = None
    status: AwardStatus | None = None
    regulation: Regulation | None = None
    declared: bool | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@router.get("/awards", response=list[AwardOut], summary="The de minimis ledger (newest first)")
@paginate(LimitOffsetPagination)
def list_awards(request: HttpRequest, filters: Query[AwardFilters]):
    _require(request, "stateaid.view_aidaward")
    declared = "" if filters.declared is None else ("yes" if filters.declared else "no")
    return _with_flags(selectors.ledger(request.user, selectors.LedgerFilters(
        company=filters.company_id, status=filters.status or "", regulation=filters.regulation or "",
        declared=declared, date_from=filters.date_from, date_to=filters.date_to,
    )))


@router.get("/awards/{award_id}", response=AwardOut, summary="One ledger entry")
def get_award(request: HttpRequest, award_id: int):
    _require(request, "stateaid.view_aidaward")
    award = _with_flags(selectors.awards_visible_to(request.user)).filter(pk=award_id).first()
    if award is None:
        raise HttpError(404, "No such award.")
    return award


class RateOut(Schema):
    date: dt.date
    sek_per_eur: Decimal
    source: str


@router.get("/rates", response=list[RateOut], summary="Exchange rates, SEK per EUR (newest first)")
@paginate(LimitOffsetPagination)
def list_rates(request: HttpRequest):
    _require(request, "stateaid.view_exchangerate")
    return ExchangeRate.objects.order_by("-date")


class CheckIn(Schema):
    company_id: int
    date: dt.date = Field(description="Date of granting of the proposed aid")
    amount_sek: Decimal | None = Field(None, ge=0, description="Proposed aid in SEK (or give amount_eur)")
    amount_eur: Decimal | None = Field(None, ge=0, description="Proposed aid in EUR (or give amount_sek)")


class MemberOut(Schema):
    id: int
    name: str
    org_number: str


class CountedOut(Schema):
    award_id: int
    undertaking_id: int
    granted_on: dt.date
    amount_eur: Decimal
    declared: bool




class CheckOut(Schema):
    allowed: bool
    regulation: str
    ceiling_eur: Decimal
    used_eur: Decimal
    proposed_eur: Decimal
    proposed_sek: Decimal | None
    headroom_eur: Decimal
    sek_per_eur: Decimal | None
    rate_date: dt.date | None
    window: dict
    single_undertaking: list[MemberOut]
    counted_awards: list[CountedOut]
    message: str
    explanation: list[str]


@router.post("/check", response=CheckOut, summary="May this aid be granted? The de minimis check with its figures")
def run_check(request: HttpRequest, payload: CheckIn):
    _require(request, "stateaid.check_deminimis")
    company = companies_visible_to(request.user).filter(pk=payload.company_id).first()
    if company is None:
        raise HttpError(404, "No such company.")
    try:
        result = services.check_amount(company, payload.date, amount_sek=payload.amount_sek,
                                       amount_eur=payload.amount_eur)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
    r = result.result
    return {
        "allowed": r.allowed, "regulation": r.regulation, "ceiling_eur": r.ceiling_eur, "used_eur": r.used_eur,
        "proposed_eur": r.proposed_eur, "proposed_sek": result.proposed_sek, "headroom_eur": r.headroom_eur,
        "sek_per_eur": result.rate.sek_per_eur if result.rate else None,
        "rate_date": result.rate.date if result.rate else None,
        "window": {"from": r.window.start.isoformat(), "to": r.window.end.isoformat()},
        "single_undertaking": [{"id": c.pk, "name": c.name, "org_number": c.org_number_display} for c in result.members],
        "counted_awards": [{"award_id": a.pk, "undertaking_id": a.undertaking_id, "granted_on": a.granted_on,
                            "amount_eur": a.amount_eur, "declared": a.declared} for a in result.awards],
        "message": result.message, "explanation": result.explanation,
    }
