"""The `refugium` command as users' scripts call it: exit codes, one-line errors, no tracebacks.

These run the real command in a subprocess with production settings (production Argon2id
cost included), against a fresh data folder.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the cli test"
RITA_PASS = "rita passphrase for the cli test"


@pytest.fixture(scope="module")
def initialised(tmp_path_factory) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("cli") / "data"
    result = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert result.returncode == 0, result.stderr
    match = re.search(r"AGE-SECRET-KEY-1[0-9A-Z]+", result.stdout)
    assert match is not None
    return data, match.group(0)


def test_help_lists_every_command():
    result = refugium(Path("/nonexistent"), "--help")
    assert result.returncode == 0
    for command in ("init", "user", "desk", "recover", "serve", "check", "audit", "demo"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.M), command


@pytest.mark.parametrize(
    "args",
    [
        ("init",),
        ("user", "add"),
        ("user", "list"),
        ("user", "disable"),
        ("user", "unlock"),
        ("desk", "grant"),
        ("desk", "revoke"),
        ("desk", "list"),
        ("recover",),
        ("serve",),
        ("check",),
        ("audit", "verify"),
        ("demo",),
    ],
)
def test_every_subcommand_has_help(args):
    result = refugium(Path("/nonexistent"), *args, "--help")
    assert result.returncode == 0
    assert "usage: refugium" in result.stdout
    # A description, not only the usage line.
    assert len(result.stdout.strip().splitlines()) >= 3


def test_bad_usage_exits_2():
    result = refugium(Path("/nonexistent"), "user", "frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_init_output_and_folder(initialised):
    data, paper_key = initialised
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} is {mode:o}"
    assert (data / "INITIALISED").is_file()
    assert len(paper_key) == 74


def test_init_prints_totp_uri(tmp_path):
    result = refugium(
        tmp_path / "d", "init", "--admin", "chief", "--passphrase-stdin", stdin=ADMIN_PASS + "\n"
    )
    assert result.returncode == 0
    assert re.search(r"otpauth://totp/Refugium:chief\?secret=[A-Z2-7]{32}", result.stdout)


def test_init_refuses_an_existing_folder(initialised):
    data, _ = initialised
    before = sorted(p.name for p in data.iterdir())
    result = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert result.returncode == 2
    assert "will not touch it" in one_line_error(result)
    assert sorted(p.name for p in data.iterdir()) == before


def test_init_with_weak_passphrase_creates_nothing(tmp_path):
    result = refugium(tmp_path / "d", "init", "--passphrase-stdin", stdin="short\n")
    assert result.returncode == 2
    one_line_error(result)
    assert not (tmp_path / "d").exists()


def test_init_without_stdin_passphrase_is_bad_input(tmp_path):
    result = refugium(tmp_path / "d", "init", "--passphrase-stdin", stdin="")
    assert result.returncode == 2
    one_line_error(result)
    assert not (tmp_path / "d").exists()


def test_commands_on_an_uninitialised_folder(tmp_path):
    for args in (("user", "list"), ("serve",), ("desk", "list")):
        result = refugium(tmp_path / "none", *args)
        assert result.returncode == 2
        assert "refugium init" in one_line_error(result)


def test_user_lifecycle(initialised):
    data, paper_key = initialised
    added = refugium(
        data, "user", "add", "rita", "--desk", "documentation", "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "otpauth://totp/" in added.stdout

    listed = refugium(data, "user", "list")
    assert listed.returncode == 0
    assert re.search(r"^rita\s+desks=- pending=documentation$", listed.stdout, re.M)

    wrong = refugium(
        data, "desk", "grant", "rita", "documentation", "--by", "admin", "--passphrase-stdin",
        stdin="not the admin passphrase\n",
    )
    assert wrong.returncode == 1
    one_line_error(wrong)

    granted = refugium(
        data, "desk", "grant", "rita", "documentation", "--by", "admin", "--passphrase-stdin",
        stdin=ADMIN_PASS + "\n",
    )
    assert granted.returncode == 0, granted.stderr
    listed = refugium(data, "user", "list", "--json")
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["rita"]["desks"] == ["documentation"]

    revoked = refugium(data, "desk", "revoke", "rita", "documentation")
    assert revoked.returncode == 0
    assert "generation 2" in revoked.stdout

    recovered = refugium(
        data, "recover", "--desk", "documentation", "--user", "rita", stdin=paper_key + "\n"
    )
    assert recovered.returncode == 0, recovered.stderr
    assert "2 key generation(s)" in recovered.stdout

    disabled = refugium(data, "user", "disable", "rita")
    assert disabled.returncode == 0
    assert "[disabled]" in refugium(data, "user", "list").stdout

    verified = refugium(data, "audit", "verify")
    assert verified.returncode == 0
    match = re.fullmatch(
        r"Audit log intact: (\d+) entries; head (\d+:[0-9a-f]{64})\n", verified.stdout
    )
    assert match is not None, verified.stdout
    anchored = refugium(data, "audit", "verify", "--anchor", match.group(2))
    assert anchored.returncode == 0
    wrong = refugium(data, "audit", "verify", "--anchor", "3:" + "f" * 64)
    assert wrong.returncode == 1
    one_line_error(wrong)


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (("user", "add", "Bad Name", "--passphrase-stdin"), RITA_PASS + "\n", "user name"),
        (("user", "add", "x1", "--desk", "nope", "--passphrase-stdin"), RITA_PASS + "\n", "desk"),
        (("user", "disable", "ghost"), "", "no user"),
        (("desk", "revoke", "admin", "nope"), "", "no desk"),
        (("recover", "--desk", "intake", "--user", "admin"), "garbage\n", "key"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(initialised, args, stdin, expected):
    data, _ = initialised
    result = refugium(data, *args, stdin=stdin)
    assert result.returncode == 2
    assert expected in one_line_error(result)


def test_recover_with_a_foreign_key_fails(initialised):
    data, _ = initialised
    from refugium.crypto import Identity

    other = Identity.generate().to_secret_string()
    result = refugium(data, "recover", "--desk", "intake", "--user", "admin", stdin=other + "\n")
    assert result.returncode == 1
    assert "recovery key" in one_line_error(result)


def test_check_passes_on_a_fresh_folder(initialised):
    data, _ = initialised
    result = refugium(data, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "All checks passed."


def test_check_names_a_loose_permission(tmp_path):
    data = tmp_path / "d"
    assert refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n").returncode == 0
    (data / "secret_key").chmod(0o644)
    result = refugium(data, "check")
    assert result.returncode == 1
    assert "secret_key is mode 0644" in result.stdout


def test_audit_verify_names_the_first_bad_entry(tmp_path):
    data = tmp_path / "d"
    assert refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n").returncode == 0
    log = data / "audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"desk.create"', b'"desk.delete"')
    log.write_bytes(b"".join(lines))
    result = refugium(data, "audit", "verify")
    assert result.returncode == 1
    assert "entry 2" in one_line_error(result)
