"""Offer catalogue and recommendations (mounted at programmes/offers/, namespace "programmes")."""

from django.urls import path

from . import views_offers as views

urlpatterns = [
    path("", views.offer_list, name="offer-list"),
    path("new/", views.offer_create, name="offer-create"),
    path("<int:pk>/", views.offer_detail, name="offer-detail"),
    path("<int:pk>/edit/", views.offer_edit, name="offer-edit"),
    path("<int:pk>/active/", views.offer_set_active, name="offer-set-active"),
    path("<int:pk>/companies/", views.offer_companies, name="offer-companies"),
    path("<int:pk>/companies.csv", views.offer_companies_export, name="offer-companies-export"),
    path("for-company/<int:company_id>/", views.company_recommendations, name="offer-recommendations"),
]
