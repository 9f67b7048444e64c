"""The login and session policy on every request (SPEC §4, issue «Privacy and security core»):

* the idle time-out of the security policy (the session expires after that much inactivity);
* a password set by somebody else, or older than the maximum age, must be changed first;
* administrators (or everybody, if the policy says so) must set up the second factor first.
"""

import time

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import services
from accounts.models import SecurityPolicy

ALWAYS_ALLOWED = ("accounts:logout", "accounts:password_change", "accounts:totp_setup", "health")
# The idle time-out counts from the last request, renewed at most once a minute: writing the
# session on every page would be a database write per request for nothing.
RENEW_EVERY_SECONDS = 60


def renew_session(session, idle_seconds: int, now: float | None = None) -> bool:
    """Push the session's expiry to ``idle_seconds`` from now if it was last renewed a minute or
    more ago, or the policy's time-out changed; True when the session will be written."""
    now = int(time.time() if now is None else now)
    if now - session.get("_renewed_at", 0) < RENEW_EVERY_SECONDS and session.get("_session_expiry") == idle_seconds:
        return False
    session["_renewed_at"] = now
    session.set_expiry(idle_seconds)
    return True


class AccountPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed = None

    def allowed_paths(self):
        if self._allowed is None:
            self._allowed = (*(reverse(name) for name in ALWAYS_ALLOWED), "/" + settings.STATIC_URL.lstrip("/"))
        return self._allowed

    def __call__(self, request):
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request):
        """Where a signed-in user must go first (a response), or None."""
        user = request.user
        if not user.is_authenticated:
            return None
        policy = SecurityPolicy.current()
        renew_session(request.session, policy.idle_timeout_minutes * 60)
        path = request.path
        if path.startswith(self.allowed_paths()):
            return None
        target = None
        if services.password_change_due(user, policy):
            target = "accounts:password_change"
        elif services.needs_totp(user, policy) and not user.totp_confirmed_at:
            target = "accounts:totp_setup"
        if target is None:
            return None
        if path.startswith("/api/"):
            return JsonResponse({"detail": _("Finish the login steps in the browser first.")}, status=403)
        return redirect(target)
