"""The sealed-record kit (casework.sealed): records written before it still open, a record that
does not open is one error shown plainly, an edit conflict has one shape, the case lock is the
same on both databases, and the kit is the only copy of each of its parts."""

from __future__ import annotations

import datetime
import os
import re
import uuid
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

import sealbox
from accounts.access import KeysNotUnlocked, staff_keys
from casenotes import crypto as note_crypto
from casenotes import selectors as note_selectors
from casenotes import services as note_services
from casenotes.models import CaseNote
from casework import keys
from casework.lifecycle import TransitionRefused
from casework.models import Case
from casework.sealed import (
    Conflict,
    EditConflict,
    RecordDoesNotOpen,
    Refused,
    lock_case,
    open_bytes,
    open_text,
    require,
    save_edit,
)
from evacuation.checkins import crypto as checkin_crypto
from evacuation.funds import crypto as funds_crypto
from evacuation.handoff.services import HandoffRefused
from evacuation.plans import crypto as plan_crypto
from evacuation.safehouses.services import SafeHouseRefused
from tests.personas import PersonAtRisk, Staff
from vetting.services import VettingRefused

ROOT = Path(__file__).resolve().parents[2]

# --- records written before the kit ------------------------------------------------------------

# Sealed by the copies the kit replaced (casenotes/crypto.py, evacuation/funds/crypto.py,
# evacuation/checkins/crypto.py and evacuation/plans/crypto.py as they were), to the public key
# of OLD_PRIVATE, for the record below. Stored data looks exactly like this.
OLD_PRIVATE = bytes(range(32))
OLD_CASE = Case(public_id="K7QX-2M4P")
OLD_RECORD = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
OLD_PLAN = uuid.UUID("ffeeddcc-bbaa-9988-7766-554433221100")
OLD = {
    "note": "020c9fe85690aaa0caf1ba6279fe2953ce6e59778ad9d3122a8ea55f4dfa57bd6548b53d9fe4527d49f005d0cb42e720d20652"
    "ca80ee94c3639e1a06ee13f867a61c41519436b99ad6a61f5059d9607161b729d16621c20d81bce069e897beb2eea5a8db731c2116c5c22e"
    "2deca210e084",
    "task": "027ebfa45768f4aaab450cef2396b4616bdbb41a2b804fd47d338b2535468ef74bbe6644fd40855c1bb8a97e1ecbbe79e669c368599"
    "0086704771dff73377981ba9ac27902d7269a00a41227fe85480907066bd0",
    "payee": "0281cbe3c1fa4c4e3f987b5e92bd283883e4e5d857fe8677bb0e74c2648eb501450d261c9bab45b1f42f4e432c0d72f95d0b7132c"
    "e2603dc7a5b07dd5c4a94e036fa98817d129d0fbd64dc4dce4f5e5fac60e3a9398ce6",
    "reason": "021ff1ba09013f96cf83f828ca9615badc7e1efae4bc77d9b5a466a3999bee8775b8765dd90e6a4229d86e32d9ada07c76707d19"
    "bea7e92b327448361c82918d51fa7e11af95c6c3078050ff3fd9ea3efd7f3e98e2c50939",
    "fate": "02255d6ee9f132c696015bbb7afc728d5b538577b70a473a250055fb10ed7d667c1449ab9b42059b46f75396f27bb6c5625496d520"
    "3a95d14f339b6b313cab5651062d59dae5cdedd948d5be6df56cc297d797950ee65ecf9f349b62d47e76",
    "leg": "02157bcec7334dc2517b4aabcd6ffc8e76e7ba875c5d68580fbe01c28b415d7a04c56b8aa3440c4d314853bbeb83338f8e54c1d310e"
    "b7a5731508998f5d90c511e8e08d98c3d5d2417440f744bf5a29ebe69abd2a99669e58bda1823ca112354f07780bb67a3bd4d6c337037ce1"
    "c55380abf5f0c539ee217458e9bd633a3b2a5aecf6b36d439d9ce4881ffbf9fab8d7e5f7a63c0c06c3f0cb79c1e78d39c0868dbd726a22d5"
    "a0c870fa748b53f14d50d312a6ae05bcb0c81f6511aa596f1a8d413cc2a1cd3e2e2d3b5bdc4ef697908e5b25849cb62db147be3a2c3d3cc97"
    "ec840df2ae5b243eb00a2fc3ed312673ba5c5073fbe98b560559883d19a1ef7d44450c14eb64e24d43402d7e29478902e3c33ee031ce1934e"
    "ac5174f045cd87b9fb088ee504244fa0c1ab0",
}


def test_records_sealed_by_the_replaced_copies_still_open_with_the_kit() -> None:
    opened = {7: OLD_PRIVATE}
    rid = OLD_RECORD.bytes

    def old(name: str) -> bytes:
        return bytes.fromhex(OLD[name])

    assert open_text(opened, 7, old("note"), ctx=note_crypto.note_body_ctx(rid, OLD_CASE, 42)) == (
        "Ждёт звонка в четверг."
    )
    assert open_text(opened, 7, old("task"), ctx=note_crypto.task_ctx("title", rid, OLD_CASE)) == "Find a flat"
    assert open_text(opened, 7, old("payee"), ctx=funds_crypto.payee_ctx(rid, OLD_CASE)) == "hostel, room 7"
    reason_ctx = funds_crypto.reason_ctx(rid, OLD_CASE, 42, "approved")
    assert open_text(opened, 7, old("reason"), ctx=reason_ctx) == "Agreed by phone"
    fate_ctx = checkin_crypto.fate_information_ctx(rid, OLD_CASE, 42)
    assert open_text(opened, 7, old("fate"), ctx=fate_ctx) == "A call from her sister"
    leg = plan_crypto.open_leg(opened, 7, old("leg"), ctx=plan_crypto.leg_ctx(OLD_RECORD, OLD_PLAN, OLD_CASE))
    assert leg == plan_crypto.LegContent(
        "Омск", "Тбилиси", "night bus", 3, "bus", datetime.date(2025, 5, 1), None, None, None
    )


def test_what_the_kit_seals_opens_as_the_replaced_copies_opened_it(caseworker: Staff, person: PersonAtRisk) -> None:
    note = note_services.note_create(
        case=person.case, author=caseworker.member, author_private_key=caseworker.private_key, body="Sealed by the kit."
    )
    opened = keys.case_private_keys(person.case, caseworker.member, caseworker.private_key)
    ctx = note_crypto.note_body_ctx(note.id.bytes, person.case, caseworker.member.pk)
    # What the copies did to open a record: unseal with the version's private key under the context.
    assert sealbox.unseal(opened[note.case_key_id], bytes(note.body_ct), ctx=ctx) == b"Sealed by the kit."


# --- one policy for a record that does not open ------------------------------------------------


def test_a_record_sealed_to_a_version_the_member_lacks_reads_as_unreadable_not_as_an_error() -> None:
    sealed = bytes.fromhex(OLD["payee"])
    ctx = funds_crypto.payee_ctx(OLD_RECORD.bytes, OLD_CASE)
    assert open_text({8: bytes(32)}, 7, sealed, ctx=ctx) is None
    assert open_bytes({7: OLD_PRIVATE}, None, sealed, ctx=ctx) is None  # a decision not sealed to any version


def test_a_record_that_does_not_open_under_its_context_is_the_one_error() -> None:
    sealed = bytes.fromhex(OLD["reason"])
    # The same reason claimed for a rejection (a database writer flipping the decision).
    flipped = funds_crypto.reason_ctx(OLD_RECORD.bytes, OLD_CASE, 42, "rejected")
    with pytest.raises(RecordDoesNotOpen) as raised:
        open_text({7: OLD_PRIVATE}, 7, sealed, ctx=flipped)
    assert isinstance(raised.value, sealbox.CryptoError)  # whoever caught the bare error still does
    assert raised.value.label == "funds.reason"
    with pytest.raises(RecordDoesNotOpen):
        open_text(
            {7: OLD_PRIVATE}, 7, sealed[:-1], ctx=funds_crypto.reason_ctx(OLD_RECORD.bytes, OLD_CASE, 42, "approved")
        )


def test_a_note_moved_to_another_note_stops_the_case_page_with_a_plain_explanation(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    first = note_services.note_create(
        case=person.case, author=caseworker.member, author_private_key=caseworker.private_key, body="The real one."
    )
    second = note_services.note_create(
        case=person.case, author=caseworker.member, author_private_key=caseworker.private_key, body="Another."
    )
    CaseNote.objects.filter(pk=second.pk).update(body_ct=bytes(first.body_ct))
    opened = keys.case_private_keys(person.case, caseworker.member, caseworker.private_key)
    with pytest.raises(RecordDoesNotOpen):
        note_selectors.open_note(CaseNote.objects.select_related("case", "author").get(pk=second.pk), opened)

    for language, title in (
        ("en", "Stopped: a record of this case does not open"),
        ("ru", "Остановлено: запись этого кейса не открывается"),
    ):
        page = caseworker.console(language=language).get(f"/cases/{person.case.public_id}/?section=notes")
        assert page.status_code == 409
        assert title in page.content.decode()
        assert "The real one." not in page.content.decode()


# --- one shape of edit conflict, one way to show it --------------------------------------------


def test_a_stale_save_raises_edit_conflict_with_the_revision_who_and_when(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    note = note_services.note_create(
        case=person.case, author=caseworker.member, author_private_key=caseworker.private_key, body="First."
    )
    saved = note_services.note_edit(
        note=note,
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        body="Second.",
        expected_revision=1,
    )
    with pytest.raises(EditConflict) as raised:
        note_services.note_edit(
            note=note,
            actor=caseworker.member,
            actor_private_key=caseworker.private_key,
            body="Third.",
            expected_revision=1,
        )
    conflict = raised.value
    assert (conflict.revision, conflict.by, conflict.at) == (2, caseworker.member.username, saved.updated_at)
    assert CaseNote.objects.get(pk=note.pk).revision == 2


class _EditForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    body = forms.CharField()
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


def test_save_edit_passes_the_posted_revision_and_returns_none_once_saved() -> None:
    form = _EditForm({"revision": "4", "body": "typed", "confirm": "True"})
    assert form.is_valid()
    asked: list[int] = []
    assert save_edit(form, asked.append, current=lambda: pytest.fail("only shown on a conflict")) is None
    assert asked == [4]


def test_save_edit_on_a_conflict_keeps_what_was_typed_based_on_the_revision_saved_now() -> None:
    at = datetime.datetime(2025, 5, 1, 12, 0, tzinfo=datetime.UTC)
    form = _EditForm({"edit-revision": "4", "edit-body": "  what I typed  ", "edit-confirm": "True"}, prefix="edit")
    assert form.is_valid()

    def stale(revision: int) -> None:
        raise EditConflict(revision + 3, "coordinator", at)

    conflict = save_edit(form, stale, current=lambda: "the version saved now", forget=["confirm"])
    assert conflict == Conflict(7, "coordinator", at, "the version saved now")
    assert form["revision"].value() == "7" and form.cleaned_data["revision"] == 7
    assert form["body"].value() == "  what I typed  "  # as typed, not as cleaned
    assert form["confirm"].value() in (None, "", False)  # asked again for what is there now
    assert not form.errors
    rendered = str(form)
    assert 'name="edit-revision" value="7"' in rendered and "what I typed" in rendered


def test_every_refusal_shown_to_staff_is_a_refused() -> None:
    for refusal in (SafeHouseRefused, HandoffRefused, VettingRefused, TransitionRefused):
        assert issubclass(refusal, Refused)
    require(True, "never raised")
    with pytest.raises(HandoffRefused, match="not you"):
        require(False, "not you", HandoffRefused)


# --- the case lock ----------------------------------------------------------------------------


def test_lock_case_refuses_outside_a_transaction_on_either_database() -> None:
    assert not connection.in_atomic_block
    with pytest.raises(TransactionManagementError):
        lock_case(Case(pk=1))


def test_lock_case_reads_the_row_again_and_holds_it(person: PersonAtRisk) -> None:
    stale = Case.objects.get(pk=person.case.pk)
    Case.objects.filter(pk=stale.pk).update(revision=stale.revision + 5)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = lock_case(stale)
    assert locked.revision == stale.revision + 5
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in queries.captured_queries[-1]["sql"]
    else:  # SQLite: every transaction begins holding the database's write lock
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


# --- the member's keys --------------------------------------------------------------------------


def test_staff_keys_are_only_for_views_wrapped_in_staff_required() -> None:
    with pytest.raises(KeysNotUnlocked):
        staff_keys(RequestFactory().get("/"))


# --- one copy -------------------------------------------------------------------------------------

ONCE = {
    "seal or open text to a case key": re.compile(r"^def (seal_text|open_text|seal_bytes|open_bytes)\b", re.M),
    "an edit conflict": re.compile(r"^class \w*Conflict\b", re.M),
    "a refusal that is not a Refused": re.compile(r"^class \w*Refused\((ValueError|Exception)\)", re.M),
    "a case lock": re.compile(
        r"^def _?(case_locked|lock_case)\b|Case\.objects\.select_for_update\(\)\.get\(pk=case\.pk\)", re.M
    ),
    "a current-key check": re.compile(r"^def _?(holds_current_key|current_key_for|require_coordinator)\b", re.M),
    "the old revision argument": re.compile(r"\bbase_revision\b"),
    "keys kept on the request": re.compile(r"request\.staff_(private|signing)_key"),
}
# Apps below casework (it imports them) keep their own refusals; casework.keys, which the kit
# is built on, locks the case row itself when it must rotate a key before sealing.
BELOW_THE_KIT = {
    # backups works on the whole database and imports no feature app (backups/tests/test_generic.py).
    "a refusal that is not a Refused": {
        "audit/services.py",
        "notifications/matrix.py",
        "notifications/outbound.py",
        "backups/archive.py",
        "backups/unpack.py",
    },
    "a case lock": {"casework/keys.py"},
}


def _source_files() -> list[str]:
    """The project's non-test Python files, as paths from the repository root."""
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in ("var", "tests")]
        subfolders[:] = [name for name in subfolders if name not in ("migrations", "__pycache__")]
        files += [Path(folder, name).relative_to(ROOT).as_posix() for name in names if name.endswith(".py")]
    return sorted(set(files) - {"casework/sealed.py"})


def test_the_kit_is_the_only_copy_of_each_part() -> None:
    found = []
    for relative in _source_files():
        source = (ROOT / relative).read_text()
        for what, pattern in ONCE.items():
            if relative in BELOW_THE_KIT.get(what, set()):
                continue
            found += [f"{relative}: {what}: {match.group(0)}" for match in pattern.finditer(source)]
    assert not found, "\n".join(found)
