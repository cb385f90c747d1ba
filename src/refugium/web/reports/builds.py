"""The reports page's builds: one folder each under the data folder, found only by id.

A build is a folder ``DATA/reports/<id>`` (``DataDir.reports``), ``id`` 32 random hex digits
(128 bits, ``secrets``): it names nothing and cannot be guessed or enumerated from the URL of
another. The folder holds what ``build.build_report`` wrote (``data.json``, ``withheld.*`` and
the renderer's files) and ``definition.toml``, the text the researcher typed: it is kept there
and nowhere else (not in the database, not in the audit log, which gets its digest), so that
deleting the build deletes it. Folders are 0700 and files 0600 like the rest of the data
folder, whatever umask the renderer ran under.

Nothing here trusts a name from a URL: an id must match :data:`ID` and a file name must be
one of the files a walk of the build's own folder finds (no symlink followed), so ``../``,
absolute paths and links lead nowhere but to :class:`NotFound`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from refugium.errors import NotFound

__all__ = [
    "DEFINITION",
    "FOR_THE_DESK",
    "ID",
    "Build",
    "delete",
    "files",
    "find",
    "listing",
    "new_folder",
    "open_file",
    "root",
    "secure",
    "write_definition",
]

ID = re.compile(r"[0-9a-f]{32}")
DEFINITION = "definition.toml"
FOR_THE_DESK = frozenset({"withheld.json", "withheld.txt"})
"""Files for the desk only, never for publication: the page marks them so."""


@dataclass(frozen=True)
class Build:
    id: str
    folder: Path
    built: datetime
    title: str
    language: str


def root() -> Path:
    """``DATA/reports``, created 0700 on first use."""
    folder: Path = settings.DATA.reports
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def new_folder() -> tuple[str, Path]:
    """A fresh id and the path of its folder (not created: ``build_report`` writes it whole)."""
    while True:
        build_id = secrets.token_hex(16)
        folder = root() / build_id
        if not folder.exists():
            return build_id, folder


def find(build_id: str) -> Path:
    """The folder of ``build_id``.

    Raises:
        NotFound: not an id, or no such build (a symlink in its place is no build).
    """
    if not ID.fullmatch(build_id):
        raise NotFound("no such report build")
    folder = root() / build_id
    try:
        mode = folder.lstat().st_mode
    except FileNotFoundError:
        raise NotFound("no such report build") from None
    if not stat.S_ISDIR(mode):
        raise NotFound("no such report build")
    return folder


def _walk(folder: Path) -> Iterator[str]:
    """Relative names of the regular files below ``folder``; links are neither followed nor
    listed."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            path = here / name
            if stat.S_ISREG(path.lstat().st_mode):
                yield path.relative_to(folder).as_posix()


def files(folder: Path) -> list[tuple[str, int]]:
    """Every file of a build with its size, in a reading order: the report first, the
    desk's files next, the rest by name."""
    first = ["report.html", "report.pdf", "data.json", "withheld.txt", "withheld.json"]
    names = list(_walk(folder))

    def order(name: str) -> tuple[int, str]:
        return (first.index(name) if name in first else len(first), name)

    return [(name, (folder / name).lstat().st_size) for name in sorted(names, key=order)]


def open_file(folder: Path, name: str) -> tuple[Path, int]:
    """The path and size of the file ``name`` of a build.

    Raises:
        NotFound: ``name`` is not one of the build's files.
    """
    for found, size in files(folder):
        if found == name:
            return folder / found, size
    raise NotFound("no such file in this build")


def write_definition(folder: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(folder / DEFINITION, flags, 0o600), "w", encoding="utf-8") as out:
        out.write(text)


def secure(folder: Path) -> None:
    """Folders 0700, files 0600: the renderer may have written under a looser umask."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        os.chmod(dirpath, 0o700)
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                path.chmod(0o600)
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                (Path(dirpath) / name).unlink()


def _describe(build_id: str, folder: Path) -> Build | None:
    data = folder / "data.json"
    try:
        built = datetime.fromtimestamp(data.lstat().st_mtime, tz=UTC)
        report = json.loads(data.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return Build(
        id=build_id,
        folder=folder,
        built=built,
        title=str(report.get("title", "")),
        language=str(report.get("language", "")),
    )


def describe(build_id: str) -> Build:
    """Raises:
    NotFound: no such build, or one without its data.json.
    """
    found = _describe(build_id, find(build_id))
    if found is None:
        raise NotFound("no such report build")
    return found


def listing() -> list[Build]:
    """Every build, newest first. Folders that are not builds (a crash's leftovers, names
    that are not ids) are skipped."""
    found = []
    for entry in os.scandir(root()):
        if ID.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            build = _describe(entry.name, Path(entry.path))
            if build is not None:
                found.append(build)
    return sorted(found, key=lambda b: (b.built, b.id), reverse=True)


def delete(build_id: str) -> None:
    """Removes a build's folder and everything in it.

    Raises:
        NotFound: no such build.
    """
    shutil.rmtree(find(build_id))
