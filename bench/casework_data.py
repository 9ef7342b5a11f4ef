"""Fill a dedicated PostgreSQL database with a hotline's worth of casework, for bench/casework_views.py.

    SP_DB_NAME=bench_casework ... python -m bench.casework_data --cases 100000 --messages 1000000

What it writes, and how real it is:

- 30 staff enrolled through ``accounts.services`` (invite links, production Argon2id, TOTP): 3
  coordinators, 19 caseworkers, 5 verifiers, 2 logistics, 1 analyst in three teams, and the
  organisation recovery key. ``bench-caseworker`` (password ``BENCH_PASSWORD``) is the member the
  view benchmark logs in as.
- Every case has its own X25519 key pair, wrapped (sealed) for 2–4 readers of its team and for the
  recovery key; its details (region, kinds of help, contact, hostile-relative flags) sealed to it.
- Every message has its own data key; the body is encrypted with it and bound to the message by
  ``casework.keys.message_body_ctx``; the data key is sealed to the case key and to the person's
  credential(s), exactly as ``casework.services`` does. Some messages carry attachment rows whose
  name and file key are encrypted under the data key (no blob file exists: no benchmarked view opens one).
- Every message carries the proof of origin the services write (casework.authenticity): a
  staff reply is signed (Ed25519) by its author with the signing key enrolment made for them,
  over the real statement (``authenticity.message_sign``); the person's messages, the
  acknowledgements and the decoy carry the server tag (``authenticity.message_tag``). Staff
  signing keys and X25519 keys are certified by enrolment itself; the generator checks both.
- Each holder of a case key holds it as a member of the case's team (``CaseHeldViaTeam``), as
  intake and the team services record it.
- So all the crypto is real: every row can be opened by whoever holds the keys, nothing is
  reused between rows. Only the person credentials are not derived from codenames (100,000
  Argon2id derivations would take hours): their lookup ids are random and their private keys
  derived from the seed (``credential_private_key``), so a sample can be opened as the person.
- Bodies are random words from the codename word lists, lengths drawn around 250 characters for a
  person and 180 for staff (a long tail to 4,000), 85 % Russian; plaintexts come from a pool and
  are encrypted afresh for every message.

Rows go in with COPY from two worker processes (foreign-key triggers off for the session: the
generator assigns every id itself); triage deadline jobs are not created (those deadlines are
long past). It refuses any database whose name does not start with ``bench`` or that already
holds cases. The last line printed is JSON describing what was generated.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

BENCH_PASSWORD = "bench casework password, benchmark database only"  # noqa: S105
BENCH_MEMBER = "bench-caseworker"
CHUNK_CASES = 1000
SMALL_CASE_MESSAGES = 10
LARGE_CASE_MESSAGES = 200
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
# Multiplier coprime with 30**10: public ids look random and never collide.
_PUBLIC_ID_MULTIPLIER = 7_919_000_011


def public_id_for(index: int) -> str:
    n = (index * _PUBLIC_ID_MULTIPLIER + 123_456_789) % len(_ALPHABET) ** 10
    out = []
    for _ in range(10):
        n, digit = divmod(n, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


@dataclass
class StaffRow:
    pk: int
    username: str
    role: str
    team: int  # index into Plan.teams
    public_key: bytes
    member: Any  # the StaffMember as enrolment saved it (certified signing and box keys)
    signing_seed: bytes  # what the member's session vault would hold: signs their replies


def credential_private_key(seed: int, credential_pk: int) -> bytes:
    """The X25519 private key of a generated person credential. Derived from the generator's
    seed (not from a codename: 100,000 Argon2id derivations would take hours) so that
    bench/casework_views.py can open a sample of conversations as the person would."""
    return hashlib.blake2b(
        f"{seed}:{credential_pk}".encode(), digest_size=32, key=b"bench credential", person=b"sp.bench.cred"
    ).digest()


@dataclass
class Plan:
    """Everything the workers need, built once in the parent before forking."""

    cases: int
    message_counts: list[int]
    message_offsets: list[int]  # prefix sums of message_counts
    teams: list[int]  # Team pks
    readers_by_team: list[list[StaffRow]]
    recovery_public_key: bytes
    bench_member: StaffRow
    special: dict[int, int]  # case index -> its exact message count, held by the bench member
    now: datetime
    bodies: dict[tuple[str, str], list[str]]  # (sender, language) -> plaintexts
    automatic: dict[str, str]
    decoys: dict[str, list[str]]
    seed: int
    db: dict[str, Any] = field(default_factory=dict)


PLAN: Plan | None = None


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _check_database() -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from casework.models import Case

    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or not str(name).startswith("bench"):
        sys.exit(f"refusing: this generator writes only to a PostgreSQL database named bench*, not {name!r}")
    if Case.objects.exists():
        sys.exit(f"refusing: database {name} already holds cases; drop and re-create it first")
    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"],
        "port": db["PORT"] or None,
        "user": db["USER"],
        "password": db["PASSWORD"],
        "dbname": name,
    }


# --- staff, through the real services ------------------------------------------------------

ROLES = [("coordinator", 3), ("caseworker", 19), ("verifier", 5), ("logistics", 2), ("analyst", 1)]


def _enrol_staff() -> tuple[list[int], list[StaffRow]]:
    from django_otp.oath import TOTP

    import sealbox
    from accounts import services as account_services
    from accounts.keyring import trusted_box_key, trusted_signing_key
    from accounts.models import Role, SignupLink, Team
    from core.certificates import certify

    def confirm(enrolment: Any) -> None:
        device = enrolment.device
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        assert account_services.totp_confirm(device, f"{code:0{device.digits}d}")
        # Enrolment itself certifies both public keys; replies are signed with this seed.
        member = enrolment.member
        if trusted_signing_key(member) != sealbox.SigningKeyPair.from_seed(enrolment.signing_seed).public_key:
            sys.exit(f"enrolment left {member.username} without a certified signing key")
        if trusted_box_key(member) != bytes(member.public_key):
            sys.exit(f"enrolment left {member.username} without a certified X25519 key")

    token = account_services.first_coordinator_link_create()
    if token is None:
        sys.exit("refusing: the database already has a coordinator")
    first = account_services.staff_enrol(token=token, username="bench-coordinator-1", password=BENCH_PASSWORD)
    confirm(first)
    account_services.recovery_key_create(created_by=first.member)
    on_call = Team.objects.get(is_on_call=True)
    teams = [on_call]
    for name in ("north", "south"):
        new_team = Team.objects.create(name=name)
        certify(new_team)
        new_team.save(update_fields=["certificate"])
        teams.append(new_team)
    staff = [
        StaffRow(
            first.member.pk,
            first.member.username,
            Role.COORDINATOR,
            0,
            bytes(first.member.public_key),
            first.member,
            first.signing_seed,
        )
    ]
    serial = 0
    for role, count in ROLES:
        for n in range(count - (1 if role == Role.COORDINATOR else 0)):
            team = (serial + 1) % len(teams)
            username = BENCH_MEMBER if (role, n) == (Role.CASEWORKER, 0) else f"bench-{role}-{n + 2}"
            if username == BENCH_MEMBER:
                team = 0
            link = account_services.signup_link_create(
                purpose=SignupLink.Purpose.INVITE, role=role, team=teams[team], created_by=first.member
            )
            enrolled = account_services.staff_enrol(token=link, username=username, password=BENCH_PASSWORD)
            confirm(enrolled)
            staff.append(
                StaffRow(
                    enrolled.member.pk,
                    username,
                    role,
                    team,
                    bytes(enrolled.member.public_key),
                    enrolled.member,
                    enrolled.signing_seed,
                )
            )
            serial += 1
    return [t.pk for t in teams], staff


# --- the plan ---------------------------------------------------------------------------------


def _message_counts(cases: int, messages: int, rng: random.Random) -> list[int]:
    """Between 2 and a few hundred per case, most around the mean, summing to ``messages``."""
    mean = messages / cases
    counts = [max(2, min(400, round(rng.lognormvariate(math.log(max(mean - 1, 1.5)), 0.8)) + 1)) for _ in range(cases)]
    diff = messages - sum(counts)
    step = 1 if diff > 0 else -1
    while diff:
        i = rng.randrange(cases)
        if step < 0 and counts[i] <= 2:
            continue
        counts[i] += step
        diff -= step
    return counts


def _words_text(rng: random.Random, words: Sequence[str], length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        out.append(sentence[:1].upper() + sentence[1:] + rng.choice([".", ".", ".", "?", "!"]))
        size += len(out[-1]) + 1
    return " ".join(out)[:length].rstrip()


def _bodies(rng: random.Random) -> dict[tuple[str, str], list[str]]:
    import sealbox

    pools: dict[tuple[str, str], list[str]] = {}
    for language, size in (("ru", 3000), ("en", 600)):
        words = sealbox.wordlist(language)
        for sender, median in (("person", 250), ("staff", 180)):
            pools[(sender, language)] = [
                _words_text(rng, words, max(10, min(4000, round(rng.lognormvariate(math.log(median), 0.8)))))
                for _ in range(size)
            ]
    return pools


def build_plan(cases: int, messages: int, seed: int, teams: list[int], staff: list[StaffRow]) -> Plan:
    from django.utils import timezone

    from casework import keys, texts

    rng = random.Random(seed)
    reader_roles = {"coordinator", "caseworker", "verifier"}
    readers_by_team = [[s for s in staff if s.team == t and s.role in reader_roles] for t in range(len(teams))]
    counts = _message_counts(cases, messages, rng)
    bench_member = next(s for s in staff if s.username == BENCH_MEMBER)
    # Two recent open cases of the bench member's team with exact sizes: the case pages measured.
    special = {cases - 7: SMALL_CASE_MESSAGES, cases - 11: LARGE_CASE_MESSAGES}
    for index, count in special.items():
        # Keep the total exact: take the difference from or give it to other cases.
        diff = count - counts[index]
        counts[index] = count
        while diff:
            j = rng.randrange(cases)
            if j in special or (diff > 0 and counts[j] <= 2):
                continue
            counts[j] += -1 if diff > 0 else 1
            diff += -1 if diff > 0 else 1
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    return Plan(
        cases=cases,
        message_counts=counts,
        message_offsets=offsets,
        teams=teams,
        readers_by_team=readers_by_team,
        recovery_public_key=keys.recovery_public_key(),
        bench_member=bench_member,
        special=special,
        now=timezone.now(),
        bodies=_bodies(rng),
        automatic={lang: texts.acknowledgement(lang) for lang in ("ru", "en")},
        decoys={lang: sorted(texts.decoy_openings(lang))[::97] for lang in ("ru", "en")},
        seed=seed,
    )


# --- the workers --------------------------------------------------------------------------------


class Rows:
    """Rows per model for one COPY batch, keyed by column."""

    def __init__(self) -> None:
        self.by_model: dict[Any, list[dict[str, Any]]] = {}

    def add(self, model: Any, **values: Any) -> None:
        self.by_model.setdefault(model, []).append(values)


def _copy(cursor: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
    missing = {f.attname for f in model._meta.concrete_fields} - {f.attname for f in fields}
    if missing:
        raise RuntimeError(f"{model.__name__}: no value for {sorted(missing)}")
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    )
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[f.attname] for f in fields])


def _case_rows(plan: Plan, index: int, rng: random.Random, rows: Rows) -> None:
    import sealbox
    from casework import authenticity, keys, services
    from casework.lifecycle import State
    from casework.models import (
        Attachment,
        Case,
        CaseHeldViaTeam,
        CaseKey,
        CaseKeyWrap,
        CaseReadMark,
        Message,
        MessageKey,
        PersonCredential,
        Urgency,
    )
    from core.certificates import certify

    pk = index + 1
    special = index in plan.special
    team = 0 if special else rng.randrange(len(plan.teams))
    readers = plan.readers_by_team[team]
    holders = rng.sample(readers, rng.randint(2, min(4, len(readers))))
    if special and plan.bench_member not in holders:
        holders[0] = plan.bench_member
    age_days = rng.uniform(0.5, 3) if special else 730 * (1 - math.sqrt(rng.random()))  # more recent cases
    created = plan.now - timedelta(days=age_days)
    language = "ru" if rng.random() < 0.85 else "en"
    urgency = rng.choices(list(Urgency.values), weights=[2, 3, 5])[0]
    if special:
        status = State.TRIAGED
    elif age_days > 120:
        status = State.CLOSED if rng.random() < 0.85 else rng.choice([State.TRIAGED, State.VERIFIED])
    else:
        status = rng.choice([State.NEW, State.TRIAGED, State.TRIAGED, State.VETTING, State.VERIFIED, State.CLOSED])
    duress_word = rng.random() < 0.5
    under_duress = not special and rng.random() < 0.002
    unanswered = not special and rng.random() < 0.01
    case = Case(pk=pk, public_id=public_id_for(pk))

    # Every row that decides who reads the case carries its certificate, as the services
    # write them (docs/crypto.md, "Certified rows").
    pair = sealbox.KeyPair.generate()
    wrap_ctx = keys.wrap_ctx(case, 1)
    holder_text = CaseKey.holders_text(holder.pk for holder in holders)
    case_key = CaseKey(id=pk, case=case, version=1, public_key=pair.public_key, retired=False, holders=holder_text)
    rows.add(
        CaseKey,
        id=pk,
        case_id=pk,
        version=1,
        public_key=pair.public_key,
        created_at=created,
        retired=False,
        holders=holder_text,
        certificate=certify(case_key),
    )
    for j, holder in enumerate(holders):
        sealed = sealbox.seal(holder.public_key, pair.private_key, ctx=wrap_ctx, pad=False)
        rows.add(
            CaseKeyWrap,
            id=pk * 8 + j,
            case_key_id=pk,
            member_id=holder.pk,
            for_recovery=False,
            sealed_private_key=sealed,
            created_at=created,
            certificate=certify(CaseKeyWrap(case_key=case_key, member_id=holder.pk, for_recovery=False)),
        )
        rows.add(
            CaseHeldViaTeam,
            id=pk * 8 + j,
            case_id=pk,
            member_id=holder.pk,
            team_id=plan.teams[team],
            added_at=created,
            certificate=certify(CaseHeldViaTeam(case=case, member_id=holder.pk, team_id=plan.teams[team])),
        )
    rows.add(
        CaseKeyWrap,
        id=pk * 8 + 7,
        case_key_id=pk,
        member_id=None,
        for_recovery=True,
        sealed_private_key=sealbox.seal(plan.recovery_public_key, pair.private_key, ctx=wrap_ctx, pad=False),
        created_at=created,
        certificate=certify(CaseKeyWrap(case_key=case_key, member_id=None, for_recovery=True)),
    )
    hostile = rng.random() < 0.1
    details = services.CaseDetails(
        region=rng.choice(["chechnya"] * 5 + ["north_caucasus", "moscow", "st_petersburg", "russia_other", "abroad"]),
        help_kinds=rng.sample(["leave_region", "leave_country", "legal", "medical", "other"], rng.randint(1, 3)),
        language=language,
        contact_kind=rng.choice(["", "signal", "telegram", "email"]),
        contact_value=f"+7 9{rng.randrange(10**9):09d}" if rng.random() < 0.5 else "",
        cover_phrase=_words_text(rng, sealbox.wordlist(language), 30) if rng.random() < 0.3 else "",
        hostile_relative=hostile,
        hostile_note=_words_text(rng, sealbox.wordlist(language), 60) if hostile else "",
        no_contact_via=rng.sample(["phone", "sms", "family"], rng.randint(1, 2)) if hostile else [],
    )
    details_ct = sealbox.seal(pair.public_key, details.to_json(), ctx=keys.details_ctx(case))
    real_pk, duress_pk = pk * 2 - 1, pk * 2
    credentials = {real_pk: sealbox.KeyPair.from_private(credential_private_key(plan.seed, real_pk)).public_key}
    if duress_word:
        credentials[duress_pk] = sealbox.KeyPair.from_private(credential_private_key(plan.seed, duress_pk)).public_key
    for cred_pk, public in credentials.items():
        lookup_id = os.urandom(32).hex()
        credential = PersonCredential(case=case, lookup_id=lookup_id, public_key=public, is_duress=cred_pk == duress_pk)
        rows.add(
            PersonCredential,
            id=cred_pk,
            case_id=pk,
            lookup_id=lookup_id,
            public_key=public,
            is_duress=cred_pk == duress_pk,
            created_at=created,
            revoked_at=None,
            certificate=certify(credential),
        )

    # The conversation: the request, the acknowledgement, the decoy pair, then back and forth.
    count = plan.message_counts[index]
    senders = [Message.Sender.PERSON, Message.Sender.AUTOMATIC]
    decoy_flags = [False, False]
    if duress_word and count >= 4:
        senders += [Message.Sender.PERSON, Message.Sender.AUTOMATIC]
        decoy_flags += [True, True]
    while len(senders) < count:
        person = unanswered or rng.random() < 0.55
        senders.append(Message.Sender.PERSON if person else Message.Sender.STAFF)
        decoy_flags.append(False)
    span = max((plan.now - created).total_seconds() - 60, 60.0)
    gaps = sorted(rng.uniform(0, span) for _ in range(count - 1))
    times = [created] + [created + timedelta(seconds=g) for g in gaps]
    duress_at = times[-2] if under_duress and count >= 6 else None
    last_person = None
    key_offset = plan.message_offsets[index] * 3
    for n, (sender, decoy, at) in enumerate(zip(senders, decoy_flags, times, strict=True)):
        after_duress = duress_at is not None and at >= duress_at and sender == Message.Sender.PERSON
        held = duress_at is not None and at >= duress_at and sender == Message.Sender.STAFF
        writer = rng.choice(holders) if sender == Message.Sender.STAFF else None
        author = writer.pk if writer is not None else None
        message = Message(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            case=case,
            sender=sender,
            author=writer.member if writer is not None else None,
            created_at=at,
            after_duress=after_duress,
            is_decoy=decoy,
            held=held,
        )
        if decoy:
            body = plan.automatic[language] if sender == Message.Sender.AUTOMATIC else rng.choice(plan.decoys[language])
        elif sender == Message.Sender.AUTOMATIC:
            body = plan.automatic[language]
        else:
            body = rng.choice(plan.bodies[(str(sender), language)])
        data_key = sealbox.random_key()
        message.body_ct = sealbox.encrypt(data_key, body.encode(), ctx=keys.message_body_ctx(message))
        # Proof of origin, as casework.services._message_create writes it: a staff reply (held
        # ones too: held replies are signed by their author until a coordinator releases them)
        # signed by its author over the statement; what the server writes by itself tagged.
        if writer is not None:
            authenticity.message_sign(message, signer=writer.member, signing_key=writer.signing_seed)
        else:
            authenticity.message_tag(message)
        rows.add(
            Message,
            id=message.id,
            case_id=pk,
            sender=sender,
            author_id=author,
            created_at=at,
            after_duress=after_duress,
            is_decoy=decoy,
            held=held,
            body_ct=message.body_ct,
            signed_by_id=message.signed_by_id,
            signature=message.signature,
            server_tag=message.server_tag,
        )
        key_ctx = keys.message_key_ctx(message.id)
        message_readers: list[tuple[str, int, bytes]] = [("case_key_id", pk, pair.public_key)]
        if decoy or after_duress:
            # The cover conversation, and what is written after a danger-word login (here: with
            # the danger phrase), are sealed to the duress credential only (casework.services).
            phrase = duress_pk if duress_pk in credentials else real_pk
            message_readers.append(("credential_id", phrase, credentials[phrase]))
        elif not held:
            message_readers.append(("credential_id", real_pk, credentials[real_pk]))
        for slot, (column, reader, public) in enumerate(message_readers):
            rows.add(
                MessageKey,
                id=key_offset + n * 3 + slot + 1,
                message_id=message.id,
                case_key_id=reader if column == "case_key_id" else None,
                credential_id=reader if column == "credential_id" else None,
                sealed_key=sealbox.seal(public, data_key, ctx=key_ctx, pad=False),
            )
        if sender == Message.Sender.PERSON and not decoy:
            last_person = at
            if rng.random() < 0.02:
                attachment = uuid.UUID(int=rng.getrandbits(128), version=4)
                name, kind = rng.choice([("photo.jpg", "image/jpeg"), ("passport.pdf", "application/pdf")])
                size = rng.randint(50_000, 5_000_000)
                # As casework.services records it: the exact size sealed, its bucket in the column.
                meta = json.dumps({"name": name, "type": kind, "size": size}).encode()
                rows.add(
                    Attachment,
                    id=attachment,
                    message_id=message.id,
                    blob_name=attachment.hex,
                    size=sealbox.bucket(size),
                    original_blob_name=None,  # nothing was cleaned out of it
                    original_size=None,
                    meta_ct=sealbox.encrypt(data_key, meta, ctx=keys.attachment_ctx("meta", attachment)),
                    file_key_ct=sealbox.encrypt(
                        data_key, sealbox.random_key(), ctx=keys.attachment_ctx("key", attachment), pad=False
                    ),
                )
    certified_case = Case(
        pk=pk,
        public_id=case.public_id,
        status=status,
        team_id=plan.teams[team],
        under_duress_since=duress_at,
        reply_credential_id=real_pk,
        key_version=1,
    )
    rows.add(
        Case,
        id=pk,
        public_id=case.public_id,
        status=status,
        urgency=urgency,
        team_id=plan.teams[team],
        created_at=created,
        last_person_message_at=last_person,
        under_duress_since=duress_at,
        key_version=1,
        details_key_version=1,
        details_ct=details_ct,
        reply_credential_id=real_pk,
        revision=0,
        certificate=certify(certified_case),
    )
    for j, holder in enumerate(holders):
        if rng.random() < 0.75:
            read_at = times[-1] if rng.random() < 0.8 else times[len(times) // 2]
            rows.add(CaseReadMark, id=pk * 8 + j, case_id=pk, member_id=holder.pk, read_at=read_at)


def _generate_chunk(bounds: tuple[int, int]) -> tuple[int, float]:
    """Generate and COPY cases [lo, hi) in one transaction; returns (cases, seconds)."""
    import psycopg

    from casework.models import (
        Attachment,
        Case,
        CaseHeldViaTeam,
        CaseKey,
        CaseKeyWrap,
        CaseReadMark,
        Message,
        MessageKey,
        PersonCredential,
    )

    assert PLAN is not None
    lo, hi = bounds
    began = time.monotonic()
    rows = Rows()
    for index in range(lo, hi):
        _case_rows(PLAN, index, random.Random(PLAN.seed * 1_000_003 + index), rows)
    with psycopg.connect(**{k: v for k, v in PLAN.db.items() if v is not None}) as conn, conn.cursor() as cursor:
        # Every id is assigned here and consistent; the foreign-key triggers would only check that.
        cursor.execute("SET session_replication_role = replica")
        order = [
            Case,
            CaseKey,
            CaseKeyWrap,
            CaseHeldViaTeam,
            PersonCredential,
            Message,
            MessageKey,
            Attachment,
            CaseReadMark,
        ]
        for model in order:
            _copy(cursor, model, rows.by_model.get(model, []))
    return hi - lo, time.monotonic() - began


# --- main ---------------------------------------------------------------------------------------


def _finish(db: dict[str, Any]) -> None:
    import psycopg
    from psycopg import sql

    from casework.models import (
        Case,
        CaseHeldViaTeam,
        CaseKey,
        CaseKeyWrap,
        CaseReadMark,
        MessageKey,
        PersonCredential,
    )

    with psycopg.connect(**{k: v for k, v in db.items() if v is not None}, autocommit=True) as conn:
        for model in (Case, CaseKey, CaseKeyWrap, CaseHeldViaTeam, PersonCredential, MessageKey, CaseReadMark):
            table = model._meta.db_table
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), coalesce((SELECT max(id) FROM {}), 1))"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        conn.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.casework_data", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args(argv)
    if args.cases < 50 or args.messages < max(args.cases * 2, LARGE_CASE_MESSAGES + SMALL_CASE_MESSAGES):
        parser.error("at least 50 cases and two messages per case")
    began = time.monotonic()
    _setup_django()
    db = _check_database()
    teams, staff = _enrol_staff()
    staff_seconds = time.monotonic() - began
    global PLAN
    PLAN = build_plan(args.cases, args.messages, args.seed, teams, staff)
    PLAN.db = db
    from django.db import connections

    connections.close_all()  # the workers fork: none may inherit the parent's connection
    chunks = [(lo, min(lo + CHUNK_CASES, args.cases)) for lo in range(0, args.cases, CHUNK_CASES)]
    done = 0
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        for cases, _seconds in pool.imap_unordered(_generate_chunk, chunks):
            done += cases
            if done % (CHUNK_CASES * 10) == 0 or done == args.cases:
                print(f"[casework_data {time.monotonic() - began:6.1f}s] {done:,} cases", file=sys.stderr, flush=True)
    copied = time.monotonic() - began
    _finish(db)
    plan = PLAN
    summary = {
        "cases": args.cases,
        "messages": sum(plan.message_counts),
        "staff": len(staff),
        "bench_member": BENCH_MEMBER,
        "small_case": public_id_for(next(i for i, c in plan.special.items() if c == SMALL_CASE_MESSAGES) + 1),
        "large_case": public_id_for(next(i for i, c in plan.special.items() if c == LARGE_CASE_MESSAGES) + 1),
        "workers": args.workers,
        "seed": args.seed,
        "seconds_staff": round(staff_seconds, 1),
        "seconds_rows": round(copied - staff_seconds, 1),
        "seconds_analyze": round(time.monotonic() - began - copied, 1),
        "seconds_total": round(time.monotonic() - began, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
