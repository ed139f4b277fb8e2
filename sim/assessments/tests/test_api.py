"""The REST API of assessments and growth plans: roles, scoping, conflicts, validation, OpenAPI."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone, translation

from sim.assessments import services
from sim.assessments.models import Assessment, GrowthAction, GrowthPlan, InstrumentVersion, Need
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core import services as core_services
from sim.core.models import AuditEvent
from sim.core.roles import Role

from .helpers import DIGITAL, GROWTH, answer_required, complete_quickly, start

pytestmark = pytest.mark.django_db

BASE = "/api/assessments/"
PLANS = f"{BASE}growth-plans/"
ANONYMOUS = "anonymous"
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
REPRESENTATIVE = Role.COMPANY_REPRESENTATIVE
DENIED = {"detail": "You do not have permission for this."}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


class Api:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, secret=None, client=None):
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", **self.headers)

    def put(self, path, data):
        return self.client.put(path, data, content_type="application/json", **self.headers)

    def patch(self, path, data):
        return self.client.patch(path, data, content_type="application/json", **self.headers)


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def world(advisor):
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    represented = CompanyFactory(name="Representerat AB")
    done = start(advisor, company, GROWTH, conducted_on=dt.date(2025, 2, 3))
    complete_quickly(advisor, done, level=1, ga_obstacles="Svårt att rekrytera svetsare.")
    services.assessment_set_details(advisor, done, notes="Hemlig intervjuanteckning.")
    draft = start(advisor, company, DIGITAL)
    ready = start(advisor, company, DIGITAL)
    answer_required(advisor, ready)
    rep_done = complete_quickly(advisor, start(advisor, represented, GROWTH), level=2)
    rep_draft = start(advisor, represented, DIGITAL)
    plan = services.growth_plan_create(advisor, company, title="Intern plan", assessment=done)
    shared = services.growth_plan_create(advisor, represented, title="Delad plan", from_needs=False)
    services.growth_plan_update(advisor, shared, {"shared_with_company": True, "status": "agreed"})
    services.growth_goal_save(advisor, shared, {"title": "Omsättning 40 MSEK", "metric": "turnover_sek",
                                                "baseline": "31000000", "target": "40000000"})
    services.growth_action_save(advisor, shared, {"title": "Exportplan", "owner": "VD"})
    unshared = services.growth_plan_create(advisor, represented, title="Intern plan 2", from_needs=False)
    return {
        "company": company, "represented": represented, "done": done, "draft": draft, "ready": ready,
        "rep_done": rep_done, "rep_draft": rep_draft, "plan": plan, "shared": shared, "unshared": unshared,
    }


@pytest.fixture
def api_for(make_user, world):
    def make(role, **kwargs):
        if role == ANONYMOUS:
            return Api()
        user = make_user(role, **kwargs)
        if role == REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        _token, secret = core_services.api_token_create(user, "test")
        api = Api(secret)
        api.user = user
        return api

    return make


# --- Permissions per role -------------------------------------------------------------------

ENDPOINTS = [
    ("instruments", "get", lambda w: f"{BASE}instruments/", None, READERS | {REPRESENTATIVE}, 200, None),
    ("instrument", "get", lambda w: f"{BASE}instruments/{GROWTH}/1", None, READERS | {REPRESENTATIVE}, 200, None),
    ("list", "get", lambda w: BASE, None, READERS | {REPRESENTATIVE}, 200, None),
    ("create", "post", lambda w: BASE, lambda w: {"company": w["company"].pk, "instrument": GROWTH},
     WRITERS, 201, 403),
    ("get", "get", lambda w: f"{BASE}{w['done'].pk}", None, READERS, 200, 404),
    ("answer", "put", lambda w: f"{BASE}{w['draft'].pk}/answers/dbs_strategy", lambda w: {"value": 3},
     WRITERS, 200, 403),
    ("answer-post", "post", lambda w: f"{BASE}{w['draft'].pk}/answers/hc_skills", lambda w: {"value": 2},
     WRITERS, 200, 403),
    ("scores", "get", lambda w: f"{BASE}{w['done'].pk}/scores", None, READERS, 200, 404),
    ("complete", "post", lambda w: f"{BASE}{w['ready'].pk}/complete", None, WRITERS, 200, 403),
    ("correct", "post", lambda w: f"{BASE}{w['done'].pk}/correct", lambda w: {"reason": "Fel omsättning."},
     WRITERS, 201, 403),
    ("plans", "get", lambda w: PLANS, None, READERS | {REPRESENTATIVE}, 200, None),
    ("plan-create", "post", lambda w: PLANS, lambda w: {"company": w["company"].pk}, WRITERS, 201, 403),
    ("plan", "get", lambda w: f"{PLANS}{w['plan'].pk}", None, READERS, 200, 404),
    ("plan-patch", "patch", lambda w: f"{PLANS}{w['plan'].pk}", lambda w: {"summary": "Export först."},
     WRITERS, 200, 403),
    ("goal", "post", lambda w: f"{PLANS}{w['plan'].pk}/goals", lambda w: {"title": "Fler anställda"},
     WRITERS, 201, 403),
    ("action", "post", lambda w: f"{PLANS}{w['plan'].pk}/actions", lambda w: {"title": "Exportplan"},
     WRITERS, 201, 403),
]


def _expected(role, allowed, ok, rep_denied):
    if role == ANONYMOUS:
        return 401
    if role in allowed:
        return ok
    if role == REPRESENTATIVE and rep_denied:
        return rep_denied
    return 403


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "ok", "rep_denied"), ENDPOINTS,
                         ids=[e[0] for e in ENDPOINTS])
def test_access(api_for, world, role, name, method, url, body, allowed, ok, rep_denied):
    api = api_for(role)
    path = url(world)
    data = body(world) if body else None
    response = api.get(path) if method == "get" else getattr(api, method)(path, data)
    expected = _expected(role, allowed, ok, rep_denied)
    assert response.status_code == expected, (name, role, response.content)
    if expected == 403:
        assert response.json() == DENIED
    if expected in (403, 404):
        assert "Storsjöns" not in response.content.decode()


@pytest.mark.parametrize("role", sorted(set(Role) - WRITERS), ids=str)
def test_roles_that_may_not_write_change_nothing(api_for, world, role):
    api = api_for(role)
    before = AuditEvent.objects.count()
    api.post(BASE, {"company": world["represented"].pk, "instrument": GROWTH})
    api.put(f"{BASE}{world['rep_draft'].pk}/answers/dbs_strategy", {"value": 1})
    api.post(f"{BASE}{world['rep_done'].pk}/correct", {"reason": "x"})
    api.post(PLANS, {"company": world["represented"].pk})
    api.patch(f"{PLANS}{world['shared'].pk}", {"title": "Ändrad"})
    api.post(f"{PLANS}{world['shared'].pk}/goals", {"title": "Mål"})
    api.post(f"{PLANS}{world['shared'].pk}/actions", {"title": "Åtgärd"})
    assert AuditEvent.objects.count() == before
    assert Assessment.objects.count() == 5
    assert GrowthPlan.objects.get(pk=world["shared"].pk).title == "Delad plan"


# --- Authentication -------------------------------------------------------------------------


def test_no_or_bad_credentials_are_401(world):
    assert Client().get(BASE).status_code == 401
    assert Api("sim_made-up").get(BASE).status_code == 401
    assert Client().put(f"{BASE}{world['draft'].pk}/answers/dbs_strategy", {"value": 1},
                        content_type="application/json").status_code == 401


def test_token_and_session_authentication(api_for, world, client, make_user):
    api = api_for(Role.AUDITOR)
    assert api.get(BASE).json()["count"] == 5
    client.force_login(make_user(Role.ADVISOR))
    assert client.get(BASE).json()["count"] == 5


def test_api_writes_are_audited_as_api_by_the_tokens_user(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.put(f"{BASE}{world['draft'].pk}/answers/dbs_strategy", {"value": 4})
    assert response.status_code == 200
    event = AuditEvent.objects.filter(object_type="assessments.assessment", object_id=str(world["draft"].pk)).first()
    assert (event.source, event.actor, event.changes) == ("api", api.user, {"dbs_strategy": {"before": None, "after": 4}})


# --- Scoping --------------------------------------------------------------------------------


def test_a_representative_reads_only_completed_assessments_of_their_company(api_for, world):
    api = api_for(REPRESENTATIVE)
    listing = api.get(BASE).json()
    assert [a["id"] for a in listing["items"]] == [world["rep_done"].pk]
    own = api.get(f"{BASE}{world['rep_done'].pk}")
    assert own.status_code == 200
    assert own.json()["company_name"] == "Representerat AB"
    assert api.get(f"{BASE}{world['rep_done'].pk}/scores").json()["frozen"] is True
    for other in (world["done"], world["draft"], world["rep_draft"]):
        response = api.get(f"{BASE}{other.pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such assessment."}
        assert api.get(f"{BASE}{other.pk}/scores").status_code == 404
    assert api.get(BASE, {"company": world["company"].pk}).json()["count"] == 0


def test_a_representative_reads_only_shared_plans_of_their_company(api_for, world):
    api = api_for(REPRESENTATIVE)
    listing = api.get(PLANS).json()
    assert [p["title"] for p in listing["items"]] == ["Delad plan"]
    plan = api.get(f"{PLANS}{world['shared'].pk}").json()
    assert [g["title"] for g in plan["goals"]] == ["Omsättning 40 MSEK"]
    assert plan["goals"][0]["target"] == "40000000.00"
    assert [(a["title"], a["owner"]) for a in plan["actions"]] == [("Exportplan", "VD")]
    for hidden in (world["unshared"], world["plan"]):
        assert api.get(f"{PLANS}{hidden.pk}").status_code == 404


def test_free_text_answers_and_notes_need_the_text_permission(api_for, world):
    path = f"{BASE}{world['done'].pk}"
    full = api_for(Role.ADVISOR).get(path).json()
    assert full["answers"]["ga_obstacles"] == "Svårt att rekrytera svetsare."
    assert full["answers"]["cn_description"]
    assert full["notes"] == "Hemlig intervjuanteckning."
    assert full["text_answers_hidden"] is False
    audited = api_for(Role.AUDITOR).get(path)
    body = audited.json()
    assert "Svårt att rekrytera" not in audited.content.decode()
    assert "Hemlig" not in audited.content.decode()
    assert "ga_obstacles" not in body["answers"] and "cn_description" not in body["answers"]
    assert body["notes"] is None and body["text_answers_hidden"] is True
    assert body["answers"]["fin_planning"] == full["answers"]["fin_planning"] == 1


# --- Instruments ----------------------------------------------------------------------------


def test_instruments_list_and_detail(api_for, world):
    api = api_for(Role.AUDITOR)
    listing = api.get(f"{BASE}instruments/").json()
    assert {(i["key"], i["version"], i["kind"]) for i in listing} == {
        (GROWTH, 2, "growth_interview"), (DIGITAL, 1, "maturity")}
    assert {i["title_en"] for i in listing} == {"SIM growth interview", "Digital maturity"}
    v1 = InstrumentVersion.objects.get(key=DIGITAL)
    InstrumentVersion.objects.create(key=DIGITAL, version=2, kind="maturity", title_sv="DM2", title_en="DM2",
                                     digest="d", definition={**v1.definition, "version": 2})
    latest = api.get(f"{BASE}instruments/").json()
    assert {(i["key"], i["version"]) for i in latest} == {(GROWTH, 2), (DIGITAL, 2)}
    assert len(api.get(f"{BASE}instruments/", {"all_versions": True}).json()) == 4
    detail = api.get(f"{BASE}instruments/{GROWTH}/1").json()
    assert detail["digest"] == InstrumentVersion.objects.get(key=GROWTH, version=1).digest
    assert "kf_new_products" not in json.dumps(detail["definition"])
    assert "kf_new_products" in json.dumps(api.get(f"{BASE}instruments/{GROWTH}/2").json()["definition"])
    assert [s["id"] for s in detail["definition"]["sections"]][:2] == ["growth_ambition", "key_figures"]
    assert api.get(f"{BASE}instruments/{GROWTH}/7").status_code == 404
    assert api.get(f"{BASE}instruments/nope/1").status_code == 404


# --- Assessments: create, list --------------------------------------------------------------


def test_create_an_assessment(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, {"company": world["company"].pk, "instrument": DIGITAL, "version": 1,
                               "phase": "follow_up", "conducted_on": "2026-03-02"})
    assert response.status_code == 201
    body = response.json()
    assert (body["instrument"], body["instrument_version"], body["phase"], body["status"], body["conducted_on"]) == (
        DIGITAL, 1, "follow_up", "draft", "2026-03-02")
    assert body["answers"] == {} and body["led_by_id"] == api.user.pk
    event = AuditEvent.objects.get(object_type="assessments.assessment", object_id=str(body["id"]), action="create")
    assert event.source == "api"


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"instrument": "no-such"}, 422, "instrument: No instrument called no-such is published."),
        ({"version": 9}, 422, "instrument: Version 9 of sim-growth-interview is not published."),
        ({"phase": "t9"}, 422, "phase: Choose T0 or follow-up."),
        ({"conducted_on": "2026-02-30"}, 422, None),
        ({"company": 999999}, 404, "No such company."),
    ],
)
def test_create_validation(api_for, world, payload, status, message):
    api = api_for(Role.ADVISOR)
    response = api.post(BASE, {"company": world["company"].pk, "instrument": GROWTH, **payload})
    assert response.status_code == status
    if message:
        assert message in response.json()["detail"]
    assert Assessment.objects.count() == 5


def test_create_for_an_archived_company_is_422(api_for, world):
    archived = CompanyFactory(status="archived", archived_at=timezone.now())
    response = api_for(Role.ADVISOR).post(BASE, {"company": archived.pk, "instrument": GROWTH})
    assert response.status_code == 422
    assert "Restore the company" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"instrument": DIGITAL}, {"draft", "ready", "rep_draft"}),
        ({"status": "completed"}, {"done", "rep_done"}),
        ({"company": "represented"}, {"rep_done", "rep_draft"}),
        ({"company": "represented", "status": "draft"}, {"rep_draft"}),
        ({"phase": "follow_up"}, set()),
    ],
)
def test_list_filters(api_for, world, params, expected):
    if params.get("company") == "represented":
        params = {**params, "company": world["represented"].pk}
    body = api_for(Role.ADVISOR).get(BASE, params).json()
    assert {a["id"] for a in body["items"]} == {world[key].pk for key in expected}
    assert body["count"] == len(expected)


def test_list_shape_and_bad_filters(api_for, world):
    api = api_for(Role.ADVISOR)
    item = next(a for a in api.get(BASE).json()["items"] if a["id"] == world["done"].pk)
    assert item["company_id"] == world["company"].pk
    assert item["overall_score"] == float(world["done"].overall_score)
    assert item["overall_band"] == world["done"].overall_band
    assert "answers" not in item
    assert api.get(BASE, {"status": "bogus"}).status_code == 422
    assert api.get(BASE, {"phase": "t5"}).status_code == 422


# --- Answers --------------------------------------------------------------------------------


def test_answer_returns_the_new_version_and_normalises(api_for, world):
    api = api_for(Role.ADVISOR)
    path = f"{BASE}{world['draft'].pk}/answers/dr_technologies"
    first = api.put(path, {"value": ["cloud", "erp"], "version": 0})
    assert first.status_code == 200
    assert first.json() == {"question_id": "dr_technologies", "value": ["erp", "cloud"], "version": 1, "changed": True}
    second = api.post(path, {"value": ["erp"], "version": 1})
    assert second.json()["version"] == 2
    same = api.put(path, {"value": ["erp"]})
    assert same.json() == {"question_id": "dr_technologies", "value": ["erp"], "version": 2, "changed": False}
    removed = api.put(path, {"value": [], "version": 2})
    assert removed.json()["value"] is None and removed.json()["version"] == 3
    detail = api.get(f"{BASE}{world['draft'].pk}").json()
    assert "dr_technologies" not in detail["answers"] and detail["answer_versions"]["dr_technologies"] == 3


def test_a_stale_version_is_a_409_conflict_with_the_current_value(api_for, world):
    first, second = api_for(Role.ADVISOR), api_for(Role.PROJECT_MANAGER)
    path = f"{BASE}{world['draft'].pk}/answers/dbs_strategy"
    assert first.put(path, {"value": 2, "version": 0}).status_code == 200
    response = second.put(path, {"value": 4, "version": 0})
    assert response.status_code == 409
    body = response.json()
    assert (body["current_value"], body["current_version"]) == (2, 1)
    assert "Someone else changed this answer" in body["detail"]
    world["draft"].refresh_from_db()
    assert world["draft"].answers["dbs_strategy"] == 2
    assert second.put(path, {"value": 4, "version": body["current_version"]}).status_code == 200


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("dbs_strategy", 6, "dbs_strategy: Choose a level from 0 to 5 (got 6)."),
        ("dbs_strategy", "high", "dbs_strategy: Choose a level from 0 to 5"),
        ("dr_technologies", ["erp", "none"], "cannot be combined with other options"),
        ("da_storage", "cloud", "Unknown option 'cloud'"),
    ],
)
def test_an_invalid_answer_is_422(api_for, world, question, value, message):
    response = api_for(Role.ADVISOR).put(f"{BASE}{world['draft'].pk}/answers/{question}", {"value": value})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    world["draft"].refresh_from_db()
    assert world["draft"].answers == {}


def test_answer_to_an_unknown_question_is_404_and_bad_versions_422(api_for, world):
    api = api_for(Role.ADVISOR)
    assert api.put(f"{BASE}{world['draft'].pk}/answers/nope", {"value": 1}).status_code == 404
    assert api.put(f"{BASE}{world['draft'].pk}/answers/dbs_strategy", {"value": 1, "version": -1}).status_code == 422
    assert api.put(f"{BASE}999999/answers/dbs_strategy", {"value": 1}).status_code == 404


def test_a_completed_assessment_is_locked(api_for, world):
    response = api_for(Role.ADVISOR).put(f"{BASE}{world['done'].pk}/answers/fin_planning", {"value": 5})
    assert response.status_code == 409
    assert "completed and locked" in response.json()["detail"]
    world["done"].refresh_from_db()
    assert world["done"].answers["fin_planning"] == 1


# --- Completing, scores, correcting ---------------------------------------------------------


def test_complete_lists_the_missing_required_questions(api_for, world):
    api = api_for(Role.ADVISOR)
    api.put(f"{BASE}{world['draft'].pk}/answers/dbs_strategy", {"value": 3})
    response = api.post(f"{BASE}{world['draft'].pk}/complete")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("Answer the required questions before completing:")
    assert [m["id"] for m in body["missing_required"]] == [
        "dr_technologies", "hc_skills", "da_storage", "ai_production", "gd_monitoring"]
    assert body["missing_required"][0]["section"] == "digital_readiness"
    assert body["missing_required"][0]["text"]
    assert body["invalid"] == []
    world["draft"].refresh_from_db()
    assert world["draft"].status == "draft"


def test_complete_lists_invalid_stored_answers(api_for, world):
    ready = world["ready"]
    Assessment.objects.filter(pk=ready.pk).update(answers={**ready.answers, "hc_skills": 8})
    body = api_for(Role.ADVISOR).post(f"{BASE}{ready.pk}/complete").json()
    assert body["invalid"] and body["invalid"][0].startswith("hc_skills: Choose a level")
    assert [m["id"] for m in body["missing_required"]] == ["hc_skills"]


def test_complete_returns_the_frozen_scores(api_for, world):
    api = api_for(Role.ADVISOR)
    ready = world["ready"]
    live = api.get(f"{BASE}{ready.pk}/scores").json()
    assert live["frozen"] is False and live["status"] == "draft" and live["missing_required"] == []
    response = api.post(f"{BASE}{ready.pk}/complete")
    assert response.status_code == 200
    body = response.json()
    ready.refresh_from_db()
    assert body["frozen"] is True and body["status"] == "completed"
    assert body["overall"] == ready.scores["overall"] == float(ready.overall_score)
    assert {d["id"]: d["score"] for d in body["dimensions"]} == {
        key: value["score"] for key, value in ready.scores["dimensions"].items()}
    assert body["dimensions"] == live["dimensions"]
    assert api.post(f"{BASE}{ready.pk}/complete").status_code == 409
    event = AuditEvent.objects.get(object_id=str(ready.pk), object_type="assessments.assessment", message="Completed")
    assert event.source == "api"


def test_scores_of_a_draft_are_live(api_for, world):
    api = api_for(Role.ADVISOR)
    draft = world["draft"]
    empty = api.get(f"{BASE}{draft.pk}/scores").json()
    assert empty["overall"] is None and empty["frozen"] is False
    assert len(empty["missing_required"]) == 6
    api.put(f"{BASE}{draft.pk}/answers/dbs_strategy", {"value": 3})
    api.put(f"{BASE}{draft.pk}/answers/dbs_areas", {"value": ["production", "quality"]})
    body = api.get(f"{BASE}{draft.pk}/scores").json()
    strategy = next(d for d in body["dimensions"] if d["id"] == "digital_business_strategy")
    assert (strategy["score"], strategy["band"], strategy["answered"]) == (45.0, "average", 2)
    assert body["overall"] == 45.0
    assert [m["id"] for m in body["missing_required"]] == [
        "dr_technologies", "hc_skills", "da_storage", "ai_production", "gd_monitoring"]


def test_scores_of_the_growth_interview_name_focus_areas(api_for, world):
    body = api_for(Role.AUDITOR).get(f"{BASE}{world['done'].pk}/scores").json()
    assert {d["id"]: d["focus_area"] for d in body["dimensions"]}["financing"] == "financing"
    assert body["overall"] == float(world["done"].overall_score)


def test_assessment_detail_lists_its_needs(api_for, world):
    body = api_for(Role.AUDITOR).get(f"{BASE}{world['done'].pk}").json()
    assert len(body["needs"]) == 5
    assert body["needs"][0]["priority"] == 1 and body["needs"][0]["source"] == "derived"
    assert {n["focus_area"] for n in body["needs"]} == {
        "financing", "production_efficiency", "service_addition", "internationalisation", "growth_and_competence"}


def test_correct_opens_one_revision(api_for, world):
    api = api_for(Role.ADVISOR)
    done = world["done"]
    assert api.post(f"{BASE}{done.pk}/correct", {"reason": "  "}).status_code == 422
    response = api.post(f"{BASE}{done.pk}/correct", {"reason": "Fel år på nyckeltalen."})
    assert response.status_code == 201
    revision = response.json()
    assert (revision["status"], revision["revises_id"], revision["revision_reason"]) == (
        "draft", done.pk, "Fel år på nyckeltalen.")
    assert revision["answers"] == done.answers
    again = api.post(f"{BASE}{done.pk}/correct", {"reason": "Igen"})
    assert again.status_code == 409
    assert "already in progress" in again.json()["detail"]
    assert api.post(f"{BASE}{world['draft'].pk}/correct", {"reason": "x"}).status_code == 409
    assert api.post(f"{BASE}{done.pk}/correct", {}).status_code == 422
    completed = api.post(f"{BASE}{revision['id']}/complete")
    assert completed.status_code == 200
    done.refresh_from_db()
    assert done.status == "superseded"
    assert api.post(f"{BASE}{done.pk}/correct", {"reason": "x"}).status_code == 409


# --- Growth plans ---------------------------------------------------------------------------


def test_create_a_plan_from_needs(api_for, world):
    api = api_for(Role.ADVISOR)
    response = api.post(PLANS, {"company": world["company"].pk, "assessment": world["done"].pk,
                                "title": "Tillväxtplan 2026"})
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["status"], body["assessment_id"], body["shared_with_company"]) == (
        "Tillväxtplan 2026", "draft", world["done"].pk, False)
    needs = Need.objects.filter(company=world["company"], status="open").order_by("priority", "id")
    assert [a["need_id"] for a in body["actions"]] == [n.pk for n in needs]
    assert body["actions"][0]["focus_area"] == needs[0].focus_area.key
    empty = api.post(PLANS, {"company": world["company"].pk, "from_needs": False}).json()
    assert empty["actions"] == [] and empty["goals"] == []


def test_create_a_plan_validation(api_for, world):
    api = api_for(Role.ADVISOR)
    foreign = api.post(PLANS, {"company": world["represented"].pk, "assessment": world["done"].pk})
    assert foreign.status_code == 422
    assert "another company" in foreign.json()["detail"]
    assert api.post(PLANS, {"company": 999999}).status_code == 404
    assert api.post(PLANS, {"company": world["company"].pk, "assessment": 999999}).status_code == 404
    assert api.post(PLANS, {}).status_code == 422


def test_patch_a_plan(api_for, world):
    api = api_for(Role.ADVISOR)
    path = f"{PLANS}{world['plan'].pk}"
    response = api.patch(path, {"status": "agreed", "shared_with_company": True, "period_start": "2026-01-01",
                                "period_end": "2027-12-31", "summary": None})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["shared_with_company"], body["period_end"]) == ("agreed", True, "2027-12-31")
    assert body["agreed_on"] == timezone.localdate().isoformat()
    assert body["title"] == "Intern plan"
    bad = api.patch(path, {"period_start": "2028-01-01"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "period_end: The plan cannot end before it starts."
    assert api.patch(path, {"status": "someday"}).status_code == 422
    assert api.patch(path, {"title": None}).status_code == 422
    assert api.patch(f"{PLANS}999999", {"title": "x"}).status_code == 404


def test_add_goals_and_actions(api_for, world):
    api = api_for(Role.ADVISOR)
    plan = world["plan"]
    goal = api.post(f"{PLANS}{plan.pk}/goals", {
        "title": "Exportandel 25 %", "metric": "export_share_pct", "baseline": "8", "target": "25", "unit": "%",
        "target_date": "2027-12-31",
    })
    assert goal.status_code == 201
    assert (goal.json()["metric"], goal.json()["target"]) == ("export_share_pct", "25.00")
    need = Need.objects.filter(company=world["company"]).first()
    action = api.post(f"{PLANS}{plan.pk}/actions", {
        "title": "Besök mässa i Oslo", "focus_area": "internationalisation", "need": need.pk, "owner": "Säljchef",
        "due_date": "2026-09-30", "status": "in_progress",
    })
    assert action.status_code == 201
    body = action.json()
    assert (body["focus_area"], body["need_id"], body["status"]) == ("internationalisation", need.pk, "in_progress")
    assert GrowthAction.objects.get(pk=body["id"]).plan == plan
    detail = api.get(f"{PLANS}{plan.pk}").json()
    assert "Exportandel 25 %" in [g["title"] for g in detail["goals"]]
    assert "Besök mässa i Oslo" in [a["title"] for a in detail["actions"]]


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("goals", {"title": ""}, "title: A title is required."),
        ("goals", {"title": "x", "metric": "profit"}, "metric:"),
        ("goals", {"title": "x", "metric": "staff_awu", "target": "-3"}, "target: Cannot be negative."),
        ("actions", {"title": "x", "focus_area": "space"}, "focus_area: no focus area with the key space."),
        ("actions", {"title": "x", "status": "someday"}, "status:"),
        ("actions", {"title": "x", "need": "other"}, "need: the plan's company has no such need."),
        ("actions", {"title": "x", "need": 999999}, "need: the plan's company has no such need."),
    ],
)
def test_goal_and_action_validation(api_for, world, advisor, kind, payload, message):
    if payload.get("need") == "other":
        other = services.need_save(advisor, world["represented"], {"title": "Annat företags behov"})
        payload = {**payload, "need": other.pk}
    response = api_for(Role.ADVISOR).post(f"{PLANS}{world['plan'].pk}/{kind}", payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_list_plans_by_company(api_for, world):
    api = api_for(Role.AUDITOR)
    body = api.get(PLANS, {"company": world["represented"].pk}).json()
    assert {p["title"] for p in body["items"]} == {"Delad plan", "Intern plan 2"}
    assert api.get(PLANS, {"status": "agreed"}).json()["count"] == 1
    assert api.get(PLANS, {"status": "bogus"}).status_code == 422


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_lists_the_assessment_paths(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/assessments/", "/api/assessments/instruments/", "/api/assessments/instruments/{key}/{version}",
        "/api/assessments/{assessment_id}", "/api/assessments/{assessment_id}/answers/{question_id}",
        "/api/assessments/{assessment_id}/scores", "/api/assessments/{assessment_id}/complete",
        "/api/assessments/{assessment_id}/correct", "/api/assessments/growth-plans/",
        "/api/assessments/growth-plans/{plan_id}", "/api/assessments/growth-plans/{plan_id}/goals",
        "/api/assessments/growth-plans/{plan_id}/actions",
    ):
        assert path in paths, path
    answer = paths["/api/assessments/{assessment_id}/answers/{question_id}"]
    assert {"put", "post"} <= set(answer)
    assert {"200", "409"} <= set(answer["put"]["responses"])
    assert {"200", "409", "422"} <= set(paths["/api/assessments/{assessment_id}/complete"]["post"]["responses"])

