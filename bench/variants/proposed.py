"""The proposed change itself (``bench/proposed/list-and-search.diff``), measured in place.

Loads ``bench/proposed/selectors.py`` (``sim/companies/selectors.py`` with the diff applied) as a
module of ``sim.companies``, routes the views to it, and builds the indexes of
``bench/proposed/0003_list_search_indexes.py`` for the run (removed again afterwards).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NEW_NAME_INDEX = 'CREATE INDEX IF NOT EXISTS "company_name_idx" ON "companies_company" ("name", "id", "search_text", "status")'
_OLD_NAME_INDEX = 'CREATE INDEX IF NOT EXISTS "company_name_idx" ON "companies_company" ("name")'
_UPDATED_INDEX = 'CREATE INDEX IF NOT EXISTS "company_updated_idx" ON "companies_company" ("updated_at", "id")'

SCHEMA = {
    "sqlite": ["DROP INDEX IF EXISTS company_name_idx", _NEW_NAME_INDEX, _UPDATED_INDEX],
    "postgresql": [
        "DROP INDEX IF EXISTS company_name_idx", _NEW_NAME_INDEX, _UPDATED_INDEX,
        "VACUUM ANALYZE companies_company",  # index-only scans need the visibility map
    ],
}
_RESTORE = ["DROP INDEX IF EXISTS company_updated_idx", "DROP INDEX IF EXISTS company_name_idx", _OLD_NAME_INDEX]
UNDO = {"sqlite": _RESTORE, "postgresql": _RESTORE}


def apply() -> None:
    from sim.companies import selectors, views

    path = Path(__file__).resolve().parent.parent / "proposed" / "selectors.py"
    spec = importlib.util.spec_from_file_location("sim.companies.selectors_proposed", path)
    proposed = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = proposed
    spec.loader.exec_module(proposed)
    for name in ("company_search", "company_list", "target_group_q", "is_in_target_group", "CappedPaginator"):
        setattr(selectors, name, getattr(proposed, name))
    views.Paginator = proposed.CappedPaginator
