"""Copies instrument files into `InstrumentVersion` rows and parses stored definitions."""

from __future__ import annotations

import logging

from django.db import transaction

from . import instrument_files
from .schema import Instrument

logger = logging.getLogger(__name__)


_PARSED: dict[tuple[str, int, str], Instrument] = {}


def instrument_for(instrument_version) -> Instrument:
    """The parsed instrument of a stored version; parsed once per (key, version, digest)."""
    cache_key = (instrument_version.key, instrument_version.version, instrument_version.digest)
    instrument = _PARSED.get(cache_key)
    if instrument is None:
        instrument = instrument_files.parse_instrument(
            instrument_version.definition,
            source=f"{instrument_version.key} v{instrument_version.version} (database)",
        )
        _PARSED[cache_key] = instrument
    return instrument


@transaction.atomic
def instrument_sync() -> dict[str, list[str]]:
    """Add every instrument version found in the files and not yet in the database.

    A published version whose file has changed is not overwritten (assessments were scored
    against the stored copy); it is reported so that the change can become a new version.
    """
    from .models import InstrumentVersion

    report: dict[str, list[str]] = {"added": [], "changed": []}
    for key in instrument_files.instrument_ids():
        for version in instrument_files.versions(key):
            instrument = instrument_files.load_instrument(key, version)
            digest = instrument_files.instrument_digest(instrument)
            stored = InstrumentVersion.objects.filter(key=key, version=version).first()
            if stored is None:
                InstrumentVersion.objects.create(
                    key=key, version=version, kind=instrument.kind, title_sv=instrument.title.sv,
                    title_en=instrument.title.en, digest=digest,
                    definition=instrument.model_dump(mode="json", by_alias=True),
                )
                report["added"].append(f"{key} v{version}")
            elif stored.digest != digest:
                report["changed"].append(f"{key} v{version}")
                logger.warning(
                    "Instrument %s v%s differs from its published copy; publish the change as v%s.",
                    key, version, instrument_files.latest_version(key) + 1,
                )
    return report


def sync_after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.label == "assessments":
        instrument_sync()
