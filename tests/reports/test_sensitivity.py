"""The sensitivity file: the packaged one loads, and malformed ones are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from refugium.errors import BadInput
from refugium.reports import Sensitivity, class_of, default_policy, load_policy, parse_policy

GOOD = """
[person]
full_name = { class = "withhold", reason = "a name" }
[act]
when = { class = "coarsen", to = "week", reason = "a day" }
act_type = { class = "public", reason = "a term" }
"""


def test_the_packaged_policy_classifies_identifying_fields_as_never_published() -> None:
    for kind, field in [
        ("person", "full_name"),
        ("person", "contacts"),
        ("person", "addresses"),
        ("person", "id_documents"),
        ("person", "birth_date"),
        ("source", "name"),
        ("source", "contact"),
        ("place", "coordinates"),
        ("act", "exact_location"),
        ("information", "summary"),
    ]:
        assert class_of(kind, field) is Sensitivity.WITHHOLD, (kind, field)
    assert class_of("act", "victim") is Sensitivity.PSEUDONYMISE
    assert class_of("act", "act_type") is Sensitivity.PUBLIC
    rule = default_policy().rule("act", "when")
    assert rule.sensitivity is Sensitivity.COARSEN
    assert rule.to == "week"
    assert default_policy().rule("act", "place").to == "district"


def test_free_text_and_person_fields_are_never_public() -> None:
    # Remarks and descriptions are written for the desk; nothing about a person record is
    # published except through counts (tables) and pseudonyms.
    policy = default_policy()
    for rule in policy:
        if rule.field in ("remarks", "description", "summary", "source_ids"):
            assert rule.sensitivity is Sensitivity.WITHHOLD, rule
        if rule.kind == "person":
            assert rule.sensitivity is Sensitivity.WITHHOLD, rule


def test_a_parsed_policy_answers_and_iterates_in_order() -> None:
    policy = parse_policy(GOOD, "test.toml")
    assert policy.class_of("act", "when") is Sensitivity.COARSEN
    assert policy.kinds() == ("act", "person")
    assert policy.fields("act") == ("act_type", "when")
    assert [r.field for r in policy] == ["act_type", "when", "full_name"]


def test_an_unknown_field_is_an_error_not_public() -> None:
    with pytest.raises(BadInput, match="no sensitivity class") as e:
        parse_policy(GOOD).class_of("person", "nickname")
    assert e.value.code == "sensitivity_unknown_field"


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        (
            '[person]\nfull_name = { class = "withhold", reason = "a" }\n'
            'full_name = { class = "public", reason = "b" }\n',
            "sensitivity_duplicate",
            "line 3: field 'full_name' of 'person' is listed twice (first on line 2)",
        ),
        (
            '[person]\nfull_name = { class = "secret", reason = "a" }\n',
            "sensitivity_class",
            "[person] full_name: unknown class 'secret'",
        ),
        ('[act]\nwhen = { class = "coarsen", reason = "a" }\n', "sensitivity_target", "to ="),
        (
            '[act]\nwhen = { class = "public", to = "week", reason = "a" }\n',
            "sensitivity_target",
            "only class coarsen",
        ),
        ('[act]\nwhen = { class = "public" }\n', "sensitivity_reason", "a reason"),
        (
            '[act]\nwhen = { class = "public", reason = "a", why = "b" }\n',
            "sensitivity_shape",
            "unknown key 'why'",
        ),
        ('act = "public"\n', "sensitivity_shape", "table of fields"),
        ("[act\n", "sensitivity_toml", "not valid TOML"),
    ],
)
def test_malformed_files_are_refused_with_the_place_named(text: str, code: str, words: str) -> None:
    with pytest.raises(BadInput) as e:
        parse_policy(text, "x.toml")
    assert e.value.code == code
    assert words in e.value.message
    assert e.value.message.startswith("x.toml")


def test_load_policy_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assert load_policy(path).class_of("person", "full_name") is Sensitivity.WITHHOLD
    with pytest.raises(BadInput, match=r"missing\.toml: cannot read"):
        load_policy(tmp_path / "missing.toml")
