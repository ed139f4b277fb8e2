"""Forms of outreach mailings: the message and the saved selection of companies."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sim.activities.models import Event
from sim.companies.forms import SIZE_FILTER_CHOICES, advisor_choices
from sim.companies.models import CompanyStatus, County, LegalBasis, Municipality

from .mailings import DEFAULT_LEGAL_BASES, FILTER_KEYS, Selection
from .models import Mailing, Offer, Project


class MailingForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Plain text. {name} and {company} are replaced by the contact's and the company's name. "
                    "An opt-out link is added to every message."),
    )
    offer = forms.ModelChoiceField(label=_("About the offer"), queryset=Offer.objects.none(), required=False)
    event = forms.ModelChoiceField(label=_("Invitation to the event"), queryset=Event.objects.none(), required=False)
    legal_bases = forms.MultipleChoiceField(
        label=_("Send to contacts whose legal basis is"), choices=LegalBasis.choices,
        widget=forms.CheckboxSelectMultiple, initial=list(DEFAULT_LEGAL_BASES),
        help_text=_("Marketing e-mail to a person needs their consent; contacts in their professional role at a "
                    "company may be written to under legitimate interest. Opted-out contacts never receive mail."),
    )
    # The selection: the register's filters plus two of outreach's own.
    q = forms.CharField(label=_("Name or organisation number"), required=False)
    municipality = forms.ChoiceField(label=_("Municipality"), required=False)
    county = forms.ChoiceField(label=_("County"), required=False)
    sni = forms.CharField(label=_("SNI code begins with"), required=False, max_length=6)
    size_class = forms.ChoiceField(label=_("Size class"), required=False, choices=SIZE_FILTER_CHOICES)
    status = forms.ChoiceField(label=_("Company status"), required=False)
    target_group = forms.ChoiceField(label=_("Target group"), required=False, choices=[
        ("", _("All")), ("yes", _("In the target group")), ("no", _("Outside the target group"))])
    owner = forms.ChoiceField(label=_("Owner advisor"), required=False)
    without_growth_interview = forms.BooleanField(
        label=_("Only companies without a completed growth interview"), required=False)
    offer_suits = forms.ModelChoiceField(
        label=_("Only companies this offer suits"), queryset=Offer.objects.none(), required=False,
        help_text=_("Eligible companies according to the offer's rules, from the recommendations."),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        offers = Offer.objects.filter(project=project).order_by("title_sv")
        self.fields["offer"].queryset = offers
        self.fields["offer_suits"].queryset = offers
        self.fields["event"].queryset = Event.objects.filter(project=project).order_by("-starts_at")
        self.fields["municipality"].choices = [("", _("All municipalities"))] + [
            (m.code, f"{m.name} ({m.county.name})")
            for m in Municipality.objects.select_related("county").order_by("county_id", "name")
        ]
        self.fields["county"].choices = [("", _("All counties"))] + [(c.code, c.name) for c in County.objects.all()]
        self.fields["status"].choices = [("", _("All but archived")), *CompanyStatus.choices]
        self.fields["owner"].choices = [("", _("Anyone")), ("none", _("No owner"))] + [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in advisor_choices()
        ]

    @classmethod
    def initial_for(cls, mailing: Mailing) -> dict:
        selection = Selection.from_json(mailing.selection)
        initial = {
            "subject": mailing.subject, "body": mailing.body, "offer": mailing.offer, "event": mailing.event,
            "legal_bases": selection.legal_bases, "without_growth_interview": selection.without_growth_interview,
            "offer_suits": selection.offer_suits,
        }
        initial.update({key: selection.filters.get(key, "") for key in FILTER_KEYS})
        return initial

    def clean_sni(self):
        value = (self.cleaned_data.get("sni") or "").strip()
        if value and not all(ch.isdigit() or ch == "." for ch in value):
            raise forms.ValidationError(_("Write an SNI code or its beginning, e.g. 25 or 25.62."))
        return value

    def mailing_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("subject", "body", "offer", "event")}

    def selection(self) -> Selection:
        data = self.cleaned_data
        offer = data.get("offer_suits")
        return Selection(
            filters={key: str(data.get(key) or "").strip() for key in FILTER_KEYS if data.get(key)},
            without_growth_interview=bool(data.get("without_growth_interview")),
            offer_suits=offer.pk if offer else None,
            legal_bases=list(data.get("legal_bases") or []),
        )


class BounceForm(forms.Form):
    addresses = forms.CharField(
        label=_("Bounced addresses"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One address per line (or separated by commas), e.g. from the mail server's bounce report."),
    )

    def address_list(self) -> list[str]:
        raw = self.cleaned_data["addresses"].replace(",", "\n").replace(";", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]
