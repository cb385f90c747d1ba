from django.urls import path, re_path

from refugium.web.evidence import views

# Mounted at /evidence/ (web/urls.py). Every name here is in web/access.py's POLICIES.
# A desk's pages live under desk/<name>/, so that no desk name can be read as one of the
# item codes (12 hex digits) that the documentation desk's older URLs carry.
app_name = "evidence"
LEGACY_CODE = r"(?P<code>[0-9a-f]{12})"
urlpatterns = [
    path("", views.desks, name="desks"),
    path("desk/documentation/<str:code>/attach/", views.attach, name="attach"),
    path("desk/documentation/<str:code>/detach/", views.detach, name="detach"),
    path("desk/<slug:desk>/", views.item_list, name="list"),
    path("desk/<slug:desk>/<str:code>/", views.item, name="item"),
    path("desk/<slug:desk>/<str:code>/download/", views.download, name="download"),
    re_path(rf"^{LEGACY_CODE}/$", views.legacy_item, name="legacy_item"),
    re_path(rf"^{LEGACY_CODE}/download/$", views.legacy_download, name="legacy_download"),
    re_path(rf"^{LEGACY_CODE}/attach/$", views.legacy_attach, name="legacy_attach"),
    re_path(rf"^{LEGACY_CODE}/detach/$", views.legacy_detach, name="legacy_detach"),
]
