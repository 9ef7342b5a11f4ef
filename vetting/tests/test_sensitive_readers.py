"""Sensitive items are sealed only to staff keys the server certified (T3, T12): a staff row a
database writer inserted, or a real member's key swapped in the database, gets nothing."""

from __future__ import annotations

import pytest

import sealbox
from accounts.models import Role, StaffMember
from tests.personas import Staff
from vetting import sensitive
from vetting.models import SensitiveItemKey
from vetting.tests.conftest import private_key

SAFE_HOUSE = "Safe flat: ул. Лёнина, д. 15, кв. 42, домофон 4417"


def _planted_reader() -> tuple[StaffMember, sealbox.KeyPair]:
    """What a database writer can insert: an active caseworker row with its own X25519 key and
    no certificate (certificates need the instance secret)."""
    attacker = sealbox.KeyPair.generate()
    planted = StaffMember.objects.create(
        username="planted",
        role=Role.CASEWORKER,
        is_active=True,
        public_key=attacker.public_key,
        sealed_private_key=b"x",
        key_salt=b"0" * 16,
        key_time_cost=1,
        key_memory_kib=8,
    )
    return planted, attacker


def test_items_are_never_sealed_to_a_staff_row_a_database_writer_inserted(
    coordinator: Staff, caseworker: Staff
) -> None:
    planted, _attacker = _planted_reader()
    item = sensitive.sensitive_item_create(actor=coordinator.member, kind="safe_house", text=SAFE_HOUSE)
    readers = set(SensitiveItemKey.objects.filter(item=item).values_list("member__username", flat=True))
    assert readers == {"coordinator", "caseworker", None}
    # Not offered for sharing either, and refused if asked for by id.
    assert planted not in [member for member, _n in sensitive.readers_lacking_items()]
    response = coordinator.console(language="en").post("/sensitive/share/", {"member": planted.pk})
    assert response.status_code == 400 and "cannot be shared with this account" in response.content.decode()
    with pytest.raises(sensitive.SensitiveRefused):
        sensitive.sensitive_items_share(
            actor=coordinator.member, actor_private_key=private_key(coordinator), member=planted
        )
    assert not SensitiveItemKey.objects.filter(member=planted).exists()


def test_a_real_member_whose_public_key_was_swapped_is_left_out(coordinator: Staff, caseworker: Staff) -> None:
    attacker = sealbox.KeyPair.generate()
    StaffMember.objects.filter(pk=caseworker.member.pk).update(public_key=attacker.public_key)
    item = sensitive.sensitive_item_create(actor=coordinator.member, kind="safe_house", text=SAFE_HOUSE)
    assert not SensitiveItemKey.objects.filter(item=item, member=caseworker.member).exists()
