"""The progress report as tables: one list of sections, each with headings and rows of cells, that
the page renders and every export writes (XLSX, CSV, PDF). A cell has its text (formatted once, by
:mod:`sim.reporting.formatting`) and, for figures, the number, so screen, exports and the CLI show
the same values."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from sim.companies.rules import CATEGORY_LABELS
from sim.programmes.models import SupportForm

from . import rules
from .catalogue import unit_label
from .formatting import DASH, format_pct, format_value
from .selectors import ProgressReport, number


@dataclass(frozen=True)
class Cell:
    text: str
    number: int | float | None = None  # for figures

    def __str__(self) -> str:
        return self.text


def text(value) -> Cell:
    return Cell("" if value is None else str(value))


def figure(value, unit: str = "") -> Cell:
    return Cell(format_value(value, unit), number(value))


def date_cell(day) -> Cell:
    return Cell(day.isoformat() if day else DASH)


@dataclass
class Section:
    key: str
    title: str
    headings: list[str]
    rows: list[list[Cell]]
    numeric: set[int] = field(default_factory=set)  # columns that hold figures (right-aligned)
    note: str = ""


def size_label(size: str) -> str:
    return str(CATEGORY_LABELS[size]) if size in CATEGORY_LABELS else _("unknown")


def period_label(period: rules.Period) -> str:
    return f"{period.start.isoformat() if period.start else '…'} – {period.end.isoformat() if period.end else '…'}"


def sections(report: ProgressReport) -> list[Section]:
    indicators = report.indicators
    result = []
    rows = []
    for row in indicators.rows:
        unit = row.indicator.unit
        milestone = (Cell(f"{row.milestone[0].isoformat()}: {format_value(row.milestone[1], unit)}")
                     if row.milestone else Cell(DASH))
        rows.append([text(row.code), text(row.indicator.name), text(unit_label(unit)), figure(row.value.value, unit),
                     figure(row.cumulative.value, unit), figure(row.target, unit), milestone,
                     Cell(format_pct(row.progress), number(row.progress))])
    result.append(Section(
        "indicators", _("Indicators"),
        [_("Code"), _("Indicator"), _("Unit"), _("In the period"), _("From the start to the period's end"), _("Target"),
         _("Milestone due"), _("Share of target")],
        rows, numeric={3, 4, 5, 7},
        note=_("Enterprises are counted once, in the period of their first qualifying support; targets and "
               "milestones are compared with the value from the start to the period's end."),
    ))
    for row in indicators.rows:
        if row.value.breakdown is not None:
            result.append(Section(
                f"breakdown-{row.code}", _("%(code)s by size class at first support") % {"code": row.code},
                [_("Size class"), _("Enterprises")],
                [[text(size_label(size)), figure(n)] for size, n in row.value.breakdown.items()], numeric={1},
            ))
    budget = report.budget
    if budget is None:
        result.append(Section("budget", _("Budget and actual costs"), [], [],
                              note=_("The project has no adopted budget scenario.")))
    else:
        budget_rows = [[text(label), figure(b, "SEK"), figure(a, "SEK")] for label, b, a in budget.quarters]
        budget_rows.append([text(_("The period")), figure(budget.budget, "SEK"), figure(budget.actual, "SEK")])
        budget_rows.append([text(_("From the start to the period's end")), figure(budget.budget_to_date, "SEK"),
                            figure(budget.actual_to_date, "SEK")])
        result.append(Section(
            "budget", _("Budget and actual costs"), [_("Quarter"), _("Budget (SEK)"), _("Actual (SEK)")], budget_rows,
            numeric={1, 2},
            note=_("Adopted budget scenario %(name)s, indirect costs included; whole budget SEK %(total)s.") % {
                "name": budget.scenario_name, "total": format_value(budget.total_budget, "SEK")},
        ))
    work = report.work
    result.append(Section(
        "work", _("Activities and events"), [_("Measure"), _("Number")],
        [[text(_("Activities")), figure(work.activities)],
         [text(_("Activity hours")), figure(work.activity_hours, "hours")],
         [text(_("Companies met in activities")), figure(work.activity_companies)],
         [text(_("Events")), figure(work.events)],
         [text(_("Participants who attended events")), figure(work.participants)]],
        numeric={1},
    ))
    result.append(Section(
        "focus-areas", _("Referrals and interventions per focus area"),
        [_("Focus area"), _("Referrals proposed"), _("Referrals started"), _("Interventions approved"),
         _("Approved budget (SEK)")],
        [[text(r.label), figure(r.referrals), figure(r.referrals_started), figure(r.interventions),
          figure(r.intervention_budget, "SEK")] for r in report.focus_areas],
        numeric={1, 2, 3, 4},
        note=_("A referral counts under each focus area of its offer."),
    ))
    forms = dict(SupportForm.choices)
    end = report.period.end
    result.append(Section(
        "enterprises", _("Supported enterprises"),
        [_("Organisation number"), _("Name"), _("Size class at first support"), _("Forms of support"),
         _("First support")],
        [[text(f"{e.org_number[:6]}-{e.org_number[6:]}"), text(e.name), text(size_label(e.size_class)),
          text(", ".join(str(forms[f]) for f in e.forms_by(end))), date_cell(e.first_support)]
         for e in report.indicators.enterprises],
        note=_("The enterprises behind the counts of the period."),
    ))
    return result
