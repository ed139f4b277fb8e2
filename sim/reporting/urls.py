"""URLs of indicators and progress reports (namespace "reporting")."""

from django.urls import path

from . import views, views_impact

app_name = "reporting"

urlpatterns = [
    path("", views.report_home, name="home"),
    path("projects/<int:project_id>/", views.report, name="report"),
    path("projects/<int:project_id>/overview/", views.overview, name="overview"),
    path("projects/<int:project_id>/impact/", views_impact.impact, name="impact"),
    path("mine/", views.advisor_home, name="advisor-home"),
    path("projects/<int:project_id>/mine/", views.advisor, name="advisor"),
    path("projects/<int:project_id>/export.<str:fmt>", views.export, name="export"),
    path("projects/<int:project_id>/indicators/", views.indicators, name="indicators"),
    path("indicators/<int:pk>/", views.indicator_edit, name="indicator-edit"),
]
