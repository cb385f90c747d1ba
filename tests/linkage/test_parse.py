"""Splitting names into parts, and name forms: real-world spellings of one person's name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.linkage import forms
from refugium.linkage.parse import family_key, parse_name, patronymic_key
from refugium.linkage.prepare import birth_parts, document_key, place_key, prepare, sex

# (written, expected (given, father's name, family), why the row is here)
FULL_NAMES: list[tuple[str, tuple[str, str, str], str]] = [
    ("Зелимхан Ахмедович Хасуев", ("zelimhan", "ahmed", "hasuev"), "Western order, Cyrillic"),
    ("Хасуев Зелимхан Ахмедович", ("zelimhan", "ahmed", "hasuev"), "Russian document order"),
    ("Zelimkhan Khasuev", ("zelimhan", "", "hasuev"), "press: given then family, ICAO kh"),
    ("KHASUYEV Zelimhan", ("zelimhan", "", "hasuev"), "UN list: family name in capitals"),
    ("KHASUYEV ZELIMHAN", ("zelimhan", "", "hasuev"), "all capitals: the ending decides"),
    ("Хасуев, Зелимхан", ("zelimhan", "", "hasuev"), "comma after the family name"),
    ("Зелим Х.", ("zelimhan", "", ""), "hotline: short form of the given name, family initial"),
    ("Хасуева Марьям Ахмедовна", ("mariam", "ahmed", "hasuev"), "feminine family, patronymic"),
    ("Zelimkhan Akhmedovich Khasuev", ("zelimhan", "ahmed", "hasuev"), "Latin patronymic"),
    ("Mokhmad Dudaev", ("magomed", "", "dudaev"), "Chechen form of Магомед"),
    ("Мохьмад Дудаев", ("magomed", "", "dudaev"), "Chechen хь in the given name"),
    ("Саша Иванов", ("aleksandr", "", "ivanov"), "diminutive mapped to the full name"),
    ("Ӏалавди Гучигов", ("alavdi", "", "guchigov"), "palochka at the start of a given name"),
    ("1алавди Гучигов", ("alavdi", "", "guchigov"), "palochka typed as the digit 1"),
    ("Magomadieva Zina", ("zina", "", "magomadiev"), "Family Given without capitals: -eva wins"),
    ("Хасуев", ("", "", "hasuev"), "a family name alone"),
    ("Хасбулат", ("hasbulat", "", ""), "a given name alone"),
    ("Хож-Ахмед Магомадов", ("hozhahmed", "", "magomadov"), "hyphenated given name"),
    ("Sulaiman Musaewitsch Basajew", ("suleiman", "musa", "basaev"), "German spelling"),
    ("Гусейн Алиев", ("husein", "", "aliev"), "Dagestani form of Хусейн"),
    ("Асет Мусаевна Исаева", ("aset", "musa", "isaev"), "female, Chechen"),
    ("", ("", "", ""), "nothing written"),
]


@pytest.mark.parametrize(("written", "expected", "why"), FULL_NAMES)
def test_full_names_split_into_parts(written: str, expected: tuple[str, str, str], why: str):
    name = parse_name(written)
    assert (name.given, name.patronymic, name.family) == expected, why


def test_columns_win_over_the_full_name_and_initials_are_kept():
    name = parse_name(given="Lena", family="M.")
    assert (name.given, name.family, name.family_initial) == ("elena", "", "m")
    assert parse_name("Хасуев Зелимхан", given="Зелим").given == "zelimhan"
    assert parse_name("Хасуев Зелимхан", family="Khasuyeva").family == "hasuev"
    assert parse_name("Хасуев З. А.").given_initial == "z"
    assert parse_name(given="Хож Ахмед").given == parse_name(given="Хож-Ахмед").given


def test_shared_short_forms_resolve_by_sex():
    assert parse_name(given="Саша", sex="f").given == "aleksandra"
    assert parse_name(given="Саша", sex="m").given == "aleksandr"
    assert parse_name(given="Саша").given == "aleksandr"  # the first listed


def test_keys_of_parts():
    assert family_key("hasueva") == family_key("hasuev") == "hasuev"
    assert family_key("dzhabrailovskaia") == "dzhabrailovski"
    assert patronymic_key("ahmedovna") == patronymic_key("ahmedovich") == "ahmed"


def test_keys_read_back_in_cyrillic():
    assert parse_name("KHASUYEV Zelimhan Akhmedovich").cyrillic() == "зелимхан (ахмед) хасуев"
    assert parse_name("Jusupow Iljas").cyrillic() == "иляс юсупов"


def test_name_repr_shows_no_name():
    assert "hasuev" not in repr(parse_name("Хасуев"))


def test_form_table_refuses_malformed_lines():
    with pytest.raises(forms.FormTableError, match="line 2"):
        forms.load("m Ахмед | Ахмад\nx Хасан\n")
    table = forms.load("# comment\n\nm Магомед | Мохьмад\n")
    assert table.canonical("mohmad") == "magomed"
    assert table.canonical("unknown") == "unknown"


def test_the_shipped_table_loads_and_every_form_is_a_given_name():
    table = forms.table()
    assert table.is_given_name("zelim")
    assert table.canonical("zelim") == "zelimhan"
    assert not table.is_given_name("hasuev")


def test_document_numbers_compare_by_letters_and_digits():
    assert document_key("45 06 123456") == document_key("4506-123456") == "4506123456"
    assert document_key("ab １２３") == "AB123"
    assert document_key(" - ") == ""


def test_other_keys():
    assert place_key("с. Урус-Мартан") == place_key("Urus-Martan village") == "urusmartan"
    assert place_key("г. Грозный") == place_key("Grozny")
    assert [sex(v) for v in ("М", "female", "ж.", "m", "", "unknown")] == [
        "m", "f", "f", "m", None, None,
    ]  # fmt: skip
    assert birth_parts("1985-03").month == 3
    assert birth_parts("1985").month is None
    for bad in ("1985-13", "1985-02-30", "12.03.1985", "85"):
        with pytest.raises(ValueError, match=r"month|day|expected"):
            birth_parts(bad)


text = st.text(st.characters(codec="utf-8"), max_size=40)


@given(text, text, text, text, text)
def test_parsing_never_raises(full: str, given_: str, patronymic: str, family: str, gender: str):
    name = parse_name(full, given_, patronymic, family, sex(gender))
    for part in (name.given, name.patronymic, name.family):
        assert part == part.strip()


@given(st.lists(st.fixed_dictionaries({"full_name": text, "place": text, "gender": text})))
def test_prepare_never_raises_on_names(rows: list[dict[str, str]]):
    table = prepare(rows)
    assert list(table.unique_id) == list(range(len(rows)))


def test_the_fold_memo_lives_only_inside_its_block():
    """Names must not outlive the linkage run that folded them (a server process lives long)."""
    from refugium.linkage import names

    with names.memoised():
        names.fold("Хасуев Зелимхан")
        memo = names._MEMO.get()
        assert memo is not None
        assert len(memo) == 2
    assert names._MEMO.get() is None
