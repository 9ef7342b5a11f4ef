"""Where a webhook may point: never into the server's own network (server-side request
forgery), https only, checked when it is saved and again when each notice is sent, against the
addresses the host name resolves to, and sent to the very address that was checked.

Host names resolve from a table (the ``dns`` fixture) so no test asks a real DNS server; IP
literals and ``localhost`` go through the real code path. The receivers listen on 127.0.0.1,
which the test settings allow (SP_WEBHOOK_ALLOW_LOOPBACK); tests that need the production
rule switch it off.
"""

from __future__ import annotations

import html
import ipaddress
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import override_settings

from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from jobs.models import Job
from notifications.addresses import address_encrypt
from notifications.models import Channel, NotificationPreference, NotificationSent
from notifications.services import NOTIFY_JOB, preference_address
from notifications.tests.conftest import HostTable
from notifications.tests.receivers import Receiver, make_tls_context, start_receiver
from tests.personas import Staff, open_case

PRIVATE = "This address leads into the server's own network, which is not allowed."
PRIVATE_RU = "Этот адрес ведёт во внутреннюю сеть сервера, так нельзя."
NEEDS_HTTPS = "Enter a valid https:// URL."
UNKNOWN_HOST = "The server could not find this host name."
PUBLIC_V4 = "93.184.215.14"  # example.org's address: public, and nothing here connects to it
ROOT = Path(__file__).resolve().parents[2]

# Every way of writing an address inside the server's own network that an HTTP client would
# accept, by kind. None of them may be the target of a notice.
INSIDE = {
    "loopback": ["127.0.0.1", "127.8.9.10", "[::1]"],
    "private (RFC 1918)": ["10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1"],
    "shared (CGNAT)": ["100.64.0.1", "100.127.255.254"],
    "link-local": ["169.254.1.1", "[fe80::1]"],
    "cloud metadata": ["169.254.169.254", "[fd00:ec2::254]"],
    "unique-local IPv6": ["[fc00::1]", "[fd12:3456:789a::1]"],
    "site-local IPv6": ["[fec0::1]"],
    "unspecified": ["0.0.0.0", "[::]", "0.1.2.3"],  # noqa: S104  (addresses to refuse, nothing binds)
    "multicast": ["224.0.0.1", "239.255.255.250", "[ff02::1]", "[ff0e::1]"],
    "reserved and broadcast": ["240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1"],
    "documentation": ["192.0.2.1", "198.51.100.7", "203.0.113.9", "[2001:db8::1]", "[3fff::1]"],
    "IPv4-mapped IPv6": ["[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[::ffff:10.0.0.1]", "[::ffff:0:0]"],
    "IPv4-compatible IPv6": ["[::127.0.0.1]", "[::a9fe:a9fe]"],
    "6to4 around a private IPv4": ["[2002:7f00:1::1]", "[2002:a9fe:a9fe::1]", "[2002:c0a8:101::1]"],
    "NAT64 around a private IPv4": ["[64:ff9b::7f00:1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::a00:1]"],
    "Teredo": ["[2001:0:4136:e378:8000:63bf:3fff:fdd2]"],
}
# IPv4 spellings that inet_aton, and so getaddrinfo and every HTTP client, reads as an address.
ODD_SPELLINGS = {
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "2852039166": "169.254.169.254",
    "0xa9.0xfe.0xa9.0xfe": "169.254.169.254",
    "0251.0376.0251.0376": "169.254.169.254",
    "169.254.43518": "169.254.169.254",
    "167772161": "10.0.0.1",
    "012.0.0.1": "10.0.0.1",
    "0": "0.0.0.0",  # noqa: S104  (an address to refuse, nothing binds)
}
OUTSIDE = [
    PUBLIC_V4,
    "[2606:4700:4700::1111]",
    "[::ffff:5db8:d70e]",  # the IPv4-mapped form of a public address is that public address
    "[2002:5db8:d70e::1]",  # 6to4 around a public IPv4
    "[64:ff9b::5db8:d70e]",  # NAT64 around a public IPv4
]


def _inside() -> list[Any]:
    return [pytest.param(host, id=f"{kind}: {host}") for kind, hosts in INSIDE.items() for host in hosts]


@pytest.fixture
def production_rule(settings: Any) -> None:
    """The address rule production runs under: no receiver on this machine either."""
    settings.SP_WEBHOOK_ALLOW_LOOPBACK = False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start_receiver()
    try:
        yield running
    finally:
        running.stop()


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _run_worker() -> None:
    call_command("worker", "--once")


def _stored_without_the_check(member: StaffMember, url: str) -> None:
    """A webhook URL as it sits in the database when it was saved under an earlier, looser
    rule (before an upgrade, or while loopback receivers were allowed), bypassing today's check."""
    NotificationPreference.objects.update_or_create(
        member=member,
        defaults={
            "channel": Channel.WEBHOOK,
            "address_ct": address_encrypt(member.pk, Channel.WEBHOOK, url),
            "language": "en",
        },
    )


def _notify_about_a_new_case(django_capture_on_commit_callbacks: Any) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        open_case()
    _run_worker()
    return Job.objects.get(kind=NOTIFY_JOB)


# --- in the form ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize("host", _inside())
def test_the_page_refuses_a_webhook_into_the_servers_own_network(caseworker: Staff, host: str) -> None:
    """Attacker: a staff member (any role) who aims their webhook at the server's own network,
    to make the server call its internal services or the cloud metadata service for them. The
    address is refused with a plain message and nothing is stored."""
    client = caseworker.console(language="en")
    response = client.post("/account/notifications/", {"channel": "webhook", "address": f"https://{host}/hook"})
    assert response.status_code == 400
    assert PRIVATE in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("production_rule")
def test_the_refusal_is_in_russian_for_a_russian_speaker(caseworker: Staff) -> None:
    """Attacker: as above; the member reading Russian is told the same in Russian."""
    response = caseworker.console(language="ru").post(
        "/account/notifications/", {"channel": "webhook", "address": "https://169.254.169.254/latest/meta-data/"}
    )
    assert response.status_code == 400
    assert PRIVATE_RU in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("production_rule")
def test_the_page_refuses_a_name_that_resolves_into_the_servers_own_network(caseworker: Staff) -> None:
    """Attacker: a staff member who hides a private address behind a host name (the real
    resolver: ``localhost`` is 127.0.0.1 on every machine)."""
    response = caseworker.console(language="en").post(
        "/account/notifications/", {"channel": "webhook", "address": "https://localhost/hook"}
    )
    assert response.status_code == 400
    assert PRIVATE in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("production_rule")
def test_a_name_with_one_private_address_among_public_ones_is_refused(caseworker: Staff, dns: HostTable) -> None:
    """Attacker: a staff member whose host name answers a public and a private address, hoping
    the check looks at one and the connection uses the other."""
    dns.names["hooks.example.test"] = [PUBLIC_V4, "10.0.0.7"]
    response = caseworker.console(language="en").post(
        "/account/notifications/", {"channel": "webhook", "address": "https://hooks.example.test/hook"}
    )
    assert response.status_code == 400
    assert PRIVATE in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_a_name_that_does_not_resolve_is_refused_plainly(caseworker: Staff, dns: HostTable) -> None:
    response = caseworker.console(language="en").post(
        "/account/notifications/", {"channel": "webhook", "address": "https://no-such-host.example.test/hook"}
    )
    assert response.status_code == 400
    assert UNKNOWN_HOST in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_plain_http_is_refused_for_an_address_outside_this_machine(caseworker: Staff, dns: HostTable) -> None:
    """Attacker: anyone on the network path between the server and the receiver, who would
    read the case id and console link in a plain-http notice. Plain http is refused even while
    loopback receivers are allowed (test and development)."""
    dns.names["hooks.example.test"] = [PUBLIC_V4]
    client = caseworker.console(language="en")
    for url in ("http://hooks.example.test/hook", f"http://{PUBLIC_V4}/hook", "http://[2606:4700:4700::1111]/"):
        response = client.post("/account/notifications/", {"channel": "webhook", "address": url})
        assert response.status_code == 400, url
        assert NEEDS_HTTPS in _text(response)
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_a_public_https_webhook_is_accepted(caseworker: Staff, dns: HostTable) -> None:
    """Control: the rule does not refuse the addresses it exists to allow."""
    dns.names["hooks.example.test"] = [PUBLIC_V4, "2606:4700:4700::1111"]
    client = caseworker.console(language="en")
    for url in ("https://hooks.example.test/x?token=abc", *(f"https://{host}/hook" for host in OUTSIDE)):
        assert client.post("/account/notifications/", {"channel": "webhook", "address": url}).status_code == 302, url
        assert preference_address(NotificationPreference.objects.get()) == url


@pytest.mark.django_db
def test_a_loopback_receiver_is_accepted_only_while_the_setting_allows_it(caseworker: Staff, settings: Any) -> None:
    """The test suite's own receivers: allowed by SP_WEBHOOK_ALLOW_LOOPBACK (on in test and
    development), refused as soon as it is off, and refused in production whatever it says."""
    client = caseworker.console(language="en")
    url = "http://127.0.0.1:9000/hook"
    assert client.post("/account/notifications/", {"channel": "webhook", "address": url}).status_code == 302

    settings.SP_WEBHOOK_ALLOW_LOOPBACK = False
    response = client.post("/account/notifications/", {"channel": "webhook", "address": url + "/2"})
    assert response.status_code == 400 and PRIVATE in _text(response)

    settings.SP_WEBHOOK_ALLOW_LOOPBACK, settings.PRODUCTION = True, True
    response = client.post("/account/notifications/", {"channel": "webhook", "address": url + "/3"})
    assert response.status_code == 400 and PRIVATE in _text(response)
    assert preference_address(NotificationPreference.objects.get()) == url


# --- at delivery time ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_name_that_turns_private_after_it_was_saved_is_refused_at_delivery(
    caseworker: Staff,
    coordinator: Staff,
    dns: HostTable,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Attacker: a staff member who controls a host name's DNS (rebinding): it answers a public
    address while the form checks it, then the cloud metadata address. The worker checks the
    address again before sending and refuses; the other key holder is still told."""
    dns.names["hooks.example.test"] = [PUBLIC_V4]
    client = caseworker.console(language="en")
    form = {"channel": "webhook", "address": "https://hooks.example.test/hook"}
    assert client.post("/account/notifications/", form).status_code == 302
    # Control: the coordinator's receiver on this machine is told, so the worker did run.
    coordinator.console(language="en").post(
        "/account/notifications/", {"channel": "webhook", "address": f"http://127.0.0.1:{receiver.port}/ok"}
    )
    dns.names["hooks.example.test"] = ["169.254.169.254"]

    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)

    assert [post.path for post in receiver.posts] == ["/ok"]
    assert job.done_at is None and job.last_error == "WebhookAddressPrivate"
    assert list(NotificationSent.objects.values_list("member_id", flat=True)) == [coordinator.member.pk]
    # Coordinators see the refusal in the audit log: who, why, when; not the URL.
    refusals = AuditEntry.objects.filter(action=Action.NOTIFY_WEBHOOK_REFUSED)
    assert [(entry.actor_id, entry.details) for entry in refusals] == [
        (None, {"member": caseworker.member.pk, "reason": "private", "when": "delivery"})
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize(("spelling", "address"), ODD_SPELLINGS.items(), ids=list(ODD_SPELLINGS))
def test_delivery_refuses_an_address_in_any_spelling(
    caseworker: Staff, receiver: Receiver, spelling: str, address: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Attacker: a staff member whose webhook URL writes a private address in a spelling a
    pattern would miss (decimal, octal, hex, short forms), saved before this rule. The address
    the spelling stands for is what is judged: nothing is sent, not even to this machine."""
    _stored_without_the_check(caseworker.member, f"http://{spelling}:{receiver.port}/hook")
    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)
    assert receiver.posts == []
    assert job.last_error == "WebhookAddressPrivate"


@pytest.mark.django_db
def test_a_stored_loopback_webhook_is_refused_at_delivery_in_production(
    caseworker: Staff, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Attacker: a staff member whose webhook to a service on the server itself was saved
    while loopback receivers were allowed (or by an older version). In production the worker
    refuses it, whatever SP_WEBHOOK_ALLOW_LOOPBACK says."""
    _stored_without_the_check(caseworker.member, f"http://127.0.0.1:{receiver.port}/hook")
    settings.PRODUCTION = True
    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)
    assert receiver.posts == []
    assert job.last_error == "WebhookAddressPrivate"


@pytest.mark.django_db
def test_a_stored_plain_http_webhook_to_a_public_address_is_refused_at_delivery(
    caseworker: Staff, dns: HostTable, django_capture_on_commit_callbacks: Any
) -> None:
    """Attacker: anyone on the path, reading a plain-http notice saved by an older version."""
    dns.names["hooks.example.test"] = [PUBLIC_V4]
    _stored_without_the_check(caseworker.member, "http://hooks.example.test/hook")
    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)
    assert job.last_error == "WebhookNeedsHttps"


@pytest.mark.django_db
def test_the_name_is_resolved_once_and_the_checked_address_is_used(
    caseworker: Staff, dns: HostTable, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    """Attacker: a staff member whose DNS answers a different address on every lookup. Each
    delivery looks the name up once and connects to that address (the name only travels in
    the Host header), so the check and the connection cannot disagree."""
    dns.names["hooks.example.test"] = ["127.0.0.1"]
    _stored_without_the_check(caseworker.member, f"http://hooks.example.test:{receiver.port}/hook")
    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)
    assert job.done_at is not None
    assert dns.lookups == ["hooks.example.test"]
    assert [(post.host, post.path) for post in receiver.posts] == [(f"hooks.example.test:{receiver.port}", "/hook")]


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """An https receiver on 127.0.0.1 whose certificate names hooks.example.test only, from
    an authority this process trusts (OpenSSL reads SSL_CERT_FILE when a context is made)."""
    context, ca_file = make_tls_context(tmp_path, certified_name="hooks.example.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    running = start_receiver(tls=context)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.django_db
def test_tls_is_verified_against_the_host_name_not_the_pinned_address(
    caseworker: Staff,
    coordinator: Staff,
    dns: HostTable,
    tls_receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Attacker: someone who answers on the checked address without a certificate for the
    name (a rebinding or a hijacked route). The connection goes to the pinned address, and the
    certificate must still name the host the member wrote: the right name is told, a name the
    certificate does not cover is not."""
    dns.names["hooks.example.test"] = ["127.0.0.1"]
    dns.names["other.example.test"] = ["127.0.0.1"]
    _stored_without_the_check(caseworker.member, f"https://hooks.example.test:{tls_receiver.port}/hook")
    _stored_without_the_check(coordinator.member, f"https://other.example.test:{tls_receiver.port}/hook")

    job = _notify_about_a_new_case(django_capture_on_commit_callbacks)

    assert [(post.host, post.path) for post in tls_receiver.posts] == [
        (f"hooks.example.test:{tls_receiver.port}", "/hook")
    ]
    assert job.last_error.startswith("SSLCertVerificationError")
    assert list(NotificationSent.objects.values_list("member_id", flat=True)) == [caseworker.member.pk]


@pytest.mark.django_db
def test_a_redirect_is_not_followed(caseworker: Staff, django_capture_on_commit_callbacks: Any) -> None:
    """Attacker: a receiver that answers 307 to another address (inside the network): the
    redirect is a refusal (the job is retried), never a second request."""
    requests: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests.append(self.path)
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/second")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _stored_without_the_check(caseworker.member, f"http://127.0.0.1:{server.server_address[1]}/first")
        job = _notify_about_a_new_case(django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == ["/first"]
    assert job.last_error == "WebhookRejected 307"


# --- the policy itself ---------------------------------------------------------------------


@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize("host", _inside())
def test_no_address_inside_the_servers_own_network_is_allowed(host: str) -> None:
    from notifications import outbound

    address = ipaddress.ip_address(host.strip("[]"))
    assert not outbound.address_allowed(address)
    with pytest.raises(outbound.WebhookAddressPrivate):
        outbound.webhook_target(f"https://{host}/hook")


@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize(("spelling", "address"), ODD_SPELLINGS.items(), ids=list(ODD_SPELLINGS))
def test_an_odd_ipv4_spelling_is_judged_by_the_address_it_stands_for(spelling: str, address: str) -> None:
    from notifications import outbound

    with pytest.raises(outbound.WebhookAddressPrivate):
        outbound.webhook_target(f"https://{spelling}/hook")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [(spelling, address) for spelling, address in ODD_SPELLINGS.items() if address == "127.0.0.1"],
)
def test_an_odd_spelling_reads_as_the_address_a_resolver_would_connect_to(spelling: str, address: str) -> None:
    """While loopback receivers are allowed (test settings), the spelling is accepted and the
    connection would go to the address it stands for, never to the digits read as a name."""
    from notifications import outbound

    target = outbound.webhook_target(f"http://{spelling}:9000/hook")
    assert target.addresses == (ipaddress.ip_address(address),)


@pytest.mark.parametrize("host", OUTSIDE)
def test_public_addresses_are_allowed(host: str) -> None:
    from notifications import outbound

    assert outbound.address_allowed(ipaddress.ip_address(host.strip("[]")))
    assert outbound.webhook_target(f"https://{host}/hook").addresses


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/",
        "https://",
        "https:///hook",
        "https://user:secret@hooks.example.test/hook",
        "https://hooks.example.test:99999/",
        "javascript:alert(1)",
    ],
)
def test_a_url_that_is_not_a_plain_https_address_is_refused(url: str, dns: HostTable) -> None:
    from notifications import outbound

    dns.names["hooks.example.test"] = [PUBLIC_V4]
    with pytest.raises(outbound.WebhookRefused):
        outbound.webhook_target(url)


# --- settings and system checks --------------------------------------------------------------


def test_loopback_receivers_are_allowed_in_the_test_settings() -> None:
    assert django_settings.SP_ENV == "test" and django_settings.SP_WEBHOOK_ALLOW_LOOPBACK is True


def test_the_system_check_refuses_loopback_receivers_in_production() -> None:
    """Attacker: a staff member on a production server whose operator left loopback receivers
    on: the check stops the start (and the worker ignores the setting in production anyway)."""
    with override_settings(PRODUCTION=True, SP_WEBHOOK_ALLOW_LOOPBACK=True):
        assert "notifications.E002" in {message.id for message in run_checks()}
    with override_settings(PRODUCTION=True, SP_WEBHOOK_ALLOW_LOOPBACK=False):
        assert "notifications.E002" not in {message.id for message in run_checks()}
    with override_settings(PRODUCTION=False, SP_WEBHOOK_ALLOW_LOOPBACK=True):
        assert "notifications.E002" not in {message.id for message in run_checks()}


def _production_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SP_ENV": "production",
        "SP_VAR_DIR": str(tmp_path),
        "SP_SECRET_KEY": "k9!Qv3#pL0z@Wm7$Tr2^Yb5&Nc8*Hd1(Gf4)Js6_Xe0+Ua3=Io9-Ek2;Ry7",
        "SP_PEPPER": "".join(f"{i:02x}" for i in range(32)),
        "SP_ALLOWED_HOSTS": "console.example.org",
        "SP_RECOVERY_PUBLIC_KEY": "cd" * 32,
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_with_loopback_receivers_allowed(tmp_path: Path) -> None:
    result = _production_check(tmp_path, SP_WEBHOOK_ALLOW_LOOPBACK="true")
    assert result.returncode != 0
    assert "SP_WEBHOOK_ALLOW_LOOPBACK" in result.stderr
    # Control: the same production settings without it start.
    assert _production_check(tmp_path).returncode == 0
