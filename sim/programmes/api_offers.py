"""REST endpoints of the offer catalogue and recommendations. Same permissions and scoping as the web.

* 401 without credentials, 403 without the permission, 404 for an offer of a project the user is
  not in (or a company they may not see), 422 for invalid input (``detail`` says what is wrong).
* Eligibility rules are the JSON documented in ``docs/domain-rules.md`` ("Eligibility and
  recommendations"); they are validated and stored normalised.

No `from __future__ import annotations` here: django-ninja evaluates the annotations of the
views in its own module, where string annotations cannot be resolved.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from sim.companies.selectors import company_for_user
from sim.core.models import AuditEvent

from . import offer_selectors, offer_services, recommendations, rules
from .models import Offer, Project
from .projects import projects_for

router = Router(tags=["offers"])
SOURCE = AuditEvent.Source.API
MAX_LIMIT = 500


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return list(exc.messages)


def _offer(request: HttpRequest, offer_id: int) -> Offer:
    offer = offer_selectors.offer_for_user(request.user, offer_id)
    if offer is None:
        raise HttpError(404, "No such offer.")
    return offer


def _project(request: HttpRequest, project_id: int) -> Project:
    project = projects_for(request.user).filter(pk=project_id).first()
    if project is None:
        raise HttpError(404, "No such project.")
    return project


# --- Offers ---------------------------------------------------------------------------------


class OfferOut(Schema):
    id: int
    project_id: int
    title_sv: str
    title_en: str
    kind: str
    internal: bool
    provider_id: int | None
    focus_areas: list[str] = Field(..., description="Focus area keys")
    description_sv: str
    description_en: str
    support_form: str
    is_state_aid: bool
    aid_scheme: str
    typical_value_sek: Decimal | None
    typical_hours: Decimal | None
    capacity: int | None
    available_from: dt.date | None
    available_to: dt.date | None
    contact_name: str
    contact_email: str
    eligibility: dict[str, Any] = Field(..., description="Eligibility rules (see docs/domain-rules.md)")
    active: bool
    updated_at: dt.datetime

    @staticmethod
    def resolve_focus_areas(obj: Offer) -> list[str]:
        return sorted(area.key for area in obj.focus_areas.all())


class OfferIn(Schema):
    project: int = Field(..., description="Id of one of your projects")
    title_sv: str
    title_en: str = ""
    kind: str = Offer.Kind.PROGRAMME
    internal: bool = False
    provider: int | None = Field(None, description="Id of the providing organisation")
    focus_areas: list[str] = Field(default_factory=list, description="Focus area keys")
    description_sv: str = ""
    description_en: str = ""
    support_form: str = "non_financial"
    is_state_aid: bool = False
    aid_scheme: str = ""
    typical_value_sek: Decimal | None = None
    typical_hours: Decimal | None = None
    capacity: int | None = None
    available_from: dt.date | None = None
    available_to: dt.date | None = None
    contact_name: str = ""
    contact_email: str = ""
    eligibility: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class OfferPatch(Schema):
    title_sv: str | None = None
    title_en: str | None = None
    kind: str | None = None
    internal: bool | None = None
    provider: int | None = None
    focus_areas: list[str] | None = None
    description_sv: str | None = None
    description_en: str | None = None
    support_form: str | None = None
    is_state_aid: bool | None = None
    aid_scheme: str | None = None
    typical_value_sek: Decimal | None = None
    typical_hours: Decimal | None = None
    capacity: int | None = None
    available_from: dt.date | None = None
    available_to: dt.date | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    eligibility: dict[str, Any] | None = None
    active: bool | None = None


class OfferFilterIn(Schema):
    project: int | None = Field(None, description="Only this project's offers")
    q: str = ""
    focus_area: str = ""
    kind: str = ""
    support_form: str = ""
    active: str = Field("all", description="yes (open for referrals), no (closed) or all")
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class OfferPage(Schema):
    items: list[OfferOut]
    count: int


def _filters_or_422(filters: offer_selectors.OfferFilters | recommendations.SuitedFilters) -> None:
    if filters.errors:
        raise HttpError(422, "; ".join(f"{key}: {message}" for key, message in filters.errors.items()))


@router.get("/offers/", response=OfferPage, summary="List offers of your projects")
def list_offers(request: HttpRequest, filters: Query[OfferFilterIn]):
    _require(request, "programmes.view_offer")
    parsed = offer_selectors.OfferFilters.from_params(filters.dict())
    _filters_or_422(parsed)
    project = _project(request, filters.project) if filters.project is not None else None
    queryset = offer_selectors.offer_list(request.user, parsed, project)
    return {"items": list(queryset[filters.offset:filters.offset + filters.limit]), "count": queryset.count()}


def _data(payload: Schema, *, exclude_unset: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=exclude_unset)
    data.pop("project", None)
    return data


@router.post("/offers/", response={201: OfferOut}, summary="Add an offer")
def create_offer(request: HttpRequest, payload: OfferIn):
    _require(request, "programmes.add_offer")
    project = projects_for(request.user).filter(pk=payload.project).first()
    if project is None:
        raise HttpError(422, "project: no such project among yours.")
    try:
        offer = offer_services.offer_create(request.user, project, _data(payload, exclude_unset=False), source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, "; ".join(_messages(exc))) from exc
    return Status(201, _offer(request, offer.pk))


@router.get("/offers/{int:offer_id}", response=OfferOut, summary="One offer")
def get_offer(request: HttpRequest, offer_id: int):
    _require(request, "programmes.view_offer")
    return _offer(request, offer_id)


@router.patch("/offers/{int:offer_id}", response=OfferOut, summary="Change an offer (only the fields sent)")
def update_offer(request: HttpRequest, offer_id: int, payload: OfferPatch):
    _require(request, "programmes.change_offer")
    offer = _offer(request, offer_id)
    data = _data(payload, exclude_unset=True)
    for key in ("title_sv", "kind", "support_form", "internal", "is_state_aid", "active"):
        if key in data and data[key] is None:
            raise HttpError(422, f"{key}: may not be null.")
    try:
        offer_services.offer_update(request.user, offer, data, source=SOURCE)
    except ValidationError as exc:
        raise HttpError(422, "; ".join(_messages(exc))) from exc
    return _offer(request, offer_id)


# --- Recommendations ------------------------------------------------------------------------


class CheckOut(Schema):
    rule: str
    outcome: str = Field(..., description="pass, fail or unknown (unknown counts as not eligible)")
    message: str


class FitOut(Schema):
    needs: float
    focus_areas: float
    low_score: float
    score_range: float


class RecommendationOut(Schema):
    offer_id: int
    project_id: int
    title: str
    eligible: bool
    fit: float
    fit_parts: FitOut
    explanation: str
    checks: list[CheckOut]


class RecommendationsOut(Schema):
    company_id: int
    on_date: dt.date
    eligible: list[RecommendationOut] = Field(..., description="Eligible offers, best fit first")
    ineligible: list[RecommendationOut] = Field(..., description="Offers the company is not eligible for, with reasons")


def _recommendation(item: rules.RankedOffer) -> dict[str, Any]:
    parts = item.breakdown
    return {
        "offer_id": item.offer.id, "project_id": item.offer.project_id, "title": item.offer.title,
        "eligible": item.eligible,
        "fit": item.fit,
        "fit_parts": {"needs": parts.needs_points, "focus_areas": parts.focus_area_points,
                      "low_score": round(parts.low_score_points, 1), "score_range": parts.score_range_points},
        "explanation": item.explanation,
        "checks": [{"rule": c.rule, "outcome": c.outcome, "message": c.message} for c in item.eligibility.checks],
    }


@router.get(
    "/companies/{int:company_id}/recommendations", response=RecommendationsOut,
    summary="Offers for a company: eligible ones ranked by fit, ineligible ones with reasons",
)
def company_recommendations(request: HttpRequest, company_id: int, project: int | None = None):
    _require(request, "programmes.view_offer", "companies.view_company")
    company = company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    projects = [_project(request, project)] if project is not None else projects_for(request.user)
    result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers(projects))
    return {
        "company_id": company.pk,
        "on_date": result.on_date,
        "eligible": [_recommendation(item) for item in result.eligible],
        "ineligible": [_recommendation(item) for item in result.ineligible],
    }


class SuitedFilterIn(Schema):
    municipality: str = ""
    size_class: str = ""
    sni: str = Field("", description="SNI code or its beginning, e.g. 25 or 25.62")
    target_group: str = Field("", description="yes, no or empty")
    min_fit: str = Field("", description="Lowest fit (0–100)")
    eligible: str = Field("yes", description="yes (default), no or all")
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class SuitedCompanyOut(Schema):
    rank: int | None = Field(..., description="Position among the eligible companies; null when not eligible")
    company_id: int
    org_number: str
    name: str
    municipality_code: str
    municipality: str
    size_class: str
    sni: str
    in_target_group: bool
    fit: float
    eligible: bool
    explanation: str


class SuitedPage(Schema):
    items: list[SuitedCompanyOut]
    count: int
    considered: int = Field(..., description="Companies of the project's area (after the register filters)")
    eligible_count: int


@router.get(
    "/offers/{int:offer_id}/suited-companies", response=SuitedPage,
    summary="Companies of the project's area ranked for an offer (eligible first, by fit)",
)
def suited_companies(request: HttpRequest, offer_id: int, filters: Query[SuitedFilterIn]):
    _require(request, "programmes.view_offer", "companies.view_company")
    offer = _offer(request, offer_id)
    parsed = recommendations.SuitedFilters.from_params(filters.dict())
    _filters_or_422(parsed)
    result = recommendations.suited_companies(request.user, offer, parsed)
    page = recommendations.explain_rows(result, result.rows[filters.offset:filters.offset + filters.limit])
    items = [
        {
            "rank": row.rank, "company_id": row.company_id, "org_number": row.profile.org_number,
            "name": row.profile.name, "municipality_code": row.profile.municipality, "municipality": row.municipality_name,
            "size_class": row.profile.size_class, "sni": row.profile.sni, "in_target_group": row.profile.in_target_group,
            "fit": row.fit, "eligible": row.eligible, "explanation": row.explanation,
        }
        for row in page
    ]
    return {"items": items, "count": len(result.rows), "considered": result.considered, "eligible_count": result.eligible_count}
