"""The dependency rules that lint-imports cannot see: imports inside functions and re-imports.

``lint-imports`` (make lint) enforces the layers themselves. An import inside a function
hides a dependency from it, so one is allowed only where a comment says why (start-up
cost of a management command, ``AppConfig.ready``, a module loaded before Django is set
up, an optional heavy library); and no function imports again what its module already
imports at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS: tuple[str, ...] = ("mesa", "orgs", "agents", "issues", "blocks", "wiki", "archetypes", "learning", "approvals")
APPS += ("runners",)
APPS += ("notifications", "api", "web")


def _modules(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts)


def _top_level_names(tree: ast.Module) -> set[tuple[str | None, str]]:
    names: set[tuple[str | None, str]] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {(None, a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {(node.module, a.name) for a in node.names}
    return names


def _function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [n for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's line or in the lines just above it (over a run of imports)."""
    i = node.lineno - 1
    if "#" in lines[i]:
        return True
    i -= 1
    while i >= 0:
        text = lines[i].strip()
        if text.startswith("#"):
            return True
        if not (text.startswith(("from ", "import ")) or text == ""):
            return False
        i -= 1
    return False


def test_it_allows_an_import_inside_a_function_only_with_a_comment_saying_why() -> None:
    unexplained = []
    for path in _modules(*APPS):
        source = path.read_text()
        lines = source.splitlines()
        for node in _function_imports(ast.parse(source)):
            if not _has_reason(lines, node):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert unexplained == [], "imports inside functions with no comment saying why:\n" + "\n".join(unexplained)


def test_it_never_imports_again_inside_a_function_what_the_module_imports_at_the_top() -> None:
    again = []
    for path in _modules(*APPS, "tests", "bench"):
        tree = ast.parse(path.read_text())
        top = _top_level_names(tree)
        for node in _function_imports(tree):
            pairs = (
                {(None, a.name) for a in node.names}
                if isinstance(node, ast.Import)
                else {(node.module, a.name) for a in node.names}
            )
            again += [f"{path.relative_to(ROOT)}:{node.lineno}: {m or ''} {n}" for m, n in sorted(pairs & top, key=str)]
    assert again == [], "re-imports of what the module already imports at the top:\n" + "\n".join(again)


def test_it_keeps_the_kernel_free_of_project_imports() -> None:
    """``orgs`` imports nothing of the project but itself (annotations under TYPE_CHECKING aside)."""
    offending = []
    for path in _modules("orgs"):
        tree = ast.parse(path.read_text())
        guarded = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            elif isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            else:
                continue
            offending += [
                f"{path.relative_to(ROOT)}:{node.lineno}: {m}"
                for m in mods
                if m.split(".")[0] in APPS and m.split(".")[0] != "orgs"
            ]
    assert offending == []
