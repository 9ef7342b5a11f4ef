"""Writes for safe houses and placements, and the audited reads of an address.

Each write runs in one transaction with its audit entry. Reading an address is audited, and
the entry committed, before anything is decrypted.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

import sealbox
from accounts.keyring import trusted_box_key
from accounts.models import Role, StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.models import Case, CaseKey
from evacuation.safehouses import crypto
from evacuation.safehouses.crypto import HouseKeys
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseKey, SafeHouseShingle
from triage.lifecycle import State
from vetting import digests, normalise
from vetting.models import SensitiveKind

logger = logging.getLogger(__name__)

# Who manages safe houses and reads every address.
MANAGER_ROLES = (Role.COORDINATOR, Role.LOGISTICS)
# Who may place a person (they must also hold the case key).
PLACER_ROLES = (Role.COORDINATOR, Role.LOGISTICS, Role.CASEWORKER)


class SafeHouseRefused(ValueError):
    """The action is not allowed; the message says why (shown to staff)."""


class SafeHouseConflict(Exception):
    """Someone changed or closed the house after the form was rendered: nothing was saved."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def is_manager(member: StaffMember) -> bool:
    return member.is_active and member.role in MANAGER_ROLES


def _require_manager(member: StaffMember) -> None:
    if not is_manager(member):
        raise SafeHouseRefused(_("Only logistics staff and coordinators manage safe houses."))


def _readers() -> list[tuple[StaffMember, bytes]]:
    """Active coordinators and logistics members with their certified box key. A member whose
    key has no valid certificate is left out and logged: nothing is sealed to it."""
    readers = []
    for member in StaffMember.objects.filter(is_active=True, role__in=MANAGER_ROLES).order_by("pk"):
        public_key = trusted_box_key(member)
        if public_key is None:
            logger.warning("staff member %s: left out of safe-house keys, public key not certified", member.pk)
            continue
        readers.append((member, public_key))
    return readers


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
            sealed_key=sealbox.seal(public_key, house_keys.packed(), ctx=ctx),
        )
        for member, public_key in readers
    ]
    rows.append(
        SafeHouseKey(
            safe_house=house,
            version=house.key_version,
            for_recovery=True,
            sealed_key=sealbox.seal(keys.recovery_public_key(), house_keys.packed(), ctx=ctx),
        )
    )
    SafeHouseKey.objects.bulk_create(rows)


def _seal_to_case_key(house: SafeHouse, address_key: bytes, case_key: CaseKey) -> None:
    ctx = crypto.case_key_ctx(house.pk, house.key_version, case_key.pk)
    SafeHouseKey.objects.get_or_create(
        safe_house=house,
        version=house.key_version,
        case_key=case_key,
        defaults={"sealed_key": sealbox.seal(bytes(case_key.public_key), address_key, ctx=ctx)},
    )


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
        house.save(update_fields=["address_ct", "notes_ct"])
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
    if row is None or not member.is_active:
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
    have = set(
        SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member__isnull=False).values_list(
            "member_id", flat=True
        )
    )
    return sorted((member for member, _key in _readers() if member.pk not in have), key=lambda m: m.username)


def safe_house_share(*, actor: StaffMember, actor_private_key: bytes, house: SafeHouse, member: StaffMember) -> None:
    """Seal the house's current keys to ``member``, chosen by a coordinator who can open them."""
    if not actor.is_coordinator:
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
    SafeHouseKey.objects.create(
        safe_house=house,
        version=house.key_version,
        member=member,
        sealed_key=sealbox.seal(public_key, house_keys.packed(), ctx=crypto.staff_key_ctx(house.pk, house.key_version)),
    )


def active_placements(house: SafeHouse) -> list[Placement]:
    return list(house.placements.filter(ended_at__isnull=True).select_related("case"))


def _seal_to_placed_cases(house: SafeHouse, address_key: bytes) -> None:
    """Seal the address key to the current key of every verified case placed here (a case
    whose key was rotated since it was placed, or one placed by someone who could not open
    the address)."""
    for placement in active_placements(house):
        if placement.case.status == State.VERIFIED:
            _seal_to_case_key(house, address_key, keys.current_case_key(placement.case))


def safe_house_rotate(*, house: SafeHouse, old: HouseKeys, actor: StaffMember) -> HouseKeys:
    """New keys for the address and notes, sealed to the staff who held the old ones (and are
    still coordinators or logistics with a certified key), the recovery key and the cases
    placed here now; the old sealings are deleted. Someone who kept an old sealing (a team
    whose placement ended) cannot open what is stored from now on. Called in a transaction
    with the house row locked."""
    address = sealbox.decrypt(old.address, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))
    notes = sealbox.decrypt(old.notes, bytes(house.notes_ct), ctx=crypto.notes_ctx(house.pk, house.key_version))
    held = set(
        SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, member__isnull=False).values_list(
            "member_id", flat=True
        )
    )
    SafeHouseKey.objects.filter(safe_house=house).delete()
    house.key_version += 1
    house.rotation_due = False
    new = HouseKeys.generate()
    _encrypt(house, new, address.decode(), notes.decode())
    house.save(update_fields=["key_version", "rotation_due", "address_ct", "notes_ct"])
    _seal_to_staff(house, new, [(member, key) for member, key in _readers() if member.pk in held])
    _seal_to_placed_cases(house, new.address)
    audit_record(
        actor=actor,
        action=Action.SAFE_HOUSE_KEYS_ROTATE,
        details={"safe_house": house.pk, "version": house.key_version},
    )
    return new


def safe_house_open(*, house: SafeHouse, member: StaffMember, member_private_key: bytes) -> tuple[str, str]:
    """The address and notes in the clear for a coordinator or logistics member. The viewing
    is audited and committed before anything is decrypted. Refused when the keys were never
    sealed to this member. Afterwards the keys are sealed to the current key of the cases
    placed here, and new keys are made if a placement ended since they were last opened."""
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
        if locked.rotation_due:
            house_keys = safe_house_rotate(house=locked, old=house_keys, actor=member)
        else:
            _seal_to_placed_cases(locked, house_keys.address)
    version = locked.key_version
    address = sealbox.decrypt(house_keys.address, bytes(locked.address_ct), ctx=crypto.address_ctx(locked.pk, version))
    notes = sealbox.decrypt(house_keys.notes, bytes(locked.notes_ct), ctx=crypto.notes_ctx(locked.pk, version))
    return address.decode(), notes.decode()


def _house_locked_at(house: SafeHouse, expected_revision: int) -> SafeHouse:
    locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
    if locked.revision != expected_revision:
        raise SafeHouseConflict(locked.revision)
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
    revision the form was rendered with (SafeHouseConflict if anyone saved since)."""
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
            if locked.rotation_due:  # a stay ended: new keys before anything new is stored
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
    """Place the person of a verified case in ``house``. The house row is locked and its
    active placements counted inside the transaction, so of two staff placing people into the
    last free place at the same moment exactly one succeeds."""
    if actor.role not in PLACER_ROLES:
        raise SafeHouseRefused(_("Your role may not place people in safe houses."))
    if until is not None and until < starts_on:
        raise SafeHouseRefused(_("The planned end is before the start."))
    keys.current_key_open(case, actor, actor_private_key)  # NoAccess: not a holder of the case key
    with transaction.atomic():
        locked = SafeHouse.objects.select_for_update().get(pk=house.pk)
        if locked.is_closed:
            raise SafeHouseRefused(_("This safe house is closed: choose another one."))
        locked_case = Case.objects.select_for_update().get(pk=case.pk)
        if locked_case.status != State.VERIFIED:
            raise SafeHouseRefused(_("Only the person of a verified case can be placed in a safe house."))
        if Placement.objects.filter(case=locked_case, ended_at__isnull=True).exists():
            raise SafeHouseRefused(_("This person is already placed in a safe house: end that stay first."))
        occupied = Placement.objects.filter(safe_house=locked, ended_at__isnull=True).count()
        if occupied >= locked.capacity:
            raise SafeHouseRefused(
                _("%(house)s is full (%(capacity)s places, all taken). Choose another safe house.")
                % {"house": locked.code_name, "capacity": locked.capacity}
            )
        placement = Placement.objects.create(
            case=locked_case, safe_house=locked, starts_on=starts_on, until=until, placed_by=actor
        )
        house_keys = _staff_keys(locked, actor, actor_private_key) if is_manager(actor) else None
        if house_keys is not None:
            _seal_to_case_key(locked, house_keys.address, keys.current_case_key(locked_case))
        audit_record(
            actor=actor,
            action=Action.PLACEMENT_CREATE,
            case=locked_case,
            details={"placement": str(placement.pk), "safe_house": locked.pk},
        )
    return placement


def placement_end(*, actor: StaffMember, actor_private_key: bytes, case: Case, placement: Placement) -> Placement:
    """End a stay: the address is no longer sealed to the case's key (past or future
    versions), and the house gets new keys at once if the actor can open them, otherwise
    when a coordinator or logistics member next opens the address."""
    if actor.role not in PLACER_ROLES:
        raise SafeHouseRefused(_("Your role may not place people in safe houses."))
    keys.current_key_open(case, actor, actor_private_key)  # NoAccess: not a holder of the case key
    with transaction.atomic():
        house = SafeHouse.objects.select_for_update().get(pk=placement.safe_house_id)
        locked = Placement.objects.select_for_update().get(pk=placement.pk, case=case)
        if locked.ended_at is not None:
            raise SafeHouseRefused(_("This stay has already ended."))
        locked.ended_at = timezone.now()
        locked.ended_by = actor
        locked.save(update_fields=["ended_at", "ended_by"])
        SafeHouseKey.objects.filter(safe_house=house, case_key__case=case).delete()
        house_keys = _staff_keys(house, actor, actor_private_key) if is_manager(actor) else None
        if house_keys is not None:
            safe_house_rotate(house=house, old=house_keys, actor=actor)
        else:
            house.rotation_due = True
            house.save(update_fields=["rotation_due"])
        audit_record(
            actor=actor,
            action=Action.PLACEMENT_END,
            case=case,
            details={"placement": str(locked.pk), "safe_house": house.pk},
        )
    return locked


def placement_address(*, case: Case, member: StaffMember, member_private_key: bytes) -> tuple[Placement, str] | None:
    """Where the person of ``case`` is placed now, with the address, for a holder of the
    case key: opened through the case key the address was sealed to. None when the address
    was not shared with the case's key yet (it is, when logistics next open the house).
    The viewing is audited and committed before anything is decrypted. Raises
    keys.NoAccess for a non-holder, SafeHouseRefused when nobody is placed."""
    opened = keys.case_private_keys(case, member, member_private_key)
    placement = Placement.objects.filter(case=case, ended_at__isnull=True).select_related("safe_house").first()
    if placement is None:
        raise SafeHouseRefused(_("This person is not placed in a safe house."))
    if case.status != State.VERIFIED:
        raise SafeHouseRefused(_("Only the team of a verified case can read the address."))
    house = placement.safe_house
    with transaction.atomic():
        audit_record(
            actor=member,
            action=Action.SAFE_HOUSE_ADDRESS_VIEW,
            case=case,
            details={"safe_house": house.pk, "placement": str(placement.pk)},
        )
    row = (
        SafeHouseKey.objects.filter(safe_house=house, version=house.key_version, case_key_id__in=opened)
        .order_by("-case_key__version")
        .first()
    )
    if row is None:
        return None
    address_key = sealbox.unseal(
        opened[row.case_key_id],
        bytes(row.sealed_key),
        ctx=crypto.case_key_ctx(house.pk, house.key_version, row.case_key_id),
    )
    if row.case_key_id != keys.current_case_key(case).pk:  # the case key was rotated since
        with transaction.atomic():
            _seal_to_case_key(house, address_key, keys.current_case_key(case))
    address = sealbox.decrypt(address_key, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))
    return placement, address.decode()
