from __future__ import annotations

import pytest
from django.test import Client

from tests import factories


@pytest.fixture
def login(client: Client, org: factories.Org):  # type: ignore[no-untyped-def]
    """Signs a user in through the real form; returns the response."""

    def _login(name: str = "admin", *, passphrase: str | None = None, code: str | None = None):  # type: ignore[no-untyped-def]
        return client.post(
            "/accounts/login/",
            {
                "username": name,
                "passphrase": passphrase if passphrase is not None else org.passphrases.get(
                    name, factories.ADMIN_PASSPHRASE
                ),
                "code": code if code is not None else factories.totp_code(
                    org.totp.get(name, org.totp["admin"])
                ),
            },
        )

    return _login


@pytest.fixture
def argon2_runs(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts Argon2id runs (every one goes through refugium.crypto.kdf._argon2id)."""
    from refugium.crypto import kdf

    calls = []
    real = kdf._argon2id

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kdf, "_argon2id", counting)
    return calls
