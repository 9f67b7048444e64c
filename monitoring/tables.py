import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from monitoring.models import PopulationFigure, Threshold


class PopulationFigureTable(tables.Table):
    jurisdiction = tables.Column(verbose_name=_("jurisdiction"), accessor="jurisdiction__name",
                                 order_by=("jurisdiction__path",))
    year = tables.Column(verbose_name=_("year"))
    population = tables.Column(verbose_name=_("population"))
    source = tables.Column(verbose_name=_("source"), default="")

    class Meta:
        model = PopulationFigure
        fields = ("jurisdiction", "year", "population", "source")
        attrs = {"class": "table table-vcenter card-table table-striped"}
        empty_text = _("No population figure entered yet.")


class ThresholdTable(tables.Table):
    indicator = tables.Column(verbose_name=_("indicator"))
    jurisdiction = tables.Column(verbose_name=_("jurisdiction"), accessor="jurisdiction__name",
                                 order_by=("jurisdiction__path",))
    comparison = tables.Column(verbose_name=_("comparison"))
    value = tables.Column(verbose_name=_("threshold"))
    active = tables.BooleanColumn(verbose_name=_("active"))
    note = tables.Column(verbose_name=_("note"), default="")

    class Meta:
        model = Threshold
        fields = ("indicator", "jurisdiction", "comparison", "value", "active", "note")
        attrs = {"class": "table table-vcenter card-table table-striped"}
        empty_text = _("No threshold set yet.")

    def render_indicator(self, value):
        from monitoring.indicators import INDICATORS

        indicator = INDICATORS.get(value)
        return indicator.name if indicator else value
