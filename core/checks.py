"""System checks of jindu's own.

Django warns (templates.W003) when one template tag library name is given to two modules.
jindu gives ``i18n`` to ``core.templatetags.translated`` on purpose: it is Django's i18n
library with a faster constant ``{% translate %}``, so that every template keeps ``{% load
i18n %}``. That warning is silenced in the settings and made here again for every other
name, so an accidental clash still shows (as core.W003)."""

from collections import defaultdict

from django.core import checks

# Library names deliberately given to a module of ours in place of Django's: {name: (ours, Django's)}.
REPLACED_LIBRARIES = {"i18n": {"core.templatetags.translated", "django.templatetags.i18n"}}


@checks.register(checks.Tags.templates)
def template_tag_libraries(app_configs, **kwargs):
    """Django's templates.W003, but for the names in ``REPLACED_LIBRARIES``."""
    from django.template import engines
    from django.template.backends.django import DjangoTemplates, get_template_tag_modules

    found = []
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        modules = defaultdict(set)
        for name, path in [*get_template_tag_modules(), *engine.engine.libraries.items()]:
            modules[name].add(path)
        for name, paths in sorted(modules.items()):
            if len(paths) > 1 and REPLACED_LIBRARIES.get(name) != paths:
                found.append(checks.Warning(f"{name!r} is used for multiple template tag modules: "
                                            + ", ".join(repr(p) for p in sorted(paths)), obj=engine, id="core.W003"))
    return found
