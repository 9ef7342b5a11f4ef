"""The coordinators' audit page: newest first, paged, filtered, checked, and itself audited."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from audit.models import Action, AuditEntry
from audit.tests.helpers import append, head_row, json_param, noted, sql
from casework.lifecycle import State, case_transition
from tests.personas import PersonAtRisk, Staff

pytestmark = pytest.mark.django_db


def _sequences(page: str) -> list[int]:
    return [int(number) for number in re.findall(r"<tr>\s*<td>(\d+)</td>", page)]


def test_coordinators_see_the_newest_fifty_entries_first_and_can_page_back(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    append(60)
    newest = AuditEntry.objects.order_by("-sequence").first()
    assert newest is not None
    page = console.get("/audit/").content.decode()
    shown = _sequences(page)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True) and shown[0] == newest.sequence
    assert "The chain verifies over the 50 entries this page spans." in page
    assert 'href="/audit/?page=2"' in page
    older = _sequences(console.get("/audit/?page=2").content.decode())
    # Viewing page 1 added an entry on top, so page 2 starts with page 1's last row.
    assert older[0] == shown[-1] and older == sorted(older, reverse=True)


def test_viewing_the_log_is_itself_audited_with_the_filters_used(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    assert console.get("/audit/?action=login&page=1").status_code == 200
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry is not None
    assert (entry.action, entry.actor) == (Action.AUDIT_VIEW, coordinator.member)
    assert entry.details == {"page": 1, "action": "login", "actor": None}


def test_the_filters_narrow_by_action_staff_member_and_case(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    worker = caseworker.console()
    case_id = person.case.public_id
    worker.get(f"/cases/{case_id}/")
    console = coordinator.console(language="en")

    by_action = console.get("/audit/?action=case_view").content.decode()
    assert _entries_of(by_action) == {"Viewed case"}
    by_actor = console.get(f"/audit/?actor={caseworker.member.pk}").content.decode()
    assert _actors_of(by_actor) == {"caseworker"}
    by_case = console.get(f"/audit/?case={case_id.lower()}").content.decode()
    assert len(_sequences(by_case)) == 1 and case_id in by_case
    assert AuditEntry.objects.order_by("-sequence").values_list("case_public_id", flat=True).first() == case_id


def test_free_text_typed_into_the_case_filter_is_neither_used_nor_stored(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    typed = "Ruslan from Grozny"
    page = console.get("/audit/", {"case": typed}).content.decode()
    assert len(_sequences(page)) > 1  # not filtered
    stored = json.dumps(list(AuditEntry.objects.values("case_public_id", "details")))
    assert "Ruslan" not in stored and "Grozny" not in stored


def test_the_page_says_when_the_chain_it_shows_is_broken(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    append(3)
    target = AuditEntry.objects.order_by("-sequence").values_list("sequence", flat=True)[1]
    sql(f"UPDATE audit_auditentry SET details = {json_param()} WHERE sequence = %s", [json.dumps({"n": 7}), target])  # noqa: S608
    page = console.get("/audit/").content.decode()
    assert f"The audit chain is broken at entry {target}." in page


def test_only_coordinators_have_the_audit_log_in_their_menu(coordinator: Staff, caseworker: Staff) -> None:
    assert 'href="/audit/"' in coordinator.console().get("/inbox/").content.decode()
    worker = caseworker.console()
    assert 'href="/audit/"' not in worker.get("/inbox/").content.decode()
    assert worker.get("/audit/").status_code == 403


def _entries_of(page: str) -> set[str]:
    return set(re.findall(r"<tr>\s*<td>\d+</td>\s*<td[^>]*>[^<]*</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", page))


def _actors_of(page: str) -> set[str]:
    return set(re.findall(r"<tr>\s*<td>\d+</td>\s*<td[^>]*>[^<]*</td>\s*<td>([^<]*)</td>", page))


def _grouped(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, 64, 4))


def _newest() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry is not None
    return entry


def test_the_page_shows_its_own_entry_as_the_point_to_write_down_with_the_time_it_was_read(
    coordinator: Staff,
) -> None:
    """The head shown is the entry that records this very visit, so what the coordinator notes
    and what the log says they saw agree."""
    console = coordinator.console(language="en")
    append(3)
    page = console.get("/audit/").content.decode()
    visit = _newest()
    assert (visit.action, visit.actor) == (Action.AUDIT_VIEW, coordinator.member)
    assert head_row()[:2] == (visit.sequence, visit.entry_hash)
    assert f"{visit.sequence}: {_grouped(visit.entry_hash)}" in page
    assert timezone.localtime(visit.at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert "Write down the number and the fingerprint somewhere off the server" in page


def test_the_page_raises_the_alarm_instead_of_offering_a_head_whose_mac_does_not_hold(coordinator: Staff) -> None:
    """Database writer (no pepper): cuts the newest entries and makes the head name the new last
    one. The coordinator is told, and is not offered a point to write down."""
    console = coordinator.console(language="en")
    append(4)
    last = _newest().sequence
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [last - 2])
    kept = AuditEntry.objects.get(sequence=last - 2)
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s", [kept.sequence, kept.entry_hash])
    page = console.get("/audit/").content.decode()
    assert "The end of the audit log was changed outside the console" in page
    assert "Write down the number" not in page
    assert _grouped(_newest().entry_hash) not in page


def test_a_coordinator_checks_a_point_written_down_earlier_and_the_check_is_audited(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    append(3)
    sequence = _newest().sequence - 1
    written = noted(sequence)
    response = console.post("/audit/check/", {"head": written})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"Entry {sequence} with the fingerprint you wrote down is still in the log, "
        "and the 1 entry after it checks out." in page
    )
    # The check is the request's one entry, and the point now offered for writing down.
    check = _newest()
    assert (check.action, check.actor) == (Action.AUDIT_HEAD_CHECK, coordinator.member)
    assert check.details == {"sequence": sequence, "result": "found"}
    assert not AuditEntry.objects.filter(action=Action.AUDIT_VIEW, sequence__gt=sequence).exists()
    assert f"{check.sequence}: {_grouped(check.entry_hash)}" in page


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "The fingerprint you wrote down is no longer in the log"),
        ("ru", "Записанного вами отпечатка больше нет в журнале"),
    ],
)
def test_checking_a_point_noted_before_the_tail_was_cut_says_plainly_it_is_missing(
    coordinator: Staff, language: str, says: str
) -> None:
    """Database writer who kept an earlier copy of the head row: cuts the entries written since
    and puts the old head back, so the log alone looks intact. The point a coordinator wrote
    down in between is reported missing, in the coordinator's language."""
    console = coordinator.console(language=language)
    append(2)
    saved = head_row()
    append(3)
    written = noted(_newest().sequence)
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [saved[0]])
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s, mac = %s", list(saved))
    page = console.post("/audit/check/", {"head": written}).content.decode()
    assert says in page
    check = AuditEntry.objects.get(action=Action.AUDIT_HEAD_CHECK)
    assert check.details["result"] == "missing"


def test_a_check_also_reports_a_head_whose_mac_does_not_hold(coordinator: Staff) -> None:
    """Database writer: cuts the newest entries and rewrites the head by hand; the point the
    coordinator wrote down before them is still there, but the end of the log is not sound."""
    console = coordinator.console(language="en")
    append(4)
    written = noted(_newest().sequence - 2)
    last = _newest().sequence
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [last - 1])
    kept = AuditEntry.objects.get(sequence=last - 1)
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s", [kept.sequence, kept.entry_hash])
    page = console.post("/audit/check/", {"head": written}).content.decode()
    assert "The end of the audit log was changed outside the console" in page
    assert AuditEntry.objects.get(action=Action.AUDIT_HEAD_CHECK).details["result"] == "head_broken"


def test_a_malformed_point_is_shown_again_with_a_plain_message_and_never_stored(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    typed = "Ruslan from Grozny"
    response = console.post("/audit/check/", {"head": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Type the number and the fingerprint as this page shows them" in page
    assert f'value="{typed}"' in page  # what was typed is kept in the form
    assert not AuditEntry.objects.filter(action=Action.AUDIT_HEAD_CHECK).exists()
    stored = json.dumps(list(AuditEntry.objects.values("case_public_id", "details")))
    assert "Ruslan" not in stored and "Grozny" not in stored


def test_only_coordinators_can_check_a_written_down_point(caseworker: Staff) -> None:
    worker = caseworker.console()
    assert worker.post("/audit/check/", {"head": "1:" + "0" * 64}).status_code == 403
    assert not AuditEntry.objects.filter(action=Action.AUDIT_HEAD_CHECK).exists()


def test_the_details_of_an_entry_read_in_the_console_language(coordinator: Staff, person: PersonAtRisk) -> None:
    """Keys and codes are shown with their labels ("роль: аналитик"), numbers as they are."""
    case_transition(case=person.case, member=coordinator.member, to_state=State.TRIAGED)
    page = coordinator.console(language="ru").get("/audit/?action=case_transition").content.decode()
    assert "было: Новый; стало: Разобран" in page
    enrolment = coordinator.console(language="ru").get("/audit/?action=staff_enrol").content.decode()
    assert re.search(r"ссылка: \d+; роль: Куратор; ключ подписи: [0-9a-f]{32}", enrolment), enrolment
