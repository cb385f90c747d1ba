from django.urls import path

from refugium.web.reports import views

# Mounted at /reports/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:build>/", views.detail, name="detail"),
    path("<str:build>/preview/", views.preview, name="preview"),
    path("<str:build>/files/<path:name>", views.download, name="download"),
    path("<str:build>/delete/", views.delete, name="delete"),
]
