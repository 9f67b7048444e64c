from django import forms
from django.utils.translation import gettext_lazy as _


class JurisdictionImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns code,name,level,parent_code; UTF-8 or GBK."))


class JurisdictionRenameForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)
