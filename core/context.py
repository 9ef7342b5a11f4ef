from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def site(request: HttpRequest) -> dict[str, Any]:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "site_name": settings.SP_SITE_NAME.get(language, settings.SP_SITE_NAME["ru"]),
        "quick_exit_url": settings.SP_QUICK_EXIT_URL,
        "languages": settings.LANGUAGES,
        "current_language": language,
        "attachment_max_mb": settings.SP_ATTACHMENT_MAX_BYTES // (1024 * 1024),
    }
