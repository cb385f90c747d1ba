"""Small-cell suppression with complementary suppression, checked by linear programming.

A published table shows counts and their row, column and grand totals. A count of 1 to k−1
people ("2 people from this village were detained in week 8") can single someone out, so it
is hidden (*primary* suppression). Hiding it is not enough: a row whose total is published and
in which only one cell is hidden gives that cell away by subtraction, so other cells are
hidden too (*complementary* suppression) until nothing hidden can be worked out from what
is shown.

The model. A table with its margins is an (R+1)×(C+1) grid of *entries*: cells, row totals
(column C), column totals (row R) and the grand total (R, C). Every row and every column of
the grid is a *line*: its cells sum to its total. Picture each entry as an edge between its
row line and its column line. A reader who knows the published entries can move hidden
entries only along cycles of hidden edges (add t, subtract t, alternately), since any change
must keep every line's sum; a hidden entry on no such cycle (a *bridge* of the hidden graph)
is fixed by the published ones. A one-way table is one line: its cells and its total.

Zeros. A zero is published and never hidden, neither as a primary nor as a complementary
cell: it names no one ("no reported detentions in this district that week" is a fact an
advocacy report needs), and hiding every zero would make the sparse tables of event data
unreadable. The consequence is that a reader knows every hidden entry is at least 1; the
protection below holds against that reader.

The algorithm (:func:`suppress`), deterministic:

1. Primary: every entry, cell or margin, with 1 ≤ count < k. A margin is hidden when it is
   itself small; its line then has one more hidden entry and step 2 treats it like a cell.
2. Complementary: while some hidden entry is a bridge (for instance the only hidden cell
   of a row), close a cycle through it by hiding the cheapest path of published, non-zero
   entries between its two lines (Dijkstra; cost = the counts hidden, then their number:
   the smallest cells first; hidden entries cost nothing). A non-zero path always exists,
   because the signed counts form a circulation on the grid and every edge of a circulation
   lies on a cycle. Repeat to a fixed point: no hidden entry is a bridge.
3. Audit: for every hidden entry, solve the linear programs max and min of that entry
   subject to every line's sum, the published entries, and "every hidden entry ≥ 1"
   (scipy.optimize.linprog, HiGHS). An entry whose max − min < 1/2 (the programs are
   network programs, so their optima are integers) is *pinned*: close a fresh cycle through
   it of published entries of at least 2, or failing that of at least 1, and go back to 2.
   If no such cycle exists, hide every non-zero entry: then every hidden entry can grow
   without bound (scale them all), so none is pinned. Each round hides at least one more
   entry, so the loop ends.

What is guaranteed (and what tests/reports/test_suppression.py checks with Hypothesis): no
published entry is in [1, k); no hidden entry is determined by the published ones, even
knowing hidden entries are at least 1 (which implies the weaker "≥ 0" standard). What is not
claimed: a protection interval wider than one either side, or protection against a reader
who knows some of the hidden counts from elsewhere (another report on the same data, a
newspaper). Publishing several tables cut from the same records can let a reader combine
them: a one-way table that is a margin of a published two-way table must be published as
that margin (:meth:`refugium.reports.tables.Table.margin`), and the desk reviews the
withheld report.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]  # no scipy-stubs

__all__ = ["DEFAULT_K", "Grid", "Position", "Reason", "interval", "suppress"]

DEFAULT_K = 5
Position = tuple[int, int]
Reason = Literal["primary", "complementary"]
_Cost = tuple[int, int]


@dataclass(frozen=True)
class Grid:
    """The entries of a table with margins, as lines and edges.

    ``values`` maps every entry's position to its count. ``ends`` gives each entry's two
    vertices in the line graph. ``lines`` lists each independent sum constraint as (position,
    coefficient) pairs summing to zero (+1 for a cell, −1 for the line's total).
    """

    values: Mapping[Position, int]
    ends: Mapping[Position, tuple[int, int]]
    lines: tuple[tuple[tuple[Position, int], ...], ...]
    vertices: int

    @classmethod
    def one_way(cls, counts: tuple[int, ...]) -> Grid:
        """Cells (i, 0) for i < n and the total (n, 0): one line, all edges between 0 and 1."""
        n = len(counts)
        values = {(i, 0): c for i, c in enumerate(counts)}
        values[(n, 0)] = sum(counts)
        ends = {pos: (0, 1) for pos in values}
        line = tuple((pos, -1 if pos[0] == n else 1) for pos in sorted(values))
        return cls(values, ends, (line,), 2)

    @classmethod
    def two_way(cls, counts: tuple[tuple[int, ...], ...]) -> Grid:
        """Cells (i, j), row totals (i, C), column totals (R, j), the grand total (R, C)."""
        rows, cols = len(counts), len(counts[0])
        values: dict[Position, int] = {}
        for i in range(rows):
            for j in range(cols):
                values[(i, j)] = counts[i][j]
            values[(i, cols)] = sum(counts[i])
        for j in range(cols):
            values[(rows, j)] = sum(counts[i][j] for i in range(rows))
        values[(rows, cols)] = sum(values[(i, cols)] for i in range(rows))
        ends = {(i, j): (i, rows + 1 + j) for (i, j) in values}
        lines: list[tuple[tuple[Position, int], ...]] = []
        for i in range(rows + 1):
            lines.append(tuple(((i, j), -1 if j == cols else 1) for j in range(cols + 1)))
        for j in range(cols + 1):
            lines.append(tuple(((i, j), -1 if i == rows else 1) for i in range(rows + 1)))
        return cls(values, ends, tuple(lines), rows + cols + 2)


def suppress(grid: Grid, k: int = DEFAULT_K) -> dict[Position, Reason]:
    """Which entries to hide, and why, so that none below ``k`` and none derivable is shown.

    Raises:
        ValueError: ``k`` < 1 or a negative count.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if any(v < 0 for v in grid.values.values()):
        raise ValueError("counts cannot be negative")
    hidden: dict[Position, Reason] = {
        pos: "primary" for pos in sorted(grid.values) if 1 <= grid.values[pos] < k
    }
    if not hidden:
        return hidden
    verified: set[Position] = set()
    while True:
        _close_bridges(grid, hidden)
        pinned = _first_pinned(grid, hidden, verified)
        if pinned is None:
            return dict(sorted(hidden.items()))
        path = _cheapest_path(grid, hidden, pinned, reuse=False, floor=2)
        if path is None:
            path = _cheapest_path(grid, hidden, pinned, reuse=False, floor=1)
        if not path:
            for pos in sorted(grid.values):
                if grid.values[pos] > 0:
                    hidden.setdefault(pos, "complementary")
            return dict(sorted(hidden.items()))
        for pos in path:
            hidden[pos] = "complementary"


def _close_bridges(grid: Grid, hidden: dict[Position, Reason]) -> None:
    while (bridge := _first_bridge(grid, hidden)) is not None:
        path = _cheapest_path(grid, hidden, bridge, reuse=True, floor=1)
        if not path:  # cannot happen (a circulation has no bridge); fail safe, not open
            for pos in sorted(grid.values):
                if grid.values[pos] > 0:
                    hidden.setdefault(pos, "complementary")
            return
        for pos in path:
            hidden[pos] = "complementary"


def _first_bridge(grid: Grid, hidden: Mapping[Position, Reason]) -> Position | None:
    adjacency: dict[int, list[tuple[Position, int]]] = {}
    for pos in hidden:
        a, b = grid.ends[pos]
        adjacency.setdefault(a, []).append((pos, b))
        adjacency.setdefault(b, []).append((pos, a))
    for edge in sorted(hidden):
        start, goal = grid.ends[edge]
        seen, stack = {start}, [start]
        while stack:
            vertex = stack.pop()
            for pos, other in adjacency[vertex]:
                if pos != edge and other not in seen:
                    seen.add(other)
                    stack.append(other)
        if goal not in seen:
            return edge
    return None


def _cheapest_path(
    grid: Grid, hidden: Mapping[Position, Reason], through: Position, *, reuse: bool, floor: int
) -> list[Position] | None:
    """The published entries to hide to close a cycle through ``through``, cheapest first.

    ``reuse``: hidden entries may be part of the path, at no cost. ``floor``: the smallest
    published count that may be hidden (never zero). None when no path exists.
    """
    adjacency: dict[int, list[tuple[Position, int]]] = {v: [] for v in range(grid.vertices)}
    for pos in sorted(grid.values):
        if pos == through:
            continue
        if pos in hidden:
            if not reuse:
                continue
        elif grid.values[pos] < floor:
            continue
        a, b = grid.ends[pos]
        adjacency[a].append((pos, b))
        adjacency[b].append((pos, a))
    start, goal = grid.ends[through]
    best: dict[int, _Cost] = {start: (0, 0)}
    back: dict[int, tuple[int, Position]] = {}
    heap: list[tuple[_Cost, int]] = [((0, 0), start)]
    while heap:
        cost, vertex = heapq.heappop(heap)
        if cost > best.get(vertex, cost):
            continue
        if vertex == goal:
            break
        for pos, other in adjacency[vertex]:
            step = (0, 0) if pos in hidden else (grid.values[pos], 1)
            new = (cost[0] + step[0], cost[1] + step[1])
            if other not in best or new < best[other]:
                best[other] = new
                back[other] = (vertex, pos)
                heapq.heappush(heap, (new, other))
    if goal not in best:
        return None
    path: list[Position] = []
    vertex = goal
    while vertex != start:
        vertex, pos = back[vertex]
        if pos not in hidden:
            path.append(pos)
    return sorted(path)


def interval(
    grid: Grid, hidden: Mapping[Position, object], target: Position, *, lower: int = 1
) -> tuple[float, float]:
    """The least and greatest value of hidden ``target`` consistent with what is published.

    Every line's sum, every published entry, and every hidden entry ≥ ``lower``. The upper
    end is ``inf`` when unbounded. Used by the audit and by the tests.
    """
    a_eq, b_eq, index = _program(grid, hidden)
    bounds = [(lower, None)] * len(index)
    c = np.zeros(len(index))
    c[index[target]] = 1.0
    low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if low.status != 0:
        raise RuntimeError(f"suppression audit: the minimum failed ({low.message})")
    upper = float("inf") if high.status == 3 else float(-high.fun)
    if high.status not in (0, 3):
        raise RuntimeError(f"suppression audit: the maximum failed ({high.message})")
    return float(low.fun), upper


def _program(grid: Grid, hidden: Mapping[Position, object]) -> tuple[Any, Any, dict[Position, int]]:
    """The equality constraints on the hidden entries: each touched line's sum."""
    order = sorted(hidden)
    index = {pos: n for n, pos in enumerate(order)}
    rows: list[list[float]] = []
    rhs: list[float] = []
    for line in grid.lines:
        row = [0.0] * len(order)
        constant = 0
        touched = False
        for pos, sign in line:
            if pos in index:
                row[index[pos]] += sign
                touched = True
            else:
                constant += sign * grid.values[pos]
        if touched:
            rows.append(row)
            rhs.append(-constant)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    return a_eq, b_eq, index


def _first_pinned(
    grid: Grid, hidden: Mapping[Position, Reason], verified: set[Position]
) -> Position | None:
    """The first hidden entry a reader could pin down, or None.

    ``verified`` holds entries already shown to be able to grow; hiding more entries only
    frees more variables, so they stay verified across rounds. Most entries are verified in
    batches: one program maximises the sum of the unverified entries within a box of one
    above their true values (the box keeps it bounded; its optimum is integral, a network
    program with integer bounds), and every entry that rises at that optimum can grow.
    """
    a_eq, b_eq, index = _program(grid, hidden)
    order = sorted(hidden)
    bounds = [(1, grid.values[pos] + 1) for pos in order]
    while True:
        pending = [pos for pos in order if pos not in verified]
        if not pending:
            return None
        c = np.zeros(len(order))
        for pos in pending:
            c[index[pos]] = -1.0
        best = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if best.status != 0:
            raise RuntimeError(f"suppression audit failed ({best.message})")
        grown = [pos for pos in pending if best.x[index[pos]] > grid.values[pos] + 0.5]
        if not grown:
            break
        verified.update(grown)
    for pos in pending:
        low, high = interval(grid, hidden, pos)
        if high - low < 0.5:
            return pos
        verified.add(pos)
    return None
