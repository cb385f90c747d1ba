"""``refugium report build``: compile a definition and write the report folder whole or not at all.

The folder gets ``data.json`` (the contract's dict as canonical JSON), ``withheld.json`` and
``withheld.txt`` (for the desk, never published), and what the renderer
(``refugium.reports.render``) makes from the same dict alone: ``report.html``, ``charts/``
and ``report.pdf``. Everything is written into a temporary folder beside ``--out`` and
renamed into place at the end: a build that fails (a bad record, the renderer refusing an
external reference, Ctrl-C) leaves nothing half-written.

Every build is audited as ``reports.build`` with the SHA-256 of the canonical definition,
never the definition itself (its title and filters say what the desk is working on).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refugium.errors import BadInput, Conflict
from refugium.reports.definition import Definition
from refugium.reports.jsonout import dumps
from refugium.reports.render import render
from refugium.web.core.auditing import record as audit
from refugium.web.records import services as records
from refugium.web.reports.compile import Build, compile_report, definition_digest

__all__ = ["Written", "build_report", "check_out"]


@dataclass(frozen=True)
class Written:
    out: Path
    files: tuple[str, ...]
    build: Build


def check_out(out: Path) -> None:
    """Raises:
    Conflict: ``out`` exists and is not an empty folder (nothing is ever overwritten).
    """
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise Conflict(f"{out} exists and is not a folder; refusing to overwrite it")
    if out.is_dir() and any(out.iterdir()):
        raise Conflict(f"{out} is not empty; give a new or empty folder")


def _write(path: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def build_report(
    ws: records.Workspace,
    definition: Definition,
    out: Path,
    *,
    language: str | None = None,
    identities: Sequence[Any] | None = None,
    source: str = "definition",
) -> Written:
    """Compile ``definition`` in ``language`` (default: its first) and write ``out``.

    Raises:
        Conflict: ``out`` is not a new or empty folder.
        BadDefinition: the definition names terms the vocabularies lack, or has no title in
            the language.
        BadInput: the language is not one the definition is built in.
    """
    language = language or definition.languages[0]
    if language not in definition.languages:
        raise BadInput(
            f"--lang {language!r}: the definition is built in {', '.join(definition.languages)}"
        )
    out = Path(out)
    check_out(out)
    parent = out.absolute().parent
    if not parent.is_dir():
        raise BadInput(f"{parent} does not exist; create it first")
    built = compile_report(ws, definition, language=language, identities=identities, source=source)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=parent))
    try:
        _write(staging / "data.json", dumps(built.report))
        _write(staging / "withheld.json", dumps(built.withheld.to_json()))
        _write(staging / "withheld.txt", built.withheld.render_text())
        render(built.report, staging)
        check_out(out)
        if out.is_dir():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    audit(ws.actor, "reports.build", "report", definition_digest(definition))
    files = tuple(sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()))
    return Written(out=out, files=files, build=built)
