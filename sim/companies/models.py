"""The company register (företagsregister): companies, their key figures, ownership and contacts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.core.models import TimestampedModel

models.CharField.register_lookup(Length)


class County(models.Model):
    """Län."""

    code = models.CharField(_("county code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """Kommun, with its four-digit SCB code."""

    code = models.CharField(_("municipality code"), max_length=4, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="municipalities")

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SniCode(models.Model):
    """An industry code (näringsgrenskod) of a code system such as SNI 2007, written without dots."""

    class Level(models.TextChoices):
        SECTION = "section", _("section")
        DIVISION = "division", _("division")
        GROUP = "group", _("group")
        CLASS = "class", _("class")
        SUBCLASS = "subclass", _("subclass")

    system = models.CharField(_("code system"), max_length=16, default="SNI2007")
    code = models.CharField(_("code"), max_length=5)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent_code = models.CharField(max_length=5, blank=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=255)
    name_en = models.CharField(_("name (English)"), max_length=255)

    class Meta:
        verbose_name = _("industry code")
        verbose_name_plural = _("industry codes")
        ordering = ["system", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="sni_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv


class LegalForm(models.TextChoices):
    """Juridisk form."""

    LIMITED_COMPANY = "ab", _("Limited company (AB)")
    TRADING_PARTNERSHIP = "hb", _("Trading partnership (HB)")
    LIMITED_PARTNERSHIP = "kb", _("Limited partnership (KB)")
    SOLE_TRADER = "ef", _("Sole trader (enskild firma)")
    ECONOMIC_ASSOCIATION = "ek", _("Economic association (ekonomisk förening)")
    NON_PROFIT = "if", _("Non-profit association or foundation")
    FOREIGN_BRANCH = "fi", _("Branch of a foreign company (filial)")
    PUBLIC = "pub", _("Public body (state, region, municipality)")
    ESTATE = "db", _("Estate (dödsbo)")
    SIMPLE_PARTNERSHIP = "eb", _("Simple partnership (enkelt bolag)")
    OTHER = "other", _("Other")


class CompanyStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    ALUMNI = "alumni", _("Alumni")
    ARCHIVED = "archived", _("Archived")


class SizeClass(models.TextChoices):
    """SME category per Commission Recommendation 2003/361/EC."""

    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium-sized")
    LARGE = "large", _("Large")


class Company(TimestampedModel):
    """A company (företag) in the register, keyed by its organisation number."""

    org_number = models.CharField(_("organisation number"), max_length=10, unique=True)
    is_sole_trader = models.BooleanField(
        _("sole trader (personal identity number)"),
        default=False,
        help_text=_("The organisation number is the owner's personal identity number: personal data."),
    )
    name = models.CharField(_("name"), max_length=255)
    legal_form = models.CharField(_("legal form"), max_length=8, choices=LegalForm.choices, default=LegalForm.OTHER)
    sni_system = models.CharField(_("industry code system"), max_length=16, default="SNI2007")
    sni_primary = models.CharField(_("primary SNI code"), max_length=5, blank=True)
    sni_secondary = models.JSONField(_("secondary SNI codes"), default=list, blank=True)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="companies",
    )
    street_address = models.CharField(_("street address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    postal_city = models.CharField(_("city"), max_length=100, blank=True)
    mailing_address = models.TextField(_("mailing address (if different)"), blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CompanyStatus.choices, default=CompanyStatus.PROSPECT
    )
    growth_ambition = models.BooleanField(_("growth ambition"), null=True, blank=True)
    growth_ambition_notes = models.TextField(_("growth ambition, in the company's words"), blank=True)
    owner_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner advisor"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="owned_companies",
    )
    is_public_body = models.BooleanField(_("public body"), default=False)
    is_exempt_investor = models.BooleanField(
        _("exempt investor (Art. 3(2))"),
        default=False,
        help_text=_("Venture capital, business angel, university, institutional investor or small local authority."),
    )
    # Cached result of the SME rule, refreshed by services whenever its inputs change, so the
    # register can filter on it over a million rows.
    size_class = models.CharField(_("size class"), max_length=6, choices=SizeClass.choices, blank=True)
    size_class_year = models.PositiveIntegerField(_("size class year"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="merged_companies",
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Lower-cased name and number, the one column the search index covers.
    search_text = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        permissions = [
            ("archive_company", _("Can archive and restore companies")),
            ("merge_company", _("Can merge duplicate companies")),
            ("import_companies", _("Can import companies")),
            ("export_companies", _("Can export the company list")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(org_number__length=10, org_number__gte="0000000000", org_number__lte="9999999999"),
                name="company_org_number_ten_digits",
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="company_not_merged_into_self"),
        ]
        indexes = [
            # Covering: a name search walks it testing search_text (and status) without reading rows.
            models.Index(fields=["name", "id", "search_text", "status"], name="company_name_idx"),
            models.Index(fields=["updated_at", "id"], name="company_updated_idx"),
            models.Index(fields=["sni_primary"], name="company_sni_idx"),
            models.Index(fields=["status", "name"], name="company_status_idx"),
            models.Index(fields=["municipality", "name"], name="company_muni_idx"),
            models.Index(fields=["size_class", "name"], name="company_size_idx"),
            models.Index(fields=["owner_advisor", "name"], name="company_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.org_number_display})"

    @property
    def org_number_display(self) -> str:
        return f"{self.org_number[:6]}-{self.org_number[6:]}"

    @property
    def is_archived(self) -> bool:
        return self.status == CompanyStatus.ARCHIVED


class KeyFigures(TimestampedModel):
    """Nyckeltal for one accounting year (räkenskapsår)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="key_figures")
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    staff_awu = models.DecimalField(_("staff (annual work units)"), max_digits=9, decimal_places=2, null=True, blank=True)
    turnover_sek = models.DecimalField(_("turnover (SEK)"), max_digits=16, decimal_places=2, null=True, blank=True)
    balance_sheet_sek = models.DecimalField(
        _("balance-sheet total (SEK)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    estimated = models.BooleanField(_("estimated"), default=False)

    class Meta:
        verbose_name = _("key figures")
        verbose_name_plural = _("key figures")
        ordering = ["company", "-fiscal_year"]
        constraints = [
            models.UniqueConstraint(fields=["company", "fiscal_year"], name="keyfigures_one_per_year"),
            models.CheckConstraint(condition=Q(fiscal_year__gte=1900, fiscal_year__lte=2100), name="keyfigures_year_range"),
            models.CheckConstraint(condition=Q(staff_awu__gte=0) | Q(staff_awu__isnull=True), name="keyfigures_staff_nonneg"),
            models.CheckConstraint(
                condition=Q(turnover_sek__gte=0) | Q(turnover_sek__isnull=True), name="keyfigures_turnover_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(balance_sheet_sek__gte=0) | Q(balance_sheet_sek__isnull=True),
                name="keyfigures_balance_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company.name} {self.fiscal_year}"


class OwnershipLink(TimestampedModel):
    """Holder owns a share of held (ägarandel), possibly with control (bestämmande inflytande)."""

    holder = models.ForeignKey(Company, verbose_name=_("holder"), on_delete=models.CASCADE, related_name="holdings")
    held = models.ForeignKey(Company, verbose_name=_("held"), on_delete=models.CASCADE, related_name="owners")
    capital_pct = models.DecimalField(_("capital %"), max_digits=5, decimal_places=2)
    voting_pct = models.DecimalField(_("voting %"), max_digits=5, decimal_places=2)
    controls = models.BooleanField(
        _("controls"),
        default=False,
        help_text=_("Board-appointment right, dominant influence by contract or control by shareholder agreement."),
    )
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("ownership link")
        verbose_name_plural = _("ownership links")
        ordering = ["held", "-voting_pct"]
        constraints = [
            models.UniqueConstraint(fields=["holder", "held"], name="ownership_unique_pair"),
            models.CheckConstraint(condition=~Q(holder=models.F("held")), name="ownership_not_self"),
            models.CheckConstraint(condition=Q(capital_pct__gte=0, capital_pct__lte=100), name="ownership_capital_pct"),
            models.CheckConstraint(condition=Q(voting_pct__gte=0, voting_pct__lte=100), name="ownership_voting_pct"),
        ]

    def __str__(self) -> str:
        return f"{self.holder.name} → {self.held.name} ({self.voting_pct} %)"

    @property
    def is_control(self) -> bool:
        return self.controls or self.voting_pct > 50


class LegalBasis(models.TextChoices):
    """Rättslig grund for processing a contact's personal data (GDPR Art. 6)."""

    CONSENT = "consent", _("Consent")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")


class Contact(TimestampedModel):
    """A person at a company (kontaktperson)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    consent_date = models.DateField(_("consent given on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    opted_out_at = models.DateTimeField(_("opted out of mailings"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["company", "name"]
        permissions = [
            ("view_contact_notes", _("Can read contact notes")),
            ("export_contact_data", _("Can export a contact's personal data")),
            ("erase_contact", _("Can erase (anonymise) a contact")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(legal_basis="consent") | Q(consent_date__isnull=False) | Q(erased_at__isnull=False),
                name="contact_consent_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.archived_at is None and self.erased_at is None


class CompanyRepresentative(models.Model):
    """Links a user account to the company it represents (company portal access)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="represented")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="representatives")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("company representative")
        verbose_name_plural = _("company representatives")
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="representative_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.company.name}"


class NotDuplicate(models.Model):
    """Two companies an administrator has judged not to be duplicates (a dismissed flag)."""

    first = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="notduplicate_unique"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="notduplicate_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"
