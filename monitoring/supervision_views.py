"""督办 pages (monitoring.supervision): the office's assign form, reached from an area's row of
the alert centre; the township's answer form; the office's close button."""

import datetime

from django import forms
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.views import ServiceFormView
from core.widgets import PickerSelect
from monitoring import rules, supervision
from monitoring.models import AlertAssignment


class AssignForm(forms.Form):
    jurisdiction = forms.TypedChoiceField(label=gettext_lazy("township"), coerce=int, choices=[], widget=PickerSelect,
                                          error_messages={"invalid_choice": gettext_lazy("Choose a township of "
                                                                                         "your area.")})
    kind = forms.ChoiceField(label=gettext_lazy("kind of alert"), choices=AlertAssignment.Kind.choices)
    request = forms.CharField(label=gettext_lazy("what the township is asked to do"), max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=gettext_lazy("due on"),
                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", "——"), *supervision.township_choices(user)]

    def clean_jurisdiction(self):
        from jurisdictions.models import Jurisdiction

        return Jurisdiction.objects.get(pk=self.cleaned_data["jurisdiction"])

    def clean_due_on(self):
        value = self.cleaned_data["due_on"]
        if rules.due_date_passed(value, timezone.localdate()):
            raise forms.ValidationError(supervision.DUE_DATE_PASSED)
        return value


class AnswerForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("what was done"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 4}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class _SupervisionForm(ServiceFormView):
    def render_form(self, form, status=200):
        return render(self.request, self.template_name, {
            "form": form, "title": self.get_title(), "intro": self.intro, "object": self.object,
            "submit_label": self.submit_label,
            "cancel_url": reverse("monitoring:alerts") + "#assignments"}, status=status)

    def done(self) -> str:
        return reverse("monitoring:alerts") + "#assignments"


class AssignView(_SupervisionForm):
    required_roles = supervision.ASSIGNER_ROLES
    capability = gettext_lazy("Assign alerts to townships")
    form_class = AssignForm
    title = gettext_lazy("Assign to a township (督办)")
    intro = gettext_lazy("The township sees the assignment in its alert centre and answers what it did; you close "
                         "it. Past its due date unanswered, it shows as overdue.")
    success_message = gettext_lazy("Assigned to the township.")
    submit_label = gettext_lazy("Assign")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_initial(self):
        kind = self.request.GET.get("kind", "")
        return {"jurisdiction": self.request.GET.get("jurisdiction"), "due_on": timezone.localdate()
                + datetime.timedelta(days=7), "kind": kind if kind in AlertAssignment.Kind.values else "",
                "request": self.request.GET.get("request", "")[:500]}

    def perform(self, form):
        data = form.cleaned_data
        supervision.do_assign_alert(data["jurisdiction"], data["kind"], data["request"], data["due_on"],
                                    acting_user=self.request.user)
        return self.done()


class AnswerView(_SupervisionForm):
    required_roles = supervision.ANSWER_ROLES
    capability = gettext_lazy("Answer assignments")
    form_class = AnswerForm
    title = gettext_lazy("Answer the assignment")
    success_message = gettext_lazy("Answer sent to the office.")
    submit_label = gettext_lazy("Send the answer")

    def get_object(self):
        return get_object_or_404(AlertAssignment.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    @property
    def intro(self):
        return f"{self.object.get_kind_display()}：{self.object.request}（{self.object.due_on:%Y-%m-%d}）"

    def get_initial(self):
        return {"answer": self.object.answer, "version": self.object.version}

    def perform(self, form):
        supervision.do_answer_alert(self.object, form.cleaned_data["answer"], acting_user=self.request.user,
                                    expected_version=form.cleaned_data["version"])
        return self.done()


class CloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CloseView(_SupervisionForm):
    required_roles = supervision.ASSIGNER_ROLES
    capability = gettext_lazy("Close assignments")
    form_class = CloseForm
    title = gettext_lazy("Close the assignment")
    success_message = gettext_lazy("Assignment closed.")
    submit_label = gettext_lazy("Close (办结)")

    def get_object(self):
        return get_object_or_404(AlertAssignment.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    @property
    def intro(self):
        answer = self.object.answer or "—"
        return f"{self.object.jurisdiction.name}：{self.object.request} → {answer}"

    def get_initial(self):
        return {"version": self.object.version}

    def perform(self, form):
        supervision.do_close_alert(self.object, acting_user=self.request.user,
                                   expected_version=form.cleaned_data["version"])
        return self.done()
