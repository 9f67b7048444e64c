"""The daily sweep (`jindu sweep`, and enqueued daily by `jindu serve`).

Apps register idempotent jobs in ``AppConfig.ready()``; the sweep runs them in order and
writes one audit entry with what each did.
"""

import logging
from collections.abc import Callable

from core import audit
from core.models import AuditEntry

logger = logging.getLogger(__name__)

_JOBS: dict[str, Callable[[], dict]] = {}


def register(name: str, job: Callable[[], dict]) -> None:
    _JOBS[name] = job


def jobs() -> dict[str, Callable[[], dict]]:
    return dict(_JOBS)


def run_all() -> dict[str, dict]:
    results = {}
    for name, job in _JOBS.items():
        logger.info("sweep: %s", name)
        results[name] = job() or {}
    audit.record(AuditEntry.Action.SYSTEM, object_repr="sweep", changes=results)
    return results


def clear_expired_sessions() -> dict:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return {"deleted": deleted}


def prune_audit_log() -> dict:
    """Entries past the retention period go; the pruning itself is an audit entry."""
    from core.audit import prune

    return {"deleted": prune()}
