"""Reads that open the locker for one member; nothing opened is cached or stored."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from casework.models import Case
from casework.sealed import RecordDoesNotOpen, open_bytes
from evidence import crypto
from evidence.custody import CustodyBroken, LogCheck, Snapshot, custody_check, log_public_key
from evidence.models import Consent, CustodyEntry, EvidenceItem, TreeHead
from sealbox.custody import CustodyEntry as Entry
from sealbox.custody import parse_entry
from sealbox.proofbundle import verify_bundle


@dataclass(frozen=True)
class ItemView:
    id: uuid.UUID
    kind: str
    title: str | None
    original: bytes | None
    original_sha256: bytes | None
    promoted_at: datetime
    consent_revoked: bool

    @property
    def intact(self) -> bool:
        """The sealed original still has the SHA-256 computed when it was promoted."""
        return self.original is not None and hashlib.sha256(self.original).digest() == self.original_sha256


def open_item(item: EvidenceItem, opened: Mapping[int, bytes]) -> ItemView:
    case = item.case
    title = open_bytes(
        opened, item.case_key_id, bytes(item.title_ct), ctx=crypto.item_ctx("title", item.id, case, item.kind)
    )
    # An attachment's original stays in the file store, sealed to coordinators: not here.
    original = (
        None
        if item.kind == EvidenceItem.Kind.ATTACHMENT
        else open_bytes(
            opened, item.case_key_id, bytes(item.original_ct), ctx=crypto.item_ctx("original", item.id, case, item.kind)
        )
    )
    digest = open_bytes(
        opened,
        item.case_key_id,
        bytes(item.original_sha256_ct),
        ctx=crypto.item_ctx("sha256", item.id, case, item.kind),
    )
    return ItemView(
        item.id,
        item.kind,
        title.decode() if title is not None else None,
        original,
        digest,
        item.promoted_at,
        item.consent.revoked_at is not None,
    )


def case_items(case: Case, opened: Mapping[int, bytes]) -> list[ItemView]:
    items = EvidenceItem.objects.filter(case=case).select_related("case", "consent").order_by("-promoted_at")
    return [open_item(item, opened) for item in items]


def item_on_case(case: Case, item_id: uuid.UUID) -> EvidenceItem | None:
    return EvidenceItem.objects.select_related("case", "consent").filter(case=case, pk=item_id).first()


def kept_message_ids(case: Case) -> frozenset[uuid.UUID]:
    """The messages of the case already in the locker (a plaintext link, like the item's case)."""
    ids = EvidenceItem.objects.filter(case=case, message__isnull=False).values_list("message_id", flat=True)
    return frozenset(message_id for message_id in ids if message_id is not None)


@dataclass(frozen=True)
class ConsentView:
    id: uuid.UUID
    uses: tuple[str, ...] | None
    redacted_only: bool | None
    how: str | None
    recorded_at: datetime
    revoked_at: datetime | None


def open_consent(consent: Consent, opened: Mapping[int, bytes]) -> ConsentView:
    raw = open_bytes(
        opened, consent.case_key_id, bytes(consent.terms_ct),
        ctx=crypto.consent_terms_ctx(consent.id, consent.case, consent.recorded_by_id),
    )  # fmt: skip
    terms = json.loads(raw) if raw is not None else None
    return ConsentView(
        consent.id,
        tuple(terms["uses"]) if terms else None,
        bool(terms["redacted_only"]) if terms else None,
        str(terms["how"]) if terms else None,
        consent.recorded_at,
        consent.revoked_at,
    )


def case_consents(case: Case, opened: Mapping[int, bytes]) -> list[ConsentView]:
    consents = Consent.objects.filter(case=case).select_related("case").order_by("-recorded_at")
    return [open_consent(consent, opened) for consent in consents]


def consent_on_case(case: Case, consent_id: uuid.UUID) -> Consent | None:
    return Consent.objects.select_related("case").filter(case=case, pk=consent_id).first()


def custody_entries(item: EvidenceItem, opened: Mapping[int, bytes]) -> list[tuple[int, Entry]]:
    """The item's custody entries, opened and checked against their leaf hashes."""
    found = []
    for row in CustodyEntry.objects.filter(item_id=item.pk).order_by("index"):
        raw = open_bytes(
            opened, row.case_key_id, bytes(row.entry_ct), ctx=crypto.custody_entry_ctx(row.index, bytes(row.leaf_hash))
        )
        if raw is None:
            continue
        entry = parse_entry(raw)
        if entry.leaf_hash != bytes(row.leaf_hash) or entry.item_id != item.id.bytes:
            raise RecordDoesNotOpen("custody entry", row.case_key_id)
        found.append((row.index, entry))
    return found


def custody_proofs(item: EvidenceItem, opened: Mapping[int, bytes]) -> list[dict[str, object]]:
    """A proof bundle for each of the item's entries, against the latest signed head."""
    log = Snapshot()
    return [log.proof(entry, index) for index, entry in custody_entries(item, opened)]


@dataclass(frozen=True)
class CustodyLine:
    """One entry of an item's custody, as the item's page shows it."""

    index: int
    action: str | None  # None: the entry does not open (changed outside the console)
    at: datetime
    actor: str | None
    verified: bool  # its leaf is in the log under the latest head, signed with the log key


def custody_trail(item: EvidenceItem, opened: Mapping[int, bytes]) -> list[CustodyLine]:
    """The item's custody entries, each checked on its own: its sealed bytes against its leaf
    hash, and its proof against the latest signed head. An entry that fails is shown as not
    verifying rather than hidden, so a tampered log is seen where it is read."""
    public_key = log_public_key()
    lines = []
    log = Snapshot()
    for row in CustodyEntry.objects.filter(item_id=item.pk).order_by("index"):
        try:
            raw = open_bytes(
                opened,
                row.case_key_id,
                bytes(row.entry_ct),
                ctx=crypto.custody_entry_ctx(row.index, bytes(row.leaf_hash)),
            )
        except RecordDoesNotOpen:  # its leaf hash or its sealed bytes were changed (logged)
            lines.append(CustodyLine(row.index, None, row.appended_at, None, False))
            continue
        if raw is None:
            continue  # sealed to a key version this member does not hold
        entry = parse_entry(raw)
        try:
            if entry.leaf_hash != bytes(row.leaf_hash) or entry.item_id != item.id.bytes:
                raise CustodyBroken(f"entry {row.index} is not the one the log holds")
            verify_bundle(log.proof(entry, row.index), public_key)
            verified = True
        except (CustodyBroken, ValueError, TreeHead.DoesNotExist, IndexError):  # CustodyError is a ValueError
            verified = False
        lines.append(CustodyLine(row.index, entry.action, entry.at, entry.actor, verified))
    return lines


@dataclass(frozen=True)
class LogState:
    check: LogCheck | None  # None when the log does not hold
    problem: str  # what does not hold, for the page (in the log's own words)


def custody_state() -> LogState:
    try:
        return LogState(custody_check(), "")
    except (CustodyBroken, ValueError) as broken:  # a head that does not parse too
        return LogState(None, str(broken))


def approval_in_log(item: EvidenceItem, opened: Mapping[int, bytes], digest: bytes) -> bool:
    """Whether the signed custody log holds a "derivative" entry for ``item`` over ``digest``:
    the approval of a plan as it stands. A plan a database writer replaced (sealing needs only
    the case's public key) has no such entry, and a row it adds is under no signed head."""
    log = Snapshot()
    for index, entry in custody_entries(item, opened):
        if entry.action == "derivative" and entry.subject == digest:
            try:
                log.proof(entry, index)
            except (CustodyBroken, ValueError):
                continue
            return True
    return False
