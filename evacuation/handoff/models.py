"""Partner organisations, this organisation's hand-off keys, and records of packets sent and
received (see docs/crypto.md, "Partner hand-off").

Plaintext columns: partner names and public keys (organisation knowledge, not case content),
which fields an export held, which partner, who and when (the audit needs them while nobody is
logged in). The consent statement and everything imported are case content, sealed to a
version of the case key with a context naming the row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import sealbox.handoff as packets


class Field(models.TextChoices):
    """What an export may carry, in packet order."""

    DETAILS = "details", _("Case details (region, kinds of help, language, how to contact)")
    CONVERSATION = "conversation", _("The conversation with the person")
    NOTES = "notes", _("Staff notes")
    PLAN = "plan", _("Evacuation plan legs")
    FATE = "fate", _("Where the person is now (fate status and its history)")


class OrgKeys(models.Model):
    """This organisation's hand-off key pair (one row). The private halves exist only in
    OrgKeyWrap rows: sealed to each coordinator's certified box key and to the recovery key."""

    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    box_public_key = models.BinaryField()
    verify_key = models.BinaryField()
    # sealbox.handoff.org_keys_certificate(row id, both public keys) under a key derived from the
    # instance secret: a database writer cannot put keys of their own here. None = not trusted.
    certificate = models.BinaryField(null=True, default=None)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def identity(self) -> packets.Identity:
        return packets.Identity(bytes(self.box_public_key), bytes(self.verify_key))


class OrgKeyWrap(models.Model):
    keys = models.ForeignKey(OrgKeys, on_delete=models.CASCADE, related_name="wraps")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    for_recovery = models.BooleanField(default=False)
    # seal(member box key, X25519 private key (32) | Ed25519 seed (32), ctx = handoff.wrap_ctx)
    sealed_private = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["keys", "member"], name="handoff_one_wrap_per_member"),
            models.CheckConstraint(
                condition=models.Q(for_recovery=True, member__isnull=True)
                | models.Q(for_recovery=False, member__isnull=False),
                name="handoff_wrap_member_xor_recovery",
            ),
        ]


class Partner(models.Model):
    name = models.CharField(max_length=120, unique=True)
    box_public_key = models.BinaryField()
    verify_key = models.BinaryField()
    # hex of sealbox.handoff.fingerprint(box_public_key, verify_key); recomputed before use.
    fingerprint = models.CharField(max_length=64, unique=True)
    # sealbox.handoff.partner_certificate(id, name, both keys) under a key derived from the
    # instance secret, made at partner_add: a swapped key or name fails it. None = not trusted.
    certificate = models.BinaryField(null=True, default=None)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def identity(self) -> packets.Identity:
        return packets.Identity(bytes(self.box_public_key), bytes(self.verify_key))

    @property
    def fingerprint_text(self) -> str:
        return packets.fingerprint_text(self.identity.fingerprint)


class HandoffExport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="handoff_exports")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="exports")
    packet_id = models.CharField(max_length=32, unique=True)
    fields = models.JSONField(default=list)
    # The consent statement (how it was given, on what date), sealed to this case key version.
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    consent_ct = models.BinaryField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)


class HandoffImport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.OneToOneField("casework.Case", on_delete=models.CASCADE, related_name="handoff_import")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="imports")
    packet_id = models.CharField(max_length=32)
    fields = models.JSONField(default=list)
    # Everything received except the case details (those are Case.details_ct): the imported
    # conversation, notes, plan legs, fate history and the sender's consent statement.
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    content_ct = models.BinaryField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "packet_id"], name="handoff_import_once")]
