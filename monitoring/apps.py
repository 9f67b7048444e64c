from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Drug-situation monitoring")

    def ready(self):
        # dashboards: the dashboard in the menu, `jindu import shapes FILE.geojson` for the map
        from core import importing
        from core.navigation import MenuItem, register_item
        from monitoring import dashboards, shapes

        register_item("monitoring", MenuItem(_("Dashboard"), "monitoring:dashboard", dashboards.DASHBOARD_ROLES))
        from core.navigation import register_admin_item
        from core.roles import Role

        register_admin_item(MenuItem(_("Import jurisdiction boundaries"), "monitoring:boundaries",
                                     frozenset({Role.SYSTEM_ADMIN})))
        importing.register(importing.ImportKind(
            "shapes", "jurisdiction outlines from GeoJSON (properties.code = jurisdiction code)",
            shapes.add_arguments, shapes.handle))
        # end dashboards

        # indicators: the alert centre and the office's entry pages, after the dashboard
        from core.navigation import MenuItem, register_item  # noqa: F811 (each block stands alone)
        from core.roles import Role
        from monitoring.models import READER_ROLES

        office = frozenset({Role.OFFICE})
        register_item("monitoring", MenuItem(_("Alert centre"), "monitoring:alerts", READER_ROLES))
        register_item("monitoring", MenuItem(_("Indicator catalogue"), "monitoring:indicators", READER_ROLES))
        register_item("monitoring", MenuItem(_("Targets"), "monitoring:targets", READER_ROLES))
        register_item("monitoring", MenuItem(_("Alert thresholds"), "monitoring:thresholds", READER_ROLES))
        register_item("monitoring", MenuItem(_("Population figures"), "monitoring:population", READER_ROLES))
        register_item("monitoring", MenuItem(_("Monitoring settings"), "monitoring:settings", office))

        # rollups: recomputed in the transaction of every change persons.services makes
        from monitoring import rollups
        from persons.signals import persons_changed

        persons_changed.connect(rollups.on_persons_changed, dispatch_uid="monitoring.rollups")
        from core import sweep

        sweep.register("rollups_check", rollups.sweep)
