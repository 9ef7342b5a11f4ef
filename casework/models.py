"""Cases, their keys, the person's login credentials, messages and attachments.

Plaintext columns are limited to what the server needs while nobody is logged in (urgency
for deadlines, timestamps, which team holds a case). Everything the person writes is
ciphertext; see docs/crypto.md for the key hierarchy.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.certificates import time_part

_PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id() -> str:
    """A short, random, unguessable reference staff can read aloud (not a sequence number)."""
    return "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(10))


class Urgency(models.TextChoices):
    DANGER_NOW = "danger_now", _("In danger now")
    IN_HIDING = "in_hiding", _("In hiding")
    SAFE_FOR_NOW = "safe_for_now", _("Safe for now")


# Staff pages name the urgency in the third person; the person's own words ("I am in danger
# right now") stay on the intake.
URGENCY_STAFF_LABELS: dict[str, Promise] = {
    Urgency.DANGER_NOW: pgettext_lazy("staff", "In danger now"),
    Urgency.IN_HIDING: pgettext_lazy("staff", "In hiding"),
    Urgency.SAFE_FOR_NOW: pgettext_lazy("staff", "Safe for now"),
}

URGENCY_ORDER = {Urgency.DANGER_NOW: 0, Urgency.IN_HIDING: 1, Urgency.SAFE_FOR_NOW: 2}


class Case(models.Model):
    # Every state a case can be in; the moves between them are casework.lifecycle's.
    class Status(models.TextChoices):
        NEW = "new", _("New")
        TRIAGED = "triaged", _("Triaged")
        VETTING = "vetting", _("Vetting")
        VERIFIED = "verified", _("Verified")
        CLOSED = "closed", _("Closed")

    public_id = models.CharField(max_length=12, unique=True, default=new_public_id)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    urgency = models.CharField(max_length=20, choices=Urgency.choices)
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.SET_NULL, related_name="cases")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_person_message_at = models.DateTimeField(null=True, db_index=True)
    under_duress_since = models.DateTimeField(null=True, blank=True)
    key_version = models.PositiveIntegerField(default=1)
    # The key version details_ct is sealed to. Usually key_version; it stays older when a key
    # was rotated by someone who could not open the details (a coordinator disabling an account
    # on a case they do not hold): the remaining holders keep every older version's wrap.
    details_key_version = models.PositiveIntegerField(default=1)
    # Sealed to the case key: region, kinds of help, safe contact method, cover phrase, language.
    details_ct = models.BinaryField()
    # Which of the person's credentials replies are sealed to (the real one, never the duress one).
    reply_credential = models.ForeignKey("PersonCredential", null=True, on_delete=models.SET_NULL, related_name="+")
    # Bumped by every staff change to the case (warnings, state, who holds the key, team), so
    # a form rendered before someone else's change is refused instead of overwriting it.
    revision = models.PositiveIntegerField(default=0)
    # Certifies the columns that decide who reads what is written next: the state (verified
    # cases get logistics readers and safe-house addresses), the team (owed keys), the duress
    # state (replies are held), the credential replies are sealed to and the current key
    # version (core.certificates, docs/crypto.md "Certified rows"; casework.certs).
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case"

    class Meta:
        indexes = [
            # Every column the inbox sorts and filters a member's cases by, so that it reads them
            # from this index instead of visiting each case row (which carries the sealed details).
            models.Index(
                fields=["id", "under_duress_since", "urgency", "status", "created_at", "last_person_message_at"],
                name="case_inbox_order_idx",
            )
        ]

    def __str__(self) -> str:
        return self.public_id

    def certificate_parts(self) -> tuple[int, str, str, str, str, str, int]:
        return (
            self.pk,
            self.public_id,
            self.status,
            "" if self.team_id is None else str(self.team_id),
            time_part(self.under_duress_since),
            "" if self.reply_credential_id is None else str(self.reply_credential_id),
            self.key_version,
        )

    def get_urgency_staff_display(self) -> str:
        return str(URGENCY_STAFF_LABELS.get(self.urgency, self.get_urgency_display()))


class CaseStateChange(models.Model):
    """A case's state history: who moved it from which state to which, why, and when
    (written by casework.lifecycle.case_transition; the current state is Case.status). It holds
    codes only, never text someone typed. The table keeps the name it had in triage."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    # A closing reason code (casework.lifecycle.ClosingReason) or "".
    reason = models.CharField(max_length=30, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "triage_casestatechange"
        ordering = ["at", "pk"]


class CaseKey(models.Model):
    """One version of a case's X25519 key pair; the private half exists only in wraps."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="keys")
    version = models.PositiveIntegerField()
    public_key = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a newer version replaces this one (casework.keys.case_key_rotate): nothing new
    # is sealed to a retired version, so pointing the case back at it (after deleting the newer
    # one) gets a writer nothing either.
    retired = models.BooleanField(default=False)
    # The members this version was given to, as ",3,5,9," (sorted ids, commas at both ends so
    # one id is found with a substring match). Certified with the version: who holds the
    # current version is read from here, not from the wrap rows a database writer could hide
    # for a moment, and before anything is sealed to it every holder must still be allowed to
    # read the case (casework.keys.current_case_key).
    holders = models.TextField(default=",", blank=True)
    # Nothing is sealed to ``public_key`` unless this holds (casework.keys): a database writer
    # who inserts a version with a key of their own would otherwise read what is written next.
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case.key"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="unique_case_key_version")]

    def certificate_parts(self) -> tuple[str, int, bytes, str, str]:
        return (
            self.case.public_id,
            self.version,
            bytes(self.public_key),
            "retired" if self.retired else "current",
            self.holders,
        )

    @property
    def holder_ids(self) -> list[int]:
        return [int(part) for part in self.holders.split(",") if part]

    @staticmethod
    def holders_text(ids: Iterable[int]) -> str:
        return "," + "".join(f"{member_id}," for member_id in sorted(set(ids)))


class CaseKeyWrap(models.Model):
    """The case private key sealed to one staff member's public key, or to the recovery key."""

    case_key = models.ForeignKey(CaseKey, on_delete=models.CASCADE, related_name="wraps")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="wraps")
    for_recovery = models.BooleanField(default=False)
    sealed_private_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    # Who holds the current version decides who is given the next one (casework.keys.
    # case_key_rotate): only wraps the application made count.
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case.key.wrap"

    class Meta:
        # The need-to-know filter of every case view (selectors.cases_visible_to) starts from a
        # member's wraps: member first, and the key id in the index so the wraps are not read.
        indexes = [models.Index(fields=["member", "case_key"], name="wrap_member_case_key_idx")]
        constraints = [
            models.UniqueConstraint(fields=["case_key", "member"], name="unique_wrap_per_member"),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, for_recovery=False)
                | models.Q(member__isnull=True, for_recovery=True),
                name="wrap_has_exactly_one_holder",
            ),
        ]

    def certificate_parts(self) -> tuple[str, int, str]:
        holder = "recovery" if self.for_recovery else str(self.member_id)
        return (self.case_key.case.public_id, self.case_key.version, holder)


class CaseNamedMember(models.Model):
    """Someone given the case key by name on the case page, not because of their team: leaving
    the team does not take them off this case (see casework.teams)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="named_members")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case.named"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "member"], name="unique_named_case_member")]

    def certificate_parts(self) -> tuple[str, int]:
        return (self.case.public_id, self.member_id)


class CaseHeldViaTeam(models.Model):
    """Someone holds the case key as a member of ``team`` (the case's team when they were
    given it). Leaving that team, or the case moving to a team they are not in, takes them off
    the case unless they are also named on it (CaseNamedMember). See casework.teams."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="held_via_team")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # PROTECT: deleting a team must not silently turn its members into holders without a reason.
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case.via-team"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "member", "team"], name="unique_case_held_via_team")]

    def certificate_parts(self) -> tuple[str, int, int]:
        return (self.case.public_id, self.member_id, self.team_id)


class PendingWrap(models.Model):
    """A team member who should hold a case's key but does not yet: whoever added them to the
    team did not hold it, and the server cannot wrap a key it never has in the clear. Someone
    holding the key completes it (casework.teams.pending_wraps_complete)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pending_wraps")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_wraps")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="pending_wraps")
    created_at = models.DateTimeField(default=timezone.now)
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "case.pending"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "member"], name="unique_pending_wrap")]

    def certificate_parts(self) -> tuple[str, int, int]:
        return (self.case.public_id, self.member_id, self.team_id)


class PersonCredential(models.Model):
    """What a codename (or codename + duress word) logs into. Found by a lookup id derived
    with Argon2id from the codename and the instance secret; the codename itself is never
    stored. ``public_key`` is derived from the codename too: replies are sealed to it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="credentials")
    lookup_id = models.CharField(max_length=64, unique=True)
    public_key = models.BinaryField(max_length=32)
    is_duress = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Made when the application creates the credential (core.certificates): replies and the
    # person's own messages are sealed only to a credential whose certificate holds, so a
    # database writer cannot insert a key of their own, move a credential to another case or
    # turn the danger phrase's credential into the real one.
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "person.credential"

    def certificate_parts(self) -> tuple[str, str, bytes, str, str]:
        return (
            self.case.public_id,
            self.lookup_id,
            bytes(self.public_key),
            "duress" if self.is_duress else "real",
            "revoked" if self.revoked_at is not None else "live",
        )


class Message(models.Model):
    class Sender(models.TextChoices):
        PERSON = "person"
        STAFF = "staff"
        AUTOMATIC = "automatic"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Written after someone logged in with the duress word: possibly not the person.
    after_duress = models.BooleanField(default=False)
    # Part of the harmless conversation shown instead of the real one after a duress login.
    is_decoy = models.BooleanField(default=False)
    # A staff reply written while the case was under duress: sealed to the case key only,
    # until a coordinator releases it to the person's real credential.
    held = models.BooleanField(default=False)
    body_ct = models.BinaryField()
    # Who vouches for this row (casework/authenticity.py, docs/crypto.md "Message
    # authenticity"): a staff reply carries its signer's Ed25519 signature (the author, or the
    # coordinator who released it); what the server writes by itself carries a keyed tag under
    # a key derived from the instance secret. A row inserted by a database writer has neither.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature = models.BinaryField(max_length=64, null=True, blank=True)
    server_tag = models.BinaryField(max_length=32, null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["case", "created_at"]),
            # "Answered yet?" (casework.deadlines.overdue_q), asked of every open case the inbox sorts.
            models.Index(
                fields=["case"], condition=models.Q(sender="staff", is_decoy=False), name="message_staff_reply_idx"
            ),
        ]


class MessageKey(models.Model):
    """The message's data key sealed to one reader: a case key version, or a credential."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="keys")
    case_key = models.ForeignKey(CaseKey, null=True, on_delete=models.CASCADE, related_name="+")
    credential = models.ForeignKey(PersonCredential, null=True, on_delete=models.CASCADE, related_name="+")
    sealed_key = models.BinaryField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case_key__isnull=False, credential__isnull=True)
                | models.Q(case_key__isnull=True, credential__isnull=False),
                name="message_key_has_exactly_one_reader",
            )
        ]


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    blob_name = models.CharField(max_length=64, unique=True)
    # The file's size rounded up to its padding bucket (sealbox.bucket), as its blob shows it;
    # the exact size is in meta_ct. Exact for an attachment recorded before padding.
    size = models.PositiveBigIntegerField()
    # File name and type, encrypted under the message's data key.
    meta_ct = models.BinaryField()
    # The file's own stream key, encrypted under the message's data key.
    file_key_ct = models.BinaryField()
    # The file as the person sent it, before its location and camera data were removed (scrub):
    # what staff and the person get is the cleaned copy above. The original's stream key is
    # sealed only to coordinators and the recovery key (AttachmentOriginalKey), never to the
    # case key. Empty when nothing was removed: an older file, or one that could not be cleaned.
    original_blob_name = models.CharField(max_length=64, unique=True, null=True, blank=True)
    original_size = models.PositiveBigIntegerField(null=True, blank=True)  # a bucket too, like size


class AttachmentOriginalKey(models.Model):
    """The stream key of an attachment's original, sealed to one member who may open originals
    (accounts.permissions.can_open_original_files), or to the organisation recovery key."""

    attachment = models.ForeignKey(Attachment, on_delete=models.CASCADE, related_name="original_keys")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    for_recovery = models.BooleanField(default=False)
    sealed_key = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attachment", "member"], name="unique_original_key_per_member"),
            models.CheckConstraint(
                condition=models.Q(member__isnull=False, for_recovery=False)
                | models.Q(member__isnull=True, for_recovery=True),
                name="original_key_has_exactly_one_holder",
            ),
        ]


class CaseReadMark(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="read_marks")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "member"], name="unique_read_mark")]
