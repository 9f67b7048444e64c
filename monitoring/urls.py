from django.urls import path  # noqa: F401

app_name = "monitoring"
urlpatterns = []

# dashboards
from monitoring import dashboard_views  # noqa: E402

urlpatterns += [
    path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/statistics.xlsx", dashboard_views.ReportDownloadView.as_view(document="statistics"),
         name="report_statistics"),
    path("dashboard/bulletin.docx", dashboard_views.ReportDownloadView.as_view(document="bulletin"),
         name="report_bulletin"),
]
# end dashboards
