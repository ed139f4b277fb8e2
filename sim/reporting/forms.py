"""Forms of indicators: they read what a person types (the services validate and save)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import catalogue


class SetForm(forms.Form):
    set_key = forms.ChoiceField(label=_("Indicator set"), choices=())
    new_enterprise_years = forms.IntegerField(
        label=_("Years after registration an enterprise counts as new"), min_value=1, max_value=10, initial=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["set_key"].choices = catalogue.set_choices()


class TargetForm(forms.Form):
    target = forms.CharField(label=_("Target"), required=False, max_length=20,
                             help_text=_("The value to reach by the end of the project; empty for none."))
    milestones = forms.CharField(
        label=_("Milestones"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: date and cumulative value, e.g. 2025-12-31 40."))

    def clean_milestones(self) -> list[tuple[dt.date, str]]:
        result = []
        for n, line in enumerate(self.cleaned_data["milestones"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace(";", " ").replace("=", " ").split()
            try:
                day = dt.date.fromisoformat(parts[0])
            except (ValueError, IndexError):
                raise ValidationError(_("Line %(n)s: start with a date as YYYY-MM-DD.") % {"n": n}) from None
            if len(parts) != 2:
                raise ValidationError(_("Line %(n)s: give a date and one value.") % {"n": n})
            result.append((day, parts[1]))
        return result


class OwnIndicatorForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16)
    name_sv = forms.CharField(label=_("Name (Swedish)"), max_length=300)
    name_en = forms.CharField(label=_("Name (English)"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=[(u, u) for u in catalogue.UNITS], initial="number")
    definition_sv = forms.CharField(label=_("Definition (Swedish)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    definition_en = forms.CharField(label=_("Definition (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EntryForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    value = forms.CharField(label=_("Value"), max_length=20, help_text=_("A negative value corrects an earlier one."))
    note = forms.CharField(label=_("What the value rests on"), widget=forms.Textarea(attrs={"rows": 2}))
