"""The certificate of each staff member's X25519 public key (the key case keys are wrapped to):
made at enrolment or by the upgrade, kept by a password change, and failing for any key or
certificate a database writer puts in."""

from __future__ import annotations

import importlib

from django.apps import apps

import sealbox
from accounts.keyring import staff_private_key_unlock, trusted_box_key, trusted_signing_key
from accounts.models import StaffMember
from tests.personas import FaceClient, Staff

NEW_PASSWORD = "a completely different passphrase 77"


def _fresh(staff: Staff) -> StaffMember:
    return StaffMember.objects.get(pk=staff.member.pk)


def _own_public_key(staff: Staff, password: str) -> bytes:
    private = staff_private_key_unlock(_fresh(staff), password)
    return sealbox.KeyPair.from_private(private).public_key


def test_enrolment_certifies_the_public_key_the_password_opens(caseworker: Staff) -> None:
    member = _fresh(caseworker)
    assert member.box_key_certificate
    assert trusted_box_key(member) == _own_public_key(caseworker, caseworker.password)


def test_a_public_key_swapped_in_the_database_is_not_trusted(caseworker: Staff) -> None:
    attacker = sealbox.KeyPair.generate()
    StaffMember.objects.filter(pk=caseworker.member.pk).update(public_key=attacker.public_key)
    assert trusted_box_key(_fresh(caseworker)) is None


def test_a_missing_certificate_is_not_trusted(caseworker: Staff) -> None:
    StaffMember.objects.filter(pk=caseworker.member.pk).update(box_key_certificate=None)
    assert trusted_box_key(_fresh(caseworker)) is None


def test_a_key_and_certificate_copied_from_another_member_are_not_trusted(caseworker: Staff, outsider: Staff) -> None:
    """Both columns copied: the certificate names the other member's id, so it fails here."""
    other = _fresh(outsider)
    StaffMember.objects.filter(pk=caseworker.member.pk).update(
        public_key=other.public_key, box_key_certificate=other.box_key_certificate
    )
    assert trusted_box_key(_fresh(caseworker)) is None
    assert trusted_box_key(_fresh(outsider)) == bytes(other.public_key)


def test_a_signing_key_certificate_does_not_vouch_for_an_encryption_key(caseworker: Staff) -> None:
    """A writer copies the member's (valid) signing key and its certificate into the X25519
    columns: the signing certificate is made under another key and label, so it fails."""
    member = _fresh(caseworker)
    assert trusted_signing_key(member) is not None
    StaffMember.objects.filter(pk=member.pk).update(
        public_key=member.signing_public_key, box_key_certificate=member.signing_key_certificate
    )
    assert trusted_box_key(_fresh(caseworker)) is None


def test_a_password_change_keeps_the_key_pair_and_its_certificate(caseworker: Staff) -> None:
    before = _fresh(caseworker)
    console: FaceClient = caseworker.console()
    data = {
        "current_password": caseworker.password,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "code": caseworker.code(),
    }
    assert console.post("/account/", data).status_code == 200

    after = _fresh(caseworker)
    assert bytes(after.sealed_private_key) != bytes(before.sealed_private_key)
    assert bytes(after.box_key_certificate) == bytes(before.box_key_certificate)
    assert trusted_box_key(after) == _own_public_key(caseworker, NEW_PASSWORD)


def test_the_upgrade_certifies_the_keys_present_and_leaves_existing_certificates(
    caseworker: Staff, outsider: Staff
) -> None:
    """Accounts enrolled before keys were certified get their certificate from migration 0007,
    which trusts the database as it is at the moment of upgrading."""
    StaffMember.objects.filter(pk=caseworker.member.pk).update(box_key_certificate=None)
    kept = bytes(_fresh(outsider).box_key_certificate)
    assert trusted_box_key(_fresh(caseworker)) is None

    migration = importlib.import_module("accounts.migrations.0007_certify_existing_box_keys")
    migration.certify_existing(apps, None)

    assert trusted_box_key(_fresh(caseworker)) == _own_public_key(caseworker, caseworker.password)
    assert bytes(_fresh(outsider).box_key_certificate) == kept
    # A key written after the upgrade gets nothing from it.
    StaffMember.objects.filter(pk=caseworker.member.pk).update(public_key=sealbox.KeyPair.generate().public_key)
    assert trusted_box_key(_fresh(caseworker)) is None
