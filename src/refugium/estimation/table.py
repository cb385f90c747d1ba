"""Capture tables: who was on which list, read from a pattern table or from linked records.

Two input shapes reach ``refugium estimate``:

- a **pattern table** as the shared MSE data have it: one 0/1 column per list and a ``count``
  column, one row per pattern of list membership (the all-zero pattern, people on no list,
  cannot be observed and must not appear);
- **linked records** as ``refugium link`` writes them (``source,id,cluster``): every cluster is
  one person, every source one list, and a person's pattern is the set of sources holding a
  record of them.

Either may carry a stratum column (period, region, sex), named with ``--strata``; a table is
then built per stratum. Everything wrong with a file is reported at once, each problem with its
line, and nothing is estimated until all are fixed: a silently dropped row changes the count.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_LISTS",
    "MAX_PROBLEMS",
    "BadTable",
    "CaptureTable",
    "read_table",
    "table_from_memberships",
]

MAX_PROBLEMS: Final = 20
MAX_LISTS: Final = 15
"""2^15 cells; beyond that no method here is meaningful and the arrays grow large."""

RECORD_COLUMNS: Final = ("source", "cluster")


class BadTable(ValueError):
    """A table or records file breaks the contract; the message names file, line and problem."""


@dataclass(frozen=True)
class CaptureTable:
    """Counts for every pattern of membership in ``lists``.

    ``counts`` has ``2**k`` cells indexed by the bit mask of the pattern, list ``j`` being bit
    ``j`` (the first list varies fastest, as in dga's arrays); cell 0, the unobserved pattern,
    is always 0. Patterns nobody had are kept as zeros: they are information, not gaps.
    """

    lists: tuple[str, ...]
    counts: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        k = len(self.lists)
        if k < 2:
            raise BadTable(
                f"{k} list{'s' if k != 1 else ''}: estimation needs at least two lists "
                "to see how they overlap"
            )
        if k > MAX_LISTS:
            raise BadTable(f"{k} lists: at most {MAX_LISTS} are supported")
        if len(set(self.lists)) != k:
            raise BadTable("two lists have the same name")
        if self.counts.shape != (2**k,):
            raise ValueError(f"counts must have {2**k} cells, not {self.counts.shape}")
        if self.counts[0] != 0:
            raise ValueError("cell 0 (on no list) cannot be observed")
        if (self.counts < 0).any():
            raise ValueError("counts cannot be negative")
        if self.observed == 0:
            raise BadTable("nobody is on any list: there is nothing to estimate from")

    @property
    def k(self) -> int:
        """The number of lists."""
        return len(self.lists)

    @property
    def observed(self) -> int:
        """People on at least one list."""
        return int(self.counts.sum())

    def patterns(self) -> npt.NDArray[np.int8]:
        """The ``2**k - 1`` observable patterns as rows of 0/1, in cell order (from cell 1)."""
        masks = np.arange(1, 2**self.k)
        return ((masks[:, None] >> np.arange(self.k)) & 1).astype(np.int8)

    def observed_counts(self) -> npt.NDArray[np.int64]:
        """Counts of the observable patterns, aligned with :meth:`patterns`."""
        return self.counts[1:]

    def list_totals(self) -> dict[str, int]:
        """How many people each list holds (its margin)."""
        patterns = self.patterns()
        return {
            name: int(self.observed_counts()[patterns[:, j] == 1].sum())
            for j, name in enumerate(self.lists)
        }

    def scaled(self, factor: int) -> CaptureTable:
        """Every count times ``factor`` (for the property that N̂ scales with the counts)."""
        return CaptureTable(self.lists, self.counts * factor)

    @classmethod
    def from_patterns(
        cls, lists: Sequence[str], rows: Iterable[tuple[Sequence[int], int]]
    ) -> CaptureTable:
        """Build from ``(pattern, count)`` pairs; repeated patterns add up."""
        k = len(lists)
        counts = np.zeros(2**k, dtype=np.int64)
        weights = 1 << np.arange(k)
        for pattern, count in rows:
            counts[int(np.dot(np.asarray(pattern, dtype=np.int64), weights))] += count
        return cls(tuple(lists), counts)


def table_from_memberships(
    lists: Sequence[str], memberships: Iterable[frozenset[str]]
) -> CaptureTable:
    """A table from one set of list names per person (a linked cluster, a Person's sources)."""
    index = {name: j for j, name in enumerate(lists)}
    k = len(lists)
    counts = np.zeros(2**k, dtype=np.int64)
    for sources in memberships:
        mask = 0
        for name in sources:
            mask |= 1 << index[name]
        if mask:
            counts[mask] += 1
    return CaptureTable(tuple(lists), counts)


def read_table(path: Path, strata: str | None = None) -> dict[str | None, CaptureTable]:
    """Read a pattern table or linked records; one table per stratum (key ``None`` without).

    Raises :class:`BadTable` listing every problem found, each with its line.
    """
    header, rows = _read_csv(path)
    if strata is not None and strata not in header:
        raise BadTable(
            f"{path}: no column {strata!r} to stratify by (columns: {', '.join(header)})"
        )
    if "count" in header:
        return _read_patterns(path, header, rows, strata)
    if all(name in header for name in RECORD_COLUMNS):
        return _read_records(path, header, rows, strata)
    raise BadTable(
        f"{path}: expected a 'count' column (a pattern table: one 0/1 column per list) or "
        "'source' and 'cluster' columns (linked records, as `refugium link` writes them)"
    )


Row = tuple[int, dict[str, str]]


def _read_csv(path: Path) -> tuple[list[str], list[Row]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadTable(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadTable(f"{path}: line {line}: not UTF-8; save the file as UTF-8") from None
    if not text.strip():
        raise BadTable(f"{path}: the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        if "" in header:
            raise BadTable(f"{path}: line 1: a column has no name")
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise BadTable(f"{path}: line 1: column {duplicated[0]!r} appears twice")
        rows: list[Row] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise BadTable(
                    f"{path}: line {reader.line_num}: {len(values)} cells for {len(header)} columns"
                )
            rows.append((reader.line_num, dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        raise BadTable(f"{path}: line {reader.line_num}: not valid CSV: {exc}") from None
    if not rows:
        raise BadTable(f"{path}: a header but no rows")
    return header, rows


class _Problems:
    """Collects problems so a researcher sees them all in one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, line: int, problem: str) -> None:
        self.found.append(f"line {line}: {problem}")

    def raise_if_any(self) -> None:
        if not self.found:
            return
        shown = self.found[:MAX_PROBLEMS]
        more = len(self.found) - len(shown)
        tail = f"\n  … and {more} more" if more else ""
        raise BadTable(
            f"{self.path}: {len(self.found)} problem(s):\n  " + "\n  ".join(shown) + tail
        )


def _count(text: str) -> int | None:
    """A whole, non-negative count; spreadsheets may write 12 as ``12.0``."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not np.isfinite(value) or value < 0 or value != int(value):
        return None
    return int(value)


def _stratum(
    problems: _Problems, line: int, fields: Mapping[str, str], strata: str | None
) -> str | None:
    if strata is None:
        return None
    value = fields[strata].strip()
    if not value:
        problems.add(line, f"no value in the stratum column {strata!r}")
    return value


def _read_patterns(
    path: Path, header: list[str], rows: list[Row], strata: str | None
) -> dict[str | None, CaptureTable]:
    lists = [name for name in header if name not in ("count", strata)]
    if len(lists) < 2:
        raise BadTable(
            f"{path}: {len(lists)} list column(s) ({', '.join(lists) or 'none'}): estimation "
            "needs at least two lists"
        )
    if len(lists) > MAX_LISTS:
        raise BadTable(f"{path}: {len(lists)} lists: at most {MAX_LISTS} are supported")
    not_lists = [
        name for name in lists if not any(fields[name].strip() in ("0", "1") for _, fields in rows)
    ]
    if not_lists:
        raise BadTable(
            f"{path}: column {not_lists[0]!r} holds no 0/1 cell; if it is a stratum, name it "
            f"with --strata {not_lists[0]}, otherwise remove it"
        )
    problems = _Problems(path)
    seen: dict[tuple[str | None, tuple[int, ...]], int] = {}
    by_stratum: dict[str | None, list[tuple[tuple[int, ...], int]]] = defaultdict(list)
    for line, fields in rows:
        stratum = _stratum(problems, line, fields, strata)
        bad = [name for name in lists if fields[name].strip() not in ("0", "1")]
        if bad:
            problems.add(line, f"{bad[0]!r} is {fields[bad[0]]!r}; list cells are 0 or 1")
            continue
        pattern = tuple(int(fields[name].strip()) for name in lists)
        count = _count(fields["count"])
        if count is None:
            problems.add(line, f"count {fields['count']!r} is not a whole number ≥ 0")
            continue
        if not any(pattern):
            problems.add(
                line, "a pattern on no list: people on no list cannot be counted; leave it out"
            )
            continue
        first = seen.setdefault((stratum, pattern), line)
        if first != line:
            problems.add(line, f"the same pattern as line {first}")
            continue
        by_stratum[stratum].append((pattern, count))
    problems.raise_if_any()
    return _tables(path, lists, by_stratum)


def _tables(
    path: Path,
    lists: Sequence[str],
    by_stratum: Mapping[str | None, Iterable[tuple[Sequence[int], int]]],
) -> dict[str | None, CaptureTable]:
    tables: dict[str | None, CaptureTable] = {}
    for stratum, pattern_rows in by_stratum.items():
        try:
            tables[stratum] = CaptureTable.from_patterns(lists, pattern_rows)
        except BadTable as exc:
            where = f" (stratum {stratum!r})" if stratum is not None else ""
            raise BadTable(f"{path}{where}: {exc}") from None
    return tables


def _read_records(
    path: Path, header: list[str], rows: list[Row], strata: str | None
) -> dict[str | None, CaptureTable]:
    problems = _Problems(path)
    has_id = "id" in header
    seen_ids: dict[tuple[str, str], int] = {}
    sources: dict[str, set[str]] = defaultdict(set)
    cluster_stratum: dict[str, tuple[str | None, int]] = {}
    for line, fields in rows:
        source, cluster = fields["source"].strip(), fields["cluster"].strip()
        if not source or not cluster:
            problems.add(line, "blank 'source' or 'cluster'")
            continue
        if has_id:
            key = (source, fields["id"].strip())
            first = seen_ids.setdefault(key, line)
            if first != line:
                problems.add(line, f"record {key[1]!r} of {source!r} again (first on line {first})")
                continue
        stratum = _stratum(problems, line, fields, strata)
        earlier = cluster_stratum.setdefault(cluster, (stratum, line))
        if earlier[0] != stratum:
            problems.add(
                line,
                f"cluster {cluster!r} is in stratum {stratum!r} here but {earlier[0]!r} on "
                f"line {earlier[1]}: one person belongs to one stratum",
            )
            continue
        sources[cluster].add(source)
    problems.raise_if_any()
    lists = sorted({source for members in sources.values() for source in members})
    if len(lists) < 2:
        raise BadTable(
            f"{path}: records from {len(lists)} source(s): estimation needs at least two lists"
        )
    if len(lists) > MAX_LISTS:
        raise BadTable(f"{path}: {len(lists)} sources: at most {MAX_LISTS} are supported")
    grouped: dict[str | None, list[frozenset[str]]] = defaultdict(list)
    for cluster, members in sources.items():
        grouped[cluster_stratum[cluster][0]].append(frozenset(members))
    tables: dict[str | None, CaptureTable] = {}
    for stratum, memberships in grouped.items():
        tables[stratum] = table_from_memberships(lists, memberships)
    return tables
