from django.urls import path

from refugium.web.casework import referral_views

# Mounted at /referrals/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "referrals"
urlpatterns = [
    path("<str:token>/", referral_views.fetch, name="fetch"),
]
