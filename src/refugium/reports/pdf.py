"""The report as a PDF: WeasyPrint, A4, page numbers, a table of contents, tagged headings.

A report is read by people a state would like to identify, and often opened on machines it
watches, so the PDF is made without network access: the URL fetcher refuses everything but
``data:`` URIs (charts are embedded as data), records what it refused, and a document that
asked for anything else is refused as a whole (:class:`ExternalAsset`) instead of being
rendered without the asset: an external reference in a report is a bug to fix in the
template, and the same reference in ``report.html`` would tell a server who opened it.

The table of contents uses CSS Generated Content for Paged Media: each entry is a link to a
heading, and ``target-counter(attr(href), page)`` fills in the page the heading landed on, so
the numbers are right after layout without a second pass. Headings are tagged
(``pdf_tags``), so screen readers and PDF/UA checkers see the document's structure.

``pdf_text`` and ``pdf_page_png`` run Debian's poppler-utils (``pdftotext``, ``pdftoppm``):
the tests read the PDF back as a reader's tools would, and the page images are what a person
looks at before a report goes out.
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from refugium.errors import RefugiumError
from refugium.reports.selfcontained import external_references

__all__ = [
    "PRINT_CSS",
    "ExternalAsset",
    "Heading",
    "OfflineFetcher",
    "headings",
    "html_to_pdf",
    "pdf_page_png",
    "pdf_text",
    "table_of_contents",
]

TOOL_TIMEOUT: Final = 120
TOC_PLACEHOLDER: Final = '<nav class="toc"></nav>'

PRINT_CSS: Final = """
@page {
  size: A4;
  margin: 22mm 20mm 24mm 20mm;
  @bottom-center {
    content: counter(page) " / " counter(pages);
    font-family: "DejaVu Sans", sans-serif;
    font-size: 9pt;
    color: #444;
  }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.4; }
h1 { bookmark-level: 1; font-size: 20pt; }
h2 { bookmark-level: 2; font-size: 15pt; break-after: avoid; }
h3 { bookmark-level: 3; font-size: 12pt; break-after: avoid; }
table { border-collapse: collapse; break-inside: auto; }
tr, img, figure { break-inside: avoid; }
nav.toc ol { list-style: none; padding: 0; }
nav.toc li.toc-3 { padding-left: 1.5em; }
nav.toc a { color: inherit; text-decoration: none; }
nav.toc a::after { content: leader(".") " " target-counter(attr(href), page); }
"""
"""The print layout every report gets, after its own styles: A4, "page / pages" in the
footer, headings as PDF bookmarks, and the page numbers of the table of contents."""


class ExternalAsset(RefugiumError):
    """The document asked for something that is not embedded (a URL, a file)."""

    code = "external_asset"


class OfflineFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
    """A URL fetcher that serves ``data:`` URIs and refuses everything else, recording it.

    WeasyPrint turns a fetcher's exception into a warning and renders on without the asset;
    :func:`html_to_pdf` reads :attr:`refused` afterwards and refuses the document.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url[:5].lower() == "data:":
            return super().fetch(url, headers)
        self.refused.append(url)
        raise ValueError("refugium reports load no external assets; embed it as a data: URI")


def html_to_pdf(
    html: str, base_url: str | None = None, *, fetcher: OfflineFetcher | None = None
) -> bytes:
    """The PDF of a self-contained HTML document (A4, page numbers, tagged headings).

    The HTML is checked first (:func:`~refugium.reports.selfcontained.external_references`),
    then rendered with :class:`OfflineFetcher`, which refuses what the check might miss.
    ``base_url`` only resolves relative references; whatever they resolve to is refused
    unless it is a ``data:`` URI. Put :data:`TOC_PLACEHOLDER` in the document and pass it
    through :func:`table_of_contents` first for a table of contents.

    Raises:
        ExternalAsset: the document referred to anything not embedded (nothing is returned).
    """
    problems = external_references(html)
    if problems:
        count = len(problems)
        raise ExternalAsset(
            f"the report has {count} external reference{'s' if count != 1 else ''} "
            f"(first: {problems[0]}); a report must embed everything"
        )
    fetcher = fetcher if fetcher is not None else OfflineFetcher()
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(
        stylesheets=[CSS(string=PRINT_CSS, url_fetcher=fetcher)],
        pdf_tags=True,
    )
    if fetcher.refused:
        count = len(fetcher.refused)
        raise ExternalAsset(
            f"the report refers to {count} external asset{'s' if count != 1 else ''} "
            f"(first: {fetcher.refused[0][:80]}); a report must embed everything"
        )
    return pdf


# --- The table of contents ----------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


_HEADING_TAG = re.compile(r"<(h[23])(\s[^<>]*)?>", re.IGNORECASE)
_ID_ATTR = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


class _Headings(HTMLParser):
    """Collects the ``h2``/``h3`` headings with their ids and text, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Heading] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            self._open = (int(tag[1]), dict(attrs).get("id") or "")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._open is not None:
            level, ident = self._open
            text = " ".join("".join(self._text).split())
            if ident and text:
                self.found.append(Heading(level, ident, text))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)


def headings(html: str) -> list[Heading]:
    """The document's ``h2`` and ``h3`` headings that carry an id."""
    parser = _Headings()
    parser.feed(html)
    parser.close()
    return parser.found


def table_of_contents(html: str, title: str) -> str:
    """``html`` with every ``h2``/``h3`` given an id (``toc-N``) where it has none and a
    table of contents put in place of :data:`TOC_PLACEHOLDER` (or, without one, after the
    first ``</h1>``). The page numbers are filled in by :data:`PRINT_CSS` at layout."""
    counter = 0

    def add_id(match: re.Match[str]) -> str:
        nonlocal counter
        attrs = match[2] or ""
        if _ID_ATTR.search(attrs):
            return match[0]
        counter += 1
        return f'<{match[1]} id="toc-{counter}"{attrs}>'

    html = _HEADING_TAG.sub(add_id, html)
    items = "".join(
        f'<li class="toc-{h.level}"><a href="#{html_lib.escape(h.id)}">'
        f"{html_lib.escape(h.text)}</a></li>"
        for h in headings(html)
    )
    nav = (
        f'<nav class="toc" aria-label="{html_lib.escape(title)}">'
        f'<p class="toc-title"><strong>{html_lib.escape(title)}</strong></p>'
        f"<ol>{items}</ol></nav>"
    )
    if TOC_PLACEHOLDER in html:
        return html.replace(TOC_PLACEHOLDER, nav, 1)
    end = html.lower().find("</h1>")
    if end >= 0:
        end += len("</h1>")
        return html[:end] + nav + html[end:]
    body = re.search(r"<body[^>]*>", html, re.IGNORECASE)
    at = body.end() if body else 0
    return html[:at] + nav + html[at:]


# --- Reading a PDF back (poppler-utils) ----------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The text ``pdftotext`` extracts (UTF-8, layout kept), as a reader's tools see it."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],  # noqa: S607 (Debian's poppler-utils)
        input=pdf,
        capture_output=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RefugiumError(f"pdftotext failed: {result.stderr.decode(errors='replace')[:200]}")
    return result.stdout.decode("utf-8")


def pdf_page_png(pdf: bytes, page: int = 1, *, dpi: int = 100) -> bytes:
    """One page (from 1) rendered as PNG by ``pdftoppm``, to look at before publishing."""
    with tempfile.TemporaryDirectory(prefix="refugium-pdf-") as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(pdf)
        stem = Path(tmp) / "page"
        command = ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page)]
        command += ["-singlefile", str(source), str(stem)]
        result = subprocess.run(  # noqa: S603 (our arguments, no shell)
            command, capture_output=True, timeout=TOOL_TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise RefugiumError(f"pdftoppm failed: {result.stderr.decode(errors='replace')[:200]}")
        return stem.with_suffix(".png").read_bytes()
