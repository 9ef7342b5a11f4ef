"""The organisation's sensitive items (safe-house addresses, meeting points, other people's
data, staff real names) and the check of staff replies against them (threat T3).

Key choice: each item's text is encrypted under its own random data key, and that key is sealed
to the public key of every active coordinator, caseworker and logistics member (the people who
may release such items) and to the organisation recovery key. The server holds no key that
opens an item. Staff who join later are given the items by a coordinator ("share with new
staff"), who opens each data key with their own session key. The server also keeps keyed
hashes of each item's word shingles (vetting/digests.py), so it can check a reply draft without
holding any item in the clear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import sealbox
from accounts import permissions
from accounts.keyring import trusted_box_keys
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import hooks, keys
from casework.lifecycle import State
from casework.models import Case
from casework.sealed import Refused
from vetting import digests, normalise
from vetting.models import SensitiveItem, SensitiveItemKey, SensitiveKind, SensitiveShingle

logger = logging.getLogger(__name__)

# Whom items are sealed to, and who may put one into a reply (holding the case key too):
# accounts.permissions (can_read_sensitive_items, can_share_sensitive_items).
READER_ROLES = permissions.SENSITIVE_READER_ROLES


class SensitiveRefused(Refused):
    """The action is not allowed; the message says why (shown to staff)."""


class SensitiveReplyStopped(hooks.ReplyStopped):
    """A reply draft seems to contain sensitive items; ``refused`` when the case is not
    verified (it cannot be sent at all), otherwise staff must confirm to send it."""

    @property
    def kind_labels(self) -> list[str]:
        return [str(SensitiveKind(kind).label) for kind in self.kinds]


def text_ctx(item_id: int) -> bytes:
    return sealbox.context("sensitive.text", item_id)


def key_ctx(item_id: int) -> bytes:
    return sealbox.context("sensitive.key", item_id)


def _readers() -> list[tuple[StaffMember, bytes]]:
    """Active staff of a reading role with their certified X25519 key (trusted_box_key). A row
    whose key has no valid certificate (one a database writer inserted or changed) is left out
    and logged: nothing is sealed to it."""
    members = StaffMember.objects.filter(is_active=True, role__in=READER_ROLES).order_by("pk")
    return trusted_box_keys(
        members, left_out="staff member %s: left out of sensitive items, public key not certified", log=logger
    )


def sensitive_item_create(*, actor: StaffMember, kind: str, text: str) -> SensitiveItem:
    if not permissions.can_manage_sensitive_items(actor):
        raise SensitiveRefused(_("Only a coordinator can manage sensitive items."))
    if kind not in SensitiveKind.values:
        raise SensitiveRefused(_("Choose what kind of item this is."))
    hashes = digests.sensitive_shingle_digests(normalise.item_shingles(text))
    if not hashes:
        raise SensitiveRefused(_("The item has no words or numbers to recognise it by."))
    with transaction.atomic():
        item = SensitiveItem.objects.create(kind=kind, created_by=actor, text_ct=b"", shingle_count=len(hashes))
        data_key = sealbox.random_key()
        item.text_ct = sealbox.encrypt(data_key, text.encode(), ctx=text_ctx(item.pk))
        item.save(update_fields=["text_ct"])
        rows = [
            SensitiveItemKey(item=item, member=member, sealed_key=_seal(public_key, data_key, item.pk))
            for member, public_key in _readers()
        ]
        rows.append(SensitiveItemKey(item=item, for_recovery=True, sealed_key=_seal(_recovery(), data_key, item.pk)))
        SensitiveItemKey.objects.bulk_create(rows)
        SensitiveShingle.objects.bulk_create([SensitiveShingle(item=item, digest=value) for value in sorted(hashes)])
        audit_record(actor=actor, action=Action.SENSITIVE_ITEM_CREATE, details={"item": item.pk, "kind": kind})
    return item


def _seal(public_key: bytes, data_key: bytes, item_id: int) -> bytes:
    return sealbox.seal(public_key, data_key, ctx=key_ctx(item_id), pad=False)


def _recovery() -> bytes:
    return keys.recovery_public_key()


def sensitive_item_delete(*, actor: StaffMember, item: SensitiveItem) -> None:
    if not permissions.can_manage_sensitive_items(actor):
        raise SensitiveRefused(_("Only a coordinator can manage sensitive items."))
    with transaction.atomic():
        audit_record(actor=actor, action=Action.SENSITIVE_ITEM_DELETE, details={"item": item.pk, "kind": item.kind})
        item.delete()


def _data_key(item: SensitiveItem, member: StaffMember, member_private_key: bytes) -> bytes | None:
    wrap = SensitiveItemKey.objects.filter(item=item, member=member).first()
    if wrap is None:
        return None
    return sealbox.unseal(member_private_key, bytes(wrap.sealed_key), ctx=key_ctx(item.pk))


def item_text(item: SensitiveItem, member: StaffMember, member_private_key: bytes) -> str | None:
    """The item in the clear for ``member``, or None if it was never shared with them."""
    data_key = _data_key(item, member, member_private_key)
    if data_key is None:
        return None
    return sealbox.decrypt(data_key, bytes(item.text_ct), ctx=text_ctx(item.pk)).decode()


@dataclass(frozen=True)
class ItemView:
    item: SensitiveItem
    text: str | None  # None: not shared with this member yet

    @property
    def short(self) -> str:
        text = self.text or ""
        return text if len(text) <= 60 else text[:59] + "…"


def items_for(member: StaffMember, member_private_key: bytes) -> list[ItemView]:
    return [ItemView(item, item_text(item, member, member_private_key)) for item in SensitiveItem.objects.all()]


def items_unshared() -> int:
    """How many (item, reader) pairs lack a sealed key: staff who joined after the item."""
    return sum(missing for _member, missing in readers_lacking_items())


def readers_lacking_items() -> list[tuple[StaffMember, int]]:
    """Readers (certified keys only) who cannot open every item yet, with how many they lack,
    by handle: the coordinator approves each by name (sensitive_items_share)."""
    readers = {member.pk: member for member, _key in _readers()}
    have = SensitiveItemKey.objects.filter(member_id__in=readers).values("member").annotate(n=Count("pk"))
    counted = {row["member"]: row["n"] for row in have}
    total = SensitiveItem.objects.count()
    lacking = [(member, total - counted.get(pk, 0)) for pk, member in readers.items()]
    return sorted([row for row in lacking if row[1] > 0], key=lambda row: row[0].username)


def sensitive_items_share(*, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> int:
    """Seal every item the coordinator can open to ``member`` (one the coordinator has chosen
    by handle), if they are a reader with a certified key. Returns how many keys were added."""
    if not permissions.can_manage_sensitive_items(actor):
        raise SensitiveRefused(_("Only a coordinator can manage sensitive items."))
    public_key = dict((reader.pk, key) for reader, key in _readers()).get(member.pk)
    if public_key is None:
        raise SensitiveRefused(_("Sensitive items cannot be shared with this account."))
    with transaction.atomic():
        have = set(SensitiveItemKey.objects.filter(member=member).values_list("item_id", flat=True))
        rows = []
        for item in SensitiveItem.objects.exclude(pk__in=have):
            data_key = _data_key(item, actor, actor_private_key)
            if data_key is not None:
                rows.append(SensitiveItemKey(item=item, member=member, sealed_key=_seal(public_key, data_key, item.pk)))
        SensitiveItemKey.objects.bulk_create(rows)
        audit_record(actor=actor, action=Action.SENSITIVE_ITEM_SHARE, details={"keys": len(rows), "member": member.pk})
    return len(rows)


# Other apps keep keyed shingle digests of sensitive texts of their own (a safe house's
# address, evacuation.safehouses): each registers a function from a draft's digests to the
# kinds it matched, so every reply screen below checks them too.
_MATCHERS: list[Callable[[set[str]], set[str]]] = []


def register_matcher(matcher: Callable[[set[str]], set[str]]) -> None:
    if matcher not in _MATCHERS:
        _MATCHERS.append(matcher)


def matching_kinds(text: str) -> list[str]:
    """The kinds of sensitive items ``text`` seems to contain (an item matches when the text
    holds enough of its shingles, see normalise.needed_matches). Only hashes are compared."""
    hashes = digests.sensitive_shingle_digests(normalise.draft_shingles(text))
    if not hashes:
        return []
    hits = (
        SensitiveShingle.objects.filter(digest__in=hashes)
        .values("item", "item__kind", "item__shingle_count")
        .annotate(n=Count("pk"))
    )
    kinds = {row["item__kind"] for row in hits if row["n"] >= normalise.needed_matches(row["item__shingle_count"])}
    for matcher in _MATCHERS:
        kinds |= matcher(hashes)
    return sorted(kinds)


def staff_reply_screen(reply: hooks.StaffReply) -> hooks.ReplyCheck:
    """Registered with casework.hooks.reply_screens: the draft's items are matched now, before
    any lock (only hashes are compared), and the check returned is made by
    casework.services.message_post_from_staff with the case row locked. A refusal is audited
    there, in the reply's transaction (which then writes nothing else)."""
    kinds = matching_kinds(reply.body)

    def check(locked: Case) -> hooks.ReplyStopped | None:
        stopped = reply_screen(locked=locked, member=reply.member, kinds=kinds, confirmed=reply.confirmed)
        if stopped is not None:
            reply_stopped_record(case=locked, member=reply.member, stopped=stopped)
        return stopped

    return check


def reply_screen(
    *, locked: Case, member: StaffMember, kinds: list[str], confirmed: bool
) -> SensitiveReplyStopped | None:
    """Called by the check staff_reply_screen returns, inside the reply's transaction, with the
    case row ``locked`` (select_for_update) and ``kinds`` from matching_kinds(draft): the state
    that decides is the one the reply is written under, so a concurrent change of state cannot
    slip in between. Returns why the reply is stopped (the caller writes nothing, then raises
    it), or None; a confirmed sensitive reply on a verified case is audited here, in the
    caller's transaction."""
    if not kinds:
        return None
    verified = locked.status == State.VERIFIED
    if verified and confirmed:
        audit_record(
            actor=member, action=Action.SENSITIVE_REPLY_CONFIRMED, case=locked, details={"kinds": ".".join(kinds)}
        )
        return None
    return SensitiveReplyStopped(kinds, refused=not verified)


def reply_stopped_record(*, case: Case, member: StaffMember, stopped: SensitiveReplyStopped) -> None:
    """Audit a refusal (the reply's transaction writes nothing else). A reply that only waits
    for the sender's confirmation is not an event."""
    if stopped.refused:
        with transaction.atomic():
            audit_record(
                actor=member,
                action=Action.SENSITIVE_REPLY_REFUSED,
                case=case,
                details={"kinds": ".".join(stopped.kinds)},
            )


def release_screen(release: hooks.HeldRelease) -> SensitiveReplyStopped | None:
    """Registered with casework.hooks.release_screens (casework.services.message_release, case
    row locked): why a held reply may not go out now, or None."""
    kinds = release_refusal(locked=release.case, body=release.body)
    return SensitiveReplyStopped(kinds, refused=True) if kinds else None


def release_refusal(*, locked: Case, body: str) -> list[str]:
    """With the case row locked and the held reply opened by the coordinator: the kinds of
    sensitive items the reply seems to hold when it may not go out now (the case is not
    verified, or it is under duress again), else an empty list."""
    kinds = matching_kinds(body)
    if kinds and (locked.status != State.VERIFIED or locked.under_duress_since is not None):
        return kinds
    return []


def cover_screen(reply: hooks.StaffReply) -> None:
    """Registered with casework.hooks.cover_reply_screens (casework.services.decoy_reply_post)."""
    cover_reply_screen(case=reply.case, member=reply.member, body=reply.body)


def cover_reply_screen(*, case: Case, member: StaffMember, body: str) -> None:
    """Called before a reply in the cover conversation is written. Whoever logs in with the
    danger word reads that conversation, possibly a captor: a draft that seems to hold a
    sensitive item is refused whatever the case's state, and cannot be confirmed."""
    kinds = matching_kinds(body)
    if not kinds:
        return
    with transaction.atomic():
        audit_record(
            actor=member,
            action=Action.SENSITIVE_REPLY_REFUSED,
            case=case,
            details={"kinds": ".".join(kinds), "conversation": "cover"},
        )
    raise SensitiveReplyStopped(kinds, refused=True)


DURESS_REFUSAL = gettext_lazy(
    "This case is under duress: someone else may be reading. Sensitive items cannot be shared "
    "until the duress state is cleared."
)


def _share_refusal(case: Case, member: StaffMember) -> str | None:
    """Why ``member`` may not share items with ``case`` now, or None."""
    if not permissions.can_share_sensitive_items(member):
        return _("Your role may not release sensitive items.")
    if case.status != State.VERIFIED:
        return _("This case is not verified: sensitive items cannot be shared with it.")
    if case.under_duress_since is not None:
        return str(DURESS_REFUSAL)
    return None


def items_to_share(*, case: Case, member: StaffMember, member_private_key: bytes) -> list[ItemView]:
    """The items ``member`` can put into a reply to ``case``, in the clear: only for a key
    holder of a verified case not under duress. The viewing is audited (and committed) before
    anything is decrypted. Raises keys.NoAccess for a non-holder, SensitiveRefused otherwise."""
    refusal = _share_refusal(case, member)
    if refusal is not None:
        raise SensitiveRefused(refusal)
    keys.case_private_keys(case, member, member_private_key)  # NoAccess: not a holder
    with transaction.atomic():
        audit_record(actor=member, action=Action.SENSITIVE_ITEMS_VIEW, case=case)
    return [view for view in items_for(member, member_private_key) if view.text is not None]


def item_insert(*, case: Case, member: StaffMember, member_private_key: bytes, item: SensitiveItem) -> str:
    """The item's text, to be put into a reply draft on a verified case by someone holding
    the case key. The reply itself still needs the sender's confirmation (reply_screen)."""
    refusal = _share_refusal(case, member)
    if refusal is not None:
        raise SensitiveRefused(refusal)
    keys.case_private_keys(case, member, member_private_key)  # NoAccess: not a holder
    text = item_text(item, member, member_private_key)
    if text is None:
        raise SensitiveRefused(_("This item was not shared with you yet; ask a coordinator."))
    with transaction.atomic():
        audit_record(actor=member, action=Action.SENSITIVE_ITEM_INSERT, case=case, details={"item": item.pk})
    return text
