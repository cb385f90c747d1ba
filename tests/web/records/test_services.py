"""The documentation database's rules, through the services both front ends call."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from refugium.errors import BadInput, DecryptionFailed, NotFound
from refugium.web.accounts.models import Desk
from refugium.web.core.auditing import audit_log
from refugium.web.records import services, vocab
from refugium.web.records.models import (
    Act,
    ChainLink,
    Event,
    Information,
    Intervention,
    Involvement,
    Person,
    Place,
    Relationship,
    Source,
)

pytestmark = pytest.mark.django_db


def person(ws, **private):  # type: ignore[no-untyped-def]
    return services.save(ws, Person(), private)


def event(ws, **private):  # type: ignore[no-untyped-def]
    return services.save(ws, Event(), private)


def audit_actions() -> list[tuple[str, str]]:
    return [(e["body"]["action"], e["body"]["object"]["id"]) for e in audit_log().entries()]


def test_person_gets_a_code_and_its_names_are_sealed(ws) -> None:  # type: ignore[no-untyped-def]
    p = person(ws, full_name="Зелимхан Хасуев", contacts=["+7 928 000-11-22"])
    assert p.code == f"P-{p.pk:04d}"
    raw = bytes(p.identity) + bytes(p.details)
    assert "Хасуев".encode() not in raw
    assert b"928" not in raw


def test_reading_identity_writes_an_audit_entry_first(ws) -> None:  # type: ignore[no-untyped-def]
    p = person(ws, full_name="Ахмед Ахмедов", occupation="driver")
    plain = services.read(ws, p)
    assert plain["occupation"] == "driver"
    assert "full_name" not in plain
    assert ("records.read", p.code) not in audit_actions()
    revealed = services.read(ws, p, identity=True)
    assert revealed["full_name"] == "Ахмед Ахмедов"
    assert ("records.read", p.code) in audit_actions()


def test_an_act_cannot_exist_without_its_event_and_victim(ws) -> None:  # type: ignore[no-untyped-def]
    e = event(ws, title="Detentions in Argun")
    victim = person(ws, full_name="A B")
    with pytest.raises(BadInput, match="needs its event"):
        services.save(ws, Act(victim=victim), public={"act_type": "arrest"})
    with pytest.raises(BadInput, match="needs its victim"):
        services.save(ws, Act(event=e))
    with pytest.raises(IntegrityError), transaction.atomic():
        Act.objects.create(
            desk=ws.desk,
            event=e,
            created_on=date.today(),
            updated_on=date.today(),
            identity=b"",
            details=b"",
        )
    act = services.save(ws, Act(event=e, victim=victim), public={"act_type": "arrest"})
    assert act.act_type.key == "arrest"
    with pytest.raises(Exception, match="protected"):
        e.delete()


def test_terms_must_come_from_the_fields_vocabulary(ws) -> None:  # type: ignore[no-untyped-def]
    e, v = event(ws), person(ws)
    with pytest.raises(BadInput, match="act_type"):
        services.save(ws, Act(event=e, victim=v), public={"act_type": "male"})
    with pytest.raises(BadInput, match="sex"):
        person(ws, sex="arrest")
    assert person(ws, sex="male") is not None


def test_a_retired_term_stays_on_old_records_but_is_refused_on_new_ones(ws) -> None:  # type: ignore[no-untyped-def]
    vocab.add_term("sex", "test-retired", label_en="Retired", label_ru="Устаревший")
    p = person(ws, sex="test-retired", occupation="x")
    vocab.retire_term("sex", "test-retired")
    del ws._terms  # the next request's workspace reads the vocabularies afresh
    services.save(ws, p, {"occupation": "y"})
    assert services.read(ws, p, identity=True)["sex"] == "test-retired"
    with pytest.raises(BadInput, match="sex"):
        person(ws, sex="test-retired")


def test_months_are_public_and_days_stay_sealed(ws) -> None:  # type: ignore[no-untyped-def]
    e = event(ws, when="late February 2017")
    assert (e.month_from, e.month_to) == (date(2017, 2, 1), date(2017, 2, 1))
    when = services.when_of(services.read(ws, e))
    assert (when.earliest, when.latest) == (date(2017, 2, 21), date(2017, 2, 28))
    e = services.save(ws, e, {"when": "between 20 March and 4 April 2017"})
    assert (e.month_from, e.month_to) == (date(2017, 3, 1), date(2017, 4, 1))
    with pytest.raises(BadInput, match="when"):
        event(ws, when="the day after the wedding")


def test_every_change_keeps_a_sealed_revision(ws) -> None:  # type: ignore[no-untyped-def]
    p = person(ws, full_name="Old Name", occupation="teacher")
    services.save(ws, p, {"full_name": "New Name", "occupation": "driver"})
    services.save(ws, p, {"occupation": "driver"})  # no change: no revision
    plain = services.history(ws, p)
    assert [c.action for c in plain] == ["create", "change"]
    assert plain[1].fields == {"occupation": ["teacher", "driver"]}
    full = services.history(ws, p, identity=True)
    assert full[1].fields["full_name"] == ["Old Name", "New Name"]
    assert full[1].actor == "admin"
    assert ("records.history", p.code) in audit_actions()


def test_a_sealed_column_copied_to_another_row_does_not_open(ws) -> None:  # type: ignore[no-untyped-def]
    a = person(ws, full_name="First Person")
    b = person(ws, full_name="Second Person")
    b.identity = a.identity
    b.save()
    with pytest.raises(DecryptionFailed):
        services.read(ws, Person.objects.get(pk=b.pk), identity=True)
    a.details = a.identity
    with pytest.raises(DecryptionFailed):
        services.read(ws, a)


@pytest.mark.parametrize(
    ("query", "how"),
    [
        ("Зелимхан Хасуев", "exact"),
        ("Zelimkhan Khasuev", "spelling"),
        ("KHASUYEV Zelimhan", "spelling"),
        ("Хасуев", "part"),
        ("khasuev", "part"),
    ],
)
def test_name_search_finds_a_person_in_any_script_without_plaintext(ws, query, how) -> None:  # type: ignore[no-untyped-def]
    target = person(ws, full_name="Зелимхан Хасуев")
    person(ws, full_name="Ахмед Ахмедов")
    found = services.search_persons(ws, query)
    assert found[0] == (target, how)
    assert len(found) == 1


def test_other_names_are_searchable_and_renames_leave_no_stale_keys(ws) -> None:  # type: ignore[no-untyped-def]
    p = person(ws, full_name="Иса Мусаев", other_names=["Isa Musayev"])
    assert services.search_persons(ws, "Isa Musayev")[0][0] == p
    services.save(ws, p, {"full_name": "Муса Исаев", "other_names": []})
    assert services.search_persons(ws, "Мусаев") == []
    assert services.search_persons(ws, "Исаев")[0][0] == p


def test_information_is_about_an_event_or_a_person(ws) -> None:  # type: ignore[no-untyped-def]
    source = services.save(ws, Source(), {"title": "Interview 3"})
    with pytest.raises(BadInput, match="information"):
        services.save(ws, Information(source=source), {"summary": "…"})
    info = services.save(ws, Information(source=source, event=event(ws)), {"summary": "ok"})
    assert info.pk


def test_links_between_records(ws) -> None:  # type: ignore[no-untyped-def]
    first, second = event(ws, title="Wave 1"), event(ws, title="Wave 2")
    link = services.save(ws, ChainLink(from_event=first, to_event=second))
    assert list(first.chain_out.all()) == [link]
    with pytest.raises(BadInput):
        services.save(ws, ChainLink(from_event=first, to_event=first))
    victim, officer, brother = person(ws), person(ws), person(ws)
    facility = services.save(ws, Place(), {"name": "Unofficial prison"}, {"kind": None})
    act = services.save(ws, Act(event=first, victim=victim, place=facility))
    services.save(ws, Involvement(act=act, perpetrator=officer))
    services.save(ws, Relationship(person=victim, other=brother), {"danger": True})
    assert list(facility.acts.all()) == [act]
    assert list(officer.involvements.values_list("act", flat=True)) == [act.pk]
    with pytest.raises(BadInput):
        services.save(ws, Relationship(person=victim, other=victim))


def test_unknown_fields_and_bad_values_are_named(ws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput, match="no field 'nickname'"):
        person(ws, nickname="x")
    with pytest.raises(BadInput, match="full_name: one line only"):
        person(ws, full_name="a\nb")
    with pytest.raises(BadInput, match="contacts: at most"):
        person(ws, contacts=["x"] * 101)
    with pytest.raises(BadInput, match="deceased"):
        person(ws, deceased="yes")


def test_records_of_another_desk_are_not_found(ws) -> None:  # type: ignore[no-untyped-def]
    p = person(ws, full_name="X")
    assert services.get(ws, "person", p.code) == p
    Person.objects.filter(pk=p.pk).update(desk=Desk.objects.get(name="casework"))
    with pytest.raises(NotFound):
        services.get(ws, "person", p.code)
    with pytest.raises(NotFound):
        services.get(ws, "person", "P-x1")


def test_interventions_keep_their_type_and_status_sealed(ws) -> None:  # type: ignore[no-untyped-def]
    victim = person(ws, full_name="X Y")
    with pytest.raises(BadInput, match="intervention"):
        services.save(ws, Intervention(), {"intervention_type": "appeal"})
    kinds = [t.key for t in ws.terms("intervention-types")]
    item = services.save(
        ws,
        Intervention(victim=victim),
        {"intervention_type": kinds[0], "when": "April 2017", "parties_requested": "UN WGEID"},
    )
    assert services.read(ws, item)["intervention_type"] == kinds[0]
    assert kinds[0].encode() not in bytes(item.details)
    assert list(victim.interventions.all()) == [item]


def test_an_events_timeline_orders_acts_and_linked_events_by_earliest_day(ws) -> None:  # type: ignore[no-untyped-def]
    from refugium.web.records import timeline

    wave = event(ws, title="Wave", when="spring 2017")
    earlier = event(ws, title="Earlier", when="late 2016")
    services.save(ws, ChainLink(from_event=earlier, to_event=wave))
    victim = person(ws, full_name="V W")
    late = services.save(ws, Act(event=wave, victim=victim), {"when": "20 May 2017"})
    undated = services.save(ws, Act(event=wave, victim=victim))
    early = services.save(ws, Act(event=wave, victim=victim), {"when": "early March 2017"})
    entries = timeline.of(ws, wave)
    # Same earliest day: the narrower span first. An act without a date of its own takes its
    # event's span rather than going last.
    assert [e.row for e in entries] == [earlier, early, wave, undated, late]
    assert entries[3].when == entries[2].when


def test_read_identities_audits_every_row_before_opening_any(ws) -> None:  # type: ignore[no-untyped-def]
    first = person(ws, full_name="Ахмед Ахмедов")
    second = person(ws, full_name="Руслан Русланов", occupation="driver")
    found = services.read_identities(ws, [first, second], why="watchlist")
    assert [v["full_name"] for v in found] == ["Ахмед Ахмедов", "Руслан Русланов"]
    assert found[1]["occupation"] == "driver"
    actions = audit_actions()
    assert actions[-2:] == [("records.watchlist", first.code), ("records.watchlist", second.code)]
    assert services.read_identities(ws, [], why="watchlist") == []


def test_check_constraints_evaluated_in_python_agree_with_the_database(ws) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError
    from django.db.models import CheckConstraint

    first, second = event(ws), event(ws)
    a, b = person(ws), person(ws)
    source = services.save(ws, Source(), {"title": "Interview 4"})
    rows = [
        ChainLink(from_event=first, to_event=second),
        ChainLink(from_event=first, to_event=first),
        Relationship(person=a, other=b),
        Relationship(person=a, other=a),
        Information(source=source),
        Information(source=source, person=a),
        Information(source=source, event=first, person=a),
        Intervention(),
        Intervention(victim=b),
    ]
    for row in rows:
        for constraint in type(row)._meta.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            held = services._holds(constraint.condition, row)
            assert held is not None, constraint.name
            try:
                constraint.validate(type(row), row)
                database = True
            except ValidationError:
                database = False
            assert held is database, (constraint.name, row)
