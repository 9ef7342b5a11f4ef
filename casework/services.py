"""Writes: every change to cases and conversations goes through these functions.

Each runs in one transaction; encrypted files written before a failure are removed, so a
crash mid-request leaves neither a half-written record nor an orphaned file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BinaryField, Exists, Expression, F, Q, QuerySet, Value, When
from django.db.models import Case as DbCase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import sealbox
from accounts import hooks as account_hooks
from accounts import permissions
from accounts.keyring import account_state_trusted, trusted_box_key
from accounts.models import RecoveryKey, Role, StaffMember, Team, TeamMembership
from accounts.teams import on_call_readers, on_call_team
from audit.models import Action, AuditEntry
from audit.services import audit_record
from casework import authenticity, choices, hooks, keys, originals, texts
from casework.files import blob_store
from casework.models import (
    Attachment,
    AttachmentOriginalKey,
    Case,
    CaseHeldViaTeam,
    CaseKey,
    CaseKeyWrap,
    CaseNamedMember,
    CaseReadMark,
    Message,
    MessageKey,
    PendingWrap,
    PersonCredential,
)
from casework.sealed import EditConflict, Refused, holds_current_key, lock_case
from core.argon2_slots import argon2_slot
from core.certificates import certified, certify
from notifications.models import Event
from notifications.services import case_event_notify_on_commit

# Who may hold which case is accounts.permissions (NEW_CASE_READER_ROLES: given new cases of
# their team; verifiers are given a case when vetting starts on it, casework.teams;
# VERIFIED_ONLY_ROLES: logistics staff, given a case only while it is verified, never at
# intake, and taken off with a key rotation as soon as it leaves that state, case_state_changed).
NEW_CASE_READER_ROLES = permissions.NEW_CASE_READER_ROLES
VERIFIED_ONLY_ROLES = permissions.VERIFIED_ONLY_ROLES
logger = logging.getLogger(__name__)


class IntakeUnavailable(Exception):
    """No on-call team with members, or no recovery key: the hotline is not set up yet
    (intake_readiness says what is missing)."""


@dataclass(frozen=True, repr=False)
class NewAttachment:
    """A file already encrypted into the blob store by the upload handler, not yet recorded."""

    attachment_id: uuid.UUID
    blob_name: str
    file_key: bytes
    size: int
    name: str
    content_type: str
    # True when blob_name holds a copy without location and camera data (scrub); the file as
    # it arrived is then ``original`` (unless nothing needed removing), for coordinators only.
    metadata_removed: bool = False
    original: originals.NewOriginal | None = None


@dataclass(frozen=True)
class CaseDetails:
    region: str
    help_kinds: list[str]
    language: str
    contact_kind: str = ""
    contact_value: str = ""
    cover_phrase: str = ""
    # Hostile family (T6): defaults keep details written before these fields loadable.
    hostile_relative: bool = False
    hostile_note: str = ""
    no_contact_via: list[str] = field(default_factory=list)

    @property
    def no_contact_labels(self) -> list[str]:
        return [choices.label(choices.NO_CONTACT_VIA, kind) for kind in self.no_contact_via]

    @property
    def has_warnings(self) -> bool:
        return self.hostile_relative or bool(self.no_contact_via)

    @property
    def region_label(self) -> str:
        return choices.label(choices.REGIONS, self.region)

    @property
    def help_labels(self) -> list[str]:
        return [choices.label(choices.HELP_KINDS, kind) for kind in self.help_kinds]

    @property
    def language_label(self) -> str:
        return str(dict(settings.LANGUAGES).get(self.language, self.language))

    @property
    def contact_label(self) -> str:
        return choices.label(choices.CONTACT_KINDS, self.contact_kind)

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> CaseDetails:
        return cls(**json.loads(raw))


@dataclass(frozen=True, repr=False)
class PersonSession:
    """What a codename login yields: the case, the credential and its derived key pair."""

    case: Case
    credential: PersonCredential
    keypair: sealbox.KeyPair

    @property
    def shows_decoy(self) -> bool:
        """The danger phrase shows the cover conversation and what was written with it."""
        return self.credential.is_duress

    @property
    def shows_since(self) -> datetime | None:
        """While the case is under duress, the real phrase shows only what was sealed to it
        since the duress login (the person's own messages written with it, replies released
        to it): none of the history from before, none of the cover conversation. Whoever
        forced the danger word out may also try the phrase without it; they learn nothing
        from before, and the person sees nothing they did not write labelled as theirs."""
        return None if self.credential.is_duress else self.case.under_duress_since

    @property
    def under_duress(self) -> bool:
        """A danger-word login, or any login to a case under duress."""
        return self.credential.is_duress or self.case.under_duress_since is not None


@dataclass
class Readers:
    case_key: CaseKey | None = None
    credentials: list[PersonCredential] = field(default_factory=list)


# Who a person's message, or a message of the cover conversation, is sealed to (docs/crypto.md,
# "Messages"). Never both phrases: the real person must not read a captor's words as their
# own, and the captor must not read what the person writes with the real phrase.


def _person_message_readers(case_key: CaseKey, credential: PersonCredential) -> Readers:
    """The case key and the credential the message was written with, and no other."""
    return Readers(case_key=case_key, credentials=[credential])


def _cover_readers(case_key: CaseKey, credentials: Iterable[PersonCredential]) -> Readers:
    """The case key and the duress credentials only: the real phrase never shows the cover."""
    return Readers(case_key=case_key, credentials=[credential for credential in credentials if credential.is_duress])


def derive_secrets(normalised: str) -> sealbox.CodenameSecrets:
    with argon2_slot():
        return sealbox.derive_codename_secrets(normalised, pepper=settings.SP_PEPPER, params=settings.SP_ARGON2)


class DuressWordInCodename(ValueError):
    """The danger word is one of the codename's own words (its last word: both phrases would
    be the same; another one: the danger phrase would repeat a word)."""


class DuressWordNotInList(ValueError):
    """The danger word is not a word of the list the codename was made from."""


def duress_phrase(codename: str, duress_word: str) -> str:
    """The codename with its last word replaced by the danger word.

    Replacing rather than adding keeps both phrases six words long, and the danger word comes
    from the codename's own list: someone who forced the phrase out of a person can tell from
    neither its length nor its words that a danger word was used (docs/crypto.md, "Duress
    credentials")."""
    words = sealbox.normalise_codename(codename).split()
    language = sealbox.codename_language(codename)
    if language is None or not sealbox.in_wordlist(language, duress_word):
        raise DuressWordNotInList
    word = sealbox.normalise_codename(duress_word)
    if word in words:
        raise DuressWordInCodename
    return " ".join([*words[:-1], word])


def _discard_blobs(attachments: Iterable[NewAttachment]) -> None:
    store = blob_store()
    for item in attachments:
        store.delete(item.blob_name)
        if item.original is not None:
            store.delete(item.original.blob_name)


def case_open_from_intake(
    *,
    codename: str,
    duress_word: str,
    urgency: str,
    details: CaseDetails,
    body: str,
    attachments: Sequence[NewAttachment],
    decoy_opening: str = "",
) -> PersonSession:
    """Open a case for a new request: keys for the on-call team, the person's credentials,
    the first message, the automatic acknowledgement, and the cover conversation if a danger
    word was set, opening with ``decoy_opening`` (the person's own words) or, without one, an
    everyday question drawn from casework.texts. Returns the person's logged-in session, so
    the codename is not derived a third time. On failure the encrypted files are removed,
    except on an IntegrityError (see below), which leaves them to the caller."""
    normalised = sealbox.normalise_codename(codename)
    real = derive_secrets(normalised)
    # Two derivations with or without a danger word: neither the time the request takes nor the
    # intake's budget shows whether one was set (invariant 9). Without one, the second derives
    # a throwaway phrase and is dropped.
    second = derive_secrets(duress_phrase(normalised, duress_word) if duress_word else sealbox.random_key().hex())
    duress = second if duress_word else None
    # What other apps check of a request (vetting: red flags) starts here, before any lock.
    screens = hooks.intake_screens.run(hooks.IntakeRequest(contact_value=details.contact_value, first_message=body))
    try:
        with transaction.atomic():
            readiness = intake_readiness()
            if not readiness.accepts_requests or readiness.team is None:
                logger.error("a new request was refused: the intake is not ready (manage.py intake_status says why)")
                raise IntakeUnavailable
            team, members = readiness.team, readiness.readers
            case = case_create(urgency=urgency, team=team)
            try:
                case_key = keys.case_key_create(case, version=1, members=members)
            except keys.RecoveryKeyMismatch:
                logger.error("The stored recovery public key differs from SP_RECOVERY_PUBLIC_KEY: intake refused.")
                raise IntakeUnavailable from None
            # They hold it as members of the on-call team (casework.teams: moving the case on
            # or leaving the team takes them off).
            held_via_team_record(case, members, team)
            case.details_ct = sealbox.seal(
                keys.sealable_public_key(case_key), details.to_json(), ctx=keys.details_ctx(case)
            )
            credential = _credential_create(case, real, is_duress=False)
            case.reply_credential = credential
            certify(case)
            case.save(update_fields=["details_ct", "reply_credential", "certificate"])
            readers = Readers(case_key=case_key, credentials=[credential])
            _message_create(case, Message.Sender.PERSON, body, readers, attachments=attachments)
            # T3: keyed hashes of the contact; marks the case if it matches a red flag.
            for screen in screens:
                screen(case)
            _message_create(case, Message.Sender.AUTOMATIC, texts.acknowledgement(details.language), readers)
            Case.objects.filter(pk=case.pk).update(last_person_message_at=timezone.now())
            case_event_notify_on_commit(case_id=case.pk, event=Event.NEW_CASE)
            if duress is not None:
                # Staff see the cover conversation, marked, to know what was shown.
                duress_credential = _credential_create(case, duress, is_duress=True)
                cover = _cover_readers(case_key, [duress_credential])
                opening = decoy_opening or texts.decoy_opening(details.language)
                _message_create(case, Message.Sender.PERSON, opening, cover, is_decoy=True)
                _message_create(
                    case, Message.Sender.AUTOMATIC, texts.acknowledgement(details.language), cover, is_decoy=True
                )
    except IntegrityError:
        # Most likely the codename's case was just opened by another request of the same
        # person (a double click, a second window): the files are left to the caller, which
        # may add them to that case (intake.views._first_request_added) or removes them.
        raise
    except BaseException:
        _discard_blobs(attachments)
        raise
    return PersonSession(case=case, credential=credential, keypair=real.keypair)


def case_create(*, urgency: str, team: Team | None) -> Case:
    """A new case row, in the caller's transaction (the intake, an imported hand-off): the apps
    that act on every new case are told (hooks.case_opened; triage schedules its deadline)."""
    case = Case.objects.create(urgency=urgency, team=team, details_ct=b"")
    hooks.case_opened.run(hooks.CaseOpened(case=case))
    return case


# What must still be done before the intake accepts requests, in plain words for whoever runs
# the hotline (`make run` prints them, see intake/management/commands/intake_status.py).
SETUP_NOT_DONE = gettext_lazy(
    "Nobody has set up the hotline yet: open the one-time setup link to create the first coordinator account."
)
NO_TEAM_ON_CALL = gettext_lazy(
    "No team is on call: the on-call mark is missing or was changed outside the console, so new requests "
    "would reach nobody."
)
NOBODY_ON_CALL = gettext_lazy(
    "Nobody on the on-call team can read new cases: a coordinator invites a caseworker (or another "
    "coordinator) to it from the Staff page."
)
NO_RECOVERY_KEY = gettext_lazy(
    "The organisation recovery key has not been made yet: the first coordinator makes it in the console, "
    "on the page that follows the recovery codes (/enrol/recovery/)."
)
RECOVERY_KEY_UNTRUSTED = gettext_lazy(
    "The recovery key in the database is not the one this hotline made (it differs from "
    "SP_RECOVERY_PUBLIC_KEY or its certificate does not hold): nothing new is sealed to it."
)


@dataclass(frozen=True)
class IntakeReadiness:
    """Whether the intake can take a new request now; if not, ``missing`` says why."""

    team: Team | None
    readers: list[StaffMember]
    missing: list[str]

    @property
    def accepts_requests(self) -> bool:
        return not self.missing


def intake_readiness() -> IntakeReadiness:
    """The one answer to "can the intake accept a request now, and if not, what is missing":
    an on-call team whose certificate holds, someone on it who reads new cases, and a trusted
    recovery key. The landing page, the request form, `make run` and case_open_from_intake
    (inside its transaction) all ask here, so a person is never offered a form the hotline
    would then refuse."""
    team = on_call_team()
    readers = on_call_readers(team) if team else []
    missing = []
    if not readers:
        if not StaffMember.objects.filter(role=Role.COORDINATOR).exists():
            missing.append(SETUP_NOT_DONE)
        else:
            missing.append(NO_TEAM_ON_CALL if team is None else NOBODY_ON_CALL)
    if not RecoveryKey.objects.exists():
        missing.append(NO_RECOVERY_KEY)
    else:
        try:
            keys.recovery_public_key()
        except keys.RecoveryKeyMismatch:
            missing.append(RECOVERY_KEY_UNTRUSTED)
    return IntakeReadiness(team=team, readers=readers, missing=[str(reason) for reason in missing])


def held_via_team_record(case: Case, members: Iterable[StaffMember], team: Team) -> None:
    rows = [CaseHeldViaTeam(case=case, member=member, team=team) for member in members]
    for row in rows:
        certify(row)
    CaseHeldViaTeam.objects.bulk_create(rows)


def _credential_create(case: Case, secrets: sealbox.CodenameSecrets, *, is_duress: bool) -> PersonCredential:
    credential = PersonCredential(
        case=case,
        lookup_id=secrets.lookup_id.hex(),
        public_key=secrets.keypair.public_key,
        is_duress=is_duress,
    )
    certify(credential)
    credential.save(force_insert=True)
    return credential


def credential_revoked_on_record(credential: PersonCredential) -> bool:
    """Whether the hash-chained audit log holds a codename replacement on this case made after
    the credential (it names the credential that replaced the others): such a credential is
    revoked, even if a database writer clears ``revoked_at`` and puts back the row's own earlier
    certificate. Deleting or changing that entry breaks the chain (verify_audit)."""
    burns = AuditEntry.objects.filter(action=Action.CODENAME_BURN, case_public_id=credential.case.public_id)
    return any(
        isinstance(details.get("credential"), int) and details["credential"] > credential.pk
        for details in burns.values_list("details", flat=True)
    )


def credential_usable(credential: PersonCredential) -> bool:
    """Certified as live, and not revoked on record: the only credentials a login opens and
    anything is sealed to."""
    return credential.revoked_at is None and certified(credential) and not credential_revoked_on_record(credential)


def credentials_sealable(case: Case) -> list[PersonCredential]:
    """The case's credentials still in use that may be sealed to: certified ones only (a
    credential a database writer inserted, or moved here from another case, is left out)."""
    found = []
    for credential in case.credentials.filter(revoked_at__isnull=True).order_by("pk"):
        credential.case = case
        if credential_usable(credential):
            found.append(credential)
        else:
            logger.error("case %s: credential %s is not certified; nothing is sealed to it", case.pk, credential.pk)
    return found


def reply_credential_checked(locked: Case) -> PersonCredential | None:
    """The credential staff replies are sealed to, once the case row naming it and the
    credential itself are certified and it is the case's real, unrevoked credential. None when
    the case has none (an imported case before a codename is issued). Raises
    keys.UntrustedRecord otherwise: a database writer who points the case at a key of their
    own, at the danger phrase's credential or at a revoked one gets nothing sealed to it."""
    keys.case_checked(locked)
    credential = locked.reply_credential
    if credential is None:
        return None
    credential.case = locked
    if credential.case_id != locked.pk or credential.is_duress or not credential_usable(credential):
        raise keys.UntrustedRecord("reply credential", locked.pk)
    return credential


def _message_create(
    case: Case,
    sender: str,
    body: str,
    readers: Readers,
    *,
    author: StaffMember | None = None,
    after_duress: bool = False,
    is_decoy: bool = False,
    held: bool = False,
    attachments: Sequence[NewAttachment] = (),
    signing_key: bytes | None = None,
) -> Message:
    """Staff replies are signed with ``signing_key`` (the author's); everything else gets the
    server's tag (casework/authenticity.py)."""
    message_id = uuid.uuid4()
    data_key = sealbox.random_key()
    message = Message(
        id=message_id,
        case=case,
        sender=sender,
        author=author,
        after_duress=after_duress,
        is_decoy=is_decoy,
        held=held,
    )
    message.body_ct = sealbox.encrypt(data_key, body.encode(), ctx=keys.message_body_ctx(message))
    if sender == Message.Sender.STAFF:
        if author is None or signing_key is None:
            raise ValueError("a staff reply needs its author's signing key")
        authenticity.message_sign(message, signer=author, signing_key=signing_key)
    else:
        authenticity.message_tag(message)
    message.save(force_insert=True)
    key_ctx = keys.message_key_ctx(message_id)
    wraps = [
        MessageKey(
            message=message, credential=cred, sealed_key=sealbox.seal(_sealable(cred), data_key, ctx=key_ctx, pad=False)
        )
        for cred in readers.credentials
    ]
    if readers.case_key is not None:
        sealed = sealbox.seal(keys.sealable_public_key(readers.case_key), data_key, ctx=key_ctx, pad=False)
        wraps.append(MessageKey(message=message, case_key=readers.case_key, sealed_key=sealed))
    MessageKey.objects.bulk_create(wraps)
    Attachment.objects.bulk_create([_attachment_row(message, data_key, item) for item in attachments])
    kept = [(item.attachment_id, item.original) for item in attachments if item.original is not None]
    AttachmentOriginalKey.objects.bulk_create(originals.original_keys_seal(kept, readers.case_key))
    return message


def _sealable(credential: PersonCredential) -> bytes:
    """A credential's public key, for sealing: only a certified credential's (the last check
    before anything is sealed to a person; callers choose with credentials_sealable and
    reply_credential_checked)."""
    if not certified(credential):
        raise keys.UntrustedRecord("credential", credential.case_id)
    return bytes(credential.public_key)


def _attachment_row(message: Message, data_key: bytes, item: NewAttachment) -> Attachment:
    # The exact sizes are sealed with the name; the columns hold only their padded buckets,
    # which the blobs' sizes show anyway (sealbox.padding, docs/crypto.md "Length padding").
    meta_fields = {"name": item.name, "type": item.content_type, "metadata_removed": item.metadata_removed}
    meta_fields["size"] = item.size
    if item.original:
        meta_fields["original_size"] = item.original.size
    meta = json.dumps(meta_fields, ensure_ascii=False).encode()
    return Attachment(
        id=item.attachment_id,
        message=message,
        blob_name=item.blob_name,
        size=sealbox.bucket(item.size),
        original_blob_name=item.original.blob_name if item.original else None,
        original_size=sealbox.bucket(item.original.size) if item.original else None,
        meta_ct=sealbox.encrypt(data_key, meta, ctx=keys.attachment_ctx("meta", item.attachment_id)),
        file_key_ct=sealbox.encrypt(
            data_key, item.file_key, ctx=keys.attachment_ctx("key", item.attachment_id), pad=False
        ),
    )


def person_login(normalised_codename: str) -> PersonSession | None:
    """One Argon2id derivation and one indexed lookup, whatever the outcome; then the same
    statements for a real and a danger-word login (case_mark_duress decides in the database
    whether the credential is the duress one), so the danger phrase costs what the real one
    does (docs/crypto.md, "Duress credentials")."""
    derived = derive_secrets(normalised_codename)
    credential = (
        PersonCredential.objects.select_related("case")
        .filter(lookup_id=derived.lookup_id.hex(), revoked_at__isnull=True)
        .first()
    )
    if credential is None:
        return None
    if not credential_usable(credential):
        # Moved to another case, its key or its kind changed, or brought back from revoked.
        logger.error("credential %s of case %s is not usable; login refused", credential.pk, credential.case_id)
        return None
    case_mark_duress(credential.case, if_duress=credential)
    return PersonSession(case=credential.case, credential=credential, keypair=derived.keypair)


def case_mark_duress(case: Case, *, if_duress: PersonCredential | None = None) -> None:
    """Silently flag the case: the person's screen shows nothing unusual. With ``if_duress``
    (every login passes the credential it opened), only if that is the duress credential, in
    a statement that is the same either way. Safe-house address keys are taken away from a
    case under duress whichever phrase opened it.

    The case row's certificate covers the duress time, so the same UPDATE writes the
    certificate for the new time, made from the row as it was read (``case``) if that row's
    certificate held. Marking duress never waits on a certificate: a row changed outside the
    console is flagged all the same and stays untrusted (its certificate is kept and no longer
    matches), and so does a row changed by someone else since it was read."""
    now = timezone.now()
    with transaction.atomic():
        # Every login locks the case row (so both phrases do the same): a staff change cannot
        # slip in between reading the row and writing its certificate for the duress time.
        locked = lock_case(case)
        unflagged = Case.objects.filter(pk=case.pk, under_duress_since__isnull=True)
        if if_duress is not None:
            unflagged = unflagged.filter(Exists(PersonCredential.objects.filter(pk=if_duress.pk, is_duress=True)))
        first_time = unflagged.update(under_duress_since=now, certificate=_certificate_once_flagged(locked, now))
    case.refresh_from_db(fields=["under_duress_since", "certificate"])
    if case.under_duress_since is None:
        return
    # The flag is set. Nothing after it may keep staff from being told, or make this login's
    # answer differ from a real one's (a captor would see which phrase they were given): the
    # alarm is queued first, and a failure of either step is logged, never raised.
    if first_time:
        # Only the first duress login alerts staff; later ones would only repeat it.
        try:
            case_event_notify_on_commit(case_id=case.pk, event=Event.DURESS)
        except Exception:
            logger.exception("case %s: the duress alarm could not be queued", case.pk)
    # Each app's reaction (safe-house address keys taken away) on its own: one that fails is
    # logged and undone alone, never the others' nor the flag.
    marked = hooks.DuressMarked(case=case)
    for react in hooks.duress_marked.functions:
        try:
            with transaction.atomic():
                react(marked)
        except Exception:
            logger.exception("case %s: %s failed after a danger-word login", case.pk, react.__qualname__)


def _certificate_once_flagged(case: Case, now: datetime) -> Expression | F:
    """The value the certificate column takes when the case is flagged at ``now``: the
    certificate of the row as read with the duress time set, if the row as read was certified
    and is still what the database holds; otherwise the certificate stays as it is. Computed
    for every login (two keyed hashes), so a real login does the same work as a danger one."""
    read_as = Case(**{field.attname: getattr(case, field.attname) for field in Case._meta.concrete_fields})
    was_certified = certified(read_as)
    read_as.under_duress_since = now
    flagged = certify(read_as)
    if not was_certified or case.certificate is None:
        return F("certificate")
    return DbCase(
        When(certificate=bytes(case.certificate), then=Value(flagged, output_field=BinaryField())),
        default=F("certificate"),
        output_field=BinaryField(),
    )


def message_post_from_person(*, session: PersonSession, body: str, attachments: Sequence[NewAttachment]) -> Message:
    try:
        with transaction.atomic():
            case = lock_case(session.case)
            after_duress = session.credential.is_duress or case.under_duress_since is not None
            readers = _person_message_readers(keys.current_case_key(case), session.credential)
            message = _message_create(
                case, Message.Sender.PERSON, body, readers, after_duress=after_duress, attachments=attachments
            )
            case.last_person_message_at = message.created_at
            case.save(update_fields=["last_person_message_at"])
    except BaseException:
        _discard_blobs(attachments)
        raise
    return message


def message_post_from_staff(
    *,
    case: Case,
    member: StaffMember,
    member_private_key: bytes,
    signing_key: bytes,
    body: str,
    sensitive_confirmed: bool = False,
) -> Message:
    """A reply to the person's real conversation, signed with ``signing_key`` (the member's,
    from the session vault). Only by a member whose session opens the current case key
    (keys.current_key_open, NoAccess otherwise): a wrap row alone proves nothing."""
    # T3: raises hooks.ReplyStopped if the draft seems to hold a sensitive item (vetting); the
    # case's state is read from the locked row the reply is written under.
    reply = hooks.StaffReply(case=case, member=member, body=body, confirmed=sensitive_confirmed)
    checks = hooks.reply_screens.run(reply)
    with transaction.atomic():
        locked = lock_case(case)
        keys.current_key_open(locked, member, member_private_key)
        stopped = next((stop for check in checks if (stop := check(locked)) is not None), None)
        if stopped is None:
            return _staff_reply_write(locked, member, signing_key, body)
    raise stopped


def _staff_reply_write(locked: Case, member: StaffMember, signing_key: bytes, body: str) -> Message:
    """The reply itself, in message_post_from_staff's transaction with ``locked`` held."""
    # Under duress someone else may hold the phone: the reply is kept for staff (sealed to
    # the case key only) until a coordinator releases it, see message_release.
    held = locked.under_duress_since is not None
    reply_to = reply_credential_checked(locked)
    credentials = [reply_to] if reply_to is not None and not held else []
    readers = Readers(case_key=keys.current_case_key(locked), credentials=credentials)
    message = _message_create(
        locked, Message.Sender.STAFF, body, readers, author=member, held=held, signing_key=signing_key
    )
    _read_mark_set(locked, member)
    audit_record(
        actor=member, action=Action.CASE_REPLY, case=locked, details={"message": str(message.pk), "held": held}
    )
    return message


class DuressActionRefused(Refused):
    """A release or duress clearing is not allowed; the message says why (shown to staff)."""


def decoy_reply_post(
    *, case: Case, member: StaffMember, member_private_key: bytes, signing_key: bytes, body: str
) -> Message:
    """A reply in the harmless cover conversation, which whoever logs in with the danger word
    sees, so the cover story stays believable. Sealed to the case key and the duress
    credential (like the cover written at intake; the real phrase never shows it), signed like
    any reply, never held and never released: message_release and codename_burn leave decoy
    messages out of the real conversation. Only a caseworker or coordinator holding the
    current case key."""
    if not permissions.can_work_case(member):
        raise DuressActionRefused(_("Only a caseworker or coordinator can write in the cover conversation."))
    # T3/T4: raises hooks.ReplyStopped (always refused) if the draft seems to hold a sensitive item.
    hooks.cover_reply_screens.run(hooks.StaffReply(case=case, member=member, body=body))
    with transaction.atomic():
        locked = lock_case(case)
        keys.current_key_open(locked, member, member_private_key)
        credentials = credentials_sealable(locked)
        if not any(credential.is_duress for credential in credentials):
            raise DuressActionRefused(_("This case has no cover conversation: no danger word is in use."))
        readers = _cover_readers(keys.current_case_key(locked), credentials)
        message = _message_create(
            locked, Message.Sender.STAFF, body, readers, author=member, is_decoy=True, signing_key=signing_key
        )
        audit_record(actor=member, action=Action.DECOY_REPLY, case=locked, details={"message": str(message.pk)})
    return message


def message_release(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, actor_signing_key: bytes, message_id: uuid.UUID
) -> Message:
    """Seal a held reply's data key to the person's real credential. Only a coordinator, and
    only one who holds the case key: the server cannot unwrap the data key by itself. The
    body is re-encrypted without the held flag, so the coordinator signs the reply anew; a
    reply whose signature does not hold is not released."""
    if not permissions.can_release_held_reply(actor):
        raise DuressActionRefused(_("Only a coordinator can release a held reply."))
    try:
        with transaction.atomic():
            locked = lock_case(case)
            message = (
                Message.objects.select_for_update()
                .filter(pk=message_id, case=locked, held=True, is_decoy=False, sender=Message.Sender.STAFF)
                .first()
            )
            if message is None:
                raise DuressActionRefused(_("This reply is not held."))
            credential = reply_credential_checked(locked)
            if credential is None:
                raise DuressActionRefused(_("The person has no codename to release the reply to."))
            opened = keys.case_private_keys(locked, actor, actor_private_key)  # NoAccess: not a holder
            key_ctx = keys.message_key_ctx(message.pk)
            wrap = MessageKey.objects.filter(message=message, case_key_id__in=list(opened)).first()
            if wrap is None:
                raise DuressActionRefused(_("You cannot open this reply."))
            case_key_id = cast(int, wrap.case_key_id)  # filtered on case_key_id__in
            data_key = sealbox.unseal(opened[case_key_id], bytes(wrap.sealed_key), ctx=key_ctx)
            # The held flag is bound into the body's associated data: re-encrypt without it.
            body = sealbox.decrypt(data_key, bytes(message.body_ct), ctx=keys.message_body_ctx(message))
            # T3: a held reply is screened again on release, on the locked row.
            stops = hooks.release_screens.run(hooks.HeldRelease(case=locked, body=body.decode()))
            stop = next((stop for stop in stops if stop is not None), None)
            if stop is not None:
                raise _SensitiveRelease(stop)
            if not authenticity.message_authentic(message):
                raise DuressActionRefused(_("This reply's signature is not valid: it is not released."))
            message.held = False
            message.body_ct = sealbox.encrypt(data_key, body, ctx=keys.message_body_ctx(message))
            authenticity.message_sign(message, signer=actor, signing_key=actor_signing_key)
            message.save(update_fields=["held", "body_ct", "signed_by", "signature", "server_tag"])
            MessageKey.objects.create(
                message=message,
                credential=credential,
                sealed_key=sealbox.seal(_sealable(credential), data_key, ctx=key_ctx, pad=False),
            )
            audit_record(actor=actor, action=Action.MESSAGE_RELEASE, case=locked, details={"message": str(message.pk)})
    except _SensitiveRelease as stop:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=Action.SENSITIVE_REPLY_REFUSED,
                case=case,
                details={"kinds": ".".join(stop.kinds), "message": str(message_id), "release": True},
            )
        raise DuressActionRefused(
            _(
                "This reply seems to contain a sensitive item (%(kinds)s). It can be released only once "
                "the case is verified and no longer under duress."
            )
            % {"kinds": ", ".join(stop.stopped.kind_labels)}
        ) from None
    return message


class ReleaseSeen:
    """When the person sees a released reply (held_reply_seen_when); the console says it."""

    REAL_PHRASE = "real_phrase"  # under duress: only with the real phrase, never the danger word
    AFTER_CLEARING = "after_clearing"  # written before this duress login: once staff clear it
    NEXT_VISIT = "next_visit"  # not under duress: the next time they open their conversation


def held_reply_seen_when(case: Case, created_at: datetime) -> str:
    """While the case is under duress the real phrase shows only what was written since the
    duress login (PersonSession.shows_since) and the danger phrase never shows a real reply."""
    if case.under_duress_since is None:
        return ReleaseSeen.NEXT_VISIT
    if created_at >= case.under_duress_since:
        return ReleaseSeen.REAL_PHRASE
    return ReleaseSeen.AFTER_CLEARING


def held_reply_release_note(case: Case, created_at: datetime) -> str:
    """The console's words for when the person will see a reply released now (held_reply_seen_when)."""
    seen = held_reply_seen_when(case, created_at)
    if seen == ReleaseSeen.REAL_PHRASE:
        return _(
            "The person will see it only when they open their conversation with their real codename, "
            "never with the danger word."
        )
    if seen == ReleaseSeen.AFTER_CLEARING:
        return _(
            "It was written before the latest danger-word login: the person will see it only once the "
            "danger-word state is cleared."
        )
    return _("The person will see it the next time they open their conversation.")


class _SensitiveRelease(Exception):
    """Inside message_release: the held reply may not go out; nothing was written."""

    def __init__(self, stopped: hooks.ReplyStopped) -> None:
        super().__init__("sensitive release refused")
        self.stopped = stopped
        self.kinds = stopped.kinds


# Why staff consider the person safe again; codes only, so the audit log can hold them.
DURESS_CLEAR_REASONS = (
    ("reached_safe_channel", gettext_lazy("Reached the person through the agreed safe channel")),
    ("met_in_person", gettext_lazy("Met the person")),
    ("trusted_contact", gettext_lazy("Confirmed through a trusted contact")),
    ("false_alarm", gettext_lazy("The person confirmed it was a mistake")),
)


def case_duress_clear(*, case: Case, actor: StaffMember, actor_private_key: bytes, reason: str) -> bool:
    """Lift the duress state: the real codename shows the real conversation again. Only a
    caseworker or coordinator holding the case key. Returns False when there was nothing to clear."""
    if not permissions.can_work_case(actor):
        raise DuressActionRefused(_("Only a caseworker or coordinator can clear the duress state."))
    if reason not in dict(DURESS_CLEAR_REASONS):
        raise DuressActionRefused(_("Choose why the person is safe again."))
    with transaction.atomic():
        locked = lock_case(case)
        if not holds_current_key(locked, actor):
            raise keys.NoAccess
        keys.case_private_keys(locked, actor, actor_private_key)  # proves the session holds the key
        if locked.under_duress_since is None:
            return False
        keys.case_recertify(locked, under_duress_since=None)
        case_revision_bump(locked)
        audit_record(actor=actor, action=Action.CASE_DURESS_CLEAR, case=locked, details={"reason": reason})
    case.under_duress_since, case.certificate = None, locked.certificate
    return True


def case_mark_read(*, case: Case, member: StaffMember) -> None:
    with transaction.atomic():
        _read_mark_set(case, member)
        audit_record(actor=member, action=Action.CASE_MARK_READ, case=case)


def _read_mark_set(case: Case, member: StaffMember) -> None:
    CaseReadMark.objects.update_or_create(case=case, member=member, defaults={"read_at": timezone.now()})


# --- who holds a case's key (need-to-know) ---------------------------------------------------


class MembershipRefused(Refused):
    """The membership change is not allowed; the message says why (shown to staff)."""


def case_revision_bump(locked: Case, *, expected_revision: int | None = None) -> None:
    """Record a staff change to ``locked`` (held with lock_case). With ``expected_revision``
    (the revision a form was rendered with), refuse the change if anyone changed the case since
    (EditConflict): the last save must not silently overwrite the one before it."""
    if expected_revision is not None and locked.revision != expected_revision:
        # The case row does not keep who changed it last (the audit log does).
        raise EditConflict(locked.revision, "", None)
    locked.revision += 1
    locked.save(update_fields=["revision"])


@dataclass(frozen=True, repr=False)
class IssuedCodename:
    """A new codename, to be shown once to the staff member and never stored."""

    codename: str
    details: CaseDetails | None


def codename_burn(*, case: Case, actor: StaffMember, actor_private_key: bytes) -> IssuedCodename:
    """Revoke every credential of the case (the real and the duress phrase stop working, and
    open person sessions with them end) and issue a new codename with a new real credential,
    to which the data key of every non-decoy message the old real credential could read is
    re-sealed. Only a caseworker or coordinator holding the case key: the data keys are
    unwrapped with it. Burning also ends the duress state: nobody but the person, told through
    the agreed channel, knows the new codename, so it has no reason to show the decoy."""
    if not permissions.can_work_case(actor):
        raise DuressActionRefused(_("Only a caseworker or coordinator can issue a new codename."))
    with transaction.atomic():
        locked = lock_case(case)
        if not holds_current_key(locked, actor):
            raise keys.NoAccess
        keys.case_checked(locked)
        opened = keys.case_private_keys(locked, actor, actor_private_key)
        raw = keys.details_open(locked, opened)
        details = CaseDetails.from_json(raw) if raw is not None else None
        # The person's language when the case has one we have words for; otherwise (a case
        # handed over by a partner without it, or in another language) the organisation's
        # default, the intake's own language.
        language = details.language if details and details.language in sealbox.codenames.LANGUAGES else None
        codename = sealbox.generate_codename(language or settings.LANGUAGE_CODE)
        secrets = derive_secrets(sealbox.normalise_codename(codename))
        old_real = locked.reply_credential
        revoked = _credentials_revoke(locked)
        credential = _credential_create(locked, secrets, is_duress=False)
        resealed = _reseal_to(credential, old_real, opened) if old_real is not None else 0
        duress_cleared = locked.under_duress_since is not None
        keys.case_recertify(locked, reply_credential=credential, under_duress_since=None)
        case_revision_bump(locked)
        audit_record(
            actor=actor,
            action=Action.CODENAME_BURN,
            case=locked,
            details={
                "revoked": revoked,
                "messages": resealed,
                "duress_cleared": duress_cleared,
                # The credential that replaces the others: every earlier one of the case is
                # revoked on record (credential_revoked_on_record), whatever its row says later.
                "credential": credential.pk,
            },
        )
    case.reply_credential = credential
    case.under_duress_since = None
    case.certificate = locked.certificate
    return IssuedCodename(codename=codename, details=details)


def _credentials_revoke(locked: Case) -> int:
    """Revoke every credential of the case still in use, each certified as revoked: clearing
    ``revoked_at`` in the database brings none back (its certificate then fails)."""
    now = timezone.now()
    count = 0
    for credential in PersonCredential.objects.filter(case=locked, revoked_at__isnull=True):
        credential.case = locked
        was_certified = certified(credential)
        credential.revoked_at = now
        if was_certified:  # never certify over a row that did not hold: it stays refused
            certify(credential)
        credential.save(update_fields=["revoked_at", "certificate"])
        count += 1
    return count


def _reseal_to(new: PersonCredential, old: PersonCredential, opened: dict[int, bytes]) -> int:
    """Seal to ``new`` the data keys of the messages ``old`` could read and the person should
    keep reading; each data key is taken from the message's case-key wrap, which ``opened``
    unlocks. The messages are chosen by their own flags, not only by the rows naming ``old``
    (a row a database writer planted would otherwise hand the new codename a captor's words or
    a held reply): never the cover conversation, never a reply still held, never what was
    written after a danger-word login by the person's side (whoever held the phone may have
    written it)."""
    message_ids = list(
        MessageKey.objects.filter(credential=old, message__is_decoy=False, message__held=False)
        .exclude(message__sender=Message.Sender.PERSON, message__after_duress=True)
        .values_list("message_id", flat=True)
    )
    wraps = MessageKey.objects.filter(message_id__in=message_ids, case_key_id__in=list(opened))
    rows, done = [], set()
    for wrap in wraps:
        if wrap.message_id in done:
            continue
        ctx = keys.message_key_ctx(wrap.message_id)
        case_key_id = cast(int, wrap.case_key_id)  # filtered on case_key_id__in
        data_key = sealbox.unseal(opened[case_key_id], bytes(wrap.sealed_key), ctx=ctx)
        rows.append(
            MessageKey(
                message_id=wrap.message_id,
                credential=new,
                sealed_key=sealbox.seal(_sealable(new), data_key, ctx=ctx, pad=False),
            )
        )
        done.add(wrap.message_id)
    MessageKey.objects.bulk_create(rows)
    return len(rows)


def case_flags_set(
    *,
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    hostile_relative: bool,
    hostile_note: str,
    no_contact_via: Sequence[str],
    expected_revision: int | None = None,
) -> CaseDetails:
    """Set the hostile-relative and do-not-contact-via flags inside the sealed case details,
    re-sealed under the current key version (the flags are case content, not triage columns).
    ``expected_revision`` is the case revision the form was rendered with (EditConflict if stale)."""
    if not permissions.can_work_case(actor):
        raise DuressActionRefused(_("Only a caseworker or coordinator can change these warnings."))
    with transaction.atomic():
        locked = lock_case(case)
        if not holds_current_key(locked, actor):
            raise keys.NoAccess
        case_revision_bump(locked, expected_revision=expected_revision)
        opened = keys.case_private_keys(locked, actor, actor_private_key)
        raw = keys.details_open(locked, opened)
        if raw is None:
            raise DuressActionRefused(_("You cannot open this case's details."))
        old = CaseDetails.from_json(raw)
        details = dataclasses.replace(
            old,
            hostile_relative=hostile_relative,
            hostile_note=hostile_note if hostile_relative else "",
            no_contact_via=list(no_contact_via),
        )
        keys.details_reseal(locked, details.to_json(), under=keys.current_case_key(locked))
        # No details: which warnings a case carries is case content.
        audit_record(actor=actor, action=Action.CASE_FLAGS_SET, case=locked)
    return details


def untrusted_key_message() -> str:
    return _("This account's key cannot be trusted; ask a coordinator.")


def case_member_add(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, member: StaffMember, via_team: Team | None = None
) -> None:
    """Give ``member`` every version of the case key, so they read the whole history. Only
    someone who holds the key can pass it on: the server never has it in the clear.

    Without ``via_team`` the member is named on the case individually (CaseNamedMember), so
    leaving a team later does not take them off it; with it, they read the case as a member of
    that team (casework.teams)."""
    with transaction.atomic():
        locked = keys.case_checked(lock_case(case))  # its state decides who may be added
        if not permissions.can_hold_case_key(member, case_verified=locked.status == Case.Status.VERIFIED):
            if permissions.can_hold_case_key(member, case_verified=True):
                raise MembershipRefused(_("Logistics staff can be given a case only once it is verified."))
            raise MembershipRefused(_("This person's role does not read case content."))
        if holds_current_key(locked, member):
            raise MembershipRefused(_("This person can already read the case."))
        if trusted_box_key(member) is None:
            # A public key without a valid certificate may be a database writer's: no wrap.
            raise MembershipRefused(untrusted_key_message())
        opened = keys.case_private_keys(locked, actor, actor_private_key)  # NoAccess: not the actor's to give
        _case_member_give(locked, actor=actor, member=member, opened=opened, via_team=via_team)


def _case_member_give(
    locked: Case, *, actor: StaffMember, member: StaffMember, opened: dict[int, bytes], via_team: Team | None
) -> None:
    already = set(
        CaseKeyWrap.objects.filter(case_key__case=locked, member=member).values_list("case_key_id", flat=True)
    )
    for case_key in CaseKey.objects.filter(case=locked, pk__in=list(opened)).order_by("version"):
        if case_key.pk not in already:
            try:
                keys.wrap_case_key_for(member, case_key, opened[case_key.pk])
            except keys.UntrustedKey:
                raise MembershipRefused(untrusted_key_message()) from None
    PendingWrap.objects.filter(case=locked, member=member).delete()
    details: dict[str, int] = {"member": member.pk}
    if via_team is None:
        reason: CaseNamedMember | CaseHeldViaTeam = CaseNamedMember(case=locked, member=member)
        exists: QuerySet[CaseNamedMember] | QuerySet[CaseHeldViaTeam]
        exists = CaseNamedMember.objects.filter(case=locked, member=member)
    else:
        reason = CaseHeldViaTeam(case=locked, member=member, team=via_team)
        exists = CaseHeldViaTeam.objects.filter(case=locked, member=member, team=via_team)
        details["team"] = via_team.pk
    exists.delete()  # a reason row made outside the console is replaced by a certified one
    certify(reason)
    reason.save(force_insert=True)
    case_revision_bump(locked)
    audit_record(actor=actor, action=Action.CASE_MEMBER_ADD, case=locked, details=details)


def case_member_add_by_recovery(
    *, case: Case, actor: StaffMember, member: StaffMember, recovery_private_key: bytes
) -> int:
    """Give ``member`` every version of the case key, opened from its recovery wraps with the
    recovery private key a ceremony rebuilt (recovery app): for a case nobody holds any more.
    Returns how many versions were given. The key is used here and forgotten by the caller."""
    with transaction.atomic():
        locked = keys.case_checked(lock_case(case))
        if not permissions.can_hold_case_key(member, case_verified=locked.status == Case.Status.VERIFIED):
            raise MembershipRefused(_("This person's role does not read case content."))
        if trusted_box_key(member) is None:
            raise MembershipRefused(untrusted_key_message())
        opened = keys.case_private_keys_by_recovery(locked, recovery_private_key)
        if not opened:
            raise MembershipRefused(_("No key version of this case opens with the recovery key."))
        _case_member_give(locked, actor=actor, member=member, opened=opened, via_team=None)
        return len(opened)


def case_member_remove(*, case: Case, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> CaseKey:
    """Delete ``member``'s wraps of every version and rotate the key, so nothing written from
    now on can be opened by them. Who may take whom off is accounts.permissions.can_remove_member
    (never the last caseworker or coordinator reading the case, never leaving the actor its only
    reader); disabling the account always takes them off, see staff_disable."""
    with transaction.atomic():
        locked = lock_case(case)
        if not holds_current_key(locked, member):
            raise MembershipRefused(_("This person does not hold the case key."))
        holders = keys.current_holders(locked)
        if not any(holder.pk == actor.pk for holder in holders):
            raise keys.NoAccess
        refusal = permissions.member_removal_refusal(actor, member, holders)
        if refusal is not None:
            raise MembershipRefused(refusal)
        opened = keys.case_private_keys(locked, actor, actor_private_key)  # NoAccess: actor is no holder
        new_key = _case_rotate_without(locked, member, opened)
        hooks.member_taken_off.run(hooks.MemberTakenOff(case=locked, member=member, actor=actor, reason="removed"))
        audit_record(
            actor=actor,
            action=Action.CASE_MEMBER_REMOVE,
            case=locked,
            details={"member": member.pk, "key_version": new_key.version},
        )
    case.key_version, case.details_key_version = locked.key_version, locked.details_key_version
    case.certificate = locked.certificate
    return new_key


def case_state_changed(*, case: Case, actor: StaffMember, actor_private_key: bytes | None = None) -> CaseKey | None:
    """Hook of casework.lifecycle.case_transition, called in its transaction with ``case`` locked
    and its new status set: a case that is not verified (closed, reopened) is read by no
    logistics member. Their wraps of every version are deleted and the key rotated, so nothing
    written from now on opens with a key they kept. ``actor_private_key`` (the actor's, who
    holds the key) lets the details be re-sealed under the new version. Returns the new key
    version, or None when nobody had to be taken off."""
    if case.status == Case.Status.VERIFIED:
        return None
    # Everyone who holds a wrap, and everyone the current version was given to (its certified
    # holder list: hiding a member's wraps for the moment of the change does not spare them).
    holding = set(StaffMember.objects.filter(wraps__case_key__case=case, wraps__for_recovery=False).distinct())
    holding |= set(keys.current_holders(case))
    # Chosen by the certified account state, not the role column alone: a member whose role or
    # active state was changed in the database is taken off too (the safe direction), so
    # flipping a logistics member's role for the moment of the change keeps nobody on the case.
    removed = [
        member
        for member in holding
        if member.role in VERIFIED_ONLY_ROLES or not member.is_active or not account_state_trusted(member)
    ]
    if not removed:
        return None
    opened: dict[int, bytes] = {}
    if actor_private_key is not None:
        try:
            opened = keys.case_private_keys(case, actor, actor_private_key)
        except keys.NoAccess:
            opened = {}
    new_key = _case_rotate_without_all(case, removed, opened)
    for member in removed:
        audit_record(
            actor=actor,
            action=Action.CASE_MEMBER_REMOVE,
            case=case,
            details={"member": member.pk, "key_version": new_key.version, "reason": "not_verified"},
        )
    return new_key


def _case_rotate_without(case: Case, member: StaffMember, opened: dict[int, bytes]) -> CaseKey:
    return _case_rotate_without_all(case, [member], opened)


def _case_rotate_without_all(
    case: Case, members: Sequence[StaffMember], opened: dict[int, bytes], *, certify_case: bool = True
) -> CaseKey:
    """Drop ``members``' wraps (and every reason they held them), make one new key version for
    the remaining holders and re-seal the details under it when ``opened`` (the actor's case
    keys) can read them; otherwise the details stay under their version, which the remaining
    holders keep (nothing new is in them). ``certify_case=False``: see keys.case_key_rotate."""
    ids = [member.pk for member in members]
    _drop_holder_rows(case, ids)
    case_revision_bump(case)
    plain = _details_if_readable(case, opened) if certify_case else None
    remaining = [holder for holder in keys.current_holders(case) if holder.pk not in ids]
    new_key = keys.case_key_rotate(case, holders=remaining, certify_case=certify_case)
    if plain is not None:
        keys.details_reseal(case, plain, under=new_key)
    return new_key


def _details_if_readable(case: Case, opened: dict[int, bytes]) -> bytes | None:
    """The details to re-seal under a new version, or None when the actor cannot open them, or
    they do not open at all (changed in the database): the rotation goes ahead either way."""
    try:
        return keys.details_open(case, opened)
    except sealbox.CryptoError:
        logger.warning("case %s: the sealed details do not open; left under their version", case.pk)
        return None


def _drop_holder_rows(case: Case, ids: list[int]) -> None:
    CaseKeyWrap.objects.filter(case_key__case=case, member_id__in=ids).delete()
    CaseNamedMember.objects.filter(case=case, member_id__in=ids).delete()
    CaseHeldViaTeam.objects.filter(case=case, member_id__in=ids).delete()
    PendingWrap.objects.filter(case=case, member_id__in=ids).delete()
    # The originals' keys follow the case key: off the case, no original of it either.
    AttachmentOriginalKey.objects.filter(attachment__message__case=case, member_id__in=ids).delete()


def staff_disable(*, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> int:
    """Disable the account and take it off every case it may hold, rotating each case's key.
    Returns how many cases were rotated.

    The account is disabled first, certified as disabled and taken out of every team, in a
    transaction of its own: whatever happens to a case below, the member can no longer log in
    or be given anything. Then each case is handled in its own transaction. Disabling never
    waits on a certificate and never stops halfway: a case whose row does not hold its
    certificate still gets a new key version (without certifying the case row over what a
    database writer changed), and a case that fails for another reason is logged and the
    member's rows on it are dropped, so the coordinator can look at it."""
    if actor.pk == member.pk:
        raise MembershipRefused(_("You cannot disable your own account."))
    if not permissions.can_disable_staff(actor, member):
        raise MembershipRefused(_("Only a coordinator can disable an account."))
    with transaction.atomic():
        locked_member = StaffMember.objects.select_for_update().get(pk=member.pk)
        case_ids = _cases_possibly_held_by(locked_member)
        locked_member.is_active = False
        # Certified as disabled: a database writer who turns it back on breaks the certificate,
        # so nothing new is sealed to the account (accounts.keyring.trusted_box_key).
        certify(locked_member)
        locked_member.save(update_fields=["is_active", "account_certificate"])
        PendingWrap.objects.filter(member=member).delete()
        # Nor does it keep any original file's key, whatever happens to each case below.
        AttachmentOriginalKey.objects.filter(member=member).delete()
        # A disabled account is in no team: it is owed no key and would be handed none.
        teams_left, _rows = TeamMembership.objects.filter(member=member).delete()
        audit_record(
            actor=actor,
            action=Action.STAFF_DISABLE,
            details={"member": member.pk, "cases": len(case_ids), "teams": teams_left},
        )
        # What other apps keep for the account goes with it in this transaction (for example
        # the organisation's hand-off keys are replaced when a coordinator leaves).
        account_hooks.member_disabled.run(account_hooks.MemberDisabled(actor=actor, member=locked_member))
    member.is_active = False
    member.account_certificate = locked_member.account_certificate
    rotated = 0
    # One at a time, in one order, so two coordinators disabling at once cannot deadlock.
    for case_id in case_ids:
        if _disabled_member_taken_off(case_id, actor=actor, actor_private_key=actor_private_key, member=member):
            rotated += 1
    return rotated


def _cases_possibly_held_by(member: StaffMember) -> list[int]:
    """Every case the member may hold a key of, from every record that could say so: wraps,
    reasons to hold one, keys owed, the cases of their teams, and the audit log (cases they
    acted on or were given). Hiding one kind of row in the database, for the moment of the
    disabling, does not keep a case from getting a new key version."""
    public_ids = set(
        AuditEntry.objects.filter(actor=member, case_public_id__isnull=False).values_list("case_public_id", flat=True)
    )
    public_ids |= set(
        AuditEntry.objects.filter(action=Action.CASE_MEMBER_ADD, details__member=member.pk).values_list(
            "case_public_id", flat=True
        )
    )
    team_ids = TeamMembership.objects.filter(member=member).values("team_id")
    found = (
        Q(keys__holders__contains=f",{member.pk},", keys__retired=False)
        | Q(keys__wraps__member=member)
        | Q(named_members__member=member)
        | Q(held_via_team__member=member)
        | Q(pending_wraps__member=member)
        | Q(team_id__in=team_ids)
        | Q(public_id__in=public_ids)
    )
    return sorted(set(Case.objects.filter(found).values_list("pk", flat=True)))


def _disabled_member_taken_off(
    case_id: int, *, actor: StaffMember, actor_private_key: bytes, member: StaffMember
) -> bool:
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            trusted = keys.case_trusted(case)
            opened: dict[int, bytes] = {}
            if trusted:
                try:
                    opened = keys.case_private_keys(case, actor, actor_private_key)
                except keys.NoAccess:
                    opened = {}
            new_key = _case_rotate_without_all(case, [member], opened, certify_case=trusted)
            hooks.member_taken_off.run(hooks.MemberTakenOff(case=case, member=member, actor=actor, reason="disabled"))
            details: dict[str, int | str | bool] = {"member": member.pk, "key_version": new_key.version}
            details.update({"reason": "disabled", "untrusted": not trusted} if not trusted else {"reason": "disabled"})
            audit_record(actor=actor, action=Action.CASE_MEMBER_REMOVE, case=case, details=details)
        return True
    except Exception:  # the account is disabled already: a case that fails must not stop the others
        logger.exception("case %s: staff member %s could not be taken off with a new key", case_id, member.pk)
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case_id)
            _drop_holder_rows(case, [member.pk])
            audit_record(
                actor=actor,
                action=Action.CASE_MEMBER_REMOVE,
                case=case,
                details={"member": member.pk, "reason": "disabled", "rotated": False},
            )
    except Exception:
        logger.exception("case %s: staff member %s's rows could not be dropped either", case_id, member.pk)
    return False
