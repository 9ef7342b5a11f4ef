"""Hand-off packets: round trip, known answers, and every way a packet must be refused."""

from __future__ import annotations

import base64
import json

import pytest

from sealbox import KeyPair, SigningKeyPair
from sealbox import handoff as ho


def _org(seed_byte: int) -> tuple[ho.Identity, bytes, bytes]:
    box = KeyPair.from_private(bytes([seed_byte]) * 32)
    signing = SigningKeyPair.from_seed(bytes([seed_byte + 1]) * 32)
    return ho.Identity(box.public_key, signing.public_key), box.private_key, signing.seed


ALPHA, ALPHA_BOX, ALPHA_SEED = _org(1)
BETA, BETA_BOX, BETA_SEED = _org(3)
GAMMA, GAMMA_BOX, GAMMA_SEED = _org(5)
PAYLOAD = {"details": {"region": "north", "help_kinds": ["evacuation"]}, "conversation": [{"body": "Привет"}]}


def _packet(payload=PAYLOAD, **kwargs) -> bytes:
    return ho.packet_seal(payload, sender=ALPHA, sender_seed=ALPHA_SEED, recipient=BETA, **kwargs)


def _open(raw: bytes, *, recipient=BETA, private=BETA_BOX, sender=ALPHA) -> ho.OpenedPacket:
    return ho.packet_open(raw, recipient=recipient, recipient_private_key=private, sender=sender)


def test_round_trip_gives_back_the_payload_and_id():
    raw = _packet(packet_id=bytes(range(16)))
    opened = _open(raw)
    assert opened.payload == PAYLOAD
    assert opened.packet_id == bytes(range(16))
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1


def test_payload_is_not_in_the_file():
    raw = _packet()
    assert b"north" not in raw and "Привет".encode() not in raw and b"evacuation" not in raw


def test_fingerprint_known_answer_and_text():
    # Fixed keys give a fixed fingerprint (recomputed here from the documented formula).
    import nacl.hash
    from nacl.encoding import RawEncoder

    from sealbox import context

    expected = nacl.hash.blake2b(
        context("sp.handoff-id.v1", ALPHA.box_public_key, ALPHA.verify_key),
        digest_size=32,
        person=b"sp.handoff-fp.v1",
        encoder=RawEncoder,
    )
    assert ALPHA.fingerprint == expected
    text = ho.fingerprint_text(expected)
    assert text.replace(" ", "") == expected.hex() and len(text.split()) == 16
    assert ALPHA.fingerprint != BETA.fingerprint
    # Swapping the two keys gives another identity.
    assert ho.fingerprint(ALPHA.verify_key, ALPHA.box_public_key) != ALPHA.fingerprint


def test_signature_is_a_known_answer_over_the_documented_statement():
    from sealbox import context, signature_valid

    raw = _packet(packet_id=b"\x07" * 16)
    fields = json.loads(raw)
    ciphertext = base64.b64decode(fields["ciphertext"])
    statement = context("sp.handoff.v1", "sp-handoff-1", BETA.fingerprint, ALPHA.fingerprint, b"\x07" * 16, ciphertext)
    assert signature_valid(ALPHA.verify_key, statement, base64.b64decode(fields["signature"]))
    assert fields["recipient"] == BETA.fingerprint.hex() and fields["sender"] == ALPHA.fingerprint.hex()
    assert fields["format"] == "sp-handoff-1"


def test_canonical_encoding_is_sorted_compact_ascii():
    assert ho.canonical({"b": 1, "a": ["é", None]}) == b'{"a":["\\u00e9",null],"b":1}'


@pytest.mark.parametrize("flip", [0x01, 0x80])
def test_every_byte_flip_is_rejected(flip):
    raw = _packet()
    for index in range(len(raw)):
        damaged = bytearray(raw)
        damaged[index] ^= flip
        with pytest.raises(ho.PacketRejected):
            _open(bytes(damaged))


def test_truncated_or_extended_packets_are_rejected():
    raw = _packet()
    for damaged in (raw[:-1], raw + b"\n", b" " + raw, raw[: len(raw) // 2], b"", b"{}\n"):
        with pytest.raises(ho.PacketRejected) as caught:
            _open(damaged)
        assert caught.value.reason == ho.REASON_FORMAT


def test_non_canonical_but_equivalent_json_is_rejected():
    fields = json.loads(_packet())
    pretty = json.dumps(fields, indent=1).encode() + b"\n"
    with pytest.raises(ho.PacketRejected) as caught:
        _open(pretty)
    assert caught.value.reason == ho.REASON_FORMAT


def test_another_format_version_is_rejected():
    fields = json.loads(_packet())
    fields["format"] = "sp-handoff-2"
    with pytest.raises(ho.PacketRejected) as caught:
        _open(ho.canonical(fields) + b"\n")
    assert caught.value.reason == ho.REASON_FORMAT


def test_wrong_recipient_is_rejected_before_decryption():
    raw = _packet()
    with pytest.raises(ho.PacketRejected) as caught:
        _open(raw, recipient=GAMMA, private=GAMMA_BOX)
    assert caught.value.reason == ho.REASON_RECIPIENT


def test_packet_replayed_to_another_partner_is_rejected_even_when_readdressed():
    # Gamma receives a copy of Alpha's packet for Beta and rewrites the address to itself:
    # the signature no longer holds, and the ciphertext would not open for Gamma anyway.
    fields = json.loads(_packet())
    fields["recipient"] = GAMMA.fingerprint.hex()
    readdressed = ho.canonical(fields) + b"\n"
    with pytest.raises(ho.PacketRejected) as caught:
        _open(readdressed, recipient=GAMMA, private=GAMMA_BOX)
    assert caught.value.reason == ho.REASON_SIGNATURE


def test_wrong_sender_is_rejected():
    raw = _packet()
    with pytest.raises(ho.PacketRejected) as caught:
        _open(raw, sender=GAMMA)
    assert caught.value.reason == ho.REASON_SENDER


def test_forged_by_someone_else_claiming_the_sender_fingerprint_is_rejected():
    # Gamma signs with its own key but puts Alpha's fingerprint as the sender.
    forged_identity = ho.Identity(GAMMA.box_public_key, GAMMA.verify_key)
    raw = ho.packet_seal(PAYLOAD, sender=forged_identity, sender_seed=GAMMA_SEED, recipient=BETA)
    fields = json.loads(raw)
    fields["sender"] = ALPHA.fingerprint.hex()
    with pytest.raises(ho.PacketRejected) as caught:
        _open(ho.canonical(fields) + b"\n")
    assert caught.value.reason == ho.REASON_SIGNATURE


def test_signed_but_wrong_private_key_does_not_open():
    raw = _packet()
    with pytest.raises(ho.PacketRejected) as caught:
        _open(raw, private=GAMMA_BOX)
    assert caught.value.reason == ho.REASON_CONTENT


@pytest.mark.parametrize(
    "text",
    [
        "00" * 32,
        " ".join(["0000"] * 16),
        base64.b64encode(b"\x00" * 32).decode(),
        base64.b64encode(b"\x00" * 32).decode().rstrip("="),
    ],
)
def test_parse_key_accepts_hex_and_base64(text):
    assert ho.parse_key(text) == b"\x00" * 32


def test_parse_key_round_trips_real_keys():
    key = ALPHA.box_public_key
    assert ho.parse_key(key.hex()) == key
    assert ho.parse_key(base64.b64encode(key).decode()) == key
    assert ho.parse_key(base64.urlsafe_b64encode(key).decode()) == key


@pytest.mark.parametrize("text", ["", "00" * 31, "zz" * 32, "AAAA", base64.b64encode(b"\x00" * 33).decode(), "ключ"])
def test_parse_key_refuses_anything_else(text):
    with pytest.raises(ValueError):
        ho.parse_key(text)


def test_a_deeply_nested_file_is_refused_as_damaged_not_a_crash():
    with pytest.raises(ho.PacketRejected) as refused:
        _open(b"[" * 200_000 + b"]" * 200_000 + b"\n")
    assert refused.value.reason == ho.REASON_FORMAT


def test_a_deeply_nested_signed_body_is_refused_as_damaged_not_a_crash():
    body = b'{"a":' * 200_000 + b"1" + b"}" * 200_000
    packet_id = bytes(16)
    recipient, sender = BETA.fingerprint, ALPHA.fingerprint
    ciphertext = ho.seal(BETA.box_public_key, body, ctx=ho._body_ctx(recipient, sender, packet_id))
    fields = {
        "ciphertext": ho._b64(ciphertext),
        "format": ho.FORMAT,
        "packet_id": packet_id.hex(),
        "recipient": recipient.hex(),
        "sender": sender.hex(),
        "signature": ho._b64(ho.sign(ALPHA_SEED, ho._statement(recipient, sender, packet_id, ciphertext))),
    }
    with pytest.raises(ho.PacketRejected) as refused:
        _open(ho.canonical(fields) + b"\n")
    assert refused.value.reason == ho.REASON_FORMAT


CERT_KEY = bytes(range(32))


def test_a_partner_certificate_binds_id_name_and_both_keys():
    cert = ho.partner_certificate(CERT_KEY, 7, "Partner", ALPHA.box_public_key, ALPHA.verify_key)
    assert ho.partner_certificate_valid(CERT_KEY, 7, "Partner", ALPHA.box_public_key, ALPHA.verify_key, cert)
    for args in [
        (8, "Partner", ALPHA.box_public_key, ALPHA.verify_key),
        (7, "Partner2", ALPHA.box_public_key, ALPHA.verify_key),
        (7, "Partner", GAMMA.box_public_key, ALPHA.verify_key),
        (7, "Partner", ALPHA.box_public_key, GAMMA.verify_key),
    ]:
        assert not ho.partner_certificate_valid(CERT_KEY, *args, cert)
    assert not ho.partner_certificate_valid(bytes(32), 7, "Partner", ALPHA.box_public_key, ALPHA.verify_key, cert)
    assert not ho.partner_certificate_valid(CERT_KEY, 7, "Partner", ALPHA.box_public_key, ALPHA.verify_key, b"")


def test_partner_org_and_staff_certificates_never_validate_as_each_other():
    from sealbox.signing import box_key_certificate, key_certificate

    org = ho.org_keys_certificate(CERT_KEY, 1, ALPHA.box_public_key, ALPHA.verify_key)
    assert ho.org_keys_certificate_valid(CERT_KEY, 1, ALPHA.box_public_key, ALPHA.verify_key, org)
    assert not ho.org_keys_certificate_valid(CERT_KEY, 2, ALPHA.box_public_key, ALPHA.verify_key, org)
    partner = ho.partner_certificate(CERT_KEY, 1, "", ALPHA.box_public_key, ALPHA.verify_key)
    assert not ho.partner_certificate_valid(CERT_KEY, 1, "", ALPHA.box_public_key, ALPHA.verify_key, org)
    assert not ho.org_keys_certificate_valid(CERT_KEY, 1, ALPHA.box_public_key, ALPHA.verify_key, partner)
    assert key_certificate(CERT_KEY, 1, ALPHA.box_public_key) not in {org, partner}
    assert box_key_certificate(CERT_KEY, 1, ALPHA.box_public_key) not in {org, partner}
    assert len({ho.PARTNER_CERTIFICATE_KEY_PURPOSE, ho.ORG_KEYS_CERTIFICATE_KEY_PURPOSE}) == 2
