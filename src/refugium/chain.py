"""One signed hash chain: the append-only JSON-lines log under the audit and custody logs.

Why a chain: a log that an insider or a state that seized the server could quietly edit is
worth nothing in a court or in an inquiry into a leak. Each line holds the SHA-256 of the line
before it and an Ed25519 signature by the organisation's log-signing key, so that editing,
deleting, reordering or inserting an entry breaks every check from that entry on.

The format, which a court's expert can check with no refugium installed
-----------------------------------------------------------------------
One entry per line, each line the canonical JSON of the entry followed by ``\\n``::

    {"body":{...},"prev":"<64 hex>","seq":0,"sig":"<base64>"}

* canonical JSON: keys sorted, separators ``,`` and ``:`` with no whitespace, non-ASCII written
  as UTF-8 (not ``\\u`` escapes). A line must be byte-identical to the canonical form of what
  it parses to, so no edit can hide in whitespace, escapes, key order or number spelling.
* ``seq`` counts from 0 with no gaps.
* ``prev`` is the SHA-256 (lowercase hex) of the previous line's bytes *including* its
  ``\\n`` (``sed -n 1p log | sha256sum``), or 64 zeros for the first entry.
* ``sig`` is the standard padded base64 of the Ed25519 signature over the canonical JSON of
  ``{"body","prev","seq"}``. Because the keys sort in that order, the signed bytes are the line
  without its newline and with ``,"sig":"…"`` removed::

      sed -n 1p log | sed -E 's/,"sig":"[^"]*"}$/}/' | tr -d '\\n' > msg
      sed -n 1p log | jq -r .sig | base64 -d > sig
      openssl pkeyutl -verify -pubin -inkey log-key.pub.pem -rawin -in msg -sigfile sig

* ``body`` is any JSON object whose values are strings, integers in ±(2**53 - 1), booleans,
  null, lists and objects. Floats are refused: their spelling differs between tools, and a
  canonical form must be the same everywhere (I-JSON, RFC 7493, for the integer range).

Residual risk, stated plainly
-----------------------------
The running server must hold the signing key to append. An adversary who seizes it running
(or who finds the key) can write a whole new chain, every entry correctly signed and linked,
and ``verify()`` cannot tell. The same adversary can cut the chain back to any earlier entry.
The only defence is outside the server: an administrator writes down or publishes ``head()``
(entry count and hash of the last line) from time to time, on paper, with a partner
organisation or in a public place, and later checks ``verify(anchor=that_head)``. Entries up
to a published head then cannot have been changed; entries after the last published head can.

Concurrency and crashes
-----------------------
``append`` takes an exclusive ``flock`` on the log file, reads only the tail to find the last
entry, writes the new line with one ``O_APPEND`` write, fsyncs and only then returns: several
gunicorn workers may append at once. A crash mid-write leaves a last line with no newline; it
was never acknowledged, ``verify`` reports it, ``append`` refuses to build on it, and
``repair_torn_tail`` removes it once an administrator has looked.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict

from refugium.crypto.signing import BadSignature, SigningKey, VerifyKey
from refugium.durable import fsync_dir
from refugium.errors import BadInput, ChainBroken

__all__ = [
    "GENESIS",
    "MAX_INT",
    "Entry",
    "SignedChain",
    "canonical_json",
    "verify_chain_file",
]

GENESIS = "0" * 64
"""The ``prev`` of the first entry, and the hash ``head()`` gives for an empty chain."""

MAX_INT = 2**53 - 1
"""Largest integer magnitude allowed in a body: beyond it, many JSON tools round (RFC 7493)."""

_FIELDS = frozenset({"body", "prev", "seq", "sig"})
_SIGNATURE_BYTES = 64
_TAIL_CHUNK = 8192


class Entry(TypedDict):
    """One verified entry of a chain."""

    seq: int
    prev: str
    body: dict[str, Any]
    sig: str


def canonical_json(value: Any) -> bytes:
    """The one serialisation of ``value`` that the chain signs and stores.

    Raises:
        ValueError: the value holds NaN or an infinity.
        UnicodeEncodeError: a string holds a lone surrogate, which UTF-8 cannot carry.
        TypeError: the value holds something JSON has no form for.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def verify_chain_file(
    path: Path, verify_key: VerifyKey, *, anchor: tuple[int, str] | None = None
) -> int:
    """Checks a chain file as found, for instance in an export bundle; needs no data folder.

    ``anchor`` is a ``head()`` written down earlier: the chain must still contain that entry,
    unchanged. Without an anchor, a chain rewritten with the signing key, or cut back at a line
    boundary, verifies (see the module docstring).

    Returns:
        The number of entries.

    Raises:
        ChainBroken: some entry fails; ``index`` is the first that does (for a failed anchor,
            the anchored entry, or the first missing one). The message names the entry and the
            kind of failure, never the content.
        BadInput: ``anchor`` is not of the form ``head()`` returns.
        OSError: the file cannot be read (``FileNotFoundError`` if it does not exist).
    """
    return _scan(path, verify_key, anchor=anchor, missing_ok=False)[0]


class SignedChain:
    """An append-only, hash-linked, signed JSON-lines file.

    Open it with only the ``verify_key`` to check it, with the ``signing_key`` too to append.
    A file that does not exist yet is an empty chain; ``append`` creates it (mode 0600).
    """

    def __init__(
        self, path: Path, verify_key: VerifyKey, signing_key: SigningKey | None = None
    ) -> None:
        """Raises:
        BadInput: the signing key is not the private half of ``verify_key`` (code
            ``key_mismatch``): entries signed with it would never verify.
        """
        if signing_key is not None and signing_key.verify_key != verify_key:
            raise BadInput(
                "the signing key does not belong to the chain's public key",
                code="key_mismatch",
            )
        self._path = Path(path)
        self._verify_key = verify_key
        self._signing_key = signing_key

    @property
    def path(self) -> Path:
        return self._path

    def append(self, body: dict[str, Any]) -> Entry:
        """Adds one entry and returns once it is on disk.

        Several processes may append to the same file at once: they take turns on an
        exclusive ``flock``. Only the tail of the file is read, so appending costs the same
        however long the chain is. The file is opened with ``O_NOFOLLOW`` so that a symlink
        planted at the log's path cannot redirect the log.

        Raises:
            BadInput: ``body`` is not a JSON object of the allowed types (see the module
                docstring), or the chain was opened without its signing key (code
                ``no_signing_key``). Nothing is written.
            ChainBroken: the last line is incomplete (an interrupted write) or not a valid
                signed entry; nothing is written until an administrator repairs it.
            OSError: the disk is full or not writable; a partly written line is removed
                before the error propagates.
        """
        return self.append_many([body])[0]

    def append_many(self, bodies: Sequence[dict[str, Any]]) -> list[Entry]:
        """Adds the entries in order, under one lock, with one write and one ``fsync``, and
        returns once all are on disk: the same lines as ``append`` called for each body.

        Why: a bulk import audits every identity it opens (one entry per record), and an
        ``fsync`` per entry would cost milliseconds each, hundreds of thousands of times.
        No other appender's entry can fall between these; either all are written or (on an
        error) none.

        Raises:
            BadInput, ChainBroken, OSError: as for ``append``; a bad body anywhere means
                nothing is written.
        """
        if self._signing_key is None:
            raise BadInput("this chain was opened without its signing key", code="no_signing_key")
        for body in bodies:
            _check_body(body)
        if not bodies:
            return []
        fd = os.open(
            self._path,
            os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size == 0:
                # The first writer makes the file's name durable before anyone builds on it;
                # later appenders can only run after this one releases the lock.
                fsync_dir(self._path.parent)
            seq, prev = self._tail_state(fd, size)
            entries: list[Entry] = []
            lines: list[bytes] = []
            for body in bodies:
                unsigned = {"body": body, "prev": prev, "seq": seq}
                sig = base64.b64encode(self._signing_key.sign(canonical_json(unsigned)))
                entry = Entry(seq=seq, prev=prev, body=body, sig=sig.decode("ascii"))
                line = canonical_json(entry) + b"\n"
                entries.append(entry)
                lines.append(line)
                seq, prev = seq + 1, hashlib.sha256(line).hexdigest()
            try:
                _write_all(fd, b"".join(lines))
                os.fsync(fd)
            except BaseException:
                # Undo our own partial lines while we still hold the lock, so that the chain
                # stays appendable; a crash (no chance to undo) is left for verify to report.
                os.ftruncate(fd, size)
                os.fsync(fd)
                raise
        finally:
            os.close(fd)  # releases the lock
        return entries

    def verify(self, *, anchor: tuple[int, str] | None = None) -> int:
        """Checks every entry: complete line, canonical JSON, exactly the four fields, ``seq``
        contiguous from 0, ``prev`` the hash of the previous line, signature valid; and, with
        ``anchor`` (a ``head()`` written down earlier), that the anchored entry is unchanged.

        Appends that finish during the check are not covered; appends never make the part
        already checked invalid.

        Returns:
            The number of entries (0 for a chain whose file does not exist yet).

        Raises:
            ChainBroken: ``index`` is the first bad entry; the message says which entry and
                what kind of failure, never the content.
            BadInput: ``anchor`` is not of the form ``head()`` returns.
            OSError: the file exists but cannot be read.
        """
        return _scan(self._path, self._verify_key, anchor=anchor, missing_ok=True)[0]

    def head(self) -> tuple[int, str]:
        """The number of entries and the SHA-256 of the last line, after a full verification.

        Why: write it down or publish it away from the server; ``verify(anchor=...)`` with it
        later is what shows that nobody holding the signing key rewrote the chain up to there.
        An empty chain's head is ``(0, GENESIS)``.

        Raises:
            ChainBroken: as for ``verify``.
            OSError: the file exists but cannot be read.
        """
        return _scan(self._path, self._verify_key, anchor=None, missing_ok=True)

    def entries(self) -> Iterator[Entry]:
        """Yields the entries in order, each only after it has passed every check.

        Verification runs as the iteration goes: a damaged entry raises when it is reached,
        after the good entries before it were yielded. Call ``verify()`` first when a partial
        answer would mislead.

        Raises:
            ChainBroken: as for ``verify``, when the bad entry is reached.
            OSError: the file exists but cannot be read.
        """
        try:
            fh = open(self._path, "rb")  # noqa: SIM115 (closed by the generator below)
        except FileNotFoundError:
            return
        with fh:
            for entry, _ in _verified_lines(fh, self._verify_key):
                yield entry

    def repair_torn_tail(self) -> int:
        """Removes an incomplete last line (bytes after the last newline) left by a crash.

        Safe because ``append`` acknowledges an entry only after its whole line, newline
        included, is on disk: such bytes were never an entry. It removes nothing else; a
        complete but invalid line stays for ``verify`` to report. Meant for an administrator
        who has seen what ``verify`` said.

        Returns:
            The number of bytes removed (0 when the chain ends cleanly or does not exist).

        Raises:
            OSError: the file cannot be read or written.
        """
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            _, partial = _read_tail(fd, size)
            if partial:
                os.ftruncate(fd, size - len(partial))
                os.fsync(fd)
            return len(partial)
        finally:
            os.close(fd)

    def _tail_state(self, fd: int, size: int) -> tuple[int, str]:
        """The ``seq`` and ``prev`` for the next entry, from the last line alone.

        Raises:
            ChainBroken: the last line is incomplete or not a validly signed entry.
        """
        if size == 0:
            return 0, GENESIS
        last, partial = _read_tail(fd, size)
        if partial:
            index: int | None = 0
            if last is not None:
                try:
                    index = _decode_line(last)["seq"] + 1
                except _Malformed:
                    index = None
            raise ChainBroken(
                f"{_entry_name(index)}: incomplete line (an interrupted write); "
                "verify the chain, then repair its tail",
                index=index,
            )
        assert last is not None  # size > 0 and no partial: the file ends with a newline
        try:
            entry = _decode_line(last)
        except _Malformed as exc:
            raise ChainBroken(f"last entry: {exc.kind}; verify the chain") from None
        try:
            _check_signature(entry, self._verify_key)
        except _Malformed as exc:
            raise ChainBroken(
                f"entry {entry['seq']}: {exc.kind}; verify the chain", index=entry["seq"]
            ) from None
        return entry["seq"] + 1, hashlib.sha256(last).hexdigest()


class _Malformed(Exception):
    """Internal: one line failed a check; ``kind`` is a fixed phrase, never content."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _entry_name(index: int | None) -> str:
    return "last entry" if index is None else f"entry {index}"


def _check_body(body: object) -> None:
    """Raises:
    BadInput: ``body`` is not a JSON object of the allowed types.
    """
    if not isinstance(body, dict):
        raise BadInput("a chain entry's body must be a JSON object", code="bad_chain_body")
    stack: list[object] = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise BadInput("object keys must be strings", code="bad_chain_body")
                stack.append(key)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadInput("a string is not valid Unicode", code="bad_chain_body") from None
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                raise BadInput("an integer is out of range", code="bad_chain_body")
        else:
            raise BadInput(
                "a body may hold only strings, integers, booleans, null, lists and objects",
                code="bad_chain_body",
            )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_tail(fd: int, size: int) -> tuple[bytes | None, bytes]:
    """Reads backwards from ``size`` until the last complete line is found.

    Returns:
        The last complete line with its newline (None if there is none) and the bytes after
        the last newline (empty unless a write was torn).
    """
    buf = b""
    pos = size
    while True:
        end = buf.rfind(b"\n")
        if end != -1:
            start = buf.rfind(b"\n", 0, end)
            if start != -1 or pos == 0:
                return buf[start + 1 : end + 1], buf[end + 1 :]
        elif pos == 0:
            return None, buf
        step = min(_TAIL_CHUNK, pos)
        pos -= step
        chunk = os.pread(fd, step, pos)
        if len(chunk) != step:
            raise OSError("the chain file shrank while it was being read")
        buf = chunk + buf


def _reject_constant(_: str) -> Any:
    raise ValueError("NaN and infinities are not JSON")


def _reject_float(_: str) -> Any:
    raise ValueError("floats are not allowed")


def _bounded_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_INT:
        raise ValueError("integer out of range")
    return value


def _decode_line(raw: bytes) -> Entry:
    """Parses one complete line (with its newline) and checks its form, not its links.

    Raises:
        _Malformed: not valid JSON, not canonical, or not exactly the four fields.
    """
    try:
        value = json.loads(
            raw[:-1].decode("utf-8"),
            parse_float=_reject_float,
            parse_int=_bounded_int,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Malformed("not valid JSON") from None
    if not isinstance(value, dict) or value.keys() != _FIELDS:
        raise _Malformed("wrong fields")
    if (
        type(value["seq"]) is not int
        or not isinstance(value["prev"], str)
        or not isinstance(value["body"], dict)
        or not isinstance(value["sig"], str)
    ):
        raise _Malformed("wrong field types")
    try:
        canonical = canonical_json(value) + b"\n"
    except (UnicodeEncodeError, ValueError):
        raise _Malformed("not in canonical form") from None
    if canonical != raw:
        raise _Malformed("not in canonical form")
    return Entry(seq=value["seq"], prev=value["prev"], body=value["body"], sig=value["sig"])


def _check_signature(entry: Entry, verify_key: VerifyKey) -> None:
    """Raises:
    _Malformed: the signature is not canonical base64 of 64 bytes, or does not verify.
    """
    try:
        sig = base64.b64decode(entry["sig"], validate=True)
    except (binascii.Error, ValueError):
        raise _Malformed("bad signature") from None
    # b64decode ignores the unused low bits of the last character; insisting on the one
    # canonical spelling stops an edit there from going unnoticed on the last line.
    if len(sig) != _SIGNATURE_BYTES or base64.b64encode(sig).decode("ascii") != entry["sig"]:
        raise _Malformed("bad signature")
    message = canonical_json({"body": entry["body"], "prev": entry["prev"], "seq": entry["seq"]})
    try:
        verify_key.verify(sig, message)
    except BadSignature:
        raise _Malformed("bad signature") from None


def _stable_size(fd: int) -> int:
    """The file's size at a moment when no append is half done (appends hold LOCK_EX)."""
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        return os.fstat(fd).st_size
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _verified_lines(fh: Any, verify_key: VerifyKey) -> Iterator[tuple[Entry, str]]:
    """Yields each entry with the hash of its line, after every check on it has passed.

    Reads only up to the size seen under a shared lock, so a concurrent append is never
    mistaken for a torn line, and appends need not wait for a long verification.

    Raises:
        ChainBroken: at the first bad entry.
    """
    end = _stable_size(fh.fileno())
    pos = 0
    prev = GENESIS
    index = 0
    while pos < end:
        raw = fh.readline(end - pos)
        pos += len(raw)
        try:
            if not raw.endswith(b"\n"):
                raise _Malformed("incomplete line (an interrupted write)")
            entry = _decode_line(raw)
            if entry["seq"] != index:
                raise _Malformed("sequence number out of order")
            if entry["prev"] != prev:
                raise _Malformed("previous-hash mismatch")
            _check_signature(entry, verify_key)
        except _Malformed as exc:
            raise ChainBroken(f"entry {index}: {exc.kind}", index=index) from None
        prev = hashlib.sha256(raw).hexdigest()
        yield entry, prev
        index += 1


def _check_anchor(anchor: tuple[int, str]) -> None:
    """Raises:
    BadInput: ``anchor`` is not a head: a count and a SHA-256 in lowercase hex, or
        ``(0, GENESIS)``.
    """
    count, digest = anchor
    well_formed = (
        type(count) is int
        and count >= 0
        and isinstance(digest, str)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    )
    if not well_formed or (count == 0) != (digest == GENESIS):
        raise BadInput("the recorded head is not a chain head", code="bad_chain_head")


def _scan(
    path: Path, verify_key: VerifyKey, *, anchor: tuple[int, str] | None, missing_ok: bool
) -> tuple[int, str]:
    """Verifies the whole file; returns its head. See ``verify_chain_file``."""
    if anchor is not None:
        _check_anchor(anchor)
    count, last = 0, GENESIS
    anchor_seen = anchor is None or anchor[0] == 0
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError:
        if not missing_ok:
            raise
    else:
        with fh:
            for entry, line_hash in _verified_lines(fh, verify_key):
                count, last = entry["seq"] + 1, line_hash
                if anchor is not None and count == anchor[0]:
                    if line_hash != anchor[1]:
                        raise ChainBroken(
                            f"entry {entry['seq']}: differs from the recorded head",
                            index=entry["seq"],
                        )
                    anchor_seen = True
    if not anchor_seen:
        assert anchor is not None
        raise ChainBroken(
            f"the chain has {count} entries, fewer than the recorded head", index=count
        )
    return count, last
