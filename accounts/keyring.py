"""Staff key pairs: created sealed under the password, unlocked only for the session."""

from __future__ import annotations

from dataclasses import dataclass

import nacl.utils
from django.conf import settings
from django.http import HttpRequest

import sealbox
from accounts.models import StaffMember
from core.argon2_slots import argon2_slot
from core.vault import vault_get, vault_put

_VAULT_NAME = "staff_private_key"


@dataclass(frozen=True, repr=False)
class SealedKeyPair:
    """A new key pair: the sealed form to store, and the private key for this session only."""

    public_key: bytes
    private_key: bytes
    sealed_private_key: bytes
    salt: bytes
    params: sealbox.Argon2Params


def _ctx(salt: bytes) -> bytes:
    return sealbox.context("staff.private_key", salt)


def staff_keys_create(password: str) -> SealedKeyPair:
    pair = sealbox.KeyPair.generate()
    salt = nacl.utils.random(16)
    params = settings.SP_ARGON2
    with argon2_slot():
        key = sealbox.derive_password_key(password, salt=salt, params=params)
    sealed = sealbox.encrypt(key, pair.private_key, ctx=_ctx(salt))
    return SealedKeyPair(pair.public_key, pair.private_key, sealed, salt, params)


def apply_sealed_keys(member: StaffMember, keys: SealedKeyPair) -> None:
    member.public_key = keys.public_key
    member.sealed_private_key = keys.sealed_private_key
    member.key_salt = keys.salt
    member.key_time_cost = keys.params.time_cost
    member.key_memory_kib = keys.params.memory_kib


def staff_private_key_unlock(member: StaffMember, password: str) -> bytes:
    """Raises sealbox.CryptoError if the password does not open the key."""
    params = sealbox.Argon2Params(time_cost=member.key_time_cost, memory_kib=member.key_memory_kib)
    salt = bytes(member.key_salt)
    with argon2_slot():
        key = sealbox.derive_password_key(password, salt=salt, params=params)
    return sealbox.decrypt(key, bytes(member.sealed_private_key), ctx=_ctx(salt))


def session_remember_private_key(request: HttpRequest, private_key: bytes) -> None:
    vault_put(request, _VAULT_NAME, private_key)


def session_private_key(request: HttpRequest) -> bytes | None:
    return vault_get(request, _VAULT_NAME)


def staff_private_key_reseal(member: StaffMember, private_key: bytes, new_password: str) -> None:
    """Seal the same private key under a new password, with a new salt and today's cost.
    The key pair does not change, so every case key wrapped to the public key still opens."""
    salt = nacl.utils.random(16)
    params = settings.SP_ARGON2
    with argon2_slot():
        key = sealbox.derive_password_key(new_password, salt=salt, params=params)
    member.sealed_private_key = sealbox.encrypt(key, private_key, ctx=_ctx(salt))
    member.key_salt = salt
    member.key_time_cost = params.time_cost
    member.key_memory_kib = params.memory_kib


SESSION_GENERATION = "staff_session_generation"


def session_remember_generation(request: HttpRequest, member: StaffMember) -> None:
    request.session[SESSION_GENERATION] = member.session_generation
