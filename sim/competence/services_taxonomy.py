"""Writes to the taxonomy: ESCO import, the shipped default taxonomy, edits, (de)activation.

Every change to a concept is audited (``sim.core.audit``): created and updated concepts, added
broader links, (de)activation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from sim.companies.importer import ImportFileError
from sim.core.audit import audit_record, build_event, snapshot
from sim.core.models import AuditEvent

from . import esco_import, taxonomy
from .esco_import import ESCO_CSV, TaxonomyImportResult
from .models import Concept
from .taxonomy import TaxonomyValueError

Action = AuditEvent.Action
Source = AuditEvent.Source

#: The fields of a concept that imports and edits change (and the audit trail records).
LABEL_FIELDS = ("preferred_label_sv", "preferred_label_en", "alt_labels_sv", "alt_labels_en", "description_sv", "description_en")
SHIPPED_FIELDS = ("kind", *LABEL_FIELDS, "source")


class TaxonomyError(ValidationError):
    """A change to the taxonomy that the rules refuse (the message says why)."""


# =============================================================================================
# ESCO import
# =============================================================================================


def taxonomy_import(
    path_or_file: str | os.PathLike | IO[bytes],
    *,
    file_format: str = ESCO_CSV,
    kind: str | None = None,
    language: str | None = None,
    actor=None,
    dry_run: bool = False,
    progress: esco_import.ProgressCallback | None = None,
    source: str = Source.IMPORT,
    name: str | None = None,
) -> TaxonomyImportResult:
    """Import an ESCO concept file (``esco-csv``: labels of one language, created or updated in
    place by URI) or a broader-relations file (``esco-broader``: links added).

    Never raises for problems with the file: they are in the result. All or nothing: when any row
    is invalid, nothing is written; on a dry run nothing is written either.
    """
    result = TaxonomyImportResult(dry_run=dry_run, format=file_format)
    spooled: IO[bytes] | None = None
    source_obj: Any = path_or_file
    if isinstance(path_or_file, str | os.PathLike):
        name = name or Path(path_or_file).name
    else:
        name = name or Path(getattr(path_or_file, "name", "") or "upload").name
        if not getattr(path_or_file, "seekable", lambda: False)():
            spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
            while chunk := path_or_file.read(1024 * 1024):
                spooled.write(chunk)
            spooled.seek(0)
            source_obj = spooled
    spool = None
    try:
        if file_format not in esco_import.FORMATS:
            raise ImportFileError(
                _("Unknown format “%(format)s”: use %(formats)s.")
                % {"format": file_format, "formats": ", ".join(esco_import.FORMATS)}
            )
        if file_format == ESCO_CSV:
            if kind not in taxonomy.KINDS:
                raise ImportFileError(_("Say which kind of concepts the file holds: --kind occupation or --kind skill."))
            result.kind = kind
            result.language = esco_import.resolve_language(name, language)
        reader = esco_import.open_reader(source_obj, name=name)
        result.file_format, result.encoding, result.delimiter = reader.format, reader.encoding, reader.delimiter
        if file_format == ESCO_CSV:
            spool = esco_import.ConceptReader(reader, result, progress, kind=kind).read()
            _apply_concepts(spool, result, actor=actor, source=source, file_name=name, progress=progress)
        else:
            spool = esco_import.RelationReader(reader, result, progress).read()
            _apply_relations(spool, result, actor=actor, source=source, file_name=name, progress=progress)
    except ImportFileError as exc:
        result.fatal = True
        result.created = result.updated = result.unchanged = result.skipped = 0
        result.errors = []
        result.error_count = 0
        result.touched_uris = []
        result.add_error(exc.row, exc.column, exc.message)
    finally:
        if spool is not None:
            spool.close()
        if spooled is not None:
            spooled.close()
    return result


class _Rollback(Exception):
    pass


def _apply_concepts(spool, result: TaxonomyImportResult, *, actor, source: str, file_name: str, progress) -> None:
    """Second pass: compare each batch with the taxonomy and write it (inside one transaction)."""
    language = result.language
    preferred_field, alt_field, description_field = (
        f"preferred_label_{language}", f"alt_labels_{language}", f"description_{language}",
    )
    write = not result.dry_run and not result.error_count
    message = _("Imported from %(file)s") % {"file": file_name}
    done = 0
    try:
        with transaction.atomic():
            for batch in spool.batches():
                parsed = esco_import.concepts_from_batch(batch)
                existing = {c.uri: c for c in Concept.objects.filter(uri__in=[p.uri for p in parsed])}
                created: list[Concept] = []
                updated: list[tuple[Concept, dict[str, Any]]] = []
                now = timezone.now()
                for row in parsed:
                    values: dict[str, Any] = {preferred_field: row.preferred, alt_field: row.alt}
                    if row.description is not None:
                        values[description_field] = row.description
                    concept = existing.get(row.uri)
                    if concept is None:
                        result.created += 1
                        origin = "esco" if taxonomy.esco_uri_kind(row.uri) else "custom"
                        created.append(Concept(uri=row.uri, kind=result.kind, source=origin, **values))
                        continue
                    if concept.kind != result.kind:
                        result.invalid_rows += 1
                        result.add_error(
                            row.row, "conceptUri",
                            _("%(uri)s is already in the taxonomy as a %(kind)s.")
                            % {"uri": row.uri, "kind": taxonomy.kind_label(concept.kind)},
                        )
                        write = False
                        continue
                    before = {key: getattr(concept, key) for key in values}
                    changed = {key: value for key, value in values.items() if before[key] != value}
                    if not changed:
                        result.unchanged += 1
                        continue
                    result.updated += 1
                    updated.append((concept, {key: before[key] for key in changed}))
                    for key, value in changed.items():
                        setattr(concept, key, value)
                    concept.updated_at = now
                if write:
                    _write_concepts(created, updated, actor=actor, source=source, message=message, result=result)
                done += len(parsed)
                if progress:
                    progress("write", done, spool.count)
            if not write:
                raise _Rollback
    except _Rollback:
        pass
    result.written = write and not result.dry_run
    if not result.written:
        result.touched_uris = []


def _write_concepts(created, updated, *, actor, source, message, result) -> None:
    events = []
    if created:
        Concept.objects.bulk_create(created, batch_size=500)
        if any(c.pk is None for c in created):  # a backend that does not return ids
            ids = dict(Concept.objects.filter(uri__in=[c.uri for c in created]).values_list("uri", "pk"))
            for concept in created:
                concept.pk = ids[concept.uri]
        for concept in created:
            events.append(build_event(actor, Action.CREATE, concept, after=snapshot(concept), source=source, message=message))
            result.touched_uris.append(concept.uri)
    if updated:
        fields = sorted({key for _concept, before in updated for key in before} | {"updated_at"})
        Concept.objects.bulk_update([concept for concept, _before in updated], fields, batch_size=500)
        for concept, before in updated:
            after = {key: getattr(concept, key) for key in before}
            events.append(build_event(actor, Action.UPDATE, concept, before=before, after=after, source=source, message=message))
            result.touched_uris.append(concept.uri)
    AuditEvent.objects.bulk_create(events, batch_size=500)


def _apply_relations(spool, result: TaxonomyImportResult, *, actor, source: str, file_name: str, progress) -> None:
    """Second pass of a broader-relations file: look the concepts up, refuse mixed kinds and
    cycles, add the links that are not there yet."""
    Link = Concept.broader.through
    skipped_uris: list[str] = []
    new_links: list[tuple[int, int, int]] = []  # (row, narrower id, broader id)
    done = 0
    for batch in spool.batches():
        relations = esco_import.relations_from_batch(batch)
        uris = {r.uri for r in relations} | {r.broader for r in relations}
        found = {uri: (pk, kind) for uri, pk, kind in Concept.objects.filter(uri__in=uris).values_list("uri", "pk", "kind")}
        for relation in relations:
            narrower, broader = found.get(relation.uri), found.get(relation.broader)
            if narrower is None or broader is None:
                result.skipped += 1
                missing = relation.uri if narrower is None else relation.broader
                if len(skipped_uris) < esco_import.LISTED_SKIPS and missing not in skipped_uris:
                    skipped_uris.append(missing)
                continue
            if narrower[1] != broader[1]:
                result.invalid_rows += 1
                result.add_error(
                    relation.row, "broaderUri",
                    _("A %(narrower)s cannot have a %(broader)s as its broader concept.")
                    % {"narrower": taxonomy.kind_label(narrower[1]), "broader": taxonomy.kind_label(broader[1])},
                )
                continue
            new_links.append((relation.row, narrower[0], broader[0]))
        done += len(relations)
        if progress:
            progress("write", done, spool.count)
    if result.skipped:
        result.warnings.append(
            _(
                "%(count)d relations were left out because a concept is not in the taxonomy (import the "
                "concept files first), e.g. %(uris)s."
            )
            % {"count": result.skipped, "uris": ", ".join(skipped_uris)}
        )
    broader_of: dict[int, set[int]] = {}
    for narrower_id, broader_id in Link.objects.values_list("from_concept_id", "to_concept_id").iterator(chunk_size=5000):
        broader_of.setdefault(narrower_id, set()).add(broader_id)
    existing = {(n, b) for n, bs in broader_of.items() for b in bs}
    to_add = []
    for row, narrower_id, broader_id in new_links:
        if (narrower_id, broader_id) in existing:
            result.unchanged += 1
        else:
            result.created += 1
            to_add.append((row, narrower_id, broader_id))
            broader_of.setdefault(narrower_id, set()).add(broader_id)
    cycle = taxonomy.find_cycle(broader_of)
    if cycle:
        uris = dict(Concept.objects.filter(pk__in=cycle).values_list("pk", "uri"))
        result.add_error(
            None, None,
            _("The relations would make a cycle (a concept broader than itself): %(cycle)s")
            % {"cycle": " → ".join(uris.get(pk, str(pk)) for pk in cycle)},
        )
    result.written = not result.dry_run and not result.error_count and bool(to_add)
    if not result.written:
        return
    message = _("Broader relations imported from %(file)s") % {"file": file_name}
    with transaction.atomic():
        Link.objects.bulk_create(
            [Link(from_concept_id=n, to_concept_id=b) for _row, n, b in to_add], batch_size=1000, ignore_conflicts=True
        )
        broader_uris = dict(Concept.objects.filter(pk__in={b for _row, _n, b in to_add}).values_list("pk", "uri"))
        added: dict[int, list[str]] = {}
        for _row, n, b in to_add:
            added.setdefault(n, []).append(broader_uris[b])
        events = _broader_added_events(added, actor=actor, source=source, message=message)
        AuditEvent.objects.bulk_create(events, batch_size=500)
        result.touched_uris = list(Concept.objects.filter(pk__in=list(added)).values_list("uri", flat=True))


def _broader_added_events(added: dict[int, list[str]], *, actor, source: str, message: str) -> list[AuditEvent]:
    """Unsaved audit events for broader links just added (``{narrower id: [broader URIs added]}``;
    the links are already written): the concept's broader URIs before and after."""
    if not added:
        return []
    Link = Concept.broader.through
    concepts = Concept.objects.in_bulk(list(added))
    now_broader: dict[int, list[str]] = {}
    for narrower_id, uri in Link.objects.filter(from_concept_id__in=list(added)).values_list(
        "from_concept_id", "to_concept__uri"
    ):
        now_broader.setdefault(narrower_id, []).append(uri)
    events = []
    for pk, uris in added.items():
        after = sorted(now_broader.get(pk, []))
        before = [uri for uri in after if uri not in set(uris)]
        events.append(build_event(actor, Action.UPDATE, concepts[pk], before={"broader": before}, after={"broader": after},
                                  source=source, message=message))
    return events


# =============================================================================================
# The shipped default taxonomy
# =============================================================================================


def default_taxonomy_sync(
    *, update: bool = False, dry_run: bool = False, actor=None, source: str | None = None,
    concepts: list[taxonomy.DefaultConcept] | None = None,
) -> dict[str, int]:
    """Load the default taxonomy shipped in ``sim/competence/data``: create the concepts that are
    missing and add the missing broader links. Concepts already there are left as they are (they
    may have been edited, or re-imported from ESCO) unless ``update`` is true, which sets their
    shipped fields back to the shipped values. Nothing is removed, so running it again changes
    nothing (idempotent).

    A handful of queries whatever the size (bulk writes); every created or changed concept and
    every added broader link is audited with ``source`` (default: system). Used by
    ``sim taxonomy_load_default`` and the demo. Returns counts: ``created``, ``updated``,
    ``unchanged``, ``kept`` (differs from the shipped values and left alone) and ``links_created``.
    """
    if concepts is None:
        concepts = taxonomy.read_default_taxonomy()
    Link = Concept.broader.through
    counts = {"created": 0, "updated": 0, "unchanged": 0, "kept": 0, "links_created": 0}
    source = source or Source.SYSTEM
    message = _("Default taxonomy")
    with transaction.atomic():
        existing = {c.uri: c for c in Concept.objects.filter(uri__in=[c.uri for c in concepts])}
        to_create: list[Concept] = []
        to_update: list[tuple[Concept, dict[str, Any], dict[str, Any]]] = []
        now = timezone.now()
        for shipped in concepts:
            values = shipped.fields()
            concept = existing.get(shipped.uri)
            if concept is None:
                counts["created"] += 1
                to_create.append(Concept(uri=shipped.uri, **values))
                continue
            if concept.kind != shipped.kind:
                raise TaxonomyError(
                    _("%(uri)s is in the taxonomy as a %(actual)s, but the default taxonomy has it as a %(expected)s.")
                    % {"uri": shipped.uri, "actual": taxonomy.kind_label(concept.kind), "expected": taxonomy.kind_label(shipped.kind)}
                )
            before = {key: getattr(concept, key) for key in values}
            changed = {key: value for key, value in values.items() if before[key] != value}
            if not changed:
                counts["unchanged"] += 1
            elif not update:
                counts["kept"] += 1
            else:
                counts["updated"] += 1
                for key, value in changed.items():
                    setattr(concept, key, value)
                concept.updated_at = now
                to_update.append((concept, {k: before[k] for k in changed}, changed))
        if not dry_run:
            Concept.objects.bulk_create(to_create, batch_size=500)
            if to_update:
                Concept.objects.bulk_update([c for c, _b, _a in to_update], sorted({*SHIPPED_FIELDS, "updated_at"}),
                                            batch_size=500)
        ids = dict(Concept.objects.filter(uri__in=[c.uri for c in concepts]).values_list("uri", "pk"))
        links = set(Link.objects.filter(from_concept_id__in=ids.values()).values_list("from_concept_id", "to_concept_id"))
        new_links: list = []
        added: dict[str, list[str]] = {}
        for shipped in concepts:
            for broader_uri in shipped.broader:
                if shipped.uri not in ids or broader_uri not in ids:  # dry run: still to be created
                    counts["links_created"] += 1
                    continue
                pair = (ids[shipped.uri], ids[broader_uri])
                if pair not in links:
                    counts["links_created"] += 1
                    new_links.append(Link(from_concept_id=pair[0], to_concept_id=pair[1]))
                    added.setdefault(shipped.uri, []).append(broader_uri)
        if dry_run:
            return counts
        Link.objects.bulk_create(new_links, batch_size=1000)
        events = []
        created_uris = set()
        for concept in to_create:
            if concept.pk is None:
                concept.pk = ids[concept.uri]
            created_uris.add(concept.uri)
            after = {**snapshot(concept), "broader": sorted(added.get(concept.uri, []))}
            events.append(build_event(actor, Action.CREATE, concept, after=after, source=source, message=message))
        for concept, before, after in to_update:
            events.append(build_event(actor, Action.UPDATE, concept, before=before, after=after, source=source, message=message))
        linked = {ids[uri]: added[uri] for uri in added if uri not in created_uris}
        events.extend(_broader_added_events(linked, actor=actor, source=source, message=message))
        AuditEvent.objects.bulk_create(events, batch_size=500)
    return counts


# =============================================================================================
# Edits
# =============================================================================================


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Labels and descriptions of a form or API call, cleaned; errors by field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if key not in LABEL_FIELDS:
            raise TypeError(f"Not an editable field of a concept: {key}")
        try:
            if key.startswith("alt_labels_"):
                items = value if isinstance(value, list | tuple) else str(value or "").splitlines()
                cleaned[key] = taxonomy.split_labels("\n".join(str(v) for v in items), "\n")
            elif key.startswith("preferred_label_"):
                cleaned[key] = taxonomy.clean_label(value)
            else:
                cleaned[key] = str(value or "").strip()
        except TaxonomyValueError as exc:
            errors.setdefault(key, []).append(str(exc))
    if errors:
        raise TaxonomyError(errors)
    for language in taxonomy.LANGUAGES:
        preferred = cleaned.get(f"preferred_label_{language}")
        alt_key = f"alt_labels_{language}"
        if preferred and alt_key in cleaned:
            cleaned[alt_key] = [a for a in cleaned[alt_key] if taxonomy.label_key(a) != taxonomy.label_key(preferred)]
    return cleaned


def _unique_custom_uri(kind: str, label: str) -> str:
    slug = slugify(label)[:60].strip("-") or kind
    base = f"{taxonomy.DEFAULT_NAMESPACE}custom/{kind}/{slug}"
    uri, number = base, 2
    while Concept.objects.filter(uri=uri).exists():
        uri, number = f"{base}-{number}", number + 1
    return uri


@transaction.atomic
def concept_create(*, actor, kind: str, uri: str | None = None, broader: Iterable[Concept] = (),
                   source: str = "custom", audit_source: str = Source.WEB, **values: Any) -> Concept:
    """A concept of our own (``source`` custom): at least one preferred label; the URI is made from
    the label in our namespace when none is given."""
    if kind not in taxonomy.KINDS:
        raise TaxonomyError({"kind": [_("Choose occupation or skill.")]})
    cleaned = _clean_fields(values)
    if not (cleaned.get("preferred_label_sv") or cleaned.get("preferred_label_en")):
        raise TaxonomyError({"preferred_label_sv": [_("Give a preferred label in Swedish or English.")]})
    if uri:
        try:
            uri = taxonomy.parse_uri(uri, kind)
        except TaxonomyValueError as exc:
            raise TaxonomyError({"uri": [str(exc)]}) from None
        if Concept.objects.filter(uri=uri).exists():
            raise TaxonomyError({"uri": [_("A concept with this URI exists already.")]})
    else:
        uri = _unique_custom_uri(kind, cleaned.get("preferred_label_sv") or cleaned.get("preferred_label_en"))
    concept = Concept.objects.create(uri=uri, kind=kind, source=source, **cleaned)
    audit_record(actor, Action.CREATE, concept, after=snapshot(concept), source=audit_source)
    broader = list(broader)
    if broader:
        concept_set_broader(concept, broader, actor=actor, audit_source=audit_source)
    return concept


@transaction.atomic
def concept_update(concept: Concept, *, actor, audit_source: str = Source.WEB, **values: Any) -> Concept:
    """Change labels and descriptions; a concept keeps at least one preferred label."""
    cleaned = _clean_fields(values)
    concept = Concept.objects.select_for_update().get(pk=concept.pk)
    before = snapshot(concept, LABEL_FIELDS)
    for key, value in cleaned.items():
        setattr(concept, key, value)
    if not (concept.preferred_label_sv or concept.preferred_label_en):
        raise TaxonomyError({"preferred_label_sv": [_("Give a preferred label in Swedish or English.")]})
    after = snapshot(concept, LABEL_FIELDS)
    if before != after:
        concept.save()
        audit_record(actor, Action.UPDATE, concept, before=before, after=after, source=audit_source)
    return concept


@transaction.atomic
def concept_set_broader(concept: Concept, broader: Iterable[Concept], *, actor, audit_source: str = Source.WEB) -> Concept:
    """Replace a concept's broader concepts: same kind, and no cycles."""
    broader = list(dict.fromkeys(broader))
    for parent in broader:
        if parent.kind != concept.kind:
            raise TaxonomyError({"broader": [_("A broader concept must be of the same kind.")]})
        if parent.pk == concept.pk:
            raise TaxonomyError({"broader": [_("A concept cannot be broader than itself.")]})
    Link = Concept.broader.through
    broader_of: dict[int, list[int]] = {}
    for narrower_id, broader_id in Link.objects.exclude(from_concept_id=concept.pk).values_list(
        "from_concept_id", "to_concept_id"
    ):
        broader_of.setdefault(narrower_id, []).append(broader_id)
    broader_of[concept.pk] = [p.pk for p in broader]
    if taxonomy.find_cycle(broader_of):
        raise TaxonomyError({"broader": [_("This would make the concept broader than itself (a cycle).")]})
    before = sorted(concept.broader.values_list("uri", flat=True))
    concept.broader.set(broader)
    after = sorted(p.uri for p in broader)
    if before != after:
        audit_record(actor, Action.UPDATE, concept, before={"broader": before}, after={"broader": after}, source=audit_source)
    return concept


@transaction.atomic
def concept_deactivate(concept: Concept, *, actor, reason: str = "", audit_source: str = Source.WEB) -> Concept:
    """Hide a concept from matching and pickers; needs and offerings already linked keep it."""
    if concept.active:
        concept.active = False
        concept.save(update_fields=["active", "updated_at"])
        audit_record(actor, Action.ARCHIVE, concept, before={"active": True}, after={"active": False},
                     message=reason, source=audit_source)
    return concept


@transaction.atomic
def concept_activate(concept: Concept, *, actor, audit_source: str = Source.WEB) -> Concept:
    if not concept.active:
        concept.active = True
        concept.save(update_fields=["active", "updated_at"])
        audit_record(actor, Action.RESTORE, concept, before={"active": False}, after={"active": True}, source=audit_source)
    return concept
