"""Reads of project finance: scenarios with their totals, the budget grid, scenario comparison and
the dashboard (budget vs actual vs forecast).

Actual costs come from the ledgers the actuals part writes: cost entries (summed with their
reversals, which carry the opposite sign), time reports (hours × hourly cost, per report rounded
to the öre, as staff costs) and the company's own contributions recorded on company-specific
interventions. The computing is in :mod:`sim.finance.rules`; this module gathers the inputs and
puts labels on the results, so the pages and the API show the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sim.programmes.models import Project, ProjectPartner
from sim.programmes.projects import projects_for

from . import rules, selectors_actuals
from .models import BudgetLine, BudgetScenario, CostCategory, FinancingSource

ZERO = rules.ZERO
DEFAULT_WINDOW = 3


# --- Scoping -------------------------------------------------------------------------------------


def project_for_user(user, pk: int) -> Project | None:
    return projects_for(user).select_related("owner").filter(pk=pk).first()


def scenario_for_user(user, pk: int) -> BudgetScenario | None:
    return (
        BudgetScenario.objects.select_related("project", "project__owner")
        .filter(pk=pk, project__in=projects_for(user)).first()
    )


def scenarios_of(project: Project) -> QuerySet[BudgetScenario]:
    return BudgetScenario.objects.filter(project=project).select_related("project").order_by("-is_adopted", "name")


def adopted_scenario(project: Project) -> BudgetScenario | None:
    return BudgetScenario.objects.filter(project=project, is_adopted=True).select_related("project").first()


def partners_of(project: Project) -> list[ProjectPartner]:
    return list(ProjectPartner.objects.filter(project=project).select_related("organisation")
                .order_by("role", "organisation__name"))


def partner_labels(project: Project) -> dict[int | None, str]:
    labels: dict[int | None, str] = {p.pk: p.organisation.name for p in partners_of(project)}
    labels[None] = _("Not assigned to a partner")
    return labels


def category_labels() -> dict[str, str]:
    return {key: str(label) for key, label in CostCategory.choices}


def kind_labels() -> dict[str, str]:
    return {key: str(label) for key, label in FinancingSource.Kind.choices}


# --- Scenarios -----------------------------------------------------------------------------------


def budget_items(scenario: BudgetScenario) -> list[rules.BudgetItem]:
    return [
        rules.BudgetItem(category, year, amount, quarter, partner)
        for category, year, amount, quarter, partner in BudgetLine.objects.filter(scenario=scenario).values_list(
            "category", "year", "amount_sek", "quarter", "partner_id")
    ]


def source_items(scenario: BudgetScenario) -> list[rules.SourceItem]:
    """The sources in the order of the plan: ERDF, regional, other public, private cash, in kind."""
    order = {kind: i for i, kind in enumerate(FinancingSource.Kind.values)}
    sources = sorted(FinancingSource.objects.filter(scenario=scenario),
                     key=lambda s: (order.get(s.kind, len(order)), s.name, s.pk))
    return [
        rules.SourceItem(kind=s.kind, name=s.name, amount=s.amount_sek, rate_pct=s.rate_pct, hours=s.hours, id=s.pk)
        for s in sources
    ]


@dataclass
class ScenarioSummary:
    """A scenario's budget added up, its financing plan resolved and what reaches companies."""

    scenario: BudgetScenario
    totals: rules.BudgetTotals
    plan: rules.FinancingPlan
    reach: rules.Reach
    years: list[int]
    partners: dict[int | None, str]
    lines: int

    @property
    def balance(self) -> rules.Balance:
        return self.plan.balance

    @property
    def financing_share_pct(self) -> Decimal | None:
        return rules.pct(self.plan.total, self.totals.total)

    @property
    def category_rows(self) -> list[dict]:
        labels = category_labels()
        return [
            {"key": c, "label": labels[c], "total": self.totals.by_category.get(c, ZERO),
             "by_year": [self.totals.by_category_year.get((c, y), ZERO) for y in self.years]}
            for c in rules.CATEGORIES
        ]

    @property
    def year_rows(self) -> list[dict]:
        return [{"year": y, "total": self.totals.by_year.get(y, ZERO)} for y in self.years]

    @property
    def partner_rows(self) -> list[dict]:
        keys = [k for k in self.partners if k is not None and k in self.totals.by_partner]
        if None in self.totals.by_partner:
            keys.append(None)
        return [
            {"id": k, "label": self.partners.get(k, str(k)), "total": self.totals.by_partner[k],
             "by_category": [self.totals.by_category_partner.get((c, k), ZERO) for c in rules.CATEGORIES]}
            for k in keys
        ]

    @property
    def source_rows(self) -> list[dict]:
        labels = kind_labels()
        return [
            {"id": s.source.id, "kind": s.source.kind, "kind_label": labels.get(s.source.kind, s.source.kind),
             "name": s.source.name, "basis": s.basis, "amount": s.amount, "share_pct": s.share_pct,
             "rate_pct": s.source.rate_pct, "hours": s.source.hours, "entered_amount": s.source.amount}
            for s in self.plan.sources
        ]

    @property
    def kind_rows(self) -> list[dict]:
        labels = kind_labels()
        return [
            {"kind": k, "label": labels[k], "amount": amount, "share_pct": rules.pct(amount, self.totals.total)}
            for k, amount in self.plan.by_kind.items()
        ]


def scenario_summary(scenario: BudgetScenario, partners: dict[int | None, str] | None = None) -> ScenarioSummary:
    items = budget_items(scenario)
    totals = rules.budget_totals(items, scenario.indirect_rate_pct)
    plan = rules.financing_plan(source_items(scenario), totals.total, scenario.in_kind_hourly_rate_sek)
    reach = rules.budget_reach(totals, scenario.advisor_company_facing_pct, scenario.company_share_target_pct)
    years = sorted(set(rules.years_of(scenario.start_date, scenario.end_date)) | set(totals.by_year))
    return ScenarioSummary(scenario=scenario, totals=totals, plan=plan, reach=reach, years=years,
                           partners=partners if partners is not None else partner_labels(scenario.project),
                           lines=len(items))


@dataclass
class Comparison:
    summaries: list[ScenarioSummary]
    years: list[int]

    @property
    def category_rows(self) -> list[dict]:
        labels = category_labels()
        return [{"label": labels[c], "values": [s.totals.by_category.get(c, ZERO) for s in self.summaries]}
                for c in rules.CATEGORIES]

    @property
    def year_rows(self) -> list[dict]:
        return [{"label": str(y), "values": [s.totals.by_year.get(y) for s in self.summaries]} for y in self.years]

    @property
    def kind_rows(self) -> list[dict]:
        labels = kind_labels()
        return [{"label": labels[k], "cells": [
                    {"amount": s.plan.by_kind.get(k, ZERO), "share": rules.pct(s.plan.by_kind.get(k, ZERO), s.totals.total)}
                    for s in self.summaries]}
                for k in FinancingSource.Kind.values]


def compare(scenarios: list[BudgetScenario]) -> Comparison:
    partners = partner_labels(scenarios[0].project) if scenarios else {}
    summaries = [scenario_summary(s, partners) for s in scenarios]
    years = sorted({y for s in summaries for y in s.years})
    return Comparison(summaries=summaries, years=years)


# --- The budget grid -----------------------------------------------------------------------------


def cell_name(category: str, year: int, quarter: int | None) -> str:
    return f"c-{category}-{year}-{quarter or 0}"


def parse_cell_name(name: str) -> tuple[str, int, int | None] | None:
    parts = name.split("-")
    if len(parts) != 4 or parts[0] != "c" or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    quarter = int(parts[3])
    return parts[1], int(parts[2]), quarter or None


@dataclass
class GridColumn:
    year: int
    quarter: int | None
    label: str

    @property
    def key(self) -> str:
        return f"{self.year}-{self.quarter or 0}"


@dataclass
class GridCell:
    name: str
    category: str
    year: int
    quarter: int | None
    value: Decimal | None
    locked: bool = False  # year view of a year budgeted per quarter: the quarters' sum, read-only
    error: str = ""
    submitted: str | None = None
    label: str = ""  # e.g. "Staff 2019 Q1", the input's accessible name
    text: str = ""  # what the input shows (set by the view)

    @property
    def amount(self) -> Decimal:
        return self.value or ZERO


@dataclass
class GridRow:
    category: str
    label: str
    cells: list[GridCell]

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.cells), ZERO)


@dataclass
class BudgetGrid:
    scenario: BudgetScenario
    partner: ProjectPartner | None
    by: str  # "year" | "quarter"
    columns: list[GridColumn]
    rows: list[GridRow]
    summary: ScenarioSummary
    partners: list[ProjectPartner] = field(default_factory=list)

    @property
    def partner_key(self) -> str:
        return str(self.partner.pk) if self.partner else "none"

    @property
    def staff_row(self) -> GridRow:
        return next(r for r in self.rows if r.category == rules.STAFF)

    @property
    def indirect_cells(self) -> list[Decimal]:
        rate = self.scenario.indirect_rate_pct
        return [rules.indirect_costs(cell.amount, rate) for cell in self.staff_row.cells]

    @property
    def indirect_total(self) -> Decimal:
        return sum(self.indirect_cells, ZERO)

    @property
    def column_totals(self) -> list[Decimal]:
        totals = list(self.indirect_cells)
        for row in self.rows:
            for i, cell in enumerate(row.cells):
                totals[i] += cell.amount
        return totals

    @property
    def total(self) -> Decimal:
        return sum(self.column_totals, ZERO)

    @property
    def indirect_columns(self) -> list[tuple[GridColumn, Decimal]]:
        return list(zip(self.columns, self.indirect_cells, strict=True))

    @property
    def total_columns(self) -> list[tuple[GridColumn, Decimal]]:
        return list(zip(self.columns, self.column_totals, strict=True))

    @property
    def partner_label(self) -> str:
        return self.partner.organisation.name if self.partner else _("Not assigned to a partner")

    def cell(self, name: str) -> GridCell | None:
        return next((c for r in self.rows for c in r.cells if c.name == name), None)


def grid_columns(scenario: BudgetScenario, by: str) -> list[GridColumn]:
    if by == "quarter":
        columns: list[GridColumn] = []
        for year in rules.years_of(scenario.start_date, scenario.end_date):
            columns.append(GridColumn(year, None, _("%(year)d whole year") % {"year": year}))
            columns.extend(GridColumn(y, q, rules.quarter_label(y, q))
                           for y, q in rules.quarters_of(scenario.start_date, scenario.end_date) if y == year)
        return columns
    return [GridColumn(y, None, str(y)) for y in rules.years_of(scenario.start_date, scenario.end_date)]


def budget_grid(scenario: BudgetScenario, partner: ProjectPartner | None, by: str = "year",
                overrides: dict[str, dict] | None = None) -> BudgetGrid:
    """The editor's grid for one partner (or none): categories × years (or quarters, with whole-year
    columns). ``overrides`` carries submitted text and errors per cell name (after a refused save)."""
    by = "quarter" if by == "quarter" else "year"
    amounts: dict[tuple[str, int, int | None], Decimal] = {}
    for category, year, quarter, amount in BudgetLine.objects.filter(scenario=scenario, partner=partner).values_list(
            "category", "year", "quarter", "amount_sek"):
        amounts[(category, year, quarter)] = amount
    quarter_sums: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for (category, year, quarter), amount in amounts.items():
        if quarter is not None:
            quarter_sums[(category, year)] += amount
    columns = grid_columns(scenario, by)
    labels = category_labels()
    overrides = overrides or {}
    rows = []
    for category in rules.ENTERED_CATEGORIES:
        cells = []
        for column in columns:
            name = cell_name(category, column.year, column.quarter)
            value = amounts.get((category, column.year, column.quarter))
            locked = False
            if by == "year" and (category, column.year) in quarter_sums:
                locked, value = True, quarter_sums[(category, column.year)] + (value or ZERO)
            extra = overrides.get(name, {})
            cells.append(GridCell(name, category, column.year, column.quarter, value, locked,
                                  error=extra.get("error", ""), submitted=extra.get("submitted"),
                                  label=f"{labels[category]}, {column.label}"))
        rows.append(GridRow(category, labels[category], cells))
    partners = partners_of(scenario.project)
    summary = scenario_summary(scenario, {**{p.pk: p.organisation.name for p in partners},
                                          None: _("Not assigned to a partner")})
    return BudgetGrid(scenario=scenario, partner=partner, by=by, columns=columns, rows=rows, summary=summary,
                      partners=partners)


# --- Actuals -------------------------------------------------------------------------------------


def actual_items(project: Project, as_of: dt.date) -> list[rules.ActualItem]:
    """Actual costs per month up to ``as_of``: cost entries (reversals included) and time reports
    (read through :func:`sim.finance.selectors_actuals.actual_items`, so the cost pages agree)."""
    return selectors_actuals.actual_items(project, end=as_of)


@dataclass
class CoFinancing:
    """Private co-financing achieved: the companies' own contributions to their interventions (cash,
    and hours valued at the scenario's standard hourly rate) against the plan's private sources."""

    interventions: int
    cash: Decimal
    hours: Decimal
    hourly_rate: Decimal
    planned_cash: Decimal
    planned_in_kind: Decimal

    @property
    def in_kind(self) -> Decimal:
        return rules.in_kind_value(self.hours, self.hourly_rate)

    @property
    def total(self) -> Decimal:
        return self.cash + self.in_kind

    @property
    def planned_total(self) -> Decimal:
        return self.planned_cash + self.planned_in_kind

    @property
    def cash_pct(self) -> Decimal | None:
        return rules.pct(self.cash, self.planned_cash)

    @property
    def in_kind_pct(self) -> Decimal | None:
        return rules.pct(self.in_kind, self.planned_in_kind)

    @property
    def total_pct(self) -> Decimal | None:
        return rules.pct(self.total, self.planned_total)


def co_financing(project: Project, scenario: BudgetScenario, plan: rules.FinancingPlan) -> CoFinancing:
    """The committed interventions' own contributions (as on the contributions page), hours valued at
    the scenario's standard hourly rate, against the plan's private sources."""
    found = selectors_actuals.company_contributions(project, hourly_rate_sek=scenario.in_kind_hourly_rate_sek)
    return CoFinancing(
        interventions=len(found.rows), cash=found.cash_sek, hours=found.hours,
        hourly_rate=scenario.in_kind_hourly_rate_sek,
        planned_cash=plan.by_kind.get(FinancingSource.Kind.PRIVATE_CASH, ZERO),
        planned_in_kind=plan.by_kind.get(FinancingSource.Kind.PRIVATE_IN_KIND, ZERO),
    )


# --- The dashboard -------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    figures: rules.Figures


@dataclass
class Dashboard:
    project: Project
    scenario: BudgetScenario
    as_of: dt.date
    window: int
    figures: rules.DashboardFigures
    summary: ScenarioSummary
    co_financing: CoFinancing
    categories: list[Row]
    partners: list[Row]
    years: list[Row]
    quarters: list[Row]
    lines: list[Row]
    warnings: list[str]
    notes: list[str]

    @property
    def total(self) -> rules.Figures:
        return self.figures.total

    @property
    def burn(self) -> rules.Burn:
        return self.figures.burn


def _partner_key(partner: int | None) -> str:
    return "none" if partner is None else str(partner)


def dashboard(project: Project, scenario: BudgetScenario, as_of: dt.date, window: int = DEFAULT_WINDOW) -> Dashboard:
    """Budget vs actual vs forecast of a project under ``scenario`` (normally the adopted one) on ``as_of``."""
    partners = partner_labels(project)
    summary = scenario_summary(scenario, partners)
    figures = rules.dashboard_figures(
        budget_items(scenario), actual_items(project, as_of),
        rules.DashboardInput(start=scenario.start_date, end=scenario.end_date, as_of=as_of, window=window,
                             indirect_rate_pct=scenario.indirect_rate_pct,
                             facing_pct=scenario.advisor_company_facing_pct,
                             target_pct=scenario.company_share_target_pct),
    )
    labels = category_labels()

    def line_label(category: str, partner: int | None) -> str:
        if partner is None:
            return labels[category]
        return f"{labels[category]} – {partners.get(partner, str(partner))}"

    categories = [Row(c, labels[c], f) for c, f in figures.by_category.items()]
    partner_rows = [Row(_partner_key(p), partners.get(p, str(p)), f)
                    for p, f in sorted(figures.by_partner.items(), key=lambda kv: (kv[0] is None, partners.get(kv[0], "")))]
    years = [Row(str(y), str(y), f) for y, f in figures.by_year.items()]
    quarters = [Row(f"{y}-Q{q}", rules.quarter_label(y, q), f) for (y, q), f in figures.by_quarter.items()]
    lines = [Row(f"{c}:{_partner_key(p)}", line_label(c, p), f) for (c, p), f in figures.by_line.items()]

    warnings: list[str] = []
    for row in lines:
        f = row.figures
        if f.overspent:
            warnings.append(_(
                "%(line)s will be overspent: SEK %(actual)s spent and SEK %(forecast)s forecast make SEK %(sum)s "
                "against a budget of SEK %(budget)s (SEK %(over)s over)."
            ) % {"line": row.label, "actual": rules.sek(f.actual), "forecast": rules.sek(f.forecast),
                 "sum": rules.sek(f.actual + f.forecast), "budget": rules.sek(f.budget),
                 "over": rules.sek(-f.projected_end)})
    if figures.total.overspent:
        warnings.append(_(
            "The whole budget will be overspent: SEK %(sum)s spent and forecast against SEK %(budget)s (SEK %(over)s over)."
        ) % {"sum": rules.sek(figures.total.actual + figures.total.forecast), "budget": rules.sek(figures.total.budget),
             "over": rules.sek(-figures.total.projected_end)})
    if not summary.balance.balanced:
        warnings.append(summary.balance.message())

    notes: list[str] = []
    if figures.burn.months == 0 and figures.remaining_months:
        notes.append(_("No complete month with costs before %(date)s yet: the forecast is zero until there is a burn rate.")
                     % {"date": as_of.isoformat()})
    reach = figures.reach_actual
    if reach.share_pct is not None and not reach.meets_target:
        notes.append(_("%(share)s %% of the costs so far reached companies; the target is %(target)s %%.") % {
            "share": number_format(reach.share_pct, decimal_pos=1),
            "target": number_format(reach.target_pct, decimal_pos=1)})
    return Dashboard(
        project=project, scenario=scenario, as_of=as_of, window=window, figures=figures, summary=summary,
        co_financing=co_financing(project, scenario, summary.plan), categories=categories,
        partners=partner_rows, years=years, quarters=quarters, lines=lines, warnings=warnings, notes=notes,
    )
