from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "sim.assessments"
    label = "assessments"
    verbose_name = _("Growth interviews and maturity assessments")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .company_sections import register
        from .instrument_sync import sync_after_migrate

        register()

        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="sim.assessments.sync_instruments")
