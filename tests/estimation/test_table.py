"""Reading capture tables: the shared MSE files, linked records, and every way a file is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from refugium.estimation.table import (
    MAX_PROBLEMS,
    BadTable,
    CaptureTable,
    read_table,
    table_from_memberships,
)

MSE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mse"


def write(tmp_path: Path, text: str, name: str = "lists.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_hiv_table_in_dga_cell_order() -> None:
    table = read_table(MSE / "rcapture_hiv_rome_4lists.csv")[None]
    assert table.lists == ("c1", "c2", "c3", "c4")
    assert table.observed == 1896
    # Bit j is list j: c1 alone is cell 1, c2 alone cell 2, c1 and c2 cell 3, c4 alone cell 8.
    assert table.counts[[1, 2, 3, 8, 15]].tolist() == [403, 545, 33, 205, 0]
    assert table.list_totals() == {"c1": 466, "c2": 630, "c3": 693, "c4": 236}


def test_patterns_line_up_with_counts() -> None:
    table = read_table(MSE / "dga_madigan_york_5lists.csv")[None]
    patterns = table.patterns()
    assert patterns.shape == (31, 5)
    row = patterns.tolist().index([1, 1, 0, 1, 0])
    assert table.observed_counts()[row] == 25


def test_strata_give_one_table_each() -> None:
    tables = read_table(MSE / "conting_spina_bifida_3lists_by_ethnicity.csv", strata="eth")
    assert {name: table.observed for name, table in tables.items()} == {
        "caucasian": 583,
        "afro-american": 36,
        "other": 2,
    }


def test_a_stratum_column_left_unnamed_is_pointed_out() -> None:
    with pytest.raises(BadTable, match="--strata eth"):
        read_table(MSE / "conting_spina_bifida_3lists_by_ethnicity.csv")


def test_linked_records_become_patterns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "source,id,cluster,region\n"
        "ngo,1,p1,north\nngo,2,p2,north\nun,a,p1,north\nun,b,p3,south\n"
        "press,x,p3,south\nngo,3,p3,south\nngo,4,p4,north\n",
    )
    tables = read_table(path)
    table = tables[None]
    assert table.lists == ("ngo", "press", "un")
    assert table.observed == 4
    assert table.counts[0b101] == 1  # p1: ngo and un
    assert table.counts[0b111] == 1  # p3: on all three
    assert table.counts[0b001] == 2  # p2, p4: ngo only
    regions = read_table(path, strata="region")
    assert regions["north"].observed == 3
    assert regions["south"].observed == 1
    assert regions["north"].lists == regions["south"].lists


def test_one_person_in_two_strata_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "source,id,cluster,region\nngo,1,p1,north\nun,a,p1,south\n")
    with pytest.raises(BadTable, match=r"line 3: cluster 'p1' is in stratum 'south'"):
        read_table(path, strata="region")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,b,count\n1,0,5\n0,2,3\n", r"line 3: 'b' is '2'; list cells are 0 or 1"),
        ("a,b,count\n1,0,-1\n", r"line 2: count '-1' is not a whole number"),
        ("a,b,count\n1,0,2.5\n", r"line 2: count '2.5' is not a whole number"),
        ("a,b,count\n1,0,\n", r"line 2: count '' is not a whole number"),
        ("a,b,count\n1,0,3\n0,0,4\n", r"line 3: a pattern on no list"),
        ("a,b,count\n1,0,3\n1,0,4\n", r"line 3: the same pattern as line 2"),
        ("a,count\n1,5\n", r"1 list column\(s\) \(a\): estimation needs at least two"),
        ("a,b,c\n1,0,5\n", r"expected a 'count' column"),
        ("a,b,count\n1,0,5,7\n", r"line 2: 4 cells for 3 columns"),
        ("a,a,count\n1,0,5\n", r"column 'a' appears twice"),
        ("a,b,count\n", r"a header but no rows"),
        ("", r"the file is empty"),
        ("a,b,count\n1,0,0\n0,1,0\n", r"nobody is on any list"),
    ],
)
def test_malformed_tables_are_refused_with_the_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(BadTable, match=problem):
        read_table(write(tmp_path, text))


def test_a_spreadsheets_whole_float_is_a_count(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,count\n1,0,12.0\n0,1,3\n1,1,1\n"))[None]
    assert table.counts.tolist() == [0, 12, 3, 1]


def test_every_problem_is_reported_at_once_up_to_a_limit(tmp_path: Path) -> None:
    rows = "".join(f"1,0,{-n}\n" for n in range(1, MAX_PROBLEMS + 6))
    with pytest.raises(BadTable) as caught:
        read_table(write(tmp_path, "a,b,count\n" + rows))
    message = str(caught.value)
    assert f"{MAX_PROBLEMS + 5} problem(s)" in message
    assert message.count("is not a whole number") == MAX_PROBLEMS
    assert "and 5 more" in message


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "lists.csv"
    path.write_bytes(b"a,b,count\n1,0,5\n0,1,\xff\n")
    with pytest.raises(BadTable, match="line 3: not UTF-8"):
        read_table(path)


def test_a_missing_stratum_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadTable, match="no column 'period'"):
        read_table(write(tmp_path, "a,b,count\n1,0,5\n"), strata="period")


def test_a_blank_stratum_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,period,count\n1,0,2017,5\n0,1,,3\n")
    with pytest.raises(BadTable, match="line 3: no value in the stratum column 'period'"):
        read_table(path, strata="period")


def test_a_table_needs_two_lists_and_someone_on_them() -> None:
    with pytest.raises(BadTable, match="at least two lists"):
        CaptureTable(("a",), np.array([0, 4]))
    with pytest.raises(BadTable, match="nobody"):
        CaptureTable(("a", "b"), np.zeros(4, dtype=np.int64))


def test_memberships_and_patterns_agree() -> None:
    by_patterns = CaptureTable.from_patterns(("x", "y"), [((1, 0), 2), ((1, 1), 1)])
    by_people = table_from_memberships(
        ("x", "y"), [frozenset({"x"}), frozenset({"x"}), frozenset({"x", "y"})]
    )
    assert by_patterns.counts.tolist() == by_people.counts.tolist() == [0, 2, 0, 1]
    assert by_patterns.scaled(3).counts.tolist() == [0, 6, 0, 3]
