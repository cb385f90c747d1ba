"""Import and export: all or nothing, clear errors, nothing half-imported (issue 5)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from refugium.errors import BadInput
from refugium.web.records import services, transfer
from refugium.web.records.models import Act, Event, Person, Revision

pytestmark = pytest.mark.django_db

CONTRACT = "id,full_name,given_name,patronymic,family_name,birth_date,place,gender\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_persons_file_in_the_link_contract_imports_as_it_is(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path,
        "memorial.csv",
        CONTRACT
        + "118,Зелимхан Ахмедович Хасуев,,,,1990-05,Аргун,м\n"
        + "119,,Ruslan,,Magomadov,1987,Grozny,male\n"
        + "120,Иван Петров,,,,,,\n",
    )
    result = transfer.import_file(ws, path, "persons")
    assert result.imported == 3
    first = services.find_by_source_id(ws, "person", "memorial:118")
    values = services.read(ws, first, identity=True)
    assert values["full_name"] == "Зелимхан Ахмедович Хасуев"
    assert values["sex"] == "male"
    assert values["home_place"] == "Аргун"
    assert values["source_ids"] == ["memorial:118"]
    born = services.when_of(values, "birth_date")
    assert (born.earliest, born.latest) == (date(1990, 5, 1), date(1990, 5, 31))
    assert services.search_persons(ws, "Magomadov Ruslan")[0][1] in ("exact", "spelling")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,full_name\n1,\xc7a va\n", "not UTF-8"),
        (b"", "empty file"),
        (b"full_name\nIvan Petrov\n", "line 2: id: every row needs"),
        (
            CONTRACT.encode() + b"1,A B,,,,,,\n1,C D,,,,,,\n",
            "line 3: id: the same id appears twice",
        ),
        (CONTRACT.encode() + b"1,A B,,,,,,x\n", "line 2: sex: not a term of the vocabulary 'sex'"),
        (CONTRACT.encode() + b"1,A B,,,,31.02.1990,,\n", "line 2: birth_date"),
        (b"id,full_name,nickname\n1,A B,x\n", "unknown column 'nickname'"),
        (b"id,full_name\n1,A B,extra\n", "line 2: 3 cells where the header has 2"),
        (b'id,full_name\n1,"A B\n', "malformed CSV"),
        (b"id,id\n1,2\n", "the column 'id' appears twice"),
        (b"id,full_name\n1,A\x00B\n", "NUL bytes"),
    ],
)
def test_a_bad_file_stops_the_import_with_where_and_why(ws, tmp_path, content, message) -> None:  # type: ignore[no-untyped-def]
    good = b"id,full_name\n0,Good Row\n"
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(BadInput, match=message):
        transfer.import_file(ws, path, "persons")
    assert Person.objects.count() == 0
    assert Revision.objects.count() == 0
    assert transfer.import_file(ws, write(tmp_path, "good.csv", good), "persons").imported == 1


def test_errors_never_echo_the_value(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "swapped.csv", CONTRACT + "1,A B,,,,,,Secretname Secretov\n")
    with pytest.raises(BadInput) as caught:
        transfer.import_file(ws, path, "persons")
    assert "Secret" not in caught.value.message


def test_a_row_imported_before_is_refused(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "hotline.csv", "id,full_name\n7,A B\n")
    transfer.import_file(ws, path, "persons")
    with pytest.raises(BadInput, match="line 2: id: this id was imported before"):
        transfer.import_file(ws, path, "persons")
    assert Person.objects.count() == 1


def test_skip_bad_imports_the_good_rows_and_returns_the_bad(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "mixed.csv", CONTRACT + "1,A B,,,,,,\n2,C D,,,,1990-13,,\n3,E F,,,,,,\n")
    result = transfer.import_file(ws, path, "persons", skip_bad=True)
    assert result.imported == 2
    assert [(bad.where, bad.reason.split(":")[0]) for bad in result.rejected] == [
        ("line 3", "birth_date")
    ]
    rejects = tmp_path / "rejects.csv"
    transfer.write_rejects(rejects, result.rejected)
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert rows[0]["id"] == "2"
    assert rows[0]["_where"] == "line 3"


def test_events_and_acts_link_by_source_id_or_code(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    transfer.import_file(
        ws, write(tmp_path, "people.csv", "id,full_name\n1,A B\n2,C D\n"), "persons"
    )
    events = [{"id": "w1", "title": "First wave", "when": "late February 2017", "region": "ru-ce"}]
    transfer.import_file(ws, write(tmp_path, "events.json", json.dumps(events)), "events")
    event = Event.objects.get()
    assert event.month_from == date(2017, 2, 1)
    acts = (
        "id,event,victim,act_type,when,methods\n"
        f"a1,events:w1,people:1,arrest,26 February 2017,\n"
        f"a2,{event.code},people:2,Detention,,\n"
    )
    result = transfer.import_file(ws, write(tmp_path, "acts.csv", acts), "acts")
    assert result.imported == 2
    assert sorted(Act.objects.values_list("act_type__key", flat=True)) == ["arrest", "detention"]
    bad = "id,event,victim\nx,events:nope,people:1\n"
    with pytest.raises(BadInput, match="line 2: event: no event with the code or source id"):
        transfer.import_file(ws, write(tmp_path, "bad_acts.csv", bad), "acts")


def test_a_mapping_renames_columns_and_values(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mapping = write(
        tmp_path,
        "map.json",
        json.dumps(
            {
                "columns": {"ФИО": "full_name", "Пол": "sex", "ignored": None, "N": "id"},
                "values": {"sex": {"1": "male", "2": "female"}},
            }
        ),
    )
    path = write(tmp_path, "list.csv", "N,ФИО,Пол,ignored\n5,Анна Б,2,zzz\n")
    transfer.import_file(ws, path, "persons", mapping=transfer.Mapping_.load(mapping))
    values = services.read(ws, Person.objects.get(), identity=True)
    assert values["sex"] == "female"
    with pytest.raises(BadInput, match="not a readable JSON mapping"):
        transfer.Mapping_.load(write(tmp_path, "broken.json", "{"))


def test_full_and_redacted_exports(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = CONTRACT + "1,Хасан Хасанов,,,,1990,Аргун,м\n"
    transfer.import_file(ws, write(tmp_path, "src.csv", rows), "persons")
    full = tmp_path / "full.json"
    transfer.export(ws, "persons", full)
    record = json.loads(full.read_text(encoding="utf-8"))["records"][0]
    assert record["full_name"] == "Хасан Хасанов"
    assert record["code"] == "P-0001"
    redacted = tmp_path / "redacted.csv"
    result = transfer.export(ws, "persons", redacted, redacted=True)
    text = redacted.read_text(encoding="utf-8")
    assert "Хасан" not in text
    assert "Аргун" not in text
    assert "1990" not in text
    assert "P-0001" in text
    report = json.loads(Path(f"{redacted}.withheld.json").read_text(encoding="utf-8"))
    assert report["withheld"]["full_name"]["rows_with_a_value"] == 1
    assert result.withheld["home_place"] == 1


@pytest.mark.slow
def test_one_hundred_thousand_rows_import_in_one_transaction(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [CONTRACT.strip()]
    lines += [
        f"{i},Person{i} Family{i % 977},,,,19{50 + i % 50},Place{i % 31},m" for i in range(100_000)
    ]
    lines.append("bad,Last Row,,,,not a date,,")
    path = write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    with pytest.raises(BadInput, match="line 100002: birth_date"):
        transfer.import_file(ws, path, "persons")
    assert Person.objects.count() == 0
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert transfer.import_file(ws, path, "persons").imported == 100_000
    assert Person.objects.count() == 100_000


def test_a_json_export_names_the_esf_fields_and_a_failed_write_leaves_nothing(
    ws, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    transfer.import_file(ws, write(tmp_path, "src.csv", "id,full_name\n1,Ann Bee\n"), "persons")
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "persons.json"
    transfer.export(ws, "persons", out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["kind"] == "person"
    assert document["esf"]["full_name"] == "0903"
    assert document["esf"]["code"] == "0901"

    def full_disk(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space"):
        transfer.export(ws, "persons", exports / "again.json")
    assert sorted(p.name for p in exports.iterdir()) == ["persons.json"]
