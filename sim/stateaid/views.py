"""Pages of the de minimis ledger. Thin: check permission and company scope, parse, call a service or
selector, render.

Finance officers, project managers and administrators keep the ledger; auditors read it; advisors
read it and record declarations; a company representative sees only their own company's awards and
may declare earlier aid for it. Everything else is refused (403); an award or company the user may
not see is a 404, like a missing one.
"""

from __future__ import annotations

import csv
import mimetypes
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from sim.companies.models import Company
from sim.companies.selectors import companies_visible_to
from sim.core.models import AuditEvent
from sim.core.spreadsheet import safe_text

from . import forms, pdf, rules, selectors, services
from .models import AidAward, AwardStatus

Source = AuditEvent.Source
PAGE_SIZE = 50


def _require(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied(_("You do not have permission for this."))


def _award_or_404(request: HttpRequest, pk: int) -> AidAward:
    award = selectors.award_for_user(request.user, pk)
    if award is None:
        raise Http404(_("No such award."))
    return award


def _company_or_404(request: HttpRequest, company_id: int) -> Company:
    company = Company.objects.filter(pk=company_id).first()
    if company is None or not selectors.can_see_company(request.user, company):
        raise Http404(_("No such company."))
    return company


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _context(**extra) -> dict:
    return {"active_nav": "stateaid", **extra}


# --- The ledger -----------------------------------------------------------------------------


def _filters(form: forms.LedgerFilterForm, company: Company | None = None) -> selectors.LedgerFilters:
    data = form.cleaned_data if form.is_valid() else {}
    return selectors.LedgerFilters(
        q=data.get("q") or "", company=company.pk if company else None, status=data.get("status") or "",
        regulation=data.get("regulation") or "", declared=data.get("declared") or "",
        date_from=data.get("date_from"), date_to=data.get("date_to"),
    )


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    _require(request, "stateaid.view_aidaward")
    form = forms.LedgerFilterForm(request.GET or None)
    awards = selectors.ledger(request.user, _filters(form))
    page = Paginator(awards, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "stateaid/ledger.html", _context(form=form, page=page, query=query.urlencode()))


@login_required
def company_ledger(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "stateaid.view_aidaward")
    company = _company_or_404(request, company_id)
    section = company_ledger_context(request, company)
    section["awards"] = list(selectors.company_awards(company))
    return render(request, "stateaid/company_ledger.html", _context(company=company, section=section))


def company_ledger_context(request: HttpRequest, company: Company) -> dict | None:
    """The company page's section (None hides it: no permission, or not the user's company)."""
    user = request.user
    if not user.has_perm("stateaid.view_aidaward") or not selectors.can_see_company(user, company):
        return None
    today = timezone.localdate()
    check = selectors.headroom_today(company, today)
    road_freight, fiscal_year_start = selectors.profile_of(company)
    return {
        "company": company,
        "road_freight": road_freight,
        "fiscal_year_start": rules.format_fiscal_year_start(fiscal_year_start),
        "can_edit_profile": user.has_perm("stateaid.change_undertakingprofile"),
        "awards": list(selectors.company_awards(company)[:50]),
        "check": check,
        "today": today,
        "can_add": user.has_perm("stateaid.add_aidaward") and not company.is_archived,
        "can_declare": user.has_perm("stateaid.declare_aidaward"),
        "can_check": user.has_perm("stateaid.check_deminimis"),
    }


@login_required
def award_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "stateaid.view_aidaward")
    award = _award_or_404(request, pk)
    user = request.user
    reversal = AidAward.objects.filter(reverses=award).first()
    granted_by = AidAward.objects.filter(proposal=award).first()
    return render(request, "stateaid/award_detail.html", _context(
        award=award, reversal=reversal, granted_by=granted_by,
        can_revoke=user.has_perm("stateaid.revoke_aidaward") and award.status != AwardStatus.REVOKED
        and reversal is None and granted_by is None,
        can_grant=user.has_perm("stateaid.add_aidaward") and award.status == AwardStatus.PROPOSED
        and reversal is None and granted_by is None,
        has_certificate=award.status == AwardStatus.GRANTED and not award.declared,
        grant_form=forms.GrantProposalForm(),
    ))


@login_required
def award_create(request: HttpRequest, company_id: int) -> HttpResponse:
    _require(request, "stateaid.add_aidaward")
    company = _company_or_404(request, company_id)
    form = forms.AwardForm(request.POST or None, request.FILES or None, user=request.user, initial={
        "granted_on": timezone.localdate(), "status": AwardStatus.GRANTED})
    check = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        write = services.grant_award if data["status"] == AwardStatus.GRANTED else services.propose_award
        try:
            award = write(request.user, company, granting_authority=data["granting_authority"], measure=data["measure"],
                          granted_on=data["granted_on"], amount_sek=data["amount_sek"], amount_eur=data["amount_eur"],
                          offer=data.get("offer"), document=data.get("document"), notes=data["notes"])
        except services.AidRefused as exc:
            check = exc.check
            form.add_error(None, _("The award is refused: it would exceed the de minimis ceiling."))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The award was recorded in the de minimis ledger."))
            return redirect("stateaid:award", pk=award.pk)
    return render(request, "stateaid/award_form.html", _context(form=form, company=company, check=check))


@login_required
def award_grant(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "stateaid.add_aidaward")
    if request.method != "POST":
        return redirect("stateaid:award", pk=pk)
    award = _award_or_404(request, pk)
    form = forms.GrantProposalForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("stateaid:award", pk=award.pk)
    try:
        granted = services.grant_proposal(request.user, award, on=form.cleaned_data["on"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("stateaid:award", pk=award.pk)
    messages.success(request, _("The proposal was granted."))
    return redirect("stateaid:award", pk=granted.pk)


@login_required
def award_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "stateaid.revoke_aidaward")
    award = _award_or_404(request, pk)
    form = forms.RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = services.revoke_award(request.user, award, reason=form.cleaned_data["reason"],
                                             on=form.cleaned_data["on"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The award was revoked by a reversal entry."))
            return redirect("stateaid:award", pk=reversal.pk)
    return render(request, "stateaid/award_revoke.html", _context(form=form, award=award))


@login_required
def award_document(request: HttpRequest, pk: int) -> FileResponse:
    _require(request, "stateaid.view_aidaward")
    award = _award_or_404(request, pk)
    if not award.document:
        raise Http404(_("This award has no document."))
    try:
        handle = award.document.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("The document is missing from storage.")) from None
    name = os.path.basename(award.document.name)
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")


@login_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate / decision letter of a granted award, in Swedish (default) or English (?lang=en)."""
    _require(request, "stateaid.view_aidaward")
    award = _award_or_404(request, pk)
    if award.status != AwardStatus.GRANTED or award.declared:
        raise Http404(_("Only an award we granted has a certificate."))
    language = request.GET.get("lang", "sv")
    if language not in pdf.LANGUAGES:
        language = "sv"
    content = pdf.certificate_pdf(award, language=language)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(award, language)}"'
    return response


@login_required
def profile_edit(request: HttpRequest, company_id: int) -> HttpResponse:
    """Road freight and fiscal-year start of the undertaking (used by checks under Regulation No 1407/2013)."""
    _require(request, "stateaid.change_undertakingprofile")
    company = _company_or_404(request, company_id)
    road_freight, start = selectors.profile_of(company)
    form = forms.ProfileForm(request.POST or None, initial={
        "road_freight": road_freight, "fiscal_year_start": rules.format_fiscal_year_start(start)})
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_set(request.user, company, road_freight=form.cleaned_data["road_freight"],
                                 fiscal_year_start=form.cleaned_data["fiscal_year_start"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The undertaking's details were saved."))
            return redirect("stateaid:company", company_id=company.pk)
    return render(request, "stateaid/profile_form.html", _context(form=form, company=company))


# --- Declarations ---------------------------------------------------------------------------


@login_required
def declare(request: HttpRequest, company_id: int) -> HttpResponse:
    """A company's declaration of earlier de minimis aid (by the company in the portal, or its advisor)."""
    _require(request, "stateaid.declare_aidaward")
    company = _company_or_404(request, company_id)
    form = forms.DeclarationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            award = services.record_declaration(
                request.user, company, granting_authority=data["granting_authority"], measure=data["measure"],
                granted_on=data["granted_on"], amount_sek=data["amount_sek"], amount_eur=data["amount_eur"],
                regulation=data["regulation"] or None, document=data.get("document"), notes=data["notes"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The declaration was recorded in the de minimis ledger."))
            return redirect("stateaid:award", pk=award.pk)
    return render(request, "stateaid/declare.html", _context(form=form, company=company))


# --- The check ------------------------------------------------------------------------------


@login_required
def check(request: HttpRequest) -> HttpResponse:
    """On demand: may this amount be granted to this company on this date? With every figure."""
    _require(request, "stateaid.check_deminimis")
    initial = {"on": timezone.localdate()}
    company_id = request.GET.get("company_id")
    if company_id and company_id.isdigit():
        company = companies_visible_to(request.user).filter(pk=int(company_id)).first()
        if company is not None:
            initial["company"] = company.org_number_display
    bound = "company" in request.GET
    form = forms.CheckForm(request.GET if bound else None, initial=initial,
                           companies=companies_visible_to(request.user))
    result = None
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.check_amount(data["company"], data["on"], amount_sek=data["amount_sek"],
                                           amount_eur=data["amount_eur"])
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "stateaid/check.html", _context(form=form, result=result))


# --- Rates ----------------------------------------------------------------------------------


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    _require(request, "stateaid.view_exchangerate")
    page = Paginator(selectors.rates(), 100).get_page(request.GET.get("page"))
    return render(request, "stateaid/rates.html", _context(
        page=page, form=forms.RateImportForm(), can_import=request.user.has_perm("stateaid.import_exchangerate")))


@login_required
def rates_import(request: HttpRequest) -> HttpResponse:
    _require(request, "stateaid.import_exchangerate")
    form = forms.RateImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.RATE_MAX_BYTES:
            form.add_error("file", _("The file is larger than 1 MB."))
        else:
            try:
                result = services.import_rates(request.user, upload.read())
            except services.RateImportError as exc:
                errors = exc.errors
                form.add_error(None, _("Nothing was imported: correct the rows below and import the file again."))
            else:
                messages.success(request, _(
                    "Rates imported: %(created)s new, %(updated)s changed, %(unchanged)s unchanged."
                ) % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged})
                return redirect("stateaid:rates")
    return render(request, "stateaid/rates_import.html", _context(form=form, errors=errors))


# --- Export for the central register --------------------------------------------------------

#: The columns of the central-register export, in order (documented in docs/user-guide.md).
EXPORT_COLUMNS = [
    "post_id", "beviljande_myndighet", "organisationsnummer", "foretag", "atgard", "forordning", "beviljandedatum",
    "belopp_sek", "belopp_eur", "kurs_sek_per_eur", "kursdatum", "status", "deklarerad", "aterkallad_datum",
    "aterkallar_post_id", "insats_id",
]


@login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    """Granted awards and revocations (not proposals) as CSV for the central de minimis register.

    Filters as on the ledger page; declared aid (granted by other authorities) only with ``declared=yes``
    or ``declared=all``. UTF-8 with BOM and semicolons, so Excel opens it correctly.
    """
    _require(request, "stateaid.export_aidaward")
    params = request.GET.copy()
    declared = params.pop("declared", [""])[-1]
    form = forms.LedgerFilterForm(params)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(_("Invalid filter: %(problems)s") % {"problems": problems}, status=400,
                            content_type="text/plain; charset=utf-8")
    filters = _filters(form)
    if declared not in ("yes", "all"):
        declared = "no"
    filters = selectors.LedgerFilters(**{**filters.__dict__, "declared": "" if declared == "all" else declared})
    awards = (selectors.ledger(request.user, filters).exclude(status=AwardStatus.PROPOSED)
              .order_by("granted_on", "id"))

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo(), delimiter=";")

    def rows():
        yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
        for award in awards.iterator(chunk_size=2000):
            yield writer.writerow([safe_text(value) for value in (
                award.pk, award.granting_authority, award.undertaking.org_number_display, award.undertaking.name,
                award.measure, award.regulation, award.granted_on.isoformat(), f"{award.amount_sek:.2f}",
                f"{award.amount_eur:.2f}", "" if award.sek_per_eur is None else f"{award.sek_per_eur:.4f}",
                award.rate_date.isoformat() if award.rate_date else "", award.status, "ja" if award.declared else "nej",
                award.revoked_on.isoformat() if award.revoked_on else "", award.reverses_id or "",
                award.intervention_id or "",
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="stod-av-mindre-betydelse.csv"'
    return response
