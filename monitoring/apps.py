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
        importing.register(importing.ImportKind(
            "shapes", "jurisdiction outlines from GeoJSON (properties.code = jurisdiction code)",
            shapes.add_arguments, shapes.handle))
        # end dashboards
