"""Two staff members editing the same case: the second save, based on what the first changed
away, is refused with the case as it is now and the second person's typing kept."""

from __future__ import annotations

import re

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from casework import selectors, services
from casework.lifecycle import State
from casework.models import Case, CaseKey
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff

CONFLICT_EN = "Someone else changed this case while you were editing. Their changes are shown; check and save again."
CONFLICT_RU = "Кто-то другой изменил этот кейс, пока вы его редактировали."
FIRST_NOTE = "The uncle drives for the local police."
SECOND_NOTE = "Her brother found the second phone."


def _revision_on(page: str) -> str:
    found = re.search(r'name="revision" value="(\d+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


def _details(case: Case, staff: Staff) -> services.CaseDetails:
    case.refresh_from_db()
    private = staff_private_key_unlock(staff.member, PASSWORD)
    opened = selectors.keys.case_private_keys(case, staff.member, private)
    sealed_to = CaseKey.objects.get(case=case, version=case.details_key_version)
    return selectors.case_details_for_staff(case, opened[sealed_to.pk])


def test_two_staff_editing_flags_get_a_conflict_not_a_silent_overwrite(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    url = f"/cases/{person.case.public_id}/flags/"
    hers, his = caseworker.console(language="en"), coordinator.console(language="en")
    her_revision = _revision_on(hers.get(f"/cases/{person.case.public_id}/?section=state").content.decode())
    his_revision = _revision_on(his.get(f"/cases/{person.case.public_id}/?section=state").content.decode())
    assert her_revision == his_revision

    first = {"hostile_relative": "on", "hostile_note": FIRST_NOTE, "no_contact_via": ["phone"]}
    assert hers.post(url, {**first, "revision": her_revision}).status_code == 302
    second = {"hostile_relative": "on", "hostile_note": SECOND_NOTE, "no_contact_via": ["sms"]}
    response = his.post(url, {**second, "revision": his_revision})

    assert response.status_code == 409
    page = response.content.decode()
    assert CONFLICT_EN in page
    assert FIRST_NOTE in page  # their change, as saved now
    form = page.split('class="flags"', 1)[1].split("</form>", 1)[0]
    assert SECOND_NOTE in form  # what he typed is kept
    assert re.search(r'value="sms"[^>]*checked', form) and not re.search(r'value="phone"[^>]*checked', form)
    saved = _details(person.case, caseworker)
    assert (saved.hostile_note, saved.no_contact_via) == (FIRST_NOTE, ["phone"])

    # Saving again from the re-rendered form is based on the current revision and goes through.
    again = {**second, "revision": _revision_on(form)}
    assert his.post(url, again).status_code == 302
    saved = _details(person.case, caseworker)
    assert (saved.hostile_note, saved.no_contact_via) == (SECOND_NOTE, ["sms"])


def test_two_staff_changing_state_get_a_conflict_not_a_silent_overwrite(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    url = f"/cases/{person.case.public_id}/state/"
    hers, his = caseworker.console(language="en"), coordinator.console(language="en")
    her_revision = _revision_on(hers.get(f"/cases/{person.case.public_id}/?section=state").content.decode())
    his_revision = _revision_on(his.get(f"/cases/{person.case.public_id}/?section=state").content.decode())

    assert hers.post(url, {"to_state": "triaged", "revision": her_revision}).status_code == 302
    response = his.post(
        url, {"to_state": "closed", "reason": "duplicate", "revision": his_revision, "confirm_close": "on"}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert CONFLICT_EN in page
    assert "State now: <strong>Triaged</strong>" in page and "changed by caseworker" in page
    assert re.search(r'<option value="duplicate" selected>', page)  # what he chose is kept
    person.case.refresh_from_db()
    assert person.case.status == State.TRIAGED

    again = {"to_state": "closed", "reason": "duplicate", "revision": _revision_on(page), "confirm_close": "on"}
    assert his.post(url, again).status_code == 302
    person.case.refresh_from_db()
    assert person.case.status == State.CLOSED


def test_the_conflict_is_explained_in_russian(caseworker: Staff, coordinator: Staff, person: PersonAtRisk) -> None:
    url = f"/cases/{person.case.public_id}/state/"
    assert caseworker.console().post(url, {"to_state": "triaged", "revision": "0"}).status_code == 302

    response = coordinator.console(language="ru").post(url, {"to_state": "triaged", "revision": "0"})

    assert response.status_code == 409
    assert CONFLICT_RU in response.content.decode()


def test_a_form_without_its_revision_changes_nothing(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="en")
    response = client.post(f"/cases/{person.case.public_id}/flags/", {"hostile_relative": "on"})
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    response = client.post(f"/cases/{person.case.public_id}/state/", {"to_state": "triaged"})
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    person.case.refresh_from_db()
    assert (person.case.status, person.case.revision) == (State.NEW, 0)


def test_every_staff_change_to_the_case_bumps_its_revision(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    private = staff_private_key_unlock(coordinator.member, PASSWORD)

    def revision() -> int:
        return Case.objects.get(pk=case.pk).revision

    before = revision()
    services.case_member_add(case=case, actor=coordinator.member, actor_private_key=private, member=verifier.member)
    assert revision() == before + 1
    services.case_member_remove(case=case, actor=coordinator.member, actor_private_key=private, member=verifier.member)
    assert revision() == before + 2
    services.message_post_from_staff(
        case=case,
        member=coordinator.member,
        member_private_key=coordinator.private_key,
        signing_key=coordinator.signing_key,
        body="A reply is not an edit.",
    )
    assert revision() == before + 2
