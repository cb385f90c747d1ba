"""Unambiguous encoding of several strings as one byte string (package-internal).

Associated data and MAC inputs that are made of several parts must not be mere
concatenations: ("ab", "c") and ("a", "bc") would then authenticate alike. Each part is
prefixed with its length as four big-endian bytes, so the encoding is injective.
"""

from __future__ import annotations


def length_prefixed(*parts: str | bytes) -> bytes:
    """Encode each part (str as UTF-8) as a 4-byte big-endian length followed by its bytes.

    Raises:
        UnicodeEncodeError: a str part holds a lone surrogate (a bug in the caller).
        OverflowError: a part is 4 GiB or longer (a bug in the caller).
    """
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        out += len(data).to_bytes(4, "big")
        out += data
    return bytes(out)
