from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/api-tokens/", views.api_tokens, name="api-tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("healthz", views.healthz, name="healthz"),
]
