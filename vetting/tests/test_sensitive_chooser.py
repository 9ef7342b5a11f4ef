"""Sensitive items are decrypted only on their own page, chosen on purpose, audited first, and
never while the case is under duress (T3, T4)."""

from __future__ import annotations

import pytest

from audit.models import Action, AuditEntry
from tests.personas import PersonAtRisk, Staff
from vetting import sensitive
from vetting.models import SensitiveItem, SensitiveKind
from vetting.tests.conftest import private_key
from vetting.tests.test_sensitive_items import SAFE_HOUSE, _verify


@pytest.fixture
def safe_house(coordinator: Staff, caseworker: Staff) -> SensitiveItem:
    return sensitive.sensitive_item_create(actor=coordinator.member, kind=SensitiveKind.SAFE_HOUSE, text=SAFE_HOUSE)


def _chooser(person: PersonAtRisk) -> str:
    return f"/cases/{person.case.public_id}/sensitive/"


def _views(person: PersonAtRisk) -> int:
    return AuditEntry.objects.filter(action=Action.SENSITIVE_ITEMS_VIEW, case_public_id=person.case.public_id).count()


def test_the_case_page_of_a_verified_case_decrypts_no_item_the_chooser_does_and_audits_it(
    vetted_person: PersonAtRisk, caseworker: Staff, verifier: Staff, second_verifier: Staff, safe_house: SensitiveItem
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    console = caseworker.console(language="en")
    case_page = console.get(f"/cases/{vetted_person.case.public_id}/").content.decode()
    assert "домофон 4417" not in case_page and "Choose a sensitive item to share" in case_page
    assert _views(vetted_person) == 0

    chooser = console.post(_chooser(vetted_person), {"body": "Dear friend,\nhere it is:"})
    page = chooser.content.decode()
    assert chooser.status_code == 200 and "домофон 4417" in page
    assert "Dear friend,\nhere it is:" in page  # the draft is carried on to the insert
    assert _views(vetted_person) == 1
    assert console.get(_chooser(vetted_person)).status_code == 200 and _views(vetted_person) == 2

    inserted = console.post(
        f"/cases/{vetted_person.case.public_id}/sensitive/insert/",
        {"body": "Dear friend,\nhere it is:", "sensitive_item": safe_house.pk},
    )
    assert inserted.status_code == 200 and f"here it is:\n\n{SAFE_HOUSE}" in inserted.content.decode()


def test_the_chooser_is_refused_while_the_case_is_under_duress(
    vetted_person: PersonAtRisk, caseworker: Staff, verifier: Staff, second_verifier: Staff, safe_house: SensitiveItem
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    vetted_person.intake(duress=True)
    vetted_person.case.refresh_from_db()
    assert vetted_person.case.under_duress_since is not None
    console = caseworker.console(language="en")
    response = console.get(_chooser(vetted_person))
    page = response.content.decode()
    assert response.status_code == 403 and "under duress" in page and "домофон 4417" not in page
    assert _views(vetted_person) == 0
    case_page = console.get(f"/cases/{vetted_person.case.public_id}/").content.decode()
    assert "Choose a sensitive item to share" not in case_page and "under duress" in case_page
    inserted = console.post(
        f"/cases/{vetted_person.case.public_id}/sensitive/insert/", {"body": "x", "sensitive_item": safe_house.pk}
    )
    assert inserted.status_code == 400 and "домофон 4417" not in inserted.content.decode()
    ru = caseworker.console(language="ru").get(_chooser(vetted_person)).content.decode()
    assert "Кейс под принуждением" in ru


def test_the_chooser_is_refused_for_an_unverified_case_and_hidden_from_non_holders(
    vetted_person: PersonAtRisk, caseworker: Staff, outsider: Staff, verifier: Staff, safe_house: SensitiveItem
) -> None:
    refused = caseworker.console(language="en").get(_chooser(vetted_person))
    assert refused.status_code == 403 and "not verified" in refused.content.decode()
    posted = caseworker.console(language="en").post(_chooser(vetted_person), {"body": "Keep this draft"})
    page = posted.content.decode()
    assert posted.status_code == 403 and "not verified" in page and "Keep this draft" in page
    assert outsider.console().get(_chooser(vetted_person)).status_code == 404
    # A verifier holds the case key but may not release items.
    assert verifier.console().get(_chooser(vetted_person)).status_code == 403
    assert _views(vetted_person) == 0


def test_items_to_share_lists_every_item_shared_with_the_member(
    vetted_person: PersonAtRisk,
    caseworker: Staff,
    coordinator: Staff,
    verifier: Staff,
    second_verifier: Staff,
    safe_house: SensitiveItem,
) -> None:
    _verify(vetted_person, verifier, second_verifier)
    point = sensitive.sensitive_item_create(
        actor=coordinator.member, kind=SensitiveKind.MEETING_POINT, text="Clock tower, 14:00"
    )
    views = sensitive.items_to_share(
        case=vetted_person.case, member=caseworker.member, member_private_key=private_key(caseworker)
    )
    assert {view.item.pk for view in views} == {safe_house.pk, point.pk}
