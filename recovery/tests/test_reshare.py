"""A reshare ceremony: the trustees rebuild the recovery key once more, a new key is made and
split among new trustees (each shown their share once), and every recovery wrap of every app
is sealed to the new key. Attackers: someone holding the old shares after the rotation; a
database writer who swaps the recovery key while the pin still names the old one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import checks

import sealbox
from accounts import services as account_services
from accounts.models import RecoveryKey, RecoveryShareSet
from audit.models import Action, AuditEntry
from casework import keys
from casework.models import CaseKeyWrap
from core.certificates import certified
from evacuation.handoff import services as handoff_services
from evacuation.handoff.models import OrgKeyWrap
from evacuation.safehouses import crypto as safehouse_crypto
from evacuation.safehouses import services as safehouse_services
from evacuation.safehouses.models import SafeHouseKey
from recovery.models import Ceremony
from recovery.tests.conftest import Trustees
from tests.personas import FaceClient, enrol, open_case
from vetting import sensitive
from vetting.models import SensitiveItemKey

WORD = re.compile(r'<li value="\d+"><code>([a-z]+)</code></li>')


def _write_down(client: FaceClient, url: str, page: str) -> tuple[str, Any]:
    words = WORD.findall(page)
    asked = [int(position) for position in re.findall(r'name="word_(\d+)"', page)]
    answer = {f"word_{position}": words[position] for position in asked}
    return " ".join(words), client.post(url, {"written": "yes", **answer})


def _world(trustees: Trustees) -> None:
    """Something of every kind that is sealed to the recovery key."""
    open_case(body="Sealed to the case key, which is sealed to the recovery key.")
    actor = trustees.first.member
    safehouse_services.safe_house_create(actor=actor, code_name="Birch", capacity=2, address="1 Lime St", notes="")
    sensitive.sensitive_item_create(actor=actor, kind="meeting_point", text="the old bridge at nine")
    handoff_services.org_keys_create(actor=actor)


def _opens_every_recovery_wrap(private_key: bytes) -> bool:
    sealed: list[tuple[bytes, bytes]] = []
    for wrap in CaseKeyWrap.objects.filter(for_recovery=True).select_related("case_key__case"):
        sealed.append((bytes(wrap.sealed_private_key), keys.wrap_ctx(wrap.case_key.case, wrap.case_key.version)))
    for house_key in SafeHouseKey.objects.filter(for_recovery=True):
        ctx = safehouse_crypto.staff_key_ctx(house_key.safe_house_id, house_key.version)
        sealed.append((bytes(house_key.sealed_key), ctx))
    for org_wrap in OrgKeyWrap.objects.filter(for_recovery=True).select_related("keys"):
        sealed.append((bytes(org_wrap.sealed_private), handoff_services.wrap_ctx(org_wrap.keys, "recovery")))
    for item_key in SensitiveItemKey.objects.filter(for_recovery=True):
        sealed.append((bytes(item_key.sealed_key), sensitive.key_ctx(item_key.item_id)))
    assert len(sealed) >= 4
    try:
        for ciphertext, ctx in sealed:
            sealbox.unseal(private_key, ciphertext, ctx=ctx)
    except sealbox.CryptoError:
        return False
    return True


def _reshare(trustees: Trustees) -> tuple[list[str], str]:
    """The first coordinator starts, both enter their shares on their own devices, the three
    new trustees write theirs down. Returns the new shares and the last page."""
    starter = trustees.first.console(language="en")
    start = {"purpose": "reshare", "threshold": 2, "count": 3, "trustees": [trustees.second.member.pk]}
    url = starter.post("/recovery/start/", start)["Location"]
    starter.post(url, {"share": trustees.shares[0]})
    trustees.second.console(language="en").post(url, {"share": trustees.shares[2]})
    shares_url = starter.post(f"{url}perform/")["Location"]
    assert shares_url == f"{url}shares/"
    page = starter.get(shares_url).content.decode()
    assert RecoveryShareSet.objects.get().holder_ids[1] == trustees.second.member.pk  # nothing changed yet
    new_shares = []
    for number in (1, 2, 3):
        assert f"Recovery share {number} of 3" in page
        share, response = _write_down(starter, shares_url, page)
        new_shares.append(share)
        page = response.content.decode()
    return new_shares, page


def test_a_reshare_rotates_the_key_and_rewraps_everything_sealed_to_it(trustees: Trustees) -> None:
    _world(trustees)
    old = RecoveryKey.objects.get()
    old_private = sealbox.combine_recovery_shares(trustees.shares[:2], public_key=bytes(old.public_key))
    assert _opens_every_recovery_wrap(old_private)

    new_shares, last_page = _reshare(trustees)

    key = RecoveryKey.objects.get()
    new_private = sealbox.combine_recovery_shares(new_shares[1:], public_key=bytes(key.public_key))
    assert bytes(key.public_key).hex() in last_page and "SP_RECOVERY_PUBLIC_KEY=" in last_page
    assert bytes(key.previous_public_key) == bytes(old.public_key) and certified(key)
    share_set = RecoveryShareSet.objects.get()
    assert share_set.holder_ids == [trustees.second.member.pk, None, None] and certified(share_set)
    assert _opens_every_recovery_wrap(new_private)
    assert not _opens_every_recovery_wrap(old_private)
    assert not Ceremony.objects.exists()
    rotated = AuditEntry.objects.get(action=Action.RECOVERY_KEY_ROTATE)
    assert rotated.details["not_opened"] == 0 and rotated.details["rewrapped"] >= 4


def test_the_old_shares_are_refused_after_a_reshare(trustees: Trustees) -> None:
    _reshare(trustees)
    starter = trustees.first.console(language="en")
    start = {"purpose": "reshare", "threshold": 2, "count": 2, "trustees": []}
    url = starter.post("/recovery/start/", start)["Location"]
    page = starter.post(url, {"share": trustees.shares[0]})
    assert page.status_code == 400 and "belongs to another set of shares" in page.content.decode()


def test_leaving_the_share_pages_changes_nothing(trustees: Trustees) -> None:
    before = bytes(RecoveryKey.objects.get().public_key)
    starter = trustees.first.console(language="en")
    start = {"purpose": "reshare", "threshold": 2, "count": 3, "trustees": []}
    url = starter.post("/recovery/start/", start)["Location"]
    starter.post(url, {"share": trustees.shares[0]})
    starter.post(url, {"share": trustees.shares[1]})
    page = starter.get(starter.post(f"{url}perform/")["Location"]).content.decode()
    _write_down(starter, f"{url}shares/", page)
    assert starter.post(f"{url}cancel/").status_code == 302
    assert bytes(RecoveryKey.objects.get().public_key) == before
    assert bytes(RecoveryShareSet.objects.get().public_key) == before


def test_the_pin_names_the_old_key_until_the_operator_updates_it(trustees: Trustees, settings: Any) -> None:
    """After a rotation the old pin still lets the certified row count, and the deploy check
    says to update it; a database writer's own key matches neither and is refused."""
    old = bytes(RecoveryKey.objects.get().public_key)
    settings.SP_RECOVERY_PUBLIC_KEY = old
    _reshare(trustees)
    new = bytes(RecoveryKey.objects.get().public_key)
    assert keys.recovery_public_key() == new
    warnings = [message.id for message in checks.run_checks(include_deployment_checks=True)]
    assert "accounts.W002" in warnings
    settings.SP_RECOVERY_PUBLIC_KEY = new
    assert "accounts.W002" not in [message.id for message in checks.run_checks(include_deployment_checks=True)]
    RecoveryKey.objects.update(public_key=sealbox.KeyPair.generate().public_key, previous_public_key=new)
    with pytest.raises(keys.RecoveryKeyMismatch):
        keys.recovery_public_key()


def test_a_single_holder_key_is_split_among_trustees_by_a_reshare_ceremony(db: None) -> None:
    """An organisation set up before threshold sharing enters its one SPRK1 key once; the key
    is replaced by a new one split among trustees, and the old string stops counting."""
    token = account_services.first_coordinator_link_create()
    assert token is not None
    first = enrol(token, "coordinator")
    written = account_services.recovery_key_create(created_by=first.member)
    assert written is not None
    open_case(body="A case from before the split.")
    old_private = sealbox.decode_recovery_key(written)
    assert _opens_every_recovery_wrap_of_cases(old_private)

    client = first.console(language="en")
    start = {"purpose": "reshare", "threshold": 2, "count": 3, "trustees": [first.member.pk]}
    url = client.post("/recovery/start/", start)["Location"]
    page = client.get(url).content.decode()
    assert "SPRK1" in page and "Shares entered: 0 of 1 needed" in page
    assert "Share 1 is in" in client.post(url, {"share": written.lower()}).content.decode()
    shares_url = client.post(f"{url}perform/")["Location"]
    page = client.get(shares_url).content.decode()
    new_shares = []
    for _number in (1, 2, 3):
        share, response = _write_down(client, shares_url, page)
        new_shares.append(share)
        page = response.content.decode()
    assert "New recovery key saved" in page

    public = bytes(RecoveryKey.objects.get().public_key)
    new_private = sealbox.combine_recovery_shares(new_shares[::2], public_key=public)
    assert _opens_every_recovery_wrap_of_cases(new_private)
    assert not _opens_every_recovery_wrap_of_cases(old_private)
    assert "accounts.W001" not in [message.id for message in checks.run_checks(include_deployment_checks=True)]


def _opens_every_recovery_wrap_of_cases(private_key: bytes) -> bool:
    wraps = list(CaseKeyWrap.objects.filter(for_recovery=True).select_related("case_key__case"))
    assert wraps
    try:
        for wrap in wraps:
            ctx = keys.wrap_ctx(wrap.case_key.case, wrap.case_key.version)
            sealbox.unseal(private_key, bytes(wrap.sealed_private_key), ctx=ctx)
    except sealbox.CryptoError:
        return False
    return True
