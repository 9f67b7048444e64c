"""Logins, logouts and failed logins go to the audit log and the lock-out count (SPEC §4)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core import audit
from core.middleware import client_ip
from core.models import AuditEntry

__all__ = ["client_ip"]


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    from accounts.services import record_login_success

    record_login_success(user)
    audit.record(AuditEntry.Action.LOGIN, actor=user, obj=user, ip_address=client_ip(request))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(AuditEntry.Action.LOGOUT, actor=user, obj=user, ip_address=client_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    from accounts.services import record_login_failure

    record_login_failure(str(credentials.get("username", "")), client_ip(request))
