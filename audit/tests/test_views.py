"""The coordinators' audit page: newest first, paged, filtered, checked, and itself audited."""

from __future__ import annotations

import json
import re

import pytest

from audit.models import Action, AuditEntry
from audit.tests.helpers import append, json_param, sql
from tests.personas import PersonAtRisk, Staff

pytestmark = pytest.mark.django_db


def _sequences(page: str) -> list[int]:
    return [int(number) for number in re.findall(r"<tr><td>(\d+)</td>", page)]


def test_coordinators_see_the_newest_fifty_entries_first_and_can_page_back(coordinator: Staff) -> None:
    console = coordinator.console(language="en")
    append(60)
    newest = AuditEntry.objects.order_by("-sequence").first()
    assert newest is not None
    page = console.get("/audit/").content.decode()
    shown = _sequences(page)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True) and shown[0] == newest.sequence
    assert "The chain verifies over the 50 entries this page spans." in page
    assert 'href="?page=2"' in page
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
    return set(re.findall(r"<tr><td>\d+</td><td[^>]*>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", page))


def _actors_of(page: str) -> set[str]:
    return set(re.findall(r"<tr><td>\d+</td><td[^>]*>[^<]*</td><td>([^<]*)</td>", page))
