"""Reads of the offer catalogue, scoped to the projects the user works in."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import FocusArea, Offer, Project, SupportForm
from .projects import projects_for

ACTIVE_CHOICES = (("yes", _("Open for referrals")), ("no", _("Closed")), ("all", _("All")))


def offers_visible_to(user) -> QuerySet[Offer]:
    """Offers of the user's projects (every project for administrators); none without the permission."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("programmes.view_offer"):
        return Offer.objects.none()
    return Offer.objects.filter(project__in=projects_for(user))


def offer_for_user(user, pk: int) -> Offer | None:
    return (
        offers_visible_to(user).select_related("project", "provider").prefetch_related("focus_areas").filter(pk=pk).first()
    )


@dataclass
class OfferFilters:
    q: str = ""
    focus_area: str = ""
    kind: str = ""
    support_form: str = ""
    active: str = "yes"
    errors: dict[str, str] = field(default_factory=dict)

    KEYS = ("q", "focus_area", "kind", "support_form", "active")

    @classmethod
    def from_params(cls, params) -> OfferFilters:
        filters = cls(**{key: str(params.get(key) or "").strip() for key in cls.KEYS})
        if not filters.active:
            filters.active = "yes"
        if filters.active not in {"yes", "no", "all"}:
            filters.errors["active"] = str(_("Choose open, closed or all."))
            filters.active = "yes"
        if filters.kind and filters.kind not in Offer.Kind.values:
            filters.errors["kind"] = str(_("Unknown kind of offer."))
            filters.kind = ""
        if filters.support_form and filters.support_form not in SupportForm.values:
            filters.errors["support_form"] = str(_("Unknown form of support."))
            filters.support_form = ""
        if filters.focus_area and not FocusArea.objects.filter(key=filters.focus_area).exists():
            filters.errors["focus_area"] = str(_("Unknown focus area."))
            filters.focus_area = ""
        return filters

    def as_query(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in self.KEYS if getattr(self, key) and not (key == "active" and self.active == "yes")}


def offer_list(user, filters: OfferFilters, project: Project | None = None) -> QuerySet[Offer]:
    """The user's offers filtered; of one project when given (the current one in the web pages)."""
    queryset = offers_visible_to(user)
    if project is not None:
        queryset = queryset.filter(project=project)
    if filters.q:
        queryset = queryset.filter(
            Q(title_sv__icontains=filters.q) | Q(title_en__icontains=filters.q) | Q(provider__name__icontains=filters.q)
        )
    if filters.focus_area:
        queryset = queryset.filter(focus_areas__key=filters.focus_area)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.support_form:
        queryset = queryset.filter(support_form=filters.support_form)
    if filters.active == "yes":
        queryset = queryset.filter(active=True)
    elif filters.active == "no":
        queryset = queryset.filter(active=False)
    return queryset.select_related("project", "provider").prefetch_related("focus_areas").distinct().order_by("title_sv", "id")
