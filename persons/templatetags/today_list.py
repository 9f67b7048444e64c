"""The lines of the today list (persons/_today_list.html), written in Python.

A county office's list shows up to fifty lines a section; the template's loop over them, with
a ``{% url %}`` and a ``{% blocktranslate %}`` in every line, was about a third of the page's
time. The lines are the HTML the loop wrote, every value escaped as ``{{ value }}`` escapes it
(persons/tests/test_views.py compares the two)."""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from core.html import escape
from core.navigation import url_by_key

register = template.Library()

ITEM = ('\n    <div class="list-group-item today-item today-{kind}{overdue}">'
        '\n      <div class="row g-2 align-items-center">'
        '\n        <div class="col today-text">'
        '\n          <div><a class="fw-bold" href="{person_url}">{name}</a> <span class="text-secondary small">{place}'
        '</span></div>'
        '\n          <div class="today-title">{title}</div>'
        '\n          <div class="small {detail_class}">{detail}</div>'
        '\n        </div>'
        '\n        <div class="col-12 col-sm-auto today-actions">'
        '\n          {actions}'
        '\n        </div>'
        '\n      </div>'
        '\n    </div>'
        '\n    ')
CHECK_IN = '<a class="btn btn-sm {style}" href="{url}">{label}{count}</a>'
MISSED = ' <span class="badge bg-red text-red-fg ms-1">{}</span>'
ACTION = '<a class="btn btn-sm {style}" href="{url}">{label}</a>'


@register.filter
def today_rows(items) -> str:
    """The ``list-group-item`` lines of a section's items (``persons.queries.TodayItem``)."""
    if not items:
        return ""
    person_url = url_by_key("persons:detail")
    record = gettext("Record %(kind)s")
    lines = []
    for item in items:
        if item.actions:
            style = "btn-outline-danger" if item.overdue else "btn-outline-primary"
            actions = "".join(CHECK_IN.format(
                style=style, url=escape(action.url), label=record % {"kind": escape(action.label)},
                count=MISSED.format(action.count) if action.count > 1 else "") for action in item.actions)
            # The template's line break and indentation before the {% else %} branch.
            actions += "\n          "
        else:
            style = "btn-danger" if item.overdue or item.kind == "flag" else "btn-primary"
            actions = ACTION.format(style=style, url=escape(item.action_url), label=escape(item.action_label))
        lines.append(ITEM.format(
            kind=escape(item.kind), overdue=" is-overdue" if item.overdue else "",
            person_url=person_url(item.person_id), name=escape(item.person_name), place=escape(item.place),
            title=escape(item.title), detail_class="text-danger" if item.overdue else "text-secondary",
            detail=escape(item.detail), actions=actions))
    return mark_safe("".join(lines))  # noqa: S308 (every value above is escaped)
