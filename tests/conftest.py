from __future__ import annotations

from pathlib import Path

import pytest

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
