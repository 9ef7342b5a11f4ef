"""Invariant 6: no IP address or user agent of anyone is stored or logged.

Every request of a whole scenario carries a client address, the addresses a proxy would add
(X-Forwarded-For, X-Real-IP) and a unique user agent; then the raw database (SQLite files or
a pg_dump), the decoded sessions, the log file and every log record at DEBUG are searched
for them. Below that: the logging filter that masks addresses inside messages, and the
gunicorn command line `make run` uses, which must not switch on an access log.
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from gunicorn.config import Config

from accounts.models import Team
from casework.models import Case
from core.logging import MASK, ScrubbingGunicornLogger, ScrubFilter
from core.management.commands.serve import gunicorn_argv
from tests.personas import CONSOLE, INTAKE, FaceClient, Staff
from tests.plaintext_search import (
    LogFile,
    Needle,
    database_places,
    file_places,
    log_record_places,
    needles_for,
    search_places,
    session_places,
)
from tests.test_canary import codename_from_start_page, png_with_text

ADDRESSES = {
    "ipv4": {"REMOTE_ADDR": "203.0.113.77", "HTTP_X_FORWARDED_FOR": "198.51.100.23", "HTTP_X_REAL_IP": "198.51.100.24"},
    "ipv6": {
        "REMOTE_ADDR": "2001:db8::77",
        "HTTP_X_FORWARDED_FOR": "2001:db8:feed::23",
        "HTTP_X_REAL_IP": "2001:db8:beef::24",
    },
}


def client_needles(headers: dict[str, str]) -> list[Needle]:
    needles = []
    for header, value in headers.items():
        needles += needles_for(header, value)
        if header != "HTTP_USER_AGENT" and ipaddress.ip_address(value).version == 6:
            address = ipaddress.IPv6Address(value)
            needles += needles_for(f"{header} (exploded)", address.exploded)
            needles.append(Needle(header, "packed", address.packed))
    return needles


def run_the_hotline(staff: Staff, headers: dict[str, str]) -> None:
    """Every kind of request, each from the same identifiable client."""
    intake = FaceClient(INTAKE, **headers)
    assert intake.get("/").status_code == 200
    codename = codename_from_start_page(intake)
    photo = SimpleUploadedFile("photo.png", png_with_text("photo", "фото"), content_type="image/png")
    first = {"urgency": "in_hiding", "region": "not_said", "message": "Please help.", "attachments": photo}
    assert intake.post("/request/", first).status_code == 302
    assert intake.get("/conversation/").status_code == 200
    assert intake.post("/logout/").status_code == 302

    person = FaceClient(INTAKE, **headers)
    assert person.post("/login/", {"codename": codename}).status_code == 302
    assert person.post("/conversation/", {"message": "Still here."}).status_code == 302
    assert person.post("/logout/").status_code == 302

    console = FaceClient(CONSOLE, **headers)
    login = {"username": staff.member.username, "password": staff.password, "code": staff.code()}
    assert console.post("/login/", login).status_code == 302
    assert console.get("/inbox/").status_code == 200
    case = Case.objects.get()
    assert "Still here." in console.get(f"/cases/{case.public_id}/").content.decode()
    assert console.post(f"/cases/{case.public_id}/reply/", {"body": "We hear you."}).status_code == 302

    assert FaceClient(INTAKE, **headers).get("/no-such-page/").status_code == 404
    assert console.get("/cases/NOSUCHCASE/").status_code == 404
    strict = FaceClient(INTAKE, enforce_csrf_checks=True, **headers)
    assert strict.post("/login/", {"codename": codename}).status_code == 403
    strict_console = FaceClient(CONSOLE, enforce_csrf_checks=True, **headers)
    assert strict_console.post("/login/", login).status_code == 403
    assert FaceClient(INTAKE, **headers).post("/login/", {"codename": "one two three four five six"}).status_code == 400
    wrong = {**login, "password": "not the password at all"}
    assert FaceClient(CONSOLE, **headers).post("/login/", wrong).status_code == 400


@pytest.mark.parametrize("family", sorted(ADDRESSES))
@pytest.mark.django_db(transaction=True)
def test_no_client_address_or_user_agent_is_stored_or_logged(
    family: str,
    caseworker: Staff,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    log_file = LogFile()
    headers = {**ADDRESSES[family], "HTTP_USER_AGENT": f"CanaryAgent/{uuid.uuid4()}"}
    run_the_hotline(caseworker, headers)

    # Controls: the same search finds a marker put in the database and the logs on purpose.
    marker = f"ControlAgent/{uuid.uuid4()}"
    Team.objects.create(name=marker)
    logging.getLogger("tests.no_ip").debug("control %s", marker)
    places = {
        "database": database_places(),
        "sessions": session_places(),
        "log file": log_file.places(),
        "log records": log_record_places(all_logs.records),
        "file store": file_places(Path(settings.SP_FILE_STORE)),
    }
    for group in ("database", "log file", "log records"):
        assert search_places(places[group], needles_for("control", marker)), f"control not found in {group}"

    leaks = [str(finding) for group in places.values() for finding in search_places(group, client_needles(headers))]
    assert not leaks, "client address or user agent found:\n" + "\n".join(leaks)


# ---------------------------------------------------------------------------------------------
# The filter on every log handler
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def scrubbed_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing through ScrubFilter, as the configured handlers do."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(ScrubFilter())
    logger = logging.getLogger(f"tests.scrub.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, output
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    "address",
    [
        "192.0.2.10",
        "2001:db8::77",
        "2001:0db8:0000:0000:0000:0000:0000:0077",
        "fe80::1%eth0",
        "::1",
        "::ffff:192.0.2.10",
    ],
)
def test_an_address_inside_a_log_message_is_masked(
    scrubbed_log: tuple[logging.Logger, io.StringIO], address: str
) -> None:
    logger, output = scrubbed_log
    logger.warning("Invalid request from ip=%s: %s", address, "bad request line")
    logger.info(f"upstream [{address}]:443 closed the connection")
    text = output.getvalue()
    assert address not in text
    assert text.count(MASK) == 2, text
    assert "bad request line" in text


def test_times_and_versions_next_to_an_address_survive(scrubbed_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, output = scrubbed_log
    logger.info("at 10:15:42 on 2026-11-25, worker 3 of 4, from 2001:db8::5")
    assert output.getvalue().strip() == f"at 10:15:42 on 2026-11-25, worker 3 of 4, from {MASK}"


def test_an_address_in_a_traceback_is_masked(scrubbed_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, output = scrubbed_log
    try:
        raise ConnectionRefusedError("connect to 192.0.2.55 port 5432 failed")
    except ConnectionRefusedError:
        logger.exception("database unreachable")
    text = output.getvalue()
    assert "ConnectionRefusedError" in text and "192.0.2.55" not in text and MASK in text


def test_the_request_is_dropped_from_the_record() -> None:
    # Django attaches the request (and with it REMOTE_ADDR and the user agent) to its records.
    record = logging.makeLogRecord({"msg": "Not Found: /x/", "request": object()})
    assert ScrubFilter().filter(record)
    assert record.request is None  # type: ignore[attr-defined]


def test_every_configured_log_handler_scrubs() -> None:
    handlers = [handler for handler in logging.getLogger().handlers if handler.name in {"console", "file"}]
    assert {handler.name for handler in handlers} == {"console", "file"}
    for handler in handlers:
        assert any(isinstance(f, ScrubFilter) for f in handler.filters), handler.name


# ---------------------------------------------------------------------------------------------
# gunicorn, as `make run` starts it
# ---------------------------------------------------------------------------------------------


def gunicorn_config(argv: list[str]) -> Config:
    """What gunicorn itself makes of the command line (after `python -m gunicorn`)."""
    assert argv[1:3] == ["-m", "gunicorn"]
    config = Config()
    parsed = config.parser().parse_args(argv[3:])
    for name, value in vars(parsed).items():
        if value is not None and name != "args":
            config.set(name.lower(), value)
    return config


@pytest.mark.parametrize("face", ["intake", "console"])
def test_gunicorn_runs_without_an_access_log(face: str) -> None:
    argv = gunicorn_argv(face, "http://127.0.0.1:8000", 2)
    assert not any(arg.startswith("--access-logfile") for arg in argv)
    formats = [value for flag, value in itertools.pairwise(argv) if flag == "--access-logformat"]
    assert not any(re.search(r"%\((h|a)\)s", value) for value in formats)
    config = gunicorn_config(argv)
    assert config.accesslog is None
    assert config.logger_class is ScrubbingGunicornLogger


def test_gunicorn_masks_the_address_in_its_own_warnings(tmp_path: Path) -> None:
    config = gunicorn_config(gunicorn_argv("intake", "http://127.0.0.1:8000", 1))
    error_log = tmp_path / "gunicorn.log"
    config.set("errorlog", str(error_log))
    logger = config.logger_class(config)
    try:
        # Word for word what gunicorn's worker logs for a malformed request line.
        logger.warning(
            "Invalid request from ip={ip}: {error}".format(ip="203.0.113.9", error="Invalid HTTP request line")
        )
        logger.warning(
            "Invalid request from ip={ip}: {error}".format(ip="2001:db8::9", error="Invalid HTTP request line")
        )
    finally:
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
            for existing in list(log.filters):
                log.removeFilter(existing)
    text = error_log.read_text()
    assert "203.0.113.9" not in text and "2001:db8::9" not in text
    assert text.count(f"Invalid request from ip={MASK}") == 2
