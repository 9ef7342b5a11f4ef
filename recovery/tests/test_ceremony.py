"""The recovery ceremony end to end through the console: k trustees each enter their share on
their own device, the starter performs the one action, and the case nobody could read any more
gets its key to a new member. Attackers: a staff member who is not a coordinator, a trustee
with a wrong or foreign share, a database reader (shares at rest)."""

from __future__ import annotations

import itertools
import re

import pytest
from django.core.management import call_command

import sealbox
from accounts import services as account_services
from accounts.models import RecoveryKey, RecoveryShareSet, Role
from audit.models import Action, AuditEntry
from casework import services
from casework.models import Case, CaseKeyWrap
from jobs.models import Job
from jobs.services import periodic_kinds
from recovery.models import Ceremony, CeremonyShare
from recovery.services import EXPIRE_JOB, share_ctx
from recovery.tests.conftest import Trustees
from recovery.views import SHARE_ERRORS
from tests.personas import FaceClient, PersonAtRisk, Staff, make_staff, open_case

FIRST_WORDS = "My brother knows where I am hiding."


def _orphaned_case(trustees: Trustees) -> tuple[PersonAtRisk, Staff]:
    """A case whose only holder, a caseworker, was disabled: nobody can read it."""
    caseworker = make_staff("caseworker", invited_by=trustees.first)
    person = open_case(body=FIRST_WORDS)
    for coordinator in (trustees.first, trustees.second):
        if CaseKeyWrap.objects.filter(case_key__case=person.case, member=coordinator.member).exists():
            services.case_member_remove(
                case=person.case,
                actor=coordinator.member,
                actor_private_key=coordinator.private_key,
                member=coordinator.member,
            )
    services.staff_disable(
        actor=trustees.first.member, actor_private_key=trustees.first.private_key, member=caseworker.member
    )
    person.case.refresh_from_db()
    assert not CaseKeyWrap.objects.filter(case_key__case=person.case, member__isnull=False).exists()
    newcomer = make_staff("newcomer", invited_by=trustees.first)
    return person, newcomer


def _start_case_access(client: FaceClient, case: Case, member: Staff) -> str:
    response = client.post(
        "/recovery/start/", {"purpose": "case_access", "case": case.public_id, "member": member.member.pk}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return str(response["Location"])


def _enter(client: FaceClient, url: str, share: str) -> str:
    response = client.post(url, {"share": share})
    return response.content.decode()


def test_two_trustees_on_their_own_devices_give_an_orphaned_case_to_a_new_member(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    assert newcomer.console(language="en").get(f"/cases/{person.case.public_id}/").status_code == 404

    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    assert "Share 1 is in" in _enter(starter, url, trustees.shares[0])
    second_device = trustees.second.console(language="en")
    assert "Share 2 is in" in _enter(second_device, url, trustees.shares[1])
    # Only the starter, in the browser that holds the ceremony key, can finish.
    refused = second_device.post(f"{url}perform/")
    assert refused.status_code == 400
    done = starter.post(f"{url}perform/")
    assert done.status_code == 200, done.content.decode()[:3000]

    page = newcomer.console(language="en").get(f"/cases/{person.case.public_id}/")
    assert page.status_code == 200 and FIRST_WORDS in page.content.decode()
    assert not Ceremony.objects.exists() and not CeremonyShare.objects.exists()
    ceremony_actions = [Action.RECOVERY_CEREMONY_START, Action.RECOVERY_SHARE_ENTER, Action.RECOVERY_CASE_KEY_GIVE]
    entries = AuditEntry.objects.filter(action__in=ceremony_actions).order_by("sequence")
    actions = list(entries.values_list("action", "actor_id"))
    assert actions == [
        (Action.RECOVERY_CEREMONY_START, trustees.first.member.pk),
        (Action.RECOVERY_SHARE_ENTER, trustees.first.member.pk),
        (Action.RECOVERY_SHARE_ENTER, trustees.second.member.pk),
        (Action.RECOVERY_CASE_KEY_GIVE, trustees.first.member.pk),
    ]


def test_fewer_than_k_shares_open_nothing(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[2])
    response = starter.post(f"{url}perform/")
    assert response.status_code == 400 and "Not enough shares" in response.content.decode()
    assert not CaseKeyWrap.objects.filter(member=newcomer.member).exists()
    assert CeremonyShare.objects.count() == 1


def test_a_share_with_a_typo_is_named_wrong_without_its_words(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    words = trustees.shares[1].split()
    words[10], words[11] = words[11], words[10]
    if words[10] == words[11]:
        pytest.skip("the two swapped words are the same")
    baseline = starter.get(url).content.decode() + " ".join(str(text) for text in SHARE_ERRORS.values())
    page = starter.post(url, {"share": " ".join(words)})
    text = page.content.decode()
    assert page.status_code == 400 and "This share has a mistake" in text
    # A share word may also be an ordinary word of the page ("enter"): only words the page
    # does not hold anyway count, and no two of the share's words in a row.
    shown = {word for word in set(words) if re.search(rf"\b{re.escape(word)}\b", text)}
    assert {word for word in shown if not re.search(rf"\b{re.escape(word)}\b", baseline)} == set()
    assert not any(f"{a} {b}" in text for a, b in itertools.pairwise(words))
    assert not CeremonyShare.objects.exists()


def test_a_share_of_another_organisations_set_is_refused(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    foreign = sealbox.split_recovery_key(sealbox.KeyPair.generate().private_key, threshold=2, count=3)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    page = starter.post(url, {"share": foreign[0]})
    assert page.status_code == 400 and "belongs to another set of shares" in page.content.decode()
    assert not CeremonyShare.objects.exists()


def test_the_same_share_twice_counts_once(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[0])
    page = trustees.second.console(language="en").post(url, {"share": trustees.shares[0]})
    assert page.status_code == 400 and "entered already" in page.content.decode()
    assert CeremonyShare.objects.count() == 1


def test_shares_at_rest_are_sealed_to_the_ceremony_key_only(trustees: Trustees) -> None:
    """Attacker: a database reader. The share rows hold ciphertext; the words are nowhere."""
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[0])
    row = CeremonyShare.objects.get()
    assert row.index == 1 and row.entered_by_id == trustees.first.member.pk
    assert trustees.shares[0].encode() not in bytes(row.sealed_share)
    assert not any(word.encode() in bytes(row.sealed_share) for word in trustees.shares[0].split() if len(word) > 5)


def test_a_ceremony_key_swapped_in_the_database_stops_the_ceremony(trustees: Trustees) -> None:
    """Attacker: a database writer who puts their own key in the ceremony row, so the next
    trustee's share would be sealed to them. The certificate breaks; nothing is sealed."""
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    Ceremony.objects.update(public_key=sealbox.KeyPair.generate().public_key)
    response = trustees.second.console(language="en").post(url, {"share": trustees.shares[1]})
    assert response.status_code == 404
    assert not CeremonyShare.objects.exists()


def test_cancel_deletes_the_shares_and_is_audited(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[0])
    assert trustees.second.console(language="en").post(f"{url}cancel/").status_code == 302
    assert not Ceremony.objects.exists() and not CeremonyShare.objects.exists()
    assert AuditEntry.objects.filter(action=Action.RECOVERY_CEREMONY_CANCEL, actor=trustees.second.member).exists()


def test_an_expired_ceremony_is_deleted_and_audited(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[0])
    Ceremony.objects.update(expires_at=Ceremony.objects.get().started_at)
    assert starter.get(url).status_code == 404
    assert not CeremonyShare.objects.exists()
    assert AuditEntry.objects.filter(action=Action.RECOVERY_CEREMONY_EXPIRE).count() == 1


def test_the_worker_deletes_an_expired_ceremony_with_its_shares_when_nobody_comes_back(trustees: Trustees) -> None:
    """Attacker: a database reader who comes later. Shares sealed to a ceremony whose starter
    walked away must not wait in the database for the next visit to a recovery page."""
    person, newcomer = _orphaned_case(trustees)
    url = _start_case_access(trustees.first.console(language="en"), person.case, newcomer)
    _enter(trustees.first.console(language="en"), url, trustees.shares[0])
    assert EXPIRE_JOB in periodic_kinds()
    call_command("worker", "--once")
    assert CeremonyShare.objects.count() == 1  # not expired yet: left alone
    Ceremony.objects.update(expires_at=Ceremony.objects.get().started_at)
    Job.objects.filter(kind=EXPIRE_JOB).delete()  # the next time slot's job
    call_command("worker", "--once")
    assert not Ceremony.objects.exists() and not CeremonyShare.objects.exists()
    assert AuditEntry.objects.filter(action=Action.RECOVERY_CEREMONY_EXPIRE).count() == 1


def test_a_caseworker_cannot_start_or_join_a_ceremony(trustees: Trustees) -> None:
    person, newcomer = _orphaned_case(trustees)
    url = _start_case_access(trustees.first.console(language="en"), person.case, newcomer)
    other = make_staff("other", role=Role.CASEWORKER, invited_by=trustees.first)
    client = other.console(language="en")
    assert client.get("/recovery/").status_code == 403
    assert client.post(url, {"share": trustees.shares[1]}).status_code == 403
    assert not CeremonyShare.objects.exists()


def test_the_share_set_is_certified_and_holds_no_share(trustees: Trustees) -> None:
    share_set = RecoveryShareSet.objects.get()
    key = RecoveryKey.objects.get()
    assert (share_set.threshold, share_set.count) == (2, 3)
    assert share_set.holder_ids == [trustees.first.member.pk, trustees.second.member.pk, None]
    assert bytes(share_set.public_key) == bytes(key.public_key)
    assert account_services.recovery_share_set() is not None
    RecoveryShareSet.objects.update(threshold=1)
    assert account_services.recovery_share_set() is None


def test_a_disabled_trustee_is_pointed_out(trustees: Trustees) -> None:
    services.staff_disable(
        actor=trustees.first.member, actor_private_key=trustees.first.private_key, member=trustees.second.member
    )
    page = trustees.first.console(language="en").get("/recovery/").content.decode()
    assert "Share 2: the coordinator second" in page
    assert page.count("This account is disabled") == 1


def test_a_share_planted_in_the_database_makes_the_ceremony_refuse_and_start_over(trustees: Trustees) -> None:
    """Attacker: a database writer who adds a share row sealed to the ceremony's public key
    (which they can read). The combination is refused, nothing is given, the rows are cleared."""
    person, newcomer = _orphaned_case(trustees)
    starter = trustees.first.console(language="en")
    url = _start_case_access(starter, person.case, newcomer)
    _enter(starter, url, trustees.shares[0])
    ceremony = Ceremony.objects.get()
    foreign = sealbox.split_recovery_key(sealbox.KeyPair.generate().private_key, threshold=2, count=3)[1]
    ctx = share_ctx(ceremony, 2, trustees.second.member)
    planted = sealbox.seal(bytes(ceremony.public_key), foreign.encode(), ctx=ctx)
    CeremonyShare.objects.create(ceremony=ceremony, index=2, entered_by=trustees.second.member, sealed_share=planted)
    response = starter.post(f"{url}perform/")
    assert response.status_code == 400 and "do not belong to this organisation" in response.content.decode()
    assert not CaseKeyWrap.objects.filter(member=newcomer.member).exists()
    assert not CeremonyShare.objects.exists() and Ceremony.objects.exists()
    assert AuditEntry.objects.get(action=Action.RECOVERY_CEREMONY_REFUSED).details["reason"] == "not_this_key"
