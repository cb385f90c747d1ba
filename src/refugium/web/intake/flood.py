"""Keeping floods from crowding out real reporters, without JavaScript and without IPs.

Three measures, each cheap and checked before any expensive work (Argon2id, encryption):
- a per-minute limit on submissions and on receipt checks, over the whole server;
- single-use form tokens, valid only some seconds after the form was served (a person takes
  that long; a script must wait too), signed so the server keeps nothing until one is used;
- a quota on the space uploads may take.
Tor's onion-service proof-of-work (docs/operations.md) is the defence in front of all three.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from refugium.web.intake.models import RateWindow, UsedFormToken

_SALT = "refugium.intake.form-token"


class Refused(Exception):
    """The request must get the 429 page; ``reason`` says why in words for the reporter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_form_token() -> str:
    return signing.dumps({"n": secrets.token_hex(16), "t": int(time.time())}, salt=_SALT)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_form_token(token: str) -> None:
    """Raises:
    Refused: forged, expired, too fresh (sent faster than a person can), or used before.
    """
    from django.utils.translation import gettext as _

    try:
        payload = signing.loads(
            token, salt=_SALT, max_age=settings.REFUGIUM_FORM_MAX_AGE_SECONDS
        )
        issued = int(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Refused(_("This form has expired. Please open it again and resend.")) from None
    if time.time() - issued < settings.REFUGIUM_FORM_MIN_SECONDS:
        raise Refused(_("That was faster than a person can write. Wait a moment and resend."))
    if UsedFormToken.objects.filter(token_hash=_token_hash(token)).exists():
        raise Refused(
            _(
                "This form was already sent. If you did not see a receipt, open the form "
                "again and resend."
            )
        )


def use_form_token(token: str) -> None:
    """Marks the token used; call inside the transaction that stores the submission.

    Raises:
        Refused: another request used it first (a double click).
    """
    from django.utils.translation import gettext as _

    today = timezone.now().date()
    max_days = settings.REFUGIUM_FORM_MAX_AGE_SECONDS // 86400 + 2
    UsedFormToken.objects.filter(used_on__lt=today - timedelta(days=max_days)).delete()
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(token_hash=_token_hash(token), used_on=today)
    except IntegrityError:
        raise Refused(_("This form was already sent.")) from None


def count_attempt(kind: str, limit: int) -> None:
    """Counts one attempt of ``kind`` in the current minute, server-wide.

    Raises:
        Refused: more than ``limit`` attempts this minute.
    """
    from django.utils.translation import gettext as _

    minute = int(time.time() // 60)
    with transaction.atomic():
        RateWindow.objects.filter(minute__lt=minute - 1).delete()
        window, _created = RateWindow.objects.get_or_create(kind=kind, minute=minute)
        RateWindow.objects.filter(pk=window.pk).update(count=F("count") + 1)
        window.refresh_from_db(fields=["count"])
    if window.count > limit:
        raise Refused(_("Many people are sending right now. Please try again in a minute."))


def check_quota(store_bytes: int, incoming: int) -> bool:
    """True when ``incoming`` more bytes still fit under the data folder's quota."""
    return store_bytes + incoming <= settings.REFUGIUM_QUOTA_BYTES
