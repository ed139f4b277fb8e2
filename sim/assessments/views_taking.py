"""Taking an assessment: start, fill in section by section, complete, correct; self-assessment links.

Thin views: parse with `forms`, write through `services`, read through `selectors` and `rules`.

Answers save as you go: every question posts to the answer endpoint with HTMX (`hx-post` on
change) and gets back its status ("Saved", the error, or a conflict) plus the section progress as an
out-of-band swap; when an answer shows or hides questions of the section, the whole question list
comes back instead (`HX-Retarget`). Without JavaScript the section is one ordinary form: Save posts
every question of the section and saves each one (one service call per question).

The company fills in its self-assessment through a personal link without an account: the public
views resolve the secret with `services.self_assessment_link_for` and show that one assessment only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sim.companies import selectors as company_selectors

from . import forms, rules, selectors, services
from .models import Assessment, AssessmentStatus, SelfAssessmentLink
from .schema import NUMERIC_TYPES, Question, Section

VIEW = "assessments.view_assessment"
CHANGE = "assessments.change_assessment"
COMPLETE = "assessments.complete_assessment"
SEND = "assessments.send_self_assessment"
VIEW_TEXT = "assessments.view_assessment_text"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _assessment_or_404(request: HttpRequest, pk: int) -> Assessment:
    assessment = selectors.assessment_for_user(request.user, pk)
    if assessment is None:
        raise Http404(_("No such assessment."))
    return assessment


def _language() -> str:
    return "en" if (get_language() or "sv").lower().startswith("en") else "sv"


def _error_messages(exc: ValidationError, key: str | None = None) -> list[str]:
    if hasattr(exc, "error_dict"):
        found = exc.message_dict
        if key is not None and key in found:
            return found[key]
        return [message for messages_ in found.values() for message in messages_]
    return exc.messages


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- How a page is being filled in: by the advisor, or by the company through its link ------


@dataclass
class Mode:
    assessment: Assessment
    user: Any = None
    link: SelfAssessmentLink | None = None
    secret: str = ""

    @cached_property
    def instrument(self):
        return self.assessment.instrument()

    @property
    def public(self) -> bool:
        return self.link is not None

    @property
    def can_edit(self) -> bool:
        if self.public:
            return self.assessment.status in services.EDITABLE_BY_COMPANY
        return self.user.has_perm(CHANGE) and self.assessment.status in services.EDITABLE_BY_ADVISOR

    @property
    def can_view_text(self) -> bool:
        # The company sees (and writes) its own free-text answers; staff need the permission.
        return self.public or self.user.has_perm(VIEW_TEXT)

    @property
    def actor(self):
        return None if self.public else self.user

    def section_url(self, section_id: str) -> str:
        if self.public:
            return reverse("assessments:self-section", args=[self.secret, section_id])
        return reverse("assessments:fill-section", args=[self.assessment.pk, section_id])

    def answer_url(self, question_id: str) -> str:
        if self.public:
            return reverse("assessments:self-answer", args=[self.secret, question_id])
        return reverse("assessments:answer", args=[self.assessment.pk, question_id])


# --- What the templates get ---------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    checked: bool
    input_id: str


@dataclass
class QuestionView:
    id: str
    type: str
    text: str
    help: str
    required: bool
    name: str
    input_id: str
    version: int
    answer_url: str
    section_url: str
    editable: bool
    hidden: bool  # a free-text answer this user may not read
    answered: bool
    display: str
    value: str = ""
    unit: str = ""
    max_length: int | None = None
    choices: list[Choice] = field(default_factory=list)
    error: str = ""
    conflict: str = ""
    saved: bool = False

    @property
    def is_group(self) -> bool:
        return self.type in forms.CHOICE_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def can_clear(self) -> bool:
        return self.type in ("scale", "single_choice")


_UNSET = object()


def _choices_of(question: Question, language: str) -> list[tuple[str, str]]:
    if question.type == "scale":
        return [(str(level), f"{level} – {label.get(language)}") for level, label in sorted((question.levels or {}).items())]
    return [(option.id, option.label.get(language)) for option in question.options or ()]


def _unit_of(question: Question, language: str) -> str:
    if question.type == "money":
        return "SEK"
    if question.type == "percentage":
        return "%"
    return question.unit.get(language) if question.unit else ""


def display_answer(question: Question, value: Any, language: str) -> str:
    """An answer as people read it (option labels, localised numbers with their unit)."""
    if value is None:
        return ""
    if question.type in forms.CHOICE_TYPES:
        labels = dict(_choices_of(question, language))
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if question.type in NUMERIC_TYPES:
        unit = _unit_of(question, language)
        return forms.format_number(value, language) + (f"\u00a0{unit}" if unit else "")
    return str(value)


def question_view(
    question: Question, mode: Mode, language: str, *, submitted: Any = _UNSET, error: str = "", conflict: str = "",
    saved: bool = False, version: int | None = None,
) -> QuestionView:
    assessment = mode.assessment
    stored = assessment.answers.get(question.id)
    hidden = question.type == "text" and not mode.can_view_text
    view = QuestionView(
        id=question.id, type=question.type, text=question.text.get(language),
        help=question.help.get(language) if question.help else "", required=question.required,
        name=forms.field_name(question.id), input_id=forms.field_name(question.id),
        version=version if version is not None else int(assessment.answer_versions.get(question.id, 0)),
        answer_url=mode.answer_url(question.id),
        section_url=mode.section_url(mode.instrument.section_of(question.id)),
        editable=mode.can_edit and not hidden, hidden=hidden, answered=stored is not None,
        display="" if hidden else display_answer(question, stored, language),
        unit=_unit_of(question, language), error=error, conflict=conflict, saved=saved,
        max_length=question.text_max_length if question.type == "text" else None,
    )
    if question.type in forms.CHOICE_TYPES:
        if submitted is _UNSET:
            selected = {str(v) for v in stored} if isinstance(stored, list) else ({str(stored)} if stored is not None else set())
        else:
            selected = set(submitted)
        view.choices = [
            Choice(value=value, label=label, checked=value in selected, input_id=f"{view.input_id}-{index}")
            for index, (value, label) in enumerate(_choices_of(question, language))
        ]
    elif submitted is not _UNSET:
        view.value = submitted
    elif question.type in NUMERIC_TYPES:
        view.value = forms.format_number(stored, language, space=" ")
    elif not hidden:
        view.value = "" if stored is None else str(stored)
    return view


@dataclass
class SectionNav:
    id: str
    title: str
    url: str
    answered: int
    total: int
    complete: bool
    required_missing: int
    current: bool


def _section_or_404(instrument, section_id: str | None) -> Section:
    if section_id is None:
        return instrument.sections[0]
    for section in instrument.sections:
        if section.id == section_id:
            return section
    raise Http404(_("This instrument has no such section."))


def _visible_in(instrument, answers, section: Section) -> list[Question]:
    ids = {question.id for question in section.questions}
    return [question for question in rules.visible_questions(instrument, answers) if question.id in ids]


def _progress_context(mode: Mode, section: Section, language: str) -> dict:
    instrument = mode.instrument
    progress = rules.section_progress(instrument, mode.assessment.answers)
    titles = {s.id: s.title.get(language) for s in instrument.sections}
    nav = [
        SectionNav(
            id=p.section_id, title=titles[p.section_id], url=mode.section_url(p.section_id), answered=p.answered,
            total=p.total_visible, complete=p.complete, required_missing=len(p.required_missing),
            current=p.section_id == section.id,
        )
        for p in progress
    ]
    return {
        "sections": nav,
        "answered_total": sum(p.answered for p in progress),
        "questions_total": sum(p.total_visible for p in progress),
        "required_missing_total": sum(len(p.required_missing) for p in progress),
    }


def _fill_context(mode: Mode, section: Section, *, overrides: dict[str, dict] | None = None) -> dict:
    assessment = mode.assessment
    instrument = mode.instrument
    language = _language()
    overrides = overrides or {}
    questions = [
        question_view(question, mode, language, **overrides.get(question.id, {}))
        for question in _visible_in(instrument, assessment.answers, section)
    ]
    index = instrument.sections.index(section)
    previous = instrument.sections[index - 1] if index > 0 else None
    following = instrument.sections[index + 1] if index + 1 < len(instrument.sections) else None
    return {
        "assessment": assessment,
        "company": assessment.company,
        "mode": mode,
        "editable": mode.can_edit,
        "instrument_title": instrument.title.get(language),
        "instrument_description": instrument.description.get(language),
        "section": {
            "id": section.id, "title": section.title.get(language),
            "help": section.help.get(language) if section.help else "", "url": mode.section_url(section.id),
            "number": index + 1, "count": len(instrument.sections),
        },
        "questions": questions,
        "problems": [q for q in questions if q.error or q.conflict],
        "previous": {"url": mode.section_url(previous.id), "title": previous.title.get(language)} if previous else None,
        "next": {"url": mode.section_url(following.id), "title": following.title.get(language)} if following else None,
        **_progress_context(mode, section, language),
    }


def _conflict_message(question: Question, exc: services.AnswerConflict, language: str) -> str:
    current = display_answer(question, exc.current_value, language) or _("no answer")
    if question.type == "text" and exc.current_value:
        current = f"“{current}”"
    return _(
        "Someone else changed this answer while you were editing. It now reads: %(value)s. Your answer is "
        "still in the form and has not been saved: save again to keep yours, or load the current answer."
    ) % {"value": current}


# --- Saving answers -----------------------------------------------------------------------


def _save_one(request: HttpRequest, mode: Mode, question: Question) -> dict:
    """Save one question from the POST data; the keyword arguments for `question_view` of the outcome."""
    data = request.POST
    language = _language()
    try:
        raw = forms.raw_answer(question, data)
        services.assessment_answer(
            mode.actor, mode.assessment, question.id, raw, expected_version=forms.expected_version(question, data),
            by_company=mode.public,
        )
    except forms.AnswerInputError as exc:
        return {"submitted": forms.submitted_value(question, data), "error": exc.message}
    except services.AnswerConflict as exc:
        return {
            "submitted": forms.submitted_value(question, data), "conflict": _conflict_message(question, exc, language),
            "version": exc.current_version,
        }
    except ValidationError as exc:
        return {"submitted": forms.submitted_value(question, data), "error": " ".join(_error_messages(exc, question.id))}
    return {"saved": True}


def _locked_response(request: HttpRequest, mode: Mode, section: Section) -> HttpResponse:
    if mode.assessment.is_locked:
        message = _("This assessment is completed and locked. Correct it to change answers.")
    else:
        message = _("This assessment cannot be changed now.")
    if mode.public:
        return _self_invalid(request)
    messages.error(request, message)
    if request.htmx:
        response = HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
        response["HX-Refresh"] = "true"
        return response
    return redirect(mode.section_url(section.id))


def _answer(request: HttpRequest, mode: Mode, question_id: str) -> HttpResponse:
    """One answer (HTMX): the question's status, its new version and the progress, out of band."""
    assessment = mode.assessment
    instrument = mode.instrument
    if not instrument.has_question(question_id):
        raise Http404(_("This instrument has no such question."))
    question = instrument.question(question_id)
    section = _section_or_404(instrument, instrument.section_of(question_id))
    if question.type == "text" and not mode.can_view_text:
        raise PermissionDenied
    if not mode.can_edit:
        return _locked_response(request, mode, section)
    before = [q.id for q in _visible_in(instrument, assessment.answers, section)]
    outcome = _save_one(request, mode, question)
    assessment.refresh_from_db()
    if not request.htmx:
        if outcome.get("saved"):
            return redirect(mode.section_url(section.id) + f"#question-{question.id}")
        return _render_fill(request, mode, section, overrides={question.id: outcome})
    after = [q.id for q in _visible_in(instrument, assessment.answers, section)]
    context = _fill_context(mode, section, overrides={question.id: outcome})
    context["question"] = next((q for q in context["questions"] if q.id == question.id), None)
    if context["question"] is None:  # hidden by its own answer's neighbours: show the list
        after = None
    if after != before:
        context["fragment"] = "questions"
        target = "#section-questions"
    elif forms.cleared(question, request.POST):
        context["fragment"] = "question"
        target = f"#question-{question.id}"
    else:
        context["fragment"] = "feedback"
        target = None
    response = render(request, "assessments/_fill_answer.html", context)
    if target:
        response["HX-Retarget"] = target
        response["HX-Reswap"] = "outerHTML"
    return response


def _save_section(request: HttpRequest, mode: Mode, section: Section) -> HttpResponse:
    """The form of a whole section, without JavaScript: save every question it showed."""
    if not mode.can_edit:
        return _locked_response(request, mode, section)
    overrides: dict[str, dict] = {}
    for question in section.questions:
        if not forms.was_rendered(question, request.POST):
            continue
        if question.type == "text" and not mode.can_view_text:
            continue
        outcome = _save_one(request, mode, question)
        mode.assessment.refresh_from_db()
        if not outcome.get("saved"):
            overrides[question.id] = outcome
    if overrides:
        return _render_fill(request, mode, section, overrides=overrides)
    instrument = mode.instrument
    index = instrument.sections.index(section)
    if request.POST.get("next") and index + 1 < len(instrument.sections):
        return redirect(mode.section_url(instrument.sections[index + 1].id))
    messages.success(request, _("Answers saved."))
    return redirect(mode.section_url(section.id))


def _render_fill(request: HttpRequest, mode: Mode, section: Section, *, overrides=None) -> HttpResponse:
    context = _fill_context(mode, section, overrides=overrides)
    if mode.public:
        context.update(_self_context(mode))
        return _no_index(render(request, "assessments/self_fill.html", context))
    user = request.user
    assessment = mode.assessment
    can_view_text = user.has_perm(VIEW_TEXT)
    details_form = None
    if user.has_perm(CHANGE) and (not assessment.is_locked or can_view_text):
        details_form = forms.DetailsForm(
            initial={"phase": assessment.phase, "conducted_on": assessment.conducted_on, "notes": assessment.notes},
            show_notes=can_view_text, locked=assessment.is_locked,
        )
    revision = assessment.revisions.order_by("-created_at").first()
    context.update({
        "active_nav": "companies",
        "details_form": details_form,
        "show_notes": can_view_text,
        "revision": revision,
        "can_complete": user.has_perm(COMPLETE) and not assessment.is_locked,
        "can_correct": user.has_perm(COMPLETE) and assessment.status == AssessmentStatus.COMPLETED
        and not assessment.revisions.exclude(status=AssessmentStatus.SUPERSEDED).exists(),
        "can_invite": user.has_perm(SEND) and assessment.status in (AssessmentStatus.DRAFT, AssessmentStatus.AWAITING_COMPANY),
    })
    return render(request, "assessments/fill.html", context)


# --- Advisor views --------------------------------------------------------------------------


@login_required
def assessment_start(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "assessments.add_assessment")
    company = company_selectors.company_for_user(request.user, company_id)
    if company is None:
        raise Http404(_("No such company."))
    form = forms.StartForm(request.POST or None, instruments=selectors.published_instruments())
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_start(
                request.user, company, form.cleaned_data["instrument"], phase=form.cleaned_data["phase"],
                conducted_on=form.cleaned_data["conducted_on"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Assessment started. Answers are saved as you go."))
            return redirect("assessments:fill", pk=assessment.pk)
    return render(request, "assessments/start.html", {"form": form, "company": company, "active_nav": "companies"})


@login_required
def assessment_fill(request: HttpRequest, pk: int, section_id: str | None = None) -> HttpResponse:
    _require(request, VIEW)
    if request.method == "POST":
        _require(request, CHANGE)
    assessment = _assessment_or_404(request, pk)
    mode = Mode(assessment=assessment, user=request.user)
    section = _section_or_404(mode.instrument, section_id)
    if request.method == "POST":
        return _save_section(request, mode, section)
    return _render_fill(request, mode, section)


@login_required
@require_POST
def assessment_answer(request: HttpRequest, pk: int, question_id: str) -> HttpResponse:
    _require(request, CHANGE)
    assessment = _assessment_or_404(request, pk)
    return _answer(request, Mode(assessment=assessment, user=request.user), question_id)


@login_required
@require_POST
def assessment_details(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, CHANGE)
    assessment = _assessment_or_404(request, pk)
    instrument = assessment.instrument()
    section_id = request.POST.get("section")
    if not any(s.id == section_id for s in instrument.sections):
        section_id = instrument.sections[0].id
    target = reverse("assessments:fill-section", args=[assessment.pk, section_id]) + "#details"
    form = forms.DetailsForm(request.POST, show_notes=request.user.has_perm(VIEW_TEXT), locked=assessment.is_locked)
    if not form.fields:
        raise PermissionDenied
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect(target)
    try:
        services.assessment_set_details(request.user, assessment, **form.service_kwargs())
    except ValidationError as exc:
        for message in _error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Details saved."))
    return redirect(target)


def _missing_required(mode: Mode) -> list[dict]:
    instrument = mode.instrument
    language = _language()
    return [
        {
            "id": qid, "text": instrument.question(qid).text.get(language),
            "section": _section_or_404(instrument, instrument.section_of(qid)).title.get(language),
            "url": mode.section_url(instrument.section_of(qid)) + f"#question-{qid}",
        }
        for qid in rules.missing_required(instrument, mode.assessment.answers)
    ]


@login_required
def assessment_complete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, COMPLETE)
    assessment = _assessment_or_404(request, pk)
    errors: list[str] = []
    if request.method == "POST" and not assessment.is_locked:
        try:
            services.assessment_complete(request.user, assessment)
        except ValidationError as exc:
            errors = _error_messages(exc)
            assessment.refresh_from_db()
        else:
            messages.success(request, _("The assessment is completed and scored."))
            return redirect("assessments:results", pk=assessment.pk)
    instrument = assessment.instrument()
    language = _language()
    progress = rules.section_progress(instrument, assessment.answers)
    context = {
        "assessment": assessment,
        "company": assessment.company,
        "instrument_title": instrument.title.get(language),
        "missing": [] if assessment.is_locked else _missing_required(Mode(assessment=assessment, user=request.user)),
        "errors": errors,
        "answered_total": sum(p.answered for p in progress),
        "questions_total": sum(p.total_visible for p in progress),
        "active_nav": "companies",
    }
    return render(request, "assessments/complete.html", context)


@login_required
def assessment_correct(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, COMPLETE)
    assessment = _assessment_or_404(request, pk)
    form = forms.CorrectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revision = services.assessment_correct(request.user, assessment, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("A correction was opened. Change the answers and complete it again."))
            return redirect("assessments:fill", pk=revision.pk)
    language = _language()
    context = {
        "form": form,
        "assessment": assessment,
        "company": assessment.company,
        "instrument_title": assessment.instrument().title.get(language),
        "in_progress": assessment.revisions.exclude(status=AssessmentStatus.SUPERSEDED).first(),
        "active_nav": "companies",
    }
    return render(request, "assessments/correct.html", context)


def _link_status(link: SelfAssessmentLink) -> tuple[str, str]:
    if link.submitted_at:
        return "submitted", _("Submitted")
    if link.revoked_at:
        return "revoked", _("Withdrawn")
    if link.expires_at <= timezone.now():
        return "expired", _("Expired")
    return "active", _("Active")


@login_required
def self_assessment_invite(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, SEND)
    assessment = _assessment_or_404(request, pk)
    can_send = assessment.status in (AssessmentStatus.DRAFT, AssessmentStatus.AWAITING_COMPANY)
    form = forms.InviteForm(request.POST or None, company=assessment.company)
    sent_url = ""
    if request.method == "POST" and can_send and form.is_valid():
        try:
            link, sent_url = services.self_assessment_invite(
                request.user, assessment, email=form.cleaned_data["email"], contact=form.cleaned_data["contact"],
                valid_days=form.cleaned_data["valid_days"], base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            assessment.refresh_from_db()
            form = forms.InviteForm(company=assessment.company)
            messages.success(request, _("The link was sent to %(email)s.") % {"email": link.email})
    links = [
        {"link": link, "status": status, "label": label}
        for link in assessment.links.select_related("contact").order_by("-created_at")
        for status, label in [_link_status(link)]
    ]
    context = {
        "assessment": assessment,
        "company": assessment.company,
        "instrument_title": assessment.instrument().title.get(_language()),
        "form": form,
        "can_send": can_send,
        "sent_url": sent_url,
        "links": links,
        "active_nav": "companies",
    }
    response = render(request, "assessments/invite.html", context)
    if sent_url:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def self_assessment_revoke(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    _require(request, SEND)
    assessment = _assessment_or_404(request, pk)
    link = get_object_or_404(SelfAssessmentLink, pk=link_id, assessment=assessment)
    services.self_assessment_revoke(request.user, link)
    messages.success(request, _("The link to %(email)s no longer works.") % {"email": link.email})
    return redirect("assessments:invite", pk=assessment.pk)


# --- The company's self-assessment (public, through the personal link) ----------------------


def _no_index(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _self_invalid(request: HttpRequest) -> HttpResponse:
    return _no_index(render(request, "assessments/self_invalid.html", status=404))


def _self_mode(secret: str) -> Mode | None:
    link = services.self_assessment_link_for(secret)
    if link is None or link.assessment.status != AssessmentStatus.AWAITING_COMPANY:
        return None
    return Mode(assessment=link.assessment, link=link, secret=secret)


def _self_context(mode: Mode) -> dict:
    return {
        "link": mode.link,
        "secret": mode.secret,
        "missing": _missing_required(mode),
    }


@never_cache
def self_assessment(request: HttpRequest, secret: str, section_id: str | None = None) -> HttpResponse:
    mode = _self_mode(secret)
    if mode is None:
        return _self_invalid(request)
    section = _section_or_404(mode.instrument, section_id)
    if request.method == "POST":
        return _no_index(_save_section(request, mode, section))
    return _render_fill(request, mode, section)


@never_cache
@require_POST
def self_assessment_answer(request: HttpRequest, secret: str, question_id: str) -> HttpResponse:
    mode = _self_mode(secret)
    if mode is None:
        response = _self_invalid(request)
        if request.htmx:  # the link stopped working while the page was open: show why
            response["HX-Refresh"] = "true"
        return response
    return _no_index(_answer(request, mode, question_id))


@never_cache
@require_POST
def self_assessment_submit(request: HttpRequest, secret: str) -> HttpResponse:
    mode = _self_mode(secret)
    if mode is None:
        return _self_invalid(request)
    try:
        services.self_assessment_submit(mode.link)
    except ValidationError:
        return _self_invalid(request)
    context = {"company": mode.assessment.company, "instrument_title": mode.assessment.instrument().title.get(_language())}
    return _no_index(render(request, "assessments/self_done.html", context))
