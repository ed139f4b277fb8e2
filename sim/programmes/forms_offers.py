"""Forms of the offer catalogue: the offer itself and its eligibility editor.

The editor never shows JSON: size classes are checkboxes, SNI codes a short text
("10-33, 62, 71.12"), counties and municipalities lists, score rules rows of
(instrument dimension, minimum, maximum). ``eligibility_json`` turns the editor into the JSON
the service validates and stores; ``eligibility_initial`` does the reverse.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sim.companies.models import County, Municipality, SizeClass

from . import rules
from .models import FocusArea, Offer, Organisation, Project
from .recommendations import instrument_dimension_choices


class OfferForm(forms.ModelForm):
    class Meta:
        model = Offer
        fields = [
            "title_sv", "title_en", "kind", "internal", "provider", "focus_areas", "description_sv", "description_en",
            "support_form", "is_state_aid", "aid_scheme", "typical_value_sek", "typical_hours", "capacity",
            "available_from", "available_to", "contact_name", "contact_email", "active",
        ]
        widgets = {
            "focus_areas": forms.CheckboxSelectMultiple,
            "available_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "available_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description_sv": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        areas = project.focus_areas.all()
        self.fields["focus_areas"].queryset = areas if areas.exists() else FocusArea.objects.filter(active=True)
        self.fields["focus_areas"].to_field_name = "key"
        self.fields["focus_areas"].help_text = _("The themes the offer serves; needs in these focus areas make it fit.")
        self.fields["provider"].queryset = Organisation.objects.order_by("name")
        self.fields["provider"].help_text = _("Leave empty for an offer run by the project itself.")

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name != "focus_areas"}
        data["focus_areas"] = list(self.cleaned_data["focus_areas"])
        return data


def _municipality_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for municipality in Municipality.objects.select_related("county").order_by("county_id", "name"):
        groups.setdefault(f"{municipality.county.name} ({municipality.county_id})", []).append(
            (municipality.code, f"{municipality.name} ({municipality.code})"))
    return list(groups.items())


class EligibilityForm(forms.Form):
    size_classes = forms.MultipleChoiceField(
        label=_("Size classes"), required=False, choices=SizeClass.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every size class."),
    )
    sni = forms.CharField(
        label=_("SNI codes"), required=False, max_length=500,
        help_text=_("Codes and ranges separated by commas, e.g. 10-33, 62, 71.12. Empty: every industry."),
    )
    counties = forms.MultipleChoiceField(
        label=_("Counties served"), required=False, widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    municipalities = forms.MultipleChoiceField(
        label=_("Municipalities served"), required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("A company qualifies when its county or its municipality is chosen. Nothing chosen: anywhere."),
    )
    deminimis_headroom_sek = forms.DecimalField(
        label=_("Required de minimis headroom (SEK)"), required=False, min_value=Decimal("0"), max_digits=14,
        decimal_places=2, help_text=_("The company must have at least this much de minimis aid left. Empty: no requirement."),
    )
    target_group = forms.BooleanField(label=_("Only companies in the target group"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counties"].choices = [(c.code, f"{c.name} ({c.code})") for c in County.objects.order_by("code")]
        self.fields["municipalities"].choices = _municipality_choices()

    def clean_sni(self) -> str:
        value = self.cleaned_data["sni"]
        try:
            parsed = rules.parse_sni_ranges(value)
        except rules.EligibilityError as exc:
            raise forms.ValidationError([message for _path, message in exc.issues]) from exc
        return rules.format_sni_ranges(parsed)


def _dimension_choices() -> list:
    choices: list = [("", _("— choose a dimension —"))]
    for key, title, dimensions in instrument_dimension_choices():
        choices.append((title, [(f"{key}:{dimension}", dim_title) for dimension, dim_title in dimensions]))
    return choices


class ScoreRuleForm(forms.Form):
    dimension = forms.ChoiceField(label=_("Instrument dimension"), required=False)
    min_score = forms.DecimalField(label=_("Minimum score"), required=False, min_value=0, max_value=100, decimal_places=1)
    max_score = forms.DecimalField(label=_("Maximum score"), required=False, min_value=0, max_value=100, decimal_places=1)

    def __init__(self, *args, dimension_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = dimension_choices if dimension_choices is not None else _dimension_choices()

    def clean(self):
        data = super().clean()
        dimension, low, high = data.get("dimension"), data.get("min_score"), data.get("max_score")
        if self.errors:
            return data
        if not dimension and (low is not None or high is not None):
            raise forms.ValidationError(_("Choose the dimension the scores apply to."))
        if dimension and low is None and high is None:
            raise forms.ValidationError(_("Give a minimum, a maximum or both."))
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The minimum is above the maximum."))
        return data


class BaseScoreRuleFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        self._choices = _dimension_choices()
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["dimension_choices"] = self._choices
        return kwargs

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            dimension = form.cleaned_data.get("dimension")
            if not dimension:
                continue
            if dimension in seen:
                raise forms.ValidationError(_("Only one score rule per dimension."))
            seen.add(dimension)


ScoreRuleFormSet = forms.formset_factory(ScoreRuleForm, formset=BaseScoreRuleFormSet, extra=2, max_num=20)


def _number(value: float) -> Decimal:
    return Decimal(str(value)).normalize()


def eligibility_initial(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The editor's initial values from stored JSON (invalid JSON: an empty editor)."""
    try:
        parsed = rules.parse_eligibility(data)
    except rules.EligibilityError:
        parsed = rules.EligibilityRules()
    initial = {
        "size_classes": sorted(parsed.size_classes),
        "sni": rules.format_sni_ranges(parsed.sni),
        "counties": sorted(parsed.counties),
        "municipalities": sorted(parsed.municipalities),
        "deminimis_headroom_sek": parsed.deminimis_headroom_sek,
        "target_group": parsed.target_group,
    }
    scores = [
        {"dimension": f"{rule.instrument}:{rule.dimension}",
         "min_score": None if rule.min is None else _number(rule.min),
         "max_score": None if rule.max is None else _number(rule.max)}
        for rule in parsed.scores
    ]
    return initial, scores


def eligibility_json(form: EligibilityForm, formset: ScoreRuleFormSet) -> dict[str, Any]:
    """The editor's content as eligibility JSON (validated again by the service)."""
    data = form.cleaned_data
    result: dict[str, Any] = {}
    if data["size_classes"]:
        result["size_classes"] = list(data["size_classes"])
    if data["sni"]:
        result["sni"] = [item.strip() for item in data["sni"].split(",") if item.strip()]
    if data["counties"]:
        result["counties"] = list(data["counties"])
    if data["municipalities"]:
        result["municipalities"] = list(data["municipalities"])
    scores = []
    for score_form in formset.forms:
        cleaned = getattr(score_form, "cleaned_data", None) or {}
        if not cleaned.get("dimension"):
            continue
        instrument, _sep, dimension = cleaned["dimension"].partition(":")
        item: dict[str, Any] = {"instrument": instrument, "dimension": dimension}
        if cleaned.get("min_score") is not None:
            item["min"] = str(cleaned["min_score"])
        if cleaned.get("max_score") is not None:
            item["max"] = str(cleaned["max_score"])
        scores.append(item)
    if scores:
        result["scores"] = scores
    if data["deminimis_headroom_sek"] is not None:
        result["deminimis_headroom_sek"] = str(data["deminimis_headroom_sek"])
    if data["target_group"]:
        result["target_group"] = True
    return result
