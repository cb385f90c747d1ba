"""`grep -r -a -F`, in Python: every encoding of a secret that could land on a disk.

For a marker (text or bytes) the forms searched are: the raw bytes (UTF-8 for text), UTF-16
(LE and BE), hex (lower and upper case), percent-encoding, and base64 (standard and URL-safe)
at each of the three alignments the marker can have within a 3-byte group. Base64 of the
same bytes differs with the alignment, and the characters at either end depend on the
neighbouring bytes, so each alignment contributes only its stable middle: the 4-character
groups made of marker bytes alone.

For a file's content, its digests: SHA-256, SHA-1 and MD5, as hex (both cases) and raw.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

MIN_FORM_BYTES = 12  # shorter forms would match random ciphertext by chance


def base64_middles(raw: bytes) -> dict[str, bytes]:
    """The part of base64(…+raw+…) that is the same whatever bytes surround ``raw``, for
    each of the three alignments of ``raw`` within a 3-byte group."""
    forms = {}
    for align in range(3):
        padded = b"\0" * align + raw
        padded += b"\0" * (-len(padded) % 3)
        encoded = base64.b64encode(padded)
        first = (align + 2) // 3  # first group made only of marker bytes
        last = (align + len(raw)) // 3  # groups after this one include padding
        middle = encoded[4 * first : 4 * last]
        forms[f"base64@{align}"] = middle
        forms[f"base64url@{align}"] = middle.replace(b"+", b"-").replace(b"/", b"_")
    return forms


def forms_of(secret: str | bytes) -> dict[str, bytes]:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    text = secret if isinstance(secret, str) else secret.decode("latin-1")
    forms = {
        "raw": raw,
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "percent": quote(raw, safe="").encode(),
        "percent-lower": quote(raw, safe="").lower().encode(),
        "form-urlencoded": quote_plus(raw).encode(),
        **base64_middles(raw),
    }
    for name, form in forms.items():
        assert len(form) >= MIN_FORM_BYTES, f"{name} of a marker is too short to search for"
    return forms


def digest_forms(content: bytes) -> dict[str, bytes]:
    forms = {}
    for algorithm in ("sha256", "sha1", "md5"):
        digest = hashlib.new(algorithm, content).digest()
        forms[f"{algorithm}-raw"] = digest
        forms[f"{algorithm}-hex"] = digest.hex().encode()
        forms[f"{algorithm}-HEX"] = digest.hex().upper().encode()
    return forms


@dataclass(frozen=True)
class Hit:
    path: Path
    secret: str
    form: str

    def __str__(self) -> str:
        return f"{self.secret} as {self.form} in {self.path}"


def files_under(*roots: Path) -> list[Path]:
    """Every regular file under the roots (a root may be a file itself), symlinks not
    followed."""
    found = []
    for root in roots:
        if root.is_file() and not root.is_symlink():
            found.append(root)
        elif root.is_dir():
            found += sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return found


def scan(
    paths: Iterable[Path], needles: Mapping[str, Mapping[str, bytes]]
) -> tuple[list[Hit], int]:
    """Searches every file for every form of every secret; returns the hits and the number
    of bytes read. ``needles`` maps a secret's label to its forms."""
    by_bytes: dict[bytes, list[tuple[str, str]]] = {}
    for label, forms in needles.items():
        for form_name, form in forms.items():
            by_bytes.setdefault(form, []).append((label, form_name))
    hits = []
    scanned = 0
    for path in paths:
        content = path.read_bytes()
        scanned += len(content)
        for form, owners in by_bytes.items():
            if form in content:
                hits += [Hit(path, label, form_name) for label, form_name in owners]
    return hits, scanned


HEX_RUN = re.compile(rb"[0-9a-fA-F]{64,}")


def hex_digests_in(paths: Iterable[Path]) -> set[str]:
    """Every 64 hex digits in a row in the files (each window of a longer run too),
    lower-cased: to compare as a set with the SHA-256 of many files at once."""
    found = set()
    for path in paths:
        for run in HEX_RUN.finditer(path.read_bytes()):
            digits = run.group(0).decode().lower()
            found |= {digits[i : i + 64] for i in range(len(digits) - 63)}
    return found


def control_bytes(needles: Mapping[str, Mapping[str, bytes]]) -> bytes:
    """Every form of every secret, among random bytes, made the way each would arise on a
    disk (base64 of the secret within other bytes, at each alignment, rather than the
    searched middle itself): the positive control for ``scan``."""
    parts = []
    for forms in needles.values():
        for name, form in forms.items():
            if not name.startswith("base64"):
                parts += [os.urandom(37), form]
        raw = forms.get("raw")
        if raw is not None and "base64@0" in forms:
            for align in range(3):
                around = os.urandom(align) + raw + os.urandom(5)
                parts += [os.urandom(11), base64.b64encode(around)]
                parts += [os.urandom(11), base64.urlsafe_b64encode(around)]
    return b"".join(parts)
