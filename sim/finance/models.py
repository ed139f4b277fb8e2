"""Project finance (projektekonomi): budget scenarios, financing plans, costs, time and contributions.

Amounts are Decimal SEK. Cost entries are an append-only ledger: a correction is a reversal entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.core.models import AppendOnlyError, TimestampedModel


class CostCategory(models.TextChoices):
    """Kostnadsslag, as ERDF budgets are laid out."""

    STAFF = "staff", _("Staff")
    EXTERNAL_SERVICES = "external_services", _("External services")
    COMPANY_SUPPORT = "company_support", _("Direct support to companies / company-specific interventions")
    TRAVEL = "travel", _("Travel")
    EQUIPMENT = "equipment", _("Equipment")
    OTHER = "other", _("Other costs")
    INDIRECT = "indirect", _("Indirect costs (flat rate)")


class BudgetScenario(TimestampedModel):
    """A budget and financing plan for a project. One scenario is the project's adopted budget;
    others are what-ifs shown side by side ("16 MSEK, 2 years, no ERDF" vs "32 MSEK with 50 % ERDF, 3 years")."""

    project = models.ForeignKey("programmes.Project", on_delete=models.CASCADE, related_name="budget_scenarios")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    is_adopted = models.BooleanField(_("adopted budget"), default=False)
    indirect_rate_pct = models.DecimalField(
        # xgettext:no-python-format
        _("indirect costs, % of staff costs"), max_digits=5, decimal_places=2, default=15,
        # xgettext:no-python-format
        help_text=_("Flat rate on staff costs (e.g. 15 % under the ERDF simplified cost options)."),
    )
    company_share_target_pct = models.DecimalField(
        _("target share of costs reaching companies (%)"), max_digits=5, decimal_places=2, default=60,
    )
    advisor_company_facing_pct = models.DecimalField(
        _("company-facing share of advisor time (%)"), max_digits=5, decimal_places=2, default=70,
        help_text=_("The part of staff costs counted as reaching companies."),
    )
    in_kind_hourly_rate_sek = models.DecimalField(
        _("standard hourly rate for company staff hours (SEK)"), max_digits=8, decimal_places=2, default=500,
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("budget scenario")
        verbose_name_plural = _("budget scenarios")
        ordering = ["project", "-is_adopted", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project"], condition=Q(is_adopted=True), name="scenario_one_adopted"),
            models.UniqueConstraint(fields=["project", "name"], name="scenario_unique_name"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="scenario_period_order"),
            models.CheckConstraint(
                condition=Q(indirect_rate_pct__gte=0, indirect_rate_pct__lte=100, company_share_target_pct__gte=0,
                            company_share_target_pct__lte=100, advisor_company_facing_pct__gte=0,
                            advisor_company_facing_pct__lte=100),
                name="scenario_percentages",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.project.code})"


class BudgetLine(models.Model):
    """Budgetpost: an amount for a category, partner and period (year, optionally quarter)."""

    scenario = models.ForeignKey(BudgetScenario, on_delete=models.CASCADE, related_name="lines")
    partner = models.ForeignKey("programmes.ProjectPartner", verbose_name=_("partner"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="budget_lines")
    category = models.CharField(_("category"), max_length=20, choices=CostCategory.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"), null=True, blank=True)
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["scenario", "year", "quarter", "category"]
        constraints = [
            # An empty partner or quarter is a value of its own (the project owner, the whole year).
            # Coalesce instead of nulls_distinct=False, which SQLite cannot enforce.
            models.UniqueConstraint(F("scenario"), Coalesce("partner", Value(0)), F("category"), F("year"),
                                    Coalesce("quarter", Value(0)), name="budgetline_unique"),
            models.CheckConstraint(condition=Q(amount_sek__gte=0), name="budgetline_nonneg"),
            models.CheckConstraint(condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4), name="budgetline_quarter"),
            models.CheckConstraint(condition=~Q(category="indirect"), name="budgetline_indirect_is_computed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.year}{f' Q{self.quarter}' if self.quarter else ''}: {self.amount_sek}"


class FinancingSource(models.Model):
    """Medfinansiering: one source of the financing plan of a scenario."""

    class Kind(models.TextChoices):
        ERDF = "erdf", _("European Regional Development Fund (ERDF)")
        REGIONAL_PUBLIC = "regional_public", _("Regional public funds")
        OTHER_PUBLIC = "other_public", _("Other public funds")
        PRIVATE_CASH = "private_cash", _("Private cash")
        PRIVATE_IN_KIND = "private_in_kind", _("Private in kind (company staff hours)")

    scenario = models.ForeignKey(BudgetScenario, on_delete=models.CASCADE, related_name="financing")
    kind = models.CharField(_("source"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("financier"), max_length=200, blank=True, help_text=_("e.g. Region Jämtland Härjedalen"))
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2, null=True, blank=True)
    rate_pct = models.DecimalField(
        # xgettext:no-python-format
        _("rate (% of eligible costs)"), max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("For the ERDF: its co-financing rate; the amount follows from the budget."),
    )
    hours = models.DecimalField(_("hours (in kind)"), max_digits=10, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("financing source")
        verbose_name_plural = _("financing sources")
        ordering = ["scenario", "kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_sek__isnull=True) | Q(amount_sek__gte=0), name="financing_amount_nonneg"),
            models.CheckConstraint(condition=Q(rate_pct__isnull=True) | Q(rate_pct__gte=0, rate_pct__lte=100), name="financing_rate_range"),
            models.CheckConstraint(
                condition=Q(amount_sek__isnull=False) | Q(rate_pct__isnull=False) | Q(hours__isnull=False),
                name="financing_has_a_figure",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}".strip()


class CostEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Cost entries are append-only: record a reversal instead.")

    def delete(self):
        raise AppendOnlyError("Cost entries are append-only: record a reversal instead.")


class CostEntry(models.Model):
    """Kostnadspost (verifikation): an actual cost. Append-only; a correction reverses an entry."""

    project = models.ForeignKey("programmes.Project", on_delete=models.PROTECT, related_name="cost_entries")
    partner = models.ForeignKey("programmes.ProjectPartner", verbose_name=_("partner"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="cost_entries")
    category = models.CharField(_("category"), max_length=20, choices=CostCategory.choices)
    date = models.DateField(_("date"))
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    voucher = models.CharField(_("voucher / verification number"), max_length=64)
    description = models.CharField(_("description"), max_length=255, blank=True)
    intervention = models.ForeignKey("programmes.Intervention", null=True, blank=True, on_delete=models.PROTECT, related_name="cost_entries")
    company = models.ForeignKey("companies.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="cost_entries")
    reverses = models.OneToOneField("self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    source = models.CharField(_("source"), max_length=20, default="manual", help_text=_("manual or import"))
    import_batch = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = CostEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("cost entry")
        verbose_name_plural = _("cost entries")
        ordering = ["-date", "-id"]
        permissions = [("import_costentry", _("Can import cost entries"))]
        constraints = [
            models.UniqueConstraint(F("project"), Coalesce("partner", Value(0)), F("voucher"), F("category"),
                                    F("amount_sek"), F("date"), name="costentry_unique_voucher_line"),
            models.CheckConstraint(condition=~Q(amount_sek=0), name="costentry_nonzero"),
            models.CheckConstraint(condition=~Q(category="indirect"), name="costentry_indirect_is_computed"),
        ]
        indexes = [models.Index(fields=["project", "date"], name="cost_project_date_idx")]

    def __str__(self) -> str:
        return f"{self.voucher} {self.date:%Y-%m-%d} {self.amount_sek}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Cost entries are append-only: record a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Cost entries are append-only: record a reversal instead.")


class StaffRate(models.Model):
    """What an hour of a person's time costs from a date: salary plus the configured overhead."""

    project = models.ForeignKey("programmes.Project", on_delete=models.CASCADE, related_name="staff_rates")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_rates")
    partner = models.ForeignKey("programmes.ProjectPartner", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("valid from"))
    monthly_salary_sek = models.DecimalField(_("monthly salary (SEK)"), max_digits=10, decimal_places=2)
    overhead_pct = models.DecimalField(
        _("payroll overhead (%)"), max_digits=5, decimal_places=2, default=51,
        help_text=_("Social security contributions, pension and other salary-related costs."),
    )
    annual_hours = models.DecimalField(_("working hours per year"), max_digits=6, decimal_places=1, default=1720)

    class Meta:
        verbose_name = _("staff rate")
        verbose_name_plural = _("staff rates")
        ordering = ["project", "person", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["project", "person", "valid_from"], name="staffrate_unique"),
            models.CheckConstraint(condition=Q(monthly_salary_sek__gt=0, annual_hours__gt=0, overhead_pct__gte=0), name="staffrate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.valid_from:%Y-%m-%d}"


class TimeReport(TimestampedModel):
    """Tidrapport: hours a person worked in the project in a month, per focus area."""

    project = models.ForeignKey("programmes.Project", on_delete=models.PROTECT, related_name="time_reports")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_reports")
    partner = models.ForeignKey("programmes.ProjectPartner", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    focus_area = models.ForeignKey("programmes.FocusArea", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    hourly_cost_sek = models.DecimalField(_("hourly cost (SEK)"), max_digits=8, decimal_places=2,
                                          help_text=_("From the staff rate valid in the month, when recorded."))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("time report")
        verbose_name_plural = _("time reports")
        ordering = ["-month", "person"]
        constraints = [
            models.UniqueConstraint(F("project"), F("person"), F("month"), Coalesce("focus_area", Value(0)),
                                    name="timereport_unique"),
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=400), name="timereport_hours_range"),
            models.CheckConstraint(condition=Q(hourly_cost_sek__gte=0), name="timereport_cost_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.month:%Y-%m}: {self.hours} h"

    @property
    def cost_sek(self):
        from decimal import Decimal

        return (self.hours * self.hourly_cost_sek).quantize(Decimal("0.01"))
