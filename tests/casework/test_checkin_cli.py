"""`refugium checkins enrol / run / list / ack / resolve / stop` as an operator's cron job and
caseworkers' scripts call them (issue 9, "Check-ins").

The real command in a subprocess, production settings and Argon2id cost, a fresh data folder
shared by the module's tests (which run in order: they follow one alert from raised to
resolved). ``run`` takes ``--now``, so the clock is frozen where a test needs it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli_runner import one_line_error, refugium

ADMIN_PASS = "admin passphrase for the checkin cli test"
RITA_PASS = "rita passphrase for the checkin cli test"
NORMAL = "Утренний Чай"
DURESS = "Вечерний Кофе"
STATE: dict[str, object] = {}


def _as(data: Path, user: str, *args: str, extra: str = ""):  # type: ignore[no-untyped-def]
    passphrase = ADMIN_PASS if user == "admin" else RITA_PASS
    return refugium(
        data,
        "checkins",
        *args,
        "--user",
        user,
        "--passphrase-stdin",
        stdin=passphrase + "\n" + extra,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("checkins") / "data"
    steps = [
        (("init", "--passphrase-stdin"), ADMIN_PASS),
        (("user", "add", "rita", "--desk", "casework", "--passphrase-stdin"), RITA_PASS),
        (("desk", "grant", "rita", "casework", "--by", "admin", "--passphrase-stdin"), ADMIN_PASS),
        (("case", "new", "--user", "admin", "--passphrase-stdin"), ADMIN_PASS),
    ]
    for args, passphrase in steps:
        result = refugium(folder, *args, stdin=passphrase + "\n")
        assert result.returncode == 0, result.stderr
    return folder


def _run(data: Path, at: datetime):  # type: ignore[no-untyped-def]
    return refugium(data, "checkins", "run", "--now", at.isoformat())


def test_enrol_prints_the_code_once(data: Path) -> None:
    STATE["before"] = datetime.now(UTC)
    result = _as(
        data,
        "admin",
        "enrol",
        "C-0001",
        "--every",
        "1h",
        "--grace",
        "15m",
        extra=f"{NORMAL}\n{DURESS}\n",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "C-0001: check-ins every 60 minutes, grace 15 minutes"
    found = re.fullmatch(r"check-in code \(shown once\): (\d{4} \d{4} \d{4} \d{4})", lines[1])
    assert found is not None
    STATE["code"] = found.group(1)
    assert (data / "keys" / "checkin-secret").stat().st_mode & 0o077 == 0


def test_enrol_again_is_refused_and_answers_never_come_from_arguments(data: Path) -> None:
    again = _as(
        data,
        "admin",
        "enrol",
        "C-0001",
        "--every",
        "2h",
        "--grace",
        "0",
        extra="один\nдва\n",
    )
    assert again.returncode == 2
    assert one_line_error(again) == (
        "refugium: error: C-0001 has check-ins already; stop them before enrolling again"
    )
    missing = _as(data, "admin", "enrol", "C-0001", "--every", "1h", "--grace", "0")
    assert missing.returncode == 2
    assert "expected the normal answer on standard input" in one_line_error(missing)
    bad = _as(data, "admin", "enrol", "C-0001", "--every", "soon", "--grace", "0")
    assert bad.returncode == 2
    assert "not a duration: 'soon'" in bad.stderr


def test_run_before_the_check_in_is_due_does_nothing(data: Path) -> None:
    before = STATE["before"]
    assert isinstance(before, datetime)
    result = _run(data, before + timedelta(hours=1, minutes=14))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_run_after_a_missed_check_in_raises_once(data: Path) -> None:
    before = STATE["before"]
    assert isinstance(before, datetime)
    at = before + timedelta(hours=2)
    first = _run(data, at)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == "C-0001: check-in alert 1 (missed) raised at tier 1 (handler)\n"
    second = _run(data, at)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    up = _run(data, at + timedelta(minutes=16))
    assert up.stdout == (
        "C-0001: check-in alert 1 (missed) escalated from tier 1 to tier 2 (coordinator)\n"
    )
    STATE["at"] = at + timedelta(minutes=16)


def test_run_refuses_a_time_without_a_zone(data: Path) -> None:
    result = refugium(data, "checkins", "run", "--now", "2017-04-02T09:30:00")
    assert result.returncode == 2
    assert one_line_error(result) == (
        "refugium: error: --now needs a time zone, e.g. 2017-04-02T09:30:00+00:00"
    )


def test_list_shows_the_open_alert(data: Path) -> None:
    result = _as(data, "admin", "list")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("alert 1: C-0001 missed, tier 2, raised ")
    assert line.endswith(", not acknowledged")
    assert _as(data, "rita", "list").stdout == "no open alerts\n"


def test_an_unassigned_caseworker_gets_the_same_error_as_for_a_missing_alert(
    data: Path,
) -> None:
    theirs = _as(data, "rita", "ack", "1")
    missing = _as(data, "rita", "ack", "99")
    assert (theirs.returncode, missing.returncode) == (2, 2)
    assert one_line_error(theirs) == "refugium: error: no check-in alert 1"
    assert one_line_error(missing) == "refugium: error: no check-in alert 99"


def test_ack_then_resolve_both_in_the_audit_chain(data: Path) -> None:
    early = _as(data, "admin", "resolve", "1")
    assert early.returncode == 2
    assert one_line_error(early) == "refugium: error: acknowledge the alert before resolving it"
    acked = _as(data, "admin", "ack", "1")
    assert (acked.returncode, acked.stdout) == (0, "alert 1: acknowledged (C-0001)\n")
    resolved = _as(data, "admin", "resolve", "1")
    assert (resolved.returncode, resolved.stdout) == (0, "alert 1: resolved (C-0001)\n")
    log = (data / "audit.jsonl").read_text()
    assert log.index('"casework.checkin_ack"') < log.index('"casework.checkin_resolve"')
    verified = refugium(data, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert _as(data, "admin", "list").stdout == "no open alerts\n"


def test_stop_ends_the_schedule(data: Path) -> None:
    stopped = _as(data, "admin", "stop", "C-0001")
    assert (stopped.returncode, stopped.stdout) == (0, "C-0001: check-ins stopped\n")
    at = STATE["at"]
    assert isinstance(at, datetime)
    later = _run(data, at + timedelta(days=2))
    assert (later.returncode, later.stdout) == (0, "")


def test_the_data_folder_holds_neither_code_nor_answer(data: Path) -> None:
    seized = b"".join(
        p.read_bytes() for p in data.rglob("*") if p.is_file() and p.name != "checkin-secret"
    )
    assert b"casework.checkin_resolve" in seized  # the audit log was read
    code = str(STATE["code"])
    for secret in (NORMAL, DURESS, NORMAL.lower(), DURESS.lower(), code, code.replace(" ", "")):
        for form in (secret.encode(), secret.encode("utf-16-le")):
            assert form not in seized, secret


def test_run_on_a_folder_that_is_not_initialised(tmp_path: Path) -> None:
    result = refugium(tmp_path / "none", "checkins", "run")
    assert result.returncode == 2
    assert "run `refugium init` first" in one_line_error(result)
