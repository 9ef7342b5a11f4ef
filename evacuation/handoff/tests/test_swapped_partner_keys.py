"""A database writer swaps a partner's keys for their own: the next export is refused, never
encrypted to the writer's key."""

from __future__ import annotations

import pytest

import sealbox
import sealbox.handoff as packets
from evacuation.handoff import services
from evacuation.handoff.models import HandoffExport, Partner
from evacuation.handoff.tests.test_handoff import _export, _rich_case


def test_db_writer_swapped_partner_keys_are_refused(coordinator, two_orgs):
    """Attacker: a database writer (no pepper) who puts their own keys and matching fingerprint
    on the partner row. The export is refused before anything is sealed, so they get nothing."""
    attacker_box = sealbox.KeyPair.generate()
    attacker_sign = sealbox.SigningKeyPair.generate()
    # A plain UPDATE, as anyone with write access to the database could do.
    Partner.objects.filter(name="Theirs").update(
        box_public_key=attacker_box.public_key,
        verify_key=attacker_sign.public_key,
        fingerprint=packets.fingerprint(attacker_box.public_key, attacker_sign.public_key).hex(),
    )
    person = _rich_case(coordinator)
    with pytest.raises(services.HandoffRefused, match="cannot be trusted"):
        _export(person, coordinator, ["details", "conversation", "notes"])
    assert not HandoffExport.objects.exists()
