"""The withheld report names what was left out and why, and no hidden count."""

from __future__ import annotations

import pytest

from refugium.reports import Axis, Table, Withheld, default_policy, dumps, parse_policy


def _table() -> Table:
    rows = Axis("region", "Region", ("ru-che", "ru-in"), ("Chechnya", "Ingushetia"))
    cols = Axis("week", "Week", ("2017-W08", "2017-W09"), ("W8", "W9"))
    return Table.two_way("acts", "Acts", rows, cols, [[3, 17], [11, 23]]).protect(5)


def test_fields_come_from_the_policy_with_their_reasons() -> None:
    policy = parse_policy(
        '[act]\nwhen = { class = "coarsen", to = "week", reason = "a day identifies" }\n'
        'act_type = { class = "public", reason = "a term" }\n'
        'victim = { class = "pseudonymise", reason = "a person" }\n'
        '[person]\nfull_name = { class = "withhold", reason = "a name" }\n'
    )
    withheld = Withheld()
    withheld.add_policy(policy, kinds=("act",))
    data = withheld.to_json()
    assert data["fields"] == [
        {"kind": "act", "field": "victim", "reason": "pseudonymised", "detail": "a person"},
        {
            "kind": "act",
            "field": "when",
            "reason": "coarsened",
            "detail": "to week: a day identifies",
        },
    ]


def test_hidden_cells_are_listed_with_why_and_without_their_counts() -> None:
    withheld = Withheld()
    table = _table()
    withheld.add_table(table)
    withheld.note("4 acts dated only to the month are counted by month, not by week")
    cells = withheld.to_json()["cells"]
    assert {c["reason"] for c in cells} == {"primary", "complementary"}
    assert cells[0] == {
        "table": "acts",
        "row": "ru-che",
        "column": "2017-W08",
        "reason": "primary",
        "k": 5,
    }
    text = withheld.render_text()
    assert "acts [ru-che × 2017-W08]: primary: count below k=5" in text
    assert "complementary" in text
    assert "never publish" in text
    assert "4 acts dated only to the month" in text
    numbers = [v for c in cells for v in c.values() if isinstance(v, int)]
    assert set(numbers) == {5}  # only k: no count, hidden or not
    for count in (" 3", " 17", " 11", " 23"):
        assert count not in text.replace("k=5", "")


def test_totals_are_named_and_output_is_deterministic() -> None:
    rows = Axis("r", "R", ("a", "b"), ("A", "B"))
    table = Table.one_way("t", "T", rows, [1, 1]).protect(5)
    first, second = Withheld(), Withheld()
    first.add_table(table)
    first.add_policy(default_policy())
    second.add_policy(default_policy())
    second.add_table(table)
    assert dumps(first.to_json()) == dumps(second.to_json())
    assert any(c["row"] == "(total)" for c in first.to_json()["cells"])


def test_unprotected_tables_and_unknown_reasons_are_refused() -> None:
    rows = Axis("r", "R", ("a",), ("A",))
    with pytest.raises(ValueError, match="not protected"):
        Withheld().add_table(Table.one_way("t", "T", rows, [1]))
    with pytest.raises(ValueError, match="unknown reason"):
        Withheld().field("act", "when", "forgotten")  # type: ignore[arg-type]
