"""The report PDF: Cyrillic text, page numbers and a table of contents that pdftotext reads
back, tagged headings, and no external asset ever fetched."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject
from weasyprint import HTML

from refugium.reports import pdf
from refugium.reports.pdf import ExternalAsset, OfflineFetcher

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _png() -> str:
    """A small PNG: the one kind of asset a report may carry, embedded as data."""
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


PIXEL = _png()

REPORT = f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Доклад</title>
<style>h2 {{ break-before: page; }}</style></head>
<body>
<h1>Задержания в Чеченской Республике</h1>
{pdf.TOC_PLACEHOLDER}
<p>Доклад о задержаниях. Report on detentions.</p>
<h2>Волны задержаний</h2>
<p>Конец февраля, пауза, середина марта.</p>
<img alt="пиксель" src="data:image/png;base64,{PIXEL}">
<h3 id="methods">Methods and assumptions</h3>
<p>Three lists overlap.</p>
<h2>Источники</h2>
<p>Sources by type and reliability.</p>
</body></html>"""


@pytest.fixture(scope="module")
def rendered() -> tuple[str, bytes]:
    html = pdf.table_of_contents(REPORT, "Содержание")
    return html, pdf.html_to_pdf(html)


def test_pdf_is_a4_with_cyrillic_text(rendered):
    _, document = rendered
    assert document.startswith(b"%PDF-")
    # A4 is 595 x 842 points.
    for page in PdfReader(io.BytesIO(document)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = pdf.pdf_text(document)
    assert "Задержания в Чеченской Республике" in text
    assert "Конец февраля, пауза, середина марта." in text
    assert "Report on detentions." in text


def test_every_page_is_numbered(rendered):
    _, document = rendered
    pages = pdf.pdf_text(document).split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) == 3  # the title page with the contents, then one page per h2
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"^\s*{number}\s*/\s*3\s*$", page, re.M), page


def test_table_of_contents_gives_each_heading_its_page(rendered):
    html, document = rendered
    assert [h.text for h in pdf.headings(html)] == [
        "Волны задержаний",
        "Methods and assumptions",
        "Источники",
    ]
    first_page = pdf.pdf_text(document).split("\f")[0]
    assert "Содержание" in first_page
    assert re.search(r"Волны задержаний[ .]*2\s*$", first_page, re.M), first_page
    assert re.search(r"Methods and assumptions[ .]*2\s*$", first_page, re.M), first_page
    assert re.search(r"Источники[ .]*3\s*$", first_page, re.M), first_page


def test_table_of_contents_keeps_ids_and_adds_missing_ones():
    html = pdf.table_of_contents(
        "<h1>T</h1><h2>A &amp; B</h2><h3 id='x'>C</h3><h2 class=k>D</h2>", "Contents"
    )
    assert [(h.level, h.id, h.text) for h in pdf.headings(html)] == [
        (2, "toc-1", "A & B"),
        (3, "x", "C"),
        (2, "toc-2", "D"),
    ]
    assert html.startswith('<h1>T</h1><nav class="toc" aria-label="Contents">')
    assert '<a href="#toc-1">A &amp; B</a>' in html
    # Without a placeholder or an h1, the contents open the body.
    assert pdf.table_of_contents("<body><h2>A</h2></body>", "C").startswith(
        '<body><nav class="toc"'
    )


def _structure_types(node: object, found: list[str]) -> list[str]:
    """Every structure element type (/S) in the tagged PDF's tree, depth first."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, DictionaryObject):
        if "/S" in node:
            found.append(str(node["/S"]))
        kids = node.get("/K")
        if kids is not None:
            _structure_types(kids, found)
    elif isinstance(node, ArrayObject):
        for kid in node:
            _structure_types(kid, found)
    return found


def test_headings_are_tagged(rendered):
    _, document = rendered
    reader = PdfReader(io.BytesIO(document))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]) == "ru"
    types = _structure_types(root["/StructTreeRoot"], [])
    assert types.count("/H1") == 1
    assert types.count("/H2") == 2
    assert types.count("/H3") == 1
    # And the headings are bookmarks, the outline a PDF reader shows beside the pages.
    assert [item.title for item in reader.outline if not isinstance(item, list)][:1] == [
        "Задержания в Чеченской Республике"
    ]


@pytest.mark.parametrize(
    "asset",
    [
        '<img alt="x" src="https://example.org/track.png">',
        '<link rel="stylesheet" href="https://example.org/style.css">',
        "<style>@import url('http://example.org/more.css');</style>",
        "<style>body { background: url('https://example.org/bg.png'); }</style>",
        '<style>@font-face { font-family: X; src: url("https://example.org/x.woff2"); }'
        "body { font-family: X; }</style>",
        '<img alt="x" src="file:///etc/passwd">',
        '<img alt="x" src="chart.png">',
    ],
)
def test_external_assets_are_never_fetched(asset, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    # Were the refusal to fail, urllib would be reached: make that fail the test loudly.
    monkeypatch.setattr("urllib.request.OpenerDirector.open", no_network)
    html = f"<html><head>{asset}</head><body><h1>Report</h1>{asset}</body></html>"
    # The HTML is refused before rendering ...
    with pytest.raises(ExternalAsset, match="external reference"):
        pdf.html_to_pdf(html, base_url="file:///tmp/report/")
    # ... and were it rendered anyway, the fetcher would refuse each asset and record it.
    fetcher = OfflineFetcher()
    HTML(string=html, base_url="file:///tmp/report/", url_fetcher=fetcher).write_pdf()
    assert fetcher.refused
    assert all(not url.startswith("data:") for url in fetcher.refused)


def test_what_the_fetcher_refused_refuses_the_document(monkeypatch):
    """Defence in depth: a reference the static check missed still fails the build."""
    monkeypatch.setattr(pdf, "external_references", lambda html: [])
    html = '<html><body><h1>R</h1><img alt="x" src="https://example.org/t.png"></body></html>'
    fetcher = OfflineFetcher()
    with pytest.raises(ExternalAsset, match="external asset"):
        pdf.html_to_pdf(html, fetcher=fetcher)
    assert fetcher.refused == ["https://example.org/t.png"]


def test_data_uris_are_allowed():
    fetcher = OfflineFetcher()
    html = f'<html><body><h1>R</h1><img alt="p" src="data:image/png;base64,{PIXEL}"></body></html>'
    assert pdf.html_to_pdf(html, fetcher=fetcher).startswith(b"%PDF-")
    assert fetcher.refused == []


def test_a_page_as_png_for_people_to_look_at(rendered):
    _, document = rendered
    png = pdf.pdf_page_png(document, 1, dpi=60)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01  # A4, portrait
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "pdf-toolchain-page-1.png").write_bytes(png)
    (ARTIFACTS / "pdf-toolchain-page-2.png").write_bytes(pdf.pdf_page_png(document, 2, dpi=60))
