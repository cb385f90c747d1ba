"""Every field of the data model has a sensitivity class, and the file names no other.

A field added to a schema or a public column added to a model fails this test until someone
decides in src/refugium/reports/data/sensitivity.toml how it may be published; a field
removed from the model fails it until its stale line is removed.
"""

from __future__ import annotations

from refugium.reports import Sensitivity, default_policy
from refugium.web.records.models import RECORD_TYPES


def _model_fields() -> set[tuple[str, str]]:
    fields: set[tuple[str, str]] = set()
    for kind, model in RECORD_TYPES.items():
        fields.update((kind, f.name) for f in model.SCHEMA)
        fields.update((kind, column) for column in model.PUBLIC)
    return fields


def test_the_sensitivity_file_lists_exactly_the_fields_of_the_data_model() -> None:
    listed = set(default_policy().rules)
    model = _model_fields()
    missing = sorted(model - listed)
    extra = sorted(listed - model)
    assert not missing, f"fields without a sensitivity class: {missing}"
    assert not extra, f"sensitivity classes for fields that do not exist: {extra}"


def test_identifying_fields_are_never_public_or_coarsened() -> None:
    policy = default_policy()
    for kind, model in RECORD_TYPES.items():
        for field in model.SCHEMA:
            if field.identifying:
                assert policy.class_of(kind, field.name) in (
                    Sensitivity.WITHHOLD,
                    Sensitivity.PSEUDONYMISE,
                ), (kind, field.name)


def test_free_text_is_withheld_and_coded_terms_are_not_left_undecided() -> None:
    policy = default_policy()
    for kind, model in RECORD_TYPES.items():
        for field in model.SCHEMA:
            rule = policy.rule(kind, field.name)
            if field.kind in ("longtext", "list"):
                assert rule.sensitivity is Sensitivity.WITHHOLD, (kind, field.name)
            if field.kind == "date" and rule.sensitivity is Sensitivity.COARSEN:
                assert rule.to in ("week", "month"), (kind, field.name)
