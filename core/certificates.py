"""Row certificates on the Django side: the instance secret's row key, and the certify/check
pair every certified model goes through (sealbox.certificates holds the format).

A certified model names its table (``CERTIFIED_AS``), the field holding its certificate
(``CERTIFICATE_FIELD``, "certificate" unless said otherwise) and the values that are certified
(``certificate_parts()``). Services certify a row only where the application itself decides its
values, and check an existing row's certificate before changing any of them: certifying over
an unchecked row would launder what a database writer put in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from django.conf import settings

import sealbox
from sealbox.certificates import Part


class CertifiedRow(Protocol):
    CERTIFIED_AS: str

    def certificate_parts(self) -> tuple[Part, ...]: ...


def _row_key() -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)


def _field(row: CertifiedRow) -> str:
    return getattr(row, "CERTIFICATE_FIELD", "certificate")


def certify(row: CertifiedRow) -> bytes:
    """Set the row's certificate from its current values (the caller saves it)."""
    certificate = sealbox.row_certificate(_row_key(), row.CERTIFIED_AS, *row.certificate_parts())
    setattr(row, _field(row), certificate)
    return certificate


def certified(row: CertifiedRow) -> bool:
    """Whether the row's stored certificate holds for its current values."""
    stored = getattr(row, _field(row))
    return sealbox.row_certificate_valid(
        _row_key(), bytes(stored) if stored else None, row.CERTIFIED_AS, *row.certificate_parts()
    )


Row = TypeVar("Row", bound=CertifiedRow)
logger = logging.getLogger(__name__)


def certified_only(rows: Iterable[Row]) -> list[Row]:
    """The rows whose certificate holds; each other one is logged by table and id (never by
    content) and left out, so a row a database writer planted counts for nothing."""
    kept = []
    for row in rows:
        if certified(row):
            kept.append(row)
        else:
            logger.warning("%s row %s is not certified; ignored", row.CERTIFIED_AS, getattr(row, "pk", None))
    return kept


def time_part(value: datetime | None) -> str:
    """A time as certified: ISO 8601 in UTC with microseconds, or "" for none."""
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def flag_part(value: bool, *, yes: str, no: str = "-") -> str:
    return yes if value else no
