"""Writes for safe houses and placements, and the audited reads of an address.

Each write runs in one transaction with its audit entry. Reading an address is audited, and
the entry committed, before anything is decrypted.
"""

from __future__ import annotations

import hmac
import logging
from datetime import date
from typing import cast

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

import sealbox
from accounts import permissions
from accounts.keyring import trusted_box_keys
from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from audit.services import audit_record
from casework import hooks, keys
from casework.lifecycle import State
from casework.models import Case, CaseKey
from casework.sealed import EditConflict, Refused, lock_case
from core.certificates import certified, certified_only, certify
from evacuation.safehouses import crypto
from evacuation.safehouses.crypto import HouseKeys
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseKey, SafeHouseShingle
from vetting import digests, normalise
from vetting.models import SensitiveKind

logger = logging.getLogger(__name__)

# Who manages safe houses and reads every address (can_manage_safe_houses), and who may place
# a person, or ask for a place (holding the case key too), and read the address of the house
# their case's person is placed in (can_place_person, can_read_placement_address): see
# accounts.permissions. Verifiers on a case's team hold its key but are refused both, in the
# service and the view.


class SafeHouseRefused(Refused):
    """The action is not allowed; the message says why (shown to staff)."""


def _require_manager(member: StaffMember) -> None:
    if not permissions.can_manage_safe_houses(member):
        raise SafeHouseRefused(_("Only logistics staff and coordinators manage safe houses."))


def _readers() -> list[tuple[StaffMember, bytes]]:
    """Active coordinators and logistics members with their certified box key. A member whose
    key has no valid certificate is left out and logged: nothing is sealed to it."""
    managers = StaffMember.objects.filter(is_active=True, role__in=permissions.SAFE_HOUSE_MANAGER_ROLES)
    return trusted_box_keys(
        managers.order_by("pk"),
        left_out="staff member %s: left out of safe-house keys, public key not certified",
        log=logger,
    )


def _address_digests(address: str) -> set[str]:
    return digests.sensitive_shingle_digests(normalise.item_shingles(address))


def address_matching_kinds(hashes: set[str]) -> set[str]:
    """Registered with vetting.sensitive.matching_kinds: SAFE_HOUSE when a draft's shingle
    digests hold enough of some house's address (the same rule as sensitive items)."""
    hits = (
        SafeHouseShingle.objects.filter(digest__in=hashes)
        .values("safe_house", "safe_house__shingle_count")
        .annotate(n=Count("pk"))
    )
    if any(row["n"] >= normalise.needed_matches(row["safe_house__shingle_count"]) for row in hits):
        return {SensitiveKind.SAFE_HOUSE.value}
    return set()


def _seal_to_staff(house: SafeHouse, house_keys: HouseKeys, readers: list[tuple[StaffMember, bytes]]) -> None:
    ctx = crypto.staff_key_ctx(house.pk, house.key_version)
    rows = [
        SafeHouseKey(
            safe_house=house,
            version=house.key_version,
            member=member,
            sealed_key=sealbox.seal(public_key, house_keys.packed(), ctx=ctx, pad=False),
        )
        for member, public_key in readers
    ]
    rows.append(
        SafeHouseKey(
            safe_house=house,
            version=house.key_version,
            for_recovery=True,
            sealed_key=sealbox.seal(keys.recovery_public_key(), house_keys.packed(), ctx=ctx, pad=False),
        )
    )
    for row in rows:
        certify(row)
    SafeHouseKey.objects.bulk_create(rows)


def _rotation_needed(house: SafeHouse) -> bool:
    """New keys are due after a stay ended, and also whenever the house row does not hold its
    certificate (its version or the due flag was changed outside the console): making new
    keys is the safe answer either way. The audit log is asked too: a stay ended, or an
    address taken from a case's key, after the house's last new keys means new keys are due,
    even if a writer put back the row's own earlier certificate."""
    return house.rotation_due or not certified(house) or _keys_due_on_record(house)


def _keys_due_on_record(house: SafeHouse) -> bool:
    last = (
        AuditEntry.objects.filter(action=Action.SAFE_HOUSE_KEYS_ROTATE, details__safe_house=house.pk)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    since = AuditEntry.objects.filter(
        action__in=[Action.PLACEMENT_END, Action.SAFE_HOUSE_CASE_KEYS_REVOKE], details__safe_house=house.pk
    )
    if last is not None:
        since = since.filter(sequence__gt=last)
    return since.exists()


def _rotation_due_set(house: SafeHouse) -> None:
    was_certified = certified(house)
    house.rotation_due = True
    if was_certified:  # a row that did not hold stays refused (new keys are due for it anyway)
        certify(house)
    house.save(update_fields=["rotation_due", "certificate"])


def _case_may_hold_address(case: Case) -> bool:
    return case.status == State.VERIFIED and case.under_duress_since is None and keys.case_trusted(case)


def _seal_to_case_key(house: SafeHouse, address_key: bytes, case_key: CaseKey, case_private_key: bytes) -> None:
    """Seal the address key to ``case_key``, which must be the pair of ``case_private_key``:
    a private key the caller opened with their own key (keys.current_key_open, or an address
    sealed to an older version they hold). A CaseKey row alone proves nothing: a database
    writer can insert one with a public key of their own. Raises keys.NoAccess otherwise."""
    derived = sealbox.KeyPair.from_private(case_private_key).public_key
    if not hmac.compare_digest(derived, bytes(case_key.public_key)):
        logger.warning("case key %s: its public key is not the pair of the key opened; nothing sealed", case_key.pk)
        raise keys.NoAccess
    ctx = crypto.case_key_ctx(house.pk, house.key_version, case_key.pk)
    existing = SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, case_key=case_key)
    if certified_only(existing):
        return
    existing.delete()  # a row made outside the console is replaced, not trusted
    row = SafeHouseKey(
        safe_house=house,
        version=house.key_version,
        case_key=case_key,
        sealed_key=sealbox.seal(keys.sealable_public_key(case_key), address_key, ctx=ctx, pad=False),
    )
    certify(row)
    row.save(force_insert=True)


def _encrypt(house: SafeHouse, house_keys: HouseKeys, address: str, notes: str) -> None:
    house.address_ct = sealbox.encrypt(
        house_keys.address, address.encode(), ctx=crypto.address_ctx(house.pk, house.key_version)
    )
    house.notes_ct = sealbox.encrypt(
        house_keys.notes, notes.encode(), ctx=crypto.notes_ctx(house.pk, house.key_version)
    )


def safe_house_create(*, actor: StaffMember, code_name: str, capacity: int, address: str, notes: str) -> SafeHouse:
    _require_manager(actor)
    hashes = _address_digests(address)
    if not hashes:
        raise SafeHouseRefused(_("The address has no words or numbers to recognise it by."))
    if capacity < 1:
        raise SafeHouseRefused(_("A safe house has room for at least one person."))
    with transaction.atomic():
        if SafeHouse.objects.filter(code_name__iexact=code_name).exists():
            raise SafeHouseRefused(_("Another safe house already has this code name."))
        house = SafeHouse.objects.create(
            code_name=code_name, capacity=capacity, created_by=actor, shingle_count=len(hashes)
        )
        house_keys = HouseKeys.generate()
        _encrypt(house, house_keys, address, notes)
        certify(house)
        house.save(update_fields=["address_ct", "notes_ct", "certificate"])
        _seal_to_staff(house, house_keys, _readers())
        SafeHouseShingle.objects.bulk_create(
            [SafeHouseShingle(safe_house=house, digest=value) for value in sorted(hashes)]
        )
        audit_record(actor=actor, action=Action.SAFE_HOUSE_CREATE, details={"safe_house": house.pk})
    return house


def _staff_keys(house: SafeHouse, member: StaffMember, member_private_key: bytes) -> HouseKeys | None:
    """The house's current keys opened with ``member``'s own private key, or None when none
    were sealed to them (they joined later) or the sealing does not open."""
    row = SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member=member).first()
    if row is None or not member.is_active or not certified(row):
        return None
    try:
        raw = sealbox.unseal(
            member_private_key, bytes(row.sealed_key), ctx=crypto.staff_key_ctx(house.pk, house.key_version)
        )
    except sealbox.CryptoError:
        logger.warning("staff member %s: their safe-house keys do not open", member.pk)
        return None
    return HouseKeys.unpacked(raw)


def readers_lacking_keys(house: SafeHouse) -> list[StaffMember]:
    """Coordinators and logistics members (certified keys only) who cannot open the house's
    current keys: staff who joined after it was added. A coordinator shares with each by name
    (safe_house_share), so a role changed in the database alone gets nothing."""
    have = {
        row.member_id
        for row in certified_only(
            SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member__isnull=False)
        )
    }
    return sorted((member for member, _key in _readers() if member.pk not in have), key=lambda m: m.username)


def safe_house_share(*, actor: StaffMember, actor_private_key: bytes, house: SafeHouse, member: StaffMember) -> None:
    """Seal the house's current keys to ``member``, chosen by a coordinator who can open them."""
    if not permissions.can_share_safe_house(actor):
        raise SafeHouseRefused(_("Only a coordinator can give staff access to a safe-house address."))
    with transaction.atomic():
        locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
        public_key = dict((reader.pk, key) for reader, key in _readers()).get(member.pk)
        if public_key is None or member not in readers_lacking_keys(locked):
            raise SafeHouseRefused(_("This address cannot be shared with this account."))
        house_keys = _staff_keys(locked, actor, actor_private_key)
        if house_keys is None:
            raise SafeHouseRefused(
                _("This address was not shared with you: ask a coordinator or logistics member who can read it.")
            )
        _seal_to_staff_member(locked, house_keys, member, public_key)
        audit_record(
            actor=actor, action=Action.SAFE_HOUSE_SHARE, details={"safe_house": locked.pk, "member": member.pk}
        )


def _seal_to_staff_member(house: SafeHouse, house_keys: HouseKeys, member: StaffMember, public_key: bytes) -> None:
    SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member=member).delete()  # uncertified
    row = SafeHouseKey(
        safe_house=house,
        version=house.key_version,
        member=member,
        sealed_key=sealbox.seal(
            public_key, house_keys.packed(), ctx=crypto.staff_key_ctx(house.pk, house.key_version), pad=False
        ),
    )
    certify(row)
    row.save(force_insert=True)


def active_placements(house: SafeHouse) -> list[Placement]:
    """The house's stays that have not ended, as the application recorded them: a stay a
    database writer planted or brought back is not one (and gives no case key the address)."""
    return certified_only(house.placements.filter(ended_at__isnull=True).select_related("case"))


def _seal_to_cases_held_by(
    house: SafeHouse, address_key: bytes, member: StaffMember, member_private_key: bytes
) -> None:
    """Seal the address key to the current key of each confirmed, verified case placed here
    whose current key ``member`` holds and opens (checked against its public key). Cases whose
    key they do not hold get it when a holder who may read the address opens it
    (placement_address), never from what the database says alone."""
    for placement in active_placements(house):
        case = placement.case
        if not placement.is_confirmed or not _case_may_hold_address(case):
            continue
        try:
            case_private_key = keys.current_key_open(case, member, member_private_key)
            _seal_to_case_key(house, address_key, keys.current_case_key(case), case_private_key)
        except keys.NoAccess:
            continue


def safe_house_rotate(*, house: SafeHouse, old: HouseKeys, actor: StaffMember) -> HouseKeys:
    """New keys for the address and notes, sealed to the staff who held the old ones (and are
    still coordinators or logistics with a certified key) and the recovery key; the old
    sealings are deleted, those to case keys too. The caller re-seals to the case keys it
    holds (_seal_to_cases_held_by); other placed cases' teams get the new keys when a holder
    who is a coordinator or logistics member opens the address (placement_address). Someone who kept an old sealing (a team
    whose placement ended) cannot open what is stored from now on. Called in a transaction
    with the house row locked."""
    address = sealbox.decrypt(old.address, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))
    notes = sealbox.decrypt(old.notes, bytes(house.notes_ct), ctx=crypto.notes_ctx(house.pk, house.key_version))
    held = {
        row.member_id
        for row in certified_only(
            SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member__isnull=False)
        )
    }
    SafeHouseKey.objects.filter(safe_house=house).delete()
    house.key_version += 1
    house.rotation_due = False
    new = HouseKeys.generate()
    _encrypt(house, new, address.decode(), notes.decode())
    certify(house)  # a new key version and nothing due: values the application just chose
    house.save(update_fields=["key_version", "rotation_due", "address_ct", "notes_ct", "certificate"])
    _seal_to_staff(house, new, [(member, key) for member, key in _readers() if member.pk in held])
    audit_record(
        actor=actor,
        action=Action.SAFE_HOUSE_KEYS_ROTATE,
        details={"safe_house": house.pk, "version": house.key_version},
    )
    return new


def safe_house_open(*, house: SafeHouse, member: StaffMember, member_private_key: bytes) -> tuple[str, str]:
    """The address and notes in the clear for a coordinator or logistics member. The viewing
    is audited and committed before anything is decrypted. Refused when the keys were never
    sealed to this member. New keys are made if a placement ended since they were last
    opened; the address key is then sealed to the current key of the confirmed placed cases
    whose key this member holds (and opens)."""
    _require_manager(member)
    if _staff_keys(house, member, member_private_key) is None:
        raise SafeHouseRefused(
            _("This address was not shared with you: ask a coordinator or logistics member who can read it.")
        )
    with transaction.atomic():
        audit_record(actor=member, action=Action.SAFE_HOUSE_ADDRESS_VIEW, details={"safe_house": house.pk})
    with transaction.atomic():
        locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
        house_keys = _staff_keys(locked, member, member_private_key)
        if house_keys is None:  # rotated meanwhile without this member
            raise SafeHouseRefused(
                _("This address was not shared with you: ask a coordinator or logistics member who can read it.")
            )
        if _rotation_needed(locked):
            house_keys = safe_house_rotate(house=locked, old=house_keys, actor=member)
        _seal_to_cases_held_by(locked, house_keys.address, member, member_private_key)
    version = locked.key_version
    address = sealbox.decrypt(house_keys.address, bytes(locked.address_ct), ctx=crypto.address_ctx(locked.pk, version))
    notes = sealbox.decrypt(house_keys.notes, bytes(locked.notes_ct), ctx=crypto.notes_ctx(locked.pk, version))
    return address.decode(), notes.decode()


def _house_locked_at(house: SafeHouse, expected_revision: int) -> SafeHouse:
    locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
    if locked.revision != expected_revision:
        # A house does not keep who changed it last (the audit log does).
        raise EditConflict(locked.revision, "", None)
    if locked.is_closed:
        raise SafeHouseRefused(_("This safe house is closed."))
    return locked


def safe_house_edit(
    *,
    actor: StaffMember,
    actor_private_key: bytes,
    house: SafeHouse,
    expected_revision: int,
    code_name: str,
    capacity: int,
    address: str | None = None,
    notes: str | None = None,
) -> SafeHouse:
    """Change the code name and capacity and, when ``address`` / ``notes`` are given (not
    None), the encrypted address and notes: re-encrypted under the house's current keys, which
    the actor must be able to open, and the address's reply-screen hashes registered anew.
    Capacity below the people placed there now is refused. ``expected_revision`` is the
    revision the form was rendered with (EditConflict if anyone saved since)."""
    _require_manager(actor)
    if capacity < 1:
        raise SafeHouseRefused(_("A safe house has room for at least one person."))
    hashes = _address_digests(address) if address is not None else set()
    if address is not None and not hashes:
        raise SafeHouseRefused(_("The address has no words or numbers to recognise it by."))
    with transaction.atomic():
        locked = _house_locked_at(house, expected_revision)
        if SafeHouse.objects.filter(code_name__iexact=code_name).exclude(pk=locked.pk).exists():
            raise SafeHouseRefused(_("Another safe house already has this code name."))
        occupied = Placement.objects.filter(safe_house=locked, ended_at__isnull=True).count()
        if capacity < occupied:
            raise SafeHouseRefused(
                _("%(count)s people are placed here now: the capacity cannot be lower than that.") % {"count": occupied}
            )
        changed = [
            name
            for name, old, new in (("code_name", locked.code_name, code_name), ("capacity", locked.capacity, capacity))
            if old != new
        ]
        locked.code_name, locked.capacity = code_name, capacity
        if address is not None or notes is not None:
            house_keys = _staff_keys(locked, actor, actor_private_key)
            if house_keys is None:
                raise SafeHouseRefused(
                    _("This address was not shared with you: ask a coordinator or logistics member who can read it.")
                )
            if _rotation_needed(locked):  # a stay ended: new keys before anything new is stored
                house_keys = safe_house_rotate(house=locked, old=house_keys, actor=actor)
            version = locked.key_version
            old_address = sealbox.decrypt(
                house_keys.address, bytes(locked.address_ct), ctx=crypto.address_ctx(locked.pk, version)
            ).decode()
            old_notes = sealbox.decrypt(
                house_keys.notes, bytes(locked.notes_ct), ctx=crypto.notes_ctx(locked.pk, version)
            ).decode()
            new_address = old_address if address is None else address
            new_notes = old_notes if notes is None else notes
            changed += [
                name
                for name, old, new in (("address", old_address, new_address), ("notes", old_notes, new_notes))
                if old != new
            ]
            _encrypt(locked, house_keys, new_address, new_notes)
            if new_address != old_address:
                SafeHouseShingle.objects.filter(safe_house=locked).delete()
                SafeHouseShingle.objects.bulk_create(
                    [SafeHouseShingle(safe_house=locked, digest=value) for value in sorted(hashes)]
                )
                locked.shingle_count = len(hashes)
        locked.revision += 1
        locked.save(update_fields=["code_name", "capacity", "address_ct", "notes_ct", "shingle_count", "revision"])
        # Which fields changed (True/False), never their values.
        audit_record(
            actor=actor,
            action=Action.SAFE_HOUSE_EDIT,
            details={
                "safe_house": locked.pk,
                "revision": locked.revision,
                **{field: field in changed for field in ("code_name", "capacity", "address", "notes")},
            },
        )
    return locked


def safe_house_close(*, actor: StaffMember, house: SafeHouse, expected_revision: int) -> SafeHouse:
    """Close a house nobody is placed in: it takes no new placements and leaves the placement
    form; its history and its address hashes (the reply screen still guards it) stay."""
    _require_manager(actor)
    with transaction.atomic():
        locked = _house_locked_at(house, expected_revision)
        occupied = Placement.objects.filter(safe_house=locked, ended_at__isnull=True).count()
        if occupied:
            raise SafeHouseRefused(
                _("%(count)s people are still placed here: end their stays before closing the safe house.")
                % {"count": occupied}
            )
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.revision += 1
        locked.save(update_fields=["closed_at", "closed_by", "revision"])
        audit_record(
            actor=actor, action=Action.SAFE_HOUSE_CLOSE, details={"safe_house": locked.pk, "revision": locked.revision}
        )
    return locked


def placement_create(
    *,
    actor: StaffMember,
    actor_private_key: bytes,
    case: Case,
    house: SafeHouse,
    starts_on: date,
    until: date | None,
) -> Placement:
    """Place the person of a verified case in ``house``: confirmed at once when a coordinator
    or logistics member places them (the address key is sealed to the case key they opened),
    a request waiting for one of them to confirm it (placement_confirm) when a caseworker
    does, so a caseworker cannot reach an address by choosing a house. Requests and confirmed
    stays both take a place. The house row is locked and its active placements counted inside
    the transaction, so of two staff placing people into the last free place at the same
    moment exactly one succeeds."""
    if not permissions.can_place_person(actor):
        raise SafeHouseRefused(_("Your role may not place people in safe houses."))
    if until is not None and until < starts_on:
        raise SafeHouseRefused(_("The planned end is before the start."))
    case_private_key = keys.current_key_open(case, actor, actor_private_key)  # NoAccess: not a holder
    confirmed = permissions.can_manage_safe_houses(actor)
    with transaction.atomic():
        locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
        if locked.is_closed:
            raise SafeHouseRefused(_("This safe house is closed: choose another one."))
        locked_case = lock_case(case)
        if locked_case.status != State.VERIFIED:
            raise SafeHouseRefused(_("Only the person of a verified case can be placed in a safe house."))
        if locked_case.key_version != case.key_version:
            raise SafeHouseRefused(_("The case key changed a moment ago: please try again."))
        if Placement.objects.filter(case=locked_case, ended_at__isnull=True).exists():
            raise SafeHouseRefused(_("This person is already placed in a safe house: end that stay first."))
        occupied = Placement.objects.filter(safe_house=locked, ended_at__isnull=True).count()
        if occupied >= locked.capacity:
            raise SafeHouseRefused(
                _("%(house)s is full (%(capacity)s places, all taken). Choose another safe house.")
                % {"house": locked.code_name, "capacity": locked.capacity}
            )
        now = timezone.now()
        placement = Placement(
            case=locked_case,
            safe_house=locked,
            starts_on=starts_on,
            until=until,
            placed_by=actor,
            status=Placement.Status.CONFIRMED if confirmed else Placement.Status.REQUESTED,
            confirmed_by=actor if confirmed else None,
            confirmed_at=now if confirmed else None,
        )
        certify(placement)
        placement.save(force_insert=True)
        house_keys = _staff_keys(locked, actor, actor_private_key) if confirmed else None
        if house_keys is not None and locked_case.under_duress_since is None:
            _seal_to_case_key(locked, house_keys.address, keys.current_case_key(locked_case), case_private_key)
        audit_record(
            actor=actor,
            action=Action.PLACEMENT_CREATE,
            case=locked_case,
            details={"placement": str(placement.pk), "safe_house": locked.pk, "status": placement.status},
        )
    return placement


def placement_confirm(*, actor: StaffMember, actor_private_key: bytes, placement: Placement) -> Placement:
    """A coordinator or logistics member confirms a caseworker's request for a place. Only
    this gives the case's key the address, and only when the confirming member can open both
    the house's keys and the case's current key (checked against its public key); otherwise
    the stay is confirmed and the address reaches the case key when a coordinator or
    logistics member who holds it opens the address. Audited in the same transaction."""
    _require_manager(actor)
    with transaction.atomic():
        house = SafeHouse.objects.select_for_update().get(pk=placement.safe_house_id)
        locked = Placement.objects.select_for_update().select_related("case").get(pk=placement.pk)
        if locked.ended_at is not None:
            raise SafeHouseRefused(_("This stay has already ended."))
        if locked.is_confirmed:
            raise SafeHouseRefused(_("This stay is already confirmed."))
        case = keys.case_checked(lock_case(locked.case))
        if case.status != State.VERIFIED:
            raise SafeHouseRefused(_("Only the person of a verified case can be placed in a safe house."))
        if not certified(locked):
            raise keys.UntrustedRecord("placement", case.pk)
        locked.status = Placement.Status.CONFIRMED
        locked.confirmed_by = actor
        locked.confirmed_at = timezone.now()
        certify(locked)
        locked.save(update_fields=["status", "confirmed_by", "confirmed_at", "certificate"])
        house_keys = _staff_keys(house, actor, actor_private_key)
        sealed = False
        if house_keys is not None and case.under_duress_since is None:
            try:
                case_private_key = keys.current_key_open(case, actor, actor_private_key)
                _seal_to_case_key(house, house_keys.address, keys.current_case_key(case), case_private_key)
                sealed = True
            except keys.NoAccess:
                pass
        audit_record(
            actor=actor,
            action=Action.PLACEMENT_CONFIRM,
            case=case,
            details={"placement": str(locked.pk), "safe_house": house.pk, "address_shared": sealed},
        )
    return locked


def placement_end(*, actor: StaffMember, actor_private_key: bytes, case: Case, placement: Placement) -> Placement:
    """End a stay (or withdraw or turn down a request): the address is no longer sealed to
    the case's key (past or future versions). After a confirmed stay the house gets new keys
    at once if the actor can open them, otherwise when a coordinator or logistics member next
    opens the address. A request never had the address, so its end needs no new keys."""
    if not permissions.can_place_person(actor):
        raise SafeHouseRefused(_("Your role may not place people in safe houses."))
    keys.current_key_open(case, actor, actor_private_key)  # NoAccess: not a holder of the case key
    with transaction.atomic():
        house = SafeHouse.objects.select_for_update().get(pk=placement.safe_house_id)
        locked = Placement.objects.select_for_update().get(pk=placement.pk, case=case)
        if locked.ended_at is not None:
            raise SafeHouseRefused(_("This stay has already ended."))
        locked.ended_at = timezone.now()
        locked.ended_by = actor
        # Certified as ended even if it was not certified before: ending only takes away.
        certify(locked)
        locked.save(update_fields=["ended_at", "ended_by", "certificate"])
        SafeHouseKey.objects.filter(safe_house=house, case_key__case=case).delete()
        if locked.is_confirmed:
            house_keys = (
                _staff_keys(house, actor, actor_private_key) if permissions.can_manage_safe_houses(actor) else None
            )
            if house_keys is not None:
                new = safe_house_rotate(house=house, old=house_keys, actor=actor)
                _seal_to_cases_held_by(house, new.address, actor, actor_private_key)
            else:
                _rotation_due_set(house)
        audit_record(
            actor=actor,
            action=Action.PLACEMENT_END,
            case=case,
            details={"placement": str(locked.pk), "safe_house": house.pk},
        )
    return locked


def placement_address(*, case: Case, member: StaffMember, member_private_key: bytes) -> tuple[Placement, str] | None:
    """Where the person of ``case`` is placed now, with the address, for a coordinator,
    logistics member or caseworker holding the case key (verifiers and analysts are refused),
    while the case is verified and not under duress and the stay is confirmed.

    Opened through the case key version the address was sealed to. When that is an older
    version than the current one (the case key was rotated), the address key is sealed to the
    current version, after checking that the current private key this member opens is the
    pair of its public key. When nothing was sealed to the case key yet (a house given new
    keys since), a coordinator or logistics member who opens the house's keys and the current
    case key seals it. None when the address cannot be reached yet. The viewing is audited and
    committed before anything is decrypted. Raises keys.NoAccess for a non-holder,
    SafeHouseRefused otherwise."""
    if not permissions.can_read_placement_address(member):
        raise SafeHouseRefused(_("Your role may not read safe-house addresses."))
    opened = keys.case_private_keys(case, member, member_private_key)
    placement = Placement.objects.filter(case=case, ended_at__isnull=True).select_related("safe_house").first()
    if placement is None:
        raise SafeHouseRefused(_("This person is not placed in a safe house."))
    keys.case_checked(case)  # a state or key version set outside the console reads nothing
    if not certified(placement):
        raise keys.UntrustedRecord("placement", case.pk)
    if not _case_may_hold_address(case):
        raise SafeHouseRefused(_("Only the team of a verified case can read the address."))
    if not placement.is_confirmed:
        raise SafeHouseRefused(
            _("This stay waits for a coordinator or logistics member to confirm it; the address is shown after.")
        )
    house = placement.safe_house
    with transaction.atomic():
        audit_record(
            actor=member,
            action=Action.SAFE_HOUSE_ADDRESS_VIEW,
            case=case,
            details={"safe_house": house.pk, "placement": str(placement.pk)},
        )
    current = keys.current_case_key(case)
    sealings = SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, case_key_id__in=opened)
    certified_rows = certified_only(sealings.order_by("-case_key__version"))
    row = certified_rows[0] if certified_rows else None
    address_key: bytes | None = None
    address = b""
    if row is not None:
        case_key_id = cast(int, row.case_key_id)  # filtered on case_key_id__in
        try:
            address_key = sealbox.unseal(
                opened[case_key_id],
                bytes(row.sealed_key),
                ctx=crypto.case_key_ctx(house.pk, house.key_version, case_key_id),
            )
            address = sealbox.decrypt(
                address_key, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version)
            )
        except sealbox.CryptoError:
            logger.warning("safe house %s: the sealing to case key %s does not open", house.pk, row.case_key_id)
            address_key = None
    if address_key is None and permissions.can_manage_safe_houses(member):
        house_keys = _staff_keys(house, member, member_private_key)
        if house_keys is not None:
            address_key = house_keys.address
            address = sealbox.decrypt(
                address_key, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version)
            )
            row = None
    if address_key is None:
        return None
    if row is None or row.case_key_id != current.pk:
        # Give the current case key the address, if this member proves it is the case's.
        try:
            current_private = keys.current_key_open(case, member, member_private_key)
            with transaction.atomic():
                _seal_to_case_key(house, address_key, current, current_private)
        except keys.NoAccess:
            pass
    return placement, address.decode()


def revoke_when_no_longer_verified(transitioned: hooks.Transitioned) -> None:
    """Registered with casework.hooks.transitioned: a case leaving the verified state loses
    every safe-house address key (case_address_keys_revoke)."""
    if transitioned.left(State.VERIFIED):
        case_address_keys_revoke(case=transitioned.case, actor=transitioned.actor, reason="left_verified")


def revoke_under_duress(marked: hooks.DuressMarked) -> None:
    """Registered with casework.hooks.duress_marked: a case under duress loses every safe-house
    address key, whichever phrase opened it (case_address_keys_revoke)."""
    case_address_keys_revoke(case=marked.case, reason="duress")


def case_address_keys_revoke(*, case: Case, actor: StaffMember | None = None, reason: str) -> int:
    """Take every safe-house address key away from ``case``'s key (all versions): when the case
    leaves the verified state (casework.lifecycle.case_transition) or comes under duress
    (casework.services.case_mark_duress). The houses concerned get new keys when a coordinator
    or logistics member next opens them, so an address key the team kept no longer opens what
    is stored. Run inside the caller's transaction; audited when anything was taken away.
    Returns how many sealings were deleted."""
    sealings = SafeHouseKey.objects.filter(case_key__case=case)
    # The houses are chosen from the sealings and from the case's confirmed stay (certified):
    # hiding the sealing rows for the moment of the change does not spare a house new keys.
    stays = certified_only(Placement.objects.filter(case=case, ended_at__isnull=True).select_related("case"))
    house_ids = sorted(
        set(sealings.values_list("safe_house_id", flat=True))
        | {stay.safe_house_id for stay in stays if stay.is_confirmed}
    )
    if not house_ids:
        return 0
    deleted, _by_model = sealings.delete()
    for house in SafeHouse.objects.filter(pk__in=house_ids):
        _rotation_due_set(house)
    for house_id in house_ids:
        audit_record(
            actor=actor,
            action=Action.SAFE_HOUSE_CASE_KEYS_REVOKE,
            case=case,
            details={"safe_house": house_id, "reason": reason},
        )
    return deleted
