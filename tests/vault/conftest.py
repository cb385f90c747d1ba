"""Fixtures for the vault tests: a store in this test's own folder, a desk identity, the age
tool. Nothing here imports Django: ``refugium.vault`` must work without it.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from refugium.crypto import Identity
from refugium.vault import EncryptedStore


def make_store(folder: Path) -> EncryptedStore:
    return EncryptedStore(folder / "vault")


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def store(tmp_path: Path) -> EncryptedStore:
    return make_store(tmp_path)


@pytest.fixture
def identity() -> Identity:
    return Identity.generate()


@pytest.fixture
def age_cli() -> str:
    """The stock ``age`` command; missing is a failure, never a skip."""
    path = shutil.which("age")
    if path is None:
        pytest.fail("the stock age tool is missing: run scripts/bootstrap --test")
    return path
