"""Sensitive items: kept encrypted with keyed hashes, refused in replies to unverified cases,
sent to verified cases only after the sender confirms (T3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from audit.models import Action, AuditEntry
from casework.lifecycle import State, case_transition
from casework.models import Message
from tests.personas import PersonAtRisk, Staff
from tests.plaintext_search import database_places, needles_for, search_places
from vetting import sensitive, services
from vetting.models import SensitiveItem, SensitiveItemKey, SensitiveKind
from vetting.tests.conftest import private_key

SAFE_HOUSE = "Safe flat: ул. Лёнина, д. 15, кв. 42, домофон 4417"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def safe_house(coordinator: Staff, caseworker: Staff) -> SensitiveItem:
    return sensitive.sensitive_item_create(actor=coordinator.member, kind=SensitiveKind.SAFE_HOUSE, text=SAFE_HOUSE)


def _verify(person: PersonAtRisk, verifier: Staff, second: Staff) -> None:
    for staff in (verifier, second):
        services.sign_off_create(
            case=person.case,
            member=staff.member,
            member_private_key=private_key(staff),
            signing_key=staff.signing_key,
            reason="ok",
        )
    case_transition(case=person.case, member=verifier.member, to_state=State.VERIFIED)


def _staff_messages(person: PersonAtRisk) -> int:
    return Message.objects.filter(case=person.case, sender=Message.Sender.STAFF).count()


def test_it_refuses_a_reply_with_a_safe_house_address_to_an_unverified_case(
    vetted_person: PersonAtRisk, caseworker: Staff, safe_house: SensitiveItem
) -> None:
    draft = "Go to Lenina street — no: ул Ленина 15 кв 42, code 4417. See you."
    response = caseworker.console(language="en").post(f"/cases/{vetted_person.case.public_id}/reply/", {"body": draft})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not sent." in page and "Safe-house address" in page and "not verified" in page
    assert "ул Ленина 15 кв 42, code 4417" in page  # the draft is kept in the form
    assert _staff_messages(vetted_person) == 0
    # Ticking a confirmation by hand changes nothing for an unverified case.
    forced = caseworker.console().post(
        f"/cases/{vetted_person.case.public_id}/reply/", {"body": draft, "send_sensitive": "yes"}
    )
    assert forced.status_code == 400 and _staff_messages(vetted_person) == 0
    refused = AuditEntry.objects.filter(
        action=Action.SENSITIVE_REPLY_REFUSED, case_public_id=vetted_person.case.public_id
    )
    assert refused.count() == 2 and refused.first().details == {"kinds": "safe_house"}


def test_a_reply_without_sensitive_items_goes_through_to_an_unverified_case(
    vetted_person: PersonAtRisk, caseworker: Staff, safe_house: SensitiveItem
) -> None:
    draft = "We received your message; someone will write to you tonight. Stay where you are, 15 minutes."
    response = caseworker.console().post(f"/cases/{vetted_person.case.public_id}/reply/", {"body": draft})
    assert response.status_code == 302 and _staff_messages(vetted_person) == 1


def test_it_warns_before_sending_a_sensitive_item_to_a_verified_case(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    url = f"/cases/{vetted_person.case.public_id}/reply/"
    draft = "The flat: Ленина 15, кв 42 (домофон 4417)."
    console = caseworker.console(language="en")
    first = console.post(url, {"body": draft})
    page = first.content.decode()
    assert first.status_code == 400 and "Not sent yet." in page and 'name="send_sensitive"' in page
    assert "(домофон 4417)" in page and _staff_messages(vetted_person) == 0
    confirmed = console.post(url, {"body": draft, "send_sensitive": "yes"})
    assert confirmed.status_code == 302 and _staff_messages(vetted_person) == 1
    assert AuditEntry.objects.filter(action=Action.SENSITIVE_REPLY_CONFIRMED, details={"kinds": "safe_house"}).exists()
    assert draft in vetted_person.intake().get("/conversation/").content.decode()


def test_the_warning_is_in_russian_too(
    vetted_person: PersonAtRisk, caseworker: Staff, safe_house: SensitiveItem
) -> None:
    response = caseworker.console(language="ru").post(
        f"/cases/{vetted_person.case.public_id}/reply/", {"body": "ЛЕНИНА 15 КВ. 42"}
    )
    assert response.status_code == 400 and "Не отправлено." in response.content.decode()


def test_sharing_a_meeting_point_is_refused_for_an_unverified_case_and_offered_for_a_verified_one(
    vetted_person: PersonAtRisk, caseworker: Staff, coordinator: Staff, verifier: Staff, second_verifier: Staff
) -> None:
    point = "Meeting point: café Sever by the Moskovsky station clock, 14:00"
    item = sensitive.sensitive_item_create(actor=coordinator.member, kind=SensitiveKind.MEETING_POINT, text=point)
    console = caseworker.console(language="en")
    case_url = f"/cases/{vetted_person.case.public_id}/"
    refused = console.post(f"{case_url}sensitive/insert/", {"body": "Keep this draft", "sensitive_item": item.pk})
    assert refused.status_code == 400
    assert "not verified" in refused.content.decode() and "Keep this draft" in refused.content.decode()
    assert point not in refused.content.decode()
    assert 'formaction="' not in console.get(case_url).content.decode()

    _verify(vetted_person, verifier, second_verifier)
    case_page = console.get(case_url).content.decode()
    assert f'formaction="{case_url}sensitive/"' in case_page and point not in case_page
    chooser = console.post(f"{case_url}sensitive/", {"body": "Hello,"}).content.decode()
    assert point in chooser and f'action="{case_url}sensitive/insert/"' in chooser and "Hello," in chooser
    inserted = console.post(f"{case_url}sensitive/insert/", {"body": "Hello,", "sensitive_item": item.pk})
    assert inserted.status_code == 200 and f"Hello,\n\n{point}" in inserted.content.decode()
    assert AuditEntry.objects.filter(action=Action.SENSITIVE_ITEM_INSERT, details={"item": item.pk}).exists()
    # Sending it still takes the confirmation.
    assert console.post(f"{case_url}reply/", {"body": f"Hello,\n\n{point}"}).status_code == 400
    assert console.post(f"{case_url}reply/", {"body": point, "send_sensitive": "yes"}).status_code == 302


def test_item_texts_are_not_stored_in_plaintext_and_open_only_for_their_readers(
    coordinator: Staff, caseworker: Staff, verifier: Staff, safe_house: SensitiveItem
) -> None:
    assert not search_places(database_places(), needles_for("item", SAFE_HOUSE))
    readers = set(SensitiveItemKey.objects.filter(item=safe_house).values_list("member__username", flat=True))
    assert readers == {"coordinator", "caseworker", None}  # None: the recovery key
    assert sensitive.item_text(safe_house, caseworker.member, private_key(caseworker)) == SAFE_HOUSE
    assert sensitive.item_text(safe_house, verifier.member, private_key(verifier)) is None


def test_staff_who_join_later_are_given_the_items_by_a_coordinator(
    coordinator: Staff, safe_house: SensitiveItem
) -> None:
    from tests.personas import make_staff

    newcomer = make_staff("newcomer", invited_by=coordinator)
    later = make_staff("later", invited_by=coordinator)
    assert sensitive.items_unshared() == 2
    page = coordinator.console(language="en").get("/sensitive/").content.decode()
    assert SAFE_HOUSE in page and "cannot be read yet" in page
    assert "Share with newcomer" in page and "Share with later" in page
    # The coordinator approves each member by handle: sharing with one leaves the other out.
    assert coordinator.console().post("/sensitive/share/", {"member": newcomer.member.pk}).status_code == 302
    assert sensitive.item_text(safe_house, newcomer.member, private_key(newcomer)) == SAFE_HOUSE
    assert sensitive.item_text(safe_house, later.member, private_key(later)) is None
    assert sensitive.items_unshared() == 1
    assert [m.username for m, _n in sensitive.readers_lacking_items()] == ["later"]


def test_coordinators_add_and_delete_items_through_the_page(coordinator: Staff, caseworker: Staff) -> None:
    console = coordinator.console(language="en")
    assert console.post("/sensitive/", {"kind": "staff_name", "text": "Мария Ивановна Соколова"}).status_code == 302
    item = SensitiveItem.objects.get()
    assert item.kind == SensitiveKind.STAFF_NAME
    empty = console.post("/sensitive/", {"kind": "staff_name", "text": "  ...  "})
    assert empty.status_code == 400
    assert console.post(f"/sensitive/{item.pk}/delete/").status_code == 302
    assert not SensitiveItem.objects.exists()
    assert caseworker.console().get("/sensitive/").status_code == 403
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {Action.SENSITIVE_ITEM_CREATE, Action.SENSITIVE_ITEM_DELETE, Action.SENSITIVE_ITEMS_VIEW} <= actions


def test_a_cover_reply_with_a_sensitive_item_is_refused_even_on_a_verified_case(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    # Whoever logs in with the danger word reads the cover conversation: possibly a captor.
    _verify(vetted_person, verifier, second_verifier)
    assert vetted_person.intake(duress=True).get("/conversation/").status_code == 200
    draft = "The flat: Ленина 15, кв 42 (домофон 4417)."
    url = f"/cases/{vetted_person.case.public_id}/decoy-reply/"
    console = caseworker.console(language="en")
    for data in ({"decoy_body": draft}, {"decoy_body": draft, "send_sensitive": "yes"}):
        response = console.post(url, data)
        page = response.content.decode()
        assert response.status_code == 400 and "may be a captor" in page
        assert "(домофон 4417)" in page  # the draft is kept in the form
    assert not Message.objects.filter(case=vetted_person.case, sender=Message.Sender.STAFF, is_decoy=True).exists()
    refused = AuditEntry.objects.filter(
        action=Action.SENSITIVE_REPLY_REFUSED, case_public_id=vetted_person.case.public_id
    )
    assert [entry.details for entry in refused] == [{"kinds": "safe_house", "conversation": "cover"}] * 2
    harmless = console.post(url, {"decoy_body": "The bakery opens at ten tomorrow."})
    assert harmless.status_code == 302
