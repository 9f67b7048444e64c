"""``{% load i18n %}`` as Django's, with one difference: a ``{% translate "literal" %}`` (no
variable, filter, context or ``as``) is rendered once per language and escaping and kept, as
its text can change with nothing else. A page has dozens of them (the person page 42), and
each otherwise looked up the active language's catalogue, escaped and marked its text again on
every request. The settings register this module under the name ``i18n``
(``TEMPLATES[…]["OPTIONS"]["libraries"]``), so templates keep loading ``i18n``."""

from django import template
from django.templatetags import i18n
from django.utils import translation

register = template.Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)


class ConstantTranslateNode(i18n.TranslateNode):
    """A TranslateNode whose output depends only on the language and on autoescaping."""

    def __init__(self, node: i18n.TranslateNode):
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        self.rendered = {}

    def render(self, context):
        key = (translation.get_language(), context.autoescape)
        try:
            return self.rendered[key]
        except KeyError:
            self.rendered[key] = value = super().render(context)
            return value


def _is_constant(node: i18n.TranslateNode) -> bool:
    expression = node.filter_expression
    return (not node.asvar and node.message_context is None and not expression.filters
            and getattr(expression.var, "literal", None) is not None)


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = i18n.do_translate(parser, token)
    return ConstantTranslateNode(node) if _is_constant(node) else node
