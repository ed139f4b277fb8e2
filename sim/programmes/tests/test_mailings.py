"""Outreach mailings: selection, legal basis and opt-out, the queue and its at-most-once sender,
the opt-out link, bounces, registrations, pages per role and project scoping."""

import datetime as dt
import io
import smtplib
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from sim.activities import services as activity_services
from sim.activities.models import Event
from sim.assessments.tests.helpers import GROWTH, complete_quickly, start
from sim.companies.models import LegalBasis
from sim.companies.tests.factories import CompanyFactory, ContactFactory, consent_contact
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import mailings
from sim.programmes.models import Mailing, MailingRecipient, Offer

from .project_helpers import ANONYMOUS, english, make_project

pytestmark = pytest.mark.django_db
Status = MailingRecipient.Status

ALL_ROLES = [*Role, ANONYMOUS]
READERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
WRITERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with english(settings):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR, email="erik@sim-demo.se")


@pytest.fixture
def world(advisor):
    """A project, three companies in Jämtland (one in Västernorrland) and contacts of every kind."""
    project = make_project(advisor)
    alpha = CompanyFactory(name="Alfa Mekaniska AB", sni_primary="25620")
    beta = CompanyFactory(name="Beta Plåt AB", sni_primary="25110")
    gamma = CompanyFactory(name="Gamma Trä AB", sni_primary="16230", municipality_id="2281")
    contacts = {
        "legit": ContactFactory(company=alpha, name="Anna Legit", email="anna@alfa.se"),
        "consent": consent_contact(company=alpha, name="Bo Samtycke", email="bo@alfa.se"),
        "opted": ContactFactory(company=alpha, name="Cilla Avregistrerad", email="cilla@alfa.se",
                                opted_out_at=timezone.now()),
        "archived": ContactFactory(company=beta, name="Dan Arkiv", email="dan@beta.se", archived_at=timezone.now()),
        "erased": ContactFactory(company=beta, name="Raderad", email="", erased_at=timezone.now()),
        "noemail": ContactFactory(company=beta, name="Eva Utanmejl", email=""),
        "dup": ContactFactory(company=beta, name="Frida Dubblett", email="ANNA@alfa.se"),
        "beta": consent_contact(company=beta, name="Gustav Beta", email="gustav@beta.se"),
        "gamma": ContactFactory(company=gamma, name="Hanna Gamma", email="hanna@gamma.se"),
    }
    return {"project": project, "alpha": alpha, "beta": beta, "gamma": gamma, "contacts": contacts}


def _mailing(world, advisor, **selection):
    legal_bases = selection.pop("legal_bases", list(mailings.DEFAULT_LEGAL_BASES))
    return mailings.mailing_create(
        advisor, world["project"], {"subject": "Inbjudan till Industrins dag", "body": "Hej {name} på {company}!"},
        mailings.Selection(filters=selection.pop("filters", {"county": "23"}), legal_bases=legal_bases, **selection),
    )


def _statuses(mailing):
    return {r.contact.name: (r.status, r.error) for r in mailing.recipients.select_related("contact")}


# --- Selection and recipients ---------------------------------------------------------------


def test_preview_and_queue_respect_opt_out_legal_basis_and_erasure(world, advisor):
    mailing = _mailing(world, advisor)
    preview = mailings.preview(advisor, mailing)
    assert preview["companies"] == 2 and preview["to_send"] == 3
    reasons = {r["code"]: r["count"] for r in preview["reasons"]}
    assert reasons == {"opted_out": 1, "archived": 1, "erased": 1, "no_email": 1, "duplicate_email": 1}
    counts = mailings.mailing_queue(advisor, mailing, base_url="https://sim.example.se/")
    assert counts == {"queued": 3, "skipped": 5}
    statuses = _statuses(mailing)
    assert {name for name, (status, _e) in statuses.items() if status == Status.QUEUED} == {
        "Anna Legit", "Bo Samtycke", "Gustav Beta"}
    assert statuses["Cilla Avregistrerad"] == (Status.SKIPPED, "The contact has opted out of mailings.")
    assert statuses["Dan Arkiv"][1] == "The contact is archived."
    assert statuses["Frida Dubblett"][1] == "Same address as another recipient of this mailing."
    assert "Hanna Gamma" not in statuses  # outside the selection
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.QUEUED and mailing.selection["base_url"] == "https://sim.example.se"
    event = AuditEvent.objects.filter(object_type="programmes.mailing", action="update").get()
    assert "3 recipients" in event.message


def test_consent_only_skips_legitimate_interest_with_the_reason(world, advisor):
    mailing = _mailing(world, advisor, legal_bases=[LegalBasis.CONSENT])
    mailings.mailing_queue(advisor, mailing)
    statuses = _statuses(mailing)
    assert statuses["Anna Legit"] == (
        Status.SKIPPED, "The contact's legal basis (Legitimate interest) is not allowed for this mailing.")
    # With Anna skipped, Frida's address is no longer a duplicate: it too lacks the basis.
    assert statuses["Frida Dubblett"][0] == Status.SKIPPED
    assert {n for n, (s, _e) in statuses.items() if s == Status.QUEUED} == {"Bo Samtycke", "Gustav Beta"}


def test_queue_twice_and_empty_selection_are_refused(world, advisor):
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    with pytest.raises(ValidationError, match="already been queued"):
        mailings.mailing_queue(advisor, mailing)
    assert mailing.recipients.count() == 8
    empty = _mailing(world, advisor, filters={"q": "Finns inte AB"})
    with pytest.raises(ValidationError, match="No contact in the selection"):
        mailings.mailing_queue(advisor, empty)
    empty.refresh_from_db()
    assert empty.status == Mailing.Status.DRAFT
    with pytest.raises(ValidationError, match="cannot be changed"):
        mailings.mailing_update(advisor, mailing, {"subject": "Ny"})


def test_without_growth_interview_filter(world, advisor):
    complete_quickly(advisor, start(advisor, world["alpha"], GROWTH))
    mailing = _mailing(world, advisor, without_growth_interview=True)
    assert {p.company.name for p in mailings.plan_recipients(advisor, mailing)} == {"Beta Plåt AB"}


def test_companies_an_offer_suits(world, advisor):
    offer = Offer.objects.create(project=world["project"], title_sv="Exportcheck",
                                 eligibility={"counties": ["22"]})
    mailing = _mailing(world, advisor, filters={}, offer_suits=offer.pk)
    # The project serves Jämtland (23): the Västernorrland company is outside its area.
    assert mailings.plan_recipients(advisor, mailing) == []
    offer.eligibility = {}
    offer.save()
    names = {p.company.name for p in mailings.plan_recipients(advisor, mailing)}
    assert names == {"Alfa Mekaniska AB", "Beta Plåt AB"}


def test_offer_and_event_must_be_of_the_project(world, advisor):
    other = make_project(advisor)
    foreign = Offer.objects.create(project=other, title_sv="Annat projekts erbjudande")
    with pytest.raises(ValidationError) as exc:
        mailings.mailing_create(advisor, world["project"], {"subject": "S", "body": "B", "offer": foreign},
                                mailings.Selection())
    assert "offer" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        mailings.mailing_create(advisor, world["project"], {"subject": "S", "body": "B"},
                                mailings.Selection(legal_bases=[]))
    assert "legal_bases" in exc.value.message_dict


# --- Sending ----------------------------------------------------------------------------------


def test_send_personalises_and_carries_a_working_opt_out_link(world, advisor, client):
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing, base_url="https://sim.example.se/")
    result = mailings.send_all()
    assert (result.sent, result.failed, result.retry) == (3, 0, 0)
    assert len(mail.outbox) == 3
    message = next(m for m in mail.outbox if m.to == ["anna@alfa.se"])
    recipient = mailing.recipients.get(email="anna@alfa.se")
    url = f"https://sim.example.se/programmes/optout/{recipient.opt_out_token}/"
    assert "Hej Anna Legit på Alfa Mekaniska AB!" in message.body
    assert url in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.reply_to == ["erik@sim-demo.se"]
    recipient.refresh_from_db()
    assert recipient.status == Status.SENT and recipient.attempts == 1 and recipient.sent_at is not None
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
    assert AuditEvent.objects.filter(object_type="programmes.mailing", message__startswith="Sending finished").exists()
    # The link works: confirm page first (a mail scanner's GET changes nothing), then the opt-out.
    path = url.removeprefix("https://sim.example.se")
    page = client.get(path)
    assert page.status_code == 200 and "anna@alfa.se" in page.content.decode()
    contact = world["contacts"]["legit"]
    contact.refresh_from_db()
    assert contact.opted_out_at is None
    done = client.post(path)
    assert done.status_code == 200 and "will receive no more invitations" in done.content.decode()
    contact.refresh_from_db()
    assert contact.opted_out_at is not None
    event = AuditEvent.objects.get(object_type="companies.contact", object_id=str(contact.pk), action="update")
    assert event.actor is None and event.scope_id == str(world["alpha"].pk)
    assert "Inbjudan till Industrins dag" in event.message and "opted_out_at" in event.changes
    # Idempotent, and a later mailing skips the contact.
    assert "already the case" in client.post(path).content.decode()
    assert AuditEvent.objects.filter(object_type="companies.contact", object_id=str(contact.pk)).count() == 1
    later = _mailing(world, advisor)
    mailings.mailing_queue(advisor, later)
    assert _statuses(later)["Anna Legit"][0] == Status.SKIPPED


def test_one_click_opt_out_and_invalid_token(world, advisor, client):
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    recipient = mailing.recipients.filter(status=Status.QUEUED).first()
    # RFC 8058: the mail client posts without a CSRF token.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("programmes:optout", args=[recipient.opt_out_token]),
                           {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    recipient.contact.refresh_from_db()
    assert recipient.contact.opted_out_at is not None
    assert client.get(reverse("programmes:optout", args=["nonsense"])).status_code == 404
    assert client.get(reverse("programmes:optout", args=["x" * 80])).status_code == 404


def test_retry_never_sends_twice(world, advisor):
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    mailings.send_all()
    assert len(mail.outbox) == 3
    again = mailings.send_all()
    assert again.claimed == 0 and len(mail.outbox) == 3
    call_command("send_mailings", stdout=io.StringIO())
    assert len(mail.outbox) == 3


def test_interrupted_send_is_not_repeated_until_released(world, advisor):
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    claimed = mailings._claim(2)  # a sender that claims and then dies
    assert len(claimed) == 2
    result = mailings.send_all()
    assert result.sent == 1 and len(mail.outbox) == 1
    assert set(mail.outbox[0].to).isdisjoint({r.email for r in claimed})
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.QUEUED  # not finished: two are unaccounted for
    assert mailings.interrupted().count() == 0  # too recent to call interrupted
    MailingRecipient.objects.filter(pk__in=[r.pk for r in claimed]).update(
        sent_at=timezone.now() - dt.timedelta(minutes=30))
    assert mailings.recipient_counts(mailing)["interrupted"] == 2
    out = io.StringIO()
    call_command("send_mailings", "--release-interrupted", "10", stdout=out)
    assert "2 interrupted" in out.getvalue()
    mailings.send_all()
    assert len(mail.outbox) == 3
    assert sorted(mailing.recipients.filter(status=Status.SENT).values_list("attempts", flat=True)) == [1, 2, 2]


class FlakyBackend:
    """A mail backend that fails the first ``failures`` sends with ``error``."""

    failures = 0
    error: Exception = smtplib.SMTPServerDisconnected("connection lost")
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise FlakyBackend.error
        FlakyBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.sent = []
    FlakyBackend.failures = 0
    FlakyBackend.error = smtplib.SMTPServerDisconnected("connection lost")
    return FlakyBackend


def _only_gustav(world):
    from sim.companies.models import Contact

    Contact.objects.filter(pk=world["contacts"]["dup"].pk).update(archived_at=timezone.now())


def test_transient_failures_are_retried_then_failed(world, advisor, flaky):
    _only_gustav(world)
    mailing = _mailing(world, advisor, filters={"q": "Beta"})
    mailings.mailing_queue(advisor, mailing)
    recipient = mailing.recipients.get(status=Status.QUEUED)
    flaky.failures = 1
    result = mailings.send_queued()
    assert (result.retry, result.sent) == (1, 0)
    recipient.refresh_from_db()
    assert recipient.status == Status.QUEUED and recipient.sent_at is None and "connection lost" in recipient.error
    mailings.send_queued()
    recipient.refresh_from_db()
    assert recipient.status == Status.SENT and recipient.attempts == 2 and recipient.error == ""
    assert len(flaky.sent) == 1
    # Always failing: failed after MAX_ATTEMPTS.
    other = _mailing(world, advisor, filters={"q": "Beta"})
    mailings.mailing_queue(advisor, other)
    flaky.failures = 99
    for _ in range(mailings.MAX_ATTEMPTS):
        mailings.send_queued()
    row = other.recipients.get(contact=recipient.contact)
    assert row.status == Status.FAILED and row.attempts == mailings.MAX_ATTEMPTS
    other.refresh_from_db()
    assert other.status == Mailing.Status.SENT  # finished: nothing left to try


def test_refused_address_fails_at_once(world, advisor, flaky):
    _only_gustav(world)
    mailing = _mailing(world, advisor, filters={"q": "Beta"})
    mailings.mailing_queue(advisor, mailing)
    flaky.failures = 1
    flaky.error = smtplib.SMTPRecipientsRefused({"gustav@beta.se": (550, b"no such user")})
    mailings.send_queued()
    row = mailing.recipients.get(email="gustav@beta.se")
    assert row.status == Status.FAILED and row.attempts == 1


def test_a_second_sender_takes_other_recipients_than_the_first(world, advisor):
    """Two senders interleaved: the second never takes what the first has claimed."""
    for n in range(6):
        ContactFactory(company=world["alpha"], name=f"Person {n}", email=f"p{n}@alfa.se")
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    queued = mailing.recipients.filter(status=Status.QUEUED).count()
    first = mailings._claim(4)  # sender A has claimed a batch and is still sending it
    second = mailings.send_all(batch_size=2)  # sender B runs meanwhile
    assert second.sent == queued - 4
    assert mailings.deliver(first).sent == 4  # A finishes
    assert mailings.deliver(first).sent == 0  # a replay of A's batch finds the rows no longer A's: sends nothing
    addresses = [m.to[0] for m in mail.outbox]
    assert len(addresses) == len(set(addresses)) == queued


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_recipient_once(world, advisor):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Shared-cache in-memory SQLite answers a concurrent writer with "table is locked" instead of
        # waiting; with a database file (busy timeout, IMMEDIATE transactions) the senders take turns.
        pytest.skip("concurrent threads need PostgreSQL or an SQLite file (SIM_TEST_SQLITE_NAME)")
    for n in range(30):
        ContactFactory(company=world["alpha"], name=f"Person {n}", email=f"p{n}@alfa.se")
    mailing = _mailing(world, advisor)
    mailings.mailing_queue(advisor, mailing)
    queued = mailing.recipients.filter(status=Status.QUEUED).count()
    barrier = threading.Barrier(3)
    errors = []

    def worker():
        try:
            barrier.wait()
            mailings.send_all(batch_size=4)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    mailings.send_all()  # whatever a busy database made a thread give up on
    addresses = [m.to[0] for m in mail.outbox]
    assert len(addresses) == len(set(addresses)) == queued
    assert mailing.recipients.filter(status=Status.SENT).count() == queued


def test_inline_sender_runs_after_commit_only_when_enabled(world, advisor, settings, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    started = []

    class FakeThread:
        def __init__(self, target, name, daemon):
            started.append((target, name, daemon))

        def start(self):
            pass

    monkeypatch.setattr(mailings.threading, "Thread", FakeThread)
    settings.SIM_MAIL_SEND_INLINE = False
    with django_capture_on_commit_callbacks(execute=True):
        mailings.mailing_queue(advisor, _mailing(world, advisor))
    assert started == []
    settings.SIM_MAIL_SEND_INLINE = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mailings.mailing_queue(advisor, _mailing(world, advisor))
    assert len(callbacks) == 1
    assert started == [(mailings._drain, "sim-mail-sender", True)]


# --- After sending: bounces, replies, registrations -------------------------------------------


def test_bounces_replies_and_registrations(world, advisor, client, tmp_path):
    project = world["project"]
    event = activity_services.event_create(advisor, project, {
        "title": "Industrins dag 2025", "kind": Event.Kind.INDUSTRY_DAY,
        "starts_at": timezone.now() + dt.timedelta(days=30), "capacity": 100,
    })
    mailing = mailings.mailing_create(
        advisor, project, {"subject": "Välkommen", "body": "Hej!", "event": event},
        mailings.Selection(filters={"county": "23"}))
    mailings.mailing_queue(advisor, mailing)
    mailings.send_all()
    assert f"Industrins dag 2025, {timezone.localtime(event.starts_at):%Y-%m-%d}" in mail.outbox[0].body
    # A registration by an invited contact marks the invitation.
    activity_services.registration_create(advisor, event, {"contact": world["contacts"]["consent"]})
    assert mailing.recipients.get(email="bo@alfa.se").status == Status.REGISTERED
    # Bounces from a list of addresses (command), and by hand on the page.
    bounce_file = tmp_path / "bounces.txt"
    bounce_file.write_text("GUSTAV@beta.se\nokand@example.se\n", encoding="utf-8")
    out = io.StringIO()
    call_command("mailing_bounces", str(bounce_file), "--mailing", str(mailing.pk), stdout=out)
    assert "1 recipients marked" in out.getvalue() and "okand@example.se" in out.getvalue()
    assert mailing.recipients.get(email="gustav@beta.se").status == Status.BOUNCED
    client.force_login(advisor)
    response = client.post(reverse("programmes:mailing-bounces", args=[mailing.pk]), {"addresses": "anna@alfa.se"})
    assert response.status_code == 302
    anna = mailing.recipients.get(email="anna@alfa.se")
    assert anna.status == Status.BOUNCED
    client.post(reverse("programmes:mailing-recipient-replied", args=[mailing.pk, anna.pk]))
    anna.refresh_from_db()
    assert anna.status == Status.REPLIED
    skipped = mailing.recipients.filter(status=Status.SKIPPED).first()
    response = client.post(reverse("programmes:mailing-recipient-replied", args=[mailing.pk, skipped.pk]), follow=True)
    assert "Only a sent invitation" in response.content.decode()
    counts = mailings.recipient_counts(mailing)
    assert (counts["registered"], counts["replied"], counts["bounced"], counts["skipped"]) == (1, 1, 1, 5)
    assert AuditEvent.objects.filter(object_type="programmes.mailingrecipient").count() == 4


# --- Pages per role and scoping ---------------------------------------------------------------


def _expect(response, role, allowed):
    if role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if allowed else 403), (role, response.status_code)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_pages_per_role(world, advisor, client, make_user, role):
    from sim.programmes import services_projects

    mailing = _mailing(world, advisor)
    if role != ANONYMOUS:
        user = make_user(role)
        if role in READERS - {Role.ADMIN}:
            services_projects.project_member_add(None, world["project"], user)
        client.force_login(user)
    _expect(client.get(reverse("programmes:mailing-list")), role, role in READERS)
    _expect(client.get(reverse("programmes:mailing-detail", args=[mailing.pk])), role, role in READERS)
    _expect(client.get(reverse("programmes:mailing-create")), role, role in WRITERS)
    _expect(client.get(reverse("programmes:mailing-edit", args=[mailing.pk])), role, role in WRITERS)
    response = client.post(reverse("programmes:mailing-queue", args=[mailing.pk]))
    if role in WRITERS:
        assert response.status_code == 302
        mailing.refresh_from_db()
        assert mailing.status == Mailing.Status.QUEUED
    elif role == ANONYMOUS:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403


def test_other_projects_mailings_are_404(world, advisor, client, make_user):
    mailing = _mailing(world, advisor)
    outsider = make_user(Role.ADVISOR)
    make_project(outsider)
    client.force_login(outsider)
    for name in ("mailing-detail", "mailing-edit"):
        assert client.get(reverse(f"programmes:{name}", args=[mailing.pk])).status_code == 404
    assert client.post(reverse("programmes:mailing-queue", args=[mailing.pk])).status_code == 404
    assert "Inbjudan" not in client.get(reverse("programmes:mailing-list")).content.decode()


def test_create_through_the_page_then_queue(world, advisor, client):
    client.force_login(advisor)
    page = client.get(reverse("programmes:mailing-create") + "?without_growth_interview=1")
    assert page.status_code == 200 and 'name="without_growth_interview"' in page.content.decode()
    response = client.post(reverse("programmes:mailing-create"), {
        "subject": "Produktionslyftet", "body": "Hej {name}", "legal_bases": ["consent", "legitimate_interest"],
        "county": "23", "without_growth_interview": "on",
    })
    assert response.status_code == 302
    mailing = Mailing.objects.get(subject="Produktionslyftet")
    assert mailing.selection["filters"] == {"county": "23"} and mailing.selection["without_growth_interview"]
    detail = client.get(response["Location"]).content.decode()
    assert "3 contacts at 2 selected companies" in detail and "The contact has opted out of mailings." in detail
    response = client.post(reverse("programmes:mailing-queue", args=[mailing.pk]), follow=True)
    text = response.content.decode()
    assert "Queued for 3 recipients" in text and "Gustav Beta" in text
    bad = client.post(reverse("programmes:mailing-create"), {"subject": "", "body": "", "legal_bases": []})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()


def test_worker_loop_stops_on_signal_and_survives_errors(world, advisor, monkeypatch):
    """``send_mailings --loop``: sends, keeps polling after an error, and stops when told to."""
    from sim.programmes.management.commands import send_mailings

    mailings.mailing_queue(advisor, _mailing(world, advisor))
    calls = {"n": 0}
    real = mailings.send_queued

    def flaky_send(batch_size):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(batch_size)

    handlers = {}
    monkeypatch.setattr(send_mailings.signal, "signal", lambda sig, handler: handlers.setdefault(sig, handler))

    def sleep(seconds):
        if calls["n"] >= 3:
            handlers[send_mailings.signal.SIGTERM](None, None)  # systemd stops the worker

    monkeypatch.setattr(send_mailings.mailings, "send_queued", flaky_send)
    monkeypatch.setattr(send_mailings.time, "sleep", sleep)
    out, err = io.StringIO(), io.StringIO()
    call_command("send_mailings", "--loop", "--interval", "1", stdout=out, stderr=err)
    assert "database went away" in err.getvalue()
    assert "sent 3" in out.getvalue() and len(mail.outbox) == 3
