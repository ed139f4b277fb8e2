"""Demo data of the competence app (``sim demo``).

Step ``taxonomy``: loads the default taxonomy shipped in ``sim/competence/data`` (occupations and
skills of manufacturing and adjacent trades, see :func:`services_taxonomy.default_taxonomy_sync`),
so that ``make run`` has a taxonomy for needs, offerings and matching. Idempotent: a second
``sim demo`` leaves the concepts as they are. Audited with the demo administrator as actor and the
source "system".
"""

from __future__ import annotations

from sim.companies.demo import DemoContext, demo_step
from sim.core.models import AuditEvent

from .services_taxonomy import default_taxonomy_sync


@demo_step("taxonomy")
def _taxonomy(ctx: DemoContext) -> None:
    counts = default_taxonomy_sync(actor=ctx.actor, source=AuditEvent.Source.SYSTEM)
    ctx.counts["taxonomy_concepts_created"] = counts["created"]
    ctx.counts["taxonomy_links_created"] = counts["links_created"]
    # Embed the labels now, into the matcher's cache on disk, so that the first suggestion in the
    # running app does not wait for it (about half a minute of CPU for the default taxonomy once;
    # later runs reuse the cache).
    from .matching import get_matcher  # noqa: PLC0415

    ctx.counts["matcher_concepts"] = len(get_matcher())


# The needs-and-offerings step lives in its own module; importing it here registers it after the
# taxonomy step (steps are discovered by importing each app's ``demo`` module).
from . import demo_needs  # noqa: E402, F401
