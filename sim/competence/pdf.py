"""The demand report as a PDF (reportlab): the same anonymised figures as the web page."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from . import rules
from .selectors import DemandReport
from .xlsx import SUPPRESSED


def _cell(figure: rules.Figure, attribute: str = "people") -> str:
    if figure.suppressed:
        return SUPPRESSED
    value = figure.urgency if attribute == "urgency" else getattr(figure, attribute)
    return "" if value is None else str(value)


def report_pdf(report: DemandReport, *, compress: bool = True, invariant: bool = False) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=15 * mm, bottomMargin=15 * mm, title=_("Competence demand in the region"),
                                 invariant=invariant, pageCompression=1 if compress else 0)
    cell = styles["BodyText"].clone("cell", fontSize=8.5, leading=10.5)
    story = [
        Paragraph(escape(_("Competence demand in the region")), styles["Title"]),
        Paragraph(escape(_("Anonymised: “..” is not shown because it is built from fewer than %(min)d companies or "
                           "would reveal such a figure; an occupation whose total cannot be shown is left out. No company is named. As of %(day)s.")
                         % {"min": rules.MIN_COMPANIES, "day": report.generated_on.isoformat()}), styles["BodyText"]),
        Spacer(1, 4 * mm),
    ]
    header = [_("Occupation or skill"), _("People needed"), _("Needs"), _("Urgency (1–3)"), _("Covered by an offering"),
              _("Gap (people)"), _("Offerings within reach"), _("Seats")]
    data = [[Paragraph(f"<b>{escape(text)}</b>", cell) for text in header]]
    for row in report.rows:
        data.append([Paragraph(escape(row.label), cell), _cell(row.total), _cell(row.total, "needs"),
                     _cell(row.total, "urgency"), _cell(row.covered), _cell(row.gap), str(row.offerings),
                     _("not stated") if row.seats is None else str(row.seats)])
    if len(data) == 1:
        data.append([Paragraph(escape(_("Nothing that can be shown for this choice.")), cell),
                     "", "", "", "", "", "", ""])
    table = Table(data, colWidths=[90 * mm] + [25 * mm] * 7, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ced8")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTSIZE", (0, 1), (-1, -1), 8.5),
    ]))
    story.append(table)
    if report.gaps:
        story += [Spacer(1, 5 * mm), Paragraph(escape(_("Largest gaps")), styles["Heading2"])]
        for position, row in enumerate(report.gaps[:10], start=1):
            story.append(Paragraph(escape(f"{position}. {row.label}: {row.gap.people}"), styles["BodyText"]))
    document.build(story)
    return buffer.getvalue()
