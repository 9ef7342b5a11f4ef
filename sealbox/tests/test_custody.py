"""Custody entries: a known-answer vector, one byte form per entry, strict parsing, fresh salts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealbox import merkle
from sealbox.custody import (
    ACTIONS,
    ACTIONS_WITH_SUBJECT,
    CustodyEntry,
    CustodyEntryError,
    new_entry,
    parse_entry,
)
from sealbox.treehead import CustodyError

ITEM = bytes(range(16))
SUBJECT = bytes(range(32, 64))
SALT = bytes(range(0xA0, 0xB0))
WHEN = datetime(2017, 4, 1, 12, 30, 5, 123456, tzinfo=UTC)

# Written out field by field (4-byte big-endian length, then the bytes), independently of
# sealbox.boxes.context, so a change to either encoding shows here.
KNOWN_ENTRY = bytes.fromhex(
    "00000013" + b"sp.custody-entry.v1".hex()
    + "00000010" + "000102030405060708090a0b0c0d0e0f"
    + "0000000a" + b"derivative".hex()
    + "00000020" + b"2017-04-01T12:30:05.123456+00:00".hex()
    + "00000004" + b"cw12".hex()
    + "00000020" + SUBJECT.hex()
    + "00000010" + "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
)  # fmt: skip
KNOWN_LEAF_HASH = "bd6041d1023ff44eb68ed6b006ac4f7b9c992c2aeb435b14c4e6459eeda25f49"


def known_entry() -> CustodyEntry:
    return CustodyEntry(ITEM, "derivative", WHEN, "cw12", SUBJECT, SALT)


def field_bytes(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def known_fields() -> list[bytes]:
    return [b"sp.custody-entry.v1", ITEM, b"derivative", b"2017-04-01T12:30:05.123456+00:00", b"cw12", SUBJECT, SALT]


def test_the_known_entry_encodes_to_the_vector_and_its_leaf_hash() -> None:
    entry = known_entry()
    assert entry.to_bytes() == KNOWN_ENTRY
    assert entry.leaf_hash.hex() == KNOWN_LEAF_HASH
    assert hashlib.sha256(b"\x00" + KNOWN_ENTRY).hexdigest() == KNOWN_LEAF_HASH
    assert merkle.leaf_hash(KNOWN_ENTRY).hex() == KNOWN_LEAF_HASH


def test_the_vector_parses_back_to_the_same_entry() -> None:
    assert parse_entry(KNOWN_ENTRY) == known_entry()


def test_an_entry_in_another_zone_is_kept_and_written_in_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    entry = CustodyEntry(ITEM, "derivative", WHEN.astimezone(moscow), "cw12", SUBJECT, SALT)
    assert entry.at.tzinfo == UTC
    assert entry.to_bytes() == KNOWN_ENTRY


def test_the_salt_is_never_shown() -> None:
    assert SALT.hex() not in repr(known_entry())
    assert repr(SALT) not in repr(known_entry())


def test_new_entries_draw_a_fresh_salt_so_equal_actions_have_different_leaves() -> None:
    first = new_entry(ITEM, "received", actor="cw12", subject=SUBJECT, at=WHEN)
    second = new_entry(ITEM, "received", actor="cw12", subject=SUBJECT, at=WHEN)
    assert len(first.salt) == 16
    assert first.salt != second.salt
    assert first.leaf_hash != second.leaf_hash
    assert (first.item_id, first.action, first.at, first.actor, first.subject) == (
        second.item_id,
        second.action,
        second.at,
        second.actor,
        second.subject,
    )


def test_a_new_entry_without_a_time_is_stamped_now_in_utc() -> None:
    entry = new_entry(ITEM, "viewed", actor="cw12")
    assert entry.at.tzinfo == UTC
    assert abs(entry.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert entry.subject == b""


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_known_action_round_trips(action: str) -> None:
    subject = SUBJECT if action in ACTIONS_WITH_SUBJECT else b""
    entry = new_entry(ITEM, action, actor="", subject=subject, at=WHEN)
    assert parse_entry(entry.to_bytes()) == entry


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"item_id": ITEM[:15]}, "item id"),
        ({"item_id": "00" * 16}, "item id"),
        ({"action": "deleted"}, "unknown custody action"),
        ({"action": "Received"}, "unknown custody action"),
        ({"at": datetime(2017, 4, 1, 12, 30, 5)}, "aware"),  # noqa: DTZ001 - the naive time is the point
        ({"actor": "cw 12"}, "actor"),
        ({"actor": "сотрудник"}, "actor"),
        ({"actor": "x" * 65}, "actor"),
        ({"subject": SUBJECT[:31]}, "subject"),
        ({"subject": b""}, "names the SHA-256"),
        ({"salt": b""}, "salt"),
        ({"salt": SALT + b"\x00"}, "salt"),
    ],
)
def test_fields_that_make_no_entry_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "item_id": ITEM,
        "action": "derivative",
        "at": WHEN,
        "actor": "cw12",
        "subject": SUBJECT,
        "salt": SALT,
    }
    with pytest.raises(CustodyEntryError, match=message):
        CustodyEntry(**(fields | change))  # type: ignore[arg-type]


def test_actions_not_about_bytes_may_have_a_subject_or_none() -> None:
    assert parse_entry(CustodyEntry(ITEM, "exported", WHEN, "", SUBJECT, SALT).to_bytes()).subject == SUBJECT
    assert parse_entry(CustodyEntry(ITEM, "viewed", WHEN, "cw12", b"", SALT).to_bytes()).subject == b""


def with_field(index: int, value: bytes) -> bytes:
    fields = known_fields()
    fields[index] = value
    return field_bytes(*fields)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "exactly 6 fields"),
        (KNOWN_ENTRY[:-1], "runs past its end"),
        (KNOWN_ENTRY[:-20], "exactly 6 fields"),
        (KNOWN_ENTRY[:-20] + b"\x00\x00", "inside a length prefix"),
        (KNOWN_ENTRY + b"\x00", "exactly 6 fields"),
        (KNOWN_ENTRY + field_bytes(b""), "exactly 6 fields"),
        (field_bytes(*known_fields()[:-1]), "exactly 6 fields"),
        (with_field(0, b"sp.custody-entry.v2"), "not a sp.custody-entry.v1 entry"),
        (with_field(0, b"sp.tree-head.v1"), "not a sp.custody-entry.v1 entry"),
        (with_field(1, ITEM + b"\x00"), "item id"),
        (with_field(2, b"erased"), "unknown custody action"),
        (with_field(2, "получено".encode()), "action is ASCII"),
        (with_field(3, b"2017-04-01T12:30:05.123456Z"), "UTC with microseconds"),
        (with_field(3, b"2017-04-01T12:30:05+00:00"), "UTC with microseconds"),
        (with_field(3, b"2017-04-01T15:30:05.123456+03:00"), "UTC with microseconds"),
        (with_field(3, b"2017-04-01T12:30:05.123456"), "UTC with microseconds"),
        (with_field(3, b"2017-04-01 12:30:05.123456+00:00"), "UTC with microseconds"),
        (with_field(3, b"yesterday"), "not an ISO 8601 time"),
        (with_field(4, b"cw 12"), "actor"),
        (with_field(5, SUBJECT + b"\x00"), "subject"),
        (with_field(5, b""), "names the SHA-256"),
        (with_field(6, SALT[:-1]), "salt"),
    ],
)
def test_bytes_that_are_not_exactly_one_entry_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(CustodyEntryError, match=message):
        parse_entry(data)


def test_the_entry_error_is_a_custody_error_and_a_value_error() -> None:
    assert issubclass(CustodyEntryError, CustodyError)
    assert issubclass(CustodyEntryError, ValueError)


@given(
    item_id=st.binary(min_size=16, max_size=16),
    action=st.sampled_from(sorted(ACTIONS)),
    at=st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive, the zone is added below
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    actor=st.from_regex(r"[A-Za-z0-9._-]{0,64}", fullmatch=True),
    subject=st.binary(min_size=32, max_size=32),
    salt=st.binary(min_size=16, max_size=16),
)
def test_any_entry_round_trips_through_its_bytes(
    item_id: bytes, action: str, at: datetime, actor: str, subject: bytes, salt: bytes
) -> None:
    entry = CustodyEntry(item_id, action, at, actor, subject, salt)
    data = entry.to_bytes()
    assert parse_entry(data) == entry
    assert parse_entry(data).to_bytes() == data


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_to_an_entry_or_raise_the_entry_error(data: bytes) -> None:
    try:
        entry = parse_entry(data)
    except CustodyEntryError:
        return
    assert entry.to_bytes() == data


@given(st.integers(min_value=0, max_value=len(KNOWN_ENTRY) - 1), st.integers(min_value=1, max_value=255))
def test_a_changed_byte_is_refused_or_reads_as_another_entry_with_exactly_those_bytes(position: int, mask: int) -> None:
    data = bytearray(KNOWN_ENTRY)
    data[position] ^= mask
    try:
        entry = parse_entry(bytes(data))
    except CustodyEntryError:
        return
    assert entry != known_entry()
    assert entry.to_bytes() == bytes(data)
