from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "sim.activities"
    label = "activities"
    verbose_name = _("Activities and events")

    def ready(self) -> None:
        from .company_sections import register

        register()
