"""The case page in sections (casework.case_page): the conversation and the warnings by default,
every other area on its own section, a form that comes back with an error back in its own
section with what was typed, and a plain reason wherever an action is not offered."""

from __future__ import annotations

import html
import re

import pytest

from accounts.models import Role
from casework.lifecycle import State, case_transition
from casework.services import case_member_add
from tests.personas import PersonAtRisk, Staff, make_staff, open_case

# The sections of the case page, in order, with their names.
LABELS = {
    "conversation": "Conversation",
    "vetting": "Vetting",
    "plan": "Evacuation plan",
    "money": "Money paid out",
    "safehouse": "Safe house",
    "checkins": "Check-ins",
    "notes": "Notes and tasks",
    "evidence": "Evidence",
    "access": "Access",
    "state": "State and warnings",
}
# The panels of the case page (their element ids) and the section each belongs to.
PANELS = {
    "conversation": {"conversation", "reply", "cover"},
    "vetting": {"vetting"},
    "plan": {"evacuation-plan"},
    "money": {"funds"},
    "safehouse": {"placement"},
    "checkins": {"checkins"},
    "notes": {"notes", "tasks"},
    "evidence": {"evidence"},
    "access": {"holders", "handoff", "codename"},
    "state": {"state", "flags"},
}
ALL_PANELS = set().union(*PANELS.values())


def _text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def _panels(page: str) -> set[str]:
    return {found for found in re.findall(r'\bid="([\w-]+)"', page) if found in ALL_PANELS}


@pytest.fixture
def verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def warned(caseworker: Staff, verifier: Staff) -> PersonAtRisk:
    """A triaged case with a hostile relative on record, its key given to the on-call team."""
    person = open_case(body="My uncle reads my phone.", hostile_relative=True, hostile_note="the uncle in Grozny")
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    return person


def test_each_section_shows_only_its_own_panels_and_the_warnings_stay_on_every_one(
    warned: PersonAtRisk, coordinator: Staff
) -> None:
    client = coordinator.console(language="en")
    case_url = f"/cases/{warned.case.public_id}/"

    default = _text(client.get(case_url))
    assert _panels(default) == PANELS["conversation"]
    assert "My uncle reads my phone." in default and 'id="alerts"' in default and "HOSTILE RELATIVE" in default
    links = re.findall(r'<nav class="sections"[^>]*>(.*?)</nav>', default, re.S)[0]
    assert re.findall(r'href="([^"]*)"[^>]*>([^<]*)', links) == [
        (case_url if key == "conversation" else f"{case_url}?section={key}", label) for key, label in LABELS.items()
    ]

    for key, panels in PANELS.items():
        page = _text(client.get(f"{case_url}?section={key}"))
        assert _panels(page) == panels, key
        assert "HOSTILE RELATIVE" in page and "the uncle in Grozny" in page, key  # the warnings, everywhere
        assert re.search(rf'<a href="[^"]*"\s+aria-current="page">[^<]*{re.escape(LABELS[key])}', page), key
        if key != "conversation":
            assert "My uncle reads my phone." not in page, key  # the messages are opened only with the conversation


def test_an_unknown_section_is_the_conversation(warned: PersonAtRisk, coordinator: Staff) -> None:
    page = _text(coordinator.console(language="en").get(f"/cases/{warned.case.public_id}/?section=nothing"))
    assert _panels(page) == PANELS["conversation"]


def test_a_form_with_an_error_comes_back_in_its_own_section_with_what_was_typed(
    warned: PersonAtRisk, caseworker: Staff
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{warned.case.public_id}/"

    # A task without a title: the notes section again, the detail typed kept, the error shown.
    response = client.post(f"{case_url}tasks/", {"title": "", "detail": "Ask the lawyer about the Georgian visa."})
    assert response.status_code == 400
    page = _text(response)
    assert _panels(page) == PANELS["notes"]
    assert "Ask the lawyer about the Georgian visa." in page and "Not saved" in page

    # Money with an amount that is not one: the money section, the payee typed kept.
    response = client.post(
        f"{case_url}funds/",
        {"category": "travel", "amount": "lots", "currency": "EUR", "paid_on": "2025-01-02", "payee": "bus"},
    )
    assert response.status_code == 400
    page = _text(response)
    assert _panels(page) == PANELS["money"]
    assert 'value="bus"' in page

    # Done, a form goes back to its section.
    response = client.post(f"{case_url}notes/", {"body": "Called back, all calm."})
    assert response.status_code == 302 and response["Location"] == f"{case_url}?section=notes"
    response = client.post(f"{case_url}tasks/", {"title": "Find a lawyer", "owner": caseworker.member.pk})
    assert response["Location"] == f"{case_url}?section=notes"


def test_an_action_not_offered_says_why(warned: PersonAtRisk, caseworker: Staff, verifier: Staff) -> None:
    """Before: the forms were left out and nothing said why."""
    case_url = f"/cases/{warned.case.public_id}/"
    # Verifiers are given a case when vetting starts; this one is named on it before, to see
    # what the sections say to a verifier while vetting has not started.
    case_member_add(
        case=warned.case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=verifier.member
    )
    as_verifier = verifier.console(language="en")
    as_caseworker = caseworker.console(language="en")

    def section(client: object, key: str) -> str:
        return _text(client.get(f"{case_url}?section={key}"))  # type: ignore[attr-defined]

    # The case is triaged: vetting has not started.
    vetting = section(as_verifier, "vetting")
    assert "Sign-off opens when vetting starts." in vetting and 'action="/cases/' not in vetting.split("Sign-offs")[1]
    assert "Only a verifier or a coordinator can sign off a case." in section(as_caseworker, "vetting")
    assert "An evacuation is planned only for a verified case. Finish vetting first." in section(as_caseworker, "plan")
    assert "Only the person of a verified case can be placed in a safe house." in section(as_caseworker, "safehouse")
    assert "Your role may not place people in safe houses." in section(as_verifier, "safehouse")
    money = section(as_verifier, "money")
    assert "Only coordinators, caseworkers and logistics staff record money paid out." in money
    assert "A coordinator sets the budget and approves payments." in money
    assert "sets the check-in schedule and the fate status." in section(as_verifier, "checkins")
    access = section(as_verifier, "access")
    assert "Only a caseworker or coordinator can issue a new codename." in access
    assert "Only a coordinator can hand cases to partners or open packets from them." in access
    state = section(as_verifier, "state")
    assert "Not open to your role: Start vetting, Close." in state
    assert "Only a caseworker or coordinator can change these warnings." in state

    # Vetting started: the caseworker cannot verify; a verifier may, once two have signed off.
    case_transition(case=warned.case, member=caseworker.member, to_state=State.VETTING)
    assert "Not open to your role: Mark verified." in section(as_caseworker, "state")
    assert "(signed so far: 0 of 2)" in section(as_verifier, "state")
    vetting = section(as_verifier, "vetting")
    assert "Sign-off opens when vetting starts." not in vetting and f'action="{case_url}vetting/sign-off/"' in vetting


def test_the_section_list_marks_where_something_waits(warned: PersonAtRisk, caseworker: Staff) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{warned.case.public_id}/"
    assert "needs attention" not in _text(client.get(case_url))
    case_transition(case=warned.case, member=caseworker.member, to_state=State.VETTING)
    page = _text(client.get(case_url))
    assert re.search(r'\?section=vetting"[^>]*>Vetting\s+<span class="badge attention">', page)
