import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from accounts.models import MemberUnit, User


class UserTable(tables.Table):
    username = tables.Column(verbose_name=_("username"), linkify=("accounts:user_detail", {"pk": tables.A("pk")}))
    full_name = tables.Column(verbose_name=_("full name"))
    jurisdiction = tables.Column(verbose_name=_("jurisdiction"), accessor="jurisdiction__name", default="—")
    roles = tables.Column(verbose_name=_("roles"), accessor="pk", orderable=False)
    member_unit = tables.Column(verbose_name=_("member unit"), accessor="member_unit__name", default="—")
    is_active = tables.BooleanColumn(verbose_name=_("active"))

    class Meta:
        model = User
        fields = ("username", "full_name", "jurisdiction", "roles", "member_unit", "is_active")
        attrs = {"class": "table table-vcenter card-table table-striped"}

    def render_roles(self, record):
        return "、".join(record.role_labels()) or "—"


class MemberUnitTable(tables.Table):
    name = tables.Column(verbose_name=_("name"))
    kind = tables.Column(verbose_name=_("kind"))
    jurisdiction = tables.Column(verbose_name=_("jurisdiction"), accessor="jurisdiction__name")

    class Meta:
        model = MemberUnit
        fields = ("name", "kind", "jurisdiction")
        attrs = {"class": "table table-vcenter card-table table-striped"}
