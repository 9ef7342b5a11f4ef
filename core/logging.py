"""Logging filters that keep addresses, user agents and decrypted case data out of every log.

Django and gunicorn never log a request body, but some messages (a DisallowedHost warning,
a proxy's error, gunicorn's "Invalid request from ip=...") may carry an address; anything
that looks like an IP address is masked before the line is written, in the message and in
an attached traceback, and the request object is dropped from the record.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from django.conf import settings
from gunicorn import glogging

MASK = "[address]"
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Candidates only: a run of hex digits, dots and at least two colons (compressed forms, an
# IPv4 tail, a zone); ipaddress decides, so clock times such as 10:15:42 are left alone.
_IPV6 = re.compile(r"(?<![0-9A-Za-z_.])[0-9A-Fa-f.]*(?::[0-9A-Fa-f.]*){2,}(?:%[\w-]+)?")
_FORMATTER = logging.Formatter()


def _mask_ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    candidate = text.split("%", 1)[0]
    address = candidate.rstrip(":.")  # "ip=2001:db8::7: bad request" ends in punctuation
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return text
    return MASK + candidate[len(address) :]


def scrub(text: str) -> str:
    # IPv6 first, so an IPv4-mapped address (::ffff:203.0.113.7) goes as a whole.
    return _IPV4.sub(MASK, _IPV6.sub(_mask_ipv6, text))


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# Django's loggers for requests it refuses as suspicious (django.security.DisallowedHost,
# .RequestDataTooBig, .TooManyFieldsSent, ...), except the CSRF logger, whose line names the
# reason and no sender-chosen value beyond an origin.
_SECURITY_LOGGER = "django.security."
_CSRF_LOGGER = "django.security.csrf"


def _declared_body_bytes(request: Any) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (AttributeError, TypeError, ValueError):
        return None


class OneLineSecurityRecord(logging.Filter):
    """For every handler, before ScrubFilter: a request Django refused as suspicious becomes one
    line of fixed text, without the traceback Django attaches and without what the sender
    chose (an attacker's Host header was echoed twice per line, with 20-40 lines of
    traceback; an oversized POST likewise). The kind of refusal and, for a body too large,
    its declared size and the limit are kept: an operator still sees what happened and how often.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_SECURITY_LOGGER) or record.name == _CSRF_LOGGER:
            return True
        if getattr(record, "one_line", False):  # rewritten by an earlier handler's filter
            return True
        kind = record.name.removeprefix(_SECURITY_LOGGER)
        if kind == "DisallowedHost":
            text = "request refused: Host header not among the allowed hosts"
        elif kind == "RequestDataTooBig":
            declared = _declared_body_bytes(getattr(record, "request", None))
            size = "unknown size" if declared is None else f"{declared} bytes"
            text = f"request refused: body too large ({size} > limit {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)"
        else:
            text = f"request refused: {kind}"
        record.msg, record.args = text, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.one_line = True
        return True


class DropTemplateContext(logging.Filter):
    """For the django.template logger, on the logger itself so no handler ever sees it.

    At DEBUG, Django logs every template variable it cannot resolve with the exception
    attached, and that exception's text is the whole template context: decrypted messages,
    file names, contact details. The line (variable and template name) is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class ScrubbingGunicornLogger(glogging.Logger):
    """gunicorn's own logger with ScrubFilter on its error and access logs: gunicorn logs
    "Invalid request from ip=<client address>" at WARNING for malformed requests."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, ScrubFilter) for existing in log.filters):
                log.addFilter(ScrubFilter())
