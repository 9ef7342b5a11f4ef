"""``verify_audit --expect-head``: a head a coordinator wrote down off the server must still be
in the chain, and the chain must lead from it to the current head."""

from __future__ import annotations

import json

import pytest

from audit.chain import entry_hash, head_mac
from audit.models import AuditEntry
from audit.tests.helpers import append, broken_at, head_row, json_param, noted, refused, sql, verify_output

pytestmark = pytest.mark.django_db


def _hash(sequence: int) -> str:
    return AuditEntry.objects.get(sequence=sequence).entry_hash


@pytest.mark.parametrize(
    "written",
    [
        lambda h: f"5:{h}",  # as printed by the command
        lambda h: f"5: {' '.join(h[i : i + 4] for i in range(0, 64, 4))}",  # as shown on the page
        lambda h: "-".join(h[i : i + 4] for i in range(0, 64, 4)).upper(),  # dashes, capitals, no number
        lambda h: h,  # the bare hash
        lambda h: f"  5 :  {h[:32]}  ",  # the first half is enough (see docs/crypto.md)
    ],
)
def test_a_head_noted_earlier_that_is_still_in_the_chain_is_confirmed(written) -> None:  # type: ignore[no-untyped-def]
    append(8)
    output = verify_output("--expect-head", written(_hash(5)))
    assert output.startswith("audit chain intact: 8 entries\n")
    assert "recorded head found: entry 5 is in the chain, and 3 later entries lead from it to the head" in output


def test_the_current_head_noted_just_now_is_confirmed() -> None:
    append(3)
    assert "entry 3 is in the chain, and 0 later entries lead" in verify_output("--expect-head", noted(3))


@pytest.mark.parametrize("cut", [1, 4])
def test_a_noted_head_whose_entries_were_cut_off_the_end_is_reported_missing(cut: int) -> None:
    """Database writer who kept an earlier copy of the head row: cuts the newest entries, the
    noted one among them, and puts the old head back, so the chain alone verifies."""
    append(6 - cut)
    saved = head_row()
    append(cut)
    written_down = noted(6)
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [6 - cut])
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s, mac = %s", list(saved))
    assert verify_output().startswith(f"audit chain intact: {6 - cut} entries\n")
    assert refused("--expect-head", written_down) == (
        "recorded head missing: entry 6 is not in the chain, so entries were removed since the head was noted"
    )


def test_a_chain_rewritten_with_the_pepper_no_longer_reaches_a_head_noted_outside() -> None:
    """Pepper holder (the server's secrets and write access to the database): changes entry 3
    and recomputes every later hash and the head's MAC, so verify_audit alone passes. The head a
    coordinator noted before the rewrite is no longer in the chain."""
    append(6)
    written_down = noted(5)
    _rewrite_from(3, details={"n": 99})
    assert verify_output().startswith("audit chain intact: 6 entries\n")
    message = refused("--expect-head", written_down)
    assert message == (
        "recorded head missing: entry 5 now has another hash, so the chain was rewritten at or "
        "before entry 5 since the head was noted"
    )
    bare = refused("--expect-head", written_down.split(":", 1)[1])
    assert bare.startswith("recorded head missing: no entry has the recorded hash")


def test_a_rewrite_after_the_noted_head_is_not_caught_by_it() -> None:
    """The limit, stated in docs/threat-model.md: a pepper holder can still rewrite the entries
    written after the last head someone noted."""
    append(6)
    written_down = noted(4)
    _rewrite_from(5, details={"n": 99})
    assert "recorded head found: entry 4" in verify_output("--expect-head", written_down)


def test_a_noted_head_whose_hash_belongs_to_another_entry_is_refused() -> None:
    append(5)
    message = refused("--expect-head", f"4:{_hash(3)}")
    assert message.startswith("recorded head missing: entry 4 now has another hash")


def test_a_broken_chain_fails_before_the_noted_head_is_looked_up() -> None:
    append(5)
    written_down = noted(5)
    sql(f"UPDATE audit_auditentry SET details = {json_param()} WHERE sequence = 2", [json.dumps({"n": 7})])  # noqa: S608
    assert broken_at() == 2
    assert refused("--expect-head", written_down).startswith("audit chain broken at sequence 2:")


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("", "no hash"),
        ("yesterday's head", "hexadecimal"),
        ("0" * 31, "at least the first 32"),  # too short to rule out a forged match
        ("0" * 65, "more than 64"),
        ("0:" + "0" * 64, "entry numbers start at 1"),
        ("x5:" + "0" * 64, "entry number"),
        ("5:6:" + "0" * 64, "hexadecimal"),
    ],
)
def test_a_malformed_noted_head_is_refused_with_a_plain_message(written: str, says: str) -> None:
    append(2)
    message = refused("--expect-head", written)
    assert message.startswith("--expect-head: ") and says in message


def test_an_unknown_hash_is_reported_missing_not_malformed() -> None:
    append(2)
    assert refused("--expect-head", "ab" * 32).startswith("recorded head missing: no entry has the recorded hash")
    assert refused("--expect-head", "9:" + "ab" * 32).startswith("recorded head missing: entry 9 is not in the chain")
    assert refused("--expect-head", "ab" * 16).startswith("recorded head missing: no entry has the recorded hash")


def _rewrite_from(sequence: int, *, details: dict[str, object]) -> None:
    """What someone holding the pepper can do: change an entry and recompute the chain after it."""
    sql(f"UPDATE audit_auditentry SET details = {json_param()} WHERE sequence = %s", [json.dumps(details), sequence])  # noqa: S608
    previous = AuditEntry.objects.get(sequence=sequence).previous_hash
    for entry in AuditEntry.objects.filter(sequence__gte=sequence).order_by("sequence"):
        new_hash = entry_hash(
            sequence=entry.sequence,
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            case_public_id=entry.case_public_id,
            details=entry.details,
            previous_hash=previous,
        )
        sql(
            "UPDATE audit_auditentry SET previous_hash = %s, entry_hash = %s WHERE sequence = %s",
            [previous, new_hash, entry.sequence],
        )
        previous = new_hash
    last = AuditEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    mac = head_mac(sequence=last, entry_hash=previous)  # type: ignore[arg-type]
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s, mac = %s", [last, previous, mac])
