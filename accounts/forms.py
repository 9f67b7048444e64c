from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import MemberUnit, SecurityPolicy
from core.forms import MaskedInputsMixin
from core.roles import Role
from jurisdictions.forms import JurisdictionChoiceField
from jurisdictions.models import Jurisdiction


class LoginForm(AuthenticationForm):
    """Django's login form with the lock-out of the security policy in front of it."""

    error_messages = {
        "invalid_login": _("Wrong username or password."),
        "inactive": _("This account is disabled."),
        "locked": _("Too many failed logins: this account or address is locked until %(until)s."),
    }

    def clean(self):
        from accounts.services import lockout_until
        from accounts.signals import client_ip

        username = self.cleaned_data.get("username")
        if username:
            until = lockout_until(username, client_ip(self.request))
            if until is not None:
                raise ValidationError(self.error_messages["locked"],
                                      params={"until": timezone.localtime(until).strftime("%H:%M")}, code="locked")
        return super().clean()


class TotpForm(forms.Form):
    code = forms.CharField(label=_("6-digit code"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "autofocus": True}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("current password"), widget=forms.PasswordInput, strip=False)
    new_password1 = forms.CharField(label=_("new password"), widget=forms.PasswordInput, strip=False)
    new_password2 = forms.CharField(label=_("new password again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class PasswordResetForm(forms.Form):
    password = forms.CharField(label=_("new password"), widget=forms.PasswordInput, strip=False,
                               help_text=_("The user must change it at the next login."))


class SecurityPolicyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = SecurityPolicy
        fields = ["min_password_length", "min_character_classes", "max_failures", "max_failures_per_ip",
                  "lockout_minutes", "idle_timeout_minutes", "password_max_age_days", "require_totp_for_all"]

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["max_failures_per_ip"].help_text = _(
            "An address is locked only when these failures name at least %(n)s different usernames, so that one "
            "user's mistakes do not lock colleagues behind the same address.") % {
            "n": settings.JINDU_ADDRESS_LOCK_NAMES}
        self.fields["lockout_minutes"].help_text = _("At most 1,440 (one day).")


class _ScopedChoicesMixin:
    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.visible_to(acting_user)
        if "member_unit" in self.fields:
            self.fields["member_unit"].queryset = MemberUnit.objects.visible_to(acting_user).select_related(
                "jurisdiction")


class _AccountFieldsForm(_ScopedChoicesMixin, forms.Form):
    """The account details the system administrator keeps (create and edit)."""

    full_name = forms.CharField(label=_("full name"), max_length=50)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    jurisdiction = JurisdictionChoiceField(label=_("jurisdiction"), queryset=Jurisdiction.objects.none(),
                                           empty_label=_("Choose…"))
    member_unit = forms.ModelChoiceField(label=_("member unit"), queryset=MemberUnit.objects.none(), required=False,
                                         empty_label=_("None"))


class UserCreateForm(_AccountFieldsForm):
    username = forms.RegexField(label=_("username"), max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")})
    password = forms.CharField(label=_("initial password"), widget=forms.PasswordInput, strip=False)
    field_order = ["username", "full_name", "phone", "jurisdiction", "member_unit", "password"]


class UserEditForm(MaskedInputsMixin, _AccountFieldsForm):
    """The account as stored, its phone masked as the account page masks it (User.masked_fields)."""

    is_active = forms.BooleanField(label=_("active"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    MASKED_INPUTS = ("phone",)

    def __init__(self, *args, account, acting_user, **kwargs):
        super().__init__(*args, acting_user=acting_user, **kwargs)
        self.mask_inputs(account, acting_user)


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    version = forms.IntegerField(widget=forms.HiddenInput)


class MemberUnitForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    kind = forms.ChoiceField(label=_("kind"), choices=UnitKind.choices)
    jurisdiction = JurisdictionChoiceField(label=_("jurisdiction"), queryset=Jurisdiction.objects.none(),
                                           empty_label=_("Choose…"))

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.visible_to(acting_user).filter(
            level__in=["province", "city", "county", "township"])
