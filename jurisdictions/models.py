from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.roles import ALL_ROLES
from core.scoping import ScopedManager
from jurisdictions.choices import LEVEL_ORDER, Level


class Jurisdiction(BaseModel):
    """A node of the tree 省 → 市 → 县 → 乡镇 → 村 → 网格 (SPEC §2).

    ``path`` is the materialised path of codes (``990000/990100/990101/``), so a subtree is
    one indexed prefix match and the ancestors are the codes in the path.
    """

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    county_code = models.CharField(_("county code"), max_length=6, blank=True, editable=False, db_index=True)

    objects = ScopedManager()
    scope_path = "path"
    scope_roles = ALL_ROLES

    class Meta:
        ordering = ["path"]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        indexes = [models.Index(fields=["path"], name="jurisdiction_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return self.name

    @staticmethod
    def build_path(code: str, parent: "Jurisdiction | None") -> str:
        return f"{parent.path if parent else ''}{code}/"

    @property
    def ancestor_codes(self) -> list[str]:
        return self.path.strip("/").split("/")[:-1]

    def ancestors(self):
        """Ancestors from the root down; not scoped, because names of enclosing areas are not
        personal data and every user needs them for context."""
        return Jurisdiction.objects.filter(code__in=self.ancestor_codes).order_by("depth")

    def descendants(self, include_self=False):
        qs = Jurisdiction.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)

    def is_within(self, other: "Jurisdiction") -> bool:
        return self.path.startswith(other.path)

    @property
    def level_rank(self) -> int:
        return LEVEL_ORDER[self.level]

    @property
    def full_name(self) -> str:
        return "".join(a.name for a in self.ancestors()) + self.name

    @property
    def picker_label(self) -> str:
        """How a picker names the place: under its parent, "青山镇 / 东风村" (select the parent
        with it: ``select_related("parent")``)."""
        return place_label(self.name, self.parent.name if self.parent_id else None)


def place_label(name: str, parent_name: str | None) -> str:
    """A place under its parent, as every jurisdiction picker shows it: "青山镇 / 东风村"."""
    return f"{parent_name} / {name}" if parent_name else name

