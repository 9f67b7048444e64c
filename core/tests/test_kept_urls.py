"""core.templatetags.reversing: every template's ``{% url %}`` gives what Django's gives, the
URLs without arguments or with one key reversed once per configuration and script prefix."""

import pytest
from django.http import HttpResponse
from django.template import Context, Engine
from django.template.defaulttags import URLNode
from django.template.loader import get_template
from django.test.utils import override_settings
from django.urls import NoReverseMatch, clear_script_prefix, path, set_script_prefix

from core.templatetags import reversing

SOURCE = """{% url 'home' %}|{% url 'persons:detail' pk %}|{% url 'persons:detail' 7 %}|{% url name %}|
{% url 'core:work_line' code %}|{% url 'persons:detail' pk=pk %}|{% url 'persons:detail' pk as there %}[{{ there }}]|
{% url 'no-such-page' as nowhere %}[{{ nowhere }}]|{% url 'persons:list' %}?q={{ pk }}"""

CONTEXT = {"pk": 12, "name": "home", "code": "persons"}

urlpatterns = [path("elsewhere/", lambda request: HttpResponse(), name="home")]  # another URL configuration


def render(builtins: list[str], context: dict = CONTEXT, source: str = SOURCE) -> str:
    return Engine(builtins=builtins).from_string(source).render(Context(context))


@pytest.fixture
def nothing_kept():
    reversing._kept.clear()
    yield
    reversing._kept.clear()
    clear_script_prefix()


def test_renders_as_djangos_url(nothing_kept):
    expected = render([])
    assert "/persons/12/" in expected
    for _round in range(2):  # the second time from what was kept
        assert render(["core.templatetags.reversing"]) == expected
    for pk in (0, 345, -1, "7", None):  # other keys: a negative or text one is Django's to refuse or take
        context = CONTEXT | {"pk": pk}
        source = "{% url 'persons:detail' pk as there %}[{{ there }}]"
        assert render(["core.templatetags.reversing"], context, source) == render([], context, source)


def test_a_missing_url_raises_as_djangos(nothing_kept):
    with pytest.raises(NoReverseMatch):
        render(["core.templatetags.reversing"], source="{% url 'no-such-page' %}")
    with pytest.raises(NoReverseMatch):
        render(["core.templatetags.reversing"], source="{% url 'home' 5 %}")


def test_each_script_prefix_gets_its_own_urls(nothing_kept):
    source = "{% url 'home' %}|{% url 'persons:detail' 5 %}"
    assert render(["core.templatetags.reversing"], source=source) == "/|/persons/5/"
    set_script_prefix("/jindu/")
    assert render(["core.templatetags.reversing"], source=source) == "/jindu/|/jindu/persons/5/"
    clear_script_prefix()
    assert render(["core.templatetags.reversing"], source=source) == "/|/persons/5/"


def test_each_url_configuration_gets_its_own_urls(nothing_kept):
    source = "{% url 'home' %}"
    assert render(["core.templatetags.reversing"], source=source) == "/"
    with override_settings(ROOT_URLCONF=__name__):
        assert render(["core.templatetags.reversing"], source=source) == "/elsewhere/"
    assert render(["core.templatetags.reversing"], source=source) == "/"


def test_the_projects_templates_use_it():
    nodes = get_template("persons/person_detail.html").template.nodelist.get_nodes_by_type(URLNode)
    assert nodes and all(type(node) is reversing.KeptURLNode for node in nodes)
