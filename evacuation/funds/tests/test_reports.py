"""Reports by category and month across all cases (coordinators only, audited), and the CSV
export: no payee text, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from audit.models import Action, AuditEntry
from casework.models import Case
from evacuation.funds import selectors, services
from evacuation.funds.tests.helpers import entry, private_key, text
from tests.personas import PersonAtRisk, Staff


def _csv(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_report_by_category_and_month(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    entry(person.case, caseworker, "100", category="travel", paid_on=date(2026, 3, 1))
    entry(other_person.case, caseworker, "250.50", category="travel", paid_on=date(2026, 3, 31))
    entry(person.case, caseworker, "10", category="food", paid_on=date(2026, 3, 15), currency="EUR")
    entry(person.case, caseworker, "60000", category="travel", paid_on=date(2026, 3, 2))  # waits
    rejected = entry(person.case, caseworker, "70000", category="travel", paid_on=date(2026, 3, 3))
    services.entry_decide(
        entry=rejected, actor=coordinator.member, actor_private_key=private_key(coordinator), approve=False, reason="no"
    )
    entry(person.case, caseworker, "7", category="medical", paid_on=date(2026, 4, 1))
    entry(person.case, caseworker, "1", category="medical", paid_on=date(2025, 4, 1))

    rows = [
        (r.month, r.category, r.currency, r.approved, r.pending, r.entries)
        for r in selectors.report_by_category_and_month()
    ]
    assert rows == [
        (date(2026, 4, 1), "medical", "RUB", Decimal("7"), Decimal("0"), 1),
        (date(2026, 3, 1), "travel", "RUB", Decimal("350.50"), Decimal("60000"), 3),
        (date(2026, 3, 1), "food", "EUR", Decimal("10"), Decimal("0"), 1),
        (date(2025, 4, 1), "medical", "RUB", Decimal("1"), Decimal("0"), 1),
    ]
    assert len(selectors.report_by_category_and_month(year=2025)) == 1

    page = coordinator.console(language="en")
    response = page.get("/funds/")
    assert response.status_code == 200
    shown = text(response)
    assert "March 2026" in shown and "350.50" in shown and "60,000.00" in shown and "Travel inside the country" in shown
    assert "bus tickets" not in shown  # no payee text on the report
    assert AuditEntry.objects.filter(action=Action.FUNDS_REPORT_VIEW, actor=coordinator.member).exists()
    russian = text(coordinator.console(language="ru").get("/funds/?year=2026"))
    assert "Март 2026" in russian and "350,50" in russian and "60\xa0000,00" in russian and "Май" not in russian
    bad = coordinator.console(language="ru").get("/funds/?year=abc")
    assert bad.status_code == 400 and "Выберите год от 2000 до 2100." in text(bad)

    assert caseworker.console().get("/funds/").status_code == 403
    assert caseworker.console().get("/funds/export.csv").status_code == 403


def test_the_csv_export_has_one_line_per_payment_without_payee_text_and_is_audited(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    entry(person.case, caseworker, "1234.5", category="housing", paid_on=date(2026, 2, 10), payee="landlord Akhmed")
    response = coordinator.console(language="en").get("/funds/export.csv?year=2026")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="money-paid-out-2026-')
    lines = _csv(response)
    assert lines == [
        ["case", "category", "month", "currency", "amount", "status"],
        [person.case.public_id, "housing", "2026-02", "RUB", "1234.50", "approved"],
    ]
    assert "Akhmed" not in str(lines)
    audit = AuditEntry.objects.filter(action=Action.FUNDS_EXPORT).latest("sequence")
    assert (audit.actor_id, audit.details) == (coordinator.member.pk, {"rows": 1})


def test_csv_export_is_safe_against_formula_injection(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    entry(person.case, caseworker, "5", paid_on=date(2026, 1, 5))
    # Someone with write access to the database plants formulas in the plaintext columns.
    Case.objects.filter(pk=person.case.pk).update(public_id="=1+2")
    from evacuation.funds.models import LedgerEntry

    LedgerEntry.objects.update(category="@SUM(A1)", currency="+1", status="-2")
    lines = _csv(coordinator.console(language="en").get("/funds/export.csv"))
    assert lines[1] == ["'=1+2", "'@SUM(A1)", "2026-01", "'+1", "5.00", "'-2"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)
