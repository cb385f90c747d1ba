"""Runs the real `refugium` command in a subprocess, as a user's script would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cli_env(data: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REFUGIUM_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env["REFUGIUM_DATA"] = str(data)
    env.update(extra)
    return env


def refugium(
    data: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refugium.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or cli_env(data),
        cwd=REPO,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``refugium: error: …`` line a refused command prints, and nothing else
    (no traceback: a refusal is never an internal error)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("refugium: error: ")
    return lines[0]
