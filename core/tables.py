import json

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from core.masking import redact_numbers
from core.models import AuditEntry


class AuditEntryTable(tables.Table):
    seq = tables.Column(verbose_name=_("sequence"))
    at = tables.DateTimeColumn(verbose_name=_("time"), format="Y-m-d H:i:s")
    actor_username = tables.Column(verbose_name=_("user"), default="—")
    actor_jurisdiction = tables.Column(verbose_name=_("user's jurisdiction"), default="—")
    action = tables.Column(verbose_name=_("action"))
    object_repr = tables.Column(verbose_name=_("object"), default="—")
    changes = tables.Column(verbose_name=_("changes"), orderable=False)
    ip_address = tables.Column(verbose_name=_("IP address"), default="—")

    class Meta:
        model = AuditEntry
        fields = ("seq", "at", "actor_username", "actor_jurisdiction", "action", "object_repr", "changes",
                  "ip_address")
        attrs = {"class": "table table-vcenter card-table table-sm"}

    def render_changes(self, value):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 160 else text[:157] + "…"


class BreakGlassGrantTable(tables.Table):
    granted_at = tables.DateTimeColumn(verbose_name=_("granted at"), format="Y-m-d H:i")
    user = tables.Column(verbose_name=_("user"))
    object_type = tables.Column(verbose_name=_("object type"))
    object_pk = tables.Column(verbose_name=_("object id"))
    object_repr = tables.Column(verbose_name=_("object"), default="—")
    reason = tables.Column(verbose_name=_("reason"))
    expires_at = tables.DateTimeColumn(verbose_name=_("expires at"), format="Y-m-d H:i")

    class Meta:
        fields = ("granted_at", "user", "object_type", "object_pk", "object_repr", "reason", "expires_at")
        attrs = {"class": "table table-vcenter card-table"}

    def render_reason(self, value):
        """As the audit log keeps it: the audit administrator reads no ID number or phone."""
        return redact_numbers(value)
