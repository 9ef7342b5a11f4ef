"""audit_record: inside the caller's transaction, identifiers only, one unforked chain."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.conf import settings
from django.db import close_old_connections, connection, transaction

from audit.chain import verify_chain
from audit.models import Action, AuditEntry, AuditHead
from audit.services import audit_record
from audit.tests.helpers import append, broken_at, head_row, refused, sql


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_write_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, action=Action.LOGIN_FAILED)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_entry_rolls_back_with_the_action_it_records() -> None:
    append(2)

    class ActionFailed(Exception):
        pass

    with pytest.raises(ActionFailed), transaction.atomic():
        audit_record(actor=None, action=Action.LOGIN_FAILED, details={"n": 3})
        raise ActionFailed
    append(1)
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2, 3]
    assert AuditHead.objects.get().sequence == 3
    assert verify_chain().intact


@pytest.mark.django_db
@pytest.mark.parametrize(
    "details",
    [
        {"note": "They took my friend"},  # free text: spaces
        {"region": "Чечня"},  # not an id alphabet
        {"nested": {"n": 1}},
        {"ratio": 0.5},  # floats do not round-trip through every JSON column exactly
        {"a key with spaces": 1},
        {"long": "x" * 65},
    ],
)
def test_details_take_only_identifiers_and_codes(details: dict[str, object]) -> None:
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(actor=None, action=Action.LOGIN_FAILED, details=details)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(actor=None, action="coffee_break")


@pytest.mark.django_db
def test_the_head_mac_is_the_documented_keyed_hash() -> None:
    """docs/crypto.md, "Audit log": BLAKE2b-256 under the audit key, personalised
    "sp.audit-head.v1", over the length-prefixed sequence number and last entry hash."""
    append(2)
    sequence, last_hash, mac = head_row()
    audit_key = hashlib.blake2b(settings.SP_PEPPER, digest_size=32, person=b"sp.audit-key.v1").digest()
    expected = hashlib.blake2b(key=audit_key, digest_size=32, person=b"sp.audit-head.v1")
    for text in (str(sequence), last_hash):
        expected.update(b"\x01" + len(text).to_bytes(8, "big") + text.encode())
    assert mac == expected.hexdigest()


@pytest.mark.django_db
def test_work_goes_on_after_the_head_was_deleted_but_the_alarm_stays() -> None:
    """Database writer: deletes the head row. Appends go on (staff keep answering people), the
    head is rebuilt without a MAC, and verify_audit keeps failing until an operator reseals it."""
    append(2)
    sql("DELETE FROM audit_audithead")
    append(2)
    assert AuditEntry.objects.count() == 4 and verify_chain().checked == 4
    assert head_row()[:2] == (4, AuditEntry.objects.get(sequence=4).entry_hash)
    assert broken_at() == 5 and "MAC does not hold" in refused()


@pytest.mark.django_db
def test_an_append_never_seals_a_head_that_did_not_hold() -> None:
    """Database writer: cuts the newest entries, makes the head name the new last one, then
    waits for staff to work. The next appends chain on from the forged head, but must not give
    it a MAC: the cut stays visible."""
    append(5)
    sql("DELETE FROM audit_auditentry WHERE sequence = 5")
    sql("UPDATE audit_audithead SET sequence = 4, entry_hash = %s", [AuditEntry.objects.get(sequence=4).entry_hash])
    append(3)
    assert head_row()[0] == 7 and head_row()[2] == ""
    assert broken_at() == 8


@pytest.mark.django_db(transaction=True)
def test_two_writers_appending_at_once_leave_one_gap_free_chain() -> None:
    """Each thread has its own connection; without the head lock (PostgreSQL) or the
    IMMEDIATE transaction (SQLite) both would extend the same entry."""
    per_thread = 15
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait(timeout=10)
            for number in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=None, action=Action.LOGIN_FAILED, details={"writer": name, "n": number})
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 2 * per_thread + 1))
    verdict = verify_chain()
    assert verdict.intact and verdict.checked == 2 * per_thread
    writers = AuditEntry.objects.values_list("details__writer", flat=True)
    assert sorted(set(writers)) == ["a", "b"]
