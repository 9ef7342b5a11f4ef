"""The restore drill: a world built through the real views (the canary scenario: a case with
messages, files, a hostile-relative note, notes and tasks, vetting, money, an evacuation plan,
check-ins, a safe house, a hand-off and the audit entries of all of it), backed up, wiped
(database flushed, a new empty file store), restored, and read again: the coordinator logs in
with password and TOTP and the person with their codename, and every page shows the same
texts and every file the same bytes as before the backup. Runs on SQLite and PostgreSQL alike.

The attacker here is time and hardware: a lost disk. What must hold is that nothing is lost
and the same keys (passwords, codenames, the instance secrets) open everything again.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from audit.chain import verify_chain
from audit.models import AuditEntry
from backups.archive import backup_write
from backups.restore import restore
from backups.tests.conftest import AgeKey
from casework.models import Case
from tests.personas import INTAKE, FaceClient, Staff, open_case
from tests.test_canary import Canaries, attachment, run_every_input

SECTIONS = ("", "?section=vetting", "?section=plan", "?section=money", "?section=checkins", "?section=notes")


def _canaries_in(text: str, canaries: Canaries) -> set[str]:
    shown = html.unescape(text)
    return {label for label, secret in canaries.secrets.items() if secret in shown}


def _staff_reads(console: FaceClient, case: Case, canaries: Canaries) -> dict[str, Any]:
    """What the coordinator reads of the case: the canaries on each section, and every file."""
    reads: dict[str, Any] = {}
    for section in SECTIONS:
        response = console.get(f"/cases/{case.public_id}/{section}")
        assert response.status_code == 200, section
        reads[section] = _canaries_in(response.content.decode(), canaries)
    page = console.get(f"/cases/{case.public_id}/").content.decode()
    files = sorted(set(re.findall(r'href="(/cases/[^"]+/files/[^"]+/)"', page)))
    reads["files"] = {url: b"".join(console.get(url).streaming_content) for url in files}
    return reads


def _person_reads(codename: str, canaries: Canaries) -> dict[str, Any]:
    person = FaceClient(INTAKE)
    assert person.post("/login/", {"codename": codename}).status_code == 302
    conversation = person.get("/conversation/").content.decode()
    files = re.findall(r'name="attachment" value="([^"]+)"', conversation)
    downloads = [b"".join(person.post("/conversation/file/", {"attachment": f}).streaming_content) for f in files]
    return {"texts": _canaries_in(conversation, canaries), "files": downloads}


def _person_writes(codename: str, canaries: Canaries) -> None:
    """A message with a file, from the person's own login (after the duress login of the
    scenario, their codename shows what is written from then on)."""
    person = FaceClient(INTAKE)
    assert person.post("/login/", {"codename": codename}).status_code == 302
    message = {
        "message": canaries.pair("message before the backup"),
        "attachments": attachment(canaries, "drill", "pdf"),
    }
    assert person.post("/conversation/", message).status_code == 302


def _wipe(tmp_path: Path) -> None:
    """What a lost disk leaves: an empty (migrated) database and an empty file store."""
    call_command("flush", interactive=False, verbosity=0)
    settings.SP_FILE_STORE = tmp_path / "new-var" / "files"
    assert not Case.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_server_reads_as_before(
    coordinator: Staff, age_key: AgeKey, tmp_path: Path
) -> None:
    scenario = run_every_input(coordinator)
    canaries = scenario.canaries
    case = Case.objects.order_by("pk").first()
    assert case is not None
    _person_writes(canaries.secrets["codename (normalised)"], canaries)
    before_staff = _staff_reads(coordinator.console(), case, canaries)
    before_person = _person_reads(canaries.secrets["codename (normalised)"], canaries)
    # The drill compares something: each page shows canaries, and there are files on both sides.
    assert all(before_staff[section] for section in SECTIONS), before_staff
    assert before_staff["files"] and before_person["files"] and before_person["texts"]
    cases, entries = Case.objects.count(), AuditEntry.objects.count()

    archive = tmp_path / "drill.age"
    manifest = backup_write(archive)
    assert manifest["tables"]["casework_case"] == cases and manifest["blobs"]

    _wipe(tmp_path)
    restored = restore(archive, age_key.identity_file, secrets_dir=tmp_path / "new-var" / "secrets")

    assert restored.blobs == len(manifest["blobs"]) and restored.audit_entries == entries
    assert (restored.secrets_dir / "pepper").read_text() == settings.SP_PEPPER.hex()
    assert (restored.secrets_dir / "django_secret_key").read_text() == settings.SECRET_KEY
    assert Case.objects.count() == cases and verify_chain().intact
    assert AuditEntry.objects.order_by("-sequence").values_list("action", flat=True)[0] == "backup_restored"
    assert _staff_reads(coordinator.console(), case, canaries) == before_staff
    assert _person_reads(canaries.secrets["codename (normalised)"], canaries) == before_person


@contextmanager
def _fresh_database(tmp_path: Path) -> Iterator[None]:
    """The default connection pointed at a database that has never held a table: a new SQLite
    file, or on PostgreSQL a new database next to the test database (``<test name>_restore``)."""
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    fresh = tmp_path / "fresh.sqlite3" if connection.vendor == "sqlite" else f"{original}_restore"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
            cursor.execute(f'CREATE DATABASE "{fresh}"')
    connections.close_all()
    settings_dict["NAME"] = fresh
    try:
        yield
    finally:
        connections.close_all()
        settings_dict["NAME"] = original
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_database_that_never_held_a_table(
    coordinator: Staff, age_key: AgeKey, tmp_path: Path
) -> None:
    person = open_case(body="Restored into a new database")
    archive = tmp_path / "fresh.age"
    manifest = backup_write(archive)
    settings.SP_FILE_STORE = tmp_path / "new-var" / "files"
    with _fresh_database(tmp_path):
        with connection.cursor() as cursor:
            assert connection.introspection.table_names(cursor) == []
        restored = restore(archive, age_key.identity_file, secrets_dir=tmp_path / "new-var" / "secrets")
        assert restored.rows == sum(manifest["tables"].values())
        page = coordinator.console().get(f"/cases/{person.case.public_id}/")
        assert page.status_code == 200 and "Restored into a new database" in html.unescape(page.content.decode())
