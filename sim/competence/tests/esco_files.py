"""Small ESCO CSV files for the import tests, written like ESCO's own download."""

from __future__ import annotations

import csv
import io
from pathlib import Path

OCC = "http://data.europa.eu/esco/occupation/"
SKILL = "http://data.europa.eu/esco/skill/"
ISCO = "http://data.europa.eu/esco/isco/"

#: The columns of ESCO's occupations_xx.csv (v1.1), in their order.
OCCUPATION_COLUMNS = [
    "conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "hiddenLabels", "status",
    "modifiedDate", "regulatedProfessionNote", "scopeNote", "definition", "inScheme", "description", "code",
]
#: The columns of ESCO's skills_xx.csv.
SKILL_COLUMNS = [
    "conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels", "hiddenLabels",
    "status", "modifiedDate", "scopeNote", "definition", "inScheme", "description",
]


def occupation_row(uri: str, preferred: str, alt: list[str] = (), description: str = "", **extra) -> dict:
    return {
        "conceptType": "Occupation", "conceptUri": uri, "iscoGroup": "7212", "preferredLabel": preferred,
        "altLabels": "\n".join(alt), "hiddenLabels": "", "status": "released", "modifiedDate": "2023-01-01T00:00:00Z",
        "inScheme": "http://data.europa.eu/esco/concept-scheme/occupations", "description": description,
        "code": "7212.1", **extra,
    }


def skill_row(uri: str, preferred: str, alt: list[str] = (), description: str = "", **extra) -> dict:
    return {
        "conceptType": "KnowledgeSkillCompetence", "conceptUri": uri, "skillType": "skill/competence",
        "reuseLevel": "sector-specific", "preferredLabel": preferred, "altLabels": "\n".join(alt),
        "status": "released", "description": description, **extra,
    }


def write_csv(path: Path, columns: list[str], rows: list[dict], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def welders_sv(tmp_path: Path, name: str = "occupations_sv.csv") -> Path:
    """Two occupations with Swedish labels (alternative labels one a line)."""
    return write_csv(tmp_path / name, OCCUPATION_COLUMNS, [
        occupation_row(OCC + "welder-1", "svetsare", ["MIG/MAG-svetsare", "TIG-svetsare", "svetsare, stål"],
                       "Svetsare fogar metall."),
        occupation_row(OCC + "cnc-2", "CNC-operatör", ["CNC operatör", "cnc-maskinoperatör"], "Kör CNC-maskiner."),
    ])
