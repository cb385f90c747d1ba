"""SQLite pragmas set on every connection (reliability.md §0.5 and T6).

Builds differ in their defaults (Debian's libsqlite3 is FULL in WAL mode, wheels may not be),
so every pragma is set explicitly and ``tests/web/test_sqlite.py`` reads them back from a live
connection.
"""

from __future__ import annotations

from typing import Any

PRAGMAS = {
    # Readers don't block the writer; the journal is the -wal file beside the database.
    "journal_mode": "WAL",
    # A commit is on disk when it returns: "acknowledged" must mean "durable".
    "synchronous": "FULL",
    # Deleted rows are overwritten with zeros, not left in free pages for a forensic reader.
    "secure_delete": "ON",
    "foreign_keys": "ON",
    # Sorts and temporary tables stay in memory, never in a temp file.
    "temp_store": "MEMORY",
    # Schema-defined functions and views run with no extra trust.
    "trusted_schema": "OFF",
}

EXPECTED = {
    "journal_mode": "wal",
    "synchronous": 2,
    "secure_delete": 1,
    "foreign_keys": 1,
    "temp_store": 2,
    "trusted_schema": 0,
}


def apply_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name, value in PRAGMAS.items():
            cursor.execute(f"PRAGMA {name} = {value}")


def read_pragmas(connection: Any) -> dict[str, Any]:
    """What the live connection actually runs with."""
    values = {}
    with connection.cursor() as cursor:
        for name in PRAGMAS:
            cursor.execute(f"PRAGMA {name}")
            values[name] = cursor.fetchone()[0]
    return values
