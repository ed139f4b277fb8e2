"""Log-in, passwords, throttling, API tokens, security headers, CSRF and roles."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from sim.companies.models import Company, Contact, OwnershipLink
from sim.companies.tests.factories import (
    CompanyFactory,
    ContactFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
)
from sim.core import roles, services
from sim.core.models import ApiToken
from sim.core.roles import Role, sync_roles
from sim.core.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


# --- Log-in, log-out, passwords -------------------------------------------------------------


def test_login_page_renders_a_protected_form(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert reverse("password_reset") in html


def test_login_with_correct_password_then_logout(client, fast_hasher):
    user = UserFactory(username="anna", role=Role.ADVISOR)
    response = client.post(reverse("login"), {"username": "anna", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["user"] == user

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_login_with_wrong_password_shows_an_error(client, fast_hasher):
    UserFactory(username="anna")
    response = client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_redirects_to_next(client, fast_hasher):
    UserFactory(username="anna", role=Role.ADVISOR)
    response = client.post(
        reverse("login") + "?next=/companies/", {"username": "anna", "password": PASSWORD, "next": "/companies/"}
    )
    assert response["Location"] == "/companies/"


def test_pages_need_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_logout_by_get_is_refused(client, make_user, fast_hasher):
    client.force_login(make_user(Role.ADVISOR))
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_password_change(client, fast_hasher):
    user = UserFactory(username="anna")
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Nytt-lösenord-2025", "new_password2": "Nytt-lösenord-2025"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    user.refresh_from_db()
    assert user.check_password("Nytt-lösenord-2025")


def test_password_change_refuses_a_short_password(client, fast_hasher):
    user = UserFactory(username="anna")
    client.force_login(user)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "kort", "new_password2": "kort"}
    )
    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_by_mail(client, fast_hasher):
    user = UserFactory(username="anna", email="anna@example.org")
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "anna@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert client.get(reverse("password_reset_done")).status_code == 200

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.org"]
    assert message.subject == "Reset your SIM password"
    assert "anna" in message.body
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)

    response = client.get(link)
    assert response.status_code == 302  # to the URL with the token replaced by "set-password"
    set_password_url = response["Location"]
    form = client.get(set_password_url)
    assert form.status_code == 200
    assert form.context["validlink"] is True
    response = client.post(
        set_password_url, {"new_password1": "Återställt-2025!", "new_password2": "Återställt-2025!"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Återställt-2025!")


def test_password_reset_for_an_unknown_address_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302  # no hint whether the address exists
    assert mail.outbox == []


def test_argon2_is_the_password_hasher(settings):
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    user = UserFactory()
    assert user.password.startswith("argon2$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(PASSWORD)


# --- Throttling (django-axes) ---------------------------------------------------------------


def test_login_is_locked_after_the_failure_limit(client, settings, fast_hasher):
    UserFactory(username="anna")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
    assert response.status_code == 429
    # Even the right password is refused while locked.
    response = client.post(reverse("login"), {"username": "anna", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count(client, settings, fast_hasher):
    UserFactory(username="anna")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
    assert client.post(reverse("login"), {"username": "anna", "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
    assert response.status_code == 200


def test_lockout_is_per_username(client, settings, fast_hasher):
    UserFactory(username="anna")
    UserFactory(username="bertil")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "anna", "password": "wrong-password"})
    assert client.post(reverse("login"), {"username": "bertil", "password": PASSWORD}).status_code == 302


# --- API tokens -----------------------------------------------------------------------------


def test_api_token_create_stores_only_a_digest(make_user, fast_hasher):
    user = make_user(Role.ADVISOR)
    token, secret = services.api_token_create(user, "  Ekonomisystemet  ")
    assert secret.startswith("sim_") and len(secret) > 40
    assert token.name == "Ekonomisystemet"
    assert token.prefix == secret[4:12]
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == ApiToken.hash_secret(secret)
    assert secret not in {stored.digest, stored.prefix, stored.name}
    assert dt.timedelta(days=364) < stored.expires_at - timezone.now() <= dt.timedelta(days=365)
    assert services.api_token_authenticate(secret) == user


def test_api_token_without_expiry(make_user, fast_hasher):
    token, secret = services.api_token_create(make_user(), "", valid_days=None)
    assert token.expires_at is None
    assert token.name == "API"
    assert services.api_token_authenticate(secret) is not None


@pytest.mark.parametrize("secret", ["", "wrong", "sim_not-a-real-token", "Bearer sim_x"])
def test_unknown_secrets_authenticate_nobody(secret, make_user, fast_hasher):
    services.api_token_create(make_user(), "x")
    assert services.api_token_authenticate(secret) is None


def test_revoked_token_is_refused(make_user, fast_hasher):
    token, secret = services.api_token_create(make_user(), "x")
    services.api_token_revoke(token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not token.is_active
    assert services.api_token_authenticate(secret) is None
    revoked_at = token.revoked_at
    services.api_token_revoke(token)  # again: keeps the first date
    token.refresh_from_db()
    assert token.revoked_at == revoked_at


def test_expired_token_is_refused(make_user, fast_hasher):
    token, secret = services.api_token_create(make_user(), "x")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.api_token_authenticate(secret) is None


def test_token_of_a_deactivated_user_is_refused(make_user, fast_hasher):
    user = make_user(Role.ADVISOR)
    _token, secret = services.api_token_create(user, "x")
    user.is_active = False
    user.save()
    assert services.api_token_authenticate(secret) is None


def test_token_use_is_recorded(make_user, fast_hasher):
    token, secret = services.api_token_create(make_user(), "x")
    assert token.last_used_at is None
    services.api_token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_page_shows_a_new_secret_once(client_for, fast_hasher):
    client = client_for(Role.ADVISOR)
    response = client.post(reverse("api-tokens"), {"name": "Ekonomisystemet"}, follow=True)
    assert response.redirect_chain == [(reverse("api-tokens"), 302)]
    secret = response.context["new_secret"]
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=client.user)
    assert token.digest == ApiToken.hash_secret(secret)
    again = client.get(reverse("api-tokens"))
    html = again.content.decode()
    assert secret not in html
    assert "Ekonomisystemet" in html and f"sim_{token.prefix}" in html


def test_token_page_needs_a_name(client_for, fast_hasher):
    client = client_for(Role.ADVISOR)
    response = client.post(reverse("api-tokens"), {"name": "  "}, follow=True)
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_revoke_view_and_the_api_refuses_it(client_for, fast_hasher):
    client = client_for(Role.ADVISOR)
    token, secret = services.api_token_create(client.user, "x")
    api = Client()
    assert api.get("/api/companies/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/companies/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_expired_token_gets_401_from_the_api(make_user, fast_hasher):
    token, secret = services.api_token_create(make_user(Role.ADVISOR), "x")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = Client().get("/api/companies/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required."}


def test_nobody_can_revoke_someone_elses_token(client_for, make_user, fast_hasher):
    token, _secret = services.api_token_create(make_user(Role.ADVISOR), "x")
    client = client_for(Role.ADMIN)
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_revoke_needs_post(client_for, fast_hasher):
    client = client_for(Role.ADVISOR)
    token, _secret = services.api_token_create(client.user, "x")
    assert client.get(reverse("api-token-revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


# --- Security headers -----------------------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/companies/", "/api/docs"])
def test_security_headers(client, make_user, path, fast_hasher):
    if path != "/accounts/login/":
        client.force_login(make_user(Role.ADVISOR))
    response = client.get(path)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("style-src", [])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client_for, fast_hasher):
    client = client_for(Role.ADMIN)
    company = CompanyFactory()
    ContactFactory(company=company)
    KeyFiguresFactory(company=company)
    for path in ["/", "/companies/", f"/companies/{company.pk}/", "/companies/new/", reverse("api-tokens")]:
        html = client.get(path).content.decode()
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            assert "src=" in attributes and not body.strip(), f"inline script on {path}"
        assert " style=" not in html, f"inline style on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"


def test_api_docs_need_no_inline_script(client):
    html = client.get("/api/docs").content.decode()
    for attributes, _body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes
    assert "cdn." not in html  # no CDN at run time


# --- CSRF -----------------------------------------------------------------------------------


def test_login_post_needs_csrf(csrf_client, fast_hasher):
    UserFactory(username="anna")
    response = csrf_client.post(reverse("login"), {"username": "anna", "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()


def test_password_reset_post_needs_csrf(csrf_client, fast_hasher):
    UserFactory(email="anna@example.org")
    assert csrf_client.post(reverse("password_reset"), {"email": "anna@example.org"}).status_code == 403
    assert mail.outbox == []


def _post_urls(company, contact, link, token):
    return [
        reverse("logout"),
        reverse("password_change"),
        reverse("set_language"),
        reverse("api-tokens"),
        reverse("api-token-revoke", args=[token.pk]),
        reverse("companies:create"),
        reverse("companies:import"),
        reverse("companies:edit", args=[company.pk]),
        reverse("companies:archive", args=[company.pk]),
        reverse("companies:key-figures-add", args=[company.pk]),
        reverse("companies:key-figures-edit", args=[company.pk, 2024]),
        reverse("companies:ownership-add", args=[company.pk]),
        reverse("companies:ownership-remove", args=[company.pk, link.pk]),
        reverse("companies:contact-add", args=[company.pk]),
        reverse("companies:contact-edit", args=[company.pk, contact.pk]),
        reverse("companies:contact-archive", args=[company.pk, contact.pk]),
        reverse("companies:contact-erase", args=[company.pk, contact.pk]),
        reverse("companies:merge", args=[company.pk, link.holder_id]),
    ]


def test_every_post_form_needs_csrf(csrf_client, make_user, fast_hasher):
    admin = make_user(Role.ADMIN)
    csrf_client.force_login(admin)
    company = CompanyFactory()
    contact = ContactFactory(company=company, name="Kvarstående Kontakt")
    KeyFiguresFactory(company=company, fiscal_year=2024)
    link = OwnershipLinkFactory(held=company)
    token, _secret = services.api_token_create(admin, "x")
    for url in _post_urls(company, contact, link, token):
        response = csrf_client.post(url, {"name": "Ändrat AB", "reason": "x", "survivor": str(company.pk)})
        assert response.status_code == 403, url
        assert "CSRF" in response.content.decode(), url
    company.refresh_from_db()
    assert company.status == "active" and company.merged_into_id is None
    assert Contact.objects.get(pk=contact.pk).name == "Kvarstående Kontakt"
    assert OwnershipLink.objects.filter(pk=link.pk).exists()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert csrf_client.get(reverse("home")).status_code == 200  # still logged in


def test_api_writes_with_a_session_need_csrf(csrf_client, make_user, fast_hasher):
    csrf_client.force_login(make_user(Role.ADVISOR))
    count = Company.objects.count()
    response = csrf_client.post(
        "/api/companies/", {"org_number": "556036-0793", "name": "Utan Token AB"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Company.objects.count() == count


def test_api_writes_with_a_token_need_no_csrf(make_user, fast_hasher):
    _token, secret = services.api_token_create(make_user(Role.ADVISOR), "x")
    response = Client(enforce_csrf_checks=True).post(
        "/api/companies/", {"org_number": "556036-0793", "name": "Med Token AB"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201, response.content
    assert Company.objects.filter(name="Med Token AB").exists()


def test_a_form_posted_with_its_token_works(csrf_client, make_user, fast_hasher):
    csrf_client.force_login(make_user(Role.ADVISOR))
    page = csrf_client.get(reverse("api-tokens")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = csrf_client.post(reverse("api-tokens"), {"name": "Med token", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ApiToken.objects.filter(name="Med token").exists()


def test_every_rendered_post_form_carries_a_csrf_token(client_for, fast_hasher):
    client = client_for(Role.ADMIN)
    company = CompanyFactory()
    ContactFactory(company=company)
    KeyFiguresFactory(company=company)
    OwnershipLinkFactory(held=company)
    services.api_token_create(client.user, "x")
    pages = [f"/companies/{company.pk}/", reverse("api-tokens"), "/companies/new/", f"/companies/{company.pk}/archive/"]
    found = 0
    for path in pages:
        html = client.get(path).content.decode()
        for form in re.findall(r'<form[^>]*method="post".*?</form>', html, flags=re.S | re.I):
            found += 1
            assert "csrfmiddlewaretoken" in form, f"{path}: {form[:120]}"
    assert found >= 8


# --- Roles ----------------------------------------------------------------------------------


def test_sync_roles_creates_one_group_per_role():
    Group.objects.all().delete()
    sync_roles()
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(role.value for role in Role)
    sync_roles()  # idempotent
    assert Group.objects.count() == len(Role)


def _perms(role: Role) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=role.value).permissions.select_related("content_type")
    }


def test_groups_get_exactly_the_declared_permissions():
    sync_roles()
    declared = roles.declared_role_permissions()
    for role in Role:
        if role is not Role.ADMIN:
            assert _perms(role) == declared[role], role
    assert "companies.add_company" in _perms(Role.ADVISOR)
    assert "companies.change_company" not in _perms(Role.AUDITOR)
    # Education providers work on their own offerings and the anonymised demand picture only.
    assert not any(p.startswith(("companies.", "assessments.", "programmes.", "finance.")) for p in _perms(Role.EDUCATION_PROVIDER))
    admin = _perms(Role.ADMIN)
    assert {"companies.merge_company", "companies.erase_contact", "auth.add_user"} <= admin
    assert not any(p.startswith(("sessions.", "admin.")) for p in admin)


def test_sync_roles_removes_permissions_added_by_hand():
    group = Group.objects.get(name=Role.AUDITOR.value)
    group.permissions.add(Permission.objects.get(codename="change_company"))
    sync_roles()
    assert "companies.change_company" not in _perms(Role.AUDITOR)


def test_sync_roles_refuses_unknown_permissions(monkeypatch):
    declared = roles.declared_role_permissions()
    declared[Role.ADVISOR].add("companies.fly_company")
    monkeypatch.setattr(roles, "declared_role_permissions", lambda: declared)
    with pytest.raises(LookupError, match="fly_company"):
        sync_roles()


def test_user_roles_and_superusers(make_user, fast_hasher):
    advisor = make_user(Role.ADVISOR)
    assert roles.user_roles(advisor) == {Role.ADVISOR}
    assert roles.has_role(advisor, Role.ADVISOR, Role.AUDITOR)
    assert not roles.has_role(advisor, Role.ADMIN)
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    assert Role.ADMIN in roles.user_roles(superuser)
    from django.contrib.auth.models import AnonymousUser

    assert roles.user_roles(AnonymousUser()) == set()
