"""Row certificates: a keyed tag the server puts on every database row whose key or authority
decides who can read what is written next (docs/crypto.md, "Certified rows").

A database writer can insert or change any row, but cannot compute a tag under a key derived
from the instance secret, which is never in the database. So the application checks the tag
before it seals anything to a key read from such a row, or hands a key on because of one:

    row certificate key = BLAKE2b-256("", key = pepper[:64], person = "sp.row-cert-k.v1")
    row certificate     = BLAKE2b-256(context("sp.row.v1", table, *parts),
                                      key = row certificate key, person = "sp.row-cert.v1")

``table`` names the kind of row ("case.key", "person.credential", ...), and ``parts`` are the
row's fields that matter, each length-prefixed by ``context``: a certificate never validates for
another table, another row or another value. It proves that the application wrote the row as
it is; it cannot prove the row is the newest one the application wrote (someone who kept an
older copy of a row and its certificate can put it back), see docs/crypto.md.
"""

from __future__ import annotations

import hmac

import nacl.hash
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES, context

ROW_CERTIFICATE_KEY_PURPOSE = b"sp.row-cert-k.v1"
ROW_CERTIFICATE_BYTES = 32
_PERSON = b"sp.row-cert.v1"

Part = str | bytes | int


def row_certificate(certificate_key: bytes, table: str, *parts: Part) -> bytes:
    """The certificate of one row of ``table`` whose certified fields are ``parts``."""
    if not isinstance(certificate_key, bytes) or len(certificate_key) != KEY_BYTES:
        raise ValueError("row certificate keys are 32 bytes")
    if not table:
        raise ValueError("a row certificate names its table")
    for part in parts:
        # bool is an int: True and 1 would certify alike. Callers spell flags out as words.
        if isinstance(part, bool) or not isinstance(part, str | bytes | int):
            raise TypeError(f"row certificate parts are str, bytes or int, not {type(part).__name__}")
    statement = context("sp.row.v1", table, *parts)
    return nacl.hash.blake2b(
        statement, digest_size=ROW_CERTIFICATE_BYTES, key=certificate_key, person=_PERSON, encoder=RawEncoder
    )


def row_certificate_valid(certificate_key: bytes, certificate: bytes | None, table: str, *parts: Part) -> bool:
    """Whether ``certificate`` is the certificate of exactly this row. A missing one is not."""
    if not certificate or len(certificate) != ROW_CERTIFICATE_BYTES:
        return False
    return hmac.compare_digest(row_certificate(certificate_key, table, *parts), bytes(certificate))
