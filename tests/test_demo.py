"""`./run` (refugium demo): serves synthetic data and leaves nothing behind when stopped."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from refugium.reports import definition
from tests.cli_runner import REPO, cli_env, one_line_error, refugium
from tests.live_server import free_port


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_demo_serves_and_cleans_up(tmp_path, stop_signal):
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "refugium.cli", "demo", "--port", str(port)],
        env=cli_env(tmp_path / "unused"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in demo.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Stop with Ctrl-C"):
                break
        text = "".join(lines)
        assert "synthetic" in text
        folder = re.search(r"Data folder \(deleted on exit\): (\S+)", text).group(1)  # type: ignore[union-attr]
        assert re.search(r"^\s+rita\s+passphrase demo-", text, re.M)
        receipts = re.findall(r"^\s+\[(en|ru)\] (.+)$", text, re.M)
        assert [language for language, _ in receipts] == ["en", "ru"]
        deadline = time.monotonic() + 30
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the demo server did not start"
                time.sleep(0.2)
        assert page.status_code == 200
        assert Path(folder).is_dir()
        # The demo receipt opens the synthetic report, and its reply is there to read.
        reporter = requests.Session()
        form = reporter.get(f"http://127.0.0.1:{port}/followup/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        thread = reporter.post(
            f"http://127.0.0.1:{port}/followup/",
            data={"csrfmiddlewaretoken": csrf, "receipt": receipts[0][1]},
            timeout=30,
        )
        assert "DEMO (synthetic): We read your report." in thread.text
    finally:
        demo.send_signal(stop_signal)
        demo.wait(timeout=60)
    assert not Path(folder).exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)


# --- refugium demo --passphrase-stdin: fill an empty data folder, keep it, serve nothing -------

DEMO_PASSPHRASE = "seven synthetic waves of spring"


def test_demo_fills_an_empty_data_folder_for_scripts(tmp_path):
    data = tmp_path / "data"
    result = refugium(
        data, "demo", "--events", "100", "--passphrase-stdin", stdin=DEMO_PASSPHRASE + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout
    assert "invented for the demo" in result.stdout
    assert DEMO_PASSPHRASE not in result.stdout + result.stderr
    assert (data / "INITIALISED").is_file()
    events = int(re.search(r"campaign of (\d+) events", result.stdout).group(1))  # type: ignore[union-attr]
    assert events >= 100
    # The folder is kept, and the admin unlocks the documentation desk with that passphrase.
    out = tmp_path / "events.json"
    export = refugium(
        data,
        "records", "export", "--kind", "events", "--out", str(out),
        "--user", "admin", "--passphrase-stdin",
        stdin=DEMO_PASSPHRASE + "\n",
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    assert f"Exported {events} events" in export.stdout
    assert "SYNTHETIC" in out.read_text(encoding="utf-8")
    check = refugium(data, "audit", "verify")
    assert check.returncode == 0, check.stderr
    # What examples/report.toml selects from it shows the waves: by month, spring 2017 well
    # above k, a pause through 2018 with nothing, then winter 2018-19 again above k.
    acts = tmp_path / "acts.json"
    export = refugium(
        data,
        "records", "export", "--kind", "acts", "--redacted", "--out", str(acts),
        "--user", "admin", "--passphrase-stdin",
        stdin=DEMO_PASSPHRASE + "\n",
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    example = definition.load(REPO / "examples" / "report.toml")
    by_month: Counter[str] = Counter(
        act["month_from"][:7]
        for act in json.loads(acts.read_text(encoding="utf-8"))["records"]
        if act["region"] in example.regions
        and act["act_type"] in example.act_types
        and act["month_from"]
        and act["month_from"] == act["month_to"]  # dated to the month or closer
    )
    for month in ("2017-03", "2017-04", "2017-05"):
        assert by_month[month] >= 2 * example.k, (month, by_month)
    for month in range(2, 12):
        assert by_month[f"2018-{month:02d}"] == 0, by_month
    for month in ("2018-12", "2019-02"):
        assert by_month[month] >= example.k, (month, by_month)


def test_demo_fill_refuses_a_folder_that_is_not_empty(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text("someone's real work", encoding="utf-8")
    result = refugium(
        data, "demo", "--events", "100", "--passphrase-stdin", stdin=DEMO_PASSPHRASE + "\n"
    )
    assert result.returncode == 2
    assert "not empty" in one_line_error(result)
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt"]
    assert (data / "notes.txt").read_text(encoding="utf-8") == "someone's real work"


def test_demo_fill_refuses_a_weak_passphrase_and_creates_nothing(tmp_path):
    data = tmp_path / "data"
    result = refugium(data, "demo", "--events", "100", "--passphrase-stdin", stdin="short\n")
    assert result.returncode == 2
    one_line_error(result)
    assert not data.exists()


def test_demo_fill_needs_the_passphrase_line(tmp_path):
    data = tmp_path / "data"
    result = refugium(data, "demo", "--events", "100", "--passphrase-stdin", stdin="")
    assert result.returncode == 2
    assert "passphrase" in one_line_error(result)
    assert not data.exists()


@pytest.mark.parametrize("existed", [False, True])
def test_a_failed_demo_fill_leaves_the_folder_as_it_was(tmp_path, existed):
    """A campaign cut short must not leave a folder that looks ready: the real command runs,
    with the campaign made to fail after the data folder was initialised."""
    data = tmp_path / "data"
    if existed:
        data.mkdir()
    script = (
        "import sys, refugium.demo as demo\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('the campaign failed half-way')\n"
        "demo._records = boom\n"
        "from refugium.cli import main\n"
        "sys.exit(main(['demo', '--events', '100', '--passphrase-stdin']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=DEMO_PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        env=cli_env(data),
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "internal error" in result.stderr  # the message stays out of the output
    if existed:
        assert list(data.iterdir()) == []
    else:
        assert not data.exists()
