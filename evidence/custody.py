"""The organisation's custody log: append an entry, sign the new tree head, prove an entry.

Appends are serialised by locking the single CustodyLog row, in the caller's transaction, so
the entry, its position and the tree head after it are committed together or not at all.

The log key is an Ed25519 key derived from the instance secret (pepper), which is not in the
database: a database writer can append rows but cannot sign a head over them, and every head
is checked against the leaves beneath it (custody_check). Its public half is what an
organisation publishes so that recipients of an export can check its proofs offline
(``python -m redaction verify``).

Each append recomputes the root from every leaf hash (one query over 32-byte values): at the
size a hotline's locker reaches (thousands of entries) this is milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

import sealbox
from casework.models import CaseKey
from casework.sealed import seal_bytes
from evidence import crypto
from evidence.models import CustodyEntry as CustodyRow
from evidence.models import CustodyLog, EvidenceItem, TreeHead
from sealbox import merkle
from sealbox.custody import CustodyEntry, new_entry
from sealbox.proofbundle import make_bundle
from sealbox.signing import SigningKeyPair
from sealbox.treehead import SignedTreeHead, sign_tree_head, verify_tree_head

LOG_KEY_PURPOSE = b"sp.custody-k.v1"  # BLAKE2b personalisation: at most 16 bytes
LOG_ID = "sp.custody"


def log_key() -> SigningKeyPair:
    return SigningKeyPair.from_seed(sealbox.server_subkey(settings.SP_PEPPER, LOG_KEY_PURPOSE))


def log_public_key() -> bytes:
    return log_key().public_key


def custody_append(*, item: EvidenceItem, action: str, actor: str, subject: bytes, case_key: CaseKey) -> CustodyRow:
    """Append one entry about ``item`` and sign the head after it. Call inside transaction.atomic."""
    entry = new_entry(item.id.bytes, action, actor=actor, subject=subject)
    log, _ = CustodyLog.objects.select_for_update().get_or_create(id=1)
    row = CustodyRow(index=log.size, leaf_hash=entry.leaf_hash, item_id=item.pk, case_key_id=case_key.pk)
    row.appended_at = entry.at
    row.entry_ct = seal_bytes(case_key, entry.to_bytes(), ctx=crypto.custody_entry_ctx(row.index, entry.leaf_hash))
    row.save(force_insert=True)
    log.size += 1
    log.save(update_fields=["size"])
    _sign_head(log.size)
    return row


def _leaf_hashes(size: int | None = None) -> list[bytes]:
    rows = CustodyRow.objects.order_by("index").values_list("index", "leaf_hash")
    if size is not None:
        rows = rows.filter(index__lt=size)
    hashes = []
    for expected, (index, leaf_hash) in enumerate(rows):
        if index != expected:
            raise CustodyBroken(f"entry {expected} is missing from the log")
        hashes.append(bytes(leaf_hash))
    return hashes


def _sign_head(size: int) -> TreeHead:
    root = merkle.root(_leaf_hashes(size))
    head = sign_tree_head(log_key().seed, log_id=LOG_ID, tree_size=size, root_hash=root, timestamp=datetime.now(UTC))
    return TreeHead.objects.create(
        tree_size=size, root_hash=root, signed_at=head.timestamp, head_json=json.dumps(head.to_json(), sort_keys=True)
    )


def _head(row: TreeHead) -> SignedTreeHead:
    return SignedTreeHead.from_json(json.loads(row.head_json))


def head_of(row: TreeHead) -> SignedTreeHead:
    return _head(row)


class CustodyBroken(Exception):
    """The stored log does not hold: a missing entry, a head that is not signed or does not
    match its leaves, or heads that are not consistent with one another."""


@dataclass(frozen=True)
class LogCheck:
    size: int
    heads_checked: int
    latest: SignedTreeHead | None


def custody_check() -> LogCheck:
    """Every stored head is signed by the log key and is the root of the leaves beneath it
    (so each later head extends each earlier one: the log was only ever appended to)."""
    hashes = _leaf_hashes()
    heads = list(TreeHead.objects.order_by("tree_size"))
    latest = None
    for row in heads:
        head = _head(row)
        _check_head(row, head, hashes)
        latest = head
    if latest is not None and latest.tree_size != len(hashes):
        raise CustodyBroken(f"the latest signed head covers {latest.tree_size} entries, the log holds {len(hashes)}")
    return LogCheck(len(hashes), len(heads), latest)


def _check_head(row: TreeHead, head: SignedTreeHead, hashes: Sequence[bytes]) -> None:
    try:
        verify_tree_head(head, log_public_key())
    except ValueError as error:
        raise CustodyBroken(f"the head of size {row.tree_size} is not signed by the log key: {error}") from error
    if head.tree_size != row.tree_size or head.tree_size > len(hashes):
        raise CustodyBroken(f"the head of size {row.tree_size} names {head.tree_size} entries")
    if merkle.root(hashes[: head.tree_size]) != head.root_hash or bytes(row.root_hash) != head.root_hash:
        raise CustodyBroken(f"the head of size {row.tree_size} is not the root of the entries beneath it")


class Snapshot:
    """The log's leaf hashes read once, to prove any number of its entries (an export, an
    item's page) without reading the whole log again for each."""

    def __init__(self) -> None:
        with transaction.atomic():
            self.hashes = _leaf_hashes()
            self.latest = TreeHead.objects.get(tree_size=len(self.hashes)) if self.hashes else None
            self.stamped = list(
                TreeHead.objects.filter(timestamp_token__isnull=False).order_by("-tree_size")[:_STAMPED_HEADS]
            )

    def proof(self, entry: CustodyEntry, index: int) -> dict[str, object]:
        """The proof bundle (sealbox.proofbundle) of one opened entry: against the latest head
        with an RFC 3161 token that covers it (evidence.timestamps), else against the latest head."""
        if index >= len(self.hashes) or self.hashes[index] != entry.leaf_hash or self.latest is None:
            raise CustodyBroken(f"entry {index} is not the one the log holds")
        row = next((head for head in self.stamped if head.tree_size > index), self.latest)
        token = bytes(row.timestamp_token) if row.timestamp_token is not None else None
        return make_bundle(self.hashes, index, _head(row), leaf_data=entry.to_bytes(), timestamp_token=token)


# The newest timestamped heads a snapshot keeps (one per worker interval; older ones cover
# fewer entries and are only needed for an entry no newer stamp covers).
_STAMPED_HEADS = 50


def proof_for(entry: CustodyEntry, index: int) -> dict[str, object]:
    return Snapshot().proof(entry, index)


def custody_append_by_server(*, items: Sequence[EvidenceItem], action: str, case_key: CaseKey) -> None:
    """Entries the server writes by itself (a hold, a shredding): actor "server", sealed to the
    case's current key (sealing needs only its public half)."""
    for item in items:
        custody_append(item=item, action=action, actor="server", subject=b"", case_key=case_key)
