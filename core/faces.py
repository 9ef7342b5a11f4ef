"""Which face a request belongs to. The two faces share code but never a URLconf."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

INTAKE_URLCONF = "config.urls_intake"
CONSOLE_URLCONF = "config.urls_console"


def is_intake(request: HttpRequest) -> bool:
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return bool(urlconf == INTAKE_URLCONF)
