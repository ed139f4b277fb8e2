from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    name = "sim.companies"
    label = "companies"
    verbose_name = _("Company register")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .search_index import ensure_search_triggers

        post_migrate.connect(ensure_search_triggers, sender=self, dispatch_uid="sim.companies.search_triggers")
