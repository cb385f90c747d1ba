"""Every pragma of reliability.md T6, read back from a live connection."""

import pytest
from django.db import connection, connections

from refugium.web.core.sqlite import EXPECTED, read_pragmas


@pytest.mark.django_db
def test_live_connection_runs_with_the_required_pragmas():
    assert connection.vendor == "sqlite"
    assert read_pragmas(connection) == {
        "journal_mode": "wal",
        "synchronous": 2,
        "secure_delete": 1,
        "foreign_keys": 1,
        "temp_store": 2,
        "trusted_schema": 0,
    }
    assert read_pragmas(connection) == EXPECTED


@pytest.mark.django_db
def test_a_new_connection_gets_them_too():
    fresh = connections.create_connection("default")
    try:
        fresh.ensure_connection()
        assert read_pragmas(fresh) == EXPECTED
    finally:
        fresh.close()
