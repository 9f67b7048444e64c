import ipaddress

from django.conf import settings
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from core import audit


def _address(text: str | None) -> str | None:
    """``text`` as an IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, when that is one of JINDU_TRUSTED_PROXIES, the
    address the proxy passed on. From X-Forwarded-For the last address a trusted proxy did not
    add (a client may put anything at the front of that header, a proxy appends to the end),
    else X-Real-IP. Without configured proxies the headers are never read: anybody could send
    them. Behind nginx every user otherwise has nginx's address, and one user's failed logins
    would lock the whole office's."""
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR"))
    trusted = getattr(settings, "JINDU_TRUSTED_PROXIES", ())
    if remote is None or remote not in trusted:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for part in reversed(forwarded):
        address = _address(part)
        if address is None:
            break
        if address not in trusted:
            return address
    return _address(request.META.get("HTTP_X_REAL_IP")) or remote


class RequestContextMiddleware:
    """Gives every request an id and remembers the client address for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.begin_request(client_ip(request))
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = audit.current_request_id()
            return response
        finally:
            audit.end_request(token)


class SecurityHeadersMiddleware:
    """Content-Security-Policy without inline scripts or styles, on every response; and
    ``Cache-Control: no-store`` (Django's never_cache headers) on every answer of a view: pages,
    htmx fragments, exports and API answers hold personal data, and no browser or proxy may keep
    them. The static files (WhiteNoise, answered before this) are cached as usual."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        add_never_cache_headers(response)
        return response


class LanguageMiddleware:
    """Chinese for everyone, whatever the browser's Accept-Language says: office computers
    often run an English Windows, and the platform has one working language. A
    ``django_language`` cookie naming another configured language (``en``, for developers)
    still wins. Replaces Django's LocaleMiddleware, which follows Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
