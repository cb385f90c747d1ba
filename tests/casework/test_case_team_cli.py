"""`refugium case assign / unassign / cut-off / flag / clear` (issue 9: assigning re-wraps, a
detained caseworker is cut off by a coordinator, flags raised by hand and cleared by a
second caseworker).

The real command in a subprocess, production settings and Argon2id cost, a fresh data folder
shared by the module's tests (which run in order: they build one case's history).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the case team cli test"
RITA_PASS = "rita passphrase for the case team cli test"


def _as(data: Path, user: str, *args: str):  # type: ignore[no-untyped-def]
    passphrase = ADMIN_PASS if user == "admin" else RITA_PASS
    return refugium(
        data, "case", *args, "--user", user, "--passphrase-stdin", stdin=passphrase + "\n"
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("team") / "data"
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


def test_assign_wraps_the_key_to_the_member(data: Path) -> None:
    before = _as(data, "rita", "show", "C-0001")
    assert one_line_error(before) == "refugium: error: no case 'C-0001'"
    result = _as(data, "admin", "assign", "C-0001", "rita", "--role", "logistics")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "C-0001: rita assigned as logistics (1 key generation(s) wrapped)\n",
        "",
    )
    shown = _as(data, "rita", "show", "C-0001")
    assert shown.returncode == 0, shown.stderr
    assert "assignee: rita (logistics)" in shown.stdout.splitlines()
    again = _as(data, "admin", "assign", "C-0001", "rita")
    assert again.returncode == 2
    assert one_line_error(again) == "refugium: error: 'rita' is assigned to C-0001 already"
    nobody = _as(data, "admin", "assign", "C-0001", "nobody")
    assert (nobody.returncode, one_line_error(nobody)) == (
        2,
        "refugium: error: no user named 'nobody'",
    )


def test_a_flag_by_hand_raises_the_risk_and_only_a_second_caseworker_clears_it(
    data: Path,
) -> None:
    raised = _as(data, "admin", "flag", "C-0001", "wanted_search", "--note", "FLAGNOTE-MARK uncle")
    assert (raised.returncode, raised.stdout) == (
        0,
        "C-0001: flag 1 raised (wanted_search); risk high\n",
    )
    shown = _as(data, "admin", "show", "C-0001").stdout.splitlines()
    assert "risk: high" in shown
    assert (
        "flag 1 (manual, open): A relative's or official's 'wanted' or 'missing person' "
        "search: FLAGNOTE-MARK uncle"
    ) in shown
    own = _as(data, "admin", "clear", "C-0001", "1")
    assert own.returncode == 2
    assert "cleared by a second caseworker" in one_line_error(own)
    cleared = _as(data, "rita", "clear", "C-0001", "1")
    assert (cleared.returncode, cleared.stdout) == (0, "C-0001: flag 1 cleared\n")
    twice = _as(data, "rita", "clear", "C-0001", "1")
    assert (twice.returncode, one_line_error(twice)) == (
        2,
        "refugium: error: C-0001 has no open flag 1",
    )
    other = _as(data, "admin", "flag", "C-0001", "other")
    assert (other.returncode, one_line_error(other)) == (
        2,
        "refugium: error: note: say what the sign of a provocation is",
    )
    unknown = _as(data, "admin", "flag", "C-0001", "gossip")
    assert unknown.returncode == 2
    assert "invalid choice: 'gossip'" in unknown.stderr


def test_unassign_rotates_the_case_key(data: Path) -> None:
    result = _as(data, "admin", "unassign", "C-0001", "rita")
    assert (result.returncode, result.stdout) == (
        0,
        "C-0001: rita unassigned; new data is sealed under key 2\n",
    )
    gone = _as(data, "rita", "show", "C-0001")
    assert one_line_error(gone) == "refugium: error: no case 'C-0001'"
    twice = _as(data, "admin", "unassign", "C-0001", "rita")
    assert (twice.returncode, one_line_error(twice)) == (
        2,
        "refugium: error: 'rita' is not assigned to C-0001",
    )


def test_only_a_coordinator_cuts_off_and_it_revokes_the_desk(data: Path) -> None:
    assert _as(data, "admin", "assign", "C-0001", "rita").returncode == 0
    refused = _as(data, "rita", "cut-off", "admin")
    assert (refused.returncode, one_line_error(refused)) == (
        1,
        "refugium: error: only a coordinator can cut off a caseworker",
    )
    done = _as(data, "admin", "cut-off", "rita")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "C-0001: new key\nrita: cut off; casework desk membership revoked, sessions ended\n",
        "",
    )
    after = _as(data, "rita", "show", "C-0001")
    assert (after.returncode, after.stdout, one_line_error(after)) == (
        1,
        "",
        "refugium: error: this account is not an active member of desk 'casework' holding its key",
    )


def test_the_data_folder_holds_no_flag_note(data: Path) -> None:
    seized = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    for secret in ("FLAGNOTE-MARK", "wanted_search", "missing person"):
        assert secret.encode() not in seized, secret


@pytest.mark.parametrize("action", ["assign", "unassign", "cut-off", "flag", "clear"])
def test_help(action: str) -> None:
    result = refugium(Path("/nonexistent"), "case", action, "--help")
    assert result.returncode == 0
    assert "--passphrase-stdin" in result.stdout
