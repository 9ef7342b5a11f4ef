"""The evidence locker of a case, the person's consent to its use, and the custody log.

An item is promoted from the case (a message the person sent, or a testimony a caseworker
writes down) under a recorded consent. Its original is copied byte for byte and sealed to the
case key with its SHA-256 (computed at promotion, sealed too): derivatives (a redacted text)
are made from it later and never replace it.

The custody log is one append-only Merkle log for the organisation (RFC 6962 structure,
sealbox.merkle): every action on an item is an entry. What is plaintext is the log's
structure only: each entry's position, its leaf hash and when it was appended, and the signed
tree heads. The entry itself (which item, what action, by whom, over which bytes) is sealed to
the item's case key; its leaf hash commits to it with a random salt, so the hash gives nothing
away to whoever reads the database (docs/crypto.md, "Custody log").

Consent and revocation times are plaintext on purpose: an export must be blocked, and earlier
exports flagged, from the rows alone. What was consented to (the uses, the person's words) is
sealed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Consent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="evidence_consents")
    # PROTECT: the recorder's id is bound into the sealed terms' context.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    # JSON: {"uses": [recipient kinds], "redacted_only": bool, "how": the person's words or where}
    terms_ct = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["case", "-recorded_at"])]


class EvidenceItem(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message"
        TESTIMONY = "testimony"
        # A photo or PDF the person sent: its original stays where the intake put it, byte for
        # byte and sealed to coordinators only (casework.originals); the locker keeps its hash.
        ATTACHMENT = "attachment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="evidence_items")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The message it was promoted from (none for a testimony written down by staff).
    message = models.ForeignKey("casework.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attachment = models.ForeignKey(
        "casework.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # RESTRICT: a consent goes only with its case (which takes its items with it).
    consent = models.ForeignKey(Consent, on_delete=models.RESTRICT, related_name="items")
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    promoted_at = models.DateTimeField(default=timezone.now)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    title_ct = models.BinaryField()
    # The original, byte for byte, and its SHA-256 computed when it was promoted (for an
    # attachment only the hash: the original stays in the file store, see Kind.ATTACHMENT).
    original_ct = models.BinaryField()
    original_sha256_ct = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["case", "-promoted_at"])]


class CustodyLog(models.Model):
    """The single row every append locks, so two appends never take the same position."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.PositiveBigIntegerField(default=0)


class CustodyEntry(models.Model):
    """One entry of the log. It names its item and case key by id, without a foreign key: when
    a case is shredded (retention), its rows go but the log keeps every leaf hash, so it still
    verifies; the entry's sealed bytes stay behind unreadable, their case key deleted."""

    index = models.PositiveBigIntegerField(unique=True)
    # The leaf hash (RFC 6962: SHA-256 of 0x00 and the entry's bytes). Plaintext: the log's
    # structure; the salt inside the entry makes it unguessable.
    leaf_hash = models.BinaryField(max_length=32)
    appended_at = models.DateTimeField(default=timezone.now)
    item_id = models.UUIDField(db_index=True)
    case_key_id = models.PositiveBigIntegerField()
    entry_ct = models.BinaryField()

    class Meta:
        ordering = ["index"]


class TreeHead(models.Model):
    """A signed tree head (sealbox.treehead) after each append, in its JSON form."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    signed_at = models.DateTimeField()
    head_json = models.TextField()
    # An RFC 3161 token over the head's statement from the configured timestamp authority
    # (evidence.timestamps), and the time the authority put in it.
    timestamp_token = models.BinaryField(null=True, blank=True)
    timestamped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tree_size"]


class Derivative(models.Model):
    """A redacted copy of an item, kept as a plan: which spans of the original go and how each
    is replaced (redaction.pipeline.Proposed), as proposed and as staff changed it. The text
    is rendered from the plan at export, under that export's own pseudonym key; the original is
    never touched. Every change is kept (who, when, what was added and taken back)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    item = models.ForeignKey(EvidenceItem, on_delete=models.CASCADE, related_name="derivatives")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    # Who saved the plan last, and when (an edit conflict names them).
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(null=True, blank=True)
    # Set when a member approved the plan as it stands; a later change clears it.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    # JSON: {"proposed": [...], "removals": [...], "changes": [{"by", "at", "added", "taken_back"}]}
    plan_ct = models.BinaryField()


class Event(models.Model):
    """An event in the HURIDOCS shape (evidence.esf), sealed whole to its case's key: acts,
    victims, perpetrators, places, dates, sources, interventions and its links to the locker's
    items and to other events. Plaintext: only which case it belongs to, who wrote it and when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="events")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    content_ct = models.BinaryField()


class Export(models.Model):
    """A package made for a recipient. Plaintext: which case, items and consents it carried,
    for which kind of recipient, by whom, when and the package's SHA-256 (so a package shown
    later can be recognised, and a consent withdrawn later is flagged on it); the recipient's
    name is sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="evidence_exports")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)
    recipient_kind = models.CharField(max_length=20)
    item_ids = models.JSONField(default=list)
    consent_ids = models.JSONField(default=list)
    package_sha256 = models.CharField(max_length=64)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    recipient_ct = models.BinaryField()
