"""Finding, confirming and rejecting possible duplicate Persons (web/matches/services.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from refugium.errors import Conflict
from refugium.web.evidence.models import Item, Link
from refugium.web.matches import services
from refugium.web.matches.models import PersonMatch
from refugium.web.records import services as records
from refugium.web.records.models import (
    Act,
    Event,
    Information,
    Intervention,
    NameKey,
    Person,
    Relationship,
    Revision,
    Source,
)
from tests.web.desk.conftest import audit_entries
from tests.web.matches.conftest import make_person

pytestmark = pytest.mark.django_db


def _pair(first: Person, second: Person) -> PersonMatch:
    a, b = sorted((first, second), key=lambda p: p.pk)
    return PersonMatch.objects.get(person_a=a, person_b=b)


def _files(root: Path) -> set[str]:
    return {str(Path(d, f).relative_to(root)) for d, _dirs, fs in os.walk(root) for f in fs} | {
        str(Path(d, sub).relative_to(root)) for d, dirs, _fs in os.walk(root) for sub in dirs
    }


def test_the_same_man_in_two_scripts_is_proposed_after_one_audited_bulk_read(
    ws, people, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    data_root = Path(settings.DATA.root)
    before = _files(data_root)
    found = services.find_candidates(ws)

    assert found.persons == 60
    match = _pair(people["first"], people["second"])
    assert match.status == PersonMatch.Status.OPEN
    assert 0.05 <= match.probability <= 1.0
    assert not PersonMatch.objects.filter(person_a=people["other"]).exists()
    assert not PersonMatch.objects.filter(person_b=people["other"]).exists()
    entries = audit_entries()
    assert entries.count(("admin", "records.find_duplicates", "person", "all:60")) == 1
    assert not [e for e in entries if e[1] == "records.read"]
    # Nothing decrypted reached the disk: no DuckDB spill folder, no new file anywhere.
    assert os.listdir(work) == []
    assert not (Path.cwd() / ".tmp").exists()
    assert _files(data_root) == before
    # The match stores codes and a probability only.
    assert {f.name for f in PersonMatch._meta.concrete_fields} == {
        "id", "desk", "person_a", "person_b", "probability", "status", "created_on",
        "decided_by", "decided_on", "kept", "merged", "moved",
    }  # fmt: skip


def test_rerunning_updates_open_pairs_and_never_resurrects_a_decision(ws, people) -> None:  # type: ignore[no-untyped-def]
    services.find_candidates(ws)
    match = _pair(people["first"], people["second"])
    services.reject(ws, match)
    assert ("admin", "records.not_duplicate", "person", "P-0001:P-0060") in audit_entries()
    open_before = PersonMatch.objects.filter(status="open").count()

    services.find_candidates(ws)
    match.refresh_from_db()
    assert match.status == PersonMatch.Status.REJECTED
    assert match.decided_by.username == "admin"
    assert PersonMatch.objects.filter(person_a=match.person_a, person_b=match.person_b).count() == 1
    assert PersonMatch.objects.filter(status="open").count() == open_before
    with pytest.raises(Conflict, match="already decided"):
        services.confirm(ws, match)


def test_confirming_moves_every_link_and_keeps_the_merged_person(ws, people) -> None:  # type: ignore[no-untyped-def]
    first, second, other = people["first"], people["second"], people["other"]
    event = records.save(ws, Event(), {"title": "Detentions in Argun", "when": "2017-02"})
    act = records.save(ws, Act(event=event, victim=second), {"when": "2017-02-26"})
    related = records.save(ws, Relationship(person=other, other=second))
    source = records.save(ws, Source(person=second), {"title": "His statement"})
    told = records.save(ws, Information(source=source, person=second), {"summary": "He said"})
    helped = records.save(ws, Intervention(event=event, party=second))
    item = Item.objects.create(
        desk=ws.desk, stored_name="x" * 32, size=1, added_on=event.created_on, commitment="0"
    )
    Link.objects.create(item=item, record_type="person", record_pk=second.pk)
    services.find_candidates(ws)
    match = _pair(first, second)

    services.confirm(ws, match)

    match.refresh_from_db()
    assert (match.status, match.kept, match.merged) == ("confirmed", first, second)
    for row, column in (
        (act, "victim"),
        (related, "other"),
        (source, "person"),
        (told, "person"),
        (helped, "party"),
    ):
        row.refresh_from_db()
        assert getattr(row, column) == first, (row, column)
    assert Link.objects.get(item=item).record_pk == first.pk
    assert match.moved_links == {
        "records.Act.victim": [act.pk],
        "records.Information.person": [told.pk],
        "records.Intervention.party": [helped.pk],
        "records.Relationship.other": [related.pk],
        "records.Source.person": [source.pk],
        "evidence.Link.record_pk": [Link.objects.get(item=item).pk],
    }
    # The merged Person stays whole: its row, sealed identity, name index and revisions.
    kept_row = Person.objects.get(pk=second.pk)
    assert records.read(ws, kept_row, identity=True)["family_name"] == "Khasuev"
    assert NameKey.objects.filter(person=second).exists()
    actions = list(Revision.objects.filter(record_uid=second.uid).values_list("action", flat=True))
    assert actions == ["create", "merge"]
    assert services.merged_into(second) == first
    # Each moved record's history says where its link went.
    assert Revision.objects.filter(record_uid=act.uid, action="change").exists()
    assert ("admin", "records.merge", "person", "P-0060:P-0001") in audit_entries()

    # The merged Person takes no part in later searches, and cannot be merged again.
    services.find_candidates(ws)
    assert not PersonMatch.objects.filter(status="open", person_b=second).exists()
    again = PersonMatch.objects.create(
        desk=ws.desk, person_a=other, person_b=second, probability=0.5, created_on=event.created_on
    )
    with pytest.raises(Conflict, match="already merged into P-0001"):
        services.confirm(ws, again)


def test_a_pair_related_to_each_other_is_refused_and_nothing_moves(ws, people) -> None:  # type: ignore[no-untyped-def]
    first, second = people["first"], people["second"]
    records.save(ws, Relationship(person=first, other=second))
    services.find_candidates(ws)
    match = _pair(first, second)
    with pytest.raises(Conflict, match="relationship"):
        services.confirm(ws, match)
    match.refresh_from_db()
    assert match.status == "open"
    assert services.merged_into(second) is None


def test_one_person_is_a_clear_error_and_two_are_compared(ws) -> None:  # type: ignore[no-untyped-def]
    make_person(ws, full_name="Зелимхан Хасуев")
    with pytest.raises(services.LinkageFailed, match="at least two persons"):
        services.find_candidates(ws)
    make_person(ws, full_name="Khasuev Zelimkhan")
    found = services.find_candidates(ws)  # the model falls back rather than failing
    assert found.persons == 2


@pytest.mark.parametrize(
    ("stored", "text"),
    [
        ("14 February 1985", "1985-02-14"),
        ("February 1985", "1985-02"),
        ("late February 1985", "1985-02"),
        ("1985", "1985"),
        ("between 1984 and 1986", ""),
    ],
)
def test_birth_dates_reach_the_model_only_as_precise_as_they_were_given(stored, text) -> None:  # type: ignore[no-untyped-def]
    from refugium.records import dates

    assert services.birth_date_text(dates.parse(stored).to_json()) == text
