"""Staff account writes: sign-up links, enrolment, the recovery key, first-time setup."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

import sealbox
from accounts.keyring import (
    UnlockedKeys,
    apply_sealed_keys,
    box_key_certify,
    box_key_proven,
    signing_key_certify,
    signing_key_fingerprint,
    signing_key_seal_new,
    staff_keys_create,
    staff_keys_reopen_signing,
    staff_private_key_reseal,
)
from accounts.models import (
    RecoveryCode,
    RecoveryKey,
    RecoveryShareSet,
    Role,
    SignupLink,
    StaffMember,
    Team,
    TeamMembership,
)
from accounts.teams import TeamJoined, team_joined_at_enrolment
from audit.models import Action
from audit.services import audit_record
from core.certificates import certified, certify

# Named in the language the first coordinator signs up in, as a coordinator names any later
# team: a team's name is what people typed, never translated when shown.
ON_CALL_TEAM_NAME = gettext_lazy("Hotline")

logger = logging.getLogger(__name__)


class LinkNotUsable(Exception):
    """The link is unknown, already used or expired."""


def signup_link_create(*, purpose: str, role: str, team: Team | None, created_by: StaffMember | None) -> str:
    """Create a one-time link and return its token; only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    setup = purpose == SignupLink.Purpose.FIRST_COORDINATOR
    hours = settings.SP_SETUP_HOURS if setup else settings.SP_INVITE_HOURS
    with transaction.atomic():
        link = SignupLink(
            token_hash=SignupLink.hash_token(token),
            purpose=purpose,
            role=role,
            team=team,
            created_by=created_by,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        certify(link)
        link.save(force_insert=True)
        audit_record(
            actor=created_by,
            action=Action.SETUP_LINK_CREATE if setup else Action.INVITE_CREATE,
            details={"link": link.pk, "role": role, "team": team.pk if team else None},
        )
    return token


def first_coordinator_link_create() -> str | None:
    """A setup link for the first coordinator, or None when one already exists."""
    if StaffMember.objects.filter(role=Role.COORDINATOR, is_active=True).exists():
        return None
    return signup_link_create(
        purpose=SignupLink.Purpose.FIRST_COORDINATOR, role=Role.COORDINATOR, team=None, created_by=None
    )


def signup_link_find(token: str) -> SignupLink:
    link = SignupLink.objects.filter(token_hash=SignupLink.hash_token(token)).first()
    if link is None or not link.is_usable() or not _link_certified(link):
        raise LinkNotUsable
    return link


def _link_certified(link: SignupLink) -> bool:
    """A link a database writer planted or edited (its role, team or expiry) would make an
    account the application then certifies: it is refused like an unknown one."""
    if certified(link):
        return True
    logger.error("sign-up link %s is not certified; refused", link.pk)
    return False


@dataclass(frozen=True, repr=False)
class Enrolment:
    member: StaffMember
    private_key: bytes
    signing_seed: bytes
    device: TOTPDevice


def staff_enrol(*, token: str, username: str, password: str) -> Enrolment:
    """Create the account a link was made for and use the link up, in one transaction."""
    keys = staff_keys_create(password)
    with transaction.atomic():
        link = SignupLink.objects.select_for_update().filter(token_hash=SignupLink.hash_token(token)).first()
        if link is None or not link.is_usable() or not _link_certified(link):
            raise LinkNotUsable
        if link.purpose == SignupLink.Purpose.FIRST_COORDINATOR:
            _first_coordinator_links_retire(except_for=link)
        member = StaffMember(username=username, role=link.role)
        member.set_password(password)
        apply_sealed_keys(member, keys)
        member.save()
        signing_key_certify(member)
        box_key_certify(member)
        certify(member)  # the role the link was made for, active
        member.save(update_fields=["signing_key_certificate", "box_key_certificate", "account_certificate"])
        team = link.team or _on_call_team_get_or_create()
        if team is not None:
            membership = TeamMembership(team=team, member=member)
            certify(membership)
            membership.save()
            # Cases that reached the team before the account existed: a key holder must hand
            # each key on (the server cannot), so casework records them as owed and shows them.
            team_joined_at_enrolment.run(TeamJoined(team=team, member=member))
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        device = TOTPDevice.objects.create(user=member, name="authenticator", confirmed=False)
        # The signing key's fingerprint in the hash chain: a key swapped in later, even by
        # someone holding the instance secret, no longer matches what was recorded here.
        details = {"link": link.pk, "role": member.role, "signing_key": _fingerprint(member)}
        audit_record(actor=member, action=Action.STAFF_ENROL, details=details)
    return Enrolment(member=member, private_key=keys.private_key, signing_seed=keys.signing_seed, device=device)


def _fingerprint(member: StaffMember) -> str:
    if member.signing_public_key is None:
        raise LookupError("this account has no signing key yet")
    return signing_key_fingerprint(bytes(member.signing_public_key))


class KeysNotProven(Exception):
    """The account's keys are not the ones the server enrolled (no valid certificate, or the
    password opens a different private key): it may have been made by a database writer."""


def signing_key_add(*, member: StaffMember, unlocked: UnlockedKeys) -> bytes:
    """At the first login after replies became signed: give an older account its signing key,
    sealed under its password key, certified and audited. Returns the seed for the session.
    A data migration cannot do this: only the password opens the password key.

    Only for an account the server enrolled: its X25519 key's certificate holds and the
    password opens that key's private half. Otherwise raises KeysNotProven and certifies
    nothing: an account a database writer made (password, sealed keys and 2FA device of their
    own, no signing key) would else get a certified signing key, and its replies would verify."""
    if unlocked.signing_seed is not None:
        return unlocked.signing_seed
    with transaction.atomic():
        locked = StaffMember.objects.select_for_update().get(pk=member.pk)
        if not box_key_proven(locked, unlocked.private_key):
            logger.warning("staff member %s: no signing key made, the account's box key is not proven", member.pk)
            raise KeysNotProven
        if locked.sealed_signing_key:  # another login of the same account got there first
            return staff_keys_reopen_signing(locked, unlocked.password_key)
        seed = signing_key_seal_new(locked, unlocked.password_key)
        signing_key_certify(locked)
        locked.save(update_fields=["signing_public_key", "sealed_signing_key", "signing_key_certificate"])
        audit_record(actor=locked, action=Action.SIGNING_KEY_CREATE, details={"signing_key": _fingerprint(locked)})
    member.signing_public_key = locked.signing_public_key
    member.sealed_signing_key = locked.sealed_signing_key
    member.signing_key_certificate = locked.signing_key_certificate
    return seed


def _first_coordinator_links_retire(*, except_for: SignupLink) -> None:
    """A setup link makes the first coordinator only: once one is used, or once a coordinator
    exists, every other setup link printed earlier (scrollback, logs) stops working."""
    if StaffMember.objects.filter(role=Role.COORDINATOR).exists():
        raise LinkNotUsable
    SignupLink.objects.filter(purpose=SignupLink.Purpose.FIRST_COORDINATOR, used_at__isnull=True).exclude(
        pk=except_for.pk
    ).update(used_at=timezone.now())


def _on_call_team_get_or_create() -> Team | None:
    """The certified on-call team, made at the first enrolment. None when a team is marked on
    call but is not certified (marked outside the console): the account then joins no team,
    and the error is logged, rather than joining a team a database writer chose."""
    for team in Team.objects.filter(is_on_call=True).order_by("pk"):
        if certified(team):
            return team
        logger.error("team %s is marked on call but its certificate does not hold; nobody joins it", team.pk)
        return None
    if Team.objects.exists():
        # Teams exist but none is marked on call: the flag was taken off outside the console.
        # Making a fresh on-call team now would let whoever is invited next read every new case.
        logger.error("no team is marked on call although teams exist; the new account joins no team")
        return None
    team = Team.objects.create(name=str(ON_CALL_TEAM_NAME), is_on_call=True)
    certify(team)
    team.save(update_fields=["certificate"])
    return team


def totp_confirm(device: TOTPDevice, code: str) -> bool:
    if not device.verify_token(code.replace(" ", "")):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


class RecoveryKeyExists(Exception):
    pass


def recovery_key_confirm(*, private_key: bytes, typed_group: str, created_by: StaffMember) -> RecoveryKey:
    """Store the recovery public key once the coordinator has typed back the last group of
    the written-down private key, proving it was seen. Raises ValueError on a wrong group and
    RecoveryKeyExists if one was stored meanwhile (the singleton constraint decides races)."""
    expected = sealbox.encode_recovery_key(private_key).rsplit("-", 1)[1]
    if "".join(typed_group.split()).upper() != expected:
        raise ValueError("the typed group does not match")
    public_key = sealbox.KeyPair.from_private(private_key).public_key
    try:
        with transaction.atomic():
            stored = RecoveryKey(public_key=public_key, created_by=created_by)
            certify(stored)
            stored.save()
            audit_record(actor=created_by, action=Action.RECOVERY_KEY_CREATE)
            return stored
    except IntegrityError:
        raise RecoveryKeyExists from None


def recovery_key_create(*, created_by: StaffMember) -> str | None:
    """Generate and store a recovery key in one step (set-up scripts and tests); returns the
    encoded private half, or None if one exists. The console confirms instead (see views)."""
    pair = sealbox.KeyPair.generate()
    encoded = sealbox.encode_recovery_key(pair.private_key)
    try:
        recovery_key_confirm(private_key=pair.private_key, typed_group=encoded.rsplit("-", 1)[1], created_by=created_by)
    except RecoveryKeyExists:
        return None
    return encoded


@dataclass(frozen=True, repr=False)
class SharePlan:
    """A recovery key about to be split: shown to the trustees, then stored (public half only).
    ``repr=False``: the private key and the shares never reach a log line or a traceback."""

    private_key: bytes
    shares: list[str]
    threshold: int
    holders: list[int | None]

    @property
    def public_key(self) -> bytes:
        return sealbox.KeyPair.from_private(self.private_key).public_key

    @property
    def identifier(self) -> int:
        return sealbox.share_info(self.shares[0]).identifier


def recovery_share_plan(*, threshold: int, holders: list[int | None], private_key: bytes | None = None) -> SharePlan:
    """A new recovery key (or ``private_key``) split into one share per entry of ``holders``."""
    private = private_key if private_key is not None else sealbox.KeyPair.generate().private_key
    shares = sealbox.split_recovery_key(private, threshold=threshold, count=len(holders))
    return SharePlan(private_key=private, shares=shares, threshold=threshold, holders=holders)


def recovery_share_set_write(plan: SharePlan, *, created_by: StaffMember) -> RecoveryShareSet:
    """Store (or replace) the certified record of who holds which share. Call in a transaction."""
    RecoveryShareSet.objects.filter(slot=1).delete()
    share_set = RecoveryShareSet(
        public_key=plan.public_key,
        threshold=plan.threshold,
        count=len(plan.shares),
        identifier=plan.identifier,
        holders=RecoveryShareSet.holders_text(plan.holders),
        created_by=created_by,
    )
    certify(share_set)
    share_set.save(force_insert=True)
    return share_set


def recovery_shares_confirm(plan: SharePlan, *, created_by: StaffMember) -> RecoveryKey:
    """Store the recovery public key and the share set once every trustee has written their
    share down. Raises RecoveryKeyExists if a key was stored meanwhile."""
    try:
        with transaction.atomic():
            stored = RecoveryKey(public_key=plan.public_key, created_by=created_by)
            certify(stored)
            stored.save()
            recovery_share_set_write(plan, created_by=created_by)
            audit_record(actor=created_by, action=Action.RECOVERY_KEY_CREATE)
            audit_record(
                actor=created_by,
                action=Action.RECOVERY_SHARES_CREATE,
                details={"threshold": plan.threshold, "count": len(plan.shares)},
            )
            return stored
    except IntegrityError:
        raise RecoveryKeyExists from None


def recovery_shares_create(*, created_by: StaffMember, threshold: int = 2, holders: list[int | None]) -> list[str]:
    """Make, split and store a recovery key in one step (set-up scripts and tests); returns the
    shares. The console shows each to its trustee first instead (staff.views)."""
    plan = recovery_share_plan(threshold=threshold, holders=holders)
    recovery_shares_confirm(plan, created_by=created_by)
    return plan.shares


def recovery_share_set() -> RecoveryShareSet | None:
    """The share set, if its certificate holds and it splits the stored recovery key."""
    row = RecoveryShareSet.objects.filter(slot=1).first()
    key = RecoveryKey.objects.filter(slot=1).first()
    if row is None or key is None or not certified(row) or bytes(row.public_key) != bytes(key.public_key):
        return None
    return row


# --- login lockout, sign out everywhere, password change (T12) ------------------------------


def login_failure_count(member: StaffMember) -> bool:
    """Count one failed login for a known account; lock it after SP_STAFF_LOGIN_FAILURES in a
    row, for SP_STAFF_LOCKOUT_SECONDS doubled per earlier lock, up to the cap. Returns whether
    this failure locked the account. Call inside the transaction that audits the failure."""
    locked = StaffMember.objects.select_for_update().get(pk=member.pk)
    if locked.is_locked():
        return False
    locked.failed_logins += 1
    just_locked = locked.failed_logins >= settings.SP_STAFF_LOGIN_FAILURES
    if just_locked:
        seconds = min(
            settings.SP_STAFF_LOCKOUT_SECONDS * 2 ** min(locked.lock_count, 30), settings.SP_STAFF_LOCKOUT_MAX_SECONDS
        )
        locked.locked_until = timezone.now() + timedelta(seconds=seconds)
        locked.lock_count += 1
        locked.failed_logins = 0
        audit_record(actor=None, action=Action.ACCOUNT_LOCKED, details={"member": locked.pk, "seconds": seconds})
    locked.save(update_fields=["failed_logins", "locked_until", "lock_count"])
    return just_locked


def code_check(member: StaffMember, code: str) -> bool:
    """The member's authenticator code, asked again inside the console (the password change).
    A wrong one counts towards the same lockout as a failed login, since django-otp's own
    throttle is off (settings.OTP_TOTP_THROTTLE_FACTOR); a locked account's code is not even
    checked, so a guesser gets SP_STAFF_LOGIN_FAILURES tries per lock, as at login."""
    if StaffMember.objects.get(pk=member.pk).is_locked():
        return False
    device = TOTPDevice.objects.filter(user=member, confirmed=True).first()
    if device is not None and device.verify_token(code.replace(" ", "")):
        return True
    with transaction.atomic():
        login_failure_count(member)
    return False


def login_success_reset(member: StaffMember) -> None:
    StaffMember.objects.filter(pk=member.pk).update(failed_logins=0, locked_until=None, lock_count=0)


def account_unlock(*, member: StaffMember, by: StaffMember) -> None:
    with transaction.atomic():
        StaffMember.objects.filter(pk=member.pk).update(failed_logins=0, locked_until=None)
        audit_record(actor=by, action=Action.ACCOUNT_UNLOCK, details={"member": member.pk})


def sessions_end_all(member: StaffMember) -> int:
    """End every session of this member: sessions remember the generation they logged in with,
    and access.staff_required turns away any that no longer matches. Returns the new value."""
    with transaction.atomic():
        StaffMember.objects.filter(pk=member.pk).update(session_generation=models.F("session_generation") + 1)
        member.refresh_from_db(fields=["session_generation"])
        audit_record(actor=member, action=Action.SIGN_OUT_EVERYWHERE)
    return member.session_generation


def password_change(*, member: StaffMember, private_key: bytes, signing_key: bytes, new_password: str) -> None:
    """Re-seal the same private keys (X25519 and signing) under the new password, set the new
    password hash and end every other session, in one transaction. The public keys do not
    change, so both certificates stay as they are. The caller has checked the
    current password and TOTP code and keeps its own session by storing the new generation."""
    if sealbox.SigningKeyPair.from_seed(signing_key).public_key != bytes(member.signing_public_key or b""):
        raise ValueError("the session's signing key is not this member's")
    staff_private_key_reseal(member, private_key, new_password, signing_seed=signing_key)
    member.set_password(new_password)
    with transaction.atomic():
        member.session_generation = models.F("session_generation") + 1
        member.save(
            update_fields=[
                "password",
                "sealed_private_key",
                "sealed_signing_key",
                "key_salt",
                "key_time_cost",
                "key_memory_kib",
                "session_generation",
            ]
        )
        member.refresh_from_db(fields=["session_generation"])
        audit_record(actor=member, action=Action.PASSWORD_CHANGE)


# --- 2FA recovery codes --------------------------------------------------------------------

RECOVERY_CODE_COUNT = 10
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, none easily misread


def recovery_codes_create(member: StaffMember) -> list[str]:
    """Replace the member's recovery codes with 10 new ones, returned once to be shown; only
    their hashes are stored. Each code is 16 symbols of 5 bits: 80 random bits."""
    codes = ["".join(secrets.choice(_CODE_ALPHABET) for _ in range(16)) for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.get_or_create(user=member, defaults={"name": "recovery codes", "confirmed": True})
        RecoveryCode.objects.filter(member=member).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(member=member, code_hash=RecoveryCode.hash_code(code)) for code in codes
        )
        audit_record(actor=member, action=Action.RECOVERY_CODES_CREATE)
    return ["-".join(code[i : i + 4] for i in range(0, 16, 4)) for code in codes]


def recovery_code_use(member: StaffMember, code: str) -> StaticDevice | None:
    """Use up one recovery code in place of the TOTP code: returns the member's recovery
    device when the code was theirs and unused (deleting it, so it works once), else None."""
    with transaction.atomic():
        deleted, _by_model = RecoveryCode.objects.filter(member=member, code_hash=RecoveryCode.hash_code(code)).delete()
        if not deleted:
            return None
        left = RecoveryCode.objects.filter(member=member).count()
        audit_record(actor=member, action=Action.RECOVERY_CODE_USE, details={"left": left})
    return StaticDevice.objects.filter(user=member).first()


def recovery_codes_left(member: StaffMember) -> int:
    return RecoveryCode.objects.filter(member=member).count()
