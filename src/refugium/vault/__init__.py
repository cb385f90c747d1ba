"""Refugium's evidence vault: encrypted files at rest. No Django imports.

Files are age files encrypted to a desk's recipients as they stream in (``EncryptedStore``);
the web layer keeps only their random names.
"""

from refugium.vault.store import (
    NORMALISED_TIME,
    EncryptedStore,
    Staged,
    SweepReport,
    TooLarge,
    Upload,
)

__all__ = [
    "NORMALISED_TIME",
    "EncryptedStore",
    "Staged",
    "SweepReport",
    "TooLarge",
    "Upload",
]
