"""Building a small chain and tampering with it behind the application's back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audit.models import Action
from audit.services import audit_record


def append(count: int, **kwargs: Any) -> None:
    for number in range(count):
        with transaction.atomic():
            audit_record(actor=None, action=Action.LOGIN_FAILED, details={"n": number, **kwargs})


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def json_param() -> str:
    """How raw SQL writes a JSON value into the details column on this database."""
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def verify_output(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def broken_at() -> int:
    """Run the command expecting it to fail; return the sequence number it names."""
    with pytest.raises(CommandError) as failure:
        verify_output()
    message = str(failure.value)
    assert message.startswith("audit chain broken at sequence "), message
    return int(message.removeprefix("audit chain broken at sequence ").split(":")[0])


def refused(*args: str) -> str:
    """Run the command expecting it to fail for a reason other than a broken chain; return
    its message."""
    with pytest.raises(CommandError) as failure:
        verify_output(*args)
    return str(failure.value)


def head_row() -> tuple[int, str, str]:
    """The head row as stored: sequence, entry hash, MAC."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequence, entry_hash, mac FROM audit_audithead")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), str(row[2])


def noted(sequence: int) -> str:
    """What a coordinator copies off the audit page for entry ``sequence``: its number and its
    hash in groups of four."""
    from audit.models import AuditEntry

    value = AuditEntry.objects.get(sequence=sequence).entry_hash
    return f"{sequence}: " + " ".join(value[i : i + 4] for i in range(0, 64, 4))
