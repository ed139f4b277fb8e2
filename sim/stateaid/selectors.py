"""Reads of the de minimis ledger: rates, the single undertaking, visible awards and the check.

The check itself is :func:`sim.stateaid.rules.check`; this module gathers its inputs from the
database (control links of the register, granted awards, the rate table) and names the members.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sim.companies.models import Company, OwnershipLink
from sim.core.roles import REGISTER_WIDE_ROLES, user_roles

from . import rules
from .models import AidAward, ExchangeRate, UndertakingProfile

ZERO = Decimal(0)


# --- Rates ----------------------------------------------------------------------------------


def rate_on_or_before(day: dt.date) -> ExchangeRate | None:
    """The rate used for a date of granting: the latest on or before it (None when there is none)."""
    return ExchangeRate.objects.filter(date__lte=day).order_by("-date").first()


def rates() -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.select_related("created_by").order_by("-date")


# --- The single undertaking -----------------------------------------------------------------


CONTROL_Q = Q(controls=True) | Q(voting_pct__gt=50)


def single_undertaking(company: Company | int) -> tuple[int, ...]:
    """Company ids of the single undertaking (itself included), sorted.

    The connected component of control links (``controls`` or more than 50 % of the votes, either
    direction, any depth) — :func:`rules.single_undertaking` on the links found. A company merged
    into a member (or a member's absorbed company) belongs to it too: its earlier aid is the aid of
    the undertaking that took it over.
    """
    start = company.pk if isinstance(company, Company) else int(company)
    links: set[tuple[int, int]] = set()
    seen = {start}
    frontier = {start}
    while frontier:
        found: set[tuple[int, int]] = set()
        found.update(OwnershipLink.objects.filter(CONTROL_Q).filter(Q(holder_id__in=frontier) | Q(held_id__in=frontier))
                     .values_list("holder_id", "held_id"))
        found.update(Company.objects.filter(Q(merged_into_id__in=frontier) | Q(pk__in=frontier, merged_into__isnull=False))
                     .values_list("pk", "merged_into_id"))
        links.update(found)
        frontier = {end for link in found for end in link} - seen
        seen.update(frontier)
    return tuple(rules.single_undertaking(start, links))


def members_of(ids) -> list[Company]:
    """The companies, by name (for listing the single undertaking on every check)."""
    return list(Company.objects.filter(pk__in=list(ids)).order_by("name", "org_number"))


def member_labels(companies) -> list[str]:
    return [f"{c.name} ({c.org_number_display})" for c in companies]


# --- Awards ---------------------------------------------------------------------------------


def awards_visible_to(user) -> QuerySet[AidAward]:
    """The ledger entries this user may read: all (register-wide roles) or their own company's."""
    if not user.is_authenticated or not user.has_perm("stateaid.view_aidaward"):
        return AidAward.objects.none()
    qs = AidAward.objects.select_related("undertaking", "intervention", "offer", "created_by", "reverses")
    if user.is_superuser or user_roles(user) & REGISTER_WIDE_ROLES:
        return qs
    return qs.filter(undertaking__representatives__user=user)


def award_for_user(user, pk: int) -> AidAward | None:
    return awards_visible_to(user).filter(pk=pk).first()


def can_see_company(user, company: Company) -> bool:
    if user.is_superuser or user_roles(user) & REGISTER_WIDE_ROLES:
        return True
    return company.representatives.filter(user=user).exists()


@dataclass(frozen=True)
class LedgerFilters:
    q: str = ""
    company: int | None = None
    status: str = ""
    regulation: str = ""
    declared: str = ""  # "", "yes", "no"
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def ledger(user, filters: LedgerFilters) -> QuerySet[AidAward]:
    qs = awards_visible_to(user)
    if filters.company:
        qs = qs.filter(undertaking_id=filters.company)
    if filters.q:
        term = filters.q.strip()
        digits = term.replace("-", "")
        match = Q(undertaking__name__icontains=term) | Q(measure__icontains=term) | Q(granting_authority__icontains=term)
        if digits.isdigit():
            match |= Q(undertaking__org_number__startswith=digits)
        qs = qs.filter(match)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.regulation:
        qs = qs.filter(regulation=filters.regulation)
    if filters.declared == "yes":
        qs = qs.filter(declared=True)
    elif filters.declared == "no":
        qs = qs.filter(declared=False)
    if filters.date_from:
        qs = qs.filter(granted_on__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(granted_on__lte=filters.date_to)
    return qs.order_by("-granted_on", "-id")


def company_awards(company: Company) -> QuerySet[AidAward]:
    return AidAward.objects.filter(undertaking=company).select_related("intervention", "reverses").order_by(
        "-granted_on", "-id")


def counted_awards(member_ids, start: dt.date, end: dt.date, *, exclude_intervention: int | None = None) -> list[AidAward]:
    """Granted (and declared) awards to these companies granted from `start` to `end`, none revoked."""
    qs = AidAward.objects.counted().filter(undertaking_id__in=list(member_ids), granted_on__gte=start, granted_on__lte=end)
    if exclude_intervention is not None:
        qs = qs.exclude(intervention_id=exclude_intervention)
    return list(qs.select_related("undertaking").order_by("granted_on", "id"))


def takeover_roots(company_ids) -> dict[int, int]:
    """For each company, the company that finally took it over (the end of its ``merged_into``
    chain); a company not merged into another is its own root."""
    parent: dict[int, int | None] = {}
    frontier = set(company_ids)
    while frontier:
        found = dict(Company.objects.filter(pk__in=list(frontier)).values_list("pk", "merged_into_id"))
        parent.update(found)
        parent.update(dict.fromkeys(frontier - found.keys()))
        frontier = {up for up in found.values() if up is not None and up not in parent}
    roots: dict[int, int] = {}
    for start in set(company_ids):
        current, seen = start, {start}
        while parent.get(current) is not None and parent[current] not in seen:
            current = parent[current]
            seen.add(current)
        roots[start] = current
    return roots


def counted_awards_by_root(company_ids, start: dt.date, end: dt.date) -> list[tuple[int, AidAward]] | None:
    """The counted awards from `start` to `end` of these companies and of every company merged into
    one of them (at any depth), each paired with the company that finally took its recipient over.

    Only awards whose recipient's root is among `company_ids` are returned, so asking for a
    partition of a set of whole single undertakings returns every award exactly once. ``None``
    when a company merged away still has control links of its own: then the single undertaking
    of the company that took it over is more than its merger tree, and only the company-by-company
    check (:func:`ledger_check`) is exact.
    """
    ids = set(company_ids)
    tree = set(ids)
    frontier = set(ids)
    while frontier:
        frontier = set(Company.objects.filter(merged_into_id__in=list(frontier)).values_list("pk", flat=True)) - tree
        tree |= frontier
    merged_away = set(Company.objects.filter(pk__in=list(tree), merged_into__isnull=False).values_list("pk", flat=True))
    if merged_away and OwnershipLink.objects.filter(CONTROL_Q).filter(
            Q(holder_id__in=merged_away) | Q(held_id__in=merged_away)).exists():
        return None
    roots = takeover_roots(tree) if merged_away else {pk: pk for pk in tree}
    awards = AidAward.objects.counted().filter(undertaking_id__in=list(tree), granted_on__gte=start, granted_on__lte=end)
    return [(roots[a.undertaking_id], a) for a in awards.order_by("granted_on", "id") if roots[a.undertaking_id] in ids]


# --- The check ------------------------------------------------------------------------------


def _eur(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


@dataclass(frozen=True)
class LedgerCheck:
    """The check of one proposed award against the ledger, with the members and awards by name."""

    company: Company
    result: rules.Check
    members: list[Company]
    awards: list[AidAward]
    proposed_sek: Decimal | None = None
    rate: ExchangeRate | None = None
    explanation: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.result.allowed

    @property
    def member_labels(self) -> list[str]:
        return member_labels(self.members)

    @property
    def message(self) -> str:
        """One paragraph with every figure: used, proposed, ceiling, headroom, window and members."""
        r = self.result
        values = {
            "company": self.company.name, "regulation": r.regulation, "used": _eur(r.used_eur),
            "proposed": _eur(r.proposed_eur), "ceiling": _eur(r.ceiling_eur), "headroom": _eur(r.headroom_eur),
            "from": r.window.start.isoformat(), "to": r.window.end.isoformat(),
            "members": "; ".join(self.member_labels), "over": _eur(r.over_by_eur),
            "left": _eur(r.remaining_after_eur),
        }
        figures = _(
            "De minimis (Regulation %(regulation)s) for %(company)s: used EUR %(used)s from %(from)s to %(to)s, "
            "proposed EUR %(proposed)s, ceiling EUR %(ceiling)s, headroom EUR %(headroom)s. "
            "Single undertaking: %(members)s."
        ) % values
        if r.allowed:
            return figures + " " + _("The aid fits; EUR %(left)s remains.") % values
        return figures + " " + _(
            "The aid would exceed the ceiling by EUR %(over)s, so no part of it may be granted as de minimis aid."
        ) % values


def profile_of(company: Company) -> tuple[bool, tuple[int, int]]:
    """(road freight, fiscal-year start) of the undertaking; the defaults when it has no profile."""
    profile = UndertakingProfile.objects.filter(company=company).first()
    if profile is None:
        return False, rules.DEFAULT_FISCAL_YEAR_START
    try:
        return profile.road_freight, rules.parse_fiscal_year_start(profile.fiscal_year_start)
    except rules.RuleError:
        return profile.road_freight, rules.DEFAULT_FISCAL_YEAR_START


def ledger_check(company: Company, on: dt.date, proposed_eur: Decimal, *, proposed_sek: Decimal | None = None,
                 rate: ExchangeRate | None = None, exclude_intervention: int | None = None) -> LedgerCheck:
    """May `proposed_eur` of de minimis aid be granted to `company` on `on`, given the ledger?

    Road freight and the fiscal year are those of `company` (they matter only under 1407/2013).
    """
    members = single_undertaking(company)
    road_freight, fiscal_year_start = profile_of(company)
    regulation = rules.regulation_for(on)
    window = rules.window_for(regulation, on, fiscal_year_start)
    awards = counted_awards(members, window.start, window.end, exclude_intervention=exclude_intervention)
    result = rules.check(
        members=members, on=on, proposed_eur=rules.cents(proposed_eur),
        awards=[rules.Award(a.undertaking_id, a.granted_on, a.amount_eur, ref=a.pk) for a in awards],
        regulation=regulation, road_freight=road_freight, fiscal_year_start=fiscal_year_start,
    )
    member_companies = members_of(members)
    names = {c.pk: f"{c.name} ({c.org_number_display})" for c in member_companies}
    explanation = rules.explain(result, names=names, whole=False)
    return LedgerCheck(company=company, result=result, members=member_companies, awards=awards,
                       proposed_sek=proposed_sek, rate=rate, explanation=explanation)


def headroom_today(company: Company, on: dt.date) -> LedgerCheck:
    return ledger_check(company, on, ZERO)
