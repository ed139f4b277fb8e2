from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "sim.programmes"
    label = "programmes"
    verbose_name = _("Programmes and focus areas")

    def ready(self) -> None:
        from .sections_offers import register as register_offers
        from .sections_routing import register as register_routing

        register_offers()
        register_routing()
