"""What the benchmarks share: a clean environment for a throwaway data folder, a real
`refugium serve` on a free loopback port, and random input files.

Imported as ``common`` by the scripts beside it (`python benchmarks/intake.py` puts this
folder on the path).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MiB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(REPO))  # the benchmarks share helpers and data with the tests
from tests.procfs import children, vm_hwm_kib  # noqa: E402

__all__ = ["children", "vm_hwm_kib"]  # re-exported for the scripts beside this one
PASSPHRASE = "benchmark admin passphrase, thrown away"  # noqa: S105  # benchmark input


def cli_env(data: Path, **extra: str) -> dict[str, str]:
    """This process's environment without refugium's or Django's settings, pointed at
    ``data``: a benchmark never touches the data folder of the shell it runs in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFUGIUM_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(REFUGIUM_DATA=str(data), **extra)
    return env


@contextmanager
def work_folder(
    name: str, parent: Path | None, *, keep: bool, reuse: Path | None = None
) -> Iterator[Path]:
    """A throwaway folder for one benchmark run, removed afterwards unless ``keep`` (or
    ``reuse``, a folder kept by an earlier run) says otherwise."""
    work = reuse or Path(tempfile.mkdtemp(prefix=f"refugium-bench-{name}-", dir=parent))
    try:
        yield work
    finally:
        if keep or reuse:
            print(f"\nwork folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def refugium_init(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`refugium init` of the data folder ``env`` points at, with :data:`PASSPHRASE`; the
    benchmark stops if it fails."""
    init = subprocess.run(
        [sys.executable, "-m", "refugium.cli", "init", "--passphrase-stdin"],
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    if init.returncode != 0:
        raise SystemExit(f"refugium init failed: {init.stderr}")
    return init


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """`refugium serve` in a session of its own, once its port accepts connections."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "refugium.cli", "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited early; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, port
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    raise SystemExit("the server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def random_file(path: Path, size: int) -> None:
    """``size`` random bytes, fsynced: incompressible, so no layer can shortcut them."""
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(8 * MiB, left))
            out.write(piece)
            left -= len(piece)
        out.flush()
        os.fsync(out.fileno())
