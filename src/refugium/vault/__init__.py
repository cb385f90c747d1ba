"""Refugium's evidence vault: encrypted files at rest, their chain of custody and export
bundles a court checks without refugium. No Django imports.

Files are age files encrypted to a desk's recipients as they stream in (``EncryptedStore``);
the web layer keeps only their random names. Every event on an item is a line of the signed
custody log (``CustodyLog``), which holds salted commitments, never bare hashes
(``commitment``). ``write_bundle`` and ``verify_bundle`` make and check export bundles.

``refugium.vault.sniff``, ``metadata`` and ``sharing`` are imported from their modules: they
bring in Pillow, pypdf and mutagen, which the intake's upload path does not need.

The names below are loaded when first used (``__getattr__``): ``refugium evidence add`` and
the intake need only the store, and the export bundle's module (zip files, the manifest,
its checks) would otherwise be read by every command that stores a file.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refugium.vault.bundle import (
        BundleItem,
        BundleResult,
        safe_file_name,
        verify_bundle,
        write_bundle,
    )
    from refugium.vault.custody import EVENTS, CustodyLog, commitment, new_salt
    from refugium.vault.store import (
        NORMALISED_TIME,
        EncryptedStore,
        FileChanged,
        FileUpload,
        Staged,
        SweepReport,
        TooLarge,
        Upload,
    )

__all__ = [
    "EVENTS",
    "NORMALISED_TIME",
    "BundleItem",
    "BundleResult",
    "CustodyLog",
    "EncryptedStore",
    "FileChanged",
    "FileUpload",
    "Staged",
    "SweepReport",
    "TooLarge",
    "Upload",
    "commitment",
    "new_salt",
    "safe_file_name",
    "verify_bundle",
    "write_bundle",
]

_WHERE = {
    "BundleItem": "bundle",
    "BundleResult": "bundle",
    "safe_file_name": "bundle",
    "verify_bundle": "bundle",
    "write_bundle": "bundle",
    "EVENTS": "custody",
    "CustodyLog": "custody",
    "commitment": "custody",
    "new_salt": "custody",
    "NORMALISED_TIME": "store",
    "EncryptedStore": "store",
    "FileChanged": "store",
    "FileUpload": "store",
    "Staged": "store",
    "SweepReport": "store",
    "TooLarge": "store",
    "Upload": "store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
