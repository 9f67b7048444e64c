import pyotp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts import filtersets, forms, services, tables
from accounts.models import MemberUnit, SecurityPolicy, User
from accounts.signals import client_ip
from core.roles import ANY_AUTHENTICATED, Role
from core.views import ObjectDetailView, ObjectListView, ServiceFormView

USER_READERS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICE})


PENDING_USER = "jindu_pending_user"
PENDING_NEXT = "jindu_pending_next"


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Password first; users with a second factor then give their code (LoginTotpView)."""

    template_name = "registration/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if user.totp_confirmed_at:
            self.request.session.cycle_key()
            self.request.session[PENDING_USER] = user.pk
            self.request.session[PENDING_NEXT] = self.get_success_url()
            return redirect("accounts:login_totp")
        return super().form_valid(form)


@method_decorator(login_not_required, name="dispatch")
class LoginTotpView(View):
    template_name = "registration/login_totp.html"

    def _pending(self, request):
        pk = request.session.get(PENDING_USER)
        return User.objects.filter(pk=pk, is_active=True).first() if pk else None

    def get(self, request):
        if self._pending(request) is None:
            return redirect("accounts:login")
        return render(request, self.template_name, {"form": forms.TotpForm()})

    def post(self, request):
        user = self._pending(request)
        if user is None:
            return redirect("accounts:login")
        form = forms.TotpForm(request.POST)
        ip = client_ip(request)
        if services.lockout_until(user.username, ip) is not None:
            request.session.pop(PENDING_USER, None)
            messages.error(request, _("Too many failed logins; try again later."))
            return redirect("accounts:login")
        if form.is_valid() and services.use_totp_code(user, form.cleaned_data["code"]):
            next_url = request.session.pop(PENDING_NEXT, None) or settings.LOGIN_REDIRECT_URL
            request.session.pop(PENDING_USER, None)
            auth_login(request, user, backend="accounts.backends.UserBackend")
            return redirect(next_url)
        services.record_login_failure(user.username, ip)
        form.add_error("code", _("The code is wrong or has expired; enter the current one."))
        return render(request, self.template_name, {"form": form}, status=400)


class PasswordChangeView(ServiceFormView):
    """Change one's own password; forced at first login and when it has expired."""

    required_roles = ANY_AUTHENTICATED
    capability = gettext_lazy("Change own password")
    form_class = forms.PasswordChangeForm
    title = gettext_lazy("Change your password")
    success_message = gettext_lazy("Your password was changed.")

    def render_form(self, form, status=200):
        if services.password_change_due(self.request.user):
            self.intro = _("Your password was set by an administrator or has expired; choose a new one to go on.")
        return super().render_form(form, status)

    def perform(self, form):
        services.do_change_own_password(self.request.user, form.cleaned_data["old_password"],
                                        form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, self.request.user)
        return "home"


class TotpSetupView(ServiceFormView):
    """Set up the second factor (an authenticator app): required for administrators."""

    required_roles = ANY_AUTHENTICATED
    capability = gettext_lazy("Set up second factor")
    template_name = "accounts/totp_setup.html"
    form_class = forms.TotpForm
    success_message = gettext_lazy("The second factor is set up; you will be asked for a code at login.")

    def render_form(self, form, status=200):
        user = self.request.user
        if user.totp_confirmed_at:
            return render(self.request, self.template_name, {"done": True})
        secret = user.totp_secret or services.do_start_totp(user)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="jindu")
        context = {"form": form, "secret": secret, "qr": segno.make(uri, error="m").svg_data_uri(scale=5)}
        return render(self.request, self.template_name, context, status=status)

    def perform(self, form):
        services.do_confirm_totp(self.request.user, form.cleaned_data["code"])
        return "home"


class SecurityPolicyView(ServiceFormView):
    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Security policy")
    form_class = forms.SecurityPolicyForm
    title = gettext_lazy("Login and session policy")

    def get_object(self):
        return SecurityPolicy.current(fresh=True)

    def get_initial(self):
        return {"version": self.object.version}

    def get_form_kwargs(self):
        return {"instance": self.object}

    def perform(self, form):
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.do_update_policy(expected_version=form.cleaned_data["version"], acting_user=self.request.user,
                                  **values)
        return "accounts:policy"


class LogoutView(auth_views.LogoutView):
    pass


class UserListView(ObjectListView):
    model = User
    filterset_class = filtersets.UserFilterSet
    table_class = tables.UserTable
    required_roles = USER_READERS
    actions = [(gettext_lazy("New user"), "accounts:user_create", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction", "member_unit").prefetch_related("role_grants").distinct()


class UserDetailView(ObjectDetailView):
    model = User
    required_roles = USER_READERS
    template_name = "accounts/user_detail.html"
    context_object_name = "account"

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction", "member_unit").prefetch_related("role_grants")


class UserCreateView(ServiceFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Create accounts")
    form_class = forms.UserCreateForm
    title = gettext_lazy("New user")
    success_message = gettext_lazy("Account created. The security administrator grants its roles.")

    def get_form_kwargs(self):
        return {"acting_user": self.request.user}

    def perform(self, form):
        user = services.do_create_user(acting_user=self.request.user, **form.cleaned_data)
        return reverse("accounts:user_detail", args=[user.pk])


class _UserFormView(ServiceFormView):
    """A form about one account, reached through visible_to."""

    def get_object(self):
        users = User.objects.visible_to(self.request.user).prefetch_related("role_grants")
        return get_object_or_404(users, pk=self.kwargs["pk"])

    def get_title(self):
        return f"{self.title}：{self.object}"

    def detail(self):
        return reverse("accounts:user_detail", args=[self.object.pk])


class UserEditView(_UserFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Edit accounts")
    form_class = forms.UserEditForm
    title = gettext_lazy("Edit account")
    reads_object = True

    def get_initial(self):
        user = self.object
        return {"full_name": user.full_name, "phone": user.phone, "jurisdiction": user.jurisdiction,
                "member_unit": user.member_unit, "is_active": user.is_active, "version": user.version}

    def get_form_kwargs(self):
        return {"acting_user": self.request.user, "account": self.object}

    def perform(self, form):
        data = dict(form.cleaned_data)
        version = data.pop("version")
        services.do_update_user(self.object, expected_version=version, acting_user=self.request.user, **data)
        return self.detail()


class UserRolesView(_UserFormView):
    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Grant and withdraw roles")
    form_class = forms.UserRolesForm
    title = gettext_lazy("Roles")
    success_message = gettext_lazy("Roles saved.")

    def get_initial(self):
        return {"roles": sorted(self.object.role_codes), "version": self.object.version}

    def perform(self, form):
        services.do_set_roles(self.object, form.cleaned_data["roles"], expected_version=form.cleaned_data["version"],
                              acting_user=self.request.user)
        return self.detail()


class UserPasswordResetView(_UserFormView):
    """The system administrator sets a new password for a business user (forgotten password);
    the user must change it at the next login."""

    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Reset passwords")
    form_class = forms.PasswordResetForm
    title = gettext_lazy("Reset password")
    success_message = gettext_lazy("Password set; the user must change it at the next login.")

    def perform(self, form):
        try:
            services.do_set_password(self.object, form.cleaned_data["password"], acting_user=self.request.user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        return self.detail()


class UserTotpResetView(_UserFormView):
    """The security administrator removes a lost second factor (POST only, no form)."""

    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Reset a second factor")
    http_method_names = ["post"]

    def post(self, request, pk):
        self.object = self.get_object()
        services.do_reset_totp(self.object, acting_user=request.user)
        messages.success(request, _("The second factor was removed; the user sets up a new one at the next login."))
        return redirect(self.detail())


class MemberUnitListView(ObjectListView):
    model = MemberUnit
    filterset_class = filtersets.MemberUnitFilterSet
    table_class = tables.MemberUnitTable
    required_roles = frozenset({Role.SYSTEM_ADMIN, Role.OFFICE})
    actions = [(gettext_lazy("New member unit"), "accounts:member_unit_create", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction")


class MemberUnitCreateView(ServiceFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Create member units")
    form_class = forms.MemberUnitForm
    title = gettext_lazy("New member unit")

    def get_form_kwargs(self):
        return {"acting_user": self.request.user}

    def perform(self, form):
        services.do_create_member_unit(acting_user=self.request.user, **form.cleaned_data)
        return "accounts:member_unit_list"
