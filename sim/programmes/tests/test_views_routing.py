"""Web pages of routing: who may open what (per role and project), the pipeline board with HTMX and
without, referring, interventions with approval and decision documents, follow-ups, the company
section and the start-page panel."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role
from sim.programmes.models import FollowUp, Intervention, InterventionStatus, Referral, ReferralStatus
from sim.stateaid.tests.factories import ExchangeRateFactory

from .routing_builders import (
    ANONYMOUS,
    english_settings,
    make_intervention,
    make_offer,
    make_project,
    make_referral,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
APPROVERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER}
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def english(settings, tmp_path, db):
    settings.MEDIA_ROOT = tmp_path
    ExchangeRateFactory(sek_per_eur=Decimal("10"))  # EUR 1 = SEK 10 in the de minimis ledger
    with english_settings(settings):
        yield


@pytest.fixture
def world(make_user):
    project = make_project(budget=Decimal(1_000_000), name="SIM 2", code="sim2")
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    offer = make_offer(project, title="Produktionslyftet")
    referral = make_referral(project, company, offer)
    intervention = make_intervention(project, company, title="Automationsanalys")
    documented = make_intervention(project, company, title="Med beslut", status=InterventionStatus.APPROVED,
                                   approved_on=TODAY)
    documented.decision_document.save("beslut.pdf", ContentFile(PDF))
    follow_up = FollowUp.objects.create(project=project, company=company, title="Ring VD", due_on=TODAY)
    represented = CompanyFactory(name="Representerat AB")
    return {"project": project, "company": company, "offer": offer, "referral": referral, "intervention": intervention,
            "documented": documented, "follow_up": follow_up, "represented": represented}


@pytest.fixture
def as_role(client, make_user, world):
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


# (name, method, url, roles allowed, status when allowed)
ENDPOINTS = [
    ("pipeline", "get", lambda w: reverse("programmes:pipeline"), READERS, 302),
    ("pipeline-project", "get", lambda w: reverse("programmes:pipeline-project", args=[w["project"].pk]), READERS, 200),
    ("referral", "get", lambda w: reverse("programmes:referral", args=[w["referral"].pk]), READERS, 200),
    ("referral-create", "get", lambda w: reverse("programmes:referral-create", args=[w["company"].pk]), WRITERS, 200),
    ("referral-edit", "get", lambda w: reverse("programmes:referral-edit", args=[w["referral"].pk]), WRITERS, 200),
    ("referral-move", "post", lambda w: reverse("programmes:referral-move", args=[w["referral"].pk]), WRITERS, 302),
    ("interventions", "get", lambda w: reverse("programmes:interventions-project", args=[w["project"].pk]), READERS, 200),
    ("intervention", "get", lambda w: reverse("programmes:intervention", args=[w["intervention"].pk]), READERS, 200),
    ("intervention-create", "get", lambda w: reverse("programmes:intervention-create", args=[w["company"].pk]), WRITERS, 200),
    ("intervention-edit", "get", lambda w: reverse("programmes:intervention-edit", args=[w["intervention"].pk]), WRITERS, 200),
    ("intervention-approve", "get", lambda w: reverse("programmes:intervention-approve", args=[w["intervention"].pk]),
     APPROVERS, 200),
    ("intervention-move", "post", lambda w: reverse("programmes:intervention-move", args=[w["intervention"].pk]),
     WRITERS, 302),
    ("intervention-decision", "get", lambda w: reverse("programmes:intervention-decision", args=[w["documented"].pk]),
     READERS, 200),
    ("intervention-decision-upload", "post",
     lambda w: reverse("programmes:intervention-decision-upload", args=[w["documented"].pk]), APPROVERS, 302),
    ("follow-ups", "get", lambda w: reverse("programmes:follow-ups"), READERS, 200),
    ("follow-up-create", "get", lambda w: reverse("programmes:follow-up-create", args=[w["company"].pk]), WRITERS, 200),
    ("follow-up-done", "post", lambda w: reverse("programmes:follow-up-done", args=[w["follow_up"].pk]), WRITERS, 302),
]


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "allowed", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_permissions_per_role(as_role, world, role, name, method, url, allowed, ok):
    client = as_role(role)
    response = getattr(client, method)(url(world))
    if role == ANONYMOUS:
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == ok, response.content[:500]
    else:
        assert response.status_code == 403


# Views that find a record of a project: another project's member gets 404.
SCOPED = [e for e in ENDPOINTS if e[0] not in {"pipeline", "follow-ups", "referral-create", "intervention-create",
                                                 "follow-up-create"}]


@pytest.mark.parametrize(("name", "method", "url", "allowed", "ok"), SCOPED, ids=[e[0] for e in SCOPED])
def test_other_projects_are_not_found(as_role, world, name, method, url, allowed, ok):
    role = Role.PROJECT_MANAGER  # may do everything, but in another project
    client = as_role(role, member=False)
    make_project(client.user)
    assert getattr(client, method)(url(world)).status_code == 404


def test_not_a_member_of_any_project(as_role):
    client = as_role(Role.ADVISOR, member=False)
    response = client.get(reverse("programmes:pipeline"))
    assert response.status_code == 200
    assert "not a member of any project" in response.content.decode()


# --- The pipeline board ---------------------------------------------------------------------


def test_board_shows_columns_cards_and_only_allowed_moves(as_role, world):
    client = as_role(Role.ADVISOR)
    response = client.get(reverse("programmes:pipeline"))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    for column in ("Proposed", "Accepted", "Started", "Completed", "Declined", "Withdrawn"):
        assert f">{column} <span" in page
    card = page[page.index(f'id="referral-{world["referral"].pk}"'):]
    assert "Storsjöns Mekaniska AB" in card and "Produktionslyftet" in card
    assert 'name="status" value="accepted"' in card
    assert 'value="completed"' not in card[:card.index("</li>")]
    assert "Decline or withdraw" in card


def test_board_for_readers_has_no_move_buttons(as_role, world):
    client = as_role(Role.AUDITOR)
    page = client.get(reverse("programmes:pipeline-project", args=[world["project"].pk])).content.decode()
    assert "Storsjöns Mekaniska AB" in page
    assert "Move to" not in page


def test_board_filters(as_role, world, make_user):
    client = as_role(Role.ADVISOR)
    bo = make_user(Role.ADVISOR, first_name="Bo", last_name="Ek")
    world["project"].memberships.create(user=bo)
    make_referral(world["project"], CompanyFactory(name="Bos Bolag AB"), world["offer"], advisor=bo)
    url = reverse("programmes:pipeline-project", args=[world["project"].pk])
    page = client.get(url, {"advisor": bo.pk}).content.decode()
    assert "Bos Bolag AB" in page and "Storsjöns Mekaniska AB" not in page
    partial = client.get(url, {"advisor": bo.pk}, headers={"HX-Request": "true", "HX-Target": "pipeline-board"})
    assert partial.content.decode().startswith('<div id="pipeline-board"')


def _move(client, world, status, **extra):
    return client.post(
        reverse("programmes:referral-move", args=[world["referral"].pk]),
        {"status": status, "board": "1", **extra}, headers={"HX-Request": "true", "HX-Target": "pipeline-board"},
    )


def test_htmx_move_returns_the_board_with_the_card_in_its_new_column(as_role, world):
    client = as_role(Role.ADVISOR)
    response = _move(client, world, "accepted")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="pipeline-board"')
    assert "is now accepted" in html
    accepted = html[html.index('id="pipeline-col-accepted"'):html.index('id="pipeline-col-started"')]
    assert f'id="referral-{world["referral"].pk}" tabindex="-1" autofocus' in accepted
    world["referral"].refresh_from_db()
    assert world["referral"].status == ReferralStatus.ACCEPTED


def test_htmx_refused_move_says_why(as_role, world):
    client = as_role(Role.ADVISOR)
    html = _move(client, world, "completed").content.decode()
    assert 'role="alert"' in html
    assert "A referral that is proposed cannot become completed. It can become: accepted, declined, withdrawn." in html
    html = _move(client, world, "declined").content.decode()
    assert "Say why the referral is declined." in html
    world["referral"].refresh_from_db()
    assert world["referral"].status == ReferralStatus.PROPOSED
    html = _move(client, world, "declined", reason="Företaget avböjde").content.decode()
    assert "is now declined" in html


def test_move_without_javascript_redirects_back_with_a_message(as_role, world):
    client = as_role(Role.ADVISOR)
    board = reverse("programmes:pipeline-project", args=[world["project"].pk])
    url = reverse("programmes:referral-move", args=[world["referral"].pk])
    response = client.post(url, {"status": "started", "board": "1", "next": board}, follow=True)
    assert response.redirect_chain[-1][0] == board
    assert "A referral that is proposed cannot become started." in response.content.decode()
    response = client.post(url, {"status": "accepted", "next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("programmes:referral", args=[world["referral"].pk])
    assert "is now accepted" in response.content.decode()


# --- Referring ------------------------------------------------------------------------------


def test_refer_from_the_company_page(as_role, world):
    client = as_role(Role.ADVISOR)
    offer = make_offer(world["project"], title="Exportlyftet")
    url = reverse("programmes:referral-create", args=[world["company"].pk])
    page = client.get(url, {"offer": offer.pk}).content.decode()
    assert re.search(rf'<option value="{offer.pk}" selected>Exportlyftet \(sim2\)</option>', page)
    response = client.post(url, {"offer": offer.pk, "advisor": client.user.pk, "proposed_on": TODAY.isoformat(),
                                 "notes": "Intresserad"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("companies:detail", args=[world["company"].pk]) + "#routing"
    assert "was referred to Exportlyftet" in response.content.decode()
    referral = Referral.objects.get(offer=offer)
    assert (referral.advisor, referral.notes) == (client.user, "Intresserad")
    again = client.post(url, {"offer": offer.pk, "advisor": client.user.pk, "proposed_on": TODAY.isoformat()})
    assert again.status_code == 200
    assert "already has an open referral to Exportlyftet" in again.content.decode()


def test_offers_of_other_projects_cannot_be_chosen(as_role, world):
    client = as_role(Role.ADVISOR)
    foreign = make_offer(make_project(), title="Främmande")
    url = reverse("programmes:referral-create", args=[world["company"].pk])
    assert "Främmande" not in client.get(url).content.decode()
    response = client.post(url, {"offer": foreign.pk, "advisor": client.user.pk, "proposed_on": TODAY.isoformat()})
    assert response.status_code == 200
    assert not Referral.objects.filter(offer=foreign).exists()


def test_referral_detail_and_edit(as_role, world):
    client = as_role(Role.ADVISOR)
    page = client.get(reverse("programmes:referral", args=[world["referral"].pk])).content.decode()
    assert "Move to Accepted" in page and "Decline or withdraw" in page
    response = client.post(reverse("programmes:referral-edit", args=[world["referral"].pk]),
                           {"advisor": client.user.pk, "notes": "Möte 12/3"})
    assert response.status_code == 302
    world["referral"].refresh_from_db()
    assert (world["referral"].advisor, world["referral"].notes) == (client.user, "Möte 12/3")


# --- Interventions --------------------------------------------------------------------------


def test_create_and_edit_an_intervention(as_role, world):
    client = as_role(Role.ADVISOR)
    url = reverse("programmes:intervention-create", args=[world["company"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "project": world["project"].pk, "title": "Servitiseringsstöd", "budget_sek": "150 000", "own_cash_sek": "20000",
        "own_hours": "40", "support_form": "grant", "is_state_aid": "on", "aid_amount_sek": "150000,00",
    })
    intervention = Intervention.objects.get(title="Servitiseringsstöd")
    assert response.status_code == 302
    assert (intervention.budget_sek, intervention.own_hours, intervention.status) == (Decimal(150000), Decimal(40), "draft")
    edit = reverse("programmes:intervention-edit", args=[intervention.pk])
    client.post(edit, {"title": "Servitiseringsstöd", "budget_sek": "160000", "support_form": "grant",
                       "is_state_aid": "on", "aid_amount_sek": "160000", "results": "Nytt serviceavtal"})
    intervention.refresh_from_db()
    assert (intervention.budget_sek, intervention.results) == (Decimal(160000), "Nytt serviceavtal")


def test_approval_page_shows_the_checks_and_refuses_with_reasons(as_role, world):
    client = as_role(Role.FINANCE_OFFICER)
    make_intervention(world["project"], CompanyFactory(), status=InterventionStatus.APPROVED, budget=Decimal(950_000),
                      aid=None, is_state_aid=False, approved_on=TODAY)
    url = reverse("programmes:intervention-approve", args=[world["intervention"].pk])
    page = client.get(url).content.decode()
    assert "De minimis" in page and "would be exceeded" in page
    response = client.post(url, {"approved_on": TODAY.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The intervention cannot be approved:" in html
    # 950,000 plus the approved intervention of the world (100,000).
    assert "SEK 1,050,000.00 is committed" in html
    assert "SEK 0.00 remains" in html
    world["intervention"].refresh_from_db()
    assert world["intervention"].status == InterventionStatus.DRAFT


def test_approve_with_a_decision_document_and_download_it(as_role, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_role(Role.PROJECT_MANAGER)
    url = reverse("programmes:intervention-approve", args=[world["intervention"].pk])
    bad = client.post(url, {"approved_on": TODAY.isoformat(),
                            "decision_document": SimpleUploadedFile("beslut.exe", b"MZ")})
    assert "is none of these" in bad.content.decode()
    response = client.post(url, {"approved_on": TODAY.isoformat(),
                                 "decision_document": SimpleUploadedFile("beslut.pdf", PDF)})
    assert response.status_code == 302
    world["intervention"].refresh_from_db()
    assert world["intervention"].status == InterventionStatus.APPROVED
    download = client.get(reverse("programmes:intervention-decision", args=[world["intervention"].pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert 'attachment; filename="beslut.pdf"' in download["Content-Disposition"]
    # No document: 404, not a 500.
    assert client.get(reverse("programmes:intervention-decision", args=[make_intervention(
        world["project"], world["company"]).pk])).status_code == 404


def test_intervention_moves_and_refusals(as_role, world):
    client = as_role(Role.ADVISOR)
    url = reverse("programmes:intervention-move", args=[world["documented"].pk])
    response = client.post(url, {"status": "delivered"}, follow=True)
    assert "An intervention that is approved cannot become delivered." in response.content.decode()
    client.post(url, {"status": "in_progress"})
    response = client.post(url, {"status": "delivered"}, follow=True)
    assert "is now delivered" in response.content.decode()
    assert "A follow-up to book the T1 assessment was added." in response.content.decode()
    assert FollowUp.objects.filter(kind=FollowUp.Kind.T1_DUE, company=world["company"]).exists()
    response = client.post(reverse("programmes:intervention-move", args=[world["intervention"].pk]),
                           {"status": "cancelled"}, follow=True)
    assert "Say why the intervention is cancelled." in response.content.decode()


def test_intervention_list_shows_the_budget(as_role, world):
    client = as_role(Role.AUDITOR)
    page = client.get(reverse("programmes:interventions-project", args=[world["project"].pk])).content.decode()
    assert "Automationsanalys" in page and "Med beslut" in page
    assert "1,000,000.00" in page  # the budget
    filtered = client.get(reverse("programmes:interventions-project", args=[world["project"].pk]), {"status": "draft"})
    assert "Med beslut" not in filtered.content.decode()


# --- Follow-ups, company section, start page ------------------------------------------------


def test_follow_up_create_and_done(as_role, world):
    client = as_role(Role.ADVISOR)
    url = reverse("programmes:follow-up-create", args=[world["company"].pk])
    response = client.post(url, {"project": world["project"].pk, "title": "Ring efter styrelsemötet",
                                 "due_on": (TODAY + dt.timedelta(days=14)).isoformat(), "assigned_to": client.user.pk})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(title="Ring efter styrelsemötet")
    assert follow_up.assigned_to == client.user
    response = client.post(reverse("programmes:follow-up-done", args=[follow_up.pk]), follow=True)
    assert "is done" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


def test_company_section_with_timeline_and_follow_ups(as_role, world):
    client = as_role(Role.ADVISOR)
    Referral.objects.filter(pk=world["referral"].pk).update(status=ReferralStatus.ACCEPTED, accepted_on=TODAY)
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    section = page[page.index('id="routing"'):]
    assert "Referrals and interventions" in section
    assert "Refer to an offer" in section and "New intervention" in section and "New follow-up" in section
    assert "Produktionslyftet" in section and "Automationsanalys" in section
    assert "Referral to Produktionslyftet: Accepted" in section
    assert "Ring VD" in section


def test_company_section_read_only_for_auditors_and_hidden_from_company_side(as_role, world):
    auditor = as_role(Role.AUDITOR)
    page = auditor.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert 'id="routing"' in page and "Refer to an offer" not in page and "Mark done" not in page
    representative = as_role(Role.COMPANY_REPRESENTATIVE)
    page = representative.get(reverse("companies:detail", args=[world["represented"].pk])).content.decode()
    assert 'id="routing"' not in page


def test_start_page_lists_my_follow_ups_overdue_first_and_my_open_referrals(as_role, world):
    client = as_role(Role.ADVISOR)
    user = client.user
    for title, days in (("Senare", 5), ("Försenad", -3), ("Idag", 0)):
        FollowUp.objects.create(project=world["project"], company=world["company"], title=title,
                                due_on=TODAY + dt.timedelta(days=days), assigned_to=user)
    Referral.objects.filter(pk=world["referral"].pk).update(advisor=user)
    page = client.get(reverse("home")).content.decode()
    assert "My follow-ups" in page and "1 overdue" in page
    assert page.index("Försenad") < page.index("Idag") < page.index("Senare")
    assert "My open referrals" in page and "Storsjöns Mekaniska AB → Produktionslyftet" in page


def test_start_page_without_routing_for_company_side(as_role):
    for role in (Role.COMPANY_REPRESENTATIVE, Role.EDUCATION_PROVIDER):
        page = as_role(role).get(reverse("home")).content.decode()
        assert "My follow-ups" not in page and "My open referrals" not in page
