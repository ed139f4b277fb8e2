"""URLs of routing: the pipeline board, referrals, interventions and follow-ups (namespace "programmes")."""

from django.urls import path

from . import views_routing as views

urlpatterns = [
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/<int:project_id>/", views.pipeline, name="pipeline-project"),
    path("referrals/new/<int:company_id>/", views.referral_create, name="referral-create"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral"),
    path("referrals/<int:pk>/edit/", views.referral_edit, name="referral-edit"),
    path("referrals/<int:pk>/move/", views.referral_move, name="referral-move"),
    path("interventions/", views.intervention_list, name="interventions"),
    path("interventions/project/<int:project_id>/", views.intervention_list, name="interventions-project"),
    path("interventions/new/<int:company_id>/", views.intervention_create, name="intervention-create"),
    path("interventions/<int:pk>/", views.intervention_detail, name="intervention"),
    path("interventions/<int:pk>/edit/", views.intervention_edit, name="intervention-edit"),
    path("interventions/<int:pk>/approve/", views.intervention_approve, name="intervention-approve"),
    path("interventions/<int:pk>/move/", views.intervention_move, name="intervention-move"),
    path("interventions/<int:pk>/decision/", views.intervention_decision, name="intervention-decision"),
    path("interventions/<int:pk>/decision/upload/", views.intervention_decision_upload, name="intervention-decision-upload"),
    path("follow-ups/", views.follow_up_list, name="follow-ups"),
    path("follow-ups/new/<int:company_id>/", views.follow_up_create, name="follow-up-create"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow-up-done"),
]
