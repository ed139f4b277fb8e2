"""Indicators of a project: the chosen indicator set, the project's indicators (the set's and its own)
with targets and milestones, and the values recorded by hand for indicators the platform cannot
count (an append-only ledger: corrections are new entries)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sim.core.models import AppendOnlyError, TimestampedModel

from . import rules


class ProjectIndicatorSet(TimestampedModel):
    """The indicator set a project reports on, and its counting settings."""

    project = models.OneToOneField("programmes.Project", on_delete=models.CASCADE, related_name="indicator_set")
    set_key = models.CharField(_("indicator set"), max_length=32)
    new_enterprise_years = models.PositiveSmallIntegerField(
        _("years after registration an enterprise counts as new"), default=rules.DEFAULT_NEW_ENTERPRISE_YEARS,
    )

    class Meta:
        verbose_name = _("project indicator set")
        verbose_name_plural = _("project indicator sets")
        constraints = [
            models.CheckConstraint(condition=Q(new_enterprise_years__gte=1, new_enterprise_years__lte=10),
                                   name="indicatorset_new_years_range"),
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.set_key}"


class ProjectIndicator(TimestampedModel):
    """One indicator of a project: from its set (``own`` false) or defined by the project."""

    project = models.ForeignKey("programmes.Project", on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("code"), max_length=16)
    own = models.BooleanField(_("project's own indicator"), default=False)
    method = models.CharField(_("counted as"), max_length=32, default="manual",
                              choices=[(m, m) for m in rules.METHODS])
    unit = models.CharField(_("unit"), max_length=16, default="number")
    name_sv = models.CharField(_("name (Swedish)"), max_length=300)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    definition_sv = models.TextField(_("definition (Swedish)"), blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    breakdown = models.CharField(max_length=16, blank=True)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2, null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("project indicator")
        verbose_name_plural = _("project indicators")
        ordering = ["project", "own", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="indicator_code_once"),
            models.CheckConstraint(condition=Q(target__isnull=True) | Q(target__gte=0), name="indicator_target_nonneg"),
            models.CheckConstraint(condition=Q(own=False) | Q(method="manual"), name="indicator_own_is_manual"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        english = (get_language() or "sv").startswith("en")
        return (self.name_en if english else self.name_sv) or self.name_sv or self.name_en

    @property
    def definition(self) -> str:
        english = (get_language() or "sv").startswith("en")
        return (self.definition_en if english else self.definition_sv) or self.definition_sv or self.definition_en

    @property
    def unit_label(self) -> str:
        from .catalogue import unit_label

        return unit_label(self.unit)

    @property
    def is_count(self) -> bool:
        return self.method in rules.COUNT_METHODS


class IndicatorMilestone(models.Model):
    """Delmål: the cumulative value an indicator should have reached by a date."""

    indicator = models.ForeignKey(ProjectIndicator, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["indicator", "date"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "date"], name="milestone_once_per_date"),
            models.CheckConstraint(condition=Q(value__gte=0), name="milestone_value_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.date}: {self.value}"


class IndicatorEntry(models.Model):
    """A value recorded by hand for a manual indicator (append-only; correct with a new entry)."""

    indicator = models.ForeignKey(ProjectIndicator, on_delete=models.PROTECT, related_name="entries")
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    note = models.TextField(_("evidence or note"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator", "date", "id"]
        indexes = [models.Index(fields=["indicator", "date"], name="indicatorentry_date_idx")]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.date}: {self.value}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(_("Recorded indicator values cannot be changed; record a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("Recorded indicator values cannot be deleted; record a correction."))
