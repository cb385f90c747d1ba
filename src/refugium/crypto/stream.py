"""Streaming age encryption and decryption, with memory that stays flat whatever the size.

A Django upload handler is *pushed* chunks, while pyrage's ``encrypt_io`` *pulls* them from a
reader. ``AgeEncryptingWriter`` bridges the two through a worker **process**
(``_encrypt_worker.py``): ``write`` puts plaintext into a pipe to the worker's stdin, the
worker runs ``pyrage.encrypt_io`` and writes the age file to its stdout, another pipe, and a
relay thread here moves that ciphertext into the output (with splice(2) when the output is a
file descriptor of its own, as the store's temporary files are). pyrage holds the GIL while it
encrypts; in a thread it shared one core with the multipart parsing and hashing of the
upload, in a process of its own it has another (benchmarks/intake.py, 400 MiB on two cores:
0.20 of the stock age CLI's throughput with a thread, 0.27 with the process). The worker also
takes the plaintext's SHA-256 (``plaintext_sha256``) as it reads it, which leaves the server's
core only the parsing of the upload. Starting the worker costs about 15-30 ms per file.
``iter_decrypted`` is a thread-based bridge the other way, for HTTP downloads, where the
network sets the pace. Each pipe holds at most its kernel buffer (64 KiB on Linux, widened to
1 MiB to and from the worker), so no plaintext ever sits in a temporary file and memory does
not grow with the file (DESIGN.md section 3).

The output of ``AgeEncryptingWriter`` is written here, by the relay thread, never by the
worker, which never gets the file: a full disk or any other error of the output is raised
here as itself, and once this process is gone nothing can write to the file any more.

``encrypt_file`` is the same worker for a whole regular file on this machine (`refugium
evidence add`): the worker reads the file and writes the age file itself, through
descriptors it inherits (``FileEncryption``). Nothing passes through this process, which is
free meanwhile: the command does its own imports and reads on the other core while the
file is encrypted (or sets Django up, for several files). The worker's own end of file is
the end of the whole plaintext file, not a pipe that this process's death would close, so
it cannot finish a stream cut short; an error of the output comes back as the worker's
errno and is raised here as ``OSError`` with it.

Three properties shape the code:

- Reaching the end of its stdin *finishes* the age stream: closing the pipe to abort would
  leave a valid age file of everything written so far. ``abort`` kills the worker first; the
  final chunk is never written. If this process dies mid-upload, the worker does see end of
  file and finishes, but its final chunk goes to a pipe that has lost its only reader: the
  write fails with EPIPE, the worker exits, and the file stays without the final chunk.
- pyrage's ``encrypt_io`` and ``decrypt_io`` write through a Rust ``BufWriter`` that is
  flushed when it is dropped, and Rust ignores errors of that last flush
  (woodruffw/pyrage 1.4, ``src/lib.rs``). Every output here goes through ``_Sink``, which
  remembers the first error it saw; ``close`` re-raises it. The worker does the same for
  its stdout.
- The worker's stderr is a pipe, non-blocking on the worker's side and read only after it
  has exited. It carries one line of the worker's own (an exception's type, never its
  message), so it holds no plaintext, and whatever else would not fit is lost rather than
  blocking the worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol

import pyrage  # type: ignore[import-untyped]  # pyrage ships no type information

from refugium.crypto.keys import Identity, Recipient
from refugium.errors import BadInput, DecryptionFailed

DEFAULT_CHUNK_BYTES = 1 << 16

_DECRYPT_MESSAGE = "Could not decrypt: wrong key, or the file is damaged."

# Run by path, not with -m, so that the worker imports none of refugium (see its docstring).
_WORKER = str(Path(__file__).with_name("_encrypt_worker.py"))
# Linux's default pipe buffer is 64 KiB; 1 MiB (the unprivileged maximum,
# /proc/sys/fs/pipe-max-size) takes an upload handler's 1 MiB chunk in one go.
_PIPE_BYTES = 1 << 20
# The worker's whole environment: nothing of the server's is copied into it.
_WORKER_ENVIRONMENT: dict[str, str] = {}
# The worker's report of success: the plaintext's SHA-256 and size.
_RESULT = re.compile(rb"ok ([0-9a-f]{64}) ([0-9]{1,20})\n")
# The worker's report of a failed system call: the exception's type and its errno.
_OS_FAILURE = re.compile(rb"[A-Za-z]*Error errno ([0-9]{1,4})\n")
# What is read of the worker's stderr, and how much of its first line an error quotes.
_REPORT_BYTES = 256
_REPORT_CHARS = 200


class _Writable(Protocol):
    """What the streams write to: any binary file object (``BinaryIO``) will do. ``write``
    must copy what it keeps: the memoryview it gets is reused."""

    def write(self, data: memoryview, /) -> int | None: ...


class _Sink:
    """The output as pyrage (decryption) and the relay (encryption) write to it: passes bytes
    on, remembers the first error.

    ``write`` returns the number of bytes taken, as pyo3-file requires, and retries short
    writes of the underlying object itself.
    """

    def __init__(self, out: _Writable) -> None:
        self._out = out
        self.error: BaseException | None = None

    def write(self, data: bytes | memoryview) -> int:
        try:
            view = memoryview(data)
            while view:
                written = self._out.write(view)
                if written is None:  # a non-blocking raw file that would block
                    raise BlockingIOError("the output would block")
                view = view[written:]
        except BaseException as error:
            if self.error is None:
                self.error = error
            raise
        return len(data)

    @property
    def splice_fd(self) -> int | None:
        """The output's file descriptor, if it offers one to splice into: an ``int``
        attribute ``splice_fd``, which says that nothing else buffers writes to it."""
        fd = getattr(self._out, "splice_fd", None)
        return fd if isinstance(fd, int) and hasattr(os, "splice") else None

    def splice(self, src: int, dst: int, count: int) -> int:
        """splice(2) from the pipe ``src`` into ``dst``; remembers an error as ``write``
        does."""
        try:
            return os.splice(src, dst, count)
        except BaseException as error:
            if self.error is None:
                self.error = error
            raise

    def flush(self) -> None:
        flush = getattr(self._out, "flush", None)
        if flush is None:
            return
        try:
            flush()
        except BaseException as error:
            if self.error is None:
                self.error = error
            raise


class _WriteEnd:
    """The pipe's write end, closed exactly once by whichever of close, abort or the
    finaliser comes first."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd
        self._lock = threading.Lock()

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise ValueError("the age stream is closed")
        return self._fd

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class _Outcome:
    """What a decrypting thread leaves behind. It holds this, never the iterator that started
    it, so that an abandoned iterator can be garbage-collected (and its finaliser run) while
    the thread is still blocked on the pipe."""

    error: BaseException | None = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _widen(fd: int) -> None:
    # Best effort: past the per-user limit of pipe memory the kernel refuses (EPERM) and the
    # pipe keeps its default size, which only costs speed.
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _relay(read_fd: int, sink: _Sink, process: subprocess.Popen[bytes]) -> None:
    """The relay thread: the worker's stdout into the output until end of file.

    An output that names its file descriptor (``splice_fd``, a file of this process's own)
    gets the ciphertext with splice(2), moved from the pipe inside the kernel: no copy
    through this process's memory, and no GIL held while it moves (benchmarks/intake.py).
    """
    splice_fd = sink.splice_fd
    buffer = bytearray(0 if splice_fd is not None else _PIPE_BYTES)
    view = memoryview(buffer)
    try:
        while True:
            if splice_fd is not None:
                received = sink.splice(read_fd, splice_fd, _PIPE_BYTES)
            else:
                received = os.readv(read_fd, [buffer])
                if received:
                    sink.write(view[:received])
            if not received:
                break
        sink.flush()
    except BaseException:
        # The output failed (the sink has the error). Kill the worker, so that neither it
        # nor a write() blocked on the full pipe to it waits for a reader that is gone.
        process.kill()
    finally:
        os.close(read_fd)


class _Worker:
    """The worker process and the pipes to it. Holds nothing of the writer, so that the
    writer's finaliser can stop it."""

    def __init__(self, recipients: Sequence[Recipient], sink: _Sink) -> None:
        # Recipients go first on the worker's stdin, never on its command line (``ps``
        # shows that to every user); the environment is empty, so that nothing of this
        # process's (a secret in a variable) is copied into the worker.
        command = [sys.executable, "-I", _WORKER]
        header = "".join(f"{recipient}\n" for recipient in recipients).encode("ascii") + b"\n"
        fds: list[int] = []
        try:
            plain_read, plain_write = os.pipe()
            fds += (plain_read, plain_write)
            cipher_read, cipher_write = os.pipe()
            fds += (cipher_read, cipher_write)
            report_read, report_write = os.pipe()
            fds += (report_read, report_write)
            _widen(plain_write)
            _widen(cipher_read)
            # The worker's stderr is read only once it has exited. Non-blocking, a worker
            # that writes more than the pipe holds loses the rest instead of waiting forever.
            os.set_blocking(report_write, False)
            # A few hundred bytes into an empty pipe: this never blocks.
            _write_all(plain_write, header)
            # os.pipe's descriptors are not inheritable, and close_fds keeps every other
            # descriptor out of the worker: no other worker holds this one's stdin open.
            # The command is this interpreter and this package's file: no shell, no
            # untrusted text.
            self.process = subprocess.Popen(  # noqa: S603
                command,
                stdin=plain_read,
                stdout=cipher_write,
                stderr=report_write,
                close_fds=True,
                env=_WORKER_ENVIRONMENT,
            )
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        for fd in (plain_read, cipher_write, report_write):
            os.close(fd)
        self.stdin = _WriteEnd(plain_write)
        self._report_fd: int | None = report_read
        self._report = b""
        self.thread = threading.Thread(
            target=_relay,
            args=(cipher_read, sink, self.process),
            name="age-encrypt",
            # Daemon, so that a writer nobody closed cannot keep the process from exiting.
            daemon=True,
        )
        try:
            self.thread.start()
        except BaseException:
            os.close(cipher_read)
            self.kill()
            raise

    def finish(self) -> None:
        """End of file to the worker, which finishes the stream; wait for it and the relay."""
        self.stdin.close()
        self.thread.join()
        self.process.wait()
        self._close_report()

    def kill(self) -> None:
        """Kill the worker before its stdin is closed, so it never finishes the stream."""
        self.process.kill()
        self.process.wait()  # reaped: no zombie
        self.stdin.close()
        # The finaliser may run in any thread, the relay's own included (a garbage
        # collection it triggered); the relay ends by itself once the worker is dead.
        if self.thread.ident is not None and self.thread is not threading.current_thread():
            self.thread.join()
        self._close_report()

    def failure(self) -> str | None:
        """Why the worker failed, in a few safe words, or None if it succeeded."""
        return _failure(self.process.returncode, self._report)

    def result(self) -> tuple[str, int] | None:
        """The SHA-256 (hex) and size of the plaintext, as the worker reported them once it
        exited with success; None otherwise."""
        return _result(self.process.returncode, self._report)

    def _close_report(self) -> None:
        fd, self._report_fd = self._report_fd, None
        if fd is not None:
            self._report = _read_report(fd)


def _read_report(fd: int) -> bytes:
    """What the worker wrote to its stderr pipe, which is then closed. Only once the worker
    has exited: this never blocks then, and a short read is all it wrote."""
    try:
        return os.read(fd, _REPORT_BYTES)
    finally:
        os.close(fd)


def _failure(status: int | None, report: bytes) -> str | None:
    """Why a worker that exited with ``status`` failed, in a few safe words, or None if it
    succeeded."""
    if status == 0:
        return None if _result(status, report) is not None else "exit status 0 without a result"
    words = report.decode("ascii", "replace").split("\n")[0][:_REPORT_CHARS]
    words = "".join(c if c.isalnum() or c in " ._-" else "?" for c in words)
    return f"exit status {status}" + (f": {words}" if words else "")


def _result(status: int | None, report: bytes) -> tuple[str, int] | None:
    """The SHA-256 (hex) and size a worker that exited with success reported; None
    otherwise."""
    if status != 0:
        return None
    found = _RESULT.fullmatch(report)
    if found is None:
        return None
    return found.group(1).decode("ascii"), int(found.group(2))


class AgeEncryptingWriter:
    """Encrypts bytes pushed to ``write`` into ``out`` as one binary age file.

    ``out`` is any binary file-like object with ``write`` (and optionally ``flush``); the
    caller opens it and closes it. Only ciphertext reaches it, written by a thread of this
    process while a worker process encrypts. Use as a context manager: a clean exit closes
    the stream, an exception aborts it. A writer dropped without either is aborted when it is
    garbage-collected.

    Raises:
        BadInput: no recipients were given.
        OSError: the worker process could not be started.
    """

    def __init__(self, out: _Writable, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
        self._sink = _Sink(out)
        self._closed = False
        self._aborted = False
        self._written = 0
        self._sha256: str | None = None
        self._worker = _Worker(recipients, self._sink)
        self._process = self._worker.process
        self._thread = self._worker.thread
        self._finalizer = weakref.finalize(self, self._worker.kill)

    def write(self, chunk: bytes) -> None:
        """Encrypt ``chunk`` (any length, including zero) as the next part of the file.

        Blocks while the worker is behind, so memory stays flat.

        Raises:
            OSError: writing the output failed (a full disk, say); the stream is aborted.
            RuntimeError: encryption failed for another reason (a bug); the stream is aborted.
            ValueError: the stream is already closed or aborted.
        """
        if self._closed:
            raise ValueError("the age stream is closed")
        view = memoryview(chunk)
        try:
            while view:
                written = os.write(self._worker.stdin.fd, view)
                view = view[written:]
                self._written += written
        except BrokenPipeError:
            # The worker has exited, killed by the relay after an error of the output, or
            # failing itself; either says why.
            self.abort()
            self._raise_error()
            raise  # pragma: no cover  # a worker only exits early with an error

    def close(self) -> None:
        """Finish the age stream (final chunk included) and wait for the worker.

        ``out`` is flushed but not closed or fsynced: that is the caller's. Calling it
        again does nothing.

        Raises:
            OSError: writing the output failed (a full disk, say).
            RuntimeError: encryption failed for another reason (a bug).
            ValueError: the stream was aborted.
        """
        if self._aborted:
            raise ValueError("the age stream was aborted")
        if self._closed:
            return
        self._closed = True
        self._worker.finish()
        self._finalizer.detach()
        self._raise_error()
        result = self._worker.result()
        if result is None or result[1] != self._written:
            # The worker saw other bytes than were written: never store that as whole.
            raise RuntimeError("age encryption failed (the worker's count does not match)")
        self._sha256 = result[0]

    @property
    def plaintext_sha256(self) -> str:
        """SHA-256 of the plaintext, lower-case hex, as the worker process computed it while
        it encrypted. Only after a successful ``close``.

        Raises:
            ValueError: the stream is not closed, or was aborted.
        """
        if self._sha256 is None:
            raise ValueError("the age stream is not finished")
        return self._sha256

    def abort(self) -> None:
        """Kill the worker without finishing the stream, and wait for it to end.

        What reached ``out`` is then an unfinished age file that no key decrypts in full;
        the caller deletes it. Calling it again, or after ``close``, does nothing more.

        Raises:
            Nothing.
        """
        if not self._closed:
            self._aborted = True
        self._closed = True
        self._worker.kill()
        self._finalizer.detach()

    def _raise_error(self) -> None:
        if self._sink.error is not None:
            # The output's own error (ENOSPC, EIO) is the one the caller can act on.
            raise self._sink.error
        failure = self._worker.failure()
        if failure is not None:
            raise RuntimeError(f"age encryption failed (worker {failure})") from None

    def __enter__(self) -> AgeEncryptingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FileEncryption:
    """A whole regular file being encrypted by a worker process, which reads the plaintext
    from one descriptor and writes the age file to another itself. Made by ``encrypt_file``.

    Nothing passes through this process: no relay thread, no pipe of plaintext, so it is
    free for other work while the worker runs (`refugium evidence add` goes on with its own
    on the other core). ``wait`` gives the plaintext's SHA-256 and size; ``abort`` kills
    the worker. A FileEncryption dropped without either is aborted when it is
    garbage-collected.
    """

    def __init__(self, process: subprocess.Popen[bytes], stdin: _WriteEnd, report_fd: int) -> None:
        self._process = process
        # Held open until the worker has exited: its end of file tells the worker that
        # this process is gone.
        self._stdin = stdin
        self._report_fd: int | None = report_fd
        self._report = b""
        self._aborted = False
        self._finalizer = weakref.finalize(self, _kill_file_worker, process, stdin)

    def wait(self) -> tuple[str, int]:
        """Wait for the worker; the plaintext's SHA-256 (lower-case hex) and size in bytes.

        The output is written but neither fsynced nor closed: that is the caller's. Calling
        it again gives the same answer.

        Raises:
            OSError: reading the plaintext or writing the output failed (a full disk, say):
                the worker's own error number, with the system's message for it.
            RuntimeError: encryption failed for another reason (a bug).
            ValueError: the encryption was aborted.
        """
        if self._aborted:
            raise ValueError("the age encryption was aborted")
        self._process.wait()
        self._finalizer.detach()
        self._stdin.close()
        fd, self._report_fd = self._report_fd, None
        if fd is not None:
            self._report = _read_report(fd)
        result = _result(self._process.returncode, self._report)
        if result is not None:
            return result
        failed = _OS_FAILURE.fullmatch(self._report) if self._process.returncode == 1 else None
        if failed is not None:
            number = int(failed.group(1))
            raise OSError(number, os.strerror(number))
        raise RuntimeError(
            f"age encryption failed (worker {_failure(self._process.returncode, self._report)})"
        )

    def abort(self) -> None:
        """Kill the worker and wait for it to end. What reached the output is then an
        unfinished age file that no key decrypts in full; the caller deletes it. Calling it
        again, or after ``wait``, does nothing more.

        Raises:
            Nothing.
        """
        if self._process.returncode is None:
            self._aborted = True
        self._finalizer.detach()
        _kill_file_worker(self._process, self._stdin)
        fd, self._report_fd = self._report_fd, None
        if fd is not None:
            os.close(fd)


def _kill_file_worker(process: subprocess.Popen[bytes], stdin: _WriteEnd) -> None:
    if process.returncode is None:
        process.kill()
        process.wait()  # reaped: no zombie
    stdin.close()


def encrypt_file(source_fd: int, out_fd: int, recipients: Sequence[Recipient]) -> FileEncryption:
    """Start encrypting the regular file open at ``source_fd`` into ``out_fd`` as one age file.

    The worker process reads ``source_fd`` from offset 0 to its end with ``pread`` (the
    caller may read it meanwhile; its offset is left alone) and writes the age file to
    ``out_fd`` from that descriptor's offset; it takes the plaintext's SHA-256 as it reads.
    Both descriptors stay open here, and the caller closes them after ``wait`` or ``abort``.
    Only ciphertext reaches ``out_fd``.

    Raises:
        BadInput: no recipients were given, or ``source_fd`` is not a regular file.
        OSError: the worker process could not be started.
    """
    if not recipients:
        raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
    if not stat.S_ISREG(os.fstat(source_fd).st_mode):
        raise BadInput("Only a regular file can be encrypted whole.", code="not_a_file")
    header = "".join(f"{recipient}\n" for recipient in recipients).encode("ascii") + b"\n"
    fds: list[int] = []
    try:
        # A descriptor of its own above 2, so the worker's stdin, stdout and stderr never
        # take its number, whatever number the caller's has.
        plain = fcntl.fcntl(source_fd, fcntl.F_DUPFD_CLOEXEC, 3)
        fds.append(plain)
        header_read, header_write = os.pipe()
        fds += (header_read, header_write)
        report_read, report_write = os.pipe()
        fds += (report_read, report_write)
        # As for the pipe mode: the report is read once the worker has exited.
        os.set_blocking(report_write, False)
        # A few hundred bytes into an empty pipe: this never blocks. The recipients go on
        # stdin, never on the command line. The write end stays open, with nothing more
        # written to it, until the worker has exited (``FileEncryption``).
        _write_all(header_write, header)
        # The command is this interpreter and this package's file, plus a descriptor
        # number: no shell, no untrusted text. close_fds keeps every other descriptor out.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-I", _WORKER, "--plaintext-fd", str(plain)],
            stdin=header_read,
            stdout=out_fd,
            stderr=report_write,
            close_fds=True,
            pass_fds=(plain,),
            env=_WORKER_ENVIRONMENT,
        )
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    for fd in (plain, header_read, report_write):
        os.close(fd)
    return FileEncryption(process, _WriteEnd(header_write), report_read)


def decrypt_stream(src: BinaryIO, dst: _Writable, identities: Sequence[Identity]) -> None:
    """Decrypt the age file read from ``src`` into ``dst``, chunk by chunk, in this thread.

    age authenticates each 64 KiB chunk, but truncation shows only at the end: when this
    raises, ``dst`` may already hold part of the plaintext, and the caller must discard it.

    Raises:
        DecryptionFailed: no identity fits, or the file is truncated, tampered with or not
            an age file.
        OSError: writing to ``dst`` failed (a full disk, say).
    """
    if not identities:
        raise DecryptionFailed("No key to decrypt with.")
    sink = _Sink(dst)
    try:
        pyrage.decrypt_io(src, sink, [identity._inner for identity in identities])
    except Exception:  # wrong key, truncation, tampering, garbage: all one answer
        if sink.error is not None:
            raise sink.error from None
        raise DecryptionFailed(_DECRYPT_MESSAGE) from None
    if sink.error is not None:  # the final flush, whose error Rust drops
        raise sink.error


class _ReadEnd:
    """The pipe's read end, closed exactly once by close or the finaliser."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd
        self._lock = threading.Lock()

    def read(self, size: int) -> bytes:
        if self._fd is None:
            return b""
        return os.read(self._fd, size)

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class _FdWriter:
    """A raw writer over a pipe's write end, for the decrypting worker's sink."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write(self, data: memoryview) -> int:
        return os.write(self._fd, data)


def _decrypt_worker(
    src: BinaryIO, sink: _Sink, identities: list[Any], write_fd: int, outcome: _Outcome
) -> None:
    try:
        pyrage.decrypt_io(src, sink, identities)
    except BaseException as error:
        outcome.error = error
    finally:
        # End of file for the reader: it then joins and looks at the outcome.
        os.close(write_fd)


class DecryptingIterator(Iterator[bytes]):
    """Plaintext of an age file, in pieces of at most ``chunk_size`` bytes.

    Made by ``iter_decrypted``. ``close`` (which Django's ``StreamingHttpResponse`` calls at
    the end of a response, finished or not) stops the worker; so does garbage collection.
    """

    def __init__(
        self, src: BinaryIO, identities: Sequence[Identity], chunk_size: int, close_src: bool
    ) -> None:
        self._chunk_size = chunk_size
        self._src = src if close_src else None
        self._pending: bytes | None = None
        self._finished = False
        read_fd, write_fd = os.pipe()
        self._read_end = _ReadEnd(read_fd)
        self._sink = _Sink(_FdWriter(write_fd))
        self._outcome = _Outcome()
        self._thread = threading.Thread(
            target=_decrypt_worker,
            args=(
                src,
                self._sink,
                [identity._inner for identity in identities],
                write_fd,
                self._outcome,
            ),
            name="age-decrypt",
            daemon=True,
        )
        # A consumer that drops the iterator unread must not leave the worker blocked on a
        # full pipe: closing the read end makes its next write fail with EPIPE.
        self._finalizer = weakref.finalize(self, self._read_end.close)
        self._thread.start()

    def _next_piece(self) -> bytes:
        if self._finished:
            return b""
        data = self._read_end.read(self._chunk_size)
        if data:
            return data
        # End of the pipe: the worker is done; tell success from failure.
        self.close()
        if self._outcome.error is not None or self._sink.error is not None:
            raise DecryptionFailed(_DECRYPT_MESSAGE) from None
        return b""

    def __next__(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, None
            return data
        data = self._next_piece()
        if not data:
            raise StopIteration
        return data

    def close(self) -> None:
        """Stop decrypting and wait for the worker. Calling it again does nothing.

        Raises:
            Nothing.
        """
        self._finished = True
        self._pending = None
        self._read_end.close()
        self._thread.join()
        self._finalizer.detach()
        if self._src is not None:
            self._src.close()

    def __enter__(self) -> DecryptingIterator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def iter_decrypted(
    src: BinaryIO,
    identities: Sequence[Identity],
    chunk_size: int = DEFAULT_CHUNK_BYTES,
    *,
    close_src: bool = False,
) -> DecryptingIterator:
    """Stream the plaintext of the age file read from ``src``, without holding it whole.

    The header is checked before this returns (the first piece is read ahead), so a wrong
    key raises here, before a caller has sent anything. Each chunk is authenticated before it
    is yielded, but truncation or tampering further on raises ``DecryptionFailed`` from the
    iterator after earlier pieces were yielded: a download must then be cut off, never
    completed. Close the iterator (or drop it) to stop early; the worker thread then ends.
    ``src`` stays open unless ``close_src`` is true, in which case closing or finishing
    the iterator (or a failure in this function) closes it, after the worker has stopped.

    Raises:
        BadInput: ``chunk_size`` is not positive.
        DecryptionFailed: no identity fits, or the file is not an intact age file (raised
            here for the header, from the iterator for the rest).
    """
    if chunk_size <= 0 or not identities:
        if close_src:
            src.close()
        if chunk_size <= 0:
            raise BadInput("The chunk size must be positive.", code="bad_chunk_size")
        raise DecryptionFailed("No key to decrypt with.")
    iterator = DecryptingIterator(src, identities, chunk_size, close_src)
    try:
        iterator._pending = iterator._next_piece()
    except BaseException:
        iterator.close()
        raise
    return iterator
