"""Who a new case's key is wrapped for, and the pinned recovery key."""

from __future__ import annotations

import pytest
from django.test import override_settings

import sealbox
from accounts.models import RecoveryKey
from casework import services
from casework.models import CaseKeyWrap
from tests.personas import PersonAtRisk, Staff, make_staff, open_case


def test_new_cases_are_wrapped_for_the_on_call_caseworkers_and_the_recovery_key(person: PersonAtRisk) -> None:
    wraps = CaseKeyWrap.objects.filter(case_key__case=person.case)
    holders = {w.member.username for w in wraps if w.member} | {"recovery" for w in wraps if w.for_recovery}
    assert holders == {"coordinator", "caseworker", "recovery"}  # not the outsider on another team


@pytest.mark.parametrize("role", ["analyst", "logistics"])
def test_roles_without_need_to_know_get_no_key_to_new_cases(coordinator: Staff, caseworker: Staff, role: str) -> None:
    """Logistics staff may be given a verified case's key later, never a new (unvetted) one's."""
    other = make_staff(f"a-{role}", role=role, invited_by=coordinator)
    case = open_case().case
    assert not CaseKeyWrap.objects.filter(case_key__case=case, member=other.member).exists()
    assert other.console().get(f"/cases/{case.public_id}/").status_code == 404
    # Nor is the person offered to the case's holders to add by hand before verification.
    page = coordinator.console().get(f"/cases/{case.public_id}/").content.decode()
    assert other.member.username not in page


def test_a_swapped_recovery_key_stops_intake(caseworker: Staff) -> None:
    pinned = bytes(RecoveryKey.objects.get().public_key)
    RecoveryKey.objects.update(public_key=sealbox.KeyPair.generate().public_key)  # a database-level swap
    with override_settings(SP_RECOVERY_PUBLIC_KEY=pinned), pytest.raises(services.IntakeUnavailable):
        open_case()
    RecoveryKey.objects.update(public_key=pinned)
    with override_settings(SP_RECOVERY_PUBLIC_KEY=pinned):
        assert open_case().case.pk
