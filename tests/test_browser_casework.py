"""The caseworker's day in Chromium, against a real server (issue 9, "Done when": browser
tests of the caseworker's day). A person asks for help through the intake form; a
caseworker reads the request in the inbox and opens a case from its page (its contact is on the
watchlist: the flag shows), moves it to verification, records a signal and is refused at the
gate with the gate's own message, records a second signal over another channel, assigns a
colleague, raises a flag by hand; the colleague, who got a 404 for the case before being
assigned, sees the notice, clears both flags; the caseworker moves the case to safety.
JavaScript is off; every page is checked for unlabelled controls and width (desktop and
phone). Then the rest of the day: rita, the case's logistics owner, fills its location
compartment, is refused a reveal without a reason and reveals with one (the page is no-store;
admin sees only the mask, the reveal and its reason); the case moves on to exit and the
compartment leaves a tombstone; admin enrols the person in check-ins and reads the code once;
the person, on a phone with JavaScript off, checks in with the duress answer; the escalation
pass runs (`refugium checkins run`) and admin sees the alert at the top tier on the alerts
page, acknowledges it and resolves it. Screenshots go to tests/artifacts/casework-*.png for
review."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.browser import chromium, phone_context, screenshot
from tests.cli_runner import refugium
from tests.live_server import server_process
from tests.test_browser_records import _audit, _check

ADMIN_PASS = "browser casework admin passphrase"
RITA_PASS = "browser casework rita passphrase"
CONTACT = "+7 (928) 555-12-34"
REASON = "Seized with a detainee's phone (synthetic)"
NAME = "Аслан Синтетический"
ADDRESS = "ул. Синтетическая 7, кв. 3 (synthetic)"
REGION = "North Caucasus (synthetic)"
WHY = "booking the bus to the border (synthetic)"
NORMAL = "the apricots are ripe"
DURESS = "the river is cold"


def _setup(data: Path) -> tuple[str, str]:
    """`refugium init`, a second caseworker, one watchlisted phone. Returns the TOTP secrets
    of admin and rita."""
    made = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert made.returncode == 0, made.stderr
    admin = re.search(r"secret=([A-Z2-7]+)", made.stdout).group(1)  # type: ignore[union-attr]
    added = refugium(
        data, "user", "add", "rita", "--desk", "casework", "--passphrase-stdin",
        stdin=RITA_PASS + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    rita = re.search(r"secret=([A-Z2-7]+)", added.stdout).group(1)  # type: ignore[union-attr]
    for args in (
        ("desk", "grant", "rita", "casework", "--by", "admin"),
        ("watchlist", "add", "89285551234", "--reason", REASON, "--user", "admin"),
    ):
        done = refugium(data, *args, "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
        assert done.returncode == 0, done.stderr
    return admin, rita


def _sign_in(page: Any, base: str, name: str, passphrase: str, totp: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", name)
    page.fill("#id_passphrase", passphrase)
    page.fill("#id_code", factories.totp_code(totp))
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{base}/desk/"


def _send(page: Any, selector: str) -> Any:
    """Clicks a form's button; returns the final response (after any redirect)."""
    with page.expect_navigation() as navigation:
        page.click(selector)
    return navigation.value


def _stage(page: Any, target: str) -> Any:
    page.select_option("#stage_stage", target)
    return _send(page, "#stage-form button[type=submit]")


def _attest(page: Any, signal: str, channel: str) -> Any:
    page.select_option("#attest_signal", signal)
    page.fill("#attest_channel", channel)
    return _send(page, "#attest-form button[type=submit]")


@pytest.mark.slow
def test_a_caseworkers_day_in_chromium(tmp_path: Path) -> None:
    data = tmp_path / "data"
    admin_totp, rita_totp = _setup(data)
    env = {"REFUGIUM_FORM_MIN_SECONDS": "0"}
    with server_process(data, tmp_path / "server.log", env=env) as server, chromium() as browser:
        base = server.url

        # A request for help comes in through the intake form.
        reporter = phone_context(browser).new_page()
        reporter.goto(f"{base}/submit/")
        reporter.fill("#id_text", "I need to leave, please call me back (synthetic).")
        _send(reporter, "button[type=submit]")
        assert reporter.inner_text("#receipt").strip()
        reporter.context.close()

        desk = browser.new_context(
            java_script_enabled=False, viewport={"width": 1280, "height": 900}
        ).new_page()
        desk.context.set_default_timeout(10_000)
        _sign_in(desk, base, "admin", ADMIN_PASS, admin_totp)
        phone = phone_context(browser, storage_state=desk.context.storage_state()).new_page()
        shots = 0

        def shot(name: str, *, again: bool = True) -> None:
            nonlocal shots
            shots += 1
            _check(desk)
            screenshot(desk, f"casework-{shots:02d}-{name}-desktop")
            if again:
                phone.goto(desk.url)
                _check(phone)
                screenshot(phone, f"casework-{shots:02d}-{name}-phone")

        # 1. From the desks' page to the casework desk; the inbox gives the request's code.
        _send(desk, "main a:text-is('Cases')")
        assert desk.url == f"{base}/casework/"
        assert "You are assigned to no case." in desk.inner_text("#cases")
        shot("home-empty")
        desk.goto(f"{base}/desk/inbox/")
        href = desk.get_attribute("main table a", "href")
        submission = re.fullmatch(r".*/desk/inbox/([^/]+)/", href or "")
        assert submission is not None, href
        code = submission.group(1)

        # 2. A case from the submission's page: the watchlisted phone raises a flag at once.
        desk.goto(f"{base}/desk/inbox/{code}/")
        _send(desk, "#open-case")
        assert desk.url == f"{base}/casework/new/?submission={code}"
        assert desk.input_value("#id_submission") == code
        desk.fill("#id_name", NAME)
        desk.fill("#id_contacts", f"{CONTACT}\n@asker_synthetic")
        desk.select_option("#id_risk", "critical")
        desk.check("input[name=needs][value=shelter]")
        desk.check("input[name=needs][value=travel]")
        shot("new-case", again=False)
        opened = _send(desk, "#new-case button[type=submit]")
        assert opened.status == 200
        assert desk.url == f"{base}/casework/C-0001/?opened=1"
        assert f"flag: {REASON}" in desk.inner_text("#opened")
        assert NAME in desk.inner_text("#summary")
        assert code in desk.inner_text("#summary")
        shot("opened", again=False)  # a second look would be a second audited read

        # 3. Verification: one signal is refused at the gate, with the gate's message.
        assert _stage(desk, "verification").status == 200
        assert "request → verification" in desk.inner_text("#transitions")
        _attest(desk, "referee", "signal: zarema (synthetic)")
        refused = _stage(desk, "safe")
        assert refused.status == 400
        error = desk.inner_text("#stage-form .errors")
        assert error.startswith("C-0001 cannot enter 'safe': 3 independent verification signals")
        assert "1 open provocation flag(s) raise the bar to 3" in error
        shot("gate-refused", again=False)
        # A second signal over another channel: two independent ones, and the flag still
        # asks for a third until a second caseworker clears it.
        _attest(desk, "callback", "+7 928 000 11 22")
        assert "2 recorded" in desk.inner_text("#gate")
        assert desk.locator("#attestations tbody tr").count() == 2
        assert _stage(desk, "safe").status == 400

        # 4. rita, not yet assigned, gets the very 404 of a case that does not exist.
        colleague = browser.new_context(
            java_script_enabled=False, viewport={"width": 1280, "height": 900}
        ).new_page()
        _sign_in(colleague, base, "rita", RITA_PASS, rita_totp)
        unassigned = colleague.goto(f"{base}/casework/C-0001/")
        unassigned_body = colleague.content()
        missing = colleague.goto(f"{base}/casework/C-0099/")
        assert (unassigned.status, missing.status) == (404, 404)
        assert unassigned_body == colleague.content()

        # 5. admin assigns rita and raises a flag by hand; rita sees the notice.
        desk.goto(f"{base}/casework/C-0001/")
        desk.select_option("#assign_user", "rita")
        desk.select_option("#assign_role", "logistics")  # she will hold the location
        _send(desk, "#assign-form button[type=submit]")
        assert "rita (logistics)" in desk.inner_text("#assignees")
        desk.click("#flag summary")  # no script: <details> opens without it
        desk.select_option("#flag_reason", "meet_in_person")
        desk.fill("#flag_note", "insists on a cafe in Grozny (synthetic)")
        _send(desk, "#flag-form button[type=submit]")
        flags = desk.inner_text("#flags")
        assert "Pushing to meet in person: insists on a cafe" in flags
        assert desk.locator("#flags li form").count() == 0  # admin raised both: not his to clear
        shot("flags")

        colleague.goto(f"{base}/casework/")
        assert "admin raised a flag on C-0001" in colleague.inner_text("#notices")
        assert "C-0001" in colleague.inner_text("#cases")
        _send(colleague, "#notices button[type=submit]")
        assert colleague.locator("#notices").count() == 0
        colleague.goto(f"{base}/casework/C-0001/")
        while colleague.locator("#flags li form").count():
            _send(colleague, "#flags li form button[type=submit]")
        assert colleague.inner_text("#flags").count("cleared") == 2
        _check(colleague)
        screenshot(colleague, f"casework-{shots + 1:02d}-cleared-desktop")
        shots += 1

        # 6. Two independent signals and no open flag: the case moves to safety.
        desk.goto(f"{base}/casework/C-0001/")
        assert desk.inner_text("#gate") == "The verification gate is passed."
        moved = _stage(desk, "safe")
        assert moved.status == 200
        assert "verification → safe" in desk.inner_text("#transitions")
        desk.goto(f"{base}/casework/")
        row = desk.locator("#cases tbody tr").first.inner_text()
        assert row.split("\t")[:5] == ["C-0001", "Safe", "Critical", "Shelter, Travel", "0"]
        shot("home")

        # 7. The watchlist page checks a contact in another written form.
        desk.goto(f"{base}/casework/watchlist/")
        desk.fill("#check_identifier", "8 928 555 12 34")
        _send(desk, "#check-form button[type=submit]")
        assert desk.inner_text("#check-result") == f"flag: {REASON}"
        shot("watchlist", again=False)

        # 8. rita, the logistics owner, fills the safe compartment: masked until a reveal.
        colleague.goto(f"{base}/casework/C-0001/")
        colleague.click("#fill summary")
        colleague.select_option("#fill_stage", "safe")
        colleague.fill("#fill_region", REGION)
        colleague.fill("#fill_address", ADDRESS)
        assert _send(colleague, "#fill-form button[type=submit]").status == 200
        assert ADDRESS not in colleague.content()
        assert "••••••" in colleague.inner_text("#compartments")
        refused = _send(colleague, "#reveal-form button[type=submit]")  # no reason given
        assert refused.status == 400
        assert colleague.inner_text("#reveal-form .errors").startswith("a reveal needs a reason")
        assert ADDRESS not in colleague.content()
        colleague.fill("#reveal_reason", WHY)
        revealed = _send(colleague, "#reveal-form button[type=submit]")
        assert revealed.status == 200
        assert "no-store" in revealed.headers["cache-control"]
        assert ADDRESS in colleague.inner_text("#compartments")
        assert colleague.locator("#revealed").count() == 1
        _check(colleague)
        screenshot(colleague, f"casework-{shots + 1:02d}-revealed-desktop")
        shots += 1

        # admin, told of the reveal, reads its reason but only the mask.
        desk.goto(f"{base}/casework/")
        assert "rita revealed the location of C-0001" in desk.inner_text("#notices")
        desk.goto(f"{base}/casework/C-0001/")
        assert ADDRESS not in desk.content()
        assert WHY in desk.inner_text("#reveals")

        # 9. The case moves on to exit: the safe compartment is destroyed, a tombstone stays.
        assert _stage(desk, "exit").status == 200
        assert "safe → exit" in desk.inner_text("#transitions")
        assert f"relocated / {REGION} (safe)" in desk.inner_text("#tombstones")
        shot("location-tombstone")

        # 10. admin enrols the person in check-ins; the code is shown on this page only.
        desk.click("#checkin summary")
        desk.fill("#checkin_every", "24")
        desk.fill("#checkin_grace", "60")
        desk.fill("#checkin_normal_answer", NORMAL)
        desk.fill("#checkin_duress_answer", DURESS)
        enrolled = _send(desk, "#checkin-form button[type=submit]")
        assert enrolled.status == 200
        checkin_code = desk.inner_text("#checkin-code").strip()
        assert re.fullmatch(r"[\d ]{16,19}", checkin_code), checkin_code
        assert checkin_code.replace(" ", "") not in desk.url
        shot("checkin-code", again=False)  # a second GET of a POST's address: no
        desk.goto(f"{base}/casework/C-0001/")
        assert "every 24 h, with 60 min of grace" in desk.inner_text("#checkins")
        assert checkin_code not in desk.content()

        # 11. The person, on a phone with JavaScript off, answers with the duress answer.
        person = phone_context(browser).new_page()
        person.goto(f"{base}/checkin/")
        person.fill("#id_code", checkin_code)
        person.fill("#id_answer", DURESS)
        assert _send(person, "button[type=submit]").status == 200
        assert person.inner_text("h1") == "Received"  # the same reply for every answer
        _check(person)
        screenshot(person, f"casework-{shots + 1:02d}-checkin-phone")
        shots += 1
        person.context.close()

        # 12. The escalation pass runs; admin sees the alert at the top tier and acts on it.
        ran = refugium(data, "checkins", "run")
        assert ran.returncode == 0, ran.stderr
        desk.goto(f"{base}/casework/")
        assert desk.inner_text("#alert-count") == "1 open check-in alert"
        _send(desk, "#alert-count a")
        assert desk.url == f"{base}/casework/alerts/"
        cells = desk.locator("#alerts tbody tr").first.inner_text().split("\t")
        assert cells[1:3] == ["C-0001", "Duress answer"], cells
        assert cells[4] == "3", cells  # a duress answer goes straight to the top tier
        shot("alert")
        _send(desk, "#alerts button:text-is('Acknowledge alert 1')")
        assert "admin" in desk.locator("#alerts tbody tr").first.inner_text()
        _send(desk, "#alerts button:text-is('Resolve alert 1')")
        assert desk.inner_text("#alerts tbody") == "No open alert."
        desk.goto(f"{base}/casework/")
        assert desk.inner_text("#alert-count") == "0 open check-in alerts"

    verified = refugium(data, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    entries = _audit(data)
    assert ("admin", "casework.stage", "case", "C-0001") in entries
    assert ("rita", "casework.flag_clear", "case", "C-0001") in entries
    for action in ("casework.location_fill", "casework.reveal", "casework.location_view"):
        assert ("rita", action, "case", "C-0001") in entries
    for action in ("casework.checkin_enrol", "casework.checkin_ack", "casework.checkin_resolve"):
        assert ("admin", action, "case", "C-0001") in entries
    log = (data / "audit.jsonl").read_text(encoding="utf-8")
    for secret in ("9285551234", "Аслан", "zarema", "asker_synthetic", "Grozny", "Синтетическая",
                   "border", "apricots", "river"):  # fmt: skip
        assert secret not in log
