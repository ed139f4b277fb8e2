"""URLs of the de minimis ledger (namespace "stateaid")."""

from django.urls import path

from . import views

app_name = "stateaid"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("awards/<int:pk>/", views.award_detail, name="award"),
    path("awards/<int:pk>/grant/", views.award_grant, name="award-grant"),
    path("awards/<int:pk>/revoke/", views.award_revoke, name="award-revoke"),
    path("awards/<int:pk>/document/", views.award_document, name="award-document"),
    path("awards/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path("companies/<int:company_id>/", views.company_ledger, name="company"),
    path("companies/<int:company_id>/award/", views.award_create, name="award-create"),
    path("companies/<int:company_id>/declare/", views.declare, name="declare"),
    path("companies/<int:company_id>/profile/", views.profile_edit, name="profile"),
    path("check/", views.check, name="check"),
    path("rates/", views.rates, name="rates"),
    path("rates/import/", views.rates_import, name="rates-import"),
    path("export.csv", views.export, name="export"),
]
