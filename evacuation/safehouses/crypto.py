"""Keys and contexts of safe-house addresses and notes (see models.py for the key choice).

Every ciphertext's context names the house, the key version and the field, so nothing can be
moved between houses, versions or fields."""

from __future__ import annotations

from dataclasses import dataclass

import sealbox

KEY_SIZE = 32


def address_ctx(house_id: int, version: int) -> bytes:
    return sealbox.context("safehouse.address", house_id, version)


def notes_ctx(house_id: int, version: int) -> bytes:
    return sealbox.context("safehouse.notes", house_id, version)


def staff_key_ctx(house_id: int, version: int) -> bytes:
    """Both keys, sealed to a coordinator's or logistics member's box key or the recovery key."""
    return sealbox.context("safehouse.keys", house_id, version)


def case_key_ctx(house_id: int, version: int, case_key_id: int) -> bytes:
    """The address key alone, sealed to one version of a placed case's key."""
    return sealbox.context("safehouse.case", house_id, version, case_key_id)


@dataclass(frozen=True, repr=False)
class HouseKeys:
    address: bytes
    notes: bytes  # never sealed to a case key: the team reads the address only

    @classmethod
    def generate(cls) -> HouseKeys:
        return cls(sealbox.random_key(), sealbox.random_key())

    def packed(self) -> bytes:
        return self.address + self.notes

    @classmethod
    def unpacked(cls, raw: bytes) -> HouseKeys:
        return cls(raw[:KEY_SIZE], raw[KEY_SIZE:])
