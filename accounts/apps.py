from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import signals  # noqa: F401
        from core.navigation import MenuItem, register_admin_item
        from core.roles import Role

        register_admin_item(
            MenuItem(_("Users"), "accounts:user_list", frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICE}))
        )
        register_admin_item(
            MenuItem(_("Member units"), "accounts:member_unit_list", frozenset({Role.SYSTEM_ADMIN, Role.OFFICE}))
        )
