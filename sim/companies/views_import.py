"""Company import in the browser: upload → preview (a dry run) → confirm or cancel.

The uploaded file is kept under ``MEDIA_ROOT/imports/<token>/`` with a small ``meta.json`` naming
its owner; only that user can preview, import or cancel it.  The dry-run result is stored beside
it (``preview.json``) so the preview page can be shown again without reading the file.  Uploads
left behind (neither imported nor cancelled) are removed after a day.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sim.core.models import AuditEvent

from .forms import ImportUploadForm
from .importer import COLUMNS, import_companies

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,80}")
#: Uploads older than this are removed when someone uploads a new file.
STALE_AFTER_SECONDS = 24 * 60 * 60
#: Errors shown on the preview page (all are counted).
ERRORS_SHOWN = 1000


def max_upload_mb() -> int:
    return int(getattr(settings, "SIM_IMPORT_MAX_UPLOAD_MB", 50))


class ImportFileForm(ImportUploadForm):
    """The upload form, with the size limit of ``SIM_IMPORT_MAX_UPLOAD_MB``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        field.widget.attrs.setdefault("accept", ".csv,.txt,.tsv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        field.help_text = gettext_lazy(
            "A CSV file (comma, semicolon or tab separated) or an Excel workbook (.xlsx, first sheet), at most "
            "%(max)d MB. The first row holds the column headings."
        ) % {"max": max_upload_mb()}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_mb() * 1024 * 1024
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: at most %(max)d MB.") % {"max": max_upload_mb()}, code="too_large"
            )
        if not upload.size:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        return upload


# --- storage of pending uploads -------------------------------------------------------------


def imports_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _pending_dir(token: str) -> Path:
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise Http404(_("No such import."))
    return imports_root() / token


def _load_pending(request: HttpRequest, token: str) -> tuple[Path, dict]:
    """The upload's folder and metadata; 404 unless it exists and belongs to this user."""
    folder = _pending_dir(token)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Http404(_("No such import.")) from None
    if meta.get("owner") != request.user.pk:
        raise Http404(_("No such import."))
    return folder, meta


def _remove_stale_uploads() -> None:
    root = imports_root()
    if not root.is_dir():
        return
    limit = time.time() - STALE_AFTER_SECONDS
    for folder in root.iterdir():
        try:
            if folder.is_dir() and TOKEN_PATTERN.fullmatch(folder.name) and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _store_upload(request: HttpRequest, upload) -> tuple[str, Path]:
    _remove_stale_uploads()
    token = secrets.token_urlsafe(24)
    folder = imports_root() / token
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / "upload"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    meta = {
        "owner": request.user.pk,
        "name": Path(upload.name or "upload").name[:200],
        "size": path.stat().st_size,
        "uploaded_at": time.time(),
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token, path


def _run_preview(request: HttpRequest, folder: Path, meta: dict) -> dict:
    result = import_companies(
        folder / "upload", actor=request.user, dry_run=True, source=AuditEvent.Source.WEB, name=meta["name"]
    )
    data = result.as_dict()
    (folder / "preview.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data


# --- views ----------------------------------------------------------------------------------


@login_required
@permission_required("companies.import_companies", raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportFileForm(request.POST, request.FILES)
        if form.is_valid():
            token, _path = _store_upload(request, form.cleaned_data["file"])
            folder, meta = _load_pending(request, token)
            _run_preview(request, folder, meta)
            return redirect("companies:import-preview", token=token)
    else:
        form = ImportFileForm()
    return render(
        request,
        "companies/import_upload.html",
        {"form": form, "active_nav": "import", "columns": COLUMNS, "max_mb": max_upload_mb()},
    )


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "on", "true", "yes"}


@login_required
@permission_required("companies.import_companies", raise_exception=True)
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    folder, meta = _load_pending(request, token)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            shutil.rmtree(folder, ignore_errors=True)
            messages.info(request, _("The import was cancelled; nothing was changed."))
            return redirect("companies:import")
        skip_invalid = _truthy(request.POST.get("skip_invalid"))
        result = import_companies(
            folder / "upload", actor=request.user, skip_invalid=skip_invalid, source=AuditEvent.Source.WEB,
            name=meta["name"],
        )
        if result.written:
            shutil.rmtree(folder, ignore_errors=True)
            text = _(
                "Import of %(file)s done: %(created)d companies created, %(updated)d updated, %(unchanged)d unchanged."
            ) % {"file": meta["name"], "created": result.created, "updated": result.updated, "unchanged": result.unchanged}
            if result.invalid_rows:
                text += " " + _("%(count)d invalid rows were skipped.") % {"count": result.invalid_rows}
            messages.success(request, text)
            return redirect(reverse("companies:list"))
        # Nothing written: the file has errors (perhaps since the preview) and skipping was not chosen.
        data = _run_preview(request, folder, meta)
        messages.error(
            request,
            _("Nothing was imported: the file has errors. Correct them, or tick “Skip invalid rows” to import the valid rows."),
        )
        return _render_preview(request, token, meta, data, skip_invalid=False, status=400)

    try:
        data = json.loads((folder / "preview.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = _run_preview(request, folder, meta)
    return _render_preview(request, token, meta, data, skip_invalid=_truthy(request.GET.get("skip_invalid")))


def _render_preview(
    request: HttpRequest, token: str, meta: dict, data: dict, *, skip_invalid: bool, status: int = 200
) -> HttpResponse:
    errors = data.get("errors", [])
    has_errors = bool(data.get("error_count"))
    context = {
        "active_nav": "import",
        "token": token,
        "file_name": meta["name"],
        "result": data,
        "errors": errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, data.get("error_count", 0) - min(len(errors), ERRORS_SHOWN)),
        "has_errors": has_errors,
        "fatal": data.get("fatal", False),
        "skip_invalid": skip_invalid and has_errors,
        "can_import": not data.get("fatal") and (not has_errors or skip_invalid),
        "nothing_to_do": not data.get("fatal") and not data.get("created") and not data.get("updated"),
    }
    return render(request, "companies/import_preview.html", context, status=status)
