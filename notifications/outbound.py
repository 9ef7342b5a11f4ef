"""Requests the server makes to an address a staff member chose: today, webhooks.

The member chooses the URL, but the request leaves from the server, inside the organisation's
network. Aimed at 127.0.0.1, 10.0.0.5 or 169.254.169.254 it would make the server call its own
services, or the cloud's metadata service, which hands out credentials: a server-side request
forgery. So:

- the host is resolved once, and every address it resolves to must be public: the standard
  library's registry of special ranges (``ipaddress``), with the IPv4 address carried inside
  IPv4-mapped, 6to4 and NAT64 IPv6 addresses judged too. A host written as a number in any
  spelling a resolver accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) is read the way
  ``inet_aton`` reads it, so it is judged by the address it stands for;
- the connection goes to the address that was checked (pinned), never to a second lookup, so a
  name that answers differently a moment later (DNS rebinding) cannot slip between the check
  and the connection; TLS is still verified against the host name the member wrote;
- https only. Plain http only to a receiver on this machine, and receivers on this machine only
  while SP_WEBHOOK_ALLOW_LOOPBACK is on, which is never in production (the test suite's and a
  developer's local receivers);
- redirects are not followed: a 3xx is a refusal like any other status outside 2xx.

The same check runs when the member saves the URL (services.preference_set) and before every
delivery (delivery.send_webhook), so an address saved under an earlier rule, or a name that
later points inside, is refused when it matters. Any future request to a staff-chosen address
must go through ``webhook_target`` and ``pinned_post`` too.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# RFC 6052's well-known NAT64 prefix: the last 32 bits are the IPv4 host it reaches. (The
# local-use prefix 64:ff9b:1::/48 is left to the reserved ::/8 rule and refused.)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not globally reachable in IANA's special-purpose registries, but not yet in the registry of
# the Python this runs on (3.11): the IETF protocol block and the newer IPv6 documentation block.
_NOT_PUBLIC_BEYOND_STDLIB = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv6Network("3fff::/20"))
_DEFAULT_PORTS = {"https": 443, "http": 80}
_HOST_NAME = re.compile(r"[a-z0-9._-]{1,253}")


class WebhookRefused(ValueError):
    """The URL may not be a webhook. ``message`` is for the member, in their language;
    ``reason`` is the short code the audit log records."""

    message: StrPromise = _("Enter a valid https:// URL.")
    reason = "invalid"


class WebhookUrlInvalid(WebhookRefused):
    pass


class WebhookNeedsHttps(WebhookRefused):
    reason = "needs_https"


class WebhookAddressPrivate(WebhookRefused):
    reason = "private"
    message = _(
        "This address leads into the server's own network, which is not allowed. "
        "Enter the public https:// address of your webhook."
    )


class WebhookHostUnknown(WebhookRefused):
    reason = "unknown_host"
    message = _("The server could not find this host name. Check the address and try again.")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


# Host names are looked up through this; the tests put a table of names here so that no test
# asks a real DNS server. Nothing else changes it.
resolver: Resolver = system_resolver


def loopback_allowed() -> bool:
    """Receivers on this machine: for the test suite and development only, never in
    production whatever the setting says (and the check notifications.E002 refuses it there)."""
    return bool(settings.SP_WEBHOOK_ALLOW_LOOPBACK) and not settings.PRODUCTION


def address_allowed(address: IPAddress) -> bool:
    """May the server send a notice to ``address``?"""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_allowed(address.ipv4_mapped)  # the same host as its IPv4 form
    if address.is_loopback and loopback_allowed():
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        embedded = [address.sixtofour, *(address.teredo or ())]
        if not all(_is_public(inner) for inner in embedded if inner is not None):
            return False
    return _is_public(address)


def _is_public(address: IPAddress) -> bool:
    # is_global alone lets multicast through, so every special kind is named.
    special = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or any(address in network for network in _NOT_PUBLIC_BEYOND_STDLIB)
    )
    return address.is_global and not special


@dataclass(frozen=True)
class WebhookTarget:
    """Where one notice goes: the URL's parts, and the checked addresses to connect to."""

    scheme: str
    host: str  # as sent in the Host header and checked against the certificate (IDNA)
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def webhook_target(url: str) -> WebhookTarget:
    """Check ``url`` and resolve its host, or raise a WebhookRefused saying why not."""
    scheme, host, port, path = _parts(url)
    addresses = _resolve(host, port)
    if not all(address_allowed(address) for address in addresses):
        raise WebhookAddressPrivate
    # Plain http would show the case id and console link to anyone on the way.
    if scheme != "https" and not all(address.is_loopback or _mapped_loopback(address) for address in addresses):
        raise WebhookNeedsHttps
    return WebhookTarget(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def _mapped_loopback(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv6Address) and bool(address.ipv4_mapped and address.ipv4_mapped.is_loopback)


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise WebhookUrlInvalid from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise WebhookUrlInvalid
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlInvalid  # credentials in the URL would be sent to wherever it points
    try:
        host = parts.hostname if parts.hostname.isascii() else parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise WebhookUrlInvalid from None
    if not (_HOST_NAME.fullmatch(host) or _is_ip_literal(host)):
        raise WebhookUrlInvalid  # spaces, control characters, anything a resolver might misread
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme], path


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """The addresses ``host`` stands for: an IP literal itself, a number in any spelling
    inet_aton accepts as that IPv4 address, a name through the resolver."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        return (ipaddress.IPv4Address(socket.inet_aton(host)),)
    except OSError:
        pass
    try:
        answers = resolver(host, port)
    except (OSError, ValueError):  # gaierror, and the codec errors of odd names
        raise WebhookHostUnknown from None
    addresses = tuple(ipaddress.ip_address(answer) for answer in answers)
    if not addresses:
        raise WebhookHostUnknown
    return addresses


def _connect_pinned(target: WebhookTarget, timeout: float | None) -> socket.socket:
    """A TCP connection to the first checked address that answers; never a new lookup."""
    errors: list[OSError] = []
    for address in target.addresses:  # never empty: webhook_target refuses a host without one
        try:
            return socket.create_connection((str(address), target.port), timeout=timeout)
        except OSError as exc:
            errors.append(exc)
    raise errors[-1]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: WebhookTarget, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        self.sock = _connect_pinned(self._target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: WebhookTarget, timeout: float) -> None:
        self._tls = ssl.create_default_context()  # certificate and host name both verified
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._target = target

    def connect(self) -> None:
        raw = _connect_pinned(self._target, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self._target.host)
        except BaseException:
            raw.close()
            raise


def pinned_post(target: WebhookTarget, body: bytes, *, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to the checked target and return the HTTP status. A redirect is returned
    like any other status, never followed."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()
