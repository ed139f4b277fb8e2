"""The shipped default taxonomy: its content, and loading it (idempotent, bulk, audited)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from sim.competence import taxonomy
from sim.competence.models import Concept
from sim.competence.services_taxonomy import TaxonomyError, default_taxonomy_sync
from sim.core.models import AuditEvent

SHIPPED = taxonomy.read_default_taxonomy()
BY_URI = {c.uri: c for c in SHIPPED}


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source language), whatever the default language."""
    with translation.override("en"):
        yield


def is_group(concept: taxonomy.DefaultConcept) -> bool:
    """ISCO groups (occupations) and our skill areas: the top of the taxonomy."""
    return "/esco/isco/" in concept.uri or "/skill/area-" in concept.uri


def specific(kind: str) -> list[taxonomy.DefaultConcept]:
    return [c for c in SHIPPED if c.kind == kind and not is_group(c)]


# --- content ---------------------------------------------------------------------------------


def test_size():
    assert len(specific("occupation")) >= 150
    assert len(specific("skill")) >= 400


def test_every_concept_has_both_languages_and_descriptions():
    for concept in SHIPPED:
        assert concept.preferred_label_sv and concept.preferred_label_en, concept.uri
        assert concept.description_sv and concept.description_en, concept.uri
        assert concept.description_sv.endswith(".") and concept.description_en.endswith("."), concept.uri


def test_concepts_have_several_alternative_labels():
    for concept in specific("occupation") + specific("skill"):
        assert len(concept.alt_labels_sv) + len(concept.alt_labels_en) >= 2, concept.uri
    occupations = specific("occupation")
    assert sum(len(c.alt_labels_sv) >= 3 for c in occupations) / len(occupations) > 0.8


def test_every_specific_concept_has_a_broader_concept_and_tops_are_groups():
    for concept in SHIPPED:
        if is_group(concept):
            continue
        assert concept.broader, concept.uri
        for uri in concept.broader:
            assert BY_URI[uri].kind == concept.kind
    tops = [c for c in SHIPPED if not c.broader]
    assert tops and all(is_group(c) for c in tops)


def test_uris_are_esco_or_our_namespace():
    for concept in SHIPPED:
        if concept.uri.startswith(taxonomy.ESCO_NAMESPACE):
            assert re.fullmatch(r"http://data\.europa\.eu/esco/(isco/C\d{1,4}|skill/[0-9a-f-]{36})", concept.uri), concept.uri
            assert taxonomy.esco_uri_kind(concept.uri) == concept.kind
        else:
            assert concept.uri.startswith(f"{taxonomy.DEFAULT_NAMESPACE}{concept.kind}/"), concept.uri
    # ISCO major and unit groups above the occupations, ESCO skills among the skills
    assert BY_URI["http://data.europa.eu/esco/isco/C7212"].preferred_label_en == "Welders and flame cutters"
    assert sum(c.source == "esco" for c in specific("skill")) >= 40


def test_preferred_labels_are_unique_within_a_kind():
    for kind in taxonomy.KINDS:
        for language in ("sv", "en"):
            labels = Counter(taxonomy.label_key(getattr(c, f"preferred_label_{language}")) for c in SHIPPED if c.kind == kind)
            assert [label for label, n in labels.items() if n > 1] == [], (kind, language)


def test_no_alternative_label_is_another_concepts_preferred_label():
    preferred: dict[tuple[str, str], str] = {}
    for c in SHIPPED:
        for label in (c.preferred_label_sv, c.preferred_label_en):
            preferred[(c.kind, taxonomy.label_key(label))] = c.uri
    for c in SHIPPED:
        for label in (*c.alt_labels_sv, *c.alt_labels_en):
            assert preferred.get((c.kind, taxonomy.label_key(label)), c.uri) == c.uri, (c.uri, label)


@pytest.mark.parametrize("phrase,kind,preferred_en", [
    ("CNC-operatör", "occupation", "CNC operator"),
    ("cnc operatör", "occupation", "CNC operator"),
    ("svetsare MIG/MAG", "occupation", "MIG/MAG welder"),
    ("automationstekniker PLC", "occupation", "Automation technician"),
    ("truckförare A+B", "occupation", "Forklift driver"),
    ("underhållsmekaniker", "occupation", "Maintenance technician"),
    ("sågverksarbetare", "occupation", "Sawmill operator"),
    ("formsprutare", "occupation", "Injection moulding operator"),
    ("kantbockare", "occupation", "Press brake operator"),
    ("PLC-programmering", "skill", "PLC programming"),
    ("TIA Portal", "skill", "Siemens TIA Portal"),
    ("truckkort A+B", "skill", "Forklift licence"),
    ("heta arbeten", "skill", "Hot work certificate"),
    ("5S", "skill", "5S"),
    ("HACCP", "skill", "HACCP"),
    ("pulverlackering", "skill", "Powder coating"),
    ("vakuuminjicering", "skill", "Vacuum infusion"),
    ("ISO 14001", "skill", "ISO 14001"),
])
def test_employer_phrasings_lead_to_the_right_concept(phrase, kind, preferred_en):
    key = taxonomy.label_key(phrase)
    found = [
        c.preferred_label_en for c in SHIPPED if c.kind == kind
        and key in {taxonomy.label_key(x) for x in (c.preferred_label_sv, c.preferred_label_en, *c.alt_labels_sv, *c.alt_labels_en)}
    ]
    assert found == [preferred_en]


def test_the_trades_of_the_brief_are_covered():
    areas = {c.preferred_label_en for c in SHIPPED if "/skill/area-" in c.uri}
    for area in ("Welding and joining", "Machining and CNC", "Automation and control systems", "Maintenance",
                 "Electrical engineering", "Industrial IT and digitalisation", "Quality and metrology",
                 "Lean and continuous improvement", "Logistics and warehousing", "Wood and sawmilling",
                 "Food production", "Plastics and rubber", "Composites", "Sheet metal working",
                 "Surface treatment and painting", "Assembly", "Production management and planning", "Sales and export",
                 "Purchasing", "Environment and sustainability", "Health and safety", "Licences and certificates"):
        assert area in areas
    for area in (c for c in SHIPPED if "/skill/area-" in c.uri):
        narrower = [c for c in SHIPPED if area.uri in c.broader]
        assert len(narrower) >= 4, area.preferred_label_en


def test_the_files_are_package_data():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(taxonomy.__file__).resolve().parents[2] / "pyproject.toml").read_text("utf-8"))
    assert "data/*.csv" in pyproject["tool"]["setuptools"]["package-data"]["sim.competence"]


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_creates_everything_in_a_few_queries_and_fast():
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        counts = default_taxonomy_sync()
    elapsed = time.perf_counter() - start
    assert counts["created"] == len(SHIPPED) == Concept.objects.count()
    assert counts["links_created"] == sum(len(c.broader) for c in SHIPPED) == Concept.broader.through.objects.count()
    assert len(queries) < 40
    assert elapsed < 10
    assert Concept.objects.filter(kind="occupation").count() == sum(c.kind == "occupation" for c in SHIPPED)
    cnc = Concept.objects.get(uri=f"{taxonomy.DEFAULT_NAMESPACE}occupation/cnc-operator")
    assert cnc.preferred_label_sv == "CNC-operatör" and "CNC-maskinoperatör" in cnc.alt_labels_sv
    assert cnc.source == "default"
    assert [b.uri for b in cnc.broader.all()] == ["http://data.europa.eu/esco/isco/C7223"]
    assert Concept.objects.filter(source="esco", kind="skill").exists()
    # audited: one creation event per concept, with its broader links
    events = AuditEvent.objects.filter(object_type="competence.concept", action=AuditEvent.Action.CREATE)
    assert events.count() == len(SHIPPED)
    event = events.get(object_id=str(cnc.pk))
    assert event.changes["broader"]["after"] == ["http://data.europa.eu/esco/isco/C7223"]
    assert event.source == AuditEvent.Source.SYSTEM


@pytest.mark.django_db
def test_load_is_idempotent():
    default_taxonomy_sync()
    events = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        counts = default_taxonomy_sync()
    assert counts == {"created": 0, "updated": 0, "unchanged": len(SHIPPED), "kept": 0, "links_created": 0}
    assert len(queries) < 15
    assert AuditEvent.objects.count() == events
    assert Concept.objects.count() == len(SHIPPED)


@pytest.mark.django_db
def test_edited_concepts_are_kept_unless_update():
    default_taxonomy_sync()
    cnc = Concept.objects.get(uri=f"{taxonomy.DEFAULT_NAMESPACE}occupation/cnc-operator")
    cnc.preferred_label_sv = "CNC-operatör (egen)"
    cnc.save()
    counts = default_taxonomy_sync()
    assert counts["kept"] == 1 and counts["updated"] == 0
    cnc.refresh_from_db()
    assert cnc.preferred_label_sv == "CNC-operatör (egen)"
    counts = default_taxonomy_sync(update=True)
    assert counts["updated"] == 1
    cnc.refresh_from_db()
    assert cnc.preferred_label_sv == "CNC-operatör"
    event = AuditEvent.objects.filter(object_id=str(cnc.pk), action=AuditEvent.Action.UPDATE).get()
    assert event.changes == {"preferred_label_sv": {"before": "CNC-operatör (egen)", "after": "CNC-operatör"}}


@pytest.mark.django_db
def test_missing_links_are_added_and_audited():
    default_taxonomy_sync()
    cnc = Concept.objects.get(uri=f"{taxonomy.DEFAULT_NAMESPACE}occupation/cnc-operator")
    cnc.broader.clear()
    counts = default_taxonomy_sync()
    assert counts["links_created"] == 1
    assert cnc.broader.count() == 1
    event = AuditEvent.objects.filter(object_id=str(cnc.pk), action=AuditEvent.Action.UPDATE).get()
    assert event.changes["broader"] == {"before": [], "after": ["http://data.europa.eu/esco/isco/C7223"]}


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    counts = default_taxonomy_sync(dry_run=True)
    assert counts["created"] == len(SHIPPED)
    assert counts["links_created"] == sum(len(c.broader) for c in SHIPPED)
    assert Concept.objects.count() == 0 and AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_uri_of_another_kind_is_refused():
    Concept.objects.create(uri="http://data.europa.eu/esco/isco/C7212", kind="skill", preferred_label_sv="x")
    with pytest.raises(TaxonomyError, match="as a skill"):
        default_taxonomy_sync()
    assert Concept.objects.count() == 1  # atomic


@pytest.mark.django_db
def test_command_loads_and_reports():
    out = StringIO()
    call_command("taxonomy_load_default", stdout=out)
    assert f"{len(SHIPPED)} concepts created" in out.getvalue()
    out = StringIO()
    call_command("taxonomy_load_default", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["created"] == 0 and data["unchanged"] == len(SHIPPED) and data["dry_run"] is False
    assert AuditEvent.objects.filter(source=AuditEvent.Source.CLI).count() == len(SHIPPED)


@pytest.mark.django_db
def test_command_dry_run_and_unknown_user():
    out = StringIO()
    call_command("taxonomy_load_default", "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue() and Concept.objects.count() == 0
    with pytest.raises(CommandError, match="No user"):
        call_command("taxonomy_load_default", "--user", "nobody", stdout=StringIO())


@pytest.mark.django_db
def test_demo_step_loads_the_taxonomy(make_user):
    from types import SimpleNamespace

    from sim.competence.demo import _taxonomy

    admin = make_user("admin")
    ctx = SimpleNamespace(actor=admin, counts={})
    _taxonomy(ctx)
    assert Concept.objects.count() == len(SHIPPED)
    assert ctx.counts["taxonomy_concepts_created"] == len(SHIPPED)
    assert AuditEvent.objects.filter(actor=admin, object_type="competence.concept").count() == len(SHIPPED)
    _taxonomy(ctx)  # a second demo run changes nothing
    assert ctx.counts["taxonomy_concepts_created"] == 0
