from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterchangeConfig(AppConfig):
    name = "sim.interchange"
    label = "interchange"
    verbose_name = _("Project data export and import")
