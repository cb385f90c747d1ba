"""`./run` (refugium demo): serves synthetic data and leaves nothing behind when stopped."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cli_runner import REPO, cli_env
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
