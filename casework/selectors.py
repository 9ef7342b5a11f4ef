"""Reads that span models and decrypt: conversations for the person and for staff, the inbox.

List views decrypt at most one page of rows; nothing decrypted is cached or stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models import Case as DbCase
from django.db.models.functions import Coalesce
from django.utils import timezone

import sealbox
from accounts import permissions
from accounts.models import StaffMember
from casework import authenticity, hooks, keys, originals
from casework.deadlines import overdue_q
from casework.files import blob_store
from casework.models import (
    URGENCY_ORDER,
    Attachment,
    AttachmentOriginalKey,
    Case,
    CaseKeyWrap,
    CaseReadMark,
    Message,
    MessageKey,
    PersonCredential,
)
from casework.services import CaseDetails

INBOX_PAGE_SIZE = 25


@dataclass(frozen=True)
class AttachmentView:
    id: uuid.UUID
    name: str
    content_type: str
    size: int
    # Location and camera data were removed (scrub); False for a file that could not be
    # cleaned, or was uploaded before files were cleaned: it may tell where it was made.
    metadata_removed: bool = False
    has_original: bool = False  # the untouched original is kept, sealed to coordinators
    original_size: int | None = None  # its exact size, when it is kept


@dataclass(frozen=True)
class MessageView:
    id: uuid.UUID
    sender: str
    author: str
    created_at: datetime
    body: str
    after_duress: bool
    is_decoy: bool
    attachments: list[AttachmentView] = field(default_factory=list)
    held: bool = False  # a reply kept from the person while the case was under duress
    # False when the signature or server tag does not hold: possibly inserted by someone with
    # database access. Such a message is never shown to the person; staff see it flagged.
    authentic: bool = True


def _open_message(message: Message, data_key: bytes, *, authentic: bool = True) -> MessageView:
    body = sealbox.decrypt(data_key, bytes(message.body_ct), ctx=keys.message_body_ctx(message)).decode()
    files = []
    for item in message.attachments.all():
        meta = json.loads(sealbox.decrypt(data_key, bytes(item.meta_ct), ctx=keys.attachment_ctx("meta", item.id)))
        files.append(_attachment_view(item, meta))
    author = message.author.username if message.author else ""
    return MessageView(
        message.id,
        message.sender,
        author,
        message.created_at,
        body,
        message.after_duress,
        message.is_decoy,
        files,
        message.held,
        authentic,
    )


def _person_visible(decoy: bool, since: datetime | None = None) -> Q:
    """What a credential's page shows of what was sealed to it (services.PersonSession):
    the danger phrase, the cover conversation and what was written with it; the real phrase,
    the real conversation, and while the case is under duress only what was written since
    the duress login (``since``). The condition has the same shape in every case, so each
    page costs the same queries."""
    if decoy:
        return Q(message__is_decoy=True) | Q(message__after_duress=True)
    if since is None:
        return Q(message__is_decoy=False)
    return Q(message__is_decoy=False) & Q(message__created_at__gte=since)


PERSON_PAGE_SIZE = 10


@dataclass(frozen=True)
class ConversationPage:
    """One page of the person's conversation, oldest first; page 1 holds the newest messages."""

    messages: list[MessageView]
    number: int
    earlier: int | None  # the page number holding older messages, if any
    later: int | None


def conversation_for_person(
    credential: PersonCredential,
    private_key: bytes,
    *,
    decoy: bool,
    since: datetime | None = None,
    page: int | str | None = 1,
) -> ConversationPage:
    """The real conversation (from ``since`` on, while the case is under duress), or, for the
    danger phrase, the cover conversation and what was written with it (_person_visible).
    Only one page is decrypted, which also keeps the page small on a cheap phone."""
    wraps = (
        MessageKey.objects.filter(_person_visible(decoy, since), credential=credential)
        .select_related("message__author", "message__case", "message__signed_by")
        .prefetch_related("message__attachments")
        .order_by("-message__created_at", "-message_id")
    )
    current = Paginator(wraps, PERSON_PAGE_SIZE).get_page(page)
    signers = authenticity.SignerKeys()
    messages = []
    for wrap in reversed(current.object_list):
        opened = _open_for_person(wrap, private_key, signers)
        if opened is not None:
            messages.append(opened)
    earlier = current.next_page_number() if current.has_next() else None
    later = current.previous_page_number() if current.has_previous() else None
    return ConversationPage(messages, current.number, earlier, later)


def _open_for_person(wrap: MessageKey, private_key: bytes, signers: authenticity.SignerKeys) -> MessageView | None:
    """The message, or None when it must not be shown: its proof of origin fails (a row a
    database writer inserted) or it does not open (a key or body swapped in the database)."""
    if not authenticity.message_authentic(wrap.message, signers):
        authenticity.log_hidden(wrap.message)
        return None
    try:
        data_key = sealbox.unseal(private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id))
        return _open_message(wrap.message, data_key)
    except sealbox.CryptoError:
        authenticity.log_hidden(wrap.message)
        return None


def conversation_for_staff(case: Case, member: StaffMember, member_private_key: bytes) -> list[MessageView]:
    """Raises keys.NoAccess when the member holds no wrap for this case."""
    case_keys = keys.case_private_keys(case, member, member_private_key)
    wraps = (
        MessageKey.objects.filter(case_key__case=case)
        .select_related("message__author", "message__case", "message__signed_by")
        .prefetch_related("message__attachments")
        .order_by("message__created_at")
    )
    views = []
    signers = authenticity.SignerKeys()
    for wrap in wraps:
        private = case_keys.get(cast(int, wrap.case_key_id))  # filtered on case_key__case: never None
        if private is None:
            continue  # written before this member was given the key (rotation)
        data_key = sealbox.unseal(private, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id))
        authentic = authenticity.message_authentic(wrap.message, signers)
        views.append(_open_message(wrap.message, data_key, authentic=authentic))
    return views


def case_has_cover_conversation(case: Case) -> bool:
    """Whether a danger word is in use, so staff can write in the cover conversation."""
    return case.credentials.filter(revoked_at__isnull=True, is_duress=True).exists()


STAFF_PAGE_SIZE = 50


def conversation_page_for_staff(
    case: Case, case_keys: dict[int, bytes], page: int | str | None = 1
) -> ConversationPage:
    """One page of the conversation as the case page shows it: page 1 holds the newest
    messages, oldest first. Only that page is decrypted, however long the conversation.
    ``case_keys`` are the member's opened case keys (keys.case_private_keys); messages sealed to
    a version the member does not hold are left out, as in conversation_for_staff."""
    wraps = (
        MessageKey.objects.filter(message__case=case, case_key_id__in=list(case_keys))
        .select_related("message__author", "message__signed_by")
        .prefetch_related("message__attachments")
        .order_by("-message__created_at", "-message_id")
    )
    current = Paginator(wraps, STAFF_PAGE_SIZE).get_page(page)
    messages = []
    signers = authenticity.SignerKeys()
    for wrap in reversed(current.object_list):
        wrap.message.case = case  # the body's context names it; no need to load it again per row
        case_key_id = cast(int, wrap.case_key_id)  # filtered on case_key_id__in
        data_key = sealbox.unseal(
            case_keys[case_key_id], bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id)
        )
        authentic = authenticity.message_authentic(wrap.message, signers)
        messages.append(_open_message(wrap.message, data_key, authentic=authentic))
    earlier = current.next_page_number() if current.has_next() else None
    later = current.previous_page_number() if current.has_previous() else None
    return ConversationPage(messages, current.number, earlier, later)


def case_details_for_staff(case: Case, case_private_key: bytes) -> CaseDetails:
    return CaseDetails.from_json(sealbox.unseal(case_private_key, bytes(case.details_ct), ctx=keys.details_ctx(case)))


def urgency_rank() -> DbCase:
    """Most urgent first, whatever the stored labels sort like."""
    return DbCase(*(When(urgency=value, then=Value(rank)) for value, rank in URGENCY_ORDER.items()), default=Value(9))


def cases_visible_to(member: StaffMember) -> QuerySet[Case]:
    """Cases this member holds a key for: the need-to-know boundary for every case view.

    A semi-join (EXISTS), not a join with DISTINCT: with one wrap per key version the join
    repeats cases, and DISTINCT over whole case rows (ciphertext included) made every inbox
    page and its count sort all of the member's cases."""
    return Case.objects.filter(Exists(CaseKeyWrap.objects.filter(case_key__case=OuterRef("pk"), member=member)))


@dataclass(frozen=True)
class InboxRow:
    case: Case
    details: CaseDetails | None
    unread: bool


class _CountedPaginator(Paginator):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    """A paginator told its count, for a count cheaper to get another way than COUNT(*) of
    the page's query."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def cases_visible_count(member: StaffMember) -> int:
    """cases_visible_to(member).count() from the member's wraps alone, without reading a case row."""
    return CaseKeyWrap.objects.filter(member=member).values("case_key__case_id").distinct().count()


def _page_number(value: int | str | None) -> int:
    try:
        return int(value or 1)
    except (TypeError, ValueError):
        return 1  # as Paginator.get_page does for anything but a number


def inbox_page(
    member: StaffMember, member_private_key: bytes, page_number: int | str | None
) -> tuple[Page[tuple[int, bool, int]], list[InboxRow]]:
    """One page of the member's cases, most pressing first, in one sorting query: it sorts
    narrow rows (id and sort keys) and counts them in the same pass (a window count, instead
    of a second query visiting every case again); only the page's cases are then loaded in
    full and decrypted. Page numbers out of range show the last page, as Paginator.get_page."""
    ordered = (
        cases_visible_to(member)
        .annotate(
            overdue=ExpressionWrapper(overdue_q(timezone.now()), BooleanField()),
            total=Window(Count("pk")),
        )
        .order_by(
            F("under_duress_since").desc(nulls_last=True),
            F("overdue").desc(),  # unanswered past the deadline: right after duress
            urgency_rank(),
            F("last_person_message_at").desc(nulls_last=True),
            "-created_at",
            "pk",  # a total order, so no case shows on two pages or on none
        )
        .values_list("pk", "overdue", "total")
    )

    def rows_of(number: int) -> list[tuple[int, bool, int]]:
        return list(ordered[(number - 1) * INBOX_PAGE_SIZE : number * INBOX_PAGE_SIZE]) if number >= 1 else []

    number = _page_number(page_number)
    keys = rows_of(number)
    paginator = _CountedPaginator(ordered, INBOX_PAGE_SIZE, keys[0][2] if keys else cases_visible_count(member))
    if not keys and number != paginator.num_pages:
        number = paginator.num_pages
        keys = rows_of(number)
    page = Page(keys, number, paginator)
    # With each case, what other apps mark in the inbox (vetting: a red flag), in one query for
    # the page (hooks.inbox_marks).
    marks: dict[str, Any] = {}
    for annotated in hooks.inbox_marks.run(hooks.InboxPage(member=member)):
        marks.update(annotated)
    by_pk = Case.objects.annotate(**marks).in_bulk([pk for pk, _, _ in keys])
    shown: list[Case] = []
    for pk, overdue, _ in keys:
        if pk in by_pk:  # not deleted since the sort
            by_pk[pk].overdue = overdue  # type: ignore[attr-defined]  # for the inbox template
            shown.append(by_pk[pk])
    wraps = _details_wraps(shown, member)
    read = dict(CaseReadMark.objects.filter(case__in=shown, member=member).values_list("case_id", "read_at"))
    rows = []
    for case in shown:
        details = _details_or_none(case, wraps.get(case.pk), member_private_key)
        read_at_value = read.get(case.pk)
        unread = read_at_value is None or (
            case.last_person_message_at is not None and case.last_person_message_at > read_at_value
        )
        rows.append(InboxRow(case, details, unread))
    return page, rows


def _details_wraps(cases: list[Case], member: StaffMember) -> dict[int, CaseKeyWrap]:
    """The member's wrap of the key version each case's details are sealed to, in one query."""
    if not cases:
        return {}
    wanted = Q()
    for case in cases:
        wanted |= Q(case_key__case_id=case.pk, case_key__version=case.details_key_version)
    found = CaseKeyWrap.objects.filter(wanted, member=member).select_related("case_key")
    return {wrap.case_key.case_id: wrap for wrap in found}


def _details_or_none(case: Case, wrap: CaseKeyWrap | None, member_private_key: bytes) -> CaseDetails | None:
    if wrap is None:
        return None
    private = sealbox.unseal(
        member_private_key, bytes(wrap.sealed_private_key), ctx=keys.wrap_ctx(case, case.details_key_version)
    )
    return case_details_for_staff(case, private)


@dataclass(frozen=True)
class AllCasesRow:
    """What a coordinator sees of any case: it exists, and its plaintext triage fields."""

    case: Case
    holds_key: bool
    holders: int


def all_cases_page(member: StaffMember, page_number: int | str | None) -> tuple[Page[Case], list[AllCasesRow]]:
    """Every case, most urgent first, without decrypting anything: the coordinator's overview
    of whether each case has someone to read it."""
    current = CaseKeyWrap.objects.filter(case_key__case=OuterRef("pk"), case_key__version=OuterRef("key_version"))
    cases: QuerySet[Case] = Case.objects.annotate(
        holds_key=Exists(current.filter(member=member)),
        holders=Coalesce(
            Subquery(
                current.filter(member__isnull=False)
                .order_by()
                .values("case_key__case")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            0,
        ),
    ).order_by(F("under_duress_since").desc(nulls_last=True), urgency_rank(), "-created_at")
    page = Paginator(cases, INBOX_PAGE_SIZE).get_page(page_number)
    rows = [AllCasesRow(case, case.holds_key, case.holders) for case in page.object_list]  # type: ignore[attr-defined]  # annotated above
    return page, rows


def attachment_for_person(
    credential: PersonCredential,
    private_key: bytes,
    attachment_id: uuid.UUID,
    *,
    decoy: bool,
    since: datetime | None = None,
) -> tuple[AttachmentView, Iterator[bytes]] | None:
    wrap = (
        MessageKey.objects.filter(
            _person_visible(decoy, since), credential=credential, message__attachments__id=attachment_id
        )
        .select_related("message__case", "message__signed_by")
        .first()
    )
    if wrap is None:
        return None
    if not authenticity.message_authentic(wrap.message):
        authenticity.log_hidden(wrap.message)
        return None
    data_key = sealbox.unseal(private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id))
    return _open_attachment(Attachment.objects.get(id=attachment_id, message_id=wrap.message_id), data_key)


def attachment_for_staff(
    case: Case, member: StaffMember, member_private_key: bytes, attachment_id: uuid.UUID
) -> tuple[AttachmentView, Iterator[bytes]] | None:
    case_keys = keys.case_private_keys(case, member, member_private_key)
    wrap = MessageKey.objects.filter(
        case_key_id__in=list(case_keys), message__case=case, message__attachments__id=attachment_id
    ).first()
    if wrap is None:
        return None
    case_key_id = cast(int, wrap.case_key_id)  # filtered on case_key_id__in
    data_key = sealbox.unseal(case_keys[case_key_id], bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id))
    return _open_attachment(Attachment.objects.get(id=attachment_id, message_id=wrap.message_id), data_key)


def _open_attachment(item: Attachment, data_key: bytes) -> tuple[AttachmentView, Iterator[bytes]]:
    meta = json.loads(sealbox.decrypt(data_key, bytes(item.meta_ct), ctx=keys.attachment_ctx("meta", item.id)))
    file_key = sealbox.decrypt(data_key, bytes(item.file_key_ct), ctx=keys.attachment_ctx("key", item.id))
    view = _attachment_view(item, meta)

    def chunks() -> Iterator[bytes]:
        with blob_store().open(item.blob_name) as handle:
            yield from sealbox.decrypt_stream(handle, file_key, ctx=keys.attachment_ctx("file", item.id))

    return view, chunks()


def _attachment_view(item: Attachment, meta: dict[str, Any]) -> AttachmentView:
    """The exact sizes are in the sealed meta; the columns hold their padded buckets. An
    attachment recorded before padding has none in its meta, and exact columns."""
    removed = bool(meta.get("metadata_removed", False))
    original = item.original_blob_name is not None
    size, original_size = int(meta.get("size", item.size)), meta.get("original_size", item.original_size)
    original_size = int(original_size) if original and original_size is not None else None
    return AttachmentView(item.id, meta["name"], meta["type"], size, removed, original, original_size)


def original_for_member(
    case: Case, member: StaffMember, member_private_key: bytes, attachment_id: uuid.UUID
) -> tuple[AttachmentView, Iterator[bytes]] | None:
    """The original of one of ``case``'s attachments, for a member who may open originals, to
    whom it was sealed, and who holds the case (its name and type are opened with the case
    key, from the cleaned copy's record). None if any of that is missing."""
    if not permissions.can_open_original_files(member):
        return None
    attachment = Attachment.objects.filter(id=attachment_id, original_blob_name__isnull=False).first()
    if attachment is None:
        return None
    wrap = AttachmentOriginalKey.objects.filter(attachment=attachment, member=member).first()
    cleaned = attachment_for_staff(case, member, member_private_key, attachment_id)
    if wrap is None or cleaned is None:
        return None
    file_key = sealbox.unseal(member_private_key, bytes(wrap.sealed_key), ctx=originals.key_ctx(attachment.id))
    view = replace(cleaned[0], size=cleaned[0].original_size or 0)
    blob_name = str(attachment.original_blob_name)

    def chunks() -> Iterator[bytes]:
        # Under the attachment's own context, like the cleaned copy: the upload was encrypted
        # as it arrived, before anyone knew it would be cleaned (intake/uploads.py).
        with blob_store().open(blob_name) as handle:
            yield from sealbox.decrypt_stream(handle, file_key, ctx=keys.attachment_ctx("file", attachment.id))

    return view, chunks()
