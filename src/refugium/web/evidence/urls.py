from django.urls import path

from refugium.web.evidence import views

# Mounted at /evidence/ (web/urls.py). Every name here is in web/access.py's POLICIES.
# A desk's pages live under desk/<name>/, so that no desk name can be read as one of the
# item codes that the documentation desk's older URLs (/evidence/<code>/…) carry; those come
# last and only redirect.
app_name = "evidence"
urlpatterns = [
    path("", views.desks, name="desks"),
    path("desk/documentation/<str:code>/attach/", views.attach, name="attach"),
    path("desk/documentation/<str:code>/detach/", views.detach, name="detach"),
    path("desk/<slug:desk>/", views.item_list, name="list"),
    path("desk/<slug:desk>/<str:code>/", views.item, name="item"),
    path("desk/<slug:desk>/<str:code>/download/", views.download, name="download"),
    path("<str:code>/", views.legacy_item, name="legacy_item"),
    path("<str:code>/download/", views.legacy_download, name="legacy_download"),
    path("<str:code>/attach/", views.legacy_attach, name="legacy_attach"),
    path("<str:code>/detach/", views.legacy_detach, name="legacy_detach"),
]
