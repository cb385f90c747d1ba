"""Published tables of counts: one-way or two-way, with totals, and their suppression.

A :class:`Table` holds true counts (never published as they are) with its row and column
:class:`Axis` (keys for data.json, labels for people) and computes the row, column and grand
totals from the cells. :meth:`Table.protect` applies small-cell and complementary suppression
(:mod:`refugium.reports.suppression`) with threshold ``k`` and returns the table with its
:class:`Protection`; only a protected table has :meth:`Table.to_json`, so an unsuppressed
table cannot be written out by mistake.

``to_json`` is the contract of data.json: every cell and every total is either
``{"count": n}`` or ``{"suppressed": true}``::

    {"name": "acts_by_region", "title": "...", "k": 5,
     "rows": {"name": "region", "label": "Region", "keys": [...], "labels": [...]},
     "columns": {...} or null,
     "noise": null or {"name": ..., "epsilon": 1.0, "sensitivity": 1, "scale": 1.0, ...},
     "cells": [[{"count": 12}, {"suppressed": true}], ...]   (two-way; one-way: a flat list)
     "row_totals": [...], "column_totals": [...] (two-way only), "total": {"count": 30}}

Keys come in that fixed order and :func:`refugium.reports.jsonout.dumps` sorts them anyway.
Counts are the caller's, noisy or not (:mod:`refugium.reports.noise`): noise is added to the
cells before a table is made, and the totals are the sums of the noisy cells.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from refugium.errors import BadInput
from refugium.reports.noise import Mechanism, add_noise
from refugium.reports.suppression import DEFAULT_K, Grid, Position, Reason, suppress

__all__ = ["TOTAL", "Axis", "Protection", "Table"]

# How the withheld report names a total; no category key may take it.
TOTAL = "(total)"


@dataclass(frozen=True)
class Axis:
    """One dimension of a table: its name and label, and its categories' keys and labels."""

    name: str
    label: str
    keys: tuple[str, ...]
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise BadInput(f"axis {self.name!r} has no categories", code="table_shape")
        if len(self.keys) != len(self.labels):
            raise BadInput(
                f"axis {self.name!r}: {len(self.keys)} keys but {len(self.labels)} labels",
                code="table_shape",
            )
        if TOTAL in self.keys:
            raise BadInput(f"axis {self.name!r}: {TOTAL!r} is reserved", code="table_shape")
        if len(set(self.keys)) != len(self.keys):
            raise BadInput(f"axis {self.name!r} repeats a key", code="table_shape")

    @classmethod
    def of(cls, name: str, label: str, categories: Mapping[str, str]) -> Axis:
        """An axis from key → label, in the mapping's order."""
        return cls(name, label, tuple(categories), tuple(categories.values()))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "keys": list(self.keys),
            "labels": list(self.labels),
        }


@dataclass(frozen=True)
class Protection:
    """How a table was protected: the threshold and each hidden entry's reason."""

    k: int
    hidden: Mapping[Position, Reason]


@dataclass(frozen=True)
class Table:
    """Counts by one axis (``columns`` None) or two, with margins computed from the cells.

    ``counts`` is row-major: ``counts[i][j]`` for row key i and column key j; a one-way
    table has one column (``counts[i][0]``). Use :meth:`one_way`, :meth:`two_way` or
    :meth:`tally` rather than the constructor.
    """

    name: str
    title: str
    rows: Axis
    columns: Axis | None
    counts: tuple[tuple[int, ...], ...]
    protection: Protection | None = field(default=None, compare=False)
    noise: Mechanism | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        width = 1 if self.columns is None else len(self.columns.keys)
        if len(self.counts) != len(self.rows.keys) or any(len(r) != width for r in self.counts):
            raise BadInput(f"table {self.name!r}: counts do not fit its axes", code="table_shape")
        for row in self.counts:
            for count in row:
                if type(count) is not int or count < 0:
                    raise BadInput(
                        f"table {self.name!r}: counts must be non-negative integers",
                        code="table_count",
                    )

    # -- construction --

    @classmethod
    def one_way(cls, name: str, title: str, rows: Axis, counts: Sequence[int]) -> Table:
        return cls(name, title, rows, None, tuple((c,) for c in counts))

    @classmethod
    def two_way(
        cls, name: str, title: str, rows: Axis, columns: Axis, counts: Sequence[Sequence[int]]
    ) -> Table:
        return cls(name, title, rows, columns, tuple(tuple(r) for r in counts))

    @classmethod
    def tally(
        cls,
        name: str,
        title: str,
        rows: Axis,
        items: Iterable[str] | Iterable[tuple[str, str]],
        columns: Axis | None = None,
    ) -> Table:
        """Count ``items``: row keys (one-way) or (row key, column key) pairs (two-way).

        Raises:
            BadInput: an item's key is not on its axis (every category must be declared,
                so that a table's shape does not depend on which categories occur).
        """
        counter: Counter[Any] = Counter(items)
        row_index = {key: i for i, key in enumerate(rows.keys)}
        if columns is None:
            cells = [[0] for _ in rows.keys]
            for key, n in counter.items():
                if key not in row_index:
                    raise BadInput(f"table {name!r}: a key is not on the rows", code="table_key")
                cells[row_index[key]][0] += n
        else:
            col_index = {key: j for j, key in enumerate(columns.keys)}
            cells = [[0] * len(columns.keys) for _ in rows.keys]
            for pair, n in counter.items():
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise BadInput(f"table {name!r}: expected (row, column)", code="table_key")
                r, c = pair
                if r not in row_index or c not in col_index:
                    raise BadInput(f"table {name!r}: a key is not on an axis", code="table_key")
                cells[row_index[r]][col_index[c]] += n
        return cls(name, title, rows, columns, tuple(tuple(r) for r in cells))

    # -- margins --

    @property
    def row_totals(self) -> tuple[int, ...]:
        return tuple(sum(r) for r in self.counts)

    @property
    def column_totals(self) -> tuple[int, ...]:
        width = len(self.counts[0])
        return tuple(sum(r[j] for r in self.counts) for j in range(width))

    @property
    def total(self) -> int:
        return sum(self.row_totals)

    def grid(self) -> Grid:
        """The table as suppression sees it (see :mod:`refugium.reports.suppression`)."""
        if self.columns is None:
            return Grid.one_way(tuple(r[0] for r in self.counts))
        return Grid.two_way(self.counts)

    # -- noise and protection --

    def with_noise(self, epsilon: float, sensitivity: int = 1) -> Table:
        """This table with OpenDP noise on its cells (:func:`refugium.reports.noise.add_noise`);
        the totals become the sums of the noisy cells. Call before :meth:`protect`.

        Raises:
            BadInput: OpenDP is absent, bad parameters, or the table already has noise or
                protection (noise after suppression would decide on the true counts).
        """
        if self.noise is not None or self.protection is not None:
            raise BadInput(
                f"table {self.name!r}: add noise once, before protecting it", code="table_noise"
            )
        flat = [c for row in self.counts for c in row]
        noisy, mechanism = add_noise(flat, epsilon, sensitivity)
        width = len(self.counts[0])
        counts = tuple(tuple(noisy[i : i + width]) for i in range(0, len(noisy), width))
        return replace(self, counts=counts, noise=mechanism)

    def protect(self, k: int = DEFAULT_K) -> Table:
        """This table with small-cell and complementary suppression at threshold ``k``.

        Raises:
            BadInput: ``k`` < 1.
        """
        if type(k) is not int or k < 1:
            raise BadInput("the suppression threshold k must be a whole number ≥ 1", code="k")
        return replace(self, protection=Protection(k, suppress(self.grid(), k)))

    def margin(self, axis: Literal["rows", "columns"], name: str, title: str) -> Table:
        """The one-way table of this protected two-way table's row (or column) totals.

        Its hidden entries are exactly the totals hidden here, so it publishes nothing the
        two-way table does not. Publish a one-way count that is a margin of a published
        two-way table this way, never protected on its own: protected separately, it could
        show a total that the two-way table had to hide, and the hidden cells would follow.

        Raises:
            ValueError: the table is one-way or not protected.
        """
        if self.columns is None or self.protection is None:
            raise ValueError(f"table {self.name!r}: margins come from a protected two-way table")
        n_rows, n_cols = len(self.rows.keys), len(self.columns.keys)
        hidden = self.protection.hidden
        reasons: dict[Position, Reason] = {}
        if axis == "rows":
            along, counts = self.rows, self.row_totals
            for i in range(n_rows + 1):
                if (i, n_cols) in hidden:
                    reasons[(i, 0)] = hidden[(i, n_cols)]
        elif axis == "columns":
            along, counts = self.columns, self.column_totals
            for j in range(n_cols + 1):
                if (n_rows, j) in hidden:
                    reasons[(j if j < n_cols else len(counts), 0)] = hidden[(n_rows, j)]
        else:
            raise ValueError(f"axis must be 'rows' or 'columns', not {axis!r}")
        return Table(
            name,
            title,
            along,
            None,
            tuple((c,) for c in counts),
            Protection(self.protection.k, dict(sorted(reasons.items()))),
            self.noise,
        )

    def describe(self, pos: Position) -> dict[str, str]:
        """An entry's place in words for the withheld report: row and column keys or TOTAL."""
        n_rows = len(self.rows.keys)
        row = TOTAL if pos[0] == n_rows else self.rows.keys[pos[0]]
        if self.columns is None:
            return {"row": row}
        n_cols = len(self.columns.keys)
        column = TOTAL if pos[1] == n_cols else self.columns.keys[pos[1]]
        return {"row": row, "column": column}

    def to_json(self) -> dict[str, Any]:
        """The data.json object (see the module docstring).

        Raises:
            ValueError: the table was not protected: a raw table is never written out.
        """
        if self.protection is None:
            raise ValueError(f"table {self.name!r} must be protected before it is published")
        hidden = self.protection.hidden
        values = self.grid().values

        def entry(pos: Position) -> dict[str, Any]:
            return {"suppressed": True} if pos in hidden else {"count": values[pos]}

        n_rows = len(self.rows.keys)
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "k": self.protection.k,
            "rows": self.rows.to_json(),
            "columns": None if self.columns is None else self.columns.to_json(),
            "noise": None if self.noise is None else self.noise.to_json(),
        }
        if self.columns is None:
            out["cells"] = [entry((i, 0)) for i in range(n_rows)]
            out["total"] = entry((n_rows, 0))
            return out
        n_cols = len(self.columns.keys)
        out["cells"] = [[entry((i, j)) for j in range(n_cols)] for i in range(n_rows)]
        out["row_totals"] = [entry((i, n_cols)) for i in range(n_rows)]
        out["column_totals"] = [entry((n_rows, j)) for j in range(n_cols)]
        out["total"] = entry((n_rows, n_cols))
        return out
