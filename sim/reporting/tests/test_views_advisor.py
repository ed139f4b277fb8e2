"""The advisor's view: my companies (supported since when, or hours to go), my open referrals, my
follow-ups due within two weeks; who may open it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sim.activities.models import Activity
from sim.companies.tests.factories import CompanyFactory
from sim.core.roles import Role
from sim.programmes.models import FollowUp, ReferralStatus
from sim.programmes.tests.routing_builders import ANONYMOUS, english_settings, make_offer

from .builders import build_world, make_referral

pytestmark = pytest.mark.django_db
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.ADVISOR}


@pytest.fixture(autouse=True)
def english(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    with english_settings(settings):
        yield


@pytest.mark.parametrize("role", [*Role, ANONYMOUS], ids=str)
def test_permissions_per_role(client, make_user, role):
    world = build_world()
    if role != ANONYMOUS:
        user = make_user(role)
        if role != Role.ADMIN:
            world["project"].memberships.create(user=user)
        client.force_login(user)
    for url in (reverse("reporting:advisor-home"), reverse("reporting:advisor", args=[world["project"].pk])):
        response = client.get(url)
        if role == ANONYMOUS:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == ((302 if url.endswith("/mine/") and "projects" not in url else 200)
                                             if role in READERS else 403)


def rows(html: str, section: str) -> list[list[str]]:
    table = re.search(rf'data-section="{section}">(.*?)</table>', html, re.S).group(1).split("<tbody>")[1]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_my_companies_referrals_and_follow_ups(client, make_user):
    world = build_world()
    project = world["project"]
    anna = make_user(Role.ADVISOR)
    project.memberships.create(user=anna)
    world["alfa"].owner_advisor = anna
    world["alfa"].save()
    for activity in Activity.objects.filter(company=world["gamma"]):
        activity.advisors.add(anna)
    other = CompanyFactory(name="Zeta Ej Min AB")
    Activity.objects.create(project=project, company=other, date=dt.date(2024, 5, 1), hours=Decimal("3"))
    offer = make_offer(project, title="Exportlyftet")
    make_referral(project, world["gamma"], offer, advisor=anna, status=ReferralStatus.ACCEPTED)
    make_referral(project, world["delta"], offer, advisor=anna, status=ReferralStatus.COMPLETED,
                  started_on=dt.date(2025, 1, 1), completed_on=dt.date(2025, 2, 1))
    today = timezone.localdate()
    FollowUp.objects.create(project=project, company=world["alfa"], title="Ring VD", due_on=today - dt.timedelta(days=2),
                            assigned_to=anna)
    FollowUp.objects.create(project=project, company=world["alfa"], title="Långt fram", due_on=today + dt.timedelta(days=30),
                            assigned_to=anna)
    client.force_login(anna)
    html = client.get(reverse("reporting:advisor", args=[project.pk])).content.decode()
    companies = rows(html, "companies")
    assert [c[0] for c in companies] == ["Alfa Mekaniska AB", "Gamma Trä AB"]
    assert companies[0][4] == "2024-02-10"
    assert companies[1][2:] == ["11.50", "11.50", "not yet (0.50 h of activities to go)"]
    assert [r[:3] for r in rows(html, "referrals")] == [["Gamma Trä AB", "Exportlyftet", "Accepted"]]
    follow_ups = rows(html, "follow-ups")
    assert len(follow_ups) == 1 and "overdue" in follow_ups[0][0] and follow_ups[0][1] == "Ring VD"
