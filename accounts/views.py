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
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from accounts import filtersets, forms, services, tables
from accounts.models import MemberUnit, SecurityPolicy, User
from accounts.signals import client_ip
from core.roles import Role
from core.views import ObjectDetailView, ObjectListView, RoleRequiredMixin

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
        if form.is_valid() and services.totp_valid(user, form.cleaned_data["code"]):
            next_url = request.session.pop(PENDING_NEXT, None) or settings.LOGIN_REDIRECT_URL
            request.session.pop(PENDING_USER, None)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url)
        services.record_login_failure(user.username, ip)
        form.add_error("code", _("The code is wrong or has expired; enter the current one."))
        return render(request, self.template_name, {"form": form}, status=400)


class PasswordChangeView(View):
    """Change one's own password; forced at first login and when it has expired."""

    template_name = "core/object_form.html"
    capability = gettext_lazy("Change own password")

    def _context(self, form):
        due = services.password_change_due(self.request.user)
        return {"form": form, "title": _("Change your password"),
                "intro": _("Your password was set by an administrator or has expired; choose a new one to go on.")
                if due else ""}

    def get(self, request):
        return render(request, self.template_name, self._context(forms.PasswordChangeForm()))

    def post(self, request):
        form = forms.PasswordChangeForm(request.POST)
        if form.is_valid():
            try:
                services.do_change_own_password(request.user, form.cleaned_data["old_password"],
                                                form.cleaned_data["new_password1"])
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("Your password was changed."))
                return redirect("home")
        return render(request, self.template_name, self._context(form), status=400)


class TotpSetupView(View):
    """Set up the second factor (an authenticator app): required for administrators."""

    template_name = "accounts/totp_setup.html"
    capability = gettext_lazy("Set up second factor")

    def get(self, request):
        user = request.user
        if user.totp_confirmed_at:
            return render(request, self.template_name, {"done": True})
        secret = user.totp_secret or services.do_start_totp(user)
        return render(request, self.template_name, self._context(user, secret, forms.TotpForm()))

    def post(self, request):
        user = request.user
        form = forms.TotpForm(request.POST)
        if form.is_valid():
            try:
                services.do_confirm_totp(user, form.cleaned_data["code"])
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The second factor is set up; you will be asked for a code at login."))
                return redirect("home")
        return render(request, self.template_name, self._context(user, user.totp_secret, form), status=400)

    @staticmethod
    def _context(user, secret, form):
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="jindu")
        return {"form": form, "secret": secret, "qr": segno.make(uri, error="m").svg_data_uri(scale=5)}


class SecurityPolicyView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Security policy")
    template_name = "core/object_form.html"

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "title": _("Login and session policy")},
                      status=status)

    def get(self, request):
        policy = SecurityPolicy.current()
        return self._render(request, forms.SecurityPolicyForm(instance=policy, initial={"version": policy.version}))

    def post(self, request):
        form = forms.SecurityPolicyForm(request.POST, instance=SecurityPolicy.current())
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                services.do_update_policy(expected_version=form.cleaned_data["version"], acting_user=request.user,
                                          **values)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("accounts:policy")
        return self._render(request, form, status=400)


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


def _apply_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class UserCreateView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Create accounts")
    template_name = "core/object_form.html"

    def get(self, request):
        form = forms.UserCreateForm(acting_user=request.user)
        return render(request, self.template_name, {"form": form, "title": _("New user")})

    def post(self, request):
        form = forms.UserCreateForm(request.POST, acting_user=request.user)
        if form.is_valid():
            try:
                user = services.do_create_user(acting_user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Account created. The security administrator grants its roles."))
                return redirect("accounts:user_detail", pk=user.pk)
        return render(request, self.template_name, {"form": form, "title": _("New user")}, status=400)


class _UserFormView(RoleRequiredMixin, View):
    template_name = "core/object_form.html"

    def get_object(self, pk):
        return get_object_or_404(User.objects.visible_to(self.request.user).prefetch_related("role_grants"), pk=pk)


class UserEditView(_UserFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Edit accounts")

    def get(self, request, pk):
        user = self.get_object(pk)
        initial = {"full_name": user.full_name, "phone": user.phone, "jurisdiction": user.jurisdiction,
                   "member_unit": user.member_unit, "is_active": user.is_active, "version": user.version}
        form = forms.UserEditForm(initial=initial, acting_user=request.user)
        return render(request, self.template_name, {"form": form, "title": user.username, "object": user})

    def post(self, request, pk):
        user = self.get_object(pk)
        form = forms.UserEditForm(request.POST, acting_user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.do_update_user(user, expected_version=version, acting_user=request.user, **data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("accounts:user_detail", pk=user.pk)
        return render(request, self.template_name, {"form": form, "title": user.username, "object": user},
                      status=400)


class UserRolesView(_UserFormView):
    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Grant and withdraw roles")

    def get(self, request, pk):
        user = self.get_object(pk)
        form = forms.UserRolesForm(initial={"roles": sorted(user.role_codes), "version": user.version})
        return render(request, self.template_name, {"form": form, "title": user.username, "object": user})

    def post(self, request, pk):
        user = self.get_object(pk)
        form = forms.UserRolesForm(request.POST)
        if form.is_valid():
            try:
                services.do_set_roles(user, form.cleaned_data["roles"], expected_version=form.cleaned_data["version"],
                                      acting_user=request.user)
            except ValidationError as error:
                _apply_errors(form, error)
            except services.NotAllowed as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Roles saved."))
                return redirect("accounts:user_detail", pk=user.pk)
        return render(request, self.template_name, {"form": form, "title": user.username, "object": user},
                      status=400)


class UserPasswordResetView(_UserFormView):
    """The system administrator sets a new password for a business user (forgotten password);
    the user must change it at the next login."""

    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Reset passwords")

    def get(self, request, pk):
        user = self.get_object(pk)
        return render(request, self.template_name, {"form": forms.PasswordResetForm(), "object": user,
                                                    "title": _("Reset the password of %(name)s") % {"name": user}})

    def post(self, request, pk):
        user = self.get_object(pk)
        form = forms.PasswordResetForm(request.POST)
        if form.is_valid():
            try:
                services.do_set_password(user, form.cleaned_data["password"], acting_user=request.user)
            except ValidationError as error:
                form.add_error("password", error)
            except services.NotAllowed as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Password set; the user must change it at the next login."))
                return redirect("accounts:user_detail", pk=user.pk)
        return render(request, self.template_name, {"form": form, "object": user,
                                                    "title": _("Reset the password of %(name)s") % {"name": user}},
                      status=400)


class UserTotpResetView(_UserFormView):
    """The security administrator removes a lost second factor (POST only)."""

    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = gettext_lazy("Reset a second factor")
    http_method_names = ["post"]

    def post(self, request, pk):
        user = self.get_object(pk)
        services.do_reset_totp(user, acting_user=request.user)
        messages.success(request, _("The second factor was removed; the user sets up a new one at the next login."))
        return redirect("accounts:user_detail", pk=user.pk)


class MemberUnitListView(ObjectListView):
    model = MemberUnit
    filterset_class = filtersets.MemberUnitFilterSet
    table_class = tables.MemberUnitTable
    required_roles = frozenset({Role.SYSTEM_ADMIN, Role.OFFICE})
    actions = [(gettext_lazy("New member unit"), "accounts:member_unit_create", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction")


class MemberUnitCreateView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Create member units")
    template_name = "core/object_form.html"

    def get(self, request):
        form = forms.MemberUnitForm(acting_user=request.user)
        return render(request, self.template_name, {"form": form, "title": _("New member unit")})

    def post(self, request):
        form = forms.MemberUnitForm(request.POST, acting_user=request.user)
        if form.is_valid():
            try:
                services.do_create_member_unit(acting_user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("accounts:member_unit_list")
        return render(request, self.template_name, {"form": form, "title": _("New member unit")}, status=400)
