"""The candidate fixes of :mod:`bench.variants.fixes`, plus planner statistics on SQLite
(``ANALYZE``; the application never runs it, so SQLite plans from heuristics). The statistics
are removed again afterwards (``DROP TABLE sqlite_stat1``)."""

from bench.variants.fixes import SCHEMA as _SCHEMA
from bench.variants.fixes import UNDO as _UNDO
from bench.variants.fixes import apply  # noqa: F401

SCHEMA = {**_SCHEMA, "sqlite": [*_SCHEMA["sqlite"], "ANALYZE"]}
UNDO = {**_UNDO, "sqlite": [*_UNDO["sqlite"], "DROP TABLE IF EXISTS sqlite_stat1"]}
