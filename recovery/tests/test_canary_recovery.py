"""Attacker: whoever seizes the server after a recovery ceremony (database file or dump, file
store, logs, session rows, anything else under var/). None of them holds a share's words, the
recovery private key that was rebuilt, or the new one that was split."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

import sealbox
from accounts.models import RecoveryKey
from recovery.tests.conftest import Trustees
from recovery.tests.test_ceremony import _orphaned_case, _start_case_access
from recovery.tests.test_reshare import _reshare
from tests.plaintext_search import (
    LogFile,
    Needle,
    database_places,
    file_places,
    log_record_places,
    needles_for,
    needles_for_key,
    search_places,
    session_places,
)


def _share_needles(label: str, share: str) -> list[Needle]:
    """The whole share, and each pair of neighbouring words (a share stored in pieces)."""
    words = share.split()
    needles = needles_for(label, share)
    for first, second in itertools.pairwise(words):
        needles += needles_for(f"{label} words", f"{first} {second}")
    return needles


def _places(log_file: LogFile, all_logs: pytest.LogCaptureFixture) -> list[tuple[str, bytes]]:
    database = str(connection.settings_dict["NAME"])
    searched = {Path(database), Path(f"{database}-wal"), Path(f"{database}-shm"), log_file.path}
    searched |= set(Path(settings.SP_FILE_STORE).rglob("*"))
    return [
        *database_places(),
        *file_places(Path(settings.SP_FILE_STORE)),
        *log_file.places(),
        *log_record_places(all_logs.records),
        *session_places(),
        *file_places(Path(settings.VAR_DIR), skip=searched),
    ]


@pytest.mark.django_db(transaction=True)
def test_no_share_and_no_recovery_private_key_is_stored_or_logged(
    trustees: Trustees, all_logs: pytest.LogCaptureFixture
) -> None:
    log_file = LogFile()
    old_public = bytes(RecoveryKey.objects.get().public_key)
    old_shares = list(trustees.shares)
    old_private = sealbox.combine_recovery_shares(old_shares[:2], public_key=old_public)

    new_shares, _page = _reshare(trustees)  # old shares entered, new shares shown through the vault
    new_public = bytes(RecoveryKey.objects.get().public_key)
    new_private = sealbox.combine_recovery_shares(new_shares[:2], public_key=new_public)

    trustees.shares[:] = new_shares  # the case-access ceremony now uses the new set
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    starter.post(url, {"share": new_shares[0]})
    trustees.second.console(language="en").post(url, {"share": new_shares[1]})
    half_way = _places(log_file, all_logs)  # shares sealed in the database, the key in one vault
    assert starter.post(f"{url}perform/").status_code == 200

    needles = needles_for_key("old recovery private key", old_private)
    needles += needles_for_key("new recovery private key", new_private)
    for number, share in enumerate(new_shares, start=1):
        needles += _share_needles(f"new share {number}", share)
    for number, share in enumerate(old_shares, start=1):  # entered in the reshare ceremony
        needles += _share_needles(f"old share {number}", share)

    session = SessionStore()
    session["control"] = new_shares[2]
    session.create()
    places = _places(log_file, all_logs)
    assert search_places(places, _share_needles("control", new_shares[2])), "the session search missed a share"
    session.delete()

    places = _places(log_file, all_logs) + half_way
    leaks = [str(finding) for finding in search_places(places, needles)]
    assert not leaks, "found:\n" + "\n".join(leaks)
