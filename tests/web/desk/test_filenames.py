"""Hostile file names made harmless for saving and showing (T19)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.web.desk.filenames import (
    FALLBACK,
    MAX_NAME_CHARS,
    ascii_fallback,
    content_disposition,
    safe_name,
)

DISPOSITION = re.compile(r'attachment; filename="([ -~]*)"; filename\*=UTF-8\'\'([!-~]+)')


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\report.docx", "report.docx"),
        ("..", FALLBACK),
        ("", FALLBACK),
        (None, FALLBACK),
        (["a"], FALLBACK),
        (".bashrc", "bashrc"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\x00b\x1b[31mc.txt", "ab[31mc.txt"),
        ('say "hi"; rm *.txt', "say _hi__ rm _.txt"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("  spaced   out  .pdf ", "spaced out .pdf"),
        ("Фото\u0301.jpg", "Фото\u0301.jpg"),
        ("e\u0301.txt", "\u00e9.txt"),  # NFC
    ],
)
def test_safe_name(original, expected):
    assert safe_name(original) == expected


def test_long_names_keep_their_extension():
    name = safe_name("я" * 500 + ".jpeg")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith("я.jpeg")
    assert len(safe_name("x" * 500)) == MAX_NAME_CHARS


@given(st.text(max_size=400))
def test_safe_name_is_always_a_harmless_last_component(original):
    name = safe_name(original)
    assert 0 < len(name) <= MAX_NAME_CHARS
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(".")
    assert name not in (".", "..")
    assert all(not unicodedata.category(ch).startswith("C") for ch in name)
    assert not re.search(r'[<>:"|?*;]', name)
    assert name == name.strip()
    assert safe_name(name) == name  # idempotent


@given(st.text(max_size=300))
def test_content_disposition_is_an_attachment_that_round_trips(original):
    header = content_disposition(original)
    match = DISPOSITION.fullmatch(header)
    assert match is not None, header
    assert unquote(match.group(2), errors="strict") == safe_name(original)
    assert match.group(1) == ascii_fallback(safe_name(original))
    assert "\r" not in header
    assert "\n" not in header


def test_ascii_fallback():
    assert ascii_fallback("отчёт.pdf") == "_____.pdf"
    assert ascii_fallback("отчёт") == FALLBACK
    assert ascii_fallback('a"b\\c%d') == "a_b_c_d"
