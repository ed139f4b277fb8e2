"""Reads of the actuals: cost entries, staff rates, time reports and company contributions.

Aggregates the dashboard builds on (``sim/finance/selectors.py``):

* :func:`actual_costs` — actual costs grouped by any of category, partner, month and whether they
  were company-specific; staff costs come from the time reports (category ``staff``), everything
  else from the ledger (reversals included, so a reversed entry nets to zero).
* :func:`actual_items` — the same as :class:`sim.finance.rules.ActualItem` values.
* :func:`company_contributions` — the companies' own cash and hours per intervention, valued at
  the adopted scenario's standard hourly rate: the private co-financing actually committed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from sim.core.models import AuditEvent
from sim.programmes.models import Intervention, InterventionStatus, Project
from sim.programmes.projects import projects_for

from . import rules_actuals as rules
from .models import BudgetScenario, CostEntry, StaffRate, TimeReport

ZERO = Decimal(0)
GROUPINGS = ("category", "partner", "month", "company_specific")
#: Interventions whose own contributions count as committed co-financing.
CONTRIBUTING_STATUSES = (
    InterventionStatus.APPROVED, InterventionStatus.IN_PROGRESS, InterventionStatus.DELIVERED,
    InterventionStatus.CLOSED,
)


# --- Cost entries ---------------------------------------------------------------------------


def cost_entries(project: Project) -> QuerySet[CostEntry]:
    return (
        CostEntry.objects.filter(project=project)
        .select_related("partner__organisation", "intervention", "company", "reverses", "recorded_by")
        .annotate(reversal_count=Count("reversed_by"))
        .order_by("-date", "-id")
    )


@dataclass(frozen=True)
class CostFilters:
    category: str = ""
    partner: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    intervention: int | None = None
    text: str = ""


def cost_entries_filtered(project: Project, filters: CostFilters) -> QuerySet[CostEntry]:
    queryset = cost_entries(project)
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.partner:
        queryset = queryset.filter(partner_id=filters.partner)
    if filters.start:
        queryset = queryset.filter(date__gte=filters.start)
    if filters.end:
        queryset = queryset.filter(date__lte=filters.end)
    if filters.intervention:
        queryset = queryset.filter(intervention_id=filters.intervention)
    if filters.text:
        queryset = queryset.filter(Q(voucher__icontains=filters.text) | Q(description__icontains=filters.text))
    return queryset


def cost_totals_by_category(queryset: QuerySet[CostEntry]) -> list[dict]:
    """``[{"category", "amount_sek", "entries"}]`` of a (filtered) ledger, and the total."""
    rows = (queryset.order_by().values("category").annotate(amount_sek=Sum("amount_sek"), entries=Count("id"))
            .order_by("category"))
    return list(rows)


def cost_entry_for_user(user, pk: int) -> CostEntry | None:
    """A cost entry of one of the user's projects, or ``None`` (also for another project's)."""
    return (
        CostEntry.objects.filter(pk=pk, project__in=projects_for(user))
        .select_related("project", "partner__organisation", "intervention", "company", "reverses", "recorded_by")
        .first()
    )


def reversal_of(entry: CostEntry) -> CostEntry | None:
    return CostEntry.objects.filter(reverses=entry).select_related("recorded_by").first()


def entry_history(entry: CostEntry) -> QuerySet[AuditEvent]:
    """Audit events of an entry and of its reversal (scoped to the entry)."""
    label = entry._meta.label_lower
    return (
        AuditEvent.objects.filter(
            Q(object_type=label, object_id=str(entry.pk)) | Q(scope_type=label, scope_id=str(entry.pk))
        ).select_related("actor").order_by("-occurred_at", "-id")
    )


# --- Staff rates and time reports -----------------------------------------------------------


def staff_rates(project: Project) -> list[StaffRate]:
    """Every staff rate of a project, newest first per person, with its hourly cost."""
    rates = list(
        StaffRate.objects.filter(project=project).select_related("person", "partner__organisation")
        .order_by("person__first_name", "person__last_name", "person__username", "-valid_from")
    )
    for rate in rates:
        rate.hourly_cost_sek = rules.hourly_cost(rate.monthly_salary_sek, rate.overhead_pct, rate.annual_hours)
    return rates


def staff_rate_for_user(user, pk: int) -> StaffRate | None:
    return (
        StaffRate.objects.filter(pk=pk, project__in=projects_for(user))
        .select_related("project", "person", "partner__organisation").first()
    )


def project_staff(project: Project, *, with_reporters: bool = False, also=()):
    """Members of a project who can report time (its staff; not auditors, company reps or education
    providers); ``with_reporters``: also anyone who has reported time in it; ``also``: these users too."""
    from sim.core.roles import Role

    reporting = [Role.ADVISOR.value, Role.PROJECT_MANAGER.value, Role.FINANCE_OFFICER.value, Role.ADMIN.value]
    members = Q(
        pk__in=get_user_model().objects.filter(project_memberships__project=project, is_active=True)
        .filter(Q(groups__name__in=reporting) | Q(is_superuser=True)).values("pk"))
    if with_reporters:
        members |= Q(pk__in=TimeReport.objects.filter(project=project).values("person_id"))
    if also:
        members |= Q(pk__in=[user.pk for user in also])
    return get_user_model().objects.filter(members).order_by("first_name", "last_name", "username")


def time_reports(project: Project, *, month: dt.date | None = None, person=None,
                 start: dt.date | None = None, end: dt.date | None = None) -> QuerySet[TimeReport]:
    queryset = TimeReport.objects.filter(project=project).select_related("person", "focus_area", "partner__organisation")
    if month is not None:
        queryset = queryset.filter(month=rules.month_start(month))
    if person is not None:
        queryset = queryset.filter(person=person)
    if start is not None:
        queryset = queryset.filter(month__gte=rules.month_start(start))
    if end is not None:
        queryset = queryset.filter(month__lte=end)
    return queryset.order_by("-month", "person__first_name", "person__last_name", "focus_area__order")


@dataclass
class TimeRow:
    """One person's month in a project: hours per focus area and the staff cost."""

    person: object
    month: dt.date
    hours: Decimal = ZERO
    cost_sek: Decimal = ZERO
    by_focus_area: dict[int | None, Decimal] = field(default_factory=dict)


def time_summary(reports: Iterable[TimeReport]) -> dict:
    """Per person and month (newest first), with totals per person and overall."""
    rows: dict[tuple[int, dt.date], TimeRow] = {}
    people: dict[int, dict] = {}
    total_hours, total_cost = ZERO, ZERO
    for report in reports:
        key = (report.person_id, report.month)
        row = rows.get(key)
        if row is None:
            row = rows[key] = TimeRow(report.person, report.month)
        cost = report.cost_sek
        row.hours += report.hours
        row.cost_sek += cost
        row.by_focus_area[report.focus_area_id] = row.by_focus_area.get(report.focus_area_id, ZERO) + report.hours
        person = people.setdefault(report.person_id, {"person": report.person, "hours": ZERO, "cost_sek": ZERO})
        person["hours"] += report.hours
        person["cost_sek"] += cost
        total_hours += report.hours
        total_cost += cost
    ordered = sorted(rows.values(), key=lambda r: (-r.month.toordinal(), r.person.get_full_name(), r.person.pk))
    return {
        "rows": ordered,
        "people": sorted(people.values(), key=lambda p: (p["person"].get_full_name(), p["person"].pk)),
        "hours": total_hours,
        "cost_sek": total_cost,
    }


def month_grid(project: Project, person, month: dt.date) -> dict[int | None, TimeReport]:
    """A person's reports of a month, by focus area id (``None``: not tied to a focus area)."""
    return {r.focus_area_id: r for r in TimeReport.objects.filter(project=project, person=person,
                                                                  month=rules.month_start(month))}


def hours_elsewhere(project: Project, person, month: dt.date) -> Decimal:
    return TimeReport.objects.filter(person=person, month=rules.month_start(month)).exclude(project=project).aggregate(
        hours=Sum("hours"))["hours"] or ZERO


def rate_in_month(project: Project, person, month: dt.date) -> StaffRate | None:
    """The staff rate valid in a month (see :func:`rules_actuals.rate_for_month`)."""
    return (StaffRate.objects.filter(project=project, person=person, valid_from__lte=rules.month_end(month))
            .order_by("-valid_from").first())


# --- Aggregates for the dashboard -----------------------------------------------------------


def actual_costs(
    project: Project, *, by: Iterable[str] = ("category", "partner", "month"), start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[dict]:
    """Actual costs of a project grouped by any of ``category``, ``partner`` (a ProjectPartner id or
    ``None``), ``month`` (its first day) and ``company_specific`` (tied to an intervention or a
    company), each row ``{<groups>..., "amount_sek": Decimal}``, in a stable order.

    Staff costs are the time reports' hours × their fixed hourly cost (category ``staff``, never
    company-specific); all other categories come from the cost ledger. Indirect costs are not
    included: they are the scenario's flat rate on staff costs. ``start``/``end`` limit by date
    (time reports by month).
    """
    groups = tuple(by)
    unknown = [g for g in groups if g not in GROUPINGS]
    if unknown:
        raise ValueError(f"unknown grouping: {', '.join(unknown)}")
    sums: dict[tuple, Decimal] = defaultdict(lambda: ZERO)

    entries = CostEntry.objects.filter(project=project)
    if start is not None:
        entries = entries.filter(date__gte=start)
    if end is not None:
        entries = entries.filter(date__lte=end)
    entry_fields = {"category": "category", "partner": "partner_id", "month": "month"}
    values = [entry_fields[g] for g in groups if g in entry_fields]
    rows = entries.order_by()
    if "month" in groups:
        rows = rows.annotate(month=TruncMonth("date"))
    if "company_specific" in groups:
        # Two passes (specific and not) keep it one GROUP BY each.
        for specific, subset in ((True, rows.filter(Q(intervention__isnull=False) | Q(company__isnull=False))),
                                 (False, rows.filter(intervention__isnull=True, company__isnull=True))):
            for row in subset.values(*values).annotate(amount=Sum("amount_sek")):
                sums[_key(groups, row, specific=specific)] += row["amount"] or ZERO
    else:
        for row in rows.values(*values).annotate(amount=Sum("amount_sek")):
            sums[_key(groups, row)] += row["amount"] or ZERO

    reports = TimeReport.objects.filter(project=project)
    if start is not None:
        reports = reports.filter(month__gte=rules.month_start(start))
    if end is not None:
        reports = reports.filter(month__lte=end)
    # Each report's cost rounded to the öre, as TimeReport.cost_sek (and the dashboard) count it.
    for partner_id, month, hours, hourly in reports.order_by().values_list("partner_id", "month", "hours",
                                                                          "hourly_cost_sek"):
        row = {"category": "staff", "partner_id": partner_id, "month": month}
        sums[_key(groups, row, specific=False)] += rules.staff_cost(hours, hourly)

    result = []
    for key, amount in sums.items():
        row = dict(zip(groups, key, strict=True))
        row["amount_sek"] = rules.to_cents(amount)
        result.append(row)
    result.sort(key=lambda r: tuple(_sortable(r.get(g)) for g in groups))
    return result


def _key(groups: tuple[str, ...], row: dict, *, specific: bool = False) -> tuple:
    key = []
    for group in groups:
        if group == "category":
            key.append(row["category"])
        elif group == "partner":
            key.append(row.get("partner_id"))
        elif group == "month":
            month = row["month"]
            key.append(rules.month_start(month.date() if isinstance(month, dt.datetime) else month))
        else:
            key.append(specific)
    return tuple(key)


def _sortable(value):
    return (value is None, str(value) if not isinstance(value, bool) else str(int(value)))


def actual_items(project: Project, *, end: dt.date | None = None) -> list:
    """The actual costs as :class:`sim.finance.rules.ActualItem` values (month as a month index)."""
    from .rules import ActualItem, month_index

    return [
        ActualItem(category=row["category"], month=month_index(row["month"]), amount=row["amount_sek"],
                   partner=row["partner"], company_specific=row["company_specific"])
        for row in actual_costs(project, by=("category", "partner", "month", "company_specific"), end=end)
    ]


# --- Company contributions ------------------------------------------------------------------


@dataclass
class ContributionRow:
    intervention: Intervention
    own_cash_sek: Decimal
    own_hours: Decimal
    hours_value_sek: Decimal | None

    @property
    def total_sek(self) -> Decimal:
        return self.own_cash_sek + (self.hours_value_sek or ZERO)


@dataclass
class Contributions:
    """Companies' own contributions to their interventions: private co-financing."""

    rows: list[ContributionRow]
    hourly_rate_sek: Decimal | None
    scenario: BudgetScenario | None
    cash_sek: Decimal = ZERO
    hours: Decimal = ZERO
    hours_value_sek: Decimal | None = None

    @property
    def total_sek(self) -> Decimal:
        return self.cash_sek + (self.hours_value_sek or ZERO)


def adopted_scenario(project: Project) -> BudgetScenario | None:
    return BudgetScenario.objects.filter(project=project, is_adopted=True).first()


def company_contributions(project: Project, *, statuses: Iterable[str] = CONTRIBUTING_STATUSES,
                          hourly_rate_sek: Decimal | None = None) -> Contributions:
    """Own cash and own hours of the project's interventions (approved, in progress, delivered,
    closed: the committed ones), hours valued at ``hourly_rate_sek`` or else the adopted scenario's
    standard hourly rate (``None`` without an adopted scenario: the hours are then not valued)."""
    scenario = adopted_scenario(project)
    rate = hourly_rate_sek if hourly_rate_sek is not None else (
        scenario.in_kind_hourly_rate_sek if scenario is not None else None)
    interventions = (
        Intervention.objects.filter(project=project, status__in=list(statuses))
        .filter(Q(own_cash_sek__gt=0) | Q(own_hours__gt=0))
        .select_related("company").order_by("company__name", "title", "pk")
    )
    rows = []
    cash = hours = ZERO
    for intervention in interventions:
        value = rules.to_cents(intervention.own_hours * rate) if rate is not None else None
        rows.append(ContributionRow(intervention, intervention.own_cash_sek, intervention.own_hours, value))
        cash += intervention.own_cash_sek
        hours += intervention.own_hours
    return Contributions(
        rows=rows, hourly_rate_sek=rate, scenario=scenario, cash_sek=cash, hours=hours,
        hours_value_sek=rules.to_cents(hours * rate) if rate is not None else None,
    )
