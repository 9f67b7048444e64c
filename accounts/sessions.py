"""Sessions in the database, as Django's ``db`` backend keeps them (settings.SESSION_ENGINE),
read by one statement compiled once (core.statements): every request reads its session."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.statements import Statement


@Statement
def _session(session_key):
    return Session.objects.filter(session_key=session_key)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # Django's: .get(session_key=…, expire_date__gt=now); the expiry is checked here, so
        # that the statement's parameters are the key alone.
        found = _session(self.session_key) if self.session_key else []
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
