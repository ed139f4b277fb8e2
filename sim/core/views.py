from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sim.companies import selectors as company_selectors

from . import services
from .home import panels_for
from .models import ApiToken
from .roles import Role, has_role


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Start page: what this user works with."""
    user = request.user
    context: dict = {"active_nav": "home"}
    if has_role(user, Role.COMPANY_REPRESENTATIVE) and not user.has_perm("companies.add_company"):
        context["represented"] = company_selectors.companies_visible_to(user)
    if user.has_perm("companies.view_company") and not context.get("represented"):
        context["summary"] = company_selectors.register_summary(user)
        context["my_companies"] = company_selectors.companies_owned_by(user)[:15]
    if user.has_perm("core.view_auditevent"):
        context["recent_changes"] = company_selectors.recent_changes(user)[:10]
    context["is_education_provider"] = has_role(user, Role.EDUCATION_PROVIDER)
    context["panels"] = panels_for(request)
    return render(request, "core/home.html", context)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, _("Give the token a name, e.g. the system that will use it."))
        else:
            _token, secret = services.api_token_create(request.user, name[:100])
            # Shown once on the next page; redirecting keeps a reload from creating another token.
            request.session["new_api_token"] = secret
        return redirect("api-tokens")
    new_secret = request.session.pop("new_api_token", None)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request, "core/api_tokens.html", {"tokens": tokens, "new_secret": new_secret, "active_nav": "api"}
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token)
    messages.success(request, _("The token has been revoked."))
    return redirect("api-tokens")
