from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from refugium.datadir import DataDir
from refugium.durable import write_atomic
from tests import factories


@pytest.fixture
def data_dir(tmp_path: Path, settings) -> DataDir:  # type: ignore[no-untyped-def]
    """A data folder of this test's own, with log keys, as `refugium init` leaves it."""
    from refugium.crypto import SigningKey

    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    data = DataDir(root)
    data.keys.mkdir(mode=0o700)
    key = SigningKey.generate()
    write_atomic(data.log_signing_key, key.to_private_pem())
    write_atomic(data.log_verify_key, key.verify_key.to_public_pem())
    settings.DATA = data
    return data


@pytest.fixture
def org(db, data_dir: DataDir) -> factories.Org:  # type: ignore[no-untyped-def]
    return factories.make_org()


@pytest.fixture
def login(client: Client, org: factories.Org):  # type: ignore[no-untyped-def]
    """Signs a user in through the real form; returns the response."""

    def _login(name: str = "admin", *, passphrase: str | None = None, code: str | None = None):  # type: ignore[no-untyped-def]
        return client.post(
            "/accounts/login/",
            {
                "username": name,
                "passphrase": passphrase
                if passphrase is not None
                else org.passphrases.get(name, factories.ADMIN_PASSPHRASE),
                "code": code
                if code is not None
                else factories.totp_code(org.totp.get(name, org.totp["admin"])),
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


@pytest.fixture
def signed_in(org) -> Callable[[str], Client]:  # type: ignore[no-untyped-def]
    """A browser of its own, signed in as ``name`` through the real form."""

    def _signed_in(name: str = "admin") -> Client:
        browser = Client()
        response = browser.post(
            "/accounts/login/",
            {
                "username": name,
                "passphrase": org.passphrases[name],
                "code": factories.totp_code(org.totp[name]),
            },
        )
        assert response.status_code == 302, response.content
        return browser

    return _signed_in
