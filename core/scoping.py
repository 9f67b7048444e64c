"""Jurisdiction scoping that fails closed (SPEC §2, §4; STYLE: NetBox RestrictedQuerySet).

Every model that carries jurisdiction or personal data uses ``ScopedQuerySet`` and declares

* ``scope_path`` – the lookup to the materialised path of the jurisdiction it belongs to
  (``"path"`` on Jurisdiction itself, ``"jurisdiction__path"`` elsewhere);
* ``scope_roles`` – the roles that may reach it at all.

``visible_to(user)`` is the one way to reach such rows. Anything unexpected – an anonymous or
inactive user, a user without a jurisdiction, a role that is not listed, a model that forgot
to declare its scope – gives an empty result or an error, never another township's rows.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from core.roles import role_codes


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        model = self.model
        scope_path = getattr(model, "scope_path", None)
        scope_roles = getattr(model, "scope_roles", None)
        if not scope_path or scope_roles is None:
            raise ImproperlyConfigured(f"{model.__name__} must declare scope_path and scope_roles")
        roles = role_codes(user)
        if not roles & frozenset(scope_roles):
            return self.none()
        jurisdiction = getattr(user, "jurisdiction", None)
        if jurisdiction is None or not jurisdiction.path:
            return self.none()
        return self.filter(**{f"{scope_path}__startswith": jurisdiction.path})


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
