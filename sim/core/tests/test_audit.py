"""The audit trail: append-only events, JSON-friendly snapshots, diffs and a record's history."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone, translation

from sim.companies.tests.factories import (
    CompanyFactory,
    ContactFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
)
from sim.core.audit import audit_record, build_event, diff, history_for, snapshot
from sim.core.models import AppendOnlyError, AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def event(make_user):
    company = CompanyFactory(name="Revisionsbolaget AB")
    return audit_record(
        make_user(Role.ADVISOR, username="anna"), AuditEvent.Action.UPDATE, company,
        before={"name": "Gamla namnet AB"}, after={"name": "Revisionsbolaget AB"},
    )


# --- Writing events -------------------------------------------------------------------------


def test_audit_record_writes_who_what_and_the_change(make_user):
    user = make_user(Role.ADVISOR, username="anna")
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    before = timezone.now()
    event = audit_record(
        user, AuditEvent.Action.UPDATE, company, before={"website": ""}, after={"website": "https://x.se"},
        message="Telefonsamtal", source=AuditEvent.Source.API,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == user
    assert stored.actor_label == "anna"
    assert stored.action == "update"
    assert stored.source == "api"
    assert stored.object_type == "companies.company"
    assert stored.object_id == str(company.pk)
    assert stored.object_repr == str(company)
    assert (stored.scope_type, stored.scope_id) == ("companies.company", str(company.pk))
    assert stored.changes == {"website": {"before": "", "after": "https://x.se"}}
    assert stored.message == "Telefonsamtal"
    assert before <= stored.occurred_at <= timezone.now()


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_events_without_a_logged_in_actor_are_recorded_as_system(actor):
    event = audit_record(actor, AuditEvent.Action.CREATE, CompanyFactory())
    assert event.actor is None
    assert event.actor_label == "system"


def test_scope_puts_a_child_record_into_its_companys_history():
    contact = ContactFactory()
    event = audit_record(None, AuditEvent.Action.CREATE, contact, scope=contact.company)
    assert (event.object_type, event.object_id) == ("companies.contact", str(contact.pk))
    assert (event.scope_type, event.scope_id) == ("companies.company", str(contact.company_id))


def test_build_event_is_unsaved_until_asked():
    company = CompanyFactory()
    event = build_event(None, AuditEvent.Action.CREATE, company, after={"name": company.name})
    assert event.pk is None
    assert not AuditEvent.objects.exists()
    assert event.changes == {"name": {"before": None, "after": company.name}}
    AuditEvent.objects.bulk_create([event])
    assert AuditEvent.objects.count() == 1


def test_object_repr_is_cut_to_the_column_length():
    company = CompanyFactory(name="x" * 250)
    event = audit_record(None, AuditEvent.Action.CREATE, company)
    assert len(event.object_repr) == 255


# --- Append-only ----------------------------------------------------------------------------


def test_saving_an_existing_event_raises(event):
    event.message = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).message == ""


def test_saving_a_loaded_event_with_update_fields_raises(event):
    loaded = AuditEvent.objects.get(pk=event.pk)
    loaded.actor_label = "someone else"
    with pytest.raises(AppendOnlyError):
        loaded.save(update_fields=["actor_label"])
    assert AuditEvent.objects.get(pk=event.pk).actor_label == "anna"


def test_deleting_an_event_raises(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(changes={})
    assert AuditEvent.objects.get(pk=event.pk).changes == {
        "name": {"before": "Gamla namnet AB", "after": "Revisionsbolaget AB"}
    }


def test_queryset_delete_raises(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


def test_bulk_update_raises(event):
    event.message = "rewritten"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["message"])
    assert AuditEvent.objects.get(pk=event.pk).message == ""


def test_update_or_create_cannot_rewrite_an_event(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"message": "rewritten"})
    assert AuditEvent.objects.get(pk=event.pk).message == ""


def test_a_user_with_events_cannot_be_deleted(event):
    with pytest.raises(ProtectedError):
        event.actor.delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_label == "anna"


def test_the_guard_is_only_bypassed_explicitly(event):
    # The one sanctioned rewrite (erasing a contact) calls the base QuerySet.update on purpose.
    assert QuerySet.update(AuditEvent.objects.filter(pk=event.pk), changes={"redacted": True}) == 1
    assert AuditEvent.objects.get(pk=event.pk).changes == {"redacted": True}


# --- Snapshot and diff ----------------------------------------------------------------------


def test_snapshot_is_json_friendly_and_skips_bookkeeping_fields():
    figures = KeyFiguresFactory(
        fiscal_year=2024, staff_awu=Decimal("12.50"), turnover_sek=Decimal("15000000.00"),
        balance_sheet_sek=Decimal("8000000"), estimated=True,
    )
    figures.refresh_from_db()
    data = snapshot(figures)
    assert data == {
        "company": figures.company_id,
        "fiscal_year": 2024,
        "staff_awu": "12.5",
        "turnover_sek": "15000000",
        "balance_sheet_sek": "8000000",
        "source": "annual report",
        "estimated": True,
    }
    json.dumps(data)  # storable as-is


def test_snapshot_writes_round_numbers_without_exponent():
    link = OwnershipLinkFactory(capital_pct=Decimal("100"), voting_pct=Decimal("100.00"))
    link.refresh_from_db()
    data = snapshot(link)
    assert data["capital_pct"] == "100"
    assert data["voting_pct"] == "100"
    kf = KeyFiguresFactory(turnover_sek=Decimal("120000000.00"), balance_sheet_sek=Decimal("0.00"))
    kf.refresh_from_db()
    assert snapshot(kf)["turnover_sek"] == "120000000"
    assert snapshot(kf)["balance_sheet_sek"] == "0"


def test_snapshot_spells_equal_decimals_alike():
    link = OwnershipLinkFactory(capital_pct=Decimal("55.5"), voting_pct=Decimal("0.25"))
    loaded = type(link).objects.get(pk=link.pk)  # the database hands back 55.50
    assert snapshot(loaded) == snapshot(link)
    assert snapshot(loaded)["capital_pct"] == "55.5"
    assert snapshot(loaded)["voting_pct"] == "0.25"


def test_snapshot_of_dates_lists_and_foreign_keys():
    company = CompanyFactory(registration_date=dt.date(1999, 5, 17), sni_secondary=["25110", "33120"])
    data = snapshot(company)
    assert data["registration_date"] == "1999-05-17"
    assert data["sni_secondary"] == ["25110", "33120"]
    assert data["municipality"] == "2380"
    assert data["owner_advisor"] is None
    assert "search_text" not in data and "created_at" not in data and "updated_at" not in data
    assert "id" not in data
    json.dumps(data)


def test_snapshot_of_selected_fields():
    company = CompanyFactory(name="Fältbolaget AB")
    assert snapshot(company, fields=["name", "status"]) == {"name": "Fältbolaget AB", "status": "active"}


def test_diff_keeps_only_changed_fields():
    before = {"name": "A", "phone": "1", "email": ""}
    after = {"name": "B", "phone": "1", "website": "https://b.se"}
    assert diff(before, after) == {
        "name": {"before": "A", "after": "B"},
        "email": {"before": "", "after": None},
        "website": {"before": None, "after": "https://b.se"},
    }
    assert diff(before, before) == {}
    assert list(diff({"b": 1, "a": 1}, {"a": 2, "b": 2})) == ["b", "a"]


# --- History --------------------------------------------------------------------------------


def test_history_for_lists_the_records_events_newest_first():
    company, other = CompanyFactory(), CompanyFactory()
    contact = ContactFactory(company=company)
    now = timezone.now()
    first = audit_record(None, AuditEvent.Action.CREATE, company)
    second = build_event(None, AuditEvent.Action.CREATE, contact, scope=company)
    second.occurred_at = now + dt.timedelta(seconds=5)
    second.save()
    audit_record(None, AuditEvent.Action.CREATE, other)
    assert list(history_for(company)) == [second, first]
    assert [e.scope_id for e in history_for(other)] == [str(other.pk)]


def test_history_for_includes_extra_scopes():
    company, merged, unrelated = CompanyFactory(), CompanyFactory(), CompanyFactory()
    own = audit_record(None, AuditEvent.Action.CREATE, company)
    absorbed = audit_record(None, AuditEvent.Action.CREATE, merged)
    audit_record(None, AuditEvent.Action.CREATE, unrelated)
    assert set(history_for(company, extra_scopes=[merged])) == {own, absorbed}
    assert list(history_for(company)) == [own]


def test_history_for_a_record_without_events_is_empty():
    assert list(history_for(CompanyFactory())) == []


def test_describe_changes_uses_field_labels_and_choice_names():
    from sim.core.audit import describe_changes

    with translation.override("en"):
        event = AuditEvent(
            object_type="companies.company",
            changes={
                "status": {"before": "prospect", "after": "active"},
                "growth_ambition": {"before": None, "after": True},
                "created_by": {"before": None, "after": 3},
                "gone_field": {"before": "a", "after": "b"},
            },
        )
        rows = {row["field"]: row for row in describe_changes(event, hidden=("gone_field",))}
    assert rows["status"]["label"] == "Status"
    assert (rows["status"]["before"], rows["status"]["after"]) == ("Prospect", "Active")
    assert rows["growth_ambition"] == {
        "field": "growth_ambition", "label": "Growth ambition", "hidden": False, "before": None, "after": "Yes",
    }
    assert "created_by" not in rows
    assert rows["gone_field"]["label"] == "Gone field" and rows["gone_field"]["hidden"] is True
    assert describe_changes(AuditEvent(object_type="companies.contact", changes={"redacted": True})) == []
