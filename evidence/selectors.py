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
from evidence.custody import proof_for
from evidence.models import Consent, CustodyEntry, EvidenceItem
from sealbox.custody import CustodyEntry as Entry
from sealbox.custody import parse_entry


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
    return [proof_for(entry, index) for index, entry in custody_entries(item, opened)]
