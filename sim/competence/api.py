"""REST endpoints of competence needs, education offerings and the anonymised demand picture.

Same permissions and scoping as the web: 401 without credentials, 403 without the permission,
404 for a company the user may not see, 422 for invalid input. Education providers get the
demand picture and the offerings, never a company's needs. Suppressed figures are ``null`` with
``suppressed: true``.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from sim.companies.selectors import company_for_user
from sim.core.models import AuditEvent

from . import rules, selectors, services
from .models import CompetenceNeed

router = Router(tags=["competence"])


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "You do not have permission for this.")


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {message}" if field != "__all__" else message
                         for field, messages in exc.message_dict.items() for message in messages)
    return "; ".join(exc.messages)


class ConceptOut(Schema):
    id: int
    uri: str
    label: str
    confirmed: bool


class NeedOut(Schema):
    id: int
    company_id: int
    text: str
    people: int
    kind: str
    horizon: str
    urgency: str
    municipality: str | None
    status: str
    concepts: list[ConceptOut]


class NeedIn(Schema):
    text: str
    people: int = 1
    kind: str = rules.RECRUIT
    horizon: str = "6-12"
    urgency: str = "medium"
    concept_ids: list[int] = []


def _need_out(need: CompetenceNeed) -> NeedOut:
    return NeedOut(
        id=need.pk, company_id=need.company_id, text=need.text, people=need.people, kind=need.kind, horizon=need.horizon,
        urgency=need.urgency, municipality=need.municipality_id, status=need.status,
        concepts=[ConceptOut(id=link.concept_id, uri=link.concept.uri, label=link.concept.label, confirmed=link.confirmed)
                  for link in need.links.all()])


@router.get("/companies/{company_id}/needs/", response=list[NeedOut])
def company_needs(request: HttpRequest, company_id: int):
    _require(request, "competence.view_competenceneed")
    company = company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    return [_need_out(need) for need in selectors.needs_of(request.user, company)]


@router.post("/companies/{company_id}/needs/", response={201: NeedOut})
def company_need_create(request: HttpRequest, company_id: int, payload: NeedIn):
    _require(request, "competence.add_competenceneed")
    company = company_for_user(request.user, company_id)
    if company is None:
        raise HttpError(404, "No such company.")
    try:
        need = services.need_create(request.user, company, text=payload.text, people=payload.people, kind=payload.kind,
                                    horizon=payload.horizon, urgency=payload.urgency, concept_ids=payload.concept_ids,
                                    source=CompetenceNeed.Source.COMPANY_PAGE, audit_source=AuditEvent.Source.API)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
    return Status(201, _need_out(selectors.need_for_user(request.user, need.pk)))


class NeedReferralIn(Schema):
    offering_id: int
    project_id: int
    notes: str = ""


class NeedReferralOut(Schema):
    referral_id: int
    offer_id: int
    project_id: int
    company_id: int
    offering_id: int
    status: str


@router.post("/needs/{need_id}/referrals/", response={201: NeedReferralOut})
def need_referral_create(request: HttpRequest, need_id: int, payload: NeedReferralIn):
    """Refer the need's company to an education offering in one of my projects (a referral to the
    project's offer for the offering; see ``services.need_refer``)."""
    from .models import EducationOffering

    _require(request, "programmes.add_referral")
    _require(request, "competence.view_competenceneed")
    need = selectors.need_for_user(request.user, need_id)
    if need is None:
        raise HttpError(404, "No such need.")
    offering = EducationOffering.objects.filter(pk=payload.offering_id).first()
    if offering is None:
        raise HttpError(422, "offering_id: no such education offering.")
    project = selectors.projects_to_refer_in(request.user).filter(pk=payload.project_id).first()
    if project is None:
        raise HttpError(422, "project_id: not one of your running projects.")
    try:
        referral = services.need_refer(request.user, need, offering, project, notes=payload.notes,
                                       audit_source=AuditEvent.Source.API)
    except ValidationError as exc:
        raise HttpError(422, _messages(exc)) from None
    return Status(201, NeedReferralOut(referral_id=referral.pk, offer_id=referral.offer_id, project_id=project.pk,
                                       company_id=need.company_id, offering_id=offering.pk, status=referral.status))


class SuggestionOut(Schema):
    concept_id: int
    uri: str
    label: str
    kind: str
    score: float
    corrected: bool


@router.get("/suggestions/", response=list[SuggestionOut])
def suggestions(request: HttpRequest, text: str, kind: str | None = None, top: int = 8):
    if not (request.user.has_perm("competence.add_competenceneed") or request.user.has_perm("competence.add_educationoffering")):
        raise HttpError(403, "You do not have permission for this.")
    if kind not in (None, "", "occupation", "skill"):
        raise HttpError(422, "kind: occupation or skill.")
    return [item.__dict__ for item in selectors.suggestions(text[:rules.MAX_NEED_TEXT], kind=kind or None, top=max(1, min(top, 50)))]


class OfferingOut(Schema):
    id: int
    provider: str
    name: str
    kind: str
    municipality: str | None
    distance: bool
    start_dates: list[str]
    length_weeks: int | None
    seats: int | None
    url: str
    active: bool
    concepts: list[ConceptOut]


@router.get("/offerings/", response=list[OfferingOut])
def offerings(request: HttpRequest):
    _require(request, "competence.view_educationoffering")
    return [OfferingOut(
        id=o.pk, provider=o.provider.name, name=o.name, kind=o.kind, municipality=o.municipality_id, distance=o.distance,
        start_dates=list(o.start_dates or []), length_weeks=o.length_weeks, seats=o.seats, url=o.url, active=o.active,
        concepts=[ConceptOut(id=link.concept_id, uri=link.concept.uri, label=link.concept.label, confirmed=link.confirmed)
                  for link in o.links.all()],
    ) for o in selectors.offerings_visible_to(request.user).order_by("provider__name", "name")]


class DemandFilters(Schema):
    level: str = rules.LEVEL_CONCEPT
    area: str = rules.ALL
    horizon: str = rules.ALL
    kind: str = rules.ALL


class FigureOut(Schema):
    people: int | None
    needs: int | None
    urgency: float | None
    suppressed: bool


class DemandRowOut(Schema):
    concept_id: int
    uri: str
    label: str
    total: FigureOut
    covered: FigureOut
    gap: FigureOut
    offerings: int
    seats: int | None


class DemandOut(Schema):
    min_companies: int
    generated_on: str
    filters: DemandFilters
    rows: list[DemandRowOut]


def _figure(figure: rules.Figure) -> FigureOut:
    if figure.suppressed:
        return FigureOut(people=None, needs=None, urgency=None, suppressed=True)
    return FigureOut(people=figure.people, needs=figure.needs, urgency=figure.urgency, suppressed=False)


@router.get("/demand/", response=DemandOut)
def demand(request: HttpRequest, filters: Query[DemandFilters]):
    """The anonymised demand picture (programme staff and education providers)."""
    if not selectors.sees_demand_report(request.user):
        raise HttpError(403, "You do not have permission for this.")
    if filters.level not in rules.LEVELS:
        raise HttpError(422, "level: c (concept) or g (group).")
    if filters.horizon not in (rules.ALL, *rules.HORIZONS) or filters.kind not in (rules.ALL, *rules.NEED_KINDS):
        raise HttpError(422, "horizon or kind: not one of the options.")
    if filters.area != rules.ALL and not (filters.area[:2] in ("c:", "m:") and filters.area[2:].isdigit()):
        raise HttpError(422, "area: *, c:<county code> or m:<municipality code>.")
    report = selectors.demand_report(selectors.ReportFilters(level=filters.level, area=filters.area,
                                                             horizon=filters.horizon, kind=filters.kind))
    return DemandOut(min_companies=rules.MIN_COMPANIES, generated_on=report.generated_on.isoformat(), filters=filters, rows=[
        DemandRowOut(concept_id=row.concept_id, uri=row.uri, label=row.label, total=_figure(row.total),
                     covered=_figure(row.covered), gap=_figure(row.gap), offerings=row.offerings, seats=row.seats)
        for row in report.rows])
