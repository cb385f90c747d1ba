"""Imports point one way: the desk uses the intake, never the reverse (STYLE §5), so that
nothing of the researchers' side can leak into pages a person at risk sees."""

from __future__ import annotations

import ast
from pathlib import Path

import refugium.web.intake

INTAKE = Path(refugium.web.intake.__file__).parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_intake_never_imports_desk():
    sources = sorted(INTAKE.rglob("*.py"))
    assert sources
    offenders = {
        str(path.relative_to(INTAKE)): sorted(n for n in _imports(path) if "web.desk" in n)
        for path in sources
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_intake_templates_never_use_desk_urls():
    templates = sorted((INTAKE / "templates").rglob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        assert "'desk:" not in text
        assert '"desk:' not in text
        assert "/desk/" not in text
