"""A reporter's file name, made safe to offer for saving and to show (T19).

The original name is whatever a reporter's device, or an attacker, put in the multipart
header: path separators, ``..``, NUL, control characters, right-to-left overrides that make
``exe.pdf`` read as ``fdp.exe``, names reserved on Windows, thousands of characters. It is
never used as a path by refugium itself (stored files have random names, and
``refugium inbox show --files-to`` prefixes the stored name); this module only makes the
*suggested* name harmless for the researcher's browser and file manager.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_CHARS = 120
FALLBACK = "file"

# Characters that mean something to some file system or shell, or to Content-Disposition.
_RESERVED = re.compile(r'[<>:"/\\|?*;\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")
# Names Windows gives to devices, with any extension ("con.txt" opens the console).
_WINDOWS_DEVICES = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$")


def _visible(ch: str) -> bool:
    # Cc control, Cf format (bidi overrides, zero-width joiners), Cs surrogates, Co private
    # use, Cn unassigned: none belongs in a name a person reads.
    return not unicodedata.category(ch).startswith("C")


def safe_name(original: object) -> str:
    """A non-empty name with no path, no control or invisible characters, no leading dot
    and at most ``MAX_NAME_CHARS`` characters, keeping the extension where it can.

    Takes anything (the decrypted meta is untrusted JSON) and never raises.
    """
    name = original if isinstance(original, str) else ""
    name = unicodedata.normalize("NFC", name)
    # Only the last path component, whichever separator the sender's system used.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if _visible(ch))
    name = _RESERVED.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if _WINDOWS_DEVICES.match(name):
        name = "_" + name
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME_CHARS].rstrip(" .")
    return name or FALLBACK


def ascii_fallback(name: str) -> str:
    """For the plain ``filename=`` parameter: ASCII only, quote-free."""
    ascii_name = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_" for ch in name)
    if not ascii_name.strip("_ ."):
        return FALLBACK
    return ascii_name


def content_disposition(original: object) -> str:
    """``attachment`` with both the ASCII ``filename`` and the RFC 6266 / RFC 8187
    ``filename*`` (UTF-8, percent-encoded), so that a browser never renders the file and
    saves it under a harmless name."""
    name = safe_name(original)
    encoded = quote(name.encode("utf-8"), safe="")
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"
