"""The estimates page through Django's test client, on the invented database of conftest.py."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from refugium.web.accounts import services as accounts
from refugium.web.estimates import services as estimates
from refugium.web.records import services
from refugium.web.records.models import Source
from tests import factories
from tests.web.desk.conftest import audit_entries
from tests.web.estimates.conftest import World

pytestmark = pytest.mark.django_db

SCOPE = "201701-201712:north-caucasus-federal-district:::"


def _form(world: World, *names: str, **more: str) -> dict[str, object]:
    data: dict[str, object] = {
        "sources": world.codes(*(names or ("S1", "S2", "S3"))),
        "month_from": "2017-01",
        "month_to": "2017-12",
        "region": "north-caucasus-federal-district",
        "seed": "7",
    }
    data.update(more)
    return data


def _after_setup() -> list[tuple[str, str, str, str]]:
    """Audit entries about records, less the fixture's own merge."""
    return [e for e in audit_entries() if e[1].startswith("records.") and e[1] != "records.merge"]


def _numbers(world: World, *names: str) -> str:
    return ".".join(str(world.sources[name].pk) for name in names)


def test_the_page_offers_sources_by_code_and_title(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    assert "/estimates/" in browser.get("/records/events/").content.decode()
    page = browser.get("/estimates/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{world.codes('S1')[0]} · Invented NGO list · names 11 persons" in text
    assert "15 to 30 seconds" in text
    assert 'value="2017"' in text  # the documented seed
    assert "<script" not in text
    # Titles are details, which lists open freely: nothing is audited for showing them.
    assert not _after_setup()


def test_an_estimate_shows_its_interval_caveats_and_warnings(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    page = browser.post("/estimates/", _form(world))
    assert page.status_code == 200, page.content.decode()
    text = page.content.decode()
    assert "Before you read the figures" in text
    for caveat in ("One closed population", "Perfect matching", "People no list could reach"):
        assert caveat in text
    for method in ("Log-linear models", "Model averaging over graphs (dga)"):
        assert method in text
    assert "Latent classes" not in text
    for kind in ("(MLE)", "(posterior median)"):
        assert kind in text
    assert "The latent-class model was not run" in text
    # Lists are numbered as the models name them: 1 is S1, 2 is S2, 3 is S3.
    s1, s3 = world.codes("S1", "S3")
    for row in (f"<td>1</td><td>{s1}</td><td>8</td>", f"<td>3</td><td>{s3}</td><td>5</td>"):
        assert row in text
    # Every figure comes with its interval: "lower – upper" in the cell after the estimate.
    intervals = re.findall(r"<td>([\d,]+|open) – ([\d,]+|open)</td>", text)
    assert len(intervals) == 2
    assert "Warning: only 6 of the 13 people are on more than one list" in text
    assert "<dd>15</dd>" in text  # victims in the scope
    assert "<dd>13</dd>" in text  # on a chosen list: in the table
    assert "On none of the chosen lists (not in the table)</dt><dd>2 <span" in text
    assert "only through their event" in text
    assert "refugium estimate pattern-table.csv --seed 7" in text
    assert "Download the pattern table (CSV)" in text
    entries = audit_entries()
    assert ("admin", "records.estimate", SCOPE + "ld", _numbers(world, "S1", "S2", "S3")) in entries
    # Counting opened no identity: no read of any person.
    assert not [e for e in entries if e[1] in ("records.read", "records.compare")]


def test_strata_show_one_table_each_and_the_pooled_one(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    page = signed_in().post("/estimates/", _form(world, strata="region"))
    text = page.content.decode()
    assert page.status_code == 200
    for heading in ("Chechen Republic", "Republic of Dagestan", "All strata pooled"):
        assert f"<h3>{heading}</h3>" in text
    assert "--strata region" in text
    assert "Victims with acts in several strata" in text


def test_the_pattern_table_download(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    response = browser.post("/estimates/table/", _form(world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="pattern-table.csv"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    s1, s2, s3 = world.codes("S1", "S2", "S3")
    assert response.content.decode().splitlines() == [
        f"{s1},{s2},{s3},count",
        "1,0,0,3",
        "0,1,0,3",
        "1,1,0,2",
        "0,0,1,1",
        "1,0,1,1",
        "0,1,1,1",
        "1,1,1,2",
    ]
    assert ("admin", "records.estimate_table", SCOPE, _numbers(world, "S1", "S2", "S3")) in (
        audit_entries()
    )
    assert browser.get("/estimates/table/").status_code == 405


def test_the_download_button_repeats_the_scope(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    text = browser.post("/estimates/", _form(world, latent_classes="")).content.decode()
    form = text[text.index('action="/estimates/table/"') :].split("</form>")[0]
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert hidden["month_from"] == "2017-01"
    assert hidden["region"] == "north-caucasus-federal-district"
    sources = re.findall(r'type="hidden" name="sources" value="([^"]*)"', form)
    assert sources == world.codes("S1", "S2", "S3")


def test_form_errors_are_shown_beside_their_fields(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    one = browser.post("/estimates/", _form(world, "S1"))
    assert one.status_code == 400
    assert "choose from 2 to 15 sources" in one.content.decode()
    reversed_months = browser.post("/estimates/", _form(world, month_from="2018-01"))
    assert reversed_months.status_code == 400
    assert "The period ends before it starts." in reversed_months.content.decode()
    bad = browser.post("/estimates/", _form(world, month_to="2017/02", region="atlantis"))
    assert bad.status_code == 400
    assert "Write a month as YYYY-MM" in bad.content.decode()
    more = browser.post("/estimates/", _form(world, "S1", more_sources="S-0002 S-9999"))
    assert "no source &#x27;S-9999&#x27; on this desk" in more.content.decode()
    assert not [e for e in audit_entries() if e[1].startswith("records.estimate")]


def test_a_scope_without_victims_says_so(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    page = signed_in().post("/estimates/", _form(world, month_from="2021-01", month_to=""))
    assert page.status_code == 409
    text = page.content.decode()
    assert "no victim of an act in this period and region" in text
    assert "Estimates of the total" not in text


def test_the_latent_class_model_runs_only_when_asked(signed_in, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(estimates, "LCMCR_ITERATIONS", 200)
    browser = signed_in()
    started = time.perf_counter()
    page = browser.post("/estimates/", _form(world, latent_classes="on"))
    assert time.perf_counter() - started < 20
    assert page.status_code == 200
    text = page.content.decode()
    assert "Latent classes (lcmcr)" in text
    assert "The latent-class model was not run" not in text
    assert len(re.findall(r"<td>([\d,]+|open) – ([\d,]+|open)</td>", text)) == 3
    entries = audit_entries()
    assert ("admin", "records.estimate", SCOPE + "ldc", _numbers(world, "S1", "S2", "S3")) in (
        entries
    )


def test_others_get_the_404_and_the_signed_out_the_sign_in(org, signed_in, world) -> None:  # type: ignore[no-untyped-def]
    factories.add_user(org, "ivan", ["intake"])
    accounts.grant("ivan", "intake", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    ivan = signed_in("ivan")
    assert ivan.get("/estimates/").status_code == 404
    assert ivan.post("/estimates/", _form(world)).status_code == 404
    assert ivan.post("/estimates/table/", _form(world)).status_code == 404
    anonymous = Client().get("/estimates/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert Client().post("/estimates/table/", _form(world)).status_code in (302, 403)
    assert not _after_setup()


def test_posts_need_the_csrf_token(signed_in, world) -> None:  # type: ignore[no-untyped-def]
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = signed_in().cookies
    assert strict.post("/estimates/", _form(world)).status_code == 403
    assert strict.post("/estimates/table/", _form(world)).status_code == 403


def test_a_method_that_cannot_run_says_why_beside_the_others(signed_in, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from refugium.estimation import run
    from refugium.estimation.table import BadTable

    def refuses(table, options):  # type: ignore[no-untyped-def]
        raise BadTable("6 lists: dga handles at most 5")

    monkeypatch.setitem(run.RUNNERS, "dga", refuses)  # type: ignore[index]
    page = signed_in().post("/estimates/", _form(world))
    assert page.status_code == 200
    text = page.content.decode()
    assert "not estimated" in text
    assert "Warning: not estimated: 6 lists: dga handles at most 5" in text
    assert len(re.findall(r"<td>([\d,]+|open) – ([\d,]+|open)</td>", text)) == 1


def test_a_computation_that_fails_shows_the_counts_not_an_error_page(
    signed_in, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def fails(population, methods, seed):  # type: ignore[no-untyped-def]
        raise FloatingPointError("overflow")

    monkeypatch.setattr(estimates, "estimate", fails)
    page = signed_in().post("/estimates/", _form(world))
    assert page.status_code == 409
    text = page.content.decode()
    assert "the estimation failed (FloatingPointError)" in text
    assert "<dd>13</dd>" in text
    assert "Download the pattern table (CSV)" in text
    assert "Estimates of the total" not in text


def test_the_latent_class_model_is_refused_where_it_would_take_minutes(
    signed_in, ws, world
) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in()
    stratified = browser.post("/estimates/", _form(world, strata="region", latent_classes="on"))
    assert stratified.status_code == 400
    assert "without strata only" in stratified.content.decode()
    extra = [services.save(ws, Source(), {"title": f"Invented list {n}"}) for n in range(6)]
    nine = _form(world, latent_classes="on", more_sources=" ".join(s.code for s in extra))
    many = browser.post("/estimates/", nine)
    assert many.status_code == 400
    assert "on at most 8 lists" in many.content.decode()
    assert not [e for e in audit_entries() if e[1].startswith("records.estimate")]


def test_too_many_lists_for_the_page_give_the_table_for_the_cli(
    signed_in, world, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(estimates, "PAGE_MAX_LISTS", 2)

    def never(population, methods, seed):  # type: ignore[no-untyped-def]
        raise AssertionError("estimated in the request")

    monkeypatch.setattr(estimates, "estimate", never)
    page = signed_in().post("/estimates/", _form(world))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Not estimated here: on more than 2 lists" in text
    assert "<dd>13</dd>" in text
    assert "Download the pattern table (CSV)" in text
    assert "Estimates of the total" not in text
