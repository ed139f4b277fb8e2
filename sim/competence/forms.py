"""Forms of competence needs, education offerings and the demand report."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from sim.companies.models import Municipality

from . import rules
from .models import ConceptKind, Horizon, NeedKind, OfferingKind, Urgency


class NeedForm(forms.Form):
    text = forms.CharField(label=_("Need, in the company's words"), max_length=rules.MAX_NEED_TEXT,
                           help_text=_("For example “two CNC operators within a year” or “welder MIG/MAG”."),
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    people = forms.IntegerField(label=_("Number of people"), min_value=1, max_value=1000, initial=1)
    kind = forms.ChoiceField(label=_("Kind"), choices=NeedKind.choices, initial=NeedKind.RECRUIT)
    horizon = forms.ChoiceField(label=_("Time horizon"), choices=Horizon.choices, initial=Horizon.MEDIUM)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.MEDIUM)
    municipality = forms.ModelChoiceField(label=_("Municipality of the workplace"), queryset=Municipality.objects.order_by("name"),
                                          required=False, help_text=_("Empty: the company's municipality."))
    search = forms.CharField(label=_("Find another occupation or skill"), required=False, max_length=200,
                             help_text=_("When no suggestion fits: search the taxonomy by name."))


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("open", _("Open")), ("met", _("Met")), ("withdrawn", _("Withdrawn"))])


def parse_start_dates(value: str) -> list[dt.date]:
    dates = []
    for part in value.replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            dates.append(dt.date.fromisoformat(part))
        except ValueError:
            raise forms.ValidationError(_("“%(value)s” is not a date (write YYYY-MM-DD).") % {"value": part[:20]}) from None
    return sorted(set(dates))


class OfferingForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=255)
    kind = forms.ChoiceField(label=_("Kind"), choices=OfferingKind.choices)
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=Municipality.objects.order_by("name"), required=False)
    distance = forms.BooleanField(label=_("Distance learning"), required=False)
    start_dates = forms.CharField(label=_("Start dates"), required=False,
                                  help_text=_("YYYY-MM-DD, separated by commas. Empty: starts continuously."))
    length_weeks = forms.IntegerField(label=_("Length (weeks)"), min_value=0, max_value=1000, required=False)
    seats = forms.IntegerField(label=_("Seats"), min_value=0, max_value=100000, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("Occupations and skills are suggested from the name and description."))
    url = forms.URLField(label=_("Web page"), required=False, assume_scheme="https")
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        if providers.count() == 1:
            self.fields["provider"].initial = providers.first().pk

    def clean_start_dates(self):
        return parse_start_dates(self.cleaned_data.get("start_dates") or "")

    def clean(self):
        data = super().clean()
        if not data.get("municipality") and not data.get("distance"):
            self.add_error("municipality", _("Give a municipality, or mark the offering as distance learning."))
        return data


class OfferingImportForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=None)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        if providers.count() == 1:
            self.fields["provider"].initial = providers.first().pk


LEVEL_CHOICES = [(rules.LEVEL_CONCEPT, _("Occupation or skill")), (rules.LEVEL_GROUP, _("Occupational group"))]


class ReportFilterForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES, required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)
    horizon = forms.ChoiceField(label=_("Time horizon"), choices=[(rules.ALL, _("All")), *Horizon.choices], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[(rules.ALL, _("All")), *NeedKind.choices], required=False)

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(rules.ALL, _("All areas")), *areas]

    def filters(self):
        from .selectors import ReportFilters

        data = self.cleaned_data if self.is_valid() else {}
        return ReportFilters(level=data.get("level") or rules.LEVEL_CONCEPT, area=data.get("area") or rules.ALL,
                             horizon=data.get("horizon") or rules.ALL, kind=data.get("kind") or rules.ALL)


SUGGEST_KINDS = [("", _("Occupations and skills")), *ConceptKind.choices]


class NeedReferForm(forms.Form):
    """Refer a company to an education offering for one of its needs: in which project, and a note."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=None, empty_label=None,
                                     help_text=_("The referral and its offer belong to this project."))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("Left empty, the note names the need and the number of people."))

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
