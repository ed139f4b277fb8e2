"""Reads for indicators and progress reports.

The facts behind the indicators come from a handful of aggregate queries whatever the number of
companies (first support per company and form grouped in SQL; the day each company's activity hours
reach the project's minimum by a window function in SQL; companies, key figures and ownership links
of the supported companies by indexed look-ups of 500 at a time); the counting is in
:mod:`sim.reporting.rules`. The report page, its exports, the CLI and the API all use
:func:`indicator_report`, so they show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from sim.activities.models import Activity, Event, Registration
from sim.companies import rules as company_rules
from sim.companies.models import Company, KeyFigures, OwnershipLink
from sim.programmes.models import (
    FocusArea,
    Intervention,
    Organisation,
    Project,
    Referral,
    ReferralStatus,
)
from sim.programmes.projects import projects_for
from sim.programmes.states import INTERVENTION_COMMITTED, REFERRAL_OPEN

from . import catalogue, rules
from .models import IndicatorEntry, IndicatorMilestone, ProjectIndicator, ProjectIndicatorSet

REFERRAL_STARTED = (ReferralStatus.STARTED, ReferralStatus.COMPLETED)


def project_for_user(user, pk: int) -> Project | None:
    return projects_for(user).select_related("owner").filter(pk=pk).first()


def project_by_code(code: str) -> Project | None:
    return Project.objects.filter(code=code).first()


def indicator_set_of(project: Project) -> ProjectIndicatorSet | None:
    return ProjectIndicatorSet.objects.filter(project=project).first()


def indicators_of(project: Project) -> list[ProjectIndicator]:
    return list(ProjectIndicator.objects.filter(project=project).order_by("own", "order", "code"))


# --- The facts ---------------------------------------------------------------------------------


@dataclass
class Facts:
    """Everything the counting rules need about one project."""

    supports: list[rules.Support]
    companies: dict[str, rules.CompanyFacts]
    investments: list[rules.Investment]
    enterprises: dict[str, rules.Enterprise]


@dataclass(frozen=True)
class Scope:
    """What an overview is limited to: the companies of one municipality (its code); the work in one
    focus area (its id: interventions and activities in it, referrals to offers in it); the work of
    one partner's staff (their user ids: activities they took part in, referrals they are responsible
    for, interventions and events they created)."""

    municipality: str | None = None
    focus_area: int | None = None
    partner_users: tuple[int, ...] | None = None

    @property
    def limited(self) -> bool:
        return bool(self.municipality or self.focus_area or self.partner_users is not None)

    @property
    def _users(self) -> tuple[int, ...]:
        return self.partner_users or (-1,)  # a partner without staff: nothing

    def companies(self, prefix: str = "company__") -> Q:
        return Q(**{f"{prefix}municipality_id": self.municipality}) if self.municipality else Q()

    def _area(self, field: str) -> Q:
        return Q(**{field: self.focus_area}) if self.focus_area else Q()

    def _by(self, field: str) -> Q:
        return Q(**{f"{field}__in": self._users}) if self.partner_users is not None else Q()

    def interventions(self) -> Q:
        return self.companies() & self._area("focus_area_id") & self._by("created_by_id")

    def referrals(self) -> Q:
        return self.companies() & self._area("offer__focus_areas") & self._by("advisor_id")

    def activities(self) -> Q:
        if self.partner_users is None:
            staff = Q()
        else:
            # Exists, not a join: an activity with two of the partner's advisors counts once.
            staff = Q(Exists(Activity.advisors.through.objects.filter(activity_id=OuterRef("pk"),
                                                                      user_id__in=self._users)))
        return self.companies() & self._area("focus_area_id") & staff

    def registrations(self) -> Q:
        return self.companies() & self._area("event__focus_areas") & self._by("event__created_by_id")


ALL = Scope()


def supports_of(project: Project, scope: Scope = ALL) -> list[rules.Support]:
    """Qualifying supports: the first per company, form and research flag, grouped in SQL."""
    research = Organisation.Kind.RESEARCH
    supports: list[rules.Support] = []
    interventions = (
        Intervention.objects.filter(scope.interventions(), project=project, status__in=INTERVENTION_COMMITTED,
                                    approved_on__isnull=False)
        .order_by().values("company__org_number", "support_form", "provider__kind")
        .annotate(first=Min("approved_on"))
    )
    for row in interventions:
        supports.append(rules.Support(row["company__org_number"], row["first"], row["support_form"],
                                      rules.SOURCE_INTERVENTION, row["provider__kind"] == research))
    referrals = (
        Referral.objects.filter(scope.referrals(), project=project, status__in=REFERRAL_STARTED,
                                started_on__isnull=False)
        .order_by().values("company__org_number", "offer__support_form", "offer__provider__kind")
        .annotate(first=Min("started_on"))
    )
    for row in referrals:
        supports.append(rules.Support(row["company__org_number"], row["first"], row["offer__support_form"],
                                      rules.SOURCE_REFERRAL, row["offer__provider__kind"] == research))
    minimum = min_hours(project)
    for _company_id, org_number, day in activity_threshold_dates(project, minimum, scope):
        supports.append(rules.Support(org_number, day, rules.NON_FINANCIAL, rules.SOURCE_ACTIVITIES))
    return supports


def min_hours(project: Project) -> Decimal:
    return Decimal(project.min_support_hours if project.min_support_hours is not None else rules.DEFAULT_MIN_HOURS)


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def activity_threshold_dates(project: Project, minimum: Decimal, scope: Scope = ALL,
                             ) -> list[tuple[int, str, dt.date]]:
    """Per company, the day its activity hours in the project reach ``minimum``: the running total
    by date (a window over the company's activities, hours of one day together) in SQL, the first
    day it reaches the minimum. Equal to :func:`sim.reporting.rules.activity_supports` (a test
    holds them equal) without reading every activity."""
    activity, company = Activity._meta.db_table, Company._meta.db_table
    through = Activity.advisors.through._meta.db_table
    where = " AND focus_area_id = %s" if scope.focus_area else ""
    if scope.partner_users is not None:
        placeholders = ", ".join(["%s"] * len(scope._users))
        where += f" AND id IN (SELECT activity_id FROM {through} WHERE user_id IN ({placeholders}))"
    # The first day per company before the join: the organisation numbers of the companies, not of
    # each of their activities past the minimum, are joined.
    sql = (
        f"SELECT t.company_id, c.org_number, t.day FROM ("
        f" SELECT r.company_id, MIN(r.date) AS day FROM ("
        f"  SELECT company_id, date, SUM(hours) OVER (PARTITION BY company_id ORDER BY date"
        f"   RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running"
        f"  FROM {activity} WHERE project_id = %s{where}) r"
        f" WHERE ROUND(r.running, 2) >= %s GROUP BY r.company_id) t"
        f" JOIN {company} c ON c.id = t.company_id{' WHERE c.municipality_id = %s' if scope.municipality else ''}"
    )
    params = [project.pk, *([scope.focus_area] if scope.focus_area else []),
              *(scope._users if scope.partner_users is not None else []), float(minimum),
              *([scope.municipality] if scope.municipality else [])]
    with connection.cursor() as cursor:
        # A float: SQLite compares a REAL with a text parameter as text.
        cursor.execute(sql, params)
        return [(pk, org, _as_date(day)) for pk, org, day in cursor.fetchall()]


def _sek_per_eur() -> Decimal:
    return Decimal(str(settings.SIM_SME_SEK_PER_EUR))


def _raw_category(staff, turnover, balance, rate: Decimal) -> str | None:
    """As the register classifies a year (see ``companies.services.sme_scenario_for``): a year
    needs staff and turnover or balance sheet total."""
    if staff is None or (turnover is None and balance is None):
        return None
    turnover = turnover if turnover is not None else balance
    balance = balance if balance is not None else turnover
    return company_rules.category_for(Decimal(staff), (Decimal(turnover) / rate).quantize(Decimal("1")),
                                      (Decimal(balance) / rate).quantize(Decimal("1")))


def candidate_companies(project: Project, scope: Scope = ALL) -> QuerySet[Company]:
    """The companies that may be supported in the project (an approved intervention, a started
    referral or any activity): a superset of the supported, as a subquery (no id lists).

    One ``IN`` over a ``UNION`` of the three, not three ``IN``s joined by ``OR``: PostgreSQL runs an
    ``OR`` of ``IN``s as subplans, hashed only while its estimate of a subquery's rows fits in
    ``work_mem`` (4 MB by default); the activities of a large programme (500,000) do not, and the
    unhashed subplan rescanned them for every company in the register (the report did not finish
    in ten minutes; see docs/performance.md, "Indicators and dashboard at programme scale"). The
    union is a hash semi-join on both databases."""
    ids = (
        Intervention.objects.filter(project=project, status__in=INTERVENTION_COMMITTED, approved_on__isnull=False)
        .order_by().values("company_id")
        .union(Referral.objects.filter(project=project, status__in=REFERRAL_STARTED, started_on__isnull=False)
               .order_by().values("company_id"),
               Activity.objects.filter(project=project).order_by().values("company_id"))
    )
    return Company.objects.filter(scope.companies(""), pk__in=ids).order_by()


def untouched(project: Project) -> Q:
    """Companies the project has not touched: the complement of :func:`candidate_companies` (no
    approved intervention, started referral or activity in the project), as three ``NOT EXISTS``:
    anti-joins on both databases, where ``NOT IN`` over the candidates' union was an unhashed
    subplan on PostgreSQL (the impact page took 40 s at 100,000 companies)."""
    return (
        ~Q(Exists(Intervention.objects.filter(project=project, status__in=INTERVENTION_COMMITTED, approved_on__isnull=False,
                                              company_id=OuterRef("pk"))))
        & ~Q(Exists(Referral.objects.filter(project=project, status__in=REFERRAL_STARTED, started_on__isnull=False,
                                            company_id=OuterRef("pk"))))
        & ~Q(Exists(Activity.objects.filter(project=project, company_id=OuterRef("pk"))))
    )


def _any(column: str, values: list) -> tuple[str, list]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL (no statement with
    thousands of placeholders to build and parse), ``IN (…)`` elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _as_decimal(value) -> Decimal | None:
    """A key figure (two decimals) as the ORM gives it: SQLite returns a float or an int,
    PostgreSQL a Decimal."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(_CENT)


_CENT = Decimal("0.01")


def _as_optional_date(value) -> dt.date | None:
    return None if value is None else _as_date(value)


#: Companies per query of :func:`company_facts`.
FACTS_CHUNK = 500


def company_facts(org_numbers: Iterable[str]) -> dict[str, rules.CompanyFacts]:
    """Registration, size classes per year, staff and turnover of the companies with these
    organisation numbers (the supported: known once the supports are), three indexed queries per
    :data:`FACTS_CHUNK` companies.

    Looked up by number rather than through a subquery of the candidate companies: such a subquery
    (a union over the project's interventions, referrals and activities) costs a scan of the
    activities each time it is used, and was used four times.

    A company with ownership links is classified by the register's full SME rule (linked and
    partner enterprises included) for each year; the others by their own figures with the
    two-year rule, which is what the full rule gives for a stand-alone enterprise.
    """
    rate = _sek_per_eur()
    wanted = sorted(set(org_numbers))
    rows: dict[int, dict] = {}
    raw: dict[int, dict[int, str]] = defaultdict(dict)
    staff: dict[int, dict[int, Decimal]] = defaultdict(dict)
    turnover: dict[int, dict[int, Decimal]] = defaultdict(dict)
    linked = set()
    company, figures, links = Company._meta.db_table, KeyFigures._meta.db_table, OwnershipLink._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), FACTS_CHUNK):
            numbers = wanted[start:start + FACTS_CHUNK]
            # Raw SQL: three plain reads of many rows, where the ORM's per-row work was a third of
            # the report's time at programme scale (docs/performance.md).
            where, params = _any("org_number", numbers)
            cursor.execute(f"SELECT id, org_number, name, registration_date, size_class FROM {company} WHERE {where}",
                           params)
            chunk = {pk: {"pk": pk, "org_number": org, "name": name, "registration_date": _as_optional_date(day),
                          "size_class": size}
                     for pk, org, name, day, size in cursor.fetchall()}
            rows.update(chunk)
            if not chunk:
                continue
            where, params = _any("company_id", list(chunk))
            cursor.execute(f"SELECT company_id, fiscal_year, staff_awu, turnover_sek, balance_sheet_sek FROM {figures}"
                           f" WHERE {where}", params)
            for pk, year, staff_awu, turnover_sek, balance_sek in cursor.fetchall():
                staff_awu, turnover_sek, balance_sek = (_as_decimal(staff_awu), _as_decimal(turnover_sek),
                                                        _as_decimal(balance_sek))
                category = _raw_category(staff_awu, turnover_sek, balance_sek, rate)
                if category:
                    raw[pk][year] = category
                if staff_awu is not None:
                    staff[pk][year] = staff_awu
                if turnover_sek is not None:
                    turnover[pk][year] = turnover_sek
            holder_in, holder_params = _any("holder_id", list(chunk))
            held_in, held_params = _any("held_id", list(chunk))
            cursor.execute(f"SELECT holder_id, held_id FROM {links} WHERE {holder_in} OR {held_in}",
                           holder_params + held_params)
            for holder, held in cursor.fetchall():
                linked.update((holder, held))
    linked_sizes = linked_size_classes(sorted(pk for pk in rows if pk in linked))
    result: dict[str, rules.CompanyFacts] = {}
    for pk, row in rows.items():
        sizes = company_rules.apply_two_year_rule(raw[pk]) if raw[pk] else {}
        if pk in linked:
            sizes = linked_sizes[pk]
        result[row["org_number"]] = rules.CompanyFacts(
            org_number=row["org_number"], name=row["name"], registration_date=row["registration_date"],
            size_classes=sizes, current_size_class=row["size_class"] or "",
            staff=dict(staff[pk]), turnover=dict(turnover[pk]),
        )
    return result


#: Companies whose ownership graphs are read together by :func:`linked_size_classes`.
LINKED_CHUNK = 50
#: ``companies.selectors.ownership_component`` stops walking at this many companies.
OWNERSHIP_CAP = 500


def linked_size_classes(pks: list[int]) -> dict[int, dict[int, str]]:
    """Effective SME category per year of companies with ownership links, by the register's full rule:
    what ``companies.services.company_sme_assessment`` gives for each (a test holds them equal), with
    the graphs of :data:`LINKED_CHUNK` companies read in one go (five queries) instead of five queries
    per company. A chunk whose walk reaches ``ownership_component``'s cap (:data:`OWNERSHIP_CAP`) may
    be incomplete, so its companies are assessed one by one as before."""
    from sim.companies.services import company_sme_assessment, sme_scenario_for

    result: dict[int, dict[int, str]] = {}
    for start in range(0, len(pks), LINKED_CHUNK):
        chunk = pks[start:start + LINKED_CHUNK]
        enterprises, holdings, by_label = sme_scenario_for(set(chunk))
        if len(by_label) >= OWNERSHIP_CAP:
            for pk in chunk:
                assessment = company_sme_assessment(Company.objects.get(pk=pk))
                result[pk] = dict(assessment.effective_categories) if assessment else {}
            continue
        label_of = {company.pk: label for label, company in by_label.items()}
        neighbours: dict[str, set[str]] = defaultdict(set)
        for h in holdings:
            neighbours[h.holder].add(h.held)
            neighbours[h.held].add(h.holder)
        for pk in chunk:
            subject_id = label_of[pk]
            component, frontier = {subject_id}, [subject_id]
            while frontier:
                frontier = [n for node in frontier for n in neighbours[node] if n not in component]
                component.update(frontier)
            result[pk] = _sme_categories(subject_id, [e for e in enterprises if e.id in component],
                                         [h for h in holdings if h.holder in component])
    return result


def _sme_categories(subject_id: str, enterprises: list, holdings: list) -> dict[int, str]:
    """The categories ``company_sme_assessment`` finds for the subject of one ownership graph (the same
    steps: no accounts, no result; related enterprises without accounts left out)."""
    subject = next(e for e in enterprises if e.id == subject_id)
    if not subject.accounts:
        return {}
    usable = {e.id for e in enterprises if e.accounts or e.public_body}
    try:
        found = company_rules.classify_sme(subject_id, [e for e in enterprises if e.id in usable],
                                           [h for h in holdings if h.holder in usable and h.held in usable])
    except company_rules.SmeInputError:
        return {}
    return dict(found.effective_categories)


def investments_of(project: Project, scope: Scope = ALL) -> list[rules.Investment]:
    rows = (Intervention.objects.filter(scope.interventions(), project=project, status__in=INTERVENTION_COMMITTED, approved_on__isnull=False,
                                        own_cash_sek__gt=0)
            .order_by().values("approved_on", "support_form").annotate(amount=Sum("own_cash_sek")))
    return [rules.Investment(r["approved_on"], r["support_form"], r["amount"]) for r in rows]


def facts_of(project: Project, scope: Scope = ALL) -> Facts:
    chosen = indicator_set_of(project)
    years = chosen.new_enterprise_years if chosen else rules.DEFAULT_NEW_ENTERPRISE_YEARS
    supports = supports_of(project, scope)
    companies = company_facts(support.company for support in supports)
    return Facts(supports=supports, companies=companies, investments=investments_of(project, scope),
                 enterprises=rules.supported_enterprises(supports, companies, years))


def entries_of(project: Project) -> dict[int, list[rules.Entry]]:
    rows = (IndicatorEntry.objects.filter(indicator__project=project).order_by()
            .values("indicator_id", "date").annotate(value=Sum("value")))
    result: dict[int, list[rules.Entry]] = defaultdict(list)
    for row in rows:
        result[row["indicator_id"]].append(rules.Entry(row["date"], row["value"]))
    return result


def milestones_of(project: Project) -> dict[int, list[tuple[dt.date, Decimal]]]:
    result: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for m in IndicatorMilestone.objects.filter(indicator__project=project).order_by("date"):
        result[m.indicator_id].append((m.date, m.value))
    return result


# --- The indicator report ----------------------------------------------------------------------


@dataclass
class IndicatorRow:
    indicator: ProjectIndicator
    value: rules.IndicatorValue  # in the period
    cumulative: rules.IndicatorValue  # from the start to the period's end
    milestones: list[tuple[dt.date, Decimal]]
    milestone: tuple[dt.date, Decimal] | None = None  # the latest due by the period's end

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def target(self) -> Decimal | None:
        return self.indicator.target

    @property
    def progress(self) -> Decimal | None:
        return rules.progress(self.cumulative.value, self.target)

    @property
    def milestone_met(self) -> bool | None:
        if self.milestone is None:
            return None
        return Decimal(self.cumulative.value) >= self.milestone[1]


@dataclass
class IndicatorReport:
    project: Project
    period: rules.Period
    set_key: str
    rows: list[IndicatorRow]
    facts: Facts

    @property
    def set_name(self) -> str:
        definition = catalogue.indicator_set(self.set_key)
        return definition.name if definition else ""

    @property
    def enterprises(self) -> list[rules.Enterprise]:
        """The supported enterprises behind the counts of the period."""
        return rules.counted_in_period(self.facts.enterprises, self.period)


def whole_period(project: Project) -> rules.Period:
    return rules.Period(project.start_date, project.effective_end)


def indicator_report(project: Project, period: rules.Period | None = None, *,
                     scope: Scope = ALL) -> IndicatorReport:
    """Every indicator of the project for the period. Limited to a scope (a municipality's companies,
    a focus area's or a partner's work), indicators recorded by hand (not tied to these) are left out."""
    period = period or whole_period(project)
    facts = facts_of(project, scope)
    chosen = indicator_set_of(project)
    entries = entries_of(project)
    milestones = milestones_of(project)
    up_to_end = rules.Period(None, period.end)
    rows = []
    for indicator in indicators_of(project):
        if scope.limited and indicator.method == "manual":
            continue
        kwargs = {"companies": facts.companies, "investments": facts.investments,
                  "entries": entries.get(indicator.pk, []), "breakdown": indicator.breakdown}
        row = IndicatorRow(
            indicator=indicator,
            value=rules.indicator_value(indicator.method, facts.enterprises, period, **kwargs),
            cumulative=rules.indicator_value(indicator.method, facts.enterprises, up_to_end, **kwargs),
            milestones=milestones.get(indicator.pk, []),
            milestone=rules.milestone_due(milestones.get(indicator.pk, []), period),
        )
        rows.append(row)
    return IndicatorReport(project=project, period=period, set_key=chosen.set_key if chosen else "", rows=rows,
                           facts=facts)


def number(value: int | Decimal | None) -> int | float | None:
    """A value for JSON: an integer when whole, else a float of its two decimals."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def report_json(report: IndicatorReport) -> dict:
    """The shape of ``sim report_indicators --json`` (and of the API)."""
    indicators = []
    for row in report.rows:
        item = {"code": row.code, "value": number(row.value.value), "unit": row.indicator.unit}
        if row.value.breakdown is not None:
            item["breakdown"] = row.value.breakdown
        item["target"] = number(row.target)
        if row.value.companies is not None:
            item["companies"] = list(row.value.companies)
        indicators.append(item)
    period = report.period
    return {
        "project": report.project.code,
        "period": {"from": period.start.isoformat() if period.start else None,
                   "to": period.end.isoformat() if period.end else None},
        "indicators": indicators,
    }


# --- The rest of the progress report ----------------------------------------------------------


@dataclass
class BudgetFigures:
    scenario_name: str
    budget: Decimal
    actual: Decimal
    budget_to_date: Decimal
    actual_to_date: Decimal
    total_budget: Decimal
    quarters: list[tuple[str, Decimal, Decimal]]
    reach_pct: Decimal | None = None  # share of the actual costs so far that reached companies

    @property
    def used_pct(self) -> Decimal | None:
        return rules.progress(self.actual, self.budget)


def budget_vs_actual(project: Project, period: rules.Period) -> BudgetFigures | None:
    """Budget and actual costs (indirect costs included) of the quarters in the period, and from the
    start to the period's end, under the adopted budget scenario (as the finance dashboard shows)."""
    from sim.finance import selectors as finance

    scenario = finance.adopted_scenario(project)
    if scenario is None:
        return None
    as_of = period.end or project.effective_end
    figures = finance.dashboard(project, scenario, as_of).figures
    reach = figures.reach_actual.share_pct
    start = period.start or project.start_date
    first_q = (start.year, (start.month - 1) // 3 + 1)
    last_q = (as_of.year, (as_of.month - 1) // 3 + 1)
    quarters = []
    budget = actual = budget_to_date = actual_to_date = rules.ZERO
    for (year, quarter), f in sorted(figures.by_quarter.items()):
        if (year, quarter) <= last_q:
            budget_to_date += f.budget
            actual_to_date += f.actual
            if (year, quarter) >= first_q:
                quarters.append((f"{year} Q{quarter}", f.budget, f.actual))
                budget += f.budget
                actual += f.actual
    return BudgetFigures(scenario_name=scenario.name, budget=budget, actual=actual, budget_to_date=budget_to_date,
                         actual_to_date=actual_to_date, total_budget=figures.total.budget, quarters=quarters,
                         reach_pct=None if reach is None else Decimal(reach).quantize(Decimal("0.1")))


@dataclass
class WorkFigures:
    activities: int
    activity_hours: Decimal
    activity_companies: int
    events: int
    participants: int


def work_in_period(project: Project, period: rules.Period, scope: Scope = ALL) -> WorkFigures:
    """Activities, their hours and companies; events and attending participants (limited to a scope:
    the events attended within it, and their participants)."""
    activities = Activity.objects.filter(scope.activities(), project=project)
    events = Event.objects.filter(project=project)
    registrations = Registration.objects.filter(scope.registrations(), event__project=project, attended=True,
                                                cancelled_at__isnull=True)
    if period.start:
        activities = activities.filter(date__gte=period.start)
        events = events.filter(starts_at__date__gte=period.start)
        registrations = registrations.filter(event__starts_at__date__gte=period.start)
    if period.end:
        activities = activities.filter(date__lte=period.end)
        events = events.filter(starts_at__date__lte=period.end)
        registrations = registrations.filter(event__starts_at__date__lte=period.end)
    figures = activities.aggregate(n=Count("id"), hours=Sum("hours"), companies=Count("company", distinct=True))
    n_events = registrations.values("event").distinct().count() if scope.limited else events.count()
    return WorkFigures(activities=figures["n"], activity_hours=figures["hours"] or rules.ZERO,
                       activity_companies=figures["companies"], events=n_events, participants=registrations.count())


@dataclass
class FocusAreaRow:
    key: str
    label: str
    referrals: int = 0
    referrals_started: int = 0
    interventions: int = 0
    intervention_budget: Decimal = rules.ZERO


def _in(period: rules.Period, field: str) -> Q:
    q = Q(**{f"{field}__isnull": False})
    if period.start:
        q &= Q(**{f"{field}__gte": period.start})
    if period.end:
        q &= Q(**{f"{field}__lte": period.end})
    return q


def by_focus_area(project: Project, period: rules.Period, scope: Scope = ALL) -> list[FocusAreaRow]:
    """Referrals proposed and started, interventions approved (and their budget) in the period, per
    focus area (a referral counts under each focus area of its offer)."""
    labels = {fa.pk: fa for fa in FocusArea.objects.all()}
    rows: dict[int | None, FocusAreaRow] = {}

    def row(pk: int | None) -> FocusAreaRow:
        if pk not in rows:
            rows[pk] = FocusAreaRow(key=labels[pk].key if pk else "", label=labels[pk].name if pk else _("No focus area"))
        return rows[pk]

    referrals = Referral.objects.filter(scope.referrals(), project=project).order_by()
    for r in referrals.filter(_in(period, "proposed_on")).values("offer__focus_areas").annotate(n=Count("id", distinct=True)):
        row(r["offer__focus_areas"]).referrals += r["n"]
    for r in (referrals.filter(_in(period, "started_on"), status__in=REFERRAL_STARTED)
              .values("offer__focus_areas").annotate(n=Count("id", distinct=True))):
        row(r["offer__focus_areas"]).referrals_started += r["n"]
    for r in (Intervention.objects.filter(_in(period, "approved_on"), scope.interventions(), project=project,
                                          status__in=INTERVENTION_COMMITTED)
              .order_by().values("focus_area").annotate(n=Count("id"), budget=Sum("budget_sek"))):
        target = row(r["focus_area"])
        target.interventions += r["n"]
        target.intervention_budget += r["budget"] or rules.ZERO
    if scope.focus_area:
        rows = {pk: r for pk, r in rows.items() if pk == scope.focus_area}
    order = {pk: (fa.order, fa.key) for pk, fa in labels.items()}
    return [rows[pk] for pk in sorted(rows, key=lambda pk: (pk is None, order.get(pk, (0, ""))))]


@dataclass
class ProgressReport:
    indicators: IndicatorReport
    budget: BudgetFigures | None
    work: WorkFigures
    focus_areas: list[FocusAreaRow]

    @property
    def project(self) -> Project:
        return self.indicators.project

    @property
    def period(self) -> rules.Period:
        return self.indicators.period


def progress_report(project: Project, period: rules.Period | None = None, *,
                    scope: Scope = ALL) -> ProgressReport:
    """The report of a period, limited to a scope if given (the budget is always the project's)."""
    period = period or whole_period(project)
    return ProgressReport(indicators=indicator_report(project, period, scope=scope),
                          budget=budget_vs_actual(project, period), work=work_in_period(project, period, scope),
                          focus_areas=by_focus_area(project, period, scope))


# --- Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodChoice:
    key: str  # "project", "2024", "2024-Q2"
    label: str
    period: rules.Period


def period_choices(project: Project) -> list[PeriodChoice]:
    """The whole project, each year and each quarter it spans."""
    start, end = project.start_date, project.effective_end
    choices = [PeriodChoice("project", _("Whole project"), whole_period(project))]
    for year in range(start.year, end.year + 1):
        choices.append(PeriodChoice(str(year), str(year), rules.Period(dt.date(year, 1, 1), dt.date(year, 12, 31))))
        for quarter in range(1, 5):
            first = dt.date(year, 3 * quarter - 2, 1)
            last = (dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1))
            if last >= start and first <= end:
                choices.append(PeriodChoice(f"{year}-Q{quarter}", f"{year} Q{quarter}", rules.Period(first, last)))
    return choices


def period_choice(project: Project, key: str | None) -> PeriodChoice | None:
    key = key or "project"
    return next((c for c in period_choices(project) if c.key == key), None)



# --- The project overview (dashboard) -----------------------------------------------------------


@dataclass
class Overview:
    report: ProgressReport
    referrals_by_status: list[tuple[str, str, int]]  # (status, label, count) of referrals proposed in the period
    interventions_by_status: list[tuple[str, str, int]]  # of interventions created in the period
    activity_by_quarter: list[tuple[str, int, Decimal]]  # (quarter label, activities, hours)
    by_municipality: list[tuple[str, int]]  # supported enterprises counted in the period
    reach_pct: Decimal | None


def _pipeline(project: Project, period: rules.Period, scope: Scope) -> tuple[list, list]:
    from sim.programmes.models import InterventionStatus

    referrals = dict(Referral.objects.filter(_in(period, "proposed_on"), scope.referrals(), project=project)
                     .order_by()
                     .values_list("status").annotate(n=Count("id")))
    created = Q()
    if period.start:
        created &= Q(created_at__date__gte=period.start)
    if period.end:
        created &= Q(created_at__date__lte=period.end)
    interventions = dict(Intervention.objects.filter(created, scope.interventions(), project=project).order_by()
                         .values_list("status").annotate(n=Count("id")))
    return ([(s, str(label), referrals.get(s, 0)) for s, label in ReferralStatus.choices],
            [(s, str(label), interventions.get(s, 0)) for s, label in InterventionStatus.choices])


def activity_by_quarter(project: Project, period: rules.Period, scope: Scope = ALL,
                        ) -> list[tuple[str, int, Decimal]]:
    activities = Activity.objects.filter(_in(period, "date"), scope.activities(), project=project).order_by()
    # Grouped by day in SQL (a column: SQLite would call a Python function per activity to extract the
    # year and quarter), the days' rows added up per quarter here.
    rows: dict[tuple[int, int], tuple[int, Decimal]] = {}
    for r in activities.values("date").annotate(n=Count("id"), hours=Sum("hours")):
        day = _as_date(r["date"])
        key = (day.year, (day.month - 1) // 3 + 1)
        n, hours = rows.get(key, (0, rules.ZERO))
        rows[key] = (n + r["n"], hours + (r["hours"] or rules.ZERO))
    start = period.start or project.start_date
    end = period.end or project.effective_end
    result = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        n, hours = rows.get((year, quarter), (0, rules.ZERO))
        result.append((f"{year} Q{quarter}", n, hours))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return result


def enterprises_by_municipality(project: Project, org_numbers: list[str]) -> list[tuple[str, int]]:
    """How many of ``org_numbers`` (enterprises supported in the project) are in each municipality."""
    wanted = set(org_numbers)
    counts: dict[str, int] = defaultdict(int)
    for org, name in candidate_companies(project).values_list("org_number", "municipality__name"):
        if org in wanted:
            counts[name or _("Unknown municipality")] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def municipalities_of(project: Project) -> list[tuple[str, str]]:
    """(code, name) of the municipalities the project's candidate companies are in, by name."""
    from sim.companies.models import Municipality

    # The codes first (at most 290): as a subquery PostgreSQL ran the candidates' union once per municipality.
    codes = set(candidate_companies(project).filter(municipality__isnull=False)
                .values_list("municipality_id", flat=True).distinct())
    return list(Municipality.objects.filter(code__in=codes).order_by("name").values_list("code", "name"))


def overview(project: Project, period: rules.Period | None = None, *, scope: Scope = ALL) -> Overview:
    report = progress_report(project, period, scope=scope)
    period = report.period
    referrals, interventions = _pipeline(project, period, scope)
    reach = None
    if report.budget is not None:
        reach = report.budget.reach_pct
    return Overview(
        report=report, referrals_by_status=referrals, interventions_by_status=interventions,
        activity_by_quarter=activity_by_quarter(project, period, scope),
        by_municipality=enterprises_by_municipality(project, [e.org_number for e in report.indicators.enterprises]),
        reach_pct=reach,
    )


# --- The advisor's view -------------------------------------------------------------------------


@dataclass
class MyCompany:
    company_id: int
    org_number: str
    name: str
    size_class: str
    my_hours: Decimal
    project_hours: Decimal
    first_support: dt.date | None
    #: Activity hours still missing for the activities alone to make it supported (None: supported).
    hours_to_go: Decimal | None


@dataclass
class AdvisorView:
    companies: list[MyCompany]
    referrals: list
    follow_ups: list
    min_hours: Decimal
    truncated: bool


MY_COMPANIES_LIMIT = 200
FOLLOW_UP_HORIZON_DAYS = 14


def advisor_view(user, project: Project, today: dt.date) -> AdvisorView:
    """An advisor's companies in the project (those they own in the register or have logged
    activities with), whether and since when each is supported, their open referrals and the
    follow-ups due within two weeks (overdue first)."""
    from sim.programmes import selectors as programmes

    mine = (Company.objects.filter(Q(owner_advisor=user) | Exists(
        Activity.objects.filter(project=project, advisors=user, company=OuterRef("pk"))))
        .order_by("name", "pk").values("pk", "org_number", "name", "size_class"))
    rows = list(mine[:MY_COMPANIES_LIMIT + 1])
    truncated = len(rows) > MY_COMPANIES_LIMIT
    rows = rows[:MY_COMPANIES_LIMIT]
    ids = [r["pk"] for r in rows]
    my_hours = dict(Activity.objects.filter(project=project, advisors=user, company_id__in=ids).order_by()
                    .values_list("company_id").annotate(h=Sum("hours")))
    all_hours = dict(Activity.objects.filter(project=project, company_id__in=ids).order_by()
                     .values_list("company_id").annotate(h=Sum("hours")))
    enterprises = facts_of(project).enterprises
    minimum = min_hours(project)
    companies = []
    for r in rows:
        enterprise = enterprises.get(r["org_number"])
        total = all_hours.get(r["pk"]) or rules.ZERO
        companies.append(MyCompany(
            r["pk"], r["org_number"], r["name"], r["size_class"], my_hours.get(r["pk"]) or rules.ZERO, total,
            first_support=enterprise.first_support if enterprise else None,
            hours_to_go=None if enterprise else max(minimum - Decimal(total), rules.ZERO),
        ))
    referrals = list(programmes.referrals_visible_to(user).filter(
        advisor=user, project=project, status__in=REFERRAL_OPEN).order_by("status_changed_at", "pk")[:100])
    horizon = today + dt.timedelta(days=FOLLOW_UP_HORIZON_DAYS)
    follow_ups = [f for f in programmes.my_follow_ups(user, today=today)
                  if f.due_on <= horizon and f.project_id in (None, project.pk)]
    return AdvisorView(companies=companies, referrals=referrals, follow_ups=follow_ups, min_hours=minimum,
                       truncated=truncated)
