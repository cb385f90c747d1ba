"""What a seized casework database shows: the bytes an adversary takes, and the forms a
secret could be written in there. Shared by the watchlist's and the cases' seizure tests."""

from __future__ import annotations

import base64
from pathlib import Path

from django.conf import settings
from django.db import connection


def seized_bytes() -> bytes:
    """The database, its WAL and shared memory, and the audit log, as they lie on disk."""
    name = Path(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    files = [name, Path(f"{name}-wal"), Path(f"{name}-shm"), settings.DATA.audit_log]
    return b"".join(p.read_bytes() for p in files if p.exists())


def written_forms(secret: str) -> list[bytes]:
    """UTF-8, lower case, UTF-16 and base64: how a column or a log line could hold it."""
    raw = secret.encode("utf-8")
    return [raw, secret.lower().encode(), secret.encode("utf-16-le"), base64.b64encode(raw)]
