import pytest
from django import forms
from django.template import TemplateDoesNotExist
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.widgets import Select

CHOICES = [
    ("", _("All")),
    ("城关镇", [("980101", "城关镇（全部）"), ("980101001", '东门"社区" <&>'), ("980101002", "西门村")]),
    ("河口乡", [("980102", "河口乡（全部）")]),
    (3, 4),
    ("safe", mark_safe("<b>safe</b>")),
]


@pytest.mark.parametrize("value", [None, "", "980101001", "3", ["980101", "980102"]])
@pytest.mark.parametrize("attrs", [None, {"class": "form-select is-invalid", "id": "id_area", "required": True,
                                          "disabled": False, "data-x": '"q"'}])
def test_select_writes_the_html_of_djangos_templates(value, attrs):
    expected = forms.Select(choices=CHOICES).render("area", value, attrs)
    assert Select(choices=CHOICES).render("area", value, attrs) == expected
    assert 'selected' in expected or value in (None, "") or isinstance(value, list)


def test_a_select_with_its_own_template_renders_through_it():
    class Custom(Select):
        option_template_name = "no/such/option.html"

    with pytest.raises(TemplateDoesNotExist):
        Custom(choices=CHOICES).render("area", "3")


def test_select_on_a_bound_form_field():
    class Form(forms.Form):
        area = forms.ChoiceField(choices=CHOICES, widget=Select, required=False)

    class Plain(forms.Form):
        area = forms.ChoiceField(choices=CHOICES, required=False)

    fast, plain = Form({"area": "980101002"})["area"], Plain({"area": "980101002"})["area"]
    assert fast.as_widget(attrs={"class": "form-select"}) == plain.as_widget(attrs={"class": "form-select"})
