from django.conf import settings
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from core import audit


class RequestContextMiddleware:
    """Gives every request an id and remembers the client address for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.begin_request(request.META.get("REMOTE_ADDR"))
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
