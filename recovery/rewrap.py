"""Re-seal every recovery wrap from the old recovery key to a new one (a reshare ceremony).

Each app seals some of its keys to the recovery key, each under its own context; this module
knows them all, which is why the recovery app sits above every other. A wrap is opened with
the old private key and sealed to the new public key under the same context. The rows'
certificates name the holder ("recovery"), not the ciphertext, so they hold unchanged. A wrap
that does not open (changed in the database) is logged by table and id and left as it is: it
opened nothing before either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sealbox
from casework import keys, originals
from casework.models import AttachmentOriginalKey, CaseKeyWrap
from evacuation.handoff import services as handoff_services
from evacuation.handoff.models import OrgKeyWrap
from evacuation.safehouses import crypto as safehouse_crypto
from evacuation.safehouses.models import SafeHouseKey
from vetting import sensitive
from vetting.models import SensitiveItemKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Kind:
    name: str
    rows: Callable[[], Iterator[Any]]
    field: str
    ctx: Callable[[Any], bytes]


def _kinds() -> list[_Kind]:
    return [
        _Kind(
            "case key",
            lambda: CaseKeyWrap.objects.filter(for_recovery=True).select_related("case_key__case").iterator(),
            "sealed_private_key",
            lambda row: keys.wrap_ctx(row.case_key.case, row.case_key.version),
        ),
        _Kind(
            "original file key",
            lambda: AttachmentOriginalKey.objects.filter(for_recovery=True).iterator(),
            "sealed_key",
            lambda row: originals.key_ctx(row.attachment_id),
        ),
        _Kind(
            "safe-house key",
            lambda: SafeHouseKey.objects.filter(for_recovery=True).iterator(),
            "sealed_key",
            lambda row: safehouse_crypto.staff_key_ctx(row.safe_house_id, row.version),
        ),
        _Kind(
            "hand-off key",
            lambda: OrgKeyWrap.objects.filter(for_recovery=True).select_related("keys").iterator(),
            "sealed_private",
            lambda row: handoff_services.wrap_ctx(row.keys, "recovery"),
        ),
        _Kind(
            "sensitive item key",
            lambda: SensitiveItemKey.objects.filter(for_recovery=True).iterator(),
            "sealed_key",
            lambda row: sensitive.key_ctx(row.item_id),
        ),
    ]


def rewrap_all(old_private_key: bytes, new_public_key: bytes) -> dict[str, int]:
    """Re-seal every recovery wrap to ``new_public_key``; how many of each kind (and how many
    did not open, under "not opened"). Call inside the transaction that stores the new key."""
    counts: dict[str, int] = {"not opened": 0}
    for kind in _kinds():
        counts[kind.name] = 0
        for row in kind.rows():
            ctx = kind.ctx(row)
            try:
                secret = sealbox.unseal(old_private_key, bytes(getattr(row, kind.field)), ctx=ctx)
            except sealbox.CryptoError:
                logger.warning("%s %s: its recovery wrap does not open; left as it is", kind.name, row.pk)
                counts["not opened"] += 1
                continue
            setattr(row, kind.field, sealbox.seal(new_public_key, secret, ctx=ctx))
            row.save(update_fields=[kind.field])
            counts[kind.name] += 1
    return counts
