"""Nothing of a report stays in the reporter's browser (reliability.md T12).

A fresh Chromium profile (JavaScript off) goes through the reporter's whole path: send a
report with a canary in the text, read the receipt, follow up with it, leave. The browser
is closed, and then every file of its profile (cache, history, cookies, autofill, session
state) is searched for the canary and for the receipt: 0 hits. Local storage stays empty
and no cookie outlives the session.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.cli_runner import refugium
from tests.live_server import server_process

PASS = "browser residue admin passphrase"


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        secret.encode("utf-16-le"),
        base64.b64encode(raw),
        raw.hex().encode(),
        secret.replace(" ", "+").encode(),  # as a form would encode it in a URL
        secret.replace(" ", "%20").encode(),
    ]


@pytest.mark.slow
def test_the_browser_keeps_nothing(tmp_path):
    data = tmp_path / "data"
    assert refugium(data, "init", "--passphrase-stdin", stdin=PASS + "\n").returncode == 0
    profile = tmp_path / "profile"
    canary = "residue-canary-5521-zelimkhan"
    env = {"REFUGIUM_FORM_MIN_SECONDS": "0"}
    with server_process(data, tmp_path / "server.log", env=env) as server, sync_playwright() as p:
        assert Path(CHROMIUM).exists()
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            java_script_enabled=False,
        )
        page = context.new_page()
        page.goto(f"{server.url}/submit/")
        page.fill("#id_text", f"Report: {canary}")
        page.click("button[type=submit]")
        receipt = page.inner_text("#receipt").strip()
        assert re.fullmatch(r"[a-z]+( [a-z]+){9}", receipt)
        page.goto(f"{server.url}/followup/")
        page.fill("#id_receipt", receipt)
        page.click("button[type=submit]")
        assert page.inner_text("#status") == "Received"
        page.fill("#id_text", f"More: {canary}")
        page.click("form[action$='/followup/send/'] button[type=submit]")
        cookies = context.cookies()
        assert cookies
        assert all(c["expires"] == -1 for c in cookies)
        storage = context.storage_state()
        assert all(not origin.get("localStorage") for origin in storage["origins"])
        page.click("form[action$='/followup/logout/'] button[type=submit]")
        context.close()

    files = [f for f in profile.rglob("*") if f.is_file()]
    assert len(files) > 10  # the profile did record things: the search has something to read
    hits = []
    for path in files:
        content = path.read_bytes()
        for secret in (canary, receipt):
            for form in _forms(secret):
                if form in content:
                    hits.append(f"{path.relative_to(profile)}: {secret[:12]}…")
    assert hits == [], hits
