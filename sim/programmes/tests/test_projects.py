"""Projects: services (owner as partner, members, partners), pages per role, project scoping, switching."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sim.companies.models import County, Municipality
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import services_projects as services
from sim.programmes.models import FocusArea, Organisation, Project, ProjectMembership, ProjectPartner
from sim.programmes.projects import SESSION_KEY

from .project_helpers import ANONYMOUS, english, make_project, organisation

pytestmark = pytest.mark.django_db

ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
MANAGERS = {Role.ADMIN, Role.PROJECT_MANAGER}


@pytest.fixture(autouse=True)
def _english(settings):
    with english(settings):
        yield


@pytest.fixture
def login(client, make_user):
    def log_in(role, member_of=()):
        if role == ANONYMOUS:
            client.user = None
            return client
        user = make_user(role)
        for project in member_of:
            services.project_member_add(None, project, user)
        client.force_login(user)
        client.user = user
        return client

    return log_in


# --- Services ---------------------------------------------------------------------------------


def test_create_makes_owner_a_partner_creator_a_member_and_audits(make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    owner = organisation("Region Jämtland Härjedalen", Organisation.Kind.PUBLIC)
    project = services.project_create(manager, {
        "code": "sim", "name": "SIM", "start_date": dt.date(2019, 1, 1), "end_date": dt.date(2020, 12, 31),
        "extended_to": dt.date(2021, 12, 31), "owner": owner, "counties": list(County.objects.filter(code="23")),
        "focus_areas": list(FocusArea.objects.all()),
    })
    assert project.effective_end == dt.date(2021, 12, 31)
    assert list(project.partners.values_list("organisation__name", "role")) == [("Region Jämtland Härjedalen", "owner")]
    assert project.memberships.get().user == manager
    event = AuditEvent.objects.get(object_type="programmes.project", object_id=str(project.pk))
    assert event.action == "create" and event.changes["counties"]["after"] == ["23"]
    assert len(event.changes["focus_areas"]["after"]) == FocusArea.objects.count()


def test_period_rules_are_clear_errors():
    owner = organisation()
    base = {"code": "x", "name": "X", "owner": owner, "start_date": dt.date(2024, 1, 1)}
    with pytest.raises(ValidationError) as exc:
        services.project_create(None, {**base, "end_date": dt.date(2023, 1, 1)})
    assert "end_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.project_create(None, {**base, "end_date": dt.date(2025, 1, 1), "extended_to": dt.date(2024, 6, 1)})
    assert "extended_to" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.project_create(None, {**base, "end_date": dt.date(2025, 1, 1),
                                       "counties": list(County.objects.filter(code="23")),
                                       "municipalities": list(Municipality.objects.filter(code="2281"))})
    assert "municipalities" in exc.value.message_dict
    assert not Project.objects.exists()


def test_changing_owner_keeps_the_former_owner_as_partner(make_user):
    project = make_project()
    former = project.owner
    new = organisation("IUC Z-GROUP")
    services.project_update(None, project, {"owner": new})
    roles = dict(project.partners.values_list("organisation__name", "role"))
    assert roles == {former.name: "partner", "IUC Z-GROUP": "owner"}
    event = AuditEvent.objects.filter(object_type="programmes.project", action="update").get()
    assert event.changes["owner"] == {"before": former.pk, "after": new.pk}


def test_partners_and_members_rules(make_user):
    advisor = make_user(Role.ADVISOR)
    project = make_project()
    partner_org = organisation("IUC Z-GROUP")
    partner = services.project_partner_add(None, project, partner_org)
    with pytest.raises(ValidationError, match="already a partner"):
        services.project_partner_add(None, project, partner_org)
    membership = services.project_member_add(None, project, advisor, partner_org)
    with pytest.raises(ValidationError, match="already a member"):
        services.project_member_add(None, project, advisor)
    with pytest.raises(ValidationError, match="work for one of the project's partners"):
        services.project_member_add(None, project, make_user(Role.ADVISOR), organisation("Stranger AB"))
    with pytest.raises(ValidationError, match="Only staff"):
        services.project_member_add(None, project, make_user(Role.COMPANY_REPRESENTATIVE))
    with pytest.raises(ValidationError, match="members work in the project as staff"):
        services.project_partner_remove(None, partner)
    owner_partner = project.partners.get(role=ProjectPartner.Role.OWNER)
    with pytest.raises(ValidationError, match="project owner cannot be removed"):
        services.project_partner_remove(None, owner_partner)
    services.project_member_remove(None, membership)
    services.project_partner_remove(None, partner)
    assert not project.partners.filter(organisation=partner_org).exists()
    actions = list(AuditEvent.objects.filter(scope_type="programmes.project", scope_id=str(project.pk))
                   .values_list("object_type", "action"))
    assert ("programmes.projectmembership", "archive") in actions
    assert ("programmes.projectpartner", "archive") in actions


def test_last_manager_cannot_leave(make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    project = make_project(manager)
    membership = project.memberships.get(user=manager)
    with pytest.raises(ValidationError, match="only member who can manage"):
        services.project_member_remove(manager, membership)
    make_project()  # another project does not help
    services.project_member_add(None, project, make_user(Role.PROJECT_MANAGER))
    services.project_member_remove(manager, membership)
    assert not project.memberships.filter(user=manager).exists()


# --- Pages per role -----------------------------------------------------------------------------


def _expect(response, role, allowed):
    if role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif allowed:
        assert response.status_code == 200, (role, response.status_code)
    else:
        assert response.status_code == 403, (role, response.status_code)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_and_detail_per_role(login, role):
    project = make_project(name="SIM – Smart industriell modernisering")
    client = login(role, member_of=[project] if role in READERS - {Role.ADMIN} else [])
    response = client.get(reverse("programmes:project-list"))
    _expect(response, role, role in READERS)
    if role in READERS:
        assert "SIM – Smart industriell modernisering" in response.content.decode()
    response = client.get(reverse("programmes:project-detail", args=[project.pk]))
    _expect(response, role, role in READERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_management_pages_per_role(login, role):
    project = make_project()
    client = login(role, member_of=[project] if role in READERS - {Role.ADMIN} else [])
    for name, args in (("project-create", []), ("project-edit", [project.pk]), ("project-partners", [project.pk]),
                       ("project-members", [project.pk])):
        _expect(client.get(reverse(f"programmes:{name}", args=args)), role, role in MANAGERS)


def test_non_member_gets_404_admin_sees_all(login):
    mine, other = make_project(name="Mitt"), make_project(name="Annat")
    client = login(Role.PROJECT_MANAGER, member_of=[mine])
    listing = client.get(reverse("programmes:project-list")).content.decode()
    assert "Mitt" in listing and "Annat" not in listing
    for name in ("project-detail", "project-edit", "project-partners", "project-members"):
        assert client.get(reverse(f"programmes:{name}", args=[other.pk])).status_code == 404
    assert client.post(reverse("programmes:project-partner-remove", args=[other.pk, other.partners.get().pk])).status_code == 404
    admin = login(Role.ADMIN)
    assert admin.get(reverse("programmes:project-detail", args=[other.pk])).status_code == 200


def test_create_project_through_the_page(login):
    client = login(Role.PROJECT_MANAGER)
    response = client.post(reverse("programmes:project-create"), {
        "code": "sim-2", "name": "SIM 2", "start_date": "2025-01-01", "end_date": "2027-12-31", "status": "active",
        "new_owner": "Region Västernorrland", "counties": ["22", "23"],
        "focus_areas": [f.pk for f in FocusArea.objects.all()[:2]], "min_support_hours": "12",
    })
    assert response.status_code == 302
    project = Project.objects.get(code="sim-2")
    assert project.owner.name == "Region Västernorrland"
    assert set(project.counties.values_list("code", flat=True)) == {"22", "23"}
    assert project.memberships.filter(user=client.user).exists()
    assert client.session[SESSION_KEY] == project.pk
    page = client.get(reverse("programmes:project-detail", args=[project.pk])).content.decode()
    assert "Västernorrland" in page and "current project" in page


def test_create_page_shows_errors_not_500(login):
    client = login(Role.PROJECT_MANAGER)
    response = client.post(reverse("programmes:project-create"), {
        "code": "bad", "name": "Bad", "start_date": "2025-01-01", "end_date": "2024-01-01", "status": "active",
        "min_support_hours": "12",
    })
    assert response.status_code == 200
    text = response.content.decode()
    assert "Choose the project owner" in text


def test_partner_and_member_management_pages(login, make_user):
    project = make_project()
    client = login(Role.PROJECT_MANAGER, member_of=[project])
    response = client.post(reverse("programmes:project-partners", args=[project.pk]),
                           {"new_name": "IUC Z-GROUP", "new_kind": "development"})
    assert response.status_code == 302
    partner = project.partners.get(organisation__name="IUC Z-GROUP")
    advisor = make_user(Role.ADVISOR, first_name="Erik", last_name="Hansson")
    response = client.post(reverse("programmes:project-members", args=[project.pk]),
                           {"user": advisor.pk, "organisation": partner.organisation.pk})
    assert response.status_code == 302
    membership = project.memberships.get(user=advisor)
    assert membership.organisation == partner.organisation
    page = client.get(reverse("programmes:project-members", args=[project.pk])).content.decode()
    assert "Erik Hansson" in page
    # A representative is not offered as a member.
    rep = make_user(Role.COMPANY_REPRESENTATIVE)
    response = client.post(reverse("programmes:project-members", args=[project.pk]), {"user": rep.pk})
    assert response.status_code == 200 and not project.memberships.filter(user=rep).exists()
    # The partner with staff cannot be removed: a message, not an error page.
    response = client.post(reverse("programmes:project-partner-remove", args=[project.pk, partner.pk]), follow=True)
    assert "members work in the project" in response.content.decode()
    client.post(reverse("programmes:project-member-update", args=[project.pk, membership.pk]), {"organisation": ""})
    membership.refresh_from_db()
    assert membership.organisation is None
    client.post(reverse("programmes:project-member-remove", args=[project.pk, membership.pk]))
    assert not project.memberships.filter(user=advisor).exists()
    client.post(reverse("programmes:project-partner-remove", args=[project.pk, partner.pk]))
    assert not project.partners.filter(pk=partner.pk).exists()


# --- The current project ----------------------------------------------------------------------


def test_switch_only_to_own_projects_and_header_shows_switcher(login):
    first = make_project(name="Första", start=dt.date(2019, 1, 1), end=dt.date(2020, 12, 31), status="closed")
    second = make_project(name="Andra")
    other = make_project(name="Främmande")
    client = login(Role.ADVISOR, member_of=[first, second])
    page = client.get(reverse("home")).content.decode()
    assert 'id="project-select"' in page and "Främmande" not in page
    # The latest running project is current until the user chooses.
    assert client.session[SESSION_KEY] == second.pk
    response = client.post(reverse("programmes:project-switch"), {"project": first.pk, "next": "/companies/"})
    assert response.status_code == 302 and response["Location"] == "/companies/"
    assert client.session[SESSION_KEY] == first.pk
    assert client.post(reverse("programmes:project-switch"), {"project": other.pk}).status_code == 404
    assert client.post(reverse("programmes:project-switch"), {"project": "x"}).status_code == 404
    assert client.session[SESSION_KEY] == first.pk
    response = client.post(reverse("programmes:project-switch"), {"project": second.pk, "next": "https://evil.example/"})
    assert response["Location"] == reverse("programmes:project-list")
    assert client.get(reverse("programmes:project-switch")).status_code == 405


def test_header_has_no_switcher_without_projects(login):
    client = login(Role.COMPANY_REPRESENTATIVE)
    assert 'id="project-select"' not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.AUDITOR, Role.COMPANY_REPRESENTATIVE])
def test_navigation_links_follow_permissions(login, role):
    client = login(role)
    page = client.get(reverse("home")).content.decode()
    assert (reverse("programmes:project-list") in page) == (role in READERS)
    assert (reverse("activities:list") in page) == (role in READERS)
    assert (reverse("programmes:mailing-list") in page) == (role in READERS)


def test_membership_model_constraint_is_unique(make_user):
    user = make_user(Role.ADVISOR)
    project = make_project(user)
    assert ProjectMembership.objects.filter(project=project, user=user).count() == 1
