"""Growth interviews (tillväxtintervju/analys) and maturity assessments, needs and growth plans."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sim.core.models import TimestampedModel


class InstrumentVersion(models.Model):
    """A published version of an instrument file, copied into the database when it first appears.

    The frozen `definition` is what assessments taken with this version are scored against, even
    if the file later disappears from the repository.
    """

    key = models.SlugField(_("instrument"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=32)
    title_sv = models.CharField(_("title (Swedish)"), max_length=255)
    title_en = models.CharField(_("title (English)"), max_length=255)
    digest = models.CharField(max_length=64)
    definition = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="instrument_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "sv").startswith("en") else self.title_sv

    def instrument(self):
        """The parsed instrument (schema object), cached per digest."""
        from .instrument_sync import instrument_for

        return instrument_for(self)


class AssessmentPhase(models.TextChoices):
    T0 = "t0", _("T0 – before support")
    FOLLOW_UP = "follow_up", _("Follow-up – after support")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("In progress")
    AWAITING_COMPANY = "awaiting_company", _("Sent to the company")
    SUBMITTED = "submitted", _("Submitted by the company, to review")
    COMPLETED = "completed", _("Completed")
    SUPERSEDED = "superseded", _("Superseded by a correction")


LOCKED_STATUSES = (AssessmentStatus.COMPLETED, AssessmentStatus.SUPERSEDED)


class Assessment(TimestampedModel):
    """One taking of an instrument for a company: answers, scores once completed.

    Answers are stored normalised (see `rules.validate_answer`) with a per-question version that
    guards against two people overwriting each other.
    """

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="assessments")
    instrument_version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="assessments")
    phase = models.CharField(_("phase"), max_length=16, choices=AssessmentPhase.choices, default=AssessmentPhase.T0)
    status = models.CharField(_("status"), max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT)
    conducted_on = models.DateField(_("date"), default=timezone.localdate)
    led_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("led by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="led_assessments",
    )
    answers = models.JSONField(default=dict, blank=True)
    answer_versions = models.JSONField(default=dict, blank=True)
    notes = models.TextField(_("advisor's notes"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Frozen at completion, so reports and peer comparisons need not re-score.
    scores = models.JSONField(null=True, blank=True)
    overall_score = models.DecimalField(_("overall score"), max_digits=4, decimal_places=1, null=True, blank=True)
    overall_band = models.CharField(_("band"), max_length=64, blank=True)
    revises = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    revision_reason = models.TextField(_("reason for the correction"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-conducted_on", "-id"]
        permissions = [
            ("complete_assessment", _("Can complete and correct assessments")),
            ("send_self_assessment", _("Can send self-assessment links")),
            ("view_assessment_text", _("Can read free-text answers and notes of assessments")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "superseded"]) | Q(completed_at__isnull=False),
                name="assessment_completed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(overall_score__isnull=True) | Q(overall_score__gte=0, overall_score__lte=100),
                name="assessment_overall_range",
            ),
        ]
        indexes = [models.Index(fields=["company", "instrument_version", "status"], name="assessment_company_idx")]

    def __str__(self) -> str:
        return f"{self.instrument_version.title} – {self.company.name} ({self.conducted_on:%Y-%m-%d})"

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    def instrument(self):
        return self.instrument_version.instrument()


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SelfAssessmentLink(models.Model):
    """A personal link that lets a company representative fill in one assessment without an account."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="links")
    contact = models.ForeignKey("companies.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(_("sent to"))
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("self-assessment link")
        verbose_name_plural = _("self-assessment links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.assessment_id})"

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(secret: str) -> str:
        return _token_digest(secret)

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.submitted_at is None and self.expires_at > timezone.now()


class NeedStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("need status", "Open")
    ADDRESSED = "addressed", _("Addressed")
    DISMISSED = "dismissed", _("Dismissed")


class Need(TimestampedModel):
    """Behov: something the company needs in a focus area, derived from scores or added by the advisor."""

    class Source(models.TextChoices):
        DERIVED = "derived", _("From the scores")
        ADVISOR = "advisor", _("Added by the advisor")

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="needs")
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="needs")
    focus_area = models.ForeignKey(
        "programmes.FocusArea", verbose_name=_("focus area"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="needs",
    )
    dimension = models.CharField(_("dimension"), max_length=64, blank=True)
    title = models.CharField(_("need"), max_length=255)
    rationale = models.TextField(_("rationale"), blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=1, help_text=_("1 is the most urgent."))
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADVISOR)
    status = models.CharField(_("status"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["company", "status", "priority", "id"]

    def __str__(self) -> str:
        return self.title


class GrowthPlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed with the company")
    CLOSED = "closed", _("Closed")


class GrowthPlan(TimestampedModel):
    """Tillväxtplan: goals and actions agreed with the company."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="growth_plans")
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("based on"), null=True, blank=True, on_delete=models.SET_NULL, related_name="growth_plans"
    )
    title = models.CharField(_("title"), max_length=255)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=GrowthPlanStatus.choices, default=GrowthPlanStatus.DRAFT)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    shared_with_company = models.BooleanField(_("shared with the company"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("growth plan")
        verbose_name_plural = _("growth plans")
        ordering = ["company", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                name="growthplan_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GoalMetric(models.TextChoices):
    TURNOVER = "turnover_sek", _("Turnover (SEK)")
    STAFF = "staff_awu", _("Staff (annual work units)")
    EXPORT_SHARE = "export_share_pct", _("Export share (%)")
    NEW_PRODUCTS = "new_products", _("New products (number)")
    NEW_SERVICES = "new_services", _("New services (number)")
    OTHER = "other", _("Other")


class GrowthGoal(TimestampedModel):
    plan = models.ForeignKey(GrowthPlan, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(_("goal"), max_length=255)
    metric = models.CharField(_("measure"), max_length=20, choices=GoalMetric.choices, default=GoalMetric.OTHER)
    baseline = models.DecimalField(_("baseline"), max_digits=16, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    target_date = models.DateField(_("by"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["plan", "order", "id"]

    def __str__(self) -> str:
        return self.title


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class GrowthAction(TimestampedModel):
    plan = models.ForeignKey(GrowthPlan, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("action"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    focus_area = models.ForeignKey(
        "programmes.FocusArea", verbose_name=_("focus area"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    need = models.ForeignKey(Need, verbose_name=_("need"), null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    referral = models.ForeignKey(
        "programmes.Referral", verbose_name=_("referral"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="growth_actions", help_text=_("The programme the company was routed into for this action."),
    )
    intervention = models.ForeignKey(
        "programmes.Intervention", verbose_name=_("company-specific intervention"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="growth_actions",
    )
    owner = models.CharField(_("owner"), max_length=200, blank=True, help_text=_("Who is responsible, e.g. the CEO or the advisor."))
    due_date = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["plan", "order", "due_date", "id"]

    def __str__(self) -> str:
        return self.title
