"""Staff members, their key pairs, teams and the on-call rota, and one-time sign-up links."""

from __future__ import annotations

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.certificates import time_part


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    CASEWORKER = "caseworker", _("Caseworker")
    VERIFIER = "verifier", _("Verifier")
    LOGISTICS = "logistics", _("Logistics")
    ANALYST = "analyst", _("Analyst")


class StaffManager(BaseUserManager["StaffMember"]):
    def get_by_natural_key(self, username: str | None) -> StaffMember:
        return self.get(username__iexact=username)


class StaffMember(AbstractBaseUser):
    """A member of staff. ``username`` is a handle, never a real name (T3: staff names are
    sensitive). The private key exists here only sealed under a key derived from the password."""

    username = models.CharField(max_length=40, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    public_key = models.BinaryField(max_length=32)
    sealed_private_key = models.BinaryField()
    key_salt = models.BinaryField(max_length=16)
    key_time_cost = models.PositiveIntegerField()
    key_memory_kib = models.PositiveIntegerField()
    # Ed25519 key that signs this member's replies (docs/crypto.md, "Message authenticity").
    # The private half is sealed under the same password key as the X25519 private key; the
    # certificate is a keyed tag under a key derived from the instance secret, so a database
    # writer cannot put in a signing key of their own. Empty for accounts enrolled before
    # replies were signed, until their next login creates one.
    signing_public_key = models.BinaryField(max_length=32, null=True, blank=True)
    sealed_signing_key = models.BinaryField(null=True, blank=True)
    signing_key_certificate = models.BinaryField(max_length=32, null=True, blank=True)
    # Certifies ``public_key`` (the key case keys are wrapped to) the same way, under another
    # pepper-derived key (accounts.keyring.trusted_box_key): a database writer who swaps in a
    # key of their own gets no case key wrapped to it. Empty only for rows the upgrade did not
    # certify; such a member is given no case key until a coordinator re-enrols them.
    box_key_certificate = models.BinaryField(max_length=32, null=True, blank=True)
    # Certifies what decides which new keys this member is given: the account, its role and
    # whether it is active (core.certificates, docs/crypto.md "Certified rows").
    # A database writer who turns a disabled account back on or changes a role breaks it, and
    # nothing new is sealed to the member (accounts.keyring.trusted_box_key).
    account_certificate = models.BinaryField(max_length=32, null=True, blank=True)
    # Bumped to end every session of this member: each session keeps the value it logged in
    # with, and access.staff_required turns away a session whose value is out of date.
    session_generation = models.PositiveIntegerField(default=0)
    # Consecutive failed logins, the end of the current lock, and how many locks so far (each
    # doubles the next); reset by a successful login.
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    lock_count = models.PositiveSmallIntegerField(default=0)

    USERNAME_FIELD = "username"
    objects = StaffManager()

    CERTIFIED_AS = "staff.account"
    CERTIFICATE_FIELD = "account_certificate"

    class Meta:
        verbose_name = "staff member"
        constraints = [models.UniqueConstraint(Lower("username"), name="unique_username_ignoring_case")]

    def __str__(self) -> str:
        return self.username

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def certificate_parts(self) -> tuple[int, str, str]:
        # The X25519 key has its own certificate (box_key_certificate); this one is the state.
        return (self.pk, self.role, "active" if self.is_active else "disabled")


class Team(models.Model):
    name = models.CharField(max_length=80, unique=True)
    is_on_call = models.BooleanField(default=False)
    members = models.ManyToManyField(StaffMember, through="TeamMembership", related_name="teams")
    # Certifies whether this team is the on-call team, which is given every new case's key
    # (core.certificates, docs/crypto.md "Certified rows").
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "team"

    class Meta:
        db_table = "casework_team"  # the table it had in casework, where it lived first

    def __str__(self) -> str:
        return self.name

    def certificate_parts(self) -> tuple[int, str]:
        return (self.pk, "on-call" if self.is_on_call else "-")


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE)
    added_at = models.DateTimeField(default=timezone.now)
    # A member of the on-call team is given new cases' keys, and a team member is owed the keys
    # of the team's cases: only a membership the application made counts (core.certificates).
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "team.member"

    class Meta:
        db_table = "casework_teammembership"
        constraints = [models.UniqueConstraint(fields=["team", "member"], name="unique_team_member")]

    def certificate_parts(self) -> tuple[int, int]:
        return (self.team_id, self.member_id)


class OnCallShift(models.Model):
    """One member on call from starts_at to ends_at (stored in UTC, shown in settings.TIME_ZONE):
    the on-call rota, edited on triage's rota page (triage.services)."""

    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        db_table = "triage_oncallshift"  # the table it had in triage, where it lived first
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="triage_onca_starts__cae9ad_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start")
        ]


class SignupLink(models.Model):
    """A one-time link that creates a staff account: the first coordinator's, or an invite.
    Only a hash of the token is stored, so a database reader cannot use a pending link."""

    class Purpose(models.TextChoices):
        FIRST_COORDINATOR = "setup"
        INVITE = "invite"

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    role = models.CharField(max_length=20, choices=Role.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The link decides the role and team of the account it makes, and so which keys that
    # account is given: only a link the application made counts (core.certificates).
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "signup.link"

    def certificate_parts(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.token_hash,
            self.purpose,
            self.role,
            "" if self.team_id is None else str(self.team_id),
            time_part(self.expires_at),
            "" if self.created_by_id is None else str(self.created_by_id),
        )

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class RecoveryKey(models.Model):
    """The organisation recovery public key. Its private half is shown once at setup and
    kept offline by the coordinators; the server never holds it."""

    # One recovery key per organisation (rotation will add a procedure, not a second row).
    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    public_key = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL, related_name="+")
    # Made when a coordinator confirms the key (core.certificates): every new case key is
    # wrapped to this key, so a database writer must not be able to swap in one of their own.
    certificate = models.BinaryField(max_length=32, null=True, blank=True)
    # The key this one replaced in a recovery ceremony (recovery app), until the operator has
    # updated SP_RECOVERY_PUBLIC_KEY: a pin naming it still lets the certified row count
    # (casework.keys.recovery_public_key), and a deploy check says to update the pin.
    previous_public_key = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "recovery.key"

    class Meta:
        get_latest_by = "created_at"

    def certificate_parts(self) -> tuple[int | bytes, ...]:
        # Appended only when set, so certificates made before rotation existed still hold.
        previous = () if self.previous_public_key is None else (bytes(self.previous_public_key),)
        return (self.slot, bytes(self.public_key), *previous)


class RecoveryShareSet(models.Model):
    """How the recovery private key is split among trustees (SLIP-39, one group, any
    ``threshold`` of ``count`` shares). Never a share: only who holds share i (a coordinator's
    id, or nobody named for a trustee outside the console, whose name the server must not
    keep), the set's public 15-bit identifier, and the public key the set rebuilds. Certified:
    a database writer who changes the threshold or the trustees breaks the certificate."""

    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    public_key = models.BinaryField(max_length=32)
    threshold = models.PositiveSmallIntegerField()
    count = models.PositiveSmallIntegerField()
    identifier = models.PositiveIntegerField()
    # Comma-separated, one entry per share in order: a staff member id or "" (outside the console).
    holders = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL, related_name="+")
    certificate = models.BinaryField(max_length=32, null=True, blank=True)

    CERTIFIED_AS = "recovery.share_set"

    def certificate_parts(self) -> tuple[int | bytes | str, ...]:
        return (self.slot, bytes(self.public_key), self.threshold, self.count, self.identifier, self.holders)

    @staticmethod
    def holders_text(holders: list[int | None]) -> str:
        return ",".join("" if holder is None else str(holder) for holder in holders)

    @property
    def holder_ids(self) -> list[int | None]:
        return [int(part) if part else None for part in self.holders.split(",")]


class RecoveryCode(models.Model):
    """One single-use 2FA recovery code, stored only as a SHA-256 hash. django-otp's StaticToken
    keeps codes in plain text, so a database reader could use them; the codes are 80 random
    bits, so an unsalted fast hash cannot be reversed. The member's StaticDevice (otp_static)
    is the device a login with a recovery code is verified by."""

    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, unique=True)

    @staticmethod
    def hash_code(code: str) -> str:
        return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
