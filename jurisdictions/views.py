from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.roles import ALL_ROLES, Role
from core.views import ObjectDetailView, ObjectListView, RoleRequiredMixin, ServiceFormView
from jurisdictions import filtersets, forms, services, tables
from jurisdictions.importers import FileRejected, read_csv
from jurisdictions.models import Jurisdiction


class JurisdictionListView(ObjectListView):
    model = Jurisdiction
    filterset_class = filtersets.JurisdictionFilterSet
    table_class = tables.JurisdictionTable
    required_roles = ALL_ROLES
    actions = [(gettext_lazy("Import CSV"), "jurisdictions:import", frozenset({Role.SYSTEM_ADMIN}))]

    def restrict(self, queryset):
        return queryset.select_related("parent")


class JurisdictionDetailView(ObjectDetailView):
    model = Jurisdiction
    required_roles = ALL_ROLES
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "jurisdictions/jurisdiction_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        node = self.object
        context["ancestors"] = node.ancestors()
        context["children"] = node.children.order_by("code")
        context["can_edit"] = Role.SYSTEM_ADMIN in self.request.user.role_codes
        return context


class JurisdictionImportView(RoleRequiredMixin, View):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Import jurisdictions")
    template_name = "jurisdictions/jurisdiction_import.html"

    def get(self, request):
        return render(request, self.template_name, {"form": forms.JurisdictionImportForm()})

    def post(self, request):
        form = forms.JurisdictionImportForm(request.POST, request.FILES)
        context = {"form": form}
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = read_csv(upload.read())
                result = services.do_import_jurisdictions(rows, acting_user=request.user, source=upload.name)
            except FileRejected as rejected:
                context["errors"] = rejected.errors
            else:
                messages.success(request, _("Imported: %(created)s created, %(updated)s renamed, %(unchanged)s "
                                            "unchanged.") % result.as_dict())
                return redirect("jurisdictions:list")
        return render(request, self.template_name, context, status=400 if context.get("errors") else 200)


class JurisdictionRenameView(ServiceFormView):
    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Rename jurisdictions")
    form_class = forms.JurisdictionRenameForm
    title = gettext_lazy("Rename")

    def get_object(self):
        return get_object_or_404(Jurisdiction.objects.visible_to(self.request.user), code=self.kwargs["code"])

    def get_title(self):
        return f"{self.title}：{self.object.name}"

    def get_initial(self):
        return {"name": self.object.name, "version": self.object.version}

    def perform(self, form):
        services.do_rename_jurisdiction(self.object, form.cleaned_data["name"],
                                        expected_version=form.cleaned_data["version"], acting_user=self.request.user)
        return reverse("jurisdictions:detail", args=[self.object.code])
