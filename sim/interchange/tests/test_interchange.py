"""`sim export_project` / `sim import_project`: the round trip, the format, and refused files."""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from sim.activities.models import Activity
from sim.companies.models import Company, Contact
from sim.companies.tests.factories import CompanyFactory
from sim.core.models import AuditEvent
from sim.finance.models import CostEntry
from sim.interchange import spec
from sim.interchange.exporting import export_project
from sim.interchange.importing import ImportRefused, import_project, load
from sim.programmes.models import Project, Referral
from sim.stateaid.models import AidAward

from .builders import SOLE_TRADER, build_project


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "exported_at"}


@pytest.fixture
def document(db):
    """An export of the small project, taken in a savepoint that is then rolled back: the database
    is as empty as before when the test imports it."""
    sid = transaction.savepoint()
    document = export_project(build_project())
    transaction.savepoint_rollback(sid)
    assert not Project.objects.exists() and not Company.objects.exists()
    return document


def counts() -> tuple[int, ...]:
    return (Project.objects.count(), Company.objects.count(), Referral.objects.count(), CostEntry.objects.count(),
            AidAward.objects.count(), get_user_model().objects.count(), AuditEvent.objects.count())


def refused(document, *expected: str) -> list[str]:
    before = counts()
    with pytest.raises(ImportRefused) as info:
        import_project(document)
    assert counts() == before, "a refused file must write nothing"
    for line in expected:
        assert line in info.value.errors, info.value.errors
    return info.value.errors


# --- The format --------------------------------------------------------------------------------


def test_every_part_of_the_project_is_in_the_file(document):
    assert document["format"] == "sim-project-export" and document["version"] == 1
    assert list(document) == spec.TOP_LEVEL_KEYS
    for key in spec.TOP_LEVEL_KEYS[4:]:
        assert document[key], f"{key} is empty"
    assert document["project"]["code"] == "ix-test"
    assert document["project"]["owner"] == "Region Testlän"
    assert document["project"]["municipalities"] == ["2309", "2380"]
    # The four companies with records in the project, in organisation-number order; a company
    # merged into another names it by its number.
    numbers = [c["org_number"] for c in document["companies"]]
    assert numbers == sorted(numbers) and len(numbers) == 4
    merged = document["companies"][0]
    assert merged["name"] == "Alfa Gamla AB"
    assert merged["merged_into"] == next(c["org_number"] for c in document["companies"] if c["name"] == "Alfa Verkstad AB")
    assert "search_text" not in document["companies"][0] and "updated_at" not in document["companies"][0]


def test_every_business_model_is_exported_referenced_or_left_out_on_purpose():
    from django.apps import apps

    covered = {s.model_label.lower() for s in spec.SECTIONS} | set(spec.DICTIONARIES) | set(spec.REFERENCE_CODES)
    for app in spec.EXPORT_APPS:
        for model in apps.get_app_config(app).get_models():
            label = model._meta.label_lower
            assert label in covered or label in spec.NOT_EXPORTED, f"{label}: export it or say why not in spec.NOT_EXPORTED"
    # Columns follow the models by themselves; many-to-many fields are listed, so check none is forgotten
    # (one with its own through model is a section of its own, e.g. need_concepts).
    for section in spec.SECTIONS:
        for f in section.model._meta.many_to_many:
            if f.remote_field.through._meta.auto_created:
                assert f.name in section.m2m, f"{section.key}: many-to-many {f.name} is not exported"


def test_references_are_natural_keys_and_file_refs(document):
    alfa = next(c for c in document["companies"] if c["name"] == "Alfa Verkstad AB")
    assert alfa["owner_advisor"] == "ix-advisor"
    intervention = document["interventions"][0]
    assert intervention["ref"] == "intervention:1"
    assert intervention["company"] == alfa["org_number"]
    assert intervention["focus_area"] == "production_efficiency"
    assert intervention["provider"] == "Teknikcentrum"
    assert intervention["growth_goals"] == ["goal:1"]
    assert "project" not in intervention  # implied by the file
    assert document["assessments"][1]["revises"] == "assessment:1"
    assert document["assessments"][0]["instrument_version"].count(":") == 1
    reversal = document["cost_entries"][1]
    assert reversal["reverses"] == "cost:1" and reversal["amount_sek"] == "-120000.00"
    assert document["cost_entries"][0]["partner"] == "Teknikcentrum"
    assert document["need_concepts"][0]["need"] == "competence_need:1"
    assert document["need_concepts"][0]["concept"].startswith("http")
    assert {c["uri"] for c in document["concepts"]} == {n["concept"] for n in document["need_concepts"]}
    assert {f["key"] for f in document["focus_areas"]} == {"production_efficiency", "ix-custom"}
    assert [a["status"] for a in document["aid_awards"]] == ["granted", "revoked", "granted", "proposed"]
    assert document["aid_awards"][1]["reverses"] == "award:1"
    assert [f["source_key"] for f in document["follow_ups"]] == ["intervention:1", "referral:1:2025-02-10"]
    assert document["indicator_milestones"][0]["indicator"] == "RCO01"
    assert document["indicator_entries"][0]["indicator"] == "OWN1"
    activity = document["activities"][0]
    assert activity["advisors"] == ["ix-advisor", "ix-pm"] and activity["contacts"] == ["contact:1"]


def test_users_carry_name_email_and_roles_never_passwords(document):
    users = {u["username"]: u for u in document["users"]}
    assert set(users) == {"ix-pm", "ix-advisor", "ix-finance"}
    assert users["ix-pm"]["roles"] == ["project_manager"]
    assert set(users["ix-pm"]) == {"username", "first_name", "last_name", "email", "is_active", "roles"}
    assert "password" not in json.dumps(document["users"])


def test_personal_data_flags_travel_and_erased_contacts_stay_erased(document):
    sole = next(c for c in document["companies"] if c["org_number"] == SOLE_TRADER)
    assert sole["is_sole_trader"] is True
    erased = next(c for c in document["contacts"] if c["erased_at"])
    assert (erased["email"], erased["phone"], erased["role"], erased["notes"], erased["consent_date"]) == ("", "", "", "", None)
    assert erased["opted_out_at"] is not None
    assert "Bo Bengtsson" not in json.dumps(document, ensure_ascii=False)


# --- The round trip ----------------------------------------------------------------------------


def test_import_then_export_gives_the_same_document(document):
    project = import_project(copy.deepcopy(document))
    assert without_time(export_project(project)) == without_time(document)


def test_import_records_one_audit_event_and_creates_users_without_passwords(document):
    before = AuditEvent.objects.count()
    project = import_project(document)
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert len(events) == 1
    assert (events[0].action, events[0].object_type, events[0].object_id) == ("create", "programmes.project", str(project.pk))
    assert "Imported from a project export" in events[0].message
    user = get_user_model().objects.get(username="ix-pm")
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["project_manager"]
    # Derived and ledger columns are as they were.
    assert Company.objects.get(org_number=SOLE_TRADER).search_text
    assert list(Company.objects.get(name="Alfa Verkstad AB").merged_companies.values_list("name", flat=True)) == ["Alfa Gamla AB"]
    assert CostEntry.objects.filter(reverses__isnull=False).count() == 1


def test_existing_users_organisations_and_focus_areas_are_used_as_they_are(document, make_user):
    make_user(username="ix-advisor")
    project = import_project(document)
    advisor = get_user_model().objects.get(username="ix-advisor")
    assert advisor.has_usable_password()  # not replaced
    assert project.memberships.filter(user=advisor).exists()


def test_a_second_import_of_the_same_project_is_refused(document):
    import_project(copy.deepcopy(document))
    errors = refused(document, "project.code: a project with the code 'ix-test' already exists in this database")
    assert any(e.startswith("companies[0].org_number: the company") for e in errors)
    # The sole trader's number is personal data: masked in the message.
    assert not any(SOLE_TRADER in e for e in errors)
    assert any("650512****" in e for e in errors)


# --- Refused files -----------------------------------------------------------------------------


def test_not_json_is_refused_with_its_position():
    with pytest.raises(ImportRefused) as info:
        load(b'{"format": "sim-project-export",\n "version": 1,,}')
    assert info.value.errors[0].startswith("The file is not valid JSON (line 2, column")


def test_wrong_format_and_version(document):
    refused({**document, "format": "something-else"}, "format: expected 'sim-project-export', found 'something-else'")
    refused({**document, "version": 2}, "version: this version of SIM reads version 1, the file has 2")
    refused([], "$: the file must hold one JSON object")


def test_missing_and_unknown_keys(document):
    broken = copy.deepcopy(document)
    del broken["cost_entries"]
    refused(broken, "cost_entries: missing")
    broken = copy.deepcopy(document)
    del broken["referrals"][0]["offer"]
    broken["referrals"][0]["colour"] = "blue"
    refused(broken, "referrals[0].offer: missing", "referrals[0].colour: unknown key")


def test_dangling_references_are_named_by_their_path(document):
    broken = copy.deepcopy(document)
    broken["interventions"][0]["company"] = "5560000001"
    broken["referrals"][1]["offer"] = "offer:99"
    broken["activities"][0]["advisors"].append("nobody")
    broken["companies"][0]["municipality"] = "9999"
    broken["assessments"][0]["instrument_version"] = "nonexistent:1"
    broken["need_concepts"][0]["concept"] = "https://example.org/unknown"
    refused(
        broken,
        "interventions[0].company: unknown organisation number 5560000001",
        "referrals[1].offer: unknown offers reference 'offer:99'",
        "activities[0].advisors[2]: not among the users of the file: 'nobody'",
        "companies[0].municipality: unknown municipality code '9999' in this database",
        "assessments[0].instrument_version: unknown instrument version (key:version) 'nonexistent:1' in this database",
        "need_concepts[0].concept: not among the concepts of the file: 'https://example.org/unknown'",
    )


def test_a_row_may_only_point_at_earlier_rows_of_its_list(document):
    broken = copy.deepcopy(document)
    broken["cost_entries"][0]["reverses"] = "cost:2"
    broken["cost_entries"][2]["ref"] = "cost:1"
    refused(broken, "cost_entries[0].reverses: 'cost:2' is not an earlier row of cost_entries",
            "cost_entries[2].ref: used twice: 'cost:1'")


def test_bad_values_are_named_by_their_path(document):
    broken = copy.deepcopy(document)
    broken["referrals"][0]["proposed_on"] = "2025-13-40"
    broken["cost_entries"][0]["amount_sek"] = "12,50"
    broken["activities"][0]["hours"] = "1234567.5"
    broken["referrals"][0]["status"] = "lost"
    broken["events"][0]["starts_at"] = "2025-01-01T10:00:00"  # no time zone
    broken["companies"][0]["is_sole_trader"] = "no"
    broken["key_figures"][0]["fiscal_year"] = "2024"
    broken["companies"][1]["name"] = None
    broken["users"][0]["roles"] = ["wizard"]
    broken["companies"][0]["merged_into"] = "5569999999"
    broken["follow_ups"][0]["source_key"] = 12
    broken["contacts"][0]["created_at"] = "2025-02-30T10:00:00+00:00"
    refused(
        broken,
        "referrals[0].proposed_on: not a date (YYYY-MM-DD): '2025-13-40'",
        "cost_entries[0].amount_sek: not a number with at most 14 digits, 2 after the point: '12,50'",
        "activities[0].hours: not a number with at most 6 digits, 2 after the point: '1234567.5'",
        "referrals[0].status: not one of the allowed values: 'lost'",
        "events[0].starts_at: not a date and time with time zone (ISO 8601): '2025-01-01T10:00:00'",
        "companies[0].is_sole_trader: must be true or false",
        "key_figures[0].fiscal_year: must be a whole number",
        "companies[1].name: required (null is not allowed)",
        "users[0].roles: unknown role 'wizard'",
        "companies[0].merged_into: unknown organisation number 5569999999",
        "follow_ups[0].source_key: must be a string",
        "contacts[0].created_at: not a date and time with time zone (ISO 8601): '2025-02-30T10:00:00+00:00'",
    )


def test_wrong_shapes_are_refused_not_crashing(document):
    broken = copy.deepcopy(document)
    broken["companies"][0]["org_number"] = ["556"]
    broken["organisations"][0]["name"] = {"a": 1}
    broken["contacts"][0] = "a contact"
    broken["needs"] = {"0": {}}
    broken["referrals"][0]["ref"] = 7
    broken["activities"][0]["contacts"] = "contact:1"
    broken["registrations"][0]["company"] = 5560000001
    refused(
        broken,
        "companies[0].org_number: must be a string",
        "organisations[0].name: must be a string",
        "contacts[0]: must be an object",
        "needs: must be a list",
        "referrals[0].ref: must be a non-empty string",
        "activities[0].contacts: must be a list",
        "registrations[0].company: must be a string",
    )
    refused({**copy.deepcopy(document), "project": None}, "project: must be an object")


def test_a_foreign_source_key_is_refused(document):
    broken = copy.deepcopy(document)
    broken["follow_ups"][0]["source_key"] = "intervention:7"
    refused(broken, "follow_ups[0].source_key: unknown intervention 'intervention:7'")


def test_a_database_constraint_failure_rolls_everything_back(document):
    broken = copy.deepcopy(document)
    broken["activities"][0]["hours"] = "500.00"  # a valid number, but above the 200 h the database allows
    errors = refused(broken)
    assert errors[0].startswith("The database refused the data, nothing was imported:")


# --- The commands ------------------------------------------------------------------------------


def test_commands_write_and_read_the_file(db, tmp_path):
    sid = transaction.savepoint()
    build_project()
    path = tmp_path / "ix.json"
    out = io.StringIO()
    call_command("export_project", "ix-test", str(path), stdout=out)
    assert "Project ix-test exported to" in out.getvalue()
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert AuditEvent.objects.filter(action="export", object_type="programmes.project").count() == 1
    transaction.savepoint_rollback(sid)

    out = io.StringIO()
    call_command("import_project", str(path), "--check", stdout=out)
    assert "can be imported into this database (nothing was written)" in out.getvalue()
    assert not Project.objects.exists()
    call_command("import_project", str(path), stdout=out)
    assert "Project ix-test imported:" in out.getvalue()
    again = tmp_path / "again.json"
    call_command("export_project", "ix-test", str(again), stdout=io.StringIO())
    assert without_time(json.loads(again.read_text(encoding="utf-8"))) == without_time(exported)


def test_commands_refuse_an_unknown_user(db, tmp_path, document):
    build_project()
    path = tmp_path / "ix.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    for args in (("export_project", "ix-test", str(tmp_path / "out.json")), ("import_project", str(path))):
        with pytest.raises(CommandError, match="No user with the username nobody") as info:
            call_command(*args, "--user", "nobody", stdout=io.StringIO())
        assert info.value.returncode == 1
    assert not (tmp_path / "out.json").exists()


def test_import_command_refuses_and_lists_the_problems(db, tmp_path, document):
    document["interventions"][0]["company"] = "5560000001"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_project", str(path), stderr=err)
    assert info.value.returncode == 1
    assert "nothing was imported" in str(info.value)
    assert "interventions[0].company: unknown organisation number 5560000001" in err.getvalue()
    assert not Project.objects.exists()


def test_commands_name_a_missing_project_or_file(db, tmp_path):
    with pytest.raises(CommandError, match="No project with the code nope"):
        call_command("export_project", "nope", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_project", str(tmp_path / "missing.json"))


# --- Batched reading ---------------------------------------------------------------------------


def test_export_queries_do_not_grow_with_the_rows(db):
    project = build_project()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export_project(project)
        return len(captured)

    first = queries()
    company = CompanyFactory()
    referral = project.referrals.first()
    for day in range(1, 6):
        Referral.objects.create(project=project, company=company, offer=referral.offer, status="declined",
                                advisor=referral.advisor, proposed_on=f"2025-05-0{day}", declined_on=f"2025-05-0{day}")
        activity = Activity.objects.create(project=project, company=company, hours=1, date=f"2025-05-0{day}")
        activity.advisors.set(project.activities.first().advisors.all())
        Contact.objects.create(company=company, name=f"Person {day}", legal_basis="legitimate_interest")
    assert queries() == first
