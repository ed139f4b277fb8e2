"""URLs of project finance (namespace "finance"): budgets, scenarios, financing and the dashboard;
the actuals (costs, time, contributions) are in :mod:`sim.finance.urls_actuals`."""

from django.urls import include, path

from . import views

app_name = "finance"

urlpatterns = [
    path("", views.finance_home, name="home"),
    path("projects/<int:project_id>/dashboard/", views.dashboard, name="dashboard"),
    path("projects/<int:project_id>/scenarios/", views.scenario_list, name="scenario-list"),
    path("projects/<int:project_id>/scenarios/new/", views.scenario_create, name="scenario-create"),
    path("projects/<int:project_id>/scenarios/compare/", views.scenario_compare, name="scenario-compare"),
    path("scenarios/<int:pk>/", views.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:pk>/edit/", views.scenario_edit, name="scenario-edit"),
    path("scenarios/<int:pk>/copy/", views.scenario_copy, name="scenario-copy"),
    path("scenarios/<int:pk>/adopt/", views.scenario_adopt, name="scenario-adopt"),
    path("scenarios/<int:pk>/delete/", views.scenario_delete, name="scenario-delete"),
    path("scenarios/<int:pk>/budget/", views.budget_edit, name="budget-edit"),
    path("scenarios/<int:pk>/budget/cell/", views.budget_cell, name="budget-cell"),
    path("scenarios/<int:pk>/financing/", views.financing_edit, name="financing-edit"),
    path("scenarios/<int:pk>/financing/<int:source_id>/", views.financing_source_edit, name="financing-source-edit"),
    path("scenarios/<int:pk>/financing/<int:source_id>/delete/", views.financing_source_delete,
         name="financing-source-delete"),
    path("", include("sim.finance.urls_actuals")),
]
