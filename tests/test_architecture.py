"""The house rules of the layout (ARCHITECTURE.md): layers import downwards only, rooms stay small.

Parsed from the source (every `import`, module-level or inside a function), so a new upward import or an
oversized module fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ETL = Path(__file__).resolve().parents[1] / "etl"

#: Lowest first; a module may import its own layer and any layer below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("etl", "etl.settings", "etl.connections", "etl.progress"),
    ("etl.domain",),
    ("etl.ingest",),
    ("etl.transform",),
    ("etl.storage",),
    ("etl.pipeline",),
    ("etl.simulate",),
    ("etl.bi",),
    ("etl.orchestration",),
    ("etl.definitions", "etl.cli", "etl.cli_progress", "etl.commands"),
)
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def _layer(module: str) -> int:
    """Index of the layer `module` belongs to (the longest matching prefix)."""
    best, rank = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank >= 0, module
    return rank


def _module_name(path: Path) -> str:
    parts = path.relative_to(ETL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, m) for line, m in found if m == "etl" or m.startswith("etl.")]


SOURCES = sorted(ETL.rglob("*.py"))


def test_the_layers_cover_every_module() -> None:
    for path in SOURCES:
        _layer(_module_name(path))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ETL.parent)))
def test_imports_point_down_only(path: Path) -> None:
    here = _module_name(path)
    upward = [
        f"line {line}: {here} (layer {_layer(here)}) imports {target} (layer {_layer(target)})"
        for line, target in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if _layer(target) > _layer(here)
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ETL.parent)))
def test_rooms_stay_small(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{path.name}: {source.count(chr(10))} lines"
    functions = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in functions if n.end_lineno - n.lineno >= 80]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_rules_catch_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: storage importing the BI layer is reported."""
    tree = ast.parse("from etl.bi.report import write_report\n")
    assert [t for _, t in _imports(tree) if _layer(t) > _layer("etl.storage.fact_writer")] == ["etl.bi.report"]
