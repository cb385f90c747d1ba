"""Streaming age encryption and decryption, with memory that stays flat whatever the size.

A Django upload handler is *pushed* chunks, while pyrage's ``encrypt_io`` *pulls* them from a
reader. ``AgeEncryptingWriter`` bridges the two with an ``os.pipe`` and one worker thread:
``write`` puts plaintext into the pipe, the worker runs ``pyrage.encrypt_io`` with the pipe's
read end as its reader. ``iter_decrypted`` is the same bridge the other way, for HTTP
downloads. The pipe holds at most its kernel buffer (64 KiB on Linux), so no plaintext ever
sits in a temporary file and memory does not grow with the file (DESIGN.md section 3).

Two properties of pyrage 1.4 shape the code (woodruffw/pyrage, ``src/lib.rs``):

- ``encrypt_io`` and ``decrypt_io`` write through a Rust ``BufWriter`` that is flushed when it
  is dropped, and Rust ignores errors of that last flush. A full disk on the final bytes would
  therefore pass unnoticed. Every output goes through ``_Sink``, which remembers the first
  error it saw; ``close`` re-raises it.
- Reaching the end of the reader *finishes* the age stream: a reader that merely returned
  end-of-file on abort would leave a valid age file of everything written so far. On abort the
  reader raises instead, so the worker fails before it can write the final chunk.

pyrage does not release the GIL while it encrypts (tens of microseconds per 64 KiB chunk);
other threads run while the worker waits in ``os.read`` on the pipe or in the output's write.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any, BinaryIO, Protocol

import pyrage  # type: ignore[import-untyped]  # pyrage ships no type information

from refugium.crypto.keys import Identity, Recipient
from refugium.errors import BadInput, DecryptionFailed

DEFAULT_CHUNK_BYTES = 1 << 16

_DECRYPT_MESSAGE = "Could not decrypt: wrong key, or the file is damaged."


class _Writable(Protocol):
    """What the streams write to: any binary file object (``BinaryIO``) will do."""

    def write(self, data: memoryview, /) -> int | None: ...


class _Aborted(Exception):
    """Raised inside the worker to make pyrage stop without finishing the stream."""


class _Sink:
    """The file-like object pyrage writes to: passes bytes on, remembers the first error.

    ``write`` returns the number of bytes taken, as pyo3-file requires, and retries short
    writes of the underlying object itself.
    """

    def __init__(self, out: _Writable) -> None:
        self._out = out
        self.error: BaseException | None = None

    def write(self, data: bytes) -> int:
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


class _PipeReader:
    """The file-like object ``encrypt_io`` reads plaintext from: the pipe's read end.

    After an abort it raises rather than return end-of-file, even when the abort is what woke
    it (closing the write end makes a blocked ``os.read`` return ``b""``).
    """

    def __init__(self, fd: int, cancelled: threading.Event) -> None:
        self._fd = fd
        self._cancelled = cancelled

    def read(self, size: int = -1) -> bytes:
        data = os.read(self._fd, size if size > 0 else DEFAULT_CHUNK_BYTES)
        if self._cancelled.is_set():
            raise _Aborted
        return data


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
    """What a worker thread leaves behind. Workers hold this, never the object that started
    them, so that an abandoned writer or iterator can be garbage-collected (and its
    finaliser run) while its worker is still blocked on the pipe."""

    error: BaseException | None = None


def _encrypt_worker(
    reader: _PipeReader, sink: _Sink, recipients: list[Any], read_fd: int, outcome: _Outcome
) -> None:
    try:
        pyrage.encrypt_io(reader, sink, recipients)
    except BaseException as error:
        outcome.error = error
    finally:
        # Closing the read end makes a write() blocked on a full pipe fail with EPIPE
        # instead of waiting forever for a worker that is gone.
        os.close(read_fd)


def _abandon(cancelled: threading.Event, write_end: _WriteEnd) -> None:
    # Runs when an AgeEncryptingWriter is garbage-collected unclosed: stop the worker
    # without finishing the stream, so neither the thread nor a valid prefix survives.
    cancelled.set()
    write_end.close()


class AgeEncryptingWriter:
    """Encrypts bytes pushed to ``write`` into ``out`` as one binary age file.

    ``out`` is any binary file-like object with ``write`` (and optionally ``flush``); the
    caller opens it and closes it. Only ciphertext reaches it. Use as a context manager: a
    clean exit closes the stream, an exception aborts it. A writer dropped without either is
    aborted when it is garbage-collected.

    Raises:
        BadInput: no recipients were given.
    """

    def __init__(self, out: _Writable, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            raise BadInput("Encrypt to at least one recipient.", code="no_recipients")
        self._cancelled = threading.Event()
        self._sink = _Sink(out)
        self._outcome = _Outcome()
        self._closed = False
        read_fd, write_fd = os.pipe()
        self._write_end = _WriteEnd(write_fd)
        self._thread = threading.Thread(
            target=_encrypt_worker,
            args=(
                _PipeReader(read_fd, self._cancelled),
                self._sink,
                [recipient._inner for recipient in recipients],
                read_fd,
                self._outcome,
            ),
            name="age-encrypt",
            # Daemon, so that a writer nobody closed cannot keep the process from exiting.
            daemon=True,
        )
        self._finalizer = weakref.finalize(self, _abandon, self._cancelled, self._write_end)
        self._thread.start()

    def write(self, chunk: bytes) -> None:
        """Encrypt ``chunk`` (any length, including zero) as the next part of the file.

        Blocks while the worker is behind, so memory stays flat.

        Raises:
            OSError: writing the output failed (a full disk, say); the stream is aborted.
            RuntimeError: encryption failed for another reason (a bug); the stream is aborted.
            ValueError: the stream is already closed or aborted.
        """
        if self._closed or self._cancelled.is_set():
            raise ValueError("the age stream is closed")
        view = memoryview(chunk)
        try:
            while view:
                written = os.write(self._write_end.fd, view)
                view = view[written:]
        except BrokenPipeError:
            # The worker has stopped; its own error says why.
            self.abort()
            self._raise_worker_error()
            raise  # pragma: no cover  # a worker only stops early with an error

    def close(self) -> None:
        """Finish the age stream (final chunk included) and wait for the worker.

        ``out`` is flushed but not closed or fsynced: that is the caller's. Calling it
        again does nothing.

        Raises:
            OSError: writing the output failed (a full disk, say).
            RuntimeError: encryption failed for another reason (a bug).
            ValueError: the stream was aborted.
        """
        if self._cancelled.is_set():
            raise ValueError("the age stream was aborted")
        if self._closed:
            return
        self._closed = True
        self._write_end.close()
        self._thread.join()
        self._finalizer.detach()
        self._raise_worker_error()

    def abort(self) -> None:
        """Stop the worker without finishing the stream, and wait for it to end.

        What reached ``out`` is then an unfinished age file that no key decrypts in full;
        the caller deletes it. Calling it again, or after ``close``, does nothing more.

        Raises:
            Nothing.
        """
        if not self._closed:
            self._cancelled.set()
        self._closed = True
        self._write_end.close()
        self._thread.join()
        self._finalizer.detach()

    def _raise_worker_error(self) -> None:
        if self._sink.error is not None:
            # The output's own error (ENOSPC, EIO) is the one the caller can act on.
            raise self._sink.error
        if self._outcome.error is not None:
            raise RuntimeError("age encryption failed") from None

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
