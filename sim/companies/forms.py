"""Forms of the register. They parse input; services validate the business rules and save."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sim.core.roles import Role

from . import rules
from .models import (
    Company,
    CompanyStatus,
    Contact,
    KeyFigures,
    LegalBasis,
    LegalForm,
    Municipality,
    SizeClass,
)


def advisor_choices():
    User = get_user_model()
    users = User.objects.filter(
        is_active=True, groups__name__in=[Role.ADVISOR.value, Role.PROJECT_MANAGER.value]
    ).distinct().order_by("first_name", "last_name", "username")
    return users


class CompanyForm(forms.ModelForm):
    org_number = forms.CharField(
        label=_("Organisation number"), max_length=16,
        help_text=_("Ten digits, e.g. 556036-0793. A sole trader's personal identity number is accepted."),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    sni_primary = forms.CharField(label=_("Primary SNI code"), required=False, max_length=8,
                                  help_text=_("SNI 2007, e.g. 25.620 or 25620."))
    sni_secondary = forms.CharField(label=_("Secondary SNI codes"), required=False,
                                    help_text=_("Separate several codes with commas."))
    growth_ambition = forms.NullBooleanField(
        label=_("Growth ambition"), required=False,
        widget=forms.NullBooleanSelect,
    )

    class Meta:
        model = Company
        fields = [
            "org_number", "name", "legal_form", "sni_primary", "sni_secondary", "municipality",
            "street_address", "postal_code", "postal_city", "mailing_address", "website", "phone", "email",
            "registration_date", "status", "growth_ambition", "growth_ambition_notes", "owner_advisor",
            "is_public_body", "is_exempt_investor",
        ]
        widgets = {
            "registration_date": forms.DateInput(attrs={"type": "date"}),
            "mailing_address": forms.Textarea(attrs={"rows": 3}),
            "growth_ambition_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owners = advisor_choices()
        if self.instance.owner_advisor_id:
            # Keep the current owner selectable even if no longer an (active) advisor, or any edit
            # of the company would silently clear it.
            owners = get_user_model().objects.filter(
                Q(pk__in=owners.values("pk")) | Q(pk=self.instance.owner_advisor_id)
            ).order_by("first_name", "last_name", "username")
        self.fields["owner_advisor"].queryset = owners
        self.fields["municipality"].queryset = Municipality.objects.select_related("county").order_by("name")
        self.fields["status"].choices = [c for c in CompanyStatus.choices if c[0] != CompanyStatus.ARCHIVED]
        self.fields["legal_form"].required = False
        self.fields["legal_form"].choices = [("", _("From the organisation number")), *LegalForm.choices]
        if not self.instance.pk:
            self.initial["legal_form"] = ""
        if self.instance.pk:
            self.initial["org_number"] = self.instance.org_number_display
            self.initial["sni_secondary"] = ", ".join(self.instance.sni_secondary or [])

    def clean_org_number(self):
        value = self.cleaned_data["org_number"]
        try:
            return rules.parse_org_number(value).digits
        except rules.InvalidOrgNumber as exc:
            raise ValidationError(str(exc)) from exc

    def clean_sni_secondary(self):
        raw = self.cleaned_data.get("sni_secondary") or ""
        return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]

    def _post_clean(self):
        # Model validation happens in the service, which also knows the reference data.
        pass

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.instance.pk:
            data = {key: value for key, value in data.items() if key in self.changed_data}
        return data


class KeyFiguresForm(forms.ModelForm):
    class Meta:
        model = KeyFigures
        fields = ["fiscal_year", "staff_awu", "turnover_sek", "balance_sheet_sek", "source", "estimated"]

    def _post_clean(self):
        pass


class OwnershipForm(forms.Form):
    DIRECTION_CHOICES = [("owner", _("is owned by")), ("holding", _("owns"))]
    direction = forms.ChoiceField(label=_("This company"), choices=DIRECTION_CHOICES)
    other = forms.CharField(label=_("Other company (organisation number)"), max_length=16)
    capital_pct = forms.DecimalField(label=_("Capital %"), min_value=0, max_value=100, decimal_places=2)
    voting_pct = forms.DecimalField(label=_("Voting %"), min_value=0, max_value=100, decimal_places=2)
    controls = forms.BooleanField(label=_("Controls by agreement or board-appointment right"), required=False)
    source_note = forms.CharField(label=_("Source"), required=False, max_length=100)

    def clean_other(self):
        try:
            digits = rules.parse_org_number(self.cleaned_data["other"]).digits
        except rules.InvalidOrgNumber as exc:
            raise ValidationError(str(exc)) from exc
        company = Company.objects.filter(org_number=digits).first()
        if company is None:
            raise ValidationError(_("No company with this organisation number is in the register. Add it first."))
        return company


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "legal_basis", "consent_date", "notes"]
        widgets = {"consent_date": forms.DateInput(attrs={"type": "date"}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, show_notes: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_basis"].choices = LegalBasis.choices
        if not show_notes:
            del self.fields["notes"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("legal_basis") == LegalBasis.CONSENT and not cleaned.get("consent_date"):
            self.add_error("consent_date", _("Consent needs the date it was given."))
        return cleaned

    def _post_clean(self):
        pass


class ArchiveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class RestoreForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Return to status"),
        choices=[c for c in CompanyStatus.choices if c[0] != CompanyStatus.ARCHIVED],
    )


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(label=_("Keep this record"), widget=forms.RadioSelect)

    def __init__(self, *args, first: Company, second: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.companies = {str(first.pk): first, str(second.pk): second}
        self.fields["survivor"].choices = [(str(c.pk), str(c)) for c in (first, second)]


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"), help_text=_("Columns are described in the import guide."))


SIZE_FILTER_CHOICES = [("", _("All sizes")), *SizeClass.choices, ("unknown", _("Unknown"))]
