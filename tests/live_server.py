"""A real `refugium serve` (gunicorn) on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.cli_runner import REPO, cli_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    own_group: bool

    def kill_group(self) -> None:
        """SIGKILL the whole process group (gunicorn master and workers) at once, as a
        crash or the OOM killer would, and reap the master. Needs ``new_session=True``."""
        if not self.own_group:
            raise RuntimeError("start the server with new_session=True to kill its group")
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def server_process(
    data: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    new_session: bool = False,
) -> Iterator[LiveServer]:
    """Like ``running_server``, but yields the process too, and takes extra environment
    variables (``REFUGIUM_FORM_MIN_SECONDS``, ``TMPDIR``, ...).

    With ``new_session=True`` the server leads a process group of its own (its pid is the
    group id), so that ``LiveServer.kill_group`` reaches the workers as well. If the
    server is still running on the way out, it is stopped with SIGTERM; when a test killed
    it, nothing is left to stop.
    """
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "refugium.cli", "serve", "--port", str(port)],
            env=cli_env(data, REFUGIUM_TRANSPORT="onion", **dict(env or {})),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
        try:
            _wait_for(port, server)
            yield LiveServer(f"http://127.0.0.1:{port}", port, server, new_session)
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    if new_session:
                        os.killpg(server.pid, signal.SIGKILL)
                    else:
                        server.kill()
                    server.wait(timeout=30)
                    raise


@contextmanager
def running_server(data: Path, log: Path) -> Iterator[str]:
    """Serves the data folder (transport onion: plain HTTP on loopback); yields the base URL.

    Stops the server with SIGTERM on the way out, so its log is complete afterwards.
    """
    with server_process(data, log) as server:
        yield server.url
