"""Reads of assessments, needs and growth plans, scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from sim.companies.selectors import companies_visible_to
from sim.core.roles import REGISTER_WIDE_ROLES, user_roles

from . import rules
from .models import Assessment, AssessmentStatus, GrowthPlan, InstrumentVersion, Need, NeedStatus

PEER_MINIMUM = 5


def _is_company_side(user) -> bool:
    return not (user.is_superuser or user_roles(user) & REGISTER_WIDE_ROLES)


def assessments_visible_to(user) -> QuerySet[Assessment]:
    if not user.has_perm("assessments.view_assessment"):
        return Assessment.objects.none()
    queryset = Assessment.objects.filter(company__in=companies_visible_to(user))
    if _is_company_side(user):
        # The company sees its results once the advisor has completed them.
        queryset = queryset.filter(status=AssessmentStatus.COMPLETED)
    return queryset.select_related("company", "instrument_version", "led_by")


def assessment_for_user(user, pk: int) -> Assessment | None:
    return assessments_visible_to(user).filter(pk=pk).first()


def assessments_of(user, company) -> QuerySet[Assessment]:
    return assessments_visible_to(user).filter(company=company).order_by("-conducted_on", "-id")


def growth_plans_visible_to(user) -> QuerySet[GrowthPlan]:
    if not user.has_perm("assessments.view_growthplan"):
        return GrowthPlan.objects.none()
    queryset = GrowthPlan.objects.filter(company__in=companies_visible_to(user))
    if _is_company_side(user):
        queryset = queryset.filter(shared_with_company=True)
    return queryset.select_related("company", "assessment")


def needs_of(user, company) -> QuerySet[Need]:
    if not user.has_perm("assessments.view_need"):
        return Need.objects.none()
    queryset = Need.objects.filter(company=company).select_related("focus_area", "assessment")
    if _is_company_side(user):
        queryset = queryset.filter(status=NeedStatus.OPEN)
    return queryset.order_by("status", "priority", "id")


def published_instruments() -> list[InstrumentVersion]:
    """The latest version of each instrument, for starting new assessments."""
    latest: dict[str, InstrumentVersion] = {}
    for version in InstrumentVersion.objects.order_by("key", "-version"):
        latest.setdefault(version.key, version)
    return list(latest.values())


def comparable_assessments(assessment: Assessment) -> QuerySet[Assessment]:
    """Other completed assessments of the same company and instrument (any version)."""
    return (
        Assessment.objects.filter(
            company=assessment.company, instrument_version__key=assessment.instrument_version.key,
            status=AssessmentStatus.COMPLETED,
        )
        .exclude(pk=assessment.pk)
        .select_related("instrument_version")
        .order_by("conducted_on", "id")
    )


def result_of(assessment: Assessment) -> rules.ScoreResult:
    """Frozen scores of a completed assessment, or live scores of one in progress."""
    if assessment.scores:
        return rules.score_from_json(assessment.scores)
    return rules.score(assessment.instrument(), assessment.answers)


@dataclass(frozen=True)
class PeerBenchmark:
    group: str  # "sni_division" | "size_class" | "all"
    label: str
    companies: int
    dimensions: dict[str, Decimal | None]  # mean score of the peers per dimension
    overall: Decimal | None


def peer_benchmark(assessment: Assessment, group: str) -> PeerBenchmark | None:
    """Mean scores of other companies' latest completed assessment with the same instrument.

    None when fewer than `PEER_MINIMUM` other companies are in the group (too few to compare, and
    too few to keep individual companies out of sight).
    """
    from django.utils.translation import gettext as _

    company = assessment.company
    queryset = Assessment.objects.filter(
        instrument_version__key=assessment.instrument_version.key, status=AssessmentStatus.COMPLETED,
    ).exclude(company=company)
    if group == "sni_division":
        if len(company.sni_primary or "") < 2:
            return None
        queryset = queryset.filter(company__sni_primary__startswith=company.sni_primary[:2])
        label = _("Same industry (SNI %(division)s)") % {"division": company.sni_primary[:2]}
    elif group == "size_class":
        if not company.size_class:
            return None
        queryset = queryset.filter(company__size_class=company.size_class)
        label = _("Same size class (%(size)s)") % {"size": company.get_size_class_display()}
    elif group == "all":
        label = _("All assessed companies")
    else:
        raise ValueError(group)
    latest: dict[int, dict] = {}
    for company_id, scores in queryset.order_by("company_id", "-conducted_on", "-id").values_list("company_id", "scores"):
        latest.setdefault(company_id, scores)
    if len(latest) < PEER_MINIMUM:
        return None
    dimension_ids = list((assessment.scores or rules.score_to_json(result_of(assessment)))["dimensions"].keys())
    means: dict[str, Decimal | None] = {}
    for dimension in dimension_ids:
        values = [
            Decimal(str(s["dimensions"][dimension]["score"]))
            for s in latest.values()
            if s and dimension in s.get("dimensions", {}) and s["dimensions"][dimension]["score"] is not None
        ]
        means[dimension] = (sum(values) / len(values)).quantize(Decimal("0.1")) if values else None
    overall_values = [Decimal(str(s["overall"])) for s in latest.values() if s and s.get("overall") is not None]
    overall = (sum(overall_values) / len(overall_values)).quantize(Decimal("0.1")) if overall_values else None
    return PeerBenchmark(group=group, label=label, companies=len(latest), dimensions=means, overall=overall)
