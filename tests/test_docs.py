"""Every command has help and a section in docs/cli.md (sqlite-utils' test_docs idea)."""

from __future__ import annotations

import argparse
from pathlib import Path

from refugium.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = list(_commands(sub, (*prefix, name)))
                if nested:
                    yield from nested
                else:
                    yield (*prefix, name), sub


def test_every_command_has_help_and_a_doc_section():
    text = (DOCS / "cli.md").read_text()
    commands = list(_commands(build_parser()))
    assert len(commands) == 54
    for path, parser in commands:
        assert parser.description, f"{' '.join(path)} has no description"
        assert f"### refugium {' '.join(path)}\n" in text, f"{' '.join(path)} is not in cli.md"


def test_the_docs_named_in_the_readme_exist():
    readme = (DOCS.parent / "README.md").read_text()
    for name in ("threat-model.md", "keys.md", "cli.md", "operations.md"):
        assert f"docs/{name}" in readme
        assert (DOCS / name).is_file()


def _fenced_blocks(text: str, *, indented: bool = False) -> list[str]:
    blocks, current = [], None
    for line in text.splitlines(keepends=True):
        if (line.lstrip(" ") if indented else line).startswith("```"):
            if current is None:
                current = [line]
            else:
                current.append(line)
                blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, "an unclosed code block"
    return blocks


def test_casework_ru_follows_the_english():
    english = (DOCS / "casework.md").read_text()
    russian_path = DOCS / "casework.ru.md"
    assert russian_path.is_file()
    russian = russian_path.read_text()
    assert "casework.ru.md" in english
    assert "[casework.md](casework.md)" in russian
    for prefix in ("## ", "### "):
        count = sum(line.startswith(prefix) for line in english.splitlines())
        assert count == sum(line.startswith(prefix) for line in russian.splitlines()), prefix
    blocks = _fenced_blocks(english)
    assert blocks
    for block in blocks:
        assert block in russian, f"code block missing from casework.ru.md:\n{block}"


def _split_reports_doc() -> tuple[str, str]:
    """docs/reports.md: the English half, and the Russian half from its first Cyrillic heading."""
    lines = (DOCS / "reports.md").read_text().splitlines(keepends=True)
    first = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("#") and any("\u0400" <= c <= "\u04ff" for c in line)
    )
    return "".join(lines[:first]), "".join(lines[first:])


def _headings(text: str, prefix: str, *, skip_section: str | None = None) -> list[str]:
    found, fenced, skipping = [], False, False
    for line in text.splitlines():
        if line.lstrip(" ").startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("## "):
            skipping = line[3:].strip() == skip_section
        if line.startswith(prefix) and not skipping:
            found.append(line)
    return found


def test_reports_ru_follows_the_english():
    english, russian = _split_reports_doc()
    assert "## Writing a definition" in english
    assert "## Как написать определение доклада" in russian
    for prefix in ("## ", "### "):
        en = _headings(english, prefix, skip_section="The reports page")
        ru = _headings(russian, prefix)
        assert en, prefix
        assert len(ru) >= len(en), f"{prefix!r}: English {en}, Russian {ru}"
    blocks = _fenced_blocks(english, indented=True)
    assert len(blocks) >= 9
    for block in blocks:
        assert block in russian, f"code block missing from the Russian half of reports.md:\n{block}"
