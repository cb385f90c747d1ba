"""Who is counted on which list, from the synthetic database of conftest.py (all invented)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from refugium.errors import BadInput
from refugium.estimation.table import read_table
from refugium.web.estimates import services as estimates
from refugium.web.records import services
from refugium.web.records.models import Source, Term
from tests.web.estimates.conftest import EXPECTED, World

pytestmark = pytest.mark.django_db


def _scope(world: World, **changes: object) -> estimates.Scope:
    values: dict[str, object] = {
        "sources": tuple(world.sources[name] for name in ("S1", "S2", "S3")),
        "month_from": date(2017, 1, 1),
        "month_to": date(2017, 12, 1),
        "region": Term.objects.get(
            vocabulary__key="regions", key="north-caucasus-federal-district"
        ),
    }
    values.update(changes)
    return estimates.Scope(**values)  # type: ignore[arg-type]


def _counts(table) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return {mask: int(n) for mask, n in enumerate(table.counts) if n}


def test_the_capture_table_counts_each_pattern_exactly(ws, world) -> None:  # type: ignore[no-untyped-def]
    found = estimates.population(ws, _scope(world))
    assert list(found.tables) == [None]
    table = found.tables[None]
    assert table.lists == tuple(world.codes("S1", "S2", "S3"))
    assert _counts(table) == EXPECTED
    assert (found.victims, found.on_lists, found.on_no_list) == (15, 13, 2)
    # n1 is on no list but S3 told us about its event; n2 has no link to a chosen source.
    assert found.event_only == 1
    # u1's only act has no month: outside any period, and said so.
    assert found.undated == 1
    assert found.list_totals == dict(zip(world.codes("S1", "S2", "S3"), (8, 8, 5), strict=True))


def test_a_merged_duplicate_is_one_person_with_every_link(ws, world) -> None:  # type: ignore[no-untyped-def]
    kept, merged = world.persons["kept"], world.persons["merged"]
    assert not merged.acts.exists()  # the merge moved its act to the kept record
    found = estimates.population(ws, _scope(world))
    # The kept record holds S1 and (moved) S2; S3 still points at the merged record and is
    # counted for the kept one: one person on all three lists, not two people.
    assert found.tables[None].counts[7] == 2  # e1 and the merged man
    assert kept.pk < merged.pk
    assert estimates.merged_into(ws) == {merged.pk: kept.pk}


def test_the_period_and_the_region_narrow_the_population(ws, world) -> None:  # type: ignore[no-untyped-def]
    chechnya = Term.objects.get(vocabulary__key="regions", key="ru-ce")
    anytime = estimates.population(
        ws, _scope(world, region=chechnya, month_from=None, month_to=None)
    )
    # Chechnya at any time: E1, E4 (2019) and the undated E5 come in; Dagestan's E2 does not,
    # except y1, whose other act is in E1; x1 comes in by its act's own region.
    assert anytime.victims == 15
    assert _counts(anytime.tables[None]) == {1: 4, 2: 3, 3: 3, 4: 1, 5: 1, 7: 2}
    assert anytime.undated == 0
    moscow = Term.objects.get(vocabulary__key="regions", key="ru-mow")
    only_moscow = estimates.population(ws, _scope(world, region=moscow))
    assert _counts(only_moscow.tables[None]) == {1: 1}  # g1; x1's act is in Chechnya
    later = estimates.population(ws, _scope(world, month_from=date(2017, 5, 1)))
    assert later.victims == 3  # y1, f1 and n2 of the May event
    with pytest.raises(estimates.NothingToEstimate, match="no victim"):
        estimates.population(ws, _scope(world, month_from=date(2020, 1, 1), month_to=None))


def test_victims_on_no_chosen_list_leave_nothing_to_estimate(ws, world) -> None:  # type: ignore[no-untyped-def]
    moscow = Term.objects.get(vocabulary__key="regions", key="ru-mow")
    scope = _scope(world, region=moscow)
    assert estimates.population(ws, scope).victims == 1  # g1, on S1
    without_s1 = replace(scope, sources=(world.sources["S2"], world.sources["S3"]))
    with pytest.raises(estimates.NothingToEstimate, match="named by a chosen source"):
        estimates.population(ws, without_s1)


def test_strata_put_each_victim_in_their_earliest_act(ws, world) -> None:  # type: ignore[no-untyped-def]
    found = estimates.population(ws, _scope(world, strata="region"))
    assert set(found.tables) == {"ru-ce", "ru-da"}
    assert found.tables["ru-ce"].observed == 12
    assert _counts(found.tables["ru-da"]) == {6: 1}
    assert found.several_strata == 1  # y1: March in Chechnya, May in Dagestan
    by_type = estimates.population(ws, _scope(world, strata="act_type"))
    assert set(by_type.tables) == {"arrest"}


def test_the_pattern_table_reads_back_with_the_cli_reader(ws, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = estimates.population(ws, _scope(world, strata="region"))
    text = estimates.pattern_csv(found)
    s1, s2, s3 = world.codes("S1", "S2", "S3")
    assert text.splitlines()[0] == f"{s1},{s2},{s3},region,count"
    assert "0,1,1,ru-da,1" in text.splitlines()
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    again = read_table(path, strata="region")
    assert {k: _counts(t) for k, t in again.items()} == {
        k: _counts(t) for k, t in found.tables.items()
    }


def test_sources_are_chosen_by_code_two_to_fifteen(ws, world) -> None:  # type: ignore[no-untyped-def]
    s1, s2 = world.codes("S1", "S2")
    chosen = estimates.sources_by_code(ws, [s2, s1, s1.lower()])
    assert [s.code for s in chosen] == [s1, s2]
    with pytest.raises(BadInput, match="from 2 to 15"):
        estimates.sources_by_code(ws, [s1])
    with pytest.raises(BadInput, match="no source"):
        estimates.sources_by_code(ws, [s1, "S-9999"])
    extra = [services.save(ws, Source(), {"title": f"Invented list {n}"}) for n in range(13)]
    sixteen = [s1, s2, world.sources["S3"].code, *(s.code for s in extra)]
    assert len(estimates.sources_by_code(ws, sixteen[:15])) == 15
    with pytest.raises(BadInput, match="16 source"):
        estimates.sources_by_code(ws, sixteen)
    offered = estimates.candidate_sources(ws)
    assert [(s.code, n) for s, n in offered] == [
        (s1, 11),
        (s2, 9),
        (world.sources["S3"].code, 5),
    ]


def test_audit_ids_are_short_identifiers_without_names() -> None:
    region = SimpleNamespace(key="north-caucasus-federal-district", pk=3)
    many = tuple(SimpleNamespace(pk=10_000 + n, code=f"S-{10_000 + n}") for n in range(15))
    scope = estimates.Scope(
        sources=many,  # type: ignore[arg-type]
        month_from=date(2017, 1, 1),
        region=region,  # type: ignore[arg-type]
        strata="act_type",
    )
    scope_id, ids = estimates.audit_ids(scope, ("loglinear", "dga", "lcmcr"))
    assert scope_id == "201701-:north-caucasus-federal-district::a:ldc"
    assert len(ids) == 2
    assert all(len(i) <= 64 for i in ids)
    assert ".".join(ids).split(".") == [str(s.pk) for s in many]
    # Keys that would read as a sequence of words (a passphrase's shape) give way to numbers.
    wordy = SimpleNamespace(key="aaa-bbb-ccc-ddd-eee", pk=7)
    scope = estimates.Scope(sources=many[:2], region=wordy)  # type: ignore[arg-type]
    assert estimates.audit_ids(scope, ("loglinear",)) == ("-:t7:::l", ["10000.10001"])
