"""core.models.ChoiceLabels: get_FOO_display gives what Django's gives, in the active language."""

from django.db import models
from django.utils import translation

from core.models import AuditEntry
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction


def test_labels_as_django_gives_them_in_the_active_language():
    node = Jurisdiction(level=Level.COUNTY)
    entry = AuditEntry(action=AuditEntry.Action.VIEW)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for obj, field in ((node, "level"), (entry, "action")):
                label = getattr(obj, f"get_{field}_display")()
                assert label == models.Model._get_FIELD_display(obj, obj._meta.get_field(field))
                assert type(label) is str
    with translation.override("zh-hans"):
        chinese = node.get_level_display()
    with translation.override("en"):
        assert node.get_level_display() != chinese  # the dict keeps the labels lazy
    node.level = "no-such-level"
    assert node.get_level_display() == "no-such-level"  # a value outside the choices shows as is
