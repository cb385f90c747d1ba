"""Streaming age: AgeEncryptingWriter, decrypt_stream and iter_decrypted."""

from __future__ import annotations

import errno
import gc
import hashlib
import io
import os
import random
import re
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import refugium.crypto.stream as stream
from refugium.crypto import (
    AgeEncryptingWriter,
    BadInput,
    DecryptionFailed,
    Identity,
    decrypt,
    decrypt_stream,
    encrypt,
    iter_decrypted,
)

MiB = 1 << 20
CHUNK = 1 << 16  # age's payload chunk


def data_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def encrypt_streaming(data: bytes, identity: Identity, piece_size: int = 10_000) -> bytes:
    out = io.BytesIO()
    with AgeEncryptingWriter(out, [identity.recipient]) as writer:
        for piece in pieces(data, piece_size):
            writer.write(piece)
    return out.getvalue()


def stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in ("age-encrypt", "age-decrypt")]


def process_gone(pid: int) -> bool:
    """No process ``pid`` any more, not even a zombie: it ended and was reaped."""
    return not os.path.exists(f"/proc/{pid}")


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def header_length(age_file: bytes) -> int:
    return age_file.index(b"\n", age_file.index(b"\n--- ") + 1) + 1


# Sizes where age's chunking changes: empty, one byte, around one and two 64 KiB chunks,
# and several MiB.
EDGE_SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * MiB + 7]


@settings(max_examples=40, deadline=None)
@example(size=0, piece_size=1, seed=0)
@example(size=CHUNK, piece_size=CHUNK, seed=1)
@example(size=3 * MiB + 7, piece_size=CHUNK, seed=2)
@example(size=5 * MiB, piece_size=1, seed=3)
@given(
    size=st.one_of(st.sampled_from(EDGE_SIZES), st.integers(0, 5 * MiB)),
    piece_size=st.integers(1, 300_000),
    seed=st.integers(0, 2**32),
)
def test_round_trip_every_way(size: int, piece_size: int, seed: int) -> None:
    identity = Identity.generate()
    data = data_of(size, seed)
    # Few pieces of 1 byte for a large file would take minutes; keep the count bounded.
    piece_size = max(piece_size, size // 2000)
    ciphertext = encrypt_streaming(data, identity, piece_size)

    assert decrypt(ciphertext, [identity]) == data
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(ciphertext), out, [identity])
    assert out.getvalue() == data
    assert b"".join(iter_decrypted(io.BytesIO(ciphertext), [identity])) == data
    # age's payload: a 16-byte nonce, then each 64 KiB chunk (at least one) plus a 16-byte tag.
    chunks = max(1, -(-size // CHUNK))
    header = ciphertext.index(b"\n--- ") + 1
    header = ciphertext.index(b"\n", header) + 1
    assert len(ciphertext) == header + 16 + size + 16 * chunks


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(st.binary(max_size=3000), max_size=30))
def test_round_trip_any_split(parts: list[bytes]) -> None:
    identity = Identity.generate()
    out = io.BytesIO()
    with AgeEncryptingWriter(out, [identity.recipient]) as writer:
        for part in parts:
            writer.write(part)
    assert decrypt(out.getvalue(), [identity]) == b"".join(parts)


def test_several_recipients_each_decrypt() -> None:
    first, second = Identity.generate(), Identity.generate()
    out = io.BytesIO()
    with AgeEncryptingWriter(out, [first.recipient, second.recipient]) as writer:
        writer.write(b"to both desks")
    assert decrypt(out.getvalue(), [first]) == b"to both desks"
    assert decrypt(out.getvalue(), [second]) == b"to both desks"


def test_stock_age_decrypts_the_stream(
    identity: Identity, run_age_decrypt: Callable[[bytes, Identity], bytes]
) -> None:
    for size in (0, 100, 2 * MiB + 3):
        data = data_of(size, size)
        assert run_age_decrypt(encrypt_streaming(data, identity, CHUNK), identity) == data


def test_iter_decrypted_reads_what_stock_age_wrote(
    identity: Identity, age_cli: str, tmp_path: Path
) -> None:
    data = data_of(MiB + 5)
    (tmp_path / "in").write_bytes(data)
    subprocess.run(
        [
            age_cli,
            "-r",
            str(identity.recipient),
            "-o",
            str(tmp_path / "in.age"),
            str(tmp_path / "in"),
        ],
        check=True,
    )
    with (tmp_path / "in.age").open("rb") as src:
        assert b"".join(iter_decrypted(src, [identity])) == data


def test_no_recipients() -> None:
    with pytest.raises(BadInput) as caught:
        AgeEncryptingWriter(io.BytesIO(), [])
    assert caught.value.code == "no_recipients"
    assert stream_threads() == []


def test_write_after_close_or_abort(identity: Identity) -> None:
    writer = AgeEncryptingWriter(io.BytesIO(), [identity.recipient])
    writer.close()
    writer.close()  # again: nothing more
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"x")
    aborted = AgeEncryptingWriter(io.BytesIO(), [identity.recipient])
    aborted.abort()
    with pytest.raises(ValueError, match="closed"):
        aborted.write(b"x")
    with pytest.raises(ValueError, match="aborted"):
        aborted.close()


@pytest.mark.parametrize("written", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * MiB])
def test_abort_stops_the_worker_and_leaves_no_decryptable_file(
    identity: Identity, written: int
) -> None:
    out = io.BytesIO()
    writer = AgeEncryptingWriter(out, [identity.recipient])
    for piece in pieces(data_of(written), 50_000):
        writer.write(piece)
    writer.abort()
    writer.abort()  # idempotent
    assert writer._thread.is_alive() is False
    assert stream_threads() == []
    # Had the worker seen a plain end-of-file it would have finished a valid age file of the
    # prefix; an aborted stream must not decrypt, in whole or in part.
    with pytest.raises(DecryptionFailed):
        decrypt(out.getvalue(), [identity])


def test_exception_in_with_block_aborts(identity: Identity) -> None:
    out = io.BytesIO()

    def fail_midway() -> None:
        with AgeEncryptingWriter(out, [identity.recipient]) as writer:
            writer.write(b"partial")
            raise KeyError

    with pytest.raises(KeyError):
        fail_midway()
    assert stream_threads() == []
    with pytest.raises(DecryptionFailed):
        decrypt(out.getvalue(), [identity])


def test_an_abandoned_writer_is_stopped_when_collected(identity: Identity) -> None:
    out = io.BytesIO()
    writer = AgeEncryptingWriter(out, [identity.recipient])
    writer.write(data_of(CHUNK * 3))
    thread = writer._thread
    del writer
    gc.collect()
    thread.join(timeout=10)
    assert thread.is_alive() is False
    with pytest.raises(DecryptionFailed):
        decrypt(out.getvalue(), [identity])


class FailingOutput:
    """An output that accepts ``limit`` bytes, then fails as a full disk does."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0

    def write(self, data: memoryview) -> int:
        if self.received + len(data) > self.limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.received += len(data)
        return len(data)


def test_full_disk_on_the_final_flush_is_reported(identity: Identity) -> None:
    # A small file reaches the output only when pyrage's Rust BufWriter is dropped, and Rust
    # ignores errors there; without the sink's own record this would pass silently.
    writer = AgeEncryptingWriter(FailingOutput(0), [identity.recipient])
    writer.write(b"a short testimony")
    with pytest.raises(OSError, match="No space") as caught:
        writer.close()
    assert caught.value.errno == errno.ENOSPC
    assert stream_threads() == []


def test_full_disk_midway_is_reported_by_write_or_close(identity: Identity) -> None:
    writer = AgeEncryptingWriter(FailingOutput(MiB), [identity.recipient])

    def write_all() -> None:
        for piece in pieces(data_of(8 * MiB), CHUNK):
            writer.write(piece)
        writer.close()

    with pytest.raises(OSError, match="No space") as caught:
        write_all()
    assert caught.value.errno == errno.ENOSPC
    assert writer._thread.is_alive() is False


def test_a_short_writing_output_still_gets_every_byte(identity: Identity) -> None:
    class Trickle:
        """Takes at most 1000 bytes a call, as a raw file may."""

        def __init__(self) -> None:
            self.received = bytearray()

        def write(self, data: memoryview) -> int:
            self.received += data[:1000]
            return min(len(data), 1000)

    out = Trickle()
    data = data_of(CHUNK * 2 + 17)
    with AgeEncryptingWriter(out, [identity.recipient]) as writer:
        writer.write(data)
    assert decrypt(bytes(out.received), [identity]) == data


def test_writers_in_parallel_threads() -> None:
    results: dict[int, bool] = {}

    def run(seed: int) -> None:
        identity = Identity.generate()
        data = data_of(MiB + seed, seed)
        results[seed] = decrypt(encrypt_streaming(data, identity, 7000 + seed), [identity]) == data

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(6), True)


# The worker process


def test_the_worker_process_ends_with_the_writer(identity: Identity) -> None:
    open_fds = len(os.listdir("/proc/self/fd"))
    closed = AgeEncryptingWriter(io.BytesIO(), [identity.recipient])
    closed.write(b"x" * 1000)
    closed.close()
    assert closed._process.returncode == 0
    assert process_gone(closed._process.pid) is True
    aborted = AgeEncryptingWriter(io.BytesIO(), [identity.recipient])
    aborted.write(b"x" * 1000)
    assert process_gone(aborted._process.pid) is False
    aborted.abort()
    assert aborted._process.returncode == -9  # killed, never told the input had ended
    assert process_gone(aborted._process.pid) is True
    assert len(os.listdir("/proc/self/fd")) == open_fds  # every pipe closed


@pytest.mark.parametrize("finish", ["close", "abort"])
def test_abort_once_the_worker_has_read_everything_leaves_no_decryptable_file(
    identity: Identity, finish: str
) -> None:
    # The worker holds the last partial chunk and waits for more input. Had abort closed its
    # stdin rather than killing it, it would now write the final chunk: a valid age file of
    # the prefix. The control with close() shows that nothing else is missing for that.
    data = data_of(3 * CHUNK + 100)
    out = io.BytesIO()
    writer = AgeEncryptingWriter(out, [identity.recipient])
    writer.write(data)

    def all_full_chunks_out() -> bool:
        # Everything but the last partial chunk has come out: the worker has read it all.
        ciphertext = out.getvalue()
        if b"\n--- " not in ciphertext:
            return False
        return len(ciphertext) == header_length(ciphertext) + 16 + 3 * (CHUNK + 16)

    wait_for(all_full_chunks_out)
    if finish == "close":
        writer.close()
        assert decrypt(out.getvalue(), [identity]) == data
    else:
        writer.abort()
        assert all_full_chunks_out() is True  # not a byte more
        with pytest.raises(DecryptionFailed):
            decrypt(out.getvalue(), [identity])


def test_the_worker_gets_no_recipient_on_its_command_line_and_no_environment(
    identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ps shows every process's command line to every user, and the environment of the
    # server may hold secrets (REFUGIUM_SECRET_KEY): neither reaches the worker.
    monkeypatch.setenv("REFUGIUM_CANARY_SECRET", "do-not-copy")
    out = io.BytesIO()
    writer = AgeEncryptingWriter(out, [identity.recipient])
    writer.write(data_of(2 * CHUNK))
    wait_for(lambda: len(out.getvalue()) > 0)
    pid = writer._process.pid
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    writer.close()
    assert cmdline[1:] == [b"-I", stream._WORKER.encode(), b""]
    assert str(identity.recipient).encode() not in b"".join(cmdline)
    assert b"do-not-copy" not in environ
    assert environ == b""
    assert decrypt(out.getvalue(), [identity]) == data_of(2 * CHUNK)


@pytest.mark.parametrize("header", [b"", b"age1notarecipient\n\n", b"\n", b"x" * 5000])
def test_the_worker_refuses_a_bad_recipient_header(header: bytes) -> None:
    done = subprocess.run(
        [sys.executable, "-I", stream._WORKER],
        input=header + b"plaintext",
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == b""
    assert re.fullmatch(rb"[A-Za-z]+( errno \d+)?\n", done.stderr), done.stderr


def core_limit(pid: int) -> str:
    limits = Path(f"/proc/{pid}/limits").read_text()
    (line,) = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    return " ".join(line.split()[4:6])


def test_the_worker_cannot_leave_a_core_file(identity: Identity) -> None:
    # Whatever limit it inherits (`refugium serve` sets 0; this test allows core files), the
    # worker, which holds plaintext, sets its own to 0.
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    try:
        assert core_limit(os.getpid()) != "0 0"
        out = io.BytesIO()
        writer = AgeEncryptingWriter(out, [identity.recipient])
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    writer.write(data_of(2 * CHUNK))
    # Output means the worker is past its set-up, which lowers the limit first.
    wait_for(lambda: len(out.getvalue()) > 0)
    assert core_limit(writer._process.pid) == "0 0"
    writer.abort()


def fake_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    path = tmp_path / "worker.py"
    path.write_text(textwrap.dedent(code))
    monkeypatch.setattr(stream, "_WORKER", str(path))


def encrypt_all(identity: Identity, data: bytes) -> None:
    with AgeEncryptingWriter(io.BytesIO(), [identity.recipient]) as writer:
        for piece in pieces(data, CHUNK):
            writer.write(piece)


@pytest.mark.parametrize("size", [0, 3 * MiB])
def test_a_failing_worker_raises_with_a_short_safe_message(
    identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # A worker that dies at once, after a long line on stderr: the error comes from write
    # (the pipe breaks) or from close, and quotes at most a short, sanitised start of it.
    fake_worker(
        tmp_path,
        monkeypatch,
        """
        import sys
        sys.stderr.write("Oops<script>" + "x" * 100_000 + "\\n")
        sys.exit(3)
    """,
    )
    with pytest.raises(RuntimeError) as caught:
        encrypt_all(identity, data_of(size))
    message = str(caught.value)
    # Exit status 3, or another when its stderr, non-blocking, could not take the whole line.
    assert re.fullmatch(
        r"age encryption failed \(worker exit status \d+: Oops\?script\?x+\)", message
    )
    assert len(message) < 300
    assert stream_threads() == []


def test_a_worker_that_cannot_start_raises(
    identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "_WORKER", str(tmp_path / "missing.py"))
    with pytest.raises(RuntimeError, match=r"worker exit status 2: .*can.t open file"):
        encrypt_all(identity, b"x")


def test_the_worker_reports_a_failure_in_one_line_without_plaintext(identity: Identity) -> None:
    # Its stdout is a pipe nobody reads: the first chunk of ciphertext fails with EPIPE.
    canary = b"CANARY-plaintext-on-stderr-" * 10_000
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-I", stream._WORKER],
            input=f"{identity.recipient}\n\n".encode() + canary,
            stdout=write_end,
            stderr=subprocess.PIPE,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert re.fullmatch(rb"[A-Za-z]+( errno \d+)?\n", done.stderr), done.stderr
    assert b"CANARY" not in done.stderr
    # The same worker, with a reader, succeeds.
    works = subprocess.run(
        [sys.executable, "-I", stream._WORKER],
        input=f"{identity.recipient}\n\n".encode() + canary,
        capture_output=True,
        check=True,
    )
    digest = hashlib.sha256(canary).hexdigest()
    assert works.stderr == f"ok {digest} {len(canary)}\n".encode()
    assert decrypt(works.stdout, [identity]) == canary


@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * MiB + 7])
def test_the_plaintext_hash_comes_from_the_worker(identity: Identity, size: int) -> None:
    data = data_of(size)
    out = io.BytesIO()
    with AgeEncryptingWriter(out, [identity.recipient]) as writer:
        for piece in pieces(data, CHUNK):
            writer.write(piece)
        with pytest.raises(ValueError, match="not finished"):
            writer.plaintext_sha256  # noqa: B018
    assert writer.plaintext_sha256 == hashlib.sha256(data).hexdigest()
    assert decrypt(out.getvalue(), [identity]) == data


@pytest.mark.parametrize(
    "report",
    [
        "",  # exits 0 and says nothing
        "ok " + "0" * 64 + " 999\\n",  # a count that is not what was written
        "ok nothex 3\\n",
    ],
)
def test_a_worker_without_a_true_result_fails(
    identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str
) -> None:
    fake_worker(
        tmp_path,
        monkeypatch,
        f"""
        import os
        while os.read(0, 65536):
            pass
        os.write(2, "{report}".encode())
        """,
    )
    with pytest.raises(RuntimeError, match="age encryption failed"):
        encrypt_all(identity, b"abc")
    assert stream_threads() == []


# Decryption failures


def test_wrong_identity(identity: Identity) -> None:
    ciphertext = encrypt(data_of(3 * CHUNK), [identity.recipient])
    wrong = Identity.generate()
    with pytest.raises(DecryptionFailed) as caught:
        iter_decrypted(io.BytesIO(ciphertext), [wrong])  # raised before the first piece
    assert caught.value.code == "decryption_failed"
    with pytest.raises(DecryptionFailed):
        decrypt_stream(io.BytesIO(ciphertext), io.BytesIO(), [wrong])
    with pytest.raises(DecryptionFailed):
        iter_decrypted(io.BytesIO(ciphertext), [])
    with pytest.raises(DecryptionFailed):
        decrypt_stream(io.BytesIO(ciphertext), io.BytesIO(), [])
    assert stream_threads() == []


def test_not_an_age_file(identity: Identity) -> None:
    for junk in (b"", b"hello", b"age-encryption.org/v1\n", data_of(1000)):
        with pytest.raises(DecryptionFailed):
            iter_decrypted(io.BytesIO(junk), [identity])
        with pytest.raises(DecryptionFailed):
            decrypt_stream(io.BytesIO(junk), io.BytesIO(), [identity])


def test_truncation_raises_from_the_iterator_after_earlier_pieces(identity: Identity) -> None:
    data = data_of(5 * CHUNK)
    ciphertext = encrypt(data, [identity.recipient])
    truncated = ciphertext[: -CHUNK // 2]
    received = bytearray()
    iterator = iter_decrypted(io.BytesIO(truncated), [identity])

    def consume() -> None:
        for piece in iterator:
            received.extend(piece)

    with pytest.raises(DecryptionFailed):
        consume()
    assert 0 < len(received) < len(data)
    assert data.startswith(received)
    # Cut exactly at a chunk boundary: still not a whole file (no final chunk).
    header = ciphertext.index(b"\n", ciphertext.index(b"\n--- ") + 1) + 1
    at_boundary = ciphertext[: header + 16 + 3 * (CHUNK + 16)]
    with pytest.raises(DecryptionFailed):
        b"".join(iter_decrypted(io.BytesIO(at_boundary), [identity]))
    with pytest.raises(DecryptionFailed):
        decrypt_stream(io.BytesIO(truncated), io.BytesIO(), [identity])
    assert stream_threads() == []


@settings(max_examples=60, deadline=None)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_flipped_bit_raises(position: int, bit: int) -> None:
    identity = Identity.from_seed(bytes(32))
    ciphertext = bytearray(encrypt(data_of(3 * 1000), [identity.recipient]))
    ciphertext[position % len(ciphertext)] ^= 1 << bit
    with pytest.raises(DecryptionFailed):
        b"".join(iter_decrypted(io.BytesIO(bytes(ciphertext)), [identity]))
    with pytest.raises(DecryptionFailed):
        decrypt_stream(io.BytesIO(bytes(ciphertext)), io.BytesIO(), [identity])


def test_decrypt_stream_reports_a_failing_output_as_such(identity: Identity) -> None:
    ciphertext = encrypt(b"x" * 100, [identity.recipient])
    with pytest.raises(OSError, match="No space") as caught:
        decrypt_stream(io.BytesIO(ciphertext), FailingOutput(0), [identity])
    assert caught.value.errno == errno.ENOSPC


# Iterator lifetime


def test_iter_decrypted_piece_size(identity: Identity) -> None:
    data = data_of(3 * CHUNK + 5)
    ciphertext = encrypt(data, [identity.recipient])
    got = list(iter_decrypted(io.BytesIO(ciphertext), [identity], chunk_size=1000))
    assert b"".join(got) == data
    assert max(len(piece) for piece in got) == 1000
    with pytest.raises(BadInput) as caught:
        iter_decrypted(io.BytesIO(ciphertext), [identity], chunk_size=0)
    assert caught.value.code == "bad_chunk_size"
    assert list(iter_decrypted(io.BytesIO(encrypt(b"", [identity.recipient])), [identity])) == []


def test_stopping_early_ends_the_worker(identity: Identity) -> None:
    ciphertext = encrypt(data_of(8 * MiB), [identity.recipient])
    iterator = iter_decrypted(io.BytesIO(ciphertext), [identity])
    assert len(next(iterator)) > 0
    iterator.close()
    assert iterator._thread.is_alive() is False
    assert list(iterator) == []
    assert stream_threads() == []


def test_dropping_an_iterator_ends_the_worker(identity: Identity) -> None:
    ciphertext = encrypt(data_of(8 * MiB), [identity.recipient])
    for read_first in (False, True):
        iterator = iter_decrypted(io.BytesIO(ciphertext), [identity])
        if read_first:
            next(iterator)
        thread = iterator._thread
        del iterator
        gc.collect()
        thread.join(timeout=10)
        assert thread.is_alive() is False


def test_close_src(identity: Identity) -> None:
    ciphertext = encrypt(data_of(4 * CHUNK), [identity.recipient])
    kept, closed = io.BytesIO(ciphertext), io.BytesIO(ciphertext)
    assert len(b"".join(iter_decrypted(kept, [identity]))) == 4 * CHUNK
    assert kept.closed is False
    with iter_decrypted(closed, [identity], close_src=True) as iterator:
        next(iterator)
    assert closed.closed is True
    wrong = io.BytesIO(ciphertext)
    with pytest.raises(DecryptionFailed):
        iter_decrypted(wrong, [Identity.generate()], close_src=True)
    assert wrong.closed is True


# Memory stays flat. Rust allocations are invisible to tracemalloc, so the probe reads the
# peak resident set (VmHWM) of a fresh process, after a warm-up through the same code.

MEMORY_PROBE = textwrap.dedent(
    """
    import io, os, random, sys
    from refugium.crypto import AgeEncryptingWriter, Identity, encrypt, iter_decrypted

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

    folder, total = sys.argv[1], int(sys.argv[2])
    identity = Identity.generate()
    rng = random.Random(1)
    path = os.path.join(folder, "big.age")

    def worker_hwm(pid):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

    def encrypt_to_file(size):
        with open(path, "wb", buffering=0) as out:
            with AgeEncryptingWriter(out, [identity.recipient]) as writer:
                for _ in range(size // 65536):
                    writer.write(rng.randbytes(65536))
                # The worker, still alive: waiting for the end of its input.
                return worker_hwm(writer._process.pid)

    def decrypt_from_file():
        n = 0
        with open(path, "rb") as src:
            for piece in iter_decrypted(src, [identity]):
                n += len(piece)
        return n

    small_worker = encrypt_to_file(4 << 20)
    decrypt_from_file()
    before = hwm()
    large_worker = encrypt_to_file(total)
    after_encrypt = hwm()
    assert decrypt_from_file() == total
    after_decrypt = hwm()
    # The control: a whole-buffer encryption of a quarter of the size must show up.
    encrypt(b"\\0" * (total // 4), [identity.recipient])
    after_control = hwm()
    os.unlink(path)
    print(before, after_encrypt, after_decrypt, after_control, small_worker, large_worker)
    """
)


def test_memory_stays_flat_for_200_mib(tmp_path: Path) -> None:
    total = 200 * MiB
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path), str(total)],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after_encrypt, after_decrypt, after_control, small_worker, large_worker = map(
        int, result.stdout.split()
    )
    assert after_encrypt - before < 32 * MiB
    # The worker process: an interpreter with pyrage (about 12 MiB), whatever the size.
    assert large_worker < 32 * MiB
    assert large_worker - small_worker < 8 * MiB
    assert after_decrypt - before < 32 * MiB
    # The probe can see growth: holding a quarter of the file (plus its ciphertext) shows.
    assert after_control - after_decrypt > total // 4


class SpliceTarget:
    """An output that offers its file descriptor for splice(2), as the store's files do; a
    ``write`` here would mean the relay copied through this process instead."""

    def __init__(self, fd: int) -> None:
        self.splice_fd = fd

    def write(self, data: memoryview) -> int:
        raise AssertionError("spliced outputs are never written through write()")


def test_a_file_descriptor_output_is_spliced_whole(identity: Identity, tmp_path: Path) -> None:
    data = data_of(3 * MiB + 5)
    fd = os.open(tmp_path / "out.age", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with AgeEncryptingWriter(SpliceTarget(fd), [identity.recipient]) as writer:
            for piece in pieces(data, 100_000):
                writer.write(piece)
    finally:
        os.close(fd)
    assert decrypt((tmp_path / "out.age").read_bytes(), [identity]) == data
    assert writer.plaintext_sha256 == hashlib.sha256(data).hexdigest()


def test_a_write_error_under_splice_is_reported(identity: Identity, tmp_path: Path) -> None:
    # A file past the size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) refuses writes with
    # EFBIG, splice(2) included, as a full disk refuses them with ENOSPC; the limit is this
    # process's, so the relay thread meets it.
    fd = os.open(tmp_path / "out.age", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (MiB, limits[1]))
    try:
        writer = AgeEncryptingWriter(SpliceTarget(fd), [identity.recipient])

        def write_all() -> None:
            for piece in pieces(data_of(4 * MiB), CHUNK):
                writer.write(piece)
            writer.close()

        with pytest.raises(OSError, match="too large") as caught:
            write_all()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
        os.close(fd)
    assert caught.value.errno == errno.EFBIG
    assert writer._thread.is_alive() is False
    assert stream_threads() == []


# --- encrypt_file: the worker reads a whole regular file and writes the age file itself ----


def source_file(tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "plain.bin"
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY)


def output_file(tmp_path: Path, name: str = "out.age") -> int:
    return os.open(tmp_path / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, MiB - 1, MiB, 3 * MiB + 7])
def test_encrypt_file_round_trip_with_the_plaintext_hash(
    tmp_path: Path, identity: Identity, size: int
) -> None:
    data = data_of(size, seed=size)
    source, out = source_file(tmp_path, data), output_file(tmp_path)
    try:
        os.lseek(source, 5, os.SEEK_SET)  # the worker reads from 0 whatever the offset
        encryption = stream.encrypt_file(source, out, [identity.recipient])
        assert encryption.wait() == (hashlib.sha256(data).hexdigest(), size)
        assert encryption.wait() == (hashlib.sha256(data).hexdigest(), size)
        assert os.lseek(source, 0, os.SEEK_CUR) == 5  # its own offset: ours is left alone
    finally:
        os.close(source)
        os.close(out)
    assert decrypt((tmp_path / "out.age").read_bytes(), [identity]) == data


def test_stock_age_decrypts_what_encrypt_file_wrote(
    tmp_path: Path, identity: Identity, age_cli: str
) -> None:
    data = data_of(2 * MiB + 1)
    source, out = source_file(tmp_path, data), output_file(tmp_path)
    try:
        stream.encrypt_file(source, out, [identity.recipient]).wait()
    finally:
        os.close(source)
        os.close(out)
    key = tmp_path / "key.txt"
    key.write_text(identity.to_secret_string() + "\n")
    done = subprocess.run(
        [age_cli, "-d", "-i", str(key), str(tmp_path / "out.age")], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == data


def test_encrypt_file_takes_only_a_regular_file_and_some_recipient(
    tmp_path: Path, identity: Identity
) -> None:
    out = output_file(tmp_path)
    folder = os.open(tmp_path, os.O_RDONLY)
    read_end, write_end = os.pipe()
    source = source_file(tmp_path, b"data")
    try:
        for not_a_file in (folder, read_end):
            with pytest.raises(BadInput):
                stream.encrypt_file(not_a_file, out, [identity.recipient])
        with pytest.raises(BadInput):
            stream.encrypt_file(source, out, [])
    finally:
        for fd in (out, folder, read_end, write_end, source):
            os.close(fd)
    assert (tmp_path / "out.age").read_bytes() == b""


def test_encrypt_file_reports_a_full_disk_as_itself(tmp_path: Path, identity: Identity) -> None:
    source = source_file(tmp_path, data_of(MiB))
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        encryption = stream.encrypt_file(source, full, [identity.recipient])
        with pytest.raises(OSError, match="space") as raised:
            encryption.wait()
    finally:
        os.close(source)
        os.close(full)
    assert raised.value.errno == errno.ENOSPC


def test_encrypt_file_reports_a_full_disk_on_the_final_flush(
    tmp_path: Path, identity: Identity
) -> None:
    # Rust drops the error of the final flush; the worker does not. A file of a few bytes is
    # written in that flush alone.
    source = source_file(tmp_path, b"short")
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError, match="space") as raised:
            stream.encrypt_file(source, full, [identity.recipient]).wait()
    finally:
        os.close(source)
        os.close(full)
    assert raised.value.errno == errno.ENOSPC


def test_encrypt_file_abort_kills_the_worker_and_leaves_no_decryptable_file(
    tmp_path: Path, identity: Identity
) -> None:
    # A sparse file: large, cheap to make, slow enough to encrypt to be caught midway.
    path = tmp_path / "sparse.bin"
    with path.open("wb") as f:
        f.truncate(4 << 30)
    source, out = os.open(path, os.O_RDONLY), output_file(tmp_path)
    try:
        encryption = stream.encrypt_file(source, out, [identity.recipient])
        pid = encryption._process.pid
        wait_for(lambda: os.fstat(out).st_size > 0)
        encryption.abort()
        assert process_gone(pid)
        encryption.abort()  # again: nothing more
        with pytest.raises(ValueError, match="aborted"):
            encryption.wait()
    finally:
        os.close(source)
        os.close(out)
    with pytest.raises(DecryptionFailed):
        decrypt((tmp_path / "out.age").read_bytes(), [identity])


def test_encrypt_file_worker_gets_no_recipient_on_its_command_line_and_no_environment(
    tmp_path: Path, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFUGIUM_CANARY_SECRET", "do-not-copy")
    path = tmp_path / "sparse.bin"
    with path.open("wb") as f:
        f.truncate(4 << 30)
    source, out = os.open(path, os.O_RDONLY), output_file(tmp_path)
    try:
        encryption = stream.encrypt_file(source, out, [identity.recipient])
        pid = encryption._process.pid
        wait_for(lambda: os.fstat(out).st_size > 0)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        held = sorted(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
        encryption.abort()
    finally:
        os.close(source)
        os.close(out)
    assert cmdline[1:4] == [b"-I", stream._WORKER.encode(), b"--plaintext-fd"]
    assert str(identity.recipient).encode() not in b"".join(cmdline)
    assert environ == b""
    # stdin (the recipients), stderr (/dev/null) and the report, the age file, the plaintext:
    # nothing else of this process's.
    pipes = [h for h in held if h.startswith("pipe:")]
    assert len(pipes) == 2, held
    assert sorted(set(held) - set(pipes)) == sorted(
        {os.devnull, str(tmp_path / "out.age"), str(path)}
    ), held


def test_an_orphaned_file_worker_stops(tmp_path: Path) -> None:
    # A parent that dies (a killed `refugium evidence add`) leaves its worker nothing to do:
    # it stops at its next read rather than encrypting gigabytes for nobody.
    path = tmp_path / "sparse.bin"
    with path.open("wb") as f:
        f.truncate(64 << 30)  # minutes of work for a worker that went on
    parent = textwrap.dedent(
        f"""
        import os, sys
        from refugium.crypto import Identity, encrypt_file
        source = os.open({str(path)!r}, os.O_RDONLY)
        out = os.open(os.devnull, os.O_WRONLY)
        encryption = encrypt_file(source, out, [Identity.generate().recipient])
        print(encryption._process.pid, flush=True)
        os._exit(0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, check=True, timeout=60
    )
    pid = int(done.stdout)
    wait_for(lambda: process_gone(pid) or b"Z" in _state(pid), timeout=30)


def _state(pid: int) -> bytes:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return b"Z"
    return raw[raw.rindex(b")") + 2 :].split()[0]
