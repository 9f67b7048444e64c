from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import MemberUnit
from core.roles import Role
from jurisdictions.models import Jurisdiction


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Wrong username or password."),
        "inactive": _("This account is disabled."),
    }


class _ScopedChoicesMixin:
    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.visible_to(acting_user)
        if "member_unit" in self.fields:
            self.fields["member_unit"].queryset = MemberUnit.objects.visible_to(acting_user).select_related(
                "jurisdiction")


class UserCreateForm(_ScopedChoicesMixin, forms.Form):
    username = forms.RegexField(label=_("username"), max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")})
    full_name = forms.CharField(label=_("full name"), max_length=50)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    jurisdiction = forms.ModelChoiceField(label=_("jurisdiction"), queryset=Jurisdiction.objects.none(),
                                          empty_label=_("Choose…"))
    member_unit = forms.ModelChoiceField(label=_("member unit"), queryset=MemberUnit.objects.none(), required=False,
                                         empty_label=_("None"))
    password = forms.CharField(label=_("initial password"), widget=forms.PasswordInput, strip=False)


class UserEditForm(_ScopedChoicesMixin, forms.Form):
    full_name = forms.CharField(label=_("full name"), max_length=50)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    jurisdiction = forms.ModelChoiceField(label=_("jurisdiction"), queryset=Jurisdiction.objects.none(),
                                          empty_label=_("Choose…"))
    member_unit = forms.ModelChoiceField(label=_("member unit"), queryset=MemberUnit.objects.none(), required=False,
                                         empty_label=_("None"))
    is_active = forms.BooleanField(label=_("active"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    version = forms.IntegerField(widget=forms.HiddenInput)


class MemberUnitForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    kind = forms.ChoiceField(label=_("kind"), choices=UnitKind.choices)
    jurisdiction = forms.ModelChoiceField(label=_("jurisdiction"), queryset=Jurisdiction.objects.none(),
                                          empty_label=_("Choose…"))

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.visible_to(acting_user).filter(
            level__in=["province", "city", "county", "township"])
