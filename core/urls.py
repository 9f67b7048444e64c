from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("work/<slug:code>/", views.WorkLineView.as_view(), name="work_line"),
]
urlpatterns += [path("audit/", views.AuditEntryListView.as_view(), name="audit_list"),
                path("audit/verify/", views.AuditVerifyView.as_view(), name="audit_verify")]
urlpatterns += [
    path("audit/checkpoints/", views.AuditCheckpointListView.as_view(), name="audit_checkpoints"),
    path("audit/checkpoints/<str:name>", views.AuditCheckpointDownloadView.as_view(), name="audit_checkpoint"),
]
urlpatterns += [
    path("reveal/<str:label>/<int:pk>/<str:field>/", views.RevealView.as_view(), name="reveal"),
    path("break-glass/<str:label>/<int:pk>/", views.BreakGlassView.as_view(), name="break_glass"),
    path("audit/break-glass/", views.BreakGlassGrantListView.as_view(), name="break_glass_list"),
]
urlpatterns += [path("security/capabilities/", views.CapabilitiesView.as_view(), name="capabilities")]
