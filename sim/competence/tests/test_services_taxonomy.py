"""Writes to the taxonomy (sim/competence/services_taxonomy.py): ESCO import and the command,
edits, broader links, (de)activation; all audited."""

from __future__ import annotations

import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from sim.competence.models import Concept
from sim.competence.services_taxonomy import (
    TaxonomyError,
    concept_activate,
    concept_create,
    concept_deactivate,
    concept_set_broader,
    concept_update,
    taxonomy_import,
)
from sim.competence.taxonomy import DEFAULT_NAMESPACE
from sim.core.models import AuditEvent

from .esco_files import (
    ISCO,
    OCC,
    OCCUPATION_COLUMNS,
    SKILL,
    SKILL_COLUMNS,
    occupation_row,
    skill_row,
    welders_sv,
    write_csv,
)
from .factories import ConceptFactory, SkillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source language), whatever the default language."""
    with translation.override("en"):
        yield


def concept_events(action=None):
    events = AuditEvent.objects.filter(object_type="competence.concept")
    return events.filter(action=action) if action else events


# --- ESCO import -----------------------------------------------------------------------------


def test_import_creates_concepts_with_swedish_labels(tmp_path, make_user):
    user = make_user("admin")
    result = taxonomy_import(welders_sv(tmp_path), kind="occupation", actor=user)
    assert result.ok and result.written
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.language == "sv" and result.kind == "occupation"
    welder = Concept.objects.get(uri=OCC + "welder-1")
    assert welder.kind == "occupation" and welder.source == "esco"
    assert welder.preferred_label_sv == "svetsare" and welder.preferred_label_en == ""
    assert welder.alt_labels_sv == ["MIG/MAG-svetsare", "TIG-svetsare", "svetsare, stål"]
    assert welder.description_sv == "Svetsare fogar metall."
    assert sorted(result.touched_uris) == [OCC + "cnc-2", OCC + "welder-1"]
    event = concept_events(AuditEvent.Action.CREATE).get(object_id=str(welder.pk))
    assert event.actor == user and event.source == AuditEvent.Source.IMPORT
    assert event.changes["preferred_label_sv"]["after"] == "svetsare"
    assert "occupations_sv.csv" in event.message


def test_reimport_updates_labels_in_place(tmp_path):
    taxonomy_import(welders_sv(tmp_path), kind="occupation")
    path = write_csv(tmp_path / "occupations_sv.csv", OCCUPATION_COLUMNS, [
        occupation_row(OCC + "welder-1", "svetsare", ["MIG/MAG-svetsare", "svetsare TIG"], "Svetsare fogar metall."),
        occupation_row(OCC + "cnc-2", "CNC-operatör", ["CNC operatör", "cnc-maskinoperatör"], "Kör CNC-maskiner."),
    ])
    result = taxonomy_import(path, kind="occupation")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert result.touched_uris == [OCC + "welder-1"]
    assert Concept.objects.count() == 2
    welder = Concept.objects.get(uri=OCC + "welder-1")
    assert welder.alt_labels_sv == ["MIG/MAG-svetsare", "svetsare TIG"]
    event = concept_events(AuditEvent.Action.UPDATE).get()
    assert event.changes == {"alt_labels_sv": {
        "before": ["MIG/MAG-svetsare", "TIG-svetsare", "svetsare, stål"], "after": ["MIG/MAG-svetsare", "svetsare TIG"],
    }}
    # the same file again changes nothing
    again = taxonomy_import(path, kind="occupation")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert concept_events().count() == 3


def test_english_file_adds_english_labels_to_the_same_concepts(tmp_path):
    taxonomy_import(welders_sv(tmp_path), kind="occupation")
    path = write_csv(tmp_path / "occupations_en.csv", OCCUPATION_COLUMNS, [
        occupation_row(OCC + "welder-1", "welder", ["MIG welder", "TIG welder"], "Welders join metal."),
    ])
    result = taxonomy_import(path, kind="occupation")
    assert result.language == "en" and (result.created, result.updated) == (0, 1)
    welder = Concept.objects.get(uri=OCC + "welder-1")
    assert welder.preferred_label_sv == "svetsare" and welder.preferred_label_en == "welder"
    assert welder.alt_labels_en == ["MIG welder", "TIG welder"]
    assert welder.description_sv == "Svetsare fogar metall." and welder.description_en == "Welders join metal."


def test_language_option_overrides_the_file_name(tmp_path):
    path = write_csv(tmp_path / "occupations.csv", OCCUPATION_COLUMNS, [
        occupation_row(OCC + "a", "welder"), occupation_row("https://example.org/occ/b", "fitter"),
    ])
    result = taxonomy_import(path, kind="occupation", language="en")
    assert result.ok
    assert Concept.objects.get(uri=OCC + "a").preferred_label_en == "welder"
    assert Concept.objects.get(uri="https://example.org/occ/b").source == "custom"  # not an ESCO URI


def test_a_file_without_description_keeps_the_stored_one(tmp_path):
    taxonomy_import(welders_sv(tmp_path), kind="occupation")
    path = tmp_path / "occupations_sv.csv"
    path.write_text(f"conceptUri,preferredLabel,altLabels\n{OCC}welder-1,svetsare,MIG/MAG-svetsare\n", encoding="utf-8")
    taxonomy_import(path, kind="occupation")
    assert Concept.objects.get(uri=OCC + "welder-1").description_sv == "Svetsare fogar metall."


def test_an_invalid_file_writes_nothing_and_lists_every_problem(tmp_path):
    path = write_csv(tmp_path / "occupations_sv.csv", OCCUPATION_COLUMNS, [
        occupation_row(OCC + "a", "svetsare"),
        occupation_row(OCC + "b", ""),
        occupation_row("http://data.europa.eu/esco/skill/c", "svetsning"),
    ])
    result = taxonomy_import(path, kind="occupation")
    assert not result.ok and not result.written and not result.fatal
    assert [(e.row, e.column) for e in result.errors] == [(3, "preferredLabel"), (4, "conceptUri")]
    assert result.touched_uris == []
    assert Concept.objects.count() == 0 and concept_events().count() == 0


def test_a_known_concept_of_the_other_kind_refuses_the_whole_file(tmp_path):
    SkillFactory(uri=DEFAULT_NAMESPACE + "skill/svetsning", preferred_label_sv="svetsning")
    many = [occupation_row(f"{OCC}{n}", f"yrke {n}") for n in range(1500)]  # more than one batch
    path = write_csv(tmp_path / "occupations_sv.csv", OCCUPATION_COLUMNS,
                     [*many, occupation_row(DEFAULT_NAMESPACE + "skill/svetsning", "svetsare")])
    result = taxonomy_import(path, kind="occupation")
    assert not result.written
    assert [(e.row, e.column) for e in result.errors] == [(1502, "conceptUri")]
    assert "already in the taxonomy as a skill" in result.errors[0].message
    assert Concept.objects.count() == 1 and concept_events().count() == 0  # the first batch is rolled back


def test_fatal_problems_are_one_error(tmp_path):
    result = taxonomy_import(tmp_path / "missing.csv", kind="occupation")
    assert result.fatal and "File not found" in result.errors[0].message
    path = tmp_path / "occupations_sv.csv"
    path.write_text(f"uri,label\n{OCC}a,b\n", encoding="utf-8")
    result = taxonomy_import(path, kind="occupation")
    assert result.fatal and "conceptUri, preferredLabel, altLabels" in result.errors[0].message
    result = taxonomy_import(welders_sv(tmp_path), kind=None)
    assert result.fatal and "--kind" in result.errors[0].message
    result = taxonomy_import(welders_sv(tmp_path), kind="occupation", file_format="xml")
    assert result.fatal and "Unknown format" in result.errors[0].message
    assert Concept.objects.count() == 0


def test_dry_run_counts_and_writes_nothing(tmp_path):
    result = taxonomy_import(welders_sv(tmp_path), kind="occupation", dry_run=True)
    assert result.ok and not result.written and result.created == 2
    assert Concept.objects.count() == 0 and concept_events().count() == 0


def test_an_unseekable_stream_is_read(tmp_path):
    data = welders_sv(tmp_path).read_bytes()

    class Stream(io.RawIOBase):
        def __init__(self):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    result = taxonomy_import(Stream(), kind="occupation", name="occupations_sv.csv")
    assert result.ok and result.created == 2


def test_esco_import_updates_a_concept_of_the_default_taxonomy(tmp_path):
    shipped = ConceptFactory(uri=SKILL + "abc", kind="skill", preferred_label_sv="MIG-svetsning", preferred_label_en="MIG welding",
                             alt_labels_sv=["MIG"], source="esco")
    path = write_csv(tmp_path / "skills_sv.csv", SKILL_COLUMNS, [skill_row(SKILL + "abc", "utföra MIG-svetsning", ["MIG"])])
    result = taxonomy_import(path, kind="skill")
    assert result.updated == 1
    shipped.refresh_from_db()
    assert shipped.preferred_label_sv == "utföra MIG-svetsning" and shipped.preferred_label_en == "MIG welding"


# --- broader relations -------------------------------------------------------------------


def test_relations_add_links_and_skip_unknown_concepts(tmp_path):
    group = ConceptFactory(uri=ISCO + "C7212")
    welder = ConceptFactory(uri=OCC + "welder")
    other = ConceptFactory(uri=ISCO + "C7")
    welder.broader.add(other)
    path = tmp_path / "broaderRelationsOccPillar.csv"
    path.write_text(
        "conceptType,conceptUri,broaderType,broaderUri\n"
        f"Occupation,{OCC}welder,ISCOGroup,{ISCO}C7212\n"
        f"Occupation,{OCC}welder,ISCOGroup,{ISCO}C7\n"
        f"Occupation,{OCC}unknown,ISCOGroup,{ISCO}C7212\n",
        encoding="utf-8",
    )
    result = taxonomy_import(path, file_format="esco-broader")
    assert result.ok and result.written
    assert (result.created, result.unchanged, result.skipped) == (1, 1, 1)
    assert OCC + "unknown" in result.warnings[0]
    assert set(welder.broader.all()) == {group, other}
    assert result.touched_uris == [OCC + "welder"]
    event = concept_events(AuditEvent.Action.UPDATE).get()
    assert event.changes == {"broader": {"before": [ISCO + "C7"], "after": sorted([ISCO + "C7", ISCO + "C7212"])}}
    again = taxonomy_import(path, file_format="esco-broader")
    assert (again.created, again.unchanged) == (0, 2) and not again.written


def test_relations_refuse_cycles_and_mixed_kinds(tmp_path):
    a = ConceptFactory(uri=OCC + "a")
    b = ConceptFactory(uri=OCC + "b", broader=[a])
    SkillFactory(uri=DEFAULT_NAMESPACE + "skill/s")
    path = tmp_path / "broader.csv"
    path.write_text(f"conceptUri,broaderUri\n{OCC}a,{OCC}b\n", encoding="utf-8")
    result = taxonomy_import(path, file_format="esco-broader")
    assert not result.written and "cycle" in result.errors[0].message
    assert list(a.broader.all()) == []
    path.write_text(f"conceptUri,broaderUri\n{OCC}a,{DEFAULT_NAMESPACE}skill/s\n", encoding="utf-8")
    result = taxonomy_import(path, file_format="esco-broader")
    assert (result.errors[0].row, result.errors[0].column) == (2, "broaderUri")
    assert "cannot have a skill" in result.errors[0].message
    assert list(b.broader.all()) == [a]


# --- the command -----------------------------------------------------------------------------


def test_command_imports_and_reports(tmp_path):
    out = StringIO()
    call_command("taxonomy_import", str(welders_sv(tmp_path)), "--format", "esco-csv", "--kind", "occupation", stdout=out)
    assert "2 concepts created, 0 updated, 0 unchanged" in out.getvalue()
    assert concept_events().filter(source=AuditEvent.Source.CLI).count() == 2
    out = StringIO()
    call_command("taxonomy_import", str(welders_sv(tmp_path)), "--kind", "occupation", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["created"], data["unchanged"], data["kind"], data["language"], data["rows"]) == (0, 2, "occupation", "sv", 2)


def test_command_refuses_an_invalid_file_with_row_and_column(tmp_path):
    path = write_csv(tmp_path / "occupations_sv.csv", OCCUPATION_COLUMNS, [occupation_row("bad uri", "svetsare")])
    err = StringIO()
    with pytest.raises(CommandError, match="The file has 1 errors; nothing was imported.") as info:
        call_command("taxonomy_import", str(path), "--kind", "occupation", stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    assert "Row 2, column “conceptUri”: The URI contains spaces" in err.getvalue()
    assert Concept.objects.count() == 0


def test_command_errors(tmp_path, make_user):
    with pytest.raises(CommandError, match="--kind"):
        call_command("taxonomy_import", str(welders_sv(tmp_path)), stdout=StringIO())
    with pytest.raises(CommandError, match="File not found"):
        call_command("taxonomy_import", str(tmp_path / "nope.csv"), "--kind", "skill", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("taxonomy_import", str(welders_sv(tmp_path)), "--kind", "occupation", "--user", "x", stdout=StringIO())
    with pytest.raises(CommandError, match="The file has 4 errors."):
        call_command("taxonomy_import", str(welders_sv(tmp_path)), "--kind", "skill", "--dry-run",
                     stdout=StringIO(), stderr=StringIO())
    user = make_user("admin")
    call_command("taxonomy_import", str(welders_sv(tmp_path)), "--kind", "occupation", "--user", user.username, stdout=StringIO())
    assert concept_events().filter(actor=user).count() == 2


def test_command_reads_standard_input(tmp_path, monkeypatch):
    data = welders_sv(tmp_path).read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = StringIO()
    call_command("taxonomy_import", "-", "--kind", "occupation", "--language", "sv", stdout=out)
    assert "2 concepts created" in out.getvalue()
    assert "standard input" in concept_events().first().message


def test_command_broader_format(tmp_path):
    ConceptFactory(uri=OCC + "a")
    ConceptFactory(uri=ISCO + "C7212")
    path = tmp_path / "broader.csv"
    path.write_text(f"conceptUri,broaderUri\n{OCC}a,{ISCO}C7212\n", encoding="utf-8")
    out = StringIO()
    call_command("taxonomy_import", str(path), "--format", "esco-broader", stdout=out)
    assert "1 links added" in out.getvalue()


# --- edits -----------------------------------------------------------------------------------


def test_concept_create_update_and_audit(make_user):
    user = make_user("advisor")
    concept = concept_create(actor=user, kind="occupation", preferred_label_sv=" Robotsvetsare ",
                             alt_labels_sv="svetsrobotoperatör\nrobotsvetsare\n\noperatör svetsrobot")
    assert concept.uri == DEFAULT_NAMESPACE + "custom/occupation/robotsvetsare" and concept.source == "custom"
    assert concept.preferred_label_sv == "Robotsvetsare"
    assert concept.alt_labels_sv == ["svetsrobotoperatör", "operatör svetsrobot"]
    second = concept_create(actor=user, kind="occupation", preferred_label_sv="Robotsvetsare")
    assert second.uri.endswith("robotsvetsare-2")
    concept_update(concept, actor=user, preferred_label_en="Robot welder")
    concept.refresh_from_db()
    assert concept.preferred_label_en == "Robot welder"
    update = concept_events(AuditEvent.Action.UPDATE).get()
    assert update.changes == {"preferred_label_en": {"before": "", "after": "Robot welder"}} and update.actor == user
    concept_update(concept, actor=user, preferred_label_en="Robot welder")  # no change: no event
    assert concept_events(AuditEvent.Action.UPDATE).count() == 1


def test_concept_create_and_update_refuse_bad_values(make_user):
    user = make_user("advisor")
    with pytest.raises(TaxonomyError) as info:
        concept_create(actor=user, kind="occupation", preferred_label_sv="  ")
    assert "preferred_label_sv" in info.value.message_dict
    with pytest.raises(TaxonomyError):
        concept_create(actor=user, kind="tool", preferred_label_sv="x")
    with pytest.raises(TaxonomyError) as info:
        concept_create(actor=user, kind="occupation", uri="http://data.europa.eu/esco/skill/x", preferred_label_sv="x")
    assert "uri" in info.value.message_dict
    existing = ConceptFactory()
    with pytest.raises(TaxonomyError, match="exists already"):
        concept_create(actor=user, kind="occupation", uri=existing.uri, preferred_label_sv="x")
    with pytest.raises(TaxonomyError):
        concept_update(existing, actor=user, preferred_label_sv="", preferred_label_en="")
    with pytest.raises(TaxonomyError):
        concept_update(existing, actor=user, preferred_label_sv="x" * 300)
    with pytest.raises(TypeError):
        concept_update(existing, actor=user, uri="https://example.org/x")


def test_set_broader_refuses_cycles_and_other_kinds(make_user):
    user = make_user("advisor")
    top = ConceptFactory()
    middle = ConceptFactory(broader=[top])
    low = ConceptFactory(broader=[middle])
    skill = SkillFactory()
    with pytest.raises(TaxonomyError, match="cycle"):
        concept_set_broader(top, [low], actor=user)
    with pytest.raises(TaxonomyError, match="same kind"):
        concept_set_broader(low, [skill], actor=user)
    with pytest.raises(TaxonomyError, match="itself"):
        concept_set_broader(low, [low], actor=user)
    concept_set_broader(low, [top, top], actor=user)
    assert list(low.broader.all()) == [top]
    event = concept_events(AuditEvent.Action.UPDATE).get()
    assert event.changes == {"broader": {"before": [middle.uri], "after": [top.uri]}}


def test_deactivate_and_activate(make_user):
    user = make_user("advisor")
    concept = ConceptFactory()
    concept_deactivate(concept, actor=user, reason="Dubblett")
    concept.refresh_from_db()
    assert not concept.active
    concept_deactivate(concept, actor=user)  # already inactive: nothing more
    concept_activate(concept, actor=user)
    concept.refresh_from_db()
    assert concept.active
    assert list(concept_events().order_by("pk").values_list("action", "message")) == [
        (AuditEvent.Action.ARCHIVE, "Dubblett"), (AuditEvent.Action.RESTORE, ""),
    ]
