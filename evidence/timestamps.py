"""RFC 3161 timestamps of the custody log's tree heads, from a configured authority (optional).

The worker asks once per SP_TSA_INTERVAL_SECONDS for a token over the latest head that has
none: one token covers every entry beneath that head, since later heads extend earlier ones.
A token is stored only after sealbox.timestamp has checked it (status, nonce, imprint, the
authority's signature and certificate against SP_TSA_CERT_FILE); an answer that fails is
logged and dropped, and the next pass asks again. What is sent is a SHA-256 of the head's
statement and a random nonce: nothing of any case.
"""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

from django.conf import settings

from evidence.custody import head_of
from evidence.models import TreeHead
from jobs.models import Job
from jobs.services import periodic_job
from sealbox import timestamp

logger = logging.getLogger(__name__)
TIMESTAMP_JOB = "custody_timestamp"
TSA_TIMEOUT_SECONDS = 30
TSA_ANSWER_MAX_BYTES = 64 * 1024


def tsa_certificate() -> bytes:
    return Path(settings.SP_TSA_CERT_FILE).read_bytes()


def ask_authority(request_der: bytes) -> bytes:
    """POST the request to the authority (RFC 3161 section 3.4) and return its answer."""
    post = urllib.request.Request(  # noqa: S310 (an https or http URL the operator configured)
        settings.SP_TSA_URL, data=request_der, headers={"Content-Type": "application/timestamp-query"}, method="POST"
    )
    with urllib.request.urlopen(post, timeout=TSA_TIMEOUT_SECONDS) as answer:  # noqa: S310 (same)
        return bytes(answer.read(TSA_ANSWER_MAX_BYTES))


def latest_head_timestamp() -> TreeHead | None:
    """Timestamp the latest head if it has no token yet; the head, or None when there is none to do."""
    if not settings.SP_TSA_URL:
        return None
    row = TreeHead.objects.order_by("-tree_size").first()
    if row is None or row.timestamp_token is not None:
        return None
    statement = head_of(row).statement
    request = timestamp.make_request(statement)
    try:
        trusted = tsa_certificate()
        token = timestamp.check_response(ask_authority(request), request, trusted)
        at = timestamp.verify_token(token, statement, trusted)
    except (OSError, timestamp.TimestampError) as error:
        logger.warning("the timestamp authority's answer was refused: %s", type(error).__name__)
        return None
    TreeHead.objects.filter(pk=row.pk, timestamp_token__isnull=True).update(timestamp_token=token, timestamped_at=at)
    row.refresh_from_db()
    return row


@periodic_job(TIMESTAMP_JOB, every_seconds=lambda: settings.SP_TSA_INTERVAL_SECONDS)
def custody_timestamp_job(job: Job) -> None:
    latest_head_timestamp()
