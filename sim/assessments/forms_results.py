"""Forms for needs, growth plans, goals and actions. They parse input; the services validate and save."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sim.programmes.models import FocusArea

from .models import GrowthAction, GrowthGoal, GrowthPlan, GrowthPlanStatus, Need, NeedStatus

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


class DecimalCommaField(forms.DecimalField):
    """A decimal that accepts a Swedish decimal comma and spaces between thousands ("1 250 000,50")."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("localize", False)
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = _SPACES.sub("", str(value)).replace("\u2212", "-")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(_("Enter a number, e.g. 1250000 or 12,5."), code="invalid") from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number, e.g. 1250000 or 12,5."), code="invalid")
        return number

    def prepare_value(self, value):
        """Show a stored value without trailing zeros, with a decimal comma in Swedish."""
        if isinstance(value, Decimal):
            text = format(value, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            if (get_language() or "sv").startswith("sv"):
                text = text.replace(".", ",")
            return text
        return value


class _ServiceForm(forms.ModelForm):
    def _post_clean(self):
        # Model validation happens in the service.
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


def _date(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def focus_areas(current: FocusArea | None = None):
    condition = Q(active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return FocusArea.objects.filter(condition).order_by("order", "key")


class NeedForm(_ServiceForm):
    class Meta:
        model = Need
        fields = ["title", "rationale", "priority", "focus_area", "status"]
        widgets = {"rationale": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus_area"].queryset = focus_areas(self.instance.focus_area if self.instance.pk else None)
        self.fields["focus_area"].required = False
        self.fields["priority"].widget.attrs.update({"min": 1, "max": 99})
        self.fields["status"].choices = NeedStatus.choices


class GrowthPlanForm(_ServiceForm):
    class Meta:
        model = GrowthPlan
        fields = ["title", "summary", "status", "period_start", "period_end", "agreed_on", "shared_with_company"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 5}),
            "period_start": _date(),
            "period_end": _date(),
            "agreed_on": _date(),
        }
        help_texts = {
            "shared_with_company": _("The company's representatives can then read the plan and download it as PDF."),
            "agreed_on": _("Set to today when the plan is marked agreed and no date is given."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = GrowthPlanStatus.choices

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The plan cannot end before it starts."))
        return cleaned

    def service_data(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key in self.changed_data}


class GrowthGoalForm(_ServiceForm):
    baseline = DecimalCommaField(label=_("Baseline"), required=False, max_digits=16, decimal_places=2)
    target = DecimalCommaField(label=_("Target"), required=False, max_digits=16, decimal_places=2)

    class Meta:
        model = GrowthGoal
        fields = ["title", "metric", "baseline", "target", "unit", "target_date"]
        widgets = {"target_date": _date()}
        help_texts = {"unit": _("E.g. SEK, %, people. Decimals may be written with a comma.")}


class GrowthActionForm(_ServiceForm):
    class Meta:
        model = GrowthAction
        fields = ["title", "description", "focus_area", "need", "referral", "intervention", "owner", "due_date", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "due_date": _date()}

    def __init__(self, *args, plan: GrowthPlan, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance if self.instance.pk else None
        self.fields["focus_area"].queryset = focus_areas(current.focus_area if current else None)
        self.fields["focus_area"].required = False
        needs = Q(company=plan.company, status=NeedStatus.OPEN)
        if current is not None and current.need_id:
            needs |= Q(pk=current.need_id)
        self.fields["need"].queryset = Need.objects.filter(needs).order_by("priority", "id")
        self.fields["need"].required = False
        # Routing (issue "Offers, recommendations and routing"): link the action to what delivers it.
        from sim.programmes.models import Intervention, InterventionStatus, Referral, ReferralStatus

        self.fields["referral"].queryset = (
            Referral.objects.filter(company=plan.company).exclude(status=ReferralStatus.WITHDRAWN)
            .select_related("offer").order_by("-proposed_on")
        )
        self.fields["referral"].required = False
        self.fields["intervention"].queryset = (
            Intervention.objects.filter(company=plan.company).exclude(status=InterventionStatus.CANCELLED)
            .order_by("-created_at")
        )
        self.fields["intervention"].required = False
