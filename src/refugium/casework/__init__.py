"""Casework without Django: what the sanctuary desk needs before any database is involved.

Today that is the canonical form of contact identifiers (``contacts``), which the provocation
watchlist hashes: one string per identifier and kind, whatever way it was written.
"""

from refugium.casework.contacts import KINDS, Kind, guess_kind, lookup_key, normalise

__all__ = ["KINDS", "Kind", "guess_kind", "lookup_key", "normalise"]
