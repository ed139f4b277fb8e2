"""REST API of referrals, interventions and follow-ups: permissions per role, project scoping,
transitions (409 when refused), approval (422 with reasons and figures), follow-ups of the user."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from sim.assessments.models import GrowthGoal, GrowthPlan
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes.models import FollowUp, InterventionStatus, Referral
from sim.stateaid.tests.factories import ExchangeRateFactory

from .routing_builders import (
    ANONYMOUS,
    english_settings,
    focus_area,
    make_intervention,
    make_offer,
    make_project,
    make_referral,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
APPROVERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER}
ALL_ROLES = [*Role, ANONYMOUS]


@pytest.fixture(autouse=True)
def english(settings, db):
    ExchangeRateFactory(sek_per_eur=Decimal("10"))  # EUR 1 = SEK 10 in the de minimis ledger
    with english_settings(settings):
        yield


@pytest.fixture
def world():
    project = make_project(budget=Decimal(1_000_000), code="sim2")
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    offer = make_offer(project, title="Produktionslyftet", focus_areas=[focus_area("production_efficiency")])
    return {
        "project": project, "company": company, "offer": offer,
        "referral": make_referral(project, company, offer),
        "intervention": make_intervention(project, company, title="Automationsanalys", budget=Decimal(200_000),
                                          aid=Decimal(200_000)),
        "follow_up": FollowUp.objects.create(project=project, company=company, title="Ring VD", due_on=TODAY),
        "represented": CompanyFactory(name="Representerat AB"),
    }


@pytest.fixture
def api(client, make_user, world):
    def login(role, *, member=True):
        if role == ANONYMOUS:
            client.user = None
            return client
        user = make_user(role)
        if member and role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        client.force_login(user)
        client.user = user
        return client

    return login


def call(client, method, url, body=None):
    kwargs = {"content_type": "application/json"} if method in ("post", "patch") else {}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, method)(url, **kwargs)


# (name, method, url, body, roles allowed, status when allowed)
ENDPOINTS = [
    ("list-referrals", "get", lambda w: "/api/referrals/", None, READERS, 200),
    ("get-referral", "get", lambda w: f"/api/referrals/{w['referral'].pk}", None, READERS, 200),
    ("create-referral", "post", lambda w: "/api/referrals/",
     lambda w, u: {"company": w["company"].pk, "offer": make_offer(w["project"]).pk}, WRITERS, 201),
    ("update-referral", "patch", lambda w: f"/api/referrals/{w['referral'].pk}", lambda w, u: {"notes": "Ny"},
     WRITERS, 200),
    ("transition-referral", "post", lambda w: f"/api/referrals/{w['referral'].pk}/transition",
     lambda w, u: {"status": "accepted"}, WRITERS, 200),
    ("list-interventions", "get", lambda w: "/api/interventions/", None, READERS, 200),
    ("get-intervention", "get", lambda w: f"/api/interventions/{w['intervention'].pk}", None, READERS, 200),
    ("create-intervention", "post", lambda w: "/api/interventions/",
     lambda w, u: {"project": w["project"].pk, "company": w["company"].pk, "title": "Ny insats", "budget_sek": "1000"},
     WRITERS, 201),
    ("update-intervention", "patch", lambda w: f"/api/interventions/{w['intervention'].pk}",
     lambda w, u: {"results": "Bra"}, WRITERS, 200),
    ("approve-intervention", "post", lambda w: f"/api/interventions/{w['intervention'].pk}/approve",
     lambda w, u: {}, APPROVERS, 200),
    ("transition-intervention", "post", lambda w: f"/api/interventions/{w['intervention'].pk}/transition",
     lambda w, u: {"status": "cancelled", "reason": "Avbryts"}, WRITERS, 200),
    ("list-follow-ups", "get", lambda w: "/api/follow-ups/", None, READERS, 200),
    ("create-follow-up", "post", lambda w: "/api/follow-ups/",
     lambda w, u: {"company": w["company"].pk, "project": w["project"].pk, "title": "Ring", "due_on": "2030-01-01"},
     WRITERS, 201),
    ("done-follow-up", "post", lambda w: f"/api/follow-ups/{w['follow_up'].pk}/done", None, WRITERS, 200),
]


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(api, world, role, name, method, url, body, allowed, ok):
    client = api(role)
    response = call(client, method, url(world), body(world, client.user) if body else None)
    if role == ANONYMOUS:
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 403


SCOPED = [e for e in ENDPOINTS if e[0] in {
    "get-referral", "update-referral", "transition-referral", "get-intervention", "update-intervention",
    "approve-intervention", "transition-intervention", "done-follow-up"}]


@pytest.mark.parametrize(("name", "method", "url", "body", "allowed", "ok"), SCOPED, ids=[e[0] for e in SCOPED])
def test_other_projects_are_not_found(api, world, name, method, url, body, allowed, ok):
    client = api(Role.PROJECT_MANAGER, member=False)
    make_project(client.user)
    response = call(client, method, url(world), body(world, client.user) if body else None)
    assert response.status_code == 404


def test_lists_are_scoped(api, world):
    client = api(Role.ADVISOR, member=False)
    mine = make_project(client.user)
    own = make_referral(mine, world["company"], make_offer(mine))
    assert [r["id"] for r in client.get("/api/referrals/").json()["items"]] == [own.pk]
    assert client.get("/api/interventions/").json()["items"] == []
    assert call(client, "post", "/api/referrals/", {"company": world["company"].pk, "offer": world["offer"].pk}).status_code == 404


def test_referral_create_filter_and_transition(api, world):
    client = api(Role.ADVISOR)
    offer = make_offer(world["project"], title="Exportlyftet", focus_areas=[focus_area("internationalisation")])
    created = call(client, "post", "/api/referrals/", {"company": world["company"].pk, "offer": offer.pk,
                                                        "notes": "Via API"})
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["advisor_id"], body["project_code"], body["next_statuses"]) == (
        "proposed", client.user.pk, "sim2", ["accepted", "declined", "withdrawn"])
    duplicate = call(client, "post", "/api/referrals/", {"company": world["company"].pk, "offer": offer.pk})
    assert duplicate.status_code == 422
    assert "already has an open referral to Exportlyftet" in duplicate.json()["detail"]

    items = client.get("/api/referrals/", {"focus_area": "internationalisation"}).json()["items"]
    assert [r["id"] for r in items] == [body["id"]]
    assert len(client.get("/api/referrals/", {"status": "open"}).json()["items"]) == 2
    assert client.get("/api/referrals/", {"status": "nonsense"}).status_code == 422

    url = f"/api/referrals/{body['id']}/transition"
    refused = call(client, "post", url, {"status": "completed"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "A referral that is proposed cannot become completed. It can become: accepted, declined, withdrawn.")
    no_reason = call(client, "post", url, {"status": "withdrawn"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    future = call(client, "post", url, {"status": "accepted", "on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert future.status_code == 422
    accepted = call(client, "post", url, {"status": "accepted", "on": TODAY.isoformat()})
    assert accepted.status_code == 200 and accepted.json()["accepted_on"] == TODAY.isoformat()
    started = call(client, "post", url, {"status": "started"}).json()
    assert (started["status"], started["next_statuses"]) == ("started", ["completed", "withdrawn"])
    assert AuditEvent.objects.filter(object_type="programmes.referral", object_id=str(body["id"]), source="api").count() == 3


def test_finance_officers_approve_but_do_not_refer(api, world):
    client = api(Role.FINANCE_OFFICER)
    assert call(client, "post", "/api/referrals/", {"company": world["company"].pk, "offer": world["offer"].pk}).status_code == 403
    approved = call(client, "post", f"/api/interventions/{world['intervention'].pk}/approve", {"on": TODAY.isoformat()})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by_id"]) == ("approved", client.user.pk)


def test_approval_refused_with_reasons_and_figures(api, world):
    client = api(Role.PROJECT_MANAGER)
    make_intervention(world["project"], world["company"], status=InterventionStatus.CLOSED, budget=Decimal(900_000),
                      aid=Decimal(2_900_000), approved_on=TODAY - dt.timedelta(days=100))
    response = call(client, "post", f"/api/interventions/{world['intervention'].pk}/approve", {})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("The intervention cannot be approved:")
    assert len(body["reasons"]) == 2
    assert body["aid"]["allowed"] is False
    assert Decimal(body["aid"]["used_eur"]) == Decimal("290000.00")
    assert Decimal(body["aid"]["headroom_eur"]) == Decimal("10000.00")
    assert Decimal(body["aid"]["proposed_eur"]) == Decimal("20000.00")
    assert body["aid"]["members"] == [world["company"].pk]
    assert body["budget"]["allowed"] is False
    assert Decimal(body["budget"]["committed_sek"]) == Decimal(900_000)
    assert Decimal(body["budget"]["budget_sek"]) == Decimal(1_000_000)


def test_intervention_create_update_and_transitions(api, world):
    client = api(Role.ADVISOR)
    plan = GrowthPlan.objects.create(company=world["company"], title="Plan")
    goal = GrowthGoal.objects.create(plan=plan, title="Omsättning 50 Mkr", metric="turnover_sek", target=50_000_000)
    created = call(client, "post", "/api/interventions/", {
        "project": world["project"].pk, "company": world["company"].pk, "title": "Exportstrategi",
        "focus_area": "internationalisation", "budget_sek": "80000", "aid_amount_sek": "80000",
        "growth_goals": [goal.pk],
    })
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["focus_area"], body["growth_goals"], body["status"]) == ("internationalisation", [goal.pk], "draft")
    assert call(client, "post", "/api/interventions/", {
        "project": world["project"].pk, "company": world["company"].pk, "title": "X", "focus_area": "nope"}).status_code == 422
    assert call(client, "post", "/api/interventions/", {
        "project": world["project"].pk, "company": world["company"].pk, "title": "X", "growth_goals": [999999]}).status_code == 422
    url = f"/api/interventions/{body['id']}"
    assert call(client, "patch", url, {"deliverables": "Rapport"}).json()["deliverables"] == "Rapport"
    assert call(client, "patch", url, {"budget_sek": None}).status_code == 422
    # Advisors cannot approve.
    assert call(client, "post", url + "/approve", {}).status_code == 403
    refused = call(client, "post", url + "/transition", {"status": "delivered"})
    assert refused.status_code == 409
    assert call(client, "post", url + "/transition", {"status": "approved"}).status_code == 409


def test_delivered_via_api_creates_the_t1_follow_up(api, world, make_user):
    client = api(Role.ADVISOR)
    intervention = make_intervention(world["project"], world["company"], status=InterventionStatus.IN_PROGRESS,
                                     approved_on=TODAY, started_on=TODAY)
    response = call(client, "post", f"/api/interventions/{intervention.pk}/transition", {"status": "delivered"})
    assert response.status_code == 200
    mine = client.get("/api/follow-ups/").json()["items"]
    assert any(f["kind"] == "t1_due" for f in mine)


def test_follow_ups_mine_create_and_done(api, world, make_user):
    client = api(Role.ADVISOR)
    mine = FollowUp.objects.create(project=world["project"], company=world["company"], title="Försenad",
                                   due_on=TODAY - dt.timedelta(days=2), assigned_to=client.user)
    items = client.get("/api/follow-ups/").json()["items"]
    assert [f["id"] for f in items] == [mine.pk]  # not the unassigned one
    assert items[0]["overdue"] is True
    everyone = client.get("/api/follow-ups/", {"mine": "false"}).json()["items"]
    assert {f["id"] for f in everyone} == {mine.pk, world["follow_up"].pk}
    created = call(client, "post", "/api/follow-ups/", {
        "company": world["company"].pk, "project": world["project"].pk, "title": "Boka T1",
        "due_on": (TODAY + dt.timedelta(days=30)).isoformat()})
    assert created.status_code == 201 and created.json()["assigned_to_id"] == client.user.pk
    outsider = make_user(Role.ADVISOR)
    refused = call(client, "post", "/api/follow-ups/", {
        "company": world["company"].pk, "project": world["project"].pk, "title": "X", "due_on": "2030-01-01",
        "assigned_to": outsider.pk})
    assert refused.status_code == 422 and "assigned_to" in refused.json()["detail"]
    done = call(client, "post", f"/api/follow-ups/{mine.pk}/done")
    assert done.status_code == 200 and done.json()["done_at"]
    assert call(client, "post", f"/api/follow-ups/{mine.pk}/done").status_code == 409
    assert [f["id"] for f in client.get("/api/follow-ups/", {"done": "false"}).json()["items"]] == [created.json()["id"]]


def test_referral_with_closed_offer_is_422(api, world):
    client = api(Role.ADVISOR)
    closed = make_offer(world["project"], title="Stängt", active=False)
    response = call(client, "post", "/api/referrals/", {"company": world["company"].pk, "offer": closed.pk})
    assert response.status_code == 422
    assert "not open for referrals" in response.json()["detail"]
    assert not Referral.objects.filter(offer=closed).exists()


def test_decision_document_upload_and_download(api, world, settings, tmp_path, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    pdf = b"%PDF-1.4\n%%EOF\n"
    manager = api(Role.PROJECT_MANAGER)
    url = f"/api/interventions/{world['intervention'].pk}/decision"
    draft = manager.post(url, {"document": SimpleUploadedFile("beslut.pdf", pdf)})
    assert draft.status_code == 422 and "approved intervention" in draft.json()["detail"]
    assert call(manager, "post", f"/api/interventions/{world['intervention'].pk}/approve", {}).status_code == 200
    wrong = manager.post(url, {"document": SimpleUploadedFile("beslut.pdf", b"<html>")})
    assert wrong.status_code == 422 and "is not a PDF file" in wrong.json()["detail"]
    assert manager.get(url).status_code == 404  # nothing uploaded yet
    uploaded = manager.post(url, {"document": SimpleUploadedFile("beslut.pdf", pdf)})
    assert uploaded.status_code == 200 and uploaded.json()["has_decision_document"] is True
    download = manager.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
    # Readers download, only approvers upload; other projects do not find it.
    auditor = api(Role.AUDITOR)
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, {"document": SimpleUploadedFile("b.pdf", pdf)}).status_code == 403
    outsider = api(Role.FINANCE_OFFICER, member=False)
    make_project(outsider.user)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"document": SimpleUploadedFile("b.pdf", pdf)}).status_code == 404
    assert api(Role.EDUCATION_PROVIDER).get(url).status_code == 403
