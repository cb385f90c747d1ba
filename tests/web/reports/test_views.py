"""The reports page through Django's test client, on the synthetic campaign.

Every record is invented (``refugium.web.records.synthetic``). Builds run the real renderer;
the ``renderer`` fixture swaps in one that writes its files with loose modes, to show that the
page makes every file private whatever the renderer did.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.estimates import services as estimates
from refugium.web.records import services, synthetic
from refugium.web.reports import build as report_build
from refugium.web.reports import builds
from tests import factories
from tests.web.desk.conftest import audit_entries
from tests.web.records.conftest import ws  # noqa: F401 (the unlocked documentation desk)

pytestmark = pytest.mark.django_db


REPO = Path(__file__).resolve().parents[3]
EXAMPLE = (REPO / "examples" / "report.toml").read_text("utf-8")
QUICK = EXAMPLE.replace('estimates = ["loglinear", "lcmcr"]', 'estimates = ["loglinear"]')
HTML = (
    '<!doctype html><html><head><meta charset="utf-8"><title>R</title>'
    "<style>h1{color:#123}</style></head><body><h1>Detentions</h1>"
    '<img alt="by wave" src="data:image/png;base64,iVBORw0KGgo="></body></html>'
)


@pytest.fixture(autouse=True)
def fast_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimates, "LCMCR_ITERATIONS", 400)


@pytest.fixture
def campaign(ws: services.Workspace) -> services.Workspace:  # noqa: F811
    synthetic.generate(ws, 100)
    return ws


@pytest.fixture
def renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A renderer writing report.html, a chart and report.pdf with loose modes (0644, 0755)."""

    def render(report: dict[str, Any], out: Path) -> None:
        (out / "report.html").write_text(HTML, "utf-8")
        (out / "charts").mkdir(mode=0o755)
        (out / "charts" / "by_wave.svg").write_text("<svg/>", "utf-8")
        (out / "charts" / "by_wave.svg").chmod(0o644)
        (out / "report.pdf").write_bytes(b"%PDF-1.7 invented")

    monkeypatch.setattr(report_build, "render", render)


def _built(browser: Client, text: str = QUICK, language: str = "en") -> str:
    response = browser.post("/reports/", {"definition": text, "language": language})
    assert response.status_code == 302, response.content.decode()[:3000]
    match = re.fullmatch(r"/reports/([0-9a-f]{32})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def _reports_audit() -> list[tuple[str, str, str, str]]:
    return [e for e in audit_entries() if e[1].startswith("reports.")]


def test_the_first_visit_offers_the_example_and_no_builds(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    assert "/reports/" in browser.get("/records/events/").content.decode()
    page = browser.get("/reports/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Detentions of gay and bisexual men in the North Caucasus" in text
    assert "estimates = [&quot;loglinear&quot;, &quot;lcmcr&quot;]" in text
    assert "No report has been built yet." in text
    assert "<script" not in text
    assert not builds.listing()


def test_a_build_from_the_page_lists_its_files_and_keeps_the_definition_there_only(
    signed_in, campaign
) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    folder = settings.DATA.reports / build
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert {"data.json", "definition.toml", "withheld.json", "withheld.txt"} <= set(names)
    assert {"report.html", "report.pdf"} <= set(names)
    assert (folder / "definition.toml").read_text("utf-8") == QUICK
    report = json.loads((folder / "data.json").read_text("utf-8"))
    assert report["language"] == "en"
    assert [e["method"] for e in report["estimates"]] == ["loglinear"]
    # Private to the server's account, like the rest of the data folder.
    assert stat.S_IMODE(settings.DATA.reports.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE((folder / n).stat().st_mode) for n in names} == {0o600}
    # The definition is in no database table: only the build folder holds its text.
    from django.db import connection

    title = "Detentions of gay and bisexual men"
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the schema)
            assert title not in repr(cursor.fetchall()), table

    page = browser.get(f"/reports/{build}/")
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("data.json", "withheld.json", "withheld.txt", "definition.toml"):
        assert f'href="/reports/{build}/files/{name}"' in text
    assert text.count("THE DESK ONLY: never publish") == 2
    assert f"/reports/{build}/preview/" in text
    assert f'href="/reports/?from={build}"' in text
    again = browser.get(f"/reports/?from={build}").content.decode()
    assert "estimates = [&quot;loglinear&quot;]" in again

    listing = browser.get("/reports/").content.decode()
    assert f'href="/reports/{build}/"' in listing
    assert report["title"] in listing
    digest = [e for e in _reports_audit() if e[1] == "reports.build"]
    assert len(digest) == 1
    assert re.fullmatch(r"[0-9a-f]{64}", digest[0][3])


def test_builds_are_listed_newest_first(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    first = _built(browser, QUICK.replace("k = 5", "k = 6"))
    second = _built(browser, QUICK, language="ru")
    import os

    os.utime(settings.DATA.reports / first / "data.json", (1_000_000_000, 1_000_000_000))
    text = browser.get("/reports/").content.decode()
    assert text.index(f"/reports/{second}/") < text.index(f"/reports/{first}/")
    assert "(ВЫМЫШЛЕННЫЕ ДАННЫЕ)" in text
    assert [b.id for b in builds.listing()] == [second, first]


def test_a_bad_definition_lists_every_problem_with_400_and_builds_nothing(
    signed_in, campaign
) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    bad = (
        'regoins = ["ru-ce"]\nk = 1\n[title]\nen = "Detentions"\n'
        '[period]\nfrom = "2017-02"\nto = "2017-13"\n'
    )
    page = browser.post("/reports/", {"definition": bad, "language": "en"})
    assert page.status_code == 400
    text = page.content.decode()
    assert "4 problems in the definition; nothing was built" in text
    for problem in (
        "regoins: unknown key; did you mean &#x27;regions&#x27;?",
        "title.ru: missing; the report is built in &#x27;ru&#x27;",
        "period.to: &#x27;2017-13&#x27; is not a real month or day",
        "k: is 1; at least 2 (a cell of 1 is one person)",
    ):
        assert f"<li><code>{problem}</code></li>" in text, problem
    assert "Detentions" in text  # the text typed stays in the form

    not_toml = browser.post("/reports/", {"definition": "[title\n", "language": "en"})
    assert not_toml.status_code == 400
    assert "not valid TOML" in not_toml.content.decode()
    # Terms only the database knows, and a language the definition is not built in.
    unknown = QUICK.replace('"ru-ce",', '"ru-xx",')
    page = browser.post("/reports/", {"definition": unknown, "language": "en"})
    assert page.status_code == 400
    assert "regions: &#x27;ru-xx&#x27; is not a region in the vocabulary" in page.content.decode()
    english = QUICK.replace('languages = ["en", "ru"]', 'languages = ["en"]')
    page = browser.post("/reports/", {"definition": english, "language": "ru"})
    assert page.status_code == 400
    assert "built in en" in page.content.decode()
    elsewhere = QUICK.replace('desk = "documentation"', 'desk = "casework"')
    page = browser.post("/reports/", {"definition": elsewhere, "language": "en"})
    assert page.status_code == 400
    assert "this page builds the documentation desk" in page.content.decode()
    empty = browser.post("/reports/", {"definition": "", "language": "en"})
    assert empty.status_code == 400

    assert list(settings.DATA.reports.iterdir()) == []
    assert not [e for e in _reports_audit() if e[1] == "reports.build"]


def test_downloads_are_attachments_and_audited(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    folder = settings.DATA.reports / build
    response = browser.get(f"/reports/{build}/files/withheld.txt")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (folder / "withheld.txt").read_bytes()
    assert response["Content-Disposition"].startswith('attachment; filename="withheld.txt"')
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    assert ("admin", "reports.download", "report-build", f"{build}:withheld.txt") in (
        _reports_audit()
    )


def test_the_preview_has_its_own_strict_policy(signed_in, campaign, renderer) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    folder = settings.DATA.reports / build
    assert stat.S_IMODE((folder / "charts").stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "charts" / "by_wave.svg").stat().st_mode) == 0o600
    page = browser.get(f"/reports/{build}/").content.decode()
    assert f'href="/reports/{build}/preview/" target="_blank" rel="noopener noreferrer"' in page
    for name in ("report.html", "report.pdf", "charts/by_wave.svg"):
        assert f'href="/reports/{build}/files/{name}"' in page
    assert page.index("report.html") < page.index("data.json")

    preview = browser.get(f"/reports/{build}/preview/")
    assert preview.status_code == 200
    assert preview.content.decode() == HTML
    assert preview["Content-Type"] == "text/html; charset=utf-8"
    policy = [d.strip() for d in preview["Content-Security-Policy"].split(";")]
    for directive in (
        "default-src 'none'",
        "img-src data:",
        "style-src 'unsafe-inline'",
        "sandbox",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ):
        assert directive in policy, directive
    assert not [d for d in policy if "script" in d or "self" in d]
    assert preview["X-Frame-Options"] == "DENY"
    assert preview["X-Content-Type-Options"] == "nosniff"
    assert ("admin", "reports.preview", "report-build", f"{build}:report.html") in (
        _reports_audit()
    )
    chart = browser.get(f"/reports/{build}/files/charts/by_wave.svg")
    assert chart.status_code == 200
    assert 'filename="charts-by_wave.svg"' in chart["Content-Disposition"]
    assert ("admin", "reports.download", "report-build", f"{build}:charts:by_wave.svg") in (
        _reports_audit()
    )


def test_no_preview_without_report_html(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    (settings.DATA.reports / build / "report.html").unlink(missing_ok=True)
    assert browser.get(f"/reports/{build}/preview/").status_code == 404
    assert f"/reports/{build}/preview/" not in browser.get(f"/reports/{build}/").content.decode()


def test_a_build_can_be_deleted_with_its_definition(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    keep = _built(browser, QUICK.replace("k = 5", "k = 7"))
    assert browser.get(f"/reports/{build}/delete/").status_code == 405
    response = browser.post(f"/reports/{build}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/reports/?deleted=1"
    assert not (settings.DATA.reports / build).exists()
    assert (settings.DATA.reports / keep / "data.json").is_file()
    assert browser.get(f"/reports/{build}/").status_code == 404
    assert browser.get(f"/reports/{build}/files/data.json").status_code == 404
    assert browser.post(f"/reports/{build}/delete/").status_code == 404
    assert ("admin", "reports.delete", "report-build", build) in _reports_audit()
    assert "The build was deleted" in browser.get("/reports/?deleted=1").content.decode()


def test_unknown_builds_and_path_tricks_are_404(signed_in, campaign, tmp_path) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    secret = settings.DATA.root / "secret_key"
    secret.write_text("not for download")
    (settings.DATA.reports / build / "link.txt").symlink_to(secret)
    (settings.DATA.reports / ("f" * 32)).symlink_to(settings.DATA.root)
    missing = "0" * 32
    for url in (
        f"/reports/{missing}/",
        f"/reports/{missing}/preview/",
        f"/reports/{missing}/files/data.json",
        "/reports/nothex/",
        f"/reports/{build.upper()}/",
        f"/reports/{build}/files/../../secret_key",
        f"/reports/{build}/files/..%2F..%2Fsecret_key",
        f"/reports/{build}/files/%2E%2E/%2E%2E/secret_key",
        f"/reports/{build}/files//etc/passwd",
        f"/reports/{build}/files/link.txt",
        f"/reports/{build}/files/charts/../data.json",
        f"/reports/{build}/files/",
        f"/reports/{'f' * 32}/",
        f"/reports/{'f' * 32}/files/secret_key",
        f"/reports/?from={missing}",
        "/reports/?from=../../secret_key",
    ):
        response = browser.get(url)
        assert response.status_code == 404, url
    assert browser.post(f"/reports/{missing}/delete/").status_code == 404
    assert browser.post("/reports/..%2F..%2F/delete/").status_code == 404
    assert secret.read_text() == "not for download"
    assert "link.txt" not in browser.get(f"/reports/{build}/").content.decode()
    assert not [e for e in _reports_audit() if e[1] == "reports.download"]


def test_others_get_the_404_and_the_signed_out_the_sign_in(org, signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in()
    build = _built(admin)
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    ivan = signed_in("ivan")
    for url in (
        "/reports/",
        f"/reports/{build}/",
        f"/reports/{build}/files/data.json",
        f"/reports/{build}/preview/",
    ):
        assert ivan.get(url).status_code == 404, url
        anonymous = Client().get(url)
        assert anonymous.status_code == 302, url
        assert "/accounts/login/" in anonymous["Location"]
    assert ivan.post("/reports/", {"definition": QUICK, "language": "en"}).status_code == 404
    assert ivan.post(f"/reports/{build}/delete/").status_code == 404
    assert Client().post(f"/reports/{build}/delete/").status_code in (302, 403)
    assert (settings.DATA.reports / build / "data.json").is_file()
    assert len(builds.listing()) == 1
    assert not [e for e in _reports_audit() if e[0] == "ivan"]


def test_posts_need_the_csrf_token(signed_in, campaign) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    build = _built(browser)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post("/reports/", {"definition": QUICK, "language": "en"}).status_code == 403
    assert strict.post(f"/reports/{build}/delete/").status_code == 403
    assert len(builds.listing()) == 1
