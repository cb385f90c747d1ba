"""`refugium case new / show / attest / stage` as caseworkers' scripts call them (issue 9).

The real command in a subprocess, production settings and Argon2id cost, a fresh data folder
shared by the module's tests (which run in order: they build one case's history).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the case cli test"
RITA_PASS = "rita passphrase for the case cli test"
REASON = "Seized phone of a detainee CASEMARK-5512"


def _as(data: Path, user: str, *args: str):  # type: ignore[no-untyped-def]
    passphrase = ADMIN_PASS if user == "admin" else RITA_PASS
    return refugium(
        data, "case", *args, "--user", user, "--passphrase-stdin", stdin=passphrase + "\n"
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("cases") / "data"
    steps = [
        (("init", "--passphrase-stdin"), ADMIN_PASS),
        (("user", "add", "rita", "--desk", "casework", "--passphrase-stdin"), RITA_PASS),
        (("desk", "grant", "rita", "casework", "--by", "admin", "--passphrase-stdin"), ADMIN_PASS),
        (
            (
                "watchlist",
                "add",
                "89285551234",
                "--reason",
                REASON,
                "--user",
                "admin",
                "--passphrase-stdin",
            ),
            ADMIN_PASS,
        ),
    ]
    for args, passphrase in steps:
        result = refugium(folder, *args, stdin=passphrase + "\n")
        assert result.returncode == 0, result.stderr
    return folder


def test_case_new_prints_the_code_and_a_flag_per_watchlist_match(data: Path) -> None:
    result = _as(
        data,
        "admin",
        "new",
        "--contact",
        "+7 (928) 555-12-34",
        "@Case_Cli_Mark",
        "--risk",
        "critical",
        "--need",
        "shelter",
        "travel",
        "--channel",
        "@Case_Cli_Mark",
        "--name",
        "CLI-NAME-MARK",
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"C-0001\nflag: {REASON}\n", "")


def test_case_new_without_a_match_prints_only_the_code(data: Path) -> None:
    result = _as(data, "admin", "new", "--contact", "+7 928 000 11 22")
    assert (result.returncode, result.stdout, result.stderr) == (0, "C-0002\n", "")


def test_case_show_to_the_assigned_caseworker(data: Path) -> None:
    result = _as(data, "admin", "show", "C-0001")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "case: C-0001",
        "stage: request",
        "risk: critical",
        "needs: shelter, travel",
    ]
    assert "name: CLI-NAME-MARK" in lines
    assert "contact: +7 (928) 555-12-34 (phone)" in lines
    assert "assignee: admin (caseworker)" in lines
    assert any(
        line.startswith("flag ") and line.endswith(f"(watchlist, open): {REASON}") for line in lines
    )


def test_an_unassigned_caseworker_gets_the_same_error_as_for_a_missing_case(data: Path) -> None:
    unassigned = _as(data, "rita", "show", "C-0001")
    missing = _as(data, "rita", "show", "C-0099")
    assert (unassigned.returncode, missing.returncode) == (2, 2)
    assert one_line_error(unassigned) == "refugium: error: no case 'C-0001'"
    assert one_line_error(missing) == "refugium: error: no case 'C-0099'"
    assert unassigned.stdout == missing.stdout == ""


def test_case_stage_is_refused_at_the_gate_with_what_is_missing(data: Path) -> None:
    moved = _as(data, "admin", "stage", "C-0002", "verification")
    assert (moved.returncode, moved.stdout) == (0, "C-0002: request -> verification\n")
    attested = _as(data, "admin", "attest", "C-0002", "referee", "--channel", "signal: zarema")
    assert (attested.returncode, attested.stdout) == (0, "C-0002: referee recorded\n")
    refused = _as(data, "admin", "stage", "C-0002", "safe")
    assert refused.returncode == 2
    line = one_line_error(refused)
    assert "C-0002 cannot enter 'safe': 2 independent verification signals" in line
    assert "missing: callback, code_answer, partner" in line
    # A call-back on the channel the request came in on (the first contact) does not count.
    _as(data, "admin", "attest", "C-0002", "callback", "--channel", "89280001122")
    inbound = _as(data, "admin", "stage", "C-0002", "safe")
    assert inbound.returncode == 2
    assert "came in on does not count" in one_line_error(inbound)


def test_two_independent_signals_let_the_case_move(data: Path) -> None:
    _as(data, "admin", "attest", "C-0002", "code_answer", "--channel", "@known_before")
    moved = _as(data, "admin", "stage", "C-0002", "safe")
    assert (moved.returncode, moved.stdout, moved.stderr) == (
        0,
        "C-0002: verification -> safe\n",
        "",
    )
    shown = _as(data, "admin", "show", "C-0002").stdout.splitlines()
    assert "stage: safe" in shown
    assert sum(line.startswith("attestation: ") for line in shown) == 3
    assert [line.split(" on ")[0] for line in shown if line.startswith("stage change")] == [
        "stage change: request -> verification",
        "stage change: verification -> safe",
    ]


def test_a_move_the_stage_table_refuses_is_exit_2(data: Path) -> None:
    result = _as(data, "admin", "stage", "C-0002", "resettled")
    assert result.returncode == 2
    assert "cannot move to 'resettled'" in one_line_error(result)


def test_the_data_folder_holds_no_contact_or_name(data: Path) -> None:
    seized = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    for secret in (
        "9285551234",
        "555-12-34",
        "CASEMARK",
        "Case_Cli_Mark",
        "case_cli_mark",
        "CLI-NAME-MARK",
        "zarema",
        "known_before",
        "9280001122",
    ):
        assert secret.encode() not in seized, secret


@pytest.mark.parametrize("action", ["new", "show", "attest", "stage"])
def test_help(action: str) -> None:
    result = refugium(Path("/nonexistent"), "case", action, "--help")
    assert result.returncode == 0
    assert "--passphrase-stdin" in result.stdout
