"""Notifications to staff through Matrix, delivered by the real worker command to a real
Synapse homeserver on the loopback interface and read back with the staff member's own
Matrix account (see conftest.py)."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs.models import Job
from notifications.models import Channel, NotificationPreference, NotificationSent
from notifications.services import NOTIFY_JOB, preference_address, preference_set
from notifications.tests.conftest import MatrixWorld
from notifications.tests.synapse_server import SERVER_NAME, free_port
from tests.personas import PersonAtRisk, Staff, open_case
from tests.plaintext_search import LogFile, database_places, log_record_places, needles_for, search_places

pytestmark = pytest.mark.matrix


def _open_case_and_commit(django_capture_on_commit_callbacks: Any, **details: Any) -> PersonAtRisk:
    with django_capture_on_commit_callbacks(execute=True):
        return open_case(**details)


def _run_worker() -> None:
    call_command("worker", "--once")


def _room_for(matrix: MatrixWorld, *, encrypted: bool = False) -> str:
    """A room the caseworker made in their own client and invited the bot to."""
    return matrix.server.create_room(matrix.staff, invite=[matrix.bot.user_id], encrypted=encrypted)


def _notices(matrix: MatrixWorld, room_id: str) -> list[dict[str, Any]]:
    return [event for event in matrix.server.messages(matrix.staff, room_id) if event["sender"] == matrix.bot.user_id]


def _secrets() -> dict[str, str]:
    marker = uuid.uuid4().hex
    return {
        "body": f"CANARY-message-{marker} КАНАРЕЙКА{marker}",
        "cover_phrase": f"CANARY-cover-{marker}",
        "contact_value": f"CANARY-contact-{marker}",
    }


@pytest.mark.django_db
def test_a_new_case_reaches_the_members_room_with_only_its_id_and_link(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    room_id = _room_for(matrix)
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=room_id, language="en")
    secrets = _secrets()
    person = _open_case_and_commit(
        django_capture_on_commit_callbacks,
        body=secrets["body"],
        region="chechnya",
        cover_phrase=secrets["cover_phrase"],
        contact_kind="signal",
        contact_value=secrets["contact_value"],
    )

    _run_worker()

    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is not None and job.last_error == ""
    notices = _notices(matrix, room_id)
    assert len(notices) == 1
    content = notices[0]["content"]
    assert set(content) == {"msgtype", "body"} and content["msgtype"] == "m.notice"
    public_id = person.case.public_id
    assert content["body"] == (
        f"New case {public_id} needs attention\n\n"
        f"A case needs attention: {public_id} (New case).\n"
        f"Open it in the console: http://127.0.0.1:8001/cases/{public_id}/\n\n"
        "This message deliberately says nothing more."
    )
    for secret in (*secrets.values(), "chechnya", "Chechnya", "Чечн", "signal", "Signal", "caseworker"):
        for part in secret.split():
            assert part not in content["body"], f"the notification carries {part!r}"
    assert list(NotificationSent.objects.values_list("channel", flat=True)) == ["matrix"]


@pytest.mark.django_db
def test_the_notice_is_written_in_the_members_language(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    room_id = _room_for(matrix)
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=room_id, language="ru")
    person = _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    [notice] = _notices(matrix, room_id)
    assert notice["content"]["body"].startswith(f"Новый кейс {person.case.public_id} требует внимания")


@pytest.mark.django_db
def test_a_user_id_gets_one_direct_chat_that_later_notices_reuse(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # A staff account of its own, so the direct chat is new for this test.
    own = matrix.server.register(f"dm-{uuid.uuid4().hex[:8]}")
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=own.user_id, language="en")
    first = _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    [room_id] = matrix.server.invites(own)
    matrix.server.join(own, room_id)
    second = _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()

    assert matrix.server.invites(own) == []  # no second chat was opened
    assert matrix.server.joined_rooms(own) == [room_id]
    bodies = [e["content"]["body"] for e in matrix.server.messages(own, room_id) if e["sender"] == matrix.bot.user_id]
    assert len(bodies) == 2
    assert first.case.public_id in bodies[0] and second.case.public_id in bodies[1]


@pytest.mark.django_db
def test_a_direct_chat_the_member_left_is_replaced_by_a_new_one(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    own = matrix.server.register(f"dm-{uuid.uuid4().hex[:8]}")
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=own.user_id, language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    [first_room] = matrix.server.invites(own)
    matrix.server.call("POST", f"/_matrix/client/v3/rooms/{first_room}/leave", {}, own.access_token)  # declined
    later = _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()

    [second_room] = matrix.server.invites(own)
    assert second_room != first_room
    matrix.server.join(own, second_room)
    bodies = [
        e["content"]["body"] for e in matrix.server.messages(own, second_room) if e["sender"] == matrix.bot.user_id
    ]
    assert len(bodies) == 1 and later.case.public_id in bodies[0]


@pytest.mark.django_db
def test_an_encrypted_room_gets_the_same_plain_notice(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    """The documented decision: the notice holds nothing secret, so it goes unencrypted."""
    room_id = _room_for(matrix, encrypted=True)
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=room_id, language="en")
    person = _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    [notice] = _notices(matrix, room_id)
    assert notice["type"] == "m.room.message" and notice["content"]["msgtype"] == "m.notice"
    assert person.case.public_id in notice["content"]["body"]


@pytest.mark.django_db
def test_a_resend_after_a_crash_shows_once_in_the_room(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    room_id = _room_for(matrix)
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=room_id, language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    # As if the worker died after the homeserver took the notice but before it was recorded.
    NotificationSent.objects.all().delete()
    Job.objects.filter(kind=NOTIFY_JOB).update(done_at=None, run_at=timezone.now())
    _run_worker()
    assert NotificationSent.objects.count() == 1
    assert len(_notices(matrix, room_id)) == 1  # same transaction id: the homeserver kept one


@pytest.mark.django_db
def test_a_homeserver_that_is_down_leads_to_a_retry_with_backoff(
    caseworker: Staff, matrix: MatrixWorld, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room_id = _room_for(matrix)
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=room_id, language="en")
    settings.SP_MATRIX_HOMESERVER = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    _open_case_and_commit(django_capture_on_commit_callbacks)
    before = timezone.now()

    _run_worker()

    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is None and job.failed_at is None and job.attempts == 1
    assert job.last_error.startswith("ClientConnectorError")
    assert job.run_at >= before + timedelta(seconds=settings.SP_JOB_RETRY_SECONDS)
    assert not NotificationSent.objects.exists()

    settings.SP_MATRIX_HOMESERVER = matrix.server.url  # back up
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now() - timedelta(seconds=1))
    _run_worker()
    job.refresh_from_db()
    assert job.done_at is not None and job.attempts == 2
    assert len(_notices(matrix, room_id)) == 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a hung homeserver."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.django_db
def test_a_homeserver_that_hangs_times_out_and_is_retried(
    caseworker: Staff, matrix: MatrixWorld, settings: Any, silent_server: int, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=_room_for(matrix), language="en")
    settings.SP_MATRIX_HOMESERVER, settings.SP_MATRIX_TIMEOUT = f"http://127.0.0.1:{silent_server}", 1
    _open_case_and_commit(django_capture_on_commit_callbacks)
    started = timezone.now()
    _run_worker()
    assert timezone.now() - started < timedelta(seconds=10)  # nio's own endless retries are off
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is None and job.attempts == 1 and job.run_at > timezone.now()
    assert "Timeout" in job.last_error


@pytest.mark.django_db
def test_a_bad_room_is_recorded_clearly_and_the_others_are_still_told(
    caseworker: Staff, coordinator: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    # A well-formed id of a room that does not exist; and the coordinator's good room.
    preference_set(
        member=caseworker.member, channel=Channel.MATRIX, address=f"!doesnotexist:{SERVER_NAME}", language="en"
    )
    good_room = _room_for(matrix)
    preference_set(member=coordinator.member, channel=Channel.MATRIX, address=good_room, language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)

    _run_worker()

    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.done_at is None and job.failed_at is None and job.attempts == 1
    assert job.last_error in {"MatrixRoomUnreachable 403", "MatrixRoomUnreachable 404"}
    assert list(NotificationSent.objects.values_list("member__username", flat=True)) == ["coordinator"]
    assert len(_notices(matrix, good_room)) == 1


@pytest.mark.django_db
def test_a_room_the_bot_was_not_invited_to_is_refused(
    caseworker: Staff, matrix: MatrixWorld, django_capture_on_commit_callbacks: Any
) -> None:
    uninvited = matrix.server.create_room(matrix.staff, invite=[])
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=uninvited, language="en")
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.last_error == "MatrixRoomUnreachable 403" and job.done_at is None
    assert _notices(matrix, uninvited) == []


@pytest.mark.django_db
def test_a_revoked_bot_token_is_refused_not_crashed(
    caseworker: Staff, matrix: MatrixWorld, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=_room_for(matrix), language="en")
    settings.SP_MATRIX_ACCESS_TOKEN = "syt_not_a_real_token"
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.last_error == "MatrixRefused 401" and job.done_at is None


@pytest.mark.django_db
def test_matrix_chosen_but_switched_off_is_retried(
    caseworker: Staff, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    preference_set(member=caseworker.member, channel=Channel.MATRIX, address=f"!room:{SERVER_NAME}", language="en")
    settings.SP_MATRIX_HOMESERVER = settings.SP_MATRIX_USER_ID = settings.SP_MATRIX_ACCESS_TOKEN = ""
    _open_case_and_commit(django_capture_on_commit_callbacks)
    _run_worker()
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.last_error == "MatrixNotConfigured" and job.done_at is None


@pytest.mark.django_db(transaction=True)
def test_a_matrix_address_is_never_in_plaintext_in_the_database_or_logs(
    caseworker: Staff, matrix: MatrixWorld, all_logs: pytest.LogCaptureFixture
) -> None:
    """Canary-style: the room id goes in through the real page, the homeserver refuses it
    (its error message names the room), and the raw database and every log are searched."""
    log_file = LogFile()
    room_id = f"!CANARY-{uuid.uuid4().hex}:{SERVER_NAME}"
    client = caseworker.console(language="en")
    assert client.post("/account/notifications/", {"channel": "matrix", "address": room_id}).status_code == 302
    logging.getLogger("nio").setLevel(logging.DEBUG)  # even at DEBUG the client must not log it
    try:
        person = open_case()  # committed: the notification job is queued for real
        _run_worker()
    finally:
        logging.getLogger("nio").setLevel(logging.WARNING)
    job = Job.objects.get(kind=NOTIFY_JOB)
    assert job.payload == {"case": person.case.pk, "event": "new_case"}
    assert job.attempts == 1 and job.last_error.startswith("MatrixRoomUnreachable")
    assert preference_address(NotificationPreference.objects.get()) == room_id  # the search looks where it is

    places = [*database_places(), *log_file.places(), *log_record_places(all_logs.records)]
    leaks = search_places(places, needles_for("matrix room", room_id))
    assert not leaks, "\n".join(str(leak) for leak in leaks)
