"""The documentation database's researcher pages in Chromium, against a real server (issue 5,
"Done when"): an administrator signs in with passphrase and TOTP, creates an event, a place,
two persons, an act and an involvement through the forms (typing and pressing Enter, as a
researcher at a keyboard would), follows the links between them, finds a person by a name in
another script and spelling, opens their identifying details (an audited read), reads a
person's timeline, and sends a date the parser cannot read; a Russian-language browser types
a date in Russian. JavaScript is off (the pages use none). Every page is checked on a desktop
screen and a phone screen: form controls labelled, help and error texts present where
`aria-describedby` points, nothing wider than the screen. Screenshots go to
tests/artifacts/records-*.png for review."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.browser import chromium, phone_context, screenshot
from tests.cli_runner import refugium
from tests.live_server import running_server

ADMIN_PASS = "browser records admin passphrase"
CYRILLIC_NAME = "Зелимхан Хасуев"
LATIN_NAME = "Ruslan Testov"

# One evaluation in the page (Playwright's, not the page's own: the page runs no script)
# that lists what a screen-reader user would miss: controls with no label, descriptions that
# point at nothing, buttons and links with no text, and a page wider than the screen.
PROBLEMS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html has no lang");
  const controls = document.querySelectorAll(
    "input:not([type=hidden]), select, textarea");
  for (const c of controls) {
    const labels = c.id ? document.querySelectorAll(`label[for="${c.id}"]`) : [];
    const named = [...labels].some(l => l.textContent.trim()) || c.closest("label")
      || c.getAttribute("aria-label");
    if (!named) problems.push(`no label: ${c.name}`);
    for (const ref of (c.getAttribute("aria-describedby") || "").split(/\\s+/)) {
      if (ref && !document.getElementById(ref)) problems.push(`${c.name} describedby ${ref}`);
    }
  }
  for (const el of document.querySelectorAll("button, a")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) {
      problems.push(`no text: ${el.outerHTML.slice(0, 80)}`);
    }
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("not one h1");
  const wide = document.documentElement.scrollWidth;
  if (wide > window.innerWidth) problems.push(`page ${wide}px wide in ${window.innerWidth}px`);
  return problems;
}"""


def _organisation(data: Path) -> str:
    """`refugium init`: admin is on every desk. Returns admin's TOTP secret."""
    made = refugium(data, "init", "--passphrase-stdin", stdin=ADMIN_PASS + "\n")
    assert made.returncode == 0, made.stderr
    return re.search(r"secret=([A-Z2-7]+)", made.stdout).group(1)  # type: ignore[union-attr]


def _check(page: Any) -> None:
    assert page.evaluate(PROBLEMS) == []
    html = page.content().lower()
    assert "<script" not in html
    assert not re.search(r"\son[a-z]+=", html)


def _enter(page: Any, selector: str, text: str) -> Any:
    """Types ``text`` into the field and presses Enter: the form is sent as a keyboard user
    sends it. Returns the final response (after any redirect)."""
    page.focus(selector)
    page.keyboard.type(text)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def _code(page: Any, slug: str, prefix: str) -> str:
    """The code of the record whose page is open, checked against the URL and the heading."""
    match = re.fullmatch(rf".*/records/{slug}/({prefix}-\d{{4}})/", page.url)
    assert match is not None, page.url
    assert match.group(1) in page.inner_text("h1")
    return match.group(1)


def _created(page: Any, response: Any, slug: str, prefix: str) -> str:
    """After a form was sent: the POST was redirected to the new record's page (a GET that
    answered 200). Returns the new record's code."""
    sent = response.request.redirected_from
    assert sent is not None
    assert sent.method == "POST"
    assert re.fullmatch(rf"[^?]*/records/{slug}/new/(\?.*)?", sent.url), sent.url
    assert response.status == 200
    return _code(page, slug, prefix)


def _fields(page: Any) -> dict[str, str]:
    """The first `dl.fields` of a record page as {label: value}."""
    terms = page.locator("dl.fields").first.locator("dt").all_inner_texts()
    values = page.locator("dl.fields").first.locator("dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def _section(page: Any, heading: str) -> list[str]:
    """The codes linked under one "related records" heading of a record page."""
    section = page.locator("main section").filter(
        has=page.get_by_role("heading", name=heading, exact=True)
    )
    return section.locator("li > a").all_inner_texts()


def _timeline(page: Any) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("#timeline > li").all_inner_texts()]


def _audit(data: Path) -> list[tuple[str, str, str, str]]:
    lines = (data / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return [
        (b["actor"], b["action"], b["object"]["type"], b["object"]["id"])
        for b in (json.loads(line)["body"] for line in lines)
    ]


@pytest.mark.slow
def test_create_link_search_and_timeline_in_chromium(tmp_path):
    data = tmp_path / "data"
    totp = _organisation(data)
    with running_server(data, tmp_path / "server.log") as base, chromium() as browser:
        desk = browser.new_context(
            java_script_enabled=False, viewport={"width": 1280, "height": 900}
        ).new_page()
        desk.context.set_default_timeout(10_000)
        desk.goto(f"{base}/accounts/login/")
        desk.fill("#id_username", "admin")
        desk.fill("#id_passphrase", ADMIN_PASS)
        desk.focus("#id_code")
        desk.keyboard.type(factories.totp_code(totp))
        with desk.expect_navigation():
            desk.keyboard.press("Enter")
        assert desk.url == f"{base}/desk/"
        # The same session on a phone screen, to look at every page there as well.
        phone = phone_context(browser, storage_state=desk.context.storage_state()).new_page()
        shots = 0

        def shot(name: str, *, again: bool = True) -> None:
            """Checks and photographs the open page on the desktop, then (``again``) opens
            the same address on the phone and does the same there."""
            nonlocal shots
            shots += 1
            _check(desk)
            screenshot(desk, f"records-{shots:02d}-{name}-desktop")
            if again:
                phone.goto(desk.url)
                _check(phone)
                screenshot(phone, f"records-{shots:02d}-{name}-phone")

        # 1. Create: an event, ...
        desk.goto(f"{base}/records/")
        shot("events-empty")
        desk.click("main >> text=New")
        assert desk.url == f"{base}/records/events/new/"
        shot("event-form")
        desk.select_option("#id_region", "ru-ce")
        desk.focus("#id_title")
        desk.keyboard.type("Detentions in Argun (synthetic)")
        desk.keyboard.press("Tab")
        assert desk.evaluate("document.activeElement.id") == "id_when"
        event = _created(desk, _enter(desk, "#id_when", "late February 2017"), "events", "E")
        assert _fields(desk) == {
            "Region": "Chechen Republic",
            "Status": "Draft",
            "Months": "2017-02",
            "Title": "Detentions in Argun (synthetic)",
            "When": "21–28 February 2017",
        }
        shot("event")

        # ... a place, ...
        desk.goto(f"{base}/records/places/new/")
        desk.select_option("#id_kind", "unofficial-detention")
        desk.select_option("#id_region", "ru-ce")
        sent = _enter(desk, "#id_name", "Basement of a sports hall (synthetic)")
        place = _created(desk, sent, "places", "L")
        fields = _fields(desk)
        assert fields["Kind"] == "Unofficial (secret) detention facility"
        assert fields["Region"] == "Chechen Republic"
        shot("place")

        # ... two persons, one named in Cyrillic, ...
        desk.goto(f"{base}/records/persons/new/")
        shot("person-form")
        desk.select_option("#id_sex", "male")
        victim = _created(desk, _enter(desk, "#id_full_name", CYRILLIC_NAME), "persons", "P")
        assert "Хасуев" not in desk.inner_text("main")  # a name shows only when asked for
        desk.goto(f"{base}/records/persons/new/")
        sent = _enter(desk, "#id_full_name", LATIN_NAME)
        perpetrator = _created(desk, sent, "persons", "P")
        assert perpetrator != victim

        # ... an act from the event's page, the event already filled in, ...
        desk.goto(f"{base}/records/events/{event}/")
        desk.click("text=Add an act")
        assert desk.input_value("#id_event") == event
        desk.focus("#id_victim")
        desk.keyboard.type(victim)
        desk.keyboard.press("Tab")
        desk.keyboard.type(place)
        desk.select_option("#id_act_type", "detention")
        shot("act-form", again=False)
        act = _created(desk, _enter(desk, "#id_when", "late February 2017"), "acts", "A")
        fields = _fields(desk)
        assert (fields["Event"], fields["Victim"], fields["Place"]) == (event, victim, place)
        assert fields["Type of act"] == "Detention, imprisonment"
        assert fields["When"] == "21–28 February 2017"
        shot("act")

        # ... and a perpetrator's involvement in it, from the act's page.
        desk.click("text=Add a perpetrator's involvement")
        assert desk.input_value("#id_act") == act
        desk.select_option("#id_perpetrator_type", "police")
        sent = _enter(desk, "#id_perpetrator", perpetrator)
        involvement = _created(desk, sent, "involvements", "V")
        fields = _fields(desk)
        assert (fields["Act"], fields["Perpetrator"]) == (act, perpetrator)
        assert fields["Type of perpetrator"] == "Police"
        shot("involvement")

        # The links lead where they say, and each linked record lists what links to it.
        desk.click(f"dl.fields >> text={act}")
        assert _code(desk, "acts", "A") == act
        assert _section(desk, "Involvements (act)") == [involvement]
        desk.click(f"dl.fields >> text={event}")
        assert _code(desk, "events", "E") == event
        assert _section(desk, "Acts (event)") == [act]
        shot("event-with-act")
        desk.goto(f"{base}/records/acts/{act}/")
        desk.click(f"dl.fields >> text={place}")
        assert _code(desk, "places", "L") == place
        assert _section(desk, "Acts (place)") == [act]
        desk.goto(f"{base}/records/involvements/{involvement}/")
        desk.click(f"dl.fields >> text={perpetrator}")
        assert _code(desk, "persons", "P") == perpetrator
        assert _section(desk, "Involvements (perpetrator)") == [involvement]
        desk.goto(f"{base}/records/acts/{act}/")
        desk.click(f"dl.fields >> text={victim}")
        assert _code(desk, "persons", "P") == victim
        assert _section(desk, "Acts (victim)") == [act]
        shot("victim")

        # 2. Search by name in another script and spelling: the results show codes only.
        for query in ("Khasuev", "Хасуев", "KHASUYEV"):
            desk.goto(f"{base}/records/persons/")
            _enter(desk, "#id_q", query)
            rows = desk.locator("main table tbody tr")
            assert rows.count() == 1, query
            assert rows.locator("a").all_inner_texts() == [victim]
            assert "Хасуев" not in desk.inner_text("main table")
            assert "Зелимхан" not in desk.content()
        shot("search")
        desk.goto(f"{base}/records/persons/")
        _enter(desk, "#id_q", "Testov")
        assert desk.locator("main table tbody a").all_inner_texts() == [perpetrator]
        desk.goto(f"{base}/records/persons/")
        _enter(desk, "#id_q", "Nobody Atall")
        assert "No one by that name." in desk.inner_text("main table")

        desk.goto(f"{base}/records/persons/?q=Khasuev")
        desk.click(f"main table >> text={victim}")
        assert _code(desk, "persons", "P") == victim
        assert "Хасуев" not in desk.inner_text("main")
        desk.click("#reveal")
        assert desk.url == f"{base}/records/persons/{victim}/identity/"
        identity = desk.locator("section.identity dl.fields")
        assert identity.locator("dd").first.inner_text() == CYRILLIC_NAME
        shot("identity", again=False)  # a second look would be a second audited read

        # 3. A second act against the same person, a year earlier, from the person's page.
        desk.goto(f"{base}/records/persons/{victim}/")
        desk.click("text=Add an act against this person")
        assert desk.input_value("#id_victim") == victim
        desk.focus("#id_event")
        desk.keyboard.type(event)
        desk.select_option("#id_act_type", "arrest")
        second_act = _created(desk, _enter(desk, "#id_when", "12 March 2016"), "acts", "A")
        assert _fields(desk)["Months"] == "2016-03"
        desk.goto(f"{base}/records/persons/{victim}/")
        assert sorted(_section(desk, "Acts (victim)")) == [act, second_act]
        desk.click("text=Timeline")
        assert desk.url == f"{base}/records/persons/{victim}/timeline/"
        assert _timeline(desk) == [
            f"12 March 2016 · {second_act} victim · Arrest · {event} · {victim}",
            f"21–28 February 2017 · {act} victim · Detention, imprisonment · {event} · "
            f"{victim} · {place}",
        ]
        shot("timeline")
        desk.goto(f"{base}/records/persons/{perpetrator}/timeline/")
        assert _timeline(desk) == [
            f"21–28 February 2017 · {act} perpetrator · Detention, imprisonment · {event} · "
            f"{victim} · {place} · {involvement}",
        ]
        desk.goto(f"{base}/records/events/")
        assert desk.locator("main table tbody tr").count() == 1
        shot("events")

        # 4. A date the parser cannot read: the form comes back with the error beside the
        # field and what was typed still in it; nothing is saved. The same for a code that
        # names no record.
        for page, screen in ((desk, "desktop"), (phone, "phone")):
            page.goto(f"{base}/records/events/new/")
            page.fill("#id_title", "Never saved (synthetic)")
            refused = _enter(page, "#id_when", "the week after the wedding")
            assert refused.status == 400
            assert page.url == f"{base}/records/events/new/"
            field = page.locator(".field").filter(has=page.locator("#id_when"))
            # The error, beside its field, begins with what went wrong, not a field key.
            assert field.locator(".errors").inner_text().startswith("cannot read this date")
            assert page.get_attribute("#id_when", "aria-invalid") == "true"
            assert "id_when_error" in page.get_attribute("#id_when", "aria-describedby")
            assert page.input_value("#id_when") == "the week after the wedding"
            assert page.input_value("#id_title") == "Never saved (synthetic)"
            _check(page)
            screenshot(page, f"records-{shots + 1:02d}-bad-date-{screen}")
        shots += 1
        desk.goto(f"{base}/records/acts/new/")
        desk.fill("#id_victim", victim)
        refused = _enter(desk, "#id_event", "E-9999")
        assert refused.status == 400
        field = desk.locator(".field").filter(has=desk.locator("#id_event"))
        assert field.locator(".errors").inner_text() == "no event with that code"
        assert desk.input_value("#id_victim") == victim
        shot("bad-code", again=False)
        desk.goto(f"{base}/records/events/")
        assert desk.locator("main table tbody a").all_inner_texts() == [event]
        assert "Never saved" not in desk.content()
        desk.goto(f"{base}/records/acts/")
        assert sorted(desk.locator("main table tbody td:first-child a").all_inner_texts()) == [
            act,
            second_act,
        ]

        # 5. A browser that asks for Russian. Researcher pages have no /ru/ prefix, and
        # Django's LocaleMiddleware gives every unprefixed path LANGUAGE_CODE when
        # i18n_patterns(prefix_default_language=False) is in use (web/urls.py, for the
        # reporter pages), so they are English whatever Accept-Language says; `lang` must
        # say so for screen readers. A date typed in Russian is read all the same.
        russian = browser.new_context(
            java_script_enabled=False,
            viewport={"width": 390, "height": 760},
            locale="ru-RU",
            storage_state=desk.context.storage_state(),
        ).new_page()
        russian.goto(f"{base}/records/events/new/")
        assert russian.locator("html").get_attribute("lang") == "en"
        russian.select_option("#id_region", "ru-ce")
        russian.fill("#id_title", "Задержания в Аргуне (синтетические)")
        sent = _enter(russian, "#id_when", "конец февраля 2017")
        assert _created(russian, sent, "events", "E") != event
        assert _fields(russian)["When"] == "21–28 February 2017"
        _check(russian)
        screenshot(russian, f"records-{shots + 1:02d}-russian-date-phone")
        russian.click("text=Edit")
        assert russian.input_value("#id_when") == "конец февраля 2017"  # the words kept

    verified = refugium(data, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Audit log intact:")
    entries = _audit(data)
    assert entries.count(("admin", "records.read", "person", victim)) == 1
    assert ("admin", "records.read", "person", perpetrator) not in entries
    log = (data / "audit.jsonl").read_text(encoding="utf-8")
    assert "Хасуев" not in log
    assert "Khasuev" not in log
