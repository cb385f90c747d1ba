"""Fixtures for the crypto tests: cheap Argon2id, a counter of Argon2id runs, the age tool.

Nothing here imports Django: ``refugium.crypto`` must work without it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from refugium.crypto import DeskKey, Identity, kdf


def make_identity() -> Identity:
    return Identity.generate()


def make_desk_key() -> DeskKey:
    return DeskKey.generate()


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one entry per Argon2id run (its memory cost in KiB)."""
    runs: list[int] = []
    real = kdf._argon2id

    def counting(secret: bytes, salt: bytes, **params: int) -> bytes:
        runs.append(params["memory_cost_kib"])
        return real(secret, salt, **params)

    monkeypatch.setattr(kdf, "_argon2id", counting)
    return runs


@pytest.fixture
def identity() -> Identity:
    return make_identity()


@pytest.fixture
def desk_key() -> DeskKey:
    return make_desk_key()


@pytest.fixture
def age_cli() -> str:
    """The stock ``age`` command. Missing is a failure, never a skip: the promise that
    archives stay readable without refugium is only as good as this test."""
    path = shutil.which("age")
    if path is None:
        pytest.fail("the stock age tool is missing: run scripts/bootstrap --test")
    return path


@pytest.fixture
def age_keygen_cli() -> str:
    """The stock ``age-keygen`` command (shipped with ``age``); missing is a failure."""
    path = shutil.which("age-keygen")
    if path is None:
        pytest.fail("the stock age-keygen tool is missing: run scripts/bootstrap --test")
    return path


@pytest.fixture
def run_age_decrypt(age_cli: str, tmp_path: Path) -> Callable[[bytes, Identity], bytes]:
    """Decrypt with ``age -d -i KEYFILE``, as an organisation without refugium would."""

    def run(ciphertext: bytes, identity: Identity) -> bytes:
        keyfile = tmp_path / "key.txt"
        keyfile.write_text(identity.to_secret_string() + "\n")
        keyfile.chmod(0o600)
        result = subprocess.run(
            [age_cli, "-d", "-i", str(keyfile)],
            input=ciphertext,
            capture_output=True,
            check=True,
        )
        return result.stdout

    return run
