"""The canary test of DESIGN.md (encryption invariants 1, 2 and 5).

Unique strings go in through every free-text input of both faces, through the real views:
the first request (message, contact, cover phrase, danger word, the first message of the
cover conversation, attachment contents and names), the conversation, the codename login (right, wrong and with the danger word), the
staff sign-up (password and notification address) and login password, a staff reply, the hostile-relative note, case notes and
tasks (new, edited and typed into a refused conflicting edit), a reply draft sent with a
canned reply's Insert button, and the evidence locker (the person's words of consent, a
testimony and its title, a kept message's title, each typed into a refused form too where one
can be refused). With the rows committed, the test then
searches every place a seized server would give up: the raw SQLite file with its -wal and
-shm files (or a pg_dump), the file store, the log file, every log record at DEBUG level,
the decoded session rows, anything else under SP_VAR_DIR, and a backup made at the end (its
bytes as written hold nothing, not even what the database holds in plain; decrypted with the
offline identity it holds only what the database and file store hold). A canary is looked for as UTF-8,
UTF-16-LE, hex (PostgreSQL dumps bytea as hex), JSON \\u escapes and base64 at all three
alignments: plaintext wrapped in an encoding is still plaintext.

Control markers written on purpose into each place must be found, so the search is proven
to work and the test cannot pass by looking in the wrong place.

The search helpers live in tests/plaintext_search.py.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import secrets
import struct
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

import scrub
import sealbox
from accounts.models import Role, StaffMember, Team
from audit.models import AuditEntry
from backups.archive import backup_write
from casework.models import Case
from evacuation.plans.models import Destination
from intake.uploads import sniff_content_type
from notifications.models import NotificationPreference
from notifications.services import preference_address
from tests.personas import CONSOLE, INTAKE, FaceClient, Staff, make_staff, totp_now
from tests.plaintext_search import (
    LogFile,
    Needle,
    backup_places,
    database_places,
    file_places,
    find_needles,
    log_record_places,
    needles_for,
    search_places,
    session_places,
)

# ---------------------------------------------------------------------------------------------
# Canaries and the files that carry them
# ---------------------------------------------------------------------------------------------

_CYRILLIC_LOWER = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


def latin_canary() -> str:
    return f"CANARY-{uuid.uuid4().hex}"


def cyrillic_canary() -> str:
    return f"КАНАРЕЙКА{uuid.uuid4().hex}"


def cyrillic_letters(count: int) -> str:
    """Letters only: codename and danger-word fields drop digits and punctuation."""
    return "".join(secrets.choice(_CYRILLIC_LOWER) for _ in range(count))


class Canaries:
    """Every secret written in, by the input it went through."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    def pair(self, label: str) -> str:
        """A Latin and a Cyrillic canary together, as one input's text."""
        latin, cyrillic = latin_canary(), cyrillic_canary()
        self.secrets[f"{label} (latin)"] = latin
        self.secrets[f"{label} (cyrillic)"] = cyrillic
        return f"{latin} {cyrillic}"

    def add(self, label: str, text: str) -> str:
        self.secrets[label] = text
        return text

    def needles(self) -> list[Needle]:
        return [needle for label, text in self.secrets.items() for needle in needles_for(label, text)]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_text(latin: str, cyrillic: str) -> bytes:
    """A real 1x1 PNG whose comment chunks (tEXt, and iTXt for UTF-8) carry the canaries."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    comment = _png_chunk(b"tEXt", b"Comment\0" + latin.encode("latin-1"))
    international = _png_chunk(b"iTXt", b"Comment\0\0\0\0\0" + cyrillic.encode())
    pixels = _png_chunk(b"IDAT", zlib.compress(b"\0\xff\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + comment + international + pixels + _png_chunk(b"IEND", b"")


def pdf_with_text(latin: str, cyrillic: str, *, padding: int = 0) -> bytes:
    """A one-page PDF showing the Latin canary, with the Cyrillic one in a comment; padding
    pushes the canaries past the upload handler's first chunk."""
    stream = f"BT /F1 12 Tf 20 50 Td ({latin}) Tj ET".encode()
    body = (
        b"%PDF-1.4\n%" + cyrillic.encode() + b"\n" + b"%" + b"0" * padding + b"\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 400 100] /Contents 4 0 R >> endobj\n"
        b"4 0 obj << /Length " + str(len(stream)).encode() + b" >> stream\n" + stream + b"\nendstream endobj\n"
    )
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def cleaned(data: bytes) -> bytes:
    """The copy of an uploaded file that staff and the person get."""
    return scrub.clean(data, str(sniff_content_type(data)))


def attachment(canaries: Canaries, label: str, kind: str, *, padding: int = 0) -> SimpleUploadedFile:
    """A file whose name and contents each carry their own canaries."""
    name = canaries.pair(f"{label} file name").replace(" ", "-")
    latin, cyrillic = latin_canary(), cyrillic_canary()
    canaries.add(f"{label} contents (latin)", latin)
    canaries.add(f"{label} contents (cyrillic)", cyrillic)
    if kind == "png":
        return SimpleUploadedFile(f"{name}.png", png_with_text(latin, cyrillic), content_type="image/png")
    content = pdf_with_text(latin, cyrillic, padding=padding)
    return SimpleUploadedFile(f"{name}.pdf", content, content_type="application/pdf")


# ---------------------------------------------------------------------------------------------
# Driving the inputs through the real views
# ---------------------------------------------------------------------------------------------


def codename_from_start_page(client: FaceClient) -> str:
    page = client.get("/start/").content.decode()
    words = re.findall(r"<span>([^<]+)</span>", page.split('class="codename"')[1].split("</p>")[0])
    assert len(words) == sealbox.CODENAME_WORDS, page[:2000]
    return " ".join(words)


def add_codename(canaries: Canaries, label: str, codename: str, *typed: str) -> None:
    """A codename is searched in its normalised form and as each phrase was typed."""
    canaries.add(f"{label} (normalised)", sealbox.normalise_codename(codename))
    for number, phrase in enumerate(typed, start=1):
        canaries.add(f"{label} (as typed, #{number})", phrase)


def staff_signs_up_through_an_invitation(coordinator: Staff, password: str, notify_address: str) -> Staff:
    """The coordinator invites, the newcomer signs up and enrols TOTP: the password goes
    through the real sign-up form, then through the real login form; the notification address
    through the sign-up form's channel choice."""
    page = coordinator.console().post("/staff/", {"role": "caseworker", "team": ""}).content.decode()
    token = re.search(r"/signup/([^/<\s]+)/", page)
    assert token is not None, page[:2000]
    newcomer = FaceClient(CONSOLE)
    form = {
        "username": "canary-keeper",
        "password": password,
        "password_again": password,
        "channel": "email",
        "address": notify_address,
    }
    response = newcomer.post(f"/signup/{token.group(1)}/", form)
    assert response.status_code == 302, response.content[:2000]
    stored = NotificationPreference.objects.get(member__username="canary-keeper")
    assert (stored.channel, preference_address(stored)) == ("email", notify_address)
    device = TOTPDevice.objects.get(user__username="canary-keeper")
    assert newcomer.post("/enrol/totp/", {"code": totp_now(device)}).status_code == 302
    assert newcomer.post("/logout/").status_code == 302
    return Staff(StaffMember.objects.get(username="canary-keeper"), password, device)


def teams_change_hands(coordinator: Staff, staff: Staff, case: Case) -> None:
    """The team pages move the case's key around (wraps, pending wraps, rotation on leaving,
    details re-sealed under the new key): none of it may write case content in the clear.
    A team's name is not searched for: it is stored in the clear by design (a neutral label;
    names of places are refused, see casework.team_forms), like the control below."""
    console = coordinator.console()
    assert console.post("/teams/", {"name": "Canary team"}).status_code == 302
    team = Team.objects.get(name="Canary team")
    # The coordinator joins first: the move takes off whoever held the key only through the
    # previous team (re-sealing the details), and is refused if nobody would be left.
    assert console.post(f"/teams/{team.pk}/members/", {"member": coordinator.member.pk}).status_code == 200
    assert console.post(f"/teams/{team.pk}/cases/", {"case": case.public_id}).status_code == 200
    assert console.post(f"/teams/{team.pk}/members/", {"member": staff.member.pk}).status_code == 200
    assert console.post(f"/teams/{team.pk}/members/{staff.member.pk}/remove/").status_code == 200
    assert console.post(f"/teams/{team.pk}/members/", {"member": staff.member.pk}).status_code == 200
    assert console.get("/team-cases/").status_code == 200
    assert console.post("/pending-keys/").status_code == 302


@dataclass
class Scenario:
    canaries: Canaries
    sessions: list[FaceClient]  # kept logged in so their session rows are searched too


def staff_writes_in_the_cover_conversation(
    canaries: Canaries, console: FaceClient, case: Case, forced_phrase: str
) -> None:
    """A reply in the decoy, read by whoever logs in with the danger word."""
    cover = canaries.pair("cover conversation reply")
    response = console.post(f"/cases/{case.public_id}/decoy-reply/", {"decoy_body": cover})
    assert response.status_code == 302, response.content[:3000]
    assert cover in console.get(f"/cases/{case.public_id}/").content.decode()
    captors = FaceClient(INTAKE)
    assert captors.post("/login/", {"codename": forced_phrase}).status_code == 302
    assert cover in captors.get("/conversation/").content.decode()
    assert captors.post("/logout/").status_code == 302


def matrix_address(canaries: Canaries, console: FaceClient) -> None:
    """A staff member's Matrix room id: an address, encrypted like e-mail addresses."""
    room_id = canaries.add("matrix room id", f"!{latin_canary()}:hotline.example.org")
    bot = {"SP_MATRIX_HOMESERVER": "https://matrix.example.org", "SP_MATRIX_USER_ID": "@bot:example.org"}
    with override_settings(**bot, SP_MATRIX_ACCESS_TOKEN="syt_canary_test"):
        saved = console.post("/account/notifications/", {"channel": "matrix", "address": room_id})
        assert saved.status_code == 302
        assert room_id in console.get("/account/notifications/").content.decode()


def run_every_input(coordinator: Staff) -> Scenario:
    canaries = Canaries()
    password = canaries.pair("staff password")
    notify_address = canaries.add("notification e-mail typed at sign-up", f"{latin_canary()}@hotline.example.org")
    staff = staff_signs_up_through_an_invitation(coordinator, password, notify_address)
    console = staff.console()

    # Someone who only looked at a codename: it waits in their session vault.
    onlooker = FaceClient(INTAKE)
    add_codename(canaries, "pending codename", codename_from_start_page(onlooker))

    intake = FaceClient(INTAKE)
    codename = codename_from_start_page(intake)
    # The danger word comes from the codename's own list: a long one (8 letters, 16 bytes),
    # typed in capitals, so that it cannot turn up by chance in what is searched.
    long_words = [word for word in sealbox.wordlist("ru") if len(word) == 8 and word not in codename.split()]
    danger_word = canaries.add("danger word (as typed)", secrets.choice(long_words).upper())
    canaries.add("danger word (normalised)", sealbox.normalise_codename(danger_word))
    first = {
        "urgency": "danger_now",
        "region": "chechnya",
        "help_kinds": ["leave_region", "legal"],
        "message": canaries.pair("first message"),
        "contact_kind": "signal",
        "contact_value": canaries.pair("contact value"),
        "cover_phrase": canaries.pair("cover phrase"),
        "duress_word": danger_word,
        "decoy_opening": canaries.pair("first message of the cover conversation"),
        "attachments": [attachment(canaries, "first photo", "png"), attachment(canaries, "first document", "pdf")],
    }
    response = intake.post("/request/", first)
    assert response.status_code == 302 and response["Location"] == "/conversation/", response.content[:3000]
    conversation = intake.get("/conversation/").content.decode()
    assert first["message"] in conversation and first["attachments"][1].name in conversation

    case = Case.objects.get()
    page = console.get(f"/cases/{case.public_id}/").content.decode()
    assert first["message"] in page and first["contact_value"] in page and first["cover_phrase"] in page
    files = re.findall(r'href="(/cases/[^"]+/files/[^"]+/)"', page)
    assert len(files) == 2
    downloaded = {b"".join(console.get(url).streaming_content) for url in files}
    sent = [upload.file.getvalue() for upload in first["attachments"]]
    # Staff get the files without their metadata (scrub); a coordinator opens them as sent.
    assert downloaded == {cleaned(data) for data in sent}
    originals = coordinator.console()
    assert {b"".join(originals.get(f"{url}original/").streaming_content) for url in files} == set(sent)
    reply = canaries.pair("staff reply")
    assert console.post(f"/cases/{case.public_id}/reply/", {"body": reply}).status_code == 302
    hostile = {"hostile_relative": "on", "hostile_note": canaries.pair("hostile relative note")}
    hostile["revision"] = str(Case.objects.get(pk=case.pk).revision)
    assert console.post(f"/cases/{case.public_id}/flags/", {**hostile, "no_contact_via": ["phone"]}).status_code == 302
    assert hostile["hostile_note"] in console.get(f"/cases/{case.public_id}/").content.decode()
    assert console.get("/inbox/").status_code == 200

    assert intake.post("/logout/").status_code == 302
    person = FaceClient(INTAKE)
    typed_again = "  " + codename.title().replace(" ", " - ") + "."
    assert person.post("/login/", {"codename": typed_again}).status_code == 302
    assert reply in person.get("/conversation/").content.decode()
    later = {
        "message": canaries.pair("later message"),
        "attachments": attachment(canaries, "later", "pdf", padding=300_000),
    }
    assert person.post("/conversation/", later).status_code == 302
    conversation = person.get("/conversation/").content.decode()
    assert later["message"] in conversation
    file_id = re.findall(r'name="attachment" value="([^"]+)"', conversation)[-1]
    download = person.post("/conversation/file/", {"attachment": file_id})
    assert b"".join(download.streaming_content) == cleaned(later["attachments"].file.getvalue())

    # Captors force the danger-word login and write something (last: the real codename
    # shows only what is written after it from then on).
    forced_phrase = ", ".join([*codename.upper().split()[:-1], danger_word])
    add_codename(canaries, "codename", codename, forced_phrase, typed_again)
    canaries.add("duress phrase (normalised)", sealbox.normalise_codename(forced_phrase))
    captors = FaceClient(INTAKE)
    assert captors.post("/login/", {"codename": forced_phrase}).status_code == 302
    assert first["decoy_opening"] in captors.get("/conversation/").content.decode()
    under_duress = canaries.pair("message after duress")
    assert captors.post("/conversation/", {"message": under_duress}).status_code == 302
    assert captors.post("/logout/").status_code == 302
    case.refresh_from_db()
    assert case.under_duress_since is not None
    assert under_duress in console.get(f"/cases/{case.public_id}/").content.decode()

    teams_change_hands(coordinator, staff, case)
    notes_tasks_and_reply_drafts(canaries, console, staff, coordinator, case)
    evidence_inputs(canaries, case, console)
    staff_writes_in_the_cover_conversation(canaries, console, case, forced_phrase)
    matrix_address(canaries, coordinator.console())  # the newcomer keeps the e-mail given at sign-up
    vetting_inputs(canaries, case, console, coordinator.console())
    sensitive_chooser_draft(canaries, case, console)
    money_paid_out(canaries, case, console, coordinator.console())

    evacuation_plan_inputs(canaries, case, console, coordinator)
    checkins_inputs(canaries, case, console)
    safe_house_inputs(canaries, case, console, coordinator.console())
    handoff_inputs(canaries, case, coordinator.console())
    safe_house_edit_inputs(canaries, coordinator.console())

    # Mistyped secrets are secrets too.
    wrong_phrase = canaries.add("wrong codename", " ".join(cyrillic_letters(12) for _ in range(6)))
    assert FaceClient(INTAKE).post("/login/", {"codename": wrong_phrase}).status_code == 400
    wrong_password = canaries.pair("wrong staff password")
    bad_login = {"username": staff.member.username, "password": wrong_password, "code": staff.code()}
    assert FaceClient(CONSOLE).post("/login/", bad_login).status_code == 400
    pasted = {"head": canaries.pair("text pasted into the audit log's check")}
    assert coordinator.console().post("/audit/check/", pasted).status_code == 400
    return Scenario(canaries, [onlooker, person, console])


def evidence_inputs(canaries: Canaries, case: Case, console: FaceClient) -> None:
    """The evidence locker: the person's words of consent (recorded, and typed into a form
    refused for naming no use), a testimony and its title, a kept message's title, the item
    read back on its page, and a testimony typed into a form refused after the consent was
    withdrawn."""
    cases = f"/cases/{case.public_id}"
    refused_words = canaries.pair("consent words typed into a refused form")
    refused = console.post(f"{cases}/evidence/consents/", {"how": refused_words})
    assert refused.status_code == 400 and refused_words in html.unescape(refused.content.decode())
    words = canaries.pair("consent words")
    consent = {"uses": ["journalists", "international"], "redacted_only": "on", "how": words}
    assert console.post(f"{cases}/evidence/consents/", consent).status_code == 302
    section = html.unescape(console.get(f"{cases}/?section=evidence&messages=1").content.decode())
    assert words in section
    consent_id = re.search(rf'action="{cases}/evidence/consents/([^/]+)/withdraw/"', section)
    message_id = re.search(r'name="message" value="([^"]+)"', section)
    assert consent_id is not None and message_id is not None, section[:3000]
    title, testimony = canaries.pair("testimony title"), canaries.pair("testimony")
    kept = {"title": title, "text": testimony, "consent": consent_id.group(1)}
    assert console.post(f"{cases}/evidence/testimonies/", kept).status_code == 302
    message = {"message": message_id.group(1), "title": canaries.pair("kept message title")}
    assert console.post(f"{cases}/evidence/messages/", {**message, "consent": consent_id.group(1)}).status_code == 302
    section = console.get(f"{cases}/?section=evidence").content.decode()
    item_url = re.search(rf'href="({cases}/evidence/[0-9a-f-]{{36}}/)"', section)
    assert item_url is not None, section[:3000]
    item = html.unescape(console.get(item_url.group(1)).content.decode())
    assert (title in item and testimony in item) or message["title"] in item
    redacted_copy_and_export(canaries, case, console, title, testimony)
    withdrawn = console.post(f"{cases}/evidence/consents/{consent_id.group(1)}/withdraw/", {"confirm": "on"})
    assert withdrawn.status_code == 302
    late = {**kept, "text": canaries.pair("testimony typed after the consent was withdrawn")}
    refused = console.post(f"{cases}/evidence/testimonies/", late)
    assert refused.status_code == 400 and late["text"] in html.unescape(refused.content.decode())


def redacted_copy_and_export(canaries: Canaries, case: Case, console: FaceClient, title: str, testimony: str) -> None:
    """The testimony's redacted copy (text typed to be taken out: once not in the original, so
    refused in place, once a part of it), an event (its title and victim, typed once into a
    refused form too) and an export package (the recipient's name, typed once into a refused
    form), with the package's page listing it afterwards."""
    cases = f"/cases/{case.public_id}"
    section = html.unescape(console.get(f"{cases}/?section=evidence").content.decode())
    item_id = re.search(rf'href="{cases}/evidence/([0-9a-f-]{{36}})/">{re.escape(title)}</a>', section)
    assert item_id is not None, section[:3000]
    review = f"{cases}/evidence/{item_id.group(1)}/redaction/"
    assert console.post(f"{cases}/evidence/{item_id.group(1)}/redact/")["Location"] == review
    page = html.unescape(console.get(review).content.decode())
    revision = re.search(r'name="revision" value="(\d+)"', page)
    assert revision is not None, page[:3000]
    missing = canaries.pair("text typed to be taken out, not in the original")
    form = {"revision": revision.group(1), "add_text": missing, "add_label": "PERSON", "approve": "1"}
    refused = console.post(review, form)
    assert refused.status_code == 400 and missing in html.unescape(refused.content.decode())
    taken_out = canaries.add("text typed to be taken out", testimony.split()[1])  # its Cyrillic canary
    assert console.post(review, {**form, "add_text": taken_out}).status_code == 302

    events = f"{cases}/evidence/events/"
    event = {"title": canaries.pair("event title"), "date": "2017-03", "precision": "month", "act_type": "arrest",
             "source_type": "victim", "reliability": "medium"}  # fmt: skip
    refused = console.post(events, event)  # no victim
    assert refused.status_code == 400 and event["title"] in html.unescape(refused.content.decode())
    event["victim"] = canaries.pair("event victim")
    assert console.post(events, event).status_code == 302

    export = f"{cases}/evidence/export/"
    page = console.get(export).content.decode()
    chosen = {"items": re.findall(r'name="items" value="([^"]+)"', page),
              "events": re.findall(r'name="events" value="([^"]+)"', page)}  # fmt: skip
    assert len(chosen["items"]) == 1 and len(chosen["events"]) == 1, page[:3000]
    not_agreed = {**chosen, "recipient_kind": "prosecutors", "recipient_name": canaries.pair("refused recipient")}
    refused = console.post(export, not_agreed)
    assert refused.status_code == 400 and not_agreed["recipient_name"] in html.unescape(refused.content.decode())
    recipient = canaries.pair("export recipient")
    package = console.post(export, {**chosen, "recipient_kind": "journalists", "recipient_name": recipient})
    assert package.status_code == 200 and package["Content-Type"] == "application/zip"
    assert recipient in html.unescape(console.get(export).content.decode())


def _verify_for_planning(case: Case, coordinator: Staff) -> None:
    """A second verifier is given the case key and signs off (after the coordinator's sign-off
    above), then the coordinator marks the case verified: plans exist only for verified cases."""
    verifier = make_staff("canary-verifier", role=Role.VERIFIER, invited_by=coordinator)
    lead = coordinator.console()
    url = f"/cases/{case.public_id}/"
    assert lead.post(f"{url}members/", {"member": verifier.member.pk}).status_code == 302
    assert verifier.console().post(f"{url}vetting/sign-off/", {"reason": "ok"}).status_code == 302
    case.refresh_from_db()
    moved = lead.post(f"{url}state/", {"to_state": "verified", "reason": "", "revision": case.revision})
    assert moved.status_code == 302, moved.content[:3000]


def evacuation_plan_inputs(canaries: Canaries, case: Case, console: FaceClient, coordinator: Staff) -> None:
    """A leg's places and notes (new, changed, and typed into a refused conflicting change and
    a form shown again to see a destination's rules). Destinations and plan templates are
    organisation knowledge stored in plaintext by design (generic places, public rules), so
    their text is no canary."""
    _verify_for_planning(case, coordinator)
    plan_url = f"/cases/{case.public_id}/plan/"
    assert console.post(plan_url).status_code == 302
    assert coordinator.console().post("/destinations/", {"country": "Canaryland"}).status_code == 302
    leg = {
        "mode": "rail",
        "from_place": canaries.pair("leg from"),
        "to_place": canaries.pair("leg to"),
        "notes": canaries.pair("leg notes"),
        "planned_departure": "2026-12-01",
        "documents": ["tickets"],
    }
    destination = Destination.objects.get(country="Canaryland").pk
    shown = console.post(f"{plan_url}legs/", {**leg, "destination": destination, "show_rules": "1"})
    assert shown.status_code == 200 and leg["notes"] in html.unescape(shown.content.decode())
    assert console.post(f"{plan_url}legs/", leg).status_code == 302
    page = console.get(plan_url).content.decode()
    assert leg["from_place"] in html.unescape(page)
    leg_url = re.search(rf'href="({plan_url}legs/[^/]+/)"', page)
    assert leg_url is not None, page[:3000]
    changed = {**leg, "to_place": canaries.pair("leg to, changed"), "revision": "1"}
    assert console.post(leg_url.group(1), changed).status_code == 302
    stale = {**leg, "notes": canaries.pair("leg notes in a refused conflicting change"), "revision": "1"}
    refused = console.post(leg_url.group(1), stale)
    assert refused.status_code == 409 and stale["notes"] in html.unescape(refused.content.decode())
    progress = {"status": "under_way", "actual_departure": "2026-12-02", "doc_tickets": "ready", "revision": "2"}
    assert console.post(f"{leg_url.group(1)}progress/", progress).status_code == 302


def checkins_inputs(canaries: Canaries, case: Case, console: FaceClient) -> None:
    """The check-in schedule's partner contact address and the reference agreed with the partner
    (kept too when the form is refused), and the information a fate status was set on."""
    cases = f"/cases/{case.public_id}"
    partner = canaries.add("check-in partner e-mail", f"canary-{uuid.uuid4().hex}@partner.example.org")
    reference = canaries.pair("check-in partner reference")
    first = {"preset": "custom", "grace_minutes": "30", "partner_address": partner, "partner_reference": reference}
    refused = console.post(f"{cases}/checkins/schedule/", first)
    assert refused.status_code == 400 and partner in refused.content.decode()
    assert reference in html.unescape(refused.content.decode())
    form = {"preset": "24", "grace_minutes": "30", "active": "on", "partner_address": partner}
    form |= {"partner_reference": reference, "partner_language": "ru"}
    assert console.post(f"{cases}/checkins/schedule/", form).status_code == 302
    information = canaries.pair("fate status information")
    assert console.post(f"{cases}/fate/", {"status": "detained", "information": information}).status_code == 302
    refused_information = canaries.pair("fate status information typed into a refused form")
    refused = console.post(f"{cases}/fate/", {"status": "no-such-status", "information": refused_information})
    assert refused.status_code == 400 and refused_information in html.unescape(refused.content.decode())
    page = html.unescape(console.get(f"{cases}/?section=checkins").content.decode())
    assert information in page and partner in page and reference in page


def _revision(page: str) -> str:
    found = re.search(r'name="revision" value="(\d+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def notes_tasks_and_reply_drafts(
    canaries: Canaries, console: FaceClient, staff: Staff, coordinator: Staff, case: Case
) -> None:
    """Case notes and tasks (new, edited, and typed into a refused conflicting edit), and a
    reply draft sent through a canned reply's "Insert" button. Canned replies themselves are
    organisation templates stored in plaintext by design, so their text is no canary."""
    cases = f"/cases/{case.public_id}"
    note = canaries.pair("case note")
    assert console.post(f"{cases}/notes/", {"body": note}).status_code == 302
    note_id = re.search(rf'href="{cases}/notes/([^/]+)/edit/"', console.get(f"{cases}/?section=notes").content.decode())
    assert note_id is not None
    edit_url = f"{cases}/notes/{note_id.group(1)}/edit/"
    assert note in html.unescape(console.get(edit_url).content.decode())
    edited = canaries.pair("edited case note")
    assert console.post(edit_url, {"body": edited, "revision": "1"}).status_code == 302
    conflicted = canaries.pair("case note typed into a conflicting edit")
    refused = console.post(edit_url, {"body": conflicted, "revision": "1"})
    assert refused.status_code == 409 and conflicted in html.unescape(refused.content.decode())

    task = {"title": canaries.pair("task title"), "detail": canaries.pair("task detail"), "due": "2031-05-04"}
    assert console.post(f"{cases}/tasks/", {**task, "owner": staff.member.pk}).status_code == 302
    task_id = re.search(rf'href="{cases}/tasks/([^/]+)/edit/"', console.get(f"{cases}/?section=notes").content.decode())
    assert task_id is not None
    task_url = f"{cases}/tasks/{task_id.group(1)}/edit/"
    changed = {"title": canaries.pair("edited task title"), "detail": canaries.pair("edited task detail")}
    revision = _revision(console.get(task_url).content.decode())
    form = {**changed, "due": "", "owner": staff.member.pk, "revision": revision}
    assert console.post(task_url, form).status_code == 302
    page = html.unescape(console.get("/tasks/").content.decode())
    assert changed["title"] in page and changed["detail"] in page
    page = html.unescape(console.get(f"{cases}/?section=notes").content.decode())
    assert edited in page and changed["title"] in page

    form = {"language": "ru", "title": "Ждите ответа", "body": "Мы напишем вам сегодня вечером."}
    assert coordinator.console().post("/canned/", form).status_code == 302
    canned = re.search(r'name="canned" value="(\d+)"', console.get(f"{cases}/").content.decode())
    assert canned is not None, "the case's language has a canned reply to insert"
    draft = canaries.pair("reply draft sent with a canned reply's Insert button")
    filled = console.post(f"{cases}/canned/insert/", {"body": draft, "canned": canned.group(1)})
    assert filled.status_code == 200
    assert f"{draft}\n\nМы напишем вам сегодня вечером." in html.unescape(filled.content.decode())


def vetting_inputs(canaries: Canaries, case: Case, caseworker: FaceClient, coordinator: FaceClient) -> None:
    """Checklist note, sign-off reason (kept and refused), sensitive item text, a reply draft
    refused for holding it, and red-flag values of every kind."""
    case_url = f"/cases/{case.public_id}/"
    note = canaries.pair("vetting note")
    assert caseworker.post(f"{case_url}vetting/check/", {"item": "interview", "note": note}).status_code == 302
    for state in ("triaged", "vetting"):
        case.refresh_from_db()
        moved = caseworker.post(f"{case_url}state/", {"to_state": state, "reason": "", "revision": case.revision})
        assert moved.status_code == 302
    reason = canaries.pair("sign-off reason")
    assert coordinator.post(f"{case_url}vetting/sign-off/", {"reason": reason}).status_code == 302
    page = coordinator.get(f"{case_url}?section=vetting").content.decode()
    assert note in page and reason in page
    twice = canaries.pair("refused second sign-off reason")
    assert coordinator.post(f"{case_url}vetting/sign-off/", {"reason": twice}).status_code == 400

    item = canaries.pair("sensitive item")
    assert coordinator.post("/sensitive/", {"kind": "safe_house", "text": item}).status_code == 302
    assert item in coordinator.get("/sensitive/").content.decode()
    draft = f"{canaries.pair('refused reply draft')} {item}"
    refused = caseworker.post(f"{case_url}reply/", {"body": draft})
    assert refused.status_code == 400 and draft in html.unescape(refused.content.decode())
    kept = canaries.pair("draft kept by a refused insert")
    assert caseworker.post(f"{case_url}sensitive/insert/", {"body": kept, "sensitive_item": "1"}).status_code == 400

    digits = "".join(secrets.choice("0123456789") for _ in range(9))
    phone = canaries.add("red-flag phone (as typed)", f"+7 (9{digits[:2]}) {digits[2:5]}-{digits[5:7]}-{digits[7:]}")
    canaries.add("red-flag phone (normalised)", f"79{digits}")
    handle = canaries.add("red-flag handle", f"@canary_{uuid.uuid4().hex}")
    phrase = canaries.pair("red-flag phrase")
    for kind, value in (("phone", phone), ("handle", handle), ("phrase", phrase)):
        assert coordinator.post("/red-flags/", {"kind": kind, "value": value}).status_code == 302
    refused_flag = canaries.pair("refused red-flag value")
    assert coordinator.post("/red-flags/", {"kind": "phone", "value": refused_flag}).status_code == 400


def safe_house_inputs(canaries: Canaries, case: Case, caseworker: FaceClient, coordinator: FaceClient) -> None:
    """A safe house's address and notes (kept, and typed into a form refused for its code
    name), read back on the audited address page, and a reply draft refused for holding the
    address (the case is not verified)."""
    refused = {
        "code_name": "Grozny flat",
        "capacity": "2",
        "address": canaries.pair("refused safe-house address"),
        "notes": canaries.pair("refused safe-house notes"),
    }
    assert coordinator.post("/safe-houses/", refused).status_code == 400
    address, notes = canaries.pair("safe-house address"), canaries.pair("safe-house notes")
    created = coordinator.post(
        "/safe-houses/", {"code_name": "Canary", "capacity": "2", "address": address, "notes": notes}
    )
    assert created.status_code == 302
    page = html.unescape(coordinator.post(f"{created['Location']}address/").content.decode())
    assert address in page and notes in page
    draft = f"{canaries.pair('reply draft with a safe-house address')} {address}"
    stopped = caseworker.post(f"/cases/{case.public_id}/reply/", {"body": draft})
    assert stopped.status_code == 400 and draft in html.unescape(stopped.content.decode())


def safe_house_edit_inputs(canaries: Canaries, coordinator: FaceClient) -> None:
    """A safe house's changed address and notes: saved, typed into a form refused for its code
    name, and typed into a form refused as stale (someone saved in between)."""
    created = coordinator.post(
        "/safe-houses/",
        {"code_name": "Canary edit", "capacity": "2", "address": canaries.pair("address before an edit"), "notes": ""},
    )
    assert created.status_code == 302
    edit = f"{created['Location']}edit/"
    assert coordinator.post(edit, {"reveal": "1"}).status_code == 200
    typed = {"capacity": "3", "with_address": "True"}
    refused = {
        **typed,
        "code_name": "Grozny flat",
        "revision": "1",
        "address": canaries.pair("refused edited address"),
        "notes": canaries.pair("refused edited notes"),
    }
    assert coordinator.post(edit, refused).status_code == 400
    address, notes = canaries.pair("edited safe-house address"), canaries.pair("edited safe-house notes")
    saved = coordinator.post(
        edit, {**typed, "code_name": "Canary edit", "revision": "1", "address": address, "notes": notes}
    )
    assert saved.status_code == 302
    stale = {
        **typed,
        "code_name": "Canary edit",
        "revision": "1",
        "address": canaries.pair("stale edited address"),
        "notes": canaries.pair("stale edited notes"),
    }
    assert coordinator.post(edit, stale).status_code == 409
    page = html.unescape(coordinator.post(f"{created['Location']}address/").content.decode())
    assert address in page and notes in page


def sensitive_chooser_draft(canaries: Canaries, case: Case, caseworker: FaceClient) -> None:
    """The reply draft carried to the page that lists sensitive items (refused here: the case
    is not verified and is under duress)."""
    draft = canaries.pair("draft carried to the sensitive-item chooser")
    assert caseworker.post(f"/cases/{case.public_id}/sensitive/", {"body": draft}).status_code == 403


def money_paid_out(canaries: Canaries, case: Case, caseworker: FaceClient, coordinator: FaceClient) -> None:
    """Payee descriptions (new, edited, typed into a conflicting edit and into a form stopped at
    the budget) and a coordinator's reasons (approval, rejection, and one refused)."""
    funds = f"/cases/{case.public_id}/funds/"
    assert coordinator.post(f"{funds}budget/", {"amount": "2000000", "currency": "RUB"}).status_code == 302
    form = {"category": "housing", "amount": "1500000", "currency": "RUB", "paid_on": "2026-01-05"}
    payee = canaries.pair("payee description")
    assert caseworker.post(funds, {**form, "payee": payee}).status_code == 302
    page = html.unescape(caseworker.get(f"/cases/{case.public_id}/?section=money").content.decode())
    entry_id = re.search(rf'href="{funds}([^/]+)/edit/"', page)
    assert entry_id is not None and payee in page
    edit_url = f"{funds}{entry_id.group(1)}/edit/"
    edited = canaries.pair("edited payee description")
    assert caseworker.post(edit_url, {**form, "payee": edited, "revision": "1"}).status_code == 302
    conflicted = canaries.pair("payee description typed into a conflicting edit")
    refused = caseworker.post(edit_url, {**form, "payee": conflicted, "revision": "1"})
    assert refused.status_code == 409 and conflicted in html.unescape(refused.content.decode())
    stopped = canaries.pair("payee description stopped at the budget")
    warned = caseworker.post(funds, {**form, "amount": "600000", "payee": stopped})
    assert warned.status_code == 409 and stopped in html.unescape(warned.content.decode())

    approval = canaries.pair("approval reason")
    decide = f"{funds}{entry_id.group(1)}/decide/"
    assert coordinator.post(decide, {"decision": "approve", "reason": approval}).status_code == 302
    late = canaries.pair("reason refused because already decided")
    assert coordinator.post(decide, {"decision": "reject", "reason": late}).status_code == 400
    second = {**form, "amount": "100000", "payee": canaries.pair("second payee description")}
    assert caseworker.post(funds, second).status_code == 302
    page = html.unescape(coordinator.get(f"/cases/{case.public_id}/?section=money").content.decode())
    assert edited in page and approval in page
    waiting = re.findall(rf'action="{funds}([^/]+)/decide/"', page)
    assert len(waiting) == 1
    rejection = canaries.pair("rejection reason")
    assert (
        coordinator.post(f"{funds}{waiting[0]}/decide/", {"decision": "reject", "reason": rejection}).status_code == 302
    )
    assert rejection in html.unescape(caseworker.get(f"/cases/{case.public_id}/?section=money").content.decode())
    assert coordinator.get("/funds/").status_code == 200
    exported = b"".join(coordinator.get("/funds/export.csv").streaming_content).decode()
    assert case.public_id in exported and not any(text in exported for text in (payee, edited, approval, rejection))


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


def test_the_search_finds_a_secret_in_every_encoding() -> None:
    secret = cyrillic_canary()
    needles = needles_for("secret", secret)
    raw = secret.encode()
    for prefix in (b"", b"x", b"xy", b"xyz"):
        for encoded in (base64.b64encode(prefix + raw + b"tail"), base64.urlsafe_b64encode(prefix + raw)):
            assert find_needles(b"<" + encoded + b">", needles), (prefix, encoded)
    for hidden in (
        secret.encode("utf-16-le"),
        b"\\x" + raw.hex().encode(),
        json.dumps({"k": secret}).encode(),
        re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps({"k": secret})).encode(),
    ):
        assert find_needles(b"..." + hidden + b"...", needles), hidden
    assert not find_needles(base64.b64encode(b"unrelated " * 20), needles)


@pytest.mark.django_db(transaction=True)
def test_no_input_is_stored_or_logged_in_plaintext(
    coordinator: Staff, all_logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    log_file = LogFile()
    scenario = run_every_input(coordinator)
    # The audit rows are part of the database searched below: the scenario must have made them.
    audited = set(AuditEntry.objects.values_list("action", flat=True))
    assert audited >= {
        "login",
        "login_failed",
        "case_view",
        "case_reply",
        "attachment_download",
        "attachment_original_download",
        "invite_create",
    }

    # Controls: markers put in each place on purpose, which the same search must find.
    controls = Canaries()
    Team.objects.create(name=controls.add("team name (latin)", latin_canary()))
    Team.objects.create(name=controls.add("team name (cyrillic)", cyrillic_canary()))
    Case.objects.create(urgency="safe_for_now", details_ct=controls.add("bytes column", latin_canary()).encode())
    Team.objects.create(name=controls.add("control in the backup", cyrillic_canary()))
    logging.getLogger("tests.canary").debug("control %s", controls.add("debug log line", cyrillic_canary()))
    hidden = controls.add("base64 in a log line", latin_canary())
    logging.getLogger("tests.canary").info("control %s", base64.b64encode(b"z" + hidden.encode()).decode())
    session = SessionStore()
    session["control"] = controls.add("session value", cyrillic_canary())
    session.create()
    stray = Path(settings.SP_FILE_STORE) / f"control-{uuid.uuid4().hex}"
    stray.write_bytes(controls.add("file in the store", latin_canary()).encode("utf-16-le"))

    try:
        places = {
            "database": database_places(),
            "file store": file_places(Path(settings.SP_FILE_STORE)),
            "log file": log_file.places(),
            "log records": log_record_places(all_logs.records),
            "sessions": session_places(),
        }
        database = str(connection.settings_dict["NAME"])
        searched = {Path(database), Path(f"{database}-wal"), Path(f"{database}-shm"), log_file.path}
        searched |= set(Path(settings.SP_FILE_STORE).rglob("*"))
        places["var"] = file_places(Path(settings.VAR_DIR), skip=searched)
        # A backup made now (backups/): its bytes as written, and what the offline identity opens.
        identity = pyrage.x25519.Identity.generate()
        backup = tmp_path / "backup.age"
        backup_write(backup, recipient=str(identity.to_public()))
        places["backup file"], places["backup contents"] = backup_places(backup, identity)
    finally:
        stray.unlink()

    expected_in = {
        "team name (latin)": "database",
        "team name (cyrillic)": "database",
        "bytes column": "database",
        "control in the backup": "backup contents",
        "debug log line": "log file",
        "base64 in a log line": "log file",
        "session value": "sessions",
        "file in the store": "file store",
    }
    for label, group in expected_in.items():
        assert search_places(places[group], needles_for(label, controls.secrets[label])), (
            f"control {label!r} not found in {group}"
        )
    assert search_places(places["log records"], needles_for("x", controls.secrets["debug log line"])), (
        "caplog missed a record"
    )
    # Encrypted as written: not even what the database holds in plain shows in the backup file.
    database_controls = [
        needle
        for label in ("team name (latin)", "bytes column")
        for needle in needles_for(label, controls.secrets[label])
    ]
    assert not search_places(places["backup file"], database_controls)

    leaks = [str(finding) for group in places.values() for finding in search_places(group, scenario.canaries.needles())]
    assert not leaks, "plaintext found:\n" + "\n".join(leaks)


def handoff_inputs(canaries: Canaries, case: Case, coordinator: FaceClient) -> None:
    """Partner hand-off: the consent statement (kept, and typed into a refused export), and a
    received packet's conversation, notes and consent opened into a new case."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    import sealbox.handoff as handoff_packets
    from evacuation.handoff.models import OrgKeys, Partner

    assert coordinator.post("/handoff/keys/").status_code == 302
    box, signing = sealbox.KeyPair.generate(), sealbox.SigningKeyPair.generate()
    partner_keys = {"box_key": box.public_key.hex(), "verify_key": signing.public_key.hex()}
    assert coordinator.post("/handoff/partners/", {"name": "Canary partner", **partner_keys}).status_code == 302
    partner = Partner.objects.get(name="Canary partner")
    export = f"/cases/{case.public_id}/handoff/"
    form = {"partner": partner.pk, "fields": ["details", "conversation"]}
    refused = canaries.pair("refused hand-off consent")
    assert coordinator.post(export, {**form, "consent_how": refused, "consent_date": ""}).status_code == 400
    consent = canaries.pair("hand-off consent")
    downloaded = coordinator.post(export, {**form, "consent_how": consent, "consent_date": "2026-01-05"})
    assert downloaded.status_code == 200 and downloaded["Content-Disposition"].startswith("attachment;")
    payload = {
        "version": 1,
        "fields": ["conversation", "notes"],
        "consent": {"how": canaries.pair("received consent"), "date": "2026-01-05"},
        "conversation": [
            {"from": "person", "at": "2026-01-01T00:00:00+00:00", "body": canaries.pair("received message")}
        ],
        "notes": [{"at": "2026-01-02T00:00:00+00:00", "body": canaries.pair("received note")}],
    }
    packet = handoff_packets.packet_seal(
        payload,
        sender=handoff_packets.Identity(box.public_key, signing.public_key),
        sender_seed=signing.seed,
        recipient=OrgKeys.objects.get().identity,
    )
    opened = coordinator.post("/handoff/import/", {"partner": partner.pk, "packet": SimpleUploadedFile("p", packet)})
    assert opened.status_code == 302
    assert opened["Location"].startswith("/cases/")  # the coordinator is on the on-call team
    page = html.unescape(coordinator.get(opened["Location"]).content.decode())
    assert payload["notes"][0]["body"] in page and payload["conversation"][0]["body"] in page
