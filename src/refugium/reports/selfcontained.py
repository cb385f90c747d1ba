"""Is a report's HTML self-contained? Every reference a browser would load, found statically.

``report.html`` is opened by readers a state watches, on machines it may watch too. Anything
it loads from elsewhere (an image, a stylesheet, a font, a script, a prefetch) tells that
server who read the report, when and from where. So a report embeds everything as ``data:``
URIs, and a build refuses HTML that refers to anything else.

The PDF renderer's fetcher refuses the same at render time, but WeasyPrint ignores much of
what a browser loads (scripts, frames, ``srcset``, ``<link rel=prefetch>``, ``ping``), so the
HTML is checked on its own, strictly: what a report never needs is refused outright
(scripts, frames, event handlers, ``srcset``, ``<base>``, refresh), and every other loading
reference must be a ``data:`` URI or a fragment of the same document (``#methods``).
Links a reader must click (``<a href>``) may go anywhere: following one is the reader's
choice, and reports cite UN documents.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

__all__ = ["external_references"]

REFUSED_TAGS: Final = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"}
)
"""Elements a report never needs, each able to load or run something."""
LOADING_ATTRIBUTES: Final = frozenset(
    {
        "src",
        "poster",
        "data",
        "background",
        "action",
        "formaction",
        "manifest",
        "codebase",
        "archive",
        "lowsrc",
        "dynsrc",
        "longdesc",
        "profile",
    }
)
"""Attributes whose URL a browser fetches (or submits to) without the reader choosing to."""
REFUSED_ATTRIBUTES: Final = frozenset({"srcset", "imagesrcset", "ping"})
"""Loading attributes a report never needs (a ``srcset`` also hides data URIs' commas)."""
NAVIGATION_TAGS: Final = frozenset({"a", "area"})
"""Where ``href`` is a link to follow, not something loaded."""

_CSS_URL: Final = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.I)
_CSS_IMPORT: Final = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)
_CSS_ESCAPE: Final = re.compile(r"\\")
_MAX_SHOWN: Final = 80


def _embedded(url: str) -> bool:
    """A ``data:`` URI or a fragment of this document: nothing leaves the file."""
    url = url.strip()
    return url.startswith("#") or url[:5].lower() == "data:"


def _loads(tag: str, attribute: str) -> bool:
    """Whether a browser fetches this attribute's URL without the reader choosing to."""
    if attribute in ("href", "xlink:href"):
        return tag not in NAVIGATION_TAGS  # <link href>, SVG <image href>, <use href>
    return attribute in LOADING_ATTRIBUTES


def _short(url: str) -> str:
    url = url.strip()
    return url if len(url) <= _MAX_SHOWN else url[:_MAX_SHOWN] + "…"


def _css_problems(css: str, where: str) -> list[str]:
    problems: list[str] = []
    if _CSS_ESCAPE.search(css):
        # An escape can spell url( or @import so that no pattern sees it; reports need none.
        problems.append(f"{where}: CSS escapes (\\) are not allowed in a report")
    for match in _CSS_URL.finditer(css):
        url = next(group for group in match.groups() if group is not None)
        if not _embedded(url):
            problems.append(f"{where}: url({_short(url)})")
    for match in _CSS_IMPORT.finditer(css):
        url = match[1] if match[1] is not None else match[2]
        if not _embedded(url):
            problems.append(f"{where}: @import {_short(url)}")
    return problems


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        if tag == "style":
            self._in_style += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self._in_style:
            self._in_style -= 1

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.problems += _css_problems(data, "<style>")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in REFUSED_TAGS:
            self.problems.append(f"<{tag}>: not allowed in a report")
            return
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and values.get("http-equiv", "").strip().lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>: not allowed in a report")
        for name, value in values.items():
            where = f"<{tag} {name}>"
            if value.strip()[:11].lower() == "javascript:":
                self.problems.append(f"{where}: javascript: URLs are not allowed")
            elif name.startswith("on"):
                self.problems.append(f"{where}: event handlers (scripts) are not allowed")
            elif name in REFUSED_ATTRIBUTES:
                self.problems.append(f"{where}: not allowed in a report")
            elif name == "style":
                self.problems += _css_problems(value, where)
            elif _loads(tag, name) and not _embedded(value):
                self.problems.append(f"{where}: {_short(value)}")


def external_references(html: str) -> list[str]:
    """Every reference in ``html`` that would load something from outside the file, and
    every construct a report may not use, one line each (empty: self-contained)."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems
