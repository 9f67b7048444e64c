from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import PickerSelect


class JurisdictionImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns code,name,level,parent_code; UTF-8 or GBK."))


class JurisdictionRenameForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)


class JurisdictionChoiceField(forms.ModelChoiceField):
    """A searchable picker of places labelled under their parent (core.widgets.PickerSelect)."""

    widget = PickerSelect

    def label_from_instance(self, obj) -> str:
        return obj.picker_label

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset.select_related("parent") if queryset is not None else queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)
