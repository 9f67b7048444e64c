"""Writing the audit log. Services call ``record`` inside their own transaction (STYLE: Zulip).

The request middleware puts the request's id and client address in a context variable, so a
service deep down does not need the request to write a complete entry.
"""

import contextvars
import uuid
from dataclasses import dataclass

from django.db import models

from core.models import AuditEntry


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip_address: str | None


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "jindu_request_context", default=None
)


def begin_request(ip_address: str | None) -> contextvars.Token:
    return _request_context.set(RequestContext(uuid.uuid4().hex, ip_address))


def end_request(token: contextvars.Token) -> None:
    _request_context.reset(token)


def current_request_id() -> str:
    context = _request_context.get()
    return context.request_id if context else ""


def record(action, *, actor=None, obj: models.Model | None = None, changes=None, object_repr="",
           ip_address=None) -> AuditEntry:
    """Append one audit entry. ``actor`` None means the system itself (a scheduled job)."""
    context = _request_context.get()
    jurisdiction = getattr(actor, "jurisdiction", None) if actor else None
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "",
        actor_jurisdiction=getattr(jurisdiction, "code", "") or "",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes=changes or {},
        ip_address=ip_address or (context.ip_address if context else None),
        request_id=context.request_id if context else "",
    )


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields whose value changed."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
