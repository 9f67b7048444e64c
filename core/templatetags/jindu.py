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
