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
* optionally ``task_relation`` and ``task_roles`` – users whose only reaching roles are task
  (or assignment) roles (the member unit) see just the records their member unit has a current
  task for: ``task_relation`` names the reverse relation to the task model, which declares
  ``unit_field`` and ``current_tasks()`` (a condition on its own columns); no member unit, no
  task, nothing;
* optionally ``unit_field`` and ``unit_roles`` – such users see just the rows of their own member
  unit (a member unit's support records, not another unit's);
* optionally ``break_glass = True`` – a user of an allowed role may open one record outside
  their area for a few hours by giving a reason (``core.services.do_break_glass``), to read it.

``visible_to(user)`` is the one way to reach such rows. It gives the rows of the user's own
area, the ones they may also change; ``visible_to(user, with_grants=True)`` adds the records
opened by break-glass grants, and only pages that read (the detail page, a reveal) ask for it,
so that a form, a service, an import or the API that forgets the difference still refuses a
granted record: a grant is for reading, never writing. Anything unexpected – an anonymous or
inactive user, a user without a jurisdiction, a role that is not listed, a model that forgot
to declare its scope – gives an empty result or an error, never another township's rows.
It reads the user through ``Scope`` alone (id, roles, area, county); ``ScopedStatement`` is a
query within a scope compiled once and run again by key (the person page), the scope read
from the user on every call.

How the predicate is shaped, for PostgreSQL at province size (docs/scaling.md): a model with a
``county_code`` column keeps there the county of its first ``scope_path``, so for a user at
county level or below the area alternative also says ``county_code = <the user's county>`` —
an indexed equality (and the distribution column of a later Citus). Each alternative (own area,
receiving area, break-glass grant) is a condition on the model's own columns — the related
areas as ``column = ANY(ARRAY(subquery))``, which PostgreSQL evaluates once and uses as an index
condition — so the alternatives become a BitmapOr of index scans instead of a filter applied to
every row after joining two jurisdiction tables.
"""

import dataclasses
import functools
import operator
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import lookups
from django.db.models.functions import Now

from core.roles import role_codes


@dataclass(frozen=True)
class Scope:
    """All of a user that decides which rows they see: ``visible_to`` reads the user through
    this alone, so the rows (and the SQL) of a scope are the same whoever holds it, and a query
    compiled for a scope may be run again for it (``ScopedStatement``). Anything new that a
    scope depends on is a field here."""

    user_id: int
    roles: frozenset
    area_path: str
    county_code: str
    member_unit_id: int | None = None

    @classmethod
    def of(cls, user) -> "Scope | None":
        """None for a user who sees nothing: anonymous, inactive, without roles or jurisdiction."""
        roles = role_codes(user)
        jurisdiction = getattr(user, "jurisdiction", None)
        if not roles or jurisdiction is None or not jurisdiction.path:
            return None
        return cls(user.pk, roles, jurisdiction.path, getattr(jurisdiction, "county_code", "") or "",
                   getattr(user, "member_unit_id", None))


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, roles=None, *, with_grants: bool = False):
        """The rows ``user`` sees and may change; with ``roles``, the rows they see through those
        roles only (a member unit that is also a social worker sees the full file of assigned
        persons only); ``with_grants`` adds the records opened by break-glass grants, to read."""
        scope = Scope.of(user)
        if scope is not None and roles is not None:
            scope = dataclasses.replace(scope, roles=scope.roles & frozenset(roles))
        return self.in_scope(scope, with_grants=with_grants)

    def in_scope(self, scope: Scope | None, *, with_grants: bool = False):
        model = self.model
        scope_path = getattr(model, "scope_path", None)
        scope_roles = getattr(model, "scope_roles", None)
        if not scope_path or scope_roles is None:
            raise ImproperlyConfigured(f"{model.__name__} must declare scope_path and scope_roles")
        if scope is None:
            return self.none()
        roles = scope.roles & frozenset(scope_roles)
        if not roles:
            return self.none()
        unit_roles = frozenset(getattr(model, "unit_roles", ()))
        if roles & unit_roles and roles - unit_roles:
            # A member unit that holds another role too: what each role sees, together.
            return (self.in_scope(dataclasses.replace(scope, roles=roles - unit_roles), with_grants=with_grants)
                    | self.in_scope(dataclasses.replace(scope, roles=roles & unit_roles), with_grants=with_grants))
        restricted = _restricted(model, roles)
        through = getattr(model, "scope_through", None)
        if through:
            # The parent seen through the roles that reach this model only: a record that a
            # member unit may not read is not read through its person either.
            parent = model._meta.get_field(through).related_model
            parent_scope = dataclasses.replace(scope, roles=roles)
            queryset = self.filter(**{f"{through}__in": parent.objects.in_scope(parent_scope, with_grants=with_grants).values("pk")})
            if restricted and roles & unit_roles:
                queryset = queryset.filter(**{model.unit_field: scope.member_unit_id}) if scope.member_unit_id \
                    else queryset.none()
            return queryset
        paths = (scope_path,) if isinstance(scope_path, str) else tuple(scope_path)
        county = _county_equality(model, scope.county_code)
        alternatives = [_in_area(model, path, scope.area_path) for path in paths]
        if county is not None:
            alternatives[0] &= county
        if restricted:
            # Only restricted roles reach the model: each sees its own rows (the social worker
            # the persons assigned to them, the member unit those it has a current task for).
            own = []
            if roles & frozenset(getattr(model, "assignment_roles", ())):
                own.append(models.Q(**{model.assignment_field: scope.user_id}))
            if roles & frozenset(getattr(model, "task_roles", ())) and scope.member_unit_id:
                own.append(models.Q(InSubquery(models.F("pk"), _current_tasks(model, scope.member_unit_id))))
            mine = functools.reduce(operator.or_, own) if own else None
            alternatives = [alternative & mine for alternative in alternatives] if mine is not None else []
        # Break-glass serves the roles that see a whole area; a member unit reaches a person only
        # through a task given to it, never by giving a reason.
        task_only = roles <= frozenset(getattr(model, "task_roles", ()))
        if with_grants and getattr(model, "break_glass", False) and not task_only:
            from core.models import BreakGlassGrant

            # The database's clock: the SQL of a scope stays the same from one request to the next.
            granted = BreakGlassGrant.objects.filter(
                user_id=scope.user_id, object_type=model._meta.label, expires_at__gt=Now()
            ).order_by().values("object_pk")
            alternatives.append(models.Q(InSubquery(models.F("pk"), granted)))
        if not alternatives:  # a member unit without a unit: nothing (fail closed)
            return self.none()
        return self.filter(functools.reduce(operator.or_, alternatives))


class ScopedStatement:
    """A query over the rows a user sees, of a fixed shape, compiled once per scope and
    connection (core.statements): ``ScopedStatement(Model, build)`` with ``build(queryset,
    *args)`` — ``queryset`` being ``Model.objects.in_scope(scope)`` — called as
    ``statement(user, *args)``. The scope comes from the user on every call, so a role taken
    away or a jurisdiction changed is a new scope (and a new statement), never the old rows."""

    SCOPES = 2048  # statements kept, the most recently used

    def __init__(self, model, build, name: str = "", with_scope: bool = False, with_grants: bool = False):
        """``with_scope``: ``build(queryset, scope, *args)``, for a query that shows something of
        the scope itself (whether a row lies in the user's own area, say); ``with_grants``: the
        records opened by break-glass grants too (a page that only reads)."""
        self.model, self.build, self.with_scope, self.with_grants = model, build, with_scope, with_grants
        self.name = name or getattr(build, "__name__", "scoped")
        self._for_scope = functools.lru_cache(maxsize=self.SCOPES)(self._statement)

    def _statement(self, scope: Scope, declaration: tuple):
        from core.statements import Statement

        def build(*args):
            queryset = self.model.objects.in_scope(scope, with_grants=self.with_grants)
            return self.build(queryset, scope, *args) if self.with_scope else self.build(queryset, *args)

        build.__name__ = self.name
        return Statement(build)

    def __call__(self, user, *args) -> list:
        scope = Scope.of(user)
        if scope is None:
            return []
        return self._for_scope(scope, _declaration(self.model))(*args)


def _restricted(model, roles) -> bool:
    """Whether every role reaching ``model`` sees only its own rows (assignment, task or unit roles)."""
    limited = frozenset().union(*(getattr(model, name, ()) for name in ("assignment_roles", "task_roles", "unit_roles")))
    return bool(limited) and roles <= limited


def _current_tasks(model, member_unit_id: int):
    """The keys of ``model``'s rows that the member unit has a current task for."""
    relation = model._meta.get_field(model.task_relation)
    tasks = relation.related_model
    return (tasks._base_manager.filter(tasks.current_tasks(), **{tasks.unit_field: member_unit_id})
            .order_by().values(relation.field.name))


def _declaration(model) -> tuple:
    """What the model declares about its scope, and the model its scope runs through (fixed
    while the server runs; a test may change it)."""
    declared = tuple(getattr(model, name, None) for name in (
        "scope_path", "scope_roles", "scope_through", "assignment_field", "assignment_roles", "task_relation",
        "task_roles", "unit_field", "unit_roles", "break_glass"))
    through = getattr(model, "scope_through", None)
    return declared + (_declaration(model._meta.get_field(through).related_model),) if through else declared


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class InSubquery(lookups.In):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``: the subquery
    runs once (an InitPlan) and its result is an index condition on the column, so that
    alternatives joined by OR can each use an index (BitmapOr) — ``IN (subquery)`` inside an OR
    is a filter tested on every row."""

    def get_rhs_op(self, connection, rhs):
        if connection.vendor == "postgresql" and not self.rhs_is_direct_value():
            return f"= ANY(ARRAY{rhs})"
        return super().get_rhs_op(connection, rhs)


def _in_area(model, path_lookup: str, area_path: str) -> models.Q:
    """The rows whose ``path_lookup`` lies in the area. ``"path"`` is a column of the model;
    ``"relation__path"`` (one foreign key away) becomes a condition on the key column itself;
    longer lookups stay joins."""
    relation, _sep, field = path_lookup.rpartition("__")
    if relation and "__" not in relation:
        related = model._meta.get_field(relation)
        if related.many_to_one:
            areas = related.related_model._base_manager.filter(
                models.Q(**{f"{field}__startswith": area_path}))
            return models.Q(InSubquery(models.F(relation), areas.order_by().values("pk")))
    return models.Q(**{f"{path_lookup}__startswith": area_path})


def _county_equality(model, county_code: str) -> models.Q | None:
    """``county_code = <the user's county>`` for a model that carries ``county_code`` (the county
    of its first scope path), when the user sits at county level or below: every row of their
    area lies in that county. None above county level (the area spans counties)."""
    if not county_code:
        return None
    try:
        field = model._meta.get_field("county_code")
    except FieldDoesNotExist:
        return None
    if not field.concrete or field.is_relation:
        return None
    return models.Q(county_code=county_code)
