"""core.templatetags.translated: ``{% load i18n %}`` renders exactly as Django's library does,
a constant ``{% translate %}`` kept per language and escaping."""

import pytest
from django.template import Context, Engine
from django.template.loader import get_template
from django.templatetags.i18n import TranslateNode
from django.utils import translation

from core.templatetags.translated import ConstantTranslateNode

SOURCE = """{% load i18n %}
<a>{% translate "Edit" %}</a>|{% trans 'Home' %}|{% translate "Edit" noop %}|{% translate word %}|
{% translate "Edit" as edit %}[{{ edit }}]|{% translate "May" context "month name" %}|
{% translate "Home"|upper %}|{% translate "Tom & <Jerry>" %}|{% translate "100%% sure" %}|
{% blocktranslate %}Hello {{ word }}{% endblocktranslate %}"""


def render(library: str, language: str, autoescape: bool) -> str:
    engine = Engine(libraries={"i18n": library}, autoescape=autoescape)
    template = engine.from_string(SOURCE)
    with translation.override(language):
        return template.render(Context({"word": "Edit"}, autoescape=autoescape))


@pytest.mark.parametrize("autoescape", [True, False])
def test_renders_as_djangos_library_in_every_language(autoescape):
    for _round in range(2):  # the second time from what the constant nodes kept
        for language in ("zh-hans", "en"):
            assert render("core.templatetags.translated", language, autoescape) == render(
                "django.templatetags.i18n", language, autoescape)
    with translation.override("zh-hans"):
        assert "编辑" in render("core.templatetags.translated", "zh-hans", autoescape)


def test_one_template_serves_each_language_from_what_it_kept():
    engine = Engine(libraries={"i18n": "core.templatetags.translated"})
    template = engine.from_string('{% load i18n %}{% translate "Edit" %}')
    outputs = []
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            outputs.append(template.render(Context()))
    assert outputs == ["编辑", "Edit", "编辑"]


def test_only_constant_translations_are_kept():
    engine = Engine(libraries={"i18n": "core.templatetags.translated"})
    nodes = engine.from_string(SOURCE).nodelist.get_nodes_by_type(TranslateNode)
    constant = [type(node) is ConstantTranslateNode for node in nodes]
    # "Edit", 'Home', "Edit" noop, word, as edit, context, |upper, "Tom & <Jerry>", "100%% sure"
    assert constant == [True, True, True, False, False, False, False, True, True]


def test_the_projects_templates_load_it_as_i18n():
    nodes = get_template("persons/person_detail.html").template.nodelist.get_nodes_by_type(TranslateNode)
    assert nodes and all(type(node) is ConstantTranslateNode for node in nodes)


def test_only_the_deliberate_i18n_replacement_is_exempt_from_the_library_name_check(settings):
    """templates.W003 is silenced for jindu's i18n; any other name used twice still warns."""
    from django.template import engines

    from core.checks import template_tag_libraries

    assert "templates.W003" in settings.SILENCED_SYSTEM_CHECKS
    assert template_tag_libraries(None) == []
    libraries = engines["django"].engine.libraries
    kept = libraries["static"]
    libraries["static"] = "core.templatetags.jindu"  # a clash nobody meant
    try:
        warnings = template_tag_libraries(None)
    finally:
        libraries["static"] = kept
    assert [w.id for w in warnings] == ["core.W003"] and "'static'" in warnings[0].msg
