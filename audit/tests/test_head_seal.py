"""Giving the head a MAC the appends did not give it: once at upgrade (migration), and by an
operator after an incident was looked into (``manage.py reseal_audit_head``)."""

from __future__ import annotations

import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import Action, AuditEntry
from audit.tests.helpers import append, broken_at, head_row, json_param, sql, verify_output

pytestmark = pytest.mark.django_db


def _reseal(*args: str) -> str:
    out = StringIO()
    call_command("reseal_audit_head", *args, stdout=out)
    return out.getvalue()


def _cut_and_fake_head(*, keep: int) -> None:
    sql("DELETE FROM audit_auditentry WHERE sequence > %s", [keep])
    kept = AuditEntry.objects.get(sequence=keep).entry_hash
    sql("UPDATE audit_audithead SET sequence = %s, entry_hash = %s", [keep, kept])


def test_the_upgrade_seals_the_head_present_and_nothing_else() -> None:
    """Installs from before the head had a MAC get one from the migration, which trusts the
    database as it is at the moment of upgrading (as the other upgrade migrations do)."""
    append(3)
    sql("UPDATE audit_audithead SET mac = ''")
    assert broken_at() == 4
    migration = importlib.import_module("audit.migrations.0006_audit_seal_existing_head")
    migration.seal_existing_head(apps, None)
    assert verify_output().startswith("audit chain intact: 3 entries\n")
    # A head written after the upgrade gets nothing from it.
    _cut_and_fake_head(keep=2)
    assert broken_at() == 3


def test_the_upgrade_leaves_an_empty_log_alone() -> None:
    migration = importlib.import_module("audit.migrations.0006_audit_seal_existing_head")
    migration.seal_existing_head(apps, None)
    assert verify_output() == "audit chain intact: 0 entries\n"


def test_an_operator_reseals_the_head_only_when_asked_and_the_reseal_is_itself_in_the_log() -> None:
    """After a database writer cut the tail (and the coordinators compared their notes), an
    operator on the server makes the log usable for checking again. The reseal is recorded, so
    it cannot hide the cut from anyone reading the log."""
    append(5)
    _cut_and_fake_head(keep=3)
    with pytest.raises(CommandError, match="--confirm"):
        _reseal()
    assert broken_at() == 4
    output = _reseal("--confirm")
    reseal = AuditEntry.objects.order_by("-sequence").first()
    assert reseal is not None and (reseal.sequence, reseal.action, reseal.actor) == (4, Action.AUDIT_HEAD_RESEAL, None)
    assert reseal.details == {"head": 3, "last": 3}
    assert f"head resealed: sequence 4, hash {reseal.entry_hash}" in output
    assert verify_output().startswith("audit chain intact: 4 entries\n")


def test_a_sound_head_is_not_resealed() -> None:
    append(2)
    before = head_row()
    assert _reseal("--confirm") == "the chain head holds: nothing to reseal\n"
    assert head_row() == before and AuditEntry.objects.count() == 2


def test_a_head_is_not_resealed_over_entries_that_do_not_verify() -> None:
    append(4)
    sql(f"UPDATE audit_auditentry SET details = {json_param()} WHERE sequence = 2", [json.dumps({"n": 9})])  # noqa: S608
    sql("UPDATE audit_audithead SET mac = ''")
    with pytest.raises(CommandError, match="audit chain broken at sequence 2"):
        _reseal("--confirm")
    assert head_row()[2] == ""
