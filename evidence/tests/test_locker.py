"""The evidence locker: consent, byte-identical sealed originals, and the custody log that
proves every action on an item and that the log was only ever appended to."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.db import connection
from django.utils import translation

from accounts.models import Role
from audit.models import Action, AuditEntry
from casenotes.tests.helpers import private_key
from casework import keys
from casework.models import Message
from casework.sealed import Refused
from evidence import custody, selectors, services
from evidence.models import CustodyEntry, EvidenceItem, TreeHead
from sealbox import merkle
from sealbox.custody import parse_entry
from sealbox.proofbundle import verify_bundle
from sealbox.signing import SigningKeyPair
from sealbox.treehead import sign_tree_head
from tests.personas import PersonAtRisk, Staff, make_staff

TERMS = services.ConsentTerms(
    uses=("journalists", "prosecutors"), redacted_only=True, how="Said yes in the call of 3 May."
)
TESTIMONY = "They held me in Argun for twelve days; the officer called himself Mohmad."


def consent_for(staff: Staff, person: PersonAtRisk) -> object:
    return services.consent_record(
        case=person.case, actor=staff.member, actor_private_key=private_key(staff), terms=TERMS
    )


def keep_testimony(staff: Staff, person: PersonAtRisk, consent: object, text: str = TESTIMONY) -> EvidenceItem:
    return services.item_promote_testimony(
        case=person.case, actor=staff.member, actor_private_key=private_key(staff), consent=consent,  # type: ignore[arg-type]
        title="Detention in Argun", text=text,
    )  # fmt: skip


def opened(staff: Staff, person: PersonAtRisk) -> dict[int, bytes]:
    return keys.case_private_keys(person.case, staff.member, private_key(staff))


def test_a_testimony_is_kept_sealed_byte_for_byte_with_its_hash(caseworker: Staff, person: PersonAtRisk) -> None:
    item = keep_testimony(caseworker, person, consent_for(caseworker, person))
    assert TESTIMONY.encode() not in bytes(item.original_ct) and b"Argun" not in bytes(item.title_ct)
    view = selectors.open_item(
        EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk), opened(caseworker, person)
    )
    assert view.original == TESTIMONY.encode()
    assert view.original_sha256 == hashlib.sha256(TESTIMONY.encode()).digest() and view.intact
    assert AuditEntry.objects.filter(action=Action.EVIDENCE_PROMOTE, details={"item": str(item.pk)}).exists()


def test_promotion_writes_custody_entries_under_signed_heads(caseworker: Staff, person: PersonAtRisk) -> None:
    item = keep_testimony(caseworker, person, consent_for(caseworker, person))
    entries = selectors.custody_entries(item, opened(caseworker, person))
    assert [entry.action for _, entry in entries] == ["promoted", "consent"]
    assert entries[0][1].subject == hashlib.sha256(TESTIMONY.encode()).digest()
    assert entries[0][1].actor == f"staff-{caseworker.member.pk}"
    check = custody.custody_check()
    assert (check.size, check.heads_checked) == (2, 2)


def test_an_exported_proof_verifies_offline_with_the_published_key(caseworker: Staff, person: PersonAtRisk) -> None:
    consent = consent_for(caseworker, person)
    first = keep_testimony(caseworker, person, consent)
    keep_testimony(caseworker, person, consent, "A second account, from the brother.")
    for bundle in selectors.custody_proofs(first, opened(caseworker, person)):
        proven = verify_bundle(json.loads(json.dumps(bundle)), custody.log_public_key())
        assert proven.tree_head.tree_size == 4
        assert parse_entry(base64.b64decode(str(bundle["leaf_data"]))).item_id == first.id.bytes


def test_the_same_action_twice_leaves_unrelated_leaf_hashes(caseworker: Staff, person: PersonAtRisk) -> None:
    """A database reader who knows (or guesses) the testimony cannot confirm it from the hashes."""
    consent = consent_for(caseworker, person)
    keep_testimony(caseworker, person, consent)
    keep_testimony(caseworker, person, consent)
    hashes = [bytes(h) for h in CustodyEntry.objects.values_list("leaf_hash", flat=True)]
    assert len(set(hashes)) == len(hashes) == 4
    digest = hashlib.sha256(TESTIMONY.encode()).digest()
    assert all(digest not in bytes(row.entry_ct) for row in CustodyEntry.objects.all())


def test_the_persons_authentic_message_becomes_evidence(caseworker: Staff, person: PersonAtRisk) -> None:
    message = Message.objects.filter(case=person.case, sender=Message.Sender.PERSON).earliest("created_at")
    item = services.item_promote_message(
        case=person.case, actor=caseworker.member, actor_private_key=private_key(caseworker), message=message,
        consent=consent_for(caseworker, person), title="First message",
    )  # fmt: skip
    view = selectors.open_item(
        EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk), opened(caseworker, person)
    )
    assert view.original == b"First message from the person."


def test_a_message_a_database_writer_inserted_is_refused(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a database writer who forges a person's message (no server tag can be made
    without the pepper). It must never become evidence."""
    message = Message.objects.filter(case=person.case, sender=Message.Sender.PERSON).earliest("created_at")
    Message.objects.filter(pk=message.pk).update(server_tag=None)
    with translation.override("en"), pytest.raises(Refused, match="authenticity"):
        services.item_promote_message(
            case=person.case, actor=caseworker.member, actor_private_key=private_key(caseworker), message=message,
            consent=consent_for(caseworker, person), title="Forged",
        )  # fmt: skip
    assert not EvidenceItem.objects.exists()


def test_revoked_consent_blocks_promotion_and_is_logged_for_each_item(caseworker: Staff, person: PersonAtRisk) -> None:
    consent = consent_for(caseworker, person)
    item = keep_testimony(caseworker, person, consent)
    key = private_key(caseworker)
    assert services.consent_revoke(consent=consent, actor=caseworker.member, actor_private_key=key) == 1  # type: ignore[arg-type]
    assert services.consent_revoke(consent=consent, actor=caseworker.member, actor_private_key=key) == 0  # type: ignore[arg-type]
    with translation.override("en"), pytest.raises(Refused, match="withdrew"):
        keep_testimony(caseworker, person, consent)
    actions = [entry.action for _, entry in selectors.custody_entries(item, opened(caseworker, person))]
    assert actions == ["promoted", "consent", "consent-revoked"]
    assert selectors.case_items(person.case, opened(caseworker, person))[0].consent_revoked


def test_only_caseworkers_and_coordinators_keep_evidence(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    with pytest.raises(Refused):
        services.consent_record(
            case=person.case, actor=verifier.member, actor_private_key=private_key(verifier), terms=TERMS
        )


def test_a_member_without_the_case_key_cannot_promote(caseworker: Staff, outsider: Staff, person: PersonAtRisk) -> None:
    consent = consent_for(caseworker, person)
    with pytest.raises(keys.NoAccess):
        keep_testimony(outsider, person, consent)


def test_the_check_finds_a_removed_entry(caseworker: Staff, person: PersonAtRisk) -> None:
    keep_testimony(caseworker, person, consent_for(caseworker, person))
    CustodyEntry.objects.filter(index=0).delete()
    with pytest.raises(custody.CustodyBroken, match="missing"):
        custody.custody_check()


def test_the_check_finds_a_rewritten_leaf(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a database writer who rewrites history (a leaf hash) without the log key."""
    keep_testimony(caseworker, person, consent_for(caseworker, person))
    CustodyEntry.objects.filter(index=0).update(leaf_hash=bytes(32))
    with pytest.raises(custody.CustodyBroken, match="not the root"):
        custody.custody_check()


def test_the_check_refuses_a_head_signed_with_another_key(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a database writer who replaces the log with one of their own and signs its
    head with their own key (the log key is derived from the pepper, which they lack)."""
    keep_testimony(caseworker, person, consent_for(caseworker, person))
    hashes = [bytes(h) for h in CustodyEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    row = TreeHead.objects.get(tree_size=2)
    forged = sign_tree_head(
        SigningKeyPair.generate().seed, log_id=custody.LOG_ID, tree_size=2, root_hash=merkle.root(hashes),
        timestamp=row.signed_at,
    )  # fmt: skip
    TreeHead.objects.filter(pk=row.pk).update(head_json=json.dumps(forged.to_json()))
    with pytest.raises(custody.CustodyBroken, match="not signed"):
        custody.custody_check()


def test_nothing_of_the_testimony_is_stored_in_plain(caseworker: Staff, person: PersonAtRisk) -> None:
    keep_testimony(caseworker, person, consent_for(caseworker, person))
    with connection.cursor() as cursor:
        for table in ("evidence_evidenceitem", "evidence_custodyentry", "evidence_consent", "evidence_treehead"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            for row in cursor.fetchall():
                flat = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
                assert b"Argun" not in flat and b"3 May" not in flat


def test_holds_and_shredding_are_custody_entries_and_the_log_still_verifies(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    from retention import policies
    from retention.models import HoldReason, ShredBasis
    from retention.shred import case_shred

    item = keep_testimony(caseworker, person, consent_for(caseworker, person))
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=True, reason=HoldReason.EVIDENCE)
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=False)
    actions = [entry.action for _, entry in selectors.custody_entries(item, opened(caseworker, person))]
    assert actions == ["promoted", "consent", "hold", "hold-released"]
    case_shred(person.case, basis=ShredBasis.COORDINATOR, actor=coordinator.member)
    assert not EvidenceItem.objects.exists()
    check = custody.custody_check()
    assert check.size == 5 and CustodyEntry.objects.filter(item_id=item.pk).count() == 5
