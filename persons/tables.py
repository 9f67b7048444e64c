import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.html import escape
from core.masking import mask_id_number
from core.navigation import url_by_key
from persons import queries, rules
from persons.choices import ControlStatus, RiskLevel, Sex
from persons.models import Person
from persons.queries import place_of

RISK_BADGES = {"high": "bg-red-lt", "medium": "bg-orange-lt", "low": "bg-green-lt"}


class PersonTable(tables.Table):
    """Rows come from ``queries.person_rows``: the place is joined and the open flags
    annotated, so the page runs the same queries for 5 rows or 50.

    The body is rendered from ``body_rows()`` (persons/_person_table.html): one plain function
    per column, called directly. django-tables2's own cell rendering inspects the signature of
    a column's ``render_*`` method for every cell, which was about half the time of a list page
    (docs/scaling.md); the header, sorting and pagination stay django-tables2's."""

    name = tables.Column(verbose_name=_("full name"), linkify=("persons:detail", {"pk": tables.A("pk")}))
    id_number = tables.Column(verbose_name=_("ID number"), orderable=False)
    sex_age = tables.Column(verbose_name=_("sex / age"), accessor="birth_date")
    place = tables.Column(verbose_name=_("village"), accessor="jurisdiction__path", order_by=("jurisdiction__path",))
    control_status = tables.Column(verbose_name=_("control status"))
    risk_level = tables.Column(verbose_name=_("risk level"), default="—")
    open_flags = tables.Column(verbose_name=_("open flags"))

    class Meta:
        model = Person
        fields = ("name", "id_number", "sex_age", "place", "control_status", "risk_level", "open_flags")
        attrs = {"class": "table table-vcenter card-table table-striped person-table"}
        empty_text = _("No person matches these criteria.")
        template_name = "persons/_person_table.html"

    def render_id_number(self, value):
        return mark_safe(f'<span class="font-monospace">{escape(mask_id_number(value))}</span>')  # noqa: S308

    def order_sex_age(self, queryset, is_descending):
        """By age in whole years, then by name: ordered by the birth date itself, the list would
        place a person's birthday between those of others (whose numbers are revealed, or of a
        file one opened oneself) to the day, and the birth date is the masked number's middle."""
        age = queries.age_in_years(timezone.localdate())
        queryset = queryset.annotate(age_in_years=age).order_by(
            "-age_in_years" if is_descending else "age_in_years", "name", "pk")
        return queryset, True

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

    def body_rows(self) -> list[tuple[str, list]]:
        """``[(row class, [cell, ...]), ...]`` for the shown page, cells in the order of the
        visible columns, as django-tables2 would render them (a column without a function here
        falls back to django-tables2's own rendering)."""
        today = timezone.localdate()
        # The labels of the choices, translated once per page (get_FOO_display() translates
        # every label of the field's choices on each call).
        sexes, statuses, risks = ({key: str(label) for key, label in choices}
                                  for choices in (Sex.choices, ControlStatus.choices, RiskLevel.choices))

        def risk(record):
            if not record.risk_level:
                return "—"
            return format_html('<span class="badge {}">{}</span>', RISK_BADGES.get(record.risk_level, ""),
                               risks.get(record.risk_level, record.risk_level))

        detail_url = url_by_key("persons:detail")
        direct = {
            "name": lambda r: mark_safe(f'<a href="{detail_url(r.pk)}">{escape(r.name)}</a>'),  # noqa: S308
            "id_number": lambda r: self.render_id_number(r.id_number) if r.id_number else "—",
            "sex_age": lambda r: f"{sexes.get(r.sex, r.sex)} / {rules.age_on(r.birth_date, today)}",
            "place": place_of,
            "control_status": lambda r: statuses.get(r.control_status, r.control_status) if r.control_status
            else "—",
            "risk_level": risk,
            "open_flags": lambda r: self.render_open_flags(r.open_flags),
        }
        columns = [(column.name, direct.get(column.name)) for column in self.columns]
        rows = []
        for row in self.paginated_rows:
            record = row.record
            cells = [cell(record) if cell else row.get_cell(name) for name, cell in columns]
            rows.append((row.get_even_odd_css_class(), cells))
        return rows

    def body_html(self) -> str:
        """The ``<tr>`` lines of the shown page (persons/_person_table.html), as the template's
        loop over ``body_rows()`` wrote them (tested against it): the loop took about 2 ms of a
        list page's fifty rows."""
        return mark_safe("".join(  # noqa: S308 (every cell escaped as {{ cell }} escapes it)
            ROW.format(escape(css), "".join(CELL.format(escape(cell)) for cell in cells))
            for css, cells in self.body_rows()))


# One row of the table's body, as the template wrote it.
ROW = '\n                    <tr class="{}">{}\n                    </tr>\n                '
CELL = "\n                            <td >{}</td>"


class SupportTaskTable(tables.Table):
    """我的帮扶任务: a member unit's tasks (the office's and township's: those of their area). The
    person is named, with the masked ID number and the village, and nothing of the file."""

    person = tables.Column(verbose_name=_("person"), accessor="person__name",
                           linkify=("persons:detail", {"pk": tables.A("person_id")}))
    id_number = tables.Column(verbose_name=_("ID number"), accessor="person__id_number", orderable=False)
    place = tables.Column(verbose_name=_("village"), accessor="person__jurisdiction__path")
    member_unit = tables.Column(verbose_name=_("member unit"), accessor="member_unit__name")
    kind = tables.Column(verbose_name=_("kind"))
    request = tables.Column(verbose_name=_("what is asked"), orderable=False)
    assigned_on = tables.DateColumn(verbose_name=_("assigned on"), format="Y-m-d")
    due_on = tables.DateColumn(verbose_name=_("due on"), format="Y-m-d")
    state = tables.Column(verbose_name=_("state"))

    class Meta:
        fields = ("person", "id_number", "place", "member_unit", "kind", "request", "assigned_on", "due_on", "state")
        attrs = {"class": "table table-vcenter card-table table-striped"}
        empty_text = _("No support task.")

    def render_id_number(self, value):
        return mark_safe(f'<span class="font-monospace">{escape(mask_id_number(value))}</span>')  # noqa: S308

    def render_place(self, record):
        return place_of(record.person)
