"""URLs of projects, offers and routing. Each area keeps its own module."""

from django.urls import include, path

app_name = "programmes"

urlpatterns = [
    path("", include("sim.programmes.urls_projects")),
    path("offers/", include("sim.programmes.urls_offers")),
    path("", include("sim.programmes.urls_routing")),
]
