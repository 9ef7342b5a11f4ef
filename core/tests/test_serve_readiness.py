"""What `make run` prints before anyone can write: whether the intake accepts requests, and
if not, what must still be done (casework.services.intake_readiness), then the setup link.

A team used to learn that setup was unfinished from a person's request being thrown away
after it was typed. The start-up output now says it first, in the order things are done.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

import sealbox
from accounts import services as account_services
from accounts.models import RecoveryKey, TeamMembership
from casework import services
from core.management.commands.serve import Command as Serve
from tests.personas import Staff, enrol

CLOSED = "The intake does not accept requests yet. Still to do:"
OPEN = "The intake accepts requests."


def _printed_by_serve() -> str:
    out = StringIO()
    Serve(stdout=out).print_intake_readiness()
    return out.getvalue()


def _en(reason: object) -> str:
    """`make run` speaks English, like the rest of its output."""
    with translation.override("en"):
        return str(reason)


def _reasons(printed: str) -> list[str]:
    return [line.removeprefix("  - ") for line in printed.splitlines() if line.startswith("  - ")]


@pytest.mark.django_db
def test_a_fresh_install_says_to_create_the_coordinator_and_the_recovery_key_then_gives_the_link() -> None:
    printed = _printed_by_serve()
    assert CLOSED in printed
    assert _reasons(printed) == [_en(services.SETUP_NOT_DONE), _en(services.NO_RECOVERY_KEY)]
    assert "/signup/" in printed
    assert printed.index(CLOSED) < printed.index("/signup/"), "what to do first, then the link to do it with"


@pytest.mark.django_db
def test_after_the_coordinator_signed_up_only_the_recovery_key_is_left() -> None:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    enrol(token, "coordinator")
    printed = _printed_by_serve()
    assert _reasons(printed) == [_en(services.NO_RECOVERY_KEY)]
    assert "A coordinator account exists already" in printed


def test_a_finished_setup_says_the_intake_accepts_requests(coordinator: Staff) -> None:
    printed = _printed_by_serve()
    assert OPEN in printed and CLOSED not in printed and _reasons(printed) == []


def test_an_on_call_team_without_readers_is_named(coordinator: Staff) -> None:
    TeamMembership.objects.filter(team__is_on_call=True).delete()
    assert _reasons(_printed_by_serve()) == [_en(services.NOBODY_ON_CALL)]


def test_a_recovery_key_swapped_in_the_database_is_named(coordinator: Staff) -> None:
    """Attacker: a database writer who swapped the recovery key. `make run` says the intake
    refuses requests, and why, instead of looking ready."""
    RecoveryKey.objects.update(public_key=sealbox.KeyPair.generate().public_key)
    assert _reasons(_printed_by_serve()) == [_en(services.RECOVERY_KEY_UNTRUSTED)]


def test_a_recovery_key_other_than_the_pinned_one_is_named(coordinator: Staff) -> None:
    with override_settings(SP_RECOVERY_PUBLIC_KEY=sealbox.KeyPair.generate().public_key):
        assert _reasons(_printed_by_serve()) == [_en(services.RECOVERY_KEY_UNTRUSTED)]


@pytest.mark.django_db
def test_intake_status_check_fails_while_the_intake_is_closed() -> None:
    with pytest.raises(CommandError):
        call_command("intake_status", "--check", stdout=StringIO())


def test_intake_status_check_passes_once_setup_is_done(coordinator: Staff) -> None:
    out = StringIO()
    call_command("intake_status", "--check", stdout=out)
    assert out.getvalue().strip() == OPEN
