from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from sim.core.api import api

urlpatterns = [
    path("", include("sim.core.urls")),
    path("accounts/", include("sim.core.auth_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("companies/", include("sim.companies.urls")),
    path("assessments/", include("sim.assessments.urls")),
    path("programmes/", include("sim.programmes.urls")),
    path("activities/", include("sim.activities.urls")),
    path("finance/", include("sim.finance.urls")),
    path("reports/", include("sim.reporting.urls")),
    path("stateaid/", include("sim.stateaid.urls")),
    path("competence/", include("sim.competence.urls")),
    path("api/", api.urls),
    path("django-admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
