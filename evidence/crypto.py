"""Contexts that bind each sealed field of the locker to its row (sealbox.context)."""

from __future__ import annotations

import uuid

import sealbox
from casework.models import Case


def consent_terms_ctx(consent_id: uuid.UUID, case: Case, recorded_by_id: int) -> bytes:
    return sealbox.context("evidence.consent", consent_id.bytes, case.public_id, str(recorded_by_id))


def item_ctx(field: str, item_id: uuid.UUID, case: Case, kind: str) -> bytes:
    return sealbox.context(f"evidence.item.{field}", item_id.bytes, case.public_id, kind)


def custody_entry_ctx(index: int, leaf_hash: bytes) -> bytes:
    return sealbox.context("evidence.custody", index, leaf_hash)


def derivative_plan_ctx(derivative_id: uuid.UUID, item_id: uuid.UUID, case: Case) -> bytes:
    return sealbox.context("evidence.derivative.plan", derivative_id.bytes, item_id.bytes, case.public_id)


def event_ctx(event_id: uuid.UUID, case: Case) -> bytes:
    return sealbox.context("evidence.event", event_id.bytes, case.public_id)


def export_recipient_ctx(export_id: uuid.UUID, case: Case) -> bytes:
    return sealbox.context("evidence.export.recipient", export_id.bytes, case.public_id)
