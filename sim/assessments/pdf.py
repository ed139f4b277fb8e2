"""The growth plan as an A4 PDF (reportlab platypus), in Swedish or English."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .models import Assessment, AssessmentStatus, GrowthPlan

PROGRAMME_NAME = "SIM – Smart industriell modernisering"
BRAND = "#0b4f6c"
INK = "#1b1f24"
MUTED = "#4f5863"
LINE = "#c9d1d9"
HEAD_BG = "#e8edf2"


def _text(value) -> str:
    """Text for a Paragraph: markup escaped, and limited to what the standard PDF fonts can show."""
    text = "" if value is None else str(value)
    text = text.encode("cp1252", "replace").decode("cp1252")
    return escape(text)


def _number(value: Decimal | None) -> str:
    if value is None:
        return "–"
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else 2
    return number_format(value, places, force_grouping=True)


def _date(value) -> str:
    return value.strftime("%Y-%m-%d") if value else "–"


def profile_assessment(plan: GrowthPlan) -> Assessment | None:
    """The plan's assessment once completed, else the company's latest completed assessment."""
    if plan.assessment is not None and plan.assessment.scores and plan.assessment.status in (
        AssessmentStatus.COMPLETED, AssessmentStatus.SUPERSEDED,
    ):
        return plan.assessment
    completed = Assessment.objects.filter(company=plan.company, status=AssessmentStatus.COMPLETED).select_related(
        "instrument_version", "company")
    if plan.assessment is not None:
        same = completed.filter(instrument_version__key=plan.assessment.instrument_version.key)
        latest = same.order_by("-conducted_on", "-id").first()
        if latest is not None:
            return latest
    return completed.order_by("-conducted_on", "-id").first()


def growth_plan_pdf(plan: GrowthPlan, *, language: str = "sv", compress: bool = True,
                    invariant: bool = False) -> bytes:
    """The PDF as bytes.  ``compress=False, invariant=True`` gives searchable, repeatable output (tests)."""
    with translation.override(language):
        return _build(plan, language=language, compress=compress, invariant=invariant)


def _build(plan: GrowthPlan, *, language: str, compress: bool, invariant: bool) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as pdf_canvas
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from .views_results import format_score, profile_charts, score_rows, series_label

    base = getSampleStyleSheet()
    styles = {
        "programme": ParagraphStyle("programme", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=10,
                                    textColor=colors.HexColor(BRAND), spaceAfter=2 * mm),
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=20, leading=24,
                                alignment=0, textColor=colors.HexColor(INK), spaceAfter=3 * mm),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=14, leading=17,
                             textColor=colors.HexColor(BRAND), spaceBefore=6 * mm, spaceAfter=2 * mm),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName="Helvetica-Bold", fontSize=11.5, leading=14,
                             spaceBefore=3 * mm, spaceAfter=1.5 * mm),
        "body": ParagraphStyle("body", parent=base["Normal"], fontName="Helvetica", fontSize=10, leading=13.5),
        "muted": ParagraphStyle("muted", parent=base["Normal"], fontName="Helvetica", fontSize=9, leading=12,
                                textColor=colors.HexColor(MUTED)),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontName="Helvetica", fontSize=9, leading=11.5),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9, leading=11.5),
        "num": ParagraphStyle("num", parent=base["Normal"], fontName="Helvetica", fontSize=9, leading=11.5,
                              alignment=TA_RIGHT),
        "headnum": ParagraphStyle("headnum", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9,
                                  leading=11.5, alignment=TA_RIGHT),
    }

    def para(value, style="body", *, markup: bool = False) -> Paragraph:
        return Paragraph(value if markup else _text(value), styles[style])

    page_width, page_height = A4
    margin = 18 * mm
    frame_width = page_width - 2 * margin

    def table(header: list[str], rows: list[list], widths: list[float], numeric: set[int] = frozenset()) -> Table:
        data = [[para(h, "headnum" if i in numeric else "head") for i, h in enumerate(header)]]
        for row in rows:
            data.append([
                cell if not isinstance(cell, str) else para(cell, "num" if i in numeric else "cell")
                for i, cell in enumerate(row)
            ])
        result = Table(data, colWidths=[w * frame_width for w in widths], repeatRows=1, hAlign="LEFT")
        result.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(HEAD_BG)),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor(LINE)),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        return result

    company = plan.company
    story: list = [
        para(PROGRAMME_NAME, "programme"),
        para(plan.title, "title"),
    ]
    facts = [
        [_("Company"), company.name],
        [_("Organisation number"), company.org_number_display],
        [_("Period"), f"{_date(plan.period_start)} – {_date(plan.period_end)}"],
        [_("Status"), plan.get_status_display()],
    ]
    if plan.agreed_on:
        facts.append([_("Agreed on"), _date(plan.agreed_on)])
    facts_table = Table([[para(k, "head"), para(v, "cell")] for k, v in facts],
                        colWidths=[0.25 * frame_width, 0.75 * frame_width], hAlign="LEFT")
    facts_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                                     ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(facts_table)
    if plan.summary.strip():
        story.append(Spacer(1, 3 * mm))
        for chunk in plan.summary.strip().split("\n\n"):
            story.append(para(_text(chunk).replace("\n", "<br/>"), "body", markup=True))
            story.append(Spacer(1, 1.5 * mm))

    # --- Company profile -----------------------------------------------------------------------
    story.append(para(_("Company profile"), "h2"))
    assessment = profile_assessment(plan)
    if assessment is None:
        story.append(para(_("The company has no completed assessment yet."), "muted"))
    else:
        rows = score_rows(assessment)
        story.append(para(_("%(instrument)s, %(label)s.") % {
            "instrument": assessment.instrument_version.title, "label": series_label(assessment)}, "muted"))
        radar, bars = profile_charts(assessment, rows, id_prefix="pdf")
        chart = (radar or bars).to_reportlab(width=min(frame_width, 150 * mm))
        chart.hAlign = "CENTER"
        story.append(chart)
        show_focus = any(row.focus_area for row in rows)
        header = [_("Dimension")] + ([_("Focus area")] if show_focus else []) + [_("Score"), _("Band")]
        widths = [0.38, 0.30, 0.12, 0.20] if show_focus else [0.55, 0.15, 0.30]
        body = []
        for row in rows:
            body.append([row.title] + ([row.focus_area or "–"] if show_focus else [])
                        + [format_score(row.score), row.band or "–"])
        result = assessment.scores or {}
        overall = result.get("overall")
        band = ""
        if result.get("band"):
            try:
                band = assessment.instrument().band(result["band"]).label.get(language)
            except KeyError:
                band = result["band"]
        body.append([_("Overall")] + ([""] if show_focus else []) + [format_score(overall), band or "–"])
        score_column = 2 if show_focus else 1
        scores = table(header, body, widths, numeric={score_column})
        scores.setStyle(TableStyle([("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")]))
        story.append(Spacer(1, 2 * mm))
        story.append(scores)

    # --- Goals ---------------------------------------------------------------------------------
    goals = list(plan.goals.all())
    story.append(CondPageBreak(40 * mm))
    story.append(para(_("Goals"), "h2"))
    if goals:
        story.append(table(
            [_("Goal"), _("Measure"), _("Baseline"), _("Target"), _("Unit"), _("By")],
            [[goal.title, goal.get_metric_display(), _number(goal.baseline), _number(goal.target), goal.unit or "–",
              _date(goal.target_date)] for goal in goals],
            [0.32, 0.20, 0.13, 0.13, 0.10, 0.12], numeric={2, 3},
        ))
    else:
        story.append(para(_("No goals yet."), "muted"))

    # --- Actions by focus area -----------------------------------------------------------------
    actions = list(plan.actions.select_related("focus_area", "need"))
    story.append(CondPageBreak(40 * mm))
    story.append(para(_("Actions"), "h2"))
    if not actions:
        story.append(para(_("No actions yet."), "muted"))
    groups: dict = {}
    for action in actions:
        groups.setdefault(action.focus_area, []).append(action)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0].order if item[0] else 0,
                                                       item[0].key if item[0] else ""))
    for area, items in ordered:
        heading = para(area.name if area is not None else _("Other actions"), "h3")
        rows = []
        for action in items:
            title = _text(action.title)
            if action.description.strip():
                title = f"<b>{title}</b><br/>{_text(action.description.strip()).replace(chr(10), '<br/>')}"
            rows.append([para(title, "cell", markup=True), action.owner or "–", _date(action.due_date),
                         action.get_status_display(), action.need.title if action.need else "–"])
        story.append(KeepTogether([heading, table(
            [_("Action"), _("Owner"), _("Due"), _("Status"), _("Need")], rows, [0.40, 0.16, 0.12, 0.12, 0.20],
        )]))

    # --- Page furniture ------------------------------------------------------------------------
    generated = _("Generated %(date)s") % {"date": timezone.localdate().strftime("%Y-%m-%d")}
    page_text = _("Page %(page)s of %(total)s")
    header_right = f"{company.name} · {plan.title}"

    class NumberedCanvas(pdf_canvas.Canvas):
        """Draws "page X of Y" once the number of pages is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(colors.HexColor(LINE))
            self.setLineWidth(0.5)
            self.line(margin, 14 * mm, page_width - margin, 14 * mm)
            self.setFont("Helvetica", 8)
            self.setFillColor(colors.HexColor(MUTED))
            self.drawString(margin, 10 * mm, _plain(f"{PROGRAMME_NAME} · {generated}"))
            self.drawRightString(page_width - margin, 10 * mm,
                                 _plain(page_text % {"page": self._pageNumber, "total": total}))
            if self._pageNumber > 1:
                self.drawRightString(page_width - margin, page_height - 11 * mm, _plain(header_right[:110]))
            self.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=16 * mm, bottomMargin=20 * mm,
        title=_plain(plan.title), author="SIM", subject=_plain(f"{_('Growth plan')} – {company.name}"),
        creator=PROGRAMME_NAME, lang=language, displayDocTitle=1, invariant=1 if invariant else 0, pageCompression=1 if compress else 0,
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _plain(text: str) -> str:
    return str(text).encode("cp1252", "replace").decode("cp1252")
