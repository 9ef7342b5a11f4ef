"""Writes for partner hand-off: this organisation's keys, partners, exporting a case as a
signed, encrypted packet, and opening a received packet into a new case.

Key choice: the organisation's hand-off keys (X25519 to receive, Ed25519 to sign) are made once
by a coordinator; their private halves are sealed to every active coordinator's certified box
key (accounts.keyring.trusted_box_key) and to the organisation recovery key, never stored in the
clear. So only a logged-in coordinator (session vault key) can sign an export or open an
import; the server alone can do neither. Coordinators enrolled later are given the keys by one
who holds them (org_keys_share).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import sealbox
import sealbox.handoff as packets
from accounts import permissions
from accounts.hooks import MemberDisabled
from accounts.keyring import trusted_box_key, trusted_box_keys
from accounts.models import RecoveryKey, StaffMember
from accounts.teams import on_call_readers, on_call_team
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.models import Case, Urgency
from casework.sealed import Refused, lock_case, require
from casework.services import CaseDetails, case_create, held_via_team_record
from core.certificates import certify
from evacuation.handoff import payload as payload_mod
from evacuation.handoff.models import Field, HandoffExport, HandoffImport, OrgKeys, OrgKeyWrap, Partner
from notifications.models import Event
from notifications.services import case_event_notify_on_commit

logger = logging.getLogger(__name__)


class HandoffRefused(Refused):
    """The action is not allowed or the packet is refused; the message says why (RU/EN)."""


COORDINATORS_ONLY = gettext_noop("Only a coordinator can hand cases to partners or open packets from them.")


def wrap_ctx(org_keys: OrgKeys, holder: str) -> bytes:
    return sealbox.context("handoff.org-key", org_keys.pk, holder)


def consent_ctx(export: HandoffExport, case: Case) -> bytes:
    return sealbox.context("handoff.consent", export.id.bytes, case.public_id)


def import_ctx(record: HandoffImport, case: Case) -> bytes:
    return sealbox.context("handoff.import", record.id.bytes, case.public_id)


def org_keys() -> OrgKeys | None:
    return OrgKeys.objects.first()


# --- certificates: a database writer cannot swap a partner's keys or ours ------------------------


def _partner_certificate_key() -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, packets.PARTNER_CERTIFICATE_KEY_PURPOSE)


def _org_keys_certificate_key() -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, packets.ORG_KEYS_CERTIFICATE_KEY_PURPOSE)


def partner_certify(partner: Partner) -> None:
    """Vouch for a saved partner row (id, name, both keys) with the instance secret. Made only
    in partner_add, after a coordinator pasted the keys and was told to compare the fingerprint."""
    if partner.pk is None:
        raise ValueError("certify a saved partner")
    partner.certificate = packets.partner_certificate(
        _partner_certificate_key(), partner.pk, partner.name, bytes(partner.box_public_key), bytes(partner.verify_key)
    )


def trusted_partner_identity(partner: Partner) -> packets.Identity | None:
    """The partner's keys if the row's certificate holds (and its stored fingerprint matches
    them), else None: nothing is encrypted to, or accepted from, an uncertified partner."""
    if partner.pk is None or not partner.certificate:
        return None
    identity = partner.identity
    if not packets.partner_certificate_valid(
        _partner_certificate_key(),
        partner.pk,
        partner.name,
        identity.box_public_key,
        identity.verify_key,
        bytes(partner.certificate),
    ):
        return None
    if not hmac.compare_digest(identity.fingerprint.hex(), partner.fingerprint):
        return None
    return identity


def org_keys_certify(row: OrgKeys) -> None:
    if row.pk is None:
        raise ValueError("certify saved hand-off keys")
    row.certificate = packets.org_keys_certificate(
        _org_keys_certificate_key(), row.pk, bytes(row.box_public_key), bytes(row.verify_key)
    )


def trusted_org_identity(row: OrgKeys) -> packets.Identity | None:
    """This organisation's hand-off public keys if their certificate holds, else None."""
    if row.pk is None or not row.certificate:
        return None
    identity = row.identity
    if not packets.org_keys_certificate_valid(
        _org_keys_certificate_key(), row.pk, identity.box_public_key, identity.verify_key, bytes(row.certificate)
    ):
        return None
    return identity


def _untrusted_partner() -> HandoffRefused:
    return HandoffRefused(
        _("This partner's keys cannot be trusted; add the partner again after comparing the fingerprint.")
    )


def _require_trusted_partner(partner: Partner) -> packets.Identity:
    identity = trusted_partner_identity(partner)
    if identity is None:
        logger.warning("hand-off partner %s: refused, its keys are not certified", partner.pk)
        raise _untrusted_partner()
    return identity


# --- this organisation's keys --------------------------------------------------------------------


def org_keys_create(*, actor: StaffMember) -> OrgKeys:
    require(permissions.can_hand_off(actor), _(COORDINATORS_ONLY), HandoffRefused)
    if trusted_box_key(actor) is None:
        raise HandoffRefused(_("This account's key cannot be trusted; ask a coordinator."))
    if not RecoveryKey.objects.exists():
        raise HandoffRefused(_("Create the organisation recovery key first."))
    box = sealbox.KeyPair.generate()
    signing = sealbox.SigningKeyPair.generate()
    secret = box.private_key + signing.seed
    with transaction.atomic():
        if OrgKeys.objects.select_for_update().exists():
            raise HandoffRefused(_("The hand-off keys already exist."))
        try:
            with transaction.atomic():
                row = OrgKeys.objects.create(
                    box_public_key=box.public_key, verify_key=signing.public_key, created_by=actor
                )
                org_keys_certify(row)
                row.save(update_fields=["certificate"])
        except IntegrityError:
            raise HandoffRefused(_("The hand-off keys already exist.")) from None
        wraps = [
            OrgKeyWrap(
                keys=row,
                member=member,
                sealed_private=sealbox.seal(public_key, secret, ctx=wrap_ctx(row, str(member.pk)), pad=False),
            )
            for member, public_key in _coordinators()
        ]
        recovery = keys.recovery_public_key()
        wraps.append(
            OrgKeyWrap(
                keys=row,
                for_recovery=True,
                sealed_private=sealbox.seal(recovery, secret, ctx=wrap_ctx(row, "recovery"), pad=False),
            )
        )
        OrgKeyWrap.objects.bulk_create(wraps)
        audit_record(actor=actor, action=Action.HANDOFF_KEYS_CREATE, details={"coordinators": len(wraps) - 1})
    return row


def org_keys_rotate_on_disable(event: MemberDisabled) -> None:
    """A coordinator's account was disabled (accounts.hooks.member_disabled): they may have kept
    the hand-off private keys, so the organisation gets new ones at once, wrapped for the
    coordinators still active and for the recovery key; the old wraps are deleted. Nothing old
    needs opening, so no one's key is asked for. Partners must be given the new public keys (the
    hand-off page shows them); a packet they seal to the old key afterwards is refused."""
    member = event.member
    held = OrgKeyWrap.objects.filter(member=member).exists()
    if not held and member.role not in permissions.COORDINATOR_ROLES:
        return
    row = OrgKeys.objects.select_for_update().filter(slot=1).first()
    if row is None:
        return
    box = sealbox.KeyPair.generate()
    signing = sealbox.SigningKeyPair.generate()
    secret = box.private_key + signing.seed
    row.box_public_key, row.verify_key = box.public_key, signing.public_key
    org_keys_certify(row)
    row.save(update_fields=["box_public_key", "verify_key", "certificate"])
    OrgKeyWrap.objects.filter(keys=row).delete()
    wraps = [
        OrgKeyWrap(keys=row, member=holder, sealed_private=sealbox.seal(key, secret, ctx=wrap_ctx(row, str(holder.pk))))
        for holder, key in _coordinators()
        if holder.pk != member.pk
    ]
    try:
        recovery = keys.recovery_public_key()
    except keys.RecoveryKeyMismatch:
        logger.error("the recovery key does not hold: the new hand-off keys are not wrapped for it")
    else:
        ctx = wrap_ctx(row, "recovery")
        wraps.append(OrgKeyWrap(keys=row, for_recovery=True, sealed_private=sealbox.seal(recovery, secret, ctx=ctx)))
    OrgKeyWrap.objects.bulk_create(wraps)
    details = {"member": member.pk, "coordinators": sum(1 for wrap in wraps if not wrap.for_recovery)}
    audit_record(actor=event.actor, action=Action.HANDOFF_KEYS_ROTATE, details=details)


def _coordinators() -> list[tuple[StaffMember, bytes]]:
    coordinators = StaffMember.objects.filter(is_active=True, role__in=permissions.COORDINATOR_ROLES).order_by("pk")
    return trusted_box_keys(
        coordinators,
        left_out="staff member %s: left out of the hand-off keys, public key not certified",
        log=logger,
    )


@dataclass(frozen=True, repr=False)
class _OrgSecret:
    row: OrgKeys
    identity: packets.Identity  # certified
    box_private: bytes
    seed: bytes


def _org_secret(actor: StaffMember, actor_private_key: bytes) -> _OrgSecret:
    """The organisation's private keys, opened with the actor's own key; refused unless they
    open to the stored public keys (a wrap row alone proves nothing)."""
    row = org_keys()
    if row is None:
        raise HandoffRefused(_("This organisation has no hand-off keys yet."))
    if trusted_org_identity(row) is None:
        logger.warning("the hand-off keys row %s is not certified: refused", row.pk)
        raise HandoffRefused(
            _("This organisation's hand-off keys cannot be trusted: they were changed outside the console.")
        )
    wrap = OrgKeyWrap.objects.filter(keys=row, member=actor).first()
    secret = None
    if wrap is not None and actor.is_active:
        try:
            secret = sealbox.unseal(actor_private_key, bytes(wrap.sealed_private), ctx=wrap_ctx(row, str(actor.pk)))
        except sealbox.CryptoError:
            secret = None
    if secret is None or len(secret) != 64:
        raise HandoffRefused(_("You do not hold the hand-off keys yet: ask another coordinator to share them."))
    box_private, seed = secret[:32], secret[32:]
    if not (
        hmac.compare_digest(sealbox.KeyPair.from_private(box_private).public_key, bytes(row.box_public_key))
        and hmac.compare_digest(sealbox.SigningKeyPair.from_seed(seed).public_key, bytes(row.verify_key))
    ):
        logger.warning("staff member %s: their wrap of the hand-off keys does not open to them", actor.pk)
        raise HandoffRefused(_("You do not hold the hand-off keys yet: ask another coordinator to share them."))
    return _OrgSecret(row, row.identity, box_private, seed)


def org_keys_share(*, actor: StaffMember, actor_private_key: bytes) -> int:
    """Give the keys to every active coordinator who lacks them. Returns how many got them."""
    require(permissions.can_hand_off(actor), _(COORDINATORS_ONLY), HandoffRefused)
    with transaction.atomic():
        opened = _org_secret(actor, actor_private_key)
        holders = set(
            OrgKeyWrap.objects.filter(keys=opened.row, member__isnull=False).values_list("member_id", flat=True)
        )
        secret = opened.box_private + opened.seed
        rows = [
            OrgKeyWrap(
                keys=opened.row,
                member=member,
                sealed_private=sealbox.seal(public_key, secret, ctx=wrap_ctx(opened.row, str(member.pk)), pad=False),
            )
            for member, public_key in _coordinators()
            if member.pk not in holders
        ]
        OrgKeyWrap.objects.bulk_create(rows)
        if rows:
            audit_record(actor=actor, action=Action.HANDOFF_KEYS_SHARE, details={"members": len(rows)})
    return len(rows)


def coordinators_without_keys() -> list[StaffMember]:
    row = org_keys()
    if row is None:
        return []
    holders = OrgKeyWrap.objects.filter(keys=row, member__isnull=False).values_list("member_id", flat=True)
    return list(
        StaffMember.objects.filter(is_active=True, role__in=permissions.COORDINATOR_ROLES).exclude(pk__in=holders)
    )


# --- partners -------------------------------------------------------------------------------------


def partner_add(*, actor: StaffMember, name: str, box_key: bytes, verify_key: bytes) -> Partner:
    require(permissions.can_hand_off(actor), _(COORDINATORS_ONLY), HandoffRefused)
    name = name.strip()
    if not name:
        raise HandoffRefused(_("Give the partner organisation a name."))
    fingerprint = packets.fingerprint(box_key, verify_key).hex()
    own = org_keys()
    if own is not None and own.identity.fingerprint.hex() == fingerprint:
        raise HandoffRefused(_("These are this organisation's own keys, not a partner's."))
    with transaction.atomic():
        if Partner.objects.filter(name__iexact=name).exists():
            raise HandoffRefused(_("A partner with this name already exists."))
        if Partner.objects.filter(fingerprint=fingerprint).exists():
            raise HandoffRefused(_("A partner with these keys already exists."))
        partner = Partner.objects.create(
            name=name, box_public_key=box_key, verify_key=verify_key, fingerprint=fingerprint, created_by=actor
        )
        partner_certify(partner)
        partner.save(update_fields=["certificate"])
        audit_record(
            actor=actor, action=Action.HANDOFF_PARTNER_ADD, details={"partner": partner.pk, "fingerprint": fingerprint}
        )
    return partner


# --- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedPacket:
    export: HandoffExport
    filename: str
    data: bytes


def handoff_export(
    *,
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    partner: Partner,
    fields: list[str],
    consent_how: str,
    consent_date: date,
) -> ExportedPacket:
    require(permissions.can_hand_off(actor), _(COORDINATORS_ONLY), HandoffRefused)
    chosen = [value for value in Field.values if value in set(fields)]
    if not chosen or len(chosen) != len(set(fields)):
        raise HandoffRefused(_("Choose what to hand over."))
    consent_how = consent_how.strip()
    if not consent_how:
        raise HandoffRefused(_("Record how the person agreed to this hand-off."))
    if consent_date > timezone.localdate():
        raise HandoffRefused(_("The date of consent cannot be in the future."))
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        recipient = _require_trusted_partner(partner)
        locked = lock_case(case)
        try:
            keys.current_key_open(locked, actor, actor_private_key)
            opened = keys.case_private_keys(locked, actor, actor_private_key)
        except keys.NoAccess:
            raise HandoffRefused(_("You do not hold this case's key.")) from None
        org = _org_secret(actor, actor_private_key)
        consent = {"how": consent_how, "date": consent_date.isoformat()}
        content = payload_mod.gather(locked, actor, actor_private_key, opened, chosen)
        content["consent"] = consent
        packet_id = sealbox.random_key()[:16]
        data = packets.packet_seal(
            content,
            sender=org.identity,
            sender_seed=org.seed,
            recipient=recipient,
            packet_id=packet_id,
        )
        if len(data) > packets.MAX_PACKET_BYTES:
            # The partner's import refuses it: better said now, with what to do, than there.
            raise HandoffRefused(
                _(
                    "The packet would be larger than a hand-off packet can be (at most %(megabytes)d MiB). "
                    "Hand over fewer parts, for example without the conversation or the notes."
                )
                % {"megabytes": packets.MAX_PACKET_BYTES // (1024 * 1024)}
            )
        case_key = keys.current_case_key(locked)
        export = HandoffExport(
            case=locked, partner=partner, packet_id=packet_id.hex(), fields=chosen, case_key=case_key, created_by=actor
        )
        export.consent_ct = sealbox.seal(
            keys.sealable_public_key(case_key), packets.canonical(consent), ctx=consent_ctx(export, locked)
        )
        export.save(force_insert=True)
        audit_record(
            actor=actor,
            action=Action.HANDOFF_EXPORT,
            case=locked,
            details={"partner": partner.pk, "fields": ".".join(chosen), "packet": packet_id.hex()},
        )
    filename = f"handoff-{locked.public_id}-{packet_id.hex()[:8]}.sphandoff"
    return ExportedPacket(export=export, filename=filename, data=data)


# --- import -------------------------------------------------------------------------------------


def _rejection_message(reason: str) -> str:
    return {
        packets.REASON_FORMAT: _(
            "This file is not a hand-off packet, or it was damaged or changed on the way. Nothing was imported."
        ),
        packets.REASON_RECIPIENT: _(
            "This packet is addressed to another organisation, not to us. Nothing was imported."
        ),
        packets.REASON_SENDER: _(
            "This packet was not sent by the partner you chose. Check the sender. Nothing was imported."
        ),
        packets.REASON_SIGNATURE: _(
            "The partner's signature does not match: the packet was changed or forged. Nothing was imported."
        ),
        packets.REASON_CONTENT: _("The packet could not be opened with our key. Nothing was imported."),
    }[reason]


REASON_UNTRUSTED_PARTNER = "partner"  # the partner row's certificate does not hold
REASON_REPLAY = "replay"  # this packet from this partner was imported before
REASON_PAYLOAD = "payload"  # signed and opened, but the content's shape is wrong
REASON_NEWER = "version"  # signed and opened, but made by a newer payload version


def _replayed() -> HandoffRefused:
    return HandoffRefused(_("This packet was already imported. Nothing was imported again."))


def _refusal_audit(actor: StaffMember, partner: Partner, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action=Action.HANDOFF_IMPORT_REFUSED, details={"partner": partner.pk, "reason": reason}
        )


def handoff_import(*, actor: StaffMember, actor_private_key: bytes, partner: Partner, raw: bytes) -> Case:
    """Open a packet from ``partner`` into a new case for the on-call team, all or nothing."""
    require(permissions.can_hand_off(actor), _(COORDINATORS_ONLY), HandoffRefused)
    org = _org_secret(actor, actor_private_key)
    sender = trusted_partner_identity(partner)
    if sender is None:
        logger.warning("hand-off partner %s: packet refused, its keys are not certified", partner.pk)
        _refusal_audit(actor, partner, REASON_UNTRUSTED_PARTNER)
        raise _untrusted_partner()
    try:
        opened = packets.packet_open(raw, recipient=org.identity, recipient_private_key=org.box_private, sender=sender)
        content = payload_mod.validate(opened.payload)
    except packets.PacketRejected as exc:
        _refusal_audit(actor, partner, exc.reason)
        raise HandoffRefused(_rejection_message(exc.reason)) from None
    except payload_mod.NewerPayload:
        _refusal_audit(actor, partner, REASON_NEWER)
        raise HandoffRefused(
            _(
                "This packet was made by a newer version of Safe Passage than ours. Update this one, "
                "then open the packet again. Nothing was imported."
            )
        ) from None
    except payload_mod.BadPayload:
        _refusal_audit(actor, partner, REASON_PAYLOAD)
        raise HandoffRefused(
            _(
                "The packet is signed by the partner, but what is inside is not in a form this version "
                "can read. Ask the partner which version of Safe Passage they use. Nothing was imported."
            )
        ) from None
    packet_hex = opened.packet_id.hex()

    def already_imported() -> bool:
        return HandoffImport.objects.filter(partner=partner, packet_id=packet_hex).exists()

    if already_imported():
        _refusal_audit(actor, partner, REASON_REPLAY)
        raise _replayed()
    try:
        with transaction.atomic():
            team = on_call_team()
            members = on_call_readers(team) if team else []
            if team is None or not members or not RecoveryKey.objects.exists():
                raise HandoffRefused(_("There is no on-call team to give the case to. Nothing was imported."))
            details: dict[str, Any] = content.get("details") or {}
            urgency = details["urgency"] if details.get("urgency") in Urgency.values else Urgency.IN_HIDING
            case = case_create(urgency=urgency, team=team)
            case_key = keys.case_key_create(case, version=1, members=members)
            held_via_team_record(case, members, team)
            case_details = CaseDetails(
                region=details.get("region", ""),
                help_kinds=list(details.get("help_kinds", [])),
                language=details.get("language", ""),
                contact_kind=details.get("contact_kind", ""),
            )
            case.details_ct = sealbox.seal(
                keys.sealable_public_key(case_key), case_details.to_json(), ctx=keys.details_ctx(case)
            )
            certify(case)
            case.save(update_fields=["details_ct", "certificate"])
            record = HandoffImport(
                case=case,
                partner=partner,
                packet_id=packet_hex,
                fields=content["fields"],
                case_key=case_key,
                imported_by=actor,
            )
            rest = {key: value for key, value in content.items() if key != "details"}
            record.content_ct = sealbox.seal(
                keys.sealable_public_key(case_key), packets.canonical(rest), ctx=import_ctx(record, case)
            )
            record.save(force_insert=True)
            audit_record(
                actor=actor,
                action=Action.HANDOFF_IMPORT,
                case=case,
                details={"partner": partner.pk, "fields": ".".join(content["fields"]), "packet": packet_hex},
            )
            case_event_notify_on_commit(case_id=case.pk, event=Event.NEW_CASE)
    except keys.RecoveryKeyMismatch:
        raise HandoffRefused(_("The recovery key does not match the configuration. Nothing was imported.")) from None
    except IntegrityError:
        # Only the handoff_import_once constraint means "already imported": another coordinator
        # opened the same packet at the same moment, and their import is now committed. Any
        # other integrity error is a fault, not a refusal.
        if not already_imported():
            raise
        _refusal_audit(actor, partner, REASON_REPLAY)
        raise _replayed() from None
    return case
