from django.urls import path

from . import views, views_import

app_name = "companies"

urlpatterns = [
    path("", views.company_list, name="list"),
    path("export.csv", views.company_export, name="export"),
    path("new/", views.company_create, name="create"),
    path("import/", views_import.import_upload, name="import"),
    path("import/<str:token>/", views_import.import_preview, name="import-preview"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("merge/<int:first>/<int:second>/", views.merge, name="merge"),
    path("<int:pk>/", views.company_detail, name="detail"),
    path("<int:pk>/edit/", views.company_edit, name="edit"),
    path("<int:pk>/archive/", views.company_archive, name="archive"),
    path("<int:pk>/key-figures/new/", views.key_figures_edit, name="key-figures-add"),
    path("<int:pk>/key-figures/<int:year>/", views.key_figures_edit, name="key-figures-edit"),
    path("<int:pk>/ownership/new/", views.ownership_add, name="ownership-add"),
    path("<int:pk>/ownership/<int:link_id>/remove/", views.ownership_remove, name="ownership-remove"),
    path("<int:pk>/contacts/new/", views.contact_edit, name="contact-add"),
    path("<int:pk>/contacts/<int:contact_id>/", views.contact_edit, name="contact-edit"),
    path("<int:pk>/contacts/<int:contact_id>/archive/", views.contact_archive, name="contact-archive"),
    path("<int:pk>/contacts/<int:contact_id>/export/", views.contact_export, name="contact-export"),
    path("<int:pk>/contacts/<int:contact_id>/erase/", views.contact_erase, name="contact-erase"),
]
