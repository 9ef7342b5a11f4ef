"""Staff key pairs: created sealed under the password, unlocked only for the session.

Each member has two: an X25519 pair that case keys are wrapped to, and an Ed25519 pair that
signs their replies. Both private halves are sealed under the same password key, with
different contexts. Both public keys are certified with keys derived from the instance secret,
one per purpose (docs/crypto.md, "Message authenticity" and "Staff key certificates"):
nothing is ever sealed to an X25519 key whose certificate fails (trusted_box_key)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import nacl.encoding
import nacl.hash
import nacl.utils
from django.conf import settings
from django.http import HttpRequest

import sealbox
from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from core.argon2_slots import argon2_slot
from core.certificates import certified
from core.vault import vault_get, vault_put

logger = logging.getLogger(__name__)

_VAULT_NAME = "staff_private_key"
_SIGNING_VAULT_NAME = "staff_signing_key"


@dataclass(frozen=True, repr=False)
class SealedKeyPair:
    """A new key pair: the sealed form to store, and the private key for this session only."""

    public_key: bytes
    private_key: bytes
    sealed_private_key: bytes
    salt: bytes
    params: sealbox.Argon2Params
    signing_public_key: bytes
    signing_seed: bytes
    sealed_signing_key: bytes


def _ctx(salt: bytes) -> bytes:
    return sealbox.context("staff.private_key", salt)


def _signing_ctx(salt: bytes) -> bytes:
    return sealbox.context("staff.signing_key", salt)


def staff_keys_create(password: str) -> SealedKeyPair:
    pair = sealbox.KeyPair.generate()
    signing = sealbox.SigningKeyPair.generate()
    salt = nacl.utils.random(16)
    params = settings.SP_ARGON2
    with argon2_slot():
        key = sealbox.derive_password_key(password, salt=salt, params=params)
    sealed = sealbox.encrypt(key, pair.private_key, ctx=_ctx(salt), pad=False)
    sealed_signing = sealbox.encrypt(key, signing.seed, ctx=_signing_ctx(salt), pad=False)
    return SealedKeyPair(
        pair.public_key, pair.private_key, sealed, salt, params, signing.public_key, signing.seed, sealed_signing
    )


def apply_sealed_keys(member: StaffMember, keys: SealedKeyPair) -> None:
    """Set the key columns; the certificates need the member's id, so they are made after
    the first save (signing_key_certify, box_key_certify)."""
    member.public_key = keys.public_key
    member.sealed_private_key = keys.sealed_private_key
    member.key_salt = keys.salt
    member.key_time_cost = keys.params.time_cost
    member.key_memory_kib = keys.params.memory_kib
    member.signing_public_key = keys.signing_public_key
    member.sealed_signing_key = keys.sealed_signing_key
    member.signing_key_certificate = None
    member.box_key_certificate = None


@dataclass(frozen=True, repr=False)
class UnlockedKeys:
    """What the password opens, for this request only. ``signing_seed`` is None for an
    account enrolled before replies were signed; ``password_key`` seals a new one for it."""

    private_key: bytes
    signing_seed: bytes | None
    password_key: bytes


def staff_keys_unlock(member: StaffMember, password: str) -> UnlockedKeys:
    """Raises sealbox.CryptoError if the password does not open the keys."""
    params = sealbox.Argon2Params(time_cost=member.key_time_cost, memory_kib=member.key_memory_kib)
    salt = bytes(member.key_salt)
    with argon2_slot():
        key = sealbox.derive_password_key(password, salt=salt, params=params)
    private_key = sealbox.decrypt(key, bytes(member.sealed_private_key), ctx=_ctx(salt))
    sealed_signing = member.sealed_signing_key
    seed = sealbox.decrypt(key, bytes(sealed_signing), ctx=_signing_ctx(salt)) if sealed_signing else None
    return UnlockedKeys(private_key, seed, key)


def staff_private_key_unlock(member: StaffMember, password: str) -> bytes:
    """Raises sealbox.CryptoError if the password does not open the key."""
    return staff_keys_unlock(member, password).private_key


def staff_signing_key_unlock(member: StaffMember, password: str) -> bytes:
    """The member's signing seed. Raises sealbox.CryptoError if the password does not open it
    and LookupError when the account has no signing key yet."""
    seed = staff_keys_unlock(member, password).signing_seed
    if seed is None:
        raise LookupError("this account has no signing key yet")
    return seed


def signing_key_seal_new(member: StaffMember, password_key: bytes) -> bytes:
    """Give an account enrolled before replies were signed its signing key, sealed under the
    password key its X25519 key is sealed under (same salt). Returns the seed; the caller
    saves the member and then certifies the key."""
    signing = sealbox.SigningKeyPair.generate()
    member.signing_public_key = signing.public_key
    member.sealed_signing_key = sealbox.encrypt(
        password_key, signing.seed, ctx=_signing_ctx(bytes(member.key_salt)), pad=False
    )
    member.signing_key_certificate = None
    return signing.seed


def staff_keys_reopen_signing(member: StaffMember, password_key: bytes) -> bytes:
    """Open the member's stored signing key with a password key already derived."""
    if member.sealed_signing_key is None:
        raise LookupError("this account has no signing key yet")
    return sealbox.decrypt(password_key, bytes(member.sealed_signing_key), ctx=_signing_ctx(bytes(member.key_salt)))


def _certificate_key() -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, sealbox.CERTIFICATE_KEY_PURPOSE)


def signing_key_certify(member: StaffMember) -> None:
    """Vouch for the member's signing public key with the instance secret (never stored in
    the database): a database writer cannot certify a key of their own."""
    if member.pk is None or not member.signing_public_key:
        raise ValueError("certify a saved member's signing key")
    member.signing_key_certificate = sealbox.key_certificate(
        _certificate_key(), member.pk, bytes(member.signing_public_key)
    )


def trusted_signing_key(member: StaffMember) -> bytes | None:
    """The member's signing public key if its certificate holds, else None."""
    public_key, certificate = member.signing_public_key, member.signing_key_certificate
    if not public_key or not certificate:
        return None
    public_key = bytes(public_key)
    if not sealbox.key_certificate_valid(_certificate_key(), member.pk, public_key, bytes(certificate)):
        return None
    return public_key


def _box_certificate_key() -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, sealbox.BOX_CERTIFICATE_KEY_PURPOSE)


def box_key_certify(member: StaffMember) -> None:
    """Vouch for the member's X25519 public key (the one case keys are wrapped to) with the
    instance secret. Made only where the server itself created the key pair: at enrolment."""
    if member.pk is None or not member.public_key:
        raise ValueError("certify a saved member's public key")
    member.box_key_certificate = sealbox.box_key_certificate(
        _box_certificate_key(), member.pk, bytes(member.public_key)
    )


def _box_key_certified(member: StaffMember) -> bytes | None:
    public_key, certificate = member.public_key, member.box_key_certificate
    if member.pk is None or not public_key or not certificate:
        return None
    public_key = bytes(public_key)
    if not sealbox.box_key_certificate_valid(_box_certificate_key(), member.pk, public_key, bytes(certificate)):
        return None
    return public_key


def account_state_trusted(member: StaffMember, *, disabled_ids: frozenset[int] | None = None) -> bool:
    """Whether the member's role and active state are the ones the application last set: a
    database writer who turns a disabled account back on or changes a role breaks the account
    certificate (core.certificates). An account the audit log records as disabled is never
    active, whatever its row says: putting back the row's own earlier certificate (a copy kept
    from before the disabling) does not bring it back either."""
    if member.pk is None or not certified(member):
        return False
    if not member.is_active:
        return True
    disabled = member.pk in disabled_ids if disabled_ids is not None else disabled_on_record(member)
    return not disabled


def disabled_on_record(member: StaffMember) -> bool:
    """Whether the hash-chained audit log holds a disabling of this account (there is no way to
    enable one again). A writer who deletes or changes that entry breaks the chain, which
    verify_audit reports (and a head noted off the server pins)."""
    return AuditEntry.objects.filter(action=Action.STAFF_DISABLE, details__member=member.pk).exists()


def disabled_on_record_ids() -> frozenset[int]:
    """Every account the audit log records as disabled, in one query (for checking several)."""
    details = AuditEntry.objects.filter(action=Action.STAFF_DISABLE).values_list("details", flat=True)
    return frozenset(entry["member"] for entry in details if isinstance(entry.get("member"), int))


def trusted_box_key(member: StaffMember, *, disabled_ids: frozenset[int] | None = None) -> bytes | None:
    """The member's X25519 public key if it may be given new keys, else None. Every wrap of a
    case key (and of every other key) to a member goes through this: the key's certificate
    must hold (a key a database writer put in has none, nor has one certified for another
    member or a signing key's certificate), and so must the account certificate over the role
    and the active state, and the account must be active. A writer who flips ``is_active``
    back on or changes ``role`` gets nothing sealed to that member."""
    public_key = _box_key_certified(member)
    if public_key is None or not member.is_active or not account_state_trusted(member, disabled_ids=disabled_ids):
        return None
    return public_key


def trusted_box_keys(
    members: Iterable[StaffMember], *, left_out: str, log: logging.Logger = logger
) -> list[tuple[StaffMember, bytes]]:
    """Each member whose X25519 key may be given a new key (trusted_box_key), with that key,
    for sealing one thing to several members: the audit log's disablings are read once, not
    once per member. A member left out is logged to ``log`` (the caller's logger) with
    ``left_out`` (one %s: the member id)."""
    disabled = disabled_on_record_ids()
    trusted = []
    for member in members:
        public_key = trusted_box_key(member, disabled_ids=disabled)
        if public_key is None:
            log.warning(left_out, member.pk)
            continue
        trusted.append((member, public_key))
    return trusted


def box_key_proven(member: StaffMember, private_key: bytes) -> bool:
    """Whether ``member``'s X25519 public key is certified and ``private_key`` (opened with
    their password) is its private half. A database writer can put in a password hash, a
    sealed key and a 2FA device of their own, but not a certificate."""
    trusted = trusted_box_key(member)
    if trusted is None or len(private_key) != sealbox.KEY_BYTES:
        return False
    return hmac.compare_digest(sealbox.KeyPair.from_private(private_key).public_key, trusted)


def staff_keys_proven(member: StaffMember, private_key: bytes, signing_seed: bytes) -> bool:
    """Both of the member's keys are certified and the session holds their private halves:
    what a login, and every console request after it, requires."""
    if not box_key_proven(member, private_key):
        return False
    trusted = trusted_signing_key(member)
    if trusted is None or len(signing_seed) != 32:
        return False
    return hmac.compare_digest(sealbox.SigningKeyPair.from_seed(signing_seed).public_key, trusted)


def signing_key_fingerprint(public_key: bytes) -> str:
    """A short, loggable name for a signing public key (audit entries)."""
    return nacl.hash.blake2b(public_key, digest_size=16, encoder=nacl.encoding.HexEncoder).decode()


def session_remember_private_key(request: HttpRequest, private_key: bytes) -> None:
    vault_put(request, _VAULT_NAME, private_key)


def session_private_key(request: HttpRequest) -> bytes | None:
    return vault_get(request, _VAULT_NAME)


def session_remember_signing_key(request: HttpRequest, seed: bytes) -> None:
    vault_put(request, _SIGNING_VAULT_NAME, seed)


def session_signing_key(request: HttpRequest) -> bytes | None:
    return vault_get(request, _SIGNING_VAULT_NAME)


def staff_private_key_reseal(
    member: StaffMember, private_key: bytes, new_password: str, *, signing_seed: bytes
) -> None:
    """Seal the same private keys under a new password, with a new salt and today's cost.
    The key pairs do not change, so every case key wrapped to the public key still opens and
    the signing key's certificate still holds."""
    salt = nacl.utils.random(16)
    params = settings.SP_ARGON2
    with argon2_slot():
        key = sealbox.derive_password_key(new_password, salt=salt, params=params)
    member.sealed_private_key = sealbox.encrypt(key, private_key, ctx=_ctx(salt), pad=False)
    member.sealed_signing_key = sealbox.encrypt(key, signing_seed, ctx=_signing_ctx(salt), pad=False)
    member.key_salt = salt
    member.key_time_cost = params.time_cost
    member.key_memory_kib = params.memory_kib


SESSION_GENERATION = "staff_session_generation"


def session_remember_generation(request: HttpRequest, member: StaffMember) -> None:
    request.session[SESSION_GENERATION] = member.session_generation
