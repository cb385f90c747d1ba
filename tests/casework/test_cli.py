"""`refugium watchlist add` and `check` as caseworkers' scripts call them (issue 9).

The real command in a subprocess, production settings and Argon2id cost, a fresh data folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the watchlist cli test"
RITA_PASS = "rita passphrase for the watchlist cli test"
REASON = "Seized phone of a detainee WLMARK-3391"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("watchlist") / "data"
    result = refugium(folder, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert result.returncode == 0, result.stderr
    listed = refugium(
        folder,
        *("watchlist", "add", "+7 (928) 555-12-34", "--kind", "phone", "--reason", REASON),
        *("--user", "admin", "--passphrase-stdin"),
        stdin=ADMIN_PASS + "\n",
    )
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "added: entry 1\n", "")
    return folder


def _as_admin(data: Path, *args: str):  # type: ignore[no-untyped-def]
    return refugium(
        data, "watchlist", *args, "--user", "admin", "--passphrase-stdin", stdin=ADMIN_PASS + "\n"
    )


@pytest.mark.parametrize("written", ["89285551234", "8 928 555 12 34", "+79285551234"])
def test_the_listed_number_is_flagged_in_every_written_form(data: Path, written: str) -> None:
    result = _as_admin(data, "check", written, "--kind", "phone")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"flag: {REASON}\n", "")


def test_without_kind_the_kind_is_guessed(data: Path) -> None:
    result = _as_admin(data, "check", "8-928-555-12-34")
    assert (result.returncode, result.stdout) == (0, f"flag: {REASON}\n")


def test_a_neighbouring_number_is_no_match_and_exit_0(data: Path) -> None:
    result = _as_admin(data, "check", "+79285551235", "--kind", "phone")
    assert (result.returncode, result.stdout, result.stderr) == (0, "no match\n", "")


def test_adding_again_in_another_form_is_already_listed(data: Path) -> None:
    result = _as_admin(data, "add", "8 928 555 12 34", "--reason", "Used by a lure WLMARK-2")
    assert (result.returncode, result.stdout) == (0, "already listed: entry 1\n")
    both = _as_admin(data, "check", "89285551234")
    assert both.stdout == f"flag: {REASON}\nflag: Used by a lure WLMARK-2\n"


def test_a_telegram_handle_added_as_a_link_is_flagged_as_a_handle(data: Path) -> None:
    added = _as_admin(data, "add", "https://t.me/Lure_Bot", "--reason", "lure")
    assert added.returncode == 0
    assert added.stdout.startswith("added: entry ")
    assert _as_admin(data, "check", "@lure_bot").stdout == "flag: lure\n"


def test_an_impossible_number_is_bad_input_exit_2_without_echo(data: Path) -> None:
    result = _as_admin(data, "add", "8 928 555", "--kind", "phone", "--reason", "x")
    assert result.returncode == 2
    line = one_line_error(result)
    assert "not a possible phone number" in line
    assert "928" not in line


def test_an_empty_reason_is_bad_input(data: Path) -> None:
    result = _as_admin(data, "add", "89285550000", "--reason", " ")
    assert result.returncode == 2
    assert "needs a reason" in one_line_error(result)


def test_a_user_without_casework_keys_is_refused(data: Path) -> None:
    added = refugium(
        data,
        "user",
        "add",
        "rita",
        "--desk",
        "casework",
        "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    for command in (("check", "89285551234"), ("add", "89285551234", "--reason", "x")):
        result = refugium(
            data,
            "watchlist",
            *command,
            "--user",
            "rita",
            "--passphrase-stdin",
            stdin=RITA_PASS + "\n",
        )
        assert result.returncode == 1
        assert "not an active member of desk 'casework'" in one_line_error(result)


def test_a_wrong_passphrase_is_refused(data: Path) -> None:
    result = refugium(
        data,
        "watchlist",
        "check",
        "89285551234",
        "--user",
        "admin",
        "--passphrase-stdin",
        stdin="wrong\n",
    )
    assert result.returncode == 1
    one_line_error(result)


def test_the_data_folder_holds_no_contact_or_reason(data: Path) -> None:
    seized = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    for secret in ("9285551234", "928 555", "555-12-34", "WLMARK", "lure_bot", "Lure_Bot"):
        assert secret.encode() not in seized, secret


@pytest.mark.parametrize("action", ["add", "check"])
def test_help(action: str) -> None:
    result = refugium(Path("/nonexistent"), "watchlist", action, "--help")
    assert result.returncode == 0
    assert "--passphrase-stdin" in result.stdout
