"""What a reader of the database and the pepper can learn from the vetting hashes (T3): each
guess at a contact costs one Argon2id, and sensitive items cannot be joined to red flags."""

from __future__ import annotations

import threading

import pytest
from django.test import override_settings

import sealbox
from core.argon2_slots import argon2_slot
from tests.personas import Staff, open_case
from vetting import digests, red_flags, sensitive
from vetting.models import ContactDigest, RedFlagDigest, RedFlagKind, SensitiveKind, SensitiveShingle

PHONE = "+7 912 345 67 89"


def test_a_contact_digest_is_an_argon2id_derivation_with_the_configured_cost(db: None) -> None:
    cheap = digests.contact_digests(PHONE)
    with override_settings(SP_CONTACT_ARGON2=sealbox.Argon2Params(time_cost=2, memory_kib=2048)):
        dearer = digests.contact_digests(PHONE)
    # The cost parameters enter the digest: it is a derivation with them, not a fast hash.
    assert cheap and dearer and cheap.isdisjoint(dearer)
    # Equal identifiers still give equal digests (the salt is per instance), so cases link.
    assert digests.contact_digests("8 (912) 345-67-89") & cheap


def test_contact_digests_wait_for_the_processs_argon2id_slot(db: None) -> None:
    done = threading.Event()
    worker = threading.Thread(target=lambda: (digests.contact_digests(PHONE), done.set()))
    with override_settings(SP_ARGON2_PER_PROCESS=1):
        with argon2_slot():  # the only slot is busy (another intake or login)
            worker.start()
            assert not done.wait(0.5), "a contact digest ran beside another derivation"
        worker.join(10)
    assert done.is_set()


def test_intake_keeps_the_slow_contact_digests_and_flags_still_match(coordinator: Staff) -> None:
    flag = red_flags.red_flag_create(actor=coordinator.member, kind=RedFlagKind.PHONE, value="89123456789")
    person = open_case(contact_kind="whatsapp", contact_value=PHONE)
    stored = set(ContactDigest.objects.filter(case=person.case).values_list("digest", flat=True))
    assert stored == digests.contact_digests(PHONE)
    assert set(RedFlagDigest.objects.filter(flag=flag).values_list("digest", flat=True)) <= stored
    assert person.case.red_flag_matches.filter(flag=flag).exists()


def test_a_sensitive_item_and_a_red_flag_phrase_with_the_same_words_share_no_hash(coordinator: Staff) -> None:
    text = "Lenina street 15 flat 42"
    item = sensitive.sensitive_item_create(actor=coordinator.member, kind=SensitiveKind.SAFE_HOUSE, text=text)
    flag = red_flags.red_flag_create(actor=coordinator.member, kind=RedFlagKind.PHRASE, value=text)
    item_hashes = set(SensitiveShingle.objects.filter(item=item).values_list("digest", flat=True))
    flag_hashes = set(RedFlagDigest.objects.filter(flag=flag).values_list("digest", flat=True))
    assert len(item_hashes) == len(flag_hashes) > 0
    assert item_hashes.isdisjoint(flag_hashes), "a database reader can join sensitive items to red flags"
    # Both still do their work.
    assert sensitive.matching_kinds(f"Come to {text}") == [SensitiveKind.SAFE_HOUSE]
    person = open_case(body=f"My friend said: {text}.")
    assert person.case.red_flag_matches.filter(flag=flag).exists()


@pytest.mark.parametrize("kind", ["phone", "handle"])
def test_red_flag_identifiers_are_hashed_like_contacts(kind: str, db: None) -> None:
    value = PHONE if kind == "phone" else "@Kazbek_Free"
    assert digests.red_flag_digests(kind, value) <= digests.contact_digests(value)


def test_production_refuses_cheap_contact_digests_and_accepts_the_defaults() -> None:
    from vetting.checks import check_contact_digest_cost

    cheap = sealbox.Argon2Params(time_cost=1, memory_kib=1024)
    default = sealbox.Argon2Params(time_cost=2, memory_kib=48 * 1024)
    with override_settings(PRODUCTION=True, SP_CONTACT_ARGON2=cheap):
        assert [error.id for error in check_contact_digest_cost(None)] == ["vetting.E001"]
    with override_settings(PRODUCTION=True, SP_CONTACT_ARGON2=default):
        assert check_contact_digest_cost(None) == []
    with override_settings(PRODUCTION=False, SP_CONTACT_ARGON2=cheap):
        assert check_contact_digest_cost(None) == []
