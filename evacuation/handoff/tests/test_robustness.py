"""Hand-off packets that are signed by a real partner but malformed inside, packets as large as
the documented maximum through the web page, and the codename for a case imported without a
language: each is refused cleanly or works, never a server error."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sealbox
import sealbox.handoff as packets
from audit.models import Action, AuditEntry
from casework.models import Case
from casework.services import codename_burn, person_login
from evacuation.handoff import payload, services
from evacuation.handoff.models import HandoffExport, HandoffImport, Partner
from tests.personas import Staff, open_case

CONSENT = {"how": "agreed", "date": "2026-11-20"}
MESSAGE = {
    "from": "person",
    "at": "2026-11-01T10:00:00+00:00",
    "body": "Please help.",
    "after_duress": False,
    "held": False,
}


def _valid(version: int = 2) -> dict[str, Any]:
    """A payload every check accepts; version 1 (older senders) has no flags on messages."""
    message = dict(MESSAGE) if version >= 2 else {key: MESSAGE[key] for key in ("from", "at", "body")}
    return {
        "version": version,
        "fields": ["details", "conversation", "notes", "plan", "fate"],
        "consent": dict(CONSENT),
        "details": {
            "urgency": "danger_now",
            "region": "chechnya",
            "help_kinds": ["leave_region"],
            "language": "ru",
            "contact_kind": "",
        },
        "conversation": [message],
        "notes": [{"at": "2026-11-01T10:00:00+00:00", "body": "note"}],
        "plan": [
            {
                "position": 1,
                "mode": "rail",
                "status": "planned",
                "from": "A",
                "to": "B",
                "notes": "",
                "planned_departure": None,
                "planned_arrival": "2026-12-01",
                "actual_departure": None,
                "actual_arrival": None,
                "documents": [{"kind": "tickets", "status": "needed"}],
            }
        ],
        "fate": [{"status": "in_hiding", "at": "2026-11-01T10:00:00+00:00", "information": ""}],
    }


def _signed_by_theirs(coordinator: Staff, ours, theirs, content: Any, *, packet_id: bytes | None = None) -> bytes:
    """A packet "theirs" really signed, addressed to "ours", holding ``content`` as its payload;
    afterwards "ours" is in force again, with "theirs" as a trusted partner."""
    theirs.put()
    org = services._org_secret(coordinator.member, coordinator.private_key)
    data = packets.packet_seal(
        content, sender=org.identity, sender_seed=org.seed, recipient=ours.identity, packet_id=packet_id
    )
    ours.put()
    return data


def _import(coordinator: Staff, data: bytes) -> Case:
    return services.handoff_import(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=Partner.objects.get(name="Theirs"),
        raw=data,
    )


def _refusals() -> list[str]:
    return [e.details["reason"] for e in AuditEntry.objects.filter(action=Action.HANDOFF_IMPORT_REFUSED).order_by("pk")]


def _with(change: Any, version: int = 2) -> dict[str, Any]:
    content = _valid(version)
    change(content)
    return content


MALFORMED = {
    "field list holds a list": lambda p: p.update(fields=[["details"]]),
    "field list holds an object": lambda p: p.update(fields=[{"details": 1}]),
    "field list holds a number": lambda p: p.update(fields=[1, "details"]),
    "field list holds null": lambda p: p.update(fields=[None]),
    "field list is a string": lambda p: p.update(fields="details"),
    "field list is empty": lambda p: p.update(fields=[]),
    "field list repeats a field": lambda p: p.update(fields=["notes", "notes"]),
    "unknown field": lambda p: p.update(fields=[*p["fields"], "codename"], codename="x"),
    "unknown top-level key": lambda p: p.update(extra=1),
    "version is a string": lambda p: p.update(version="2"),
    "version is true": lambda p: p.update(version=True),
    "version is zero": lambda p: p.update(version=0),
    "consent is a list": lambda p: p.update(consent=["agreed"]),
    "consent has an extra key": lambda p: p["consent"].update(by="x"),
    "details is a list": lambda p: p.update(details=[]),
    "help kinds hold a number": lambda p: p["details"].update(help_kinds=[1]),
    "message body is a list": lambda p: p["conversation"][0].update(body=["x"]),
    "message flag is a string": lambda p: p["conversation"][0].update(after_duress="yes"),
    "message flag is missing": lambda p: p["conversation"][0].pop("held"),
    "message has an unknown key": lambda p: p["conversation"][0].update(sent=True),
    "a person's message is held": lambda p: p["conversation"][0].update(held=True),
    "conversation is an object": lambda p: p.update(conversation={"0": MESSAGE}),
    "leg position is a float": lambda p: p["plan"][0].update(position=1.5),
    "leg position is true": lambda p: p["plan"][0].update(position=True),
    "documents are an object": lambda p: p["plan"][0].update(documents={"kind": "x", "status": "y"}),
    "fate row is a string": lambda p: p.update(fate=["in_hiding"]),
    "text is too long": lambda p: p["notes"][0].update(body="x" * (payload.MAX_TEXT + 1)),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_packet_with_a_malformed_payload_is_refused_and_audited(coordinator, two_orgs, change):
    """Attacker: a partner (or someone who took their signing key) sending a packet built to
    crash the importer. It is refused with a message, audited, and writes nothing."""
    ours, theirs = two_orgs
    data = _signed_by_theirs(coordinator, ours, theirs, _with(change))
    cases = Case.objects.count()
    with pytest.raises(services.HandoffRefused, match="not in a form this version can read"):
        _import(coordinator, data)
    assert _refusals() == ["payload"]
    assert Case.objects.count() == cases and not HandoffImport.objects.exists()


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("element", [["details"], {"details": 1}], ids=["list", "object"])
def test_a_field_list_holding_a_non_string_is_refused_and_audited_in_every_version(
    coordinator,
    two_orgs,
    version,
    element,
):
    """Attacker: a partner (or whoever holds their signing key) sending a field list with a
    list or object in it, which used to raise out of the importer as a server error."""
    ours, theirs = two_orgs
    data = _signed_by_theirs(coordinator, ours, theirs, _with(lambda p: p.update(fields=[element]), version))
    with pytest.raises(services.HandoffRefused, match="not in a form this version can read"):
        _import(coordinator, data)
    assert _refusals() == ["payload"] and not HandoffImport.objects.exists()


@pytest.mark.parametrize("version", [1, 2])
def test_the_valid_payload_the_malformed_ones_start_from_is_imported(coordinator, two_orgs, version):
    ours, theirs = two_orgs
    case = _import(coordinator, _signed_by_theirs(coordinator, ours, theirs, _valid(version)))
    assert HandoffImport.objects.get().case == case and _refusals() == []


def test_a_packet_from_a_newer_version_says_so_and_is_audited(coordinator, two_orgs):
    ours, theirs = two_orgs
    data = _signed_by_theirs(coordinator, ours, theirs, _with(lambda p: p.update(version=3)))
    with pytest.raises(services.HandoffRefused, match="newer version of Safe Passage"):
        _import(coordinator, data)
    assert _refusals() == ["version"]


def test_a_malformed_packet_on_the_page_is_refused_in_place_not_a_server_error(coordinator, two_orgs):
    ours, theirs = two_orgs
    # Version 1: the version every sender made before the flags existed.
    data = _signed_by_theirs(coordinator, ours, theirs, _with(MALFORMED["field list holds a list"], version=1))
    partner = Partner.objects.get(name="Theirs")
    for language, text in (("en", "not in a form this version can read"), ("ru", "не может прочитать")):
        client = coordinator.console(language=language)
        client.raise_request_exception = False
        response = client.post("/handoff/import/", {"partner": partner.pk, "packet": SimpleUploadedFile("p", data)})
        assert response.status_code == 400
        assert text in response.content.decode()
    assert _refusals() == ["payload", "payload"] and not HandoffImport.objects.exists()


# --- any JSON value, anywhere: refused or accepted, never another exception -------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
KEYS = ["version", "fields", "consent", "details", "conversation", "notes", "plan", "fate", "from", "held"]


def _validate_or_refuse(value: Any) -> None:
    try:
        out = payload.validate(value)
    except payload.BadPayload:
        return
    # Accepted: then it is exactly in the form the import writes and the page reads.
    assert json.loads(packets.canonical(out)) == out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8))
def test_any_json_value_as_payload_is_refused_or_valid_never_a_crash(value):
    _validate_or_refuse(value)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_valid_payload_with_any_part_replaced_is_refused_or_valid_never_a_crash(data):
    content = _valid()
    path = data.draw(st.sampled_from(_paths(content)[1:]))
    replacement = data.draw(JSON)
    target = content
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = copy.deepcopy(replacement)
    _validate_or_refuse(content)


# --- size: packets up to the documented maximum go through the web page ----------------------


def _packet_of_size(coordinator: Staff, ours, theirs, target: int) -> bytes:
    """A genuine packet from "theirs" whose file is just under ``target`` bytes: notes of plain
    ASCII, the last one trimmed until the base64 of the sealed payload fits."""
    overhead = len(_signed_by_theirs(coordinator, ours, theirs, _notes_payload([])))
    budget = (target - overhead) * 3 // 4  # plaintext bytes that base64 turns into the rest
    lengths = []
    while budget > 0:
        lengths.append(min(payload.MAX_TEXT, budget))
        budget -= lengths[-1] + 50  # each note's JSON around its body
    while True:
        data = _signed_by_theirs(coordinator, ours, theirs, _notes_payload(lengths))
        if len(data) <= target:
            return data
        lengths[-1] -= (len(data) - target) * 3 // 4 + 4


def _notes_payload(lengths: list[int]) -> dict[str, Any]:
    return {
        "version": 2,
        "fields": ["notes"],
        "consent": dict(CONSENT),
        "notes": [{"at": "2026-11-01T10:00:00+00:00", "body": "n" * length} for length in lengths],
    }


@pytest.fixture
def no_temporary_files(settings: Any, tmp_path: Path) -> Path:
    """Django's temporary-file upload handler writes here; nothing may be left behind."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def test_a_packet_near_the_documented_maximum_is_imported_through_the_page(
    coordinator,
    two_orgs,
    no_temporary_files,
):
    ours, theirs = two_orgs
    data = _packet_of_size(coordinator, ours, theirs, packets.MAX_PACKET_BYTES)
    assert len(data) > packets.MAX_PACKET_BYTES - 256 * 1024
    client = coordinator.console(language="en")
    # As in production: the CSRF check is made, and reads the body through the upload handler.
    client.handler.enforce_csrf_checks = True
    page = client.get("/handoff/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/handoff/import/",
        {
            "csrfmiddlewaretoken": token,
            "partner": Partner.objects.get(name="Theirs").pk,
            "packet": SimpleUploadedFile("p.sphandoff", data),
        },
        headers={"Origin": "http://testserver", "Referer": "http://testserver/handoff/"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record = HandoffImport.objects.get()
    assert response["Location"] == f"/cases/{record.case.public_id}/?section=access"
    assert list(no_temporary_files.iterdir()) == []


@pytest.mark.parametrize(
    ("language", "text"), [("en", "larger than a hand-off packet can be"), ("ru", "больше, чем может быть пакет")]
)
def test_a_file_over_the_maximum_is_refused_with_a_clear_message(
    coordinator, two_orgs, no_temporary_files, language, text
):
    client = coordinator.console(language=language)
    too_big = b"x" * (packets.MAX_PACKET_BYTES + 1)
    response = client.post(
        "/handoff/import/",
        {"partner": Partner.objects.get(name="Theirs").pk, "packet": SimpleUploadedFile("p.sphandoff", too_big)},
    )
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not HandoffImport.objects.exists()
    assert list(no_temporary_files.iterdir()) == []


def test_an_import_without_the_form_token_is_still_refused(coordinator, two_orgs):
    """Attacker: a page elsewhere that makes a logged-in coordinator's browser post a packet.
    The import reads its body through its own handler, but the CSRF check still applies."""
    ours, theirs = two_orgs
    data = _signed_by_theirs(coordinator, ours, theirs, _valid())
    client = coordinator.console(language="en")
    client.handler.enforce_csrf_checks = True
    response = client.post(
        "/handoff/import/",
        {"partner": Partner.objects.get(name="Theirs").pk, "packet": SimpleUploadedFile("p.sphandoff", data)},
    )
    assert response.status_code == 403
    assert not HandoffImport.objects.exists()


def test_an_import_without_a_file_still_asks_for_one(coordinator, two_orgs):
    client = coordinator.console(language="en")
    response = client.post("/handoff/import/", {"partner": Partner.objects.get(name="Theirs").pk})
    assert response.status_code == 400 and "Choose the packet file." in response.content.decode()


# --- the codename for a case imported without a language ----------------------------------------


@pytest.mark.parametrize("language", ["", "de"], ids=["no language", "a language we have no words for"])
def test_a_codename_is_issued_for_a_case_imported_without_a_usable_language(
    coordinator,
    caseworker,
    two_orgs,
    language,
    settings,
):
    ours, theirs = two_orgs
    content = _valid(version=1)
    content["details"]["language"] = language
    case = _import(coordinator, _signed_by_theirs(coordinator, ours, theirs, content))
    settings.LANGUAGE_CODE = "ru"
    issued = codename_burn(case=case, actor=caseworker.member, actor_private_key=caseworker.private_key)
    # The organisation's default language (the intake's): Russian words here.
    assert set(issued.codename.split()) <= set(sealbox.codenames.wordlist("ru"))
    session = person_login(sealbox.normalise_codename(issued.codename))
    assert session is not None and session.case.pk == case.pk


def test_a_codename_is_issued_for_a_case_imported_without_details(coordinator, caseworker, two_orgs):
    ours, theirs = two_orgs
    content = _with(
        lambda p: (p.update(fields=["notes"]), [p.pop(k) for k in ("details", "conversation", "plan", "fate")])
    )
    case = _import(coordinator, _signed_by_theirs(coordinator, ours, theirs, content))
    client = caseworker.console(language="en")
    response = client.post(f"/cases/{case.public_id}/codename/burn/", {"confirm": "on"})
    assert response.status_code == 200
    assert "New codename for case" in response.content.decode()


# --- export: never a packet the partner could not open ---------------------------------------


def test_an_export_larger_than_the_maximum_is_refused_before_anything_is_recorded(coordinator, two_orgs, monkeypatch):
    """The partner's import refuses files over the maximum, so an export over it would be a
    packet nobody can open: it is refused here, with what to do, and nothing is recorded."""
    person = open_case(body="x" * 3000)
    monkeypatch.setattr(packets, "MAX_PACKET_BYTES", 2048)
    with pytest.raises(services.HandoffRefused, match="larger than a hand-off packet can be"):
        services.handoff_export(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            fields=["details", "conversation"],
            consent_how="agreed",
            consent_date=date(2026, 11, 20),
        )
    assert not HandoffExport.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.HANDOFF_EXPORT).exists()
