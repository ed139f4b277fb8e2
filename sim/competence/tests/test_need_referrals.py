"""Referring a company to an education offering for one of its needs (issue 7: "matching
offerings nearby, to route people into"): the project's offer for the offering, the referral, the
audit trail, refusals, and who may do it."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.competence import services
from sim.competence.models import CompetenceNeed, NeedReferral, OfferingOffer, ProviderStaff
from sim.competence.tests import demand_world
from sim.competence.tests.demand_world import provider_with_staff
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes.models import Offer, Referral, ReferralStatus
from sim.programmes.tests.routing_builders import make_project

pytestmark = pytest.mark.django_db
concepts = demand_world.concepts
english = demand_world.english  # autouse: the tests read the English source texts
ANONYMOUS = "anonymous"


@pytest.fixture
def world(make_user, concepts):
    advisor = make_user(Role.ADVISOR)
    project = make_project(advisor, code="sim-test")
    company = CompanyFactory(name="Svetsverkstan AB")
    need = services.need_create(advisor, company, text="två svetsare MIG/MAG", people=2,
                                concept_ids=[concepts["welder"].pk])
    provider = provider_with_staff(None)
    offering = services.offering_create(advisor, provider, name="Svetsutbildning MIG/MAG", kind="komvux",
                                        distance=True, seats=12, concept_ids=[concepts["welder"].pk])
    return {"advisor": advisor, "project": project, "company": company, "need": need, "offering": offering,
            "provider": provider}


def test_refer_creates_the_projects_offer_once_and_a_proposed_referral(world, make_user):
    advisor, project, need, offering = world["advisor"], world["project"], world["need"], world["offering"]
    referral = services.need_refer(advisor, need, offering, project)
    assert (referral.company, referral.project, referral.status, referral.advisor) == (
        world["company"], project, ReferralStatus.PROPOSED, advisor)
    assert referral.notes == "Competence need: två svetsare MIG/MAG (2 people)"
    offer = referral.offer
    assert (offer.kind, offer.provider, offer.capacity, offer.title_sv, offer.project) == (
        Offer.Kind.COURSE, world["provider"], 12, "Svetsutbildning MIG/MAG", project)
    assert OfferingOffer.objects.get(offering=offering, project=project).offer == offer
    assert NeedReferral.objects.get(referral=referral).need == need
    # Another company referred to the same offering in the same project reuses the offer.
    other = services.need_create(advisor, CompanyFactory(), text="svetsare", concept_ids=[need.concepts.get().pk])
    second = services.need_refer(advisor, other, offering, project, notes="Två personer till hösten")
    assert second.offer == offer and second.notes == "Två personer till hösten"
    assert Offer.objects.filter(project=project).count() == 1
    # Every write is audited: the offer, both referrals and both needs.
    assert AuditEvent.objects.filter(object_type="programmes.offer", object_id=str(offer.pk), action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="programmes.referral", action="create").count() == 2
    assert AuditEvent.objects.filter(object_type="competence.competenceneed", object_id=str(need.pk),
                                     message__startswith="Referred to").count() == 1


def test_an_open_referral_is_not_made_twice(world):
    services.need_refer(world["advisor"], world["need"], world["offering"], world["project"])
    with pytest.raises(ValidationError) as exc:
        services.need_refer(world["advisor"], world["need"], world["offering"], world["project"])
    assert "already" in " ".join(exc.value.messages)
    assert Referral.objects.count() == 1 and NeedReferral.objects.count() == 1


def test_refusals_write_nothing(world, make_user):
    advisor, need, offering, project = world["advisor"], world["need"], world["offering"], world["project"]
    outsider = make_user(Role.ADVISOR)  # not a member of the project
    with pytest.raises(ValidationError, match="not a member"):
        services.need_refer(outsider, need, offering, project)
    services.need_update(advisor, need, status=CompetenceNeed.Status.MET)
    with pytest.raises(ValidationError, match="open need"):
        services.need_refer(advisor, need, offering, project)
    need.refresh_from_db()
    services.need_update(advisor, need, status=CompetenceNeed.Status.OPEN)
    services.offering_update(advisor, offering, active=False)
    with pytest.raises(ValidationError, match="no longer active"):
        services.need_refer(advisor, need, offering, project)
    assert not Offer.objects.exists() and not Referral.objects.exists() and not NeedReferral.objects.exists()


def test_a_started_referral_makes_the_company_supported(world):
    from sim.programmes import services as programmes
    from sim.reporting.selectors import facts_of

    referral = services.need_refer(world["advisor"], world["need"], world["offering"], world["project"])
    programmes.referral_move(world["advisor"], referral, ReferralStatus.ACCEPTED)
    programmes.referral_move(world["advisor"], referral, ReferralStatus.STARTED)
    assert world["company"].org_number in facts_of(world["project"]).enterprises


# --- the web flow ------------------------------------------------------------------------------


def url(world):
    return reverse("competence:need-refer", args=[world["need"].pk, world["offering"].pk])


def project_choices(page: str) -> list[tuple[str, str]]:
    """(project id, " selected" or "") of the form's project field (not the menu's project switcher)."""
    select = re.search(r'<select[^>]*id="id_project"[^>]*>.*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\d+)"( selected)?>', select)


def test_company_page_links_each_matching_offering_and_shows_referrals(client, world):
    client.force_login(world["advisor"])
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert f'href="{url(world)}"' in page
    client.post(url(world), {"project": world["project"].pk, "notes": ""})
    page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    referral = Referral.objects.get()
    assert reverse("programmes:referral", args=[referral.pk]) in page and "Svetsutbildning MIG/MAG (proposed)" in page


def test_refer_page_then_post_redirects_to_the_referral(client, world):
    client.force_login(world["advisor"])
    page = client.get(url(world)).content.decode()
    assert "Svetsutbildning MIG/MAG" in page and "två svetsare MIG/MAG" in page
    assert 'id="refer-not-matched"' not in page
    assert project_choices(page) == [(str(world["project"].pk), " selected")]
    response = client.post(url(world), {"project": world["project"].pk, "notes": "Kontakt: Anna"})
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("programmes:referral", args=[referral.pk])
    assert referral.notes == "Kontakt: Anna"
    detail = client.get(response["Location"]).content.decode()
    assert 'id="referral-need"' in detail and "två svetsare MIG/MAG" in detail and "Svetsutbildning MIG/MAG" in detail
    # A second try shows the refusal on the form and the earlier referral, and writes nothing.
    page = client.post(url(world), {"project": world["project"].pk}).content.decode()
    assert 'id="refer-earlier"' in page and "already" in page
    assert Referral.objects.count() == 1


def test_the_needs_project_is_proposed_and_closed_projects_are_not_offered(client, world, make_user):
    from sim.programmes.models import ProjectStatus

    advisor = world["advisor"]
    second = make_project(advisor, code="aaa-first-by-name", name="AAA andra projektet")
    closed = make_project(advisor, code="closed", name="Avslutat", status=ProjectStatus.CLOSED)
    client.force_login(advisor)

    def choices():
        return project_choices(client.get(url(world)).content.decode())

    # A need without a project: running projects by name, the first proposed; the closed one is not offered.
    CompetenceNeed.objects.filter(pk=world["need"].pk).update(project=None)
    assert choices() == [(str(second.pk), " selected"), (str(world["project"].pk), "")]
    assert str(closed.pk) not in dict(choices())
    CompetenceNeed.objects.filter(pk=world["need"].pk).update(project=world["project"])
    assert choices() == [(str(second.pk), ""), (str(world["project"].pk), " selected")]  # the need's own
    page = client.post(url(world), {"project": closed.pk}).content.decode()
    assert "Select a valid choice" in page and not Referral.objects.exists()


def test_refer_to_a_project_i_am_not_in_is_refused(client, world, make_user):
    client.force_login(world["advisor"])
    foreign = make_project(make_user(Role.PROJECT_MANAGER), code="other")
    page = client.post(url(world), {"project": foreign.pk}).content.decode()
    assert "Select a valid choice" in page and not Referral.objects.exists()


def test_unknown_need_or_offering_is_404(client, world):
    client.force_login(world["advisor"])
    assert client.get(reverse("competence:need-refer", args=[world["need"].pk, 999999])).status_code == 404
    assert client.get(reverse("competence:need-refer", args=[999999, world["offering"].pk])).status_code == 404


REFERRERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}


@pytest.mark.parametrize("role", [ANONYMOUS, *Role])
def test_who_may_refer(client, world, make_user, role):
    if role != ANONYMOUS:
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(company=world["company"], user=user)
        if role == Role.EDUCATION_PROVIDER:
            ProviderStaff.objects.create(user=user, provider=world["provider"])
        if role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        client.force_login(user)
    get = client.get(url(world))
    post = client.post(url(world), {"project": world["project"].pk})
    if role == ANONYMOUS:
        assert get.status_code == post.status_code == 302 and "/accounts/login/" in get["Location"]
    elif role in REFERRERS:
        assert get.status_code == 200 and post.status_code == 302
    else:
        assert get.status_code in (403, 404) and post.status_code in (403, 404)
    assert Referral.objects.count() == (1 if role in REFERRERS else 0)


def test_refer_page_in_swedish(client, world, settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "sv"
    client.force_login(world["advisor"])
    with translation.override("sv"):
        page = client.get(url(world), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Slussa in till en utbildning" in page and "Slussa in företaget" in page and "2 personer" in page


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [ANONYMOUS, *Role])
def test_api_refer_per_role(world, make_user, role):
    from django.test import Client

    from sim.core import services as core_services

    headers = {}
    if role != ANONYMOUS:
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(company=world["company"], user=user)
        if role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        _token, secret = core_services.api_token_create(user, "test")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = Client().post(f"/api/competence/needs/{world['need'].pk}/referrals/",
                             {"offering_id": world["offering"].pk, "project_id": world["project"].pk},
                             content_type="application/json", **headers)
    expected = 401 if role == ANONYMOUS else (201 if role in REFERRERS else 403)
    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        referral = Referral.objects.get()
        assert response.json() == {"referral_id": referral.pk, "offer_id": referral.offer_id,
                                   "project_id": world["project"].pk, "company_id": world["company"].pk,
                                   "offering_id": world["offering"].pk, "status": "proposed"}
        assert AuditEvent.objects.filter(object_type="programmes.referral", source="api").exists()
    else:
        assert not Referral.objects.exists()


def test_api_refer_refusals(world, make_user):
    from django.test import Client

    from sim.core import services as core_services

    _token, secret = core_services.api_token_create(world["advisor"], "test")
    client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def post(need_id, **payload):
        body = {"offering_id": world["offering"].pk, "project_id": world["project"].pk} | payload
        return client.post(f"/api/competence/needs/{need_id}/referrals/", body, content_type="application/json",
                           **headers)

    assert post(999999).status_code == 404
    assert "offering_id" in post(world["need"].pk, offering_id=999999).json()["detail"]
    foreign = make_project(make_user(Role.PROJECT_MANAGER), code="other")
    assert "project_id" in post(world["need"].pk, project_id=foreign.pk).json()["detail"]
    from sim.programmes.models import ProjectStatus

    closed = make_project(world["advisor"], code="closed", status=ProjectStatus.CLOSED)
    refused = post(world["need"].pk, project_id=closed.pk)
    assert refused.status_code == 422 and "running projects" in refused.json()["detail"]
    assert post(world["need"].pk).status_code == 201
    again = post(world["need"].pk)
    assert again.status_code == 422 and "already" in again.json()["detail"]
    assert Referral.objects.count() == 1
