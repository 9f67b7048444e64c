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
    """Content-Security-Policy without inline scripts or styles, on every response."""

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
        return response
