"""Where refugium keeps its state, and the rules for that place.

The data folder is ``$REFUGIUM_DATA`` (default ``./refugium-data``). It holds the SQLite
database, the Django secret key, the organisation's log-signing key, the check-in secret and
the audit log. Nothing
in it is readable by other users of the machine: the folder is 0700 and every file 0600.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA = "refugium-data"


@dataclass(frozen=True)
class DataDir:
    """Paths inside one data folder. Knows nothing of Django."""

    root: Path

    @classmethod
    def from_environment(cls) -> DataDir:
        return cls(Path(os.environ.get("REFUGIUM_DATA") or DEFAULT_DATA).absolute())

    @property
    def database(self) -> Path:
        return self.root / "refugium.sqlite3"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def log_signing_key(self) -> Path:
        return self.keys / "log-signing.pem"

    @property
    def log_verify_key(self) -> Path:
        return self.keys / "log-verify.pem"

    @property
    def checkin_secret(self) -> Path:
        """The server's check-in secret: the key of the check-in codes' HMAC and the pepper
        of the answers' Argon2id digests (``web.casework.checkin_store``), unencrypted like
        the log-signing key, since check-ins are classified with no one signed in. Created
        at first use."""
        return self.keys / "checkin-secret"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def custody_log(self) -> Path:
        """The evidence vault's chain of custody: a chain of its own, signed by the same
        organisation key as the audit log, so an export bundle carries one public key."""
        return self.root / "custody.jsonl"

    @property
    def reports(self) -> Path:
        """The reports page's builds, one folder per build named by a random id
        (``web.reports.builds``): never served as files, only through the page's views."""
        return self.root / "reports"

    @property
    def initialised_marker(self) -> Path:
        """Written last by ``refugium init``: a folder without it is not usable."""
        return self.root / "INITIALISED"

    def is_initialised(self) -> bool:
        return self.initialised_marker.is_file()

    def permission_problems(self) -> list[str]:
        """Lists every file or folder that others on the machine could read or write."""
        problems = []
        for path in [self.root, *sorted(self.root.rglob("*"))]:
            try:
                mode = stat.S_IMODE(path.lstat().st_mode)
            except FileNotFoundError:
                continue
            if mode & 0o077:
                rel = path.relative_to(self.root) if path != self.root else Path(".")
                problems.append(f"{rel} is mode {mode:04o}; others must have no access")
        return problems
