"""Shared pytest fixtures: users per role, a logged-in client per role, and browser settings."""

import os
import shutil

import pytest

from sim.core.roles import Role


def seed_reference_data() -> None:
    """The rows data migrations create (municipalities, SNI codes, focus areas)."""
    from sim.companies.reference_sync import reference_data_sync
    from sim.programmes.reference import focus_areas_sync

    reference_data_sync()
    focus_areas_sync()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test (browser journeys) ends with a flush that empties every table.

    Groups and instruments come back by themselves (post_migrate); the reference rows of data
    migrations do not, so put them back, after the flush, for the tests that follow on this worker.
    """
    result = yield
    marker = item.get_closest_marker("django_db")
    # After the last test the test database itself is gone: nothing to restore.
    if nextitem is not None and marker is not None and marker.kwargs.get("transaction"):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            seed_reference_data()
    return result


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """On PostgreSQL, end other sessions on the test database before it is dropped.

    A browser journey can leave one connection open after the test (opened in the last moments of
    the test, idle after a COMMIT, outside the main thread's connection: the live server and
    Playwright's event loop are involved). Django then cannot drop the test database ("is being
    accessed by other users") and leaves it behind; ending those sessions first lets it drop."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def make_user(db):
    from sim.core.tests.factories import UserFactory

    def make(role: Role | str | None = None, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def client_for(client, make_user):
    """`client_for(Role.ADVISOR)` → a test client logged in as a fresh user with that role."""

    def login(role, **kwargs):
        user = make_user(role, **kwargs)
        client.force_login(user)
        client.user = user
        return client

    return login


def chromium_path() -> str | None:
    return os.environ.get("SIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    if chromium_path() or os.environ.get("SIM_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason="no Chromium on this machine (apt-get install chromium); CI installs it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


BROWSER_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls are fine.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if not path:
        pytest.fail("Chromium is required for browser tests (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
