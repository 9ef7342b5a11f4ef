"""The case page and the inbox decrypt one page of rows, whatever the number of messages or cases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest

import sealbox
from accounts.keyring import staff_private_key_unlock
from casework import selectors, services
from casework.models import Case
from tests.personas import PASSWORD, PersonAtRisk, Staff, open_case


@pytest.fixture
def decryptions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts every sealbox.unseal and sealbox.decrypt by the ciphertext's context label."""
    counts: Counter[str] = Counter()

    def counted(original: Callable[..., bytes]) -> Callable[..., bytes]:
        def wrapper(key: bytes, ciphertext: bytes, *, ctx: bytes) -> bytes:
            size = int.from_bytes(ctx[:4], "big")
            counts[ctx[4 : 4 + size].decode()] += 1
            return original(key, ciphertext, ctx=ctx)

        return wrapper

    monkeypatch.setattr(sealbox, "unseal", counted(sealbox.unseal))
    monkeypatch.setattr(sealbox, "decrypt", counted(sealbox.decrypt))
    yield counts


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def _replies(case: Case, staff: Staff, count: int) -> None:
    for n in range(count):
        services.message_post_from_staff(
            case=case,
            member=staff.member,
            signing_key=staff.signing_key,
            member_private_key=staff.private_key,
            body=f"Reply number {n:03d}.",
        )


def test_the_case_page_shows_the_newest_page_and_links_to_earlier_messages(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    # The request, the acknowledgement and the decoy pair, then replies up to two pages and three.
    _replies(person.case, caseworker, 2 * selectors.STAFF_PAGE_SIZE - 4 + 3)
    client = caseworker.console()

    newest = client.get(f"/cases/{person.case.public_id}/").content.decode()
    assert newest.count('class="body"') == selectors.STAFF_PAGE_SIZE
    assert "Reply number 049." in newest
    assert "Reply number 048." not in newest
    assert f"/cases/{person.case.public_id}/?page=2" in newest
    assert "Newer messages" not in newest

    middle = client.get(f"/cases/{person.case.public_id}/?page=2").content.decode()
    assert "Reply number 048." in middle
    assert "Reply number 049." not in middle
    assert f'href="/cases/{person.case.public_id}/"' in middle  # back to the newest page

    oldest = client.get(f"/cases/{person.case.public_id}/?page=3").content.decode()
    assert oldest.count('class="body"') == 3
    assert "First message from the person." in oldest
    assert "Earlier messages" not in oldest


def test_the_case_page_decrypts_only_the_page_it_shows(
    person: PersonAtRisk, caseworker: Staff, decryptions: Counter[str]
) -> None:
    _replies(person.case, caseworker, selectors.STAFF_PAGE_SIZE + 20)
    client = caseworker.console()
    decryptions.clear()

    response = client.get(f"/cases/{person.case.public_id}/")

    assert response.status_code == 200
    assert decryptions["message.key"] == selectors.STAFF_PAGE_SIZE
    assert decryptions["message.body"] == selectors.STAFF_PAGE_SIZE


def test_the_inbox_decrypts_one_page_of_cases(caseworker: Staff, outsider: Staff, decryptions: Counter[str]) -> None:
    for n in range(selectors.INBOX_PAGE_SIZE + 5):
        open_case(body=f"Request {n}.", duress_word="")
    client = caseworker.console()
    decryptions.clear()

    response = client.get("/inbox/")

    assert response.status_code == 200
    assert len(response.context["rows"]) == selectors.INBOX_PAGE_SIZE
    assert all(row.details is not None for row in response.context["rows"])
    assert decryptions["case.wrap"] == selectors.INBOX_PAGE_SIZE
    assert decryptions["case.details"] == selectors.INBOX_PAGE_SIZE
    second = client.get("/inbox/?page=2")
    assert len(second.context["rows"]) == 5
    shown = [row.case.pk for row in [*response.context["rows"], *second.context["rows"]]]
    assert sorted(shown) == sorted(Case.objects.values_list("pk", flat=True))


def test_cases_visible_to_lists_each_held_case_once_across_key_versions(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(body="Rotated twice.")
    other = open_case(body="Not rotated.")
    for _ in range(2):  # every rotation wraps a new version for the remaining holders
        services.case_member_add(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=_private_key(coordinator),
            member=outsider.member,
        )
        services.case_member_remove(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=_private_key(coordinator),
            member=outsider.member,
        )

    visible = selectors.cases_visible_to(caseworker.member)

    assert sorted(visible.values_list("pk", flat=True)) == sorted([person.case.pk, other.case.pk])
    assert visible.count() == 2
    assert not selectors.cases_visible_to(outsider.member).exists()


def test_inbox_page_numbers_out_of_range_show_the_last_page_and_nonsense_the_first(
    caseworker: Staff, outsider: Staff
) -> None:
    for n in range(selectors.INBOX_PAGE_SIZE + 1):
        open_case(body=f"Request {n}.", duress_word="")
    client = caseworker.console()

    for asked, shown, rows in (("abc", 1, selectors.INBOX_PAGE_SIZE), ("99", 2, 1), ("0", 2, 1), ("2", 2, 1)):
        response = client.get(f"/inbox/?page={asked}")
        assert response.status_code == 200
        assert response.context["page"].number == shown
        assert response.context["page"].paginator.num_pages == 2
        assert len(response.context["rows"]) == rows


def test_an_empty_inbox_has_one_empty_page(caseworker: Staff) -> None:
    response = caseworker.console().get("/inbox/?page=3")

    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert response.context["rows"] == []
