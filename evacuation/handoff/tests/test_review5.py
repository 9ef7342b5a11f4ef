"""Review 5: a database writer swaps a partner's keys; the next export goes to the attacker."""

from __future__ import annotations

import json

import sealbox
import sealbox.handoff as packets
from evacuation.handoff.models import Partner
from evacuation.handoff.tests.test_handoff import _english, _export, _rich_case, two_orgs  # noqa: F401  # noqa: F401


def test_db_writer_swapped_partner_keys_are_refused(coordinator, two_orgs):  # noqa: F811
    attacker_box = sealbox.KeyPair.generate()
    attacker_sign = sealbox.SigningKeyPair.generate()
    # A plain UPDATE, as anyone with write access to the database could do.
    Partner.objects.filter(name="Theirs").update(
        box_public_key=attacker_box.public_key,
        verify_key=attacker_sign.public_key,
        fingerprint=packets.fingerprint(attacker_box.public_key, attacker_sign.public_key).hex(),
    )
    person = _rich_case(coordinator)
    try:
        data = _export(person, coordinator, ["details", "conversation", "notes"])
    except Exception:
        return  # refused: what we want
    fields = json.loads(data)
    body = sealbox.unseal(
        attacker_box.private_key,
        __import__("base64").b64decode(fields["ciphertext"]),
        ctx=packets._body_ctx(
            bytes.fromhex(fields["recipient"]), bytes.fromhex(fields["sender"]), bytes.fromhex(fields["packet_id"])
        ),
    )
    assert b"They took my brother" not in body, "the attacker who swapped the partner row reads the hand-off"
