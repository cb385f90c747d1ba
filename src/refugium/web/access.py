"""Who may open which URL: one declared table for the whole project (issue 4, T14).

Every named URL pattern has exactly one entry in ``POLICIES``. ``tests/web/test_access.py``
walks the URL resolver and fails when a pattern is missing here, when an entry names no
pattern, or when what a view's decorators actually enforce (``policy_of``) differs from what
the table declares. A new page therefore cannot ship without someone deciding, in one
reviewed place, who may see it.

Policies:

``public-reporter``
    A page for a person at risk: no sign-in, nothing cached, CSRF by token alone
    (``intake.decorators.reporter_page``).
``anonymous``
    Open without sign-in, but not a reporter page (sign-in and sign-out).
``signed-in``
    Any signed-in researcher (Django's ``LoginRequiredMiddleware``, the default).
``desk-member:<desk>``
    A signed-in, active member of ``<desk>`` whose session holds that desk's key
    (``desk_member``). Everyone else who is signed in gets the project's 404, the same as
    for an object that does not exist, so that no one learns what exists on a desk they
    are not on.
``desk-member:<desk>``
    The same rule for the desk named by the URL's ``desk`` argument (``url_desk_member``):
    pages that serve every desk alike, such as the evidence vault's. A desk that does not
    exist, and one the user is not on, both get the project's 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase

PUBLIC_REPORTER = "public-reporter"
ANONYMOUS = "anonymous"
SIGNED_IN = "signed-in"
DESK_MEMBER = "desk-member:"
DESK_IN_URL = DESK_MEMBER + "<desk>"

POLICIES: dict[str, str] = {
    # accounts
    "accounts:login": ANONYMOUS,
    "accounts:logout": ANONYMOUS,
    "accounts:home": SIGNED_IN,
    # intake (the reporter's side)
    "intake:home": PUBLIC_REPORTER,
    "intake:submit": PUBLIC_REPORTER,
    "intake:received": PUBLIC_REPORTER,
    "intake:followup": PUBLIC_REPORTER,
    "intake:followup_send": PUBLIC_REPORTER,
    "intake:followup_logout": PUBLIC_REPORTER,
    # casework: the check-in page of a person in transit or hiding
    "checkin:page": PUBLIC_REPORTER,
    # desk (the researchers' inbox of the intake desk)
    "desk:inbox": "desk-member:intake",
    "desk:submission": "desk-member:intake",
    "desk:download": "desk-member:intake",
    "desk:reply": "desk-member:intake",
    "desk:status": "desk-member:intake",
    "desk:delete": "desk-member:intake",
    "desk:promote": "desk-member:intake",
    # records (the documentation database)
    "records:home": "desk-member:documentation",
    "records:list": "desk-member:documentation",
    "records:create": "desk-member:documentation",
    "records:detail": "desk-member:documentation",
    "records:identity": "desk-member:documentation",
    "records:edit": "desk-member:documentation",
    "records:history": "desk-member:documentation",
    "records:timeline": "desk-member:documentation",
    # evidence (every desk's vault; the chooser lists only the user's own desks; attaching
    # to records is the documentation desk's, where the records are)
    "evidence:desks": SIGNED_IN,
    "evidence:list": DESK_IN_URL,
    "evidence:item": DESK_IN_URL,
    "evidence:download": DESK_IN_URL,
    "evidence:attach": "desk-member:documentation",
    "evidence:detach": "desk-member:documentation",
    # the documentation desk's evidence URLs from before every desk had pages: redirects
    "evidence:legacy_item": "desk-member:documentation",
    "evidence:legacy_download": "desk-member:documentation",
    "evidence:legacy_attach": "desk-member:documentation",
    "evidence:legacy_detach": "desk-member:documentation",
    # possible duplicate persons of the documentation database
    "matches:list": "desk-member:documentation",
    "matches:find": "desk-member:documentation",
    "matches:pair": "desk-member:documentation",
    "matches:confirm": "desk-member:documentation",
    "matches:reject": "desk-member:documentation",
    # estimates of the total number of victims from the documentation database
    "estimates:home": "desk-member:documentation",
    "estimates:table": "desk-member:documentation",
    # advocacy reports built from the documentation database (builds under DATA/reports)
    "reports:home": "desk-member:documentation",
    "reports:detail": "desk-member:documentation",
    "reports:preview": "desk-member:documentation",
    "reports:download": "desk-member:documentation",
    "reports:delete": "desk-member:documentation",
    # a partner organisation's one download of a referral (the token is the credential)
    "referrals:fetch": ANONYMOUS,
    # casework (the caseworkers' pages; a case also answers 404 to a member not assigned)
    "casework:home": "desk-member:casework",
    "casework:notices_read": "desk-member:casework",
    "casework:new": "desk-member:casework",
    "casework:cut_off": "desk-member:casework",
    "casework:watchlist": "desk-member:casework",
    "casework:watchlist_add": "desk-member:casework",
    "casework:watchlist_check": "desk-member:casework",
    "casework:case": "desk-member:casework",
    "casework:attest": "desk-member:casework",
    "casework:stage": "desk-member:casework",
    "casework:flag": "desk-member:casework",
    "casework:clear": "desk-member:casework",
    "casework:assign": "desk-member:casework",
    "casework:unassign": "desk-member:casework",
    "casework:alerts": "desk-member:casework",
    "casework:alert_ack": "desk-member:casework",
    "casework:alert_resolve": "desk-member:casework",
    "casework:location_fill": "desk-member:casework",
    "casework:location_reveal": "desk-member:casework",
    "casework:location_handover": "desk-member:casework",
    "casework:checkin_enrol": "desk-member:casework",
    "casework:checkin_stop": "desk-member:casework",
    "casework:task_add": "desk-member:casework",
    "casework:task_done": "desk-member:casework",
    "casework:note_add": "desk-member:casework",
    "casework:document_attach": "desk-member:casework",
    "casework:document_detach": "desk-member:casework",
    "casework:cost_add": "desk-member:casework",
    "casework:cost_delete": "desk-member:casework",
    "casework:partners": "desk-member:casework",
    "casework:partner_retire": "desk-member:casework",
    "casework:ledger": "desk-member:casework",
    "casework:ledger_csv": "desk-member:casework",
    "casework:dnd_add": "desk-member:casework",
    "casework:dnd_remove": "desk-member:casework",
    "casework:refer": "desk-member:casework",
    "casework:referral_revoke": "desk-member:casework",
}

View = Callable[..., HttpResponseBase]


def policy_of(view: Any) -> str:
    """What the view's decorators enforce, read from the marks they leave on it."""
    if getattr(view, "reporter_page", False):
        return PUBLIC_REPORTER
    marked = getattr(view, "access_policy", None)
    if marked is not None:
        return str(marked)
    if getattr(view, "login_required", True) is False:
        return ANONYMOUS
    return SIGNED_IN


def holds_desk_key(user: Any, keyring: Any, desk: str) -> bool:
    """``user`` is an active account, an active member of ``desk``, and ``keyring`` (their
    unlocked keys) holds at least one generation of its key.

    All three are checked on every request: the keyring is built only from active
    memberships at sign-in, and a lost membership or a disabled account ends the session
    (``SessionLimitsMiddleware``), but the database is the authority and one query is cheap.
    """
    from refugium.web.accounts.models import Membership

    if user is None or not user.is_authenticated or not user.is_active or keyring is None:
        return False
    if not keyring.desk_keys(desk):
        return False
    return Membership.objects.filter(user=user, desk__name=desk, active=True).exists()


def desk_member(desk: str) -> Callable[[View], View]:
    """Only for active members of ``desk`` holding its key; 404 for everyone else signed in
    (anonymous requests were already sent to the sign-in page by the middleware)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not holds_desk_key(request.user, getattr(request, "keyring", None), desk):
                raise Http404
            return view(request, *args, **kwargs)

        wrapped.access_policy = DESK_MEMBER + desk  # type: ignore[attr-defined]
        return wrapped

    return decorate


def url_desk_member(view: View) -> View:
    """``desk_member`` for the desk named by the URL's ``desk`` argument: only for active
    members of that desk holding its key; the project's 404 for everyone else signed in,
    whether the desk exists or not."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        desk = kwargs.get("desk")
        if not isinstance(desk, str) or not holds_desk_key(
            request.user, getattr(request, "keyring", None), desk
        ):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.access_policy = DESK_IN_URL  # type: ignore[attr-defined]
    return wrapped
