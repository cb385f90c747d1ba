"""The process behind ``AgeEncryptingWriter`` and ``encrypt_file``: plaintext in, age file out.

pyrage holds the GIL while it encrypts, so in the server's own process age encryption shares
one core with Django's multipart parsing and the SHA-256 of the upload. In this process it
has a core of its own; `refugium evidence add` goes on with its own work on the other.

``stream.py`` runs this file by its path with ``python -I`` (isolated: no environment
variables, no user site, not the current folder), so starting it imports pyrage and nothing
of refugium: about 10 ms and 10 MiB, where ``-m refugium.crypto._encrypt_worker`` would
import the whole ``refugium.crypto`` package first (about 100 ms and 30 MiB). It therefore
imports only pyrage and modules the interpreter has loaded anyway (not even ``typing``, which
alone would double the start-up time).

Two modes. The pipe mode (``AgeEncryptingWriter``, no arguments): fd 0 starts with the
recipients ("age1..."), one a line, and an empty line; the rest of it is the plaintext, read
until end of file; the age file goes to fd 1, a pipe back to the parent. The file mode
(``encrypt_file``, arguments ``--plaintext-fd N``): fd 0 carries only the recipients and the
empty line; the plaintext is descriptor N, a regular file inherited from the parent, read with
``pread`` from offset 0 (an offset of this process's own, so the parent may read the same open
file meanwhile) until end of file; the age file goes to fd 1, the parent's temporary file. The
recipients come on fd 0, not as arguments, so that they never show in ``ps`` or
``/proc/PID/cmdline`` (they are public keys, but which desk a file goes to is nobody else's
business); the parent also starts this process with an empty environment, so nothing of its
own (a secret key in a variable) is copied into it.

On success the exit status is 0 and fd 2 gets one line, "ok", the SHA-256 of the plaintext
(64 hex digits) and its size in bytes. The hash is taken here, where the plaintext is read
anyway, rather than in the server's process, whose core is the busier one (it parses the
upload). On any failure the exit status is 1 and fd 2 gets one line naming the exception's
type (and errno), never its message, which could quote input; a failed write of the output
is named as itself (errno 28 for a full disk), even where Rust dropped it (the final flush).
Everything else that could reach fd 2 (a Rust panic message) goes to /dev/null instead, so
fd 2 never carries plaintext and stays short.

In the pipe mode, end of file on stdin *finishes* the age stream. The parent therefore never
closes stdin to abort: it kills this process. If the parent dies instead, stdin does reach end
of file and this process finishes the stream, but the age file is written by the parent alone,
from fd 1: the final chunk then goes to a pipe without a reader, the write fails with EPIPE
and this process exits, while the file on disk stays without its final chunk (not an age
file). In the file mode the end of the plaintext is the end of the file, which the parent's
death does not bring about. There the parent keeps its end of stdin open, writing nothing
after the recipients, until this process has exited; the worker looks at stdin between reads
(``poll``), and end of file there (the parent is gone) stops it, leaving an unfinished file in
``tmp/`` for the sweep, rather than encrypting the rest for nobody.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import select
import sys

# Plaintext read from the pipe per system call; pyrage itself asks for 8 KiB at a time.
_READ_BUFFER_BYTES = 1 << 20
# An X25519 recipient is 62 characters; anything much longer is not one.
_MAX_RECIPIENT_LINE = 1024


class _Input:
    """fd 0 as pyrage's reader. ``read1`` returns what the pipe holds rather than waiting to
    fill the requested size (8 KiB), so that the worker never sits on input it could
    encrypt; one system call fills the buffer for many of them. Hashes what it hands out."""

    def __init__(self, buffered: io.BufferedReader[io.FileIO]) -> None:
        self._buffered = buffered
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._buffered.read1(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


class _FileInput:
    """A regular file as pyrage's reader: 1 MiB read with ``pread`` (this process's own
    offset) and hashed at a time, handed out in the pieces pyrage asks for."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        # The parent holds the other end of stdin open until this process has exited: end
        # of file (or anything at all) there means it is gone.
        self._parent = select.poll()
        self._parent.register(0, select.POLLIN)
        self._offset = 0
        self._buffer = bytearray(_READ_BUFFER_BYTES)
        self._view = memoryview(self._buffer)
        self._start = 0
        self._end = 0
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        if self._start == self._end:
            if self._parent.poll(0):
                raise ChildProcessError("the parent is gone")
            received = os.preadv(self._fd, [self._buffer], self._offset)
            if not received:
                return b""
            self._offset += received
            self.sha256.update(self._view[:received])
            self.size += received
            self._start, self._end = 0, received
        end = self._end if size < 0 else min(self._end, self._start + size)
        data = bytes(self._view[self._start : end])
        self._start = end
        return data


class _Output:
    """fd 1 as pyrage's writer; remembers a failed write, since Rust drops the error of
    the final flush (see ``stream.py``)."""

    error: BaseException | None = None

    def write(self, data: bytes) -> int:
        try:
            return os.write(1, data)
        except BaseException as error:
            if self.error is None:
                self.error = error
            raise

    def flush(self) -> None:
        return None


def _plaintext_fd(arguments: list[str]) -> int | None:
    """N from ``--plaintext-fd N``, None for the pipe mode (no arguments)."""
    if not arguments:
        return None
    if len(arguments) != 2 or arguments[0] != "--plaintext-fd" or not arguments[1].isdigit():
        raise ValueError("bad arguments")
    return int(arguments[1])


def main() -> int:
    report = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    output = _Output()
    try:
        # A crash must not leave a core file with plaintext in it (T10); `refugium serve`
        # sets the same limit, which children inherit, but this does not rely on it.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        import pyrage  # type: ignore[import-untyped]  # pyrage ships no type information

        plaintext_fd = _plaintext_fd(sys.argv[1:])
        stdin = io.FileIO(0, "rb", closefd=False)
        with io.BufferedReader(stdin, _READ_BUFFER_BYTES) as plaintext:
            recipients: list[object] = []
            while True:
                entry = plaintext.readline(_MAX_RECIPIENT_LINE)
                if not entry.endswith(b"\n"):
                    raise EOFError("the recipients were cut short")
                if entry == b"\n":
                    break
                recipient = entry[:-1].decode("ascii")
                recipients.append(pyrage.x25519.Recipient.from_str(recipient))
            if not recipients:
                raise ValueError("no recipients")
            source: _Input | _FileInput = (
                _Input(plaintext) if plaintext_fd is None else _FileInput(plaintext_fd)
            )
            pyrage.encrypt_io(source, output, recipients)
        if output.error is not None:
            raise output.error
        os.write(report, f"ok {source.sha256.hexdigest()} {source.size}\n".encode("ascii"))
    except BaseException as error:
        # The output's own error (ENOSPC, EIO) rather than what pyrage made of it.
        error = output.error or error
        number = getattr(error, "errno", None)
        line = type(error).__name__ + (f" errno {number}" if isinstance(number, int) else "")
        os.write(report, line.encode("ascii", "replace")[:200] + b"\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
