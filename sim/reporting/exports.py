"""Exports of the progress report: XLSX (openpyxl), CSV (semicolon-separated, safe against formula
injection) and PDF (reportlab), each in Swedish or English, written from the same sections as the
page (:func:`sim.reporting.tables.sections`)."""

from __future__ import annotations

import csv
import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _

from sim.core.spreadsheet import safe_text

from .selectors import ProgressReport
from .tables import Cell, Section, period_label


def title_of(report: ProgressReport) -> str:
    return _("Progress report %(project)s, %(period)s") % {
        "project": f"{report.project.name} ({report.project.code})", "period": period_label(report.period)}


def filename(report: ProgressReport, extension: str, language: str) -> str:
    period = report.period
    return f"lagesrapport-{report.project.code}-{period.start}-{period.end}-{language}.{extension}"


# --- CSV ---------------------------------------------------------------------------------------


def to_csv(report: ProgressReport, sections: list[Section]) -> bytes:
    """Every section after its title, a blank line between; figures as on the page."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_text(title_of(report))])
    for section in sections:
        writer.writerow([])
        writer.writerow([safe_text(section.title)])
        if section.headings:
            writer.writerow([safe_text(h) for h in section.headings])
        for row in section.rows:
            # Figures are written as they are (a negative number is not a formula); texts made safe.
            writer.writerow([c.text if c.number is not None else safe_text(c.text) for c in row])
        if section.note:
            writer.writerow([safe_text(section.note)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- XLSX --------------------------------------------------------------------------------------


def to_xlsx(report: ProgressReport, sections: list[Section]) -> bytes:
    """One sheet per section; figures are numbers, texts are strings (never formulas)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for section in sections:
        sheet = workbook.create_sheet(_sheet_name(section, workbook.sheetnames))
        sheet.append([title_of(report)])
        sheet.append([section.title])
        sheet["A1"].font = sheet["A2"].font = bold
        if section.headings:
            sheet.append(section.headings)
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        for row in section.rows:
            sheet.append([_xlsx_value(c) for c in row])
        if section.note:
            sheet.append([])
            sheet.append([section.note])
        for column, width in zip("ABCDEFGH", (14, 48, 14, 16, 18, 14, 22, 14), strict=False):
            sheet.column_dimensions[column].width = width
    # Texts are stored as strings: openpyxl would take one starting with "=" as a formula.
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.value = safe_text(cell.value)
    buffer = io.BytesIO()
    workbook.properties.created = timezone.now().replace(tzinfo=None, microsecond=0)
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(cell: Cell):
    return cell.number if cell.number is not None else cell.text


def _sheet_name(section: Section, taken: list[str]) -> str:
    name = "".join(ch for ch in section.title if ch not in "[]:*?/\\")[:31] or section.key[:31]
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    return name


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_text(value: str) -> str:
    """Escaped, and limited to what the standard PDF fonts can show."""
    return escape(str(value).encode("cp1252", "replace").decode("cp1252"))


def to_pdf(report: ProgressReport, sections: list[Section], *, compress: bool = True) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=16, leading=20,
                                alignment=0, spaceAfter=3 * mm),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=12, leading=15,
                             spaceBefore=5 * mm, spaceAfter=2 * mm),
        "muted": ParagraphStyle("muted", parent=base["Normal"], fontName="Helvetica", fontSize=8.5, leading=11,
                                textColor=colors.HexColor("#4f5863"), spaceBefore=1.5 * mm),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontName="Helvetica", fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=8.5, leading=10.5),
        "num": ParagraphStyle("num", parent=base["Normal"], fontName="Helvetica", fontSize=8.5, leading=10.5,
                              alignment=TA_RIGHT),
        "headnum": ParagraphStyle("headnum", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=8.5,
                                  leading=10.5, alignment=TA_RIGHT),
    }
    page = landscape(A4)
    margin = 15 * mm
    width = page[0] - 2 * margin
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=title_of(report), author="SIM", invariant=1,
                            pageCompression=1 if compress else 0)
    story = [Paragraph(_pdf_text(title_of(report)), styles["title"]),
             Paragraph(_pdf_text(_("Created %(date)s") % {"date": timezone.localdate().isoformat()}), styles["muted"])]
    for section in sections:
        story.append(Paragraph(_pdf_text(section.title), styles["h2"]))
        if section.headings:
            data = [[Paragraph(_pdf_text(h), styles["headnum" if i in section.numeric else "head"])
                     for i, h in enumerate(section.headings)]]
            data += [[Paragraph(_pdf_text(c.text), styles["num" if i in section.numeric else "cell"])
                      for i, c in enumerate(row)] for row in section.rows]
            widths = _widths(section, width)
            table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
            table.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf2")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#c9d1d9")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]))
            story.append(table)
        if section.note:
            story.append(Paragraph(_pdf_text(section.note), styles["muted"]))
        story.append(Spacer(1, 2 * mm))
    doc.build(story)
    return buffer.getvalue()


def _widths(section: Section, width: float) -> list[float]:
    if section.key == "indicators":
        shares = [0.07, 0.35, 0.09, 0.09, 0.12, 0.08, 0.12, 0.08]
    elif section.key == "enterprises":
        shares = [0.14, 0.34, 0.16, 0.24, 0.12]
    else:
        first = 0.4 if len(section.headings) > 2 else 0.5
        rest = (1 - first) / max(1, len(section.headings) - 1)
        shares = [first] + [rest] * (len(section.headings) - 1)
    return [s * width for s in shares]
