"""The untouched originals of uploaded files: evidence that only coordinators open.

Staff and the person see a copy of each photo or PDF without its location and camera data
(scrub, intake/uploads.py). The file as it arrived is kept beside it, encrypted under its own
stream key, because it may be needed as evidence (T7): the metadata can prove where and when a
photo was taken. Its key is sealed neither to the case key (which caseworkers, verifiers and
logistics staff hold) nor to the message's data key (which the person holds), but to each
active member who may open originals (accounts.permissions.can_open_original_files) AND holds
the case's current key (need to know, invariant 3: the holders its certified version names),
with a certified key (accounts.keyring.trusted_box_keys, invariant 8), and to the organisation
recovery key. A coordinator given the case later opens the originals uploaded after that;
older ones stay openable with the recovery key. A member taken off the case, or disabled, loses
their rows (casework.services._drop_holder_rows, staff_disable). casework.selectors.original_for_member opens
one; the console audits every opening.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sealbox
from accounts import permissions
from accounts.keyring import trusted_box_keys
from accounts.models import StaffMember
from casework import keys
from casework.models import AttachmentOriginalKey, CaseKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class NewOriginal:
    """The file as it arrived, already encrypted into the blob store, not yet recorded."""

    blob_name: str
    file_key: bytes
    size: int


def key_ctx(attachment_id: uuid.UUID) -> bytes:
    return keys.attachment_ctx("original-key", attachment_id)


def original_keys_seal(
    originals: Sequence[tuple[uuid.UUID, NewOriginal]], case_key: CaseKey | None
) -> list[AttachmentOriginalKey]:
    """The rows that seal each original's stream key to its readers (among the holders of
    ``case_key``, the case's current version) and the recovery key (the caller saves them with
    the attachments, in the same transaction)."""
    if not originals:
        return []
    # Who holds the version is read from the version itself, and only once its certificate
    # holds: a database writer who adds an id to it gets nothing (keys.case_key_checked).
    holder_ids = keys.case_key_checked(case_key).holder_ids if case_key is not None else []
    members = StaffMember.objects.filter(
        pk__in=holder_ids, is_active=True, role__in=permissions.ORIGINAL_FILE_READER_ROLES
    )
    readers = trusted_box_keys(
        members.order_by("pk"), left_out="staff member %s: left out of original files, key not certified", log=logger
    )
    try:
        recovery: bytes | None = keys.recovery_public_key()
    except keys.RecoveryKeyMismatch:
        # Nothing is sealed to a recovery key that does not hold (logged where it is read); the
        # person's message still goes through, its originals for the coordinators alone.
        recovery = None
    rows = []
    for attachment_id, original in originals:
        ctx = key_ctx(attachment_id)
        rows += [
            AttachmentOriginalKey(
                attachment_id=attachment_id,
                member=member,
                sealed_key=sealbox.seal(public_key, original.file_key, ctx=ctx, pad=False),
            )
            for member, public_key in readers
        ]
        if recovery is not None:
            sealed = sealbox.seal(recovery, original.file_key, ctx=ctx, pad=False)
            rows.append(AttachmentOriginalKey(attachment_id=attachment_id, for_recovery=True, sealed_key=sealed))
    return rows
