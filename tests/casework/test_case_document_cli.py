"""`refugium case document add / get` (issue 9: a case's documents encrypted to its key, not
the desk's).

The real command in a subprocess, production settings and Argon2id cost, a fresh data folder
shared by the module's tests (which run in order: they build one case's documents).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the case document cli test"
RITA_PASS = "rita passphrase for the case document cli test"
CONTENT = secrets.token_bytes(1_500_000) + b"Passport 96 05 777888 of Zelimkhan"


def _as(data: Path, user: str, *args: str):  # type: ignore[no-untyped-def]
    passphrase = ADMIN_PASS if user == "admin" else RITA_PASS
    return refugium(
        data, "case", "document", *args, "--user", user, "--passphrase-stdin",
        stdin=passphrase + "\n",
    )  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("docs") / "data"
    steps = [
        (("init", "--passphrase-stdin"), ADMIN_PASS),
        (("user", "add", "rita", "--desk", "casework", "--passphrase-stdin"), RITA_PASS),
        (("desk", "grant", "rita", "casework", "--by", "admin", "--passphrase-stdin"), ADMIN_PASS),
        (("case", "new", "--risk", "low", "--user", "admin", "--passphrase-stdin"), ADMIN_PASS),
    ]
    for args, passphrase in steps:
        result = refugium(folder, *args, stdin=passphrase + "\n")
        assert result.returncode == 0, result.stderr
    return folder


def test_an_assignee_adds_a_document_and_gets_it_back_identical(data: Path, tmp_path: Path) -> None:
    source = tmp_path / "Zelimkhan passport.pdf"
    source.write_bytes(CONTENT)
    added = _as(data, "admin", "add", "C-0001", str(source), "--note", "his passport")
    assert (added.returncode, added.stdout, added.stderr) == (
        0,
        "C-0001: document 1 added, readable by the case's assignees only\n",
        "",
    )
    out = tmp_path / "back.pdf"
    got = _as(data, "admin", "get", "C-0001", "1", "--out", str(out))
    assert (got.returncode, got.stdout) == (
        0,
        f"C-0001: document 1 written to {out} ({len(CONTENT)} bytes)\n",
    )
    assert out.read_bytes() == CONTENT
    assert out.stat().st_mode & 0o777 == 0o600
    again = _as(data, "admin", "get", "C-0001", "1", "--out", str(out))
    assert (again.returncode, one_line_error(again)) == (
        2,
        f"refugium: error: {out} exists; refusing to overwrite it",
    )


def test_an_unassigned_desk_member_is_told_there_is_no_such_case(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rita.pdf"
    refused = _as(data, "rita", "get", "C-0001", "1", "--out", str(out))
    missing = _as(data, "rita", "get", "C-0002", "1", "--out", str(out))
    assert (refused.returncode, one_line_error(refused)) == (2, "refugium: error: no case 'C-0001'")
    assert (missing.returncode, one_line_error(missing)) == (2, "refugium: error: no case 'C-0002'")
    assert not out.exists()
    listed = refugium(data, "evidence", "list", "--desk", "casework")
    assert (listed.returncode, listed.stdout) == (0, "")  # the desk's vault does not offer it


def test_bad_input_is_refused_and_nothing_is_added(data: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    refused = _as(data, "admin", "add", "C-0001", str(empty))
    assert (refused.returncode, one_line_error(refused)) == (
        2,
        "refugium: error: the document is empty; nothing was stored",
    )
    nothing = _as(data, "admin", "get", "C-0001", "2", "--out", str(tmp_path / "two"))
    assert (nothing.returncode, one_line_error(nothing)) == (
        2,
        "refugium: error: C-0001 has no document 2",
    )
    files = sorted((data / "store" / "files").iterdir())
    assert len(files) == 1
    assert b"Zelimkhan" not in files[0].read_bytes()
    assert not list((data / "store" / "tmp").iterdir())
