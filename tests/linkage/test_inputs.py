"""refugium link's input contract: every bad file is refused with its name and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from refugium.linkage.inputs import BadInput, read_sources


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_reads_any_subset_of_the_columns_and_ignores_others(tmp_path: Path):
    a = write(tmp_path, "ngo.csv", "\ufeffid,family_name,notes\n1,Хасуев,x\n2,Дудаев,y\n")
    b = write(tmp_path, "press.csv", 'id,full_name\nA,"Khasuev, Zelimkhan"\n\nB,Dudaev\n')
    records = read_sources([a, b])
    assert [(r.source, r.id) for r in records] == [
        ("ngo", "1"), ("ngo", "2"), ("press", "A"), ("press", "B"),
    ]  # fmt: skip
    assert records[0].fields == {"family_name": "Хасуев"}
    assert records[2].fields["full_name"] == "Khasuev, Zelimkhan"
    assert "Хасуев" not in repr(records[0])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"bad\.csv: the file is empty"),
        (b"  \n", r"bad\.csv: the file is empty"),
        (b"name,place\nX,Y\n", r"bad\.csv: line 1: no 'id' column \(the header has 'name'"),
        (b"id,full_name\n", r"bad\.csv: a header but no records"),
        (b"id,full_name\n1,A\n2,B\n1,C\n", r"bad\.csv: line 4: id '1' is also on line 2"),
        (b"id,full_name\n,A\n", r"bad\.csv: line 2: the id is blank"),
        (b"id,full_name\n1,\xd0\x90\n2,\xff\xfe\n", r"bad\.csv: line 3: not UTF-8"),
        (b"id,birth_date\n1,1985\n2,12.03.1985\n", r"line 3: birth_date: expected YYYY"),
        (b"id,birth_date\n1,1985-02-30\n", r"line 2: birth_date: no such day"),
        (b"id,full_name\n1,A,extra\n", r"line 2: 3 fields, the header has 2"),
        (b'id,full_name\n1,"unclosed\n', r"bad\.csv: line \d+: .*"),
    ],
)
def test_bad_files_are_refused_naming_file_and_line(tmp_path: Path, content: bytes, message: str):
    good = write(tmp_path, "good.csv", "id\n1\n")
    with pytest.raises(BadInput, match=message):
        read_sources([good, write(tmp_path, "bad.csv", content)])


def test_every_problem_is_listed_at_once(tmp_path: Path):
    a = write(tmp_path, "a.csv", "id,birth_date\n1,x\n1,1985\n")
    b = write(tmp_path, "b.csv", "")
    with pytest.raises(BadInput) as caught:
        read_sources([a, b])
    lines = str(caught.value).splitlines()
    assert any("a.csv: line 2: birth_date" in line for line in lines)
    assert any("a.csv: line 3: id '1'" in line for line in lines)
    assert any("b.csv: the file is empty" in line for line in lines)


def test_two_files_with_one_source_name_are_refused(tmp_path: Path):
    (tmp_path / "x").mkdir()
    a = write(tmp_path, "list.csv", "id\n1\n")
    b = write(tmp_path / "x", "list.csv", "id\n1\n")
    with pytest.raises(BadInput, match="would both be source 'list'"):
        read_sources([a, b])


def test_missing_file_and_no_files(tmp_path: Path):
    with pytest.raises(BadInput, match="cannot read"):
        read_sources([tmp_path / "absent.csv"])
    with pytest.raises(BadInput, match="no input files"):
        read_sources([])
