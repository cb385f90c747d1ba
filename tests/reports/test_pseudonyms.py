"""Report pseudonyms: stable under one secret, unrelated under another, blind to ids' order."""

from __future__ import annotations

import pytest

from refugium.errors import BadInput
from refugium.reports import Pseudonyms, new_secret

SECRET = b"s" * 32
IDS = [f"P-{n:04d}" for n in range(1, 41)]


def test_same_secret_and_ids_give_the_same_pseudonyms_whatever_the_order() -> None:
    first = Pseudonyms(SECRET, "Person").assign(IDS)
    second = Pseudonyms(SECRET, "Person").assign(reversed(IDS))
    assert first == second
    assert sorted(first.values(), key=lambda n: int(n.split()[1])) == [
        f"Person {n}" for n in range(1, 41)
    ]


def test_numbering_follows_neither_the_codes_nor_their_creation_order() -> None:
    names = Pseudonyms(SECRET, "Person").assign(IDS)
    numbers = [int(names[i].split()[1]) for i in IDS]
    assert numbers != list(range(1, 41))
    assert numbers != list(range(40, 0, -1))
    assert all("P-" not in name for name in names.values())


def test_another_secret_or_prefix_gives_an_unrelated_numbering() -> None:
    mine = Pseudonyms(SECRET, "Person").assign(IDS)
    theirs = Pseudonyms(b"t" * 32, "Person").assign(IDS)
    same = sum(mine[i] == theirs[i] for i in IDS)
    assert same < 10  # 40 random permutations share about one fixed point
    events = Pseudonyms(SECRET, "Event").assign(IDS)
    assert [events[i].split()[1] for i in IDS] != [mine[i].split()[1] for i in IDS]


def test_lookup_and_reassignment() -> None:
    p = Pseudonyms(SECRET, "Person")
    with pytest.raises(KeyError):
        p["P-0001"]
    p.assign([1, 2, 3])
    assert p[2] == p["2"]
    assert len(p) == 3
    assert p.assign(["3", "2", "1", "1"])  # the same set again: the same answer
    with pytest.raises(BadInput, match="already assigned"):
        p.assign([1, 2, 3, 4])
    assert "s" * 16 not in repr(p)


def test_weak_secrets_and_empty_prefixes_are_refused() -> None:
    with pytest.raises(BadInput):
        Pseudonyms(b"short", "Person")
    with pytest.raises(BadInput):
        Pseudonyms("s" * 32, "Person")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        Pseudonyms(SECRET, " ")
    assert len(new_secret()) == 32
    assert new_secret() != new_secret()
