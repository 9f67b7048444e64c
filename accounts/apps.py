from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import services, signals  # noqa: F401
        from core import sweep

        sweep.register("login_failures", services.prune_login_failures)
        from core.navigation import MenuItem, register_admin_item
        from core.roles import Role

        register_admin_item(
            MenuItem(_("Users"), "accounts:user_list", frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICE}))
        )
        register_admin_item(MenuItem(_("Login and session policy"), "accounts:policy",
                                     frozenset({Role.SECURITY_ADMIN})))
        register_admin_item(
            MenuItem(_("Member units"), "accounts:member_unit_list", frozenset({Role.SYSTEM_ADMIN, Role.OFFICE}))
        )
