"""Vocabularies in the database: loaded at creation, synced after upgrades, extended by an
administrator without code (issue 5)."""

from __future__ import annotations

import dataclasses

import pytest

from refugium.errors import BadInput, Conflict, NotFound
from refugium.records.vocabularies import load_all
from refugium.web.records import vocab
from refugium.web.records.models import RECORD_TYPES, Term, TermField, Vocabulary

pytestmark = pytest.mark.django_db


def test_the_migration_loaded_every_shipped_vocabulary_and_term() -> None:
    shipped = load_all()
    assert Vocabulary.objects.count() == len(shipped)
    for source in shipped:
        keys = set(Term.objects.filter(vocabulary__key=source.key).values_list("key", flat=True))
        assert keys == {term.key for term in source.terms}, source.key
    arrest = Term.objects.get(vocabulary__key="act-types", key="arrest")
    assert (arrest.code, arrest.label_en) == ("030101000000", "Arrest")
    assert arrest.label("ru") == arrest.label_ru != ""


def test_every_vocabulary_the_schema_names_exists() -> None:
    named = {spec.vocabulary for m in RECORD_TYPES.values() for spec in m.SCHEMA if spec.vocabulary}
    named |= {
        column.vocabulary
        for m in RECORD_TYPES.values()
        for column in m._meta.concrete_fields
        if isinstance(column, TermField)
    }
    assert named <= set(Vocabulary.objects.values_list("key", flat=True))


def test_sync_adds_relabels_and_retires_but_never_deletes_or_touches_local_terms() -> None:
    vocab.add_term("sex", "local-one", label_en="Local", label_ru="Местный")
    source = next(v for v in load_all() if v.key == "sex")
    first, *rest = source.terms
    relabelled = dataclasses.replace(rest[0], label={"en": "New label", "ru": "Новая"})
    added = dataclasses.replace(rest[0], key="brand-new", label={"en": "New", "ru": "Новый"})
    newer = dataclasses.replace(
        source, version=source.version + 1, terms=(relabelled, *rest[1:], added)
    )
    report = vocab.sync([newer])
    assert (report.added, report.retired) == (1, 1)
    assert Term.objects.get(vocabulary__key="sex", key=first.key).retired
    assert Term.objects.get(vocabulary__key="sex", key=rest[0].key).label_en == "New label"
    assert not Term.objects.get(vocabulary__key="sex", key="local-one").retired
    assert Vocabulary.objects.get(key="sex").version == source.version + 1
    # Running it again changes nothing.
    again = vocab.sync([newer])
    assert (again.added, again.updated, again.retired) == (0, 0, 0)


def test_an_administrators_term_is_checked() -> None:
    with pytest.raises(NotFound):
        vocab.add_term("no-such-vocabulary", "x", label_en="X", label_ru="Х")
    with pytest.raises(BadInput, match="lowercase"):
        vocab.add_term("sex", "Bad Key", label_en="X", label_ru="Х")
    with pytest.raises(BadInput, match="Russian label"):
        vocab.add_term("sex", "ok", label_en="X", label_ru=" ")
    with pytest.raises(Conflict):
        vocab.add_term("sex", "male", label_en="X", label_ru="Х")
    with pytest.raises(NotFound):
        vocab.add_term("sex", "child", label_en="X", label_ru="Х", parent="nope")
    term = vocab.add_term(
        "act-types",
        "forced-outing-call",
        label_en="Outing call",
        label_ru="Звонок с угрозой разоблачения",
        parent="arrest",
    )
    assert (term.local, term.parent.key) == (True, "arrest")
    shown = dict(vocab.choices("act-types"))
    depth = len(shown["arrest"]) - len(shown["arrest"].lstrip("\u2003"))
    assert shown["forced-outing-call"] == "\u2003" * (depth + 1) + "Outing call"
