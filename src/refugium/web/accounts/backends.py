"""Authentication by passphrase and TOTP code, checked by unwrapping the user's identity."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User
from django.http import HttpRequest

from refugium.web.accounts import services


class PassphraseTotpBackend(BaseBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        passphrase: str | None = None,
        code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or passphrase is None or code is None:
            return None
        try:
            user, identity = services.check_login(username, passphrase, code)
        except services.LoginFailed:
            return None
        # Handed to the login view for this request only; never stored as it is.
        user._refugium_identity = identity  # type: ignore[attr-defined]
        return user

    def get_user(self, user_id: int) -> User | None:
        try:
            user = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if user.is_active else None
