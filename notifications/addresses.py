"""The notification key: staff contact addresses are encrypted under it.

Notifications go out while nobody is logged in, so unlike case data (DESIGN.md invariant 2)
the key that opens the addresses must be on the server. It is derived from the instance secret
(SP_PEPPER, kept outside the database) with BLAKE2b under its own personalisation, so it is
independent of the codename derivations. It protects the addresses against a leak of the
database alone (a dump, a backup); whoever holds the server's secrets can read them.
"""

from __future__ import annotations

import nacl.hash
from django.conf import settings
from nacl.encoding import RawEncoder

import sealbox

_PERSONAL = b"sp.notify-key.v1"


def notification_key() -> bytes:
    return nacl.hash.blake2b(
        b"", digest_size=sealbox.KEY_BYTES, key=settings.SP_PEPPER[:64], person=_PERSONAL, encoder=RawEncoder
    )


def _ctx(member_id: int, channel: str) -> bytes:
    # Bound to the member and the channel: a ciphertext copied to another row does not open.
    return sealbox.context("notify.address", member_id, channel)


def address_encrypt(member_id: int, channel: str, address: str) -> bytes:
    return sealbox.encrypt(notification_key(), address.encode(), ctx=_ctx(member_id, channel))


def address_decrypt(member_id: int, channel: str, ciphertext: bytes | memoryview) -> str:
    return sealbox.decrypt(notification_key(), bytes(ciphertext), ctx=_ctx(member_id, channel)).decode()
