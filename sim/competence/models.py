"""Competence supply (kompetensförsörjning): taxonomy, companies' needs, education offerings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sim.core.models import TimestampedModel


class ConceptKind(models.TextChoices):
    OCCUPATION = "occupation", _("Occupation")
    SKILL = "skill", _("Skill")


class Concept(TimestampedModel):
    """An occupation or skill of the taxonomy (ESCO or our own), with Swedish and English labels."""

    uri = models.URLField(_("URI"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ConceptKind.choices)
    preferred_label_sv = models.CharField(_("preferred label (Swedish)"), max_length=255, blank=True)
    preferred_label_en = models.CharField(_("preferred label (English)"), max_length=255, blank=True)
    alt_labels_sv = models.JSONField(_("alternative labels (Swedish)"), default=list, blank=True)
    alt_labels_en = models.JSONField(_("alternative labels (English)"), default=list, blank=True)
    description_sv = models.TextField(_("description (Swedish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    broader = models.ManyToManyField("self", verbose_name=_("broader concepts"), symmetrical=False, blank=True,
                                     related_name="narrower")
    source = models.CharField(_("source"), max_length=32, default="default", help_text=_("esco, default or custom"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")
        ordering = ["kind", "preferred_label_sv"]
        constraints = [
            models.CheckConstraint(condition=~Q(preferred_label_sv="", preferred_label_en=""), name="concept_has_a_label"),
        ]
        indexes = [models.Index(fields=["kind", "active"], name="concept_kind_idx")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        english = (get_language() or "sv").startswith("en")
        first, second = (self.preferred_label_en, self.preferred_label_sv) if english else (self.preferred_label_sv, self.preferred_label_en)
        return first or second

    def all_labels(self) -> list[str]:
        labels = [self.preferred_label_sv, self.preferred_label_en, *self.alt_labels_sv, *self.alt_labels_en]
        return list(dict.fromkeys(label for label in labels if label))


class MatchCorrection(models.Model):
    """An advisor's choice of concept for a need text: later suggestions for the same text use it."""

    text_key = models.CharField(max_length=255, help_text=_("The need text, normalised (see matching.normalise)."))
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="corrections")
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    times = models.PositiveIntegerField(default=1)
    last_chosen_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("match correction")
        verbose_name_plural = _("match corrections")
        constraints = [models.UniqueConstraint(fields=["text_key", "concept"], name="correction_unique")]
        indexes = [models.Index(fields=["text_key"], name="correction_text_idx")]

    def __str__(self) -> str:
        return f"{self.text_key} → {self.concept_id}"


class NeedKind(models.TextChoices):
    RECRUIT = "recruit", _("Recruit")
    UPSKILL = "upskill", _("Upskill current staff")


class Horizon(models.TextChoices):
    SHORT = "0-6", _("0–6 months")
    MEDIUM = "6-12", _("6–12 months")
    LONG = "12-36", _("12–36 months")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class CompetenceNeed(TimestampedModel):
    """Kompetensbehov: what a company needs, in its own words, linked to the taxonomy."""

    class Source(models.TextChoices):
        INTERVIEW = "interview", _("Growth interview")
        COMPANY_PAGE = "company_page", _("Company page")
        PORTAL = "portal", _("Company portal")
        IMPORT = "import", _("Import")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("need status", "Open")
        MET = "met", _("Met")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="competence_needs")
    project = models.ForeignKey("programmes.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="competence_needs")
    assessment = models.ForeignKey("assessments.Assessment", null=True, blank=True, on_delete=models.SET_NULL, related_name="competence_needs")
    text = models.CharField(_("need, in the company's words"), max_length=500)
    people = models.PositiveIntegerField(_("number of people"), default=1)
    kind = models.CharField(_("kind"), max_length=10, choices=NeedKind.choices, default=NeedKind.RECRUIT)
    horizon = models.CharField(_("time horizon"), max_length=5, choices=Horizon.choices, default=Horizon.MEDIUM)
    urgency = models.CharField(_("urgency"), max_length=6, choices=Urgency.choices, default=Urgency.MEDIUM)
    municipality = models.ForeignKey("companies.Municipality", verbose_name=_("municipality of the workplace"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    concepts = models.ManyToManyField(Concept, through="NeedConcept", blank=True, related_name="needs")
    source = models.CharField(_("source"), max_length=14, choices=Source.choices, default=Source.COMPANY_PAGE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("competence need")
        verbose_name_plural = _("competence needs")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(people__gte=1, people__lte=1000), name="need_people_range")]
        indexes = [models.Index(fields=["status", "horizon"], name="compneed_status_idx")]

    def __str__(self) -> str:
        return self.text


class NeedConcept(models.Model):
    """A concept linked to a need: suggested by the matcher, confirmed (or chosen) by a person."""

    need = models.ForeignKey(CompetenceNeed, on_delete=models.CASCADE, related_name="links")
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="need_links")
    confirmed = models.BooleanField(default=False)
    score = models.FloatField(null=True, blank=True, help_text=_("The matcher's score when suggested."))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["need", "concept"], name="needconcept_unique")]

    def __str__(self) -> str:
        return f"{self.need_id} → {self.concept_id}"


class ProviderStaff(models.Model):
    """A user who maintains an education provider's offerings."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_roles")
    provider = models.ForeignKey("programmes.Organisation", on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name = _("provider staff")
        verbose_name_plural = _("provider staff")
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="providerstaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.provider}"


class OfferingKind(models.TextChoices):
    VOCATIONAL_HIGHER = "yh", _("Higher vocational education (YH)")
    ADULT = "komvux", _("Municipal adult education (Komvux)")
    UNIVERSITY = "university", _("University course")
    SUPPLIER = "supplier", _("Supplier training")
    LABOUR_MARKET = "labour_market", _("Labour-market training")
    IN_HOUSE = "in_house", _("In-house training")


class EducationOffering(TimestampedModel):
    """Utbildning: a course or programme from an education provider."""

    provider = models.ForeignKey("programmes.Organisation", verbose_name=_("provider"), on_delete=models.PROTECT,
                                 related_name="education_offerings")
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=OfferingKind.choices)
    municipality = models.ForeignKey("companies.Municipality", verbose_name=_("municipality"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    distance = models.BooleanField(_("distance learning"), default=False)
    start_dates = models.JSONField(_("start dates"), default=list, blank=True)
    length_weeks = models.PositiveIntegerField(_("length (weeks)"), null=True, blank=True)
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("web page"), blank=True)
    concepts = models.ManyToManyField(Concept, through="OfferingConcept", blank=True, related_name="offerings")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("education offering")
        verbose_name_plural = _("education offerings")
        ordering = ["provider", "name"]
        constraints = [
            # Coalesce instead of nulls_distinct=False, which SQLite cannot enforce: one distance
            # offering (no municipality) of a name per provider.
            models.UniqueConstraint(F("provider"), F("name"), Coalesce("municipality", Value("")), name="offering_unique"),
            models.CheckConstraint(condition=Q(municipality__isnull=False) | Q(distance=True), name="offering_has_a_place"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class OfferingConcept(models.Model):
    offering = models.ForeignKey(EducationOffering, on_delete=models.CASCADE, related_name="links")
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="offering_links")
    confirmed = models.BooleanField(default=False)
    score = models.FloatField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offering", "concept"], name="offeringconcept_unique")]

    def __str__(self) -> str:
        return f"{self.offering_id} → {self.concept_id}"


class OfferingOffer(models.Model):
    """The project's offer (:class:`sim.programmes.models.Offer`, kind course) that stands for an
    education offering, so that companies can be referred to it like to any offer of the project.
    Created the first time a company of the project is referred to the offering."""

    offering = models.ForeignKey(EducationOffering, on_delete=models.PROTECT, related_name="programme_offers")
    project = models.ForeignKey("programmes.Project", on_delete=models.PROTECT, related_name="+")
    offer = models.OneToOneField("programmes.Offer", on_delete=models.PROTECT, related_name="education_offering_link")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offering", "project"], name="offeringoffer_once_per_project")]

    def __str__(self) -> str:
        return f"{self.offering_id} → {self.offer_id}"


class NeedReferral(models.Model):
    """Slussning till utbildning: a referral made for a competence need, to an education offering."""

    need = models.ForeignKey(CompetenceNeed, on_delete=models.CASCADE, related_name="referral_links")
    referral = models.OneToOneField("programmes.Referral", on_delete=models.CASCADE, related_name="competence_need_link")
    offering = models.ForeignKey(EducationOffering, on_delete=models.PROTECT, related_name="need_referrals")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.need_id} → {self.referral_id}"
