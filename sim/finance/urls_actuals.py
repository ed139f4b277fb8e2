"""URLs of the actuals (namespace "finance", included by ``sim/finance/urls.py``)."""

from django.urls import path

from . import views_actuals as views

urlpatterns = [
    path("costs/", views.cost_index, name="costs"),
    path("projects/<int:project_id>/costs/", views.cost_list, name="costs-project"),
    path("projects/<int:project_id>/costs/new/", views.cost_create, name="cost-create"),
    path("projects/<int:project_id>/costs/import/", views.cost_import_upload, name="cost-import"),
    path("projects/<int:project_id>/costs/import/<str:token>/", views.cost_import_preview, name="cost-import-preview"),
    path("costs/<int:pk>/", views.cost_detail, name="cost-detail"),
    path("costs/<int:pk>/reverse/", views.cost_reverse, name="cost-reverse"),
    path("time/", views.time_index, name="time"),
    path("projects/<int:project_id>/time/", views.time_list, name="time-project"),
    path("projects/<int:project_id>/time/entry/", views.time_entry, name="time-entry"),
    path("projects/<int:project_id>/staff-rates/", views.staff_rate_list, name="staff-rates"),
    path("staff-rates/<int:pk>/edit/", views.staff_rate_edit, name="staff-rate-edit"),
    path("projects/<int:project_id>/contributions/", views.contributions, name="contributions"),
]
