"""Small-cell and complementary suppression: nothing small shown, nothing hidden derivable.

The property test checks the published data.json object itself, with linear programs written
here from the table's definition (not the library's audit): for every hidden entry, the least
and greatest values consistent with the published cells and totals.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from refugium.errors import BadInput
from refugium.reports import Axis, Table, dumps


def _axis(name: str, n: int) -> Axis:
    keys = tuple(f"{name}{i}" for i in range(n))
    return Axis(name, name.upper(), keys, tuple(k.upper() for k in keys))


def one_way(counts: list[int]) -> Table:
    return Table.one_way("t", "T", _axis("r", len(counts)), counts)


def two_way(counts: list[list[int]]) -> Table:
    return Table.two_way("t", "T", _axis("r", len(counts)), _axis("c", len(counts[0])), counts)


def _published(table: Table) -> dict[tuple[int, int], int | None]:
    """Every entry of the extended grid from to_json: its count, or None when suppressed."""
    data = table.to_json()

    def value(entry: dict[str, object]) -> int | None:
        if entry == {"suppressed": True}:
            return None
        assert set(entry) == {"count"}
        count = entry["count"]
        assert isinstance(count, int)
        return count

    n = len(data["rows"]["keys"])
    if data["columns"] is None:
        out = {(i, 0): value(e) for i, e in enumerate(data["cells"])}
        out[(n, 0)] = value(data["total"])
        return out
    m = len(data["columns"]["keys"])
    out = {(i, j): value(data["cells"][i][j]) for i in range(n) for j in range(m)}
    out.update({(i, m): value(e) for i, e in enumerate(data["row_totals"])})
    out.update({(n, j): value(e) for j, e in enumerate(data["column_totals"])})
    out[(n, m)] = value(data["total"])
    return out


def _constraints(table: Table) -> list[list[tuple[tuple[int, int], int]]]:
    """Every sum a reader knows: each row and column of cells adds up to its total, and the
    totals add up to the grand total (written out here, independently of the library)."""
    n = len(table.rows.keys)
    if table.columns is None:
        return [[((i, 0), 1) for i in range(n)] + [((n, 0), -1)]]
    m = len(table.columns.keys)
    lines = []
    for i in range(n):
        lines.append([((i, j), 1) for j in range(m)] + [((i, m), -1)])
    for j in range(m):
        lines.append([((i, j), 1) for i in range(n)] + [((n, j), -1)])
    lines.append([((i, m), 1) for i in range(n)] + [((n, m), -1)])
    lines.append([((n, j), 1) for j in range(m)] + [((n, m), -1)])
    return lines


def feasible_range(table: Table, target: tuple[int, int], lower: int) -> tuple[float, float]:
    """Min and max of a suppressed entry given everything published, all entries ≥ 0 and
    suppressed ones ≥ ``lower`` (1: a reader who knows zeros are never suppressed)."""
    published = _published(table)
    order = sorted(published)
    index = {pos: n for n, pos in enumerate(order)}
    a_eq, b_eq = [], []
    for line in _constraints(table):
        row = np.zeros(len(order))
        for pos, sign in line:
            row[index[pos]] = sign
        a_eq.append(row)
        b_eq.append(0.0)
    bounds = [(v, v) if v is not None else (lower, None) for v in (published[p] for p in order)]
    c = np.zeros(len(order))
    c[index[target]] = 1
    low = linprog(c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
    high = linprog(-c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
    assert low.status == 0, low.message
    assert high.status in (0, 3), high.message
    return low.fun, (np.inf if high.status == 3 else -high.fun)


def check_protected(table: Table, k: int, lowers: tuple[int, ...] = (0, 1)) -> None:
    protected = table.protect(k)
    published = _published(protected)
    true = protected.grid().values
    hidden = [pos for pos, v in published.items() if v is None]
    assert set(hidden) == set(protected.protection.hidden)  # type: ignore[union-attr]
    for pos, v in published.items():
        if v is not None:
            assert v == true[pos]  # published counts are the true ones
            assert not 1 <= v < k, f"published {v} at {pos} is below k={k}"
        else:
            assert true[pos] > 0  # a zero is never hidden
    for pos in hidden:
        for lower in lowers:
            low, high = feasible_range(protected, pos, lower)
            assert low <= true[pos] + 1e-6
            assert high >= true[pos] - 1e-6
            assert high - low > 0.5, f"entry {pos} (k={k}) is derivable: [{low}, {high}]"


counts = st.one_of(st.integers(0, 4), st.integers(0, 12), st.integers(0, 60))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(counts, min_size=1, max_size=8), st.integers(1, 10))
def test_one_way_tables_hide_small_cells_underivably(cells: list[int], k: int) -> None:
    # Lower bound 1 only: its feasible set lies inside that of bound 0, so an entry that
    # moves there moves under plain non-negativity too (the hand-made tables check both).
    check_protected(one_way(cells), k, lowers=(1,))


@st.composite
def grids(draw: st.DrawFn) -> list[list[int]]:
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return [draw(st.lists(counts, min_size=cols, max_size=cols)) for _ in range(rows)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids(), st.integers(1, 10))
def test_two_way_tables_hide_small_cells_underivably(cells: list[list[int]], k: int) -> None:
    check_protected(two_way(cells), k, lowers=(1,))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids(), st.integers(2, 8))
def test_margin_tables_publish_exactly_the_two_way_totals(cells: list[list[int]], k: int) -> None:
    table = two_way(cells).protect(k)
    data = table.to_json()
    rows = table.margin("rows", "by_row", "By row").to_json()
    columns = table.margin("columns", "by_column", "By column").to_json()
    assert rows["cells"] == data["row_totals"]
    assert columns["cells"] == data["column_totals"]
    assert rows["total"] == columns["total"] == data["total"]
    assert rows["rows"] == data["rows"]
    assert columns["rows"] == data["columns"]


def test_margins_need_a_protected_two_way_table() -> None:
    with pytest.raises(ValueError, match="two-way"):
        one_way([1, 2]).protect(5).margin("rows", "m", "M")
    with pytest.raises(ValueError, match="protected"):
        two_way([[1, 2]]).margin("rows", "m", "M")


def _hidden(table: Table) -> set[tuple[int, int]]:
    assert table.protection is not None
    return set(table.protection.hidden)


def test_a_lone_small_cell_gets_the_smallest_partner_in_its_line() -> None:
    table = one_way([3, 10, 20, 40]).protect(5)
    assert table.protection is not None
    assert table.protection.hidden == {(0, 0): "primary", (1, 0): "complementary"}
    assert table.to_json()["total"] == {"count": 73}


def test_zeros_are_published_and_large_counts_untouched() -> None:
    table = one_way([0, 7, 9]).protect(5)
    assert _hidden(table) == set()
    assert table.to_json()["cells"] == [{"count": 0}, {"count": 7}, {"count": 9}]


def test_two_small_cells_are_closed_by_the_cheapest_rectangle() -> None:
    # 1 and 2 sit at opposite corners; hiding the corners 20 and 9 closes a 2x2 cycle at
    # cost 29, cheaper than any other cycle through both.
    table = two_way([[1, 10, 20], [8, 12, 30], [9, 15, 2]]).protect(5)
    assert table.protection is not None
    assert table.protection.hidden == {
        (0, 0): "primary",
        (0, 2): "complementary",
        (2, 0): "complementary",
        (2, 2): "primary",
    }
    data = table.to_json()
    assert data["row_totals"] == [{"count": 31}, {"count": 50}, {"count": 26}]
    assert data["total"] == {"count": 107}


def test_a_small_row_total_is_hidden_and_cannot_be_had_from_the_grand_total() -> None:
    # Row 0 sums to 3: its total is hidden; then the other row's total must be too, or
    # 33 - 30 gives it back.
    table = two_way([[1, 2], [10, 20]]).protect(5)
    hidden = _hidden(table)
    assert {(0, 0), (0, 1), (0, 2)} <= hidden
    assert (1, 2) in hidden or (2, 2) in hidden
    check_protected(two_way([[1, 2], [10, 20]]), 5)


def test_ones_that_the_zero_rule_would_pin_are_opened_by_the_audit() -> None:
    # The four 1s form a cycle, but a reader who knows hidden cells are at least 1 sees
    # x00 + x01 = 11 - 9 = 2, so all four are 1: the audit must hide more.
    cells = [[1, 1, 9], [1, 1, 9], [9, 9, 9]]
    table = two_way(cells).protect(2)
    assert len(_hidden(table)) > 4
    check_protected(two_way(cells), 2)


def test_a_whole_small_table_is_hidden() -> None:
    table = two_way([[1, 1], [1, 0]]).protect(5)
    data = table.to_json()
    assert data["total"] == {"suppressed": True}
    assert data["cells"][1][1] == {"count": 0}


def test_k_of_one_hides_nothing() -> None:
    assert _hidden(two_way([[1, 0], [2, 3]]).protect(1)) == set()


def test_protection_is_deterministic_and_json_canonical() -> None:
    cells = [[1, 5, 3, 8], [6, 2, 7, 9], [4, 4, 1, 10]]
    first = dumps(two_way(cells).protect(5).to_json())
    assert first == dumps(two_way(cells).protect(5).to_json())
    assert first.endswith("\n")
    assert ": " not in first
    assert ", " not in first


def test_an_unprotected_table_cannot_be_written_out() -> None:
    with pytest.raises(ValueError, match="protected"):
        one_way([1, 2]).to_json()


def test_tally_counts_declared_keys_and_refuses_others() -> None:
    rows, cols = _axis("r", 2), _axis("c", 2)
    table = Table.tally("t", "T", rows, [("r0", "c1"), ("r0", "c1"), ("r1", "c0")], cols)
    assert table.counts == ((0, 2), (1, 0))
    with pytest.raises(BadInput):
        Table.tally("t", "T", rows, [("r9", "c0")], cols)
    assert Table.tally("t", "T", rows, ["r1", "r1"]).counts == ((0,), (2,))


def test_malformed_tables_are_refused() -> None:
    with pytest.raises(BadInput):
        two_way([[1, 2], [3]])
    with pytest.raises(BadInput):
        one_way([1, -1])
    with pytest.raises(BadInput):
        Axis("r", "R", ("a", "a"), ("A", "A"))
    with pytest.raises(BadInput):
        Axis("r", "R", ("(total)",), ("T",))
    with pytest.raises(BadInput):
        one_way([1]).protect(0)
