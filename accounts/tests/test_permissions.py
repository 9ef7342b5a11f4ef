"""accounts/permissions.py: the table in its docstring is what the functions do, for every role."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import permissions
from accounts.context import Capabilities
from accounts.models import Role, StaffMember

COLUMNS = {"C": Role.COORDINATOR, "W": Role.CASEWORKER, "V": Role.VERIFIER, "L": Role.LOGISTICS, "A": Role.ANALYST}
ROW = re.compile(r"^\| (\w+)\s+\|.*\| ([x.] [x.] [x.] [x.] [x.]) \|$")


def _table() -> dict[str, dict[str, bool]]:
    """capability -> role -> allowed, read from the module docstring."""
    table = {}
    for line in (permissions.__doc__ or "").splitlines():
        found = ROW.match(line)
        if found:
            marks = found.group(2).split()
            table[found.group(1)] = {role: mark == "x" for role, mark in zip(COLUMNS.values(), marks, strict=True)}
    return table


def _member(role: str, *, pk: int = 1, active: bool = True) -> StaffMember:
    return StaffMember(pk=pk, username=f"{role}-{pk}", role=role, is_active=active)


def test_the_table_lists_every_capability_of_the_member_alone() -> None:
    assert set(_table()) == permissions.MEMBER_CAPABILITIES


@pytest.mark.parametrize("role", list(Role.values))
def test_each_role_may_do_exactly_what_the_table_says(role: str) -> None:
    member = _member(role)
    for capability, allowed in _table().items():
        assert getattr(permissions, f"can_{capability}")(member) == allowed[role], (capability, role)


@pytest.mark.parametrize("role", list(Role.values))
def test_a_disabled_account_may_do_nothing(role: str) -> None:
    member = _member(role, active=False)
    for capability in permissions.MEMBER_CAPABILITIES:
        assert not getattr(permissions, f"can_{capability}")(member), capability
    assert permissions.case_list_scope(member) == "none"
    assert not permissions.can_hold_case_key(member, case_verified=True)
    assert not permissions.can_disable_staff(member, _member(Role.CASEWORKER, pk=2))


def test_someone_who_is_not_a_staff_member_may_do_nothing() -> None:
    anonymous = AnonymousUser()
    for capability in permissions.MEMBER_CAPABILITIES:
        assert not getattr(permissions, f"can_{capability}")(anonymous), capability
        assert getattr(Capabilities(anonymous), capability) is False
    assert permissions.case_list_scope(anonymous) == "none"


def test_templates_get_the_capabilities_of_the_member_alone() -> None:
    may = Capabilities(_member(Role.COORDINATOR))
    assert may.release_held_reply is True
    with pytest.raises(AttributeError):
        may.remove_member  # noqa: B018 (needs the other member and the case's holders)
    with pytest.raises(AttributeError):
        may.nonexistent_capability  # noqa: B018


def test_case_list_scopes_and_who_may_hold_a_case_key() -> None:
    scopes = {role: permissions.case_list_scope(_member(role)) for role in Role.values}
    assert scopes == {
        "coordinator": "all",
        "caseworker": "team",
        "verifier": "team",
        "logistics": "own",
        "analyst": "none",
    }
    for role in (Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER):
        assert permissions.can_hold_case_key(_member(role), case_verified=False)
    assert not permissions.can_hold_case_key(_member(Role.LOGISTICS), case_verified=False)
    assert permissions.can_hold_case_key(_member(Role.LOGISTICS), case_verified=True)
    assert not permissions.can_hold_case_key(_member(Role.ANALYST), case_verified=True)


def test_only_a_coordinator_disables_accounts_and_never_their_own() -> None:
    coordinator = _member(Role.COORDINATOR, pk=1)
    assert permissions.can_disable_staff(coordinator, _member(Role.COORDINATOR, pk=2))
    assert not permissions.can_disable_staff(coordinator, coordinator)
    assert not permissions.can_disable_staff(_member(Role.CASEWORKER, pk=3), _member(Role.VERIFIER, pk=4))


# Holders by letter: C coordinator, W and X caseworkers, V verifier, L logistics member.
HOLDERS = {
    "C": _member(Role.COORDINATOR, pk=1),
    "W": _member(Role.CASEWORKER, pk=2),
    "X": _member(Role.CASEWORKER, pk=3),
    "V": _member(Role.VERIFIER, pk=4),
    "L": _member(Role.LOGISTICS, pk=5),
}


@pytest.mark.parametrize(
    ("holders", "actor", "member", "allowed"),
    [
        # a coordinator takes anyone off while a content reader and a second holder stay
        ("CWV", "C", "W", True),
        ("CWXV", "C", "X", True),
        ("CWV", "C", "V", True),
        ("CW", "C", "W", False),  # the coordinator would be the only reader
        ("CV", "C", "V", False),
        # a caseworker takes off only verifiers and logistics staff
        ("CWV", "W", "V", True),
        ("CWL", "W", "L", True),
        ("CWV", "W", "C", False),
        ("CWXV", "W", "X", False),
        ("WV", "W", "V", False),  # she would be the only reader
        # verifiers and logistics staff take nobody else off
        ("CWV", "V", "W", False),
        ("CWVL", "L", "V", False),
        # anyone leaves while a caseworker or coordinator and someone else stay
        ("CWV", "V", "V", True),
        ("CWVL", "L", "L", True),
        ("CWV", "C", "C", True),
        ("WVL", "W", "W", False),  # the last caseworker or coordinator
        ("CV", "C", "C", False),
        ("C", "C", "C", False),  # the last holder
        # a verifier alone with logistics (no content reader left already) may still leave
        ("VL", "V", "V", True),
        # only holders act, on holders
        ("CWV", "X", "V", False),
        ("CW", "C", "V", False),
    ],
)
def test_who_may_take_whom_off_a_case(holders: str, actor: str, member: str, allowed: bool) -> None:
    everyone = [HOLDERS[letter] for letter in holders]
    assert permissions.can_remove_member(HOLDERS[actor], HOLDERS[member], everyone) == allowed
