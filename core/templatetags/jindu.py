from django import forms, template
from django.utils.html import format_html_join

register = template.Library()


@register.filter
def styled(field):
    """Render a bound field with Tabler's classes (one place, so no form needs to set them)."""
    widget = field.field.widget
    invalid = " is-invalid" if field.errors else ""
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        # One Tabler form-check per option, the label beside its box.
        options = []
        for option in field.subwidgets:
            option.data["attrs"]["class"] = "form-check-input" + invalid
            options.append((option.tag(), option.choice_label))
        return format_html_join(
            "", '<label class="form-check">{}<span class="form-check-label">{}</span></label>', options
        )
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    return field.as_widget(attrs={"class": css + invalid})


@register.filter
def is_checkbox(field) -> bool:
    """A single yes/no box, labelled beside the box rather than above it."""
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.inclusion_tag("core/masked_value.html", takes_context=True)
def masked(context, obj, field):
    """The masked value, with a reveal button for roles that may see it in full."""
    from core import reveal

    user = context["request"].user
    return {
        "value": reveal.masked_value(obj, field),
        "can_reveal": reveal.may_reveal(user, type(obj), field) and bool(getattr(obj, field)),
        "label": obj._meta.label,
        "pk": obj.pk,
        "field": field,
    }


@register.filter
def record_count(table) -> int:
    """All rows of a django-tables2 table, across its pages."""
    paginator = getattr(table, "paginator", None)
    return paginator.count if paginator is not None else len(table.rows)
