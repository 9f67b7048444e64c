"""Form widgets that write in Python the HTML Django's widget templates write, byte for byte.

Django renders a select through the template engine with one ``{% include %}`` per option; the
area filter of the person list has a few hundred (the townships and villages of a county), on
every page of the list, and rendering it was a third of the page's Python time. A widget
whose template was overridden (by a subclass or the form renderer's templates) renders as
Django does.
"""

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: `` name="value"``, `` name`` for True, nothing for False."""
    return "".join(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{conditional_escape(value)}"'
                   for name, value in attrs.items() if value is not False)


class Select(forms.Select):
    """``forms.Select`` with the same HTML, written without the template engine."""

    def _render(self, template_name, context, renderer=None):
        if (template_name != forms.Select.template_name
                or self.option_template_name != forms.Select.option_template_name):
            return super()._render(template_name, context, renderer)
        widget = context["widget"]
        # django/forms/widgets/select.html and select_option.html (whose line ends stay in).
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
                             f'{conditional_escape(option["label"])}</option>\n')
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


def picker_attrs() -> dict:
    """The attributes of a searchable jurisdiction picker (jindu/static/jindu/picker.js adds a
    search box above the select that narrows its options; without the script it is a plain
    select). Call it when the form is built, so the placeholder is in the user's language."""
    from django.utils.translation import gettext

    return {"data-picker": True, "data-picker-placeholder": gettext("Type a name to narrow the list"),
            "data-picker-empty": gettext("No place of that name")}


class PickerSelect(Select):
    """A searchable select of places (picker_attrs)."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, value, {**picker_attrs(), **(attrs or {})})
