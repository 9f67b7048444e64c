from django.urls import path

from persons import missed_views, support_views, views

app_name = "persons"
urlpatterns = [
    path("", views.PersonListView.as_view(), name="list"),
    path("new/", views.PersonCreateView.as_view(), name="create"),
    path("today/", views.TodayView.as_view(), name="today"),
    path("import/", views.LedgerUploadView.as_view(), name="import"),
    path("import/<int:pk>/", views.LedgerImportView.as_view(), name="import_detail"),
    path("import/<int:pk>/progress/", views.LedgerProgressView.as_view(), name="import_progress"),
    path("import/<int:pk>/report/", views.LedgerReportView.as_view(), name="import_report"),
    path("settings/check-in-policy/", views.CheckInPolicyView.as_view(), name="policy"),
    path("settings/risk-model/", views.RiskModelView.as_view(), name="risk_model"),
    path("<int:pk>/", views.PersonDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PersonEditView.as_view(), name="edit"),
    path("<int:pk>/status/", views.StatusChangeView.as_view(), name="status"),
    path("<int:pk>/measures/new/", views.MeasureDecideView.as_view(), name="measure_decide"),
    path("<int:pk>/measures/missing/", views.MissingMeasureView.as_view(), name="measure_missing"),
    path("<int:pk>/check-ins/new/", views.CheckInView.as_view(), name="check_in"),
    path("<int:pk>/missed/explain/", missed_views.MissedExplainView.as_view(), name="explain_missed"),
    path("<int:pk>/hand-over/", views.HandOverView.as_view(), name="hand_over"),
    path("<int:pk>/support/new/", views.SupportView.as_view(), name="support"),
    path("<int:pk>/support-tasks/new/", support_views.SupportTaskCreateView.as_view(), name="support_task_new"),
    path("support-tasks/", support_views.SupportTaskListView.as_view(), name="support_tasks"),
    path("support-tasks/<int:pk>/close/", support_views.SupportTaskCloseView.as_view(), name="support_task_close"),
    path("transfers/<int:pk>/receive/", views.TransferReceiveView.as_view(), name="transfer_acknowledge"),
    path("transfers/<int:pk>/withdraw/", views.TransferCancelView.as_view(), name="transfer_cancel"),
    path("transfers/<int:pk>/refuse/", views.TransferRefuseView.as_view(), name="transfer_refuse"),
    path("risk/<int:pk>/override/", views.RiskOverrideView.as_view(), name="risk_override"),
    path("measures/<int:pk>/report-in/", views.ReportInView.as_view(), name="report_in"),
    path("measures/<int:pk>/end/", views.MeasureEndView.as_view(), name="measure_end"),
    path("flags/<int:pk>/decide/", views.FlagDecideView.as_view(), name="flag_decide"),
    path("flags/<int:pk>/dismiss/", views.FlagDismissView.as_view(), name="flag_dismiss"),
]
