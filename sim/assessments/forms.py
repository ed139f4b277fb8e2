"""Forms of assessments: parse what the browser sends; the services and rules validate and save.

Answers are not Django form fields (the questions are data): `raw_answer` reads one question's
input from the POST data and turns what a person types (Swedish decimal comma, spaces between
thousands) into the raw value `rules.validate_answer` expects.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sim.companies.models import Contact

from .models import AssessmentPhase
from .schema import NUMERIC_TYPES, Question

CHOICE_TYPES = frozenset({"scale", "single_choice", "multiple_choice"})


# --- Answers --------------------------------------------------------------------------------


class AnswerInputError(ValueError):
    """Input that cannot be read as an answer at all (before the rules look at it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def field_name(question_id: str) -> str:
    return f"q-{question_id}"


def version_name(question_id: str) -> str:
    return f"version-{question_id}"


_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f']+")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3})+")
_GROUPED_DOT = re.compile(r"[+-]?\d{1,3}(\.\d{3}){2,}")
_UNIT_SUFFIX = re.compile(r"(%|kr|sek|:-)$", re.IGNORECASE)


def parse_number(text: str) -> str:
    """A number as typed (``"1 250 000,50"``, ``"12,5 %"``, ``"1,250,000.50"``) → ``"1250000.50"``.

    A single comma is a decimal comma (Swedish); spaces and apostrophes between digit groups are
    dropped. The result is a plain decimal string for `rules.validate_answer`, which checks the
    range and the number of decimals. Raises `AnswerInputError` for anything else.
    """
    value = _SPACES.sub("", text or "").replace("\u2212", "-")
    value = _UNIT_SUFFIX.sub("", value)
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):  # 1.250.000,50
            value = value.replace(".", "").replace(",", ".")
        else:  # 1,250,000.50
            value = value.replace(",", "")
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    elif _GROUPED_COMMA.fullmatch(value):
        value = value.replace(",", "")
    elif _GROUPED_DOT.fullmatch(value):
        value = value.replace(".", "")
    if not _PLAIN.fullmatch(value):
        raise AnswerInputError(gettext("Enter a number, for example 1 250 000,50."))
    return value


def format_number(value: Any, language: str | None, *, grouping: bool = True, space: str = "\u00a0") -> str:
    """A stored decimal string for people: decimal comma in Swedish, digits grouped by three."""
    if value is None or value == "":
        return ""
    text = format(Decimal(str(value)), "f")
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    whole, _dot, fraction = text.partition(".")
    if grouping and len(whole) > 4:
        groups = []
        while whole:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = space.join(groups)
    separator = "." if (language or "sv").lower().startswith("en") else ","
    return sign + whole + (separator + fraction if fraction else "")


def cleared(question: Question, data) -> bool:
    """The person pressed "Clear answer" for this question."""
    return data.get("clear") == question.id


def raw_answer(question: Question, data) -> Any:
    """The value of one question in POST data, ready for `services.assessment_answer`.

    An empty value means "no answer" (the service then removes a stored answer).
    """
    if cleared(question, data):
        return None
    name = field_name(question.id)
    if question.type == "multiple_choice":
        return [value for value in data.getlist(name) if value.strip()]
    value = data.get(name, "")
    if question.type in NUMERIC_TYPES:
        return parse_number(value) if value.strip() else ""
    return value


def submitted_value(question: Question, data) -> Any:
    """What the person sent, to show it again next to an error (never normalised)."""
    if cleared(question, data):
        return [] if question.type in CHOICE_TYPES else ""
    name = field_name(question.id)
    if question.type in CHOICE_TYPES:
        return data.getlist(name)
    return data.get(name, "")


def expected_version(question: Question, data) -> int:
    """The answer version the page was loaded with; a missing or garbled one counts as 0 (never blind overwrite)."""
    try:
        return max(0, int(data.get(version_name(question.id), "0")))
    except (TypeError, ValueError):
        return 0


def was_rendered(question: Question, data) -> bool:
    """Whether the submitted page had this question (each rendered question sends its version)."""
    return version_name(question.id) in data


# --- Starting, details, corrections ---------------------------------------------------------


class StartForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Instrument"))
    phase = forms.ChoiceField(label=_("Phase"), choices=AssessmentPhase.choices, initial=AssessmentPhase.T0)
    conducted_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, instruments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [(i.key, f"{i.title} (v{i.version})") for i in instruments]
        self.fields["conducted_on"].initial = timezone.localdate

    def _post_clean(self):  # the service validates
        pass


class DetailsForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=AssessmentPhase.choices)
    conducted_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    notes = forms.CharField(
        label=_("Advisor's notes"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Internal: never shown to the company or to auditors."),
    )

    def __init__(self, *args, show_notes: bool = True, locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_notes:
            del self.fields["notes"]
        if locked:
            del self.fields["phase"]
            del self.fields["conducted_on"]

    def service_kwargs(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("notes", "phase", "conducted_on") if key in self.fields}


class CorrectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Saved with the new revision and shown to everyone who reads it."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the assessment is corrected."))
        return reason


class InviteForm(forms.Form):
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False, empty_label=_("— type an e-mail address instead —"),
    )
    email = forms.EmailField(
        label=_("E-mail address"), required=False,
        help_text=_("Leave empty to use the chosen contact's address."),
    )
    valid_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=90, initial=14)

    def __init__(self, *args, company=None, **kwargs):
        super().__init__(*args, **kwargs)
        if company is not None:
            self.fields["contact"].queryset = (
                company.contacts.filter(archived_at__isnull=True, erased_at__isnull=True).exclude(email="").order_by("name")
            )
        self.fields["contact"].label_from_instance = lambda c: f"{c.name} <{c.email}>"

    def clean(self):
        data = super().clean()
        contact, email = data.get("contact"), (data.get("email") or "").strip()
        if not email and contact is not None:
            email = contact.email
        if not email and "email" not in self.errors:
            raise ValidationError(_("Choose a contact or type an e-mail address."))
        data["email"] = email
        return data
