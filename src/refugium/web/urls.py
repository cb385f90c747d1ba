from django.urls import include, path

urlpatterns = [
    path("", include("refugium.web.accounts.urls")),
]

handler400 = "refugium.web.core.views.bad_request"
handler403 = "refugium.web.core.views.permission_denied"
handler404 = "refugium.web.core.views.page_not_found"
handler500 = "refugium.web.core.views.server_error"
