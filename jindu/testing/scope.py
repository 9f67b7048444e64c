"""The scoping test matrix (SPEC §2, STYLE "Scoping fails closed").

For a record located at a target jurisdiction, ``ScopeMatrix`` makes one user per role at
each position around it:

* ``in_scope`` – at the target itself,
* ``sibling``  – at a sibling of the target (another township of the same county),
* ``above``    – at the county (or the target's parent when the target is a county),
* ``other``    – at another county of the same city.

and checks that a queryset, a detail page, a list page, an export or an API endpoint shows
the record exactly to the users whose position is in_scope or above *and* whose role is
allowed. Every app's tests use it for every endpoint::

    matrix = ScopeMatrix(township)
    matrix.check_detail(client, url, allowed_roles=USER_READERS)
    matrix.check_list(client, list_url, marker=record.code, allowed_roles=...)
    matrix.check_break_glass(client, person, detail_url, write_urls, read_roles=...)  # read-only grants

The member unit is in the matrix twice (SPEC §2: "of persons, only those it has a task for"):
as ``member_unit``, a unit without a task, which sees no person anywhere, and, once
``add_tasked_member_units(person)`` is called, as ``TASKED`` (``member_unit+task``), a unit at
each position holding a support task for the person — seen from in_scope and above only, a
task pointing outside the unit's area giving nothing. ``hidden={TASKED: [...]}`` names what
such a user must not receive where the record is shown to it (tests, flags, health, risk).
"""

from dataclasses import dataclass

from accounts.tests.factories import UserFactory
from core.roles import ALL_ROLES
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.models import Jurisdiction
from jurisdictions.tests.factories import JurisdictionFactory

POSITIONS = ("in_scope", "sibling", "above", "other")
VISIBLE_POSITIONS = frozenset({"in_scope", "above"})
TASKED = "member_unit+task"  # a member unit with a support task for the person under test


@dataclass(frozen=True)
class ScopeCase:
    position: str
    role: str
    user: object

    def __str__(self):
        return f"{self.position}:{self.role}"


class ScopeMatrix:
    def __init__(self, target: Jurisdiction, roles=ALL_ROLES):
        self.target = target
        above = self._above(target)
        self.places = {"in_scope": target, "sibling": self._sibling(target), "above": above,
                       "other": self._other(above)}
        self.cases = [
            ScopeCase(position, str(role), UserFactory(jurisdiction=self.places[position], roles=[role]))
            for position in POSITIONS
            for role in sorted(roles)
        ]

    def add_tasked_member_units(self, person):
        """One member unit user per position, its unit holding an open support task for
        ``person`` (written directly: the service refuses a task outside the unit's area, and the
        scope must hold even so)."""
        from django.utils import timezone

        from core.roles import Role
        from persons.models import SupportTask

        today = timezone.localdate()
        for position in POSITIONS:
            user = UserFactory(jurisdiction=self.places[position], roles=[Role.MEMBER_UNIT])
            SupportTask.objects.create(person=person, member_unit=user.member_unit, kind="schooling",
                                       request="协助复学", assigned_on=today, due_on=today, county_code=person.county_code)
            self.cases.append(ScopeCase(position, TASKED, user))

    @staticmethod
    def _sibling(target):
        parent = target.parent
        return JurisdictionFactory(level=target.level, parent=parent, name=f"{target.name}邻居")

    @staticmethod
    def _above(target):
        if LEVEL_ORDER[target.level] > LEVEL_ORDER[Level.COUNTY]:
            county_code = target.ancestor_codes[LEVEL_ORDER[Level.COUNTY]]
            return Jurisdiction.objects.get(code=county_code)
        return target.parent

    @staticmethod
    def _other(above):
        return JurisdictionFactory(level=above.level, parent=above.parent, name=f"{above.name}之外")

    def expected(self, case: ScopeCase, allowed_roles, positions=VISIBLE_POSITIONS) -> bool:
        return case.position in positions and case.role in allowed_roles

    # --- checks ---------------------------------------------------------------------------

    def _fail(self, failures):
        if failures:
            raise AssertionError("scope matrix failures:\n  " + "\n  ".join(failures))

    def check_queryset(self, model, obj, allowed_roles, positions=VISIBLE_POSITIONS):
        failures = []
        for case in self.cases:
            seen = model.objects.visible_to(case.user).filter(pk=obj.pk).exists()
            if seen != self.expected(case, allowed_roles, positions):
                failures.append(f"{case}: visible_to gives {'the record' if seen else 'nothing'}")
        self._fail(failures)

    def check_detail(self, client, url, allowed_roles, positions=VISIBLE_POSITIONS, method="get", hidden=None):
        """Visible: 200. Not visible: 403 (role) or 404 (scope), never 200. ``hidden``: {role:
        strings that role's answer must not hold}."""
        failures = []
        for case in self.cases:
            client.force_login(case.user)
            response = getattr(client, method)(url)
            status = response.status_code
            visible = self.expected(case, allowed_roles, positions)
            if visible and status != 200:
                failures.append(f"{case}: expected 200, got {status}")
            forbidden = (hidden or {}).get(case.role, ())
            body = response.content.decode(errors="replace") if forbidden and status == 200 else ""
            failures += [f"{case}: receives {text!r}" for text in forbidden if text in body]
            if not visible and status not in (403, 404):
                failures.append(f"{case}: expected 403/404, got {status}")
        client.logout()
        self._fail(failures)

    def check_list(self, client, url, marker: str, allowed_roles, positions=VISIBLE_POSITIONS, hidden=None):
        """Visible: 200 with ``marker`` in the body. Not visible: 403, or 200 without it."""
        failures = []
        for case in self.cases:
            client.force_login(case.user)
            response = client.get(url)
            body = response.content.decode()
            failures += [f"{case}: receives {text!r}" for text in (hidden or {}).get(case.role, ()) if text in body]
            visible = self.expected(case, allowed_roles, positions)
            if visible and (response.status_code != 200 or marker not in body):
                failures.append(f"{case}: expected the record, got {response.status_code} "
                                f"{'with' if marker in body else 'without'} it")
            if not visible and response.status_code == 200 and marker in body:
                failures.append(f"{case}: sees a record outside its scope or role")
            if not visible and response.status_code not in (200, 403):
                failures.append(f"{case}: unexpected status {response.status_code}")
        client.logout()
        self._fail(failures)

    def check_break_glass(self, client, obj, read_url, write_urls, read_roles):
        """The break-glass rows: every user outside the record's area (sibling, other county) takes
        a grant on ``obj`` through the break-glass page; then ``read_url`` answers 200 exactly to
        those whose role may read the record (``read_roles``: the detail page's) and every URL of
        ``write_urls`` 403 or 404 to everyone (a grant is for reading). A role the model does not
        serve, or reaches only through tasks (the member unit), gets no grant (403)."""
        from django.urls import reverse

        from core.models import BreakGlassGrant

        model = type(obj)
        glass = reverse("core:break_glass", args=[model._meta.label, obj.pk])
        failures = []
        for case in self.cases:
            if case.position in VISIBLE_POSITIONS:
                continue
            client.force_login(case.user)
            granted = client.post(glass, {"reason": f"{case} 核对其衔接材料与报到情况"}).status_code
            # A member unit (task_roles) reaches records through its tasks only, never a grant.
            may = case.role in set(model.scope_roles) - set(getattr(model, "task_roles", ()))
            if granted != (302 if may else 403):
                failures.append(f"{case}: break-glass answered {granted}")
            if may != BreakGlassGrant.objects.filter(user=case.user, object_pk=obj.pk).exists():
                failures.append(f"{case}: grant {'missing' if may else 'given'}")
            status = client.get(read_url).status_code
            if (status == 200) != (may and case.role in read_roles):
                failures.append(f"{case}: read after the grant {status}")
            for url in write_urls:
                for method in ("get", "post"):
                    status = getattr(client, method)(url).status_code
                    if status not in (403, 404):
                        failures.append(f"{case}: {method.upper()} {url} after the grant {status}")
        client.logout()
        self._fail(failures)
