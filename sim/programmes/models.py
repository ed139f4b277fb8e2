"""Programmes (program och erbjudanden): projects, partners, focus areas, offers, referrals,
company-specific interventions, outreach mailings and follow-ups."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sim.core.models import TimestampedModel


def _localised(obj, field: str) -> str:
    english = (get_language() or "sv").startswith("en")
    value = getattr(obj, f"{field}_en" if english else f"{field}_sv")
    return value or getattr(obj, f"{field}_sv" if english else f"{field}_en")


class FocusArea(models.Model):
    """Insatsområde: a theme of support. Data, not code: each programme defines its own."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_sv = models.TextField(_("description (Swedish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localised(self, "name")


class Organisation(TimestampedModel):
    """An organisation taking part in projects or providing offers (projektägare, partner, leverantör)."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public body (region, municipality, agency)")
        DEVELOPMENT = "development", _("Industrial development centre or business support")
        RESEARCH = "research", _("University or research institute")
        CONSULTANT = "consultant", _("Consultant")
        FINANCIER = "financier", _("Financier")
        EDUCATION = "education", _("Education provider")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    org_number = models.CharField(_("organisation number"), max_length=10, blank=True)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Running")
    CLOSED = "closed", _("Closed")


class Project(TimestampedModel):
    """Projekt: the funded undertaking whose work everything below belongs to."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    extended_to = models.DateField(_("extended to"), null=True, blank=True)
    owner = models.ForeignKey(
        Organisation, verbose_name=_("project owner"), on_delete=models.PROTECT, related_name="owned_projects"
    )
    counties = models.ManyToManyField("companies.County", verbose_name=_("counties served"), blank=True, related_name="+")
    municipalities = models.ManyToManyField(
        "companies.Municipality", verbose_name=_("municipalities served"), blank=True, related_name="+",
        help_text=_("Leave empty to serve every municipality of the counties."),
    )
    focus_areas = models.ManyToManyField(FocusArea, verbose_name=_("focus areas"), blank=True, related_name="projects")
    status = models.CharField(_("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE)
    # Until the finance module's budget lines exist, interventions are checked against this.
    company_support_budget_sek = models.DecimalField(
        _("budget for company support (SEK)"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("Direct support and company-specific interventions; approvals beyond it are refused."),
    )
    min_support_hours = models.DecimalField(
        _("hours of advisor activities that count as support"), max_digits=6, decimal_places=1, default=12,
    )

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-start_date", "code"]
        permissions = [("manage_project", _("Can set up projects, partners and members"))]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="project_period_order"),
            models.CheckConstraint(
                condition=Q(extended_to__isnull=True) | Q(extended_to__gte=models.F("end_date")),
                name="project_extension_after_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def effective_end(self):
        return self.extended_to or self.end_date


class ProjectPartner(models.Model):
    """Samverkanspartner: an organisation in a project (the owner is one too)."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Project owner")
        PARTNER = "partner", _("Partner")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="partnerships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.PARTNER)

    class Meta:
        verbose_name = _("project partner")
        verbose_name_plural = _("project partners")
        ordering = ["project", "role", "organisation__name"]
        constraints = [models.UniqueConstraint(fields=["project", "organisation"], name="partner_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.project.code}"


class ProjectMembership(models.Model):
    """A user working in a project, as staff of one of its partner organisations."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("project member")
        verbose_name_plural = _("project members")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project.code}"


class SupportForm(models.TextChoices):
    """Form of support, as the ERDF indicators count it."""

    GRANT = "grant", _("Grant")
    FINANCIAL = "financial", _("Financial support other than grants")
    NON_FINANCIAL = "non_financial", _("Non-financial support")


class Offer(TimestampedModel):
    """Program / erbjudande: something a company can be routed into."""

    class Kind(models.TextChoices):
        PROGRAMME = "programme", _("Programme")
        COURSE = "course", _("Course")
        COACHING = "coaching", _("Coaching")
        VOUCHER = "voucher", _("Voucher")
        LOAN = "loan", _("Loan")
        EXPORT_SERVICE = "export_service", _("Export service")
        OTHER = "other", _("Other")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="offers")
    title_sv = models.CharField(_("title (Swedish)"), max_length=255)
    title_en = models.CharField(_("title (English)"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PROGRAMME)
    internal = models.BooleanField(_("run by the project itself"), default=False)
    provider = models.ForeignKey(
        Organisation, verbose_name=_("provider"), null=True, blank=True, on_delete=models.PROTECT, related_name="offers"
    )
    focus_areas = models.ManyToManyField(FocusArea, verbose_name=_("focus areas"), blank=True, related_name="offers")
    description_sv = models.TextField(_("description (Swedish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    support_form = models.CharField(_("form of support"), max_length=16, choices=SupportForm.choices, default=SupportForm.NON_FINANCIAL)
    is_state_aid = models.BooleanField(_("state aid"), default=False)
    aid_scheme = models.CharField(_("aid scheme"), max_length=200, blank=True, help_text=_("e.g. de minimis (EU) 2023/2831"))
    typical_value_sek = models.DecimalField(_("typical value (SEK)"), max_digits=14, decimal_places=2, null=True, blank=True)
    typical_hours = models.DecimalField(_("typical hours"), max_digits=7, decimal_places=1, null=True, blank=True)
    capacity = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_to = models.DateField(_("available to"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Eligibility rules as data (see programmes/rules.py and docs/domain-rules.md).
    eligibility = models.JSONField(_("eligibility rules"), default=dict, blank=True)
    active = models.BooleanField(_("open for referrals"), default=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["project", "title_sv"]
        constraints = [
            models.CheckConstraint(
                condition=Q(available_from__isnull=True) | Q(available_to__isnull=True) | Q(available_to__gte=models.F("available_from")),
                name="offer_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _localised(self, "title")

    @property
    def description(self) -> str:
        return _localised(self, "description")


class ReferralStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Referral(TimestampedModel):
    """Slussa in: a company routed to an offer, followed through its statuses."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="referrals")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="referrals")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PROPOSED)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible advisor"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="referrals",
    )
    proposed_on = models.DateField(_("proposed"), default=timezone.localdate)
    accepted_on = models.DateField(_("accepted"), null=True, blank=True)
    started_on = models.DateField(_("started"), null=True, blank=True)
    completed_on = models.DateField(_("completed"), null=True, blank=True)
    declined_on = models.DateField(_("declined"), null=True, blank=True)
    withdrawn_on = models.DateField(_("withdrawn"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why it was declined or withdrawn."))
    notes = models.TextField(_("notes"), blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-proposed_on", "-id"]
        indexes = [
            models.Index(fields=["project", "status"], name="referral_project_status_idx"),
            models.Index(fields=["company", "status"], name="referral_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(started_on__isnull=False, completed_on__isnull=False),
                name="referral_completed_was_started",
            ),
            # One open referral of a company to an offer at a time (services say so in words first).
            models.UniqueConstraint(
                fields=["company", "offer"], condition=Q(status__in=["proposed", "accepted", "started"]),
                name="referral_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company.name} → {self.offer.title}"


class InterventionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


def decision_upload_to(instance, filename: str) -> str:
    return f"decisions/{instance.project_id}/{secrets.token_hex(8)}/{filename}"


class Intervention(TimestampedModel):
    """Företagsspecifik insats: a budgeted effort for one company with a provider."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="interventions")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="interventions")
    title = models.CharField(_("title"), max_length=255)
    focus_area = models.ForeignKey(FocusArea, verbose_name=_("focus area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("description"), blank=True)
    provider = models.ForeignKey(Organisation, verbose_name=_("provider"), null=True, blank=True, on_delete=models.PROTECT, related_name="interventions")
    provider_name = models.CharField(_("provider (if not an organisation in the register)"), max_length=255, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    budget_sek = models.DecimalField(_("budget (SEK)"), max_digits=14, decimal_places=2, default=0)
    own_cash_sek = models.DecimalField(_("company's own contribution, cash (SEK)"), max_digits=14, decimal_places=2, default=0)
    own_hours = models.DecimalField(_("company's own contribution, hours"), max_digits=8, decimal_places=1, default=0)
    support_form = models.CharField(_("form of support"), max_length=16, choices=SupportForm.choices, default=SupportForm.GRANT)
    is_state_aid = models.BooleanField(_("state aid"), default=True)
    aid_amount_sek = models.DecimalField(
        _("aid amount, gross grant equivalent (SEK)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=InterventionStatus.choices, default=InterventionStatus.DRAFT)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    decision_document = models.FileField(_("decision document"), upload_to=decision_upload_to, blank=True)
    deliverables = models.TextField(_("deliverables"), blank=True)
    results = models.TextField(_("results"), blank=True)
    started_on = models.DateField(_("work started on"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    growth_goals = models.ManyToManyField("assessments.GrowthGoal", verbose_name=_("growth-plan goals it serves"), blank=True, related_name="interventions")
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("company-specific intervention")
        verbose_name_plural = _("company-specific interventions")
        ordering = ["-created_at"]
        permissions = [("approve_intervention", _("Can approve company-specific interventions"))]
        constraints = [
            models.CheckConstraint(condition=Q(budget_sek__gte=0, own_cash_sek__gte=0, own_hours__gte=0), name="intervention_amounts_nonneg"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="intervention_period_order",
            ),
        ]
        indexes = [models.Index(fields=["project", "status"], name="intervention_project_idx")]

    def __str__(self) -> str:
        return f"{self.title} – {self.company.name}"


class FollowUp(TimestampedModel):
    """Uppföljning: a dated task on a company for an advisor."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        T1_DUE = "t1_due", _("Follow-up assessment due")
        STALE_REFERRAL = "stale_referral", _("Referral without progress")

    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(_("task"), max_length=255)
    due_on = models.DateField(_("due"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    # What an automatic follow-up is about (e.g. "referral:12"), so it is created once.
    source_key = models.CharField(max_length=64, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_key"], condition=~Q(source_key=""), name="followup_auto_once"),
        ]
        indexes = [models.Index(fields=["assigned_to", "done_at", "due_on"], name="followup_assignee_idx")]

    def __str__(self) -> str:
        return self.title


class Mailing(TimestampedModel):
    """Förmedla möjligheter: an invitation about an offer or event sent to a selection of companies."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        QUEUED = "queued", _("Queued for sending")
        SENT = "sent", _("Sent")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="mailings")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings")
    event = models.ForeignKey("activities.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings")
    selection = models.JSONField(_("selection"), default=dict, blank=True, help_text=_("The register filters used."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    queued_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


class MailingRecipient(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        REPLIED = "replied", _("Replied")
        REGISTERED = "registered", _("Registered")
        SKIPPED = "skipped", _("Not sent (opted out or no legal basis)")

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("companies.Contact", on_delete=models.CASCADE, related_name="mailings")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    opt_out_token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("mailing recipient")
        verbose_name_plural = _("mailing recipients")
        constraints = [models.UniqueConstraint(fields=["mailing", "contact"], name="mailing_recipient_once")]
        indexes = [models.Index(fields=["status", "mailing"], name="recipient_status_idx")]

    def __str__(self) -> str:
        return self.email
