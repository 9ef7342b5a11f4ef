"""Writes and reads of events (evidence.esf), each sealed whole to its case's current key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from casework.models import Case
from casework.sealed import EditConflict, Refused, current_key_for, lock_case, open_bytes, require, seal_bytes
from evidence import crypto, esf
from evidence.models import Event, EvidenceItem


def _check(case: Case, content: esf.Event, exclude: uuid.UUID | None = None) -> None:
    items = {str(pk) for pk in EvidenceItem.objects.filter(case=case).values_list("pk", flat=True)}
    # Only the events this one names are looked up, not every event of the organisation.
    named = [uuid.UUID(other) for _, other in content.related if _is_uuid(other)]
    others = Event.objects.filter(pk__in=named).exclude(pk=exclude) if exclude else Event.objects.filter(pk__in=named)
    events = {str(pk) for pk in others.values_list("pk", flat=True)}
    try:
        esf.validate(content, item_ids=items, event_ids=events)
    except esf.EventInvalid as error:
        raise Refused(str(error)) from None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _seal(event: Event, case: Case, actor: StaffMember, actor_private_key: bytes, content: esf.Event) -> None:
    event.case_key = current_key_for(case, actor, actor_private_key)
    raw = json.dumps(esf.to_json(content), ensure_ascii=False, sort_keys=True).encode()
    event.content_ct = seal_bytes(event.case_key, raw, ctx=crypto.event_ctx(event.id, case))


def event_create(*, case: Case, actor: StaffMember, actor_private_key: bytes, content: esf.Event) -> Event:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    with transaction.atomic():
        locked = lock_case(case)
        _check(locked, content)
        event = Event(id=uuid.uuid4(), case=locked, created_by=actor)
        _seal(event, locked, actor, actor_private_key, content)
        event.save(force_insert=True)
    return event


def event_edit(
    *, event: Event, actor: StaffMember, actor_private_key: bytes, content: esf.Event, revision: int
) -> Event:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    with transaction.atomic():
        locked = lock_case(event.case)
        fresh = Event.objects.select_for_update().get(pk=event.pk)
        if fresh.revision != revision:
            raise EditConflict(fresh.revision, "", fresh.updated_at)
        _check(locked, content, exclude=fresh.pk)
        _seal(fresh, locked, actor, actor_private_key, content)
        fresh.revision += 1
        fresh.updated_at = timezone.now()
        fresh.save(update_fields=["case_key", "content_ct", "revision", "updated_at"])
    return fresh


def open_event(event: Event, opened: Mapping[int, bytes]) -> esf.Event | None:
    raw = open_bytes(opened, event.case_key_id, bytes(event.content_ct), ctx=crypto.event_ctx(event.id, event.case))
    return esf.from_json(json.loads(raw)) if raw is not None else None
