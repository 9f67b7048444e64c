"""Generic views every app builds on (STYLE: NetBox generic views).

A list or detail view names its model, and the queryset always comes from
``Model.objects.visible_to(request.user)``: a view cannot forget the scope. Every view also
names the roles it serves; a view that names none serves nobody (fail closed).
"""


from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import audit, audit_display, exports, navigation, reveal, services
from core.filtersets import AuditEntryFilterSet, BreakGlassGrantFilterSet
from core.models import AuditEntry, BreakGlassGrant
from core.roles import ANY_AUTHENTICATED, Role, has_any_role
from core.tables import AuditEntryTable, BreakGlassGrantTable


class RoleRequiredMixin:
    """``required_roles``: the roles served; ``ANY_AUTHENTICATED`` for pages every signed-in
    user needs; nothing declared serves nobody."""

    required_roles: frozenset | str = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if self.required_roles != ANY_AUTHENTICATED and not has_any_role(request.user, self.required_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def apply_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where it names fields."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ServiceFormView(RoleRequiredMixin, View):
    """A form whose valid data goes to one service function (STYLE: thin views, every change
    through services). Subclasses set ``form_class`` and implement ``perform(form)``, which
    calls the service and returns where to go next. The service's ValidationError is shown on
    the form (a stale version as 409 Conflict), its PermissionError above it."""

    template_name = "core/object_form.html"
    form_class = None
    title = ""
    intro = ""
    success_message = _("Saved.")
    submit_label = _("Save")  # what the button does: 保存, or 办结 where it closes something
    # An edit form shows the record as stored: opening it is a read of the record, audited as
    # its page is (VIEW) when its model audits reads.
    reads_object = False

    def get_object(self):
        return None

    def get_initial(self) -> dict:
        return {}

    def get_form_kwargs(self) -> dict:
        return {}

    def get_title(self) -> str:
        return self.title

    def perform(self, form) -> str:
        raise NotImplementedError

    def render_form(self, form, status=200):
        context = {"form": form, "title": self.get_title(), "intro": self.intro, "object": self.object,
                   "submit_label": self.submit_label}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        response = self.render_form(self.form_class(initial=self.get_initial(), **self.get_form_kwargs()))
        if self.reads_object and getattr(type(self.object), "audit_reads", False):
            audit.record(AuditEntry.Action.VIEW, actor=request.user, obj=self.object)
        return response

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.form_class(request.POST, request.FILES or None, **self.get_form_kwargs())
        if form.is_valid():
            try:
                target = self.perform(form)
            except ValidationError as error:
                apply_errors(form, error)
                if any(e.code == "conflict" for e in getattr(error, "error_list", [])):
                    return self.render_form(form, status=409)
            except PermissionError as error:
                form.add_error(None, str(error))
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return redirect(target)
        return self.render_form(form, status=400)


class ScopedQuerysetMixin:
    model = None
    # Records opened by a break-glass grant too: only pages that read (core.scoping).
    with_grants = False

    def get_queryset(self):
        if self.with_grants and getattr(self.model, "break_glass", False):
            return self.restrict(self.model.objects.visible_to(self.request.user, with_grants=True))
        return self.restrict(self.model.objects.visible_to(self.request.user))

    def restrict(self, queryset):
        """Hook for select_related / annotations; the scope is already applied."""
        return queryset


class CappedPaginator(Paginator):
    """A page holds at most ``JINDU_MAX_PAGE_SIZE`` rows, whatever ``?per_page=`` asks: a list
    is read page by page (each one audited); more rows at once is an export, audited as such."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        per_page = max(1, min(int(per_page), settings.JINDU_MAX_PAGE_SIZE))
        super().__init__(object_list, per_page, *args, **kwargs)


class ObjectListView(RoleRequiredMixin, ScopedQuerysetMixin, SingleTableMixin, FilterView):
    """A scoped, filtered, paginated table. With ``export_roles`` set, ``?export=xlsx`` (plus
    the same filters) downloads the filtered rows as the subclass's ``export_headers()`` and
    ``export_row(obj)`` give them — values masked there — and the download is audited."""

    template_name = "core/object_list.html"
    # The table paginates (and counts) once; the view's own pagination stays off.
    paginate_by = None
    table_pagination = {"per_page": 50}
    paginator_class = CappedPaginator
    title = ""
    actions: list = []  # [(label, url_name, roles)]
    export_roles: frozenset = frozenset()
    export_filename = ""  # the download's name, as the user reads it; the title if empty
    export_fallback = "export"  # its ASCII name, for a client that reads no RFC 5987 filename*
    export_ordering: tuple = ("pk",)

    def get(self, request, *args, **kwargs):
        kind = request.GET.get("export")
        if kind:
            handler = self.export_kinds().get(kind)
            if handler is None or not has_any_role(request.user, self.export_roles):
                raise PermissionDenied
            return handler()
        return super().get(request, *args, **kwargs)

    def export_kinds(self) -> dict:
        """``?export=KIND`` → the method that writes it; a subclass may add layouts."""
        return {"xlsx": self.export}

    def export_headers(self) -> list:
        raise NotImplementedError

    def export_row(self, obj) -> list:
        raise NotImplementedError

    def export_queryset(self, queryset):
        """Hook for prefetching what ``export_row`` reads."""
        return queryset

    def export_objects(self):
        """The filtered rows, in export order (an invalid filter exports nothing)."""
        filterset = self.filterset_class(self.request.GET, queryset=self.get_queryset(), request=self.request)
        objects = filterset.qs if filterset.is_valid() else self.model.objects.none()
        return self.export_queryset(objects).order_by(*self.export_ordering).iterator(chunk_size=1000)

    def export(self):
        rows = (self.export_row(obj) for obj in self.export_objects())
        title = str(self.title or self.model._meta.verbose_name_plural)
        content, count = exports.xlsx_bytes(title, self.export_headers(), rows)
        return self.export_response(title, str(self.export_filename or title), content, count)

    def export_response(self, title: str, filename: str, content: bytes, count: int, layout: str = "xlsx"):
        """Audit the download (what, how many rows, which filters) and send it."""
        criteria = audit.criteria(self.model, self.request.GET, skip=("export", "page"))
        audit.record(AuditEntry.Action.EXPORT, actor=self.request.user, object_repr=title,
                     changes={"rows": count, "filters": criteria, "layout": layout})
        return exports.xlsx_response(filename, content, self.export_fallback)

    def export_query(self) -> str:
        query = self.request.GET.copy()
        query.pop("page", None)
        query["export"] = "xlsx"
        return query.urlencode()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.audit_search(context)
        context["title"] = self.title or self.model._meta.verbose_name_plural
        roles = self.request.user.role_codes
        context["actions"] = [(label, url) for label, url, allowed in self.actions if roles & allowed]
        context["can_export"] = bool(roles & frozenset(self.export_roles))
        context["export_query"] = self.export_query()
        return context


    def audit_search(self, context):
        """Every page of a list of records whose reads are audited writes one SEARCH entry: the
        criteria (none for the plain list), the page, the rows shown and how many matched (SPEC §4)."""
        if not getattr(self.model, "audit_reads", False):
            return
        criteria = audit.criteria(self.model, self.request.GET, skip=("page", "sort", "per_page"))
        table = context["table"]
        page = getattr(table, "page", None)
        paginator = getattr(table, "paginator", None)
        count = paginator.count if paginator is not None else len(table.rows)
        audit.record_list(actor=self.request.user, object_repr=str(self.model._meta.verbose_name_plural),
                          criteria=criteria, page=page.number if page is not None else 1,
                          rows=len(page.object_list) if page is not None else count, results=count)


LARGEST_KEY = 2**63 - 1  # a BigAutoField's; a larger key overflows the statement's parameter (a 500)


class ObjectDetailView(RoleRequiredMixin, ScopedQuerysetMixin, DetailView):
    """Opening a record of a model with ``audit_reads = True`` writes one VIEW entry."""

    template_name = "core/object_detail.html"
    with_grants = True  # a detail page only reads
    # A core.scoping.ScopedStatement over (queryset, pk) giving the object as the page shows
    # it, for a page opened all day: read by key, compiled once per scope.
    object_statement = None

    def get_object(self, queryset=None):
        if queryset is None and self.object_statement is not None:
            if self.kwargs[self.pk_url_kwarg] > LARGEST_KEY:  # the URL's <int:pk> takes any digits
                raise Http404
            found = self.object_statement(self.request.user, self.kwargs[self.pk_url_kwarg])
            if not found:  # no such record, or outside the user's area: the same answer
                raise Http404
            obj = found[0]
        else:
            obj = super().get_object(queryset)
        if getattr(self.model, "audit_reads", False):
            audit.record(AuditEntry.Action.VIEW, actor=self.request.user, obj=obj)
        return obj


class WorkLineView(TemplateView):
    """The landing page of a work line: its pages, or a plain statement that it is not built yet."""

    template_name = "core/work_line.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            line = navigation.work_line(kwargs["code"])
        except KeyError:
            raise Http404 from None
        if not has_any_role(self.request.user, line.roles):
            raise PermissionDenied
        roles = self.request.user.role_codes
        context["line"] = line
        context["items"] = [i for i in line.items if roles & i.roles]
        return context


class AuditEntryListView(ObjectListView):
    """The audit log, for the audit administrator only (三员分立); ?export=xlsx downloads
    the filtered entries, and that download is itself audited."""

    model = AuditEntry
    filterset_class = AuditEntryFilterSet
    table_class = AuditEntryTable
    required_roles = frozenset({Role.AUDIT_ADMIN})
    table_pagination = {"per_page": 100}
    export_roles = frozenset({Role.AUDIT_ADMIN})
    export_filename = _("Audit log")
    export_fallback = "audit-log"
    export_ordering = ("seq",)
    template_name = "core/audit_list.html"

    def export_headers(self):
        return [str(AuditEntry._meta.get_field(name).verbose_name) for name in EXPORT_FIELDS]

    def export_row(self, entry):
        return _export_row(entry)


class AuditVerifyView(RoleRequiredMixin, View):
    """POST: "校验日志链" — core.services.do_verify_audit_chain, the result shown in the log."""

    required_roles = frozenset({Role.AUDIT_ADMIN})
    capability = _("Verify the audit chain")

    def post(self, request):
        checked, problem, checkpoints = services.do_verify_audit_chain(acting_user=request.user)
        if problem is None:
            messages.success(request, gettext("The audit chain is intact: %(checked)s entries verified, agreeing "
                                              "with %(checkpoints)s checkpoints.") % {
                "checked": checked, "checkpoints": checkpoints})
        else:
            messages.error(request, gettext("The audit chain is broken at %(problem)s (%(checked)s entries "
                                            "verified before it).") % {"problem": problem, "checked": checked})
        return redirect("core:audit_list")


def _export_row(entry: AuditEntry) -> list:
    row = []
    for name in EXPORT_FIELDS:
        if name == "action":
            row.append(entry.get_action_display())
        elif name == "changes":
            row.append("；".join(f"{label}：{text}" for label, text in
                                audit_display.change_lines(entry.object_type, entry.changes)))
        elif name == "object_type":
            row.append(audit_display.object_type_label(entry.object_type) or entry.object_type)
        else:
            row.append(getattr(entry, name))
    return row


EXPORT_FIELDS = ["seq", "at", "actor_username", "actor_jurisdiction", "action", "object_type", "object_id",
                 "object_repr", "ip_address", "request_id", "changes", "hash"]


class RevealView(View):
    """POST: the full value of one masked field of one record, for a role that may see it.
    The record is re-read through ``visible_to``; the act is audited (not the value)."""

    def post(self, request, label, pk, field):
        model = reveal.model_for(label, "masked_fields")
        if not reveal.may_reveal(request.user, model, field):
            raise PermissionDenied
        obj = get_object_or_404(model.objects.visible_to(request.user, with_grants=True), pk=pk)
        audit.record(AuditEntry.Action.REVEAL, actor=request.user, obj=obj, changes={"field": field})
        return render(request, "core/revealed_value.html", {"value": getattr(obj, field)})


class BreakGlassView(RoleRequiredMixin, View):
    """Open one record outside the user's area for reading: a reason first, then a few hours'
    access. The page never looks the record up, so it answers the same for a key without a
    record as for another area's record (the grant, its audit entry and the office's notice too);
    only the record's own page, reached through ``visible_to``, shows it."""

    template_name = "core/break_glass.html"
    capability = _("Break-glass access")
    required_roles = ANY_AUTHENTICATED  # the service checks the model's roles

    def get(self, request, label, pk):
        model = reveal.model_for(label, "break_glass")
        return render(request, self.template_name, {"model": model, "pk": pk})

    def post(self, request, label, pk):
        model = reveal.model_for(label, "break_glass")
        try:
            services.do_break_glass(model, pk, request.POST.get("reason", ""), acting_user=request.user)
        except PermissionError as error:
            raise PermissionDenied(str(error)) from None
        except ValidationError as error:
            return render(request, self.template_name, {"model": model, "pk": pk, "errors": error.messages,
                                                        "reason": request.POST.get("reason", "")}, status=400)
        return redirect(model(pk=pk).get_absolute_url())


class BreakGlassGrantListView(ObjectListView):
    """For the audit administrator: every grant, and the count of each of the last days (the
    daily sweep also writes each day's list into the log: core.services.break_glass_daily)."""

    model = BreakGlassGrant
    table_class = BreakGlassGrantTable
    filterset_class = BreakGlassGrantFilterSet
    required_roles = frozenset({Role.AUDIT_ADMIN})
    template_name = "core/break_glass_list.html"
    DAYS = 14

    def restrict(self, queryset):
        return queryset.select_related("user", "user__jurisdiction")

    def get_context_data(self, **kwargs):
        import datetime

        from django.db.models import Count
        from django.db.models.functions import TruncDate
        from django.utils import timezone

        context = super().get_context_data(**kwargs)
        since = timezone.localdate() - datetime.timedelta(days=self.DAYS - 1)
        context["days"] = list(self.get_queryset().filter(granted_at__date__gte=since)
                               .annotate(day=TruncDate("granted_at")).order_by("-day").values("day")
                               .annotate(grants=Count("pk"), users=Count("user", distinct=True)))
        return context


class CapabilitiesView(RoleRequiredMixin, TemplateView):
    """For the security administrator: each role and what it may see and do, generated from
    the code that enforces it (core.capabilities)."""

    required_roles = frozenset({Role.SECURITY_ADMIN})
    capability = _("Role capabilities")
    template_name = "core/capabilities.html"

    def get_context_data(self, **kwargs):
        from django.conf import settings

        from core.capabilities import capabilities

        return super().get_context_data(capabilities=capabilities(), break_glass_limit=settings.JINDU_BREAK_GLASS_MAX_ACTIVE,
                                        break_glass_hours=settings.JINDU_BREAK_GLASS_HOURS, **kwargs)


class AuditCheckpointListView(RoleRequiredMixin, TemplateView):
    """The signed checkpoints of the audit chain's head (core.audit_checkpoints), for the audit
    administrator to download and keep where the database's administrator cannot reach them."""

    required_roles = frozenset({Role.AUDIT_ADMIN})
    capability = _("Audit checkpoints")
    template_name = "core/audit_checkpoints.html"

    def get_context_data(self, **kwargs):
        from core import audit_checkpoints

        return super().get_context_data(checkpoints=list(reversed(audit_checkpoints.all_checkpoints())), **kwargs)


class AuditCheckpointDownloadView(RoleRequiredMixin, View):
    """One checkpoint file as an attachment; the download is audited."""

    required_roles = frozenset({Role.AUDIT_ADMIN})
    capability = _("Audit checkpoints")

    def get(self, request, name):
        from django.http import FileResponse

        from core import audit_checkpoints

        path = audit_checkpoints.path_of(name)
        if path is None:
            raise Http404
        audit.record(AuditEntry.Action.EXPORT, actor=request.user, object_repr=name[:200],
                     changes={"checkpoint": name})
        return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/json")
