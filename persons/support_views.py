"""Support tasks (帮扶任务, persons.support): given by the office or the township from the person
page, listed for the member unit (我的帮扶任务), closed by either; and the person as a member unit
sees them (what the task needs only)."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.views import ObjectListView
from persons import queries, support
from persons.filtersets import SupportTaskFilterSet
from persons.forms import SupportTaskCloseForm, SupportTaskForm
from persons.models import Support, SupportTask
from persons.tables import SupportTaskTable
from persons.views import _PersonServiceForm

TASK_LIST_ROLES = support.TASK_LIST_ROLES


def task_view_context(user, person) -> dict:
    """The person page of a member unit: the person's name, masked ID number, village and phone
    (revealable, for the visit), its own tasks and support records — no tests, flags, health,
    measures or risk (SPEC §2)."""
    tasks = list(SupportTask.objects.visible_to(user).filter(person=person).select_related("member_unit"))
    records = list(Support.objects.visible_to(user).filter(person=person).select_related("member_unit", "task"))
    return {"place": queries.place_of(person), "tasks": tasks, "support_records": records,
            "can_support": any(task.state == "open" for task in tasks)}


class SupportTaskListView(ObjectListView):
    model = SupportTask
    filterset_class = SupportTaskFilterSet
    table_class = SupportTaskTable
    required_roles = TASK_LIST_ROLES
    title = gettext_lazy("Support tasks")

    def get_queryset(self):
        # Assigners: the tasks of their area; a member unit: its own current ones (the scope).
        return super().get_queryset().select_related("person", "person__jurisdiction",
                                                     "person__jurisdiction__parent", "member_unit")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if support.task_only(self.request.user):
            context["title"] = gettext_lazy("My support tasks")
        return context


class SupportTaskCreateView(_PersonServiceForm):
    required_roles = support.TASK_ASSIGNER_ROLES
    capability = gettext_lazy("Give support tasks")
    form_class = SupportTaskForm
    title = gettext_lazy("Give a support task")
    intro = gettext_lazy("The member unit sees this person while the task is open, and for a month after it is "
                         "closed: the name, the masked ID number, the village, the phone and its own support "
                         "records, nothing else of the file.")
    success_message = gettext_lazy("Support task given.")

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"units": support.units_for(self.object)}

    def get_initial(self):
        return {"due_on": timezone.localdate() + datetime.timedelta(days=30)}

    def perform(self, form):
        data = form.cleaned_data
        support.do_assign_support_task(self.object, data["member_unit"], data["kind"], data["request"],
                                       data["due_on"], acting_user=self.request.user)
        return self.detail_url("#support-tasks")


class SupportTaskCloseView(_PersonServiceForm):
    required_roles = TASK_LIST_ROLES
    capability = gettext_lazy("Close support tasks")
    form_class = SupportTaskCloseForm
    title = gettext_lazy("Close the support task")
    success_message = gettext_lazy("Support task closed.")

    def get_object(self):
        self.task = get_object_or_404(SupportTask.objects.visible_to(self.request.user, roles=TASK_LIST_ROLES)
                                      .select_related("person", "member_unit"), pk=self.kwargs["pk"])
        return self.task.person

    def get_title(self):
        return f"{self.title}：{self.object.name}（{self.task}）"

    def get_initial(self):
        return {"closed_on": timezone.localdate(), "version": self.task.version}

    def extra_context(self):
        return {"task": self.task}

    def perform(self, form):
        data = form.cleaned_data
        support.do_close_support_task(self.task, data["outcome"], closed_on=data["closed_on"],
                                      expected_version=data["version"], acting_user=self.request.user)
        return "persons:support_tasks" if support.task_only(self.request.user) else self.detail_url("#support-tasks")
