from django.urls import path

from monitoring import supervision_views, views

app_name = "monitoring"
urlpatterns = [
    path("alerts/", views.AlertCentreView.as_view(), name="alerts"),
    path("alerts/assign/", supervision_views.AssignView.as_view(), name="assign"),
    path("alerts/assignments/<int:pk>/answer/", supervision_views.AnswerView.as_view(), name="assignment_answer"),
    path("alerts/assignments/<int:pk>/close/", supervision_views.CloseView.as_view(), name="assignment_close"),
    path("indicators/", views.IndicatorCatalogueView.as_view(), name="indicators"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/<str:code>/<int:year>/", views.TargetEditView.as_view(), name="target_edit"),
    path("population/", views.PopulationListView.as_view(), name="population"),
    path("population/new/", views.PopulationEditView.as_view(), name="population_edit"),
    path("thresholds/", views.ThresholdListView.as_view(), name="thresholds"),
    path("thresholds/new/", views.ThresholdEditView.as_view(), name="threshold_edit"),
    path("thresholds/<int:pk>/delete/", views.ThresholdDeleteView.as_view(), name="threshold_delete"),
    path("settings/", views.MonitoringSettingsView.as_view(), name="settings"),
]

# dashboards
from monitoring import dashboard_views  # noqa: E402

urlpatterns += [
    path("dashboard/", dashboard_views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/statistics.xlsx", dashboard_views.ReportDownloadView.as_view(document="statistics"),
         name="report_statistics"),
    path("dashboard/bulletin.docx", dashboard_views.ReportDownloadView.as_view(document="bulletin"),
         name="report_bulletin"),
    path("dashboard/boundaries/", dashboard_views.BoundaryImportView.as_view(), name="boundaries"),
]
# end dashboards
