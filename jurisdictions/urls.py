from django.urls import path

from jurisdictions import views

app_name = "jurisdictions"
urlpatterns = [
    path("", views.JurisdictionListView.as_view(), name="list"),
    path("import/", views.JurisdictionImportView.as_view(), name="import"),
    path("<str:code>/", views.JurisdictionDetailView.as_view(), name="detail"),
    path("<str:code>/rename/", views.JurisdictionRenameView.as_view(), name="rename"),
]
