"""The certificate / decision letter of a de minimis award as an A4 PDF (reportlab), in Swedish or English.

The letter is a legal statement whose wording must not depend on the translation catalogue: its
texts are written here in both languages. It states the undertaking, the granting authority, the
measure, the date of granting, the amount in SEK and EUR (with the rate used), the regulation, and
that the aid is de minimis aid.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone

from . import rules
from .models import AidAward

LANGUAGES = ("sv", "en")
BRAND = "#0b4f6c"
MUTED = "#4f5863"

REGULATION_TITLES = {
    "sv": {
        rules.REGULATION_2023: "kommissionens förordning (EU) 2023/2831 av den 13 december 2023 om tillämpningen av "
                               "artiklarna 107 och 108 i fördraget om Europeiska unionens funktionssätt på stöd av "
                               "mindre betydelse (EUT L, 2023/2831, 15.12.2023)",
        rules.REGULATION_2013: "kommissionens förordning (EU) nr 1407/2013 av den 18 december 2013 om tillämpningen av "
                               "artiklarna 107 och 108 i fördraget om Europeiska unionens funktionssätt på stöd av "
                               "mindre betydelse (EUT L 352, 24.12.2013, s. 1)",
        rules.REGULATION_OTHER: "en annan förordning om stöd av mindre betydelse",
    },
    "en": {
        rules.REGULATION_2023: "Commission Regulation (EU) 2023/2831 of 13 December 2023 on the application of "
                               "Articles 107 and 108 of the Treaty on the Functioning of the European Union to de "
                               "minimis aid (OJ L, 2023/2831, 15.12.2023)",
        rules.REGULATION_2013: "Commission Regulation (EU) No 1407/2013 of 18 December 2013 on the application of "
                               "Articles 107 and 108 of the Treaty on the Functioning of the European Union to de "
                               "minimis aid (OJ L 352, 24.12.2013, p. 1)",
        rules.REGULATION_OTHER: "another de minimis regulation",
    },
}

TEXT = {
    "sv": {
        "title": "Intyg om stöd av mindre betydelse (de minimis-stöd)",
        "intro": "Härmed intygas att nedanstående företag har beviljats stöd av mindre betydelse (de minimis-stöd).",
        "undertaking": "Stödmottagare", "org": "Organisationsnummer", "authority": "Beviljande myndighet",
        "measure": "Åtgärd", "date": "Datum för beviljande", "amount_sek": "Stödbelopp (SEK)",
        "amount_eur": "Stödbelopp (EUR)", "rate": "Växelkurs", "rate_value": "%(rate)s SEK/EUR (kurs per %(date)s)",
        "regulation": "Förordning", "ref": "Registreringsnummer",
        "statement": "Stödet är ett stöd av mindre betydelse (de minimis-stöd) enligt %(regulation)s. Stödet "
                     "beviljas enligt förordningen och ska räknas samman med annat stöd av mindre betydelse som "
                     "det samlade företaget (en enda verksamhet) har fått under den period förordningen anger.",
        "ceiling_2023": "Det samlade stödet av mindre betydelse till en enda verksamhet får inte överstiga "
                        "300 000 euro under en period av tre år.",
        "ceiling_2013": "Det samlade stödet av mindre betydelse till ett och samma företag får inte överstiga "
                        "200 000 euro (100 000 euro för vägtransport av gods för andras räkning) under en period av "
                        "tre beskattningsår.",
        "keep": "Spara detta intyg. Företaget behöver uppge stödet när det ansöker om annat stöd av mindre betydelse.",
        "revoked": "Observera: stödet återkallades %(date)s.",
        "issued": "Utfärdat %(date)s",
    },
    "en": {
        "title": "Certificate of de minimis aid",
        "intro": "This is to certify that the undertaking below has been granted de minimis aid.",
        "undertaking": "Beneficiary", "org": "Organisation number", "authority": "Granting authority",
        "measure": "Measure", "date": "Date of granting", "amount_sek": "Aid amount (SEK)",
        "amount_eur": "Aid amount (EUR)", "rate": "Exchange rate", "rate_value": "%(rate)s SEK/EUR (rate of %(date)s)",
        "regulation": "Regulation", "ref": "Registration number",
        "statement": "This aid is de minimis aid under %(regulation)s. It is granted under that regulation and must "
                     "be added to any other de minimis aid the single undertaking has received in the period the "
                     "regulation sets.",
        "ceiling_2023": "The total de minimis aid granted to a single undertaking may not exceed EUR 300,000 over any "
                        "period of three years.",
        "ceiling_2013": "The total de minimis aid granted to a single undertaking may not exceed EUR 200,000 "
                        "(EUR 100,000 for road freight transport for hire or reward) over any period of three fiscal "
                        "years.",
        "keep": "Keep this certificate: the undertaking must state this aid when it applies for other de minimis aid.",
        "revoked": "Note: the aid was revoked on %(date)s.",
        "issued": "Issued %(date)s",
    },
}


def _text(value) -> str:
    """Text for a Paragraph: markup escaped, limited to what the standard PDF fonts can show."""
    text = "" if value is None else str(value)
    return escape(text.encode("cp1252", "replace").decode("cp1252"))


def _money(value: Decimal, language: str) -> str:
    text = f"{Decimal(value):,.2f}"
    if language == "sv":
        return text.replace(",", " ").replace(".", ",")
    return text


def filename(award: AidAward, language: str) -> str:
    stem = "intyg-de-minimis" if language == "sv" else "de-minimis-certificate"
    return f"{stem}-{award.pk}.pdf"


def certificate_pdf(award: AidAward, *, language: str = "sv", compress: bool = True) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    t = TEXT[language]
    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=17, leading=21,
                                alignment=0, textColor=colors.HexColor(BRAND), spaceAfter=4 * mm),
        "body": ParagraphStyle("body", parent=base["Normal"], fontName="Helvetica", fontSize=10.5, leading=14.5,
                               spaceAfter=3 * mm),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontName="Helvetica", fontSize=10, leading=13),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=10, leading=13),
        "muted": ParagraphStyle("muted", parent=base["Normal"], fontName="Helvetica", fontSize=9, leading=12,
                                textColor=colors.HexColor(MUTED)),
    }
    regulation = REGULATION_TITLES[language].get(award.regulation, award.regulation)
    company = award.undertaking
    rows = [
        (t["ref"], str(award.pk)),
        (t["undertaking"], company.name),
        (t["org"], company.org_number_display),
        (t["authority"], award.granting_authority),
        (t["measure"], award.measure),
        (t["date"], award.granted_on.isoformat()),
        (t["amount_sek"], _money(award.amount_sek, language)),
        (t["amount_eur"], _money(award.amount_eur, language)),
    ]
    if award.sek_per_eur is not None:
        rate = f"{award.sek_per_eur:.4f}".replace(".", "," if language == "sv" else ".")
        rows.append((t["rate"], t["rate_value"] % {"rate": rate, "date": award.rate_date.isoformat()
                                                   if award.rate_date else "–"}))
    rows.append((t["regulation"], award.regulation))
    table = Table([[Paragraph(_text(k), styles["head"]), Paragraph(_text(v), styles["cell"])] for k, v in rows],
                  colWidths=[55 * mm, 115 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#c9d1d9")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    story = [
        Paragraph(_text(award.granting_authority), styles["muted"]),
        Paragraph(_text(t["title"]), styles["title"]),
        Paragraph(_text(t["intro"]), styles["body"]),
        table,
        Spacer(1, 5 * mm),
        Paragraph(_text(t["statement"] % {"regulation": regulation}), styles["body"]),
        Paragraph(_text(t["ceiling_2013"] if award.regulation == rules.REGULATION_2013 else t["ceiling_2023"]),
                  styles["body"]),
        Paragraph(_text(t["keep"]), styles["body"]),
    ]
    reversal = AidAward.objects.filter(reverses=award).first()
    if reversal is not None:
        story.append(Paragraph(_text(t["revoked"] % {"date": reversal.revoked_on.isoformat()}), styles["head"]))
    story.append(Spacer(1, 8 * mm))
    story.append(Paragraph(_text(t["issued"] % {"date": timezone.localdate().isoformat()}), styles["muted"]))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=t["title"], author=award.granting_authority,
                            pageCompression=1 if compress else 0, invariant=not compress)
    doc.build(story)
    return buffer.getvalue()
