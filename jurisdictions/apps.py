from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JurisdictionsConfig(AppConfig):
    name = "jurisdictions"
    verbose_name = _("Jurisdictions")

    def ready(self):
        from core.navigation import MenuItem, register_admin_item
        from core.roles import ALL_ROLES

        register_admin_item(MenuItem(_("Jurisdictions"), "jurisdictions:list", ALL_ROLES))

        from core import importing
        from jurisdictions import cli

        importing.register(importing.ImportKind(
            "jurisdictions", "jurisdiction tree from CSV (code,name,level,parent_code)",
            cli.add_arguments, cli.handle))
