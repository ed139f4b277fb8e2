from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/delete/", views.activity_delete, name="delete"),
    path("company/<int:company_id>/quick/", views.company_quick_add, name="company-quick-add"),
    path("events/", views.event_list, name="event-list"),
    path("events/new/", views.event_create, name="event-create"),
    path("events/<int:pk>/", views.event_detail, name="event-detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event-edit"),
    path("events/<int:pk>/registrations/", views.registration_add, name="registration-add"),
    path("events/<int:pk>/registrations/<int:registration_id>/cancel/", views.registration_cancel,
         name="registration-cancel"),
    path("events/<int:pk>/attendance/", views.attendance_save, name="attendance-save"),
    path("events/<int:pk>/attendance/<int:registration_id>/", views.attendance_one, name="attendance-one"),
    path("events/<int:pk>/participants.<str:fmt>", views.event_export, name="event-export"),
]
