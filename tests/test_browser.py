"""A new user's first sign-in, in a real browser (Debian's Chromium driven by Playwright).

The Django test client can't catch what only browsers do (it never sends `Origin`, for one):
this test found that `Referrer-Policy: no-referrer` makes every form post fail CSRF. It runs
with JavaScript off, as reporters' browsers will, although researcher pages don't depend on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import factories
from tests.browser import chromium, phone_context, screenshot
from tests.cli_runner import refugium
from tests.live_server import running_server

ADMIN_PASS = "browser test admin passphrase"
RITA_PASS = "browser test rita passphrase"


def _new_organisation(data: Path) -> str:
    """`refugium init`, `user add` and `desk grant`, as the README tells a new user.
    Returns rita's TOTP secret."""
    assert refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n").returncode == 0
    added = refugium(
        data, "user", "add", "rita", "--desk", "documentation", "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    granted = refugium(
        data, "desk", "grant", "rita", "documentation", "--by", "admin", "--passphrase-stdin",
        stdin=ADMIN_PASS + "\n",
    )
    assert granted.returncode == 0, granted.stderr
    return re.search(r"secret=([A-Z2-7]+)", added.stdout).group(1)  # type: ignore[union-attr]


@pytest.mark.slow
def test_first_sign_in_and_sign_out_in_chromium(tmp_path):
    data = tmp_path / "data"
    totp_secret = _new_organisation(data)
    with running_server(data, tmp_path / "server.log") as base, chromium() as browser:
        context = phone_context(browser)
        page = context.new_page()
        page.goto(f"{base}/desk/")
        assert page.url == f"{base}/accounts/login/?next=/desk/"
        screenshot(page, "researcher-login")

        page.fill("#id_username", "rita")
        page.fill("#id_passphrase", "a wrong passphrase for rita")
        page.fill("#id_code", factories.totp_code(totp_secret))
        page.click("button[type=submit]")
        assert "Sign-in failed" in page.inner_text("main")

        page.fill("#id_username", "rita")
        page.fill("#id_passphrase", RITA_PASS)
        page.fill("#id_code", factories.totp_code(totp_secret))
        page.click("button[type=submit]")
        assert page.url == f"{base}/desk/"
        main = page.inner_text("main")
        assert "Your desks" in main
        assert re.search(r"Documentation.*\s1 key unlocked", main, re.S)
        screenshot(page, "researcher-home")

        cookies = {c["name"]: c for c in context.cookies()}
        assert set(cookies) == {"refugium-session", "refugium-csrf", "refugium-keybox"}
        for cookie in cookies.values():
            assert cookie["expires"] == -1  # dies with the browser session
            assert cookie["httpOnly"] is True
            assert cookie["sameSite"] == "Strict"

        page.click("text=Sign out")
        assert page.url == f"{base}/accounts/login/"
        assert "refugium-keybox" not in {c["name"] for c in context.cookies()}
        page.goto(f"{base}/desk/")
        assert page.url.startswith(f"{base}/accounts/login/")
