"""The ledger of a case: entries sealed to the case key, approval above a per-currency limit by a
coordinator other than the one who entered it, revision-checked edits, audited writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEntry
from casework import keys
from casework.sealed import RecordDoesNotOpen, Refused
from evacuation.funds import selectors, services
from evacuation.funds.models import EntryStatus, LedgerEntry
from evacuation.funds.tests.helpers import entry, private_key, second_coordinator, text
from tests.personas import PersonAtRisk, Staff


def _form(**overrides: str) -> dict[str, str]:
    return {
        "category": "housing",
        "amount": "12 000,50",
        "currency": "RUB",
        "paid_on": timezone.localdate().isoformat(),
        "payee": "landlord of the flat",
        **overrides,
    }


def test_a_caseworker_records_a_payment_below_the_limit_approved_at_once_and_audited(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    response = caseworker.console(language="ru").post(f"/cases/{person.case.public_id}/funds/", _form())
    assert (response.status_code, response["Location"]) == (302, f"/cases/{person.case.public_id}/?section=money")
    saved = LedgerEntry.objects.get(case=person.case)
    assert (saved.amount, saved.currency, saved.category) == (Decimal("12000.50"), "RUB", "housing")
    assert (saved.status, saved.needs_approval, saved.entered_by_id) == (
        EntryStatus.APPROVED,
        False,
        caseworker.member.pk,
    )
    audit = AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_CREATE).latest("sequence")
    assert (audit.actor_id, audit.case_public_id) == (caseworker.member.pk, person.case.public_id)
    assert audit.details == {"entry": str(saved.pk), "status": "approved", "over_budget": False}
    page = text(caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "landlord of the flat" in page and "12\xa0000,50 RUB" in page
    page = text(caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "12,000.50 RUB" in page


def test_payee_text_is_not_stored_in_plaintext(caseworker: Staff, person: PersonAtRisk) -> None:
    payee = "hostel on Marx street, room 7, ask for the night porter"
    saved = entry(person.case, caseworker, "900", payee=payee)
    assert payee.encode() not in bytes(saved.payee_ct)
    with connection.cursor() as cursor:
        cursor.execute("SELECT payee_ct FROM funds_ledgerentry")
        stored = [bytes(row[0]) for row in cursor.fetchall()]
    assert stored and all(payee.encode() not in row for row in stored)
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_entry(LedgerEntry.objects.get(pk=saved.pk), opened).payee == payee
    # Bound to its record: moved to another entry, it no longer opens, and says so (it used to
    # read as "you cannot open this with your key", which hid the change).
    other = entry(person.case, caseworker, "100", payee="something else")
    LedgerEntry.objects.filter(pk=other.pk).update(payee_ct=saved.payee_ct)
    with pytest.raises(RecordDoesNotOpen):
        selectors.open_entry(LedgerEntry.objects.get(pk=other.pk), opened)
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money")
    assert page.status_code == 409 and "Stopped: a record of this case does not open" in text(page)
    assert payee not in text(page)


def test_an_entry_over_the_limit_waits_for_a_coordinator(
    settings: object, coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    settings.SP_FUNDS_APPROVAL_OVER = {"RUB": Decimal("50000"), "EUR": Decimal("500")}  # type: ignore[attr-defined]
    at_limit = entry(person.case, caseworker, "50000")
    over = entry(person.case, caseworker, "50000.01")
    no_limit = entry(person.case, caseworker, "1", currency="USD")
    assert at_limit.status == EntryStatus.APPROVED
    assert (over.status, over.needs_approval) == (EntryStatus.PENDING, True)
    assert no_limit.status == EntryStatus.PENDING  # a currency without a limit always waits

    # A caseworker cannot decide.
    refused = caseworker.console(language="en").post(
        f"/cases/{person.case.public_id}/funds/{over.pk}/decide/", {"decision": "approve", "reason": "fine"}
    )
    assert refused.status_code == 403
    with pytest.raises(Refused):
        services.entry_decide(
            entry=over, actor=caseworker.member, actor_private_key=private_key(caseworker), approve=True, reason="x"
        )

    page = text(coordinator.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))
    assert f"/funds/{over.pk}/decide/" in page
    reason = "Agreed by phone with the partner in Tbilisi"
    response = coordinator.console(language="en").post(
        f"/cases/{person.case.public_id}/funds/{over.pk}/decide/", {"decision": "approve", "reason": reason}
    )
    assert response.status_code == 302
    over.refresh_from_db()
    assert (over.status, over.decided_by_id) == (EntryStatus.APPROVED, coordinator.member.pk)
    assert reason.encode() not in bytes(over.reason_ct)
    audit = AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_APPROVE).latest("sequence")
    assert (audit.actor_id, audit.details) == (coordinator.member.pk, {"entry": str(over.pk)})
    assert reason in text(caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))

    # Decided once: a second decision is refused.
    again = coordinator.console(language="ru").post(
        f"/cases/{person.case.public_id}/funds/{over.pk}/decide/", {"decision": "reject", "reason": "no"}
    )
    assert again.status_code == 400 and "больше не ждёт одобрения" in text(again)


def test_a_decision_needs_a_reason_in_either_language(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    over = entry(person.case, caseworker, "1000000")
    url = f"/cases/{person.case.public_id}/funds/{over.pk}/decide/"
    english = coordinator.console(language="en").post(url, {"decision": "reject", "reason": ""})
    assert english.status_code == 400 and "Write why you approve or reject it." in text(english)
    russian = coordinator.console(language="ru").post(url, {"decision": "reject", "reason": " "})
    assert russian.status_code == 400 and "Напишите, почему вы одобряете или отклоняете платёж." in text(russian)
    assert LedgerEntry.objects.get(pk=over.pk).status == EntryStatus.PENDING


def test_a_rejection_is_audited_and_its_reason_is_bound_to_the_decision(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    over = entry(person.case, caseworker, "1000000")
    decided = services.entry_decide(
        entry=over,
        actor=coordinator.member,
        actor_private_key=private_key(coordinator),
        approve=False,
        reason="Too much",
    )
    assert decided.status == EntryStatus.REJECTED
    assert AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_REJECT, details={"entry": str(over.pk)}).exists()
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_entry(LedgerEntry.objects.get(pk=over.pk), opened).reason == "Too much"
    # A database writer flipping the rejection into an approval leaves a reason that does not
    # open, and the console says so instead of showing an approval with an unreadable reason.
    LedgerEntry.objects.filter(pk=over.pk).update(status=EntryStatus.APPROVED)
    with pytest.raises(RecordDoesNotOpen):
        selectors.open_entry(LedgerEntry.objects.get(pk=over.pk), opened)
    page = caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/?section=money")
    assert page.status_code == 409 and "Остановлено: запись этого кейса не открывается" in text(page)
    # A rejected entry is not changed: a new one is recorded instead.
    LedgerEntry.objects.filter(pk=over.pk).update(status=EntryStatus.REJECTED)
    with pytest.raises(Refused):
        services.entry_edit(
            entry=over,
            actor=caseworker.member,
            actor_private_key=private_key(caseworker),
            data=services.EntryInput("travel", Decimal("10"), "RUB", timezone.localdate(), "bus"),
            expected_revision=1,
        )


def test_a_coordinator_cannot_approve_their_own_entry(coordinator: Staff, person: PersonAtRisk) -> None:
    own = entry(person.case, coordinator, "1000000")
    assert own.status == EntryStatus.PENDING
    page = text(coordinator.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "Another coordinator must approve or reject this payment." in page
    assert f"/funds/{own.pk}/decide/" not in page
    response = coordinator.console(language="en").post(
        f"/cases/{person.case.public_id}/funds/{own.pk}/decide/", {"decision": "approve", "reason": "mine"}
    )
    assert response.status_code == 400
    assert "another coordinator must approve or reject it" in text(response)
    assert LedgerEntry.objects.get(pk=own.pk).status == EntryStatus.PENDING
    assert not AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_APPROVE).exists()

    second = second_coordinator(coordinator, person.case)
    services.entry_decide(
        entry=own, actor=second.member, actor_private_key=private_key(second), approve=True, reason="checked receipts"
    )
    assert LedgerEntry.objects.get(pk=own.pk).status == EntryStatus.APPROVED


def test_a_coordinator_who_changed_an_entry_cannot_approve_it_either(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    waiting = entry(person.case, caseworker, "1000000")
    services.entry_edit(
        entry=waiting,
        actor=coordinator.member,
        actor_private_key=private_key(coordinator),
        data=services.EntryInput("travel", Decimal("2000000"), "RUB", timezone.localdate(), "train"),
        expected_revision=1,
    )
    with pytest.raises(Refused):
        services.entry_decide(
            entry=waiting,
            actor=coordinator.member,
            actor_private_key=private_key(coordinator),
            approve=True,
            reason="ok",
        )


def test_changing_an_approved_entry_above_the_limit_makes_it_wait_again(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    big = entry(person.case, caseworker, "1000000")
    services.entry_decide(
        entry=big, actor=coordinator.member, actor_private_key=private_key(coordinator), approve=True, reason="ok"
    )
    url = f"/cases/{person.case.public_id}/funds/{big.pk}/edit/"
    page = text(caseworker.console(language="en").get(url))
    assert "bus tickets" in page and 'name="revision" value="1"' in page
    response = caseworker.console(language="en").post(url, {**_form(amount="1500000"), "revision": "1"})
    assert response.status_code == 302
    big.refresh_from_db()
    assert (big.status, big.decided_by_id, bytes(big.reason_ct), big.revision) == (EntryStatus.PENDING, None, b"", 2)
    assert AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_EDIT).latest("sequence").details["status"] == "pending"


def test_an_edit_from_an_older_revision_is_refused_and_keeps_what_was_typed(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    saved = entry(person.case, caseworker, "100")
    url = f"/cases/{person.case.public_id}/funds/{saved.pk}/edit/"
    assert (
        coordinator.console(language="en").post(url, {**_form(payee="first change"), "revision": "1"}).status_code
        == 302
    )
    late = caseworker.console(language="en").post(url, {**_form(payee="my late change"), "revision": "1"})
    assert late.status_code == 409
    page = text(late)
    assert "my late change" in page and "first change" in page and "coordinator changed this payment" in page
    assert 'name="revision" value="2"' in page
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_entry(LedgerEntry.objects.get(pk=saved.pk), opened).payee == "first change"


def test_bad_input_is_refused_with_clear_messages_in_both_languages(caseworker: Staff, person: PersonAtRisk) -> None:
    url = f"/cases/{person.case.public_id}/funds/"
    future = (timezone.localdate() + timezone.timedelta(days=2)).isoformat()
    cases = [
        (_form(amount="1,500"), "Write the amount in digits, like 1500 or 1500.50", "Напишите сумму цифрами"),
        (_form(amount="0"), "The amount must be more than zero.", "Сумма должна быть больше нуля."),
        (_form(amount="-5"), "Write the amount in digits", "Напишите сумму цифрами"),
        (_form(amount="100000000.01"), "The amount is too large", "Сумма слишком большая"),
        (_form(amount="12.345"), "Write the amount in digits", "Напишите сумму цифрами"),
        (_form(currency="XAU"), "Choose one of the currencies in the list.", "Выберите валюту из списка."),
        (_form(category="bribes"), "Choose what the money was for.", "Выберите, на что потрачены деньги."),
        (_form(paid_on=future), "The date paid cannot be in the future.", "Дата оплаты не может быть в будущем."),
        (_form(paid_on="31.02.2026"), "Enter the date as YYYY-MM-DD.", "ГГГГ-ММ-ДД"),
        (_form(payee=""), "Describe who was paid.", "Опишите, кому заплатили."),
        (_form(payee="x" * 301), "The description is too long", "Описание слишком длинное"),
    ]
    for form, english, russian in cases:
        en = caseworker.console(language="en").post(url, form)
        assert en.status_code == 400 and english in text(en), (form, text(en)[:200])
        ru = caseworker.console(language="ru").post(url, form)
        assert ru.status_code == 400 and russian in text(ru), (form, russian)
        # Nothing typed is lost.
        assert form["payee"] in text(ru)
    assert not LedgerEntry.objects.exists()


def test_who_may_record_and_who_sees_nothing(
    coordinator: Staff, caseworker: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    from accounts.models import Role
    from tests.personas import make_staff

    saved = entry(person.case, caseworker, "100", payee="taxi to the station")
    assert outsider.console(language="en").post(f"/cases/{person.case.public_id}/funds/", _form()).status_code == 404
    assert (
        outsider.console(language="en").get(f"/cases/{person.case.public_id}/funds/{saved.pk}/edit/").status_code == 404
    )
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    opened = keys.current_key_open(person.case, coordinator.member, private_key(coordinator))
    keys.wrap_case_key_for(analyst.member, keys.current_case_key(person.case), opened)
    assert analyst.console(language="en").post(f"/cases/{person.case.public_id}/funds/", _form()).status_code == 403
    assert "taxi to the station" in text(
        analyst.console(language="en").get(f"/cases/{person.case.public_id}/?section=money")
    )
    with pytest.raises(Refused):
        entry(person.case, analyst, "5")
    assert LedgerEntry.objects.count() == 1
