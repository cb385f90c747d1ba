"""The media type of a file, told from its first bytes, never from its name.

A reporter's file name or the browser's ``Content-Type`` say what the sender claims; the bytes
say what the file is. The metadata report (``refugium.vault.metadata``) and the sharing copy
(``refugium.vault.sharing``) pick their parser from this type, so a JPEG named ``notes.txt``
is still read, and stripped, as a JPEG.

Detection is the ``filetype`` library's (pure Python, no libmagic): it matches signatures in
the first ``PREFIX_BYTES`` bytes only and never looks at the end of the file, so the store can
sniff while it streams, keeping just that prefix of plaintext in memory.
"""

from __future__ import annotations

import filetype  # type: ignore[import-untyped]

__all__ = ["OCTET_STREAM", "PREFIX_BYTES", "media_type"]

#: How many leading bytes ``media_type`` looks at (``filetype`` reads 8192; Office Open XML
#: is found by the names of the first few zip members, which sit within that).
PREFIX_BYTES = 8192

#: The answer for empty input and for anything not recognised.
OCTET_STREAM = "application/octet-stream"

# filetype's names where IANA registered another (audio/flac: RFC 9639); mat2 and Python's
# mimetypes use the registered one.
_ALIASES = {
    "audio/x-flac": "audio/flac",
}


def media_type(prefix: bytes) -> str:
    """The media type of a file whose first bytes are ``prefix``.

    Pass at least ``PREFIX_BYTES`` bytes when the file has them; bytes beyond that are ignored.
    The answer depends on content alone. Empty or unrecognised input gives
    ``application/octet-stream``.

    Raises:
        Nothing: any ``bytes`` get an answer.
    """
    head = bytes(prefix[:PREFIX_BYTES])
    if not head:
        return OCTET_STREAM
    try:
        kind = filetype.guess(head)
    except Exception:  # a matcher tripping on hostile bytes is "unknown", not a crash
        return OCTET_STREAM
    if kind is None:
        return OCTET_STREAM
    mime = str(kind.mime)
    return _ALIASES.get(mime, mime)
