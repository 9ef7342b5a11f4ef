"""Someone who can write to the database alone cannot put words in staff's mouth.

Every input of a message is public, so the forgeries below are sealed exactly as the real
services seal them: only the proof of origin (signature, certificate, server tag) is missing
or wrong. The person must never see them; staff see them flagged."""

from __future__ import annotations

import importlib
import logging
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection

import sealbox
from accounts.keyring import trusted_signing_key
from accounts.models import StaffMember
from casework import authenticity, keys, selectors, services
from casework.models import Case, Message, MessageKey
from tests.personas import PersonAtRisk, Staff

FORGED = "This is your caseworker. Come alone to the station at 9, bring your passport."
GENUINE = "We are arranging a safe place for you."
FLAG = "Signature not valid"


def _forge(case: Case, *, sender: str = "staff", author: StaffMember | None = None, **fields: object) -> Message:
    """A message written straight into the database, sealed the way the services seal one."""
    case.refresh_from_db()
    data_key = sealbox.random_key()
    message = Message(id=uuid.uuid4(), case=case, sender=sender, author=author, **fields)
    message.body_ct = sealbox.encrypt(data_key, FORGED.encode(), ctx=keys.message_body_ctx(message))
    message.save(force_insert=True)
    ctx = keys.message_key_ctx(message.id)
    credential = case.reply_credential
    case_key = keys.current_case_key(case)
    MessageKey.objects.bulk_create(
        [
            MessageKey(
                message=message,
                credential=credential,
                sealed_key=sealbox.seal(bytes(credential.public_key), data_key, ctx=ctx),
            ),
            MessageKey(
                message=message,
                case_key=case_key,
                sealed_key=sealbox.seal(bytes(case_key.public_key), data_key, ctx=ctx),
            ),
        ]
    )
    return message


def _person_sees(person: PersonAtRisk) -> str:
    return person.intake(language="en").get("/conversation/").content.decode()


def _reply(staff: Staff, case: Case, body: str = GENUINE) -> Message:
    assert staff.console().post(f"/cases/{case.public_id}/reply/", {"body": body}).status_code == 302
    return Message.objects.filter(case=case, sender=Message.Sender.STAFF).latest("created_at")


def test_a_genuine_reply_is_signed_by_its_author_and_shown(caseworker: Staff, person: PersonAtRisk) -> None:
    message = _reply(caseworker, person.case)

    assert message.signed_by == caseworker.member and len(bytes(message.signature)) == 64
    assert authenticity.message_authentic(message)
    assert GENUINE in _person_sees(person)
    assert FLAG not in caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()


def test_an_unsigned_staff_message_written_into_the_database_is_never_shown_to_the_person(
    caseworker: Staff, person: PersonAtRisk, caplog: pytest.LogCaptureFixture
) -> None:
    _reply(caseworker, person.case)
    forged = _forge(person.case, author=caseworker.member)

    with caplog.at_level(logging.WARNING, logger="casework.authenticity"):
        page = _person_sees(person)

    assert FORGED not in page and GENUINE in page
    warnings = [record.getMessage() for record in caplog.records if record.name == "casework.authenticity"]
    assert warnings and str(forged.pk) in warnings[0]
    assert all(FORGED not in text and "station" not in text for text in warnings)
    console = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert FORGED in console and FLAG in console and "database access" in console


def test_a_forged_message_inserted_with_raw_sql_is_never_shown(caseworker: Staff, person: PersonAtRisk) -> None:
    """The same forgery without the ORM: the application's own code plays no part in it."""
    template = _forge(person.case, author=caseworker.member)
    new_id = uuid.uuid4()
    table, key_table = Message._meta.db_table, MessageKey._meta.db_table
    id_value = new_id.hex if connection.vendor == "sqlite" else str(new_id)
    data_key = sealbox.random_key()
    moved = Message(
        id=new_id, case=person.case, sender="staff", author=caseworker.member, created_at=template.created_at
    )
    body_ct = sealbox.encrypt(data_key, FORGED.encode(), ctx=keys.message_body_ctx(moved))
    credential = person.case.reply_credential
    sealed = sealbox.seal(bytes(credential.public_key), data_key, ctx=keys.message_key_ctx(new_id))
    Message.objects.filter(pk=template.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, case_id, sender, author_id, created_at, after_duress, is_decoy, held, body_ct)"  # noqa: S608
            " VALUES (%s, %s, 'staff', %s, %s, %s, %s, %s, %s)",
            [id_value, person.case.pk, caseworker.member.pk, template.created_at, False, False, False, body_ct],
        )
        cursor.execute(
            f"INSERT INTO {key_table} (message_id, credential_id, sealed_key) VALUES (%s, %s, %s)",  # noqa: S608
            [id_value, credential.pk, sealed],
        )
    assert MessageKey.objects.filter(message_id=new_id, credential=credential).exists()

    assert FORGED not in _person_sees(person)


def test_a_signature_by_a_key_the_server_never_certified_is_rejected(caseworker: Staff, person: PersonAtRisk) -> None:
    """The writer puts a signing key of their own on the caseworker's row and signs with it."""
    genuine = _reply(caseworker, person.case)
    own = sealbox.SigningKeyPair.generate()
    StaffMember.objects.filter(pk=caseworker.member.pk).update(signing_public_key=own.public_key)
    member = StaffMember.objects.get(pk=caseworker.member.pk)
    forged = _forge(person.case, author=member)
    forged.signed_by = member
    forged.signature = sealbox.sign(own.seed, authenticity.statement(forged))
    forged.save(update_fields=["signed_by", "signature"])

    assert trusted_signing_key(member) is None
    assert not authenticity.message_authentic(Message.objects.get(pk=forged.pk))
    page = _person_sees(person)
    assert FORGED not in page
    # The swap also hides the caseworker's genuine replies: a loud failure, not a silent one.
    assert GENUINE not in page and not authenticity.message_authentic(Message.objects.get(pk=genuine.pk))


def test_a_certificate_copied_from_another_member_does_not_vouch_for_a_key(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    victim = StaffMember.objects.get(pk=coordinator.member.pk)
    StaffMember.objects.filter(pk=caseworker.member.pk).update(
        signing_public_key=victim.signing_public_key, signing_key_certificate=victim.signing_key_certificate
    )
    assert trusted_signing_key(victim) is not None
    assert trusted_signing_key(StaffMember.objects.get(pk=caseworker.member.pk)) is None


def test_a_signed_reply_moved_in_time_or_relabelled_is_hidden(caseworker: Staff, person: PersonAtRisk) -> None:
    message = _reply(caseworker, person.case)
    Message.objects.filter(pk=message.pk).update(created_at=message.created_at + timedelta(days=2))

    assert GENUINE not in _person_sees(person)


def test_a_person_or_automatic_message_without_the_server_tag_is_never_shown(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    _forge(person.case, sender=Message.Sender.AUTOMATIC)
    _forge(person.case, sender=Message.Sender.PERSON)

    page = _person_sees(person)

    assert FORGED not in page
    assert "First message from the person." in page  # the genuine ones, tagged at intake, still show


def test_a_server_tag_does_not_stand_in_for_a_staff_signature(caseworker: Staff, person: PersonAtRisk) -> None:
    """Tags under the normal server key prove only the server's own messages."""
    forged = _forge(person.case, author=caseworker.member)
    forged.server_tag = sealbox.message_tag(
        sealbox.server_subkey(b"\x07" * 32, sealbox.MESSAGE_TAG_KEY_PURPOSE), authenticity.statement(forged)
    )
    forged.save(update_fields=["server_tag"])

    assert not authenticity.message_authentic(forged)


def test_a_released_reply_is_signed_again_by_the_coordinator_and_reaches_the_person(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    person.intake(duress=True)
    person.case.refresh_from_db()
    held = _reply(caseworker, person.case)
    assert held.held and authenticity.message_authentic(held)
    services.case_duress_clear(
        case=person.case,
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        reason="reached_safe_channel",
    )

    response = coordinator.console().post(
        f"/cases/{person.case.public_id}/messages/{held.pk}/release/", {"confirm": "on"}
    )

    assert response.status_code == 302
    released = Message.objects.get(pk=held.pk)
    assert released.signed_by_id == coordinator.member.pk and released.author_id == caseworker.member.pk
    assert authenticity.message_authentic(released)
    assert GENUINE in _person_sees(person)


def test_a_forged_held_reply_is_not_released(caseworker: Staff, coordinator: Staff, person: PersonAtRisk) -> None:
    """A coordinator's release would otherwise sign the forgery for the writer."""
    forged = _forge(person.case, author=caseworker.member, held=True)
    MessageKey.objects.filter(message=forged, credential__isnull=False).delete()

    response = coordinator.console(language="en").post(
        f"/cases/{person.case.public_id}/messages/{forged.pk}/release/", {"confirm": "on"}
    )

    assert response.status_code == 400
    assert "signature is not valid" in response.content.decode()
    assert Message.objects.get(pk=forged.pk).held


def test_existing_messages_are_tagged_once_by_the_upgrade(caseworker: Staff, person: PersonAtRisk) -> None:
    """Rows written before authentication existed get their proof from migration 0005."""
    reply = _reply(caseworker, person.case)
    Message.objects.filter(case=person.case).update(signature=None, signed_by=None, server_tag=None)
    assert GENUINE not in _person_sees(person)

    migration = importlib.import_module("casework.migrations.0006_tag_existing_messages")
    migration.tag_existing(apps, None)

    assert authenticity.message_authentic(Message.objects.get(pk=reply.pk))
    page = _person_sees(person)
    assert GENUINE in page and "First message from the person." in page
    # A row inserted after the upgrade gets nothing from it.
    _forge(person.case, author=caseworker.member)
    assert FORGED not in _person_sees(person)


def test_staff_are_told_when_a_person_message_fails_its_check(caseworker: Staff, person: PersonAtRisk) -> None:
    _forge(person.case, sender=Message.Sender.PERSON)
    views = selectors.conversation_for_staff(person.case, caseworker.member, _private_key(caseworker))
    assert [view.body for view in views if not view.authentic] == [FORGED]


def _private_key(staff: Staff) -> bytes:
    from accounts.keyring import staff_private_key_unlock

    return staff_private_key_unlock(staff.member, staff.password)
