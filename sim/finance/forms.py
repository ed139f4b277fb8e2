"""Forms of budgets: scenarios, copying one, financing sources, and reading a budget cell.

They parse what a person types (a Swedish decimal comma, spaces between thousands); the services
validate and save.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sim.assessments.forms_results import DecimalCommaField

from .models import BudgetScenario, FinancingSource
from .services import SCENARIO_FIELDS


def _date(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class _ServiceForm(forms.ModelForm):
    def _post_clean(self):
        # Model validation happens in the service.
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class ScenarioForm(_ServiceForm):
    # xgettext:no-python-format
    indirect_rate_pct = DecimalCommaField(label=_("Indirect costs, % of staff costs"), min_value=0, max_value=100,
                                          max_digits=5, decimal_places=2,
                                          # xgettext:no-python-format
                                          help_text=_("Flat rate on staff costs (e.g. 15 % under the ERDF simplified cost options)."))
    company_share_target_pct = DecimalCommaField(label=_("Target share of costs reaching companies (%)"), min_value=0,
                                                 max_value=100, max_digits=5, decimal_places=2)
    advisor_company_facing_pct = DecimalCommaField(
        label=_("Company-facing share of advisor time (%)"), min_value=0, max_value=100, max_digits=5, decimal_places=2,
        help_text=_("The part of staff costs counted as reaching companies."))
    in_kind_hourly_rate_sek = DecimalCommaField(
        label=_("Standard hourly rate for company staff hours (SEK)"), min_value=0, max_digits=8, decimal_places=2,
        help_text=_("Values the companies' own hours: in-kind financing and co-financing achieved."))

    class Meta:
        model = BudgetScenario
        fields = list(SCENARIO_FIELDS)
        widgets = {"start_date": _date(), "end_date": _date(), "description": forms.Textarea(attrs={"rows": 3})}


class ScenarioCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the new scenario"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = forms.DateField(label=_("From"), widget=_date())
    end_date = forms.DateField(label=_("To"), widget=_date(),
                               help_text=_("Extend the period to add a year; the budget lines are copied as they are."))


class FinancingSourceForm(_ServiceForm):
    amount_sek = DecimalCommaField(label=_("Amount (SEK)"), required=False, min_value=0, max_digits=14, decimal_places=2)
    # xgettext:no-python-format
    rate_pct = DecimalCommaField(label=_("Rate (% of eligible costs)"), required=False, min_value=0, max_value=100,
                                 max_digits=5, decimal_places=2,
                                 help_text=_("E.g. the ERDF's co-financing rate; the amount follows from the budget."))
    hours = DecimalCommaField(label=_("Hours (in kind)"), required=False, min_value=0, max_digits=10, decimal_places=1,
                              help_text=_("Company staff hours, valued at the scenario's standard hourly rate."))

    class Meta:
        model = FinancingSource
        fields = ["kind", "name", "amount_sek", "rate_pct", "hours"]

    def clean(self):
        data = super().clean()
        given = [name for name in ("amount_sek", "rate_pct", "hours") if data.get(name) is not None]
        if len(given) > 1:
            raise ValidationError(_("Give exactly one of: an amount, a rate of the eligible budget, or hours in kind."))
        return data


_AMOUNT = DecimalCommaField(required=False, min_value=0, max_digits=14, decimal_places=2,
                           error_messages={"min_value": _("A budget amount cannot be negative.")})


def parse_amount(text: str | None) -> Decimal | None:
    """A budget amount as typed ("1 250 000", "12,5"); ``None`` for an empty cell. Raises ``ValidationError``."""
    return _AMOUNT.clean(text)


def show_amount(value: Decimal | None) -> str:
    """A stored amount as it goes back into an input (no trailing zeros, a decimal comma in Swedish)."""
    if value is None:
        return ""
    return str(_AMOUNT.prepare_value(value))
