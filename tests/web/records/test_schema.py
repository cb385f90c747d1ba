"""Only the columns the schema declares public are plaintext (issue 5, DESIGN §2)."""

from __future__ import annotations

import pytest
from django.apps import apps

from refugium.web.records.models import RECORD_TYPES, Record, TermField
from refugium.web.records.schema import Field

BOOKKEEPING = {"id", "uid", "desk", "created_on", "updated_on"}
SEALED = {"identity", "details"}
# Models of the app that are not records, with every column they may hold and why.
OTHER_MODELS = {
    "Vocabulary": {"id", "key", "version", "esf_number", "title_en", "title_ru"},
    "Term": {
        "id",
        "vocabulary",
        "key",
        "code",
        "parent",
        "label_en",
        "label_ru",
        "note_en",
        "note_ru",
        "position",
        "retired",
        "local",
    },
    "InformationFile": {"id", "information", "attachment"},
    "NameKey": {"id", "person", "digest"},
    "ExternalId": {"id", "record_type", "record_pk", "digest"},
    "Revision": {"id", "uid", "record_type", "record_uid", "actor", "at", "action"} | SEALED,
}


@pytest.mark.parametrize("model", RECORD_TYPES.values(), ids=list(RECORD_TYPES))
def test_a_records_plaintext_columns_are_declared_public(model: type[Record]) -> None:
    columns = {f.name for f in model._meta.concrete_fields}
    assert columns - BOOKKEEPING - SEALED == set(model.PUBLIC)


def test_every_model_of_the_app_is_accounted_for() -> None:
    for model in apps.get_app_config("records").get_models():
        if model in RECORD_TYPES.values():
            continue
        assert model.__name__ in OTHER_MODELS, f"{model.__name__}: declare its columns here"
        assert {f.name for f in model._meta.concrete_fields} == OTHER_MODELS[model.__name__]


@pytest.mark.parametrize("model", RECORD_TYPES.values(), ids=list(RECORD_TYPES))
def test_schema_fields_are_unique_and_terms_name_their_vocabulary(model: type[Record]) -> None:
    names = [spec.name for spec in model.SCHEMA]
    assert len(names) == len(set(names))
    for spec in model.SCHEMA:
        assert isinstance(spec, Field)
        assert bool(spec.vocabulary) == (spec.kind in ("term", "terms")), spec.name
    for column in model._meta.concrete_fields:
        if isinstance(column, TermField):
            assert column.vocabulary, column.name


def test_identifying_fields_of_a_person_are_in_the_audited_column() -> None:
    from refugium.web.records.models import Person

    identifying = {spec.name for spec in Person.SCHEMA if spec.identifying}
    assert {"full_name", "birth_date", "contacts", "sexual_orientation", "addresses"} <= identifying


def test_the_data_model_doc_lists_every_field_where_the_schema_stores_it() -> None:
    from pathlib import Path

    from refugium.web.records.schema import PUBLIC_ESF

    text = (Path(__file__).resolve().parents[3] / "docs" / "data-model.md").read_text("utf-8")
    for kind, model in RECORD_TYPES.items():
        section = text.split(f"### {model.__name__} (`{model.PREFIX}-0001`)")[1]
        section = section.split("\n### ")[0]
        rows = {
            cells[0].strip("` "): (cells[2].strip(), cells[3].strip())
            for line in section.splitlines()
            if line.startswith("| `")
            for cells in [line.strip("|").split("|")]
        }
        expected = {
            name: ("plaintext", PUBLIC_ESF.get(kind, {}).get(name, "—")) for name in model.PUBLIC
        }
        expected |= {s.name: (f"sealed: {s.column}", s.esf or "—") for s in model.SCHEMA}
        assert rows == expected, kind
