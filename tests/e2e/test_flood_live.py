"""A flood against the real server while real reporters keep sending (reliability.md T18).

One client fires 1,000 submissions in under a minute with what a flooder has without effort:
no token, a forged one, or one good token used again and again. At the same time a "real
reporter" follows the documented path 20 times: open the form, wait, send. Every flood
request must get the rendered 429 page, no response may be a 5xx, every real report must be
accepted, the server's memory must stay flat and no address may be stored.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.cli_runner import refugium
from tests.live_server import server_process

PASS = "flood test admin passphrase"
FLOOD = 1000
REAL = 20


def _rss_kib(pid: int) -> int:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _real_reporter(base: str, results: list[int]) -> None:
    for i in range(REAL):
        session = requests.Session()
        page = session.get(f"{base}/submit/", timeout=30)
        action = re.search(r'action="(/submit/\?t=[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        time.sleep(1.05)  # REFUGIUM_FORM_MIN_SECONDS=1: a person takes longer
        response = session.post(
            base + action.replace("&amp;", "&"),
            data={"csrfmiddlewaretoken": csrf, "text": f"real report {i}"},
            timeout=60,
        )
        results.append(response.status_code if 'id="receipt"' in response.text else -1)


@pytest.mark.slow
def test_flood_does_not_keep_real_reporters_out(tmp_path):
    data = tmp_path / "data"
    assert refugium(data, "init", "--passphrase-stdin", stdin=PASS + "\n").returncode == 0
    env = {"REFUGIUM_FORM_MIN_SECONDS": "1", "REFUGIUM_SUBMISSIONS_PER_MINUTE": "30"}
    with server_process(data, tmp_path / "server.log", env=env) as server:
        base = server.url
        flooder = requests.Session()
        page = flooder.get(f"{base}/submit/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        good = re.search(r'action="/submit/\?t=([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        time.sleep(1.05)
        assert (
            flooder.post(
                f"{base}/submit/?t={good}",
                data={"csrfmiddlewaretoken": csrf, "text": "first"},
                timeout=30,
            ).status_code
            == 200
        )
        rss_before = _rss_kib(server.process.pid)

        real: list[int] = []
        reporter = threading.Thread(target=_real_reporter, args=(base, real))
        reporter.start()
        statuses: dict[int, int] = {}
        rendered_429 = 0
        started = time.monotonic()
        for i in range(FLOOD):
            token = ("", "forged-token", good)[i % 3]
            response = flooder.post(
                f"{base}/submit/?t={token}",
                data={"csrfmiddlewaretoken": csrf, "text": "flood " * 50},
                timeout=30,
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            rendered_429 += response.status_code == 429 and "Not sent" in response.text
        flood_seconds = time.monotonic() - started
        reporter.join(timeout=120)
        rss_after = _rss_kib(server.process.pid)

    print(f"flood: {FLOOD} requests in {flood_seconds:.1f} s, statuses {statuses}")
    print(f"server RSS: {rss_before} KiB before, {rss_after} KiB after")
    assert flood_seconds < 60
    assert statuses == {429: FLOOD}
    assert rendered_429 == FLOOD
    assert real == [200] * REAL
    assert rss_after - rss_before < 64 * 1024
    for path in data.rglob("*"):
        if path.is_file():
            assert b"127.0.0.1" not in path.read_bytes(), path.name
    assert b"127.0.0.1" not in (tmp_path / "server.log").read_bytes()
