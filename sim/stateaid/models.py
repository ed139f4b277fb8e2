"""The de minimis ledger (stödregister): exchange rates and aid awards.

* :class:`ExchangeRate` — SEK per EUR by date, maintained by finance officers (CSV import). The rate
  used for an award is the latest on or before its date of granting.
* :class:`AidAward` — one entry of the append-only ledger: a proposed or granted award, a company's
  declaration of earlier aid from another granting authority (``declared``), or a revocation that
  reverses an earlier entry. Entries are never changed or deleted (:class:`AppendOnlyError`).

The rules themselves are pure functions in :mod:`sim.stateaid.rules`; writes go through
:mod:`sim.stateaid.services`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.core.models import AppendOnlyError, TimestampedModel

from . import rules


class ExchangeRate(TimestampedModel):
    """SEK per EUR from a date (e.g. the Riksbank's or the European Commission's rate)."""

    date = models.DateField(_("date"), unique=True)
    sek_per_eur = models.DecimalField(_("SEK per EUR"), max_digits=9, decimal_places=4)
    source = models.CharField(_("source"), max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-date"]
        permissions = [("import_exchangerate", _("Can import exchange rates"))]
        constraints = [models.CheckConstraint(condition=Q(sek_per_eur__gt=0), name="exchangerate_positive")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}: {self.sek_per_eur} SEK/EUR"


class Regulation(models.TextChoices):
    R2013 = rules.REGULATION_2013, _("Regulation (EU) No 1407/2013")
    R2023 = rules.REGULATION_2023, _("Regulation (EU) 2023/2831")
    OTHER = rules.REGULATION_OTHER, _("Other de minimis regulation")


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    GRANTED = "granted", _("Granted")
    REVOKED = "revoked", _("Revoked")


def award_document_upload_to(instance, filename: str) -> str:
    return f"stateaid/{instance.undertaking_id}/{secrets.token_hex(8)}/{filename}"


class AidAwardQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Aid awards are append-only: record a revocation instead.")

    def delete(self):
        raise AppendOnlyError("Aid awards are append-only: record a revocation instead.")

    def counted(self):
        """Granted awards (declared ones included) that no revocation reverses: what counts against the ceiling."""
        return self.filter(status=AwardStatus.GRANTED, reversed_by__isnull=True)


class AidAward(models.Model):
    """An entry of the de minimis ledger. Append-only; a revocation is an entry reversing another."""

    undertaking = models.ForeignKey("companies.Company", verbose_name=_("undertaking"), on_delete=models.PROTECT,
                                    related_name="aid_awards")
    granting_authority = models.CharField(_("granting authority"), max_length=255)
    measure = models.CharField(_("measure"), max_length=255)
    offer = models.ForeignKey("programmes.Offer", verbose_name=_("offer"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="aid_awards")
    intervention = models.ForeignKey("programmes.Intervention", verbose_name=_("intervention"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="aid_awards")
    regulation = models.CharField(_("regulation"), max_length=16, choices=Regulation.choices)
    granted_on = models.DateField(_("date of granting"))
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    amount_eur = models.DecimalField(_("amount (EUR)"), max_digits=14, decimal_places=2)
    sek_per_eur = models.DecimalField(_("rate used (SEK per EUR)"), max_digits=9, decimal_places=4, null=True,
                                      blank=True)
    rate_date = models.DateField(_("date of the rate"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AwardStatus.choices)
    declared = models.BooleanField(
        _("declared by the company"), default=False,
        help_text=_("Earlier de minimis aid from another granting authority, as the company declared it."),
    )
    proposal = models.OneToOneField("self", verbose_name=_("grants the proposal"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="granted_by")
    reverses = models.OneToOneField("self", verbose_name=_("revokes"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversed_by")
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    reason = models.TextField(_("reason / notes"), blank=True)
    document = models.FileField(_("document"), upload_to=award_document_upload_to, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = AidAwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("aid award")
        verbose_name_plural = _("aid awards")
        ordering = ["-granted_on", "-id"]
        permissions = [
            ("revoke_aidaward", _("Can revoke aid awards")),
            ("declare_aidaward", _("Can record declarations of earlier de minimis aid")),
            ("check_deminimis", _("Can run the de minimis check")),
            ("export_aidaward", _("Can export aid awards for the central register")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_sek__gte=0, amount_eur__gte=0), name="aidaward_amounts_nonneg"),
            models.CheckConstraint(condition=Q(sek_per_eur__isnull=True) | Q(sek_per_eur__gt=0),
                                   name="aidaward_rate_positive"),
            models.CheckConstraint(condition=Q(status__in=AwardStatus.values), name="aidaward_status_valid"),
            models.CheckConstraint(condition=Q(regulation__in=Regulation.values), name="aidaward_regulation_valid"),
            # A revocation (and only a revocation) reverses an entry, with the date it takes effect.
            models.CheckConstraint(
                condition=(Q(status=AwardStatus.REVOKED, reverses__isnull=False, revoked_on__isnull=False)
                           | (~Q(status=AwardStatus.REVOKED) & Q(reverses__isnull=True, revoked_on__isnull=True))),
                name="aidaward_revocation_reverses",
            ),
            models.CheckConstraint(condition=Q(proposal__isnull=True) | Q(status=AwardStatus.GRANTED),
                                   name="aidaward_proposal_only_on_grant"),
            # A declaration is aid already granted by someone else.
            models.CheckConstraint(condition=Q(declared=False) | Q(status__in=[AwardStatus.GRANTED, AwardStatus.REVOKED]),
                                   name="aidaward_declared_is_granted"),
            models.CheckConstraint(condition=~Q(granting_authority="") & ~Q(measure=""), name="aidaward_texts_given"),
            # An intervention is granted once.
            models.UniqueConstraint(fields=["intervention"], condition=Q(status=AwardStatus.GRANTED),
                                    name="aidaward_intervention_granted_once"),
        ]
        indexes = [
            models.Index(fields=["undertaking", "granted_on"], name="aidaward_undertaking_idx"),
            models.Index(fields=["status", "granted_on"], name="aidaward_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.granted_on:%Y-%m-%d} EUR {self.amount_eur} – {self.measure}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Aid awards are append-only: record a revocation instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Aid awards are append-only: record a revocation instead.")

    @property
    def is_revocation(self) -> bool:
        return self.status == AwardStatus.REVOKED

    def is_reversed(self) -> bool:
        return AidAward.objects.filter(reverses=self).exists()

    def is_proposal_granted(self) -> bool:
        return AidAward.objects.filter(proposal=self).exists()


class UndertakingProfile(TimestampedModel):
    """What the de minimis check needs to know about an undertaking beyond the register (matters only
    under Regulation No 1407/2013): road freight for hire or reward, and the start of its fiscal year."""

    company = models.OneToOneField("companies.Company", verbose_name=_("undertaking"), on_delete=models.CASCADE,
                                   related_name="aid_profile")
    road_freight = models.BooleanField(
        _("road freight transport for hire or reward"), default=False,
        help_text=_("Under Regulation (EU) No 1407/2013 the ceiling is then EUR 100,000."),
    )
    fiscal_year_start = models.CharField(
        _("fiscal year starts (MM-DD)"), max_length=5, default="01-01",
        help_text=_("Under Regulation (EU) No 1407/2013 aid counts by fiscal year, e.g. 07-01."),
    )

    class Meta:
        verbose_name = _("undertaking profile")
        verbose_name_plural = _("undertaking profiles")
        constraints = [
            models.CheckConstraint(condition=Q(fiscal_year_start__regex=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
                                   name="aidprofile_fiscal_year_start_format"),
        ]

    def __str__(self) -> str:
        return f"{self.company.name}: {self.fiscal_year_start}{' road freight' if self.road_freight else ''}"
