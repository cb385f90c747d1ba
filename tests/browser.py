"""Debian's Chromium driven by Playwright, as the browser tests use it.

Playwright can't download browsers here; it launches /usr/bin/chromium with the flags that
keep it off the network (it would otherwise try Google's hosts at every start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@contextmanager
def chromium() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/bootstrap --test"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def phone_context(browser: Any, **options: Any) -> Any:
    """A small phone screen with JavaScript off, as Tor Browser's Safest level runs."""
    return browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 760}, **options
    )


def screenshot(page: Any, name: str) -> None:
    """Saved under tests/artifacts/ (not committed) for a person to review."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
