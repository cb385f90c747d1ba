"""Report definitions: every problem named with its key path, unknown keys refused, the
canonical JSON stable and itself a valid definition."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.errors import BadInput
from refugium.records import vocabularies
from refugium.reports import definition
from refugium.reports.definition import BadDefinition, Definition, Period, Sections

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "report.toml"

MINIMAL = """
[title]
en = "Detentions"
ru = "Задержания"

[period]
from = "2017-02"
to = "2017-12"
"""


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(BadDefinition) as caught:
        definition.parse(text, source="r.toml")
    assert str(caught.value).count("r.toml: ") == min(len(caught.value.problems), 50)
    return caught.value.problems


def test_minimal_definition_takes_the_defaults():
    d = definition.parse(MINIMAL)
    assert d.title == {"en": "Detentions", "ru": "Задержания"}
    # A month resolves to its first day (from) and its last (to), both included.
    assert d.period == Period(date(2017, 2, 1), date(2017, 12, 31))
    assert d.desk == "documentation"
    assert d.k == 5
    assert d.date_grain == "month"
    assert d.place_grain == "region"
    assert d.epsilon is None
    assert d.regions == ()
    assert d.act_types == ()
    assert d.languages == ("en", "ru")
    assert d.sections == Sections()
    assert d.sections.by_wave
    assert d.sections.evidence
    assert d.sections.estimates == ()
    assert d.sections.case_summaries == ()


def test_days_months_and_toml_dates():
    d = definition.parse(
        '[title]\nen = "T"\nru = "Т"\n[period]\nfrom = 2017-02-20\nto = "2016-02"\n'.replace(
            '"2016-02"', '"2017-02"'
        )
    )
    assert d.period == Period(date(2017, 2, 20), date(2017, 2, 28))
    leap = definition.parse(MINIMAL.replace('"2017-12"', '"2020-02"'))
    assert leap.period.end == date(2020, 2, 29)
    day = definition.parse(MINIMAL.replace('"2017-12"', '"2017-03-15"'))
    assert day.period.end == date(2017, 3, 15)


def test_every_setting():
    d = definition.parse(
        MINIMAL
        + """
[noise]
epsilon = 0.5
[sections]
by_facility = false
estimates = ["lcmcr", "loglinear"]
case_summaries = ["E-0042", "A-0007"]
"""
        + "\n"
    )
    assert d.epsilon == 0.5
    assert not d.sections.by_facility
    assert d.sections.by_place
    # Methods in the estimation package's order; summaries in the researchers' order.
    assert d.sections.estimates == ("loglinear", "lcmcr")
    assert d.sections.case_summaries == ("E-0042", "A-0007")
    every = definition.parse(MINIMAL.replace("[title]", "[sections]\nestimates = true\n[title]"))
    assert every.sections.estimates == ("loglinear", "lcmcr", "dga")


def test_methods_match_the_estimation_package():
    from refugium.estimation.run import METHODS

    assert definition.ESTIMATION_METHODS == METHODS


def test_every_problem_is_reported_at_once_with_its_key_path():
    text = """
regoins = ["ru-ce"]
act_types = ["arrest", "Arrest", "arrest"]
k = 1
date_grain = "day"
place_grain = "town"
desk = "Documentation!"
languages = ["en", "ru", "de"]
noise = {epsilon = -1}

[title]
en = ""
fr = "Détentions"

[period]
from = "2017-13"
until = "2017-12"

[sections]
by_wave = "yes"
estimates = ["lcmcr", "bayes"]
case_summaries = ["E-42"]
timelime = true
"""
    problems = problems_of(text)
    expected = [
        "regoins: unknown key; did you mean 'regions'?",
        "act_types[1]: 'Arrest' is not a vocabulary key",
        "act_types[2]: 'arrest' is listed twice",
        "k: is 1; at least 2",
        "date_grain: must be one of week, month, not 'day'",
        "place_grain: must be one of district, region, not 'town'",
        "desk: must be a desk's name",
        "languages[2]: 'de' is not one of en, ru",
        "noise.epsilon: is -1; it must be a finite number above 0",
        "title.fr: unknown key",
        "title.en: is empty",
        "title.ru: missing; the report is built in 'ru'",
        "period.until: unknown key",
        "period.from: '2017-13' is not a real month or day",
        "period.to: missing",
        "sections.timelime: unknown key; did you mean 'timeline'?",
        "sections.by_wave: must be true or false, not 'yes'",
        "sections.estimates[1]: 'bayes' is not a method",
        "sections.case_summaries[0]: 'E-42' is not a record code",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected), problems


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "title: missing"),
        (
            MINIMAL.replace('from = "2017-02"', 'from = "2018-01"'),
            "period: from (2018-01-01) is after to (2017-12-31)",
        ),
        (
            MINIMAL.replace('"2017-12"', "2017-12-01T10:00:00"),
            "period.to: a date without a time of day",
        ),
        (MINIMAL.replace('"2017-12"', "2017"), "period.to: must be a month"),
        (
            MINIMAL.replace('"2017-12"', '"2017-02-30"'),
            "period.to: '2017-02-30' is not a real month or day",
        ),
        (
            MINIMAL.replace('"2017-12"', '"Dec 2017"'),
            "period.to: 'Dec 2017' is neither a month",
        ),
        ("regions = []\n" + MINIMAL, "regions: is empty, which would select nothing"),
        ('regions = "ru-ce"\n' + MINIMAL, "regions: must be a list of text"),
        ("k = 5.0\n" + MINIMAL, "k: must be a whole number, not 5.0"),
        ("k = true\n" + MINIMAL, "k: must be a whole number, not true/false"),
        ('noise = "on"\n' + MINIMAL, 'noise: must be "off" or a table'),
        ("noise = {epsilon = nan}\n" + MINIMAL, "noise.epsilon: is nan"),
        ("noise = {epsilon = inf}\n" + MINIMAL, "noise.epsilon: is inf"),
        ("noise = {epsilon = true}\n" + MINIMAL, "noise.epsilon: must be a number"),
        ("noise = {}\n" + MINIMAL, "noise.epsilon: missing"),
        ("languages = []\n" + MINIMAL, "languages: at least one"),
        ("sections = 1\n" + MINIMAL, "sections: must be a table"),
        (
            MINIMAL.replace('ru = "Задержания"', 'ru = "Задер\\nжания"'),
            "title.ru: contains a control character",
        ),
        (
            MINIMAL.replace('ru = "Задержания"', f'ru = "{"я" * 201}"'),
            "title.ru: is 201 characters",
        ),
        (
            'title = "Detentions"\n[period]\nfrom = "2017-01"\nto = "2017-02"\n',
            "title: must be a table",
        ),
        ("[title\n", "not valid TOML: "),
    ],
)
def test_single_problems(text, problem):
    problems = problems_of(text)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_title_only_for_the_built_languages():
    d = definition.parse('languages = ["ru"]\n' + MINIMAL.replace('en = "Detentions"\n', ""))
    assert d.languages == ("ru",)
    assert d.title == {"ru": "Задержания"}


def test_languages_take_the_canonical_order():
    assert definition.parse('languages = ["ru", "en"]\n' + MINIMAL).languages == ("en", "ru")


def test_bad_definition_is_bad_input_and_names_the_file(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("k = 0\n" + MINIMAL, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        definition.load(path)
    assert f"{path}: k: is 0" in str(caught.value)
    assert str(caught.value).startswith("1 problem in the report definition:")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(BadDefinition, match="not UTF-8"):
        definition.load(path)
    with pytest.raises(BadInput, match="cannot read"):
        definition.load(tmp_path / "missing.toml")


def test_many_problems_are_capped_in_the_message_but_all_kept():
    lines = "".join(f"typo{i} = 1\n" for i in range(70))
    with pytest.raises(BadDefinition) as caught:
        definition.parse(lines + MINIMAL, source="r.toml")
    assert len(caught.value.problems) == 70
    assert "… and 20 more" in str(caught.value)


def test_canonical_json_is_stable_and_a_definition():
    a = definition.parse('act_types = ["torture", "arrest"]\n' + MINIMAL)
    b = definition.parse('act_types = ["arrest", "torture"]\n' + MINIMAL)
    assert a == b
    assert a.to_json() == b.to_json()
    data = json.loads(a.to_json())
    assert data["period"] == {"from": "2017-02-01", "to": "2017-12-31"}
    assert data["noise"] == "off"
    assert "regions" not in data  # no filter: absent, since an empty list is refused
    assert definition.from_mapping(data) == a


# --- Hypothesis: any definition survives its canonical JSON ---------------------------------

_slugs = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
_titles = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=80
).filter(lambda s: s.strip() == s and s != "")


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    languages = tuple(lang for lang in ("en", "ru") if draw(st.booleans())) or ("ru",)
    start = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)))
    end = draw(st.dates(min_value=start, max_value=date(2040, 12, 31)))
    flags = {name: draw(st.booleans()) for name in definition._BOOL_SECTIONS}
    methods = draw(st.sets(st.sampled_from(definition.ESTIMATION_METHODS)))
    codes = draw(
        st.lists(st.from_regex(r"[LEPSAVNI]-[0-9]{4,6}", fullmatch=True), unique=True, max_size=4)
    )
    return Definition(
        title={lang: draw(_titles) for lang in languages},
        period=Period(start, end),
        desk=draw(st.sampled_from(["documentation", "casework", "desk-2"])),
        regions=tuple(sorted(draw(st.sets(_slugs, max_size=4)))),
        act_types=tuple(sorted(draw(st.sets(_slugs, max_size=4)))),
        k=draw(st.integers(min_value=2, max_value=10_000)),
        date_grain=draw(st.sampled_from(definition.DATE_GRAINS)),
        place_grain=draw(st.sampled_from(definition.PLACE_GRAINS)),
        epsilon=draw(
            st.none()
            | st.floats(min_value=1e-6, max_value=100, allow_nan=False, allow_infinity=False)
        ),
        sections=Sections(
            **flags,
            estimates=tuple(m for m in definition.ESTIMATION_METHODS if m in methods),
            case_summaries=tuple(codes),
        ),
        languages=languages,
    )


@given(definitions())
def test_round_trip_through_canonical_json(d):
    text = d.to_json()
    again = definition.from_mapping(json.loads(text))
    assert again == d
    assert again.to_json() == text


# --- The shipped example --------------------------------------------------------------------


def test_the_example_parses_and_names_only_shipped_terms():
    d = definition.load(EXAMPLE)
    vocab = vocabularies.by_key()
    assert set(vocab["regions"].by_key()) >= set(d.regions)
    problems = definition.unknown_terms(
        d,
        regions=vocab["regions"].by_key(),
        act_types=vocab["act-types"].by_key(),
    )
    assert problems == []
    assert d.desk == "documentation"
    assert d.languages == ("en", "ru")


def test_the_example_selects_the_demo_campaign():
    """The demo's waves must fall in the period, most of its acts in the act types and most
    of its places in the regions, or the report of the demo would show no waves."""
    synthetic = pytest.importorskip("refugium.web.records.synthetic")
    d = definition.load(EXAMPLE)
    for wave in synthetic.WAVES:
        assert d.period.start <= wave.start, wave
        assert wave.end <= d.period.end, wave
    assert d.date_grain == "month"  # weeks over five years would all be suppressed
    act_weight = dict(synthetic.ACT_TYPES)
    chosen = sum(act_weight[a] for a in d.act_types)
    assert chosen / sum(act_weight.values()) > 0.8
    region_weight = dict(synthetic.REGIONS)
    assert set(d.regions) <= set(region_weight)
    assert sum(region_weight[r] for r in d.regions) / sum(region_weight.values()) > 0.85
    assert d.sections.by_wave


def test_unknown_terms_names_each_missing_term():
    d = definition.parse(
        'regions = ["ru-ce", "ru-xx"]\nact_types = ["arrest", "flogging"]\n' + MINIMAL
    )
    assert definition.unknown_terms(d, regions=["ru-ce"], act_types=["arrest"]) == [
        "regions: 'ru-xx' is not a region in the vocabulary",
        "act_types: 'flogging' is not an act type in the vocabulary",
    ]


@given(definitions())
def test_round_trip_through_toml(d):
    """What the definition page saves reads back as the same definition."""
    assert definition.parse(d.to_toml()) == d


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_any_text_survives_as_a_toml_string(text):
    assert tomllib.loads(f"x = {definition._toml_string(text)}")["x"] == text


def test_the_example_survives_toml():
    d = definition.load(EXAMPLE)
    text = d.to_toml()
    assert definition.parse(text) == d
    assert text.startswith('desk = "documentation"\nlanguages = ["en", "ru"]\n')
    assert "\n[sections]\nby_wave = true\n" in text
    with_noise = definition.parse(text.replace('noise = "off"', "noise = {epsilon = 0.25}"))
    assert "noise = {epsilon = 0.25}" in with_noise.to_toml()
