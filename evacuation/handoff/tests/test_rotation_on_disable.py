"""Disabling a coordinator replaces the organisation's hand-off keys (threat T8/T12). Attacker:
a coordinator who kept the hand-off private keys they held, then was disabled. A packet a
partner seals to the organisation afterwards does not open with them, and what they sign
is not accepted as the organisation's."""

from __future__ import annotations

import pytest

import sealbox
import sealbox.handoff as packets
from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import services as case_services
from evacuation.handoff import services
from evacuation.handoff.models import OrgKeys, OrgKeyWrap
from tests.personas import Staff, make_staff

PAYLOAD = {"note": "sealed after the rotation"}


def _departing(coordinator: Staff) -> tuple[Staff, bytes, bytes]:
    """A second coordinator given the hand-off keys, and the private halves they could keep."""
    services.org_keys_create(actor=coordinator.member)
    second = make_staff("second", role=Role.COORDINATOR, invited_by=coordinator)
    services.org_keys_share(actor=coordinator.member, actor_private_key=coordinator.private_key)
    kept = services._org_secret(second.member, second.private_key)
    return second, kept.box_private, kept.seed


def test_disabling_a_coordinator_gives_the_organisation_new_hand_off_keys(coordinator: Staff) -> None:
    second, kept_box, kept_seed = _departing(coordinator)
    before = OrgKeys.objects.get().identity
    case_services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=second.member
    )

    row = OrgKeys.objects.get()
    after = services.trusted_org_identity(row)
    assert after is not None and after.fingerprint != before.fingerprint
    assert not OrgKeyWrap.objects.filter(member=second.member).exists()
    assert OrgKeyWrap.objects.filter(keys=row, for_recovery=True).count() == 1
    remaining = services._org_secret(coordinator.member, coordinator.private_key)  # still works
    assert remaining.identity == after
    rotated = AuditEntry.objects.get(action=Action.HANDOFF_KEYS_ROTATE)
    assert rotated.details == {"member": second.member.pk, "coordinators": 1}

    partner = sealbox.SigningKeyPair.generate()
    partner_box = sealbox.KeyPair.generate()
    partner_identity = packets.Identity(partner_box.public_key, partner.public_key)
    sealed = packets.packet_seal(PAYLOAD, sender=partner_identity, sender_seed=partner.seed, recipient=after)
    with pytest.raises(packets.PacketRejected):  # the kept box key opens nothing new
        packets.packet_open(sealed, recipient=after, recipient_private_key=kept_box, sender=partner_identity)
    opened = packets.packet_open(
        sealed, recipient=after, recipient_private_key=remaining.box_private, sender=partner_identity
    )
    assert opened.payload == PAYLOAD

    forged = packets.packet_seal(PAYLOAD, sender=after, sender_seed=kept_seed, recipient=partner_identity)
    with pytest.raises(packets.PacketRejected):  # nor does the kept seed sign as the organisation
        packets.packet_open(
            forged, recipient=partner_identity, recipient_private_key=partner_box.private_key, sender=after
        )


def test_disabling_a_caseworker_leaves_the_hand_off_keys_alone(coordinator: Staff) -> None:
    services.org_keys_create(actor=coordinator.member)
    before = OrgKeys.objects.get().identity
    caseworker = make_staff("caseworker", invited_by=coordinator)
    case_services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )
    assert OrgKeys.objects.get().identity == before
    assert not AuditEntry.objects.filter(action=Action.HANDOFF_KEYS_ROTATE).exists()
