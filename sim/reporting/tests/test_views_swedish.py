"""The report in Swedish (the default language): the same figures with a decimal comma, on the page
and in the CSV export."""

import pytest
from django.urls import reverse

from sim.core.roles import Role

from .builders import build_world

pytestmark = pytest.mark.django_db


def test_swedish_page_and_csv(client, make_user, settings):
    settings.SIM_SME_SEK_PER_EUR = "10"
    world = build_world()
    user = make_user(Role.PROJECT_MANAGER)
    world["project"].memberships.create(user=user)
    client.force_login(user)
    html = client.get(reverse("reporting:report", args=[world["project"].pk])).content.decode()
    assert 'lang="sv"' in html
    assert "Företag som får stöd (varav mikro, små, medelstora, stora)" in html
    assert ">23,50<" in html and ">50000,00<" in html  # activity hours, private investment (SEK)
    text = client.get(reverse("reporting:export", args=[world["project"].pk, "csv"]), {"lang": "sv"}).content.decode("utf-8-sig")
    assert "RCR02;" in text and ";50000,00;" in text
    overview = client.get(reverse("reporting:overview", args=[world["project"].pk]))
    assert overview.status_code == 200
