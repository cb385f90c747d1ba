"""Reading ``refugium link``'s input CSV files, refusing bad input with the file and line.

The contract: UTF-8 (a byte-order mark is allowed), a header row holding ``id`` and any of
the other :data:`refugium.linkage.prepare.COLUMNS` (other columns are ignored), one record
per row, ids unique within a file, the source named by the file's stem. A researcher fixes a
list in a spreadsheet and runs again, so every problem found is reported at once (up to
:data:`MAX_PROBLEMS` per file), each with its line, and nothing is linked until all are fixed:
a partly read list would silently drop people from the count.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from refugium.linkage.prepare import COLUMNS, BadDate, birth_parts

__all__ = ["MAX_PROBLEMS", "BadInput", "Record", "read_sources"]

MAX_PROBLEMS: Final = 20


class BadInput(ValueError):
    """One or more input files break the contract; the message lists file, line and problem."""


@dataclass(frozen=True, slots=True, repr=False)
class Record:
    """One input row: its source, its id and the contract's columns (blank when absent)."""

    source: str
    id: str
    fields: dict[str, str]

    def __repr__(self) -> str:
        return f"<Record {self.source}:{self.id} (redacted)>"


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInput(
            f"{path}: line {line}: not UTF-8 (byte {exc.start}); save the file as UTF-8"
        ) from None


def _read_one(path: Path) -> list[Record]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = _decode(path, data)
    if not text.strip():
        raise BadInput(f"{path}: the file is empty (expected a header row with 'id')")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise BadInput(f"{path}: line 1: {exc}") from None
    if "id" not in header:
        shown = ", ".join(repr(h) for h in header[:10])
        raise BadInput(f"{path}: line 1: no 'id' column (the header has {shown})")
    wanted = {name: header.index(name) for name in COLUMNS if name in header}
    source = path.stem
    records: list[Record] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}

    def problem(line: int, message: str) -> None:
        problems.append(f"{path}: line {line}: {message}")

    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problem(line, f"{len(row)} fields, the header has {len(header)}")
                continue
            fields = {name: row[i].strip() for name, i in wanted.items()}
            record_id = fields.pop("id")
            if not record_id:
                problem(line, "the id is blank")
            elif record_id in first_line:
                problem(line, f"id {record_id!r} is also on line {first_line[record_id]}")
            else:
                first_line[record_id] = line
            try:
                birth_parts(fields.get("birth_date", ""))
            except BadDate as exc:
                problem(line, f"birth_date: {exc}")
            records.append(Record(source, record_id, fields))
            if len(problems) >= MAX_PROBLEMS:
                break
    except csv.Error as exc:
        problem(reader.line_num, str(exc))
    if problems:
        raise BadInput("\n".join(problems))
    if not records:
        raise BadInput(f"{path}: a header but no records")
    return records


def read_sources(paths: Sequence[Path]) -> list[Record]:
    """Every record of every file, in file order then row order.

    Raises:
        BadInput: no files, two files with one stem (the source name), or any file that
            breaks the contract; the message lists every problem found.
    """
    if not paths:
        raise BadInput("no input files")
    stems: dict[str, Path] = {}
    for path in paths:
        if path.stem in stems:
            raise BadInput(
                f"{path} and {stems[path.stem]} would both be source {path.stem!r}:"
                " rename one, since the source name is the file name without .csv"
            )
        stems[path.stem] = path
    records: list[Record] = []
    problems: list[str] = []
    for path in paths:
        try:
            records.extend(_read_one(path))
        except BadInput as exc:
            problems.append(str(exc))
    if problems:
        raise BadInput("\n".join(problems))
    return records
