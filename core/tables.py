import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core import audit_display
from core.masking import redact_numbers
from core.models import AuditEntry


class AuditEntryTable(tables.Table):
    """Fits a 1366 px screen: who, what, on which object, and the changes in words behind a
    <details> (with the user's area, the address and the request) instead of wide columns."""

    seq = tables.Column(verbose_name=_("sequence"))
    at = tables.DateTimeColumn(verbose_name=_("time"), format="Y-m-d H:i:s")
    actor_username = tables.Column(verbose_name=_("user"), default="—")
    action = tables.Column(verbose_name=_("action"))
    object_repr = tables.Column(verbose_name=_("object"), default="—", empty_values=())
    changes = tables.Column(verbose_name=_("details"), orderable=False, empty_values=())

    class Meta:
        model = AuditEntry
        fields = ("seq", "at", "actor_username", "action", "object_repr", "changes")
        attrs = {"class": "table table-vcenter card-table table-sm audit-table"}

    def render_object_repr(self, value, record):
        kind = audit_display.object_type_label(record.object_type)
        if not value and not kind:
            return "—"
        return format_html("{}{}", format_html('<span class="text-secondary">{}：</span>', kind) if kind else "",
                           value or "—")

    def render_changes(self, value, record):
        lines = audit_display.change_lines(record.object_type, value)
        extra = [(str(_("user's jurisdiction")), record.actor_jurisdiction or "—"),
                 (str(_("IP address")), record.ip_address or "—")]
        summary = audit_display.summary(record.object_type, value) or str(_("no changes recorded"))
        rows = format_html_join("", "<dt>{}</dt><dd>{}</dd>", lines + extra)
        return format_html('<details class="audit-details"><summary>{}</summary><dl>{}</dl></details>', summary, rows)


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
