"""The partner's side of a referral: one download at ``/referrals/<token>/`` (issue 9).

The partner holds no account here, so the page needs no sign-in; the token (256 random
bits, passed on out of band) is the only credential. Opening the link (GET) shows a page
with a button and spends nothing, so a messenger's link preview or a mail scanner that
opens it cannot use up the one download; the download is a POST. Unknown, expired, revoked
and fetched tokens get the project's same 404. Nothing is cached (``never_cache``, and
``SecurityHeadersMiddleware`` says ``no-store``), and no page sends the token on as a
referrer.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from refugium.errors import NotFound
from refugium.web.casework import referrals
from refugium.web.core.downloads import download_response

FILE_NAME = "referral.age"


def _no_referrer(response: HttpResponseBase) -> HttpResponseBase:
    # The token is in the URL: no link or resource on the page may carry it elsewhere.
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@never_cache
# No CSRF token: a forged POST must already hold the token, and whoever holds it can fetch
# the file themselves; a token would need a cookie, which the partner's side sets none of.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@sensitive_variables("token", "blob")
def fetch(request: HttpRequest, token: str) -> HttpResponseBase:
    if request.method == "GET":
        if not referrals.is_waiting(token):
            raise Http404
        page: HttpResponse = render(request, "casework/referral_fetch.html")
        return _no_referrer(page)
    try:
        blob = referrals.fetch(token)
    except NotFound:
        raise Http404 from None
    return _no_referrer(download_response(iter([blob]), FILE_NAME, len(blob)))
