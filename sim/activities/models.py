"""Activities (aktiviteter, möten) with hours, and events (evenemang) with participation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.core.models import TimestampedModel


class Activity(TimestampedModel):
    """A meeting, call, visit, workshop or piece of analysis work with a company; carries hours."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Phone or video call")
        VISIT = "visit", _("Company visit")
        WORKSHOP = "workshop", _("Workshop")
        ANALYSIS = "analysis", _("Analysis work")

    project = models.ForeignKey("programmes.Project", on_delete=models.PROTECT, related_name="activities")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MEETING)
    date = models.DateField(_("date"), default=timezone.localdate)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    advisors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("advisors"), related_name="activities")
    contacts = models.ManyToManyField("companies.Contact", verbose_name=_("company contacts"), blank=True, related_name="activities")
    focus_area = models.ForeignKey("programmes.FocusArea", verbose_name=_("focus area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "-id"]
        permissions = [("view_activity_notes", _("Can read activity notes"))]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=200), name="activity_hours_range")]
        indexes = [
            models.Index(fields=["project", "date"], name="activity_project_date_idx"),
            models.Index(fields=["company", "project"], name="activity_company_idx"),
            # The indicator report's running total of hours per company (a window ordered by date)
            # reads this index alone, in order, instead of sorting the project's activities.
            models.Index(fields=["project", "company", "date", "hours"], name="activity_running_hours_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d} – {self.company.name}"


class Event(TimestampedModel):
    """Evenemang: Industrins dag, roundtables, workshops."""

    class Kind(models.TextChoices):
        INDUSTRY_DAY = "industry_day", _("Industry Day")
        ROUNDTABLE = "roundtable", _("Roundtable")
        WORKSHOP = "workshop", _("Workshop")
        SEMINAR = "seminar", _("Seminar")
        OTHER = "other", _("Other")

    project = models.ForeignKey("programmes.Project", on_delete=models.PROTECT, related_name="events")
    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.WORKSHOP)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    focus_areas = models.ManyToManyField("programmes.FocusArea", verbose_name=_("focus areas"), blank=True, related_name="+")
    registration_open = models.BooleanField(_("registration open"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")), name="event_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class Registration(TimestampedModel):
    """Anmälan and närvaro: a person registered for an event, and whether they came."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    company = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="event_registrations")
    contact = models.ForeignKey("companies.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="event_registrations")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    organisation_name = models.CharField(_("organisation (if not in the register)"), max_length=255, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text=_("e.g. a mailing that led to the registration"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "contact"], condition=Q(contact__isnull=False), name="registration_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} – {self.event.title}"
