"""Each staff member's reply-signing key: made at enrolment (or the first login after the
upgrade), sealed under the password, certified with the instance secret, kept by a password
change."""

from __future__ import annotations

import pytest

import sealbox
from accounts.keyring import (
    session_signing_key,
    signing_key_fingerprint,
    staff_keys_unlock,
    staff_signing_key_unlock,
    trusted_signing_key,
)
from accounts.models import StaffMember
from audit.chain import verify_chain
from audit.models import Action, AuditEntry
from casework.models import Message
from tests.personas import FaceClient, PersonAtRisk, Staff

NEW_PASSWORD = "a completely different passphrase 77"
REPLY = "We can meet your friend on Friday"


def _fresh(staff: Staff) -> StaffMember:
    return StaffMember.objects.get(pk=staff.member.pk)


def test_enrolment_makes_a_certified_signing_key_and_records_its_fingerprint(caseworker: Staff) -> None:
    member = _fresh(caseworker)
    seed = staff_signing_key_unlock(member, caseworker.password)

    assert trusted_signing_key(member) == sealbox.SigningKeyPair.from_seed(seed).public_key
    enrol = AuditEntry.objects.filter(action=Action.STAFF_ENROL, actor=member).get()
    assert enrol.details["signing_key"] == signing_key_fingerprint(bytes(member.signing_public_key))
    assert seed not in bytes(member.sealed_signing_key)


def test_the_signing_key_opens_only_with_the_password_and_its_own_context(caseworker: Staff) -> None:
    member = _fresh(caseworker)
    with pytest.raises(sealbox.CryptoError):
        staff_keys_unlock(member, "not the password at all")
    # The two sealed keys cannot stand in for each other (different contexts).
    StaffMember.objects.filter(pk=member.pk).update(sealed_signing_key=member.sealed_private_key)
    with pytest.raises(sealbox.CryptoError):
        staff_keys_unlock(_fresh(caseworker), caseworker.password)


def _change_password(console: FaceClient, staff: Staff) -> int:
    data = {
        "current_password": staff.password,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "code": staff.code(),
    }
    return int(console.post("/account/", data).status_code)


def test_a_password_change_keeps_the_same_signing_key_and_replies_still_reach_the_person(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    seed_before = staff_signing_key_unlock(_fresh(caseworker), caseworker.password)
    console = caseworker.console()
    assert _change_password(console, caseworker) == 200

    member = _fresh(caseworker)
    with pytest.raises(sealbox.CryptoError):
        staff_signing_key_unlock(member, caseworker.password)
    assert staff_signing_key_unlock(member, NEW_PASSWORD) == seed_before
    assert trusted_signing_key(member) is not None
    # The same session replies, and so does a new one with the new password.
    assert console.post(f"/cases/{person.case.public_id}/reply/", {"body": REPLY}).status_code == 302
    renewed = Staff(member, NEW_PASSWORD, caseworker.device).console()
    assert renewed.post(f"/cases/{person.case.public_id}/reply/", {"body": REPLY + "!"}).status_code == 302
    page = person.intake(language="en").get("/conversation/").content.decode()
    assert REPLY in page and REPLY + "!" in page


def _make_legacy(staff: Staff) -> None:
    """The account as it was enrolled before replies were signed."""
    StaffMember.objects.filter(pk=staff.member.pk).update(
        signing_public_key=None, sealed_signing_key=None, signing_key_certificate=None
    )


def test_an_account_from_before_signing_gets_its_key_at_the_next_login(caseworker: Staff, person: PersonAtRisk) -> None:
    _make_legacy(caseworker)
    with pytest.raises(LookupError):
        staff_signing_key_unlock(_fresh(caseworker), caseworker.password)

    console = caseworker.console()

    member = _fresh(caseworker)
    seed = staff_signing_key_unlock(member, caseworker.password)
    assert trusted_signing_key(member) == sealbox.SigningKeyPair.from_seed(seed).public_key
    created = AuditEntry.objects.filter(action=Action.SIGNING_KEY_CREATE, actor=member).get()
    assert created.details == {"signing_key": signing_key_fingerprint(bytes(member.signing_public_key))}
    assert verify_chain().intact
    assert console.post(f"/cases/{person.case.public_id}/reply/", {"body": REPLY}).status_code == 302
    reply = Message.objects.filter(case=person.case, sender="staff").latest("created_at")
    assert reply.signed_by_id == member.pk
    assert REPLY in person.intake(language="en").get("/conversation/").content.decode()
    # A second login opens the same key rather than making another.
    caseworker.console()
    assert staff_signing_key_unlock(_fresh(caseworker), caseworker.password) == seed
    assert AuditEntry.objects.filter(action=Action.SIGNING_KEY_CREATE, actor=member).count() == 1


def test_a_session_without_a_signing_key_is_sent_back_to_log_in(caseworker: Staff) -> None:
    """Sessions opened before the upgrade hold no signing key: they cannot sign, so they end."""
    console = caseworker.console()
    session = console.session
    signing_entries = [name for name in session.keys() if name.endswith("staff_signing_key")]
    assert len(signing_entries) == 1
    del session[signing_entries[0]]
    session.save()

    response = console.get("/inbox/")

    assert response.status_code == 302 and response["Location"] == "/login/"


def test_the_vault_holds_the_signing_key_only_encrypted(caseworker: Staff) -> None:
    console = caseworker.console()
    seed = staff_signing_key_unlock(_fresh(caseworker), caseworker.password)
    stored = b"".join(str(value).encode() for value in console.session.values())
    assert seed.hex().encode() not in stored
    assert session_signing_key is not None  # the accessor the console uses
