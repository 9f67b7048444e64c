import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from jurisdictions.models import Jurisdiction


class JurisdictionTable(tables.Table):
    code = tables.Column(verbose_name=_("code"), linkify=("jurisdictions:detail", {"code": tables.A("code")}))
    name = tables.Column(verbose_name=_("name"), linkify=("jurisdictions:detail", {"code": tables.A("code")}))
    level = tables.Column(verbose_name=_("level"))
    parent = tables.Column(verbose_name=_("parent"), accessor="parent__name", default="—")

    class Meta:
        model = Jurisdiction
        fields = ("code", "name", "level", "parent")
        attrs = {"class": "table table-vcenter card-table table-striped"}
