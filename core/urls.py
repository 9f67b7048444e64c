from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("work/<slug:code>/", views.WorkLineView.as_view(), name="work_line"),
]
urlpatterns += [path("audit/", views.AuditEntryListView.as_view(), name="audit_list")]
