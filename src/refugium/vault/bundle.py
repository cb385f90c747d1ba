"""Export bundles: evidence a court's expert verifies with stock tools and no refugium.

Why: evidence stays secret until it is needed, and then it must be shown *untouched*. A
bundle holds the original files and enough signed context to prove that each is the file the
organisation ingested, and that nothing was changed on the way; its ``VERIFY.txt`` gives the
exact commands for a machine with only coreutils and OpenSSL 3 (no jq, no Python).

Layout of a bundle (folders 0700, files 0600)::

    files/<item>-<safe name>   each original file, byte for byte
    items.json                 per item: id, file, sha256, salt, commitment, size, media type,
                               details (such as the source)
    custody.jsonl              the whole custody log, as signed (a chain is checkable only
                               from its first entry)
    custody-public.pem         the organisation's custody public key (Ed25519, PEM)
    MANIFEST.sha256            ``sha256sum`` format, sorted by path: the files above, the
                               log, items.json and VERIFY.txt (the key and the signature
                               are checked through the signature itself)
    MANIFEST.sha256.sig        raw Ed25519 signature over the manifest's bytes
    VERIFY.txt                 the commands, in order; also a script: ``sh -e VERIFY.txt``

What proves what: the signature proves the manifest came from the holder of the custody key;
the manifest proves every file, the log and items.json are as exported; the signed, linked
log lines show the events in the order they were recorded, each signed by the key holder;
``printf '%s:%s' SALT SHA256 | sha256sum`` ties each file's SHA-256 to the commitment in its
``ingested`` entry (see ``refugium.vault.custody`` for why the log holds commitments, not
hashes). What it cannot
prove alone: that the public key is the organisation's (compare its fingerprint with one
published elsewhere), and that the log was not rewritten wholesale by someone holding the key
(compare its head with heads written down earlier; see ``refugium.chain``).

A bundle is built in a hidden sibling folder (``.<name>.partial-<hex>``), every file and
folder fsynced, and renamed to its name only when whole: a full disk, a hash mismatch or
Ctrl-C leaves no half bundle. A power cut can leave the hidden folder, which may be deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import stat
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refugium.audit import check_identifier
from refugium.chain import GENESIS, SignedChain, canonical_json, verify_chain_file
from refugium.crypto.signing import BadSignature, SigningKey, VerifyKey
from refugium.durable import fsync_dir
from refugium.errors import BadInput, ChainBroken, Conflict, DecryptionFailed
from refugium.vault.custody import CustodyLog, commitment

__all__ = ["BundleItem", "BundleResult", "safe_file_name", "verify_bundle", "write_bundle"]

FORMAT = "refugium-bundle-1"
"""The ``format`` field of ``items.json``."""

MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
CUSTODY = "custody.jsonl"
PUBLIC_KEY = "custody-public.pem"
ITEMS = "items.json"
VERIFY = "VERIFY.txt"
FILES = "files"

MAX_NAME_CHARS = 100
"""Longest safe name (after the item id), in characters; also at most ``MAX_NAME_BYTES``."""
MAX_NAME_BYTES = 180
"""Longest safe name in UTF-8 bytes: with a 64-character id it stays under the 255 of ext4."""

_FILE_MODE = 0o600
_DIR_MODE = 0o700
_READ = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)", re.ASCII)
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned
# characters, and line/paragraph separators: invisible or misleading in a file name.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Path separators, characters Windows refuses, and shell quoting characters: a court's
# expert may copy the files anywhere and type the names into a shell.
_REPLACED = frozenset("/\\<>:\"|?*`$'")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class BundleItem:
    """One item to export.

    ``chunks`` returns the decrypted plaintext in pieces (for instance
    ``EncryptedStore.iter_plaintext``); it is read once, streamed, and closed if it has a
    ``close``. ``salt`` is the item's commitment salt, kept encrypted by the caller.
    """

    item: str
    name: str
    salt: str
    sha256: str
    size: int
    media_type: str
    details: dict[str, str]
    chunks: Callable[[], Iterable[bytes]] = field(repr=False)


@dataclass(frozen=True)
class BundleResult:
    """What ``write_bundle`` wrote."""

    path: Path
    files: dict[str, str]
    """Item id to the file's path inside the bundle (``files/<item>-<safe name>``)."""
    manifest_sha256: str
    """SHA-256 of ``MANIFEST.sha256``: worth writing down next to the export record."""
    custody_head: tuple[int, str]
    """The custody log's head as copied into the bundle."""


def safe_file_name(item: str, name: str) -> str:
    """``<item>-<readable basename>``: safe inside ``files/``, unique because ``item`` is.

    Keeps letters of any script (NFC), drops folders, control, bidi and other invisible
    characters, replaces path, Windows-reserved and shell-quoting characters with ``_``, and
    shortens long names keeping their extension. Why: a name comes from a reporter's device;
    ``../x`` must not escape the folder, U+202E must not make ``gpj.exe`` read as ``exe.jpg``
    to the court, and the name must survive being typed into a shell or copied to Windows.

    Raises:
        Nothing; a name with nothing readable left becomes ``file``.
    """
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join("_" if c in _REPLACED else c for c in text)
    text = " ".join("".join(" " if unicodedata.category(c) == "Zs" else c for c in text).split())
    text = text.strip(". ")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 16 or not ext.isalnum():
        stem, ext = text, ""
    suffix = f".{ext}" if ext else ""
    while stem and (
        len(stem) + len(suffix) > MAX_NAME_CHARS
        or len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES
    ):
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    if not stem:
        stem = "file"
    return f"{item}-{stem}{suffix}"


def write_bundle(
    out: Path,
    items: Sequence[BundleItem],
    custody: CustodyLog,
    signing_key: SigningKey,
) -> BundleResult:
    """Writes an export bundle of ``items`` to the new folder ``out``.

    Record the ``exported`` events in ``custody`` first if the bundle's copy of the log is
    to show them. Each item's commitment must be in an ``ingested`` entry for that item, or
    the bundle would not verify. Each file is hashed as it is written; memory use does not
    grow with file size.

    Returns:
        Where the bundle is, each item's file, the manifest's hash and the log's head.

    Raises:
        Conflict: ``out`` exists (code ``bundle_exists``); nothing is touched.
        BadInput: an item is malformed, repeated, or has no ``ingested`` entry carrying its
            commitment; or ``signing_key`` is not the custody log's key (code
            ``key_mismatch``).
        DecryptionFailed: a file's plaintext does not have the SHA-256 or size recorded
            for it (code ``content_mismatch``), or decryption itself failed.
        ChainBroken: the custody log does not verify.
        OSError: the disk is full or not writable.
        In every case no bundle is left at ``out`` and the temporary folder is removed.
    """
    out = Path(out)
    if os.path.lexists(out):
        raise Conflict("the bundle folder already exists; choose a new one", code="bundle_exists")
    if signing_key.verify_key != custody.verify_key:
        raise BadInput(
            "the signing key does not belong to the custody log's public key",
            code="key_mismatch",
        )
    _check_items(items)
    parent = out.parent
    tmp = parent / f".{out.name}.partial-{secrets.token_hex(8)}"
    os.mkdir(tmp, _DIR_MODE)
    try:
        os.chmod(tmp, _DIR_MODE)
        result = _build(tmp, out, items, custody, signing_key)
        fsync_dir(tmp)
        if os.path.lexists(out):  # someone took the name meanwhile; never replace it
            raise Conflict(
                "the bundle folder already exists; choose a new one", code="bundle_exists"
            )
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(parent)
    return result


def verify_bundle(path: Path) -> list[str]:
    """Checks a bundle as a court's expert would, without trusting anything inside it blindly.

    Checks: every manifest line (form, path, SHA-256), no file outside the manifest, the
    manifest's signature against ``custody-public.pem``, the custody chain from its first
    entry, and for each item in ``items.json`` its file and hash in the manifest, its
    commitment from salt and SHA-256, and that commitment in an ``ingested`` entry for it.

    What this cannot check: whether ``custody-public.pem`` is the organisation's key (compare
    its fingerprint with one obtained elsewhere) and whether the log's head matches one
    written down earlier.

    Returns:
        One plain sentence per problem, naming the file (and entry or item); empty if good.

    Raises:
        OSError: the bundle folder itself cannot be read.
    """
    path = Path(path)
    problems: list[str] = []
    if not path.is_dir():
        return [f"{path.name}: not a bundle folder"]
    for name in (MANIFEST, SIGNATURE, CUSTODY, PUBLIC_KEY, ITEMS):
        if not _is_plain_file(path / name):
            problems.append(f"{name}: missing")

    manifest = _read_small(path / MANIFEST)
    listed: dict[str, str] = {}
    if manifest is not None:
        listed = _check_manifest(path, manifest, problems)

    key: VerifyKey | None = None
    pem = _read_small(path / PUBLIC_KEY)
    if pem is not None:
        try:
            key = VerifyKey.from_public_pem(pem)
        except BadInput:
            problems.append(f"{PUBLIC_KEY}: not an Ed25519 public key in PEM form")
        else:
            # PEM readers skip stray bytes around the key; the exact form leaves no room for
            # an edit that goes unnoticed.
            if key.to_public_pem() != pem:
                problems.append(f"{PUBLIC_KEY}: not in the exact PEM form it was written in")
    signature = _read_small(path / SIGNATURE)
    if key is not None and manifest is not None and signature is not None:
        try:
            key.verify(signature, manifest)
        except BadSignature:
            problems.append(f"{SIGNATURE}: signature does not verify")

    # Commitments are looked up only in a log that verified: a broken log is reported once,
    # not again for every item whose ingest entry it no longer vouches for.
    ingested: dict[str, set[str]] = {}
    chain_ok = False
    if key is not None and _is_plain_file(path / CUSTODY):
        try:
            verify_chain_file(path / CUSTODY, key)
        except ChainBroken as exc:
            problems.append(f"{CUSTODY}: {exc.message}")
        else:
            chain_ok = True
            for entry in SignedChain(path / CUSTODY, key).entries():
                body = entry["body"]
                if body.get("event") == "ingested":
                    ingested.setdefault(str(body.get("item")), set()).add(str(body.get("content")))

    items_raw = _read_small(path / ITEMS)
    if items_raw is not None:
        _check_items_json(path, items_raw, listed, ingested, chain_ok, problems)
    return problems


# -- writing ------------------------------------------------------------------------------


def _check_items(items: Sequence[BundleItem]) -> None:
    """Raises:
    BadInput: an item is malformed or repeated; the message names the item id only.
    """
    seen: set[str] = set()
    for it in items:
        try:
            check_identifier("item", it.item, required=True)
        except BadInput:
            raise BadInput("an item id is not a short identifier", code="bad_item") from None
        if it.item.casefold() in seen:
            raise BadInput(f"item {it.item} is listed twice", code="bad_item")
        seen.add(it.item.casefold())
        if not isinstance(it.sha256, str) or _HEX64.fullmatch(it.sha256) is None:
            raise BadInput(
                f"item {it.item}: the SHA-256 must be 64 lowercase hex digits", code="bad_item"
            )
        commitment(it.sha256, it.salt)  # checks the salt
        if type(it.size) is not int or it.size < 0:
            raise BadInput(f"item {it.item}: the size must be a whole number", code="bad_item")
        if not isinstance(it.media_type, str) or not isinstance(it.name, str):
            raise BadInput(f"item {it.item}: name and media type must be text", code="bad_item")
        if not isinstance(it.details, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in it.details.items()
        ):
            raise BadInput(f"item {it.item}: details must map text to text", code="bad_item")


def _build(
    tmp: Path,
    out: Path,
    items: Sequence[BundleItem],
    custody: CustodyLog,
    signing_key: SigningKey,
) -> BundleResult:
    """Writes every part of the bundle into ``tmp``; see ``write_bundle`` for errors."""
    hashes: dict[str, str] = {}

    # The log first: it is verified entry by entry as it is copied, and tells which
    # commitments were ingested. Entries are canonical, so re-serialising gives the very
    # bytes of the file, read up to a point where no append is half done.
    ingested: dict[str, set[str]] = {}
    digest = hashlib.sha256()
    count, last = 0, GENESIS
    with _Writer(tmp / CUSTODY) as log_out:
        for entry in custody.entries():
            line = canonical_json(entry) + b"\n"
            log_out.write(line)
            digest.update(line)
            count, last = entry["seq"] + 1, hashlib.sha256(line).hexdigest()
            body = entry["body"]
            if body.get("event") == "ingested":
                ingested.setdefault(str(body.get("item")), set()).add(str(body.get("content")))
    hashes[CUSTODY] = digest.hexdigest()

    for it in items:
        if commitment(it.sha256, it.salt) not in ingested.get(it.item, set()):
            raise BadInput(
                f"item {it.item}: no ingested entry in the custody log carries its "
                "commitment; check its salt and SHA-256",
                code="not_ingested",
            )

    os.mkdir(tmp / FILES, _DIR_MODE)
    os.chmod(tmp / FILES, _DIR_MODE)
    files: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    for it in sorted(items, key=lambda i: i.item):
        rel = f"{FILES}/{safe_file_name(it.item, it.name)}"
        hashes[rel] = _write_item(tmp / rel, it)
        files[it.item] = rel
        records.append(
            {
                "item": it.item,
                "file": rel,
                "sha256": it.sha256,
                "salt": it.salt,
                "commitment": commitment(it.sha256, it.salt),
                "size": it.size,
                "media_type": it.media_type,
                "details": dict(it.details),
            }
        )
    fsync_dir(tmp / FILES)

    items_json = (
        json.dumps(
            {"format": FORMAT, "items": records}, indent=2, ensure_ascii=False, sort_keys=True
        )
        + "\n"
    ).encode("utf-8")
    _write_small(tmp / ITEMS, items_json)
    hashes[ITEMS] = hashlib.sha256(items_json).hexdigest()

    _write_small(tmp / PUBLIC_KEY, custody.verify_key.to_public_pem())
    verify_text = _verify_text(records, count).encode("utf-8")
    _write_small(tmp / VERIFY, verify_text)
    hashes[VERIFY] = hashlib.sha256(verify_text).hexdigest()

    manifest = "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes)).encode("utf-8")
    _write_small(tmp / MANIFEST, manifest)
    _write_small(tmp / SIGNATURE, signing_key.sign(manifest))
    return BundleResult(
        path=out,
        files=files,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        custody_head=(count, last),
    )


def _write_item(path: Path, it: BundleItem) -> str:
    """Streams one item's plaintext to ``path``, hashing it; returns its SHA-256.

    Raises:
        DecryptionFailed: the bytes written do not have the recorded SHA-256 and size.
    """
    digest = hashlib.sha256()
    size = 0
    chunks = it.chunks()
    try:
        with _Writer(path) as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    if digest.hexdigest() != it.sha256 or size != it.size:
        raise DecryptionFailed(
            f"item {it.item}: the decrypted file does not match the SHA-256 and size "
            "recorded at ingest; no bundle was written. Check the stored file.",
            code="content_mismatch",
        )
    return digest.hexdigest()


class _Writer:
    """A new file (never an existing one, never through a symlink), fsynced on close."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | os.O_CLOEXEC, _FILE_MODE
        )

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)


def _write_small(path: Path, data: bytes) -> None:
    with _Writer(path) as fh:
        fh.write(data)


def _verify_text(records: list[dict[str, Any]], entries: int) -> str:
    """VERIFY.txt: prose as ``#`` comments, so the file is also a POSIX shell script."""
    parts = [_VERIFY_HEAD.format(items=len(records), entries=entries)]
    for rec in records:
        item, sha, salt, com = rec["item"], rec["sha256"], rec["salt"], rec["commitment"]
        quoted = shlex.quote(rec["file"])
        parts.append(
            f"# Item {item}: {rec['file']}\n"
            f"if sha256sum < {quoted} | grep -q '^{sha} ' \\\n"
            f"  && printf '%s:%s' {salt} {sha} | sha256sum | grep -q '^{com} ' \\\n"
            f'  && grep -F \'"item":"{item}"\' custody.jsonl | grep -F \'"event":"ingested"\''
            f' | grep -qF \'"content":"{com}"\'\n'
            f"then echo '{item}: file, SHA-256, salt and custody log agree'\n"
            f"else echo '{item}: FAILED'; false; fi\n"
        )
    parts.append(_VERIFY_TAIL)
    return "\n".join(parts)


_VERIFY_HEAD = """\
# How to verify this evidence bundle without refugium
#
# Needs only a POSIX shell, GNU coreutils (sha256sum, base64, tr, cut, wc, tail, ls, mktemp),
# grep, sed and OpenSSL 3. jq and Python are not needed. In this folder, run the commands
# below in order, reading what each prints; each one exits non-zero when its check fails.
# Or run the whole file; it stops at the first failure and ends with ALL CHECKS PASSED only
# if every check passed:
#
#     sh -e VERIFY.txt
#
# This bundle: {items} item(s); custody log of {entries} entries.

# Step 1. Every file is the one listed in the manifest.
# Each line of MANIFEST.sha256 is "<SHA-256>  <path>"; sha256sum prints OK for each file.
# (--strict also fails on a malformed line.) Then: no file in files/ is left out of it.
sha256sum --strict -c MANIFEST.sha256
if [ "$(ls -A files | wc -l)" -eq "$(grep -c '  files/' MANIFEST.sha256)" ]
then echo 'files/: every file is in the manifest'
else echo 'files/: FAILED, a file is not in the manifest'; false; fi

# Step 2. The manifest is the one the organisation signed.
# MANIFEST.sha256.sig is a raw Ed25519 signature over the bytes of MANIFEST.sha256, by the
# organisation's custody key; custody-public.pem is its public half. OpenSSL prints
# "Signature Verified Successfully".
openssl pkeyutl -verify -pubin -inkey custody-public.pem -rawin -in MANIFEST.sha256 \\
  -sigfile MANIFEST.sha256.sig

# Step 3. The custody log is whole: each entry signed, each linked to the one before.
# Each line of custody.jsonl is {{"body":{{...}},"prev":"<hex>","seq":N,"sig":"<base64>"}}.
# "prev" is the SHA-256 of the previous line with its newline (64 zeros for the first),
# "seq" counts from 0, and "sig" is an Ed25519 signature over the line without its newline
# and without ,"sig":"...". For line 1 by hand:
#     sed -n 1p custody.jsonl | sed -E 's/,"sig":"[^"]*"}}$/}}/' | tr -d '\\n' > msg
#     sed -n 1p custody.jsonl | sed -E 's/.*,"sig":"([^"]*)"}}$/\\1/' | base64 -d > sig
#     openssl pkeyutl -verify -pubin -inkey custody-public.pem -rawin -in msg -sigfile sig
# The loop below does that for every line.
(
  t=$(mktemp -d) || exit 1
  n=$(wc -l < custody.jsonl)
  prev=0000000000000000000000000000000000000000000000000000000000000000
  i=1
  while [ "$i" -le "$n" ]; do
    seq=$((i - 1))
    sed -n "${{i}}p" custody.jsonl > "$t/line"
    end="\\"prev\\":\\"$prev\\",\\"seq\\":$seq,\\"sig\\":\\"[A-Za-z0-9+/=]*\\"}}\\$"
    if ! grep -q "^{{\\"body\\":{{.*}},$end" "$t/line"
    then echo "custody.jsonl: entry $seq: FAILED, malformed or not linked to the entry before"
      rm -rf "$t"; exit 1; fi
    sed -E 's/,"sig":"[^"]*"}}$/}}/' "$t/line" | tr -d '\\n' > "$t/msg"
    s=$(sed -E 's/.*,"sig":"([^"]*)"}}$/\\1/' "$t/line")
    printf '%s' "$s" | base64 -d > "$t/sig" 2> /dev/null || true
    if [ "$(base64 -w 0 < "$t/sig")" != "$s" ] || ! openssl pkeyutl -verify -pubin \\
        -inkey custody-public.pem -rawin -in "$t/msg" -sigfile "$t/sig" > /dev/null
    then echo "custody.jsonl: entry $seq: FAILED, signature does not verify"
      rm -rf "$t"; exit 1; fi
    prev=$(sha256sum < "$t/line" | cut -c 1-64)
    i=$((i + 1))
  done
  rm -rf "$t"
  if [ -n "$(tail -c 1 custody.jsonl)" ]
  then echo "custody.jsonl: FAILED, the last line is incomplete"; exit 1; fi
  echo "custody.jsonl: $n entries, each signed and linked to the one before"
)

# Step 4. Each file is the one the custody log recorded when it came in.
# The log never holds a file's SHA-256 in the clear (a seized log must not confirm which
# known files the organisation holds), only a commitment: the SHA-256 of "SALT:SHA256",
#     printf '%s:%s' SALT SHA256 | sha256sum
# items.json reveals the salt of each exported item. For each item: the file has this SHA-256,
# salt and SHA-256 give this commitment, and the commitment is in the log's "ingested" entry
# for the item.
"""

_VERIFY_TAIL = """\
# Step 5. Anchors outside this bundle: compare, do not trust the bundle for these.
# Anyone can make a key and sign a bundle. Compare the key's fingerprint with the one the
# organisation published or gave you separately:
openssl pkey -pubin -in custody-public.pem -outform DER | sha256sum
# Whoever holds the key could rewrite the whole log. If the organisation wrote down or
# published a head of its log (entry count and SHA-256 of that entry's line), line N here must
# have that SHA-256 (replace N):
#     sed -n Np custody.jsonl | sha256sum
# This bundle's own head:
wc -l < custody.jsonl
tail -n 1 custody.jsonl | sha256sum

echo 'ALL CHECKS PASSED'
"""


# -- verifying ----------------------------------------------------------------------------


def _is_plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_small(path: Path) -> bytes | None:
    """The bytes of a regular file (never through a symlink), or None if there is none."""
    if not _is_plain_file(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _hash_file(path: Path) -> str | None:
    if not _is_plain_file(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


def _inside_plain_folders(path: Path, rel: str) -> bool:
    """Every folder on the way to ``rel`` is a real folder, not a symlink out of the bundle."""
    folder, _, _ = rel.rpartition("/")
    if not folder:
        return True
    try:
        return stat.S_ISDIR(os.lstat(path / folder).st_mode)
    except OSError:
        return False


def _shown(text: str) -> str:
    """A name from the bundle as it may be printed: invisible characters escaped."""
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in _DROPPED_CATEGORIES
        else c
        for c in text
    )


def _allowed_path(rel: str) -> bool:
    """A top-level name, or ``files/<name>``: nothing deeper, nothing outside."""
    parts = rel.split("/")
    if len(parts) == 2 and parts[0] == FILES:
        name = parts[1]
    elif len(parts) == 1:
        name = parts[0]
    else:
        return False
    return name not in ("", ".", "..") and "\x00" not in name


def _check_manifest(path: Path, manifest: bytes, problems: list[str]) -> dict[str, str]:
    """Checks every line and every file it names; returns path to listed SHA-256."""
    listed: dict[str, str] = {}
    try:
        text = manifest.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{MANIFEST}: not UTF-8 text")
        return listed
    if text and not text.endswith("\n"):
        problems.append(f"{MANIFEST}: the last line is incomplete")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None or not _allowed_path(match.group(2)):
            problems.append(f"{MANIFEST}: line {number} is not a sha256sum line for this bundle")
            continue
        digest, rel = match.groups()
        if rel in listed:
            problems.append(f"{MANIFEST}: {_shown(rel)} is listed twice")
            continue
        listed[rel] = digest
        actual = _hash_file(path / rel) if _inside_plain_folders(path, rel) else None
        if actual is None:
            problems.append(f"{_shown(rel)}: listed in the manifest but missing")
        elif actual != digest:
            problems.append(f"{_shown(rel)}: SHA-256 does not match the manifest")
    paths = [line[66:] for line in lines]
    if paths != sorted(paths):
        problems.append(f"{MANIFEST}: lines are not sorted by path")
    for name in (CUSTODY, ITEMS):
        if name not in listed:
            problems.append(f"{name}: not listed in the manifest")
    present: list[str] = []
    try:
        files_dir = stat.S_ISDIR(os.lstat(path / FILES).st_mode)
    except OSError:
        files_dir = False
    if files_dir:
        present = sorted(os.listdir(path / FILES))
    else:  # a symlink here would have the checks read files outside the bundle
        problems.append(f"{FILES}/: missing or not a plain folder")
    for name in present:
        if f"{FILES}/{name}" not in listed:
            problems.append(f"{FILES}/{_shown(name)}: not listed in the manifest")
    return listed


def _check_items_json(
    path: Path,
    raw: bytes,
    listed: dict[str, str],
    ingested: dict[str, set[str]],
    chain_ok: bool,
    problems: list[str],
) -> None:
    try:
        data = json.loads(raw.decode("utf-8"))
        records = data["items"]
        if data.get("format") != FORMAT or not isinstance(records, list):
            raise ValueError
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
        problems.append(f"{ITEMS}: not a bundle's item list")
        return
    described: set[str] = set()
    for number, rec in enumerate(records, start=1):
        if not _well_formed_record(rec):
            problems.append(f"{ITEMS}: item {number} is malformed")
            continue
        item, rel = rec["item"], rec["file"]
        label = f"{ITEMS}: item {_shown(item)}"
        described.add(rel)
        if not rel.startswith(f"{FILES}/{item}-") or rel not in listed:
            problems.append(f"{label}: its file {_shown(rel)} is not in the manifest")
        elif listed[rel] != rec["sha256"]:
            problems.append(f"{label}: SHA-256 differs from the manifest's")
        else:
            try:
                size = os.lstat(path / rel).st_size
            except OSError:
                size = -1
            if size != rec["size"]:
                problems.append(f"{label}: size differs from the file's")
        try:
            expected = commitment(rec["sha256"], rec["salt"])
        except BadInput:
            problems.append(f"{label}: salt or SHA-256 is malformed")
            continue
        if expected != rec["commitment"]:
            problems.append(f"{label}: commitment does not match its salt and SHA-256")
        elif chain_ok and expected not in ingested.get(item, set()):
            problems.append(f"{label}: commitment is in no ingested entry of {CUSTODY}")
    for rel in sorted(listed):
        if rel.startswith(f"{FILES}/") and rel not in described:
            problems.append(f"{_shown(rel)}: not described in {ITEMS}")


def _well_formed_record(rec: object) -> bool:
    if not isinstance(rec, dict):
        return False
    strings = ("item", "file", "sha256", "salt", "commitment", "media_type")
    return (
        all(isinstance(rec.get(k), str) for k in strings)
        and type(rec.get("size")) is int
        and isinstance(rec.get("details"), dict)
    )
