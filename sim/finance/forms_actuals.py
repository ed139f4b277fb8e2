"""Forms of the actuals. They parse input; the services in :mod:`.services_actuals` check the rules."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.companies.importer import ValueProblem, parse_decimal
from sim.companies.models import Company
from sim.companies.rules import InvalidOrgNumber, parse_org_number
from sim.programmes.models import Intervention, Project, ProjectPartner

from . import rules_actuals as rules
from .models import CostCategory, StaffRate
from .services_actuals import COSTED_INTERVENTION_STATUSES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


def entry_category_choices() -> list[tuple[str, str]]:
    labels = dict(CostCategory.choices)
    return [(code, labels[code]) for code in rules.ENTRY_CATEGORIES]


def _partner_label(partner: ProjectPartner) -> str:
    return f"{partner.organisation.name} ({partner.get_role_display().lower()})"


def _user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class AmountField(forms.CharField):
    """An amount in SEK written the Swedish or the English way (``12 500,50``, ``12500.50``, ``-1 250``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "30"})

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > 30:
            raise forms.ValidationError(_("Enter an amount, e.g. 12 500,50."), code="invalid")
        try:
            return parse_decimal(text)
        except ValueProblem:
            raise forms.ValidationError(_("Enter an amount, e.g. 12 500,50."), code="invalid") from None


class MonthField(forms.DateField):
    """A month (``2024-03``, or any date in it) → its first day."""

    widget = MONTH

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return rules.month_start(value)
        try:
            return rules.parse_month(str(value))
        except rules.RuleError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


def project_partners(project: Project):
    return ProjectPartner.objects.filter(project=project).select_related("organisation").order_by("role", "organisation__name")


def costed_interventions(project: Project):
    return (Intervention.objects.filter(project=project, status__in=COSTED_INTERVENTION_STATUSES)
            .select_related("company").order_by("company__name", "title"))


class CostEntryForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    voucher = forms.CharField(label=_("Voucher / verification number"), max_length=64)
    category = forms.ChoiceField(label=_("Cost category"))
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=ProjectPartner.objects.none(), required=False,
                                     help_text=_("Whose cost it is; the project owner when left empty."))
    amount_sek = AmountField(label=_("Amount (SEK)"), help_text=_("Negative for a credit (e.g. a credit note)."))
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    intervention = forms.ModelChoiceField(label=_("Company-specific intervention"), queryset=Intervention.objects.none(),
                                          required=False)
    company = forms.CharField(label=_("Company (organisation number)"), max_length=20, required=False,
                              help_text=_("For a cost for one company without an intervention."))

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["category"].choices = [("", "—"), *entry_category_choices()]
        self.fields["partner"].queryset = project_partners(project)
        self.fields["partner"].label_from_instance = _partner_label
        self.fields["intervention"].queryset = costed_interventions(project)
        self.fields["intervention"].label_from_instance = lambda iv: f"#{iv.pk} {iv.title} – {iv.company.name}"
        self.fields["date"].initial = timezone.localdate()

    def clean_company(self):
        text = self.cleaned_data.get("company", "").strip()
        if not text:
            return None
        try:
            org = parse_org_number(text)
        except InvalidOrgNumber as exc:
            raise forms.ValidationError(str(exc)) from None
        company = Company.objects.filter(org_number=org.digits).first()
        if company is None:
            raise forms.ValidationError(_("No company with this organisation number in the register."))
        return company


class ReversalForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200,
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
    on = forms.DateField(label=_("Date of the correction"), widget=DATE, required=False,
                         help_text=_("Today when left empty."))
    voucher = forms.CharField(label=_("Voucher of the correction"), max_length=64, required=False,
                              help_text=_("The original voucher number when left empty."))


class CostFilterForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False)
    partner = forms.ModelChoiceField(label=_("Partner"), queryset=ProjectPartner.objects.none(), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)
    q = forms.CharField(label=_("Voucher or text"), required=False, max_length=100)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All")), *entry_category_choices()]
        self.fields["partner"].queryset = project_partners(project)
        self.fields["partner"].label_from_instance = _partner_label
        self.fields["partner"].empty_label = _("All")


class CostImportForm(forms.Form):
    file = forms.FileField(label=_("Accounting export (CSV or Excel)"))

    def __init__(self, *args, max_mb: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb
        self.fields["file"].widget.attrs["accept"] = (
            ".csv,.txt,.tsv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.fields["file"].help_text = _(
            "A CSV file (comma, semicolon or tab separated) or an Excel workbook (.xlsx, first sheet), at most "
            "%(max)d MB. The first row holds the column headings.") % {"max": max_mb}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > self.max_mb * 1024 * 1024:
            raise forms.ValidationError(_("The file is too large: at most %(max)d MB.") % {"max": self.max_mb})
        if not upload.size:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class StaffRateForm(forms.ModelForm):
    class Meta:
        model = StaffRate
        fields = ["person", "partner", "valid_from", "monthly_salary_sek", "overhead_pct", "annual_hours"]
        widgets = {"valid_from": DATE}
        localized_fields = ["monthly_salary_sek", "overhead_pct", "annual_hours"]

    def __init__(self, *args, project: Project, staff, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = staff
        self.fields["person"].label_from_instance = _user_label
        self.fields["person"].label = _("Person")
        self.fields["partner"].queryset = project_partners(project)
        self.fields["partner"].label_from_instance = _partner_label
        self.fields["partner"].label = _("Partner")
        self.fields["partner"].help_text = _("The employer; the partner of the person's membership when left empty.")
        if self.instance.pk:
            self.fields["person"].disabled = True


class TimeMonthForm(forms.Form):
    """Whose month to report."""

    person = forms.ModelChoiceField(label=_("Person"), queryset=None)
    month = MonthField(label=_("Month"))

    def __init__(self, *args, staff, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = staff
        self.fields["person"].label_from_instance = _user_label


class TimeGridForm(forms.Form):
    """Hours per focus area of one person's month (and hours not tied to a focus area)."""

    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, areas, existing, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.areas = list(areas)
        self.rows: list[tuple[object | None, str]] = []
        for area in [*self.areas, None]:
            name = f"hours_{area.pk if area is not None else 'general'}"
            report = existing.get(area.pk if area is not None else None)
            self.fields[name] = forms.CharField(
                label=area.name if area is not None else _("Not tied to a focus area (management, administration)"),
                required=False, max_length=10,
                initial=format(report.hours.normalize(), "f") if report is not None else "",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6, "autocomplete": "off"}),
            )
            self.rows.append((area, name))
        notes = {r.note for r in existing.values() if r.note}
        if notes:
            self.fields["note"].initial = sorted(notes)[0]

    def hours(self) -> dict[int | None, str]:
        return {area.pk if area is not None else None: self.cleaned_data.get(name, "") for area, name in self.rows}

    def bound_rows(self):
        return [(area, self[name]) for area, name in self.rows]


class TimeFilterForm(forms.Form):
    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("To month"), required=False)
    person = forms.ModelChoiceField(label=_("Person"), queryset=None, required=False)

    def __init__(self, *args, staff, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = staff
        self.fields["person"].label_from_instance = _user_label
        self.fields["person"].empty_label = _("All")
