"""A logging filter that keeps addresses and user agents out of every log line.

Django and gunicorn never log a request body, but some messages (a DisallowedHost warning,
a proxy's error) may carry an address; anything that looks like an IP address is masked
before the line is written, and the request object is dropped from the record.
"""

from __future__ import annotations

import logging
import re

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        message = record.getMessage()
        scrubbed = _IPV6.sub("[address]", _IPV4.sub("[address]", message))
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True
