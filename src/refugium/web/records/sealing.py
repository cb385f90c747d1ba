"""Sealing and opening the private columns of a record with the desk's field cipher.

A column holds one JSON object, padded with spaces (which JSON ignores) to a multiple of
``PAD`` bytes before encryption, so the length of a token says little about the length of a
name; then ``FieldCipher`` encrypts it bound to the table, the record's uid and the column.
A token copied into another row or column fails to open instead of showing one person's
data as another's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models

from refugium.crypto import DeskKey, FieldCipher
from refugium.errors import DecryptionFailed

PAD = 64
COLUMNS = ("identity", "details")


def pad(data: bytes) -> bytes:
    return data + b" " * (-len(data) % PAD)


class Sealer:
    """Seals and opens the private columns of a model's rows: by default the ``identity`` and
    ``details`` columns of records and revisions; casework names its own (a case's ``sealed``
    part, a flag's ``reason``), under a case's key instead of the desk's."""

    __slots__ = ("_cipher", "_columns")

    def __init__(self, keys: Sequence[DeskKey], columns: Sequence[str] = COLUMNS) -> None:
        self._cipher = FieldCipher(keys)
        self._columns = tuple(columns)

    def seal(self, row: models.Model, column: str, value: Mapping[str, Any]) -> bytes:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self._cipher.encrypt(pad(data.encode("utf-8")), **self._where(row, column))

    def open(self, row: models.Model, column: str) -> dict[str, Any]:
        """Raises:
        DecryptionFailed: wrong key, a token from another row or column, or damage.
        """
        token = getattr(row, column)
        if not token:
            return {}
        return json_object(self._cipher.decrypt(bytes(token), **self._where(row, column)))

    def open_column(
        self, model: type[models.Model], uid: Any, column: str, token: bytes | None
    ) -> dict[str, Any]:
        """``open`` for a column read with ``values_list`` (the row's uid and token) rather
        than as a model instance: a report over 300,000 acts reads them that way.

        Raises:
            DecryptionFailed: as ``open``.
        """
        if not token:
            return {}
        if column not in self._columns:
            raise ValueError(f"not a sealed column: {column}")
        where = {"table": model._meta.db_table, "row": str(uid), "field": column}
        return json_object(self._cipher.decrypt(bytes(token), **where))

    def _where(self, row: models.Model, column: str) -> dict[str, str]:
        if column not in self._columns:
            raise ValueError(f"not a sealed column: {column}")
        return {"table": row._meta.db_table, "row": str(row.uid), "field": column}  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return "<Sealer (secret)>"


def json_object(plaintext: bytes) -> dict[str, Any]:
    """The JSON object a sealed column holds once opened.

    Raises:
        DecryptionFailed: it opened but is not a JSON object (damage or a foreign token).
    """
    try:
        value = json.loads(plaintext)
    except ValueError:
        raise DecryptionFailed("A sealed column does not hold JSON.") from None
    if not isinstance(value, dict):
        raise DecryptionFailed("A sealed column does not hold a JSON object.")
    return value
