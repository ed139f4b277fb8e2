"""URLs of competence needs, education offerings and the demand report (namespace "competence")."""

from django.urls import path

from . import views

app_name = "competence"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report-xlsx"),
    path("report.pdf", views.report_pdf, name="report-pdf"),
    path("suggest/", views.suggest, name="suggest"),
    path("companies/<int:company_id>/needs/new/", views.need_create, name="need-create"),
    path("companies/<int:company_id>/needs/from-interview/", views.needs_from_interview, name="needs-from-interview"),
    path("needs/<int:pk>/edit/", views.need_edit, name="need-edit"),
    path("needs/<int:pk>/status/", views.need_status, name="need-status"),
    path("needs/<int:pk>/refer/<int:offering_id>/", views.need_refer, name="need-refer"),
    path("offerings/", views.offering_list, name="offerings"),
    path("offerings/new/", views.offering_create, name="offering-create"),
    path("offerings/import/", views.offering_import, name="offering-import"),
    path("offerings/<int:pk>/edit/", views.offering_edit, name="offering-edit"),
]
