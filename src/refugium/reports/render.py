"""The report renderer: the compiled report dict → report.html, charts and report.pdf.

Its only input is the dict of ``/work/briefs/report_contract.md`` (the compiler writes the
same dict as ``data.json``), so data.json reproduces the report. :func:`render` writes into
an existing folder:

- ``report.html``: one self-contained file (styles inline, charts as ``data:`` URIs): opened
  by readers a state watches, it must load nothing (:mod:`refugium.reports.selfcontained`);
- ``charts/<table>.png`` and ``charts/<table>.svg``: each table's chart for reuse in other
  publications, drawn by matplotlib (Agg) with fixed fonts and no date or software in the
  metadata, so that two renders of the same dict are byte-identical and a reviewer can tell
  that a republished report is the one that was checked;
- ``report.pdf``: the same HTML through :func:`refugium.reports.pdf.html_to_pdf` (A4, page
  numbers, table of contents, tagged headings). WeasyPrint writes no creation date unless the
  document names one and this one does not, so the PDF carries no date.

Every value from the data is HTML-escaped where it is placed and only ever placed in text or
in a quoted ``alt``/``title`` attribute: never in a URL, a style or a script (there are no
scripts). Interface words come from :mod:`refugium.reports.catalogue` in the report's
language. A suppressed count is shown as :data:`MARK` with a legend, never as a number, and
drawn as a gap in its chart; an estimate is never shown without its interval or, without
one, the reason.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from refugium.errors import BadInput
from refugium.reports.catalogue import LANGUAGES
from refugium.reports.catalogue import text as _text
from refugium.reports.pdf import TOC_PLACEHOLDER, html_to_pdf, table_of_contents

__all__ = ["FORMAT", "MARK", "Rendered", "render", "render_chart", "render_html"]

FORMAT: Final = "refugium-report/1"
MARK: Final = "×"
"""How a suppressed count is shown in tables (with a legend under every table)."""
METHODS: Final = ("loglinear", "lcmcr", "dga")
CHART_KINDS: Final = ("bar", "line")
# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale.
PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
CHART_SIZE: Final = (7.2, 3.4)  # inches
PNG_DPI: Final = 150


@dataclass(frozen=True)
class Rendered:
    """What :func:`render` wrote."""

    html: Path
    pdf: Path
    charts: tuple[Path, ...]


# --- Reading the dict: every problem names its key ----------------------------------------


def _bad(where: str, what: str) -> BadInput:
    return BadInput(f"report {where}: {what}", code="report_shape")


def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise _bad(where, "expected an object")
    if key not in data:
        raise _bad(f"{where}.{key}" if where else key, "missing")
    return data[key]


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(where, "expected text")
    return value


def _int(value: Any, where: str) -> int:
    if type(value) is not int or value < 0:
        raise _bad(where, "expected a whole number ≥ 0")
    return value


def _number(value: Any, where: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _bad(where, "expected a number")
    return float(value)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(where, "expected a list")
    return value


def _count(value: Any, where: str) -> int | None:
    """``{"count": n}`` → n; ``{"suppressed": true}`` → None."""
    if isinstance(value, Mapping):
        if value.get("suppressed") is True and "count" not in value:
            return None
        if "count" in value and "suppressed" not in value:
            return _int(value["count"], f"{where}.count")
    raise _bad(where, 'expected {"count": n} or {"suppressed": true}')


# --- Formatting ---------------------------------------------------------------------------


class _Page:
    """The language and escaping helpers one render uses."""

    def __init__(self, language: str) -> None:
        self.language = language

    def t(self, key: str, **values: str) -> str:
        return _text(key, self.language, **values)

    def n(self, value: int) -> str:
        """A count with thousands separated as the language does it (no-break space in ru)."""
        grouped = f"{value:,}"
        return grouped.replace(",", "\u00a0") if self.language == "ru" else grouped

    def decimal(self, value: float) -> str:
        shown = f"{value:g}"
        return shown.replace(".", ",") if self.language == "ru" else shown

    def percent(self, level: float) -> str:
        shown = self.decimal(round(level * 100, 1))
        return f"{shown}\u00a0%" if self.language == "ru" else f"{shown}%"

    def mark(self) -> str:
        label = self.t("suppressed")
        return f'<abbr class="mark" title="{label}">{MARK}</abbr>'

    def cell(self, value: int | None) -> str:
        if value is None:
            return f'<td class="hidden">{self.mark()}</td>'
        return f'<td class="n">{self.n(value)}</td>'


# C0 and C1 control characters but tab and newline: invalid in HTML and meaningless in a
# report; shown as U+FFFD so that a reviewer sees something was there.
_CONTROLS: Final = {c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)}


def _e(value: str) -> str:
    """``value`` as HTML text or a quoted attribute's value, control characters replaced."""
    return html.escape(value.translate(_CONTROLS), quote=True)


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(f"<p>{_e(p)}</p>" for p in parts if p)


# --- Charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    name: str
    values: tuple[int | None, ...]


@dataclass(frozen=True)
class _TableData:
    name: str
    title: str
    caption: str
    chart: str | None
    alt: str
    k: int
    row_label: str
    row_labels: tuple[str, ...]
    column_label: str | None
    column_labels: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]  # rows × columns (one column when one-way)
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None
    epsilon: float | None

    @property
    def two_way(self) -> bool:
        return self.column_label is not None

    def series(self) -> list[_Series]:
        if not self.two_way:
            return [_Series(self.title, tuple(r[0] for r in self.cells))]
        return [
            _Series(label, tuple(r[j] for r in self.cells))
            for j, label in enumerate(self.column_labels)
        ]

    def hidden_cells(self) -> int:
        return sum(1 for r in self.cells for c in r if c is None)

    def cell_count(self) -> int:
        return sum(len(r) for r in self.cells)


def _table(data: Any, where: str) -> _TableData:
    name = _str(_get(data, "name", where), f"{where}.name")
    if not name or not all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        # The name becomes a file name under charts/: letters, digits, _ and - only.
        raise _bad(f"{where}.name", "expected letters, digits, '_' or '-'")
    rows = _get(data, "rows", where)
    row_labels = tuple(
        _str(x, f"{where}.rows.labels[{i}]")
        for i, x in enumerate(_list(_get(rows, "labels", f"{where}.rows"), f"{where}.rows.labels"))
    )
    columns = _get(data, "columns", where)
    raw_cells = _list(_get(data, "cells", where), f"{where}.cells")
    if len(raw_cells) != len(row_labels):
        raise _bad(f"{where}.cells", "does not fit the rows")
    chart = _get(data, "chart", where)
    if chart is not None and chart not in CHART_KINDS:
        raise _bad(f"{where}.chart", "expected 'bar', 'line' or null")
    noise = _get(data, "noise", where)
    epsilon = None if noise is None else _number(_get(noise, "epsilon", f"{where}.noise"), "")

    def common(**axes: Any) -> _TableData:
        return _TableData(
            name=name,
            title=_str(_get(data, "title", where), f"{where}.title"),
            caption=_str(_get(data, "caption", where), f"{where}.caption"),
            chart=chart,
            alt=_str(_get(data, "alt", where), f"{where}.alt"),
            k=_int(_get(data, "k", where), f"{where}.k"),
            row_label=_str(_get(rows, "label", f"{where}.rows"), f"{where}.rows.label"),
            row_labels=row_labels,
            total=_count(_get(data, "total", where), f"{where}.total"),
            epsilon=epsilon,
            **axes,
        )

    if columns is None:
        cells = tuple((_count(c, f"{where}.cells[{i}]"),) for i, c in enumerate(raw_cells))
        return common(
            column_label=None, column_labels=(), cells=cells, row_totals=(), column_totals=()
        )
    column_labels = tuple(
        _str(x, f"{where}.columns.labels[{j}]")
        for j, x in enumerate(
            _list(_get(columns, "labels", f"{where}.columns"), f"{where}.columns.labels")
        )
    )
    grid = []
    for i, row in enumerate(raw_cells):
        row = _list(row, f"{where}.cells[{i}]")
        if len(row) != len(column_labels):
            raise _bad(f"{where}.cells[{i}]", "does not fit the columns")
        grid.append(tuple(_count(c, f"{where}.cells[{i}][{j}]") for j, c in enumerate(row)))
    row_totals = _list(_get(data, "row_totals", where), f"{where}.row_totals")
    column_totals = _list(_get(data, "column_totals", where), f"{where}.column_totals")
    if len(row_totals) != len(row_labels) or len(column_totals) != len(column_labels):
        raise _bad(where, "totals do not fit the axes")
    return common(
        column_label=_str(_get(columns, "label", f"{where}.columns"), f"{where}.columns.label"),
        column_labels=column_labels,
        cells=tuple(grid),
        row_totals=tuple(_count(c, f"{where}.row_totals[{i}]") for i, c in enumerate(row_totals)),
        column_totals=tuple(
            _count(c, f"{where}.column_totals[{j}]") for j, c in enumerate(column_totals)
        ),
    )


def render_chart(table: _TableData, page: _Page) -> tuple[bytes, bytes]:
    """The table's chart as (SVG, PNG) bytes, the same bytes for the same table every time.

    Suppressed values are left out (a line breaks, a bar is missing) and marked with a small
    cross on the axis, explained in the legend; nothing is drawn at a hidden value's height.
    """
    import matplotlib as mpl  # imported here: matplotlib is slow to import and only charts need it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    with mpl.rc_context(
        {
            "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs everywhere
            "font.size": 9,
            "text.parse_math": False,  # a "$" in a label is a dollar sign, not TeX
            "svg.fonttype": "path",  # text as paths: no font lookup when the SVG is opened
            "svg.hashsalt": "refugium-report",  # fixed ids instead of random ones
            "path.simplify": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        figure = Figure(figsize=CHART_SIZE)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        series = table.series()
        n = len(table.row_labels)
        positions = list(range(n))
        width = 0.8 / len(series)
        hidden_x: list[float] = []
        # Legend entries made here, not from the plotted artists: a series whose every
        # value is hidden draws nothing and would get a default colour in the legend.
        handles: list[Any] = []
        for s_index, s in enumerate(series):
            colour = PALETTE[s_index % len(PALETTE)]
            if table.chart == "line":
                ys = [math.nan if v is None else float(v) for v in s.values]
                style: dict[str, Any] = {"color": colour, "marker": "o", "markersize": 3}
                # Not clipped: a point at zero shows whole, unlike a hidden value's gap.
                axes.plot(positions, ys, clip_on=False, **style)
                handles.append(Line2D([], [], label=_label(s.name), **style))
                hidden_x += [x for x, v in zip(positions, s.values, strict=True) if v is None]
            else:
                offset = (s_index - (len(series) - 1) / 2) * width
                xs = [x + offset for x, v in zip(positions, s.values, strict=True) if v is not None]
                hs = [float(v) for v in s.values if v is not None]
                axes.bar(xs, hs, width=width * 0.92, color=colour)
                handles.append(Patch(facecolor=colour, label=_label(s.name)))
                hidden_x += [
                    x + offset for x, v in zip(positions, s.values, strict=True) if v is None
                ]
        if hidden_x:
            cross: dict[str, Any] = {
                "linestyle": "none",
                "marker": "x",
                "markersize": 5,
                "color": "#444444",
            }
            xs_hidden = sorted(set(hidden_x))
            axes.plot(xs_hidden, [0.0] * len(xs_hidden), clip_on=False, **cross)
            handles.append(Line2D([], [], label=_plain(page.t("chart_hidden_legend")), **cross))
        axes.set_ylim(bottom=0)
        axes.set_xlim(-0.6, n - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        step = max(1, math.ceil(n / 26))
        axes.set_xticks(positions[::step])
        many = n > 8
        axes.set_xticklabels(
            [_tick_label(_label(x), many) for x in table.row_labels[::step]],
            rotation=90 if many else 0,
            fontsize=7 if many else 8,
        )
        axes.set_ylabel(_plain(page.t("count")))
        axes.set_xlabel(_label(table.row_label))
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        if len(series) > 1 or hidden_x:
            # Above the plot, never over the data ("best" may still cover a point).
            axes.legend(
                handles=handles,
                fontsize=7,
                frameon=False,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.01),
                ncol=min(len(handles), 4),
                borderaxespad=0.0,
            )
        figure.tight_layout()
        svg = io.BytesIO()
        figure.savefig(
            svg,
            format="svg",
            metadata={
                "Date": None,
                "Creator": None,
                "Title": _label(table.title),
                "Description": _label(_alt(table, page)),
            },
        )
        png = io.BytesIO()
        figure.savefig(
            png,
            format="png",
            dpi=PNG_DPI,
            metadata={
                "Software": None,
                "Title": _label(table.title),
                "Description": _label(_alt(table, page)),
            },
        )
    return svg.getvalue(), png.getvalue()


def _alt(table: _TableData, page: _Page) -> str:
    """The chart's text alternative (plain): the contract's description of its shape and how
    many values are hidden, so a reader who cannot see the gaps is told of them."""
    hidden = table.hidden_cells()
    gaps = (
        page.t("chart_gaps", n=page.n(hidden), total=page.n(table.cell_count()))
        if hidden
        else page.t("chart_no_gaps")
    )
    return f"{table.alt} {_plain(gaps)}"


def _label(value: str) -> str:
    """Data text for matplotlib: control characters replaced (they are invalid in SVG), and
    a leading "_" kept visible (matplotlib leaves such labels out of the legend)."""
    value = value.translate(_CONTROLS)
    return "\u200b" + value if value.startswith("_") else value


def _plain(escaped: str) -> str:
    """A catalogue text back to plain text (for matplotlib, which draws, not parses)."""
    return html.unescape(escaped)


def _tick_label(label: str, rotated: bool) -> str:
    """A category's label under its bar: cut short when rotated (many categories), wrapped
    onto lines of about 16 characters when upright."""
    if rotated:
        return label if len(label) <= 22 else label[:21] + "…"
    return "\n".join(textwrap.wrap(label, 16, max_lines=3, placeholder="…")) or label


# --- HTML ---------------------------------------------------------------------------------


def _grain(page: _Page, value: Any, where: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise _bad(where, f"expected one of {', '.join(choices)}")
    return page.t(f"grain_{value}")


def _title_page(report: Mapping[str, Any], page: _Page) -> str:
    params = _get(report, "parameters", "")
    period = _get(report, "period", "")
    software = _get(report, "software", "")
    k = _int(_get(params, "k", "parameters"), "parameters.k")
    noise = _get(params, "noise", "parameters")
    if noise is None:
        noise_text = page.t("noise_off")
    else:
        noise_text = page.t(
            "noise_on",
            mechanism=_e(_str(_get(noise, "mechanism", "parameters.noise"), "parameters.noise")),
            epsilon=page.decimal(_number(_get(noise, "epsilon", "parameters.noise"), "epsilon")),
            sensitivity=page.n(_int(_get(noise, "sensitivity", "parameters.noise"), "sensitivity")),
        )
    start = _e(_str(_get(period, "from", "period"), "period.from"))
    end = _e(_str(_get(period, "to", "period"), "period.to"))
    items = [
        page.t("param_k", k=page.n(k)),
        page.t(
            "param_date_grain",
            grain=_grain(
                page, _get(params, "date_grain", "parameters"), "date_grain", ("week", "month")
            ),
        ),
        page.t(
            "param_place_grain",
            grain=_grain(
                page,
                _get(params, "place_grain", "parameters"),
                "place_grain",
                ("district", "region"),
            ),
        ),
        noise_text,
    ]
    version = page.t(
        "software",
        name=_e(_str(_get(software, "name", "software"), "software.name")),
        version=_e(_str(_get(software, "version", "software"), "software.version")),
    )
    return (
        '<header class="title-page">'
        f"<h1>{_e(_str(_get(report, 'title', ''), 'title'))}</h1>"
        f"<dl><dt>{page.t('period')}</dt><dd>{page.t('period_range', start=start, end=end)}</dd>"
        f"<dt>{page.t('parameters')}</dt><dd><ul>"
        + "".join(f"<li>{item}</li>" for item in items)
        + f'</ul></dd></dl><p class="software">{version}</p></header>'
        + TOC_PLACEHOLDER
        + f'<section class="part small"><h2>{page.t("reading")}</h2>'
        f"<p>{page.t('reading_text')}</p>"
        f'<p class="legend">{page.t("mark_legend", mark=page.mark(), k=page.n(k))}</p></section>'
    )


def _html_table(table: _TableData, page: _Page) -> str:
    head = f'<th scope="col">{_e(table.row_label)}</th>'
    if table.two_way:
        head = f'<th scope="col">{_e(table.row_label)} \\ {_e(table.column_label or "")}</th>'
        head += "".join(f'<th scope="col" class="n">{_e(c)}</th>' for c in table.column_labels)
        head += f'<th scope="col" class="n">{page.t("total")}</th>'
    else:
        head += f'<th scope="col" class="n">{page.t("count")}</th>'
    body = []
    for i, label in enumerate(table.row_labels):
        cells = "".join(page.cell(v) for v in table.cells[i])
        if table.two_way:
            cells += page.cell(table.row_totals[i])
        body.append(f'<tr><th scope="row">{_e(label)}</th>{cells}</tr>')
    foot = f'<th scope="row">{page.t("total")}</th>'
    if table.two_way:
        foot += "".join(page.cell(v) for v in table.column_totals)
    foot += page.cell(table.total)
    return (
        f"<table><caption>{_e(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot><tr>{foot}</tr></tfoot></table>"
    )


def _table_section(table: _TableData, page: _Page, svg: bytes | None) -> str:
    parts = [f"<h3>{_e(table.title)}</h3>"]
    if svg is not None:
        alt = _e(_alt(table, page))
        # The data URI is base64 of the SVG matplotlib wrote: nothing from the data is
        # placed in the URL as text.
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        parts.append(
            f'<figure><img src="{uri}" alt="{alt}">'
            f"<figcaption>{page.t('chart_figure', title=_e(table.title))}</figcaption></figure>"
        )
    parts.append(_html_table(table, page))
    legend = [page.t("mark_legend", mark=page.mark(), k=page.n(table.k))]
    if table.epsilon is not None:
        legend.append(page.t("table_noise", epsilon=page.decimal(table.epsilon)))
    parts.append(f'<p class="legend">{" ".join(legend)}</p>')
    return "".join(parts)


def _unique_victims(data: Any, page: _Page) -> str:
    where = "unique_victims"
    reports = _count(_get(data, "reports", where), f"{where}.reports")
    victims = _count(_get(data, "victims", where), f"{where}.victims")
    note = _str(_get(data, "note", where), f"{where}.note")
    return (
        f'<section class="part small"><h2>{page.t("unique_victims")}</h2>'
        f"<table><caption>{page.t('unique_victims_caption')}</caption>"
        f'<thead><tr><th scope="col">{page.t("measure")}</th>'
        f'<th scope="col" class="n">{page.t("count")}</th></tr></thead><tbody>'
        f'<tr><th scope="row">{page.t("reports")}</th>{page.cell(reports)}</tr>'
        f'<tr><th scope="row">{page.t("victims")}</th>{page.cell(victims)}</tr>'
        f"</tbody></table>{_paragraphs(note)}</section>"
    )


def _estimate(data: Any, where: str, page: _Page) -> str:
    method = _get(data, "method", where)
    if method not in METHODS:
        raise _bad(f"{where}.method", f"expected one of {', '.join(METHODS)}")
    stratum = _get(data, "stratum", where)
    estimate = _get(data, "estimate", where)
    interval = _get(data, "interval", where)
    level = _number(_get(data, "level", where), f"{where}.level")
    if not 0 < level < 1:
        raise _bad(f"{where}.level", "expected a probability between 0 and 1")
    observed = _int(_get(data, "observed", where), f"{where}.observed")
    assumptions = _str(_get(data, "assumptions", where), f"{where}.assumptions")
    warnings = [
        _str(w, f"{where}.warnings[{i}]")
        for i, w in enumerate(_list(_get(data, "warnings", where), f"{where}.warnings"))
    ]
    parts = [f"<h3>{page.t(f'method_{method}')}</h3>"]
    if stratum is not None:
        parts.append(f"<p>{page.t('stratum', stratum=_e(_str(stratum, f'{where}.stratum')))}</p>")
    figures = [f"<li>{page.t('observed')}: {page.n(observed)}</li>"]
    reason_needed = False
    if estimate is None:
        figures.append(f"<li><strong>{page.t('no_estimate')}</strong></li>")
        reason_needed = True
    else:
        value = _number(estimate, f"{where}.estimate")
        figures.append(f"<li>{page.t('estimate')}: {page.n(round(value))}</li>")
        if interval is None:
            figures.append(f"<li><strong>{page.t('no_interval')}</strong></li>")
            reason_needed = True
        else:
            pair = _list(interval, f"{where}.interval")
            if len(pair) != 2:
                raise _bad(f"{where}.interval", "expected [low, high]")
            lo, hi = (_number(x, f"{where}.interval") for x in pair)
            figures[-1] = (
                f"<li>{page.t('estimate')}: <strong>{page.n(round(value))}</strong>; "
                + page.t(
                    "interval",
                    level=page.percent(level),
                    lo=page.n(round(lo)),
                    hi=page.n(round(hi)),
                )
                + "</li>"
            )
    parts.append(f'<ul class="figure">{"".join(figures)}</ul>')
    parts.append(f"<p><strong>{page.t('assumptions')}:</strong> {_e(assumptions)}</p>")
    if warnings or reason_needed:
        shown = warnings or [_plain(page.t("no_reason"))]
        parts.append(
            f'<p class="warning"><strong>{page.t("warnings")}:</strong></p><ul class="warning">'
            + "".join(f"<li>{_e(w)}</li>" for w in shown)
            + "</ul>"
        )
    return f'<div class="estimate">{"".join(parts)}</div>'


def _timeline(items: list[Any], page: _Page) -> str:
    rows = []
    for i, item in enumerate(items):
        where = f"timeline[{i}]"
        when = _e(_str(_get(item, "when", where), f"{where}.when"))
        what = _e(_str(_get(item, "text", where), f"{where}.text"))
        rows.append(f'<tr><th scope="row">{when}</th><td>{what}</td></tr>')
    return (
        f'<section class="part"><h2>{page.t("timeline")}</h2>'
        f"<table><caption>{page.t('timeline_caption')}</caption>"
        f'<thead><tr><th scope="col">{page.t("when")}</th><th scope="col">{page.t("what")}</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _summaries(items: list[Any], page: _Page) -> str:
    parts = []
    for i, item in enumerate(items):
        where = f"summaries[{i}]"
        pseudonym = _e(_str(_get(item, "pseudonym", where), f"{where}.pseudonym"))
        when = _e(_str(_get(item, "when", where), f"{where}.when"))
        place = _e(_str(_get(item, "where", where), f"{where}.where"))
        body = _paragraphs(_str(_get(item, "text", where), f"{where}.text"))
        parts.append(
            f'<article class="summary"><h3>{pseudonym}</h3>'
            f'<p class="where">{page.t("summary_when_where", when=when, where=place)}</p>'
            f"{body}</article>"
        )
    return f'<section class="part"><h2>{page.t("summaries")}</h2>{"".join(parts)}</section>'


def _sha(value: Any, where: str) -> str:
    digest = _str(value, where)
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _bad(where, "expected 64 lowercase hexadecimal digits")
    # Groups of 8 with break opportunities: wraps in a narrow column, copies as one string.
    return "<wbr>".join(digest[i : i + 8] for i in range(0, 64, 8))


def _evidence(items: list[Any], page: _Page) -> str:
    rows = []
    for i, item in enumerate(items):
        where = f"evidence[{i}]"
        custody = _get(item, "custody", where)
        size = _int(_get(item, "size", where), f"{where}.size")
        sha = _sha(_get(item, "sha256", where), f"{where}.sha256")
        custody_text = page.t(
            "custody_text",
            events=page.n(_int(_get(custody, "events", f"{where}.custody"), f"{where}.custody")),
            first=_e(_str(_get(custody, "first", f"{where}.custody"), f"{where}.custody.first")),
            last=_e(_str(_get(custody, "last", f"{where}.custody"), f"{where}.custody.last")),
        )
        rows.append(
            f'<tr><th scope="row">{_e(_str(_get(item, "pseudonym", where), where))}</th>'
            f"<td>{_e(_str(_get(item, 'media_type', where), f'{where}.media_type'))}</td>"
            f'<td><code class="sha">{sha}</code></td>'
            f'<td class="n size">{page.t("size_bytes", n=page.n(size))}</td>'
            f"<td>{custody_text}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{page.t(key)}</th>'
        for key in ("item", "media_type", "sha256_heading", "size", "custody")
    )
    return (
        f'<section class="part"><h2>{page.t("evidence")}</h2><p>{page.t("evidence_intro")}</p>'
        f'<table class="evidence"><caption>{page.t("evidence_caption")}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _document(report: Mapping[str, Any], charts: Mapping[str, bytes]) -> str:
    """The HTML before the table of contents; ``charts`` maps table names to their SVG."""
    fmt = _get(report, "format", "")
    if fmt != FORMAT:
        raise _bad("format", f"expected {FORMAT!r}")
    language = _get(report, "language", "")
    if language not in LANGUAGES:
        raise _bad("language", f"expected one of {', '.join(LANGUAGES)}")
    page = _Page(language)
    css = resources.files("refugium.reports").joinpath("templates/report.css").read_text("utf-8")
    title = _e(_str(_get(report, "title", ""), "title"))
    body = [_title_page(report, page)]

    tables = [
        _table(t, f"tables[{i}]") for i, t in enumerate(_list(_get(report, "tables", ""), "tables"))
    ]
    if len({t.name for t in tables}) != len(tables):
        raise _bad("tables", "two tables have the same name")
    if tables:
        body.append(f'<section class="part small"><h2>{page.t("counts")}</h2>')
        body += [_table_section(t, page, charts.get(t.name)) for t in tables]
        body.append("</section>")

    unique = _get(report, "unique_victims", "")
    if unique is not None:
        body.append(_unique_victims(unique, page))

    estimates = _list(_get(report, "estimates", ""), "estimates")
    if estimates:
        body.append(
            f'<section class="part"><h2>{page.t("estimates")}</h2>'
            f"<p>{page.t('estimates_intro')}</p>"
            + "".join(_estimate(e, f"estimates[{i}]", page) for i, e in enumerate(estimates))
            + "</section>"
        )

    timeline = _list(_get(report, "timeline", ""), "timeline")
    if timeline:
        body.append(_timeline(timeline, page))
    summaries = _list(_get(report, "summaries", ""), "summaries")
    if summaries:
        body.append(_summaries(summaries, page))
    evidence = _list(_get(report, "evidence", ""), "evidence")
    if evidence:
        body.append(_evidence(evidence, page))
    notes = [
        _str(n, f"notes[{i}]") for i, n in enumerate(_list(_get(report, "notes", ""), "notes"))
    ]
    if notes:
        body.append(
            f'<section class="part small"><h2>{page.t("notes")}</h2><ul>'
            + "".join(f"<li>{_e(n)}</li>" for n in notes)
            + "</ul></section>"
        )
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{css}</style></head>\n<body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _charts(report: Mapping[str, Any]) -> dict[str, tuple[bytes, bytes]]:
    language = _get(report, "language", "")
    if language not in LANGUAGES:
        raise _bad("language", f"expected one of {', '.join(LANGUAGES)}")
    page = _Page(language)
    out = {}
    for i, raw in enumerate(_list(_get(report, "tables", ""), "tables")):
        table = _table(raw, f"tables[{i}]")
        if table.chart is not None:
            out[table.name] = render_chart(table, page)
    return out


def render_html(report: Mapping[str, Any], *, charts: bool = True) -> str:
    """report.html's text, table of contents included. ``charts=False`` leaves the charts
    out (for tests of the text that need not draw).

    Raises:
        BadInput: the dict does not follow the contract (the message names the key).
    """
    drawn = {name: svg for name, (svg, _) in _charts(report).items()} if charts else {}
    language = _get(report, "language", "")
    return table_of_contents(_document(report, drawn), _plain(_text("contents", language)))


def render(report: Mapping[str, Any], out: Path) -> Rendered:
    """Write report.html, charts/<table>.svg and .png, and report.pdf into the folder ``out``.

    Raises:
        BadInput: the dict does not follow the contract, or ``out`` is not a folder.
        refugium.reports.pdf.ExternalAsset: the HTML referred to anything not embedded
            (a bug here). Everything is made before anything is written, so on any error
            ``out`` is left as it was.
    """
    if not out.is_dir():
        raise BadInput(f"{out}: not a folder", code="report_out")
    drawn = _charts(report)
    document = _document(report, {name: svg for name, (svg, _) in drawn.items()})
    html_text = table_of_contents(document, _plain(_text("contents", report["language"])))
    pdf_bytes = html_to_pdf(html_text)
    chart_dir = out / "charts"
    written: list[Path] = []
    if drawn:
        chart_dir.mkdir(exist_ok=True)
    for name, (svg, png) in sorted(drawn.items()):
        (chart_dir / f"{name}.svg").write_bytes(svg)
        (chart_dir / f"{name}.png").write_bytes(png)
        written += [chart_dir / f"{name}.svg", chart_dir / f"{name}.png"]
    html_path = out / "report.html"
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = out / "report.pdf"
    pdf_path.write_bytes(pdf_bytes)
    return Rendered(html_path, pdf_path, tuple(written))
