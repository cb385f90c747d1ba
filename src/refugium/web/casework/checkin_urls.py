from django.urls import path

from refugium.web.casework import checkin_views

app_name = "checkin"
urlpatterns = [
    path("", checkin_views.checkin, name="page"),
]
