"""The REST API (OpenAPI 3 at /api/docs). Each app contributes a router."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from .services import api_token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sim_…` with a personal token from the API page."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="SIM platform API",
    version="1",
    description=str(
        _(
            "REST API of the SIM platform. Authenticate with a personal token (Authorization: Bearer …) "
            "created on the API page, or with a browser session. Permissions are the same as in the web interface."
        )
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return api.create_response(request, {"detail": "Invalid input.", "errors": exc.errors}, status=422)


api.add_router("/companies/", "sim.companies.api.router")
api.add_router("/assessments/", "sim.assessments.api.router")
api.add_router("/", "sim.programmes.api_routing.router")
api.add_router("/", "sim.programmes.api_offers.router")
api.add_router("/activities/", "sim.activities.api.router")
api.add_router("/finance/", "sim.finance.api.router")
api.add_router("/finance/", "sim.finance.api_actuals.router")
api.add_router("/reporting/", "sim.reporting.api.router")
api.add_router("/stateaid/", "sim.stateaid.api.router")
api.add_router("/competence/", "sim.competence.api.router")
