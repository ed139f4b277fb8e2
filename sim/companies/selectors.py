"""Reads of the company register: visibility, search, filters, summaries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from sim.core.audit import history_for
from sim.core.models import AuditEvent
from sim.core.roles import REGISTER_WIDE_ROLES, user_roles

from .models import Company, CompanyStatus, Contact, SizeClass

ORG_NUMBER_FRAGMENT = re.compile(r"^[0-9][0-9\- ]*$")


def companies_visible_to(user) -> QuerySet[Company]:
    """The companies this user may read: the whole register, their own, or none."""
    if not user.is_authenticated or not user.has_perm("companies.view_company"):
        return Company.objects.none()
    roles = user_roles(user)
    if user.is_superuser or roles & REGISTER_WIDE_ROLES:
        return Company.objects.all()
    return Company.objects.filter(representatives__user=user)


def company_for_user(user, pk: int) -> Company | None:
    return companies_visible_to(user).select_related("municipality__county", "owner_advisor").filter(pk=pk).first()


def companies_owned_by(user) -> QuerySet[Company]:
    return companies_visible_to(user).filter(owner_advisor=user).exclude(status=CompanyStatus.ARCHIVED)


def target_group_q() -> Q:
    """Målgrupp: manufacturing or manufacturing-adjacent, located in the programme's county."""
    low, high = settings.SIM_MANUFACTURING_DIVISIONS
    industry = Q(sni_primary__gte=f"{low:02d}", sni_primary__lt=f"{high + 1:02d}")
    for prefix in settings.SIM_MANUFACTURING_ADJACENT_SNI:
        # Codes are stored without dots; the setting may be written either way ("46.6" or "466").
        industry |= Q(sni_primary__startswith=prefix.replace(".", "").strip())
    return industry & Q(municipality__county_id__in=settings.SIM_TARGET_COUNTIES)


def is_in_target_group(company: Company) -> bool:
    return Company.objects.filter(target_group_q(), pk=company.pk).exists()


def _fts_query(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def company_search(queryset: QuerySet[Company], term: str) -> QuerySet[Company]:
    """Search by name fragment or organisation number (with or without dash, any prefix).

    Name fragments of three characters or more use the database's index: FTS5 trigram on
    SQLite, pg_trgm on PostgreSQL (see migration 0002).
    """
    term = " ".join(term.split()).strip()
    if not term:
        return queryset
    if ORG_NUMBER_FRAGMENT.match(term):
        digits = re.sub(r"\D", "", term)
        if len(digits) == 12 and digits[:2] in {"16", "19", "20"}:
            digits = digits[2:]
        if len(digits) >= 3:
            return queryset.filter(org_number__startswith=digits)
    lowered = term.lower()
    if len(lowered) < 3:
        return queryset.filter(Q(name__istartswith=term) | Q(search_text__contains=f" {lowered}"))
    if connection.vendor == "sqlite":
        return queryset.extra(
            where=["companies_company.id IN (SELECT rowid FROM companies_company_fts WHERE companies_company_fts MATCH %s)"],
            params=[_fts_query(lowered)],
        )
    return queryset.filter(search_text__contains=lowered)


def _rank(field_name: str, values: list[str]) -> Case:
    """Sort by the natural order of choices (micro < small < ...), not their codes' alphabet."""
    return Case(
        *(When(**{field_name: value}, then=Value(i)) for i, value in enumerate(values)),
        default=Value(None), output_field=IntegerField(),
    )


_SIZE_RANK = _rank("size_class", list(SizeClass.values))
_STATUS_RANK = _rank("status", list(CompanyStatus.values))

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "org_number": ("org_number",),
    "-org_number": ("-org_number",),
    "municipality": ("municipality__name", "name"),
    "-municipality": ("-municipality__name", "name"),
    # Unknown size (no key figures) last either way.
    "size": (_SIZE_RANK.asc(nulls_last=True), "name"),
    "-size": (_SIZE_RANK.desc(nulls_last=True), "name"),
    "status": (_STATUS_RANK.asc(), "name"),
    "-status": (_STATUS_RANK.desc(), "name"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


@dataclass
class CompanyFilters:
    q: str = ""
    municipality: str = ""
    county: str = ""
    sni: str = ""
    size_class: str = ""
    status: str = ""
    target_group: str = ""  # "yes" | "no" | ""
    owner: str = ""  # user id, "me" or "none"
    sort: str = "name"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> CompanyFilters:
        filters = cls(**{key: (params.get(key) or "").strip() for key in (
            "q", "municipality", "county", "sni", "size_class", "status", "target_group", "owner", "sort"
        )})
        if filters.sort not in SORTS:
            filters.sort = "name"
        if filters.size_class and filters.size_class not in {*SizeClass.values, "unknown"}:
            filters.errors["size_class"] = str(_("Unknown size class."))
            filters.size_class = ""
        if filters.status and filters.status not in {*CompanyStatus.values, "all"}:
            filters.errors["status"] = str(_("Unknown status."))
            filters.status = ""
        if filters.sni and not re.fullmatch(r"[0-9.]{1,6}", filters.sni):
            filters.errors["sni"] = str(_("Write an SNI code or its beginning, e.g. 25 or 25.62."))
            filters.sni = ""
        return filters

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if k != "errors" and v and not (k == "sort" and v == "name")}


def company_list(user, filters: CompanyFilters) -> QuerySet[Company]:
    queryset = companies_visible_to(user)
    if filters.status == "all":
        pass
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.exclude(status=CompanyStatus.ARCHIVED)
    if filters.municipality:
        queryset = queryset.filter(municipality_id=filters.municipality)
    if filters.county:
        queryset = queryset.filter(municipality__county_id=filters.county)
    if filters.sni:
        queryset = queryset.filter(sni_primary__startswith=filters.sni.replace(".", ""))
    if filters.size_class == "unknown":
        queryset = queryset.filter(size_class="")
    elif filters.size_class:
        queryset = queryset.filter(size_class=filters.size_class)
    if filters.target_group == "yes":
        queryset = queryset.filter(target_group_q())
    elif filters.target_group == "no":
        queryset = queryset.exclude(target_group_q())
    if filters.owner == "me":
        queryset = queryset.filter(owner_advisor=user)
    elif filters.owner == "none":
        queryset = queryset.filter(owner_advisor__isnull=True)
    elif filters.owner.isdigit():
        queryset = queryset.filter(owner_advisor_id=int(filters.owner))
    queryset = company_search(queryset, filters.q)
    return queryset.select_related("municipality", "owner_advisor").order_by(*SORTS[filters.sort])


def register_summary(user) -> dict:
    visible = companies_visible_to(user)
    status_counts = dict(visible.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "total": sum(n for status, n in status_counts.items() if status != CompanyStatus.ARCHIVED),
        "target_group": visible.exclude(status=CompanyStatus.ARCHIVED).filter(target_group_q()).count(),
        "by_status": [
            {"status": status, "label": label, "count": status_counts.get(status, 0)}
            for status, label in CompanyStatus.choices
        ],
    }


def recent_changes(user) -> QuerySet[AuditEvent]:
    if not user.has_perm("core.view_auditevent"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(scope_type="companies.company").select_related("actor")


def company_history(company: Company) -> QuerySet[AuditEvent]:
    """The company's history, including that of companies merged into it (and into those, ...)."""
    merged: list[Company] = []
    frontier = [company.pk]
    while frontier:
        found = list(Company.objects.filter(merged_into_id__in=frontier).exclude(pk=company.pk))
        found = [c for c in found if c not in merged]
        merged.extend(found)
        frontier = [c.pk for c in found]
    return history_for(company, extra_scopes=merged)


def contacts_of(company: Company, *, include_archived: bool = False) -> QuerySet[Contact]:
    queryset = company.contacts.all()
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    return queryset.order_by("erased_at", "name")


def ownership_of(company: Company) -> dict:
    return {
        "owners": company.owners.select_related("holder").order_by("-voting_pct"),
        "holdings": company.holdings.select_related("held").order_by("-voting_pct"),
    }


def ownership_component(company_ids: set[int], *, max_size: int = 500) -> tuple[set[int], list]:
    """Companies connected to these through ownership links (any direction, any depth)."""
    from .models import OwnershipLink

    seen = set(company_ids)
    frontier = set(company_ids)
    links: dict[int, OwnershipLink] = {}
    while frontier and len(seen) < max_size:
        batch = list(
            OwnershipLink.objects.filter(Q(holder_id__in=frontier) | Q(held_id__in=frontier))
        )
        frontier = set()
        for link in batch:
            links[link.pk] = link
            for cid in (link.holder_id, link.held_id):
                if cid not in seen:
                    seen.add(cid)
                    frontier.add(cid)
    return seen, list(links.values())


def likely_duplicates(limit: int = 200) -> list[dict]:
    """Flagged pairs of active companies, with both records loaded for display."""
    from .duplicates import CompanyKey, duplicate_pairs
    from .models import NotDuplicate

    keys = [
        CompanyKey(id=pk, name=name, municipality=muni, org_number=org)
        for pk, name, muni, org in Company.objects.filter(merged_into__isnull=True)
        .exclude(status=CompanyStatus.ARCHIVED)
        .values_list("id", "name", "municipality_id", "org_number")
        .iterator(chunk_size=5000)
    ]
    dismissed = set(NotDuplicate.objects.values_list("first_id", "second_id"))
    pairs = duplicate_pairs(keys, dismissed)[:limit]
    ids = {p.first for p in pairs} | {p.second for p in pairs}
    companies = Company.objects.select_related("municipality").in_bulk(ids)
    return [
        {"first": companies[p.first], "second": companies[p.second], "reason": p.reason, "similarity": p.similarity}
        for p in pairs
    ]


def sni_names(codes: list[str], system: str = "SNI2007") -> dict[str, str]:
    from .models import SniCode

    wanted = [c for c in codes if c]
    return {sni.code: sni.name for sni in SniCode.objects.filter(system=system, code__in=wanted)}
