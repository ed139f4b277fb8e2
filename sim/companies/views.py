"""Web views of the company register. Thin: parse, check permission, call a service or selector."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.core.spreadsheet import safe_text

from . import selectors, services
from .forms import (
    SIZE_FILTER_CHOICES,
    ArchiveForm,
    CompanyForm,
    ContactForm,
    KeyFiguresForm,
    MergeForm,
    OwnershipForm,
    RestoreForm,
    advisor_choices,
)
from .models import (
    Company,
    CompanyStatus,
    Contact,
    County,
    KeyFigures,
    Municipality,
    OwnershipLink,
    SizeClass,
)
from .sections import sections_for


def _company_or_404(request: HttpRequest, pk: int) -> Company:
    company = selectors.company_for_user(request.user, pk)
    if company is None:
        raise Http404(_("No such company."))
    return company


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- List -----------------------------------------------------------------------------------


@login_required
@permission_required("companies.view_company", raise_exception=True)
def company_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.CompanyFilters.from_params(request.GET)
    queryset = selectors.company_list(request.user, filters, window=True)
    page = selectors.CappedPaginator(queryset, 25, cap=filters.count_cap).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "query_string": urlencode(filters.as_query()),
        "active_nav": "companies",
    }
    if request.htmx and request.htmx.target == "company-results":
        return render(request, "companies/_results.html", context)
    context.update(
        {
            "municipalities": Municipality.objects.select_related("county").order_by("county_id", "name"),
            "counties": County.objects.all(),
            "size_choices": SIZE_FILTER_CHOICES,
            "status_choices": [("", _("All but archived")), *CompanyStatus.choices, ("all", _("All"))],
            "advisors": advisor_choices(),
        }
    )
    return render(request, "companies/list.html", context)


@login_required
@permission_required("companies.export_companies", raise_exception=True)
def company_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with BOM and semicolons, so Excel opens it correctly)."""
    filters = selectors.CompanyFilters.from_params(request.GET)
    queryset = selectors.company_list(request.user, filters)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo(), delimiter=";")


    header = [
        "organisationsnummer", "namn", "juridisk_form", "sni", "kommunkod", "kommun", "status",
        "storleksklass", "ansvarig", "webbplats",
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for company in queryset.iterator(chunk_size=2000):
            yield writer.writerow([safe_text(value) for value in (
                company.org_number_display, company.name, company.legal_form, company.sni_primary,
                company.municipality_id or "", company.municipality.name if company.municipality else "",
                company.status, company.size_class,
                company.owner_advisor.get_username() if company.owner_advisor else "", company.website,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="foretag.csv"'
    return response


# --- Detail ---------------------------------------------------------------------------------


@login_required
@permission_required("companies.view_company", raise_exception=True)
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    user = request.user
    context = {
        "company": company,
        "active_nav": "companies",
        "in_target_group": selectors.is_in_target_group(company),
        "sme": services.company_sme_assessment(company),
        "key_figures": company.key_figures.order_by("-fiscal_year") if user.has_perm("companies.view_keyfigures") else None,
        "ownership": selectors.ownership_of(company) if user.has_perm("companies.view_ownershiplink") else None,
        "contacts": selectors.contacts_of(company, include_archived=True) if user.has_perm("companies.view_contact") else None,
        "show_contact_notes": user.has_perm("companies.view_contact_notes"),
        "history": selectors.company_history(company)[:200] if user.has_perm("core.view_auditevent") else None,
        "merged_into": company.merged_into,
        "sni_names": selectors.sni_names([company.sni_primary, *(company.sni_secondary or [])], company.sni_system),
        "extra_sections": sections_for(request, company),
    }
    return render(request, "companies/detail.html", context)


@login_required
@permission_required("companies.add_company", raise_exception=True)
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_create(request.user, form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added to the register.") % {"name": company.name})
            return redirect("companies:detail", pk=company.pk)
    return render(request, "companies/form.html", {"form": form, "active_nav": "companies"})


@login_required
@permission_required("companies.change_company", raise_exception=True)
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    if company.is_archived:
        messages.error(request, _("Restore the company before editing it."))
        return redirect("companies:detail", pk=company.pk)
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        try:
            services.company_update(request.user, company, form.service_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("companies:detail", pk=company.pk)
    return render(request, "companies/form.html", {"form": form, "company": company, "active_nav": "companies"})


@login_required
@permission_required("companies.archive_company", raise_exception=True)
def company_archive(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    if company.is_archived:
        form = RestoreForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.company_restore(request.user, company, status=form.cleaned_data["status"])
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The company has been restored."))
                return redirect("companies:detail", pk=company.pk)
    else:
        form = ArchiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.company_archive(request.user, company, reason=form.cleaned_data["reason"])
            messages.success(request, _("The company has been archived. It stays in the register's history."))
            return redirect("companies:detail", pk=company.pk)
    return render(request, "companies/archive.html", {"form": form, "company": company, "active_nav": "companies"})


# --- Key figures ----------------------------------------------------------------------------


@login_required
def key_figures_edit(request: HttpRequest, pk: int, year: int | None = None) -> HttpResponse:
    # Permission first (403), like every other register page, then the company (404).
    _require(request, "companies.add_keyfigures" if year is None else "companies.change_keyfigures")
    company = _company_or_404(request, pk)
    instance = None
    if year is not None:
        instance = get_object_or_404(KeyFigures, company=company, fiscal_year=year)
    form = KeyFiguresForm(request.POST or None, instance=instance)
    if instance is not None:
        form.fields["fiscal_year"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "fiscal_year"}
        try:
            if instance is None and company.key_figures.filter(fiscal_year=form.cleaned_data["fiscal_year"]).exists():
                raise ValidationError(
                    {"fiscal_year": _("This year is already recorded; edit it in the key-figures table.")}
                )
            services.key_figures_set(request.user, company, form.cleaned_data["fiscal_year"], data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Key figures saved."))
            return redirect(reverse("companies:detail", args=[company.pk]) + "#key-figures")
    return render(
        request, "companies/key_figures_form.html",
        {"form": form, "company": company, "year": year, "active_nav": "companies"},
    )


# --- Ownership ------------------------------------------------------------------------------


@login_required
@permission_required("companies.add_ownershiplink", raise_exception=True)
def ownership_add(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    form = OwnershipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        holder, held = (other, company) if form.cleaned_data["direction"] == "owner" else (company, other)
        try:
            services.ownership_link_set(
                request.user, holder, held,
                capital_pct=form.cleaned_data["capital_pct"], voting_pct=form.cleaned_data["voting_pct"],
                controls=form.cleaned_data["controls"], source_note=form.cleaned_data["source_note"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Ownership saved."))
            return redirect(reverse("companies:detail", args=[company.pk]) + "#ownership")
    return render(request, "companies/ownership_form.html", {"form": form, "company": company, "active_nav": "companies"})


@login_required
@permission_required("companies.delete_ownershiplink", raise_exception=True)
@require_POST
def ownership_remove(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    link = get_object_or_404(OwnershipLink.objects.filter(holder=company) | OwnershipLink.objects.filter(held=company), pk=link_id)
    services.ownership_link_remove(request.user, link, reason=request.POST.get("reason", ""))
    messages.success(request, _("The ownership link was removed."))
    return redirect(reverse("companies:detail", args=[company.pk]) + "#ownership")


# --- Contacts -------------------------------------------------------------------------------


def _contact_or_404(company: Company, contact_id: int) -> Contact:
    return get_object_or_404(Contact, company=company, pk=contact_id)


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_id: int | None = None) -> HttpResponse:
    _require(request, "companies.add_contact" if contact_id is None else "companies.change_contact")
    company = _company_or_404(request, pk)
    contact = None
    if contact_id is not None:
        contact = _contact_or_404(company, contact_id)
        if contact.erased_at:
            raise Http404(_("This contact has been erased."))
    show_notes = request.user.has_perm("companies.view_contact_notes")
    form = ContactForm(request.POST or None, instance=contact, show_notes=show_notes)
    if request.method == "POST" and form.is_valid():
        try:
            if contact is None:
                services.contact_create(request.user, company, form.cleaned_data)
            else:
                services.contact_update(request.user, contact, form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect(reverse("companies:detail", args=[company.pk]) + "#contacts")
    return render(
        request, "companies/contact_form.html",
        {"form": form, "company": company, "contact": contact, "active_nav": "companies"},
    )


@login_required
@permission_required("companies.change_contact", raise_exception=True)
@require_POST
def contact_archive(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    services.contact_archive(request.user, _contact_or_404(company, contact_id))
    messages.success(request, _("The contact was archived."))
    return redirect(reverse("companies:detail", args=[company.pk]) + "#contacts")


@login_required
@permission_required("companies.export_contact_data", raise_exception=True)
def contact_export(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    contact = _contact_or_404(company, contact_id)
    payload = services.contact_export(request.user, contact)
    response = HttpResponse(payload, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@login_required
@permission_required("companies.erase_contact", raise_exception=True)
def contact_erase(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    contact = _contact_or_404(company, contact_id)
    if request.method == "POST":
        services.contact_erase(request.user, contact, reason=request.POST.get("reason", "")[:500])
        messages.success(request, _("The contact's personal data has been erased."))
        return redirect(reverse("companies:detail", args=[company.pk]) + "#contacts")
    return render(request, "companies/contact_erase.html", {"company": company, "contact": contact, "active_nav": "companies"})


# --- Duplicates and merge -------------------------------------------------------------------


@login_required
@permission_required("companies.merge_company", raise_exception=True)
def duplicates(request: HttpRequest) -> HttpResponse:
    pairs = selectors.likely_duplicates()
    return render(request, "companies/duplicates.html", {"pairs": pairs, "active_nav": "duplicates"})


@login_required
@permission_required("companies.merge_company", raise_exception=True)
def merge(request: HttpRequest, first: int, second: int) -> HttpResponse:
    a = get_object_or_404(Company, pk=first)
    b = get_object_or_404(Company, pk=second)
    form = MergeForm(request.POST or None, first=a, second=b)
    if request.method == "POST" and request.POST.get("action") == "dismiss":
        services.duplicate_dismiss(request.user, a, b)
        messages.success(request, _("The pair is no longer flagged as a duplicate."))
        return redirect("companies:duplicates")
    if request.method == "POST" and form.is_valid():
        survivor = form.companies[form.cleaned_data["survivor"]]
        absorbed = b if survivor.pk == a.pk else a
        try:
            services.company_merge(request.user, survivor, absorbed)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The companies were merged."))
            return redirect("companies:detail", pk=survivor.pk)
    context = {
        "form": form, "first": a, "second": b, "active_nav": "duplicates",
        "counts": {c.pk: {
            "contacts": c.contacts.count(), "key_figures": c.key_figures.count(),
            "links": c.owners.count() + c.holdings.count(),
        } for c in (a, b)},
    }
    return render(request, "companies/merge.html", context)


SIZE_LABELS = dict(SizeClass.choices)
