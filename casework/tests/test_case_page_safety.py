"""The case page as staff use it at 3 a.m.: warnings first, then the conversation, every other
area in a section of its own (casework.case_page); no two boxes share an element id; actions that are hard to undo need a tick
(checked on the server: the console works without JavaScript); every action says what happened."""

from __future__ import annotations

import re
from collections import Counter

from audit.models import Action, AuditEntry
from casework.models import Case, Message
from tests.personas import PersonAtRisk, Staff

COVER = "Grandma says the cake was lovely."


def _page(staff: Staff, case: Case, language: str = "en", section: str = "") -> str:
    query = f"?section={section}" if section else ""
    return str(staff.console(language=language).get(f"/cases/{case.public_id}/{query}").content.decode())


def _under_duress(person: PersonAtRisk) -> Case:
    person.intake(duress=True)
    person.case.refresh_from_db()
    assert person.case.under_duress_since is not None
    return person.case


def _set_hostile(staff: Staff, case: Case) -> None:
    flags = {"hostile_relative": "on", "no_contact_via": ["phone"], "revision": str(case.revision)}
    assert staff.console().post(f"/cases/{case.public_id}/flags/", flags).status_code == 302
    case.refresh_from_db()


def test_warnings_come_first_then_the_conversation_and_the_rest_in_sections(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    _set_hostile(caseworker, case)
    _under_duress(person)
    page = _page(caseworker, case)
    order = [
        'id="alerts"',
        "DANGER-WORD LOGIN",
        "HOSTILE RELATIVE",
        'class="triage summary"',
        'id="conversation"',
        "First message from the person.",
        'id="reply"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert 'id="notes"' not in page and 'id="vetting"' not in page
    # Every other section: the same warnings first, then the section list, then the section.
    for section, marker in (("notes", 'id="notes"'), ("vetting", 'id="vetting"'), ("access", 'id="holders"')):
        other = _page(caseworker, case, section=section)
        order = ['id="alerts"', "DANGER-WORD LOGIN", "HOSTILE RELATIVE", 'class="sections"', marker]
        positions = [other.index(found) for found in order]
        assert positions == sorted(positions), section
    # Duress, and hostile family in one alert block, before the summary.
    alerts = page.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert "DANGER-WORD LOGIN" in alerts and "HOSTILE RELATIVE" in alerts and "DO NOT CONTACT VIA" in alerts
    # Staff read the urgency in the third person, not in the person's own intake words.
    russian = _page(caseworker, case, language="ru")
    summary = russian.split('class="triage summary"', 1)[1].split("</dl>", 1)[0]
    assert "Опасность сейчас" in summary and "Мне грозит" not in russian


def test_no_two_elements_on_the_case_page_share_an_id_and_the_note_label_points_to_the_note(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    _under_duress(person)
    for section in ("", "vetting", "plan", "money", "safehouse", "checkins", "notes", "access", "state"):
        page = _page(caseworker, person.case, section=section)
        ids = Counter(re.findall(r'\sid="([^"]+)"', page))
        assert [name for name, count in ids.items() if count > 1] == [], section
        assert 'for="id_reason"' not in page and 'for="id_body"' not in page, section
    page = _page(caseworker, person.case)
    assert 'for="reply_body"' in page and 'id="reply_body"' in page
    assert 'for="duress_reason"' in page
    notes = _page(caseworker, person.case, section="notes")
    assert 'for="note_body"' in notes and 'id="note_body"' in notes


def test_clearing_duress_has_no_preselected_reason_and_needs_a_tick(caseworker: Staff, person: PersonAtRisk) -> None:
    case = _under_duress(person)
    page = _page(caseworker, case)
    select = page.split('id="duress_reason"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value=""[^>]*selected', select)
    url = f"/cases/{case.public_id}/duress/clear/"
    unticked = caseworker.console(language="en").post(url, {"reason": "met_in_person"})
    assert unticked.status_code == 400
    assert "Tick the box to confirm that the person is safe to write to." in unticked.content.decode()
    no_reason = caseworker.console(language="ru").post(url, {"confirm": "on"})
    assert no_reason.status_code == 400 and "Не сделано" in no_reason.content.decode()
    case.refresh_from_db()
    assert case.under_duress_since is not None
    assert not AuditEntry.objects.filter(action=Action.CASE_DURESS_CLEAR).exists()


def test_replacing_the_codename_removing_a_reader_and_closing_need_a_tick(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    console = caseworker.console(language="en")
    burn = console.post(f"/cases/{case.public_id}/codename/burn/")
    assert burn.status_code == 400 and "Tick the box to confirm." in burn.content.decode()
    assert not AuditEntry.objects.filter(action=Action.CODENAME_BURN).exists()
    remove = console.post(f"/cases/{case.public_id}/members/{caseworker.member.pk}/remove/")
    assert remove.status_code == 400 and "Tick the box to confirm." in remove.content.decode()
    assert not AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).exists()
    close = {"to_state": "closed", "reason": "duplicate", "revision": str(case.revision)}
    refused = coordinator.console(language="ru").post(f"/cases/{case.public_id}/state/", close)
    assert refused.status_code == 400 and "Поставьте галочку" in refused.content.decode()
    case.refresh_from_db()
    assert case.status != "closed"


def test_after_a_reply_the_page_says_whether_it_was_sent_or_held(caseworker: Staff, person: PersonAtRisk) -> None:
    case = person.case
    console = caseworker.console(language="en")
    sent = console.post(f"/cases/{case.public_id}/reply/", {"body": "We are on it."}, follow=True)
    assert re.search(
        r'<div class="status" role="status">\s*<p class="success">Reply sent.</p>\s*</div>', sent.content.decode()
    )
    assert "Reply sent." not in _page(caseworker, case)  # shown once, not on the next visit
    _under_duress(person)
    held = console.post(f"/cases/{case.public_id}/reply/", {"body": "Still on it."}, follow=True)
    assert "Reply held: the person sees it only once a coordinator releases it." in held.content.decode()
    empty = caseworker.console(language="ru").post(f"/cases/{case.public_id}/reply/", {"body": ""})
    top = empty.content.decode().split('id="alerts"', 1)[0]
    assert empty.status_code == 400 and "Не отправлено" in top and 'href="#reply"' in top


def test_the_cover_conversation_is_folded_away_from_the_real_one(caseworker: Staff, person: PersonAtRisk) -> None:
    case = person.case
    posted = caseworker.console().post(f"/cases/{case.public_id}/decoy-reply/", {"decoy_body": COVER})
    assert posted.status_code == 302
    assert Message.objects.filter(case=case, is_decoy=True).exists()
    page = _page(caseworker, case)
    conversation = page.split('id="conversation"', 1)[1].split("</section>", 1)[0]
    cover = page.split('<details id="cover"', 1)[1].split("</details>", 1)[0]
    assert COVER not in conversation and COVER in cover
    assert "possibly the captor" in cover and 'id="reply"' not in cover
