"""Views both faces share: their own static files, the language switch, CSRF failure."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.faces import is_intake

_STATIC_DIR = Path(__file__).resolve().parent / "static" / "core"
# An allowlist, not a directory listing: each face serves exactly these files.
STATIC_FILES = {
    "intake.css": "text/css",
    "console.css": "text/css",
    "exit.js": "text/javascript",
}


def static_file(request: HttpRequest, name: str) -> FileResponse:
    content_type = STATIC_FILES.get(name)
    if content_type is None:
        raise Http404
    return FileResponse((_STATIC_DIR / name).open("rb"), content_type=f"{content_type}; charset=utf-8")


@csrf_exempt  # no token: a token would need a cookie or session for every page with the buttons
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language buttons at the foot of every page. They carry no CSRF token, so that a
    page which only shows them leaves no cookie and writes no session row; a form posted
    from another site (the browser says so) changes nothing. The target is a path on this
    site, never another host."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None) or not target.startswith("/"):
        target = "/"
    response = HttpResponseRedirect(target)
    if _sent_from_another_site(request):
        return response
    if language in {code for code, _ in settings.LANGUAGES}:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=None,
            httponly=True,
            samesite="Strict",
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    return response


def _sent_from_this_site(request: HttpRequest) -> bool:
    """Whether the browser says the form was on this very site. Sec-Fetch-Site is set by the
    browser and cannot be forged by a page; browsers without it still send Origin on a POST.
    Neither header (or Origin "null") counts as another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    if not origin:
        return False
    try:
        return origin == f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return False


def _sent_from_another_site(request: HttpRequest) -> bool:
    """Whether the browser says the form was on another site. Unlike _sent_from_this_site,
    a request with neither header passes: it does not come from a browser that another
    site's page could have made send it (every current browser sends Origin with a POST)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in {"same-origin", "none"}
    return "Origin" in request.headers and not _sent_from_this_site(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return expired_page(request)


def expired_page(request: HttpRequest) -> HttpResponse:
    """A form sent after its session ended (or its CSRF token was lost)."""
    # Framed by the face's own layout, so the intake's expired page keeps its quick exit (T2).
    # What the person typed is shown back (it was never stored), so a long message written
    # while the session ran out is not lost: they can copy it and start again. Only for a
    # form sent from this site: otherwise any page elsewhere could post text of its choosing
    # and have the real site display it, with the site's name above it.
    base = "intake/base.html" if is_intake(request) else "console/base.html"
    typed = ""
    if is_intake(request) and request.method == "POST" and _sent_from_this_site(request):
        typed = request.POST.get("message", "")
    return render(request, "core/expired.html", {"base_template": base, "typed": typed}, status=403)
