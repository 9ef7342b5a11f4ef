"""Certificates of staff X25519 keys: bound to the member and the key, and never
interchangeable with signing-key certificates."""

from __future__ import annotations

import pytest

import sealbox

PEPPER = bytes(range(64))


def _keys() -> tuple[bytes, bytes]:
    return (
        sealbox.server_subkey(PEPPER, sealbox.BOX_CERTIFICATE_KEY_PURPOSE),
        sealbox.server_subkey(PEPPER, sealbox.CERTIFICATE_KEY_PURPOSE),
    )


def test_a_box_certificate_holds_only_for_its_member_and_key() -> None:
    box_key, _signing_key = _keys()
    public_key = sealbox.KeyPair.generate().public_key
    certificate = sealbox.box_key_certificate(box_key, 7, public_key)

    assert sealbox.box_key_certificate_valid(box_key, 7, public_key, certificate)
    assert not sealbox.box_key_certificate_valid(box_key, 8, public_key, certificate)
    assert not sealbox.box_key_certificate_valid(box_key, 7, sealbox.KeyPair.generate().public_key, certificate)
    assert not sealbox.box_key_certificate_valid(box_key, 7, public_key[:31], certificate)
    other_pepper = sealbox.server_subkey(bytes(64), sealbox.BOX_CERTIFICATE_KEY_PURPOSE)
    assert not sealbox.box_key_certificate_valid(other_pepper, 7, public_key, certificate)


def test_the_two_certificate_keys_differ() -> None:
    box_key, signing_key = _keys()
    assert box_key != signing_key


def test_a_signing_key_certificate_never_validates_as_a_box_certificate() -> None:
    box_key, signing_key = _keys()
    public_key = sealbox.SigningKeyPair.generate().public_key
    signing_certificate = sealbox.key_certificate(signing_key, 7, public_key)

    assert not sealbox.box_key_certificate_valid(box_key, 7, public_key, signing_certificate)
    assert not sealbox.key_certificate_valid(
        signing_key, 7, public_key, sealbox.box_key_certificate(box_key, 7, public_key)
    )
    # Even under one and the same key (a misconfiguration), the labels keep them apart.
    assert not sealbox.box_key_certificate_valid(
        signing_key, 7, public_key, sealbox.key_certificate(signing_key, 7, public_key)
    )


def test_certificates_refuse_keys_of_the_wrong_size() -> None:
    box_key, _signing_key = _keys()
    with pytest.raises(ValueError):
        sealbox.box_key_certificate(box_key, 7, b"short")
    with pytest.raises(ValueError):
        sealbox.box_key_certificate(b"short", 7, bytes(32))
