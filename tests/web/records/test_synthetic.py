"""The synthetic campaign: consistent, reproducible, and sealed like any other records."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from refugium.records import dates
from refugium.web.records import services, synthetic
from refugium.web.records.models import (
    Act,
    ChainLink,
    Event,
    Information,
    Involvement,
    Person,
    Relationship,
)


def _flat(batches):  # type: ignore[no-untyped-def]
    return [
        (kind, spec.private, spec.public)
        for batch in batches
        for kind, specs in batch.groups
        for spec in specs
    ]


def test_the_same_seed_gives_the_same_campaign_and_another_seed_another() -> None:
    first = _flat(synthetic.plan(100, seed=7))
    assert first == _flat(synthetic.plan(100, seed=7))
    assert first != _flat(synthetic.plan(100, seed=8))


def test_sizes_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="from 100 to 100000"):
        synthetic.plan(99)
    with pytest.raises(ValueError, match="from 100 to 100000"):
        synthetic.plan(100_001)
    assert synthetic.plan(100) is not None


def test_every_title_and_free_text_says_synthetic() -> None:
    texts = [
        value
        for _, private, _ in _flat(synthetic.plan(100))
        for name, value in private.items()
        if name in ("title", "name", "description", "remarks", "summary", "local_area")
    ]
    assert len(texts) > 500
    assert [t for t in texts if "SYNTHETIC" not in t] == []


@pytest.mark.django_db
def test_a_small_campaign_is_consistent_searchable_and_sealed(ws) -> None:  # type: ignore[no-untyped-def]
    written = synthetic.generate(ws, 100)
    counts = written.counts
    assert counts["event"] == Event.objects.count() == 100
    assert 250 <= counts["act"] <= 360
    assert 140 <= counts["person"] <= 160
    assert counts["relationship"] == Relationship.objects.count() == 10
    assert Involvement.objects.count() > 30
    assert ChainLink.objects.filter(chain_type__key="encompasses").exists()
    # Every act has its event and its victim; persons are victims more than once.
    assert not Act.objects.filter(event__isnull=True).exists()
    assert not Act.objects.filter(victim__isnull=True).exists()
    per_victim = Counter(Act.objects.values_list("victim_id", flat=True))
    assert max(per_victim.values()) >= 3
    # Some perpetrators are victims of other acts.
    assert Involvement.objects.filter(perpetrator__acts__isnull=False).exists()
    # Persons appear in several sources.
    sources = Counter(
        Information.objects.filter(person__isnull=False)
        .values_list("person_id", "source_id")
        .distinct()
        .values_list("person_id", flat=True)
    )
    assert max(sources.values()) >= 2
    # Relatives who are a danger to the person are flagged.
    assert any(services.read(ws, r)["danger"] is True for r in Relationship.objects.all())
    # Dates keep the witnesses' precision, from exact days to whole years.
    precisions = {services.when_of(services.read(ws, e)).precision for e in Event.objects.all()}
    assert {dates.Precision.DAY, dates.Precision.RANGE} <= precisions
    assert len(precisions) >= 5
    # Names are found through the keyed name index.
    victim = Person.objects.get(pk=per_victim.most_common(1)[0][0])
    name = services.read(ws, victim, identity=True)["full_name"]
    found = services.search_persons(ws, name)
    assert (victim, "exact") in found
    # That no name reaches the database file in plaintext is checked on real, committed
    # files by tests/test_seized_records.py.


def test_the_command_line_takes_the_same_sizes() -> None:
    from refugium import cli

    assert (cli.MIN_EVENTS, cli.MAX_EVENTS) == (synthetic.MIN_EVENTS, synthetic.MAX_EVENTS)


@pytest.mark.django_db
def test_list_pages_take_the_same_few_queries_however_many_rows(  # type: ignore[no-untyped-def]
    ws, signed_in, django_assert_max_num_queries
) -> None:
    synthetic.generate(ws, 100)
    browser = signed_in()
    for url in ("/records/events/", "/records/acts/", "/records/events/?region=ru-ce&page=2"):
        # Links show codes from the row's own keys and terms come in the same query: a
        # page of 50 acts used to cost 300 queries more.
        with django_assert_max_num_queries(16):
            assert browser.get(url).status_code == 200


@pytest.mark.django_db
def test_acts_filter_by_their_own_type(ws, signed_in) -> None:  # type: ignore[no-untyped-def]
    synthetic.generate(ws, 100)
    page = signed_in().get("/records/acts/?act_type=arrest")
    assert page.status_code == 200
    text = page.content.decode()
    arrests = Act.objects.filter(act_type__key="arrest").order_by("-id")
    assert arrests.count() > 50
    assert all(f">{act.code}<" in text for act in arrests[:50])
    other = Act.objects.exclude(act_type__key="arrest").order_by("-id").first()
    assert f">{other.code}<" not in text


@pytest.mark.django_db
def test_events_filter_by_the_type_of_their_acts(ws, signed_in) -> None:  # type: ignore[no-untyped-def]
    synthetic.generate(ws, 100)
    page = signed_in().get("/records/events/?act_type=torture")
    assert page.status_code == 200
    text = page.content.decode()
    with_torture = Event.objects.filter(acts__act_type__key="torture").distinct().order_by("-id")
    expected = [event.code for event in with_torture]
    assert 10 < len(expected) < Event.objects.count()
    shown = [code for code in re.findall(r">(E-\d+)<", text)]
    assert shown == expected[:50]
