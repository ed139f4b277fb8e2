"""The impact page of a project: before/after of the supported enterprises and the comparison with
similar enterprises that were not supported.

Permissions as the progress report (project managers, administrators, finance officers, auditors
and advisors read; company representatives and education providers: 403). The comparison group is
shown as counts and means only, never as companies.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import rules_impact, selectors_impact
from .views import NAV, VIEW, _project


@login_required
@permission_required(VIEW, raise_exception=True)
def impact(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    data = selectors_impact.impact_of(project)
    figures = [(_("Staff (AWU)"), data.staff), (_("Turnover (SEK)"), data.turnover),
               (_("Export share (%)"), data.export_share),
               (_("New products launched in the last 12 months"), data.new_products),
               (_("New services launched in the last 12 months"), data.new_services)]
    return render(request, "reporting/impact.html", {
        "project": project, "data": data, "figures": figures, "active_nav": NAV, "min_group": rules_impact.MIN_GROUP,
        "level_pct": int(rules_impact.LEVEL * 100),
    })
