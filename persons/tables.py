import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.masking import mask_id_number
from persons import rules
from persons.models import Person
from persons.queries import place_of

RISK_BADGES = {"high": "bg-red-lt", "medium": "bg-orange-lt", "low": "bg-green-lt"}


class PersonTable(tables.Table):
    """Rows come from ``queries.person_rows``: the place is joined and the open flags
    annotated, so the page runs the same queries for 5 rows or 50."""

    name = tables.Column(verbose_name=_("full name"), linkify=("persons:detail", {"pk": tables.A("pk")}))
    id_number = tables.Column(verbose_name=_("ID number"), orderable=False)
    sex_age = tables.Column(verbose_name=_("sex / age"), accessor="birth_date", order_by=("-birth_date",))
    place = tables.Column(verbose_name=_("village"), accessor="jurisdiction__path", order_by=("jurisdiction__path",))
    control_status = tables.Column(verbose_name=_("control status"))
    risk_level = tables.Column(verbose_name=_("risk level"), default="—")
    open_flags = tables.Column(verbose_name=_("open flags"))

    class Meta:
        model = Person
        fields = ("name", "id_number", "sex_age", "place", "control_status", "risk_level", "open_flags")
        attrs = {"class": "table table-vcenter card-table table-striped person-table"}
        empty_text = _("No person matches these criteria.")

    def render_id_number(self, value):
        return format_html('<span class="font-monospace">{}</span>', mask_id_number(value))

    def render_sex_age(self, record):
        return f"{record.get_sex_display()} / {rules.age_on(record.birth_date, timezone.localdate())}"

    def render_place(self, record):
        return place_of(record)

    def render_risk_level(self, record):
        if not record.risk_level:
            return "—"
        return format_html('<span class="badge {}">{}</span>', RISK_BADGES.get(record.risk_level, ""),
                           record.get_risk_level_display())

    def render_open_flags(self, value):
        if not value:
            return "0"
        return format_html('<span class="badge bg-red text-red-fg">{}</span>', value)
