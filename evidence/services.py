"""Writes to the evidence locker. Each runs in one transaction with its custody entries and its
audit entry; each checks the actor's capability (accounts.permissions.can_keep_evidence) and
that they hold the case's current key (the proof they may read what they seal)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import selectors as casework_selectors
from casework.models import Attachment, Case, CaseKey, Message
from casework.sealed import Refused, current_key_for, lock_case, require, seal_bytes, seal_text
from casework.selectors import MessageView
from evidence import crypto
from evidence.custody import custody_append
from evidence.models import Consent, EvidenceItem

# Whom the person may let the evidence go to (an export names one of these).
USES = ("journalists", "prosecutors", "international", "partners")


@dataclass(frozen=True)
class ConsentTerms:
    uses: tuple[str, ...]
    redacted_only: bool
    how: str  # the person's words, or where they gave it ("message of 3 May")

    def to_json(self) -> bytes:
        return json.dumps({"uses": list(self.uses), "redacted_only": self.redacted_only, "how": self.how}).encode()


def actor_code(member: StaffMember) -> str:
    """How the custody log names a member: a stable code, not a name."""
    return f"staff-{member.pk}"


def consent_row(*, case: Case, actor: StaffMember, case_key: CaseKey, terms: ConsentTerms) -> Consent:
    """A sealed consent, saved without checks or an audit entry (consent_record does both)."""
    consent = Consent(id=uuid.uuid4(), case=case, recorded_by=actor, recorded_at=timezone.now(), case_key=case_key)
    consent.terms_ct = seal_bytes(case_key, terms.to_json(), ctx=crypto.consent_terms_ctx(consent.id, case, actor.pk))
    consent.save(force_insert=True)
    return consent


def consent_record(*, case: Case, actor: StaffMember, actor_private_key: bytes, terms: ConsentTerms) -> Consent:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    require(bool(terms.uses), _("Choose at least one use the person agreed to."))
    require(set(terms.uses) <= set(USES), _("That use is not one the locker knows."))
    with transaction.atomic():
        locked = lock_case(case)
        consent = consent_row(
            case=locked, actor=actor, case_key=current_key_for(locked, actor, actor_private_key), terms=terms
        )
        audit_record(actor=actor, action=Action.EVIDENCE_CONSENT, case=locked, details={"consent": str(consent.pk)})
    return consent


def consent_revoke(*, consent: Consent, actor: StaffMember, actor_private_key: bytes) -> int:
    """Record that the person withdrew this consent; every item under it gets a custody entry.
    Returns how many items it covered. Revoking twice changes nothing."""
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    with transaction.atomic():
        locked = lock_case(consent.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        fresh = Consent.objects.select_for_update().get(pk=consent.pk)
        if fresh.revoked_at is not None:
            return 0
        fresh.revoked_at, fresh.revoked_by = timezone.now(), actor
        fresh.save(update_fields=["revoked_at", "revoked_by"])
        items = list(fresh.items.order_by("promoted_at"))
        for item in items:
            custody_append(item=item, action="consent-revoked", actor=actor_code(actor), subject=b"", case_key=case_key)
        audit_record(
            actor=actor, action=Action.EVIDENCE_CONSENT_REVOKE, case=locked, details={"consent": str(fresh.pk)}
        )
    consent.revoked_at, consent.revoked_by = fresh.revoked_at, actor
    return len(items)


def item_promote_message(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, message: Message, consent: Consent, title: str
) -> EvidenceItem:
    """The person's message, byte for byte as it was written, into the locker.

    Only a message the person sent whose authenticity holds may become evidence: a row a
    database writer inserted (casework.authenticity) is refused.
    """
    require(
        message.case_id == case.pk and message.sender == Message.Sender.PERSON,
        _("Only the person's own messages can be kept as evidence."),
    )
    view = _authentic_view(case, actor, actor_private_key, message)
    return _promote(
        case, actor, actor_private_key, consent, EvidenceItem.Kind.MESSAGE, view.body.encode(), title, message
    )


def _authentic_view(case: Case, actor: StaffMember, actor_private_key: bytes, message: Message) -> MessageView:
    """The person's message as staff read it, refused unless its authenticity holds (a row a
    database writer inserted has no valid server tag) and it is not part of the decoy."""
    views = casework_selectors.conversation_for_staff(case, actor, actor_private_key)
    view = next((v for v in views if v.id == message.pk), None)
    if view is None or not view.authentic or view.is_decoy:
        raise Refused(_("This message cannot be kept as evidence: its authenticity does not hold."))
    return view


def item_promote_attachment(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, attachment: Attachment, consent: Consent, title: str
) -> EvidenceItem:
    """A photo or PDF the person sent, into the locker: its SHA-256 is computed from the file as
    it arrived (the original the intake kept, or the file itself when nothing was removed from
    it) and sealed; the original itself stays where it is, sealed to coordinators only, so only
    a coordinator may do this."""
    require(permissions.can_open_original_files(actor), _("Only a coordinator can keep a file as evidence."))
    message = attachment.message
    require(
        message.case_id == case.pk and message.sender == Message.Sender.PERSON,
        _("Only the person's own files can be kept as evidence."),
    )
    _authentic_view(case, actor, actor_private_key, message)
    opened = (
        casework_selectors.original_for_member(case, actor, actor_private_key, attachment.id)
        if attachment.original_blob_name
        else casework_selectors.attachment_for_staff(case, actor, actor_private_key, attachment.id)
    )
    if opened is None:
        raise Refused(_("The file as it arrived cannot be opened with your key."))
    digest = hashlib.sha256()
    for chunk in opened[1]:
        digest.update(chunk)
    return _promote(
        case, actor, actor_private_key, consent, EvidenceItem.Kind.ATTACHMENT, b"", title, message,
        attachment=attachment, digest=digest.digest(),
    )  # fmt: skip


def item_promote_testimony(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, consent: Consent, title: str, text: str
) -> EvidenceItem:
    """A testimony a caseworker wrote down (from a call, a meeting), into the locker."""
    require(bool(text.strip()), _("Write the testimony before keeping it."))
    return _promote(case, actor, actor_private_key, consent, EvidenceItem.Kind.TESTIMONY, text.encode(), title, None)


def _promote(
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    consent: Consent,
    kind: str,
    original: bytes,
    title: str,
    message: Message | None,
    *,
    attachment: Attachment | None = None,
    digest: bytes | None = None,
) -> EvidenceItem:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    require(consent.case_id == case.pk, _("That consent was given for another case."))
    require(consent.revoked_at is None, _("The person withdrew this consent: record a new one first."))
    with transaction.atomic():
        locked = lock_case(case)
        # Again under the case's lock: a withdrawal may have been saved since the check above.
        fresh = Consent.objects.get(pk=consent.pk)
        require(fresh.revoked_at is None, _("The person withdrew this consent: record a new one first."))
        case_key = current_key_for(locked, actor, actor_private_key)
        item = item_row(
            case=locked, actor=actor, case_key=case_key, consent=consent, kind=kind, original=original, title=title,
            message=message, attachment=attachment, digest=digest,
        )  # fmt: skip
        audit_record(actor=actor, action=Action.EVIDENCE_PROMOTE, case=locked, details={"item": str(item.pk)})
    return item


def item_row(
    *,
    case: Case,
    actor: StaffMember,
    case_key: CaseKey,
    consent: Consent,
    kind: str,
    original: bytes,
    title: str,
    message: Message | None,
    attachment: Attachment | None = None,
    digest: bytes | None = None,
) -> EvidenceItem:
    """A sealed item with its first custody entries (promoted, under which consent), saved
    without checks or an audit entry (the promotions do both). Call inside transaction.atomic.
    ``digest`` is the SHA-256 of an attachment's original (which is not copied here)."""
    item = EvidenceItem(
        id=uuid.uuid4(), case=case, kind=kind, message=message, attachment=attachment, consent=consent,
        promoted_by=actor, promoted_at=timezone.now(),
    )  # fmt: skip
    digest = digest or hashlib.sha256(original).digest()
    _seal_item(item, case, case_key, original, title, digest)
    item.save(force_insert=True)
    custody_append(item=item, action="promoted", actor=actor_code(actor), subject=digest, case_key=case_key)
    custody_append(item=item, action="consent", actor=actor_code(actor), subject=b"", case_key=case_key)
    return item


def _seal_item(item: EvidenceItem, case: Case, case_key: CaseKey, original: bytes, title: str, digest: bytes) -> None:
    item.case_key = case_key
    item.title_ct = seal_text(case_key, title, ctx=crypto.item_ctx("title", item.id, case, item.kind))
    if item.kind == EvidenceItem.Kind.ATTACHMENT:
        item.original_ct = b""  # the original stays in the file store, sealed to coordinators
    else:
        item.original_ct = seal_bytes(case_key, original, ctx=crypto.item_ctx("original", item.id, case, item.kind))
    item.original_sha256_ct = seal_bytes(case_key, digest, ctx=crypto.item_ctx("sha256", item.id, case, item.kind))


def items_viewed(*, items: Sequence[EvidenceItem], actor: StaffMember, actor_private_key: bytes) -> None:
    """Each opening of an item is a custody entry and an audit entry, committed before it is shown."""
    if not items:
        return
    case = items[0].case
    with transaction.atomic():
        locked = lock_case(case)
        case_key = current_key_for(locked, actor, actor_private_key)
        for item in items:
            custody_append(item=item, action="viewed", actor=actor_code(actor), subject=b"", case_key=case_key)
        audit_record(
            actor=actor, action=Action.EVIDENCE_VIEW, case=locked, details={"items": ",".join(str(i.pk) for i in items)}
        )


__all__ = ["USES", "ConsentTerms", "Refused", "consent_record", "consent_revoke", "consent_row",
           "item_promote_attachment", "item_promote_message", "item_promote_testimony", "item_row",
           "items_viewed"]  # fmt: skip
