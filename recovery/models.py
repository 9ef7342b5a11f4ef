"""A recovery ceremony: k trustees bring their shares of the organisation recovery key for one
action, from their own devices or in turn on one.

The ceremony has a key pair of its own. Its private half lives only in the starting
coordinator's session vault (core.vault: encrypted under a key that only that browser's cookie
carries); its public half is here, certified, and every share entered is sealed to it at once.
So the database holds shares only as ciphertext that neither a database reader nor the session
table alone opens, and a database writer cannot swap in a ceremony key of their own (the
certificate breaks). The rows are deleted when the ceremony completes, is cancelled or expires.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import StaffMember
from casework.models import Case
from core.certificates import time_part


class Ceremony(models.Model):
    class Purpose(models.TextChoices):
        CASE_ACCESS = "case_access", "case access"
        RESHARE = "reshare", "new recovery key and trustees"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    started_by = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    public_key = models.BinaryField(max_length=32)
    # CASE_ACCESS: the case whose key is given, and to whom.
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # RESHARE: the new plan (k, n, holders as in accounts.RecoveryShareSet.holders).
    new_threshold = models.PositiveSmallIntegerField(default=0)
    new_count = models.PositiveSmallIntegerField(default=0)
    new_holders = models.CharField(max_length=200, blank=True, default="")
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "recovery.ceremony"

    def certificate_parts(self) -> tuple[str | bytes | int, ...]:
        return (
            str(self.id),
            self.purpose,
            str(self.started_by_id),
            time_part(self.expires_at),
            bytes(self.public_key),
            "" if self.case_id is None else str(self.case_id),
            "" if self.member_id is None else str(self.member_id),
            self.new_threshold,
            self.new_count,
            self.new_holders,
        )

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class CeremonyShare(models.Model):
    """One share as entered, sealed to the ceremony's public key (context: ceremony, share
    index, who entered it). The index is not secret (it is the share's number on paper)."""

    ceremony = models.ForeignKey(Ceremony, on_delete=models.CASCADE, related_name="shares")
    index = models.PositiveSmallIntegerField()
    entered_by = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    sealed_share = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ceremony", "index"], name="one_share_per_index")]
