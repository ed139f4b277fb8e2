"""Outreach pages: mailings of the current project, their recipients, and the public opt-out page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import mailings as services
from .forms_mailings import BounceForm, MailingForm
from .models import Mailing, MailingRecipient
from .projects import current_project


def _mailing_or_404(request: HttpRequest, pk: int) -> Mailing:
    mailing = services.mailings_visible_to(request.user).filter(pk=pk).first()
    if mailing is None:
        raise Http404(_("No such mailing."))
    return mailing


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@permission_required("programmes.view_mailing", raise_exception=True)
def mailing_list(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    mailings = services.mailings_visible_to(request.user).filter(project=project) if project else Mailing.objects.none()
    rows = [{"mailing": m, "counts": services.recipient_counts(m)} for m in mailings.order_by("-created_at")[:200]]
    return render(request, "programmes/mailing_list.html", {"project": project, "rows": rows, "active_nav": "mailings"})


@login_required
@permission_required("programmes.add_mailing", raise_exception=True)
def mailing_create(request: HttpRequest) -> HttpResponse:
    project = current_project(request)
    if project is None:
        messages.error(request, _("You are not a member of any project; a mailing belongs to a project."))
        return redirect("programmes:mailing-list")
    initial = {}
    for key in ("offer", "event", "offer_suits"):
        if request.GET.get(key, "").isdigit():
            initial[key] = int(request.GET[key])
    if request.GET.get("without_growth_interview"):
        initial["without_growth_interview"] = True
    form = MailingForm(request.POST or None, project=project, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mailing = services.mailing_create(request.user, project, form.mailing_data(), form.selection())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The mailing was saved as a draft. Check the recipients, then queue it."))
            return redirect("programmes:mailing-detail", pk=mailing.pk)
    return render(request, "programmes/mailing_form.html", {"form": form, "project": project, "active_nav": "mailings"})


@login_required
@permission_required("programmes.change_mailing", raise_exception=True)
def mailing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    mailing = _mailing_or_404(request, pk)
    if mailing.status != Mailing.Status.DRAFT:
        messages.error(request, _("A mailing that has been queued cannot be changed."))
        return redirect("programmes:mailing-detail", pk=mailing.pk)
    form = MailingForm(request.POST or None, project=mailing.project, initial=MailingForm.initial_for(mailing))
    if request.method == "POST" and form.is_valid():
        try:
            services.mailing_update(request.user, mailing, form.mailing_data(), form.selection())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("programmes:mailing-detail", pk=mailing.pk)
    return render(request, "programmes/mailing_form.html", {
        "form": form, "project": mailing.project, "mailing": mailing, "active_nav": "mailings"})


@login_required
@permission_required("programmes.view_mailing", raise_exception=True)
def mailing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mailing = _mailing_or_404(request, pk)
    context = {"mailing": mailing, "active_nav": "mailings", "bounce_form": BounceForm()}
    selection = services.Selection.from_json(mailing.selection)
    context["selection_rows"] = services.selection_description(selection)
    if mailing.status == Mailing.Status.DRAFT:
        try:
            context["preview"] = services.preview(request.user, mailing)
        except ValidationError as exc:
            context["preview_error"] = " ".join(exc.messages)
    else:
        status = request.GET.get("status", "")
        recipients = mailing.recipients.select_related("company", "contact").order_by("company__name", "email")
        if status in MailingRecipient.Status.values:
            recipients = recipients.filter(status=status)
        context.update({
            "counts": services.recipient_counts(mailing),
            "page": Paginator(recipients, 100).get_page(request.GET.get("page")),
            "status_filter": status,
            "statuses": MailingRecipient.Status.choices,
            "replyable": (MailingRecipient.Status.SENT, MailingRecipient.Status.BOUNCED),
        })
    return render(request, "programmes/mailing_detail.html", context)


@login_required
@permission_required("programmes.change_mailing", raise_exception=True)
@require_POST
def mailing_queue(request: HttpRequest, pk: int) -> HttpResponse:
    mailing = _mailing_or_404(request, pk)
    try:
        counts = services.mailing_queue(request.user, mailing, base_url=request.build_absolute_uri("/"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _(
            "Queued for %(queued)d recipients (%(skipped)d contacts skipped). Sending runs in the background."
        ) % counts)
    return redirect("programmes:mailing-detail", pk=mailing.pk)


@login_required
@permission_required("programmes.change_mailing", raise_exception=True)
@require_POST
def mailing_bounces(request: HttpRequest, pk: int) -> HttpResponse:
    mailing = _mailing_or_404(request, pk)
    form = BounceForm(request.POST)
    if form.is_valid():
        result = services.mark_bounced(request.user, form.address_list(), mailing=mailing)
        messages.success(request, _("%(count)d recipients marked as bounced.") % {"count": result["marked"]})
        if result["unknown"]:
            messages.warning(request, _("Not sent to in this mailing: %(addresses)s") % {
                "addresses": ", ".join(result["unknown"][:20])})
    else:
        messages.error(request, _("Paste at least one address."))
    return redirect("programmes:mailing-detail", pk=mailing.pk)


@login_required
@permission_required("programmes.change_mailing", raise_exception=True)
@require_POST
def recipient_replied(request: HttpRequest, pk: int, recipient_id: int) -> HttpResponse:
    mailing = _mailing_or_404(request, pk)
    recipient = get_object_or_404(MailingRecipient.objects.select_related("mailing__project"), mailing=mailing, pk=recipient_id)
    try:
        services.mark_replied(request.user, recipient)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(email)s marked as replied.") % {"email": recipient.email})
    return redirect("programmes:mailing-detail", pk=mailing.pk)


@csrf_exempt  # the token in the address is the credential; mail clients post one-click opt-outs (RFC 8058)
def optout(request: HttpRequest, token: str) -> HttpResponse:
    """Public: confirm, then stop mailings to the contact the link was sent to. No login needed."""
    recipient = services.recipient_for_token(token)
    if recipient is None:
        return render(request, "programmes/optout_invalid.html", status=404)
    if request.method == "POST":
        changed = services.opt_out(recipient)
        return render(request, "programmes/optout_done.html", {"recipient": recipient, "changed": changed})
    already = recipient.contact.opted_out_at is not None or recipient.contact.erased_at is not None
    return render(request, "programmes/optout.html", {"recipient": recipient, "already": already})
