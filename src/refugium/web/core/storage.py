"""The one encrypted file store of a data folder, shared by the intake and the evidence vault.

One store, so that one sweep at start (``refugium.server.sweep_leftovers``) sees every file
and keeps every file some row names, whichever app the row belongs to.
"""

from __future__ import annotations

from django.conf import settings

from refugium.vault import EncryptedStore


def file_store() -> EncryptedStore:
    return EncryptedStore(settings.DATA.root / "store")
