"""Growth interviews and maturity assessments: versioned instruments (data files), scoring, needs.

The pure layer lives in :mod:`sim.assessments.schema` (the instrument file format),
:mod:`sim.assessments.instrument_files` (finding, loading and fingerprinting instrument files) and
:mod:`sim.assessments.rules` (conditional questions, answer validation, scoring, needs).
See ``docs/instruments.md``.
"""
