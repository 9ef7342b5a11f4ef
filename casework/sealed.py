"""The sealed-record kit: what every app that keeps records attached to a case takes from here.

A feature app (notes and tasks, the evacuation plan, money paid out, check-ins …) keeps records
on a case whose text only the case's key holders read, and changes them from forms that more
than one person may have open. It needs the same few things each time, and they are here once:

- ``seal_text`` / ``open_text`` (``seal_bytes`` / ``open_bytes``): a record's text sealed to a
  version of the case key, bound by its associated data (``ctx``, made with sealbox.context from
  the record's label, its id, its case and whatever else must not change under it), so it opens
  only as that field of that row of that case. ``open_text`` gives None when the member does not
  hold the key version the record is sealed to ("you cannot open this with your key"), and
  raises RecordDoesNotOpen when they hold it and the record still does not open: the record, or
  a column named in its associated data, was changed outside the console. That is never shown as
  an empty or unreadable field: the console answers with a page that says what happened
  (casework.middleware), as it does for an uncertified row.
- ``lock_case``: the case row, locked until the transaction ends, the same on both databases.
- ``holds_current_key`` (a wrap row for the current version exists: who to list or give work to)
  and ``current_key_for`` (the current version, once the member's session opens it: the proof a
  writer needs before anything is sealed).
- ``Refused`` (the one refusal whose message is shown to staff; apps may subclass it) and
  ``require`` (refuse unless an accounts.permissions answer allows it).
- ``EditConflict(revision, by, at)``: a save based on an older revision changes nothing; and
  ``save_edit``, which every edit view uses to post a form with the revision it was based on and,
  on a conflict, show it again keeping what the person typed, based on the revision saved now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from django import forms
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.http import QueryDict

import sealbox
from accounts.models import StaffMember
from casework import keys
from casework.models import Case, CaseKey, CaseKeyWrap

logger = logging.getLogger(__name__)

T = TypeVar("T")


# --- sealing and opening --------------------------------------------------------------------


class RecordDoesNotOpen(sealbox.CryptoError):
    """A record sealed to a key version the member holds does not open under its associated
    data: its ciphertext was replaced or moved from another row, or a column its associated
    data names (its author, its case, a decision) was rewritten. Nothing is shown as if the
    record were empty; the console answers with a page that says so (casework.middleware).
    A sealbox.CryptoError, so whatever expected the bare error still catches this one."""

    def __init__(self, label: str, case_key_id: int) -> None:
        super().__init__(f"a sealed {label} (case key {case_key_id}) does not open")
        self.label = label
        logger.error("a sealed %s sealed to case key %s does not open: changed outside the console", label, case_key_id)


def _label(ctx: bytes) -> str:
    """The label sealbox.context put first (length-prefixed): what kind of field this is."""
    size = int.from_bytes(ctx[:4], "big")
    return ctx[4 : 4 + size].decode("utf-8", "replace")


def seal_bytes(case_key: CaseKey, data: bytes, *, ctx: bytes) -> bytes:
    """``data`` sealed to ``case_key`` (a certified, current version: keys.sealable_public_key)."""
    return sealbox.seal(keys.sealable_public_key(case_key), data, ctx=ctx)


def open_bytes(opened: Mapping[int, bytes], case_key_id: int | None, ciphertext: bytes, *, ctx: bytes) -> bytes | None:
    """The plaintext; None when ``opened`` (case private keys by CaseKey id, from
    keys.case_private_keys) lacks the version it is sealed to (or it names none). Raises
    RecordDoesNotOpen when the version is there and the record does not open under ``ctx``."""
    private = None if case_key_id is None else opened.get(case_key_id)
    if case_key_id is None or private is None:
        return None
    try:
        return sealbox.unseal(private, bytes(ciphertext), ctx=ctx)
    except sealbox.CryptoError:
        raise RecordDoesNotOpen(_label(ctx), case_key_id) from None


def seal_text(case_key: CaseKey, text: str, *, ctx: bytes) -> bytes:
    return seal_bytes(case_key, text.encode(), ctx=ctx)


def open_text(opened: Mapping[int, bytes], case_key_id: int | None, ciphertext: bytes, *, ctx: bytes) -> str | None:
    """As open_bytes, decoded."""
    data = open_bytes(opened, case_key_id, ciphertext, ctx=ctx)
    return None if data is None else data.decode()


# --- the case row and its key -----------------------------------------------------------------


def lock_case(case: Case) -> Case:
    """``case`` read again and held until the transaction ends, so its state and key version
    stay still: nothing is sealed to a version a concurrent removal has just replaced, and two
    saves to one case's records run one after the other. PostgreSQL locks the row (SELECT … FOR
    UPDATE); SQLite starts every transaction with the database's write lock (settings:
    transaction_mode IMMEDIATE), which holds it as well. Outside transaction.atomic it would
    lock nothing, so it is refused there on both databases (Django itself refuses only on
    PostgreSQL)."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("lock_case() needs a transaction: it would lock nothing outside one")
    return Case.objects.select_for_update().get(pk=case.pk)


def holds_current_key(case: Case, member: StaffMember) -> bool:
    """Whether a wrap of the current key version exists for ``member``: who may be listed, or
    be given a task. It proves nothing to a writer (a database writer can insert a wrap row):
    writing goes through current_key_for."""
    return CaseKeyWrap.objects.filter(case_key__case=case, case_key__version=case.key_version, member=member).exists()


def current_key_for(case: Case, member: StaffMember, member_private_key: bytes) -> CaseKey:
    """The current case key version, once ``member``'s session opens it (keys.NoAccess
    otherwise): the proof a writer holds the case key before anything is sealed to it."""
    keys.current_key_open(case, member, member_private_key)
    return keys.current_case_key(case)


# --- refusals and edit conflicts --------------------------------------------------------------


class Refused(ValueError):
    """The change is not allowed; the message says why and is shown to staff as it is."""


def require(allowed: bool, message: str, refused: type[Refused] = Refused) -> None:
    """Refuse with ``message`` unless ``allowed`` (an accounts.permissions answer)."""
    if not allowed:
        raise refused(message)


class EditConflict(Exception):
    """Someone saved a newer revision after the editor's form was rendered; nothing was saved.
    ``revision`` is the revision saved now, ``by`` the username of who saved it and ``at`` when
    ("" and None for the case row, which does not keep who changed it last)."""

    def __init__(self, revision: int, by: str, at: datetime | None) -> None:
        super().__init__(revision)
        self.revision, self.by, self.at = revision, by, at


@dataclass(frozen=True)
class Conflict(Generic[T]):
    """An EditConflict as an edit page shows it: the revision saved now, who saved it and
    when, and (``current``) that version as this member may see it, when the page shows it."""

    revision: int
    by: str
    at: datetime | None
    current: T | None = None


@overload
def save_edit(
    form: forms.BaseForm, save: Callable[[Any], object], *, current: Callable[[], T], forget: Iterable[str] = ()
) -> Conflict[T] | None: ...


@overload
def save_edit(
    form: forms.BaseForm, save: Callable[[Any], object], *, current: None = None, forget: Iterable[str] = ()
) -> Conflict[None] | None: ...


def save_edit(
    form: forms.BaseForm,
    save: Callable[[Any], object],
    *,
    current: Callable[[], T] | None = None,
    forget: Iterable[str] = (),
) -> Conflict[T] | Conflict[None] | None:
    """Save a valid edit ``form`` posted with the revision it was based on (its ``revision``
    field): ``save(expected_revision)`` calls the service. Returns None once saved.

    When someone saved a newer revision in between (EditConflict), nothing was saved, and the
    returned Conflict says who saved it and when, with ``current()``, the version saved now,
    when given. ``form`` is then ready to show again: everything the person typed stays as they
    typed it, but it is now based on the revision saved now, so saving again (after comparing)
    replaces the other version on purpose. Fields named in ``forget`` are cleared (a
    confirmation given for what was there before). Refused, keys.NoAccess and anything else
    the service raises go to the view."""
    try:
        save(form.cleaned_data["revision"])
    except EditConflict as conflict:
        posted = form.data
        data: MutableMapping[str, Any] = posted.copy() if isinstance(posted, QueryDict) else dict(posted)
        data[form.add_prefix("revision")] = str(conflict.revision)
        for name in forget:
            data.pop(form.add_prefix(name), None)
        form.data = data
        form.cleaned_data["revision"] = conflict.revision
        if current is None:
            return Conflict(conflict.revision, conflict.by, conflict.at)
        return Conflict(conflict.revision, conflict.by, conflict.at, current())
    return None
