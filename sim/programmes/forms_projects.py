"""Forms of the project pages. They parse input; services_projects validates and saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sim.companies.models import County, Municipality

from .models import FocusArea, Organisation, Project


class ProjectForm(forms.ModelForm):
    new_owner = forms.CharField(
        label=_("…or a new owner organisation"), required=False, max_length=255,
        help_text=_("Write a name to add the organisation (kind: public body) and make it the owner."),
    )

    class Meta:
        model = Project
        fields = [
            "code", "name", "description", "start_date", "end_date", "extended_to", "status", "owner",
            "counties", "municipalities", "focus_areas", "company_support_budget_sek", "min_support_hours",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "extended_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
            "counties": forms.CheckboxSelectMultiple,
            "focus_areas": forms.CheckboxSelectMultiple,
            "municipalities": forms.SelectMultiple(attrs={"size": 10}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].required = False
        self.fields["owner"].queryset = Organisation.objects.order_by("name")
        self.fields["counties"].queryset = County.objects.order_by("code")
        self.fields["municipalities"].queryset = Municipality.objects.select_related("county").order_by("county_id", "name")
        self.fields["municipalities"].label_from_instance = lambda m: f"{m.name} ({m.county.name})"
        self.fields["focus_areas"].queryset = FocusArea.objects.filter(active=True).order_by("order", "key")
        self.fields["code"].help_text = _("Short and unique, letters, digits and hyphens, e.g. sim-2019.")

    def clean(self):
        data = super().clean()
        if not data.get("owner") and not (data.get("new_owner") or "").strip():
            self.add_error("owner", _("Choose the project owner or write the name of a new one."))
        return data

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields if name != "owner"}
        if self.cleaned_data.get("owner"):
            data["owner"] = self.cleaned_data["owner"]
        return data


class PartnerAddForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False,
        help_text=_("An organisation already in the system."),
    )
    new_name = forms.CharField(label=_("…or a new organisation"), max_length=255, required=False)
    new_kind = forms.ChoiceField(label=_("Kind of the new organisation"), choices=Organisation.Kind.choices,
                                 initial=Organisation.Kind.DEVELOPMENT, required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.exclude(
            partnerships__project=project
        ).order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("organisation") and not (data.get("new_name") or "").strip():
            raise forms.ValidationError(_("Choose an organisation or write the name of a new one."))
        if data.get("organisation") and (data.get("new_name") or "").strip():
            raise forms.ValidationError(_("Choose an organisation or write a new name, not both."))
        return data


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=None)
    organisation = forms.ModelChoiceField(
        label=_("Works for"), queryset=Organisation.objects.none(), required=False,
        help_text=_("The partner organisation the person represents in the project."),
    )

    def __init__(self, *args, project: Project, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates
        self.fields["user"].label_from_instance = _user_label
        self.fields["organisation"].queryset = Organisation.objects.filter(partnerships__project=project).order_by("name")


def _user_label(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()
