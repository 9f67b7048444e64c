from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import PickerSelect
from monitoring.choices import Comparison


def indicator_choices(with_direction_only: bool = False):
    from monitoring.indicators import INDICATORS

    return [(code, f"{i.name}（{i.unit}）") for code, i in INDICATORS.items()
            if not with_direction_only or i.higher_is_better is not None]


def area_choices(user, levels=None):
    """Jurisdictions of the user's area (codes), for the office's entry forms."""
    from jurisdictions.models import Jurisdiction

    nodes = Jurisdiction.objects.visible_to(user).select_related("parent").order_by("path")
    if levels:
        nodes = nodes.filter(level__in=levels)
    own = user.jurisdiction.pk if user.jurisdiction else None
    # Each under its parent ("示范县 / 青山镇"), the user's own area by its name.
    return [(n.code, n.name if n.pk == own else n.picker_label) for n in nodes]


class TargetForm(forms.Form):
    """A yearly target (monitoring.services.do_set_target); empty clears the area's own target."""

    value = forms.DecimalField(label=_("target value"), required=False, max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PopulationForm(forms.Form):
    jurisdiction = forms.ChoiceField(label=_("jurisdiction"), widget=PickerSelect)
    year = forms.IntegerField(label=_("year"))
    population = forms.IntegerField(label=_("population"))
    source = forms.CharField(label=_("source"), max_length=200, required=False,
                             help_text=_("e.g. the statistical yearbook or the census"))

    def __init__(self, *args, user=None, **kwargs):
        from monitoring.indicators import POPULATION_LEVELS

        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = area_choices(user, POPULATION_LEVELS)


class ThresholdForm(forms.Form):
    indicator = forms.ChoiceField(label=_("indicator"))
    jurisdiction = forms.ChoiceField(label=_("jurisdiction"), widget=PickerSelect,
                                     help_text=_("Checked on this area and on each area directly below it."))
    comparison = forms.ChoiceField(label=_("comparison"), choices=Comparison.choices)
    value = forms.DecimalField(label=_("threshold"), max_digits=14, decimal_places=2)
    active = forms.BooleanField(label=_("active"), required=False, initial=True)
    note = forms.CharField(label=_("note"), max_length=300, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = indicator_choices()
        self.fields["jurisdiction"].choices = area_choices(user)


class MonitoringSettingsForm(forms.Form):
    hidden_ratio = forms.DecimalField(label=_("hidden users per registered user"), max_digits=5, decimal_places=2,
                                      help_text=_("Seed 004 estimates with 1:5: one registered user stands for five."))
    staffing_standard = forms.IntegerField(label=_("persons under community measures per social worker"),
                                           help_text=_("30 by default (SPEC §3.1); some places use 20."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PeriodForm(forms.Form):
    """The period and place a page reads (GET)."""

    period = forms.CharField(label=_("period"), required=False,
                             widget=forms.TextInput(attrs={"placeholder": "2024-06 / 2024-Q2 / 2024"}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data] or super().clean(None, initial)
        return [super().clean(data, initial)]


class BoundaryImportForm(forms.Form):
    """GeoJSON outlines of jurisdictions (monitoring.shapes): one FeatureCollection, or one file
    per jurisdiction named by its code."""

    files = MultipleFileField(label=_("GeoJSON files"), error_messages={"required": _("Choose at least one file.")},
                              widget=MultipleFileInput(attrs={"accept": ".geojson,.json"}),
                            help_text=_("A FeatureCollection whose features carry the jurisdiction code in "
                                        "properties.code (or adcode), or one file per jurisdiction named by its "
                                        "code, e.g. 320101001.geojson. At most 20 files of 10 MB each."))

    MAX_FILES = 20
    MAX_BYTES = 10 * 1024 * 1024

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > self.MAX_FILES:
            raise forms.ValidationError(_("At most %(count)s files at once.") % {"count": self.MAX_FILES})
        for upload in files:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError(_("%(file)s is larger than 10 MB.") % {"file": upload.name})
        return files
