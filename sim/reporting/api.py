"""REST API of indicators: ``GET /api/reporting/projects/{project_id}/indicators?from=&to=`` gives the
same JSON as ``sim report_indicators --json``.

No `from __future__ import annotations` here: django-ninja reads the annotations at import time.
"""

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError

from . import rules, selectors

router = Router(tags=["indicators"])
VIEW = "reporting.view_projectindicator"
FROM = Query(None, alias="from", description="First day (YYYY-MM-DD); default the project's start.")
TO = Query(None, alias="to", description="Last day (YYYY-MM-DD); default the project's end.")


@router.get("/projects/{project_id}/indicators", summary="The project's indicators for a period")
def project_indicators(request: HttpRequest, project_id: int, start: dt.date | None = FROM,
                       end: dt.date | None = TO):
    if not request.user.has_perm(VIEW):
        raise HttpError(403, "You do not have permission for this.")
    project = selectors.project_for_user(request.user, project_id)
    if project is None:
        raise HttpError(404, "No such project.")
    try:
        period = rules.Period(start or project.start_date, end or project.effective_end)
    except rules.RuleError as exc:
        raise HttpError(422, str(exc)) from None
    return selectors.report_json(selectors.indicator_report(project, period))
