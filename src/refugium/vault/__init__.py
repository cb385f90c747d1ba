"""Refugium's evidence vault: encrypted files at rest, their chain of custody and export
bundles a court checks without refugium. No Django imports.

Files are age files encrypted to a desk's recipients as they stream in (``EncryptedStore``);
the web layer keeps only their random names. Every event on an item is a line of the signed
custody log (``CustodyLog``), which holds salted commitments, never bare hashes
(``commitment``). ``write_bundle`` and ``verify_bundle`` make and check export bundles.

``refugium.vault.sniff``, ``metadata`` and ``sharing`` are imported from their modules: they
bring in Pillow, pypdf and mutagen, which the intake's upload path does not need.
"""

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
