from django.urls import path

from refugium.web.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submit/received/", views.received, name="received"),
    path("followup/", views.followup, name="followup"),
    path("followup/send/", views.followup_send, name="followup_send"),
    path("followup/logout/", views.followup_logout, name="followup_logout"),
]
