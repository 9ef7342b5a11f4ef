"""Vetting against infiltrators (threat T3): the checklist, verifiers' sign-offs, the store of
sensitive items and the red flags.

What staff write here is case content or sensitive: notes and reasons are sealed to the case
key, sensitive item texts to the staff who may release them, red-flag values are kept only as
keyed hashes (vetting/digests.py). Plaintext columns are who and when, and codes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CheckItem(models.TextChoices):
    INTERVIEW = "interview", _("Interview done")
    REFERENCES = "references", _("References checked")
    PARTNER_ATTESTATION = "partner_attestation", _("Partner organisation attestation")
    STORY_CONSISTENT = "story_consistent", _("Story is consistent")


class VettingCheck(models.Model):
    """One ticked checklist item. The note is sealed to ``case_key`` (a case key version)."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="vetting_checks")
    item = models.CharField(max_length=30, choices=CheckItem.choices)
    ticked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ticked_at = models.DateTimeField(default=timezone.now)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    note_ct = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "item"], name="unique_vetting_check_item")]


class SignOff(models.Model):
    """A verifier's sign-off for the current vetting round; the reason is sealed to ``case_key``.
    A withdrawn sign-off stays as history and no longer counts."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="sign_offs")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    reason_ct = models.BinaryField()
    # The verifier's Ed25519 signature over sealbox.sign_off_statement (case, this row, the
    # verifier, the time, the vetting round), with the signing key certified for them: a
    # sign-off a database writer plants, or moves, does not count (vetting.services).
    signature = models.BinaryField(max_length=64, null=True, blank=True)
    # Whether it still stands: certified again when it is withdrawn, so clearing
    # ``withdrawn_at`` in the database does not make a withdrawn sign-off count again
    # (core.certificates).
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "vetting.sign-off"

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            # The database itself refuses a second standing sign-off by the same verifier.
            models.UniqueConstraint(
                fields=["case", "verifier"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_standing_sign_off_per_verifier",
            )
        ]

    def certificate_parts(self) -> tuple[int, int, str]:
        return (self.pk, self.verifier_id, "standing" if self.withdrawn_at is None else "withdrawn")


class SensitiveKind(models.TextChoices):
    SAFE_HOUSE = "safe_house", _("Safe-house address")
    MEETING_POINT = "meeting_point", _("Meeting point")
    OTHER_PERSON = "other_person", _("Another person's data")
    STAFF_NAME = "staff_name", _("Staff member's real name")


class SensitiveItem(models.Model):
    """SENSITIVE (T3): something never to be released to a case that is not verified.

    The text is encrypted under a random data key, sealed per reader in SensitiveItemKey; the
    server keeps keyed hashes of its shingles (SensitiveShingle) to check reply drafts."""

    kind = models.CharField(max_length=20, choices=SensitiveKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    text_ct = models.BinaryField()
    shingle_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["kind", "pk"]


class SensitiveItemKey(models.Model):
    """The item's data key sealed to one staff member, or to the organisation recovery key."""

    item = models.ForeignKey(SensitiveItem, on_delete=models.CASCADE, related_name="keys")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    for_recovery = models.BooleanField(default=False)
    sealed_key = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="unique_sensitive_key_per_member"),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, for_recovery=False)
                | models.Q(member__isnull=True, for_recovery=True),
                name="sensitive_key_has_exactly_one_holder",
            ),
        ]


class SensitiveShingle(models.Model):
    item = models.ForeignKey(SensitiveItem, on_delete=models.CASCADE, related_name="shingles")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "digest"], name="unique_sensitive_shingle")]


class RedFlagKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    HANDLE = "handle", _("Messenger handle or address")
    PHRASE = "phrase", _("Phrase")


class RedFlag(models.Model):
    """A known compromised identifier, held only as keyed hashes (RedFlagDigest): the value
    and any label are never stored."""

    kind = models.CharField(max_length=10, choices=RedFlagKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    digest_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at", "-pk"]


class RedFlagDigest(models.Model):
    flag = models.ForeignKey(RedFlag, on_delete=models.CASCADE, related_name="digests")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flag", "digest"], name="unique_red_flag_digest")]


class ContactDigest(models.Model):
    """A keyed hash of a way to reach the person, made at intake (the only time the server
    sees the contact in the clear). Cases sharing a digest are linked; red flags match it."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="contact_digests")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "digest"], name="unique_case_contact_digest")]


class RedFlagMatch(models.Model):
    class Via(models.TextChoices):
        CONTACT = "contact", _("Contact")
        PHRASE = "phrase", _("First message")

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="red_flag_matches")
    flag = models.ForeignKey(RedFlag, on_delete=models.CASCADE, related_name="matches")
    via = models.CharField(max_length=10, choices=Via.choices)
    matched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "flag"], name="unique_red_flag_match")]
