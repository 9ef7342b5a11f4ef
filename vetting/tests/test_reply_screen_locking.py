"""The sensitive-item check of a reply decides on the case state the reply is written under,
and a held reply is checked again when a coordinator releases it (T3, T4)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from audit.models import Action, AuditEntry
from casework import keys
from casework import services as casework_services
from casework.lifecycle import State
from casework.models import Case, Message
from tests.personas import PersonAtRisk, Staff
from vetting import sensitive
from vetting.models import SensitiveItem, SensitiveKind
from vetting.tests.conftest import private_key
from vetting.tests.test_sensitive_items import SAFE_HOUSE, _verify

DRAFT = "The flat: Ленина 15, кв 42, домофон 4417."


@pytest.fixture
def safe_house(coordinator: Staff, caseworker: Staff) -> SensitiveItem:
    return sensitive.sensitive_item_create(actor=coordinator.member, kind=SensitiveKind.SAFE_HOUSE, text=SAFE_HOUSE)


def _held_sensitive_reply(person: PersonAtRisk, caseworker: Staff) -> Message:
    casework_services.case_mark_duress(person.case)
    return casework_services.message_post_from_staff(
        case=person.case,
        member=caseworker.member,
        signing_key=caseworker.signing_key,
        member_private_key=caseworker.private_key,
        body=DRAFT,
        sensitive_confirmed=True,
    )


def _release(person: PersonAtRisk, coordinator: Staff, message: Message) -> Message:
    return casework_services.message_release(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=private_key(coordinator),
        actor_signing_key=coordinator.signing_key,
        message_id=message.pk,
    )


def test_a_held_reply_with_a_sensitive_item_is_not_released_while_the_case_is_under_duress(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    coordinator: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    message = _held_sensitive_reply(vetted_person, caseworker)
    assert message.held

    response = coordinator.console(language="en").post(
        f"/cases/{vetted_person.case.public_id}/messages/{message.pk}/release/", {"confirm": "on"}
    )
    assert "seems to contain a sensitive item (Safe-house address)" in response.content.decode()
    message.refresh_from_db()
    assert message.held
    refused = AuditEntry.objects.get(action=Action.SENSITIVE_REPLY_REFUSED, case_public_id=vetted_person.case.public_id)
    assert refused.details == {"kinds": "safe_house", "message": str(message.pk), "release": True}
    ru = coordinator.console(language="ru").post(
        f"/cases/{vetted_person.case.public_id}/messages/{message.pk}/release/", {"confirm": "on"}
    )
    assert "секретные сведения (Адрес убежища)" in ru.content.decode()

    # Once the person was reached another way and the duress state cleared, it may go.
    assert casework_services.case_duress_clear(
        case=vetted_person.case,
        actor=caseworker.member,
        actor_private_key=private_key(caseworker),
        reason="reached_safe_channel",
    )
    assert not _release(vetted_person, coordinator, message).held


def test_a_held_reply_with_a_sensitive_item_is_not_released_once_the_case_is_no_longer_verified(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    coordinator: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    message = _held_sensitive_reply(vetted_person, caseworker)
    with transaction.atomic():  # as the application changes state: certified
        locked = Case.objects.select_for_update().get(pk=vetted_person.case.pk)
        keys.case_recertify(locked, under_duress_since=None, status=State.VETTING)
    with pytest.raises(casework_services.DuressActionRefused):
        _release(vetted_person, coordinator, message)
    message.refresh_from_db()
    assert message.held


def test_a_harmless_held_reply_is_released_under_duress_as_before(
    vetted_person: PersonAtRisk, caseworker: Staff, coordinator: Staff, safe_house: SensitiveItem
) -> None:
    casework_services.case_mark_duress(vetted_person.case)
    message = casework_services.message_post_from_staff(
        case=vetted_person.case,
        member=caseworker.member,
        signing_key=caseworker.signing_key,
        member_private_key=caseworker.private_key,
        body="Hold on.",
    )
    assert not _release(vetted_person, coordinator, message).held


@pytest.mark.django_db(transaction=True)
def test_the_reply_check_reads_the_state_under_the_lock_the_reply_is_written_with(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    """A confirmed sensitive reply races a change of state that un-verifies the case: the
    change holds the row lock and commits just after the reply is checked. The reply must be
    judged by the state it is written under."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL")
    _verify(vetted_person, verifier, second_verifier)
    locked, go = threading.Event(), threading.Event()

    def unverify() -> None:
        try:
            with transaction.atomic():
                row = Case.objects.select_for_update().get(pk=vetted_person.case.pk)
                locked.set()
                go.wait(10)
                time.sleep(0.5)  # the reply is by now waiting for the lock (or already checked)
                keys.case_recertify(row, status=State.VETTING)
        finally:
            connection.close()

    other = threading.Thread(target=unverify)
    other.start()
    assert locked.wait(10)
    go.set()
    with pytest.raises(sensitive.SensitiveReplyStopped) as stopped:
        casework_services.message_post_from_staff(
            case=vetted_person.case,
            member=caseworker.member,
            signing_key=caseworker.signing_key,
            member_private_key=caseworker.private_key,
            body=DRAFT,
            sensitive_confirmed=True,
        )
    other.join(10)
    assert stopped.value.refused
    assert not Message.objects.filter(case=vetted_person.case, sender=Message.Sender.STAFF).exists()
    assert AuditEntry.objects.filter(
        action=Action.SENSITIVE_REPLY_REFUSED, case_public_id=vetted_person.case.public_id
    ).exists()
