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


def verify_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def broken_at() -> int:
    """Run the command expecting it to fail; return the sequence number it names."""
    with pytest.raises(CommandError) as failure:
        verify_output()
    message = str(failure.value)
    assert message.startswith("audit chain broken at sequence "), message
    return int(message.removeprefix("audit chain broken at sequence ").split(":")[0])
