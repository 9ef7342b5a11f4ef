"""Notifications to staff, delivered through a real SMTP server (aiosmtpd) and a real HTTP
server on the loopback interface, by the real worker command."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone

from jobs.models import Job
from notifications.models import Channel, NotificationPreference, NotificationSent
from notifications.services import NOTIFY_JOB, preference_address, preference_set
from notifications.tests.conftest import HostTable
from tests.personas import PersonAtRisk, Staff, open_case
from tests.plaintext_search import LogFile, database_places, log_record_places, needles_for, search_places


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def texts(self) -> list[str]:
        return [f"{message['subject']}\n{message.get_body().get_content()}" for _, message in self.messages]  # type: ignore[union-attr]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpInbox]:
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield inbox
    finally:
        controller.stop()


class Hooks:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def webhook() -> Iterator[tuple[str, Hooks]]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            hooks.posts.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hooks
    finally:
        server.shutdown()
        server.server_close()


def _open_case_and_commit(django_capture_on_commit_callbacks: Any, **details: Any) -> PersonAtRisk:
    with django_capture_on_commit_callbacks(execute=True):
        return open_case(**details)


def _secrets() -> dict[str, str]:
    marker = uuid.uuid4().hex
    return {
        "body": f"CANARY-message-{marker} КАНАРЕЙКА{marker}",
        "cover_phrase": f"CANARY-cover-{marker}",
        "contact_value": f"CANARY-contact-{marker}",
    }


def _run_worker() -> None:
    call_command("worker", "--once")


@pytest.mark.django_db
def test_a_new_case_is_emailed_to_key_holders_with_only_its_id_and_link(
    caseworker: Staff, coordinator: Staff, outsider: Staff, smtp: SmtpInbox, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    preference_set(member=outsider.member, channel=Channel.EMAIL, address="out@example.org", language="en")
    # The coordinator holds the key too but chose nothing: she gets nothing.
    secrets = _secrets()
    person = _open_case_and_commit(
        django_capture_on_commit_callbacks,
        body=secrets["body"],
        region="chechnya",
        cover_phrase=secrets["cover_phrase"],
        contact_kind="signal",
        contact_value=secrets["contact_value"],
    )
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.payload == {"case": person.case.pk, "event": "new_case"}

    _run_worker()

    assert [recipients for recipients, _ in smtp.messages] == [["cw@example.org"]]
    text = smtp.texts()[0]
    public_id = person.case.public_id
    assert public_id in text
    assert f"http://127.0.0.1:8001/cases/{public_id}/" in text
    for secret in (*secrets.values(), "chechnya", "Chechnya", "Чечн", "signal", "Signal"):
        for part in secret.split():
            assert part not in text, f"the notification carries {part!r}"
    job.refresh_from_db()
    assert job.done_at is not None
    assert list(NotificationSent.objects.values_list("member__username", flat=True)) == ["caseworker"]


@pytest.mark.django_db
def test_a_job_run_again_does_not_send_twice(
    caseworker: Staff, smtp: SmtpInbox, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="ru")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    # As if a worker died after sending but before marking the job done: the lease runs out.
    Job.objects.filter(kind=NOTIFY_JOB).update(done_at=None, run_at=timezone.now())
    _run_worker()
    assert len(smtp.messages) == 1
    assert Job.objects.get(kind=NOTIFY_JOB).done_at is not None


@pytest.mark.django_db
def test_a_refusing_smtp_server_leads_to_a_retry_not_a_crash(
    caseworker: Staff, smtp: SmtpInbox, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    smtp.refuse = True
    _run_worker()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is None and job.failed_at is None and job.attempts == 1
    assert job.last_error == "SMTPDataError 451"
    assert job.run_at > timezone.now()
    assert smtp.messages == [] and not NotificationSent.objects.exists()

    smtp.refuse = False
    Job.objects.filter(kind=NOTIFY_JOB).update(run_at=timezone.now() - timedelta(seconds=1))
    _run_worker()
    job.refresh_from_db()
    assert job.done_at is not None and job.attempts == 2
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_an_unreachable_smtp_server_leads_to_a_retry(
    caseworker: Staff, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", _free_port(), False
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is None and job.attempts == 1 and job.last_error.startswith("ConnectionRefusedError")


@pytest.mark.django_db
def test_a_webhook_gets_a_small_json_without_case_content(
    caseworker: Staff, outsider: Staff, webhook: tuple[str, Hooks], django_capture_on_commit_callbacks: Any
) -> None:
    url, hooks = webhook
    preference_set(member=caseworker.member, channel=Channel.WEBHOOK, address=url, language="en")
    preference_set(member=outsider.member, channel=Channel.WEBHOOK, address=url + "/outsider", language="en")
    secrets = _secrets()
    person = _open_case_and_commit(
        django_capture_on_commit_callbacks, body=secrets["body"], cover_phrase=secrets["cover_phrase"]
    )
    _run_worker()
    assert len(hooks.posts) == 1
    path, payload = hooks.posts[0]
    assert path == "/hook"
    public_id = person.case.public_id
    assert payload == {
        "event": "new_case",
        "case": public_id,
        "url": f"http://127.0.0.1:8001/cases/{public_id}/",
        "text": f"New case {public_id} needs attention",
    }


@pytest.mark.django_db
def test_only_the_first_duress_login_notifies(
    person: PersonAtRisk, caseworker: Staff, webhook: tuple[str, Hooks], django_capture_on_commit_callbacks: Any
) -> None:
    url, hooks = webhook
    preference_set(member=caseworker.member, channel=Channel.WEBHOOK, address=url, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        person.intake(duress=True)
        person.intake(duress=True)
        person.intake()
    jobs = list(Job.objects.filter(kind=NOTIFY_JOB))
    assert [job.payload for job in jobs] == [{"case": person.case.pk, "event": "duress"}]
    _run_worker()
    assert [payload["event"] for _, payload in hooks.posts] == ["duress"]
    assert hooks.posts[0][1]["text"] == f"Duress: case {person.case.public_id} needs attention"


@pytest.mark.django_db
def test_an_inactive_member_is_not_notified(
    caseworker: Staff, webhook: tuple[str, Hooks], django_capture_on_commit_callbacks: Any
) -> None:
    url, hooks = webhook
    preference_set(member=caseworker.member, channel=Channel.WEBHOOK, address=url, language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    type(caseworker.member).objects.filter(pk=caseworker.member.pk).update(is_active=False)
    _run_worker()
    assert hooks.posts == []


# --- the preferences page ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("en", "Notifications"), ("ru", "Оповещения")])
def test_the_page_speaks_the_members_language(caseworker: Staff, language: str, title: str) -> None:
    page = caseworker.console(language=language).get("/account/notifications/")
    assert page.status_code == 200
    assert f"<h1>{title}</h1>" in page.content.decode()


@pytest.mark.django_db
def test_an_address_is_stored_encrypted_and_read_back(caseworker: Staff) -> None:
    client = caseworker.console(language="en")
    response = client.post("/account/notifications/", {"channel": "email", "address": " cw-secret@example.org "})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(member=caseworker.member)
    assert b"cw-secret" not in bytes(preference.address_ct)
    assert preference_address(preference) == "cw-secret@example.org"
    assert preference.language == "en"
    assert "cw-secret@example.org" in client.get("/account/notifications/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "form", "error"),
    [
        ("en", {"channel": "email", "address": "not an address"}, "Enter a valid e-mail address."),
        ("en", {"channel": "email", "address": ""}, "Enter where to send notifications."),
        ("en", {"channel": "webhook", "address": "http://93.184.215.14/hook"}, "Enter a valid https:// URL."),
        ("en", {"channel": "webhook", "address": "ftp://example.org/"}, "Enter a valid https:// URL."),
        ("ru", {"channel": "email", "address": "not an address"}, "Введите правильный адрес электронной почты."),
    ],
)
def test_a_bad_address_is_refused_with_a_clear_message(
    caseworker: Staff, language: str, form: dict[str, str], error: str
) -> None:
    response = caseworker.console(language=language).post("/account/notifications/", form)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_https_and_loopback_webhooks_are_accepted(caseworker: Staff, dns: HostTable) -> None:
    dns.names["hooks.example.org"] = ["93.184.215.14"]
    client = caseworker.console(language="en")
    for url in ("https://hooks.example.org/x", "http://127.0.0.1:9000/hook"):
        assert client.post("/account/notifications/", {"channel": "webhook", "address": url}).status_code == 302
        assert preference_address(NotificationPreference.objects.get()) == url


class RefusingRecipients(SmtpInbox):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.1.1 No such user"


@pytest.mark.django_db(transaction=True)
def test_a_staff_address_is_never_in_plaintext_in_the_database_or_logs(
    caseworker: Staff, settings: Any, all_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Canary-style: the address goes in through the real page, a notification to it fails in
    a way whose exception message quotes it, and the raw database and every log are searched."""
    log_file = LogFile()
    address = f"canary-{uuid.uuid4().hex}@example.org"
    client = caseworker.console(language="en")
    assert client.post("/account/notifications/", {"channel": "email", "address": address}).status_code == 302
    # aiosmtpd logs what it receives; it stands for the remote mail server, whose logs are not ours.
    monkeypatch.setattr(logging.getLogger("mail.log"), "disabled", True)
    controller = Controller(RefusingRecipients(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    try:
        person = open_case()  # committed: the notification job is queued for real
        _run_worker()
    finally:
        controller.stop()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.payload == {"case": person.case.pk, "event": "new_case"}
    assert job.attempts == 1 and job.last_error == "SMTPRecipientsRefused"
    # Control: the address is stored, so the search below looks where it is.
    assert preference_address(NotificationPreference.objects.get()) == address

    places = [*database_places(), *log_file.places(), *log_record_places(all_logs.records)]
    leaks = search_places(places, needles_for("staff address", address))
    assert not leaks, "\n".join(str(leak) for leak in leaks)
