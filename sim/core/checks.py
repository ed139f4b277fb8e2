"""System checks that keep deployments honest."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def database_is_not_sqlite_in_production(app_configs, **kwargs):
    if settings.PRODUCTION and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return [
            Warning(
                "Production runs on the embedded SQLite database.",
                hint="Set DATABASE_URL to a PostgreSQL database for multi-user production use.",
                id="sim.W001",
            )
        ]
    return []
