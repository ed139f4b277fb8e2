from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StateaidConfig(AppConfig):
    name = "sim.stateaid"
    label = "stateaid"
    verbose_name = _("State aid")

    def ready(self) -> None:
        from .sections import register

        register()
