"""verify_audit detects every way of tampering with the stored chain (raw SQL, as someone
with database access would), on whichever database the suite runs against."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from audit.chain import GENESIS_HASH, entry_hash, verify_range
from audit.models import AuditEntry, AuditHead
from audit.tests.helpers import append, broken_at, head_row, json_param, noted, refused, sql, verify_output

pytestmark = pytest.mark.django_db


def test_an_untouched_chain_verifies_and_names_its_length() -> None:
    append(5)
    output = verify_output()
    assert output.startswith("audit chain intact: 5 entries\n")
    assert f"head: sequence 5, hash {AuditEntry.objects.get(sequence=5).entry_hash}" in output


def test_an_empty_log_verifies() -> None:
    assert verify_output() == "audit chain intact: 0 entries\n"


def test_entries_are_numbered_without_gaps_and_each_commits_to_the_one_before() -> None:
    append(4)
    entries = list(AuditEntry.objects.order_by("sequence"))
    assert [entry.sequence for entry in entries] == [1, 2, 3, 4]
    assert entries[0].previous_hash == "0" * 64
    for earlier, later in itertools.pairwise(entries):
        assert later.previous_hash == earlier.entry_hash
    head = AuditHead.objects.get()
    assert (head.sequence, head.entry_hash) == (4, entries[-1].entry_hash)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", json.dumps({"n": 99})),
        ("action", "logout"),
        ("case_public_id", "ABCDEFGHJK"),
        ("at", None),  # filled in below: one second later
        ("previous_hash", "f" * 64),
        ("entry_hash", "e" * 64),
        ("entry_hash", "é" * 32),  # not even hexadecimal: still a plain verdict, not a crash
    ],
)
def test_a_changed_entry_is_named(column: str, value: str | None) -> None:
    append(5)
    placeholder = json_param() if column == "details" else "%s"
    if column == "at":
        value = AuditEntry.objects.get(sequence=3).at + timedelta(seconds=1)  # type: ignore[assignment]
    sql(f"UPDATE audit_auditentry SET {column} = {placeholder} WHERE sequence = 3", [value])  # noqa: S608
    assert broken_at() == 3


def test_a_changed_actor_is_named(coordinator) -> None:  # type: ignore[no-untyped-def]
    before = AuditEntry.objects.count()
    append(2)
    sql("UPDATE audit_auditentry SET actor_id = %s WHERE sequence = %s", [coordinator.member.pk, before + 1])
    assert broken_at() == before + 1


def test_a_deleted_middle_entry_is_named() -> None:
    append(5)
    sql("DELETE FROM audit_auditentry WHERE sequence = 3")
    assert broken_at() == 3


def test_a_forged_entry_with_a_valid_hash_but_the_wrong_predecessor_is_named() -> None:
    append(5)
    _forge(sequence=6, previous=AuditEntry.objects.get(sequence=4).entry_hash)
    assert broken_at() == 6


def test_an_entry_appended_behind_the_heads_back_is_named() -> None:
    append(5)
    _forge(sequence=6, previous=AuditEntry.objects.get(sequence=5).entry_hash)
    assert broken_at() == 6


def test_two_entries_that_swapped_places_are_named() -> None:
    append(5)
    sql("UPDATE audit_auditentry SET sequence = 1000 WHERE sequence = 2")
    sql("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 4")
    sql("UPDATE audit_auditentry SET sequence = 4 WHERE sequence = 1000")
    assert broken_at() == 2


def test_deleting_the_newest_entries_is_caught_by_the_head() -> None:
    append(5)
    sql("DELETE FROM audit_auditentry WHERE sequence = 5")
    assert broken_at() == 5
    sql("DELETE FROM audit_auditentry WHERE sequence = 4")
    assert broken_at() == 4


def test_a_head_moved_back_to_hide_a_forged_tail_is_caught() -> None:
    append(5)
    sql("UPDATE audit_audithead SET sequence = 4, entry_hash = %s", [AuditEntry.objects.get(sequence=4).entry_hash])
    assert broken_at() == 5


def test_a_deleted_head_is_caught() -> None:
    append(3)
    sql("DELETE FROM audit_audithead")
    assert broken_at() == 3


@pytest.mark.parametrize("cut", [1, 3, 6])
def test_cutting_the_newest_entries_and_making_the_head_name_the_new_last_one_is_caught(cut: int) -> None:
    """Database writer (raw SQL, no pepper): deletes the newest entries and copies the new last
    entry's number and hash into the head row. Every entry left still verifies; the head's MAC,
    which the writer cannot compute, does not."""
    append(6)
    kept = 6 - cut
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [kept])
    last = AuditEntry.objects.get(sequence=kept).entry_hash if kept else GENESIS_HASH
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s", [kept, last])
    assert broken_at() == kept + 1
    message = refused()
    assert "the chain head's MAC does not hold" in message and f"after entry {kept}" in message


@pytest.mark.parametrize(
    "made_up",
    [
        ("sequence", 4),  # an older sequence number, with today's hash and MAC
        ("entry_hash", "ab" * 32),  # an invented hash
        ("mac", "cd" * 32),  # an invented MAC
        ("mac", ""),  # no MAC at all
    ],
)
def test_a_head_changed_to_a_made_up_or_older_value_is_caught(made_up: tuple[str, object]) -> None:
    """Database writer: changes one column of the head row."""
    append(5)
    column, value = made_up
    sql(f"UPDATE audit_audithead SET {column} = %s", [value])  # noqa: S608
    assert broken_at() <= 6
    assert "head" in refused()


def test_an_older_head_copied_with_its_mac_after_cutting_the_tail_is_caught_by_a_head_noted_outside() -> None:
    """Database writer who kept a copy of the head row from an earlier dump: after cutting the
    entries written since, they put that row back. It is a head the application really wrote,
    so nothing inside the database tells it from the current one (docs/threat-model.md says so);
    a head a coordinator noted off the server after the cut point is reported missing."""
    append(4)
    sequence, saved_hash, saved_mac = head_row()
    append(3)
    written_down = noted(7)
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [sequence])
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s, mac = %s", [sequence, saved_hash, saved_mac])
    assert verify_output().startswith("audit chain intact: 4 entries\n")  # the limit of the MAC
    message = refused("--expect-head", written_down)
    assert message.startswith("recorded head missing: entry 7 is not in the chain")


def test_each_append_seals_the_head_it_writes() -> None:
    append(3)
    sequence, last_hash, mac = head_row()
    assert (sequence, last_hash) == (3, AuditEntry.objects.get(sequence=3).entry_hash)
    assert len(mac) == 64 and mac not in {last_hash, "0" * 64}
    append(1)
    assert head_row()[2] != mac


def test_a_range_check_finds_a_change_inside_the_range_only() -> None:
    append(10)
    sql(f"UPDATE audit_auditentry SET details = {json_param()} WHERE sequence = 7", [json.dumps({"n": 0})])  # noqa: S608
    assert verify_range(1, 5).intact
    inside = verify_range(5, 10)
    assert not inside.intact and inside.first_bad == 7
    sql("DELETE FROM audit_auditentry WHERE sequence = 10")
    newest = verify_range(8, 9)  # the newest entries left: the head says one is missing
    assert not newest.intact and newest.first_bad == 10


def test_the_command_is_verify_audit_and_its_help_explains_the_missing_hyphen() -> None:
    assert get_commands()["verify_audit"] == "audit"
    help_text = load_command_class("audit", "verify_audit").help
    assert "verify-audit" in help_text and "hyphen" in help_text


def _forge(*, sequence: int, previous: str) -> None:
    """A row whose own hash is right for its contents (as a forger with the code and the key
    could make it) but that the chain does not lead to."""
    at = timezone.now()
    details = {"n": 42}
    forged_hash = entry_hash(
        sequence=sequence,
        at=at,
        actor_id=None,
        action="login_failed",
        case_public_id=None,
        details=details,
        previous_hash=previous,
    )
    columns = "sequence, at, actor_id, action, case_public_id, details, previous_hash, entry_hash"
    sql(
        f"INSERT INTO audit_auditentry ({columns}) VALUES (%s, %s, NULL, %s, NULL, {json_param()}, %s, %s)",  # noqa: S608
        [sequence, at, "login_failed", json.dumps(details), previous, forged_hash],
    )
