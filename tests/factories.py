"""Plain factory functions for tests; fixtures in the nearest conftest.py wrap them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyotp

from refugium.crypto import SigningKey

ADMIN_PASSPHRASE = "correct horse battery staple admin"
USER_PASSPHRASE = "a long passphrase for rita 2017"


@dataclass
class Org:
    paper_key: str
    totp: dict[str, str] = field(default_factory=dict)
    passphrases: dict[str, str] = field(default_factory=dict)


def make_org(admin: str = "admin", passphrase: str = ADMIN_PASSPHRASE) -> Org:
    """An organisation in the test database, as `refugium init` makes it."""
    from django.conf import settings

    from refugium.web.accounts import services

    signing_key = SigningKey.from_private_pem(settings.DATA.log_signing_key.read_bytes())
    result = services.initialise(
        admin=admin, passphrase=passphrase, org_name="Test org", signing_key=signing_key
    )
    return Org(
        paper_key=result.paper_key,
        totp={admin: result.admin.totp_secret},
        passphrases={admin: passphrase},
    )


def add_user(org: Org, name: str, desks: list[str], passphrase: str = USER_PASSPHRASE) -> None:
    from refugium.web.accounts import services

    new = services.add_user(name, passphrase, desks)
    org.totp[name] = new.totp_secret
    org.passphrases[name] = passphrase


def totp_code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(time.time() if at is None else at)
