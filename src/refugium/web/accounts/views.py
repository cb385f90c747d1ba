"""Researcher sign-in, sign-out and the home page."""

from __future__ import annotations

import time

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from refugium.errors import BadInput
from refugium.web.accounts import keyring as keyrings
from refugium.web.accounts.forms import LoginForm
from refugium.web.accounts.middleware import EPOCH, LOGIN_AT
from refugium.web.accounts.models import Membership
from refugium.web.core.auditing import record


@sensitive_post_parameters("passphrase", "code")
@sensitive_variables("form", "user")
@csrf_protect
@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = authenticate(
                request,
                username=data["username"],
                passphrase=data["passphrase"],
                code=data["code"],
            )
        except BadInput:
            user = None
        if user is not None:
            identity = user._refugium_identity  # type: ignore[attr-defined]
            # Recorded first: a sign-in the audit log can't hold does not happen.
            record(user.username, "login", "user", user.username)
            login(request, user)  # rotates the session ID (session fixation)
            request.session[LOGIN_AT] = int(time.time())
            request.session[EPOCH] = user.account.session_epoch
            response = redirect("accounts:home")
            keyrings.seal_into(request, response, keyrings.build(user, identity))
            return response
        form.add_error(None, form.error_messages["invalid_login"])
        status = 200
    else:
        status = 400 if request.method == "POST" else 200
    return render(request, "accounts/login.html", {"form": form}, status=status)


@require_POST
@csrf_protect
@login_not_required
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only (SecureDrop SEC-01-003): a link or image can't sign anyone out."""
    if request.user.is_authenticated:
        record(request.user.username, "logout", "user", request.user.username)
    logout(request)
    response = redirect("accounts:login")
    keyrings.forget(response)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    keyring = request.keyring  # type: ignore[attr-defined]
    memberships = Membership.objects.filter(user=request.user).select_related("desk")
    desks = [
        {
            "name": m.desk.name,
            "title": m.desk.title,
            "active": m.active,
            "generations": len(keyring.desks.get(m.desk.name, {})),
        }
        for m in memberships.order_by("desk__name")
    ]
    return render(request, "accounts/home.html", {"desks": desks})
