"""The check registry: one KindSpec per kind holds its options, notice wording and fix, and
the checks modules form layers with no import cycle and no late imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from xpostcheck.checks.context import NoticeValues
from xpostcheck.checks.registry import KINDS

PACKAGE = Path(__file__).resolve().parents[2] / "xpostcheck"

# Each checks module may import only the modules of lower layers.
LAYERS = {
    "textutil": 0,
    "credits": 0,
    "housestyle": 0,  # edits terms allow (time, place, style): pure word functions
    "siteprofile": 1,
    "context": 2,
    "changes": 2.5,  # what a copy changed: used by content (integrity) and compose (`when`)
    "text": 3,
    "links": 3,
    "embeds": 3,
    "commercial": 3,
    "content": 3,
    "keeplinks": 3,
    "compose": 3,
    "registry": 4,
}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported xpostcheck module, whether the import sits inside a function) per import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [(n, id(node) in nested) for n in names if n.startswith("xpostcheck")]
    return found


def test_checks_modules_are_layered() -> None:
    modules = sorted(p.stem for p in (PACKAGE / "checks").glob("*.py") if p.stem != "__init__")
    assert modules == sorted(LAYERS)
    for name, layer in LAYERS.items():
        for imported, _ in _imports(PACKAGE / "checks" / f"{name}.py"):
            if imported.startswith("xpostcheck.checks."):
                sibling = imported.rsplit(".", 1)[1]
                assert LAYERS[sibling] < layer, f"checks.{name} imports checks.{sibling}"


@pytest.mark.parametrize(
    "path",
    [*(PACKAGE / "checks").glob("*.py"), *(PACKAGE / "rules").glob("*.py")],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_late_package_imports(path: Path) -> None:
    assert [m for m, late in _imports(path) if late] == []


def test_every_kind_says_what_a_notice_asks() -> None:
    values = NoticeValues(
        publisher="Harbor News",
        title="Harbor dredging plan approved",
        url="https://harbor-news.example/2024/dredging-plan",
        authors="Ana Ruiz",
        year="2024",
        options={},
    )
    for kind, spec in KINDS.items():
        assert spec.kind == kind
        assert spec.condition and spec.condition == spec.condition.strip(), kind
        action, snippet = spec.fix_for(values)
        assert action and action[0].isupper(), kind
        assert isinstance(snippet, str), kind
