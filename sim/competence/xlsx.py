"""The demand report as an XLSX workbook: the same anonymised figures as the web page."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from sim.core.spreadsheet import safe_text

from . import rules
from .selectors import DemandReport

SUPPRESSED = ".."


def _value(figure: rules.Figure, attribute: str = "people"):
    if figure.suppressed:
        return SUPPRESSED
    if attribute == "urgency":
        return figure.urgency
    return getattr(figure, attribute)


def report_rows(report: DemandReport) -> tuple[list[str], list[list]]:
    header = [_("Occupation or skill"), _("Concept URI"), _("People needed"), _("Needs"), _("Urgency (1–3)"),
              _("Covered by an offering"), _("Gap (people)"), _("Offerings within reach"), _("Seats")]
    rows = [[safe_text(row.label), safe_text(row.uri), _value(row.total), _value(row.total, "needs"), _value(row.total, "urgency"),
             _value(row.covered), _value(row.gap), row.offerings, row.seats] for row in report.rows]
    return header, rows


def report_workbook(report: DemandReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Demand")[:31]
    sheet.append([_("Competence demand in the region")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("Anonymised: “..” is not shown because it is built from fewer than %(min)d companies or would "
                    "reveal such a figure; an occupation whose total cannot be shown is left out. No company is named.") % {"min": rules.MIN_COMPANIES}])
    sheet.append([_("As of"), report.generated_on.isoformat()])
    sheet.append([])
    header, rows = report_rows(report)
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 30
    if report.quarters:
        over_time = workbook.create_sheet(_("Over time")[:31])
        over_time.append([_("Occupation or skill"), *report.quarters])
        for cell in over_time[1]:
            cell.font = Font(bold=True)
        for row in report.rows:
            over_time.append([safe_text(row.label), *(_value(figure) for figure in row.quarters)])
        over_time.column_dimensions["A"].width = 42
    gaps = workbook.create_sheet(_("Largest gaps")[:31])
    gaps.append([_("Occupation or skill"), _("Gap (people)"), _("Urgency (1–3)")])
    for cell in gaps[1]:
        cell.font = Font(bold=True)
    for row in report.gaps:
        gaps.append([safe_text(row.label), row.gap.people, row.gap.urgency])
    gaps.column_dimensions["A"].width = 42
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
