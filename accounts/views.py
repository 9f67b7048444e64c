from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View

from accounts import filtersets, forms, services, tables
from accounts.models import MemberUnit, User
from core.roles import Role
from core.views import ObjectDetailView, ObjectListView, RoleRequiredMixin

USER_READERS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICE})


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class UserListView(ObjectListView):
    model = User
    filterset_class = filtersets.UserFilterSet
    table_class = tables.UserTable
    required_roles = USER_READERS
    actions = [(_("New user"), "accounts:user_create", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction", "member_unit").prefetch_related("roles").distinct()


class UserDetailView(ObjectDetailView):
    model = User
    required_roles = USER_READERS
    template_name = "accounts/user_detail.html"
    context_object_name = "account"

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction", "member_unit").prefetch_related("roles")


def _apply_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class UserCreateView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
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
        return get_object_or_404(User.objects.visible_to(self.request.user).prefetch_related("roles"), pk=pk)


class UserEditView(_UserFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})

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


class MemberUnitListView(ObjectListView):
    model = MemberUnit
    filterset_class = filtersets.MemberUnitFilterSet
    table_class = tables.MemberUnitTable
    required_roles = frozenset({Role.SYSTEM_ADMIN, Role.OFFICE})
    actions = [(_("New member unit"), "accounts:member_unit_create", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction")


class MemberUnitCreateView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
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
