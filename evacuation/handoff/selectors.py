from __future__ import annotations

import json
from typing import Any

from casework.models import Case
from casework.sealed import open_bytes
from evacuation.handoff.models import HandoffExport, HandoffImport, OrgKeys, Partner
from evacuation.handoff.payload import flags_stated
from evacuation.handoff.services import import_ctx


def imported_content(case: Case, opened: dict[int, bytes]) -> dict[str, Any] | None:
    """What a partner handed over with this case (besides the details), or None: nothing was
    handed over, or it is sealed to a key version this member does not hold."""
    record = HandoffImport.objects.filter(case=case).select_related("partner").first()
    if record is None:
        return None
    raw = open_bytes(opened, record.case_key_id, bytes(record.content_ct), ctx=import_ctx(record, case))
    if raw is None:
        return {"partner": record.partner.name, "record": record, "sealed": True}
    content = json.loads(raw)
    # A packet from a version without the flags (and every import made before they existed)
    # is shown with a notice instead of flags it never carried.
    flags = flags_stated(content)
    return {"partner": record.partner.name, "record": record, "sealed": False, "flags_stated": flags, **content}


def case_exports(case: Case) -> list[HandoffExport]:
    return list(HandoffExport.objects.filter(case=case).select_related("partner", "created_by").order_by("-created_at"))


def partners() -> list[Partner]:
    return list(Partner.objects.all())


def org_keys() -> OrgKeys | None:
    return OrgKeys.objects.first()
