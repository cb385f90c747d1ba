"""`refugium report build`: the compiler on real records, end to end.

Every record here is invented. The demo campaign (``refugium.web.records.synthetic``) is
built with ``examples/report.toml``; a small hand-made world plants a name, a phone number,
an exact address and an exact day in the sealed records and checks that none of them reaches
the report or the withheld report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from refugium.errors import Conflict
from refugium.reports.definition import BadDefinition, load, parse
from refugium.reports.pdf import pdf_page_png, pdf_text
from refugium.web.core.auditing import audit_log
from refugium.web.estimates import services as estimates
from refugium.web.evidence import services as evidence
from refugium.web.records import services, synthetic
from refugium.web.records.models import (
    Act,
    ChainLink,
    Event,
    Information,
    Involvement,
    Person,
    Place,
    Source,
)
from refugium.web.reports import build as report_build
from refugium.web.reports.compile import compile_report
from tests.browser import ARTIFACTS
from tests.cli_runner import refugium
from tests.web.records.conftest import ws  # noqa: F401 (the unlocked documentation desk)

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "report.toml"

NAME = "Zelkhan Rusurovich Dashkaev"
GIVEN = "Zelkhan"
FAMILY = "Dashkaev"
PHONE = "+7 928 555 01 42"
ADDRESS = "ul. Sheripova 17, kv. 4, Argun"
DOCUMENT = "9614 228117"
PLACE_NAME = "the garage behind the Argun commandant's office"
PLACE_ADDRESS = "Argun, ul. Kadyrova 1"
EXACT_DAY = "2017-03-14"
PLANTED = [NAME, GIVEN, FAMILY, PHONE, ADDRESS, DOCUMENT, PLACE_NAME, PLACE_ADDRESS, EXACT_DAY]


@pytest.fixture(autouse=True)
def fast_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    """The latent-class sampler with a short chain (the figures are not what is tested)."""
    monkeypatch.setattr(estimates, "LCMCR_ITERATIONS", 400)


def _cells(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every published count of a report: cells, totals and the single counts."""
    found: list[dict[str, Any]] = []
    for table in report["tables"]:
        rows = table["cells"]
        for row in rows:
            found.extend(row if isinstance(row, list) else [row])
        found.extend(table.get("row_totals", []))
        found.extend(table.get("column_totals", []))
        found.append(table["total"])
    if report["unique_victims"]:
        found += [report["unique_victims"]["reports"], report["unique_victims"]["victims"]]
    return found


def _build(ws: services.Workspace, definition: Any, out: Path, **kw: Any) -> Any:  # noqa: F811
    return report_build.build_report(
        ws, definition, out, identities=[k.identity for k in ws.keys], **kw
    )


# --- The demo campaign ------------------------------------------------------------------------


def test_the_demo_campaign_shows_its_waves_protected_and_reproducible(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    synthetic.generate(ws, 100)
    definition = load(EXAMPLE)
    first = _build(ws, definition, tmp_path / "one")
    second = _build(ws, definition, tmp_path / "two", language="en")
    data = (tmp_path / "one" / "data.json").read_bytes()
    assert data == (tmp_path / "two" / "data.json").read_bytes()
    assert (tmp_path / "one" / "withheld.json").read_bytes() == (
        tmp_path / "two" / "withheld.json"
    ).read_bytes()
    assert set(first.files) >= {"data.json", "withheld.json", "withheld.txt"}
    report = json.loads(data)
    assert report == second.build.report
    assert report["format"] == "refugium-report/1"
    assert report["language"] == "en"
    canonical = json.loads(definition.to_json())
    published = report["definition"]
    # The case summaries' record codes are replaced by the pseudonyms the report uses.
    assert published["sections"].pop("case_summaries") == [
        s["pseudonym"] for s in report["summaries"]
    ]
    canonical["sections"].pop("case_summaries")
    assert published == canonical

    # No published count from 1 to k - 1, anywhere.
    k = report["parameters"]["k"]
    counts = [c["count"] for c in _cells(report) if "count" in c]
    assert counts
    assert not [n for n in counts if 0 < n < k]
    assert any(c.get("suppressed") for c in _cells(report))

    names = [t["name"] for t in report["tables"]]
    assert names == [
        "by_wave",
        "by_place",
        "by_facility",
        "by_act_type",
        "by_perpetrator_unit",
        "sources_by_type",
    ]
    wave = report["tables"][0]
    months = wave["rows"]["keys"]
    assert months[0] == "2017-02"
    assert months[-1] == "2021-12"
    assert len(months) == 59
    by_month = {m: c.get("count") for m, c in zip(months, wave["cells"], strict=True)}
    spring_2017 = sum(by_month[m] or 0 for m in ("2017-03", "2017-04", "2017-05"))
    pause_2018 = [by_month[f"2018-{m:02d}"] for m in range(1, 11)]
    assert pause_2018 == [0] * 10, pause_2018
    assert spring_2017 >= 30
    assert wave["chart"] == "line"
    assert "2017" in wave["alt"]

    # Estimates ran on the sources as lists, with intervals and plain assumptions.
    assert [e["method"] for e in report["estimates"]] == ["loglinear", "lcmcr"]
    for estimate in report["estimates"]:
        assert estimate["assumptions"]
        assert estimate["level"] == 0.95
        assert estimate["observed"] >= k

    # Pseudonyms only: no internal record code anywhere in the report.
    text = data.decode("utf-8")
    for prefix in "EPLSAVNIC":
        assert f'"{prefix}-0' not in text
        assert f" {prefix}-0" not in text
    assert report["summaries"]
    assert all(s["pseudonym"].startswith("Event ") for s in report["summaries"])

    # Russian from the same data: same counts, labels in Russian.
    ru = compile_report(ws, definition, language="ru").report
    assert ru["title"] == definition.title["ru"]
    assert [t["cells"] for t in ru["tables"]] == [t["cells"] for t in report["tables"]]
    assert ru["tables"][1]["rows"]["labels"][0] == "Чеченская Республика"

    # Every build is audited with the definition's digest, never its content.
    builds = [e for e in audit_log().entries() if e["body"].get("action") == "reports.build"]
    assert len(builds) == 2
    digest = hashlib.sha256(definition.to_json().encode("utf-8")).hexdigest()
    assert [e["body"]["object"] for e in builds] == [{"type": "report", "id": digest}] * 2
    assert definition.title["en"] not in json.dumps([e["body"] for e in builds])


# --- Redaction ------------------------------------------------------------------------------


def _planted_world(ws: services.Workspace) -> dict[str, Any]:  # noqa: F811
    """Eight invented victims of one event, one of them with identifying values planted."""
    place = services.save(
        ws,
        Place(),
        {"name": PLACE_NAME, "exact_location": PLACE_ADDRESS, "other_names": [PLACE_NAME]},
        {"kind": "unofficial-detention", "region": "ru-ce"},
    )
    event = services.save(
        ws, Event(), {"title": f"Detention of {NAME}", "when": EXACT_DAY}, {"region": "ru-ce"}
    )
    other = services.save(ws, Event(), {"when": "April 2017"}, {"region": "ru-ce"})
    services.save(
        ws, ChainLink(from_event=event, to_event=other), {"remarks": NAME}, {"chain_type": None}
    )
    sources = [services.save(ws, Source(), {"name": f"witness {n}"}) for n in range(3)]
    victims = []
    for n in range(8):
        identity: dict[str, Any] = {"full_name": f"Invented person {n}"}
        if n == 0:
            identity = {
                "full_name": NAME,
                "given_name": GIVEN,
                "family_name": FAMILY,
                "contacts": [PHONE],
                "addresses": [ADDRESS],
                "id_documents": [DOCUMENT],
            }
        person = services.save(ws, Person(), identity)
        victims.append(person)
        act = services.save(
            ws,
            Act(event=event, victim=person, place=place),
            {"when": EXACT_DAY, "remarks": f"{NAME} {PHONE}"},
            {"act_type": "detention" if n % 2 else "torture"},
        )
        services.save(ws, Involvement(act=act, perpetrator=victims[0]), {"unit": "Unit A"})
        services.save(
            ws, Act(event=other, victim=person), {}, {"act_type": "arrest", "region": "ru-ce"}
        )
        for source in sources[: 1 + n % 3]:
            services.save(
                ws,
                Information(source=source, person=person),
                {"summary": f"{NAME} was held at {PLACE_ADDRESS}", "reliability": "unsure"},
            )
    return {"event": event, "place": place, "victims": victims}


def _definition(extra: str = "", *, case: str = "") -> Any:
    summaries = f'case_summaries = ["{case}"]' if case else ""
    return parse(
        f"""
        languages = ["en"]
        regions = ["ru-ce"]
        k = 3
        date_grain = "week"
        {extra}
        [title]
        en = "Invented detentions"
        [period]
        from = "2017-03"
        to = "2017-04"
        [sections]
        estimates = ["loglinear"]
        {summaries}
        """,
        source="test.toml",
    )


def test_names_phones_addresses_and_exact_days_never_reach_the_report_or_the_withheld_report(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    world = _planted_world(ws)
    written = _build(ws, _definition(case=world["event"].code), tmp_path / "out")
    out = tmp_path / "out"
    # What a reader gets: every text file, the PDF's text as pdftotext extracts it (issue 10),
    # and the raw bytes of the pictures (a label drawn into a chart).
    files = {
        name: pdf_text((out / name).read_bytes())
        if name.endswith(".pdf")
        else (out / name).read_bytes().decode("utf-8", "replace")
        for name in written.files
    }
    assert {"report.html", "report.pdf", "data.json", "withheld.txt"} <= set(files)
    for name, text in files.items():
        for value in PLANTED:
            assert value.casefold() not in text.casefold(), (name, value)
        assert world["event"].code not in text
        assert world["victims"][0].code not in text
    report = written.build.report
    summary = report["summaries"][0]
    assert summary["pseudonym"].startswith("Event ")
    assert summary["when"] == "2017-W11"
    assert "Torture" in summary["text"]
    assert "Unofficial" in summary["text"]
    assert report["timeline"]
    assert report["timeline"][0]["when"] == "2017-W11"
    # The exact day of the acts is published as its ISO week, and the weekly series counts it.
    wave = report["tables"][0]
    week = wave["rows"]["keys"].index("2017-W11")
    assert wave["cells"][week] == {"count": 8}
    assert report["unique_victims"]["victims"] == {"count": 8}
    assert report["unique_victims"]["reports"] == {"count": 16}
    # The withheld report names fields and keys, for the desk.
    withheld = json.loads(files["withheld.json"])
    assert {"kind": "person", "field": "contacts"} in [
        {"kind": f["kind"], "field": f["field"]} for f in withheld["fields"]
    ]


def test_a_redactor_replaces_whole_words_only() -> None:
    from refugium.web.reports.compile import Redactor

    redact = Redactor()
    redact.add(["Ali", PHONE], "Person 2")
    redact.add_date(__import__("datetime").date(2017, 3, 14), "[withheld]")
    assert redact(f"Ali of Alania, {PHONE}, 14.03.2017") == (
        "Person 2 of Alania, Person 2, [withheld]"
    )


def test_confirmed_duplicates_count_as_one_victim_and_small_counts_are_suppressed(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    from django.utils import timezone

    from refugium.web.matches import services as matches
    from refugium.web.matches.models import PersonMatch

    world = _planted_world(ws)
    a, b = world["victims"][1], world["victims"][2]
    match = PersonMatch.objects.create(
        desk=ws.desk, person_a=a, person_b=b, probability=0.99, created_on=timezone.now().date()
    )
    matches.confirm(ws, match)
    report = compile_report(ws, _definition(), language="en").report
    assert report["unique_victims"]["victims"] == {"count": 7}
    assert report["unique_victims"]["reports"] == {"count": 16}
    tight = compile_report(ws, dataclasses.replace(_definition(), k=8), language="en")
    assert tight.report["unique_victims"]["victims"] == {"suppressed": True}


def test_estimates_with_fewer_than_three_lists_are_refused_with_a_note(
    ws: services.Workspace,  # noqa: F811
) -> None:
    world = _planted_world(ws)
    Information.objects.filter(source__in=Source.objects.order_by("-pk")[:1]).delete()
    report = compile_report(ws, _definition(), language="en").report
    assert report["estimates"] == []
    assert any("at least 3" in note for note in report["notes"])
    assert world


def test_evidence_annex_has_pseudonyms_hashes_and_custody_never_file_names(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    world = _planted_world(ws)
    photo = tmp_path / f"{FAMILY}-passport-photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"invented image bytes" * 50)
    item, sha256 = evidence.ingest(photo, ws.desk, source=NAME, actor="admin")
    evidence.attach(item, world["victims"][0], actor="admin")
    written = _build(ws, _definition(), tmp_path / "out")
    annex = written.build.report["evidence"]
    assert len(annex) == 1
    entry = annex[0]
    assert entry["pseudonym"] == "Item 1"
    assert entry["sha256"] == sha256
    assert entry["size"] == photo.stat().st_size
    assert entry["media_type"] == "image/jpeg"
    assert entry["custody"]["events"] == 2
    assert entry["custody"]["first"] is not None
    data = (tmp_path / "out" / "data.json").read_text("utf-8")
    assert FAMILY not in data
    assert "passport" not in data
    assert item.code not in data


# --- Refusals -------------------------------------------------------------------------------


def test_terms_missing_from_the_vocabularies_are_all_reported(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    definition = parse(
        'regions = ["ru-ce", "ru-xx"]\nact_types = ["arest"]\n[title]\nen = "T"\nru = "Т"\n'
        '[period]\nfrom = "2017-01"\nto = "2017-02"\n',
        source="bad.toml",
    )
    with pytest.raises(BadDefinition) as caught:
        _build(ws, definition, tmp_path / "out")
    assert caught.value.problems == (
        "regions: 'ru-xx' is not a region in the vocabulary",
        "act_types: 'arest' is not an act type in the vocabulary",
    )
    assert not (tmp_path / "out").exists()


def test_a_non_empty_folder_is_refused_and_a_failed_render_leaves_nothing(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _planted_world(ws)
    folder = tmp_path / "reports"
    folder.mkdir()
    full = folder / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(Conflict):
        _build(ws, _definition(), full)
    assert sorted(p.name for p in full.iterdir()) == ["keep.txt"]

    def render(report: dict[str, Any], out: Path) -> None:
        (out / "report.html").write_text("<p>half</p>")
        raise OSError("disk full")

    # The disk filling up half-way through the renderer's files.
    monkeypatch.setattr(report_build, "render", render)
    empty = folder / "empty"
    empty.mkdir()
    with pytest.raises(OSError, match="disk full"):
        _build(ws, _definition(), empty)
    assert list(empty.iterdir()) == []
    assert sorted(p.name for p in folder.iterdir()) == ["empty", "full"]


def test_a_definition_error_exits_2_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "report.toml"
    bad.write_text(
        'regoins = ["ru-ce"]\nk = 1\ndate_grain = "day"\n[title]\nen = "Detentions"\n'
        '[period]\nfrom = "2017-02"\nto = "2017-13"\n[sections]\nestimates = ["lcmcr", "bayes"]\n',
        encoding="utf-8",
    )
    done = refugium(
        tmp_path / "data",
        "report",
        "build",
        str(bad),
        "--out",
        str(tmp_path / "out"),
        "--user",
        "admin",
        "--passphrase-stdin",
        stdin="whatever\n",
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "refugium: error: 6 problems in the report definition:"
    assert f"{bad}: regoins: unknown key; did you mean 'regions'?" in lines
    assert f"{bad}: sections.estimates[1]: 'bayes' is not a method (loglinear, lcmcr, dga)" in lines
    assert len(lines) == 7
    assert not (tmp_path / "out").exists()


def test_noise_is_stated_and_applied_to_every_table(
    ws: services.Workspace,  # noqa: F811
) -> None:
    _planted_world(ws)
    report = compile_report(ws, _definition("[noise]\nepsilon = 1.0"), language="en").report
    assert report["parameters"]["noise"]["epsilon"] == 1.0
    assert all(t["noise"] and t["noise"]["epsilon"] == 1.0 for t in report["tables"])
    assert any("epsilon 1.0" in note for note in report["notes"])
    k = report["parameters"]["k"]
    assert not [c for c in _cells(report) if 0 < c.get("count", 0) < k]


def test_a_case_summary_outside_the_selection_is_left_out_with_a_note(
    ws: services.Workspace,  # noqa: F811
) -> None:
    _planted_world(ws)
    outside = services.save(ws, Event(), {"when": "May 2019"}, {"region": "ru-ce"})
    report = compile_report(ws, _definition(case=outside.code), language="en").report
    assert report["summaries"] == []
    assert report["definition"]["sections"]["case_summaries"] == ["(not in the selection)"]
    assert any("not in its selection" in note for note in report["notes"])


def test_the_command_builds_the_demo_data_from_nothing(tmp_path: Path) -> None:
    """`refugium demo --events 100 --passphrase-stdin`, then `refugium report build` with
    examples/report.toml (estimates left out here: the sampler's full chain takes a minute)."""
    data = tmp_path / "data"
    passphrase = "a passphrase for the report build demo test\n"
    made = refugium(data, "demo", "--events", "100", "--passphrase-stdin", stdin=passphrase)
    assert made.returncode == 0, made.stderr
    definition = tmp_path / "report.toml"
    definition.write_text(
        EXAMPLE.read_text("utf-8").replace('estimates = ["loglinear", "lcmcr"]', "estimates = []"),
        encoding="utf-8",
    )
    out = tmp_path / "build"
    args = ("report", "build", str(definition), "--out", str(out), "--user", "admin")
    built = refugium(data, *args, "--lang", "ru", "--passphrase-stdin", stdin=passphrase)
    assert built.returncode == 0, built.stderr
    assert f"Built ru report in {out}" in built.stdout
    report = json.loads((out / "data.json").read_text("utf-8"))
    assert report["language"] == "ru"
    assert report["tables"][0]["title"] == "Действия по месяцам"
    wave = dict(zip(report["tables"][0]["rows"]["keys"], report["tables"][0]["cells"], strict=True))
    assert sum(wave[m].get("count", 0) for m in ("2017-03", "2017-04", "2017-05")) >= 30
    assert all(wave[f"2018-{m:02d}"] == {"count": 0} for m in range(1, 11))
    # The PDF a reader gets: Russian headings, numbered pages, and page images for a person
    # to look at (tests/artifacts/, not committed): the title page and the waves.
    pdf = (out / "report.pdf").read_bytes()
    text = pdf_text(pdf)
    assert "Действия по месяцам" in text
    assert "1 / " in text
    ARTIFACTS.mkdir(exist_ok=True)
    for page in (1, 2):
        (ARTIFACTS / f"report-demo-ru-page{page}.png").write_bytes(pdf_page_png(pdf, page))
    again = refugium(data, *args, "--passphrase-stdin", stdin=passphrase)
    assert again.returncode == 2
    assert (
        again.stderr.strip() == f"refugium: error: {out} is not empty; give a new or empty folder"
    )
    other = tmp_path / "other"
    wrong = refugium(
        data, *args[:3], "--out", str(other), "--user", "admin", "--passphrase-stdin", stdin="no\n"
    )
    assert wrong.returncode != 0
    assert not other.exists()


def test_a_table_whose_axis_the_policy_withholds_is_left_out(
    ws: services.Workspace,  # noqa: F811
) -> None:
    from refugium.reports.sensitivity import DEFAULT_PATH, parse_policy

    _planted_world(ws)
    text = DEFAULT_PATH.read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("unit = "))
    stricter = text.replace(line, 'unit = { class = "withhold", reason = "typed text" }')
    policy = parse_policy(stricter)
    report = compile_report(ws, _definition(), language="en", policy=policy).report
    names = [t["name"] for t in report["tables"]]
    assert "by_perpetrator_unit" not in names
    assert "by_act_type" in names
    assert any("by_perpetrator_unit is left out" in note for note in report["notes"])
    default = compile_report(ws, _definition(), language="en").report
    assert "by_perpetrator_unit" in [t["name"] for t in default["tables"]]


def test_the_pseudonym_secret_is_stable_per_definition_and_unrelated_across_definitions(
    ws: services.Workspace,  # noqa: F811
) -> None:
    from refugium.web.reports.compile import pseudonym_secret

    one = _definition()
    other = dataclasses.replace(one, title={"en": "Another report"})
    assert pseudonym_secret(ws, one) == pseudonym_secret(ws, _definition())
    assert pseudonym_secret(ws, one) != pseudonym_secret(ws, other)
    assert len(pseudonym_secret(ws, one)) == 32


def test_a_method_that_could_not_run_is_published_without_figures_not_a_crash(
    ws: services.Workspace,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's loglinear fit at 1,000 events gives NaN (lists barely overlap): the report
    says "not estimated" with the method's warning, and an open upper bound is null."""
    from refugium.estimation import run
    from refugium.estimation.result import Estimate

    nan, inf = float("nan"), float("inf")

    def estimate_tables(tables: Any, methods: Any, options: Any) -> list[Estimate]:
        return [
            Estimate("loglinear", nan, "mle", nan, nan, 16, "Mt", ("not estimated: no overlap",)),
            Estimate("lcmcr", 40.4, "posterior median", 20.2, inf, 16, "K=2"),
        ]

    monkeypatch.setattr(run, "estimate_tables", estimate_tables)
    _planted_world(ws)
    report = compile_report(ws, _definition(), language="en").report
    failed, open_top = report["estimates"]
    assert (failed["estimate"], failed["interval"]) == (None, None)
    assert failed["warnings"] == ["not estimated: no overlap"]
    assert (open_top["estimate"], open_top["interval"]) == (40, [20, None])


def test_no_query_grows_with_the_selection(
    ws: services.Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A report of 100,000 events selects more acts than SQLite takes variables in one
    statement: no query may send a list of the selected records. Adding acts, events and
    victims to the selection leaves the largest query's parameter count unchanged."""
    from django.db import connection

    world = _planted_world(ws)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"invented" * 20)
    item, _ = evidence.ingest(photo, ws.desk, source="invented", actor="admin")
    evidence.attach(item, world["victims"][3], actor="admin")
    identities = [k.identity for k in ws.keys]

    def largest_query() -> tuple[int, dict[str, Any]]:
        sent: list[int] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            sent.append(len(params or ()))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            report = compile_report(ws, _definition(), language="en", identities=identities)
        return max(sent), report.report

    before, small = largest_query()
    for n in range(12):
        event = services.save(ws, Event(), {"when": "April 2017"}, {"region": "ru-ce"})
        person = services.save(ws, Person(), {"full_name": f"Invented extra {n}"})
        # Dated: the events of undated acts are read with in_bulk, which Django sends in
        # pieces of SQLite's limit (that list does grow, piece by piece).
        act = services.save(
            ws,
            Act(event=event, victim=person),
            {"when": "April 2017"},
            {"act_type": "arrest", "region": "ru-ce"},
        )
        services.save(ws, Involvement(act=act, perpetrator=person), {"unit": "Unit B"})
        services.save(ws, Information(source=Source.objects.first(), event=event), {})
    after, large = largest_query()
    assert after == before
    assert large["unique_victims"] != small["unique_victims"]
    unit = next(t for t in large["tables"] if t["name"] == "by_perpetrator_unit")
    assert "Unit A" in unit["rows"]["labels"]
    assert len(large["evidence"]) == 1
