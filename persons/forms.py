"""Forms of the person pages. Each one feeds one service in persons/services.py, which checks
the rules again and writes the audit; a form only turns text into values."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import MaskedInputsMixin
from core.roles import has_any_role
from core.widgets import PickerSelect
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from persons import queries, rules
from persons.choices import (
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FoundHow,
    LivingSituation,
    MeasureKind,
    RiskLevel,
    SampleMethod,
    Substance,
    SupportKind,
)
from persons.models import HEALTH_ROLES


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def text_area(rows=2):
    return forms.Textarea(attrs={"rows": rows})


class IdNumberField(forms.CharField):
    """A resident ID number, cleaned and checked (GB 11643) by persons.rules; 15-digit
    first-generation numbers come back upgraded to 18 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        try:
            return rules.normalise_id_number(value)
        except rules.IdNumberError as error:
            raise ValidationError(str(error), code="invalid") from None


class SectionedForm(forms.Form):
    """A long form shown in titled sections: ``sections = [(title, [field names])]``; fields
    not named in any section come last."""

    sections: list = []
    wide_fields: tuple = ()  # shown across the whole form, their options side by side

    def grouped_fields(self):
        named = set()
        groups = []
        for title, names in self.sections:
            fields = [self[name] for name in names if name in self.fields]
            named.update(names)
            if fields:
                groups.append((title, fields))
        rest = [field for field in self.visible_fields() if field.name not in named]
        if rest:
            groups.append(("", rest))
        return groups


class PersonDatesMixin:
    """Every date field of a form about one person checked by ``rules.date_problems``: nothing
    that happened lies in the future or before the person's birth (``born``, which the view
    passes: persons.views._PersonServiceForm)."""

    def __init__(self, *args, born=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.born = born

    def born_date(self, data):
        return self.born

    def check_dates(self, data) -> None:
        dates = {name: data.get(name) for name, field in self.fields.items() if isinstance(field, forms.DateField)}
        for name, message in rules.date_problems(dates, born=self.born_date(data), today=timezone.localdate()).items():
            if name not in self.errors:
                self.add_error(name, message)

    def clean(self):
        data = super().clean()
        self.check_dates(data)
        return data


HEALTH_FIELDS = ["is_pregnant", "nursing_child_born_on", "hiv_positive", "serious_illness", "mental_disorder"]


class PersonForm(PersonDatesMixin, SectionedForm):
    """A new person file (逐人建档). The village list holds only the user's own area. Dates,
    the phone and the health flags are checked by persons.rules (``check_values``)."""

    name = forms.CharField(label=_("full name"), max_length=50)
    id_number = IdNumberField(label=_("ID number"), help_text=_(
        "18 digits (a 15-digit old number is upgraded); sex and birth date are read from it."))
    jurisdiction = forms.TypedChoiceField(label=_("village"), coerce=int, choices=[], widget=PickerSelect)
    grid = forms.TypedChoiceField(label=_("grid"), coerce=int, choices=[], required=False, empty_value=None)
    control_status = forms.ChoiceField(label=_("control status"), choices=ControlStatus.choices)
    control_status_since = forms.DateField(label=_("status since"), widget=date_input())
    document_number = forms.CharField(label=_("document number"), max_length=100, required=False,
                                      help_text=_("The decision or notice behind the status, if any."))
    substances = forms.MultipleChoiceField(label=_("substances"), choices=Substance.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    registered_residence = forms.CharField(label=_("registered residence"), max_length=200, required=False)
    current_address = forms.CharField(label=_("current address"), max_length=200, required=False)
    first_found_on = forms.DateField(label=_("first found"), required=False, widget=date_input())
    first_found_approximate = forms.BooleanField(label=_("first-found date approximate"), required=False)
    found_how = forms.ChoiceField(label=_("how found"), choices=[("", "—"), *FoundHow.choices], required=False)
    living_situation = forms.ChoiceField(label=_("job and home"), choices=[("", "—"), *LivingSituation.choices],
                                         required=False)
    is_pregnant = forms.BooleanField(label=_("pregnant"), required=False)
    nursing_child_born_on = forms.DateField(label=_("nursing a child born on"), required=False, widget=date_input())
    hiv_positive = forms.BooleanField(label=_("HIV positive"), required=False)
    serious_illness = forms.BooleanField(label=_("disability or serious illness"), required=False)
    mental_disorder = forms.BooleanField(label=_("mental disorder"), required=False)
    violence_history = forms.BooleanField(label=_("history of violence"), required=False)
    drug_driving_history = forms.BooleanField(label=_("history of drug driving"), required=False)
    # Unknown unless someone says (issue 20): "未知 / 是 / 否", the risk score counts only a "否".
    family_support = forms.NullBooleanField(label=_("family support"), required=False)
    family_contacts = forms.CharField(label=_("family contacts"), required=False, widget=text_area())
    assigned_worker = forms.ModelChoiceField(label=_("social worker"), queryset=None, required=False,
                                             empty_label=_("None"))
    notes = forms.CharField(label=_("notes"), required=False, widget=text_area(3))
    # The community measure behind a 社区戒毒/社区康复 status, opened with the file so its clocks
    # and check-in plan run from the real dates; left empty, the file waits in 待补录措施.
    measure_decided_on = forms.DateField(label=_("decided on"), required=False, widget=date_input(), help_text=_(
        "For community treatment or rehabilitation. Empty: the file waits in the list of measures to record."))
    measure_reported_on = forms.DateField(label=_("reported in on"), required=False, widget=date_input(),
                                          help_text=_("Empty: not reported in yet (the 15-day deadline runs)."))
    measure_starts_on = forms.DateField(label=_("Start of execution"), required=False, widget=date_input(),
                                        help_text=_("Empty: from the report-in."))

    MEASURE_FIELDS = {"measure_decided_on": "decided_on", "measure_reported_on": "reported_on",
                      "measure_starts_on": "starts_on"}

    sections = [
        (_("Identity"), ["name", "id_number", "phone"]),
        (_("Place"), ["jurisdiction", "grid", "registered_residence", "current_address", "living_situation"]),
        (_("Control status"), ["control_status", "control_status_since", "document_number", "assigned_worker",
                               "first_found_on", "found_how", "first_found_approximate", "substances"]),
        (_("Community measure"), list(MEASURE_FIELDS)),
        (_("Health (seen only by those who work with the person)"), HEALTH_FIELDS),
        (_("Risk factors and family"), ["violence_history", "drug_driving_history", "family_support",
                                         "family_contacts"]),
    ]
    wide_fields = ("substances", "notes")

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        self.fields["jurisdiction"].choices = [("", _("Choose…")), *queries.village_choices(acting_user)]
        self.fields["grid"].choices = [("", _("None")), *queries.grid_choices(acting_user)]
        self.fields["assigned_worker"].queryset = queries.social_workers_for(acting_user)
        if not has_any_role(acting_user, HEALTH_ROLES):
            for name in HEALTH_FIELDS:
                del self.fields[name]

    def _place(self, name):
        pk = self.cleaned_data.get(name)
        if pk is None:
            return None
        # The choices came from the user's area; read the node through the same scope.
        node = Jurisdiction.objects.visible_to(self.acting_user).filter(pk=pk).first()
        if node is None:
            raise ValidationError(_("Choose a place in your area."), code="invalid_choice")
        return node

    def clean_jurisdiction(self):
        return self._place("jurisdiction")

    def clean_grid(self):
        return self._place("grid")

    # An edit form checks the values once its masked inputs are restored (PersonEditForm.clean).
    checks_after_restore = False

    def born_date(self, data):
        return rules.birth_date_of(data["id_number"]) if data.get("id_number") else None

    def sex_of(self, data) -> str | None:
        return rules.sex_of(data["id_number"]) if data.get("id_number") else None

    def clean(self):
        data = super(PersonDatesMixin, self).clean()
        if not self.checks_after_restore:
            self.check_values(data)
        return data

    def sets(self, name, value) -> bool:
        """Whether the form sets ``name`` to a new value (on a new file, every value)."""
        return True

    def check_values(self, data) -> None:
        dates = {name: data.get(name) for name, field in self.fields.items()
                 if isinstance(field, forms.DateField) and self.sets(name, data.get(name))}
        for name, message in rules.date_problems(dates, born=self.born_date(data), today=timezone.localdate()).items():
            if name not in self.errors:
                self.add_error(name, message)
        if data.get("phone") and self.sets("phone", data["phone"]):
            try:
                data["phone"] = rules.normalise_phone(data["phone"])
            except rules.PhoneError as error:
                self.add_error("phone", str(error))
        if "is_pregnant" in self.fields and (self.sets("is_pregnant", data.get("is_pregnant"))
                                             or self.sets("nursing_child_born_on", data.get("nursing_child_born_on"))):
            message = rules.pregnancy_problem(self.sex_of(data), data.get("is_pregnant"),
                                              data.get("nursing_child_born_on"))
            if message:
                self.add_error("is_pregnant" if data.get("is_pregnant") else "nursing_child_born_on", message)
        self.check_measure(data)

    def check_measure(self, data) -> None:
        """The measure's dates (rules.measure_date_problems), only on a community status."""
        days = {key: data.get(name) for name, key in self.MEASURE_FIELDS.items() if name in self.fields}
        if not any(days.values()):
            return
        if data.get("control_status") not in queries.COMMUNITY_MEASURES:
            self.add_error("measure_decided_on", _("Only a file under community treatment or rehabilitation "
                                                   "has these dates."))
            return
        problems = rules.measure_date_problems(days["decided_on"], days["reported_on"], days["starts_on"],
                                               timezone.localdate())
        for name, key in self.MEASURE_FIELDS.items():
            if key in problems and name not in self.errors:
                self.add_error(name, problems[key])

    def measure(self) -> dict | None:
        """The community measure to open with the file, as do_record_missing_measure takes it."""
        data = self.cleaned_data
        if data.get("control_status") not in queries.COMMUNITY_MEASURES or not data.get("measure_decided_on"):
            return None
        return {"kind": queries.COMMUNITY_MEASURES[data["control_status"]], "decided_on": data["measure_decided_on"],
                "reported_on": data.get("measure_reported_on"), "starts_on": data.get("measure_starts_on"),
                "decision_number": data.get("document_number", "")}

    def person_fields(self) -> dict:
        """The cleaned values the services take as person fields."""
        skip = {"id_number", "name", "jurisdiction", "grid", "control_status", "control_status_since",
                "document_number", "substances", "version", *self.MEASURE_FIELDS}
        return {name: value for name, value in self.cleaned_data.items() if name not in skip}


class PersonEditForm(MaskedInputsMixin, PersonForm):
    """The file as stored; its phone and the numbers in its family contacts masked as the person
    page masks them (Person.masked_fields, core.forms.MaskedInputsMixin)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    MASKED_INPUTS = ("phone", "family_contacts")
    checks_after_restore = True

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        for name in ("id_number", "control_status", "control_status_since", "document_number",
                     *self.MEASURE_FIELDS):  # a measure is recorded on the file's page
            del self.fields[name]
        self.mask_inputs(person, self.acting_user)

    def born_date(self, data):
        return self.person.birth_date

    def sex_of(self, data) -> str:
        return self.person.sex

    def sets(self, name, value) -> bool:
        """An old file's value kept as it is does not block the edit (services._check_person_values)."""
        return getattr(self.person, name) != value

    def clean(self):
        data = super().clean()  # the masked values restored
        self.check_values(data)
        return data


class StatusForm(PersonDatesMixin, forms.Form):
    status = forms.ChoiceField(label=_("control status"), choices=ControlStatus.choices)
    changed_on = forms.DateField(label=_("date"), widget=date_input())
    document_number = forms.CharField(label=_("document number"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), max_length=500, required=False, widget=text_area())


class MeasureForm(PersonDatesMixin, forms.Form):
    kind = forms.ChoiceField(label=_("measure"), choices=MeasureKind.choices)
    decided_on = forms.DateField(label=_("decided on"), widget=date_input())
    decision_number = forms.CharField(label=_("decision number"), max_length=100)
    deciding_authority = forms.CharField(label=_("deciding authority"), max_length=100, required=False)
    term_months = forms.IntegerField(label=_("term (months)"), min_value=1, max_value=36, required=False,
                                     help_text=_("Empty: the legal term (community measures 36 months, "
                                                 "compulsory treatment 24)."))



class MissingMeasureForm(PersonDatesMixin, forms.Form):
    """待补录措施: a community measure recorded for a file that has the status but no measure;
    the dates are checked by the service (rules.measure_date_problems)."""

    kind = forms.ChoiceField(label=_("measure"), choices=[
        (k, label) for k, label in MeasureKind.choices if k != MeasureKind.COMPULSORY_TREATMENT])
    decided_on = forms.DateField(label=_("decided on"), widget=date_input())
    reported_on = forms.DateField(label=_("reported in on"), widget=date_input(), required=False,
                                  help_text=_("Empty: not reported in yet (the 15-day deadline runs)."))
    starts_on = forms.DateField(label=_("Start of execution"), widget=date_input(), required=False,
                                help_text=_("Empty: from the report-in."))
    decision_number = forms.CharField(label=_("decision number"), max_length=100, required=False)


class ReportInForm(PersonDatesMixin, forms.Form):
    reported_on = forms.DateField(label=_("reported in on"), widget=date_input())


class EndMeasureForm(PersonDatesMixin, forms.Form):
    OUTCOMES = [("completed", _("Completed its term")), ("terminated", _("Ended early"))]

    ended_on = forms.DateField(label=_("ended on"), widget=date_input())
    outcome = forms.ChoiceField(label=_("outcome"), choices=OUTCOMES, widget=forms.RadioSelect, initial="completed")
    reason = forms.CharField(label=_("end reason"), max_length=200, required=False)
    termination_notice_on = forms.DateField(label=_("termination notice sent"), required=False, widget=date_input())
    next_status = forms.ChoiceField(label=_("control status afterwards"), required=False,
                                    choices=[("", _("Unchanged")), *ControlStatus.choices])

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "terminated" and not data.get("reason", "").strip():
            self.add_error("reason", _("Say why the measure ended early."))
        return data


class CheckInForm(PersonDatesMixin, forms.Form):
    """One short form per kind of check-in: the kind is chosen above the form (links), so a
    phone shows only the fields that kind needs, without any script."""

    kind = forms.ChoiceField(choices=CheckInKind.choices, widget=forms.HiddenInput)
    occurred_on = forms.DateField(label=_("date"), widget=date_input())
    result = forms.ChoiceField(label=_("result"), choices=DrugTestResult.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label=_("method"), choices=SampleMethod.choices, widget=forms.RadioSelect,
                               required=False, help_text=_("Not needed when the test was refused or evaded."))
    substance = forms.ChoiceField(label=_("substance found"), choices=[("", "—"), *Substance.choices],
                                  required=False, help_text=_("Only for a positive test."))
    returned_on = forms.DateField(label=_("returned on"), required=False, widget=date_input(),
                                  help_text=_("Empty while the person has not come back."))
    notes = forms.CharField(label=_("notes"), required=False, widget=text_area())

    FIELDS_BY_KIND = {
        CheckInKind.DRUG_TEST: ["occurred_on", "result", "method", "substance", "notes"],
        CheckInKind.DEPARTURE: ["occurred_on", "returned_on", "notes"],
    }
    DEFAULT_FIELDS = ["occurred_on", "notes"]

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = {"kind", *self.FIELDS_BY_KIND.get(kind, self.DEFAULT_FIELDS)}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if kind == CheckInKind.DEPARTURE:
            self.fields["occurred_on"].label = _("left on")
        if kind in rules.NOTES_REQUIRED:
            self.fields["notes"].help_text = _("What was said or seen, at least %(n)s characters.") % {
                "n": rules.MIN_NOTES}

    def clean(self):
        data = super().clean()
        if data.get("kind") != self.kind:
            raise ValidationError(_("Choose the kind of check-in again."))
        message = rules.notes_problem(self.kind, data.get("notes", ""))
        if message and "notes" in self.fields:
            self.add_error("notes", message)
        if self.kind == CheckInKind.DRUG_TEST and data.get("result"):
            if data["result"] == DrugTestResult.POSITIVE and not data.get("substance"):
                self.add_error("substance", _("A positive test needs the substance found."))
            if data["result"] != DrugTestResult.REFUSED and not data.get("method"):
                self.add_error("method", _("Choose how the sample was taken."))
        return data


class FlagDecideForm(forms.Form):
    decision = forms.CharField(label=_("decision taken"), max_length=300,
                               widget=forms.TextInput(attrs={"placeholder": _("e.g. compulsory treatment ordered")}))
    document_number = forms.CharField(label=_("document number"), max_length=100, required=False,
                                      widget=forms.TextInput(attrs={"placeholder": _("document number")}))


class FlagDismissForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300, min_length=4,
                             widget=forms.TextInput(attrs={"placeholder": _("why the flag does not apply")}))


class HandOverForm(PersonDatesMixin, forms.Form):
    """异地执行: hand the person over to another township of this installation's tree
    (queries.hand_over_choices; rules.hand_over_error says why any other place is refused)."""

    to_jurisdiction = forms.TypedChoiceField(
        label=_("receiving township"), coerce=int, choices=[], widget=PickerSelect,
        error_messages={"required": _("Choose the receiving township."),
                        "invalid_choice": _("Choose the receiving township from the list: only another township "
                                            "of this system can receive the person.")})
    reason = forms.CharField(label=_("reason"), max_length=300)
    handed_over_on = forms.DateField(label=_("handed over on"), widget=date_input())

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_jurisdiction"].choices = [("", _("Choose…")), *queries.hand_over_choices(person)]

    def clean_to_jurisdiction(self):
        return Jurisdiction.objects.get(pk=self.cleaned_data["to_jurisdiction"])


class TransferReceiptForm(PersonDatesMixin, forms.Form):
    acknowledged_on = forms.DateField(label=_("received on"), widget=date_input())


class TransferCancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300, required=False)


class TransferRefuseForm(forms.Form):
    reason = forms.CharField(label=_("reason for refusing"), max_length=300, widget=text_area(),
                             error_messages={"required": _("Give the reason for refusing the transfer.")})


class SupportForm(PersonDatesMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=SupportKind.choices)
    provided_on = forms.DateField(label=_("date"), widget=date_input())
    description = forms.CharField(label=_("description"), max_length=500, widget=text_area())


class SupportTaskForm(PersonDatesMixin, forms.Form):
    """A support task for one person (persons.support.do_assign_support_task): the member units
    offered are those of the person's area."""

    member_unit = forms.ModelChoiceField(label=_("member unit"), queryset=None)
    kind = forms.ChoiceField(label=_("kind"), choices=SupportKind.choices)
    request = forms.CharField(label=_("what is asked"), max_length=500, widget=text_area())
    due_on = forms.DateField(label=_("due on"), widget=date_input())

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_unit"].queryset = units


class SupportTaskCloseForm(PersonDatesMixin, forms.Form):
    outcome = forms.CharField(label=_("outcome"), max_length=500, widget=text_area())
    closed_on = forms.DateField(label=_("closed on"), widget=date_input())
    version = forms.IntegerField(widget=forms.HiddenInput)


class RiskOverrideForm(forms.Form):
    level = forms.ChoiceField(label=_("level"), choices=RiskLevel.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("override reason"), max_length=300, min_length=4, widget=text_area())


class CheckInPolicyForm(forms.Form):
    """How often check-ins are due in the office's area (persons.services.do_set_check_in_policy)."""

    test_every_months_year1 = forms.IntegerField(label=_("Drug test every … months in year 1"), min_value=1,
                                                 max_value=12)
    test_every_months_year2 = forms.IntegerField(label=_("Drug test every … months in year 2"), min_value=1,
                                                 max_value=12)
    test_every_months_year3 = forms.IntegerField(label=_("Drug test every … months in year 3"), min_value=1,
                                                 max_value=12)
    interview_every_months = forms.IntegerField(label=_("Interview every … months"), min_value=1, max_value=12)
    home_visit_every_months = forms.IntegerField(label=_("Home visit every … months (0: none)"), min_value=0,
                                                 max_value=12)
    half_year_summary = forms.BooleanField(label=_("Half-year summary"), required=False)
    yearly_evaluation = forms.BooleanField(label=_("Yearly evaluation"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RiskModelForm(forms.Form):
    """Points per risk factor and the level thresholds (persons.services.do_set_risk_model)."""

    high = forms.IntegerField(label=_("High risk from (points)"), min_value=1, max_value=1000)
    medium = forms.IntegerField(label=_("Medium risk from (points)"), min_value=1, max_value=1000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in rules.DEFAULT_RISK_WEIGHTS:
            self.fields[f"weight_{name}"] = forms.IntegerField(
                label=rules.RISK_FACTOR_LABELS.get(name, name), min_value=0, max_value=100,
                help_text=_("Default: %(points)s") % {"points": rules.DEFAULT_RISK_WEIGHTS[name]})

    def weights(self) -> dict:
        return {name: self.cleaned_data[f"weight_{name}"] for name in rules.DEFAULT_RISK_WEIGHTS}


class LedgerUploadForm(forms.Form):
    file = forms.FileField(label=_("Ledger file"), help_text=_(
        "Excel (xlsx, xls) or CSV as your office keeps it: title lines, merged cells and a 合计 line are fine."))
    jurisdiction = forms.ChoiceField(label=_("The ledger belongs to"), widget=PickerSelect, help_text=_(
        "Villages in the file are looked up within this area."))
    skip_invalid = forms.BooleanField(label=_("Import the valid rows and skip the rejected ones"), required=False,
                                      help_text=_("Otherwise a ledger with any rejected row imports nothing."))

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        own = acting_user.jurisdiction
        choices = list(queries.area_choices(acting_user))
        if own is not None and own.level not in (Level.TOWNSHIP, Level.VILLAGE):
            choices.insert(0, ("", [(own.code, _("%(name)s (whole area)") % {"name": own.name})]))
        self.fields["jurisdiction"].choices = choices
        if own is not None:
            self.fields["jurisdiction"].initial = own.code

    def clean_file(self):
        """Refused by its size before it is read into the web process's memory."""
        from persons.services import MAX_LEDGER_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_LEDGER_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB: split it.") % {
                "mb": MAX_LEDGER_BYTES // 1024 // 1024})
        return upload

    def clean_jurisdiction(self):
        found = Jurisdiction.objects.filter(code=self.cleaned_data["jurisdiction"]).first()
        if found is None:
            raise forms.ValidationError(_("Choose an area."))
        return found


class LedgerMappingForm(forms.Form):
    """The header row and, per column of the file, the field it holds (editable when a header
    was not recognised)."""

    header_row = forms.IntegerField(label=_("Header row"), min_value=1)
    skip_invalid = forms.BooleanField(label=_("Import the valid rows and skip the rejected ones"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        from persons.importers import COLUMNS

        choices = [("", _("— not imported —"))] + [(key, label) for key, (label, _names) in COLUMNS.items()]
        self.columns = []
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(label=header or _("(column %(n)s without a header)") % {"n": index + 1},
                                                  choices=choices, required=False)
            self.columns.append((index, name))

    def column_fields(self):
        return [(index, self[name]) for index, name in self.columns]

    def mapping(self) -> dict[int, str]:
        return {index: self.cleaned_data.get(name) or "" for index, name in self.columns}
