from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetenceConfig(AppConfig):
    name = "sim.competence"
    label = "competence"
    verbose_name = _("Competence supply")

    def ready(self) -> None:
        from .sections import register

        register()
