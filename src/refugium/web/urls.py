from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

# Reporter pages carry their language in the path (/submit/ in English, /ru/submit/ in
# Russian): no cookie, no session and no database row remembers a reporter's language.
urlpatterns = [
    path("", include("refugium.web.accounts.urls")),
    path("desk/inbox/", include("refugium.web.desk.urls")),
    path("records/", include("refugium.web.records.urls")),
    path("evidence/", include("refugium.web.evidence.urls")),
    path("duplicates/", include("refugium.web.matches.urls")),
    path("estimates/", include("refugium.web.estimates.urls")),
    path("reports/", include("refugium.web.reports.urls")),
    path("referrals/", include("refugium.web.casework.referral_urls")),
    path("casework/", include("refugium.web.casework.urls")),
    *i18n_patterns(path("", include("refugium.web.intake.urls")), prefix_default_language=False),
    *i18n_patterns(
        path("checkin/", include("refugium.web.casework.checkin_urls")),
        prefix_default_language=False,
    ),
]

handler400 = "refugium.web.core.views.bad_request"
handler403 = "refugium.web.core.views.permission_denied"
handler404 = "refugium.web.core.views.page_not_found"
handler500 = "refugium.web.core.views.server_error"
