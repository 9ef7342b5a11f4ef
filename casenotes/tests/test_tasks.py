"""Tasks on a case: title and detail sealed to the case key, a plaintext due date, an owner who
can read the case, done or open; overdue tasks stand out; each member's open tasks across
cases on "My tasks", decrypting only the page shown; revision-checked edits."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import Action, AuditEntry
from casenotes import selectors, services
from casenotes.models import CaseTask
from casenotes.tests.helpers import field_value, private_key, text, textarea
from casenotes.views import MY_TASKS_PAGE_SIZE
from casework import keys
from casework import services as casework_services
from casework.models import Case
from casework.sealed import Refused
from tests.personas import PersonAtRisk, Staff


def _task(case: Case, actor: Staff, owner: Staff, title: str, *, due: date | None = None, detail: str = "") -> CaseTask:
    return services.task_create(
        case=case,
        actor=actor.member,
        actor_private_key=private_key(actor),
        owner=owner.member,
        title=title,
        detail=detail,
        due=due,
    )


def _today() -> date:
    return timezone.localdate()


def test_a_task_is_sealed_to_the_case_key_and_an_overdue_one_stands_out_on_the_case_page(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    console = caseworker.console(language="en")
    form = {
        "title": "Buy the train ticket",
        "detail": "Platform 4, pay in cash",
        "due": (_today() - timedelta(days=1)).isoformat(),
        "owner": coordinator.member.pk,
    }
    response = console.post(f"/cases/{person.case.public_id}/tasks/", form)
    assert response.status_code == 302, text(response)[:2000]

    task = CaseTask.objects.get(case=person.case)
    assert (task.owner, task.created_by, task.due) == (coordinator.member, caseworker.member, _today() - timedelta(1))
    for plain in (b"Buy the train ticket", b"Platform 4"):
        assert plain not in bytes(task.title_ct) + bytes(task.detail_ct)
    assert task.case_key.version == person.case.key_version
    page = text(console.get(f"/cases/{person.case.public_id}/?section=notes"))
    line = page.split(f'id="task-{task.pk}"', 1)[1].split("</li>", 1)[0]
    assert 'class=" overdue"' in page.split(f'id="task-{task.pk}"', 1)[1][:30]
    assert "OVERDUE" in line and "Buy the train ticket" in line and "Platform 4, pay in cash" in line
    assert "coordinator" in line
    entry = AuditEntry.objects.filter(action=Action.TASK_CREATE).latest("sequence")
    assert entry.details == {"task": str(task.pk), "owner": coordinator.member.pk}

    # Done tasks are never overdue.
    assert console.post(f"/cases/{person.case.public_id}/tasks/{task.pk}/done/", {"done": "1"}).status_code == 302
    line = text(console.get(f"/cases/{person.case.public_id}/?section=notes")).split(f'id="task-{task.pk}"', 1)[1]
    assert "OVERDUE" not in line.split("</li>", 1)[0]


def test_my_tasks_lists_only_my_open_tasks_due_first(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    today = _today()
    _task(person.case, coordinator, caseworker, "No due date")
    _task(other_person.case, coordinator, caseworker, "Due in a week", due=today + timedelta(days=7))
    _task(person.case, caseworker, caseworker, "Overdue since yesterday", due=today - timedelta(days=1))
    _task(person.case, caseworker, coordinator, "The coordinator's task", due=today)
    done = _task(person.case, caseworker, caseworker, "Already done", due=today - timedelta(days=3))
    services.task_set_done(task=done, actor=caseworker.member, actor_private_key=private_key(caseworker), done=True)

    page = text(caseworker.console(language="en").get("/tasks/"))
    titles = re.findall(r"<strong>([^<]+)</strong>", page.split("<h1>", 1)[1])
    assert titles == ["Overdue since yesterday", "Due in a week", "No due date"]
    assert "OVERDUE" in page.split("Overdue since yesterday", 1)[0].rsplit("<li", 1)[1]
    assert other_person.case.public_id in page and person.case.public_id in page
    audited = AuditEntry.objects.filter(action=Action.TASKS_VIEW, actor=caseworker.member)
    assert {(e.case_public_id, e.details["tasks"]) for e in audited} == {
        (person.case.public_id, 2),
        (other_person.case.public_id, 1),
    }


def test_my_tasks_leaves_out_cases_i_was_removed_from(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    _task(person.case, coordinator, caseworker, "A task before she left")
    casework_services.case_member_remove(  # she leaves the case
        case=person.case, actor=caseworker.member, actor_private_key=private_key(caseworker), member=caseworker.member
    )
    page = text(caseworker.console(language="en").get("/tasks/"))
    assert "A task before she left" not in page and person.case.public_id not in page
    assert "You have no open tasks." in page


def test_my_tasks_decrypts_only_the_rows_on_the_page_shown(caseworker: Staff, person: PersonAtRisk) -> None:
    today = _today()
    tasks = [
        _task(person.case, caseworker, caseworker, f"Task {n:02d}", due=today + timedelta(days=n))
        for n in range(MY_TASKS_PAGE_SIZE + 2)
    ]
    # The last row cannot be opened at all while page 1 is shown: showing page 1 must not try.
    last = CaseTask.objects.get(pk=tasks[-1].pk)
    CaseTask.objects.filter(pk=last.pk).update(title_ct=b"\x02" + b"\x00" * 100)
    console = caseworker.console(language="en")
    first = text(console.get("/tasks/"))
    assert "Task 00" in first and f"Task {MY_TASKS_PAGE_SIZE - 1:02d}" in first
    assert f"Task {MY_TASKS_PAGE_SIZE:02d}" not in first
    assert "?page=2" in first
    CaseTask.objects.filter(pk=last.pk).update(title_ct=bytes(last.title_ct))
    second = text(console.get("/tasks/?page=2"))
    assert f"Task {MY_TASKS_PAGE_SIZE:02d}" in second and f"Task {MY_TASKS_PAGE_SIZE + 1:02d}" in second
    assert AuditEntry.objects.filter(action=Action.TASKS_VIEW).latest("sequence").details == {"tasks": 2}


def test_a_second_editor_gets_a_conflict_and_keeps_their_text(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    task = _task(person.case, caseworker, caseworker, "Find a flat", detail="Two rooms")
    url = f"/cases/{person.case.public_id}/tasks/{task.pk}/edit/"
    hers, his = caseworker.console(language="en"), coordinator.console(language="en")
    assert field_value(text(hers.get(url)), "revision") == "1"
    assert field_value(text(his.get(url)), "revision") == "1"

    saved = {"title": "Find a flat in Yerevan", "detail": "", "due": "", "owner": caseworker.member.pk, "revision": 1}
    assert hers.post(url, saved).status_code == 302
    typed = {
        "title": "Find a flat near the station",
        "detail": "He cannot climb stairs",
        "due": (_today() + timedelta(days=2)).isoformat(),
        "owner": coordinator.member.pk,
        "revision": 1,
    }
    response = his.post(url, typed)

    assert response.status_code == 409
    page = text(response)
    assert "Not saved: this was changed while you were editing." in page
    assert "caseworker saved a newer version" in page
    assert "Find a flat in Yerevan" in page.split("The version saved now", 1)[1]
    assert field_value(page, "title") == "Find a flat near the station"
    assert textarea(page, "detail") == "He cannot climb stairs"
    assert field_value(page, "due") == typed["due"]
    assert re.search(rf'<option value="{coordinator.member.pk}" selected>', page)
    assert field_value(page, "revision") == "2"
    task.refresh_from_db()
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    view = selectors.open_task(task, opened)
    assert (view.title, view.detail, task.owner, task.revision) == ("Find a flat in Yerevan", "", caseworker.member, 2)

    assert his.post(url, {**typed, "revision": 2}).status_code == 302
    task.refresh_from_db()
    view = selectors.open_task(task, opened)
    assert (view.title, view.detail, task.owner, task.updated_by) == (
        "Find a flat near the station",
        "He cannot climb stairs",
        coordinator.member,
        coordinator.member,
    )
    assert AuditEntry.objects.filter(action=Action.TASK_EDIT).count() == 2


def test_a_task_can_only_be_given_to_someone_who_can_read_the_case(
    caseworker: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    form = {"title": "Meet at the border", "owner": outsider.member.pk}
    response = caseworker.console(language="en").post(f"/cases/{person.case.public_id}/tasks/", form)
    assert response.status_code == 400
    page = text(response)
    assert "A task can only be given to someone who can read the case." in page
    assert field_value(page, "title") == "Meet at the border"
    with pytest.raises(Refused):
        _task(person.case, caseworker, outsider, "Meet at the border")
    assert not CaseTask.objects.exists()


def test_someone_without_the_case_key_can_neither_add_nor_tick_nor_change_tasks(
    caseworker: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    task = _task(person.case, caseworker, caseworker, "Hidden from outsiders")
    console = outsider.console()
    base = f"/cases/{person.case.public_id}/tasks/"
    assert console.post(base, {"title": "x", "owner": outsider.member.pk}).status_code == 404
    assert console.post(f"{base}{task.pk}/done/", {"done": "1"}).status_code == 404
    assert console.get(f"{base}{task.pk}/edit/").status_code == 404
    task.refresh_from_db()
    assert task.done_at is None
    with pytest.raises(keys.NoAccess):
        services.task_set_done(task=task, actor=outsider.member, actor_private_key=private_key(outsider), done=True)


def test_marking_a_task_done_takes_it_off_my_tasks_and_can_be_undone(caseworker: Staff, person: PersonAtRisk) -> None:
    task = _task(person.case, caseworker, caseworker, "Call the lawyer")
    console = caseworker.console(language="en")
    url = f"/cases/{person.case.public_id}/tasks/{task.pk}/done/"
    response = console.post(url, {"done": "1", "back": "tasks"})
    assert (response.status_code, response["Location"]) == (302, "/tasks/")
    assert "Call the lawyer" not in text(console.get("/tasks/"))
    assert console.post(url, {"done": "1"}).status_code == 302  # twice is harmless
    assert AuditEntry.objects.filter(action=Action.TASK_DONE).count() == 1
    console.post(url, {"done": "0", "back": "tasks"})
    assert "Call the lawyer" in text(console.get("/tasks/"))
    assert [e.details["done"] for e in AuditEntry.objects.filter(action=Action.TASK_DONE).order_by("sequence")] == [
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("language", "no_title", "bad_date"),
    [
        ("en", "Write what needs doing.", "Enter the date as YYYY-MM-DD."),
        ("ru", "Напишите, что нужно сделать.", "Введите дату в виде ГГГГ-ММ-ДД."),
    ],
)
def test_task_form_errors_are_clear_in_both_languages_and_keep_the_text(
    caseworker: Staff, person: PersonAtRisk, language: str, no_title: str, bad_date: str
) -> None:
    form = {"title": "", "detail": "Keep this detail", "due": "next Tuesday", "owner": caseworker.member.pk}
    response = caseworker.console(language=language).post(f"/cases/{person.case.public_id}/tasks/", form)
    assert response.status_code == 400
    page = text(response)
    assert no_title in page and bad_date in page
    assert textarea(page, "detail") == "Keep this detail"
    assert field_value(page, "due") == "next Tuesday"
    assert not CaseTask.objects.exists()
