"""The shipped vocabulary files, and the loader's refusal of every kind of broken file."""

from __future__ import annotations

import contextlib
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.errors import BadInput
from refugium.records import vocabularies
from refugium.records.vocabularies import Term, Vocabulary, by_key, load, load_all, validate

# Vocabulary key -> ESF micro-thesaurus number (huridocs/OpenEvSys mt_vocab.list_code).
ESF_NUMBERS = {
    "act-types": 4,
    "violence-methods": 5,
    "counting-units": 7,
    "source-material-types": 16,
    "location-types": 17,
    "involvement-degrees": 18,
    "source-connections": 19,
    "intervention-types": 20,
    "relationship-types": 21,
    "chain-types": 22,
    "victim-characteristics": 23,
    "perpetrator-types": 24,
    "victim-status": 25,
    "perpetrator-status": 26,
    "intervention-responses": 27,
    "attribution": 28,
    "detention-types": 29,
    "whereabouts": 30,
    "legal-counsel": 31,
    "autopsy": 34,
    "death-certificate": 35,
    "statements-signed": 36,
    "medical-attention": 37,
    "intent": 38,
    "violation-status": 41,
    "reliability": 42,
    "intervention-status": 45,
}
OWN = {"sex", "gender-identity", "sexual-orientation", "place-kinds", "regions"}

# The codes docs/research documentation.md §1.1 quotes from schema/mysql-dbpopulate-mt.sql.
QUOTED = [
    ("act-types", "030101000000", "Arrest"),
    ("act-types", "030102000000", "Detention"),
    ("act-types", "030103000000", "Disappearance"),
    ("act-types", "020111110000", "Torture"),
    ("act-types", "130104000000", "Extortion"),
    ("act-types", "010101020000", "Extra-judicial execution"),
    (
        "violence-methods",
        "020600000000",
        "Held in a government or military facility without any legal authorisation",
    ),
    ("attribution", "010200000000", "Officials deny act"),
    ("whereabouts", "020000000000", "Capture is denied"),
    ("involvement-degrees", "010200000000", "Gave orders that led to the act"),
    ("chain-types", "020000000000", "Event which encompasses a number of smaller events"),
    ("reliability", "010000000000", "Highly reliable"),
    ("reliability", "050000000000", "Highly unreliable"),
    ("reliability", "990000000000", "Unknown"),
    ("victim-characteristics", "030400000000", "Homosexual"),
]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Vocabulary]:
    return by_key()


# -- the shipped files -----------------------------------------------------------------------


def test_every_shipped_file_loads_and_is_named_for_its_key() -> None:
    files = sorted(
        entry.name
        for entry in resources.files(vocabularies).iterdir()
        if entry.name.endswith(".json")
    )
    loaded = load_all()
    assert [f"{v.key}.json" for v in loaded] == files
    assert len(loaded) == len(ESF_NUMBERS) + len(OWN)


def test_each_esf_vocabulary_has_its_micro_thesaurus(shipped: dict[str, Vocabulary]) -> None:
    assert {key: v.esf_number for key, v in shipped.items() if v.esf_number is not None} == (
        ESF_NUMBERS
    )
    for key in ESF_NUMBERS:
        assert shipped[key].esf_name


def test_our_own_vocabularies_carry_no_esf_codes(shipped: dict[str, Vocabulary]) -> None:
    assert {key for key, v in shipped.items() if v.esf_number is None} == OWN
    for key in OWN:
        assert shipped[key].esf_name is None
        assert all(term.code is None for term in shipped[key].terms)


@pytest.mark.parametrize(("vocabulary", "code", "english"), QUOTED)
def test_codes_quoted_in_the_research_are_present(
    shipped: dict[str, Vocabulary], vocabulary: str, code: str, english: str
) -> None:
    term = shipped[vocabulary].by_code()[code]
    assert term.label["en"].startswith(english)
    assert term.label["ru"]


def test_the_esf_hierarchy_is_kept(shipped: dict[str, Vocabulary]) -> None:
    acts = shipped["act-types"]
    torture = acts.by_code()["020111110000"]
    assert [a.code for a in acts.ancestors(torture.key)] == [
        "020111000000",
        "020100000000",
        "020000000000",
    ]
    assert acts.ancestors("arrest")[-1].code == "030000000000"
    assert acts.term("forced-outing").parent == "direct-privacy"
    assert acts.term("forced-outing").code is None


def test_source_material_codes_are_flat(shipped: dict[str, Vocabulary]) -> None:
    # ESF's types of source material carry alphabetical codes, not a tree.
    assert all(term.parent is None for term in shipped["source-material-types"].terms)


def test_violation_status_follows_the_french_and_spanish_labels(
    shipped: dict[str, Vocabulary],
) -> None:
    # OpenEvSys's English labels for 02 and 04 are swapped; see the terms' notes.
    status = shipped["violation-status"].by_code()
    assert status["020000000000"].label["en"] == "Likely"
    assert status["040000000000"].label["en"] == "Unlikely"


def test_the_case_specific_terms_exist(shipped: dict[str, Vocabulary]) -> None:
    characteristics = shipped["victim-characteristics"].by_key()
    for key in ("perceived-lgbt", "lgbt-self-identified", "journalist", "human-rights-defender"):
        assert characteristics[key].code is None
        assert characteristics[key].note["en"]
    assert characteristics["relative-of-targeted-person"].code == "050101000000"
    assert shipped["regions"].term("ru-ce").label["ru"] == "Чеченская Республика"
    assert shipped["sex"].term("intersex").note["en"].startswith("Not in ESF")


def test_vocabulary_helpers(shipped: dict[str, Vocabulary]) -> None:
    reliability = shipped["reliability"]
    assert reliability.roots()[0].key == "highly-reliable"
    assert reliability.children("highly-reliable") == ()
    assert shipped["regions"].children("north-caucasus-federal-district")[0].key == "ru-ce"
    with pytest.raises(KeyError):
        reliability.term("no-such-term")
    assert hash(reliability.terms[0]) == hash(reliability.terms[0])
    assert reliability.terms[0].is_esf is True


def test_load_accepts_paths_traversables_and_open_files() -> None:
    entry = resources.files(vocabularies) / "reliability.json"
    from_traversable = load(entry)
    raw = entry.read_bytes()
    assert load(io.BytesIO(raw)) == from_traversable
    assert load(io.StringIO(raw.decode("utf-8"))) == from_traversable
    with resources.as_file(entry) as path:
        assert load(path) == from_traversable
        assert load(str(path)) == from_traversable


# -- broken files ----------------------------------------------------------------------------


def _good() -> dict[str, Any]:
    return {
        "key": "demo",
        "version": 1,
        "esf": {"micro_thesaurus": 4, "name": "Types of Acts"},
        "title": {"en": "Demo", "ru": "Демо"},
        "terms": [
            {
                "key": "liberty",
                "code": "030000000000",
                "parent": None,
                "label": {"en": "Liberty", "ru": "Свобода"},
            },
            {
                "key": "arrest",
                "code": "030101000000",
                "parent": "liberty",
                "label": {"en": "Arrest", "ru": "Задержание"},
                "note": {"en": "A note", "ru": "Примечание"},
            },
            {
                "key": "secret-prison",
                "code": None,
                "parent": "arrest",
                "label": {"en": "Secret prison", "ru": "Тайная тюрьма"},
            },
        ],
    }


def _write(tmp_path: Path, data: Any, name: str = "demo.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_good_example_loads(tmp_path: Path) -> None:
    vocabulary = load(_write(tmp_path, _good()))
    assert vocabulary == Vocabulary(
        key="demo",
        version=1,
        esf_number=4,
        esf_name="Types of Acts",
        title={"en": "Demo", "ru": "Демо"},
        terms=(
            Term("liberty", "030000000000", None, {"en": "Liberty", "ru": "Свобода"}),
            Term(
                "arrest",
                "030101000000",
                "liberty",
                {"en": "Arrest", "ru": "Задержание"},
                {"en": "A note", "ru": "Примечание"},
            ),
            Term("secret-prison", None, "arrest", {"en": "Secret prison", "ru": "Тайная тюрьма"}),
        ),
    )


def _term(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(term for term in data["terms"] if term["key"] == key)


def _broken(change: str) -> dict[str, Any]:
    data = _good()
    if change == "missing-term-field":
        del _term(data, "arrest")["label"]
    elif change == "missing-top-field":
        del data["title"]
    elif change == "unknown-field":
        _term(data, "arrest")["lable"] = {"en": "x", "ru": "x"}
    elif change == "bad-vocabulary-key":
        data["key"] = "Demo Vocabulary"
    elif change == "bad-term-key":
        _term(data, "arrest")["key"] = "Arrest"
    elif change == "duplicate-key":
        _term(data, "secret-prison")["parent"] = "liberty"
        _term(data, "secret-prison")["key"] = "arrest"
    elif change == "duplicate-code":
        _term(data, "secret-prison")["code"] = "030101000000"
    elif change == "unknown-parent":
        _term(data, "arrest")["parent"] = "freedom"
    elif change == "cycle":
        _term(data, "liberty")["parent"] = "secret-prison"
        _term(data, "liberty")["code"] = None
    elif change == "self-parent":
        _term(data, "arrest")["parent"] = "arrest"
    elif change == "missing-ru":
        del _term(data, "arrest")["label"]["ru"]
    elif change == "empty-label":
        _term(data, "arrest")["label"]["ru"] = "  "
    elif change == "missing-note-ru":
        del _term(data, "arrest")["note"]["ru"]
    elif change == "short-code":
        _term(data, "arrest")["code"] = "0301010000"
    elif change == "letters-in-code":
        _term(data, "arrest")["code"] = "03010100000A"
    elif change == "code-not-under-parent":
        _term(data, "arrest")["code"] = "020111110000"
    elif change == "code-above-parent":
        _term(data, "liberty")["code"] = "030101000000"
        _term(data, "arrest")["code"] = "030000000000"
    elif change == "own-vocabulary-with-code":
        data["esf"] = None
    elif change == "parent-after-child":
        data["terms"].reverse()
    elif change == "bad-version":
        data["version"] = True
    elif change == "bad-esf":
        data["esf"] = {"micro_thesaurus": "4", "name": "Types of Acts"}
    elif change == "no-terms":
        data["terms"] = []
    else:  # pragma: no cover
        raise AssertionError(change)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing-term-field", "term 'arrest': missing field label"),
        ("missing-top-field", "the file: missing field title"),
        ("unknown-field", "term 'arrest': unknown field lable"),
        ("bad-vocabulary-key", "the vocabulary key must be a lowercase ASCII slug"),
        ("bad-term-key", "term 'Arrest': key must be a lowercase ASCII slug"),
        ("duplicate-key", "term 'arrest': duplicate key"),
        ("duplicate-code", "term 'secret-prison': code 030101000000 is already used by 'arrest'"),
        ("unknown-parent", "term 'arrest': parent 'freedom' is not a term of this vocabulary"),
        ("cycle", "parent cycle (liberty -> secret-prison -> arrest -> liberty)"),
        ("self-parent", "term 'arrest': parent cycle (arrest -> arrest)"),
        ("missing-ru", "term 'arrest': label: missing 'ru'"),
        ("empty-label", "term 'arrest': label 'ru' must be non-empty text"),
        ("missing-note-ru", "term 'arrest': note: missing 'ru'"),
        ("short-code", "term 'arrest': code must be 12 digits or null"),
        ("letters-in-code", "term 'arrest': code must be 12 digits or null"),
        ("code-not-under-parent", "code 020111110000 is not under its parent 'liberty'"),
        ("code-above-parent", "code 030000000000 is not under its parent 'liberty'"),
        ("own-vocabulary-with-code", "a vocabulary of our own (esf null) cannot carry ESF codes"),
        ("parent-after-child", "its parent 'arrest' must be listed before it"),
        ("bad-version", "version must be a whole number from 1"),
        ("bad-esf", "esf.micro_thesaurus must be a positive whole number"),
        ("no-terms", "terms must be a non-empty list"),
    ],
)
def test_each_kind_of_broken_file_is_refused(tmp_path: Path, change: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        load(_write(tmp_path, _broken(change)))
    assert caught.value.message.startswith("demo.json: ")
    assert message in caught.value.message
    assert caught.value.code == "bad_input"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"key": "demo",', "demo.json: not valid JSON (Expecting property name"),
        (b"\xff\xfe{}", "demo.json: not UTF-8 text"),
        (
            b'{"key": "demo", "key": "demo"}',
            "demo.json: not valid JSON (the name 'key' appears twice)",
        ),
        (b"[]", "demo.json: the file must be a JSON object"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "demo.json"
    path.write_bytes(raw)
    with pytest.raises(BadInput) as caught:
        load(path)
    assert caught.value.message.startswith(message)


def test_a_file_named_for_another_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"other\.json: file name does not match key 'demo'"):
        load(_write(tmp_path, _good(), name="other.json"))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"nothing\.json: cannot read"):
        load(tmp_path / "nothing.json")


def test_validate_names_the_source() -> None:
    data = _broken("duplicate-key")
    with pytest.raises(BadInput, match=r"^upload \(demo\): term 'arrest': duplicate key$"):
        validate(data, source="upload")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_json)
def test_any_json_is_accepted_or_refused_with_bad_input(data: object) -> None:
    with contextlib.suppress(BadInput):
        validate(data)


@settings(max_examples=200)
@given(st.sampled_from(list(ESF_NUMBERS)), st.data())
def test_dropping_any_field_of_any_term_is_refused(key: str, data: st.DataObject) -> None:
    raw = json.loads((resources.files(vocabularies) / f"{key}.json").read_text("utf-8"))
    term = data.draw(st.sampled_from(raw["terms"]))
    field = data.draw(st.sampled_from(["key", "code", "parent", "label"]))
    del term[field]
    with pytest.raises(BadInput, match="missing field"):
        validate(raw, source=f"{key}.json")
