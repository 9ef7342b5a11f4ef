"""The person deletes what they wrote, from the intake; staff then decide about the case.

Asked with the real codename, on a case that was never logged into with the danger phrase:
every copy sealed to the person is deleted (the message keys sealed to their credentials, and
any message nobody else can open), then their credentials themselves. The codename then finds
nothing at the login, exactly as a wrong one: the same derivation, the same lookup, the same
page. What is sealed to the case key stays for staff, with a warning on the case that the
person asked for deletion; a coordinator closes and shreds it, or keeps it under its policy.

Asked after a danger-word login (or on a case under duress: a captor may know the codename
itself): the same page says it is done and the codename stops working the same way (every
credential is revoked), but nothing is deleted: what staff need to find the person stays,
and the case is flagged. Staff can give the person a new codename through the agreed channel.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.models import Message, MessageKey, PersonCredential
from casework.sealed import lock_case
from casework.services import PersonSession
from core.certificates import certified, certify
from retention import shred
from retention.models import DeletionRequest

logger = logging.getLogger(__name__)


def person_deletion(session: PersonSession) -> bool:
    """Carry out the person's request; True when their copies were deleted, False when it was
    only recorded (under duress). Either way their codename stops working."""
    with transaction.atomic():
        locked = lock_case(session.case)
        under_duress = session.credential.is_duress or locked.under_duress_since is not None
        shredding = shred.Shredding(case=locked)
        if under_duress:
            revoked = _credentials_revoke(locked.pk)
        else:
            revoked = _person_copies_delete(shredding)
        DeletionRequest.objects.create(case=locked, under_duress=under_duress)
        audit_record(
            actor=None,
            action=Action.CASE_DELETION_ASKED,
            case=locked,
            details={"duress": under_duress, "credentials": revoked, "files": len(shredding.files)},
        )
        files = sorted(shredding.files)
    if files:
        transaction.on_commit(lambda: shred.files_delete(files))
    return not under_duress


def _credentials_revoke(case_pk: int) -> int:
    count = 0
    for credential in PersonCredential.objects.filter(case_id=case_pk, revoked_at__isnull=True):
        was_certified = certified(credential)
        credential.revoked_at = timezone.now()
        if was_certified:  # never certify over a row that did not hold
            certify(credential)
        credential.save(update_fields=["revoked_at", "certificate"])
        count += 1
    return count


def _person_copies_delete(shredding: shred.Shredding) -> int:
    case = shredding.case
    credentials = PersonCredential.objects.filter(case=case)
    if case.reply_credential_id is not None:
        keys.case_recertify(case, reply_credential_id=None)
    MessageKey.objects.filter(credential__in=credentials).delete()
    unreadable = Message.objects.filter(case=case).exclude(Exists(MessageKey.objects.filter(message=OuterRef("pk"))))
    shred.delete_tree(unreadable, shredding)
    count = credentials.count()
    shred.delete_tree(PersonCredential.objects.filter(case=case), shredding)
    logger.info("case %s: the person's copies deleted at their request", case.pk)
    return count
