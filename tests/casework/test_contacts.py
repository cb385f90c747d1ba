"""Canonical contact identifiers: every written form meets, neighbours stay apart (issue 9)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.casework import KINDS, guess_kind, lookup_key, normalise
from refugium.errors import BadInput

SAME_PHONE = [
    "+7 (928) 555-12-34",
    "89285551234",
    "8 928 555 12 34",
    "+79285551234",
    "7 928 5551234",
    "8-928-555-12-34",
    "8 (928) 555-12-34",
    "+7-928-555-12-34",
    " +7 928 555 12 34 ",
]


@pytest.mark.parametrize("written", SAME_PHONE)
def test_every_written_form_of_a_russian_number_is_one_e164(written: str) -> None:
    assert normalise(written, "phone") == "+79285551234"


def test_the_issues_three_forms_meet() -> None:
    forms = {
        normalise(x, "phone") for x in ("+7 (928) 555-12-34", "89285551234", "8 928 555 12 34")
    }
    assert forms == {"+79285551234"}


def test_a_neighbouring_number_does_not_meet() -> None:
    assert normalise("+79285551235", "phone") == "+79285551235"
    assert normalise("8 928 555 12 35", "phone") != normalise("8 928 555 12 34", "phone")


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+49 30 1234567", "+49301234567"),
        ("+49 (0)30 1234567", "+49301234567"),
        ("+995 32 212 3456", "+995322123456"),
        ("+995 555 12 34 56", "+995555123456"),
        ("+90 212 555 1234", "+902125551234"),
        ("+90 (532) 555 12 34", "+905325551234"),
    ],
)
def test_numbers_of_other_countries_in_international_form(written: str, e164: str) -> None:
    assert normalise(written, "phone") == e164


@pytest.mark.parametrize("impossible", ["123", "8 928 555", "+7 928 555 12 34 5", "+", "--"])
def test_an_impossible_number_is_refused(impossible: str) -> None:
    with pytest.raises(BadInput) as error:
        normalise(impossible, "phone")
    assert "phone number" in error.value.message


def test_a_phone_with_letters_is_refused_not_read_as_a_vanity_number() -> None:
    with pytest.raises(BadInput, match="no letters"):
        normalise("1-800-FLOWERS", "phone")


def test_errors_do_not_repeat_the_identifier() -> None:
    for text, kind in [("+7 928 5", "phone"), ("lure@", "email"), ("lure bot!", "telegram")]:
        with pytest.raises(BadInput) as error:
            normalise(text, kind)  # type: ignore[arg-type]
        assert text.strip() not in error.value.message


@pytest.mark.parametrize(
    "written",
    [
        "@Lure_Bot",
        "lure_bot",
        "LURE_BOT",
        "https://t.me/Lure_Bot",
        "t.me/lure_bot",
        "t.me/@lure_bot",
        "http://telegram.me/Lure_Bot/",
        " @lure_bot ",
    ],
)
def test_telegram_handles_are_lowercased_without_at_or_link(written: str) -> None:
    assert normalise(written, "telegram") == "lure_bot"


def test_neighbouring_telegram_handles_stay_apart() -> None:
    assert normalise("@lure_bot1", "telegram") != normalise("@lure_bot", "telegram")


@pytest.mark.parametrize("bad", ["@", "t.me/", "lure bot", "лжец", "@lure-bot"])
def test_what_is_not_a_telegram_username_is_refused(bad: str) -> None:
    with pytest.raises(BadInput):
        normalise(bad, "telegram")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Lure@Mail.RU", "lure@mail.ru"),
        ("  lure@mail.ru\n", "lure@mail.ru"),
        ("lure@mail.ru.", "lure@mail.ru"),
        ("Иван@Почта.РФ", "иван@xn--80a1acny.xn--p1ai"),
        ("lure@xn--80a1acny.xn--p1ai", "lure@xn--80a1acny.xn--p1ai"),
    ],
)
def test_email_whole_address_lowercased_and_domain_in_idna(written: str, canonical: str) -> None:
    assert normalise(written, "email") == canonical


def test_email_tags_and_dots_are_not_undone() -> None:
    assert normalise("l.ure+x@gmail.com", "email") != normalise("lure@gmail.com", "email")


@pytest.mark.parametrize(
    "bad",
    [
        "lure",
        "@mail.ru",
        "lure@",
        "lure@localhost",
        "lu re@mail.ru",
        "lure@mail..ru",
        "lure@-" + "x" * 70 + ".ru",
        "a<b>@mail.ru",
    ],
)
def test_malformed_email_is_refused(bad: str) -> None:
    with pytest.raises(BadInput):
        normalise(bad, "email")


def test_other_is_nfkc_casefolded_with_whitespace_collapsed() -> None:
    assert normalise("  Ｌｕｒｅ\tName.01  ", "other") == "lure name.01"
    assert normalise("STRASSE", "other") == normalise("straße", "other")


@pytest.mark.parametrize(("text", "kind"), [("", "phone"), ("   ", "other"), ("x" * 321, "other")])
def test_empty_and_overlong_are_refused(text: str, kind: str) -> None:
    with pytest.raises(BadInput):
        normalise(text, kind)  # type: ignore[arg-type]


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(BadInput, match="no kind of contact"):
        normalise("x", "fax")  # type: ignore[arg-type]


def test_the_lookup_key_keeps_kinds_apart() -> None:
    assert lookup_key("@lure", "telegram") == "telegram:lure"
    assert lookup_key("lure", "other") == "other:lure"
    assert lookup_key("8 928 555 12 34", "phone") == "phone:+79285551234"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("+7 (928) 555-12-34", "phone"),
        ("89285551234", "phone"),
        ("+49 30 1234567", "phone"),
        ("lure@mail.ru", "email"),
        ("@lure_bot", "telegram"),
        ("https://t.me/lure_bot", "telegram"),
        ("t.me/lure_bot", "telegram"),
        ("lure.01", "other"),
        ("123", "other"),
        ("Lure Bot", "other"),
        ("1-800-FLOWERS", "other"),
    ],
)
def test_guess_kind(text: str, kind: str) -> None:
    assert guess_kind(text) == kind


KIND = st.sampled_from(KINDS)
PHONEISH = st.text(alphabet="+()-. 0123456789٠١٢٣٤٥٦٧٨٩", max_size=30)
EMAILISH = st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=20), st.text(max_size=20))


@given(text=st.one_of(st.text(max_size=400), PHONEISH, EMAILISH), kind=KIND)
def test_normalise_raises_only_bad_input_and_is_idempotent(text: str, kind: str) -> None:
    try:
        once = normalise(text, kind)  # type: ignore[arg-type]
    except BadInput:
        return
    assert normalise(once, kind) == once  # type: ignore[arg-type]


@given(text=st.one_of(st.text(max_size=400), PHONEISH, EMAILISH))
def test_guess_kind_never_raises_and_the_guess_normalises_or_is_refused(text: str) -> None:
    kind = guess_kind(text)
    assert kind in KINDS
    if kind == "phone":
        assert normalise(text, kind).startswith("+")
