"""Jurisdiction scoping that fails closed (SPEC §2, §4; STYLE: NetBox RestrictedQuerySet).

Every model that carries jurisdiction or personal data uses ``ScopedQuerySet`` and declares

* ``scope_path`` – the lookup to the materialised path of the jurisdiction it belongs to
  (``"path"`` on Jurisdiction itself, ``"jurisdiction__path"`` elsewhere), or a tuple of such
  lookups when a record belongs to more than one area at once (a person during a transfer);
* ``scope_roles`` – the roles that may reach it at all;
* optionally ``scope_through = "person"`` – the record is visible exactly when that related
  record is (records hanging off a person file);
* optionally ``assignment_field`` and ``assignment_roles`` – users whose only reaching roles
  are assignment roles (the social worker) see just the records assigned to them;
* optionally ``break_glass = True`` – a user of an allowed role may open one record outside
  their area for a few hours by giving a reason (``core.services.do_break_glass``).

``visible_to(user)`` is the one way to reach such rows. Anything unexpected – an anonymous or
inactive user, a user without a jurisdiction, a role that is not listed, a model that forgot
to declare its scope – gives an empty result or an error, never another township's rows.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone

from core.roles import role_codes


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        model = self.model
        scope_path = getattr(model, "scope_path", None)
        scope_roles = getattr(model, "scope_roles", None)
        if not scope_path or scope_roles is None:
            raise ImproperlyConfigured(f"{model.__name__} must declare scope_path and scope_roles")
        roles = role_codes(user) & frozenset(scope_roles)
        if not roles:
            return self.none()
        jurisdiction = getattr(user, "jurisdiction", None)
        if jurisdiction is None or not jurisdiction.path:
            return self.none()
        through = getattr(model, "scope_through", None)
        if through:
            parent = model._meta.get_field(through).related_model
            return self.filter(**{f"{through}__in": parent.objects.visible_to(user).values("pk")})
        paths = (scope_path,) if isinstance(scope_path, str) else tuple(scope_path)
        in_area = models.Q()
        for path in paths:
            in_area |= models.Q(**{f"{path}__startswith": jurisdiction.path})
        assignment_roles = frozenset(getattr(model, "assignment_roles", ()))
        if assignment_roles and roles <= assignment_roles:
            in_area &= models.Q(**{model.assignment_field: user})
        if getattr(model, "break_glass", False):
            from core.models import BreakGlassGrant

            granted = BreakGlassGrant.objects.filter(
                user=user, object_type=model._meta.label, expires_at__gt=timezone.now()
            ).values("object_pk")
            in_area |= models.Q(pk__in=granted)
        return self.filter(in_area)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
