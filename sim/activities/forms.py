"""Forms of activities and events. They parse input; services validate the rules and save."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sim.companies.models import Contact
from sim.core.roles import Role
from sim.programmes.models import FocusArea, Project, ProjectStatus
from sim.programmes.projects import projects_for

from .models import Activity, Event


def _user_label(user) -> str:
    return user.get_full_name() or user.get_username()


def project_members(project: Project):
    """The project's members who do advisory work (not its auditors or finance officers)."""
    workers = [Role.ADVISOR.value, Role.PROJECT_MANAGER.value, Role.ADMIN.value]
    return (
        get_user_model().objects.filter(project_memberships__project=project, is_active=True)
        .filter(Q(groups__name__in=workers) | Q(is_superuser=True))
        .distinct().order_by("first_name", "last_name", "username")
    )


def open_projects(user):
    """The user's projects that activities can still be recorded in."""
    return projects_for(user).exclude(status=ProjectStatus.CLOSED)


def project_focus_areas(project: Project):
    areas = project.focus_areas.filter(active=True)
    return (areas if areas.exists() else FocusArea.objects.filter(active=True)).order_by("order", "key")


class ActivityForm(forms.ModelForm):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())

    class Meta:
        model = Activity
        fields = ["project", "kind", "date", "hours", "advisors", "contacts", "focus_area", "subject", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "hours": forms.NumberInput(attrs={"step": "0.25", "min": "0.25", "max": "200"}),
            "advisors": forms.CheckboxSelectMultiple,
            "contacts": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, company, projects, project: Project | None, show_notes: bool = True, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["project"].queryset = projects
        if project is not None and not self.instance.pk:
            self.initial.setdefault("project", project.pk)
        if self.instance.pk:
            self.fields["project"].disabled = True
            project = self.instance.project
        chosen = self._chosen_project(project)
        self.fields["advisors"].queryset = (
            project_members(chosen) if chosen else get_user_model().objects.none()
        )
        self.fields["advisors"].label_from_instance = _user_label
        if user is not None and not self.instance.pk:
            self.initial.setdefault("advisors", [user.pk])
        self.fields["contacts"].queryset = Contact.objects.filter(
            company=company, erased_at__isnull=True, archived_at__isnull=True
        ).order_by("name")
        self.fields["contacts"].required = False
        self.fields["focus_area"].queryset = project_focus_areas(chosen) if chosen else FocusArea.objects.none()
        self.fields["date"].initial = timezone.localdate()
        if not show_notes:
            del self.fields["notes"]

    def clean_hours(self):
        hours = self.cleaned_data.get("hours")
        if hours is not None and not (0 < hours <= 200):
            raise forms.ValidationError(_("Hours must be more than 0 and at most %(max)s.") % {"max": 200})
        return hours

    def _chosen_project(self, default: Project | None) -> Project | None:
        raw = self.data.get(self.add_prefix("project")) if self.is_bound else None
        if raw and str(raw).isdigit():
            found = self.fields["project"].queryset.filter(pk=int(raw)).first()
            if found is not None:
                return found
        return default

    def service_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("kind", "date", "hours", "focus_area", "subject", "notes")
                if key in self.cleaned_data}


class QuickActivityForm(ActivityForm):
    """The short form on the company page: the current project preselected, fewer fields."""

    class Meta(ActivityForm.Meta):
        fields = ["project", "kind", "date", "hours", "advisors", "contacts", "focus_area", "subject", "notes"]
        widgets = {**ActivityForm.Meta.widgets, "notes": forms.Textarea(attrs={"rows": 2})}


class ActivityFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Activity.Kind.choices])
    focus_area = forms.ModelChoiceField(label=_("Focus area"), required=False, queryset=FocusArea.objects.none(),
                                        empty_label=_("All focus areas"))
    advisor = forms.ModelChoiceField(label=_("Advisor"), required=False, queryset=None, empty_label=_("Anyone"))
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus_area"].queryset = project_focus_areas(project)
        self.fields["advisor"].queryset = project_members(project)
        self.fields["advisor"].label_from_instance = _user_label


class EventForm(forms.ModelForm):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                                   format="%Y-%m-%dT%H:%M"))
    ends_at = forms.DateTimeField(label=_("Ends"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    class Meta:
        model = Event
        fields = ["title", "kind", "starts_at", "ends_at", "place", "capacity", "description", "focus_areas",
                  "registration_open"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "focus_areas": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus_areas"].queryset = project_focus_areas(project)
        self.fields["focus_areas"].required = False
        self.fields["capacity"].help_text = _("Seats; leave empty for no limit. Registrations beyond it are refused.")
        self.fields["starts_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        self.fields["ends_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        if self.instance.pk:
            for name in ("starts_at", "ends_at"):
                value = getattr(self.instance, name)
                if value is not None:
                    self.initial[name] = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", _("The event cannot end before it starts."))
        return data

    def service_data(self) -> dict:
        return {key: self.cleaned_data.get(key) for key in self.Meta.fields if key != "focus_areas"}


class RegistrationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail"), required=False,
        help_text=_("When it is the address of a contact in the register, the registration is linked to that "
                    "contact and company."),
    )
    org_number = forms.CharField(
        label=_("Organisation number"), required=False, max_length=16,
        help_text=_("Links the registration to a company in the register when the person is not a contact."),
    )
    organisation_name = forms.CharField(label=_("Organisation (if not in the register)"), required=False, max_length=255)

    def clean_org_number(self):
        from sim.companies import rules

        value = (self.cleaned_data.get("org_number") or "").strip()
        if not value:
            return ""
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) == 12:
            digits = digits[2:]
        if len(digits) != 10 or rules.luhn_check_digit(digits[:9]) != digits[9]:
            raise forms.ValidationError(_("Write a valid organisation number, e.g. 556036-0793."))
        return digits


def parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
