"""Projects, partners and members, the current-project switch, and outreach mailings."""

from django.urls import path

from . import views_mailings, views_projects

urlpatterns = [
    path("projects/", views_projects.project_list, name="project-list"),
    path("projects/new/", views_projects.project_create, name="project-create"),
    path("projects/switch/", views_projects.project_switch, name="project-switch"),
    path("projects/<int:pk>/", views_projects.project_detail, name="project-detail"),
    path("projects/<int:pk>/edit/", views_projects.project_edit, name="project-edit"),
    path("projects/<int:pk>/partners/", views_projects.project_partners, name="project-partners"),
    path("projects/<int:pk>/partners/<int:partner_id>/remove/", views_projects.project_partner_remove,
         name="project-partner-remove"),
    path("projects/<int:pk>/members/", views_projects.project_members, name="project-members"),
    path("projects/<int:pk>/members/<int:member_id>/", views_projects.project_member_update, name="project-member-update"),
    path("projects/<int:pk>/members/<int:member_id>/remove/", views_projects.project_member_remove,
         name="project-member-remove"),
    path("mailings/", views_mailings.mailing_list, name="mailing-list"),
    path("mailings/new/", views_mailings.mailing_create, name="mailing-create"),
    path("mailings/<int:pk>/", views_mailings.mailing_detail, name="mailing-detail"),
    path("mailings/<int:pk>/edit/", views_mailings.mailing_edit, name="mailing-edit"),
    path("mailings/<int:pk>/queue/", views_mailings.mailing_queue, name="mailing-queue"),
    path("mailings/<int:pk>/bounces/", views_mailings.mailing_bounces, name="mailing-bounces"),
    path("mailings/<int:pk>/recipients/<int:recipient_id>/replied/", views_mailings.recipient_replied,
         name="mailing-recipient-replied"),
    path("optout/<str:token>/", views_mailings.optout, name="optout"),
]
