"""report.html loads nothing from outside: every reference a browser would fetch is found."""

from __future__ import annotations

import pytest

from refugium.reports.selfcontained import external_references

DATA_PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ('<img alt="" src="https://example.org/t.png">', "<img src>: https://example.org/t.png"),
        ('<img alt="" src="//example.org/t.png">', "<img src>: //example.org/t.png"),
        ('<img alt="" src="chart.png">', "<img src>: chart.png"),
        ('<img alt="" src="file:///etc/passwd">', "<img src>: file:///etc/passwd"),
        ('<img alt="" src="">', "<img src>: "),
        (f'<img alt="" src="{DATA_PNG}" srcset="https://e.org/2x.png 2x">', "<img srcset>"),
        ('<link rel="stylesheet" href="https://e.org/s.css">', "<link href>: https://e.org/s.css"),
        ('<link rel="dns-prefetch" href="//e.org">', "<link href>: //e.org"),
        ('<link rel="icon" href="/favicon.ico">', "<link href>: /favicon.ico"),
        ("<script>alert(1)</script>", "<script>: not allowed"),
        ('<script src="data:text/javascript,1"></script>', "<script>: not allowed"),
        ('<iframe src="data:text/html,x"></iframe>', "<iframe>: not allowed"),
        ('<object data="https://e.org/x.swf"></object>', "<object>: not allowed"),
        ('<base href="https://e.org/">', "<base>: not allowed"),
        (
            '<meta http-equiv="Refresh" content="0; url=https://e.org/">',
            "<meta http-equiv=refresh>",
        ),
        ('<body onload="fetch(1)">', "<body onload>: event handlers"),
        ('<a href="javascript:fetch(1)">x</a>', "<a href>: javascript: URLs"),
        ('<a href="https://e.org/" ping="https://e.org/track">x</a>', "<a ping>"),
        ('<video poster="https://e.org/p.png"></video>', "<video poster>: https://e.org/p.png"),
        ('<video><source src="https://e.org/v.mp4"></video>', "<source src>"),
        ('<table background="https://e.org/bg.png"></table>', "<table background>"),
        ('<form action="https://e.org/collect"></form>', "<form action>"),
        ('<svg><image href="https://e.org/i.png"/></svg>', "<image href>: https://e.org/i.png"),
        ('<svg><use xlink:href="https://e.org/s.svg#a"/></svg>', "<use xlink:href>"),
        (
            "<style>body { background: url(https://e.org/bg.png) }</style>",
            "<style>: url(https://e.org/bg.png)",
        ),
        (
            "<style>body { background: URL( 'https://e.org/bg.png' ) }</style>",
            "<style>: url(https://e.org/bg.png)",
        ),
        (
            '<style>@import "https://e.org/more.css";</style>',
            "<style>: @import https://e.org/more.css",
        ),
        ("<style>@import url(more.css);</style>", "<style>: url(more.css)"),
        (
            '<style>@font-face { src: url("https://e.org/f.woff2") }</style>',
            "<style>: url(https://e.org/f.woff2)",
        ),
        ("<style>p { background: u\\72l(https://e.org/x) }</style>", "<style>: CSS escapes"),
        (
            '<p style="background-image: url(https://e.org/x.png)">x</p>',
            "<p style>: url(https://e.org/x.png)",
        ),
        (
            "<svg><style>rect { fill: url(https://e.org/p.svg#g) }</style></svg>",
            "<style>: url(https://e.org/p.svg#g)",
        ),
    ],
)
def test_external_references_are_found(html, problem):
    page = f"<!DOCTYPE html><html><head><title>R</title></head><body>{html}</body></html>"
    problems = external_references(page)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_self_contained_report_passes():
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>R</title>
    <style>
      body {{ font-family: "DejaVu Sans", sans-serif; }}
      .chart {{ background: url("{DATA_PNG}"); }}
      @import "data:text/css,p%7Bcolor:red%7D";
    </style></head><body>
    <h1 id="top">Report</h1>
    <a href="#methods">Methods</a>
    <a href="https://www.ohchr.org/en/documents">An OHCHR document (a link to follow)</a>
    <img alt="Counts by month" src="{DATA_PNG}">
    <svg role="img" aria-label="chart"><defs><linearGradient id="g"/></defs>
      <rect style="fill: url(#g)" width="10" height="10"/><use href="#g"/></svg>
    <h2 id="methods">Methods</h2>
    </body></html>"""
    assert external_references(html) == []


def test_long_references_are_shortened():
    problems = external_references(f'<img alt="" src="https://e.org/{"x" * 500}">')
    assert len(problems) == 1
    assert problems[0].endswith("…")
    assert len(problems[0]) < 120
