"""The process behind ``AgeEncryptingWriter``: plaintext on stdin, the age file on stdout.

pyrage holds the GIL while it encrypts, so in the server's own process age encryption shares
one core with Django's multipart parsing and the SHA-256 of the upload. In this process it
has a core of its own.

``stream.py`` runs this file by its path with ``python -I`` (isolated: no environment
variables, no user site, not the current folder), so starting it imports pyrage and nothing
of refugium: about 10 ms and 10 MiB, where ``-m refugium.crypto._encrypt_worker`` would
import the whole ``refugium.crypto`` package first (about 100 ms and 30 MiB). It therefore
imports only pyrage and modules the interpreter has loaded anyway (not even ``typing``, which
alone would double the start-up time).

Protocol: fd 0 starts with the recipients ("age1..."), one a line, and an empty line; the
rest of it is the plaintext, read until end of file. The recipients come this way, not as
arguments, so that they never show in ``ps`` or ``/proc/PID/cmdline`` (they are public keys,
but which desk a file goes to is nobody else's business); the parent also starts this
process with an empty environment, so nothing of its own (a secret key in a variable) is
copied into it. The age file is written to fd 1, the exit status is 0 and fd 2 gets one line,
"ok", the SHA-256 of the plaintext (64 hex digits) and its size in bytes. The hash is taken
here, where the plaintext is read anyway, rather than in the server's process, whose core is
the busier one (it parses the upload). On any failure the exit status is 1 and fd 2 gets one
line naming the exception's type (and errno), never its message, which could quote input;
everything else that could reach fd 2 (a Rust panic message) goes to /dev/null instead, so
fd 2 never carries plaintext and stays short.

End of file on stdin *finishes* the age stream. The parent therefore never closes stdin to
abort: it kills this process. If the parent dies instead, stdin does reach end of file and
this process finishes the stream, but the age file is written by the parent alone, from
fd 1: the final chunk then goes to a pipe without a reader, the write fails with EPIPE and
this process exits, while the file on disk stays without its final chunk (not an age file).
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
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


class _Output:
    """fd 1 as pyrage's writer; remembers a failed write, since Rust drops the error of
    the final flush (see ``stream.py``)."""

    failed = False

    def write(self, data: bytes) -> int:
        try:
            return os.write(1, data)
        except BaseException:
            self.failed = True
            raise

    def flush(self) -> None:
        return None


def main() -> int:
    report = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        # A crash must not leave a core file with plaintext in it (T10); `refugium serve`
        # sets the same limit, which children inherit, but this does not rely on it.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        import pyrage  # type: ignore[import-untyped]  # pyrage ships no type information

        output = _Output()
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
            source = _Input(plaintext)
            pyrage.encrypt_io(source, output, recipients)
        if output.failed:
            raise BrokenPipeError("the final write failed")
        os.write(report, f"ok {source.sha256.hexdigest()} {source.size}\n".encode("ascii"))
    except BaseException as error:
        number = getattr(error, "errno", None)
        line = type(error).__name__ + (f" errno {number}" if isinstance(number, int) else "")
        os.write(report, line.encode("ascii", "replace")[:200] + b"\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
