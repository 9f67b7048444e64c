"""Django's ``{% url %}``, with the URLs it reverses kept: one without arguments as it is, one
whose only argument is a key (a non-negative integer: ``person.pk``) as its text around the key
(``core.navigation.url_by_key``), per URL configuration, script prefix and application. A page
reverses a dozen URLs and ``reverse`` costs 10–50 µs a call; anything else (keyword arguments,
several or other arguments) is reversed by Django as before. Added to the engine's built-ins in
the settings, after Django's, so every template's ``{% url %}`` is this one."""

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

from core.navigation import url_by_key

register = template.Library()
# (view name, takes a key, application, urlconf, script prefix) -> the URL's text, or a function
# of the key giving it; None: left to Django.
_kept = {}


class KeptURLNode(defaulttags.URLNode):
    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        if self.kwargs or len(args) > 1 or (args and (type(args[0]) is not int or args[0] < 0)):
            return super().render(context)
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        key = (view_name, bool(args), current_app, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
        try:
            kept = _kept[key]
        except KeyError:
            kept = _kept[key] = _keep(view_name, bool(args), current_app)
        if kept is None:
            return super().render(context)
        url = kept(args[0]) if args else kept
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def _keep(view_name: str, with_key: bool, current_app: str | None):
    try:
        return url_by_key(view_name, current_app) if with_key else reverse(view_name, current_app=current_app)
    except (NoReverseMatch, ValueError):  # left to Django's node, which raises or gives "" as it does
        return None


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
