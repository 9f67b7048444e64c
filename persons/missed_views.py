"""Explaining missed check-ins (漏检, persons.missed): one form per person, from the today list
or the person page, for all of the person's missed check-ins not yet explained."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from persons import missed
from persons.choices import MissedReason
from persons.forms import text_area
from persons.views import _PersonServiceForm


class MissedExplainForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("why the check-ins were missed"), choices=MissedReason.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": gettext_lazy("Choose why the check-ins were missed.")})
    note = forms.CharField(label=gettext_lazy("note"), max_length=300, required=False, widget=text_area(),
                           help_text=gettext_lazy("Needed for another reason; 拒绝 and 逃避 count as refused "
                                                  "tests (戒毒条例 第二十条)."))
    # The missed check-ins the form showed: a form opened before somebody else explained or
    # recorded one of them is refused (missed.do_explain_missed).
    items = forms.CharField(widget=forms.HiddenInput)

    def clean_items(self):
        try:
            return [int(pk) for pk in self.cleaned_data["items"].split(",") if pk.strip()]
        except ValueError:
            raise ValidationError(_("The list of missed check-ins is not valid: open the page again.")) from None


class MissedExplainView(_PersonServiceForm):
    capability = gettext_lazy("Explain missed check-ins")
    template_name = "persons/missed_form.html"
    form_class = MissedExplainForm
    title = gettext_lazy("Explain the missed check-ins")
    intro = gettext_lazy("A missed check-in stays in the person's record and in the figures as not done; once "
                         "explained it leaves the today list.")
    success_message = ""

    def get_initial(self):
        return {"items": ",".join(str(item.pk) for item in missed.unexplained(self.object))}

    def back(self) -> str:
        """``today`` when the form was opened from the today list: the worker goes back to it."""
        source = self.request.POST if self.request.method == "POST" else self.request.GET
        return "today" if source.get("back") == "today" else ""

    def extra_context(self):
        return {"missed": list(missed.unexplained(self.object)[:100]), "back": self.back()}

    def perform(self, form):
        data = form.cleaned_data
        count = missed.do_explain_missed(self.object, data["items"], data["reason"], data["note"],
                                         acting_user=self.request.user)
        messages.success(self.request, _("%(n)s missed check-ins explained for %(name)s.") % {
            "n": count, "name": self.object.name})
        return reverse("persons:today") if self.back() else self.detail_url("#measure")
