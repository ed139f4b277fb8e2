"""Pages of activities and events. Thin: parse, check permission and project scope, call a service or selector.

An activity or event of a project the user does not work in is a 404, like a missing one.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies.models import Company, Contact
from sim.companies.selectors import companies_visible_to, company_for_user, company_search
from sim.programmes.projects import current_project, projects_for

from . import company_sections, exports, selectors, services
from .forms import (
    ActivityFilterForm,
    ActivityForm,
    EventForm,
    QuickActivityForm,
    RegistrationForm,
    open_projects,
)
from .models import Activity, Event, Registration


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _activity_or_404(request: HttpRequest, pk: int) -> Activity:
    activity = selectors.activity_for_user(request.user, pk)
    if activity is None:
        raise Http404(_("No such activity."))
    return activity


def _event_or_404(request: HttpRequest, pk: int) -> Event:
    event = selectors.event_for_user(request.user, pk)
    if event is None:
        raise Http404(_("No such event."))
    return event


def _company_or_404(request: HttpRequest, pk: int) -> Company:
    company = company_for_user(request.user, pk)
    if company is None:
        raise Http404(_("No such company."))
    return company


# --- Activities -----------------------------------------------------------------------------


@login_required
@permission_required("activities.view_activity", raise_exception=True)
def activity_list(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    context = {"project": project, "active_nav": "activities",
               "show_notes": request.user.has_perm("activities.view_activity_notes")}
    if project is None:
        return render(request, "activities/activity_list.html", context)
    form = ActivityFilterForm(request.GET or None, project=project)
    queryset = selectors.activities_visible_to(request.user).filter(project=project)
    start = end = None
    if form.is_valid():
        data = form.cleaned_data
        start, end = data.get("start"), data.get("end")
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("focus_area"):
            queryset = queryset.filter(focus_area=data["focus_area"])
        if data.get("advisor"):
            queryset = queryset.filter(advisors=data["advisor"])
        if start:
            queryset = queryset.filter(date__gte=start)
        if end:
            queryset = queryset.filter(date__lte=end)
    total = queryset.aggregate(hours=Sum("hours"))["hours"] or Decimal("0")
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context.update({
        "form": form,
        "page": Paginator(queryset.order_by("-date", "-id"), 50).get_page(request.GET.get("page")),
        "total_hours": total,
        "by_focus_area": selectors.hours_by_focus_area(project, start, end),
        "by_advisor": selectors.hours_by_advisor(project, start, end),
        "query_string": urlencode(query),
    })
    return render(request, "activities/activity_list.html", context)


def _activity_form_context(request, form, company, activity=None):
    return {"form": form, "company": company, "activity": activity, "active_nav": "activities"}


@login_required
@permission_required("activities.add_activity", raise_exception=True)
def activity_create(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("company") or request.POST.get("company_id", "")
    if not str(raw).isdigit():
        # Choose the company first.
        term = request.GET.get("q", "").strip()
        results = company_search(companies_visible_to(request.user), term).order_by("name")[:25] if term else []
        return render(request, "activities/activity_company_pick.html", {
            "q": term, "results": results, "active_nav": "activities"})
    company = _company_or_404(request, int(raw))
    project = current_project(request)
    form = ActivityForm(
        request.POST or None, company=company, projects=open_projects(request.user), project=project,
        user=request.user, show_notes=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(
                request.user, form.cleaned_data["project"], company, form.service_data(),
                advisors=form.cleaned_data["advisors"], contacts=form.cleaned_data.get("contacts") or [],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The activity was recorded (%(hours)s h).") % {"hours": activity.hours})
            return redirect(reverse("companies:detail", args=[company.pk]) + "#activities")
    return render(request, "activities/activity_form.html", _activity_form_context(request, form, company))


@login_required
@permission_required("activities.change_activity", raise_exception=True)
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_or_404(request, pk)
    show_notes = request.user.has_perm("activities.view_activity_notes")
    form = ActivityForm(
        request.POST or None, instance=activity, company=activity.company, projects=projects_for(request.user),
        project=activity.project, show_notes=show_notes,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                request.user, activity, form.service_data(), advisors=form.cleaned_data["advisors"],
                contacts=form.cleaned_data.get("contacts") or [],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(reverse("companies:detail", args=[activity.company_id]) + "#activities")
    return render(request, "activities/activity_form.html", _activity_form_context(request, form, activity.company, activity))


@login_required
@permission_required("activities.delete_activity", raise_exception=True)
@require_POST
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_or_404(request, pk)
    company_id = activity.company_id
    services.activity_delete(request.user, activity, reason=request.POST.get("reason", "")[:500])
    messages.success(request, _("The activity was deleted."))
    return redirect(reverse("companies:detail", args=[company_id]) + "#activities")


@login_required
@permission_required("activities.add_activity", raise_exception=True)
@require_POST
def company_quick_add(request: HttpRequest, company_id: int) -> HttpResponse:
    """The quick entry of the company page: HTMX swaps the section; without JavaScript, a redirect."""
    company = _company_or_404(request, company_id)
    form = QuickActivityForm(
        request.POST, company=company, projects=open_projects(request.user), project=current_project(request),
        user=request.user, prefix="quick",
    )
    saved = None
    if form.is_valid():
        try:
            saved = services.activity_create(
                request.user, form.cleaned_data["project"], company, form.service_data(),
                advisors=form.cleaned_data["advisors"], contacts=form.cleaned_data.get("contacts") or [],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if not request.htmx:
        if saved is not None:
            messages.success(request, _("The activity was recorded (%(hours)s h).") % {"hours": saved.hours})
            return redirect(reverse("companies:detail", args=[company.pk]) + "#activities")
        return render(request, "activities/activity_form.html", {
            "form": form, "company": company, "active_nav": "companies", "quick": True})
    data = company_sections.section_context(request, company, form=None if saved else form)
    data["saved"] = saved
    return render(request, "activities/_company_activities.html", {"data": data})


# --- Events ---------------------------------------------------------------------------------


@login_required
@permission_required("activities.view_event", raise_exception=True)
def event_list(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    events = (
        selectors.with_counts(selectors.events_visible_to(request.user).filter(project=project)).order_by("-starts_at")
        if project else Event.objects.none()
    )
    return render(request, "activities/event_list.html", {"project": project, "events": events, "active_nav": "events"})


@login_required
@permission_required("activities.add_event", raise_exception=True)
def event_create(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    if project is None:
        messages.error(request, _("You are not a member of any project; an event belongs to a project."))
        return redirect("activities:event-list")
    form = EventForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(request.user, project, form.service_data(),
                                          focus_areas=form.cleaned_data.get("focus_areas") or [])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The event was created."))
            return redirect("activities:event-detail", pk=event.pk)
    return render(request, "activities/event_form.html", {"form": form, "project": project, "active_nav": "events"})


@login_required
@permission_required("activities.change_event", raise_exception=True)
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    form = EventForm(request.POST or None, instance=event, project=event.project)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(request.user, event, form.service_data(),
                                  focus_areas=form.cleaned_data.get("focus_areas") or [])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:event-detail", pk=event.pk)
    return render(request, "activities/event_form.html", {
        "form": form, "event": event, "project": event.project, "active_nav": "events"})


def _event_context(request, event: Event, form=None) -> dict:
    registrations = list(selectors.registrations_of(event))
    active = [r for r in registrations if r.cancelled_at is None]
    return {
        "event": event,
        "registrations": registrations,
        "registered": len(active),
        "attended": sum(1 for r in active if r.attended),
        "companies": len({r.company_id for r in active if r.company_id}),
        "free": (event.capacity - len(active)) if event.capacity is not None else None,
        "form": form or RegistrationForm(),
        "active_nav": "events",
    }


@login_required
@permission_required("activities.view_event", raise_exception=True)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    return render(request, "activities/event_detail.html", _event_context(request, event))


def _resolve_participant(form: RegistrationForm) -> dict:
    data = {"name": form.cleaned_data["name"], "email": form.cleaned_data.get("email") or "",
            "organisation_name": form.cleaned_data.get("organisation_name") or ""}
    email = data["email"].strip()
    if email:
        contacts = list(Contact.objects.filter(email__iexact=email, erased_at__isnull=True, archived_at__isnull=True)
                        .select_related("company")[:2])
        if len(contacts) == 1:
            data["contact"] = contacts[0]
            data["company"] = contacts[0].company
    if "company" not in data and form.cleaned_data.get("org_number"):
        company = Company.objects.filter(org_number=form.cleaned_data["org_number"]).first()
        if company is None:
            raise ValidationError({"org_number": _("No company in the register has this organisation number.")})
        data["company"] = company
    return data


@login_required
@permission_required("activities.add_registration", raise_exception=True)
@require_POST
def registration_add(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    form = RegistrationForm(request.POST)
    if form.is_valid():
        try:
            registration = services.registration_create(request.user, event, _resolve_participant(form))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": registration.name})
            return redirect(reverse("activities:event-detail", args=[event.pk]) + "#registrations")
    return render(request, "activities/event_detail.html", _event_context(request, event, form), status=422)


@login_required
@permission_required("activities.change_registration", raise_exception=True)
@require_POST
def registration_cancel(request: HttpRequest, pk: int, registration_id: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    registration = get_object_or_404(Registration, event=event, pk=registration_id)
    services.registration_cancel(request.user, registration)
    messages.success(request, _("The registration of %(name)s was cancelled.") % {"name": registration.name})
    return redirect(reverse("activities:event-detail", args=[event.pk]) + "#registrations")


@login_required
@permission_required("activities.change_registration", raise_exception=True)
@require_POST
def attendance_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Without JavaScript: the whole attendance form; every listed registration gets its checkbox's state."""
    event = _event_or_404(request, pk)
    checked = set(request.POST.getlist("attended"))
    listed = set(request.POST.getlist("listed"))
    changed = 0
    for registration in event.registrations.filter(cancelled_at__isnull=True, pk__in=[i for i in listed if i.isdigit()]):
        attended = str(registration.pk) in checked
        if registration.attended != attended:
            services.attendance_set(request.user, registration, attended)
            changed += 1
    messages.success(request, _("Attendance saved (%(count)d changed).") % {"count": changed})
    return redirect(reverse("activities:event-detail", args=[event.pk]) + "#registrations")


@login_required
@permission_required("activities.change_registration", raise_exception=True)
@require_POST
def attendance_one(request: HttpRequest, pk: int, registration_id: int) -> HttpResponse:
    """HTMX: one checkbox changed; answers with the row's status text."""
    event = _event_or_404(request, pk)
    registration = get_object_or_404(Registration, event=event, pk=registration_id)
    attended = str(registration.pk) in request.POST.getlist("attended")
    try:
        services.attendance_set(request.user, registration, attended)
    except ValidationError as exc:
        return render(request, "activities/_attendance_status.html",
                      {"r": registration, "error": " ".join(exc.messages)}, status=422)
    if not request.htmx:
        return redirect(reverse("activities:event-detail", args=[event.pk]) + "#registrations")
    return render(request, "activities/_attendance_status.html", {"r": registration, "saved": True})


@login_required
@permission_required("activities.view_registration", raise_exception=True)
def event_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    event = _event_or_404(request, pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404(_("Unknown format."))
    if not request.user.has_perm("activities.view_event"):
        raise PermissionDenied
    return exports.participants_response(request.user, event, fmt)
