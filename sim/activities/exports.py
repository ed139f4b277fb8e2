"""Participant lists of an event as CSV or XLSX: the same columns and cells in both.

Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) are prefixed with an
apostrophe in both formats (CSV injection; openpyxl would otherwise store them as formulas).
"""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify

from sim.core.audit import audit_record
from sim.core.models import AuditEvent
from sim.core.spreadsheet import safe_text

from .models import Event
from .selectors import registrations_of

HEADER = [
    "evenemang", "datum", "namn", "e-post", "organisationsnummer", "foretag", "organisation",
    "anmald", "narvarande", "avbokad", "kalla",
]


def participant_rows(event: Event) -> list[list[str]]:
    rows = [list(HEADER)]
    day = timezone.localtime(event.starts_at).date().isoformat()
    for r in registrations_of(event):
        attended = "" if r.attended is None else ("ja" if r.attended else "nej")
        rows.append([safe_text(v) for v in (
            event.title, day, r.name, r.email,
            r.company.org_number_display if r.company_id else "",
            r.company.name if r.company_id else "",
            r.organisation_name,
            timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
            attended,
            timezone.localtime(r.cancelled_at).strftime("%Y-%m-%d %H:%M") if r.cancelled_at else "",
            r.source,
        )])
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(rows: list[list[str]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = (slugify(title)[:31] or "deltagare")
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def participants_response(user, event: Event, fmt: str) -> HttpResponse:
    rows = participant_rows(event)
    name = f"deltagare-{slugify(event.title) or 'evenemang'}-{timezone.localtime(event.starts_at):%Y%m%d}"
    if fmt == "xlsx":
        response = HttpResponse(
            as_xlsx(rows, event.title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(as_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    audit_record(user, AuditEvent.Action.EXPORT, event, scope=event.project,
                 message=f"Participant list ({fmt.upper()}, {len(rows) - 1} rows)")
    return response
