"""Who may reach which URL, generated from both URLconfs.

Every URL pattern of both faces is declared in MATRIX below with the outcome each persona gets
for GET and POST. A new view cannot ship without being declared here: the URLconfs are walked
and compared with the matrix, and a pattern the matrix does not know fails the suite.

Each persona is one browser (one cookie jar) used on both faces, which is stricter than
production, where the faces live on different hosts: a person's intake session presented to
the console, or a caseworker's console session presented to the intake, must open nothing.

Besides status codes and redirect targets, every response body is searched for the secrets of
the world (the person's message and file, the other person's message, the decoy conversation,
the case identifier, the codename). A secret may appear only where the matrix says so.

Staff personas of every role, each on the on-call team (whose coordinators and caseworkers are
given its new cases; its verifiers are given a case when vetting starts on it, so the caseworker
gives verifier_in the person's new case by name) and on another team: caseworker and outsider,
verifier_in and verifier_out, logistics_in and logistics_out, analyst_in and analyst_out, and
the coordinator.
Logistics staff read a case only while it is verified, so for the two logistics personas
{case} (and {revision}) name the world's verified case, which logistics_in was given: what they
may do there is what matters. Everyone else acts on the person's case, which is new.
"""

from __future__ import annotations

import copy
import html
import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from PIL import Image, PngImagePlugin

import scrub
from accounts import services as account_services
from accounts.models import Role, SignupLink, Team
from casenotes import services as notes_services
from casenotes.models import CannedReply, CaseNote, CaseTask
from casework import keys
from casework import services as casework_services
from casework.lifecycle import State, case_transition
from casework.models import Attachment, CaseKey, CaseNamedMember, Message
from core.certificates import certify
from core.views import STATIC_FILES
from evacuation.funds import services as funds_services
from evacuation.funds.models import LedgerEntry
from evacuation.handoff import services as handoff_services
from evacuation.plans import services as plan_services
from evacuation.plans.models import Destination, EvacuationPlan, Leg, PlanTemplate, TemplateLeg
from evidence import derivatives
from evidence import services as evidence_services
from evidence.models import Consent, EvidenceItem
from tests.personas import (
    CONSOLE,
    INTAKE,
    FaceClient,
    PersonAtRisk,
    Staff,
    make_coordinator,
    make_staff,
    open_case,
)
from vetting import services as vetting_services

FACES = {"intake": INTAKE, "console": CONSOLE}
STAFF_PERSONAS = (
    "caseworker",
    "outsider",
    "coordinator",
    "verifier_in",
    "verifier_out",
    "logistics_in",
    "logistics_out",
    "analyst_in",
    "analyst_out",
)
PERSON_PERSONAS = ("person", "person_under_duress", "other_person")
PERSONAS = ("anonymous", *PERSON_PERSONAS, *STAFF_PERSONAS)
# Staff personas of a role that reads a case only while it is verified: they act on the verified case.
ON_VERIFIED_CASE = ("logistics_in", "logistics_out")
METHODS = ("GET", "POST")

# The secrets searched for in every response. Each names strings (or bytes) of the world.
MESSAGE = "person's message and file name"
FILE = "person's file contents"  # as everyone who may read the file gets it: cleaned (scrub)
ORIGINAL = "person's file as sent, metadata and all"
OTHER = "other person's message"
DECOY = "decoy conversation"
CASE = "person's case identifier"
CODENAME = "person's codename"
NOTE = "staff note on the person's case"
TASK = "task on the person's case"
LEG = "place on the person's evacuation plan"
VERIFIED = "verified case's message"
EVIDENCE = "testimony kept in the person's evidence locker"
TITLE = "title of the testimony kept in the locker"  # shown alone where items are chosen
CONSENT = "person's words of consent"
SECRETS = (MESSAGE, FILE, OTHER, DECOY, CASE, CODENAME, NOTE, TASK, LEG, VERIFIED, ORIGINAL, EVIDENCE, TITLE, CONSENT)


def _png_with_metadata(marker: bytes) -> bytes:
    """A small real PNG whose text chunk (metadata, removed from the copy staff see) holds a
    marker no template could contain by accident; it comes before the pixels, so the cleaned
    file's bytes never appear whole inside the original."""
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", marker.decode())
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (12, 34, 56)).save(out, "PNG", pnginfo=text)
    assert out.getvalue().index(marker) < out.getvalue().index(b"IDAT")
    return out.getvalue()


ORIGINAL_MARKER = b"matrix-original-" + uuid.uuid4().hex.encode()
PNG = _png_with_metadata(ORIGINAL_MARKER)
CLEANED_PNG = scrub.clean(PNG, "image/png")


@dataclass(frozen=True)
class Expect:
    status: int
    location: str | None = None  # for redirects; may name world values as {case} or {quick_exit}
    sees: frozenset[str] = frozenset()  # secrets that must appear; every other secret must not


def ok(*sees: str) -> Expect:
    return Expect(200, sees=frozenset(sees))


def to(location: str) -> Expect:
    return Expect(302, location)


NOT_ALLOWED = Expect(405)
NOT_FOUND = Expect(404)
FORBIDDEN = Expect(403)
TO_INTAKE_LOGIN = to("/login/")
TO_CONSOLE_LOGIN = to("/login/")


def everyone(expect: Expect, **overrides: Expect) -> dict[str, Expect]:
    unknown = set(overrides) - set(PERSONAS)
    assert not unknown, f"unknown personas {unknown}"
    return {persona: overrides.get(persona, expect) for persona in PERSONAS}


def staff(expect: Expect, *, anonymous: Expect = TO_CONSOLE_LOGIN, **overrides: Expect) -> dict[str, Expect]:
    """Console pages behind staff_required: anyone without a staff session goes to the login."""
    by_persona = {persona: anonymous for persona in ("anonymous", *PERSON_PERSONAS)}
    by_persona.update({persona: expect for persona in STAFF_PERSONAS})
    by_persona.update(overrides)
    return by_persona


def people(expect: Expect, *, anonymous: Expect = TO_INTAKE_LOGIN, **overrides: Expect) -> dict[str, Expect]:
    """Intake pages behind the codename login: anyone without a person session goes to the login."""
    by_persona = {persona: anonymous for persona in ("anonymous", *STAFF_PERSONAS)}
    by_persona.update({persona: expect for persona in PERSON_PERSONAS})
    by_persona.update(overrides)
    return by_persona


@dataclass(frozen=True)
class Route:
    """One URL pattern: how to build a concrete URL and what each persona gets from it."""

    face: str
    name: str
    route: str
    get: Mapping[str, Expect]
    post: Mapping[str, Expect]
    kwargs: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, str] = field(default_factory=dict)  # the POST body, may name world values

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.face, self.name, self.route)


MATRIX = [
    # --- intake: the anonymous portal -----------------------------------------------------
    Route(
        "intake",
        "landing",
        "",
        get=everyone(ok(), **{p: to("/conversation/") for p in PERSON_PERSONAS}),
        post=everyone(NOT_ALLOWED),
    ),
    Route("intake", "start", "start/", get=everyone(ok()), post=everyone(NOT_ALLOWED)),
    Route(
        # Without a codename handed out by /start/ in this session there is nothing to request.
        "intake",
        "request",
        "request/",
        get=everyone(to("/start/")),
        # A form sent without one (the session ran out while it was filled in) gets the
        # expired page, which shows back what was typed.
        post=everyone(FORBIDDEN),
        data={"urgency": "danger_now", "region": "chechnya", "message": "A request from the matrix."},
    ),
    Route(
        # An empty phrase fails validation before any Argon2 derivation or failure count.
        "intake",
        "login",
        "login/",
        get=everyone(ok()),
        post=everyone(Expect(400)),
        data={"codename": ""},
    ),
    Route(
        "intake",
        "conversation",
        "conversation/",
        get=people(ok(), person=ok(MESSAGE), person_under_duress=ok(DECOY), other_person=ok(OTHER)),
        post=people(to("/conversation/"), anonymous=FORBIDDEN),  # the expired page, with the text
        data={"message": "A message from the matrix."},
    ),
    Route(
        "intake",
        "download",
        "conversation/file/",
        get=everyone(NOT_ALLOWED),
        post=people(NOT_FOUND, person=ok(FILE)),
        data={"attachment": "{attachment}"},
    ),
    Route(
        # The one-tap welfare check-in: a danger-word login gets the same confirmation (and
        # silently raises the alarm).
        "intake",
        "checkin",
        "checkin/",
        get=everyone(NOT_ALLOWED),
        post=people(ok()),
    ),
    Route(
        # "Delete what I wrote here": a danger-word login gets the same pages (and nothing is
        # deleted); each test runs in its own savepoint, so the world is whole for the next.
        "intake",
        "forget",
        "conversation/delete/",
        get=people(ok()),
        post=people(ok()),
    ),
    Route("intake", "logout", "logout/", get=everyone(NOT_ALLOWED), post=everyone(to("/"))),
    Route("intake", "exit", "exit/", get=everyone(to("{quick_exit}")), post=everyone(NOT_ALLOWED)),
    # How to get through a block: the same page for everyone, showing nothing about anyone.
    Route("intake", "connect", "connect/", get=everyone(ok()), post=everyone(NOT_ALLOWED)),
    Route(
        "intake",
        "language",
        "language/",
        get=everyone(NOT_ALLOWED),
        post=everyone(to("/")),
        data={"language": "en", "next": "/"},
    ),
    Route(
        # The static view answers any method; it only ever serves the public allowlisted files.
        "intake",
        "static",
        "static/<str:name>",
        get=everyone(ok()),
        post=everyone(ok()),
        kwargs={"name": "intake.css"},
    ),
    # --- console: the staff face ----------------------------------------------------------
    Route(
        # A sign-up link is itself the credential: whoever holds it sees the enrolment form.
        "console",
        "accounts:signup",
        "signup/<str:token>/",
        get=everyone(ok()),
        post=everyone(Expect(400)),
        kwargs={"token": "{signup_token}"},
    ),
    Route(
        "console", "accounts:enrol_totp", "enrol/totp/", get=everyone(TO_CONSOLE_LOGIN), post=everyone(TO_CONSOLE_LOGIN)
    ),
    Route(
        # The recovery key already exists, so even the coordinator is sent on to the inbox.
        "console",
        "accounts:recovery",
        "enrol/recovery/",
        get=staff(FORBIDDEN, coordinator=to("/inbox/")),
        post=staff(FORBIDDEN, coordinator=to("/inbox/")),
    ),
    Route(
        "console",
        "accounts:login",
        "login/",
        get=everyone(ok()),
        post=everyone(Expect(400)),
        data={"username": "", "password": "", "code": ""},
    ),
    Route("console", "accounts:logout", "logout/", get=everyone(NOT_ALLOWED), post=everyone(TO_CONSOLE_LOGIN)),
    Route(
        # An empty invite form is shown again (status 200) with its errors; no link is made.
        "console",
        "accounts:staff",
        "staff/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=ok()),
    ),
    Route(
        # The member's own account page: an empty password-change form is shown again with errors.
        "console",
        "accounts:account",
        "account/",
        get=staff(ok()),
        post=staff(Expect(400)),
    ),
    Route(
        # Shows how many recovery codes are left; an empty form (no password) makes none.
        "console",
        "accounts:recovery_codes",
        "account/recovery-codes/",
        get=staff(ok()),
        post=staff(Expect(400)),
    ),
    Route(
        # Ends every session of the member, this one included.
        "console",
        "accounts:sign_out_everywhere",
        "account/sign-out-everywhere/",
        get=staff(NOT_ALLOWED),
        post=everyone(TO_CONSOLE_LOGIN),
    ),
    Route("console", "casework:home", "", get=everyone(to("/inbox/")), post=everyone(NOT_ALLOWED)),
    Route(
        # Coordinators only; reading it is itself an audited action.
        "console",
        "audit:log",
        "audit/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        # Checking a point of the log written down off the server; an empty form checks nothing
        # and shows the page again with its error (the view is audited).
        "console",
        "audit:check_head",
        "audit/check/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
    ),
    Route(
        "console",
        "casework:inbox",
        "inbox/",
        get=staff(ok(), caseworker=ok(CASE), coordinator=ok(CASE), verifier_in=ok(CASE)),
        post=staff(NOT_ALLOWED),
    ),
    Route(
        "console",
        "casework:case",
        "cases/<str:public_id>/",
        # Staff see the decoy too, marked as such, to know what a captor was shown.
        get=staff(
            NOT_FOUND,
            caseworker=ok(MESSAGE, CASE, DECOY),
            coordinator=ok(MESSAGE, CASE, DECOY),
            verifier_in=ok(MESSAGE, CASE, DECOY),
            logistics_in=ok(VERIFIED),
        ),
        post=staff(NOT_ALLOWED),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        "console",
        "casework:reply",
        "cases/<str:public_id>/reply/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/"),
            coordinator=to("/cases/{case}/"),
            verifier_in=to("/cases/{case}/"),
            logistics_in=to("/cases/{case}/"),
        ),
        kwargs={"public_id": "{case}"},
        data={"body": "A reply from the matrix."},
    ),
    Route(
        # A caseworker or coordinator holding the key writes in the cover conversation that a
        # danger-word login shows (the world's person set a danger word).
        "console",
        "casework:decoy_reply",
        "cases/<str:public_id>/decoy-reply/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/"),
            coordinator=to("/cases/{case}/"),
            verifier_in=Expect(403, sees=frozenset({MESSAGE, CASE, DECOY})),
            logistics_in=Expect(403, sees=frozenset({VERIFIED})),
        ),
        kwargs={"public_id": "{case}"},
        data={"decoy_body": "A cover reply from the matrix."},
    ),
    Route(
        # A refused change (closing without a reason) names the case on its error page.
        "console",
        "triage:transition",
        "cases/<str:public_id>/state/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE})),
            coordinator=Expect(400, sees=frozenset({CASE})),
            verifier_in=Expect(400, sees=frozenset({CASE})),
            logistics_in=Expect(400),
        ),
        kwargs={"public_id": "{case}"},
        data={"to_state": "closed", "reason": "", "revision": "{revision}", "confirm_close": "on"},
    ),
    Route(
        "console",
        "triage:rota",
        "rota/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"member": ""},
    ),
    Route(
        "console",
        "triage:rota_delete",
        "rota/<int:shift_id>/delete/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"shift_id": "999999"},
    ),
    Route(
        "console",
        "casework:mark_read",
        "cases/<str:public_id>/read/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/inbox/"),
            coordinator=to("/inbox/"),
            verifier_in=to("/inbox/"),
            logistics_in=to("/inbox/"),
        ),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        # Only a holder of the key can hand it on (a verifier, or logistics on the verified case,
        # too); outsiders cannot even tell the case exists.
        "console",
        "casework:member_add",
        "cases/<str:public_id>/members/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=access"),
            coordinator=to("/cases/{case}/?section=access"),
            verifier_in=to("/cases/{case}/?section=access"),
            logistics_in=to("/cases/{case}/?section=access"),
        ),
        kwargs={"public_id": "{case}"},
        data={"member": "{outsider_member}"},
    ),
    Route(
        # Removing the caseworker rotates the key (the verifier still reads the case, so the
        # coordinator is not left alone); the caseworker removing herself leaves the case. A
        # verifier or logistics member may take nobody else off (can_remove_member): refused.
        "console",
        "casework:member_remove",
        "cases/<str:public_id>/members/<int:member_id>/remove/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/inbox/"),
            coordinator=to("/cases/{case}/?section=access"),
            verifier_in=Expect(400, sees=frozenset({CASE})),
            logistics_in=Expect(400),
        ),
        kwargs={"public_id": "{case}", "member_id": "{caseworker_member}"},
        data={"confirm": "on"},
    ),
    Route(
        # Coordinators see that every case exists, with its plaintext triage fields only.
        "console",
        "casework:cases_all",
        "all-cases/",
        get=staff(FORBIDDEN, coordinator=ok(CASE)),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        # The cases a member may know exist (casework.scopes), triage fields only; the outsider's
        # team has none. Links open only cases one holds the key for. Analysts have no case list.
        "console",
        "casework:cases_in_scope",
        "team-cases/",
        get=staff(
            ok(),
            caseworker=ok(CASE),
            coordinator=ok(CASE),
            verifier_in=ok(CASE),
            analyst_in=FORBIDDEN,
            analyst_out=FORBIDDEN,
        ),
        post=staff(NOT_ALLOWED),
    ),
    Route(
        # Coordinators only: the teams and a form for a new one (an empty name is refused).
        "console",
        "casework:teams",
        "teams/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"name": ""},
    ),
    Route(
        "console",
        "casework:team",
        "teams/<int:team_id>/",
        get=staff(FORBIDDEN, coordinator=ok(CASE)),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        kwargs={"team_id": "{on_call_team}"},
    ),
    Route(
        # The outsider joins the on-call team and is given the key of its cases at once.
        "console",
        "casework:team_member_add",
        "teams/<int:team_id>/members/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=ok(CASE)),
        kwargs={"team_id": "{on_call_team}"},
        data={"member": "{outsider_member}"},
    ),
    Route(
        # The caseworker leaves the on-call team: off its cases, each with a new key.
        "console",
        "casework:team_member_remove",
        "teams/<int:team_id>/members/<int:member_id>/remove/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=ok(CASE)),
        kwargs={"team_id": "{on_call_team}", "member_id": "{caseworker_member}"},
    ),
    Route(
        # The person's case moves to the outsider's team, whose members get its key.
        "console",
        "casework:team_case_assign",
        "teams/<int:team_id>/cases/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=ok(CASE)),
        kwargs={"team_id": "{other_team}"},
        data={"case": "{case}"},
    ),
    Route(
        # Every member with a case list sees the keys owed that they could hand on (none in the
        # world); the POST hands on whatever they hold. Analysts hold no case keys.
        "console",
        "casework:pending_keys",
        "pending-keys/",
        get=staff(ok(), analyst_in=FORBIDDEN, analyst_out=FORBIDDEN),
        post=staff(to("/pending-keys/"), analyst_in=FORBIDDEN, analyst_out=FORBIDDEN),
    ),
    Route(
        # GET asks for confirmation; POST disables the caseworker and rotates her cases' keys.
        "console",
        "casework:staff_disable",
        "staff/<int:member_id>/disable/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=to("/staff/")),
        kwargs={"member_id": "{caseworker_member}"},
    ),
    Route(
        # Hostile-family warnings live in the sealed details: only key holders set them.
        "console",
        "casework:flags",
        "cases/<str:public_id>/flags/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=state"),
            coordinator=to("/cases/{case}/?section=state"),
            verifier_in=Expect(403, sees=frozenset({CASE})),
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"hostile_relative": "on", "no_contact_via": "sms", "revision": "{revision}"},
    ),
    Route(
        # A key holder burns the codename and sees the new one once (never the old one).
        "console",
        "casework:codename_burn",
        "cases/<str:public_id>/codename/burn/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=ok(CASE),
            coordinator=ok(CASE),
            verifier_in=Expect(403, sees=frozenset({CASE})),
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"confirm": "on"},
    ),
    Route(
        # Lifting the duress state needs the case key and a reason; the world's case is not
        # under duress, so a holder's POST changes nothing and returns to the case.
        "console",
        "casework:duress_clear",
        "cases/<str:public_id>/duress/clear/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/"),
            coordinator=to("/cases/{case}/"),
            verifier_in=Expect(403, sees=frozenset({MESSAGE, CASE, DECOY})),
            logistics_in=Expect(403, sees=frozenset({VERIFIED})),
        ),
        kwargs={"public_id": "{case}"},
        data={"reason": "met_in_person", "confirm": "on"},
    ),
    Route(
        # Only a coordinator holding the key releases a reply held under duress.
        "console",
        "casework:message_release",
        "cases/<str:public_id>/messages/<uuid:message_id>/release/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=FORBIDDEN,
            coordinator=to("/cases/{case}/"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "message_id": "{held_message}"},
        data={"confirm": "on"},
    ),
    Route(
        "console",
        "casework:attachment",
        "cases/<str:public_id>/files/<uuid:attachment_id>/",
        get=staff(NOT_FOUND, caseworker=ok(FILE), coordinator=ok(FILE), verifier_in=ok(FILE)),
        post=staff(NOT_ALLOWED),
        kwargs={"public_id": "{case}", "attachment_id": "{attachment}"},
    ),
    Route(
        # The original, metadata and all, is for coordinators only, whoever else holds the case.
        "console",
        "casework:attachment_original",
        "cases/<str:public_id>/files/<uuid:attachment_id>/original/",
        get=staff(
            NOT_FOUND,
            caseworker=FORBIDDEN,
            coordinator=ok(ORIGINAL),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        post=staff(NOT_ALLOWED),
        kwargs={"public_id": "{case}", "attachment_id": "{attachment}"},
    ),
    # --- casenotes: notes, tasks and canned replies -------------------------------------------
    Route(
        "console",
        "casenotes:note_add",
        "cases/<str:public_id>/notes/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=notes"),
            coordinator=to("/cases/{case}/?section=notes"),
            verifier_in=to("/cases/{case}/?section=notes"),
            logistics_in=to("/cases/{case}/?section=notes"),
        ),
        kwargs={"public_id": "{case}"},
        data={"body": "A note from the matrix."},
    ),
    Route(
        # The caseworker wrote the world's note: only she may change it; other holders get 403.
        "console",
        "casenotes:note_edit",
        "cases/<str:public_id>/notes/<uuid:note_id>/edit/",
        get=staff(NOT_FOUND, caseworker=ok(CASE, NOTE), coordinator=FORBIDDEN, verifier_in=FORBIDDEN),
        post=staff(
            NOT_FOUND, caseworker=to("/cases/{case}/?section=notes"), coordinator=FORBIDDEN, verifier_in=FORBIDDEN
        ),
        kwargs={"public_id": "{case}", "note_id": "{note}"},
        data={"body": "A changed note from the matrix.", "revision": "1"},
    ),
    Route(
        "console",
        "casenotes:task_add",
        "cases/<str:public_id>/tasks/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=notes"),
            coordinator=to("/cases/{case}/?section=notes"),
            verifier_in=to("/cases/{case}/?section=notes"),
            logistics_in=to("/cases/{case}/?section=notes"),
        ),
        kwargs={"public_id": "{case}"},
        data={"title": "A task from the matrix.", "owner": "{caseworker_member}"},
    ),
    Route(
        # Any holder of the case key may change a task.
        "console",
        "casenotes:task_edit",
        "cases/<str:public_id>/tasks/<uuid:task_id>/edit/",
        get=staff(NOT_FOUND, caseworker=ok(CASE, TASK), coordinator=ok(CASE, TASK), verifier_in=ok(CASE, TASK)),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=notes"),
            coordinator=to("/cases/{case}/?section=notes"),
            verifier_in=to("/cases/{case}/?section=notes"),
        ),
        kwargs={"public_id": "{case}", "task_id": "{task}"},
        data={"title": "A changed task from the matrix.", "owner": "{caseworker_member}", "revision": "1"},
    ),
    Route(
        "console",
        "casenotes:task_done",
        "cases/<str:public_id>/tasks/<uuid:task_id>/done/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=notes"),
            coordinator=to("/cases/{case}/?section=notes"),
            verifier_in=to("/cases/{case}/?section=notes"),
        ),
        kwargs={"public_id": "{case}", "task_id": "{task}"},
        data={"done": "1"},
    ),
    Route(
        # The reply form's "Insert" buttons: the case page comes back with the reply box filled.
        "console",
        "casenotes:canned_insert",
        "cases/<str:public_id>/canned/insert/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=ok(MESSAGE, CASE, DECOY),
            coordinator=ok(MESSAGE, CASE, DECOY),
            verifier_in=ok(MESSAGE, CASE, DECOY),
            logistics_in=ok(VERIFIED),
        ),
        kwargs={"public_id": "{case}"},
        data={"body": "", "canned": "{canned}"},
    ),
    Route(
        # Each member's own open tasks, on cases they can read; the world's task is the caseworker's.
        "console",
        "casenotes:my_tasks",
        "tasks/",
        get=staff(ok(), caseworker=ok(CASE, TASK)),
        post=staff(NOT_ALLOWED),
    ),
    Route(
        # Organisation templates (plaintext, never case content): coordinators only.
        "console",
        "casenotes:canned",
        "canned/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"language": "", "title": "", "body": ""},
    ),
    Route(
        "console",
        "casenotes:canned_edit",
        "canned/<int:reply_id>/edit/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=to("/canned/")),
        kwargs={"reply_id": "{canned}"},
        data={"language": "en", "title": "Matrix reply", "body": "A changed canned reply.", "revision": "1"},
    ),
    Route(
        "console",
        "casenotes:canned_delete",
        "canned/<int:reply_id>/delete/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=to("/canned/")),
        kwargs={"reply_id": "{canned}"},
    ),
    # --- evidence: the locker of a case (keepers of evidence only) and the custody log --------
    Route(
        # Holders who do not keep evidence (verifiers, logistics staff) are refused before anything.
        "console",
        "evidence:consent_add",
        "cases/<str:public_id>/evidence/consents/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=evidence"),
            coordinator=to("/cases/{case}/?section=evidence"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"uses": "journalists", "how": "Consent from the matrix."},
    ),
    Route(
        "console",
        "evidence:consent_withdraw",
        "cases/<str:public_id>/evidence/consents/<uuid:consent_id>/withdraw/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=evidence"),
            coordinator=to("/cases/{case}/?section=evidence"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "consent_id": "{consent}"},
        data={"confirm": "on"},
    ),
    Route(
        "console",
        "evidence:testimony_add",
        "cases/<str:public_id>/evidence/testimonies/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=evidence"),
            coordinator=to("/cases/{case}/?section=evidence"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"title": "Matrix testimony", "text": "A testimony from the matrix.", "consent": "{consent}"},
    ),
    Route(
        "console",
        "evidence:message_keep",
        "cases/<str:public_id>/evidence/messages/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=evidence"),
            coordinator=to("/cases/{case}/?section=evidence"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"message": "{person_message}", "title": "Matrix message", "consent": "{consent}"},
    ),
    Route(
        # Opening an item is itself a custody entry and an audit entry.
        "console",
        "evidence:item",
        "cases/<str:public_id>/evidence/<uuid:item_id>/",
        get=staff(
            NOT_FOUND,
            caseworker=ok(CASE, EVIDENCE, TITLE),
            coordinator=ok(CASE, EVIDENCE, TITLE),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        post=staff(NOT_ALLOWED),
        kwargs={"public_id": "{case}", "item_id": "{evidence_item}"},
    ),
    Route(
        # Proposing a redacted copy runs the redaction over the case's locker and opens the review.
        "console",
        "evidence:derivative_propose",
        "cases/<str:public_id>/evidence/<uuid:item_id>/redact/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/evidence/{evidence_item}/redaction/"),
            coordinator=to("/cases/{case}/evidence/{evidence_item}/redaction/"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "item_id": "{evidence_item}"},
    ),
    Route(
        # The review shows the original with its marked spans (the world has a proposed copy).
        "console",
        "evidence:derivative_review",
        "cases/<str:public_id>/evidence/<uuid:item_id>/redaction/",
        get=staff(
            NOT_FOUND,
            caseworker=ok(CASE, EVIDENCE, TITLE),
            coordinator=ok(CASE, EVIDENCE, TITLE),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/evidence/{evidence_item}/redaction/"),
            coordinator=to("/cases/{case}/evidence/{evidence_item}/redaction/"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "item_id": "{evidence_item}"},
        data={"revision": "1", "approve": "0", "add_label": "PERSON"},
    ),
    Route(
        # Nothing is approved in the world: the item is listed (by its title) as not offered, and
        # an export posted with no item is refused in place.
        "console",
        "evidence:export",
        "cases/<str:public_id>/evidence/export/",
        get=staff(
            NOT_FOUND,
            caseworker=ok(CASE, TITLE),
            coordinator=ok(CASE, TITLE),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE, TITLE})),
            coordinator=Expect(400, sees=frozenset({CASE, TITLE})),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"recipient_kind": "journalists", "recipient_name": "Matrix newspaper"},
    ),
    Route(
        "console",
        "evidence:events",
        "cases/<str:public_id>/evidence/events/",
        get=staff(NOT_FOUND, caseworker=ok(CASE), coordinator=ok(CASE), verifier_in=FORBIDDEN, logistics_in=FORBIDDEN),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/evidence/events/"),
            coordinator=to("/cases/{case}/evidence/events/"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={
            "title": "Matrix event",
            "precision": "day",
            "act_type": "arrest",
            "victim": "The person of this case",
            "source_type": "victim",
            "reliability": "high",
        },
    ),
    Route(
        # The log's state and public key: nothing of any case, for whoever keeps evidence.
        "console",
        "evidence:custody",
        "evidence/custody/",
        get=staff(FORBIDDEN, caseworker=ok(), coordinator=ok(), outsider=ok()),
        post=staff(NOT_ALLOWED),
    ),
    # --- evacuation check-ins (T9): schedule, acknowledging a missed check-in, fate status ----
    Route(
        "console",
        "checkins:schedule_set",
        "cases/<str:public_id>/checkins/schedule/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=checkins"),
            coordinator=to("/cases/{case}/?section=checkins"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"preset": "72", "grace_minutes": "60", "active": "on"},
    ),
    Route(
        # The world's case has no missed check-in: the case page comes back saying so.
        "console",
        "checkins:acknowledge",
        "cases/<str:public_id>/checkins/acknowledge/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE})),
            coordinator=Expect(400, sees=frozenset({CASE})),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        "console",
        "checkins:fate_set",
        "cases/<str:public_id>/fate/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=checkins"),
            coordinator=to("/cases/{case}/?section=checkins"),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"status": "in_transit", "information": "A status from the matrix."},
    ),
    # --- evacuation.safehouses: logistics' and coordinators' pages, placements on a case ----
    Route(
        # An empty form is shown again with its errors. The world holds no safe house. Logistics
        # staff manage safe houses whatever their team.
        "console",
        "safehouses:list",
        "safe-houses/",
        get=staff(FORBIDDEN, coordinator=ok(), logistics_in=ok(), logistics_out=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400), logistics_in=Expect(400), logistics_out=Expect(400)),
    ),
    Route(
        "console",
        "safehouses:detail",
        "safe-houses/<int:house_id>/",
        get=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        post=staff(NOT_ALLOWED),
        kwargs={"house_id": "0"},
    ),
    Route(
        "console",
        "safehouses:address",
        "safe-houses/<int:house_id>/address/",
        get=staff(NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        kwargs={"house_id": "0"},
    ),
    Route(
        "console",
        "safehouses:share",
        "safe-houses/<int:house_id>/share/",
        get=staff(NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"house_id": "0"},
        data={"member": "{caseworker_member}"},
    ),
    Route(
        "console",
        "safehouses:edit",
        "safe-houses/<int:house_id>/edit/",
        get=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        kwargs={"house_id": "0"},
        data={"code_name": "Matrix", "capacity": "2", "revision": "1"},
    ),
    Route(
        "console",
        "safehouses:close",
        "safe-houses/<int:house_id>/close/",
        get=staff(NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        kwargs={"house_id": "0"},
        data={"revision": "1", "confirm": "on"},
    ),
    Route(
        # Key holders only; the form names no safe house, so the case page comes back with it.
        "console",
        "safehouses:placement_add",
        "cases/<str:public_id>/placement/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE})),
            coordinator=Expect(400, sees=frozenset({CASE})),
            verifier_in=Expect(400, sees=frozenset({CASE})),
            logistics_in=Expect(400),
        ),
        kwargs={"public_id": "{case}"},
        data={"safe_house": "0", "starts_on": "2026-11-25", "until": ""},
    ),
    Route(
        # Coordinators and logistics only; the world holds no placement.
        "console",
        "safehouses:placement_confirm",
        "safe-houses/placements/<uuid:placement_id>/confirm/",
        get=staff(NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND, logistics_in=NOT_FOUND, logistics_out=NOT_FOUND),
        kwargs={"placement_id": "00000000-0000-4000-8000-000000000000"},
        data={"back": "case"},
    ),
    Route(
        # Nobody in the world is placed.
        "console",
        "safehouses:placement_end",
        "cases/<str:public_id>/placement/end/",
        get=staff(NOT_ALLOWED),
        post=staff(NOT_FOUND),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        # Refused for key holders too: the world's person is not placed.
        "console",
        "safehouses:placement_address",
        "cases/<str:public_id>/placement/address/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(409, sees=frozenset({CASE})),
            coordinator=Expect(409, sees=frozenset({CASE})),
            verifier_in=FORBIDDEN,
            logistics_in=Expect(409),
        ),
        kwargs={"public_id": "{case}"},
    ),
    # --- evacuation plans: the world's case is not verified, so planning is refused (400) with
    # the plan page shown again; recording progress is not tied to the case's state.
    Route(
        "console",
        "evac_plans:plan",
        "cases/<str:public_id>/plan/",
        get=staff(
            NOT_FOUND, caseworker=ok(CASE, LEG), coordinator=ok(CASE, LEG), verifier_in=ok(CASE, LEG), logistics_in=ok()
        ),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE, LEG})),
            coordinator=Expect(400, sees=frozenset({CASE, LEG})),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        "console",
        "evac_plans:leg_add",
        "cases/<str:public_id>/plan/legs/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE, LEG})),
            coordinator=Expect(400, sees=frozenset({CASE, LEG})),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"mode": "bus", "from_place": "Matrix town", "to_place": "Matrix city", "notes": ""},
    ),
    Route(
        "console",
        "evac_plans:leg_edit",
        "cases/<str:public_id>/plan/legs/<uuid:leg_id>/",
        get=staff(NOT_FOUND, caseworker=ok(CASE, LEG), coordinator=ok(CASE, LEG), verifier_in=ok(CASE, LEG)),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE, LEG})),
            coordinator=Expect(400, sees=frozenset({CASE, LEG})),
            verifier_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "leg_id": "{leg}"},
        data={"mode": "bus", "from_place": "Matrix town", "to_place": "Matrix city", "notes": "", "revision": "1"},
    ),
    Route(
        "console",
        "evac_plans:leg_progress",
        "cases/<str:public_id>/plan/legs/<uuid:leg_id>/progress/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/plan/"),
            coordinator=to("/cases/{case}/plan/"),
            verifier_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "leg_id": "{leg}"},
        data={"status": "under_way", "revision": "1", "doc_tickets": "ready"},
    ),
    Route(
        "console",
        "evac_plans:template_apply",
        "cases/<str:public_id>/plan/template/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({CASE, LEG})),
            coordinator=Expect(400, sees=frozenset({CASE, LEG})),
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"template": "{plan_template}"},
    ),
    Route(
        # Organisation knowledge every staff member may read; only coordinators change it.
        "console",
        "evac_plans:destinations",
        "destinations/",
        get=staff(ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"country": ""},
    ),
    Route(
        "console",
        "evac_plans:destination_edit",
        "destinations/<int:destination_id>/edit/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=to("/destinations/")),
        kwargs={"destination_id": "{destination}"},
        data={"country": "Matrixland", "city": "", "revision": "1"},
    ),
    Route(
        "console",
        "evac_plans:templates",
        "plan-templates/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"name": ""},
    ),
    Route(
        "console",
        "evac_plans:template_edit",
        "plan-templates/<int:template_id>/edit/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        kwargs={"template_id": "{plan_template}"},
        data={"name": "", "revision": "1"},
    ),
    # --- evacuation/funds: money paid out (the world's entry is the caseworker's, waiting) ----
    Route(
        # Logistics staff record money paid out on the verified case they hold; verifiers may not.
        "console",
        "funds:entry_add",
        "cases/<str:public_id>/funds/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=money"),
            coordinator=to("/cases/{case}/?section=money"),
            verifier_in=FORBIDDEN,
            logistics_in=to("/cases/{case}/?section=money"),
        ),
        kwargs={"public_id": "{case}"},
        data={"category": "food", "amount": "100", "currency": "RUB", "paid_on": "2026-01-02", "payee": "Groceries"},
    ),
    Route(
        "console",
        "funds:entry_edit",
        "cases/<str:public_id>/funds/<uuid:entry_id>/edit/",
        get=staff(NOT_FOUND, caseworker=ok(CASE), coordinator=ok(CASE), verifier_in=FORBIDDEN),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=money"),
            coordinator=to("/cases/{case}/?section=money"),
            verifier_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}", "entry_id": "{funds_entry}"},
        data={
            "category": "food",
            "amount": "100",
            "currency": "RUB",
            "paid_on": "2026-01-02",
            "payee": "Groceries",
            "revision": "1",
        },
    ),
    Route(
        # Coordinators only; the caseworker entered it, so the coordinator may decide.
        "console",
        "funds:entry_decide",
        "cases/<str:public_id>/funds/<uuid:entry_id>/decide/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=to("/cases/{case}/?section=money")),
        kwargs={"public_id": "{case}", "entry_id": "{funds_entry}"},
        data={"decision": "approve", "reason": "Checked with the partner."},
    ),
    Route(
        "console",
        "funds:budget",
        "cases/<str:public_id>/funds/budget/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=to("/cases/{case}/?section=money")),
        kwargs={"public_id": "{case}"},
        data={"amount": "100000", "currency": "RUB"},
    ),
    Route(
        # Across all cases, coordinators only: totals, and the entries waiting on their cases.
        "console",
        "funds:report",
        "funds/",
        get=staff(FORBIDDEN, coordinator=ok(CASE)),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        "console",
        "funds:export",
        "funds/export.csv",
        get=staff(FORBIDDEN, coordinator=ok(CASE)),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        # Counts across all cases, coordinators only (audited); case references only as links.
        "console",
        "dashboard:dashboard",
        "dashboard/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    # --- partner hand-off: coordinators only (the world's organisation has its hand-off keys) --
    Route(
        "console",
        "handoff:index",
        "handoff/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        # The keys exist already: creating them again is refused in place.
        "console",
        "handoff:keys_create",
        "handoff/keys/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
    ),
    Route(
        "console",
        "handoff:keys_share",
        "handoff/keys/share/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=to("/handoff/")),
    ),
    Route(
        "console",
        "handoff:partner_add",
        "handoff/partners/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"name": "", "box_key": "", "verify_key": ""},
    ),
    Route(
        "console",
        "handoff:import",
        "handoff/import/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"partner": ""},
    ),
    Route(
        # Case-scoped too: a coordinator who does not hold the case gets 404 like everyone else.
        "console",
        "handoff:export",
        "cases/<str:public_id>/handoff/",
        get=staff(FORBIDDEN, coordinator=ok(CASE)),
        post=staff(FORBIDDEN, coordinator=Expect(400, sees=frozenset({CASE}))),
        kwargs={"public_id": "{case}"},
        data={"partner": "", "consent_how": ""},
    ),
    # --- retention: how long closed cases are kept, holds, shredding now --------------------
    Route(
        # An empty form is valid (every reason kept) and saved.
        "console",
        "retention:policies",
        "retention/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=to("/retention/")),
    ),
    Route(
        # Without on_hold=1 the form lifts the hold (there is none): back to the case's state.
        "console",
        "retention:hold",
        "cases/<str:public_id>/hold/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            coordinator=to("/cases/{case}/?section=state"),
            caseworker=FORBIDDEN,
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
    ),
    Route(
        # Not confirmed: the case page comes back with the form's error; nothing is shredded.
        "console",
        "retention:shred",
        "cases/<str:public_id>/shred/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            coordinator=Expect(400, sees=frozenset({CASE})),
            caseworker=FORBIDDEN,
            verifier_in=FORBIDDEN,
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
    ),
    # --- recovery ceremonies: coordinators only (trustees with an account are coordinators) ---
    Route(
        "console",
        "recovery:home",
        "recovery/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
    ),
    Route(
        # An empty form for a case's key is shown again with its errors; no ceremony is started.
        "console",
        "recovery:start",
        "recovery/start/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
        data={"purpose": "case_access"},
    ),
    Route(
        # No ceremony has this id: not found, for coordinators as for a ceremony that expired.
        "console",
        "recovery:ceremony",
        "recovery/<uuid:ceremony_id>/",
        get=staff(FORBIDDEN, coordinator=NOT_FOUND),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"ceremony_id": str(uuid.UUID(int=7))},
        data={"share": "academic acid"},
    ),
    Route(
        "console",
        "recovery:perform",
        "recovery/<uuid:ceremony_id>/perform/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"ceremony_id": str(uuid.UUID(int=7))},
    ),
    Route(
        "console",
        "recovery:cancel",
        "recovery/<uuid:ceremony_id>/cancel/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"ceremony_id": str(uuid.UUID(int=7))},
    ),
    Route(
        "console",
        "recovery:shares",
        "recovery/<uuid:ceremony_id>/shares/",
        get=staff(FORBIDDEN, coordinator=NOT_FOUND),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"ceremony_id": str(uuid.UUID(int=7))},
    ),
    # --- vetting (T3): coordinators' pages, and the checklist, sign-offs and sharing on a case
    Route(
        # An empty form is shown again with its errors; reading the page is audited.
        "console",
        "vetting:sensitive_items",
        "sensitive/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
    ),
    Route(
        "console",
        "vetting:sensitive_share",
        "sensitive/share/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=to("/sensitive/")),
    ),
    Route(
        # The world holds no sensitive item.
        "console",
        "vetting:sensitive_delete",
        "sensitive/<int:item_id>/delete/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"item_id": "0"},
    ),
    Route(
        "console",
        "vetting:red_flags",
        "red-flags/",
        get=staff(FORBIDDEN, coordinator=ok()),
        post=staff(FORBIDDEN, coordinator=Expect(400)),
    ),
    Route(
        "console",
        "vetting:red_flag_delete",
        "red-flags/<int:flag_id>/delete/",
        get=staff(FORBIDDEN, coordinator=NOT_ALLOWED),
        post=staff(FORBIDDEN, coordinator=NOT_FOUND),
        kwargs={"flag_id": "0"},
    ),
    Route(
        "console",
        "vetting:check_tick",
        "cases/<str:public_id>/vetting/check/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=to("/cases/{case}/?section=vetting"),
            coordinator=to("/cases/{case}/?section=vetting"),
            verifier_in=to("/cases/{case}/?section=vetting"),
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"item": "interview", "note": "A note from the matrix."},
    ),
    Route(
        # A caseworker's role may not sign; the world's case is new, not being vetted.
        "console",
        "vetting:sign_off",
        "cases/<str:public_id>/vetting/sign-off/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(403, sees=frozenset({CASE})),
            coordinator=Expect(400, sees=frozenset({CASE})),
            verifier_in=Expect(400, sees=frozenset({CASE})),
            logistics_in=FORBIDDEN,
        ),
        kwargs={"public_id": "{case}"},
        data={"reason": "A reason from the matrix."},
    ),
    Route(
        # Only the signer's own standing sign-off can be withdrawn; the world has none.
        "console",
        "vetting:sign_off_withdraw",
        "cases/<str:public_id>/vetting/sign-off/<int:sign_off_id>/withdraw/",
        get=staff(NOT_ALLOWED),
        post=staff(NOT_FOUND),
        kwargs={"public_id": "{case}", "sign_off_id": "0"},
    ),
    Route(
        # Key holders only; refused (403) for them too: the world's case is not verified (a POST
        # carrying the reply draft shows the case page again with the draft kept).
        "console",
        "vetting:sensitive_choose",
        "cases/<str:public_id>/sensitive/",
        get=staff(
            NOT_FOUND,
            caseworker=Expect(403, sees=frozenset({CASE})),
            coordinator=Expect(403, sees=frozenset({CASE})),
            verifier_in=Expect(403, sees=frozenset({CASE})),
            logistics_in=FORBIDDEN,
        ),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(403, sees=frozenset({MESSAGE, CASE, DECOY})),
            coordinator=Expect(403, sees=frozenset({MESSAGE, CASE, DECOY})),
            verifier_in=Expect(403, sees=frozenset({MESSAGE, CASE, DECOY})),
            logistics_in=Expect(403, sees=frozenset({VERIFIED})),
        ),
        kwargs={"public_id": "{case}"},
        data={"body": "A draft from the matrix."},
    ),
    Route(
        # Refused: the world's case is not verified (and names no item); the draft is kept.
        "console",
        "vetting:sensitive_insert",
        "cases/<str:public_id>/sensitive/insert/",
        get=staff(NOT_ALLOWED),
        post=staff(
            NOT_FOUND,
            caseworker=Expect(400, sees=frozenset({MESSAGE, CASE, DECOY})),
            coordinator=Expect(400, sees=frozenset({MESSAGE, CASE, DECOY})),
            verifier_in=Expect(400, sees=frozenset({MESSAGE, CASE, DECOY})),
            logistics_in=Expect(400, sees=frozenset({VERIFIED})),
        ),
        kwargs={"public_id": "{case}"},
        data={"body": "A draft from the matrix.", "sensitive_item": "0"},
    ),
    Route(
        # Each member sets only their own channel; choosing "none" is a valid form.
        "console",
        "notifications:preferences",
        "account/notifications/",
        get=staff(ok()),
        post=staff(to("/account/notifications/")),
        data={"channel": "none", "address": ""},
    ),
    Route(
        "console",
        "language",
        "language/",
        get=everyone(NOT_ALLOWED),
        post=everyone(to("/")),
        data={"language": "en", "next": "/"},
    ),
    Route(
        "console",
        "static",
        "static/<str:name>",
        get=everyone(ok()),
        post=everyone(ok()),
        kwargs={"name": "console.css"},
    ),
]
ROUTES = {route.key: route for route in MATRIX}

# The one intake pattern with a converter: it names a public file from a fixed allowlist
# (core.views.STATIC_FILES), never a person, a case or a secret.
INTAKE_CONVERTERS_ALLOWED = {("intake", "static", "static/<str:name>")}
# Paths both faces answer, each with its own view; the faces share only these core views.
SHARED_VIEWS = {"set_language", "static_file"}
VIEW_MODULES = {
    "intake": {"intake.views", "evacuation.checkins.intake_views", "retention.intake_views", "core.views"},
    "console": {
        "staff.views",
        "casework.views",
        "casework.team_views",
        "staff.audit_views",
        "notifications.views",
        "triage.views",
        "casenotes.views",
        "evidence.views",
        "vetting.views",
        "evacuation.plans.views",
        "evacuation.funds.views",
        "evacuation.checkins.views",
        "evacuation.safehouses.views",
        "evacuation.dashboard.views",
        "evacuation.handoff.views",
        "retention.views",
        "recovery.views",
        "core.views",
    },
}


# --- discovering the URLconfs -------------------------------------------------------------


@dataclass(frozen=True)
class Discovered:
    face: str
    name: str
    route: str
    callback: Any

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.face, self.name, self.route)


def _walk(patterns: list[Any], face: str, prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterator[Discovered]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, face, prefix + str(entry.pattern), namespace)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else f"<unnamed {entry.callback.__qualname__}>"
            yield Discovered(face, name, prefix + str(entry.pattern), entry.callback)
        else:  # pragma: no cover - Django has only these two kinds
            raise AssertionError(f"unexpected URL entry {entry!r}")


def discover(face: str) -> list[Discovered]:
    return list(_walk(get_resolver(FACES[face]).url_patterns, face))


def discover_all() -> list[Discovered]:
    return [found for face in FACES for found in discover(face)]


# --- the world every request runs against ---------------------------------------------------


@dataclass
class World:
    values: dict[str, str]  # placeholders for kwargs, POST bodies and redirect targets
    secrets: dict[str, list[str | bytes]]
    jars: dict[str, Any]  # persona -> cookie jar after logging in
    person: PersonAtRisk
    verified_values: dict[str, str] = field(default_factory=dict)  # {case} etc. for ON_VERIFIED_CASE

    def fill(self, template: str, persona: str = "") -> str:
        values = {**self.values, **self.verified_values} if persona in ON_VERIFIED_CASE else self.values
        return template.format(**values)

    def browser(self, persona: str, urlconf: str) -> FaceClient:
        """A fresh client holding a copy of the persona's cookies, so no test changes another's."""
        if persona == "person_under_duress":
            # Logged in inside the test's own savepoint: a duress login flags the whole case
            # (the real codename then shows only what is written after it), and the rollback
            # undoes that.
            jar = self.person.intake(duress=True).cookies
        else:
            jar = copy.deepcopy(self.jars[persona])
        client = FaceClient(urlconf)
        client.cookies = jar
        return client


@pytest.fixture(scope="module")
def module_file_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


@pytest.fixture(autouse=True)
def _own_file_store(settings: Any, module_file_store: Path) -> Path:
    """The world's attachment lives in the module's store, not in a fresh one per test."""
    settings.SP_FILE_STORE = module_file_store
    return module_file_store


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, module_file_store: Path) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at the end; each
    test runs in its own savepoint inside it (the django_db mark), so tests cannot see each
    other's writes, and the logins are paid once, not once per test."""
    with django_db_blocker.unblock(), override_settings(SP_FILE_STORE=module_file_store), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world() -> World:
    coordinator = make_coordinator()
    caseworker = make_staff("caseworker", invited_by=coordinator)
    other_team = Team.objects.create(name="Documentation")
    outsider = make_staff("outsider", team=other_team, invited_by=coordinator)
    roles = {"verifier": Role.VERIFIER, "logistics": Role.LOGISTICS, "analyst": Role.ANALYST}
    staff_in = {
        f"{name}_in": make_staff(f"{name}-in", role=role, invited_by=coordinator) for name, role in roles.items()
    }
    staff_out = {
        f"{name}_out": make_staff(f"{name}-out", role=role, team=other_team, invited_by=coordinator)
        for name, role in roles.items()
    }
    marker = uuid.uuid4().hex[:12]  # so no template text can pass for a secret
    person_words = f"Words of the person {marker}"
    other_words = f"Words of the other person {marker}"
    cover_words = f"Words of the cover conversation {marker}"
    person = open_case(body=person_words, decoy_opening=cover_words)
    other_person = open_case(body=other_words, duress_word="")
    _named_on_case(person, caseworker, staff_in["verifier_in"])

    person_client = person.intake()
    file_name = f"matrix-{marker}.png"
    attachment_id = _upload_attachment(person_client, person, file_name)
    held_message = _held_reply(person, caseworker)
    note_words, task_words = f"A note on the case {marker}", f"A task on the case {marker}"
    note, task, canned = _notes_and_tasks(person, caseworker, coordinator, note_words, task_words)
    leg_words = f"A hiding place on the route {marker}"
    leg, destination, plan_template = _evacuation_plan(person, caseworker, coordinator, leg_words)
    funds_entry = _funds_entry(person, caseworker)
    consent_words, testimony_words = f"She agreed on the call {marker}", f"What she told us {marker}"
    testimony_title = f"Testimony title {marker}"
    consent, evidence_item = _evidence(person, caseworker, consent_words, testimony_title, testimony_words)
    verified_words = f"Words of the verified person {marker}"
    verified = _verified_case(
        verified_words, caseworker, coordinator, staff_in["verifier_in"], staff_in["logistics_in"]
    )
    handoff_services.org_keys_create(actor=coordinator.member)
    signup_token = account_services.signup_link_create(
        purpose=SignupLink.Purpose.INVITE, role="caseworker", team=None, created_by=coordinator.member
    )
    jars = {
        "anonymous": FaceClient(INTAKE).cookies,
        "person": person_client.cookies,
        "other_person": other_person.intake().cookies,
        "caseworker": caseworker.console().cookies,
        "outsider": outsider.console().cookies,
        "coordinator": coordinator.console().cookies,
        **{persona: staff.console().cookies for persona, staff in (staff_in | staff_out).items()},
    }
    return World(
        values={
            "case": person.case.public_id,
            "attachment": str(attachment_id),
            "signup_token": signup_token,
            "quick_exit": settings.SP_QUICK_EXIT_URL,
            "caseworker_member": str(caseworker.member.pk),
            "outsider_member": str(outsider.member.pk),
            "held_message": str(held_message.pk),
            "revision": str(person.case.revision),
            "on_call_team": str(person.case.team_id),
            "other_team": str(outsider.member.teams.get().pk),
            "note": str(note.pk),
            "task": str(task.pk),
            "canned": str(canned.pk),
            "leg": str(leg.pk),
            "destination": str(destination.pk),
            "plan_template": str(plan_template.pk),
            "funds_entry": str(funds_entry.pk),
            "consent": str(consent.pk),
            "evidence_item": str(evidence_item.pk),
            "person_message": str(
                Message.objects.filter(case=person.case, sender=Message.Sender.PERSON, is_decoy=False)
                .earliest("created_at")
                .pk
            ),
        },
        secrets={
            MESSAGE: [person_words, file_name],
            FILE: [CLEANED_PNG],
            ORIGINAL: [ORIGINAL_MARKER],
            OTHER: [other_words],
            DECOY: [cover_words],
            CASE: [person.case.public_id],
            CODENAME: [person.codename],
            NOTE: [note_words],
            TASK: [task_words],
            LEG: [leg_words],
            VERIFIED: [verified_words],
            EVIDENCE: [testimony_words],
            TITLE: [testimony_title],
            CONSENT: [consent_words],
        },
        jars=jars,
        person=person,
        verified_values={"case": verified.case.public_id, "revision": str(verified.case.revision)},
    )


def _verified_case(
    words: str, caseworker: Staff, coordinator: Staff, verifier: Staff, logistics: Staff
) -> PersonAtRisk:
    """A second person's case, vetted, signed off by the verifier and the coordinator, verified,
    and given to the logistics member by the caseworker (through the real services)."""
    verified = open_case(body=words, duress_word="")
    case_transition(case=verified.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(
        case=verified.case, member=caseworker.member, to_state=State.VETTING, member_private_key=caseworker.private_key
    )
    for signer in (verifier, coordinator):
        vetting_services.sign_off_create(
            case=verified.case,
            member=signer.member,
            member_private_key=signer.private_key,
            signing_key=signer.signing_key,
            reason="Checked.",
        )
    case_transition(case=verified.case, member=verifier.member, to_state=State.VERIFIED)
    verified.case.refresh_from_db()
    casework_services.case_member_add(
        case=verified.case,
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        member=logistics.member,
    )
    verified.case.refresh_from_db()
    return verified


def _named_on_case(person: PersonAtRisk, caseworker: Staff, member: Staff) -> None:
    """``member`` given every key version of the world's case by the caseworker, by name, as
    casework.services.case_member_add does it but without its audit entry (the audit log's rows
    must not show the case)."""
    opened = keys.case_private_keys(person.case, caseworker.member, caseworker.private_key)
    for case_key in CaseKey.objects.filter(case=person.case, pk__in=list(opened)).order_by("version"):
        keys.wrap_case_key_for(member.member, case_key, opened[case_key.pk])
    named = CaseNamedMember(case=person.case, member=member.member)
    certify(named)
    named.save(force_insert=True)


def _held_reply(person: PersonAtRisk, caseworker: Staff) -> Message:
    """A staff reply held under duress, written without an audit entry (the audit log's row
    must not show the case) and without flagging the case, so the world's pages stay as they are."""
    readers = casework_services.Readers(case_key=keys.current_case_key(person.case))
    return casework_services._message_create(
        person.case,
        Message.Sender.STAFF,
        "A reply held from the matrix.",
        readers,
        author=caseworker.member,
        held=True,
        signing_key=caseworker.signing_key,
    )


def _notes_and_tasks(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, note_words: str, task_words: str
) -> tuple[CaseNote, CaseTask, CannedReply]:
    """The caseworker's note and task on the case, and an English canned reply, written without
    audit entries (the audit log's rows must not show the case)."""
    case_key = keys.current_case_key(person.case)
    note = notes_services.note_row(case=person.case, author=caseworker.member, body=note_words, case_key=case_key)
    task = notes_services.task_row(
        case=person.case,
        actor=caseworker.member,
        owner=caseworker.member,
        title=task_words,
        detail="",
        due=None,
        case_key=case_key,
    )
    canned = CannedReply.objects.create(language="en", title="Matrix reply", body="A canned reply.")
    return note, task, canned


def _evacuation_plan(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, leg_words: str
) -> tuple[Leg, Destination, PlanTemplate]:
    """A plan with one leg (its place sealed to the case key) on the world's case, a destination
    and a plan template, written without audit entries or the verified-case check."""
    plan = EvacuationPlan.objects.create(case=person.case, created_by=caseworker.member)
    data = plan_services.LegInput(
        mode="bus",
        from_place=leg_words,
        to_place="Transit city",
        notes="",
        destination=None,
        planned_departure=None,
        planned_arrival=None,
        documents=["tickets"],
    )
    leg = plan_services.leg_row(
        plan=plan, case=person.case, case_key=keys.current_case_key(person.case), actor=caseworker.member, data=data
    )
    destination = Destination.objects.create(country="Matrixland")
    plan_template = PlanTemplate.objects.create(name="Matrix route")
    TemplateLeg.objects.create(template=plan_template, position=1, mode="rail", from_place="A", to_place="B")
    return leg, destination, plan_template


def _funds_entry(person: PersonAtRisk, caseworker: Staff) -> LedgerEntry:
    """The caseworker's payment above the approval limit (so it waits), without an audit entry."""
    data = funds_services.EntryInput("travel", Decimal("1000000"), "RUB", date(2026, 1, 2), "Train tickets")
    case_key = keys.current_case_key(person.case)
    return funds_services.entry_row(case=person.case, actor=caseworker.member, data=data, case_key=case_key)


def _evidence(
    person: PersonAtRisk, caseworker: Staff, consent_words: str, title: str, testimony: str
) -> tuple[Consent, EvidenceItem]:
    """The person's consent, a testimony kept under it (with its custody entries) and a proposed
    redacted copy of it, written without audit entries (the audit log's rows must not show the case)."""
    case_key = keys.current_case_key(person.case)
    terms = evidence_services.ConsentTerms(uses=("journalists",), redacted_only=True, how=consent_words)
    consent = evidence_services.consent_row(case=person.case, actor=caseworker.member, case_key=case_key, terms=terms)
    item = evidence_services.item_row(
        case=person.case,
        actor=caseworker.member,
        case_key=case_key,
        consent=consent,
        kind=EvidenceItem.Kind.TESTIMONY,
        original=testimony.encode(),
        title=title,
        message=None,
    )
    opened = keys.case_private_keys(person.case, caseworker.member, caseworker.private_key)
    derivatives.derivative_propose(  # writes no audit entry: the review page has a copy to show
        item=item, actor=caseworker.member, actor_private_key=caseworker.private_key, opened=opened
    )
    return consent, item


def _upload_attachment(client: FaceClient, person: PersonAtRisk, file_name: str) -> uuid.UUID:
    """Through the real intake view, so the file passes the streaming encrypting upload handler."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(file_name, PNG, content_type="image/png")
    response = client.post("/conversation/", {"message": "", "attachments": upload})
    assert response.status_code == 302, response.content[:2000]
    return Attachment.objects.get(message__case=person.case).id


# --- the matrix itself ---------------------------------------------------------------------


def test_every_url_pattern_of_both_faces_is_declared_in_the_access_matrix() -> None:
    discovered = discover_all()
    keys = [found.key for found in discovered]
    assert len(keys) == len(set(keys)), f"a pattern is declared twice in a URLconf: {sorted(keys)}"
    missing = [
        f"add {face} {name!r} ({route!r}) to the access matrix"
        for face, name, route in keys
        if (face, name, route) not in ROUTES
    ]
    stale = [
        f"remove {face} {name!r} ({route!r}) from the access matrix: no such pattern"
        for face, name, route in ROUTES
        if (face, name, route) not in keys
    ]
    assert not missing and not stale, "\n".join(missing + stale)


def test_the_matrix_says_what_every_persona_gets_for_every_method() -> None:
    for route in MATRIX:
        for method, outcomes in (("GET", route.get), ("POST", route.post)):
            assert set(outcomes) == set(PERSONAS), f"{route.face} {route.name} {method}: declare exactly {PERSONAS}"
            for persona, expect in outcomes.items():
                assert (expect.location is not None) == (300 <= expect.status < 400), (route.name, method, persona)
                assert set(expect.sees) <= set(SECRETS), (route.name, method, persona)


MATRIX_CASES = [
    pytest.param(route.key, persona, method, id=f"{route.face}:{route.name}-{persona}-{method}")
    for route in MATRIX
    for persona in PERSONAS
    for method in METHODS
]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "persona", "method"), MATRIX_CASES)
def test_each_persona_gets_exactly_what_the_matrix_allows(
    world: World, key: tuple[str, str, str], persona: str, method: str
) -> None:
    route = ROUTES[key]
    expect = (route.get if method == "GET" else route.post)[persona]
    urlconf = FACES[route.face]
    client = world.browser(persona, urlconf)
    url = reverse(route.name, urlconf=urlconf, kwargs={k: world.fill(v, persona) for k, v in route.kwargs.items()})
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, {k: world.fill(v, persona) for k, v in route.data.items()})
    body = _body(response)

    assert response.status_code == expect.status, f"{method} {url} as {persona}: {body[:1000]!r}"
    location = response.headers.get("Location")
    assert location == (world.fill(expect.location, persona) if expect.location else None)
    for secret in SECRETS:
        shown = _shows(body, world.secrets[secret], every=secret != DECOY)
        hidden = not _shows(body, world.secrets[secret], every=False)
        if secret in expect.sees:
            assert shown, f"{method} {url} as {persona} should show the {secret}"
        else:
            assert hidden, f"{method} {url} as {persona} must not show the {secret}"
    assert person_codename_absent(location or "", world), f"{method} {url} redirects to a URL with the codename"
    if route.face == "intake":
        assert world.values["case"] not in (location or ""), f"{method} {url} redirects to a URL with the case id"


def person_codename_absent(text: str, world: World) -> bool:
    codename = str(world.secrets[CODENAME][0])
    return not any(codename.replace(" ", sep) in text for sep in (" ", "+", "%20", "-", "_", ",", ""))


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        # Consuming the stream closes the response the way the test client expects; closing it
        # again would fire request_finished and drop the connection out of the test's transaction.
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _shows(body: bytes, needles: list[str | bytes], *, every: bool) -> bool:
    """Whether the body shows every (or any) needle, raw or HTML-escaped."""
    text = html.unescape(body.decode("utf-8", errors="replace"))
    found = [
        (needle in body) if isinstance(needle, bytes) else (needle.encode() in body or needle in text)
        for needle in needles
    ]
    return all(found) if every else any(found)


# --- the two faces stay apart --------------------------------------------------------------

# Paths both faces answer, each face with its own view (or the shared core view).
SHARED_ROUTES = {"", "login/", "logout/", "language/", "static/<str:name>"}
# Stand-ins for identifiers: resolving needs a well-formed URL, not a real case.
DUMMY_VALUES = {
    "case": "CASE-0000",
    "attachment": str(uuid.UUID(int=0)),
    "signup_token": "not-a-token",
    "quick_exit": "",
    "caseworker_member": "0",
    "outsider_member": "0",
    "held_message": str(uuid.UUID(int=0)),
    "revision": "0",
    "on_call_team": "0",
    "other_team": "0",
    "note": str(uuid.UUID(int=0)),
    "task": str(uuid.UUID(int=0)),
    "canned": "0",
    "leg": str(uuid.UUID(int=0)),
    "destination": "0",
    "plan_template": "0",
    "funds_entry": str(uuid.UUID(int=0)),
    "consent": str(uuid.UUID(int=0)),
    "evidence_item": str(uuid.UUID(int=0)),
    "person_message": str(uuid.UUID(int=0)),
}


def _concrete_url(route: Route) -> str:
    kwargs = {k: v.format(**DUMMY_VALUES) for k, v in route.kwargs.items()}
    return reverse(route.name, urlconf=FACES[route.face], kwargs=kwargs)


@pytest.mark.parametrize("route", MATRIX, ids=lambda r: f"{r.face}:{r.name}")
def test_a_url_of_one_face_does_not_reach_a_view_of_the_other(route: Route) -> None:
    other = "console" if route.face == "intake" else "intake"
    url = _concrete_url(route)
    if route.route not in SHARED_ROUTES:
        with pytest.raises(Resolver404):
            resolve(url, urlconf=FACES[other])
        return
    match = resolve(url, urlconf=FACES[other])
    assert match.func.__module__ in VIEW_MODULES[other], f"{url} on the {other} face reaches {match.func.__module__}"


@pytest.mark.parametrize("face", FACES)
def test_each_face_routes_only_to_its_own_views(face: str) -> None:
    for found in discover(face):
        module = found.callback.__module__
        assert module in VIEW_MODULES[face], f"{face} {found.route!r} is served by {module}"
        if module == "core.views":
            assert found.callback.__name__ in SHARED_VIEWS, f"{face} {found.route!r}: {found.callback.__name__}"


def test_no_intake_url_pattern_carries_an_identifier() -> None:
    """A URL ends up in the browser history; the intake's never name a person or a case."""
    for found in discover("intake"):
        if found.key in INTAKE_CONVERTERS_ALLOWED:
            continue
        assert "<" not in found.route and "(" not in found.route, (
            f"intake {found.name!r} takes a parameter: {found.route!r}"
        )


@pytest.mark.django_db
def test_the_one_intake_parameter_only_names_allowlisted_public_files() -> None:
    client = FaceClient(INTAKE)
    for name in STATIC_FILES:
        assert client.get(f"/static/{name}").status_code == 200
    for name in ("settings.py", "..%2Fviews.py", "intake.css.bak", "ABCD-1234"):
        assert client.get(f"/static/{name}").status_code == 404
