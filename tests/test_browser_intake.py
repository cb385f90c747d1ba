"""The whole conversation in Chromium with JavaScript off, in English and in Russian
(issue 4, "Done when"): a reporter sends text and two files and reads the receipt, follows up;
a researcher signs in with TOTP, reads and replies; the reporter reads the reply and adds
more. Screenshots of every step go to tests/artifacts/ for review."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import factories
from tests.browser import chromium, phone_context, screenshot
from tests.cli_runner import refugium
from tests.live_server import server_process

ADMIN_PASS = "browser intake admin passphrase"
RITA_PASS = "browser intake rita passphrase"


def _organisation(data: Path) -> str:
    assert refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n").returncode == 0
    added = refugium(
        data,
        "user",
        "add",
        "rita",
        "--desk",
        "intake",
        "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )
    assert added.returncode == 0, added.stderr
    granted = refugium(
        data,
        "desk",
        "grant",
        "rita",
        "intake",
        "--by",
        "admin",
        "--passphrase-stdin",
        stdin=ADMIN_PASS + "\n",
    )
    assert granted.returncode == 0, granted.stderr
    return re.search(r"secret=([A-Z2-7]+)", added.stdout).group(1)  # type: ignore[union-attr]


def _no_script(page) -> None:  # type: ignore[no-untyped-def]
    html = page.content().lower()
    assert "<script" not in html
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "prefix", "words", "status_new", "sent"),
    [
        ("en", "", r"[a-z]+", "Received", "Sent. Thank you."),
        ("ru", "/ru", r"[а-я]+", "Получено", "Отправлено. Спасибо."),
    ],
)
def test_report_reply_and_follow_up(tmp_path, language, prefix, words, status_new, sent):
    data = tmp_path / "data"
    totp = _organisation(data)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 synthetic photo " * 200)
    note = tmp_path / "note.txt"
    note.write_text("Synthetic note for the browser test.\n")
    canary = f"browser-canary-{language}-7731"
    reply = f"We read it ({language}). Are you safe?"
    shot = f"intake-{language}"

    env = {"REFUGIUM_FORM_MIN_SECONDS": "0"}
    with server_process(data, tmp_path / "server.log", env=env) as server, chromium() as browser:
        base = server.url

        # The reporter sends text, a hint and two files.
        reporter = phone_context(browser).new_page()
        reporter.goto(f"{base}{prefix}/submit/")
        assert reporter.locator("html").get_attribute("lang") == language
        _no_script(reporter)
        screenshot(reporter, f"{shot}-1-form")
        reporter.fill("#id_text", f"What happened: {canary}")
        reporter.select_option("#id_where", "chechnya")
        reporter.check("input[name=harm][value=detention]")
        reporter.set_input_files("#id_files", [str(photo), str(note)])
        reporter.click("button[type=submit]")
        receipt = reporter.inner_text("#receipt").strip()
        assert re.fullmatch(rf"{words}( {words}){{9}}", receipt), receipt
        _no_script(reporter)
        screenshot(reporter, f"{shot}-2-receipt")
        assert receipt not in reporter.url
        reporter.context.close()

        # Later, in a new browser session, the reporter follows up: nothing yet.
        reporter = phone_context(browser).new_page()
        reporter.goto(f"{base}{prefix}/followup/")
        reporter.fill("#id_receipt", receipt)
        reporter.click("button[type=submit]")
        assert reporter.inner_text("#status") == status_new
        assert reporter.locator("#no-replies").count() == 1
        screenshot(reporter, f"{shot}-3-followup-empty")

        # A researcher signs in with TOTP, reads, and replies.
        desk = phone_context(browser).new_page()
        desk.goto(f"{base}/accounts/login/")
        desk.fill("#id_username", "rita")
        desk.fill("#id_passphrase", RITA_PASS)
        desk.fill("#id_code", factories.totp_code(totp))
        desk.click("button[type=submit]")
        desk.goto(f"{base}/desk/inbox/")
        screenshot(desk, f"{shot}-4-inbox")
        desk.click("main table a")
        text = desk.inner_text("main")
        assert canary in text
        assert "photo.jpg" in text
        assert "note.txt" in text
        screenshot(desk, f"{shot}-5-read")
        desk.fill("#id_text", reply)
        desk.click("text=Send reply")
        assert reply in desk.inner_text("main")
        screenshot(desk, f"{shot}-6-replied")

        # The reporter reads the reply and adds more.
        reporter.goto(f"{base}{prefix}/followup/")
        assert reply in reporter.inner_text("main")
        screenshot(reporter, f"{shot}-7-reply")
        reporter.fill("#id_text", "One more thing.")
        reporter.click("form[action$='/followup/send/'] button[type=submit]")
        assert sent in reporter.inner_text("main")
        _no_script(reporter)
        screenshot(reporter, f"{shot}-8-sent")
        cookies = reporter.context.cookies()
        assert all(c["expires"] == -1 for c in cookies)
        reporter.click("form[action$='/followup/logout/'] button[type=submit]")
        assert reporter.locator("#id_receipt").count() == 1
