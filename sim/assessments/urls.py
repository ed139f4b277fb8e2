from django.urls import path

from . import views_plans, views_results, views_taking

app_name = "assessments"

urlpatterns = [
    # Taking an assessment (views_taking)
    path("company/<int:company_id>/start/", views_taking.assessment_start, name="start"),
    path("<int:pk>/", views_taking.assessment_fill, name="fill"),
    path("<int:pk>/section/<str:section_id>/", views_taking.assessment_fill, name="fill-section"),
    path("<int:pk>/answer/<str:question_id>/", views_taking.assessment_answer, name="answer"),
    path("<int:pk>/details/", views_taking.assessment_details, name="details"),
    path("<int:pk>/complete/", views_taking.assessment_complete, name="complete"),
    path("<int:pk>/correct/", views_taking.assessment_correct, name="correct"),
    path("<int:pk>/invite/", views_taking.self_assessment_invite, name="invite"),
    path("<int:pk>/links/<int:link_id>/revoke/", views_taking.self_assessment_revoke, name="link-revoke"),
    path("self/<str:secret>/", views_taking.self_assessment, name="self"),
    path("self/<str:secret>/section/<str:section_id>/", views_taking.self_assessment, name="self-section"),
    path("self/<str:secret>/answer/<str:question_id>/", views_taking.self_assessment_answer, name="self-answer"),
    path("self/<str:secret>/submit/", views_taking.self_assessment_submit, name="self-submit"),
    # Results (views_results)
    path("<int:pk>/results/", views_results.assessment_results, name="results"),
    path("<int:pk>/compare/<int:other_pk>/", views_results.assessment_compare, name="compare"),
    path("<int:pk>/radar.svg", views_results.radar_svg, name="radar-svg"),
    path("company/<int:company_id>/needs/new/", views_results.need_edit, name="need-add"),
    path("company/<int:company_id>/needs/<int:need_id>/", views_results.need_edit, name="need-edit"),
    # Growth plans (views_plans)
    path("company/<int:company_id>/plans/new/", views_plans.plan_create, name="plan-create"),
    path("plans/<int:plan_id>/", views_plans.plan_detail, name="plan"),
    path("plans/<int:plan_id>/edit/", views_plans.plan_edit, name="plan-edit"),
    path("plans/<int:plan_id>/goals/new/", views_plans.goal_edit, name="goal-add"),
    path("plans/<int:plan_id>/goals/<int:goal_id>/", views_plans.goal_edit, name="goal-edit"),
    path("plans/<int:plan_id>/goals/<int:goal_id>/remove/", views_plans.goal_remove, name="goal-remove"),
    path("plans/<int:plan_id>/actions/new/", views_plans.action_edit, name="action-add"),
    path("plans/<int:plan_id>/actions/<int:action_id>/", views_plans.action_edit, name="action-edit"),
    path("plans/<int:plan_id>/actions/<int:action_id>/remove/", views_plans.action_remove, name="action-remove"),
    path("plans/<int:plan_id>/pdf/", views_plans.plan_pdf, name="plan-pdf"),
]
