"""A hand-off packet says which messages were written after a danger-word login and which staff
replies were held, and the receiving organisation shows it: a captor's words must not reach a
partner as the person's, and a reply the person never got must not pass as sent."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

import sealbox.handoff as packets
from casework.models import Case, Message
from casework.selectors import conversation_for_staff
from evacuation.handoff import payload, selectors, services
from evacuation.handoff.models import Partner
from evacuation.handoff.tests.test_handoff import _become, _opened
from tests.personas import PersonAtRisk, Staff, open_case

FIRST = "Before: they are looking for me."
SENT = "Sent: we read you, stay where you are."
CAPTOR = "After: meet me at the bus station tonight."
HELD = "Held: the safe flat is on Lenina street."
AFTER_DURESS = "written after a danger-word login — may not be the person"
HELD_MARK = "held reply — never sent to the person"
NOT_STATED = "did not say which messages were written after a danger-word login"


def _reply(staff: Staff, case: Case, body: str) -> None:
    response = staff.console().post(f"/cases/{case.public_id}/reply/", {"body": body})
    assert response.status_code == 302


def _case_with_a_captor_message_and_a_held_reply(coordinator: Staff) -> PersonAtRisk:
    """A reply that reached the person, then a danger-word login, a message written with it
    and a reply written afterwards (held)."""
    person = open_case(body=FIRST)
    _reply(coordinator, person.case, SENT)
    response = person.intake(duress=True).post("/conversation/", {"message": CAPTOR})
    assert response.status_code == 302
    _reply(coordinator, person.case, HELD)
    assert Message.objects.get(case=person.case, sender="person", after_duress=True, is_decoy=False)
    assert Message.objects.get(case=person.case, sender="staff", held=True)
    return person


def _export(person: PersonAtRisk, coordinator: Staff) -> bytes:
    return services.handoff_export(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=Partner.objects.get(name="Theirs"),
        fields=["conversation"],
        consent_how="agreed in the chat",
        consent_date=date(2026, 11, 20),
    ).data


def _open_as_partner(data: bytes, coordinator: Staff, ours) -> dict:
    """The packet's payload exactly as sent, opened with the partner's private key."""
    org = services._org_secret(coordinator.member, coordinator.private_key)
    return packets.packet_open(
        data, recipient=org.identity, recipient_private_key=org.box_private, sender=ours.identity
    ).payload


def _items(page: str) -> list[str]:
    section = page[page.index('id="handoff"') :]
    return [html.unescape(item) for item in re.findall(r"<li\b.*?</li>", section, flags=re.S)]


def _item_with(items: list[str], text: str) -> str:
    [item] = [item for item in items if text in item]
    return item


def test_the_packet_marks_messages_after_a_danger_word_login_and_held_replies(coordinator, two_orgs):
    """Attacker: a captor who forced the person to log in with the danger word and wrote as
    them. The partner receives the captor's message marked, never as the person's words, and
    the reply that was held from the person marked held, never as sent."""
    ours, theirs = two_orgs
    person = _case_with_a_captor_message_and_a_held_reply(coordinator)
    data = _export(person, coordinator)
    _become(theirs, coordinator, partner_name="Ours", partner=ours)

    sent = _open_as_partner(data, coordinator, ours)
    assert sent["version"] == payload.PAYLOAD_VERSION == 2
    flags = {m["body"]: (m["from"], m["after_duress"], m["held"]) for m in sent["conversation"]}
    assert flags[FIRST] == ("person", False, False)
    assert flags[SENT] == ("staff", False, False)
    assert flags[CAPTOR] == ("person", True, False)
    assert flags[HELD] == ("staff", False, True)
    # The cover (decoy) conversation stays out: only the real one, with its automatic reply
    # (the cover conversation has an acknowledgement with the same words).
    staff_view = conversation_for_staff(person.case, coordinator.member, coordinator.private_key)
    decoy_only = {m.body for m in staff_view if m.is_decoy} - {m.body for m in staff_view if not m.is_decoy}
    assert decoy_only and not decoy_only & set(flags)
    assert len(sent["conversation"]) == 5


def test_the_receiving_organisation_shows_both_marks_on_the_imported_case(coordinator, two_orgs):
    ours, theirs = two_orgs
    person = _case_with_a_captor_message_and_a_held_reply(coordinator)
    data = _export(person, coordinator)
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    case = services.handoff_import(
        actor=coordinator.member, actor_private_key=coordinator.private_key, partner=sender, raw=data
    )

    content = selectors.imported_content(case, _opened(case, coordinator))
    assert [(m["after_duress"], m["held"]) for m in content["conversation"] if m["body"] == CAPTOR] == [(True, False)]
    assert [(m["after_duress"], m["held"]) for m in content["conversation"] if m["body"] == HELD] == [(False, True)]

    page = coordinator.console(language="en").get(f"/cases/{case.public_id}/?section=access").content.decode()
    items = _items(page)
    assert AFTER_DURESS in _item_with(items, CAPTOR) and HELD_MARK not in _item_with(items, CAPTOR)
    assert HELD_MARK in _item_with(items, HELD) and AFTER_DURESS not in _item_with(items, HELD)
    for untouched in (FIRST, SENT):
        assert AFTER_DURESS not in _item_with(items, untouched) and HELD_MARK not in _item_with(items, untouched)
    assert NOT_STATED not in page

    page_ru = coordinator.console(language="ru").get(f"/cases/{case.public_id}/?section=access").content.decode()
    items_ru = _items(page_ru)
    assert "написано после входа со словом опасности — возможно, писал не сам человек" in _item_with(items_ru, CAPTOR)
    assert "задержанный ответ — человеку не отправлен" in _item_with(items_ru, HELD)


def _legacy_packet(coordinator: Staff, ours, theirs, conversation: list[dict]) -> bytes:
    """A packet as a version without the flags made it (payload version 1), signed by "theirs"
    and addressed to "ours"; afterwards "ours" is in force again."""
    theirs.put()
    org = services._org_secret(coordinator.member, coordinator.private_key)
    data = packets.packet_seal(
        {
            "version": 1,
            "fields": ["conversation"],
            "consent": {"how": "agreed", "date": "2026-11-20"},
            "conversation": conversation,
        },
        sender=org.identity,
        sender_seed=org.seed,
        recipient=ours.identity,
    )
    ours.put()
    return data


def test_a_packet_from_an_older_version_is_imported_without_invented_flags_and_says_so(coordinator, two_orgs):
    ours, theirs = two_orgs
    data = _legacy_packet(
        coordinator,
        ours,
        theirs,
        [
            {"from": "person", "at": "2026-11-01T10:00:00+00:00", "body": "Old: please help."},
            {"from": "staff", "at": "2026-11-01T11:00:00+00:00", "body": "Old: we are here."},
        ],
    )
    case = services.handoff_import(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=Partner.objects.get(name="Theirs"),
        raw=data,
    )
    content = selectors.imported_content(case, _opened(case, coordinator))
    assert content["version"] == 1
    assert all(set(m) == {"from", "at", "body"} for m in content["conversation"])

    for language, notice in (
        ("en", NOT_STATED),
        ("ru", "не сообщила, какие сообщения написаны после входа со словом опасности"),
    ):
        page = coordinator.console(language=language).get(f"/cases/{case.public_id}/?section=access").content.decode()
        assert notice in html.unescape(page)
        assert AFTER_DURESS not in page and HELD_MARK not in page
        assert "Old: please help." in page


@pytest.mark.parametrize(
    "message",
    [
        # Version 1 has no flags: a version-1 packet carrying them is malformed.
        {"from": "person", "at": "2026-11-01", "body": "x", "after_duress": True, "held": False},
    ],
)
def test_a_version_one_packet_with_flags_is_refused(coordinator, two_orgs, message):
    ours, theirs = two_orgs
    data = _legacy_packet(coordinator, ours, theirs, [message])
    with pytest.raises(services.HandoffRefused):
        services.handoff_import(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            raw=data,
        )
