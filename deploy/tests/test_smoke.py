"""`make smoke`: the production stack of deploy/ on loopback, used as people would use it.

Tor (network off: it still makes both onion services' keys and hostnames and reads the
console's client key), nginx from deploy/nginx, the two gunicorn faces and the worker from
their systemd units' own command lines and environment files, against this run's PostgreSQL
database (deploy/stack.py says what is and is not as on a server). Through nginx, in Chromium
with JavaScript off for the person:

1. the first coordinator starts from the one-time link `safepassage-manage setup_link` prints,
   sets up the recovery key, and the line opens;
2. a person on a phone asks for help; the worker (its unit) e-mails the coordinator through a
   real SMTP server; the coordinator answers; the person reads the answer;
3. the person sends a 200 MB file: nginx streams it to the intake (nothing in its temporary
   folders at any moment), and no file anywhere in the stack holds a byte of it in plaintext;

and then: nginx kept no access log, logged no request, and passed on no client address; the
privacy headers arrive through it as the application sends them; both onion hostnames exist.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from nacl.public import PrivateKey
from playwright.sync_api import expect

from casework.models import Attachment, Case
from deploy.stack import Stack, running_stack
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.browser.conftest import (  # noqa: F401  (fixtures: browser, chromium_path, faces, new_context)
    PHONE,
    NewContext,
    browser,
    chromium_path,
    faces,
    make_recovery_key,
    new_context,
    person_asks_for_help,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.smoke, pytest.mark.django_db(transaction=True)]

PASSWORD = "ночной поезд идёт на север 1917"
FIRST_MESSAGE = "Меня ищут родственники. Я у подруги, могу пробыть здесь до утра."
REPLY = "Мы вас слышим. Оставайтесь на месте, напишем через час."
UPLOAD_BYTES = 200 * 1000 * 1000
# Written all through the uploaded file: found anywhere on disk, the plaintext was written down.
MARKER = b"SMOKE-PLAINTEXT-7c1e9a"
# Sent as if by a client: no log and no stored row may hold it.
CLIENT_ADDRESS = "203.0.113.77"
PRIVACY_HEADERS = (
    "content-security-policy",
    "referrer-policy",
    "x-content-type-options",
    "x-frame-options",
    "cross-origin-opener-policy",
    "cache-control",
    "permissions-policy",
)


def _needs(program: str) -> None:
    if shutil.which(program):
        return
    reason = f"{program} is not installed: run `make deploy-deps` (scripts/install-deploy-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. CI must run the smoke test, not skip it.", pytrace=False)
    pytest.skip(reason)


def _tor_key(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _direct_get(socket_path: Path, path: str) -> http.client.HTTPResponse:
    """A request straight to a face's socket, past nginx."""

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(str(socket_path))

    conn = UnixConnection("127.0.0.1")
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response


def _proxied_get(url: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    port = url.rsplit(":", 1)[1]
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    return response


def _files_holding(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                tail = b""
                while chunk := handle.read(8 * 1024 * 1024):
                    if needle in tail + chunk:
                        found.append(str(path))
                        break
                    tail = chunk[-len(needle) :]
    return found


def test_the_production_stack_serves_a_first_night_and_a_large_upload_through_the_proxy(
    request: pytest.FixtureRequest,
    new_context: NewContext,  # noqa: F811
    smtp: SmtpInbox,  # noqa: F811
    settings: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the production stack runs on PostgreSQL: `make smoke` (the suite's PostgreSQL run) runs this")
    for program in ("nginx", "tor"):
        _needs(program)
    import pyrage

    db = connection.settings_dict
    device_key = PrivateKey.generate()
    stack_settings = {
        "SP_DB_NAME": str(db["NAME"]),
        "SP_DB_HOST": str(db["HOST"] or "127.0.0.1"),
        "SP_DB_PORT": str(db["PORT"] or ""),
        "SP_DB_USER": str(db["USER"] or "postgres"),
        "SP_BACKUP_RECIPIENT": str(pyrage.x25519.Identity.generate().to_public()),
        "SP_EMAIL_HOST": "127.0.0.1",
        "SP_EMAIL_PORT": str(settings.EMAIL_PORT),
        "SP_EMAIL_USE_TLS": "false",
        # One 200 MB file: the application's limit, and nginx's (rendered from it), above it.
        "SP_ATTACHMENT_MAX_BYTES": str(256 * 1024 * 1024),
        # The intake's https address too, as `deploy/install --clearnet-domain` sets it up.
        "SP_BEHIND_PROXY": "true",
    }
    # nginx's workers run as its own user and must reach the sockets: a folder of /tmp, not
    # pytest's (private to this user).
    root = Path(tempfile.mkdtemp(prefix="sp-smoke-"))
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    # The test database was migrated by this process, which certified its first rows with its
    # own instance secret: the stack gets the same one.
    device = _tor_key(bytes(device_key.public_key))
    with running_stack(
        root, stack_settings, console_device_key=device, pepper=settings.SP_PEPPER, clearnet=True
    ) as stack:
        codename = _first_night(stack, new_context, smtp)
        _large_upload(stack, new_context, codename)
        _proxy_keeps_nothing(stack)
        _onion_services(stack)
        _clearnet_intake(stack)
        for name in ("safepassage-intake", "safepassage-console", "safepassage-worker", "nginx", "tor"):
            assert stack.processes[name].poll() is None, f"{name} stopped:\n{stack.log(name)[-2000:]}"


def _first_night(stack: Stack, new_context: NewContext, smtp: SmtpInbox) -> str:  # noqa: F811
    """The setup link to the person reading the answer; gives the person's secret phrase."""
    intake, console = stack.layout.url("intake"), stack.layout.url("console")
    link = re.search(rf"{re.escape(console)}/signup/\S+/", stack.manage("setup_link"))
    assert link, "setup_link printed no one-time link"
    coordinator = new_context().new_page()
    sign_up(coordinator, link.group(0), "marat", PASSWORD, "marat@example.org")
    expect(coordinator).to_have_url(f"{console}/enrol/recovery/")
    make_recovery_key(coordinator)
    assert "The intake accepts requests." in stack.manage("intake_status")

    person = new_context(viewport=PHONE)
    codename = person_asks_for_help(person.new_page(), intake, FIRST_MESSAGE)
    case = Case.objects.get()

    # The worker, started from its unit, tells the coordinator by e-mail, without the words.
    for _ in range(600):
        if smtp.messages:
            break
        threading.Event().wait(0.1)
    assert [recipients for recipients, _ in smtp.messages] == [["marat@example.org"]]
    assert FIRST_MESSAGE not in smtp.messages[0][1].as_string()

    coordinator.goto(f"{console}/cases/{case.public_id}/")
    expect(coordinator.locator(".thread")).to_contain_text(FIRST_MESSAGE)
    coordinator.locator("#reply_body").fill(REPLY)
    coordinator.locator("form[action$='/reply/'] button").first.click()
    expect(coordinator.locator(".thread li.staff")).to_contain_text(REPLY)

    page = person.new_page()
    page.goto(f"{intake}/login/")
    page.locator("#id_codename").fill(codename)
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{intake}/conversation/")
    expect(page.locator("main")).to_contain_text(REPLY)
    page.close()
    return codename


def _large_upload(stack: Stack, new_context: NewContext, codename: str) -> None:  # noqa: F811
    intake = stack.layout.url("intake")
    upload = Path(tempfile.mkdtemp(prefix="sp-smoke-upload-")) / "evidence.pdf"  # outside the server's folders
    block = (MARKER + b" ") * (1024 * 1024 // (len(MARKER) + 1))
    with upload.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        written = 9
        while written < UPLOAD_BYTES:
            part = block[: UPLOAD_BYTES - written]
            out.write(part)
            written += len(part)
    context = new_context(viewport=PHONE)
    context.set_default_timeout(180_000)
    page = context.new_page()
    page.goto(f"{intake}/login/")
    page.locator("#id_codename").fill(codename)
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{intake}/conversation/")
    page.locator("#id_message").fill("Фотографии документов, большой файл.")
    page.locator("#id_attachments").set_input_files(str(upload))
    # nginx unlinks a temporary file as soon as it has made it, so the file itself is never seen
    # in the folder; the folder's modification time still changes when one is made. And nginx
    # says so in its log, which the stack keeps at "warn" to catch it.
    temp_folders = [stack.layout.nginx / sub for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi")]
    temp_folders.append(stack.layout.tmp)
    before = {folder: folder.stat().st_mtime_ns for folder in temp_folders}
    page.locator("form[action='/conversation/'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("evidence.pdf", timeout=180_000)
    # The person opens the file again: the decrypted answer streams through nginx too.
    with page.expect_download(timeout=180_000) as download:
        page.locator("form.file button").last.click()
    assert Path(download.value.path()).stat().st_size == UPLOAD_BYTES
    download.value.delete()
    after = {folder: folder.stat().st_mtime_ns for folder in temp_folders}
    assert after == before, "a temporary file was made in nginx's or the services' temporary folders"
    assert "temporary file" not in stack.log("nginx"), stack.log("nginx")
    stored = Attachment.objects.order_by("-pk").first()
    assert stored is not None and stored.size >= UPLOAD_BYTES
    upload.unlink()
    assert _files_holding(stack.layout.root, MARKER) == []


def _what_the_application_receives(stack: Stack) -> bytes:
    """The head of a request as nginx passes it on, recorded at a socket of this test's,
    behind a server that has only what nginx.conf.in sets for every server."""
    path = stack.layout.run / "recorder.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    path.chmod(0o666)
    listener.listen(1)
    heads: list[bytes] = []

    def record() -> None:
        conn, _ = listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(65536)
        heads.append(head)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        conn.close()

    thread = threading.Thread(target=record, daemon=True)
    thread.start()
    port = stack.layout.ports["recorder"]
    (stack.layout.nginx / "safepassage.d" / "recorder.conf").write_text(
        f"server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://unix:{path}:; }} }}\n"
    )
    os.kill(stack.processes["nginx"].pid, signal.SIGHUP)  # nginx reads its configuration again
    spoofed = {
        "X-Forwarded-For": CLIENT_ADDRESS,
        "X-Real-IP": CLIENT_ADDRESS,
        "Forwarded": f"for={CLIENT_ADDRESS}",
        "X-Forwarded-Proto": "https",
    }
    for _ in range(50):
        try:
            assert _proxied_get(f"http://localhost:{port}", "/", headers=spoofed).status == 200
            break
        except (ConnectionError, AssertionError):
            threading.Event().wait(0.1)
    thread.join(timeout=10)
    listener.close()
    (stack.layout.nginx / "safepassage.d" / "recorder.conf").unlink()
    os.kill(stack.processes["nginx"].pid, signal.SIGHUP)
    assert heads, "nginx passed no request to the recorder"
    return heads[0]


def _proxy_keeps_nothing(stack: Stack) -> None:
    head = _what_the_application_receives(stack).decode().lower()
    assert CLIENT_ADDRESS not in head
    for name in ("x-forwarded-for:", "x-real-ip:", "forwarded:"):
        assert f"\r\n{name}" not in head, head
    assert "\r\nx-forwarded-proto: http\r\n" in head  # the client's "https" is not believed
    intake = stack.layout.url("intake")
    through = _proxied_get(intake, "/", headers={"X-Forwarded-For": CLIENT_ADDRESS, "X-Real-IP": CLIENT_ADDRESS})
    direct = _direct_get(stack.layout.run / "intake.sock", "/")
    assert through.status == direct.status == 200
    for name in PRIVACY_HEADERS:
        assert through.getheader(name) == direct.getheader(name), name
        assert through.getheader(name), f"{name} is missing"
    assert through.getheader("server") == "nginx"  # no version
    assert _proxied_get(intake, "/no-such-page/").status == 404
    written_here = {"nginx.pid", "fullchain.pem", "privkey.pem"}  # by the stack, not by nginx
    nginx_files = [
        p for p in stack.layout.nginx.rglob("*") if p.is_file() and p.suffix != ".conf" and p.name not in written_here
    ]
    assert nginx_files == [], f"nginx wrote {nginx_files}"
    assert stack.log("nginx").strip() == "", stack.log("nginx")
    for name in ("nginx", "safepassage-intake", "safepassage-console", "safepassage-worker"):
        assert CLIENT_ADDRESS not in stack.log(name)


def _onion_services(stack: Stack) -> None:
    for face in ("intake", "console"):
        assert re.fullmatch(r"[a-z2-7]{56}\.onion", stack.onion_hostname(face))
    tor_log = stack.log("tor")
    assert "Loaded a client authorization key file smoke-device.auth" in tor_log
    # Tor warns that it runs as root, and that an info-level log (needed to see the key loaded) is verbose.
    harmless = ("as root", 'logging more than "notice"')
    warnings = [line for line in tor_log.splitlines() if "[warn]" in line and not any(h in line for h in harmless)]
    assert warnings == []


def _clearnet_intake(stack: Stack) -> None:
    """The intake's https server: the intake only, Onion-Location to the onion address, plain
    HTTP sent to HTTPS, and no answer at all to a name that is not the intake's."""
    port = stack.layout.ports["https"]
    context = ssl.create_default_context(cafile=str(stack.layout.nginx / "tls" / "fullchain.pem"))
    conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    conn.request("GET", "/", headers={"Host": f"localhost:{port}"})
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200
    assert response.getheader("Onion-Location") == f"http://{stack.onion_hostname('intake')}/"
    assert response.getheader("Strict-Transport-Security")
    assert 'href="/connect/"' in page
    conn.request("GET", "/inbox/", headers={"Host": f"localhost:{port}"})  # a console page
    assert conn.getresponse().status == 404
    conn.close()
    plain = http.client.HTTPConnection("127.0.0.1", stack.layout.ports["http"], timeout=10)
    plain.request("GET", "/conversation/", headers={"Host": "localhost"})
    redirect = plain.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == "https://localhost/conversation/"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        ssl.create_default_context(cafile=str(stack.layout.nginx / "tls" / "fullchain.pem")).wrap_socket(
            raw, server_hostname="some-other-name.example"
        )
