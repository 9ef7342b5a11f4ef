"""Safe houses and who is placed in them.

A safe house's address and notes are organisation secrets, not case content: each is encrypted
under its own random key (the address key and the notes key, per key version of the house).
Both keys are sealed together to every coordinator's and logistics member's certified box key
and to the organisation recovery key (SafeHouseKey rows with ``member`` or ``for_recovery``);
the address key alone is also sealed to the case key of each verified case placed there
(rows with ``case_key``), so that case's team can read where the person is, and nothing more.
The server holds no key that opens either.

The server also keeps keyed hashes of the address's word shingles (SafeHouseShingle, the same
hashing as vetting's sensitive items), so the reply screen refuses a reply to an unverified
case that contains the address.

Plaintext columns, needed while nobody is logged in: the code name (a neutral label, never a
place), capacity, revision, when it was closed, which case is placed in which house and the dates (for occupancy).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.certificates import time_part


class SafeHouse(models.Model):
    code_name = models.CharField(max_length=60, unique=True)
    capacity = models.PositiveSmallIntegerField()
    # The version of the address and notes keys; a new version after a placement ends.
    key_version = models.PositiveIntegerField(default=1)
    address_ct = models.BinaryField()
    notes_ct = models.BinaryField()
    shingle_count = models.PositiveIntegerField(default=0)
    # A placement ended by someone who could not open the keys: the next coordinator or
    # logistics member who opens the address makes new keys (services.safe_house_rotate).
    rotation_due = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every edit and by closing: a form saved against an older revision is refused
    # (casework.sealed.EditConflict), so one save never silently overwrites another.
    revision = models.PositiveIntegerField(default=1)
    # A closed house takes no placements and leaves the placement form; its history stays.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Certifies the key version and whether new keys are due (core.certificates): clearing
    # ``rotation_due`` in the database would let a team whose stay ended read the next address
    # stored under the old keys. A house whose certificate fails gets new keys before anything
    # new is stored or sealed (services._rotation_needed).
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "safehouse"

    class Meta:
        ordering = ["code_name"]

    def __str__(self) -> str:
        return self.code_name

    def certificate_parts(self) -> tuple[int, int, str]:
        return (self.pk, self.key_version, "rotation-due" if self.rotation_due else "-")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class SafeHouseKey(models.Model):
    """One sealing of a version of a house's keys: to a staff member, to the recovery key
    (both: address and notes keys), or to a version of a placed case's key (address key)."""

    safe_house = models.ForeignKey(SafeHouse, on_delete=models.CASCADE, related_name="keys")
    version = models.PositiveIntegerField()
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    case_key = models.ForeignKey("casework.CaseKey", null=True, on_delete=models.CASCADE, related_name="+")
    for_recovery = models.BooleanField(default=False)
    sealed_key = models.BinaryField()
    # Who holds a version decides who is given the next one (services.safe_house_rotate), and
    # a sealing to a case key is how a placed case's team reads the address: only sealings the
    # application made count (core.certificates, docs/crypto.md "Certified rows").
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "safehouse.key"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["safe_house", "version", "member"], name="unique_safe_house_key_member"),
            models.UniqueConstraint(
                fields=["safe_house", "version", "case_key"], name="unique_safe_house_key_case_key"
            ),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, case_key__isnull=True, for_recovery=False)
                | models.Q(member__isnull=True, case_key__isnull=False, for_recovery=False)
                | models.Q(member__isnull=True, case_key__isnull=True, for_recovery=True),
                name="safe_house_key_has_exactly_one_holder",
            ),
        ]

    def certificate_parts(self) -> tuple[int, int, str]:
        if self.for_recovery:
            holder = "recovery"
        elif self.member_id is not None:
            holder = f"member:{self.member_id}"
        else:
            holder = f"case-key:{self.case_key_id}"
        return (self.safe_house_id, self.version, holder)


class SafeHouseShingle(models.Model):
    safe_house = models.ForeignKey(SafeHouse, on_delete=models.CASCADE, related_name="shingles")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["safe_house", "digest"], name="unique_safe_house_shingle")]


class Placement(models.Model):
    """A stay. A caseworker's placement is a request until a coordinator or logistics member
    confirms it (services.placement_confirm); only a confirmed stay's case key is given the
    address. Both count against the house's capacity while they have not ended."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for logistics to confirm")
        CONFIRMED = "confirmed", _("Confirmed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="placements")
    safe_house = models.ForeignKey(SafeHouse, on_delete=models.PROTECT, related_name="placements")
    starts_on = models.DateField()
    until = models.DateField(null=True, blank=True)  # planned end
    ended_at = models.DateTimeField(null=True, blank=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # A confirmed stay that has not ended is what gives a case's key the house's address: only
    # a stay the application recorded counts, as it stands (core.certificates). A stay planted
    # by a database writer, confirmed or brought back from its end outside the console, does not.
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "safehouse.placement"

    class Meta:
        ordering = ["-starts_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="one_active_placement_per_case"
            ),
        ]

    def certificate_parts(self) -> tuple[bytes, str, int, str, str]:
        # The case by its public id (as every certificate names a case), not its row id: case
        # rows swapped in the database do not carry a stay along.
        return (self.id.bytes, self.case.public_id, self.safe_house_id, self.status, time_part(self.ended_at))

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def is_confirmed(self) -> bool:
        return self.status == self.Status.CONFIRMED
