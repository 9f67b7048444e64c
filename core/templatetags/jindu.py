from django import forms, template

register = template.Library()


@register.filter
def styled(field):
    """Render a bound field with Tabler's classes (one place, so no form needs to set them)."""
    widget = field.field.widget
    if isinstance(widget, (forms.CheckboxSelectMultiple | forms.RadioSelect, forms.CheckboxInput)):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


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
