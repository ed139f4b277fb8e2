"""Forms of referrals, interventions and follow-ups. They parse input; the services validate and save."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.assessments.forms_results import DecimalCommaField

from .models import FocusArea, InterventionStatus, Offer, Organisation, Project, ReferralStatus, SupportForm
from .services import DECISION_TYPES


def _date(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def _people(projects):
    return get_user_model().objects.filter(project_memberships__project__in=projects, is_active=True).distinct().order_by(
        "first_name", "last_name", "username"
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class OfferChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} ({obj.project.code})"


ACCEPT_DECISION = ",".join(sorted(DECISION_TYPES))


# --- Referrals ------------------------------------------------------------------------------


class ReferralCreateForm(forms.Form):
    offer = OfferChoiceField(label=_("Offer"), queryset=Offer.objects.none(), empty_label=_("Choose an offer"))
    advisor = PersonChoiceField(label=_("Responsible advisor"), queryset=get_user_model().objects.none())
    proposed_on = forms.DateField(label=_("Proposed on"), widget=_date(), initial=timezone.localdate)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, projects, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = (
            Offer.objects.filter(project__in=projects, active=True).select_related("project").order_by("project__code", "title_sv")
        )
        self.fields["advisor"].queryset = _people(projects)
        if user.pk and not self.is_bound:
            self.initial.setdefault("advisor", user.pk)


class ReferralMoveForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ReferralStatus.choices)
    on = forms.DateField(label=_("Date"), required=False, widget=_date())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReferralEditForm(forms.Form):
    advisor = PersonChoiceField(label=_("Responsible advisor"), queryset=get_user_model().objects.none())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = _people([project])


# --- Interventions --------------------------------------------------------------------------


class GoalChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        target = ""
        if obj.target is not None:
            target = f" – {obj.get_metric_display()}: {obj.baseline if obj.baseline is not None else '…'} → {obj.target}"
            if obj.unit:
                target += f" {obj.unit}"
        return f"{obj.title}{target} ({obj.plan.title})"


class InterventionForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=255)
    focus_area = forms.ModelChoiceField(label=_("Focus area"), queryset=FocusArea.objects.filter(active=True), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Organisation.objects.all(), required=False,
                                      help_text=_("A consultant or organisation in the register…"))
    provider_name = forms.CharField(label=_("Provider (if not in the register)"), max_length=255, required=False,
                                    help_text=_("…or its name."))
    start_date = forms.DateField(label=_("Start"), required=False, widget=_date())
    end_date = forms.DateField(label=_("End"), required=False, widget=_date())
    budget_sek = DecimalCommaField(label=_("Budget (SEK)"), min_value=0, max_digits=14, decimal_places=2)
    own_cash_sek = DecimalCommaField(label=_("Company's own contribution, cash (SEK)"), min_value=0, max_digits=14,
                                     decimal_places=2, required=False)
    own_hours = DecimalCommaField(label=_("Company's own contribution, hours"), min_value=0, max_digits=8,
                                  decimal_places=1, required=False)
    support_form = forms.ChoiceField(label=_("Form of support"), choices=SupportForm.choices)
    is_state_aid = forms.BooleanField(label=_("State aid (de minimis)"), required=False)
    aid_amount_sek = DecimalCommaField(
        label=_("Aid amount, gross grant equivalent (SEK)"), min_value=0, max_digits=14, decimal_places=2, required=False,
        help_text=_("Checked against the de minimis ceiling on approval."),
    )
    deliverables = forms.CharField(label=_("Deliverables"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    results = forms.CharField(label=_("Results"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    growth_goals = GoalChoiceField(
        label=_("Growth-plan goals it serves"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, projects, goals, locked: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["growth_goals"].queryset = goals
        for name in locked:
            if name in self.fields:
                self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        for name in ("own_cash_sek", "own_hours"):
            if data.get(name) is None and name in self.fields and not self.fields[name].disabled:
                data[name] = 0
        return data

    def service_data(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "project" and not self.fields[name].disabled}
        data["growth_goals"] = list(self.cleaned_data.get("growth_goals") or [])
        return data


class InterventionApproveForm(forms.Form):
    approved_on = forms.DateField(label=_("Decision date"), widget=_date(), initial=timezone.localdate)
    decision_document = forms.FileField(
        label=_("Decision document"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_DECISION}),
        help_text=_("PDF, image or office document, at most 10 MB."),
    )


class DecisionDocumentForm(forms.Form):
    decision_document = forms.FileField(
        label=_("Decision document"), widget=forms.FileInput(attrs={"accept": ACCEPT_DECISION}),
        help_text=_("PDF, image or office document, at most 10 MB."),
    )


class InterventionMoveForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=InterventionStatus.choices)
    on = forms.DateField(label=_("Date"), required=False, widget=_date())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# --- Follow-ups -----------------------------------------------------------------------------


class FollowUpForm(forms.Form):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Task"), max_length=255, help_text=_("e.g. Call back after the board meeting"))
    due_on = forms.DateField(label=_("Due"), widget=_date())
    assigned_to = PersonChoiceField(label=_("Assigned to"), queryset=get_user_model().objects.none())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, projects, user, current_project=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["assigned_to"].queryset = _people(projects)
        if not self.is_bound:
            self.initial.setdefault("assigned_to", user.pk)
            if current_project is not None:
                self.initial.setdefault("project", current_project.pk)
