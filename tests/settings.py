"""Test settings: production settings with a throwaway data folder and cheap Argon2id.

Everything else stays as in production, so tests exercise what runs. One test
(tests/crypto/test_profiles.py) pins the production Argon2id parameters.
"""

import os
import tempfile

_DATA = tempfile.mkdtemp(prefix="refugium-test-data-")
os.environ.setdefault("REFUGIUM_DATA", _DATA)
os.environ.setdefault("REFUGIUM_TRANSPORT", "onion")
os.environ.setdefault("REFUGIUM_ARGON2_PROFILE", "testing")

from refugium.web.settings import *  # noqa: E402, F403

REFUGIUM_TESTING = True

# A file, not SQLite's in-memory default, so that WAL and the other pragmas are real.
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.path.join(_DATA, "test.sqlite3")  # noqa: F405
