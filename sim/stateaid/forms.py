"""Forms of the de minimis ledger pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.companies.models import Company
from sim.companies.rules import InvalidOrgNumber, parse_org_number
from sim.programmes.models import Offer
from sim.programmes.projects import projects_for

from .models import AwardStatus, Regulation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT = {"max_digits": 14, "decimal_places": 2, "min_value": 0, "required": False}


class LedgerFilterForm(forms.Form):
    q = forms.CharField(label=_("Company, measure or authority"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *AwardStatus.choices])
    regulation = forms.ChoiceField(label=_("Regulation"), required=False, choices=[("", _("All")), *Regulation.choices])
    declared = forms.ChoiceField(label=_("Declared by the company"), required=False, choices=[
        ("", _("All")), ("yes", _("Declared only")), ("no", _("Our awards only"))])
    date_from = forms.DateField(label=_("Granted from"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("Granted to"), required=False, widget=DATE)


class _AmountsMixin:
    def clean(self):
        data = super().clean()
        sek, eur = data.get("amount_sek"), data.get("amount_eur")
        amounts_valid = "amount_sek" not in self.errors and "amount_eur" not in self.errors
        if amounts_valid and (sek is None) == (eur is None):
            raise ValidationError(_("Give the amount in SEK or in EUR (one of them)."))
        return data


class AwardForm(_AmountsMixin, forms.Form):
    status = forms.ChoiceField(label=_("Record as"), choices=[
        (AwardStatus.GRANTED, _("Granted (decided)")), (AwardStatus.PROPOSED, _("Proposed (not yet decided)"))])
    granting_authority = forms.CharField(label=_("Granting authority"), max_length=255)
    measure = forms.CharField(label=_("Measure"), max_length=255)
    offer = forms.ModelChoiceField(label=_("Offer (if the aid is for one)"), queryset=Offer.objects.none(),
                                   required=False)
    granted_on = forms.DateField(label=_("Date of granting"), widget=DATE)
    amount_sek = forms.DecimalField(label=_("Amount (SEK)"), **AMOUNT)
    amount_eur = forms.DecimalField(label=_("or amount (EUR)"), **AMOUNT)
    document = forms.FileField(label=_("Document (decision)"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["offer"].queryset = Offer.objects.filter(project__in=projects_for(user)).order_by("title_sv")


class DeclarationForm(_AmountsMixin, forms.Form):
    granting_authority = forms.CharField(label=_("Granting authority"), max_length=255,
                                         help_text=_("Who granted the aid, e.g. Tillväxtverket or a municipality."))
    measure = forms.CharField(label=_("What the aid was for"), max_length=255)
    granted_on = forms.DateField(label=_("Date of granting"), widget=DATE,
                                 help_text=_("The date of the decision, as on the certificate."))
    amount_sek = forms.DecimalField(label=_("Amount (SEK)"), **AMOUNT)
    amount_eur = forms.DecimalField(label=_("or amount (EUR)"), **AMOUNT)
    regulation = forms.ChoiceField(label=_("Regulation"), required=False,
                                   choices=[("", _("By the date of granting")), *Regulation.choices])
    document = forms.FileField(label=_("Certificate (PDF or image)"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_granted_on(self):
        day = self.cleaned_data["granted_on"]
        if day > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return day


class RevokeForm(forms.Form):
    on = forms.DateField(label=_("Revoked on"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class GrantProposalForm(forms.Form):
    on = forms.DateField(label=_("Date of granting"), widget=DATE, initial=timezone.localdate)


class CheckForm(_AmountsMixin, forms.Form):
    company = forms.CharField(label=_("Company (organisation number)"), max_length=13)
    on = forms.DateField(label=_("Date of granting"), widget=DATE, initial=timezone.localdate)
    amount_sek = forms.DecimalField(label=_("Amount (SEK)"), **AMOUNT)
    amount_eur = forms.DecimalField(label=_("or amount (EUR)"), **AMOUNT)

    def __init__(self, *args, companies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.companies = companies if companies is not None else Company.objects.all()

    def clean_company(self):
        text = self.cleaned_data["company"].strip()
        try:
            number = parse_org_number(text)
        except InvalidOrgNumber as exc:
            raise ValidationError(str(exc)) from None
        company = self.companies.filter(org_number=number.digits).first()
        if company is None:
            raise ValidationError(_("No company with the organisation number %(number)s in the register.") % {
                "number": text})
        return company


class RateImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "Columns date;sek_per_eur (and optionally source), a header row first, e.g. 2025-01-02;11,4865;Riksbanken."))


class ProfileForm(forms.Form):
    road_freight = forms.BooleanField(label=_("Road freight transport for hire or reward"), required=False)
    fiscal_year_start = forms.CharField(label=_("Fiscal year starts (MM-DD)"), max_length=5, initial="01-01")
