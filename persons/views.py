"""The person pages (SPEC §3.1): thin views over persons.queries for reading and
persons.services for every change."""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from core import audit
from core.html import escape
from core.masking import mask_id_number, mask_phone
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.scoping import ScopedStatement
from core.views import ObjectDetailView, ObjectListView, RoleRequiredMixin, ServiceFormView
from persons import queries, rules, services, support
from persons.choices import CheckInKind, FlagState
from persons.filtersets import PersonFilterSet
from persons.forms import (
    CheckInForm,
    CheckInPolicyForm,
    EndMeasureForm,
    FlagDecideForm,
    FlagDismissForm,
    HandOverForm,
    LedgerMappingForm,
    LedgerUploadForm,
    MeasureForm,
    MissingMeasureForm,
    PersonDatesMixin,
    PersonEditForm,
    PersonForm,
    ReportInForm,
    RiskModelForm,
    RiskOverrideForm,
    StatusForm,
    SupportForm,
    TransferCancelForm,
    TransferReceiptForm,
    TransferRefuseForm,
)
from persons.models import (
    FILE_ROLES,
    HEALTH_ROLES,
    CheckInPolicy,
    Flag,
    LedgerImport,
    Measure,
    Person,
    RiskAssessment,
    RiskModel,
    Transfer,
)
from persons.tables import PersonTable

READER_ROLES = Person.scope_roles
# The person list (and its search) is for the roles that read files; a member unit has the
# list of its support tasks instead (persons.support_views).
LIST_ROLES = FILE_ROLES
WRITER_ROLES = services.WRITER_ROLES
# Rosters leave the platform: only the roles that keep the files may export them.
EXPORT_ROLES = WRITER_ROLES


class PersonListView(ObjectListView):
    model = Person
    filterset_class = PersonFilterSet
    table_class = PersonTable
    required_roles = LIST_ROLES
    template_name = "persons/person_list.html"
    actions = [(gettext_lazy("Import a ledger"), "persons:import", WRITER_ROLES),
               (gettext_lazy("New person file"), "persons:create", WRITER_ROLES)]

    def restrict(self, queryset):
        return queries.person_rows(queryset)

    def get_table_data(self):
        return queries.person_table_rows(super().get_table_data())

    export_roles = EXPORT_ROLES
    export_fallback = "registered-persons"
    export_ordering = ("jurisdiction__path", "name", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["quick_filters"] = self.quick_filters()
        context["main_filters"] = self.MAIN_FILTERS
        context["roster_query"] = context["export_query"].replace("export=xlsx", "export=roster")
        context["extra_filters_active"] = sum(1 for k, v in self.request.GET.items()
                                              if v and k in self.filterset_class.base_filters
                                              and k not in self.MAIN_FILTERS)
        return context

    MAIN_FILTERS = ("q", "id_number")

    QUICK_FILTERS = [
        (gettext_lazy("All"), {}),
        (gettext_lazy("Check-ins overdue"), {"overdue": "true"}),
        (gettext_lazy("Open flags"), {"flagged": "true"}),
        (gettext_lazy("High risk"), {"risk": "high"}),
        (gettext_lazy("Community treatment"), {"status": "community_treatment"}),
        (gettext_lazy("Community rehabilitation"), {"status": "community_rehabilitation"}),
        (gettext_lazy("Whereabouts unknown"), {"status": "whereabouts_unknown"}),
    ]

    def quick_filters(self) -> list:
        """One-click filters; each is a plain URL like any other combination."""
        current = {k: v for k, v in self.request.GET.items() if v and k != "page"}
        return [(label, urlencode(params), current == params) for label, params in self.QUICK_FILTERS]

    def export_queryset(self, queryset):
        return queryset.prefetch_related("substances")

    def export_headers(self):
        return [_("full name"), _("ID number"), _("sex"), _("age (years)"), _("township"), _("village"),
                _("control status"), _("status since"), _("risk level"), _("substances"), _("phone"),
                _("open flags")]

    def export_row(self, person):
        return _export_row(person, timezone.localdate())

    def export_kinds(self):
        return super().export_kinds() | {"roster": self.export_roster}

    def export_roster(self):
        """The 花名册 in the layout offices file upward and import from: title and 填报 lines,
        then the columns the ledger import reads by the same names (ID numbers and phones masked)."""
        from core import exports
        from persons.importers import LIVING_SYNONYMS

        today = timezone.localdate()
        area = self.request.user.jurisdiction
        rows = []
        for number, person in enumerate(self.export_objects(), start=1):
            j = person.jurisdiction
            township, village = (j.parent.name, j.name) if j.level == "village" and j.parent_id else (j.name, "")
            rows.append([
                number, person.name, person.get_sex_display(), mask_id_number(person.id_number),
                rules.age_on(person.birth_date, today),
                person.registered_residence, person.current_address, township, village,
                "、".join(s.get_substance_display() for s in person.substances.all()), person.first_found_on,
                person.get_control_status_display(), person.control_status_since or _("unknown"),
                LIVING_SYNONYMS[person.living_situation][0] if person.living_situation else "",
                mask_phone(person.phone), person.get_risk_level_display() if person.risk_level else ""])
        day = f"{today.year}年{today.month}月{today.day}日"
        title = f"{area.name}登记在册吸毒人员花名册(截至{day})"
        content, count = exports.xlsx_bytes("花名册", ROSTER_HEADERS, rows, preamble=[
            title, f"填报单位:{area.name}禁毒办　　填报日期:{day}"])
        self.export_fallback = "roster"
        return self.export_response(title, "花名册", content, count, layout="roster")


# The 花名册 columns, named as the ledger import reads them (persons.importers.COLUMNS).
ROSTER_HEADERS = ["序号", "姓名", "性别", "身份证号码", "年龄", "户籍地址", "现住址", "乡镇(街道)", "所属村(社区)",
                  "吸食毒品种类", "初次发现日期", "管控现状", "状态起始日期", "就业居住情况", "联系电话", "风险等级"]


def _export_row(person, today) -> list:
    """ID number and phone always masked: a full value is revealed one record at a time on the
    person page (audited), never in bulk. The age, not the birth date: the birth date is the
    number's hidden middle."""
    j = person.jurisdiction
    township, village = (j.parent.name, j.name) if j.level == "village" and j.parent_id else (j.name, "")
    return [person.name, mask_id_number(person.id_number), person.get_sex_display(),
            rules.age_on(person.birth_date, today), township,
            village, person.get_control_status_display(), person.control_status_since or _("unknown"),
            person.get_risk_level_display() if person.risk_level else "",
            "、".join(s.get_substance_display() for s in person.substances.all()), mask_phone(person.phone),
            person.open_flags]


def _person_page(queryset):
    """The person as the page shows them: place, grid and social worker (the worker's name only:
    not their password hash or second-factor secret), and which sparse kinds of records there are."""
    return queries.PersonFile.with_presence(
        queryset.select_related("jurisdiction", "jurisdiction__parent", "grid", "assigned_worker")
        .defer(*(f"assigned_worker__{name}" for name in WORKER_SECRETS)))


WORKER_SECRETS = ("password", "totp_secret")


class PersonDetailView(ObjectDetailView):
    model = Person
    required_roles = READER_ROLES
    template_name = "persons/person_detail.html"
    context_object_name = "person"
    object_statement = ScopedStatement(Person, lambda queryset, pk: _person_page(queryset).filter(pk=pk),
                                       name="person_page", with_grants=True)

    def get_template_names(self):
        return ["persons/person_task_view.html"] if self.task_view else [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.object
        user = self.request.user
        # A member unit sees the person of its task, not the file (SPEC §2, 最小必要).
        self.task_view = not support.sees_file(user, person)
        if self.task_view:
            from persons.support_views import task_view_context

            return context | task_view_context(user, person)
        today = timezone.localdate()
        records = queries.PersonFile(person)
        # Opened through a break-glass grant only: read-only (the forms and services refuse it too).
        by_grant = not Person.objects.visible_to(user).filter(pk=person.pk).exists()
        measure = records.current_measure
        timeline = records.timeline()
        context.update({
            "today": today,
            "age": rules.age_on(person.birth_date, today),
            "place": queries.place_of(person),
            "show_health": has_any_role(user, HEALTH_ROLES),
            "by_grant": by_grant,
            "can_write": has_any_role(user, WRITER_ROLES) and not by_grant,
            "open_flags": [(flag, queries.evidence_of(flag), FlagDecideForm(prefix=f"decide-{flag.pk}"),
                            FlagDismissForm(prefix=f"dismiss-{flag.pk}")) for flag in records.open_flags],
            "measure": measure,
            "clocks": queries.measure_clocks(measure, today) if measure else [],
            "plan": records.plan(today),
            "is_overdue": records.is_overdue(today),
            "substances": records.substances,
            "timeline": timeline,
            "timeline_rows": timeline_rows(timeline),
            "can_support": has_any_role(user, support.SUPPORT_ROLES) and not by_grant,
            "support_tasks": records.support_tasks,
            "can_assign": has_any_role(user, support.TASK_ASSIGNER_ROLES) and not by_grant,
        })
        risk = records.latest_risk
        context["risk"] = risk
        context["risk_factors"] = [c for c in (risk.contributions if risk else []) if c.get("points")]
        transfer = records.pending_transfer
        context["pending_transfer"] = transfer
        context["receiving"] = bool(transfer and services.receives_transfer(user, transfer))
        context["sending"] = bool(transfer and services.sends_transfer(user, transfer))
        return context


# One line of the timeline, as the template wrote it with {% for %} (a file holds a hundred or
# more events; the template engine took 30 µs a line, most of the person page's rendering).
TIMELINE_ROW = ('\n          <li id="{}" class="timeline-row">'
                '\n            <span class="status-dot status-{} timeline-dot"></span>'
                '\n            <span class="timeline-date">{}</span>'
                '\n            <span class="timeline-body"><span class="timeline-title">{}</span>{}</span>'
                '\n          </li>\n          ')
TIMELINE_DETAIL = ' <span class="text-secondary small">{}</span>'


def timeline_rows(events) -> str:
    """The ``<li>`` lines of the person page's timeline, every value escaped as the template
    (``conditional_escape``) escapes it. Written with str.format: ``format_html_join`` took
    20 µs a line (its lazy-text checks on every argument), 3.6 ms for a file of 177 events."""
    return mark_safe("".join(
        TIMELINE_ROW.format(escape(event.anchor), escape(event.tone), event.on.isoformat(), escape(event.title),
                            TIMELINE_DETAIL.format(escape(event.detail)) if event.detail else "")
        for event in events))


def read_today_list(user) -> queries.TodayList:
    """The user's today list, for a page that shows it: it names persons, so each showing is
    an audited list page (SPEC §4)."""
    today_list = queries.today_list(user)
    audit.record_list(actor=user, object_repr=str(TodayView.capability), criteria={}, page=1,
                      rows=len(today_list.items),
                      results=sum(len(section.items) + section.hidden for section in today_list.sections))
    return today_list


class TodayView(RoleRequiredMixin, TemplateView):
    """The today list on a page of its own (the home page shows it too)."""

    required_roles = WRITER_ROLES
    capability = gettext_lazy("Today list")
    template_name = "persons/today.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(today_list=read_today_list(self.request.user), **kwargs)


# --- forms ---------------------------------------------------------------------------------------


class _PersonServiceForm(ServiceFormView):
    """A form about one person, reached through visible_to (404 outside the user's area)."""

    template_name = "persons/form.html"
    required_roles = WRITER_ROLES

    def get_object(self):
        return get_object_or_404(Person.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def get_title(self):
        return f"{self.title}：{self.object.name}"

    def get_form_kwargs(self):
        """A form of dates about the person checks them against the birth date (rules.date_problems)."""
        if issubclass(self.form_class, PersonDatesMixin):
            return {"born": self.object.birth_date}
        return {}

    def detail_url(self, anchor=""):
        return reverse("persons:detail", args=[self.object.pk]) + anchor

    def render_form(self, form, status=200):
        context = {"form": form, "title": self.get_title(), "intro": self.intro, "object": self.object,
                   "person": self.object, "cancel_url": self.detail_url()}
        context.update(self.extra_context())
        return render(self.request, self.template_name, context, status=status)

    def extra_context(self) -> dict:
        return {}


class PersonCreateView(ServiceFormView):
    required_roles = WRITER_ROLES
    capability = gettext_lazy("New person file")
    template_name = "persons/form.html"
    form_class = PersonForm
    title = gettext_lazy("New person file")
    success_message = gettext_lazy("Person file opened.")

    def get_form_kwargs(self):
        return {"acting_user": self.request.user}

    def get_initial(self):
        return {"control_status_since": timezone.localdate()}

    def render_form(self, form, status=200):
        return render(self.request, self.template_name, {
            "form": form, "title": self.get_title(), "cancel_url": reverse("persons:list")}, status=status)

    def perform(self, form):
        data = form.cleaned_data
        person = services.do_create_person(
            acting_user=self.request.user, name=data["name"], id_number=data["id_number"],
            jurisdiction=data["jurisdiction"], grid=data["grid"], control_status=data["control_status"],
            control_status_since=data["control_status_since"], document_number=data["document_number"],
            substances=data["substances"], measure=form.measure(), **form.person_fields())
        return person.get_absolute_url()


class PersonEditView(_PersonServiceForm):
    capability = gettext_lazy("Edit person files")
    form_class = PersonEditForm
    title = gettext_lazy("Edit")
    reads_object = True

    def get_form_kwargs(self):
        return {"acting_user": self.request.user, "person": self.object}

    def get_initial(self):
        person = self.object
        initial = {name: getattr(person, name) for name in services.EDITABLE_FIELDS}
        initial.update({"jurisdiction": person.jurisdiction_id, "grid": person.grid_id,
                        "assigned_worker": person.assigned_worker_id, "version": person.version,
                        "substances": list(person.substances.values_list("substance", flat=True))})
        return initial

    def perform(self, form):
        data = form.cleaned_data
        fields = form.person_fields()
        fields.update(name=data["name"], jurisdiction=data["jurisdiction"], grid=data["grid"])
        fields = {name: value for name, value in fields.items() if name in form.fields}
        services.do_update_person(self.object, expected_version=data["version"], acting_user=self.request.user,
                                  substances=data["substances"], **fields)
        return self.detail_url()


class StatusChangeView(_PersonServiceForm):
    capability = gettext_lazy("Change control status")
    form_class = StatusForm
    title = gettext_lazy("Change control status")
    success_message = gettext_lazy("Control status changed.")

    def get_initial(self):
        return {"status": self.object.control_status, "changed_on": timezone.localdate()}

    def perform(self, form):
        data = form.cleaned_data
        services.do_change_status(self.object, data["status"], data["changed_on"], acting_user=self.request.user,
                                  document_number=data["document_number"], note=data["note"])
        return self.detail_url("#timeline")


class MeasureDecideView(_PersonServiceForm):
    capability = gettext_lazy("Record measure decisions")
    form_class = MeasureForm
    title = gettext_lazy("Record a measure decision")
    success_message = gettext_lazy("Measure recorded.")

    def get_initial(self):
        return {"decided_on": timezone.localdate()}

    def perform(self, form):
        data = form.cleaned_data
        services.do_decide_measure(self.object, data["kind"], data["decided_on"], acting_user=self.request.user,
                                   decision_number=data["decision_number"],
                                   deciding_authority=data["deciding_authority"], term_months=data["term_months"])
        return self.detail_url("#measure")


class MissingMeasureView(_PersonServiceForm):
    """The quick form of the today list's 待补录措施 section."""

    capability = gettext_lazy("Record measure decisions")
    form_class = MissingMeasureForm
    title = gettext_lazy("Record the measure")
    success_message = gettext_lazy("Measure recorded.")

    def get_initial(self):
        kind = queries.COMMUNITY_MEASURES.get(self.object.control_status)
        return {"kind": kind} if kind else {}

    def perform(self, form):
        data = form.cleaned_data
        services.do_record_missing_measure(
            self.object, data["kind"], data["decided_on"], reported_on=data["reported_on"],
            starts_on=data["starts_on"], decision_number=data["decision_number"], acting_user=self.request.user)
        return self.detail_url("#measure")


class _MeasureServiceForm(_PersonServiceForm):
    """A form about one measure, reached through visible_to (its person's scope)."""

    def get_object(self):
        self.measure = get_object_or_404(Measure.objects.visible_to(self.request.user).select_related("person"),
                                         pk=self.kwargs["pk"])
        return self.measure.person

    def get_title(self):
        return f"{self.title}：{self.object.name}（{self.measure.get_kind_display()}）"

    def extra_context(self):
        return {"measure": self.measure, "clocks": queries.measure_clocks(self.measure)}


class ReportInView(_MeasureServiceForm):
    capability = gettext_lazy("Record report-ins")
    form_class = ReportInForm
    title = gettext_lazy("Record the report-in")
    success_message = gettext_lazy("Report-in recorded; the check-in plan is ready.")

    def get_initial(self):
        return {"reported_on": timezone.localdate()}

    def perform(self, form):
        services.do_report_in(self.measure, form.cleaned_data["reported_on"], acting_user=self.request.user)
        return self.detail_url("#measure")


class MeasureEndView(_MeasureServiceForm):
    capability = gettext_lazy("End measures")
    form_class = EndMeasureForm
    title = gettext_lazy("End the measure")
    success_message = gettext_lazy("Measure ended.")

    def get_initial(self):
        return {"ended_on": timezone.localdate(), "outcome": "completed"}

    def perform(self, form):
        data = form.cleaned_data
        services.do_end_measure(self.measure, data["ended_on"], acting_user=self.request.user, reason=data["reason"],
                                completed=data["outcome"] == "completed",
                                termination_notice_on=data["termination_notice_on"],
                                next_status=data["next_status"] or None)
        return self.detail_url("#measure")


class CheckInView(_PersonServiceForm):
    """One short form for a test, interview, visit, summary, evaluation or departure."""

    capability = gettext_lazy("Record check-ins")
    template_name = "persons/check_in_form.html"
    form_class = CheckInForm
    title = gettext_lazy("Record a check-in")
    success_message = ""

    def kind(self) -> str:
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        kind = source.get("kind", "")
        return kind if kind in CheckInKind.values else CheckInKind.DRUG_TEST

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"kind": self.kind()}

    def get_initial(self):
        return {"kind": self.kind(), "occurred_on": timezone.localdate()}

    def extra_context(self):
        return {"kinds": CheckInKind.choices, "kind": self.kind()}

    def perform(self, form):
        data = form.cleaned_data
        check_in = services.do_record_check_in(
            self.object, data["kind"], data["occurred_on"], acting_user=self.request.user,
            method=data.get("method", ""), result=data.get("result", ""), substance=data.get("substance", ""),
            returned_on=data.get("returned_on"), notes=data.get("notes", ""))
        messages.success(self.request, _("%(kind)s recorded for %(name)s.") % {
            "kind": check_in.get_kind_display(), "name": self.object.name})
        new_flags = self.object.flags.filter(state=FlagState.OPEN, raised_on=timezone.localdate()).count()
        if new_flags:
            messages.warning(self.request, _("The rules raised a flag: see the top of the person's page."))
        return self.detail_url()


class _FlagServiceForm(_PersonServiceForm):
    def get_object(self):
        self.flag = get_object_or_404(Flag.objects.visible_to(self.request.user).select_related("person"),
                                      pk=self.kwargs["pk"])
        return self.flag.person

    def get_form_kwargs(self):
        return {"prefix": f"{self.prefix}-{self.flag.pk}"}

    def get_title(self):
        return f"{self.title}：{self.object.name}（{self.flag.title}）"

    def extra_context(self):
        return {"flag": self.flag, "cancel_url": self.detail_url(f"#flag-{self.flag.pk}")}


class FlagDecideView(_FlagServiceForm):
    capability = gettext_lazy("Decide on flags")
    form_class = FlagDecideForm
    prefix = "decide"
    title = gettext_lazy("Record the decision")
    success_message = gettext_lazy("Decision recorded.")

    def perform(self, form):
        data = form.cleaned_data
        services.do_decide_flag(self.flag, data["decision"], document_number=data["document_number"],
                                acting_user=self.request.user)
        return self.detail_url()


class FlagDismissView(_FlagServiceForm):
    capability = gettext_lazy("Dismiss flags")
    form_class = FlagDismissForm
    prefix = "dismiss"
    title = gettext_lazy("Dismiss the flag")
    success_message = gettext_lazy("Flag dismissed.")

    def perform(self, form):
        services.do_dismiss_flag(self.flag, form.cleaned_data["reason"], acting_user=self.request.user)
        return self.detail_url()



class HandOverView(_PersonServiceForm):
    capability = gettext_lazy("Hand persons over to another area")
    form_class = HandOverForm
    title = gettext_lazy("Hand over to another area")
    intro = gettext_lazy("Until the receiving area confirms receipt, both areas see the person and the transfer "
                         "waits on both today lists (戒毒条例 第二十二条).")
    success_message = gettext_lazy("Handed over; waiting for the receiving area.")

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"person": self.object}

    def get_initial(self):
        return {"handed_over_on": timezone.localdate()}

    def perform(self, form):
        data = form.cleaned_data
        services.do_hand_over(self.object, data["to_jurisdiction"], data["reason"], data["handed_over_on"],
                              acting_user=self.request.user)
        return self.detail_url("#transfers")


class _TransferServiceForm(_PersonServiceForm):
    def get_object(self):
        self.transfer = get_object_or_404(
            Transfer.objects.visible_to(self.request.user).select_related("person", "from_jurisdiction",
                                                                          "to_jurisdiction"),
            pk=self.kwargs["pk"])
        return self.transfer.person

    def get_title(self):
        return f"{self.title}：{self.object.name}（{self.transfer}）"


class TransferReceiveView(_TransferServiceForm):
    capability = gettext_lazy("Receive transfers")
    form_class = TransferReceiptForm
    title = gettext_lazy("Confirm receipt")
    intro = gettext_lazy("The person moves to the receiving area, and a running community measure is executed "
                         "there from now on, its term running on.")
    success_message = gettext_lazy("Receipt confirmed: the person is now in your area.")

    def get_initial(self):
        return {"acknowledged_on": timezone.localdate()}

    def perform(self, form):
        services.do_acknowledge_transfer(self.transfer, acting_user=self.request.user,
                                         acknowledged_on=form.cleaned_data["acknowledged_on"])
        return self.detail_url("#transfers")


class TransferCancelView(_TransferServiceForm):
    capability = gettext_lazy("Withdraw transfers")
    form_class = TransferCancelForm
    title = gettext_lazy("Withdraw the hand-over")
    success_message = gettext_lazy("Hand-over withdrawn.")

    def get_object(self):
        person = super().get_object()
        if not services.sends_transfer(self.request.user, self.transfer):
            raise PermissionDenied(_("Only the sending area can withdraw a hand-over: the receiving area accepts "
                                     "or refuses it."))
        return person

    def perform(self, form):
        services.do_cancel_transfer(self.transfer, acting_user=self.request.user, reason=form.cleaned_data["reason"])
        return self.detail_url("#transfers")


class TransferRefuseView(_TransferServiceForm):
    capability = gettext_lazy("Refuse transfers")
    form_class = TransferRefuseForm
    title = gettext_lazy("Refuse the transfer")
    intro = gettext_lazy("The person stays with the sending area, which sees your reason.")
    success_message = gettext_lazy("Transfer refused: the sending area keeps the person.")

    def get_object(self):
        person = super().get_object()
        if not services.receives_transfer(self.request.user, self.transfer):
            raise PermissionDenied(_("Only the receiving area can refuse a transfer."))
        return person

    def perform(self, form):
        services.do_refuse_transfer(self.transfer, form.cleaned_data["reason"], acting_user=self.request.user)
        return self.detail_url("#transfers")


class SupportView(_PersonServiceForm):
    """帮扶: a member unit records the help it gave; workers may record it too."""

    required_roles = support.SUPPORT_ROLES
    capability = gettext_lazy("Record support")
    form_class = SupportForm
    title = gettext_lazy("Record support")
    success_message = gettext_lazy("Support recorded.")

    def get_initial(self):
        return {"provided_on": timezone.localdate()}

    def perform(self, form):
        data = form.cleaned_data
        support.do_record_support(self.object, data["kind"], data["provided_on"], data["description"],
                                  acting_user=self.request.user)
        return self.detail_url("#timeline")


class RiskOverrideView(_PersonServiceForm):
    capability = gettext_lazy("Override risk levels")
    form_class = RiskOverrideForm
    title = gettext_lazy("Change the risk level")
    success_message = gettext_lazy("Risk level changed.")

    def get_object(self):
        self.assessment = get_object_or_404(
            RiskAssessment.objects.visible_to(self.request.user).select_related("person"), pk=self.kwargs["pk"])
        return self.assessment.person

    def get_initial(self):
        return {"level": self.assessment.level}

    def extra_context(self):
        return {"assessment": self.assessment}

    def perform(self, form):
        services.do_override_risk(self.assessment, form.cleaned_data["level"], form.cleaned_data["reason"],
                                  acting_user=self.request.user)
        return self.detail_url("#risk")


class _AreaSettingsView(ServiceFormView):
    """The office's settings for its own area (the nearest ancestor's apply until it sets its own)."""

    required_roles = frozenset({Role.OFFICE})
    model = None

    def get_object(self):
        return self.model.objects.filter(jurisdiction=self.request.user.jurisdiction).first()

    def get_title(self):
        return f"{self.title}：{self.request.user.jurisdiction.name}"


class CheckInPolicyView(_AreaSettingsView):
    capability = gettext_lazy("Check-in policy")
    model = CheckInPolicy
    form_class = CheckInPolicyForm
    title = gettext_lazy("Check-in policy")
    intro = gettext_lazy("Open due dates of the measures in effect in your area are regenerated when you save.")

    def get_initial(self):
        current = services.policy_for(self.request.user.jurisdiction)
        return {"test_every_months_year1": current.test_every_months[0],
                "test_every_months_year2": current.test_every_months[1],
                "test_every_months_year3": current.test_every_months[2],
                "interview_every_months": current.interview_every_months,
                "home_visit_every_months": current.home_visit_every_months,
                "half_year_summary": current.half_year_summary, "yearly_evaluation": current.yearly_evaluation,
                "version": self.object.version if self.object else None}

    def perform(self, form):
        values = {name: form.cleaned_data[name] for name in services.POLICY_FIELDS}
        services.do_set_check_in_policy(self.request.user.jurisdiction, acting_user=self.request.user,
                                        expected_version=form.cleaned_data["version"], **values)
        return "persons:policy"


class RiskModelView(_AreaSettingsView):
    capability = gettext_lazy("Risk model")
    model = RiskModel
    form_class = RiskModelForm
    title = gettext_lazy("Risk model")
    intro = gettext_lazy("Points per factor and the thresholds of the levels; the monthly assessment and every "
                         "relevant event use them from now on.")

    def get_initial(self):
        weights, high, medium = services.risk_model_for(self.request.user.jurisdiction)
        initial = {f"weight_{name}": value for name, value in weights.items()}
        return initial | {"high": high, "medium": medium, "version": self.object.version if self.object else None}

    def perform(self, form):
        services.do_set_risk_model(self.request.user.jurisdiction, acting_user=self.request.user,
                                   weights=form.weights(), high=form.cleaned_data["high"],
                                   medium=form.cleaned_data["medium"], expected_version=form.cleaned_data["version"])
        return "persons:risk_model"


# --- ledger import (台账导入) ---------------------------------------------------------------------

PREVIEW_ROWS = 8
PREVIEW_BLANK_ROWS = 200  # blank rows the preview looks past after the header
SHOWN_PROBLEMS = 200


class LedgerUploadView(ServiceFormView):
    required_roles = services.WRITER_ROLES
    capability = gettext_lazy("Import a ledger")
    template_name = "persons/import_upload.html"
    form_class = LedgerUploadForm
    title = gettext_lazy("Import a ledger")
    success_message = gettext_lazy("File received: check the columns, then run the check.")

    def get_form_kwargs(self):
        return {"acting_user": self.request.user}

    def render_form(self, form, status=200):
        recent = LedgerImport.objects.visible_to(self.request.user).select_related("created_by", "jurisdiction")[:10]
        return render(self.request, self.template_name, {
            "form": form, "title": self.get_title(), "recent": recent, "cancel_url": reverse("persons:list")},
            status=status)

    def perform(self, form):
        upload = form.cleaned_data["file"]
        imported = services.do_upload_ledger(
            acting_user=self.request.user, jurisdiction=form.cleaned_data["jurisdiction"], filename=upload.name,
            data=upload.read(), skip_invalid=form.cleaned_data["skip_invalid"])
        return imported.get_absolute_url()


def _preview(upload: LedgerImport, table: list[list]) -> list[list[str]]:
    """The first data rows as the user typed them; ID numbers and phones masked."""
    from persons.importers import text_of

    masks = {int(i): mask_id_number if key == "id_number" else mask_phone
             for i, key in upload.mapping.items() if key in ("id_number", "phone", "family_contacts")}
    rows = []
    for cells in table[upload.header_row:]:
        texts = [text_of(c) for c in cells]
        if not any(texts):
            continue
        rows.append([masks[i](t) if i in masks and t else t for i, t in enumerate(texts)])
        if len(rows) == PREVIEW_ROWS:
            break
    return rows


class LedgerImportView(RoleRequiredMixin, TemplateView):
    """One uploaded ledger: columns and preview, the check's report, the import, the progress."""

    required_roles = services.WRITER_ROLES
    capability = gettext_lazy("Import a ledger")
    template_name = "persons/import_detail.html"

    def get_object(self) -> LedgerImport:
        return get_object_or_404(LedgerImport.objects.visible_to(self.request.user).select_related(
            "jurisdiction", "created_by"), pk=self.kwargs["pk"])

    def _form(self, upload, table, data=None):
        from persons.importers import text_of

        headers = [text_of(c) for c in table[upload.header_row - 1]] if upload.header_row <= len(table) else []
        initial = {"header_row": upload.header_row, "skip_invalid": upload.skip_invalid, "version": upload.version}
        initial |= {f"column_{i}": key for i, key in upload.mapping.items()}
        return LedgerMappingForm(data, headers=headers, initial=initial)

    def _table(self, upload) -> list[list]:
        """The kept file's rows down to the preview (the rest stays in the reading child), or
        none with the reason shown."""
        from django.contrib import messages

        from core.importing import FileRejected

        if not upload.content:
            return []
        try:
            return services.ledger_head(upload, upload.header_row + PREVIEW_ROWS + PREVIEW_BLANK_ROWS)[0]
        except FileRejected as refused:
            messages.error(self.request, refused.errors[0].message)
            return []

    def _render(self, upload, form=None, table=None, status=200):
        if table is None:
            table = self._table(upload)
        result = upload.result or {}
        context = {
            "upload": upload, "title": upload.filename, "form": form or self._form(upload, table),
            "preview": _preview(upload, table) if table else [], "result": result,
            "rejected": result.get("rejected", [])[:SHOWN_PROBLEMS],
            "warnings": result.get("warnings", [])[:SHOWN_PROBLEMS],
            "rejected_rows": len({e["row"] for e in result.get("rejected", [])}),
            "more_problems": max(len(result.get("rejected", [])), len(result.get("warnings", []))) > SHOWN_PROBLEMS,
            "editable": not upload.running and upload.state != LedgerImport.State.DONE and bool(upload.content),
            "can_import": upload.state == LedgerImport.State.CHECKED and (
                not result.get("rejected") or upload.skip_invalid),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        upload = self.get_object()
        from core import audit

        audit.record(AuditEntry.Action.VIEW, actor=request.user, obj=upload)
        return self._render(upload)

    def post(self, request, *args, **kwargs):
        from django.core.exceptions import ValidationError
        from django.shortcuts import redirect

        from core.views import apply_errors

        upload = self.get_object()
        action = request.POST.get("action", "check")
        table = self._table(upload)
        form = self._form(upload, table, request.POST)
        try:
            if action in ("save", "check"):
                if not form.is_valid():
                    return self._render(upload, form, table, status=400)
                services.do_set_ledger_mapping(
                    upload, acting_user=request.user, header_row=form.cleaned_data["header_row"],
                    mapping=form.mapping(), skip_invalid=form.cleaned_data["skip_invalid"],
                    expected_version=form.cleaned_data["version"])
            if action in ("check", "import"):
                services.do_start_ledger_run(upload, acting_user=request.user, dry_run=action == "check")
        except ValidationError as error:
            apply_errors(form, error)
            status = 409 if any(e.code == "conflict" for e in getattr(error, "error_list", [])) else 400
            return self._render(self.get_object(), form, table, status=status)
        except PermissionError as error:
            form.add_error(None, str(error))
            return self._render(upload, form, table, status=403)
        return redirect(upload.get_absolute_url())


class LedgerProgressView(RoleRequiredMixin, TemplateView):
    """Polled by the page while the task runs; asks the page to reload when it is over."""

    required_roles = services.WRITER_ROLES
    capability = gettext_lazy("Import a ledger")
    template_name = "persons/_import_progress.html"

    def get(self, request, *args, **kwargs):
        from django.http import HttpResponse

        upload = get_object_or_404(LedgerImport.objects.visible_to(request.user).only(
            "pk", "state", "progress", "phase", "jurisdiction__path", "created_by"), pk=kwargs["pk"])
        if not upload.running:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, self.template_name, {"upload": upload})


class LedgerReportView(RoleRequiredMixin, View):
    """The user's own file back, with a 错误原因 column on every rejected row (audited)."""

    required_roles = services.WRITER_ROLES
    capability = gettext_lazy("Import a ledger")

    def get(self, request, *args, **kwargs):
        from django.http import Http404, HttpResponse

        from core import audit, exports
        from core.importing import FileRejected, RowError, annotate

        upload = get_object_or_404(LedgerImport.objects.visible_to(request.user), pk=kwargs["pk"])
        rejected = [RowError(**e) for e in (upload.result or {}).get("rejected", [])]
        if not upload.content:
            raise Http404
        try:
            content, name = annotate(upload.data(), upload.filename, upload.header_row, rejected,
                                     sheet_index=upload.sheet_index)
        except FileRejected as refused:  # written in a child within limits (core.importing.in_child)
            from django.contrib import messages
            from django.shortcuts import redirect

            messages.error(request, refused.errors[0].message)
            return redirect(upload.get_absolute_url())
        audit.record(AuditEntry.Action.EXPORT, actor=request.user, obj=upload, changes={
            "report": name, "rejected_rows": len({e.row for e in rejected})})
        kind = ("text/csv" if name.endswith(".csv")
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = exports.attachment(name)
        return response
