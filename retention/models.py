"""Retention: how long a closed case is kept (per closing reason), legal holds, the person's
request to delete what they wrote, and the tombstone a shredded case leaves.

Policies and holds decide whether data is destroyed, so they are certified rows
(core.certificates): a database writer can neither shorten nor lengthen retention, nor lift a
hold, without the instance secret. Every row here holds codes, numbers and times only, never
text anyone typed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.certificates import flag_part, time_part


class RetentionPolicy(models.Model):
    """A closed case whose closing reason is ``reason`` is shredded ``keep_days`` days after
    it was closed. A reason without a (certified) policy is kept."""

    # casework.lifecycle.ClosingReason values.
    reason = models.CharField(max_length=30, unique=True)
    keep_days = models.PositiveIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "retention.policy"

    def certificate_parts(self) -> tuple[int, str, int]:
        return (self.pk, self.reason, self.keep_days)


class HoldReason(models.TextChoices):
    LEGAL = "legal", _("Legal proceedings")
    EVIDENCE = "evidence", _("Evidence for an investigation or a report")
    PERSON = "person", _("The person asked us to keep it")
    OTHER = "other", _("Other reason (see the audit log)")


class LegalHold(models.Model):
    """A case on hold is never shredded, whatever the policy says. One row per case: lifting
    the hold certifies the row as lifted (a writer who deletes the row of a held case... see
    retention.policies.hold_state: the audit log remembers)."""

    case = models.OneToOneField("casework.Case", on_delete=models.CASCADE, related_name="legal_hold")
    on_hold = models.BooleanField(default=True)
    reason = models.CharField(max_length=20, choices=HoldReason.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "retention.hold"

    def certificate_parts(self) -> tuple[int, str, str, str]:
        return (self.case_id, flag_part(self.on_hold, yes="held", no="lifted"), self.reason, time_part(self.changed_at))


class DeletionRequest(models.Model):
    """The person asked, from the intake, to delete what they wrote. ``under_duress``: asked
    after a danger-word login, so possibly by a captor: nothing was deleted (docs/crypto.md,
    "Retention and shredding")."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="deletion_requests")
    asked_at = models.DateTimeField(default=timezone.now)
    under_duress = models.BooleanField(default=False)


class ShredBasis(models.TextChoices):
    POLICY = "policy", _("Retention policy")
    PERSON = "person", _("The person asked")
    COORDINATOR = "coordinator", _("A coordinator")


class Tombstone(models.Model):
    """What is left of a shredded case besides its Case row (public id, created at, state)
    and its audit entries: when it was closed and why, when and on what basis it was shredded.

    ``state`` is "shredding" once the rows are gone and the files may not be (a worker killed
    between the two finishes them on its next run), then "shredded"."""

    class State(models.TextChoices):
        SHREDDING = "shredding", _("Being shredded")
        SHREDDED = "shredded", _("Shredded")

    case = models.OneToOneField("casework.Case", on_delete=models.PROTECT, related_name="tombstone")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SHREDDING)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_reason = models.CharField(max_length=30, blank=True, default="")
    shredded_at = models.DateTimeField(default=timezone.now)
    basis = models.CharField(max_length=12, choices=ShredBasis.choices)
    # The policy's keep_days when shredded under a policy.
    policy_days = models.PositiveIntegerField(null=True, blank=True)


class ShredFile(models.Model):
    """A stored file of a case being shredded, still to be deleted from the file store once
    the rows are gone (after the transaction commits). The name is random (no content)."""

    tombstone = models.ForeignKey(Tombstone, on_delete=models.CASCADE, related_name="files")
    blob_name = models.CharField(max_length=64, unique=True)
