"""The report renderer: self-contained, escaped, suppressed cells never shown as numbers,
byte-identical renders, a PDF that reads back with its title, captions and page numbers, and a
Russian build without English interface strings.

Sample reports are built with the real core (``definition.parse``, ``Table.one_way`` /
``two_way`` / ``margin`` and ``protect``), in the shape of the report contract; the page
images go to tests/artifacts/ to be looked at.
"""

from __future__ import annotations

import copy
import hashlib
import re
import string
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import refugium
from refugium.errors import BadInput
from refugium.reports import Axis, Table, dumps
from refugium.reports.catalogue import CATALOGUE
from refugium.reports.definition import parse
from refugium.reports.pdf import pdf_page_png, pdf_text
from refugium.reports.render import FORMAT, MARK, render, render_html
from refugium.reports.selfcontained import external_references

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

DEFINITION = parse(
    """
k = 5
date_grain = "week"
place_grain = "region"

[title]
en = "Detentions in the Chechen Republic, spring 2017"
ru = "Задержания в Чеченской Республике, весна 2017"

[period]
from = "2017-02"
to = "2017-05"

[sections]
estimates = ["loglinear", "lcmcr", "dga"]
"""
)

# Two waves: late February to early March, then late March to April, a pause between.
WEEKS = [f"2017-W{w:02d}" for w in range(5, 23)]
WAVE_COUNTS = [0, 1, 2, 14, 22, 9, 3, 0, 1, 17, 25, 12, 2, 0, 0, 6, 11, 3]

WORDS = {
    "en": {
        "week": "Week",
        "person": "Person 3",
        "act_type": "Act type",
        "item": "Item 1",
        "region": "Region",
        "places": {"ru-ce": "Chechen Republic", "ru-in": "Ingushetia", "ru-da": "Dagestan"},
        "acts": {"arrest": "Arrest", "detention": "Detention", "torture": "Torture"},
        "type": "Source type",
        "types": {"witness": "Witness", "victim": "Victim", "media": "Media"},
        "reliability": "Reliability",
        "levels": {"high": "High", "medium": "Medium", "low": "Low"},
        "wave": ("Acts by week", "Acts by week of the act, over the period."),
        "place": ("Acts by region", "Acts by region where they took place."),
        "act": ("Acts by type", "Acts by their type."),
        "sources": ("Sources by type and reliability", "Sources by type and reliability."),
        "alt": "A line by week with two peaks, late February and late March, and a pause.",
        "summary": "He was held for twelve days and beaten; released after his family paid.",
        "note": "Dates before February are too coarse for the weekly series and left out.",
        "assumptions": "The lists are independent once the modelled interactions are allowed.",
        "warning": "Few persons appear on all three lists; the interval is wide.",
        "linkage": "Reports were linked to persons by the desk's reviewed links.",
        "timeline": "Detentions begin in Argun.",
    },
    "ru": {
        "week": "Неделя",
        "person": "Лицо 3",
        "act_type": "Вид деяния",
        "item": "Материал 1",
        "region": "Регион",
        "places": {"ru-ce": "Чеченская Республика", "ru-in": "Ингушетия", "ru-da": "Дагестан"},
        "acts": {"arrest": "Арест", "detention": "Задержание", "torture": "Пытки"},
        "type": "Тип источника",
        "types": {"witness": "Свидетель", "victim": "Пострадавший", "media": "СМИ"},
        "reliability": "Надёжность",
        "levels": {"high": "Высокая", "medium": "Средняя", "low": "Низкая"},
        "wave": ("Деяния по неделям", "Деяния по неделе, когда они произошли."),
        "place": ("Деяния по регионам", "Деяния по региону, где они произошли."),
        "act": ("Деяния по типу", "Деяния по их типу."),
        "sources": ("Источники по типу и надёжности", "Источники по типу и надёжности."),
        "alt": "Линия по неделям с двумя пиками, в конце февраля и в конце марта, и паузой.",
        "summary": "Его держали двенадцать дней и избивали; отпустили после выкупа.",
        "note": "Даты до февраля слишком грубы для недельного ряда и не учтены.",
        "assumptions": "Списки независимы с учётом смоделированных взаимодействий.",
        "warning": "Немногие люди есть во всех трёх списках; интервал широк.",
        "linkage": "Сообщения связаны с людьми по проверенным связям группы.",
        "timeline": "Начало задержаний в Аргуне.",
    },
}


def _table_json(table: Table, caption: str, chart: str | None, alt: str) -> dict[str, Any]:
    return table.to_json() | {"caption": caption, "chart": chart, "alt": alt}


def sample_report(language: str = "en") -> dict[str, Any]:
    """A report dict as the compiler writes it, from synthetic counts and the real core."""
    w = WORDS[language]
    weeks = Axis("week", w["week"], tuple(WEEKS), tuple(WEEKS))
    by_wave = Table.one_way("by_wave", w["wave"][0], weeks, WAVE_COUNTS).protect(DEFINITION.k)
    places = Axis.of("region", w["region"], w["places"])
    acts = Axis.of("act_type", w["act_type"], w["acts"])
    place_by_act = Table.two_way(
        "place_by_act", "", places, acts, [[40, 31, 19], [6, 2, 1], [3, 4, 0]]
    ).protect(DEFINITION.k)
    by_place = place_by_act.margin("rows", "by_place", w["place"][0])
    by_act = place_by_act.margin("columns", "by_act_type", w["act"][0])
    sources = Table.two_way(
        "sources_by_type",
        w["sources"][0],
        Axis.of("type", w["type"], w["types"]),
        Axis.of("reliability", w["reliability"], w["levels"]),
        [[12, 7, 2], [20, 9, 1], [3, 8, 14]],
    ).protect(DEFINITION.k)
    return {
        "format": FORMAT,
        "software": {"name": "refugium", "version": refugium.__version__},
        "language": language,
        "title": DEFINITION.title_in(language),
        "definition": DEFINITION.to_json(),
        "parameters": {
            "k": DEFINITION.k,
            "date_grain": DEFINITION.date_grain,
            "place_grain": DEFINITION.place_grain,
            "noise": None,
        },
        "period": DEFINITION.period.to_dict(),
        "tables": [
            _table_json(by_wave, w["wave"][1], "line", w["alt"]),
            _table_json(by_place, w["place"][1], "bar", w["alt"]),
            _table_json(by_act, w["act"][1], "bar", w["alt"]),
            _table_json(sources, w["sources"][1], "bar", w["alt"]),
        ],
        "unique_victims": {
            "reports": {"count": 131},
            "victims": {"count": 94},
            "note": w["linkage"],
        },
        "estimates": [
            {
                "method": "loglinear",
                "stratum": None,
                "estimate": 212.4,
                "interval": [150.2, 341.9],
                "level": 0.95,
                "observed": 94,
                "assumptions": w["assumptions"],
                "warnings": [w["warning"]],
            },
            {
                "method": "lcmcr",
                "stratum": None,
                "estimate": 240.0,
                "interval": None,
                "level": 0.95,
                "observed": 94,
                "assumptions": w["assumptions"],
                "warnings": [w["warning"]],
            },
            {
                "method": "dga",
                "stratum": None,
                "estimate": None,
                "interval": None,
                "level": 0.95,
                "observed": 94,
                "assumptions": w["assumptions"],
                "warnings": [],
            },
        ],
        "timeline": [{"when": "2017-02", "text": w["timeline"]}],
        "summaries": [
            {
                "pseudonym": w["person"],
                "when": "2017-03",
                "where": w["places"]["ru-ce"],
                "text": w["summary"],
            },
        ],
        "evidence": [
            {
                "pseudonym": w["item"],
                "media_type": "image/jpeg",
                "sha256": hashlib.sha256(b"synthetic evidence").hexdigest(),
                "size": 284_113,
                "custody": {"events": 4, "first": "2017-03", "last": "2018-01"},
            }
        ],
        "notes": [w["note"]],
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The English and Russian sample reports rendered once (the PDF takes seconds)."""
    out = {}
    for language in ("en", "ru"):
        folder = tmp_path_factory.mktemp(f"report-{language}")
        render(sample_report(language), folder)
        out[language] = folder
    return out


class _Collect(HTMLParser):
    """Tags, attributes and the text inside each element with a class, for assertions."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.closed: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "img", "wbr", "br"):
            self.stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1][0] == tag:
            name, attrs, parts = self.stack.pop()
            text = "".join(parts)
            self.closed.append((name, attrs, text))
            if self.stack:
                self.stack[-1][2].append(text)

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser


def _visible_text(html: str) -> str:
    """What a reader sees: text outside <style>, plus alt and title attributes."""
    parser = _parse(html)
    texts = [text for tag, _, text in parser.closed if tag in ("h1", "title")]
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    body = re.sub(r"</?(strong|abbr|wbr|code|a)\b[^>]*>", "", body)
    body = re.sub(r"<[^>]*>", " ", body)
    attributes = [
        value or ""
        for _, attrs in parser.tags
        for name, value in attrs.items()
        if name in ("alt", "title", "aria-label")
    ]
    import html as html_lib

    return " ".join(" ".join([*texts, html_lib.unescape(body), *attributes]).split())


# --- The HTML -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru"])
def test_report_html_loads_nothing_from_outside(rendered, language):
    html = (rendered[language] / "report.html").read_text("utf-8")
    assert external_references(html) == []
    assert "<img" in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert f'<html lang="{language}">' in html


def test_values_with_markup_and_quotes_are_escaped(tmp_path):
    evil = '<script>alert("x")</script> \' " & <img src=https://evil.example/p.png>'
    report = sample_report()
    report["title"] = evil
    report["tables"][0]["caption"] = evil
    report["tables"][0]["alt"] = evil
    report["tables"][1]["rows"]["labels"][0] = evil
    report["summaries"][0]["text"] = evil
    report["summaries"][0]["pseudonym"] = evil
    report["evidence"][0]["media_type"] = evil
    report["estimates"][0]["warnings"] = [evil]
    report["notes"] = [evil]
    rendered = render(report, tmp_path)
    html = rendered.html.read_text("utf-8")
    assert "<script" not in html.lower()
    # It is in the alt text as text, and in no attribute that loads or links.
    assert "evil.example" in html
    for _, attrs in _parse(html).tags:
        for name in ("src", "href", "style"):
            assert "evil" not in (attrs.get(name) or ""), name
    assert external_references(html) == []
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#x27; &quot;") >= 8
    # The alt attribute holds the whole value, quotes and all: nothing broke out of it.
    alts = [a["alt"] for tag, a in _parse(html).tags if tag == "img"]
    assert alts[0] is not None
    assert alts[0].startswith(evil + " ")
    # And the PDF is made from the same escaped text.
    assert "<script>alert" in pdf_text(rendered.pdf.read_bytes())


def _shown(text: str) -> str:
    """How the report shows a text: control characters (but tab and newline) as U+FFFD."""
    return "".join(
        "\ufffd" if (ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) < 0xA0 else c for c in text
    )


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "dl", "dt",
    "dd", "ul", "ol", "li", "p", "nav", "a", "strong", "section", "figure", "img",
    "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "abbr",
    "div", "article", "code", "wbr",
}  # fmt: skip


# Any characters, and often pieces of markup (single characters rarely make a tag).
MARKUP = ["<b>", "</h1>", "<script>", "<img src=x onerror=y>", '"', "'", "&amp;", "&", "<", ">",
          "<!--", "-->", "<![CDATA[", "\n\n", "\x00", "\r"]  # fmt: skip
MARKUPISH = st.lists(
    st.sampled_from(MARKUP) | st.characters(exclude_categories=("Cs",)), max_size=40
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=MARKUPISH.filter(bool),
    text=MARKUPISH,
)
@example(title="<b>x</b>", text='<script>alert("x")</script>')
def test_any_text_stays_text(title, text):
    """Whatever the data says, it adds no element or attribute and reads back unchanged."""
    report = sample_report()
    report["title"] = title
    report["notes"] = [text]
    report["timeline"] = [{"when": text, "text": text}]
    html = render_html(report, charts=False)
    parser = _parse(html)
    assert {tag for tag, _ in parser.tags} <= ALLOWED_TAGS
    h1 = [t for tag, _, t in parser.closed if tag == "h1"]
    assert h1 == [_shown(title)]
    assert external_references(html) == []
    li_notes = [t for tag, _, t in parser.closed if tag == "li"]
    assert _shown(text) in li_notes
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", html)


def test_suppressed_cells_show_the_mark_and_never_a_number(rendered):
    report = sample_report()
    html = (rendered["en"] / "report.html").read_text("utf-8")
    parser = _parse(html)
    hidden_cells = [
        (a, t) for tag, a, t in parser.closed if tag == "td" and a.get("class") == "hidden"
    ]
    expected = 0
    for table in report["tables"]:
        entries = [table["total"]]
        if table["columns"] is None:
            entries += table["cells"]
        else:
            entries += [c for row in table["cells"] for c in row]
            entries += table["row_totals"] + table["column_totals"]
        expected += sum(1 for e in entries if e == {"suppressed": True})
    assert expected >= 10  # the sample must exercise suppression, including complementary
    assert len(hidden_cells) == expected
    assert all(text == MARK for _, text in hidden_cells)
    # No data cell anywhere says anything but a count or the mark.
    for tag, attrs, text in parser.closed:
        if tag == "td" and attrs.get("class") == "n":
            assert re.fullmatch(r"[\d,]+", text), text
    # The wave series: the cells hidden in data.json are exactly those shown as the mark.
    wave = report["tables"][0]
    rows = re.search(r"<caption>Acts by week of the act.*?</tbody>", html, re.S)
    assert rows is not None
    shown = re.findall(r'<tr><th scope="row">([^<]*)</th><td class="(n|hidden)">', rows[0])
    assert [label for label, _ in shown] == WEEKS
    assert [kind == "hidden" for _, kind in shown] == [
        c == {"suppressed": True} for c in wave["cells"]
    ]
    # The legend states the mark and k; the alt text says the gaps.
    assert f"{MARK}</abbr> means a count that is hidden: fewer than 5" in html
    hidden_weeks = sum(1 for c in wave["cells"] if c == {"suppressed": True})
    assert f"{hidden_weeks} of {len(WEEKS)} values are hidden and drawn as gaps." in html


def test_estimates_are_never_bare_numbers(rendered):
    html = (rendered["en"] / "report.html").read_text("utf-8")
    text = _visible_text(html)
    assert "Estimated total: 212; 95% interval: 150 to 342" in text
    assert "Estimated total: 240" in text
    assert "No interval could be given, so the estimate must not be quoted alone." in text
    assert "No estimate could be made." in text
    assert "The method gave no reason." in text
    for name in ("Log-linear models", "LCMCR", "DGA"):
        assert name in text
    assert WORDS["en"]["assumptions"] in text
    assert WORDS["en"]["warning"] in text


def test_evidence_annex_shows_hash_wrap_friendly_and_how_to_request(rendered):
    html = (rendered["en"] / "report.html").read_text("utf-8")
    digest = hashlib.sha256(b"synthetic evidence").hexdigest()
    assert "<wbr>".join(digest[i : i + 8] for i in range(0, 64, 8)) in html
    assert "284,113 bytes" in html
    assert "4 recorded events, 2017-03 to 2018-01" in html
    assert "may request an item&#x27;s bundle" in html


# --- Determinism ----------------------------------------------------------------------------


def test_two_renders_are_byte_identical(rendered, tmp_path):
    again = render(copy.deepcopy(sample_report("en")), tmp_path)
    first = rendered["en"]
    assert again.html.read_bytes() == (first / "report.html").read_bytes()
    names = sorted(p.name for p in (first / "charts").iterdir())
    assert names == sorted(
        f"{t}.{ext}"
        for t in ("by_wave", "by_place", "by_act_type", "sources_by_type")
        for ext in ("png", "svg")
    )
    for name in names:
        assert (tmp_path / "charts" / name).read_bytes() == (first / "charts" / name).read_bytes()
    assert again.pdf.read_bytes() == (first / "report.pdf").read_bytes()
    svg = (first / "charts" / "by_wave.svg").read_text("utf-8")
    assert "<dc:date>" not in svg
    assert "Matplotlib" not in svg
    png = (first / "charts" / "by_wave.png").read_bytes()
    assert b"matplotlib" not in png.lower()
    assert b"tIME" not in png
    pdf = (first / "report.pdf").read_bytes()
    assert b"/CreationDate" not in pdf
    assert b"/ModDate" not in pdf


# --- The PDF --------------------------------------------------------------------------------


def _page_of(text_pages: list[str], needle: str) -> int:
    for number, page in enumerate(text_pages, start=1):
        if needle in " ".join(page.split()):
            return number
    raise AssertionError(f"{needle!r} is on no page")


def test_pdf_reads_back_with_title_captions_and_page_numbers(rendered):
    pdf = (rendered["en"] / "report.pdf").read_bytes()
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    assert DEFINITION.title_in("en") in flat
    for table in sample_report("en")["tables"]:
        assert table["caption"] in flat
    pages = text.split("\f")[:-1]
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"(?<!\d){number} ?/ ?{len(pages)}\s*$", page), number
    assert "Contents" in flat
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "render-en-page1.png").write_bytes(pdf_page_png(pdf, 1))
    wave = _page_of(pages, WORDS["en"]["wave"][1])
    (ARTIFACTS / "render-en-waves.png").write_bytes(pdf_page_png(pdf, wave))


def test_russian_pdf_has_cyrillic_headings(rendered):
    pdf = (rendered["ru"] / "report.pdf").read_bytes()
    flat = " ".join(pdf_text(pdf).split())
    for heading in ("Содержание", "Подсчёты", "Оценки незадокументированных случаев",
                    "Приложение: доказательства", DEFINITION.title_in("ru")):  # fmt: skip
        assert heading in flat
    pages = pdf_text(pdf).split("\f")[:-1]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "render-ru-page1.png").write_bytes(pdf_page_png(pdf, 1))
    wave = _page_of(pages, WORDS["ru"]["wave"][1])
    (ARTIFACTS / "render-ru-waves.png").write_bytes(pdf_page_png(pdf, wave))


# --- Languages ------------------------------------------------------------------------------


def test_every_interface_string_has_both_languages():
    for key, texts in CATALOGUE.items():
        assert set(texts) == {"en", "ru"}, key
        assert texts["ru"].strip(), key
        assert texts["en"].strip(), key
        assert texts["ru"] != texts["en"], key
        assert re.search("[а-яё]", texts["ru"], re.I), f"{key}: no Russian in the Russian text"
        fields = {f for _, f, _, _ in string.Formatter().parse(texts["en"]) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(texts["ru"]) if f}, key


def _fragments(template: str) -> list[str]:
    """The fixed parts of an English text that hold a word (placeholders cut out)."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return [p.strip(" .:;,") for p in parts if re.search(r"[A-Za-z]{3}", p)]


def test_the_russian_report_has_no_english_interface_string(rendered):
    html = (rendered["ru"] / "report.html").read_text("utf-8")
    visible = _visible_text(html)
    for key, texts in CATALOGUE.items():
        for fragment in _fragments(texts["en"]):
            assert fragment not in visible, f"{key}: {fragment!r} in the Russian report"
    # It is the catalogue's Russian that is there instead (spot checks over every section).
    for key in ("contents", "counts", "estimates", "timeline", "summaries", "evidence", "notes",
                "no_interval", "no_estimate", "evidence_intro"):  # fmt: skip
        assert CATALOGUE[key]["ru"] in visible, key
    # The English render does contain them: the check above can fail.
    english = _visible_text((rendered["en"] / "report.html").read_text("utf-8"))
    assert CATALOGUE["evidence_intro"]["en"] in english


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r.pop("title"), "title"),
        (lambda r: r.update(format="refugium-report/0"), "format"),
        (lambda r: r.update(language="de"), "language"),
        (lambda r: r["tables"][0]["cells"].__setitem__(2, {"count": -1}), "tables[0].cells[2]"),
        (lambda r: r["tables"][0]["cells"].__setitem__(2, {"count": 3, "suppressed": True}),
         "tables[0].cells[2]"),
        (lambda r: r["tables"][0].update(name="../x"), "tables[0].name"),
        (lambda r: r["tables"][1].update(chart="pie"), "tables[1].chart"),
        (lambda r: r["estimates"][0].update(method="guess"), "estimates[0].method"),
        (lambda r: r["evidence"][0].update(sha256="abc"), "evidence[0].sha256"),
    ],
)  # fmt: skip
def test_malformed_reports_are_refused_naming_the_key(change, named, tmp_path):
    report = sample_report()
    change(report)
    with pytest.raises(BadInput) as raised:
        render(report, tmp_path)
    assert named in str(raised.value)
    assert not (tmp_path / "report.html").exists()


def test_the_report_dict_is_json(rendered):
    """The renderer reads nothing but what data.json holds: the dict survives the round trip."""
    import json

    report = sample_report("en")
    assert json.loads(dumps(report)) == report
    assert render_html(json.loads(dumps(report))) == (rendered["en"] / "report.html").read_text(
        "utf-8"
    )


def test_the_docs_explain_the_mark_in_both_languages():
    """docs/reports.md says what the mark the renderer uses means, in English and Russian."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")
    english = docs.split("## Reading a report\n", 1)[1].split("\n## ", 1)[0]
    russian = docs.split("## Как читать доклад\n", 1)[1].split("\n## ", 1)[0]
    assert f"**The suppression mark `{MARK}`**" in english
    assert f"**Знак скрытого числа `{MARK}`**" in russian


def test_noise_is_stated_on_the_title_page_and_under_each_table(tmp_path):
    report = sample_report()
    weeks = Axis("week", "Week", tuple(WEEKS), tuple(WEEKS))
    noisy = Table.one_way("by_wave", "Acts by week", weeks, WAVE_COUNTS).with_noise(0.5)
    mechanism = noisy.noise
    assert mechanism is not None
    report["tables"] = [_table_json(noisy.protect(5), "Acts by week.", "bar", "Bars by week.")]
    report["parameters"]["noise"] = {
        "mechanism": mechanism.name,
        "epsilon": mechanism.epsilon,
        "sensitivity": mechanism.sensitivity,
    }
    html = render(report, tmp_path).html.read_text("utf-8")
    assert f"Calibrated noise (differential privacy): {mechanism.name}, epsilon (ε) = 0.5" in html
    assert "Counts in this table carry calibrated noise (ε = 0.5)." in html
    assert "Calibrated noise: none" not in html


def test_awkward_tables_still_render(tmp_path):
    """All hidden, a long weekly series, labels with TeX dollars, control characters and a
    leading underscore: the charts are drawn and the marks shown."""
    report = sample_report()
    rows = Axis("r", "R$ \x00", ("a", "b", "c"), ("$x$", "_hidden\x07", "$"))
    all_hidden = Table.one_way("all_hidden", "$ all $", rows, [1, 2, 1]).protect(5)
    long_axis = Axis(
        "w", "Week", tuple(f"w{i}" for i in range(60)), tuple(f"2019-W{i}" for i in range(60))
    )
    long = Table.one_way("long", "Long", long_axis, [(i * 7) % 13 for i in range(60)]).protect(5)
    two = Table.two_way("two_line", "Two", rows, Axis("c", "C", ("x", "y"), ("_X", "Y")),
                        [[9, 1], [8, 7], [6, 12]]).protect(5)  # fmt: skip
    report["tables"] = [
        _table_json(all_hidden, "Every count hidden.", "bar", "Nothing to draw."),
        _table_json(long, "Sixty weeks.", "line", "A jagged line."),
        _table_json(two, "Two lines.", "line", "Two lines."),
    ]
    result = render(report, tmp_path)
    html = result.html.read_text("utf-8")
    assert external_references(html) == []
    assert "4 of 4" not in html  # the alt text counts cells, not the total
    assert "3 of 3 values are hidden and drawn as gaps." in html
    for name in ("all_hidden", "long", "two_line"):
        assert (tmp_path / "charts" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        svg = (tmp_path / "charts" / f"{name}.svg").read_text("utf-8")
        assert not re.search("[\x00-\x08\x0b-\x1f]", svg)
    assert pdf_text(result.pdf.read_bytes()).count("Every count hidden.") == 1


def test_chart_files_carry_their_title_and_text_alternative(rendered):
    """charts/*.svg and .png are reused alone, so each says what it shows and what is hidden."""
    from PIL import Image

    wave = sample_report("ru")["tables"][0]
    hidden = sum(1 for c in wave["cells"] if c == {"suppressed": True})
    expected = f"{WORDS['ru']['alt']} Скрыто значений: {hidden} из {len(WEEKS)}"
    svg = (rendered["ru"] / "charts" / "by_wave.svg").read_text("utf-8")
    assert f"<dc:title>{WORDS['ru']['wave'][0]}</dc:title>" in svg
    assert f"<dc:description>{expected}" in svg
    with Image.open(rendered["ru"] / "charts" / "by_wave.png") as png:
        assert png.info["Title"] == WORDS["ru"]["wave"][0]
        assert png.info["Description"].startswith(expected)
