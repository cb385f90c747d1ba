from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    """Name, passphrase and the current code from the authenticator, on one page.

    Lengths are bounded here, before anything reaches Argon2id (iSEC-15FTC-6).
    """

    username = forms.CharField(label=_("User name"), max_length=32, strip=True)
    passphrase = forms.CharField(
        label=_("Passphrase"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Code from your authenticator"),
        max_length=12,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    error_messages = {
        "invalid_login": _(
            "Sign-in failed. Check your name, passphrase and code. After several failures "
            "an account is locked for a while; an administrator can unlock it."
        ),
    }
